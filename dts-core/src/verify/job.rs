//! Verification as a task's `[validation]` section configures it, run by the guide's start
//! rules: [`VerificationJob`].
//!
//! - Tables are verified as the task routes them (its object filter: selection, names, column
//!   subsets, WHERE filters), with the masked columns of `[advanced.masking]` left out, and
//!   limited to `validation.objects` when set.
//! - Full verification (and schema verification) starts once full data sync is done when the
//!   task has no incremental synchronization, otherwise at the first moment incremental latency
//!   reaches zero.
//! - Incremental verification starts when full data sync is done (the destination tables
//!   exist): from then on, every batch the task applies is re-read on both sides (the task's
//!   sink is wrapped in a [`VerifyingSink`](crate::verify::VerifyingSink)).
//! - Alerts go to the task's alert hook.

use crate::config::{FullVerificationMode, MaskingConfig, TaskConfig, ValidationConfig};
use crate::verify::incremental::dml_ops;
use crate::verify::start::wait_for_start;
use crate::verify::{
    FullOptions, IncrementalOptions, IncrementalVerifier, RepairDialect, VerificationReport,
    Verifier, VerifyReader, VerifyTarget,
};
use crate::{AlertHook, Error, Filter, LogAlertHook, Source, Stage, StageStatus, TaskHandle};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// A task's configured verification.
pub struct VerificationJob {
    config: ValidationConfig,
    incremental_sync: bool,
    source: Arc<dyn Source>,
    filter: Arc<dyn Filter>,
    masking: MaskingConfig,
    verifier: Verifier,
    incremental: Option<Arc<IncrementalVerifier>>,
    incremental_loop: Mutex<Option<JoinHandle<()>>>,
    repair_dialect: Option<Arc<dyn RepairDialect>>,
}

impl VerificationJob {
    /// The verification `config.validation` describes, over the task's `source` (for table
    /// discovery and its schema objects) and `filter`, reading the two sides through the given
    /// readers (both must compute the same canonical [`Encoding`](crate::verify::Encoding)).
    /// Alerts go to `hook` (the log when `None`).
    pub fn new(
        config: &TaskConfig,
        source: Arc<dyn Source>,
        filter: Arc<dyn Filter>,
        source_reader: Arc<dyn VerifyReader>,
        dest_reader: Arc<dyn VerifyReader>,
        hook: Option<Arc<dyn AlertHook>>,
    ) -> Self {
        let v = &config.validation;
        let task_id = config.task_id();
        let hook = hook.unwrap_or_else(|| Arc::new(LogAlertHook));
        let mut verifier = Verifier::new(
            source_reader.clone(),
            dest_reader.clone(),
            FullOptions::from_config(v),
        );
        if v.full_alert.is_enabled() {
            verifier = verifier.with_alerts(hook.clone(), task_id.clone(), v.full_alert.clone());
        }
        let incremental = v.incremental.then(|| {
            let mut inc = IncrementalVerifier::new(
                source_reader,
                dest_reader,
                Vec::new(),
                IncrementalOptions {
                    ops: dml_ops(&v.incremental_ops),
                    ..Default::default()
                },
            );
            if v.incremental_alert.is_enabled() {
                inc = inc.with_alerts(hook, task_id, v.incremental_alert.clone());
            }
            Arc::new(inc)
        });
        Self {
            config: v.clone(),
            incremental_sync: config.sync_types.incremental,
            source,
            filter,
            masking: config.advanced.masking.clone(),
            verifier,
            incremental,
            incremental_loop: Mutex::new(None),
            repair_dialect: None,
        }
    }

    /// Repair statements are written in `dialect` (the destination's,
    /// [`VerificationJob::repair_sql`]).
    pub fn with_repair_dialect(mut self, dialect: Arc<dyn RepairDialect>) -> Self {
        self.repair_dialect = Some(dialect);
        self
    }

    /// The statements that repair what `report` lists, in the destination's dialect: upserts
    /// of the source rows for missing and different keys, deletes for extra ones, masked as
    /// the task masks (see [`Verifier::repair_sql`]).
    pub async fn repair_sql(&self, report: &VerificationReport) -> Result<Vec<String>, Error> {
        let Some(dialect) = &self.repair_dialect else {
            return Err(Error::definite(
                "verification",
                "the destination's connector offers no repair dialect",
            ));
        };
        let (plans, _) = self.verifier.plan(&self.targets().await?).await;
        self.verifier
            .repair_sql(&plans, report, dialect.as_ref(), Some(self.filter.as_ref()))
            .await
    }

    /// The incremental verifier, when incremental verification is on (feed it with a
    /// [`VerifyingSink`](crate::verify::VerifyingSink)).
    pub fn incremental(&self) -> Option<Arc<IncrementalVerifier>> {
        self.incremental.clone()
    }

    /// The full verifier (its throttle can be changed while it runs).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    fn selected(&self, db: &str, table: &str) -> bool {
        match &self.config.objects {
            None => true,
            Some(list) => list.iter().any(|o| match o.split_once('.') {
                None => o == db,
                Some((d, t)) => d == db && t == table,
            }),
        }
    }

    /// The tables to verify: every table the task synchronizes (or those of
    /// `validation.objects`), as routed, with their masked columns.
    pub async fn targets(&self) -> Result<Vec<VerifyTarget>, Error> {
        let mut out = Vec::new();
        for schema in self.source.discover().await? {
            let Some(route) = self.filter.route(&schema) else {
                continue;
            };
            if !self.selected(&schema.id.database, &schema.id.table) {
                continue;
            }
            let masked = if self.masking.enabled {
                self.masking
                    .rules
                    .iter()
                    .filter(|r| r.database == schema.id.database && r.table == schema.id.table)
                    .map(|r| r.column.clone())
                    .collect()
            } else {
                Vec::new()
            };
            out.push(VerifyTarget {
                schema: (*schema).clone(),
                route,
                masked,
            });
        }
        Ok(out)
    }

    /// Full and schema verification now, as configured.
    pub async fn run_full(&self) -> Result<VerificationReport, Error> {
        let targets = self.targets().await?;
        let report = self.verifier.run(&targets, self.config.schema).await;
        Ok(self.with_objects(report).await)
    }

    /// Schema verification of the views, routines, triggers and events the task creates,
    /// added to `report` (when schema verification is on and the destination holds objects).
    async fn with_objects(&self, mut report: VerificationReport) -> VerificationReport {
        if !self.config.schema {
            return report;
        }
        let expected = match self.source.schema_objects().await {
            Ok(objects) => objects
                .iter()
                .filter(|o| o.database != "dts_meta")
                .filter_map(|o| match self.filter.route_object(o) {
                    crate::ObjectRoute::Create(o) => Some(o),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            Err(e) => {
                report
                    .errors
                    .push(format!("schema verification of objects: {e}"));
                report.partial = true;
                return report;
            }
        };
        match self.verifier.verify_objects(&expected).await {
            Ok(Some(diffs)) => report.schema.extend(diffs),
            Ok(None) => {}
            Err(e) => {
                report
                    .errors
                    .push(format!("schema verification of objects: {e}"));
                report.partial = true;
            }
        }
        report
    }

    /// Runs the configured verification for the task behind `handle` under the start rules:
    /// incremental verification from the end of full data sync on, then full and schema
    /// verification; returns the full verification's report (empty when only incremental
    /// verification is configured). Fails when the task fails or stops first.
    pub fn spawn(
        self: Arc<Self>,
        handle: TaskHandle,
    ) -> JoinHandle<Result<VerificationReport, Error>> {
        tokio::spawn(async move {
            wait_for_start(&handle, false).await?;
            mark(handle.verification_started(), "started");
            let result = self.clone().run_beside(handle.clone()).await;
            match &result {
                // With incremental verification, the stage ends with the incremental write.
                Ok(_) if self.incremental.is_none() => {
                    mark(handle.verification_finished(), "finished")
                }
                Ok(_) => {}
                Err(e) => mark(handle.verification_failed(e.to_string()), "failed"),
            }
            result
        })
    }

    /// [`VerificationJob::spawn`] once the task's full data sync is done.
    async fn run_beside(self: Arc<Self>, handle: TaskHandle) -> Result<VerificationReport, Error> {
        {
            let targets = self.targets().await?;
            if let Some(inc) = &self.incremental {
                let (plans, errors) = self.verifier.plan(&targets).await;
                for e in errors {
                    tracing::warn!("incremental verification leaves out {e}");
                }
                inc.set_plans(plans);
                let h = inc.clone().spawn();
                if let Ok(mut slot) = self.incremental_loop.lock() {
                    if let Some(old) = slot.replace(h) {
                        old.abort();
                    }
                }
                // Incremental verification ends with the task's incremental write.
                let job = self.clone();
                let watched = handle.clone();
                let mut status = handle.watch_status();
                tokio::spawn(async move {
                    loop {
                        let s = status
                            .borrow()
                            .stage(Stage::IncrementalWrite)
                            .status
                            .clone();
                        let live = matches!(
                            s,
                            StageStatus::NotStarted | StageStatus::Running | StageStatus::Paused
                        );
                        if !live || status.changed().await.is_err() {
                            break;
                        }
                    }
                    job.stop();
                    mark(watched.verification_finished(), "finished");
                });
            }
            wait_for_start(&handle, self.incremental_sync).await?;
            if self.config.full_mode == FullVerificationMode::None && !self.config.schema {
                return Ok(VerificationReport::default());
            }
            let report = self.verifier.run(&targets, self.config.schema).await;
            Ok(self.with_objects(report).await)
        }
    }

    /// Stops incremental verification (it also stops by itself once the task's incremental
    /// write ends or the task is dropped).
    pub fn stop(&self) {
        if let Ok(mut slot) = self.incremental_loop.lock() {
            if let Some(h) = slot.take() {
                h.abort();
            }
        }
    }
}

/// Logs a Verification stage transition the task's state did not allow (the task stopped or
/// failed meanwhile).
fn mark(result: Result<(), Error>, what: &str) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "verification stage not marked {what}");
    }
}
