//! Composing a runnable task from a [`TaskConfig`], as the `dts` program does for every
//! destination kind, and the program's plain-HTTP alert webhook. Shared by the command line
//! (`dts run`, `dts precheck`) and the management API (`dts serve`).

use dts_core::config::{DestinationConfig, TaskConfig};
use dts_core::verify::VerificationReport;
use dts_core::{Alert, AlertHook, Task};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Errors of composing or running a task, boxed (the connector crates' errors and the
/// configuration's are all `std::error::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A verification running beside a task (`[validation]`): resolves to its report.
pub type VerificationRun = tokio::task::JoinHandle<Result<VerificationReport, dts_core::Error>>;

/// A verification report as the program shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportText {
    /// The report: per table its counts and the differing keys as users write them
    /// (`id=208`), then the repair SQL file.
    pub text: String,
    /// Where the repair statements were written, when rows differ.
    pub repair_sql_file: Option<PathBuf>,
}

/// A task composed from a configuration, with what its host must do around `run`.
pub struct ComposedTask {
    /// The task, ready to `precheck` or `run`.
    pub task: Task,
    /// The AnalyticDB sink, when the destination is one: it buffers changes across rounds, so
    /// the host calls [`ComposedTask::finish`] once the task has returned.
    pub adb_sink: Option<Arc<dts_adb::AdbSink>>,
    /// The configured data verification (`[validation]`), if any.
    pub verification: Option<Arc<dts_mysql::verify::VerificationJob>>,
}

impl ComposedTask {
    /// Starts the configured verification (`[validation]`) beside the task under the guide's
    /// start rules; `None` when the task has none.
    pub fn spawn_verification(&self) -> Option<VerificationRun> {
        let job = self.verification.clone()?;
        Some(job.spawn(self.task.handle()))
    }

    /// Writes the statements that repair what `report` lists (upserts of the source rows for
    /// missing and different keys, deletes for extra ones, masked as the task masks) to
    /// `state_dir/<task id>.repair.sql` (mode 0600: it holds row values); `None` when there is
    /// nothing to repair (a file of an earlier run is then removed, so no stale repair is left
    /// to run).
    pub async fn write_repair_sql(
        &self,
        config: &TaskConfig,
        report: &VerificationReport,
        state_dir: &Path,
    ) -> Result<Option<PathBuf>, BoxError> {
        let path = state_dir.join(format!("{}.repair.sql", config.task_id()));
        let nothing = |path: &Path| match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(None),
        };
        let Some(job) = &self.verification else {
            return nothing(&path);
        };
        if report.tables.iter().all(|t| t.differences.is_empty()) {
            return nothing(&path);
        }
        let (plans, _) = job.verifier().plan(&job.targets().await?).await;
        let filter = dts_core::objects::ConfigFilter::from_config(config)?;
        let statements = match &config.destination {
            DestinationConfig::Adb(adb) => {
                let dialect = dts_adb::verify::AdbRepairDialect {
                    mariadb_compat: adb.mariadb_compat,
                };
                job.verifier()
                    .repair_sql(&plans, report, &dialect, Some(&filter))
                    .await?
            }
            _ => {
                job.verifier()
                    .repair_sql(
                        &plans,
                        report,
                        &dts_mysql::verify::MysqlRepairDialect,
                        Some(&filter),
                    )
                    .await?
            }
        };
        if statements.is_empty() {
            return nothing(&path);
        }
        std::fs::create_dir_all(state_dir)?;
        let mut text = format!(
            "-- dts: repair of task {} after verification ({} inconsistent row(s)); run at the destination\n",
            config.task_id(),
            report.inconsistent()
        );
        for s in statements {
            text.push_str(&s);
            text.push_str(";\n");
        }
        // It holds row values of the source: readable by the program's user only.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Also when an earlier file was created with another mode.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        Ok(Some(path))
    }

    /// The verification report as text, with the repair SQL file it points to (written by
    /// [`ComposedTask::write_repair_sql`]); a failure to write it is said in the text.
    pub async fn report_text(
        &self,
        config: &TaskConfig,
        report: &VerificationReport,
        state_dir: &Path,
    ) -> ReportText {
        let mut text = report.to_text();
        let mut repair_sql_file = None;
        match self.write_repair_sql(config, report, state_dir).await {
            Ok(Some(path)) => {
                text.push_str(&format!("  repair SQL: {}\n", path.display()));
                repair_sql_file = Some(path);
            }
            Ok(None) if report.inconsistent() > 0 => text.push_str(
                "  repair SQL: none (row-count verification lists no keys; run full-field verification)\n",
            ),
            Ok(None) => {}
            Err(e) => text.push_str(&format!("  repair SQL could not be written: {e}\n")),
        }
        ReportText {
            text,
            repair_sql_file,
        }
    }

    /// After `run` returned: writes what an AnalyticDB sink still buffers and commits its
    /// checkpoint (on failure the next run replays those changes).
    pub async fn finish(&self) -> Result<(), BoxError> {
        if let Some(sink) = &self.adb_sink {
            sink.flush().await?;
        }
        Ok(())
    }
}

/// Composes the task of a configuration: the MySQL source and filter from `dts-mysql`, and the
/// sink of the configured destination kind. Progress is kept in `state_dir/<task id>.json`.
/// Alerts go to `hook` when given, else to the configured webhook
/// (`advanced.monitoring.webhook_url`, plain HTTP, see [`WebhookHook`]), else to the log.
pub async fn compose_task(
    config: &TaskConfig,
    state_dir: &Path,
    hook: Option<Arc<dyn AlertHook>>,
) -> Result<ComposedTask, BoxError> {
    let hook = match hook {
        Some(h) => Some(h),
        None => webhook_of(config)?,
    };
    Ok(match &config.destination {
        DestinationConfig::Mysql(_) => {
            let built = dts_mysql::from_config::build_mysql_task(config, state_dir, hook).await?;
            ComposedTask {
                task: built.task,
                adb_sink: None,
                verification: built.verification,
            }
        }
        DestinationConfig::Kafka(kafka) => {
            let parts = dts_mysql::from_config::build_parts(config, state_dir, false).await?;
            let options = dts_kafka::KafkaSinkOptions::from_config(kafka, parts.task_id.clone());
            let sink = Arc::new(dts_kafka::KafkaSink::connect(options).await?);
            ComposedTask {
                task: parts.into_task(config, sink, hook)?,
                adb_sink: None,
                verification: None,
            }
        }
        DestinationConfig::Adb(_) => {
            let built = dts_adb::from_config::build_adb_task(config, state_dir, hook).await?;
            ComposedTask {
                task: built.task,
                adb_sink: Some(built.sink),
                verification: built.verification,
            }
        }
    })
}

/// The configuration's webhook as an alert hook, when it names one.
pub fn webhook_of(config: &TaskConfig) -> Result<Option<Arc<dyn AlertHook>>, BoxError> {
    Ok(match &config.advanced.monitoring.webhook_url {
        Some(url) => Some(Arc::new(WebhookHook::new(url)?) as Arc<dyn AlertHook>),
        None => None,
    })
}

/// Delivers alerts as an HTTP POST of JSON to a plain-HTTP webhook.
pub struct WebhookHook {
    host_port: String,
    path: String,
}

impl WebhookHook {
    /// A hook posting to `url` (`http://host:port/path`; other schemes are refused).
    pub fn new(url: &str) -> Result<Self, BoxError> {
        let rest = url.strip_prefix("http://").ok_or(
            "advanced.monitoring.webhook_url: only http:// webhooks can be delivered by this runner",
        )?;
        let (host_port, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(Self {
            host_port: host_port.to_string(),
            path: path.to_string(),
        })
    }

    async fn post(&self, body: &str) -> std::io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&self.host_port).await?;
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host_port,
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl AlertHook for WebhookHook {
    async fn fire(&self, alert: &Alert) {
        let body = serde_json::to_string(alert).unwrap_or_default();
        let sent = tokio::time::timeout(Duration::from_secs(10), self.post(&body)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "webhook delivery failed"),
            Err(_) => tracing::error!("webhook delivery timed out"),
        }
    }
}

/// The task configuration's class of failure, for the program's exit code: bad configuration,
/// a precheck that did not pass, or anything else.
pub fn failure_kind(error: &(dyn std::error::Error + 'static)) -> FailureKind {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<dts_core::config::ConfigError>().is_some() {
            return FailureKind::Config;
        }
        if let Some(core) = e.downcast_ref::<dts_core::Error>() {
            match core {
                dts_core::Error::Config(_) => return FailureKind::Config,
                dts_core::Error::Precheck(_) => return FailureKind::Precheck,
                _ => {}
            }
        }
        current = e.source();
    }
    FailureKind::Other
}

/// What kind of failure ended a command (see [`failure_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The task configuration is invalid or uses an option this build refuses.
    Config,
    /// The precheck found an error or an unacknowledged warning.
    Precheck,
    /// Anything else: a connection, a server, the task failing while it ran.
    Other,
}
