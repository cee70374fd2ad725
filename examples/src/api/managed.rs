//! One task of `dts serve`: its saved record, the run under way (a [`TaskHandle`] over a task
//! composed by [`crate::runner::compose_task`]), and the samples of its charts.
//!
//! Every change the operator asks for is saved to the record before it takes effect, so a
//! restart of the program finds the task as it was left: running tasks run again from their
//! checkpoints, paused ones start paused, stopped ones stay stopped.

use super::error::{ApiError, ApiResult};
use super::samples::{Ring, TableRates, INTERVAL_MS};
use super::store::{Desired, PrecheckRecord, Store, TaskRecord};
use super::views::{
    ConfigView, FullThrottle, FullView, IncrementalThrottle, MetricsView, PrecheckView, Sample,
    StageView, TableView, TaskDetail, TaskSummary, ThrottleView, VerificationView,
    REPAIR_SQL_SHOWN,
};
use crate::runner::{compose_task, ComposedTask, RepairReport};
use crate::task_metrics::TaskMetrics;
use dts_core::config::TaskConfig;
use dts_core::precheck::CheckLevel;
use dts_core::stage::TaskStatus;
use dts_core::task::Progress;
use dts_core::{TaskHandle, ThrottleSettings};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Where a task is in its life, as the API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Created, never started.
    Created,
    /// Its precheck is running.
    Prechecking,
    /// Connecting to its servers before the run.
    Starting,
    /// Running.
    Running,
    /// Running, held paused.
    Paused,
    /// Asked to stop; saving checkpoints.
    Stopping,
    /// Stopped, with checkpoints saved.
    Stopped,
    /// Failed (see the last error).
    Failed,
}

impl Phase {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Created => "created",
            Phase::Prechecking => "prechecking",
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Paused => "paused",
            Phase::Stopping => "stopping",
            Phase::Stopped => "stopped",
            Phase::Failed => "failed",
        }
    }

    /// Whether a run is under way (or about to be).
    fn is_active(self) -> bool {
        matches!(
            self,
            Phase::Starting | Phase::Running | Phase::Paused | Phase::Stopping
        )
    }
}

struct Inner {
    record: TaskRecord,
    name: String,
    phase: Phase,
    handle: Option<TaskHandle>,
    /// The run's driver, awaited at shutdown.
    driver: Option<tokio::task::JoinHandle<()>>,
    /// Stop asked while the run was still connecting.
    stop_requested: bool,
    /// The program is shutting down: the stop is not the operator's (the task runs again
    /// when the program starts).
    shutting_down: bool,
    samples: Ring,
    table_rates: TableRates,
    verification: Option<VerificationView>,
}

/// A task managed by the API.
pub struct ManagedTask {
    id: String,
    state_dir: PathBuf,
    store: Store,
    inner: Mutex<Inner>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Parses a record's TOML into a validated configuration.
pub(crate) fn parse_config(text: &str) -> ApiResult<TaskConfig> {
    TaskConfig::from_toml_str(text).map_err(|e| ApiError::bad_request(e.to_string()))
}

impl ManagedTask {
    /// A task over a saved (or new) record. The configuration must parse.
    pub(crate) fn new(
        record: TaskRecord,
        state_dir: PathBuf,
        store: Store,
    ) -> ApiResult<Arc<Self>> {
        let config = parse_config(&record.config_toml)?;
        let phase = match (&record.last_error, &record.last_status) {
            (Some(_), _) => Phase::Failed,
            (None, Some(_)) => Phase::Stopped,
            (None, None) => Phase::Created,
        };
        Ok(Arc::new(Self {
            id: record.id.clone(),
            state_dir,
            store,
            inner: Mutex::new(Inner {
                name: config.display_name(),
                record,
                phase,
                handle: None,
                driver: None,
                stop_requested: false,
                shutting_down: false,
                samples: Ring::default(),
                table_rates: TableRates::default(),
                verification: None,
            }),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The task id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the operator last asked for.
    pub fn desired(&self) -> Desired {
        self.lock().record.desired
    }

    /// Where the task is.
    pub fn phase(&self) -> Phase {
        self.lock().phase
    }

    fn persist(&self, inner: &Inner) -> ApiResult<()> {
        self.store.save(&inner.record).map_err(|e| {
            ApiError::internal(format!("cannot save the state of task {}: {e}", self.id))
        })
    }

    /// The configuration the task runs with: the saved one, plus the warnings acknowledged
    /// and the throttles changed through the API.
    fn effective_config(inner: &Inner) -> ApiResult<TaskConfig> {
        let mut config = parse_config(&inner.record.config_toml)?;
        for ack in &inner.record.acknowledged {
            if !config.acknowledge_warnings.contains(ack) {
                config.acknowledge_warnings.push(ack.clone());
            }
        }
        if let Some(full) = &inner.record.throttle.full {
            let t = &mut config.advanced.full_sync_throttle;
            t.source_qps = full.source_qps;
            t.rps = full.rps;
            t.mbps = full.mbps;
        }
        if let Some(inc) = &inner.record.throttle.incremental {
            let t = &mut config.advanced.incremental_throttle;
            t.rps = inc.rps;
            t.mbps = inc.mbps;
        }
        config
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(config)
    }

    /// The effective configuration, secrets masked.
    pub fn config_view(&self) -> ApiResult<ConfigView> {
        let config = Self::effective_config(&self.lock())?;
        let toml = config
            .to_toml_string()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let json = serde_json::to_value(&config).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(ConfigView { toml, config: json })
    }

    fn throttle_view(config: &TaskConfig) -> ThrottleView {
        let f = &config.advanced.full_sync_throttle;
        let i = &config.advanced.incremental_throttle;
        ThrottleView {
            full: Some(FullThrottle {
                source_qps: f.source_qps,
                rps: f.rps,
                mbps: f.mbps,
            }),
            incremental: Some(IncrementalThrottle {
                rps: i.rps,
                mbps: i.mbps,
            }),
        }
    }

    /// The runner's limits of a configuration, as the task builder derives them.
    fn throttle_settings(config: &TaskConfig) -> (ThrottleSettings, ThrottleSettings) {
        let options = dts_core::build::task_options(config, None, None);
        (options.full_throttle, options.incremental_throttle)
    }

    fn snapshot(inner: &Inner) -> (TaskStatus, Progress) {
        match &inner.handle {
            Some(h) => (h.status(), h.progress()),
            None => (
                inner.record.last_status.clone().unwrap_or_default(),
                Progress::default(),
            ),
        }
    }

    fn summary_of(inner: &Inner, status: &TaskStatus, progress: &Progress) -> TaskSummary {
        let (done, estimated) = progress.tables.values().fold((0u64, 0u64), |(d, e), t| {
            let est = if t.finished {
                t.rows_done
            } else {
                t.rows_estimated.max(t.rows_done)
            };
            (d + t.rows_done, e + est)
        });
        let full_percent = if progress.tables.is_empty() {
            0.0
        } else if progress.tables.values().all(|t| t.finished) {
            100.0
        } else if estimated == 0 {
            0.0
        } else {
            (done as f64 * 100.0 / estimated as f64).min(100.0)
        };
        TaskSummary {
            id: inner.record.id.clone(),
            name: inner.name.clone(),
            state: inner.phase.as_str(),
            desired: inner.record.desired,
            stage: status.current().map(|s| s.to_string()),
            latency_ms: progress.incremental.latency_ms,
            rows_per_s: progress.incremental.rows_per_s,
            full_percent,
            last_error: progress
                .last_error
                .clone()
                .or_else(|| inner.record.last_error.clone()),
        }
    }

    /// The list's view.
    pub fn summary(&self) -> TaskSummary {
        let inner = self.lock();
        let (status, progress) = Self::snapshot(&inner);
        Self::summary_of(&inner, &status, &progress)
    }

    /// The task in full.
    pub fn detail(&self) -> TaskDetail {
        let inner = self.lock();
        let (status, progress) = Self::snapshot(&inner);
        let summary = Self::summary_of(&inner, &status, &progress);
        let config = Self::effective_config(&inner).ok();
        let copying =
            status.stage(dts_core::Stage::FullDataSync).status == dts_core::StageStatus::Running;
        let tables = progress
            .tables
            .iter()
            .map(|(name, t)| {
                let rate = if t.finished {
                    0.0
                } else {
                    inner.table_rates.rate(name)
                };
                let left = t.rows_estimated.saturating_sub(t.rows_done);
                let percent = if t.finished {
                    100.0
                } else if t.rows_estimated == 0 {
                    0.0
                } else {
                    (t.rows_done as f64 * 100.0 / t.rows_estimated as f64).min(99.9)
                };
                TableView {
                    table: name.clone(),
                    rows_done: t.rows_done,
                    rows_estimated: t.rows_estimated,
                    finished: t.finished,
                    percent,
                    rows_per_s: rate,
                    eta_s: (!t.finished && rate > 0.0).then(|| (left as f64 / rate).ceil() as u64),
                }
            })
            .collect();
        let acknowledged = inner.record.acknowledged.clone();
        let config_acks = config
            .as_ref()
            .map(|c| c.acknowledge_warnings.clone())
            .unwrap_or_default();
        TaskDetail {
            summary,
            origin: inner.record.origin.clone(),
            created_ms: inner.record.created_ms,
            stages: status.stages.iter().map(StageView::from).collect(),
            tables,
            full: FullView {
                rows_per_s: if copying {
                    progress.full_rows_per_s
                } else {
                    0.0
                },
                bytes_per_s: if copying {
                    progress.full_bytes_per_s
                } else {
                    0.0
                },
                bytes_done: progress.full_bytes_done,
                eta_s: progress.full_eta_s,
            },
            incremental: progress.incremental.clone(),
            retry: progress.retry.clone(),
            retry_time_ms: progress.retry_time_ms,
            labels: progress.labels.clone(),
            throttle: config.as_ref().map(Self::throttle_view).unwrap_or_default(),
            acknowledged,
            precheck: inner
                .record
                .precheck
                .as_ref()
                .map(|p| PrecheckView::new(p.at_ms, &p.checks, &config_acks)),
            verification: inner.verification.clone(),
        }
    }

    /// The chart samples taken after `since_ms`.
    pub fn metrics(&self, since_ms: u64) -> MetricsView {
        let inner = self.lock();
        MetricsView {
            interval_ms: INTERVAL_MS,
            capacity: super::samples::CAPACITY,
            samples: inner.samples.since(since_ms),
        }
    }

    /// The last precheck, if one ran.
    pub fn precheck_view(&self) -> ApiResult<PrecheckView> {
        let inner = self.lock();
        let config = Self::effective_config(&inner)?;
        let p = inner.record.precheck.as_ref().ok_or_else(|| {
            ApiError::not_found(format!("task {} has not been prechecked", self.id))
        })?;
        Ok(PrecheckView::new(
            p.at_ms,
            &p.checks,
            &config.acknowledge_warnings,
        ))
    }

    /// Runs the precheck (connecting to the task's servers) and keeps its results.
    pub async fn precheck(&self) -> ApiResult<PrecheckView> {
        let (config, before) = {
            let mut inner = self.lock();
            if inner.phase.is_active() || inner.phase == Phase::Prechecking {
                return Err(ApiError::conflict(format!(
                    "task {} is {}: a precheck runs only while it is not running",
                    self.id,
                    inner.phase.as_str()
                )));
            }
            let config = Self::effective_config(&inner)?;
            let before = inner.phase;
            inner.phase = Phase::Prechecking;
            (config, before)
        };
        let result = async {
            let composed = compose_task(&config, &self.state_dir, None)
                .await
                .map_err(|e| compose_error(&e))?;
            composed
                .task
                .precheck()
                .await
                .map_err(|e| ApiError::upstream(format!("precheck of task {}: {e}", self.id)))
        }
        .await;
        let mut inner = self.lock();
        inner.phase = before;
        let report = result?;
        let record = PrecheckRecord {
            at_ms: now_ms(),
            checks: report.checks,
        };
        let view = PrecheckView::new(record.at_ms, &record.checks, &config.acknowledge_warnings);
        inner.record.precheck = Some(record);
        self.persist(&inner)?;
        tracing::info!(target: "dts::audit", task = %self.id, passed = view.passed, checks = view.checks.len(), "precheck ran");
        Ok(view)
    }

    /// Acknowledges warnings of the last precheck by id; errors cannot be acknowledged.
    pub fn acknowledge(&self, ids: &[String]) -> ApiResult<PrecheckView> {
        let mut inner = self.lock();
        let Some(precheck) = inner.record.precheck.clone() else {
            return Err(ApiError::conflict(format!(
                "task {} has not been prechecked: run POST /api/tasks/{}/precheck first",
                self.id, self.id
            )));
        };
        for id in ids {
            match precheck.checks.iter().find(|c| &c.name == id) {
                None => {
                    return Err(ApiError::bad_request(format!(
                        "the last precheck of task {} has no check `{id}`",
                        self.id
                    )))
                }
                Some(c) if c.level == CheckLevel::Error => {
                    return Err(ApiError::conflict(format!(
                        "check `{id}` is an error and cannot be acknowledged: {}",
                        c.fix
                    )))
                }
                Some(c) if c.level == CheckLevel::Pass => {
                    return Err(ApiError::bad_request(format!(
                        "check `{id}` passed: there is nothing to acknowledge"
                    )))
                }
                Some(_) => {}
            }
        }
        for id in ids {
            if !inner.record.acknowledged.contains(id) {
                inner.record.acknowledged.push(id.clone());
            }
        }
        self.persist(&inner)?;
        tracing::info!(target: "dts::audit", task = %self.id, acknowledged = ?ids, "precheck warnings acknowledged");
        let config = Self::effective_config(&inner)?;
        Ok(PrecheckView::new(
            precheck.at_ms,
            &precheck.checks,
            &config.acknowledge_warnings,
        ))
    }

    /// Starts the task (paused when `paused`): it connects, runs its own precheck stage and
    /// goes on through its stages. Refused while a run is under way.
    pub fn start(self: &Arc<Self>, paused: bool) -> ApiResult<()> {
        let mut inner = self.lock();
        if inner.phase.is_active() || inner.phase == Phase::Prechecking {
            return Err(ApiError::conflict(format!(
                "task {} is {}",
                self.id,
                inner.phase.as_str()
            )));
        }
        let config = Self::effective_config(&inner)?;
        inner.record.desired = if paused {
            Desired::Paused
        } else {
            Desired::Running
        };
        inner.record.last_error = None;
        self.persist(&inner)?;
        inner.phase = Phase::Starting;
        inner.stop_requested = false;
        inner.shutting_down = false;
        inner.verification = None;
        let me = self.clone();
        inner.driver = Some(tokio::spawn(async move { me.drive(config).await }));
        Ok(())
    }

    /// Pauses a running task at its next chunk or batch boundary.
    pub fn pause(&self) -> ApiResult<()> {
        let mut inner = self.lock();
        match inner.phase {
            Phase::Running | Phase::Paused | Phase::Starting => {}
            other => {
                return Err(ApiError::conflict(format!(
                    "task {} is {}: only a running task can be paused",
                    self.id,
                    other.as_str()
                )))
            }
        }
        inner.record.desired = Desired::Paused;
        self.persist(&inner)?;
        if let Some(h) = &inner.handle {
            h.pause();
            inner.phase = Phase::Paused;
        }
        Ok(())
    }

    /// Resumes a paused task.
    pub fn resume(&self) -> ApiResult<()> {
        let mut inner = self.lock();
        match inner.phase {
            Phase::Running | Phase::Paused | Phase::Starting => {}
            other => {
                return Err(ApiError::conflict(format!(
                    "task {} is {}: only a paused task can be resumed",
                    self.id,
                    other.as_str()
                )))
            }
        }
        inner.record.desired = Desired::Running;
        self.persist(&inner)?;
        if let Some(h) = &inner.handle {
            h.resume();
            inner.phase = Phase::Running;
        }
        Ok(())
    }

    /// Stops a running task after its current chunk or batch, checkpoints saved.
    pub fn stop(&self) -> ApiResult<()> {
        let mut inner = self.lock();
        if !inner.phase.is_active() {
            return Err(ApiError::conflict(format!(
                "task {} is {}: it is not running",
                self.id,
                inner.phase.as_str()
            )));
        }
        inner.record.desired = Desired::Stopped;
        self.persist(&inner)?;
        inner.stop_requested = true;
        if let Some(h) = &inner.handle {
            h.stop();
        }
        inner.phase = Phase::Stopping;
        Ok(())
    }

    /// Changes throttles: each section given replaces that section; applied at once to a
    /// running task and kept for its later runs.
    pub fn set_throttle(&self, change: &ThrottleView) -> ApiResult<ThrottleView> {
        let mut inner = self.lock();
        let previous = inner.record.throttle.clone();
        if let Some(full) = &change.full {
            inner.record.throttle.full = Some(full.clone());
        }
        if let Some(inc) = &change.incremental {
            inner.record.throttle.incremental = Some(inc.clone());
        }
        let config = match Self::effective_config(&inner) {
            Ok(c) => c,
            Err(e) => {
                inner.record.throttle = previous;
                return Err(e);
            }
        };
        self.persist(&inner)?;
        let (full, incremental) = Self::throttle_settings(&config);
        if let Some(h) = &inner.handle {
            h.set_full_throttle(full);
            h.set_incremental_throttle(incremental);
        }
        let view = Self::throttle_view(&config);
        tracing::info!(target: "dts::audit", task = %self.id, throttle = ?view, "throttle changed");
        Ok(view)
    }

    /// Whether the task may be deleted (not running).
    pub fn ensure_deletable(&self) -> ApiResult<()> {
        let inner = self.lock();
        if inner.phase.is_active() || inner.phase == Phase::Prechecking {
            return Err(ApiError::conflict(format!(
                "task {} is {}: stop it before deleting it",
                self.id,
                inner.phase.as_str()
            )));
        }
        Ok(())
    }

    /// The program is shutting down: stops the run (if any) without changing what the
    /// operator asked for, and waits up to `wait` for its checkpoints to be saved.
    pub async fn shutdown(&self, wait: Duration) {
        let driver = {
            let mut inner = self.lock();
            inner.shutting_down = true;
            inner.stop_requested = true;
            if let Some(h) = &inner.handle {
                h.stop();
            }
            inner.driver.take()
        };
        if let Some(driver) = driver {
            if tokio::time::timeout(wait, driver).await.is_err() {
                tracing::warn!(task = %self.id, "task did not stop in time; its next run resumes from the last checkpoint");
            }
        }
    }

    /// One run: compose, run, record how it ended.
    async fn drive(self: Arc<Self>, config: TaskConfig) {
        let composed = match compose_task(&config, &self.state_dir, None).await {
            Ok(c) => Arc::new(c),
            Err(e) => {
                let message = compose_error(&e).to_string();
                self.finish_run(None, Err(message));
                return;
            }
        };
        let handle = composed.task.handle();
        {
            let mut inner = self.lock();
            if inner.stop_requested {
                drop(inner);
                self.finish_run(Some(&handle), Ok(()));
                return;
            }
            if inner.record.desired == Desired::Paused {
                handle.pause();
                inner.phase = Phase::Paused;
            } else {
                inner.phase = Phase::Running;
            }
            inner.handle = Some(handle.clone());
            inner.samples = Ring::default();
            inner.table_rates = TableRates::default();
        }
        let sampler = tokio::spawn(Self::sample(Arc::downgrade(&self), handle.clone()));
        let verification = self.clone().watch_verification(&composed, &config);
        tracing::info!(task = %self.id, "task started");
        let result = composed.task.run().await;
        let flushed = composed.finish().await;
        sampler.abort();
        if let Some(v) = verification {
            v.abort();
        }
        let outcome = match (result, flushed) {
            (Err(e), _) => Err(e.to_string()),
            (Ok(()), Err(e)) => Err(format!("final flush of the destination failed: {e}")),
            (Ok(()), Ok(())) => Ok(()),
        };
        self.finish_run(Some(&handle), outcome);
    }

    fn watch_verification(
        self: Arc<Self>,
        composed: &Arc<ComposedTask>,
        config: &TaskConfig,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let run = composed.spawn_verification()?;
        let (composed, config) = (composed.clone(), config.clone());
        self.lock().verification = Some(VerificationView {
            state: "waiting",
            report: None,
            text: None,
            repair_sql_file: None,
            repair_sql: None,
            error: None,
        });
        Some(tokio::spawn(async move {
            let view = match run.await {
                Ok(Ok(report)) => {
                    TaskMetrics::verification(&self.id, Ok(&report));
                    // Keys as users write them, per table, and the repair SQL file.
                    let shown = composed
                        .report_text(&config, &report, &self.state_dir)
                        .await;
                    let repair_sql = shown.repair_sql_file.as_deref().and_then(read_shown);
                    VerificationView {
                        state: "finished",
                        text: Some(shown.text),
                        repair_sql_file: shown.repair_sql_file.map(|p| p.display().to_string()),
                        repair_sql,
                        report: serde_json::to_value(&report).ok(),
                        error: None,
                    }
                }
                Ok(Err(e)) => {
                    TaskMetrics::verification(&self.id, Err(()));
                    VerificationView {
                        state: "failed",
                        report: None,
                        text: None,
                        repair_sql_file: None,
                        repair_sql: None,
                        error: Some(e.to_string()),
                    }
                }
                Err(e) => VerificationView {
                    state: "failed",
                    report: None,
                    text: None,
                    repair_sql_file: None,
                    repair_sql: None,
                    error: Some(e.to_string()),
                },
            };
            self.lock().verification = Some(view);
        }))
    }

    fn finish_run(&self, handle: Option<&TaskHandle>, outcome: Result<(), String>) {
        let mut inner = self.lock();
        if let Some(h) = handle {
            inner.record.last_status = Some(h.status());
        }
        inner.handle = None;
        match outcome {
            Ok(()) => {
                inner.phase = Phase::Stopped;
                inner.record.last_error = None;
                tracing::info!(task = %self.id, "task stopped, checkpoints saved");
            }
            Err(e) => {
                inner.phase = Phase::Failed;
                tracing::error!(task = %self.id, error = %e, "task failed");
                inner.record.last_error = Some(e);
                // A failed task is not started again by a restart of the program.
                if !inner.shutting_down {
                    inner.record.desired = Desired::Stopped;
                }
            }
        }
        if let Err(e) = self.persist(&inner) {
            tracing::error!(task = %self.id, error = %e, "task state not saved");
        }
    }

    /// Takes a chart sample every second while the run lasts.
    async fn sample(me: std::sync::Weak<Self>, handle: TaskHandle) {
        let mut metrics = match me.upgrade() {
            Some(m) => TaskMetrics::new(&m.id),
            None => return,
        };
        let mut tick = tokio::time::interval(Duration::from_millis(INTERVAL_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let Some(me) = me.upgrade() else { return };
            let p = handle.progress();
            metrics.publish(&handle.status(), &p);
            // The copy's rate stays at its last value once the copy is done: chart it only
            // while the Full Data Sync stage runs.
            let copying = handle.status().stage(dts_core::Stage::FullDataSync).status
                == dts_core::StageStatus::Running;
            let now = now_ms();
            let mut inner = me.lock();
            for (name, t) in &p.tables {
                inner.table_rates.record(name, now, t.rows_done);
            }
            inner.samples.push(Sample {
                t_ms: now,
                latency_ms: p.incremental.latency_ms,
                rows_per_s: p.incremental.rows_per_s,
                full_rows_per_s: if copying { p.full_rows_per_s } else { 0.0 },
            });
        }
    }

    /// Removes the task's local checkpoint file (`STATE_DIR/<id>.json`).
    pub(crate) fn remove_local_state(&self) -> std::io::Result<()> {
        let path = self.state_dir.join(format!("{}.json", self.id));
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The error of composing a task: a configuration problem is the caller's (400), anything
/// else is a server that could not be reached or refused (502).
fn compose_error(e: &crate::runner::BoxError) -> ApiError {
    match crate::runner::failure_kind(e.as_ref()) {
        crate::runner::FailureKind::Config => ApiError::bad_request(e.to_string()),
        _ => ApiError::upstream(e.to_string()),
    }
}

/// The first [`REPAIR_SQL_SHOWN`] bytes of a repair SQL file (cut at a character boundary, with
/// a note when cut).
fn read_shown(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    if text.len() <= REPAIR_SQL_SHOWN {
        return Some(text);
    }
    let mut end = REPAIR_SQL_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!(
        "{}\n-- … cut here: the whole script is in {}\n",
        &text[..end],
        path.display()
    ))
}
