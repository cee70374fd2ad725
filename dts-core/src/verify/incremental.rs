//! Incremental data verification: after a batch is applied, the keys it touched are re-read on
//! both sides and compared, for the chosen operations (INSERT/UPDATE/DELETE).
//!
//! A key is first checked `settle` after it was applied; while the two sides differ it is
//! checked again on later rounds, and it is only reported inconsistent once it still differs
//! `window` after it was applied. So a change still in flight (a later change of the same key
//! not yet applied, replication lag) is not reported. A key changed again while pending keeps
//! its first time, so a key that never settles is reported once its window ends.
//!
//! [`VerifyingSink`] feeds a verifier from any [`Sink`]: it forwards every call and, once a
//! batch is applied, hands its row changes (already under destination names) to the verifier.
//!
//! Alerts (the guide's "Incremental Data Verification Alert"): per statistical period, the
//! number of rows found inconsistent and the verification latency (the longest time between
//! applying a change and confirming it, in seconds) are checked against their thresholds; an
//! alert fires when a threshold is met for the configured number of consecutive periods.

use super::keys::key_text;
use super::plan::TablePlan;
use super::side::{RowDigest, VerifyReader};
use crate::change::{Change, Ddl, Row, RowOp, Transaction};
use crate::checkpoint::Checkpoint;
use crate::config::{DmlOp, IncrementalValidationAlert, ThresholdAlert};
use crate::error::Result;
use crate::filter::DmlOps;
use crate::precheck::PrecheckReport;
use crate::schema::{SchemaRef, TableId, TableSchema};
use crate::sink::{ConflictingTables, ExistingRows, Sink};
use crate::task::{Alert, AlertHook};
use crate::value::Value;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How incremental verification runs.
#[derive(Clone, Debug, PartialEq)]
pub struct IncrementalOptions {
    /// Operations verified.
    pub ops: DmlOps,
    /// Delay before a key is first checked.
    pub settle: Duration,
    /// Lag window: a key that still differs this long after it was applied is inconsistent.
    pub window: Duration,
    /// Keys waiting at most; further keys are counted as dropped, not verified.
    pub max_pending: usize,
    /// Inconsistent keys listed in the report.
    pub max_listed: usize,
    /// How often pending keys are checked.
    pub tick: Duration,
}

impl Default for IncrementalOptions {
    fn default() -> Self {
        Self {
            ops: DmlOps::ALL,
            settle: Duration::from_secs(1),
            window: Duration::from_secs(30),
            max_pending: 100_000,
            max_listed: 1_000,
            tick: Duration::from_millis(500),
        }
    }
}

/// The operations of a `[validation] incremental_ops` set.
pub fn dml_ops(set: &crate::config::DmlOpSet) -> DmlOps {
    DmlOps {
        insert: set.contains(DmlOp::Insert),
        update: set.contains(DmlOp::Update),
        delete: set.contains(DmlOp::Delete),
    }
}

/// One row found inconsistent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncrementalInconsistency {
    /// Destination table.
    pub table: TableId,
    /// Key values.
    pub key: Vec<Value>,
    /// The operation that was verified.
    pub op: RowOp,
}

/// Incremental verification figures since it started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncrementalReport {
    /// Keys verified (consistent or not).
    pub checked: u64,
    /// Keys found equal on both sides.
    pub consistent: u64,
    /// Keys still different when their window ended.
    pub inconsistent: u64,
    /// Keys waiting to be verified.
    pub pending: u64,
    /// Keys not verified because too many were pending.
    pub dropped: u64,
    /// Inconsistent keys, up to the limit.
    pub inconsistencies: Vec<IncrementalInconsistency>,
    /// Errors of verification rounds (the keys are retried).
    pub errors: Vec<String>,
}

struct Pending {
    table: TableId,
    key: Vec<Value>,
    op: RowOp,
    seen: Instant,
}

#[derive(Default)]
struct State {
    pending: HashMap<(TableId, String), Pending>,
    report: IncrementalReport,
    period_inconsistent: u64,
    period_latency_ms: u64,
}

/// Counts consecutive periods at or above a threshold; fires once per excursion.
#[derive(Debug)]
struct ThresholdWatch {
    rule: ThresholdAlert,
    over: u32,
    fired: bool,
}

impl ThresholdWatch {
    fn check(&mut self, value: u64) -> Option<u32> {
        if value >= self.rule.threshold {
            self.over += 1;
            if self.over >= self.rule.periods.max(1) && !self.fired {
                self.fired = true;
                return Some(self.over);
            }
        } else {
            self.over = 0;
            self.fired = false;
        }
        None
    }
}

/// Verifies applied changes by re-reading their keys on both sides.
pub struct IncrementalVerifier {
    source: Arc<dyn VerifyReader>,
    destination: Arc<dyn VerifyReader>,
    plans: Mutex<HashMap<TableId, Arc<TablePlan>>>,
    options: IncrementalOptions,
    state: Mutex<State>,
    alerts: Option<(Arc<dyn AlertHook>, String, IncrementalValidationAlert)>,
}

impl IncrementalVerifier {
    /// A verifier over these readers; `plans` say how each destination table is compared.
    pub fn new(
        source: Arc<dyn VerifyReader>,
        destination: Arc<dyn VerifyReader>,
        plans: Vec<TablePlan>,
        options: IncrementalOptions,
    ) -> Self {
        let v = Self {
            source,
            destination,
            plans: Mutex::new(HashMap::new()),
            options,
            state: Mutex::new(State::default()),
            alerts: None,
        };
        v.set_plans(plans);
        v
    }

    /// Fires the guide's incremental verification alerts through `hook` (checked by
    /// [`IncrementalVerifier::spawn`] once per configured period).
    pub fn with_alerts(
        mut self,
        hook: Arc<dyn AlertHook>,
        task_id: impl Into<String>,
        alert: IncrementalValidationAlert,
    ) -> Self {
        self.alerts = Some((hook, task_id.into(), alert));
        self
    }

    /// Replaces the table plans (after tables were added or changed).
    pub fn set_plans(&self, plans: Vec<TablePlan>) {
        if let Ok(mut p) = self.plans.lock() {
            *p = plans
                .into_iter()
                .filter(|p| p.destination.is_some())
                .map(|p| (p.destination_id.clone(), Arc::new(p)))
                .collect();
        }
    }

    /// Records the keys an applied batch touched (changes under destination names).
    pub fn observe(&self, batch: &[Transaction]) {
        let plans = match self.plans.lock() {
            Ok(p) => p,
            Err(_) => return,
        };
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        for txn in batch {
            for change in &txn.changes {
                let Change::Row(r) = change else { continue };
                if !self.options.ops.allows(r.op) {
                    continue;
                }
                let Some(plan) = plans.get(r.table()) else {
                    continue;
                };
                let Some(side) = &plan.destination else {
                    continue;
                };
                let idx: Option<Vec<usize>> =
                    side.key.iter().map(|k| r.schema.column_index(k)).collect();
                let Some(idx) = idx else { continue };
                for image in [&r.before, &r.after].into_iter().flatten() {
                    let key: Vec<Value> = idx.iter().map(|i| image[*i].clone()).collect();
                    let k = (r.table().clone(), key_text(&key));
                    if state.pending.contains_key(&k) {
                        continue;
                    }
                    if state.pending.len() >= self.options.max_pending {
                        state.report.dropped += 1;
                        continue;
                    }
                    state.pending.insert(
                        k,
                        Pending {
                            table: r.table().clone(),
                            key,
                            op: r.op,
                            seen: now,
                        },
                    );
                }
            }
        }
        state.report.pending = state.pending.len() as u64;
    }

    /// The figures so far.
    pub fn report(&self) -> IncrementalReport {
        self.state
            .lock()
            .map(|s| s.report.clone())
            .unwrap_or_default()
    }

    /// Keys waiting to be verified.
    pub fn pending(&self) -> usize {
        self.state.lock().map(|s| s.pending.len()).unwrap_or(0)
    }

    /// Checks every key whose settle delay has passed.
    pub async fn check_due(&self) -> Result<()> {
        let now = Instant::now();
        let due: Vec<(TableId, Vec<Value>)> = {
            let Ok(state) = self.state.lock() else {
                return Ok(());
            };
            state
                .pending
                .values()
                .filter(|p| now.duration_since(p.seen) >= self.options.settle)
                .map(|p| (p.table.clone(), p.key.clone()))
                .collect()
        };
        let mut by_table: HashMap<TableId, Vec<Vec<Value>>> = HashMap::new();
        for (t, k) in due {
            by_table.entry(t).or_default().push(k);
        }
        for (table, keys) in by_table {
            let plan = self.plans.lock().ok().and_then(|p| p.get(&table).cloned());
            let Some(plan) = plan else { continue };
            let Some(dest) = &plan.destination else {
                continue;
            };
            for keys in keys.chunks(500) {
                let (s, d) = tokio::join!(
                    self.source.digests_for_keys(&plan.source, keys),
                    self.destination.digests_for_keys(dest, keys)
                );
                let (s, d) = (s?, d?);
                self.settle(&table, keys, &s, &d);
            }
        }
        Ok(())
    }

    fn settle(&self, table: &TableId, keys: &[Vec<Value>], s: &[RowDigest], d: &[RowDigest]) {
        let map = |v: &[RowDigest]| -> HashMap<String, String> {
            v.iter()
                .map(|r| (key_text(&r.key), r.digest.clone()))
                .collect()
        };
        let (s, d) = (map(s), map(d));
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        for key in keys {
            let kt = key_text(key);
            let equal = s.get(&kt) == d.get(&kt);
            let k = (table.clone(), kt);
            let Some(p) = state.pending.get(&k) else {
                continue;
            };
            let age = now.duration_since(p.seen);
            if equal {
                state.pending.remove(&k);
                state.report.checked += 1;
                state.report.consistent += 1;
                state.period_latency_ms = state.period_latency_ms.max(age.as_millis() as u64);
            } else if age >= self.options.window {
                let Some(p) = state.pending.remove(&k) else {
                    continue;
                };
                state.report.checked += 1;
                state.report.inconsistent += 1;
                state.period_inconsistent += 1;
                state.period_latency_ms = state.period_latency_ms.max(age.as_millis() as u64);
                if state.report.inconsistencies.len() < self.options.max_listed {
                    state.report.inconsistencies.push(IncrementalInconsistency {
                        table: p.table,
                        key: p.key,
                        op: p.op,
                    });
                }
            }
        }
        state.report.pending = state.pending.len() as u64;
    }

    /// Checks until nothing is pending or `limit` passes (for hosts that stop and for tests).
    pub async fn drain(&self, limit: Duration) -> Result<()> {
        let end = Instant::now() + limit;
        while self.pending() > 0 && Instant::now() < end {
            self.check_due().await?;
            tokio::time::sleep(self.options.tick).await;
        }
        Ok(())
    }

    /// Runs verification rounds every `tick` and the alert periods, until aborted.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.options.tick);
            let mut watches = self.watches();
            let mut failed_fired = false;
            loop {
                tick.tick().await;
                if let Err(e) = self.check_due().await {
                    tracing::warn!(error = %e, "incremental verification round failed");
                    if let Ok(mut s) = self.state.lock() {
                        if s.report.errors.len() < 100 {
                            s.report.errors.push(e.to_string());
                        }
                    }
                    if let Some((hook, task_id, alert)) = &self.alerts {
                        if alert.on_failure && !failed_fired {
                            failed_fired = true;
                            hook.fire(&Alert::IncrementalVerification {
                                task_id: task_id.clone(),
                                metric: "failed".into(),
                                value: 0,
                                threshold: 0,
                                periods: 0,
                            })
                            .await;
                        }
                    }
                }
                self.check_periods(&mut watches).await;
            }
        })
    }

    #[allow(clippy::type_complexity)]
    fn watches(&self) -> Vec<(&'static str, ThresholdWatch, Duration, Instant)> {
        let Some((_, _, alert)) = &self.alerts else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, rule) in [
            ("inconsistent_count", &alert.inconsistent_count),
            ("latency", &alert.latency),
        ] {
            if let Some(rule) = rule {
                let period = Duration::from_secs(u64::from(rule.period_minutes.max(1)) * 60);
                out.push((
                    name,
                    ThresholdWatch {
                        rule: rule.clone(),
                        over: 0,
                        fired: false,
                    },
                    period,
                    Instant::now() + period,
                ));
            }
        }
        out
    }

    async fn check_periods(
        &self,
        watches: &mut [(&'static str, ThresholdWatch, Duration, Instant)],
    ) {
        let Some((hook, task_id, _)) = &self.alerts else {
            return;
        };
        let now = Instant::now();
        for (name, watch, period, next) in watches.iter_mut() {
            if now < *next {
                continue;
            }
            *next = now + *period;
            let value = match self.state.lock() {
                Ok(mut s) => {
                    if *name == "latency" {
                        std::mem::take(&mut s.period_latency_ms) / 1000
                    } else {
                        std::mem::take(&mut s.period_inconsistent)
                    }
                }
                Err(_) => continue,
            };
            if let Some(periods) = watch.check(value) {
                hook.fire(&Alert::IncrementalVerification {
                    task_id: task_id.clone(),
                    metric: (*name).to_string(),
                    value,
                    threshold: watch.rule.threshold,
                    periods,
                })
                .await;
            }
        }
    }
}

/// A [`Sink`] that forwards everything to `inner` and tells an [`IncrementalVerifier`] which
/// keys each applied batch touched.
pub struct VerifyingSink {
    inner: Arc<dyn Sink>,
    verifier: Arc<IncrementalVerifier>,
}

impl VerifyingSink {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Sink>, verifier: Arc<IncrementalVerifier>) -> Self {
        Self { inner, verifier }
    }
}

#[async_trait]
impl Sink for VerifyingSink {
    async fn precheck(&self, tables: &[TableSchema], mode: ConflictingTables) -> PrecheckReport {
        self.inner.precheck(tables, mode).await
    }

    async fn apply_schema(&self, schema: &TableSchema) -> Result<()> {
        self.inner.apply_schema(schema).await
    }

    async fn apply_schema_for_copy(&self, schema: &TableSchema) -> Result<()> {
        self.inner.apply_schema_for_copy(schema).await
    }

    async fn finish_copy(&self, schema: &TableSchema) -> Result<()> {
        self.inner.finish_copy(schema).await
    }

    fn holds_foreign_keys(&self) -> bool {
        self.inner.holds_foreign_keys()
    }

    fn supports_derived_changes(&self) -> std::result::Result<(), String> {
        self.inner.supports_derived_changes()
    }

    async fn missing_tables(
        &self,
        tables: &[TableSchema],
    ) -> Result<Option<Vec<crate::schema::TableId>>> {
        self.inner.missing_tables(tables).await
    }

    async fn write_rows(
        &self,
        schema: &SchemaRef,
        rows: Vec<Row>,
        existing: ExistingRows,
    ) -> Result<()> {
        self.inner.write_rows(schema, rows, existing).await
    }

    async fn reset_table(&self, schema: &TableSchema) -> Result<()> {
        self.inner.reset_table(schema).await
    }

    async fn apply_ddl(&self, ddl: &Ddl) -> Result<()> {
        self.inner.apply_ddl(ddl).await
    }

    async fn apply(&self, batch: &[Transaction], checkpoint: &Checkpoint) -> Result<()> {
        self.inner.apply(batch, checkpoint).await?;
        self.verifier.observe(batch);
        Ok(())
    }

    async fn read_checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.inner.read_checkpoint().await
    }

    async fn flush(&self) -> Result<()> {
        self.inner.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_watch_needs_consecutive_periods() {
        let mut w = ThresholdWatch {
            rule: ThresholdAlert {
                threshold: 5,
                period_minutes: 1,
                periods: 2,
            },
            over: 0,
            fired: false,
        };
        assert_eq!(w.check(7), None);
        assert_eq!(w.check(1), None);
        assert_eq!(w.check(5), None);
        assert_eq!(w.check(9), Some(2));
        assert_eq!(w.check(9), None);
    }
}
