//! The MySQL connector's factories for [`dts_core::build::TaskBuilder`]:
//! [`MysqlSourceFactory`] builds the [`MysqlSource`] of `[source]`, [`MysqlSinkFactory`] the
//! [`MysqlSink`] of a `[destination] type = "mysql"`, with its verification reader and
//! migration assessment. [`build_mysql_task`] composes the two for hosts that only run MySQL →
//! MySQL tasks; [`scan_config`] is the source's personal-data scan of a task file.

use crate::sink::assessment::{DestinationProfile, MysqlAssessor};
use crate::sink::conflict::DEFAULT_DELAY_PERIOD;
use crate::sink::{MysqlSink, SinkOptions};
use crate::source::{MysqlSource, SourceOptions};
use crate::wire::catalog::Scope;
use crate::wire::conn::MysqlEndpoint;
use crate::wire::verify::MysqlVerifyReader;
use async_trait::async_trait;
use dts_core::build::VerificationRun;
use dts_core::build::{
    BuiltSink, BuiltSource, SinkFactory, SinkRequest, SourceFactory, SourceRequest, TaskBuilder,
};
use dts_core::config::{DestinationKind, TaskConfig};
use dts_core::objects::ConfigFilter;
use dts_core::verify::{Encoding, VerificationJob};
use dts_core::{AlertHook, Error, Filter, Task};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Connections per side used by verification.
pub const VERIFY_POOL: usize = 4;

/// Builds the [`MysqlSource`] of a task's `[source]` section. Keeps the source it built, for
/// hosts that want the typed handle ([`MysqlSourceFactory::built`]).
#[derive(Clone, Default)]
pub struct MysqlSourceFactory {
    built: Arc<OnceLock<Arc<MysqlSource>>>,
}

impl MysqlSourceFactory {
    /// The source this factory built, once it has.
    pub fn built(&self) -> Option<Arc<MysqlSource>> {
        self.built.get().cloned()
    }
}

#[async_trait]
impl SourceFactory for MysqlSourceFactory {
    async fn scan(&self, config: &TaskConfig) -> Result<Option<dts_core::scan::ScanReport>, Error> {
        let sample_rows = crate::source::scan::DEFAULT_SAMPLE_ROWS;
        scan_config(config, sample_rows).await.map(Some)
    }

    async fn build(&self, request: SourceRequest<'_>) -> Result<BuiltSource, Error> {
        let config = request.config;
        let endpoint = MysqlEndpoint::from_settings("source", &config.source_settings()?)?;
        let mut options = SourceOptions {
            scope: Scope {
                databases: request.databases,
            },
            // Only a type the file declares is checked (the settings fill in a default).
            declared_type: config
                .source
                .resolve("source", &config.connections)
                .map_err(Error::Config)?
                .database_type,
            ..Default::default()
        };
        if let Some(tw) = request.two_way {
            // The partner's sink keeps its checkpoint rows in the default checkpoint database.
            let meta = SinkOptions::default().checkpoint_database;
            crate::two_way::guard_source(&mut options, tw, &meta);
        }
        let source = Arc::new(MysqlSource::connect(endpoint, options).await?);
        let start_position = crate::source::start::resolve_start(
            source.endpoint(),
            source.server(),
            &config.sync_types.start()?,
        )
        .await?;
        let _ = self.built.set(source.clone());
        Ok(BuiltSource {
            source,
            start_position,
        })
    }
}

/// Builds the [`MysqlSink`] of a `[destination] type = "mysql"` section. Keeps the sink it
/// built, for hosts that want the typed handle ([`MysqlSinkFactory::built`]).
#[derive(Clone, Default)]
pub struct MysqlSinkFactory {
    built: Arc<OnceLock<Arc<MysqlSink>>>,
}

impl MysqlSinkFactory {
    /// The sink this factory built, once it has.
    pub fn built(&self) -> Option<Arc<MysqlSink>> {
        self.built.get().cloned()
    }
}

fn destination_endpoint(config: &TaskConfig) -> Result<MysqlEndpoint, Error> {
    let settings = config
        .destination_settings()?
        .ok_or_else(|| dts_core::build::unsupported("destination", "no connection settings"))?;
    MysqlEndpoint::from_settings("destination", &settings)
}

#[async_trait]
impl SinkFactory for MysqlSinkFactory {
    fn kind(&self) -> DestinationKind {
        DestinationKind::Mysql
    }

    async fn folds_names_to_lower(&self, config: &TaskConfig) -> Result<bool, Error> {
        Ok(lower_case_table_names(&destination_endpoint(config)?).await? != 0)
    }

    async fn build(&self, request: SinkRequest<'_>) -> Result<BuiltSink, Error> {
        let config = request.config;
        let destination =
            crate::sink::config::MysqlDestination::from_destination(&config.destination)?;
        let endpoint = destination_endpoint(config)?;
        let mut options = SinkOptions {
            task_id: request.task_id.to_string(),
            full_sync_binlog: destination.full_sync_binlog,
            defer_secondary_indexes: destination.defer_secondary_indexes,
            load_data: destination.load_data,
            // Only a type the file declares is checked (the settings fill in a default).
            declared_type: config
                .destination
                .endpoint()
                .ok_or_else(|| dts_core::build::unsupported("destination", "no endpoint"))?
                .resolve("destination", &config.connections)
                .map_err(Error::Config)?
                .database_type,
            ..Default::default()
        };
        if let Some(parallelism) = config.parallelism() {
            options.workers = parallelism;
        }
        if request.two_way.is_some() {
            let policy = dts_core::topology::policy_of(config.topology.conflict_policy());
            crate::two_way::two_way_sink(&mut options, policy, DEFAULT_DELAY_PERIOD);
        }
        let reader = MysqlVerifyReader::new(endpoint.clone(), VERIFY_POOL);
        let assessor = MysqlAssessor::new(DestinationProfile::Server(endpoint.clone()));
        let sink = Arc::new(MysqlSink::connect(endpoint, options).await?);
        let _ = self.built.set(sink.clone());
        Ok(BuiltSink {
            sink,
            filter: request.filter,
            verify_reader: Some((Arc::new(reader), Encoding::Native)),
            repair_dialect: Some(Arc::new(crate::wire::verify::MysqlRepairDialect)),
            assessor: Some(Arc::new(assessor)),
        })
    }
}

/// A MySQL → MySQL task built from a configuration, with the typed source and sink.
pub struct MysqlTask {
    /// The task, ready to `run`.
    pub task: Task,
    /// Its source.
    pub source: Arc<MysqlSource>,
    /// Its destination.
    pub sink: Arc<MysqlSink>,
    /// The task id (checkpoints are kept under it).
    pub task_id: String,
    /// The configured data verification (`[validation]`), if any: start it with
    /// [`MysqlTask::spawn_verification`] next to `task.run()`.
    pub verification: Option<Arc<VerificationJob>>,
}

impl MysqlTask {
    /// Starts the configured verification under the guide's start rules; `None` when none is
    /// configured.
    pub fn spawn_verification(&self) -> Option<VerificationRun> {
        let job = self.verification.clone()?;
        Some(job.spawn(self.task.handle()))
    }
}

/// Builds the task of a MySQL-destination configuration with [`TaskBuilder`] and this crate's
/// two factories. Progress is kept in `state_dir/<task id>.json`.
///
/// Alerts (`advanced.monitoring`) go to `alert_hook` when given, else to the log; a configured
/// `webhook_url` needs a hook from the host that delivers to it (the `dts` program has one).
pub async fn build_mysql_task(
    config: &TaskConfig,
    state_dir: &Path,
    alert_hook: Option<Arc<dyn AlertHook>>,
) -> Result<MysqlTask, Error> {
    let sources = MysqlSourceFactory::default();
    let sinks = MysqlSinkFactory::default();
    let built = TaskBuilder::new(config, state_dir)
        .source(sources.clone())
        .sink(sinks.clone())
        .alerts(alert_hook)
        .build()
        .await?;
    let (Some(source), Some(sink)) = (sources.built(), sinks.built()) else {
        return Err(dts_core::build::unsupported(
            "destination.type",
            "build_mysql_task builds MySQL destinations only",
        ));
    };
    Ok(MysqlTask {
        task: built.task,
        source,
        sink,
        task_id: built.task_id,
        verification: built.verification,
    })
}

/// Scans the configuration's selected source tables for likely personal data (see
/// [`crate::source::scan`]), sampling at most `sample_rows` rows per table; each finding renders as the
/// `[advanced.masking]` rule line that masks it.
pub async fn scan_config(
    config: &TaskConfig,
    sample_rows: usize,
) -> Result<dts_core::scan::ScanReport, Error> {
    config.validate()?;
    let source_ep = MysqlEndpoint::from_settings("source", &config.source_settings()?)?;
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
    crate::source::scan::scan_selected(&source, filter, sample_rows, &Default::default()).await
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
