//! Incremental Write: replays the source's stream from the checkpoint, in batches, forever.

use super::mapping::Mapper;
use super::progress::RateMeter;
use super::retry::RetryWindow;
use super::{now_ms, Task};
use crate::cascade::CascadeGraph;
use crate::change::{Change, DdlKind, StreamEvent, Transaction};
use crate::checkpoint::{Checkpoint, TaskState};
use crate::error::{Error, Result};
use crate::position::Position;
use crate::schema::TableId;
use crate::stage::Stage;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::time::Instant;

/// Where the stream resumes and how many changes of the first transaction are already applied.
#[derive(Clone, Debug)]
struct Resume {
    position: Position,
    skip_changes: u64,
}

impl Task {
    pub(crate) async fn incremental(&self, state: &TaskState) -> Result<()> {
        let start = state
            .start_position
            .clone()
            .ok_or_else(|| Error::definite("task", "no start position recorded"))?;
        // Changes of key-less tables already in their consistent snapshot are not replayed.
        let snapshots: HashMap<TableId, Position> = state
            .tables
            .iter()
            .filter_map(|(k, p)| {
                let (db, t) = k.split_once('.')?;
                Some((TableId::new(db, t), p.snapshot_position.clone()?))
            })
            .collect();
        let mut mapper = Mapper::new(self.filter.clone()).with_etl(self.etl.clone());
        let retry = self.retry_window();
        if self.options.cascade_foreign_keys {
            let graph = self
                .with_retry("read source foreign keys", || self.cascade_graph())
                .await?;
            mapper.set_cascades(Some(graph));
        }
        let mut meter = RateMeter::new(5_000);
        loop {
            // Each attempt resumes from the checkpoint the sink stored with the last batch.
            let resume = self.resume_point(&start).await;
            let result = match resume {
                Ok(resume) => {
                    self.replay(resume, &snapshots, &mut mapper, &retry, &mut meter)
                        .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) => self.retry_failed(INCREMENTAL, &retry, e).await?,
            }
        }
    }

    /// The sink's checkpoint when it is past the start position, else the start position.
    async fn resume_point(&self, start: &Position) -> Result<Resume> {
        Ok(match self.sink.read_checkpoint().await? {
            Some(cp) if cp.position.coordinates_cmp(start).is_ge() => Resume {
                position: cp.position,
                skip_changes: cp.applied_in_transaction,
            },
            _ => Resume {
                position: start.clone(),
                skip_changes: 0,
            },
        })
    }

    async fn replay(
        &self,
        resume: Resume,
        snapshots: &HashMap<TableId, Position>,
        mapper: &mut Mapper,
        retry: &StdMutex<RetryWindow>,
        meter: &mut RateMeter,
    ) -> Result<()> {
        let stream = self.source.stream(resume.position.clone()).await?;
        let mut chunks = stream.ready_chunks(self.options.batch_max_transactions.max(1));
        let mut skip_changes = resume.skip_changes;
        let mut skip_for = Some(resume.position.clone());
        let mut last_checkpoint_write = Instant::now();
        loop {
            self.check_control(Stage::IncrementalWrite).await?;
            let next = tokio::select! {
                n = chunks.next() => n,
                _ = self.control_changed() => continue,
            };
            let Some(mut events) = next else {
                return Err(Error::Connection {
                    endpoint: "source".into(),
                    message: "change stream ended".into(),
                    cause: None,
                });
            };
            // While a backlog streams in, gather a larger round: each apply round has a fixed
            // cost, so small rounds cap catch-up speed. Gathering lasts at most `LINGER`, so
            // latency grows by no more than that.
            let mut rows = round_rows(&events);
            let gather_until = tokio::time::Instant::now() + LINGER;
            while rows < self.options.batch_max_rows
                && events.len() < self.options.batch_max_transactions
            {
                match tokio::time::timeout_at(gather_until, chunks.next()).await {
                    Ok(Some(more)) => {
                        rows += round_rows(&more);
                        events.extend(more);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            let mut pending: Vec<(Transaction, Checkpoint)> = Vec::new();
            let mut checkpoint: Option<Checkpoint> = None;
            // Source time of the newest event seen: a commit time, or a heartbeat's time.
            let mut source_time_ms = 0u64;
            for event in events {
                match event? {
                    StreamEvent::Transaction(mut txn) => {
                        let source_changes = txn.fragment.first_change + txn.changes.len() as u64;
                        // Resuming inside a large transaction: drop what is already applied.
                        if skip_changes > 0 && skip_for.as_ref() == Some(&txn.begin) {
                            let already = skip_changes.saturating_sub(txn.fragment.first_change);
                            let n = (already as usize).min(txn.changes.len());
                            txn.changes.drain(..n);
                            if txn.fragment.last {
                                skip_changes = 0;
                                skip_for = None;
                            }
                        }
                        let after = checkpoint_after(&txn, source_changes);
                        let after_commit_ms = after.commit_time_ms;
                        checkpoint = Some(after.clone());
                        let end = txn.end.clone();
                        let skip = |t: &TableId| {
                            snapshots
                                .get(t)
                                .is_some_and(|p| end.coordinates_cmp(p).is_le())
                        };
                        let refresh = self.options.cascade_foreign_keys
                            && txn.changes.iter().any(|c| match c {
                                Change::Ddl(d) => may_change_foreign_keys(d.kind),
                                _ => false,
                            });
                        if let Some(mapped) = mapper.map_transaction(txn, &skip)? {
                            pending.push((mapped, after));
                        }
                        if refresh {
                            // The transactions after this DDL cascade by the new keys.
                            mapper.set_cascades(Some(self.cascade_graph().await?));
                        }
                        source_time_ms = source_time_ms.max(after_commit_ms);
                    }
                    StreamEvent::Heartbeat { position, time_ms } => {
                        source_time_ms = source_time_ms.max(time_ms);
                        let commit_time_ms = checkpoint
                            .as_ref()
                            .map(|c| c.commit_time_ms)
                            .unwrap_or(time_ms);
                        checkpoint = Some(Checkpoint {
                            position,
                            last_gtid: checkpoint.as_ref().and_then(|c| c.last_gtid.clone()),
                            commit_time_ms,
                            applied_in_transaction: 0,
                        });
                    }
                }
            }
            let Some(checkpoint) = checkpoint else {
                continue;
            };
            if pending.is_empty() {
                // Only skipped changes or heartbeats: persist progress now and then.
                if last_checkpoint_write.elapsed() >= self.options.idle_checkpoint_interval {
                    self.sink.apply(&[], &checkpoint).await?;
                    last_checkpoint_write = Instant::now();
                }
                self.report_applied(&checkpoint, source_time_ms, meter, (0, 0));
            } else {
                let applied = self.apply_in_batches(pending, &checkpoint).await?;
                last_checkpoint_write = Instant::now();
                self.report_applied(&checkpoint, source_time_ms, meter, applied);
            }
            self.retry_succeeded(INCREMENTAL, retry);
        }
    }

    /// Applies transactions in sink batches of about `batch_max_rows` row changes, each batch
    /// with the checkpoint of its own last transaction (the last batch with `last`, which may
    /// also cover skipped changes after it). Returns the row changes applied and their
    /// approximate bytes.
    async fn apply_in_batches(
        &self,
        txns: Vec<(Transaction, Checkpoint)>,
        last: &Checkpoint,
    ) -> Result<(u64, u64)> {
        let limit = self.options.batch_max_rows.max(1);
        let total = txns.len();
        let mut batch: Vec<Transaction> = Vec::new();
        let mut batch_checkpoint: Option<Checkpoint> = None;
        let mut rows = 0usize;
        let mut applied = (0u64, 0u64);
        for (i, (txn, cp)) in txns.into_iter().enumerate() {
            let n = txn.changes.len();
            if let Some(cp) = batch_checkpoint.take().filter(|_| rows + n > limit) {
                self.throttle_batch(&batch).await;
                self.sink.apply(&batch, &cp).await?;
                let (r, b) = self.count_applied(&batch);
                applied = (applied.0 + r, applied.1 + b);
                batch.clear();
                rows = 0;
            }
            rows += n;
            batch.push(txn);
            batch_checkpoint = Some(cp);
            if i + 1 == total {
                self.throttle_batch(&batch).await;
                self.sink.apply(&batch, last).await?;
                let (r, b) = self.count_applied(&batch);
                applied = (applied.0 + r, applied.1 + b);
            }
        }
        Ok(applied)
    }

    async fn throttle_batch(&self, batch: &[Transaction]) {
        let mut rows = 0u64;
        let mut bytes = 0u64;
        for t in batch {
            for c in &t.changes {
                match c {
                    Change::Row(r) => {
                        rows += 1;
                        bytes += r.approx_size() as u64;
                    }
                    Change::Derived(d) => {
                        rows += 1;
                        bytes += d.approx_size() as u64;
                    }
                    Change::Ddl(_) => {}
                }
            }
        }
        self.incremental_throttle.rows(rows, bytes).await;
    }

    /// Counts an applied batch: returns its row changes and their approximate bytes.
    fn count_applied(&self, batch: &[Transaction]) -> (u64, u64) {
        let rows: u64 = batch.iter().map(|t| t.row_count() as u64).sum();
        let bytes: u64 = batch
            .iter()
            .flat_map(|t| t.changes.iter())
            .map(|c| match c {
                Change::Row(r) => r.approx_size() as u64,
                _ => 0,
            })
            .sum();
        let txns = batch.iter().filter(|t| t.fragment.last).count() as u64;
        let task = self.options.task_id.clone();
        metrics::counter!("dts_incremental_rows_applied_total", "task" => task.clone())
            .increment(rows);
        metrics::counter!("dts_incremental_bytes_applied_total", "task" => task.clone())
            .increment(bytes);
        metrics::counter!("dts_incremental_transactions_applied_total", "task" => task)
            .increment(txns);
        self.progress.send_modify(|p| {
            p.incremental.rows_applied += rows;
            p.incremental.bytes_applied += bytes;
            p.incremental.transactions_applied += txns;
        });
        (rows, bytes)
    }

    /// Publishes figures after a round. Latency is now minus the source time of the newest
    /// event applied or passed (binlog time stamps have one-second resolution, so a caught-up
    /// task shows under about a second).
    fn report_applied(
        &self,
        checkpoint: &Checkpoint,
        source_time_ms: u64,
        meter: &mut RateMeter,
        (rows, bytes): (u64, u64),
    ) {
        let now = now_ms();
        let (rate, bytes_rate) = meter.record_pair(now, rows, bytes);
        let latency = now.saturating_sub(source_time_ms.max(checkpoint.commit_time_ms));
        metrics::gauge!("dts_incremental_latency_ms", "task" => self.options.task_id.clone())
            .set(latency as f64);
        self.progress.send_modify(|p| {
            let inc = &mut p.incremental;
            inc.latency_ms = now.saturating_sub(source_time_ms.max(checkpoint.commit_time_ms));
            inc.rows_per_s = rate;
            inc.bytes_per_s = bytes_rate;
            inc.position = checkpoint.position.to_string();
            if inc.latency_ms < CAUGHT_UP_MS {
                inc.caught_up = true;
            }
        });
    }

    /// The source's cascading foreign keys over its current tables.
    async fn cascade_graph(&self) -> Result<Arc<CascadeGraph>> {
        let fks = self.source.foreign_keys().await?;
        if !fks.iter().any(|fk| fk.cascades()) {
            return Ok(Arc::new(CascadeGraph::default()));
        }
        let schemas = self.source.discover().await?;
        Ok(Arc::new(CascadeGraph::new(&fks, &schemas)))
    }

    async fn control_changed(&self) {
        let mut rx = self.control.subscribe();
        let _ = rx.changed().await;
    }
}

/// Whether a statement of this kind may add, drop or change foreign keys (or the tables they
/// join), so the cascade graph is read again after it.
fn may_change_foreign_keys(kind: DdlKind) -> bool {
    matches!(
        kind,
        DdlKind::CreateTable
            | DdlKind::AlterTable
            | DdlKind::DropTable
            | DdlKind::RenameTable
            | DdlKind::DropDatabase
            | DdlKind::Unparsed
    )
}

/// The operation name incremental write retries under.
const INCREMENTAL: &str = "incremental write";

/// Longest time spent gathering more of a backlog before an apply round starts.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// Row changes in a set of stream events.
fn round_rows(events: &[Result<StreamEvent>]) -> usize {
    events
        .iter()
        .map(|e| match e {
            Ok(StreamEvent::Transaction(t)) => t.changes.len(),
            _ => 0,
        })
        .sum()
}

/// Latency under which the task counts as caught up (binlog time stamps are whole seconds).
pub(crate) const CAUGHT_UP_MS: u64 = 2_000;

/// The checkpoint that a batch ending with `txn` commits; `source_changes` counts the source
/// changes of the transaction up to the end of this piece (before any filtering).
fn checkpoint_after(txn: &Transaction, source_changes: u64) -> Checkpoint {
    if txn.fragment.last {
        Checkpoint {
            position: txn.end.clone(),
            last_gtid: txn.gtid.clone(),
            commit_time_ms: txn.commit_time_ms,
            applied_in_transaction: 0,
        }
    } else {
        Checkpoint {
            position: txn.begin.clone(),
            last_gtid: txn.gtid.clone(),
            commit_time_ms: txn.commit_time_ms,
            applied_in_transaction: source_changes,
        }
    }
}
