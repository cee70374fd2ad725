//! Building a MySQL → MySQL [`Task`] from a [`TaskConfig`]: what a host program needs to run a
//! task file. Options this build cannot honour are refused here with the key that names them,
//! so no option is ever parsed and silently ignored.

use crate::conn::MysqlEndpoint;
use crate::discovery::Scope;
use crate::sink::conflict::DEFAULT_DELAY_PERIOD;
use crate::sink::{MysqlSink, SinkOptions};
use crate::source::{MysqlSource, SourceOptions};
use dts_core::config::{
    ConflictingTablesMode, ConnectionSettings, DestinationConfig, TaskConfig, TopologyMode,
};
use dts_core::objects::ConfigFilter;
use dts_core::topology::TwoWaySettings;
use dts_core::{
    AlertHook, ConflictingTables, Error, FileCheckpointStore, Filter, LatencyRule, LogAlertHook,
    Task, TaskOptions, ThrottleSettings,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A task built from a configuration, with the parts a host may want to use directly.
pub struct BuiltTask {
    /// The task, ready to `run`.
    pub task: Task,
    /// Its source.
    pub source: Arc<MysqlSource>,
    /// Its destination.
    pub sink: Arc<MysqlSink>,
    /// The task id (checkpoints are kept under it).
    pub task_id: String,
    /// The configured data verification (`[validation]`), if any: start it with
    /// [`BuiltTask::spawn_verification`] next to `task.run()`.
    pub verification: Option<Arc<crate::verify::VerificationJob>>,
}

impl BuiltTask {
    /// Starts the configured verification under the guide's start rules (see
    /// [`crate::verify::VerificationJob::spawn`]); `None` when none is configured.
    pub fn spawn_verification(
        &self,
    ) -> Option<tokio::task::JoinHandle<Result<dts_core::verify::VerificationReport, Error>>> {
        let job = self.verification.clone()?;
        Some(job.spawn(self.task.handle()))
    }
}

fn endpoint(label: &str, settings: &ConnectionSettings) -> Result<MysqlEndpoint, Error> {
    let password = settings.resolve_password()?;
    let password = (!password.expose().is_empty()).then(|| password.expose().to_string());
    Ok(MysqlEndpoint::new(
        label,
        settings.host.clone(),
        settings.port,
        settings.user.clone(),
        password,
    )
    .with_tls(settings.tls.clone()))
}

fn clamp_u32(v: u64) -> u32 {
    v.min(u64::from(u32::MAX)) as u32
}

fn unsupported(key: &str, why: &str) -> Error {
    Error::Config(dts_core::config::ConfigError::invalid(
        key,
        format!("not supported by this build: {why}"),
    ))
}

/// Options of the configuration this build cannot honour yet, by key.
pub fn unsupported_options(config: &TaskConfig) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut no = |key: &str, why: &'static str| out.push((key.to_string(), why));
    let a = &config.advanced;
    if a.etl != Default::default() {
        no(
            "advanced.etl",
            "ETL scripts and named transforms; a host program transforms row changes in code \
             with dts_core::Task::with_etl (see examples/etl.rs)",
        );
    }
    // Verification reads both sides over the MySQL protocol: dts_mysql::verify for MySQL
    // destinations, dts_adb::verify for AnalyticDB ones; Kafka has no reading side.
    if config.validation != Default::default()
        && !matches!(
            config.destination,
            DestinationConfig::Mysql(_) | DestinationConfig::Adb(_)
        )
    {
        no(
            "validation",
            "data verification for this destination type (MySQL and AnalyticDB destinations only)",
        );
    }
    // `[migration]` works whole: capitalization through the object filter, triggers and
    // events through the filter's object routes, accounts through the task options, the
    // assessment with the precheck (the configuration's validation keeps the options to the
    // destinations that hold them).
    out
}

/// Everything of a task that does not depend on the destination's kind: the source, the
/// filter, the state store and the runner options, all from the configuration.
pub struct TaskParts {
    /// The source.
    pub source: Arc<MysqlSource>,
    /// The object filter (selection, mapping, conditions, masking).
    pub filter: Arc<dyn Filter>,
    /// Where the task's own progress is kept.
    pub store: Arc<FileCheckpointStore>,
    /// Runner options.
    pub options: TaskOptions,
    /// The task id.
    pub task_id: String,
}

impl TaskParts {
    /// The task over these parts and `sink`, with the configuration's alerting.
    pub fn into_task(
        self,
        config: &TaskConfig,
        sink: Arc<dyn dts_core::Sink>,
        alert_hook: Option<Arc<dyn AlertHook>>,
    ) -> Result<Task, Error> {
        let mut task = Task::new(self.source, sink, self.filter, self.store, self.options);
        let monitoring = &config.advanced.monitoring;
        if monitoring.is_enabled() {
            if monitoring.webhook_url.is_some() && alert_hook.is_none() {
                return Err(unsupported(
                    "advanced.monitoring.webhook_url",
                    "the host program supplies no webhook delivery",
                ));
            }
            let hook = alert_hook.unwrap_or_else(|| Arc::new(LogAlertHook));
            let latency = monitoring.latency.as_ref().map(|l| LatencyRule {
                threshold: Duration::from_secs(l.threshold),
                period: Duration::from_secs(u64::from(l.period_minutes) * 60),
                periods: l.periods,
            });
            task = task.with_alerts(hook, monitoring.alert_on_failure, latency);
        }
        Ok(task)
    }
}

/// Builds the destination-independent parts of a task. `destination_lowercase` is whether the
/// destination folds names to lower case (the "DTS default" capitalization policy follows it).
/// Progress (start position, full-sync cursors) is kept in `state_dir/<task id>.json`.
pub async fn build_parts(
    config: &TaskConfig,
    state_dir: &Path,
    destination_lowercase: bool,
) -> Result<TaskParts, Error> {
    config.validate()?;
    if let Some((key, why)) = unsupported_options(config).into_iter().next() {
        return Err(unsupported(&key, why));
    }
    let two_way = TwoWaySettings::from_config(config);
    if let Some(tw) = &two_way {
        crate::two_way::check_config(config, tw)?;
    }
    let task_id = config.task_id();
    let source_settings = config.source_settings()?;
    let source_ep = endpoint("source", &source_settings)?;
    // Only the named databases are read, plus those of patterns with a literal database part;
    // a pattern that can match any database widens the scope to every database.
    let pattern_databases: Option<Vec<String>> = config
        .objects
        .patterns
        .iter()
        .map(|p| literal_pattern_database(&p.pattern, p.kind))
        .collect();
    let databases: Vec<String> = match pattern_databases {
        Some(extra) => {
            let mut all: Vec<String> = config
                .objects
                .databases
                .iter()
                .map(|d| d.name.clone())
                .collect();
            for db in extra {
                if !all.contains(&db) {
                    all.push(db);
                }
            }
            all
        }
        None => Vec::new(),
    };
    let mut source_options = SourceOptions {
        scope: Scope { databases },
        // Only a type the file declares is checked (the settings fill in a default).
        declared_type: config
            .source
            .resolve("source", &config.connections)
            .map_err(Error::Config)?
            .database_type,
        ..Default::default()
    };
    if let Some(tw) = &two_way {
        // The partner's sink keeps its checkpoint rows in the default checkpoint database.
        let meta = SinkOptions::default().checkpoint_database;
        crate::two_way::guard_source(&mut source_options, tw, &meta);
    }
    let source = Arc::new(MysqlSource::connect(source_ep, source_options).await?);
    let start_position = crate::sync_types::resolve_start(
        source.endpoint(),
        source.server(),
        &config.sync_types.start()?,
    )
    .await?;
    let mut filter: Arc<dyn Filter> = Arc::new(
        ConfigFilter::from_config(config)?.with_destination_lowercase(destination_lowercase),
    );
    if let Some(tw) = &two_way {
        filter = tw.filter(filter);
    }
    std::fs::create_dir_all(state_dir).map_err(|e| Error::Checkpoint {
        path: state_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let store = Arc::new(FileCheckpointStore::new(
        state_dir.join(format!("{task_id}.json")),
    ));
    let mut options = TaskOptions {
        task_id: task_id.clone(),
        schema_sync: config.sync_types.schema,
        full_sync: config.sync_types.full_data,
        conflicting_tables: match config.conflicting_tables {
            ConflictingTablesMode::PrecheckAndReportErrors => {
                ConflictingTables::PrecheckAndReportErrors
            }
            ConflictingTablesMode::IgnoreErrorsAndProceed => {
                ConflictingTables::IgnoreErrorsAndProceed
            }
        },
        connection_retry: config.advanced.connection_retry(),
        other_retry: config.advanced.other_retry(),
        write_heartbeat: config.advanced.write_heartbeat,
        full_throttle: ThrottleSettings {
            queries_per_s: config.advanced.full_sync_throttle.source_qps.map(clamp_u32),
            rows_per_s: config.advanced.full_sync_throttle.rps.map(clamp_u32),
            bytes_per_s: config
                .advanced
                .full_sync_throttle
                .mbps
                .map(|m| m.saturating_mul(1 << 20)),
        },
        incremental_throttle: ThrottleSettings {
            queries_per_s: None,
            rows_per_s: config.incremental_rps_limit().map(clamp_u32),
            bytes_per_s: config
                .advanced
                .incremental_throttle
                .mbps
                .map(|m| m.saturating_mul(1 << 20)),
        },
        start_position,
        labels: task_labels(&config.advanced),
        // `[validation]`: the verification job marks the Verification stage.
        verification: config.validation.is_enabled(),
        // The guide's "Whether to Migrate Accounts".
        accounts: config
            .migration
            .migrate_accounts
            .then(|| config.migration.accounts.clone()),
        ..Default::default()
    };
    options
        .acknowledged_warnings
        .extend(config.acknowledge_warnings.iter().cloned());
    if let Some(parallelism) = config.parallelism() {
        options.table_concurrency = parallelism.min(options.table_concurrency.max(1));
        options.write_concurrency = parallelism;
    }
    if let Some(tw) = &two_way {
        crate::two_way::two_way_task_options(&mut options, tw);
    }
    Ok(TaskParts {
        source,
        filter,
        store,
        options,
        task_id,
    })
}

/// Scans the configuration's selected source tables for likely personal data (see
/// [`crate::scan`]), sampling at most `sample_rows` rows per table; each finding renders as the
/// `[advanced.masking]` rule line that masks it.
pub async fn scan_config(
    config: &TaskConfig,
    sample_rows: usize,
) -> Result<dts_core::scan::ScanReport, Error> {
    config.validate()?;
    let source_ep = endpoint("source", &config.source_settings()?)?;
    let databases = config
        .objects
        .databases
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let source = MysqlSource::connect(
        source_ep,
        SourceOptions {
            scope: Scope { databases },
            ..Default::default()
        },
    )
    .await?;
    let filter: Arc<dyn Filter> = Arc::new(ConfigFilter::from_config(config)?);
    crate::scan::scan_selected(&source, filter, sample_rows, &Default::default()).await
}

/// The database a `database.table` wildcard pattern is limited to, when its database part is
/// literal (`shop.order_*`); `None` when it may match several databases (a wildcard before the
/// dot, several dots, or a regular expression).
fn literal_pattern_database(pattern: &str, kind: dts_core::config::PatternKind) -> Option<String> {
    if kind != dts_core::config::PatternKind::Wildcard || pattern.matches('.').count() != 1 {
        return None;
    }
    let (database, _) = pattern.split_once('.')?;
    (!database.is_empty() && !database.contains(['*', '?'])).then(|| database.to_string())
}

/// Builds the task of a MySQL-destination configuration.
///
/// Alerts (`advanced.monitoring`) go to `alert_hook` when given, else to the log; a configured
/// `webhook_url` needs a hook from the host that delivers to it (the example runner has one).
pub async fn build_mysql_task(
    config: &TaskConfig,
    state_dir: &Path,
    alert_hook: Option<Arc<dyn AlertHook>>,
) -> Result<BuiltTask, Error> {
    let DestinationConfig::Mysql(destination) = &config.destination else {
        return Err(unsupported(
            "destination.type",
            "this builder runs MySQL destinations only",
        ));
    };
    let dest_settings = config
        .destination_settings()?
        .ok_or_else(|| unsupported("destination", "no connection settings"))?;
    let dest_ep = endpoint("destination", &dest_settings)?;
    let lowercase = lower_case_table_names(&dest_ep).await? != 0;
    let parts = build_parts(config, state_dir, lowercase).await?;
    let mut sink_options = SinkOptions {
        task_id: parts.task_id.clone(),
        full_sync_binlog: destination.full_sync_binlog,
        defer_secondary_indexes: destination.defer_secondary_indexes,
        load_data: destination.load_data,
        // Only a type the file declares is checked (the settings fill in a default).
        declared_type: destination
            .endpoint
            .resolve("destination", &config.connections)
            .map_err(Error::Config)?
            .database_type,
        ..Default::default()
    };
    if let Some(parallelism) = config.parallelism() {
        sink_options.workers = parallelism;
    }
    if config.topology.mode == TopologyMode::TwoWay {
        let policy = crate::two_way::policy_of(config.topology.conflict_policy());
        crate::two_way::two_way_sink(&mut sink_options, policy, DEFAULT_DELAY_PERIOD);
    }
    let verify_dest_ep = dest_ep.clone();
    let assess_dest_ep = dest_ep.clone();
    let sink = Arc::new(MysqlSink::connect(dest_ep, sink_options).await?);
    let source = parts.source.clone();
    let task_id = parts.task_id.clone();
    let verification = if config.validation.is_enabled() {
        Some(Arc::new(crate::verify::VerificationJob::new(
            config,
            parts.source.clone(),
            parts.filter.clone(),
            endpoint("source", &config.source_settings()?)?,
            verify_dest_ep,
            alert_hook.clone(),
        )))
    } else {
        None
    };
    // Incremental verification sees every applied batch through the task's sink.
    let task_sink: Arc<dyn dts_core::Sink> =
        match verification.as_ref().and_then(|v| v.incremental()) {
            Some(inc) => Arc::new(dts_core::verify::VerifyingSink::new(sink.clone(), inc)),
            None => sink.clone(),
        };
    let mut task = parts.into_task(config, task_sink, alert_hook)?;
    if config.migration.migration_assessment {
        task = task.with_assessment(Arc::new(crate::assessment::MysqlAssessor::new(
            source.endpoint().clone(),
            crate::assessment::DestinationProfile::Server(assess_dest_ep),
        )));
    }
    Ok(BuiltTask {
        task,
        source,
        sink,
        task_id,
        verification,
    })
}

/// The destination's `lower_case_table_names` (decides the "DTS default" case policy).
async fn lower_case_table_names(ep: &MysqlEndpoint) -> Result<u32, Error> {
    use mysql_async::prelude::Queryable;
    let mut conn = ep.connect().await?;
    let v: Option<u32> = conn
        .query_first("SELECT @@lower_case_table_names")
        .await
        .map_err(|e| ep.map_err("read lower_case_table_names", e))?;
    Ok(v.unwrap_or(0))
}

/// The status labels of a task: the guide's environment tag and scene label, when set.
fn task_labels(
    advanced: &dts_core::config::AdvancedConfig,
) -> std::collections::BTreeMap<String, String> {
    [
        ("environment_tag", &advanced.environment_tag),
        ("scene_label", &advanced.scene_label),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), v.clone()?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::literal_pattern_database;

    #[test]
    fn labels_come_from_the_advanced_settings() {
        let advanced = dts_core::config::AdvancedConfig {
            environment_tag: Some("production".into()),
            ..Default::default()
        };
        let labels = super::task_labels(&advanced);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels["environment_tag"], "production");
    }
    use dts_core::config::PatternKind;

    #[test]
    fn patterns_limit_the_scope_only_with_a_literal_database() {
        let wild = PatternKind::Wildcard;
        assert_eq!(
            literal_pattern_database("shop.order_*", wild).as_deref(),
            Some("shop")
        );
        assert_eq!(literal_pattern_database("shop_*.orders", wild), None);
        assert_eq!(literal_pattern_database("*", wild), None);
        assert_eq!(literal_pattern_database("a.b.c", wild), None);
        assert_eq!(literal_pattern_database(".t", wild), None);
        assert_eq!(
            literal_pattern_database("shop\\.orders", PatternKind::Regex),
            None
        );
    }
}
