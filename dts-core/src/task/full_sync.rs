//! Full Data Sync: copies existing rows, table by table, resumable at the chunk.

use super::mapping::Routed;
use super::progress::{RateMeter, TableStatus};
use super::retry::RetryWindow;
use super::{now_ms, Task};
use crate::change::Row;
use crate::checkpoint::{TableProgress, TaskState};
use crate::error::{Error, Result};
use crate::schema::SchemaRef;
use crate::sink::{ConflictingTables, ExistingRows};
use crate::source::{Chunk, ChunkRequest};
use crate::stage::Stage;
use futures::{StreamExt, TryStreamExt};
use std::sync::{Arc, Mutex as StdMutex};
use tokio::sync::{mpsc, Mutex};
use tokio_stream::wrappers::ReceiverStream;

impl Task {
    fn existing_rows(&self) -> ExistingRows {
        match self.options.conflicting_tables {
            ConflictingTables::IgnoreErrorsAndProceed => ExistingRows::Keep,
            ConflictingTables::PrecheckAndReportErrors => ExistingRows::Replace,
        }
    }

    pub(crate) async fn full_sync(
        &self,
        tables: &[(SchemaRef, Routed)],
        state: TaskState,
    ) -> Result<TaskState> {
        for (source, _) in tables {
            let key = source.id.to_string();
            let done = state.tables.get(&key).cloned().unwrap_or_default();
            let estimate = self.source.estimate_rows(source).await.unwrap_or(0);
            self.progress.send_modify(|p| {
                p.tables.insert(
                    key,
                    TableStatus {
                        rows_done: done.rows_done,
                        rows_estimated: estimate.max(done.rows_done),
                        finished: done.finished,
                    },
                );
            });
        }
        let state = Arc::new(Mutex::new(state));
        let meter = Arc::new(StdMutex::new(RateMeter::new(5_000)));
        let copies: Vec<_> = tables
            .iter()
            .cloned()
            .map(|(source, routed)| {
                let state = state.clone();
                let meter = meter.clone();
                async move {
                    let operation = format!("full sync of {}", source.id);
                    let retry = self.retry_window();
                    let copy = TableCopy {
                        key: source.id.to_string(),
                        operation: &operation,
                        state: &state,
                        meter: &meter,
                        retry: &retry,
                    };
                    // Each attempt resumes from the table's saved progress: at the chunk after
                    // the last one recorded (keyed), or from a new snapshot (key-less).
                    loop {
                        let progress = state
                            .lock()
                            .await
                            .tables
                            .get(&copy.key)
                            .cloned()
                            .unwrap_or_default();
                        let result = if progress.finished {
                            Ok(())
                        } else if source.identity_columns().is_some() {
                            self.copy_keyed(&source, &routed, progress, &copy).await
                        } else {
                            self.copy_keyless(&source, &routed, progress, &copy).await
                        };
                        // Also for a table found finished: a crash may have come between its
                        // last rows and the end of `finish_copy`.
                        let result = match result {
                            Ok(()) => self.sink.finish_copy(&routed.destination).await,
                            Err(e) => Err(e),
                        };
                        match result {
                            Ok(()) => {
                                self.retry_succeeded(&operation, &retry);
                                return Ok::<(), Error>(());
                            }
                            Err(e) => self.retry_failed(&operation, &retry, e).await?,
                        }
                    }
                }
            })
            .collect();
        futures::stream::iter(copies)
            .buffer_unordered(self.options.table_concurrency.max(1))
            .try_collect::<()>()
            .await?;
        let state = state.lock().await.clone();
        Ok(state)
    }

    /// Records a written piece of a table in the saved state and the progress snapshot; a
    /// recorded piece ends the table's run of failures, if any.
    async fn record(
        &self,
        copy: &TableCopy<'_>,
        (rows, bytes): (u64, u64),
        update: impl FnOnce(&mut TableProgress),
    ) -> Result<()> {
        let (key, state, meter) = (copy.key.as_str(), copy.state, copy.meter);
        self.retry_succeeded(copy.operation, copy.retry);
        let mut s = state.lock().await;
        let progress = s.tables.entry(key.to_string()).or_default();
        progress.rows_done += rows;
        update(progress);
        let snapshot = progress.clone();
        self.store.save(&s).await?;
        drop(s);
        let rate = meter
            .lock()
            .map(|mut m| m.record_pair(now_ms(), rows, bytes))
            .unwrap_or((0.0, 0.0));
        let task = self.options.task_id.clone();
        metrics::counter!("dts_full_rows_copied_total", "task" => task.clone()).increment(rows);
        metrics::counter!("dts_full_bytes_copied_total", "task" => task).increment(bytes);
        self.progress.send_modify(|p| {
            let t = p.tables.entry(key.to_string()).or_default();
            t.rows_done = snapshot.rows_done;
            t.rows_estimated = t.rows_estimated.max(snapshot.rows_done);
            t.finished = snapshot.finished;
            p.full_rows_per_s = rate.0;
            p.full_bytes_per_s = rate.1;
            p.full_bytes_done += bytes;
            p.full_eta_s = p.estimate_full_eta();
        });
        Ok(())
    }

    fn project(&self, routed: &Routed, source: &SchemaRef, rows: Vec<Row>) -> Vec<Row> {
        let projected = rows.into_iter().map(|r| {
            let mut out = routed.route.project_row(r);
            self.filter.transform_row(source, &mut out);
            out
        });
        match &self.etl {
            None => projected.collect(),
            // Full-sync rows go through the ETL hook as INSERTs; what comes back as an INSERT
            // into the same table is written.
            Some(etl) => projected
                .flat_map(|row| {
                    etl.transform(crate::change::RowChange {
                        schema: routed.destination.clone(),
                        op: crate::change::RowOp::Insert,
                        before: None,
                        after: Some(row),
                    })
                })
                .filter(|c| {
                    c.op == crate::change::RowOp::Insert && c.schema.id == routed.destination.id
                })
                .filter_map(|c| c.after)
                .collect(),
        }
    }

    async fn copy_keyed(
        &self,
        source: &SchemaRef,
        routed: &Routed,
        progress: TableProgress,
        copy: &TableCopy<'_>,
    ) -> Result<()> {
        let state = copy.state;
        let key = &copy.key;
        let limit = self.options.chunk_rows.max(1);
        let request = ChunkRequest {
            schema: source.clone(),
            key_columns: source.identity_columns().unwrap_or_default().to_vec(),
            after: progress.last_key.clone(),
            limit,
            condition: routed.route.condition.clone(),
            columns: read_columns(routed),
        };
        // The reader runs ahead of the writers by a few chunks.
        let width = self.options.write_concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Result<(Chunk, bool)>>(width * 2);
        let reader_source = self.source.clone();
        let throttle = self.full_throttle.clone();
        let reader = tokio::spawn(async move {
            let mut request = request;
            loop {
                throttle.queries(1).await;
                let result = reader_source.read_chunk(&request).await;
                let (chunk, last) = match result {
                    Ok(chunk) => {
                        let last = chunk.is_last(request.limit);
                        (chunk, last)
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                request.after = chunk.last_key.clone();
                if tx.send(Ok((chunk, last))).await.is_err() || last {
                    return;
                }
            }
        });
        let existing = self.existing_rows();
        let mut writes = ReceiverStream::new(rx)
            .map(|item| {
                let sink = self.sink.clone();
                let destination = routed.destination.clone();
                async move {
                    let (chunk, last) = item?;
                    let rows = chunk.rows.len() as u64;
                    let projected = self.project(routed, source, chunk.rows);
                    let bytes = bytes_of(&projected);
                    self.full_throttle.rows(rows, bytes).await;
                    if !projected.is_empty() {
                        sink.write_rows(&destination, projected, existing).await?;
                    }
                    Ok::<_, Error>((chunk.last_key, (rows, bytes), last))
                }
            })
            .buffered(width);
        let result: Result<()> = async {
            while let Some(done) = writes.next().await {
                let (last_key, written, last) = done?;
                self.record(copy, written, |p| {
                    if last_key.is_some() {
                        p.last_key = last_key;
                    }
                    p.finished = last;
                })
                .await?;
                if last {
                    break;
                }
                self.check_control(Stage::FullDataSync).await?;
            }
            Ok(())
        }
        .await;
        drop(writes);
        reader.abort();
        result?;
        // A table that was empty past the cursor still ends as finished.
        let finished = state
            .lock()
            .await
            .tables
            .get(key)
            .is_some_and(|p| p.finished);
        if !finished {
            self.record(copy, (0, 0), |p| p.finished = true).await?;
        }
        Ok(())
    }

    async fn copy_keyless(
        &self,
        source: &SchemaRef,
        routed: &Routed,
        progress: TableProgress,
        copy: &TableCopy<'_>,
    ) -> Result<()> {
        let (key, state) = (copy.key.clone(), copy.state);
        if progress.snapshot_position.is_some() || progress.rows_done > 0 {
            // An interrupted copy: rows without a key cannot be matched, so start over from a
            // new consistent snapshot.
            self.sink.reset_table(&routed.destination).await?;
        }
        let mut read = self
            .source
            .read_consistent(
                source.clone(),
                routed.route.condition.clone(),
                read_columns(routed),
                self.options.chunk_rows.max(1),
            )
            .await?;
        let position = read.position.clone();
        {
            let mut s = state.lock().await;
            let p = s.tables.entry(key.clone()).or_default();
            p.rows_done = 0;
            p.snapshot_position = Some(position);
            self.store.save(&s).await?;
        }
        while let Some(batch) = read.rows.next().await {
            let batch = batch?;
            let rows = batch.len() as u64;
            let projected = self.project(routed, source, batch);
            let bytes = bytes_of(&projected);
            self.full_throttle.rows(rows, bytes).await;
            self.sink
                .write_rows(&routed.destination, projected, ExistingRows::Replace)
                .await?;
            self.record(copy, (rows, bytes), |_| {}).await?;
            self.check_control(Stage::FullDataSync).await?;
        }
        self.record(copy, (0, 0), |p| p.finished = true).await
    }
}

/// What the copy of one table shares between its attempts.
struct TableCopy<'a> {
    /// `db.table` of the source table (key of its saved progress).
    key: String,
    /// The operation name retries are published under.
    operation: &'a str,
    state: &'a Mutex<TaskState>,
    meter: &'a StdMutex<RateMeter>,
    retry: &'a StdMutex<RetryWindow>,
}

/// Approximate size of rows, for byte throttles.
pub(crate) fn bytes_of(rows: &[Row]) -> u64 {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(crate::value::Value::approx_size)
                .sum::<usize>() as u64
        })
        .sum()
}

/// The source columns a route needs (its column subset), for pushing into the read.
fn read_columns(routed: &Routed) -> Option<Vec<usize>> {
    routed
        .route
        .columns
        .as_ref()
        .map(|cols| cols.iter().map(|(i, _)| *i).collect())
}
