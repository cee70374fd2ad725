//! Full data verification: the guide's two modes over key-range chunks.
//!
//! - **Row count**: one `COUNT(*)` per table and side (row filter applied).
//! - **Full field, sampled**: the baseline side is cut into chunks of `chunk_rows` keys; a
//!   sampled chunk costs one server-side checksum per side (`parallel` chunks at a time). A
//!   chunk whose checksums differ is cut into `split_ways` pieces that are checksummed again,
//!   recursively, and only pieces of at most `leaf_rows` rows are compared row by row (keys and
//!   row digests, never row contents), so a few differences cost a few small transfers. Sampling picks
//!   whole chunks, evenly spread (see [`chunk_sampled`]); the last chunk is open-ended so
//!   destination rows past the source's last key are seen.
//!
//! Baselines, as the guide defines them: `union` reports missing, extra and different rows;
//! `source` checks the source's rows at the destination (extra destination rows are ignored);
//! `destination` checks the destination's rows at the source (rows missing at the destination
//! are ignored). Chunks are cut on the baseline's side.
//!
//! Reads are throttled (rows/s, MB/s, through [`Throttle`]) and bounded by an optional timeout,
//! after which the report is marked partial with what was verified so far.

use super::keys::{cmp_keys, key_text};
use super::plan::TablePlan;
use super::report::{DiffKind, Difference, SchemaDifference, TableReport, VerificationReport};
use super::schema_check::compare_schema;
use super::side::{pieces, ChunkSum, KeyRange, RepairDialect, RowDigest, SideTable, VerifyReader};
use crate::config::{
    FullValidationAlert, FullVerificationMode, ValidationConfig, VerificationBaseline,
};
use crate::error::{Error, Result};
use crate::filter::{Filter, TableRoute};
use crate::schema::TableSchema;
use crate::task::{Alert, AlertHook, Throttle, ThrottleSettings};
use crate::value::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a full verification runs.
#[derive(Clone, Debug, PartialEq)]
pub struct FullOptions {
    /// Row count or sampled full field (`None` verifies nothing).
    pub mode: FullVerificationMode,
    /// Percentage of chunks compared in full-field mode, 1–100.
    pub sampling_percent: u32,
    /// Which side's rows are checked.
    pub baseline: VerificationBaseline,
    /// Rows per chunk.
    pub chunk_rows: u64,
    /// Differing keys listed per table (counts stay exact beyond it).
    pub max_listed: usize,
    /// Read limits (rows/s, bytes/s) over both sides together.
    pub throttle: ThrottleSettings,
    /// End the run with a partial report after this long.
    pub timeout: Option<Duration>,
    /// Chunks compared at the same time.
    pub parallel: usize,
    /// A differing range of more rows than this is cut into `split_ways` pieces, each
    /// checksummed again, before rows are compared; smaller ones are compared row by row.
    pub leaf_rows: u64,
    /// Pieces a differing range is cut into.
    pub split_ways: u64,
}

impl Default for FullOptions {
    fn default() -> Self {
        Self {
            mode: FullVerificationMode::Sampled,
            sampling_percent: 100,
            baseline: VerificationBaseline::Union,
            chunk_rows: 10_000,
            max_listed: 1_000,
            throttle: ThrottleSettings::default(),
            timeout: None,
            parallel: 2,
            leaf_rows: 1_000,
            split_ways: 16,
        }
    }
}

impl FullOptions {
    /// The options a task's `[validation]` section sets (0 limits mean unlimited).
    pub fn from_config(v: &ValidationConfig) -> Self {
        let clamp = |n: u64| n.min(u64::from(u32::MAX)) as u32;
        Self {
            mode: v.full_mode,
            sampling_percent: v.sampling_percent.unwrap_or(100),
            baseline: v.baseline,
            throttle: ThrottleSettings {
                queries_per_s: None,
                rows_per_s: (v.max_rps > 0).then(|| clamp(v.max_rps)),
                bytes_per_s: (v.max_mbps > 0).then(|| v.max_mbps.saturating_mul(1 << 20)),
            },
            timeout: v
                .timeout_hours
                .map(|h| Duration::from_secs(u64::from(h) * 3600)),
            ..Default::default()
        }
    }
}

/// Whether chunk `index` (0-based) is compared at `percent` sampling: exactly `percent` of
/// every hundred consecutive chunks, evenly spread; every chunk at 100.
pub fn chunk_sampled(index: u64, percent: u32) -> bool {
    let p = u64::from(percent.min(100));
    p >= 100 || (index + 1) * p / 100 > index * p / 100
}

/// One source table to verify: its schema, route and masked source columns.
#[derive(Clone, Debug)]
pub struct VerifyTarget {
    /// The source table.
    pub schema: TableSchema,
    /// How the task synchronizes it.
    pub route: TableRoute,
    /// Masked source columns (left out of the compare).
    pub masked: Vec<String>,
}

/// Runs full and schema verification between two readers.
pub struct Verifier {
    source: Arc<dyn VerifyReader>,
    destination: Arc<dyn VerifyReader>,
    options: FullOptions,
    throttle: Throttle,
    alerts: Option<(Arc<dyn AlertHook>, String, FullValidationAlert)>,
}

enum Step<T> {
    Done(T),
    TimedOut,
}

async fn step<T>(deadline: Option<Instant>, f: impl Future<Output = Result<T>>) -> Result<Step<T>> {
    match deadline {
        None => f.await.map(Step::Done),
        Some(d) => match tokio::time::timeout_at(d.into(), f).await {
            Ok(r) => r.map(Step::Done),
            Err(_) => Ok(Step::TimedOut),
        },
    }
}

impl Verifier {
    /// A verifier comparing `destination` with `source`.
    pub fn new(
        source: Arc<dyn VerifyReader>,
        destination: Arc<dyn VerifyReader>,
        options: FullOptions,
    ) -> Self {
        Self {
            throttle: Throttle::new(options.throttle),
            source,
            destination,
            options,
            alerts: None,
        }
    }

    /// Fires the guide's full verification alerts for task `task_id` through `hook`.
    pub fn with_alerts(
        mut self,
        hook: Arc<dyn AlertHook>,
        task_id: impl Into<String>,
        alert: FullValidationAlert,
    ) -> Self {
        self.alerts = Some((hook, task_id.into(), alert));
        self
    }

    /// The read limits, changeable while verification runs.
    pub fn throttle(&self) -> Throttle {
        self.throttle.clone()
    }

    /// The options.
    pub fn options(&self) -> &FullOptions {
        &self.options
    }

    /// Plans every target against the destination as it stands. Targets that cannot be
    /// verified (no key, key not synchronized, unreadable destination) come back as errors
    /// naming the table.
    pub async fn plan(&self, targets: &[VerifyTarget]) -> (Vec<TablePlan>, Vec<String>) {
        let mut plans = Vec::new();
        let mut errors = Vec::new();
        for t in targets {
            let dest = match self.destination.describe(&t.route.destination).await {
                Ok(d) => d,
                Err(e) => {
                    errors.push(format!("{}: {e}", t.route.destination));
                    continue;
                }
            };
            match TablePlan::new(&t.schema, &t.route, &t.masked, dest.as_ref()) {
                Ok(p) => plans.push(p),
                Err(e) => errors.push(e),
            }
        }
        (plans, errors)
    }

    /// Schema verification: each target's expected destination schema (the source under the
    /// route) against the destination's actual one.
    /// The destination reader decides how the two are compared
    /// ([`VerifyReader::schema_view`]); what it leaves out is returned as notes (each once).
    pub async fn verify_schema(
        &self,
        targets: &[VerifyTarget],
    ) -> Result<(Vec<SchemaDifference>, Vec<String>)> {
        let mut out = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        for t in targets {
            let expected = t.route.destination_schema(&t.schema);
            let actual = self.destination.describe(&expected.id).await?;
            let view = self.destination.schema_view(expected, actual);
            for n in view.not_compared {
                if !notes.contains(&n) {
                    notes.push(n);
                }
            }
            out.extend(compare_schema(&view.expected, view.actual.as_ref()));
        }
        Ok((out, notes))
    }

    /// Schema verification of views, routines, triggers and events: each object the task
    /// creates (`expected`, in destination names) must exist at the destination with its kind
    /// (a trigger on its table; an event disabled, as the task creates it). `None` when the
    /// destination reader compares no objects.
    pub async fn verify_objects(
        &self,
        expected: &[crate::schema_object::SchemaObject],
    ) -> Result<Option<Vec<SchemaDifference>>> {
        let mut by_db: std::collections::BTreeMap<&str, Vec<&crate::schema_object::SchemaObject>> =
            Default::default();
        for o in expected {
            by_db.entry(o.database.as_str()).or_default().push(o);
        }
        let mut out = Vec::new();
        for (db, objects) in by_db {
            let Some(actual) = self.destination.schema_objects(db).await? else {
                return Ok(None);
            };
            for o in objects {
                let diff = |expected: String, actual: String| SchemaDifference {
                    table: o.id(),
                    object: o.kind.noun().to_string(),
                    expected,
                    actual,
                };
                match actual.iter().find(|a| a.kind == o.kind && a.name == o.name) {
                    None => out.push(diff("exists".into(), "missing".into())),
                    Some(a) if a.table != o.table => out.push(diff(
                        format!("on table {}", o.table.as_deref().unwrap_or("?")),
                        format!("on table {}", a.table.as_deref().unwrap_or("?")),
                    )),
                    Some(a) if o.kind == crate::schema_object::ObjectKind::Event && a.enabled => {
                        out.push(diff(
                            "disabled until the cutover".into(),
                            "enabled (it may run twice while the source is live)".into(),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(Some(out))
    }

    /// Plans and verifies `targets` (and their schemas when `schema` is set), then fires
    /// alerts.
    pub async fn run(&self, targets: &[VerifyTarget], schema: bool) -> VerificationReport {
        let started = Instant::now();
        let (plans, plan_errors) = self.plan(targets).await;
        let mut report = if self.options.mode == FullVerificationMode::None {
            VerificationReport {
                mode: FullVerificationMode::None,
                baseline: self.options.baseline,
                ..Default::default()
            }
        } else {
            self.verify(&plans).await
        };
        report.errors.extend(plan_errors);
        if schema {
            match self.verify_schema(targets).await {
                Ok((s, notes)) => {
                    report.schema = s;
                    report.schema_notes = notes;
                }
                Err(e) => report.errors.push(format!("schema verification: {e}")),
            }
        }
        if !report.errors.is_empty() {
            report.partial = true;
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        self.fire_alerts(&report).await;
        report
    }

    /// Full data verification of planned tables, without alerts.
    pub async fn verify(&self, plans: &[TablePlan]) -> VerificationReport {
        let started = Instant::now();
        let deadline = self.options.timeout.map(|t| started + t);
        let bytes_before = self.source.bytes_transferred() + self.destination.bytes_transferred();
        let mut report = VerificationReport {
            mode: self.options.mode,
            baseline: self.options.baseline,
            sampling_percent: match self.options.mode {
                FullVerificationMode::Sampled => self.options.sampling_percent.clamp(1, 100),
                _ => 0,
            },
            ..Default::default()
        };
        for plan in plans {
            let mut table = TableReport {
                source: Some(plan.source_schema.id.clone()),
                destination: Some(plan.destination_id.clone()),
                key_columns: plan.source.key.clone(),
                notes: plan.notes.clone(),
                ..Default::default()
            };
            if report.timed_out {
                table
                    .notes
                    .push("not verified: the timeout ended verification".into());
                report.tables.push(table);
                continue;
            }
            let result = match self.options.mode {
                FullVerificationMode::RowCount => self.row_count(plan, deadline, &mut table).await,
                FullVerificationMode::Sampled => self.sampled(plan, deadline, &mut table).await,
                FullVerificationMode::None => Ok(true),
            };
            match result {
                Ok(true) => table.complete = true,
                Ok(false) => {
                    report.timed_out = true;
                    report.partial = true;
                    table
                        .notes
                        .push("the timeout ended verification of this table".into());
                }
                Err(e) => {
                    report.partial = true;
                    let msg = format!("{}: {e}", plan.source_schema.id);
                    table.notes.push(msg.clone());
                    report.errors.push(msg);
                }
            }
            report.tables.push(table);
        }
        report.bytes_transferred = (self.source.bytes_transferred()
            + self.destination.bytes_transferred())
        .saturating_sub(bytes_before);
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report
    }

    async fn fire_alerts(&self, report: &VerificationReport) {
        let Some((hook, task_id, alert)) = &self.alerts else {
            return;
        };
        if alert.on_failure && !report.errors.is_empty() {
            hook.fire(&Alert::VerificationFailed {
                task_id: task_id.clone(),
                reason: report.errors.join("; "),
            })
            .await;
        }
        if let Some(threshold) = alert.inconsistency_threshold {
            let inconsistent = report.inconsistent();
            if inconsistent >= threshold {
                hook.fire(&Alert::VerificationInconsistent {
                    task_id: task_id.clone(),
                    inconsistent,
                    threshold,
                })
                .await;
            }
        }
    }

    fn destination_side<'a>(&self, plan: &'a TablePlan) -> Result<&'a SideTable> {
        plan.destination.as_ref().ok_or_else(|| Error::Other {
            object: plan.destination_id.to_string(),
            message: "the destination table does not exist".into(),
            cause: None,
        })
    }

    /// Row-count mode; `Ok(false)` when the timeout struck.
    async fn row_count(
        &self,
        plan: &TablePlan,
        deadline: Option<Instant>,
        table: &mut TableReport,
    ) -> Result<bool> {
        let dest = self.destination_side(plan)?;
        let counts = step(deadline, async {
            let (s, d) = tokio::join!(
                self.source.row_count(&plan.source),
                self.destination.row_count(dest)
            );
            Ok((s?, d?))
        })
        .await?;
        let Step::Done((s, d)) = counts else {
            return Ok(false);
        };
        if let Step::TimedOut = step(deadline, async {
            self.throttle.rows(s + d, 0).await;
            Ok(())
        })
        .await?
        {
            return Ok(false);
        }
        table.source_rows = Some(s);
        table.destination_rows = Some(d);
        let baseline = self.options.baseline;
        table.checked = match baseline {
            VerificationBaseline::Union => s.max(d),
            VerificationBaseline::Source => s,
            VerificationBaseline::Destination => d,
        };
        if baseline != VerificationBaseline::Destination {
            table.missing = s.saturating_sub(d);
        }
        if baseline != VerificationBaseline::Source {
            table.extra = d.saturating_sub(s);
        }
        Ok(true)
    }

    /// Full-field mode; `Ok(false)` when the timeout struck.
    async fn sampled(
        &self,
        plan: &TablePlan,
        deadline: Option<Instant>,
        table: &mut TableReport,
    ) -> Result<bool> {
        let dest = self.destination_side(plan)?;
        let (base_reader, base_side) = self.base(plan, dest);
        let chunk_rows = self.options.chunk_rows.max(1);
        let percent = self.options.sampling_percent.clamp(1, 100);
        let parallel = self.options.parallel.max(1);
        let mut after: Option<Vec<Value>> = None;
        let mut index = 0u64;
        let mut last = false;
        while !last {
            // Cut up to `parallel` sampled chunks, then compare them together.
            let mut batch = Vec::with_capacity(parallel);
            while batch.len() < parallel && !last {
                let boundary = step(
                    deadline,
                    base_reader.chunk_boundary(base_side, after.as_deref(), chunk_rows),
                )
                .await?;
                let Step::Done(upto) = boundary else {
                    return Ok(false);
                };
                last = upto.is_none();
                let range = KeyRange {
                    after: after.take(),
                    upto,
                };
                table.chunks += 1;
                if chunk_sampled(index, percent) {
                    batch.push(range.clone());
                }
                after = range.upto;
                index += 1;
            }
            let n = batch.len() as u64;
            let compared = step(deadline, async {
                let outcomes = futures::future::join_all(
                    batch
                        .into_iter()
                        .map(|r| self.compare_range(plan, dest, r, None)),
                )
                .await;
                outcomes.into_iter().collect::<Result<Vec<_>>>()
            })
            .await?;
            let Step::Done(outcomes) = compared else {
                return Ok(false);
            };
            table.chunks_checked += n;
            for o in outcomes {
                table.checked += o.checked;
                for d in o.differences {
                    match d.kind {
                        DiffKind::Missing => table.missing += 1,
                        DiffKind::Extra => table.extra += 1,
                        DiffKind::Different => table.different += 1,
                    }
                    if table.differences.len() < self.options.max_listed {
                        table.differences.push(d);
                    } else {
                        table.differences_truncated = true;
                    }
                }
            }
        }
        Ok(true)
    }

    /// The reader and side chunks are cut on (the baseline's side).
    fn base<'a>(
        &'a self,
        plan: &'a TablePlan,
        dest: &'a SideTable,
    ) -> (&'a Arc<dyn VerifyReader>, &'a SideTable) {
        match self.options.baseline {
            VerificationBaseline::Destination => (&self.destination, dest),
            _ => (&self.source, &plan.source),
        }
    }

    /// Compares one key range: checksums on both sides; when they differ, the range is cut
    /// into pieces that are compared the same way, down to `leaf_rows`, where keys and row
    /// digests are compared.
    fn compare_range<'a>(
        &'a self,
        plan: &'a TablePlan,
        dest: &'a SideTable,
        range: KeyRange,
        sums: Option<(ChunkSum, ChunkSum)>,
    ) -> futures::future::BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let (s, d) = match sums {
                Some(sums) => sums,
                None => {
                    let (s, d) = tokio::join!(
                        self.source.checksum(&plan.source, &range),
                        self.destination.checksum(dest, &range)
                    );
                    let (s, d) = (s?, d?);
                    self.throttle.rows(s.rows + d.rows, s.bytes + d.bytes).await;
                    (s, d)
                }
            };
            let base_rows = match self.options.baseline {
                VerificationBaseline::Destination => d.rows,
                _ => s.rows,
            };
            if s.rows == d.rows && s.checksum == d.checksum {
                return Ok(Outcome {
                    checked: base_rows,
                    differences: Vec::new(),
                });
            }
            let ways = self.options.split_ways.max(2);
            if base_rows > self.options.leaf_rows.max(1) {
                let (reader, side) = self.base(plan, dest);
                let every = base_rows.div_ceil(ways).max(1);
                let points = reader.split_points(side, &range, every).await?;
                if !points.is_empty() {
                    // One query per side checksums every piece.
                    let (ss, ds) = tokio::join!(
                        self.source.piece_checksums(&plan.source, &range, &points),
                        self.destination.piece_checksums(dest, &range, &points)
                    );
                    let (ss, ds) = (ss?, ds?);
                    let rows: u64 = ss.iter().chain(&ds).map(|c| c.rows).sum();
                    let bytes: u64 = ss.iter().chain(&ds).map(|c| c.bytes).sum();
                    self.throttle.rows(rows, bytes).await;
                    let mut out = Outcome::default();
                    for ((piece, s), d) in pieces(&range, &points).into_iter().zip(ss).zip(ds) {
                        let o = self.compare_range(plan, dest, piece, Some((s, d))).await?;
                        out.checked += o.checked;
                        out.differences.extend(o.differences);
                    }
                    return Ok(out);
                }
            }
            let (sr, dr) = tokio::join!(
                self.source.row_digests(&plan.source, &range),
                self.destination.row_digests(dest, &range)
            );
            let (sr, dr) = (sr?, dr?);
            let found = diff_digests(&sr, &dr, self.options.baseline);
            let checked = match self.options.baseline {
                VerificationBaseline::Union => sr.len() as u64 + found.extra_count(),
                VerificationBaseline::Source => sr.len() as u64,
                VerificationBaseline::Destination => dr.len() as u64,
            };
            Ok(Outcome {
                checked,
                differences: found.0,
            })
        })
    }

    /// Statements that make the destination match the source for the differing rows the report
    /// lists: an upsert of the source row (under the route's names, column subset and masking
    /// by `filter`) for each missing or different row, a delete for each extra row. A
    /// row-count report lists no keys and yields no statements; rows beyond a truncated list
    /// are found by the next run.
    pub async fn repair_sql(
        &self,
        plans: &[TablePlan],
        report: &VerificationReport,
        dialect: &dyn RepairDialect,
        filter: Option<&dyn Filter>,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for t in &report.tables {
            if t.differences.is_empty() {
                continue;
            }
            let Some(plan) = plans
                .iter()
                .find(|p| Some(&p.source_schema.id) == t.source.as_ref())
            else {
                continue;
            };
            let mut upserts: Vec<Vec<Value>> = t.keys(DiffKind::Missing);
            upserts.extend(t.keys(DiffKind::Different));
            upserts.sort_by(|a, b| cmp_keys(a, b));
            let expected = plan.route.destination_schema(&plan.source_schema);
            let writable: Vec<usize> = (0..expected.columns.len())
                .filter(|i| expected.columns[*i].generated.is_none())
                .collect();
            let dest_schema = TableSchema {
                columns: writable
                    .iter()
                    .map(|i| expected.columns[*i].clone())
                    .collect(),
                ..expected.clone()
            };
            for keys in upserts.chunks(500) {
                let rows = self
                    .source
                    .fetch_rows(&plan.source_schema, &plan.source.key, keys)
                    .await?;
                for row in rows {
                    let mut image = plan.route.project_row(row);
                    if let Some(f) = filter {
                        f.transform_row(&plan.source_schema, &mut image);
                    }
                    let image: Vec<Value> = writable.iter().map(|i| image[*i].clone()).collect();
                    out.push(dialect.upsert(&dest_schema, &image));
                }
            }
            let dest_key = match &plan.destination {
                Some(d) => d.key.clone(),
                None => expected.primary_key.clone(),
            };
            let mut extras = t.keys(DiffKind::Extra);
            extras.sort_by(|a, b| cmp_keys(a, b));
            for key in extras {
                out.push(dialect.delete(&plan.destination_id, &dest_key, &key));
            }
        }
        if !out.is_empty() {
            let mut all = dialect.preamble();
            all.extend(out);
            out = all;
        }
        Ok(out)
    }
}

/// What comparing one range found.
#[derive(Default)]
struct Outcome {
    checked: u64,
    differences: Vec<Difference>,
}

/// Differences found in one chunk, sorted by key.
struct Found(Vec<Difference>);

impl Found {
    fn extra_count(&self) -> u64 {
        self.0.iter().filter(|d| d.kind == DiffKind::Extra).count() as u64
    }
}

impl IntoIterator for Found {
    type Item = Difference;
    type IntoIter = std::vec::IntoIter<Difference>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Compares two sides' row digests under a baseline.
fn diff_digests(source: &[RowDigest], dest: &[RowDigest], baseline: VerificationBaseline) -> Found {
    let dest_by_key: HashMap<String, &RowDigest> =
        dest.iter().map(|d| (key_text(&d.key), d)).collect();
    let source_by_key: HashMap<String, &RowDigest> =
        source.iter().map(|d| (key_text(&d.key), d)).collect();
    let mut out = Vec::new();
    for s in source {
        match dest_by_key.get(&key_text(&s.key)) {
            None if baseline != VerificationBaseline::Destination => out.push(Difference {
                kind: DiffKind::Missing,
                key: s.key.clone(),
            }),
            Some(d) if d.digest != s.digest => out.push(Difference {
                kind: DiffKind::Different,
                key: s.key.clone(),
            }),
            _ => {}
        }
    }
    if baseline != VerificationBaseline::Source {
        for d in dest {
            if !source_by_key.contains_key(&key_text(&d.key)) {
                out.push(Difference {
                    kind: DiffKind::Extra,
                    key: d.key.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| cmp_keys(&a.key, &b.key));
    Found(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dig(k: i64, d: &str) -> RowDigest {
        RowDigest {
            key: vec![Value::Int(k)],
            digest: d.into(),
        }
    }

    #[test]
    fn sampling_spreads_exactly_percent() {
        for p in [10u32, 25, 50, 73, 100] {
            let n = (0..1000).filter(|i| chunk_sampled(*i, p)).count();
            assert_eq!(n, p as usize * 10, "{p}");
        }
        assert!(!chunk_sampled(0, 50) && chunk_sampled(1, 50));
    }

    #[test]
    fn digests_under_each_baseline() {
        let s = [dig(1, "a"), dig(2, "b"), dig(3, "c")];
        let d = [dig(2, "b"), dig(3, "X"), dig(4, "d")];
        let kinds = |b| {
            diff_digests(&s, &d, b)
                .into_iter()
                .map(|d| (d.kind, d.key[0].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(VerificationBaseline::Union),
            vec![
                (DiffKind::Missing, Value::Int(1)),
                (DiffKind::Different, Value::Int(3)),
                (DiffKind::Extra, Value::Int(4))
            ]
        );
        assert_eq!(
            kinds(VerificationBaseline::Source),
            vec![
                (DiffKind::Missing, Value::Int(1)),
                (DiffKind::Different, Value::Int(3))
            ]
        );
        assert_eq!(
            kinds(VerificationBaseline::Destination),
            vec![
                (DiffKind::Different, Value::Int(3)),
                (DiffKind::Extra, Value::Int(4))
            ]
        );
    }
}
