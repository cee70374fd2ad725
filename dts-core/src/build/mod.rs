//! Building a runnable [`Task`] from a [`TaskConfig`], whatever the connectors: the
//! [`TaskBuilder`].
//!
//! The builder owns everything connector-neutral — validation, refusal of options no
//! connector can honour, the object filter, the runner options, the state store, two-way
//! wiring, alerts, verification and the migration assessment's orchestration — and asks the
//! connectors the host registers for the rest:
//!
//! - one [`SourceFactory`] builds the source (and resolves the configured start position);
//! - one [`SinkFactory`] per destination kind (`[destination] type`) builds the sink, and says
//!   how the destination reads for verification and what its assessment checks.
//!
//! ```text
//! TaskBuilder::new(&config, state_dir)
//!     .source(MysqlSourceFactory)          // dts-mysql
//!     .sink(MysqlSinkFactory)              // dts-mysql
//!     .sink(KafkaSinkFactory)              // dts-kafka
//!     .sink(AdbSinkFactory)                // dts-adb
//!     .build().await?                      // → BuiltTask { task, verification, … }
//! ```
//!
//! No connector builds another's task: a connector crate offers factories, the host composes.

mod options;

pub use options::{source_databases, task_labels, task_options, unsupported_options};

use crate::assessment::Assessor;
use crate::config::{ConfigError, DestinationKind, TaskConfig};
use crate::objects::ConfigFilter;
use crate::topology::TwoWaySettings;
use crate::verify::{
    Encoding, RepairDialect, VerificationJob, VerificationReport, VerifyReader, VerifyingSink,
};
use crate::{
    AlertHook, Error, FileCheckpointStore, Filter, LatencyRule, LogAlertHook, Position, Result,
    Sink, Source, Task,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What a [`SourceFactory`] is asked to build.
pub struct SourceRequest<'a> {
    /// The whole task configuration (the factory reads its `[source]` section).
    pub config: &'a TaskConfig,
    /// The databases the task reads (empty: every non-system database may be selected).
    pub databases: Vec<String>,
    /// The two-way settings, when the task is one of a two-way pair (the source then drops
    /// the changes the partner task applied).
    pub two_way: Option<&'a TwoWaySettings>,
}

/// A source, with the position incremental sync starts from when the configuration names one.
pub struct BuiltSource {
    /// The source.
    pub source: Arc<dyn Source>,
    /// The configured start (`sync_types.start_*`) resolved to a position; `None` starts where
    /// the task's own progress or its full sync says.
    pub start_position: Option<Position>,
}

/// Builds a task's source from its configuration; offered by a source connector.
#[async_trait]
pub trait SourceFactory: Send + Sync {
    /// Connects the source `request` describes.
    async fn build(&self, request: SourceRequest<'_>) -> Result<BuiltSource>;

    /// Samples the selected tables of `config`'s source for likely personal data (the
    /// guide's sensitive-data scan), or `None` when this source cannot. Asked when masking
    /// is enabled without rules. The default cannot.
    async fn scan(&self, _config: &TaskConfig) -> Result<Option<crate::scan::ScanReport>> {
        Ok(None)
    }
}

/// Masking enabled without rules (the guide's "Open" with nothing chosen): the source is
/// scanned, and what the scan found is proposed as the rules to add, refusing the task until
/// they are; a scan that finds nothing lets the task run unmasked. A source that cannot scan
/// is refused, naming the key.
async fn check_masking_scan(config: &TaskConfig, source: &dyn SourceFactory) -> Result<()> {
    let masking = &config.advanced.masking;
    if !masking.enabled || !masking.rules.is_empty() {
        return Ok(());
    }
    let key = "advanced.masking.rules";
    match source.scan(config).await? {
        None => Err(unsupported(
            key,
            "scanning this source for sensitive data; list the columns to mask",
        )),
        Some(report) if report.findings.is_empty() => {
            tracing::info!(
                "masking is enabled without rules and the scan found no likely personal data \
                 in the selected tables: nothing is masked"
            );
            Ok(())
        }
        Some(report) => Err(Error::Config(ConfigError::invalid(
            key,
            format!(
                "masking is enabled without rules, so the selected tables were scanned: {} \
                 column(s) likely hold personal data. Review these rules and put them in the \
                 task file (or set the rules you want; `dts scan` prints the same):\n{}\n{}",
                report.findings.len(),
                report.to_string().trim_end(),
                report.masking_section().trim_end()
            ),
        ))),
    }
}

/// What a [`SinkFactory`] is asked to build.
pub struct SinkRequest<'a> {
    /// The whole task configuration (the factory reads its `[destination]` section).
    pub config: &'a TaskConfig,
    /// The task id (checkpoints and loop markers carry it).
    pub task_id: &'a str,
    /// The two-way settings, when the task is one of a two-way pair.
    pub two_way: Option<&'a TwoWaySettings>,
    /// The task's object filter; a factory may wrap it ([`BuiltSink::filter`]).
    pub filter: Arc<dyn Filter>,
}

/// A sink, with what the builder needs to know about its destination.
pub struct BuiltSink {
    /// The sink.
    pub sink: Arc<dyn Sink>,
    /// The filter the task runs with: the request's, or a wrapper of it.
    pub filter: Arc<dyn Filter>,
    /// The destination's reading side for data verification, and the encoding the source's
    /// reader must compute to compare with it; `None` when the destination cannot be read
    /// back (then `[validation]` is refused).
    pub verify_reader: Option<(Arc<dyn VerifyReader>, Encoding)>,
    /// How repair statements for the destination are written (verification's repair SQL).
    pub repair_dialect: Option<Arc<dyn RepairDialect>>,
    /// The destination's part of the migration assessment (`migration_assessment`).
    pub assessor: Option<Arc<dyn Assessor>>,
}

/// Builds a task's sink from its configuration; offered by each destination connector.
#[async_trait]
pub trait SinkFactory: Send + Sync {
    /// The `[destination] type` this factory builds.
    fn kind(&self) -> DestinationKind;

    /// Refuses, before anything connects, what this destination cannot do with the
    /// configuration (for example a two-way topology into a one-way destination), naming the
    /// key. The default refuses nothing.
    fn check(&self, _config: &TaskConfig) -> Result<()> {
        Ok(())
    }

    /// Whether the destination folds table names to lower case: the "DTS default"
    /// capitalization policy follows it. Asked before the filter is built. The default: no.
    async fn folds_names_to_lower(&self, _config: &TaskConfig) -> Result<bool> {
        Ok(false)
    }

    /// Connects the sink `request` describes.
    async fn build(&self, request: SinkRequest<'_>) -> Result<BuiltSink>;
}

/// A task built from a configuration, with what its host does around `run`.
pub struct BuiltTask {
    /// The task, ready to `precheck` or `run`.
    pub task: Task,
    /// The task id (checkpoints are kept under it).
    pub task_id: String,
    /// The task's source.
    pub source: Arc<dyn Source>,
    /// The task's sink (as the task sees it: wrapped for incremental verification when that
    /// is configured).
    pub sink: Arc<dyn Sink>,
    /// The configured data verification (`[validation]`), if any: start it with
    /// [`BuiltTask::spawn_verification`] next to `task.run()`.
    pub verification: Option<Arc<VerificationJob>>,
}

/// A verification running beside a task: resolves to its report.
pub type VerificationRun = tokio::task::JoinHandle<Result<VerificationReport>>;

impl BuiltTask {
    /// Starts the configured verification under the guide's start rules (see
    /// [`VerificationJob::spawn`]); `None` when none is configured.
    pub fn spawn_verification(&self) -> Option<VerificationRun> {
        let job = self.verification.clone()?;
        Some(job.spawn(self.task.handle()))
    }

    /// After `run` returned: writes what the sink still buffers and commits the checkpoint
    /// covering it ([`Sink::flush`]); on failure the next run replays those changes.
    pub async fn finish(&self) -> Result<()> {
        self.sink.flush().await
    }
}

/// Builds tasks from configurations with the connectors a host registers (see the module
/// documentation).
pub struct TaskBuilder<'a> {
    config: &'a TaskConfig,
    state_dir: PathBuf,
    source: Option<Arc<dyn SourceFactory>>,
    sinks: BTreeMap<&'static str, Arc<dyn SinkFactory>>,
    alert_hook: Option<Arc<dyn AlertHook>>,
}

impl<'a> TaskBuilder<'a> {
    /// A builder of `config`'s task keeping its progress in `state_dir/<task id>.json`.
    pub fn new(config: &'a TaskConfig, state_dir: impl AsRef<Path>) -> Self {
        Self {
            config,
            state_dir: state_dir.as_ref().to_path_buf(),
            source: None,
            sinks: BTreeMap::new(),
            alert_hook: None,
        }
    }

    /// The source connector.
    pub fn source(mut self, factory: impl SourceFactory + 'static) -> Self {
        self.source = Some(Arc::new(factory));
        self
    }

    /// A destination connector, used when `[destination] type` is its kind.
    pub fn sink(mut self, factory: impl SinkFactory + 'static) -> Self {
        self.sinks
            .insert(factory.kind().as_str(), Arc::new(factory));
        self
    }

    /// Where alerts go (`advanced.monitoring`, verification alerts); the log when not given.
    /// A configured `webhook_url` needs a hook from the host that delivers to it.
    pub fn alerts(mut self, hook: Option<Arc<dyn AlertHook>>) -> Self {
        self.alert_hook = hook;
        self
    }

    /// Validates the configuration and connects the task's source and sink.
    pub async fn build(self) -> Result<BuiltTask> {
        let config = self.config;
        config.validate()?;
        if let Some((key, why)) = options::unsupported_options(config).into_iter().next() {
            return Err(unsupported(&key, why));
        }
        let kind = config.destination.kind();
        let sink_factory = self.sinks.get(kind.as_str()).cloned().ok_or_else(|| {
            unsupported(
                "destination.type",
                &format!("no {} connector is registered", kind.as_str()),
            )
        })?;
        let source_factory = self
            .source
            .clone()
            .ok_or_else(|| unsupported("source", "no source connector is registered"))?;
        sink_factory.check(config)?;
        if crate::config::DestinationSchema::of(kind).is_none() {
            return Err(unsupported(
                "destination.type",
                &format!(
                    "the {kind} connector registered no destination schema (its configuration \
                     module is not linked into this program)"
                ),
            ));
        }
        let two_way = TwoWaySettings::from_config(config);
        if let Some(tw) = &two_way {
            crate::topology::check_config(config, tw)?;
        }
        check_masking_scan(config, source_factory.as_ref()).await?;
        let task_id = config.task_id();
        let lowercase = sink_factory.folds_names_to_lower(config).await?;
        let built_source = source_factory
            .build(SourceRequest {
                config,
                databases: source_databases(config),
                two_way: two_way.as_ref(),
            })
            .await?;
        let mut filter: Arc<dyn Filter> =
            Arc::new(ConfigFilter::from_config(config)?.with_destination_lowercase(lowercase));
        if let Some(tw) = &two_way {
            filter = tw.filter(filter);
        }
        let store = self.store(&task_id)?;
        let options = task_options(config, built_source.start_position, two_way.as_ref());
        let built_sink = sink_factory
            .build(SinkRequest {
                config,
                task_id: &task_id,
                two_way: two_way.as_ref(),
                filter,
            })
            .await?;
        let source = built_source.source;
        let verification = self.verification(&source, &built_sink)?;
        // Incremental verification sees every applied batch through the task's sink.
        let sink: Arc<dyn Sink> = match verification.as_ref().and_then(|v| v.incremental()) {
            Some(inc) => Arc::new(VerifyingSink::new(built_sink.sink.clone(), inc)),
            None => built_sink.sink.clone(),
        };
        let mut task = Task::new(
            source.clone(),
            sink.clone(),
            built_sink.filter.clone(),
            store,
            options,
        );
        task = self.with_alerts(task)?;
        if config.migration.migration_assessment {
            if let Some(assessor) = &built_sink.assessor {
                task = task.with_assessment(assessor.clone());
            }
        }
        Ok(BuiltTask {
            task,
            task_id,
            source,
            sink,
            verification,
        })
    }

    fn store(&self, task_id: &str) -> Result<Arc<FileCheckpointStore>> {
        std::fs::create_dir_all(&self.state_dir).map_err(|e| Error::Checkpoint {
            path: self.state_dir.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Arc::new(FileCheckpointStore::new(
            self.state_dir.join(format!("{task_id}.json")),
        )))
    }

    /// The configuration's alerting on `task`.
    fn with_alerts(&self, task: Task) -> Result<Task> {
        let monitoring = &self.config.advanced.monitoring;
        if !monitoring.is_enabled() {
            return Ok(task);
        }
        if monitoring.webhook_url.is_some() && self.alert_hook.is_none() {
            return Err(unsupported(
                "advanced.monitoring.webhook_url",
                "the host program supplies no webhook delivery",
            ));
        }
        let hook = self
            .alert_hook
            .clone()
            .unwrap_or_else(|| Arc::new(LogAlertHook));
        let latency = monitoring.latency.as_ref().map(|l| LatencyRule {
            threshold: Duration::from_secs(l.threshold),
            period: Duration::from_secs(u64::from(l.period_minutes) * 60),
            periods: l.periods,
        });
        Ok(task.with_alerts(hook, monitoring.alert_on_failure, latency))
    }

    /// The configured verification, reading the destination as its connector says and the
    /// source with the same encoding.
    fn verification(
        &self,
        source: &Arc<dyn Source>,
        sink: &BuiltSink,
    ) -> Result<Option<Arc<VerificationJob>>> {
        let config = self.config;
        if !config.validation.is_enabled() {
            return Ok(None);
        }
        let refused = |why: &str| unsupported("validation", why);
        let Some((dest_reader, encoding)) = &sink.verify_reader else {
            return Err(refused(&format!(
                "data verification for this destination type ({} destinations cannot be read \
                 back)",
                config.destination.kind().as_str()
            )));
        };
        let source_reader = source
            .verify_reader(*encoding)
            .ok_or_else(|| refused("data verification of this source (it cannot be read back)"))?;
        let mut job = VerificationJob::new(
            config,
            source.clone(),
            sink.filter.clone(),
            source_reader,
            dest_reader.clone(),
            self.alert_hook.clone(),
        );
        if let Some(dialect) = &sink.repair_dialect {
            job = job.with_repair_dialect(dialect.clone());
        }
        Ok(Some(Arc::new(job)))
    }
}

/// A configuration error for an option this build cannot honour.
pub fn unsupported(key: &str, why: &str) -> Error {
    Error::Config(ConfigError::invalid(
        key,
        format!("not supported by this build: {why}"),
    ))
}
