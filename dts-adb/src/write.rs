//! Batched writes: upserts (`INSERT … ON DUPLICATE KEY UPDATE` or `REPLACE INTO`) and deletes by
//! key (`DELETE … WHERE (keys) IN (…)`), buffered per table, coalesced per key and flushed when
//! a buffer reaches [`Limits::rows`] or [`Limits::bytes`], or when the oldest buffered change
//! has waited the sink's flush interval (see [`crate::AdbOptions::flush_interval`]). Buffers
//! outlive one `apply` call; after every flush of all buffers the checkpoint of the last
//! buffered round is committed.
//!
//! Within one buffer only the last change of each key is kept (an upsert carries the whole row,
//! so the last image decides the destination's state). A flush runs the buffer's deletes, then
//! its upserts, in statements of at most [`Limits::rows`] rows and 65 535 parameters, closed once
//! they reach [`Limits::bytes`]. Tables without a usable key (see [`crate::ddl`]) are not coalesced: their
//! inserts are batched, and their updates and deletes flush the buffer and then delete one
//! matching row (`… WHERE c1 <=> ? AND … LIMIT 1`).
//!
//! Values are bound as parameters with the same rules as the MySQL destination: sessions run
//! in `time_zone='+00:00'`, so TIMESTAMPs travel as their UTC wall-clock time; unsigned values
//! travel unsigned (exact in `DECIMAL(20,0)`), SET as its comma-joined members, GEOMETRY as
//! MySQL's internal bytes.

use crate::ddl::TableLayout;
use crate::ident::{quote_ident, quote_list, quote_table};
use dts_core::row_plan::RowPlan;
use dts_core::{RowChange, RowOp, SchemaRef, TableId, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value as Raw};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Most parameters one prepared statement may carry.
const MAX_PARAMS: usize = 65_535;

/// The driver parameter for a value: the MySQL destination's encoding
/// (`dts_mysql::wire::encode::to_param`), shared because ADB binds values over the same protocol.
pub use dts_mysql::wire::encode::to_param;

/// How rows are upserted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpsertStyle {
    /// `INSERT … ON DUPLICATE KEY UPDATE c = VALUES(c), …` (the default).
    #[default]
    InsertOnDuplicateKeyUpdate,
    /// `REPLACE INTO …`.
    Replace,
}

/// Batch limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rows per table buffer and per statement.
    pub rows: usize,
    /// Approximate value bytes per table buffer and per statement.
    pub bytes: usize,
}

fn placeholders(rows: usize, per_row: usize) -> String {
    let row = format!("({})", vec!["?"; per_row].join(", "));
    vec![row; rows].join(", ")
}

/// The upsert of `rows` rows of `columns`, keyed by `key`.
pub fn upsert_sql(
    table: &TableId,
    columns: &[String],
    key: &[String],
    rows: usize,
    style: UpsertStyle,
) -> String {
    let values = placeholders(rows, columns.len());
    match style {
        UpsertStyle::Replace => format!(
            "REPLACE INTO {} ({}) VALUES {values}",
            quote_table(table),
            quote_list(columns)
        ),
        UpsertStyle::InsertOnDuplicateKeyUpdate => {
            let mut updated: Vec<&String> = columns.iter().filter(|c| !key.contains(c)).collect();
            if updated.is_empty() {
                // Every column is in the key: a no-op assignment keeps the statement valid.
                updated = columns.iter().take(1).collect();
            }
            let set = updated
                .iter()
                .map(|c| format!("{0} = VALUES({0})", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "INSERT INTO {} ({}) VALUES {values} ON DUPLICATE KEY UPDATE {set}",
                quote_table(table),
                quote_list(columns)
            )
        }
    }
}

/// A plain (or `IGNORE`) multi-row insert.
pub fn insert_sql(table: &TableId, columns: &[String], rows: usize, ignore: bool) -> String {
    format!(
        "INSERT {}INTO {} ({}) VALUES {}",
        if ignore { "IGNORE " } else { "" },
        quote_table(table),
        quote_list(columns),
        placeholders(rows, columns.len())
    )
}

/// The delete of `rows` keys.
pub fn delete_sql(table: &TableId, key: &[String], rows: usize) -> String {
    if key.len() == 1 {
        format!(
            "DELETE FROM {} WHERE {} IN ({})",
            quote_table(table),
            quote_ident(&key[0]),
            vec!["?"; rows].join(", ")
        )
    } else {
        format!(
            "DELETE FROM {} WHERE ({}) IN ({})",
            quote_table(table),
            quote_list(key),
            placeholders(rows, key.len())
        )
    }
}

/// The delete of one row matching every given column (for tables without a key).
pub fn delete_one_sql(table: &TableId, columns: &[String]) -> String {
    let cond = columns
        .iter()
        .map(|c| format!("{} <=> ?", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!("DELETE FROM {} WHERE {cond} LIMIT 1", quote_table(table))
}

/// Counters of the statements a sink ran, for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Upsert and insert statements.
    pub upsert_statements: u64,
    /// Delete statements.
    pub delete_statements: u64,
    /// Buffer flushes (one per table buffer flushed).
    pub flushes: u64,
    /// Rows sent in upserts and inserts.
    pub rows_upserted: u64,
    /// Keys sent in deletes.
    pub rows_deleted: u64,
    /// Checkpoints committed after a batch was flushed because a buffer reached
    /// [`Limits::rows`] or [`Limits::bytes`].
    pub commits_by_size: u64,
    /// Checkpoints committed after a batch was flushed because its oldest change had waited
    /// the flush interval.
    pub commits_by_time: u64,
    /// Other checkpoint commits: a zero flush interval, a DDL statement, an explicit
    /// `Sink::flush` of [`crate::AdbSink`], another sink call that needs the buffers written first, or
    /// a round with nothing buffered.
    pub commits_other: u64,
}

/// Why a batch was flushed and its checkpoint committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A buffer reached the row or byte limit.
    Size,
    /// The oldest buffered change waited the flush interval.
    Time,
    /// Anything else (see [`WriteStats::commits_other`]).
    Other,
}

/// Shared atomic counters behind [`WriteStats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    upsert_statements: AtomicU64,
    delete_statements: AtomicU64,
    flushes: AtomicU64,
    rows_upserted: AtomicU64,
    rows_deleted: AtomicU64,
    commits_by_size: AtomicU64,
    commits_by_time: AtomicU64,
    commits_other: AtomicU64,
}

impl Stats {
    pub(crate) fn add_upserts(&self, statements: u64, rows: u64) {
        self.upsert_statements
            .fetch_add(statements, Ordering::Relaxed);
        self.rows_upserted.fetch_add(rows, Ordering::Relaxed);
        self.flushes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_commit(&self, cause: Cause) {
        match cause {
            Cause::Size => &self.commits_by_size,
            Cause::Time => &self.commits_by_time,
            Cause::Other => &self.commits_other,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WriteStats {
        WriteStats {
            upsert_statements: self.upsert_statements.load(Ordering::Relaxed),
            delete_statements: self.delete_statements.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            rows_upserted: self.rows_upserted.load(Ordering::Relaxed),
            rows_deleted: self.rows_deleted.load(Ordering::Relaxed),
            commits_by_size: self.commits_by_size.load(Ordering::Relaxed),
            commits_by_time: self.commits_by_time.load(Ordering::Relaxed),
            commits_other: self.commits_other.load(Ordering::Relaxed),
        }
    }
}

/// Params of one row plus its approximate size.
type Sized = (Vec<Raw>, usize);

/// Runs `rows` in as few statements as the limits allow (a statement is closed once it holds
/// `limits.rows` rows or at least `limits.bytes` bytes, the same rule that flushes a buffer);
/// `sql(n)` builds the statement for `n` rows.
pub(crate) async fn exec_chunked(
    conn: &mut Conn,
    rows: Vec<Sized>,
    limits: Limits,
    sql: impl Fn(usize) -> String,
) -> Result<u64, mysql_async::Error> {
    let mut statements = 0;
    let mut chunk: Vec<Raw> = Vec::new();
    let mut n = 0usize;
    let mut bytes = 0usize;
    let per_row = rows.first().map(|(p, _)| p.len()).unwrap_or(1).max(1);
    let max_rows = limits.rows.max(1).min(MAX_PARAMS / per_row).max(1);
    for (params, size) in rows {
        if n > 0 && (n >= max_rows || bytes >= limits.bytes) {
            conn.exec_drop(sql(n), Params::Positional(std::mem::take(&mut chunk)))
                .await?;
            statements += 1;
            n = 0;
            bytes = 0;
        }
        chunk.extend(params);
        n += 1;
        bytes += size;
    }
    if n > 0 {
        conn.exec_drop(sql(n), Params::Positional(chunk)).await?;
        statements += 1;
    }
    Ok(statements)
}

enum Entry {
    /// Whole row (keyed tables).
    Upsert(Vec<Raw>, usize),
    /// Key values.
    Delete(Vec<Raw>, usize),
    /// Whole row of a table without a key.
    Insert(Vec<Raw>, usize),
}

/// Buffered changes of one destination table (kept across `apply` calls until a flush).
pub(crate) struct TableBuffer {
    dest: TableId,
    schema: SchemaRef,
    layout: Arc<TableLayout>,
    tag: Option<String>,
    entries: Vec<Option<Entry>>,
    by_key: HashMap<String, usize>,
    rows: usize,
    bytes: usize,
}

impl TableBuffer {
    /// Whether no change is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn row_params(&self, row: &[Value]) -> (Vec<Raw>, usize) {
        let mut size = 0;
        let mut params: Vec<Raw> = self
            .layout
            .columns
            .iter()
            .map(|&i| {
                size += row[i].approx_size();
                to_param(&row[i])
            })
            .collect();
        if let Some(tag) = &self.tag {
            params.push(Raw::Bytes(tag.as_bytes().to_vec()));
        }
        (params, size)
    }

    fn key_params(&self, positions: &[usize], row: &[Value]) -> (Vec<Raw>, usize) {
        let mut size = 0;
        let mut params: Vec<Raw> = positions
            .iter()
            .map(|&i| {
                size += row[i].approx_size();
                to_param(&row[i])
            })
            .collect();
        if let Some(tag) = &self.tag {
            params.push(Raw::Bytes(tag.as_bytes().to_vec()));
        }
        (params, size)
    }

    fn put(&mut self, key: Option<String>, entry: Entry) {
        let size = match &entry {
            Entry::Upsert(_, s) | Entry::Delete(_, s) | Entry::Insert(_, s) => *s,
        };
        if let Some(key) = key {
            if let Some(old) = self.by_key.insert(key, self.entries.len()) {
                self.entries[old] = None;
                self.rows -= 1;
            }
        }
        self.entries.push(Some(entry));
        self.rows += 1;
        self.bytes += size;
    }
}

fn key_string(params: &[Raw]) -> String {
    params
        .iter()
        .map(|p| p.as_sql(true))
        .collect::<Vec<_>>()
        .join("\u{1}")
}

/// Adds row changes to the sink's table buffers (which outlive one `apply` call) and writes
/// them in batches; a buffer that reaches the limits is written at once and marks the round
/// as size-triggered ([`Writer::size_flushed`]).
pub(crate) struct Writer<'a> {
    conn: &'a mut Conn,
    limits: Limits,
    style: UpsertStyle,
    stats: &'a Stats,
    buffers: &'a mut Vec<TableBuffer>,
    size_flushed: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        conn: &'a mut Conn,
        limits: Limits,
        style: UpsertStyle,
        stats: &'a Stats,
        buffers: &'a mut Vec<TableBuffer>,
    ) -> Self {
        Self {
            conn,
            limits,
            style,
            stats,
            buffers,
            size_flushed: false,
        }
    }

    /// Whether a buffer reached the row or byte limit (and was written) since this writer
    /// was made.
    pub(crate) fn size_flushed(&self) -> bool {
        self.size_flushed
    }

    /// The connection, for statements between flushes (DDL).
    pub(crate) fn conn(&mut self) -> &mut Conn {
        self.conn
    }

    /// Index of the buffer for `dest` (and merged-shard `tag`) laid out by `schema`; a buffer
    /// of an older schema version is flushed first.
    async fn buffer(
        &mut self,
        dest: &TableId,
        schema: &SchemaRef,
        layout: &Arc<TableLayout>,
        tag: &Option<String>,
    ) -> Result<usize, mysql_async::Error> {
        // Shards merged into one table have a buffer each (their keys never meet, as the tag
        // is part of the key), so alternating shards do not flush each other.
        if let Some(i) = self
            .buffers
            .iter()
            .position(|b| &b.dest == dest && &b.tag == tag)
        {
            let b = &self.buffers[i];
            if Arc::ptr_eq(&b.schema, schema) || b.schema == *schema {
                return Ok(i);
            }
            self.flush_one(i).await?;
            self.buffers.remove(i);
        }
        self.buffers.push(TableBuffer {
            dest: dest.clone(),
            schema: schema.clone(),
            layout: layout.clone(),
            tag: tag.clone(),
            entries: Vec::new(),
            by_key: HashMap::new(),
            rows: 0,
            bytes: 0,
        });
        Ok(self.buffers.len() - 1)
    }

    /// Adds one row change for destination table `dest`, flushing when the buffer is full.
    pub(crate) async fn push(
        &mut self,
        change: &RowChange,
        dest: &TableId,
        layout: &Arc<TableLayout>,
        tag: &Option<String>,
    ) -> Result<(), mysql_async::Error> {
        let i = self.buffer(dest, &change.schema, layout, tag).await?;
        let before = change.before.as_deref();
        let after = change.after.as_deref();
        match &layout.key {
            Some(key) => {
                let buf = &mut self.buffers[i];
                // The rule every keyed sink shares (dts_core::row_plan); the buffer keeps the
                // last write per key, which an ADB upsert (a whole-row replace) makes the end
                // state.
                let plan = RowPlan::of(change.op, before, after, key);
                if let Some(before) = plan.delete {
                    let (k, size) = buf.key_params(key, before);
                    buf.put(Some(key_string(&k)), Entry::Delete(k, size));
                }
                if let Some(after) = plan.upsert {
                    let (k, _) = buf.key_params(key, after);
                    let (row, size) = buf.row_params(after);
                    buf.put(Some(key_string(&k)), Entry::Upsert(row, size));
                }
            }
            None => {
                if matches!(change.op, RowOp::Update | RowOp::Delete) {
                    if let Some(before) = before {
                        self.flush_one(i).await?;
                        let buf = &self.buffers[i];
                        let (params, _) = buf.row_params(before);
                        let sql = delete_one_sql(&buf.dest, &buf.layout.column_names);
                        self.conn.exec_drop(sql, Params::Positional(params)).await?;
                        self.stats.delete_statements.fetch_add(1, Ordering::Relaxed);
                        self.stats.rows_deleted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if let Some(after) = after.filter(|_| change.op != RowOp::Delete) {
                    let buf = &mut self.buffers[i];
                    let (row, size) = buf.row_params(after);
                    buf.put(None, Entry::Insert(row, size));
                }
            }
        }
        let buf = &self.buffers[i];
        if buf.rows >= self.limits.rows || buf.bytes >= self.limits.bytes {
            self.flush_one(i).await?;
            self.size_flushed = true;
        }
        Ok(())
    }

    async fn flush_one(&mut self, i: usize) -> Result<(), mysql_async::Error> {
        let buf = &mut self.buffers[i];
        if buf.entries.is_empty() {
            return Ok(());
        }
        let entries = std::mem::take(&mut buf.entries);
        buf.by_key.clear();
        buf.rows = 0;
        buf.bytes = 0;
        let dest = buf.dest.clone();
        let layout = buf.layout.clone();
        let mut deletes = Vec::new();
        let mut upserts = Vec::new();
        let mut inserts = Vec::new();
        for e in entries.into_iter().flatten() {
            match e {
                Entry::Delete(p, s) => deletes.push((p, s)),
                Entry::Upsert(p, s) => upserts.push((p, s)),
                Entry::Insert(p, s) => inserts.push((p, s)),
            }
        }
        let stats = self.stats;
        if !deletes.is_empty() {
            let n = deletes.len() as u64;
            let st = exec_chunked(self.conn, deletes, self.limits, |rows| {
                delete_sql(&dest, &layout.key_names, rows)
            })
            .await?;
            stats.delete_statements.fetch_add(st, Ordering::Relaxed);
            stats.rows_deleted.fetch_add(n, Ordering::Relaxed);
        }
        if !upserts.is_empty() {
            let n = upserts.len() as u64;
            let style = self.style;
            let st = exec_chunked(self.conn, upserts, self.limits, |rows| {
                upsert_sql(&dest, &layout.column_names, &layout.key_names, rows, style)
            })
            .await?;
            stats.upsert_statements.fetch_add(st, Ordering::Relaxed);
            stats.rows_upserted.fetch_add(n, Ordering::Relaxed);
        }
        if !inserts.is_empty() {
            let n = inserts.len() as u64;
            let st = exec_chunked(self.conn, inserts, self.limits, |rows| {
                insert_sql(&dest, &layout.column_names, rows, false)
            })
            .await?;
            stats.upsert_statements.fetch_add(st, Ordering::Relaxed);
            stats.rows_upserted.fetch_add(n, Ordering::Relaxed);
        }
        stats.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes every buffered change.
    pub(crate) async fn flush(&mut self) -> Result<(), mysql_async::Error> {
        for i in 0..self.buffers.len() {
            self.flush_one(i).await?;
        }
        self.buffers.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::Time;

    #[test]
    fn statements() {
        let t = TableId::new("d", "t`x");
        let cols = vec!["id".to_string(), "v".to_string()];
        let key = vec!["id".to_string()];
        assert_eq!(
            upsert_sql(&t, &cols, &key, 2, UpsertStyle::InsertOnDuplicateKeyUpdate),
            "INSERT INTO `d`.`t``x` (`id`, `v`) VALUES (?, ?), (?, ?) \
             ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)"
        );
        assert_eq!(
            upsert_sql(&t, &key, &key, 1, UpsertStyle::InsertOnDuplicateKeyUpdate),
            "INSERT INTO `d`.`t``x` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)"
        );
        assert_eq!(
            upsert_sql(&t, &cols, &key, 1, UpsertStyle::Replace),
            "REPLACE INTO `d`.`t``x` (`id`, `v`) VALUES (?, ?)"
        );
        assert_eq!(
            delete_sql(&t, &key, 3),
            "DELETE FROM `d`.`t``x` WHERE `id` IN (?, ?, ?)"
        );
        assert_eq!(
            delete_sql(&t, &cols, 2),
            "DELETE FROM `d`.`t``x` WHERE (`id`, `v`) IN ((?, ?), (?, ?))"
        );
        assert_eq!(
            delete_one_sql(&t, &cols),
            "DELETE FROM `d`.`t``x` WHERE `id` <=> ? AND `v` <=> ? LIMIT 1"
        );
        assert_eq!(
            insert_sql(&t, &cols, 1, true),
            "INSERT IGNORE INTO `d`.`t``x` (`id`, `v`) VALUES (?, ?)"
        );
    }

    #[test]
    fn params_keep_extremes() {
        assert_eq!(to_param(&Value::UInt(u64::MAX)), Raw::UInt(u64::MAX));
        assert_eq!(
            to_param(&Value::Set(vec!["a".into(), "b".into()])),
            Raw::Bytes(b"a,b".to_vec())
        );
        assert_eq!(
            to_param(&Value::Time(Time {
                negative: true,
                hours: 49,
                minutes: 1,
                seconds: 2,
                micros: 3
            })),
            Raw::Time(true, 2, 1, 1, 2, 3)
        );
    }
}
