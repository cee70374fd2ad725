//! Composing a runnable task from a [`TaskConfig`], as the `dts` program does for every
//! destination kind, and the program's plain-HTTP alert webhook. Shared by the command line
//! (`dts run`, `dts precheck`) and the management API (`dts serve`).

use dts_core::build::{BuiltTask, TaskBuilder};
use dts_core::config::TaskConfig;
use dts_core::verify::VerificationReport;
use dts_core::{Alert, AlertHook};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Errors of composing or running a task, boxed (the connector crates' errors and the
/// configuration's are all `std::error::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A task composed from a configuration, with what its host must do around `run`
/// ([`BuiltTask::spawn_verification`] beside it, [`BuiltTask::finish`] after it).
pub type ComposedTask = BuiltTask;

/// A verification report as the program shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportText {
    /// The report: per table its counts and the differing keys as users write them
    /// (`id=208`), then the repair SQL file.
    pub text: String,
    /// Where the repair statements were written, when rows differ.
    pub repair_sql_file: Option<PathBuf>,
}

/// What the program does with a verification report of a composed task: the repair SQL file
/// and the text shown to the operator.
#[allow(async_fn_in_trait)]
pub trait RepairReport {
    /// The task's configured verification, if any.
    fn verification_job(&self) -> Option<&Arc<dts_core::verify::VerificationJob>>;

    /// Writes the statements that repair what `report` lists (upserts of the source rows for
    /// missing and different keys, deletes for extra ones, masked as the task masks) to
    /// `state_dir/<task id>.repair.sql` (mode 0600: it holds row values); `None` when there is
    /// nothing to repair (a file of an earlier run is then removed, so no stale repair is left
    /// to run).
    async fn write_repair_sql(
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
        let Some(job) = self.verification_job() else {
            return nothing(&path);
        };
        if report.tables.iter().all(|t| t.differences.is_empty()) {
            return nothing(&path);
        }
        let statements = job.repair_sql(report).await?;
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
    /// [`RepairReport::write_repair_sql`]); a failure to write it is said in the text.
    async fn report_text(
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
}

impl RepairReport for BuiltTask {
    fn verification_job(&self) -> Option<&Arc<dts_core::verify::VerificationJob>> {
        self.verification.as_ref()
    }
}

/// Composes the task of a configuration with [`TaskBuilder`]: the MySQL source, and the sink
/// of whichever destination kind the file names (MySQL, Kafka, AnalyticDB), each from its own
/// connector crate. Progress is kept in `state_dir/<task id>.json`. Alerts go to `hook` when
/// given, else to the configured webhook (`advanced.monitoring.webhook_url`, plain HTTP, see
/// [`WebhookHook`]), else to the log.
pub async fn compose_task(
    config: &TaskConfig,
    state_dir: &Path,
    hook: Option<Arc<dyn AlertHook>>,
) -> Result<ComposedTask, BoxError> {
    let hook = match hook {
        Some(h) => Some(h),
        None => webhook_of(config)?,
    };
    Ok(TaskBuilder::new(config, state_dir)
        .source(dts_mysql::MysqlSourceFactory::default())
        .sink(dts_mysql::MysqlSinkFactory::default())
        .sink(dts_kafka::KafkaSinkFactory::default())
        .sink(dts_adb::AdbSinkFactory::default())
        .alerts(hook)
        .build()
        .await?)
}

/// The configuration's webhook as an alert hook, when it names one.
pub fn webhook_of(config: &TaskConfig) -> Result<Option<Arc<dyn AlertHook>>, BoxError> {
    Ok(match &config.advanced.monitoring.webhook_url {
        Some(url) => Some(Arc::new(
            WebhookHook::new(url)?.with_labels(dts_core::build::task_labels(&config.advanced)),
        ) as Arc<dyn AlertHook>),
        None => None,
    })
}

/// Delivers alerts as an HTTP POST of JSON to a plain-HTTP webhook.
pub struct WebhookHook {
    host_port: String,
    path: String,
    labels: std::collections::BTreeMap<String, String>,
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
            labels: Default::default(),
        })
    }

    /// The task's labels (the guide's environment tag and scene label), sent with every alert
    /// as its `labels` object so a receiver can route production alerts apart from test ones.
    #[must_use]
    pub fn with_labels(mut self, labels: std::collections::BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// The JSON body of `alert`: the alert's own fields and, when the task has labels,
    /// `labels`.
    pub fn body(&self, alert: &Alert) -> String {
        let mut value = serde_json::to_value(alert).unwrap_or_default();
        if let (Some(object), false) = (value.as_object_mut(), self.labels.is_empty()) {
            object.insert("labels".into(), serde_json::json!(self.labels));
        }
        value.to_string()
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
        let body = self.body(alert);
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
