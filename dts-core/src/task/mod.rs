//! The task runner: runs a synchronization task's stages in the guide's order over a
//! [`Source`], a [`Sink`] and a [`Filter`], with checkpoints, pause/resume/stop, retries and a
//! live progress snapshot.
//!
//! ```text
//! Precheck → Incremental Data Collection → Schema Sync → Full Data Sync → Incremental Write ⟲
//! ```
//!
//! - The start position is recorded (and saved) before any row is copied, so nothing committed
//!   during the copy is missed; incremental write replays from it idempotently.
//! - Full sync copies tables in key order chunk by chunk, reading ahead while earlier chunks are
//!   written in parallel; the cursor of every written chunk is saved, so a restart resumes at
//!   the chunk. Tables without a key are copied from one consistent snapshot whose position is
//!   saved, and their changes up to that position are not replayed.
//! - Incremental write applies batches of transactions with the checkpoint the sink stores with
//!   them; a restart resumes from the sink's checkpoint (inside a large transaction if needed).
//!
//! - Every stage that talks to a server retries failures within the guide's windows (module
//!   `retry`): connection failures within `connection_retry`, other transient failures
//!   (deadlocks, lock waits) within `other_retry`, resuming from the checkpoint; definite errors
//!   fail the task at once. The retry under way is in [`Progress::retry`].
//!
//! Figures are also exported through the `metrics` facade (`dts_full_rows_copied_total`,
//! `dts_full_bytes_copied_total`, `dts_incremental_rows_applied_total`,
//! `dts_incremental_bytes_applied_total`, `dts_incremental_transactions_applied_total`,
//! `dts_incremental_latency_ms`, `dts_retries_total`, `dts_retry_time_ms_total`, labelled by
//! task), so a host can install any exporter.

pub mod alerts;
pub mod defaults;
pub mod etl;
mod foreign_keys;
mod full_sync;
mod incremental;
pub mod mapping;
pub mod progress;
mod retry;
mod schema_objects;
pub mod throttle;

pub use alerts::{Alert, AlertHook, LatencyRule, LogAlertHook};
pub use etl::Etl;
pub use foreign_keys::FOREIGN_KEYS_CHECK;
pub use progress::{IncrementalStatus, Progress, RetryStatus, TableStatus};
pub use throttle::{Throttle, ThrottleSettings};

use crate::checkpoint::{CheckpointStore, TaskState};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::precheck::PrecheckReport;
use crate::sink::{ConflictingTables, Sink};
use crate::source::Source;
use crate::stage::{Stage, StageMachine, StageStatus, TaskStatus};
use mapping::{Mapper, Routed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How a task runs.
#[derive(Clone, Debug)]
pub struct TaskOptions {
    /// Stable unique id of the task (checkpoints are keyed by it).
    pub task_id: String,
    /// Run schema sync (create destination tables).
    pub schema_sync: bool,
    /// Run full data sync (copy existing rows).
    pub full_sync: bool,
    /// Rows per full-sync chunk.
    pub chunk_rows: usize,
    /// Tables copied at the same time.
    pub table_concurrency: usize,
    /// Chunks of one table written at the same time (reading continues meanwhile).
    pub write_concurrency: usize,
    /// Transactions taken from the stream at once for one apply round.
    pub batch_max_transactions: usize,
    /// Row changes per sink batch (whole transactions; a bigger transaction goes alone).
    pub batch_max_rows: usize,
    /// The guide's "Processing Mode of Conflicting Tables".
    pub conflicting_tables: ConflictingTables,
    /// Names of precheck warnings the user accepted.
    pub acknowledged_warnings: Vec<String>,
    /// Retry window for connection failures.
    pub connection_retry: Duration,
    /// Retry window for other transient failures (must be shorter).
    pub other_retry: Duration,
    /// How often the checkpoint is written while only skipped or no changes arrive.
    pub idle_checkpoint_interval: Duration,
    /// Write a heartbeat row to the source every second while incremental write runs (the
    /// guide's heartbeat option), so latency is measured even when the source is idle.
    pub write_heartbeat: bool,
    /// Full-sync limits (source queries/s, rows/s, bytes/s).
    pub full_throttle: ThrottleSettings,
    /// Incremental-write limits (rows/s, bytes/s).
    pub incremental_throttle: ThrottleSettings,
    /// Where incremental synchronization starts on a first run; `None` means the source's
    /// current position. Meant for tasks without full sync (with full sync, changes before the
    /// copy would be missed or replayed over it). A saved start position always wins.
    pub start_position: Option<crate::position::Position>,
    /// Labels shown in the status (the guide's `environment_tag` and `scene_label`).
    pub labels: std::collections::BTreeMap<String, String>,
    /// Follow the source's foreign-key cascades (the default): the child rows InnoDB deletes
    /// or updates by `ON DELETE` / `ON UPDATE CASCADE` and `SET NULL`, which the binlog does
    /// not carry, are derived from the parent changes and applied too ([`crate::cascade`]).
    /// Off, the destination keeps those child rows as they were (verification reports them).
    pub cascade_foreign_keys: bool,
    /// A verification runs beside the task (the guide's `[validation]`) and reports its
    /// progress through [`TaskHandle::verification_started`] and the calls after it, so the
    /// Verification stage is left to it instead of being skipped. Off by default.
    pub verification: bool,
    /// The guide's "Whether to Migrate Accounts": `Some(names)` creates the named accounts
    /// (`user@host`), or with an empty list every account with a grant on a selected object,
    /// during schema sync, their grants restricted to the selection. `None` (the default)
    /// creates none.
    pub accounts: Option<Vec<String>>,
}

impl Default for TaskOptions {
    fn default() -> Self {
        Self {
            task_id: "dts-task".into(),
            schema_sync: true,
            full_sync: true,
            chunk_rows: 5_000,
            table_concurrency: 2,
            write_concurrency: 4,
            batch_max_transactions: 1_024,
            batch_max_rows: 10_000,
            conflicting_tables: ConflictingTables::PrecheckAndReportErrors,
            acknowledged_warnings: Vec::new(),
            connection_retry: defaults::CONNECTION_RETRY,
            other_retry: defaults::OTHER_RETRY,
            idle_checkpoint_interval: Duration::from_secs(5),
            write_heartbeat: defaults::WRITE_HEARTBEAT,
            full_throttle: ThrottleSettings::default(),
            incremental_throttle: ThrottleSettings::default(),
            start_position: None,
            labels: Default::default(),
            cascade_foreign_keys: true,
            verification: false,
            accounts: None,
        }
    }
}

/// What the task is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Work.
    Run,
    /// Hold at the next chunk or batch boundary.
    Pause,
    /// Save checkpoints and return.
    Stop,
}

/// Controls and observes a task from another task or thread.
#[derive(Clone)]
pub struct TaskHandle {
    stages: watch::Receiver<TaskStatus>,
    progress: watch::Receiver<Progress>,
    control: Arc<watch::Sender<Control>>,
    full_throttle: Throttle,
    incremental_throttle: Throttle,
    latency_rule: Arc<watch::Sender<Option<LatencyRule>>>,
    /// Weak, so that a handle does not keep a dropped task's status alive (watchers of the
    /// status end when the task is dropped).
    machine: std::sync::Weak<StageMachine>,
}

impl TaskHandle {
    fn verification_stage(&self, transition: crate::stage::Transition) -> Result<()> {
        let machine = self.machine.upgrade().ok_or(Error::Stopped)?;
        machine.apply(Stage::Verification, transition)
    }

    /// A verification running beside the task started (the Verification stage runs).
    pub fn verification_started(&self) -> Result<()> {
        self.verification_stage(crate::stage::Transition::Start)
    }

    /// The verification beside the task completed (the Verification stage is finished).
    pub fn verification_finished(&self) -> Result<()> {
        self.verification_stage(crate::stage::Transition::Finish)
    }

    /// The verification beside the task could not complete: the Verification stage fails with
    /// `reason` (the task's own stages go on).
    pub fn verification_failed(&self, reason: impl Into<String>) -> Result<()> {
        self.verification_stage(crate::stage::Transition::Fail(reason.into()))
    }

    /// Pause at the next chunk or batch boundary.
    pub fn pause(&self) {
        self.control.send_replace(Control::Pause);
    }

    /// Continue after a pause.
    pub fn resume(&self) {
        self.control.send_replace(Control::Run);
    }

    /// Stop after the current chunk or batch, with checkpoints saved.
    pub fn stop(&self) {
        self.control.send_replace(Control::Stop);
    }

    /// Changes the full-sync limits while the task runs.
    pub fn set_full_throttle(&self, settings: ThrottleSettings) {
        self.full_throttle.set(settings);
    }

    /// Changes the incremental-write limits while the task runs.
    pub fn set_incremental_throttle(&self, settings: ThrottleSettings) {
        self.incremental_throttle.set(settings);
    }

    /// Replaces the latency alert rule while the task runs (`None` turns latency alerts off);
    /// the count of consecutive periods starts over. Takes effect only on a task built with
    /// [`Task::with_alerts`] (no hook, no alert).
    pub fn set_latency_rule(&self, rule: Option<LatencyRule>) {
        self.latency_rule.send_replace(rule);
    }

    /// The latency alert rule in force.
    pub fn latency_rule(&self) -> Option<LatencyRule> {
        *self.latency_rule.borrow()
    }

    /// The stages' status.
    pub fn status(&self) -> TaskStatus {
        self.stages.borrow().clone()
    }

    /// The latest progress snapshot.
    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    /// Watch the stages.
    pub fn watch_status(&self) -> watch::Receiver<TaskStatus> {
        self.stages.clone()
    }

    /// Watch the progress.
    pub fn watch_progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }
}

/// A synchronization task.
pub struct Task {
    pub(crate) source: Arc<dyn Source>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) filter: Arc<dyn Filter>,
    pub(crate) store: Arc<dyn CheckpointStore>,
    pub(crate) options: TaskOptions,
    pub(crate) stages: Arc<StageMachine>,
    pub(crate) progress: watch::Sender<Progress>,
    pub(crate) control: Arc<watch::Sender<Control>>,
    pub(crate) full_throttle: Throttle,
    pub(crate) incremental_throttle: Throttle,
    pub(crate) alert_hook: Option<Arc<dyn AlertHook>>,
    pub(crate) alert_on_failure: bool,
    pub(crate) latency_rule: Arc<watch::Sender<Option<LatencyRule>>>,
    pub(crate) etl: Option<Arc<dyn Etl>>,
    pub(crate) assessor: Option<Arc<dyn crate::assessment::Assessor>>,
}

impl Task {
    /// Sends alerts to `hook`: on failure (`alert_on_failure`), and when `latency` says so.
    pub fn with_alerts(
        mut self,
        hook: Arc<dyn AlertHook>,
        alert_on_failure: bool,
        latency: Option<LatencyRule>,
    ) -> Self {
        self.alert_on_failure = alert_on_failure;
        self.alert_hook = Some(hook);
        self.latency_rule.send_replace(latency);
        self
    }

    /// A task over the given parts; `store` keeps the task's progress between runs.
    pub fn new(
        source: Arc<dyn Source>,
        sink: Arc<dyn Sink>,
        filter: Arc<dyn Filter>,
        store: Arc<dyn CheckpointStore>,
        options: TaskOptions,
    ) -> Self {
        Self {
            source,
            sink,
            filter,
            store,
            full_throttle: Throttle::new(options.full_throttle),
            incremental_throttle: Throttle::new(options.incremental_throttle),
            stages: Arc::new(StageMachine::new()),
            progress: watch::Sender::new(Progress {
                labels: options.labels.clone(),
                ..Default::default()
            }),
            options,
            control: Arc::new(watch::Sender::new(Control::Run)),
            alert_hook: None,
            alert_on_failure: false,
            latency_rule: Arc::new(watch::Sender::new(None)),
            etl: None,
            assessor: None,
        }
    }

    /// Runs the migration assessment with `assessor` as part of the precheck (with schema
    /// synchronization only). Its findings are listed and never block the task.
    pub fn with_assessment(mut self, assessor: Arc<dyn crate::assessment::Assessor>) -> Self {
        self.assessor = Some(assessor);
        self
    }

    /// Runs every row change (and every full-sync row, as an INSERT) through `etl` before it
    /// is written.
    pub fn with_etl(mut self, etl: Arc<dyn Etl>) -> Self {
        self.etl = Some(etl);
        self
    }

    /// Reads full-sync chunks of at most `rows` rows (default 5,000): smaller chunks resume
    /// closer to a crash and hold less memory; larger ones cost fewer round trips.
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.options.chunk_rows = rows.max(1);
        self
    }

    /// A handle to control and observe the task.
    pub fn handle(&self) -> TaskHandle {
        TaskHandle {
            stages: self.stages.subscribe(),
            progress: self.progress.subscribe(),
            control: self.control.clone(),
            full_throttle: self.full_throttle.clone(),
            incremental_throttle: self.incremental_throttle.clone(),
            latency_rule: self.latency_rule.clone(),
            machine: Arc::downgrade(&self.stages),
        }
    }

    /// Runs the precheck alone (a dry run): source and destination checks over the selected
    /// tables, without recording anything.
    pub async fn precheck(&self) -> Result<PrecheckReport> {
        let all = self.source.discover().await?;
        let mut tables = self.route_tables(&all);
        let keys = match self.source.foreign_keys().await {
            Ok(fks) => self.attach_foreign_keys(&fks, &mut tables),
            Err(e) => Some(crate::precheck::CheckResult::error(
                FOREIGN_KEYS_CHECK,
                format!("could not read the source's foreign keys: {e}"),
                "make information_schema.REFERENTIAL_CONSTRAINTS and KEY_COLUMN_USAGE \
                 readable for the source account",
            )),
        };
        let state = self.store.load().await?;
        let mut report = self.precheck_report(&all, &tables, state.is_some()).await;
        report.checks.extend(keys);
        let (_, objects) = self.plan_objects(state.is_some()).await;
        report.extend(objects);
        Ok(report)
    }

    /// With schema sync into a destination that holds foreign keys: gives each destination
    /// schema its foreign keys in destination names, and returns the precheck finding on those
    /// that cannot be created (`None` when the task creates no foreign keys).
    fn attach_foreign_keys(
        &self,
        fks: &[crate::cascade::ForeignKey],
        tables: &mut [(crate::schema::SchemaRef, Routed)],
    ) -> Option<crate::precheck::CheckResult> {
        if !self.options.schema_sync {
            return None;
        }
        let mapped = foreign_keys::map_foreign_keys(fks, tables);
        // A destination that cannot hold them still sees them, to say what it leaves out.
        mapped.attach(tables);
        self.sink
            .holds_foreign_keys()
            .then(|| mapped.check(mapped.count()))
    }

    /// Runs the task until it is stopped (`Ok`) or fails (`Err`, with the failed stage marked).
    pub async fn run(&self) -> Result<()> {
        let latency_alerts = self.spawn_latency_alerts();
        let result = self.run_stages().await;
        if let Some(h) = latency_alerts {
            h.abort();
        }
        match result {
            Ok(()) | Err(Error::Stopped) => Ok(()),
            Err(e) => {
                // The pipeline stage that was working (a verification beside it reports its
                // own outcome).
                let status = self.stages.status();
                let stage = status
                    .stages
                    .iter()
                    .rev()
                    .filter(|r| r.stage != Stage::Verification)
                    .find(|r| matches!(r.status, StageStatus::Running | StageStatus::Paused))
                    .map(|r| r.stage)
                    .unwrap_or(Stage::Precheck);
                let _ = self.stages.fail(stage, e.to_string());
                self.progress
                    .send_modify(|p| p.last_error = Some(e.to_string()));
                if let (Some(hook), true) = (&self.alert_hook, self.alert_on_failure) {
                    hook.fire(&Alert::TaskFailed {
                        task_id: self.options.task_id.clone(),
                        stage: stage.to_string(),
                        reason: e.to_string(),
                    })
                    .await;
                }
                Err(e)
            }
        }
    }

    /// Checks latency once per period while incremental write runs.
    fn spawn_latency_alerts(&self) -> Option<tokio::task::JoinHandle<()>> {
        let hook = self.alert_hook.clone()?;
        let mut rules = self.latency_rule.subscribe();
        let progress = self.progress.subscribe();
        let stages = self.stages.subscribe();
        let task_id = self.options.task_id.clone();
        Some(tokio::spawn(async move {
            loop {
                // Runs under one rule until the rule is changed, then starts over.
                let rule = *rules.borrow_and_update();
                let Some(rule) = rule else {
                    if rules.changed().await.is_err() {
                        return;
                    }
                    continue;
                };
                let mut watch = alerts::LatencyWatch::new(rule);
                let mut tick = tokio::time::interval(rule.period.max(Duration::from_millis(10)));
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        changed = rules.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            break;
                        }
                    }
                    if stages.borrow().stage(Stage::IncrementalWrite).status != StageStatus::Running
                    {
                        continue;
                    }
                    let latency_ms = progress.borrow().incremental.latency_ms;
                    if let Some(periods) = watch.check(latency_ms) {
                        hook.fire(&Alert::LatencyHigh {
                            task_id: task_id.clone(),
                            latency_ms,
                            threshold_ms: rule.threshold.as_millis() as u64,
                            periods,
                        })
                        .await;
                    }
                }
            }
        }))
    }

    fn route_tables(
        &self,
        all: &[crate::schema::SchemaRef],
    ) -> Vec<(crate::schema::SchemaRef, Routed)> {
        let mut mapper = Mapper::new(self.filter.clone());
        all.iter()
            .filter_map(|s| mapper.route(s).map(|r| (s.clone(), r)))
            .collect()
    }

    async fn precheck_report(
        &self,
        all: &[crate::schema::SchemaRef],
        tables: &[(crate::schema::SchemaRef, Routed)],
        resuming: bool,
    ) -> PrecheckReport {
        let mut report = self.source.precheck().await;
        let selected: Vec<_> = tables.iter().map(|(s, _)| s.clone()).collect();
        report.rejudge_keyless(&selected);
        let schemas: Vec<_> = all.iter().map(|s| (**s).clone()).collect();
        let problems = self.filter.check(&schemas);
        report.checks.push(if problems.is_empty() {
            crate::precheck::CheckResult::pass(
                "objects.selection",
                format!("{} tables selected", tables.len()),
            )
        } else {
            crate::precheck::CheckResult::error(
                "objects.selection",
                problems.join("; "),
                "correct the object selection in the task configuration",
            )
        });
        if self.options.cascade_foreign_keys {
            report.extend(self.cascade_checks(tables).await);
        }
        let destinations: Vec<_> = tables
            .iter()
            .map(|(_, r)| (*r.destination).clone())
            .collect();
        // A resumed task created its destination tables itself; without schema sync the
        // tables must exist (checked below), so existing ones are expected.
        if !self.options.schema_sync {
            report.extend(self.tables_exist_check(&destinations).await);
        }
        let mode = if resuming || !self.options.schema_sync {
            ConflictingTables::IgnoreErrorsAndProceed
        } else {
            self.options.conflicting_tables
        };
        report.extend(self.sink.precheck(&destinations, mode).await);
        if let (Some(assessor), true) = (&self.assessor, self.options.schema_sync) {
            let assessed: Vec<_> = tables
                .iter()
                .map(|(s, r)| crate::assessment::AssessedTable {
                    source: s.clone(),
                    destination: (*r.destination).clone(),
                })
                .collect();
            let mut assessment = assessor.assess(&assessed).await;
            assessment.extend(self.source.assess(&assessed).await);
            report.extend(assessment.to_precheck());
        }
        report
    }

    /// The foreign-key cascade checks over the selected tables:
    /// - `objects.foreign_key_cascades` (warning): a selected child table whose parent is not
    ///   selected, so cascades from the parent's changes are unseen;
    /// - `destination.foreign_key_cascades` (error): the destination cannot apply derived
    ///   changes ([`Sink::supports_derived_changes`]) and a selected child table has a
    ///   cascading foreign key, or the key's columns are not synchronized.
    async fn cascade_checks(
        &self,
        tables: &[(crate::schema::SchemaRef, Routed)],
    ) -> PrecheckReport {
        use crate::precheck::CheckResult;
        let fks = match self.source.foreign_keys().await {
            Ok(f) => f,
            Err(e) => {
                return PrecheckReport {
                    checks: vec![CheckResult::error(
                        "source.foreign_keys",
                        format!("could not read the source's foreign keys: {e}"),
                        "make information_schema.REFERENTIAL_CONSTRAINTS and KEY_COLUMN_USAGE \
                         readable for the source account",
                    )],
                }
            }
        };
        let selected = |t: &crate::schema::TableId| tables.iter().find(|(s, _)| &s.id == t);
        let mut unseen = Vec::new();
        let mut refused = Vec::new();
        let support = self.sink.supports_derived_changes();
        for fk in fks.iter().filter(|fk| fk.cascades()) {
            let Some((child, routed)) = selected(&fk.child) else {
                continue;
            };
            if selected(&fk.parent).is_none() {
                unseen.push(format!(
                    "{} (the parent {} is not selected: child rows its ON DELETE {} / ON \
                     UPDATE {} changes follow only while the parent's changes are read)",
                    fk, fk.parent, fk.on_delete, fk.on_update
                ));
            }
            if let Err(reason) = &support {
                refused.push(format!("{}: {reason}", fk));
                continue;
            }
            let unsynced: Vec<&String> = fk
                .child_columns
                .iter()
                .filter(|c| match (&routed.route.columns, child.column_index(c)) {
                    (_, None) => true,
                    (None, Some(_)) => false,
                    (Some(cols), Some(i)) => !cols.iter().any(|(j, _)| *j == i),
                })
                .collect();
            if !unsynced.is_empty() {
                refused.push(format!(
                    "{fk}: its column(s) {unsynced:?} are not synchronized, so the rows its \
                     cascades change cannot be found at the destination"
                ));
            }
        }
        let mut report = PrecheckReport::default();
        if !unseen.is_empty() {
            report.checks.push(CheckResult::warning(
                "objects.foreign_key_cascades",
                format!(
                    "{} selected table(s) reference an unselected parent with a cascading \
                     foreign key: {}",
                    unseen.len(),
                    unseen.join("; ")
                ),
                "select the parent tables too, or acknowledge that the child rows may diverge \
                 when their parents change",
            ));
        }
        if !refused.is_empty() {
            report.checks.push(CheckResult::error(
                "destination.foreign_key_cascades",
                format!(
                    "the source changes rows of selected tables by foreign-key cascades that \
                     the destination cannot follow: {}",
                    refused.join("; ")
                ),
                "choose a destination format that carries derived changes, synchronize the \
                 foreign-key columns, or leave these tables out",
            ));
        }
        report
    }

    /// `destination.tables_exist`, for tasks without schema sync: every destination table
    /// must already exist (nothing creates it), else the precheck fails naming the missing ones.
    async fn tables_exist_check(
        &self,
        destinations: &[crate::schema::TableSchema],
    ) -> PrecheckReport {
        use crate::precheck::CheckResult;
        const NAME: &str = "destination.tables_exist";
        let check = match self.sink.missing_tables(destinations).await {
            Ok(None) => return PrecheckReport::default(),
            Ok(Some(missing)) if missing.is_empty() => CheckResult::pass(
                NAME,
                format!(
                    "all {} destination tables exist (schema synchronization is off)",
                    destinations.len()
                ),
            ),
            Ok(Some(missing)) => {
                let names: Vec<String> = missing.iter().map(|t| t.to_string()).collect();
                CheckResult::error(
                    NAME,
                    format!(
                        "schema synchronization is off and {} destination table(s) do not exist: {}",
                        names.len(),
                        names.join(", ")
                    ),
                    "create the tables at the destination, or turn schema synchronization on \
                     (sync_types.schema = true)",
                )
            }
            Err(e) => CheckResult::error(
                NAME,
                format!("could not check that the destination tables exist: {e}"),
                "make the destination reachable and its information_schema readable, then retry",
            ),
        };
        PrecheckReport {
            checks: vec![check],
        }
    }

    async fn run_stages(&self) -> Result<()> {
        let task_id = &self.options.task_id;
        let loaded = self.store.load().await?;
        if let Some(s) = &loaded {
            if &s.task_id != task_id {
                return Err(Error::Checkpoint {
                    path: "checkpoint store".into(),
                    message: format!("holds task {} but this task is {task_id}", s.task_id),
                });
            }
        }
        let resuming = loaded.as_ref().is_some_and(|s| s.start_position.is_some());
        let mut state = loaded.unwrap_or_else(|| TaskState {
            task_id: task_id.clone(),
            ..Default::default()
        });

        // Precheck.
        self.stages.start(Stage::Precheck)?;
        let all = self
            .with_retry("discover source tables", || self.source.discover())
            .await?;
        let mut tables = self.route_tables(&all);
        let keys = if self.options.schema_sync {
            let fks = self
                .with_retry("read source foreign keys", || self.source.foreign_keys())
                .await?;
            self.attach_foreign_keys(&fks, &mut tables)
        } else {
            None
        };
        let mut report = self.precheck_report(&all, &tables, resuming).await;
        report.checks.extend(keys);
        let (objects, object_checks) = if state.schema_done {
            (Default::default(), PrecheckReport::default())
        } else {
            self.plan_objects(resuming).await
        };
        report.extend(object_checks);
        let mut acknowledged = self.options.acknowledged_warnings.clone();
        if resuming
            || !self.options.schema_sync
            || self.options.conflicting_tables == ConflictingTables::IgnoreErrorsAndProceed
        {
            acknowledged.push("destination.existing_tables".into());
        }
        // Assessment findings are listed, never blocking.
        acknowledged.extend(
            report
                .checks
                .iter()
                .filter(|c| crate::assessment::is_assessment_check(&c.name))
                .map(|c| c.name.clone()),
        );
        if !report.passes(&acknowledged) {
            let problems: Vec<String> = report
                .checks
                .iter()
                .filter(|c| {
                    c.level == crate::precheck::CheckLevel::Error
                        || (c.level == crate::precheck::CheckLevel::Warning
                            && !acknowledged.contains(&c.name))
                })
                .map(|c| c.to_string())
                .collect();
            return Err(Error::Precheck(problems.join("; ")));
        }
        self.stages.finish(Stage::Precheck)?;

        // Incremental Data Collection: the start position, before any row is read.
        self.stages.start(Stage::IncrementalDataCollection)?;
        if state.start_position.is_none() {
            state.start_position = Some(match &self.options.start_position {
                Some(p) => p.clone(),
                None => {
                    self.with_retry("read source position", || self.source.current_position())
                        .await?
                }
            });
            self.store.save(&state).await?;
        }

        // Schema Sync.
        if self.options.schema_sync {
            self.stages.start(Stage::SchemaSync)?;
            if !state.schema_done {
                // A table the full copy is about to fill may be created without what only
                // slows the copy down; the copy's end puts it back (`Sink::finish_copy`).
                let copy_follows = self.options.full_sync && !state.full_done;
                // Sequences first: a table's column default may call NEXTVAL of one.
                let mut ordered: Vec<_> = tables.iter().collect();
                ordered.sort_by_key(|(_, routed)| !routed.destination.is_sequence());
                for (_, routed) in ordered {
                    self.check_control(Stage::SchemaSync).await?;
                    // Creating a table is idempotent (IF NOT EXISTS), so a lost connection
                    // simply runs it again.
                    let operation = format!("schema sync of {}", routed.destination.id);
                    if copy_follows {
                        self.with_retry(&operation, || {
                            self.sink.apply_schema_for_copy(&routed.destination)
                        })
                        .await?;
                    } else {
                        self.with_retry(&operation, || self.sink.apply_schema(&routed.destination))
                            .await?;
                    }
                }
                self.create_objects(&objects).await?;
                state.schema_done = true;
                self.store.save(&state).await?;
            }
            self.stages.finish(Stage::SchemaSync)?;
        } else {
            self.stages.skip(Stage::SchemaSync)?;
        }

        // Full Data Sync.
        if self.options.full_sync {
            self.stages.start(Stage::FullDataSync)?;
            if !state.full_done {
                state = self.full_sync(&tables, state).await?;
                state.full_done = true;
                self.store.save(&state).await?;
            }
            self.stages.finish(Stage::FullDataSync)?;
        } else {
            self.stages.skip(Stage::FullDataSync)?;
        }

        // Incremental Write, until stopped. Verification is its own capability, not run here:
        // a verification beside the task marks its stage itself.
        if !self.options.verification {
            self.stages.skip(Stage::Verification)?;
        }
        self.stages.start(Stage::IncrementalWrite)?;
        let heartbeat = self.options.write_heartbeat.then(|| {
            let source = self.source.clone();
            let task_id = task_id.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    if let Err(e) = source.write_heartbeat(&task_id).await {
                        tracing::warn!(error = %e, "heartbeat write failed");
                    }
                }
            })
        });
        let result = self.incremental(&state).await;
        if let Some(h) = heartbeat {
            h.abort();
        }
        result
    }

    /// Waits while paused (marking `stage` Paused), and turns a stop request into
    /// `Error::Stopped`.
    pub(crate) async fn check_control(&self, stage: Stage) -> Result<()> {
        let mut rx = self.control.subscribe();
        let mut paused = false;
        loop {
            let c = *rx.borrow_and_update();
            match c {
                Control::Run => {
                    if paused && self.stages.status().stage(stage).status == StageStatus::Paused {
                        self.stages.resume(stage)?;
                    }
                    return Ok(());
                }
                Control::Stop => return Err(Error::Stopped),
                Control::Pause => {
                    if !paused && self.stages.status().stage(stage).status == StageStatus::Running {
                        self.stages.pause(stage)?;
                    }
                    paused = true;
                    if rx.changed().await.is_err() {
                        return Err(Error::Stopped);
                    }
                }
            }
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
