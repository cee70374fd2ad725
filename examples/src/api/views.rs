//! The JSON bodies of the management API: what a task looks like from outside (no secret is
//! ever part of one), and the bodies of the calls that change it.

use dts_core::precheck::{CheckLevel, CheckResult};
use dts_core::stage::{StageRecord, StageStatus};
use dts_core::task::{IncrementalStatus, RetryStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Full data sync limits (`[advanced.full_sync_throttle]`); an absent limit is off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullThrottle {
    /// Queries per second to the source.
    #[serde(default)]
    pub source_qps: Option<u64>,
    /// Rows written per second.
    #[serde(default)]
    pub rps: Option<u64>,
    /// MB/s written.
    #[serde(default)]
    pub mbps: Option<u64>,
}

/// Incremental write limits (`[advanced.incremental_throttle]`); an absent limit is off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncrementalThrottle {
    /// Rows written per second.
    #[serde(default)]
    pub rps: Option<u64>,
    /// MB/s written.
    #[serde(default)]
    pub mbps: Option<u64>,
}

/// Body of `PUT /api/tasks/{id}/throttle`, and the throttles in force: a section given
/// replaces that section whole (a limit left out is off); a section left out is unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleView {
    /// Full data sync limits.
    #[serde(default)]
    pub full: Option<FullThrottle>,
    /// Incremental write limits.
    #[serde(default)]
    pub incremental: Option<IncrementalThrottle>,
}

/// Body of `POST /api/tasks` (JSON): exactly one of the three ways to give a task. A body of
/// type `application/toml` (or `text/plain`) is the TOML task itself.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// A task file the server reads (must end in `.toml`).
    #[serde(default)]
    pub file: Option<String>,
    /// The task as TOML text.
    #[serde(default)]
    pub toml: Option<String>,
    /// The task as a JSON object with the TOML file's structure.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
}

/// Body of `POST /api/tasks/{id}/precheck/acknowledge`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// Ids of warnings of the last precheck to acknowledge.
    pub ids: Vec<String>,
}

/// One check of a precheck, with its id for acknowledgement.
#[derive(Clone, Debug, Serialize)]
pub struct CheckView {
    /// The id to acknowledge it by: the check's stable name.
    pub id: String,
    /// `pass`, `warning` or `error`.
    pub level: CheckLevel,
    /// What was found.
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// Whether the warning is acknowledged (through the API or the configuration).
    pub acknowledged: bool,
    /// Whether it can be acknowledged (warnings only; errors must be fixed).
    pub acknowledgeable: bool,
}

/// The last precheck of a task.
#[derive(Clone, Debug, Serialize)]
pub struct PrecheckView {
    /// When it ran (ms since the epoch).
    pub at_ms: u64,
    /// Whether the task may start: no error, every warning acknowledged.
    pub passed: bool,
    /// The checks in the order they ran.
    pub checks: Vec<CheckView>,
}

impl PrecheckView {
    /// The view of `checks` with the acknowledged warning names.
    pub fn new(at_ms: u64, checks: &[CheckResult], acknowledged: &[String]) -> Self {
        let report = dts_core::PrecheckReport {
            checks: checks.to_vec(),
        };
        // Migration assessment findings are listed, never blocking (as `dts precheck`).
        let mut passing: Vec<String> = acknowledged.to_vec();
        passing.extend(
            checks
                .iter()
                .filter(|c| dts_core::assessment::is_assessment_check(&c.name))
                .map(|c| c.name.clone()),
        );
        Self {
            at_ms,
            passed: report.passes(&passing),
            checks: checks
                .iter()
                .map(|c| CheckView {
                    id: c.name.clone(),
                    level: c.level,
                    message: c.message.clone(),
                    fix: c.fix.clone(),
                    acknowledged: c.level == CheckLevel::Warning && acknowledged.contains(&c.name),
                    acknowledgeable: c.level == CheckLevel::Warning,
                })
                .collect(),
        }
    }
}

/// One stage of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct StageView {
    /// Machine name (`incremental_write`).
    pub stage: String,
    /// Display name (`Incremental Write`).
    pub label: String,
    /// `not_started`, `running`, `paused`, `failed`, `finished` or `skipped`.
    pub status: &'static str,
    /// Why it failed.
    pub reason: Option<String>,
    /// When it first started (ms since the epoch).
    pub started_ms: Option<u64>,
    /// When its status last changed.
    pub changed_ms: Option<u64>,
    /// When it finished or was skipped.
    pub finished_ms: Option<u64>,
}

impl From<&StageRecord> for StageView {
    fn from(r: &StageRecord) -> Self {
        let (status, reason) = match &r.status {
            StageStatus::NotStarted => ("not_started", None),
            StageStatus::Running => ("running", None),
            StageStatus::Paused => ("paused", None),
            StageStatus::Failed(why) => ("failed", Some(why.clone())),
            StageStatus::Finished => ("finished", None),
            StageStatus::Skipped => ("skipped", None),
        };
        Self {
            stage: serde_json::to_value(r.stage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            label: r.stage.to_string(),
            status,
            reason,
            started_ms: r.started_ms,
            changed_ms: r.changed_ms,
            finished_ms: r.finished_ms,
        }
    }
}

/// Full-sync progress of one table.
#[derive(Clone, Debug, Serialize)]
pub struct TableView {
    /// `db.table` at the source.
    pub table: String,
    /// Rows copied.
    pub rows_done: u64,
    /// The source's estimate of its rows.
    pub rows_estimated: u64,
    /// Copied whole.
    pub finished: bool,
    /// Rows copied over the estimate, 0–100 (100 once finished).
    pub percent: f64,
    /// Rows copied per second over the last seconds.
    pub rows_per_s: f64,
    /// Seconds left at that rate; `None` while no rate is known or once finished.
    pub eta_s: Option<u64>,
}

/// Full data sync figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FullView {
    /// Rows copied per second.
    pub rows_per_s: f64,
    /// Bytes copied per second.
    pub bytes_per_s: f64,
    /// Bytes copied by this run.
    pub bytes_done: u64,
    /// Seconds until the whole copy ends, at the current rate.
    pub eta_s: Option<u64>,
}

/// How much of the repair SQL file the API returns (the file holds it all).
pub const REPAIR_SQL_SHOWN: usize = 64 * 1024;

/// The configured data verification (`[validation]`) of a task.
#[derive(Clone, Debug, Serialize)]
pub struct VerificationView {
    /// `waiting` (for its start rule), `finished` or `failed`.
    pub state: &'static str,
    /// The report, once finished.
    pub report: Option<serde_json::Value>,
    /// The report as text (differing keys per table, repair SQL file), once finished.
    pub text: Option<String>,
    /// The file the repair statements were written to, when rows differ.
    pub repair_sql_file: Option<String>,
    /// The repair statements (the first [`REPAIR_SQL_SHOWN`] bytes of the file).
    pub repair_sql: Option<String>,
    /// Why it did not complete.
    pub error: Option<String>,
}

/// A task as the list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TaskSummary {
    /// Task id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `created`, `prechecking`, `starting`, `running`, `paused`, `stopping`, `stopped` or
    /// `failed`.
    pub state: &'static str,
    /// What the operator last asked for: `stopped`, `running` or `paused`.
    pub desired: super::store::Desired,
    /// The stage working now (`Incremental Write`), if any.
    pub stage: Option<String>,
    /// Incremental latency, ms.
    pub latency_ms: u64,
    /// Incremental rows per second.
    pub rows_per_s: f64,
    /// Full sync progress over every table, 0–100.
    pub full_percent: f64,
    /// The last error.
    pub last_error: Option<String>,
}

/// A task in full: `GET /api/tasks/{id}`.
#[derive(Clone, Debug, Serialize)]
pub struct TaskDetail {
    /// The list's fields.
    #[serde(flatten)]
    pub summary: TaskSummary,
    /// `file:PATH` or `posted`.
    pub origin: String,
    /// When it was created (ms since the epoch).
    pub created_ms: u64,
    /// Every stage, in order.
    pub stages: Vec<StageView>,
    /// Full-sync progress per table.
    pub tables: Vec<TableView>,
    /// Full-sync figures.
    pub full: FullView,
    /// Incremental write figures.
    pub incremental: IncrementalStatus,
    /// The retry under way.
    pub retry: Option<RetryStatus>,
    /// Time spent in runs of failures that ended, ms.
    pub retry_time_ms: u64,
    /// The task's labels.
    pub labels: BTreeMap<String, String>,
    /// Throttles in force.
    pub throttle: ThrottleView,
    /// Warnings acknowledged through the API.
    pub acknowledged: Vec<String>,
    /// The last precheck.
    pub precheck: Option<PrecheckView>,
    /// The configured verification, if any.
    pub verification: Option<VerificationView>,
}

/// One sample of the charts, taken every second while the task runs.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sample {
    /// When (ms since the epoch).
    pub t_ms: u64,
    /// Incremental latency, ms.
    pub latency_ms: u64,
    /// Incremental rows applied per second.
    pub rows_per_s: f64,
    /// Full-sync rows copied per second.
    pub full_rows_per_s: f64,
}

/// `GET /api/tasks/{id}/metrics`.
#[derive(Clone, Debug, Serialize)]
pub struct MetricsView {
    /// Time between samples, ms.
    pub interval_ms: u64,
    /// How many samples are kept at most (one hour).
    pub capacity: usize,
    /// Samples taken after `since_ms`, oldest first.
    pub samples: Vec<Sample>,
}

/// `GET /api/tasks/{id}/config`: the effective configuration, secrets masked (`***`).
#[derive(Clone, Debug, Serialize)]
pub struct ConfigView {
    /// As TOML.
    pub toml: String,
    /// As JSON.
    pub config: serde_json::Value,
}
