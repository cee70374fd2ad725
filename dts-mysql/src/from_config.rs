//! Building a MySQL → MySQL [`Task`] from a [`TaskConfig`]: what a host program needs to run a
//! task file. Options this build cannot honour are refused here with the key that names them,
//! so no option is ever parsed and silently ignored.

use crate::conn::MysqlEndpoint;
use crate::discovery::Scope;
use crate::sink::{MysqlSink, SinkOptions};
use crate::source::{MysqlSource, SourceOptions};
use dts_core::config::{
    ConflictingTablesMode, ConnectionSettings, DestinationConfig, TaskConfig, TlsMode,
};
use dts_core::{
    ConflictingTables, DatabaseFilter, Error, FileCheckpointStore, Filter, Task, TaskOptions,
    ThrottleSettings,
};
use std::path::Path;
use std::sync::Arc;

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
}

fn endpoint(label: &str, key: &str, settings: &ConnectionSettings) -> Result<MysqlEndpoint, Error> {
    if settings.tls.mode != TlsMode::Disabled {
        return Err(unsupported(
            &format!("{key}.tls.mode"),
            "TLS connections are not available in this build",
        ));
    }
    let password = settings.resolve_password()?;
    let password = (!password.expose().is_empty()).then(|| password.expose().to_string());
    Ok(MysqlEndpoint::new(
        label,
        settings.host.clone(),
        settings.port,
        settings.user.clone(),
        password,
    ))
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
    let o = &config.objects;
    if !o.patterns.is_empty() {
        no("objects.patterns", "pattern selection");
    }
    if !o.exclude.is_empty() {
        no("objects.exclude", "exclusion lists");
    }
    if !o.mapping_rules.is_empty() {
        no("objects.mapping_rules", "batch name mapping");
    }
    for (i, db) in o.databases.iter().enumerate() {
        let key = format!("objects.databases[{i}]");
        if db.rename_to.is_some() {
            no(&format!("{key}.rename_to"), "name mapping");
        }
        if db.dml.is_some() || db.ddl.is_some() {
            no(&format!("{key}.dml/ddl"), "operation selection");
        }
        if !db.tables.is_empty() {
            no(&format!("{key}.tables"), "table-level selection");
        }
    }
    let a = &config.advanced;
    if a.etl != Default::default() {
        no("advanced.etl", "ETL");
    }
    if a.masking != Default::default() {
        no("advanced.masking", "masking");
    }
    if a.monitoring != Default::default() {
        no("advanced.monitoring", "alerting");
    }
    if config.validation != Default::default() {
        no("validation", "data verification");
    }
    if config.topology != Default::default() {
        no("topology", "two-way synchronization");
    }
    if config.migration != Default::default() {
        no("migration", "triggers, events, accounts and capitalization policies");
    }
    out
}

/// Builds the task of a MySQL-destination configuration. Its progress (start position, full-sync
/// cursors) is kept in `state_dir/<task id>.json`; the incremental checkpoint lives in the
/// destination.
pub async fn build_mysql_task(config: &TaskConfig, state_dir: &Path) -> Result<BuiltTask, Error> {
    config.validate()?;
    if let Some((key, why)) = unsupported_options(config).into_iter().next() {
        return Err(unsupported(&key, why));
    }
    let DestinationConfig::Mysql(_) = &config.destination else {
        return Err(unsupported(
            "destination.type",
            "this builder runs MySQL destinations only",
        ));
    };
    let task_id = config.id.clone().unwrap_or_else(|| "dts-task".to_string());
    let source_ep = endpoint("source", "source", &config.source_settings()?)?;
    let dest_settings = config
        .destination_settings()?
        .ok_or_else(|| unsupported("destination", "no connection settings"))?;
    let dest_ep = endpoint("destination", "destination", &dest_settings)?;
    let databases: Vec<String> = config.objects.databases.iter().map(|d| d.name.clone()).collect();
    let source = Arc::new(
        MysqlSource::connect(
            source_ep,
            SourceOptions {
                scope: Scope {
                    databases: databases.clone(),
                },
                ..Default::default()
            },
        )
        .await?,
    );
    let sink = Arc::new(
        MysqlSink::connect(
            dest_ep,
            SinkOptions {
                task_id: task_id.clone(),
                ..Default::default()
            },
        )
        .await?,
    );
    let filter: Arc<dyn Filter> = Arc::new(DatabaseFilter::new(databases));
    std::fs::create_dir_all(state_dir).map_err(|e| Error::Checkpoint {
        path: state_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let store = Arc::new(FileCheckpointStore::new(
        state_dir.join(format!("{task_id}.json")),
    ));
    let options = TaskOptions {
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
            bytes_per_s: config.advanced.full_sync_throttle.mbps.map(|m| m.saturating_mul(1 << 20)),
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
        ..Default::default()
    };
    let task = Task::new(source.clone(), sink.clone(), filter, store, options);
    Ok(BuiltTask {
        task,
        source,
        sink,
        task_id,
    })
}
