//! Loop prevention for two-way synchronization: recognising, in a binlog, the transactions that
//! the partner task applied, so they are not captured and sent back.
//!
//! # Why the checkpoint row is the marker
//!
//! A [`crate::sink::MysqlSink`] commits its checkpoint row (`<checkpoint_database>.dts_checkpoint`,
//! keyed by task id and worker) inside **every** destination transaction that applies changes
//! — and writes it as the transaction's first statement, before any applied row. So each
//! transaction a task applied carries, in the destination's binlog, a row event on the
//! checkpoint table whose `task_id` column names that task, and that event precedes every row
//! event of the applied changes.
//!
//! The reader of the opposite direction is given a [`LoopGuard`] naming the checkpoint table
//! and the partner's task id. When it meets a row event on that table naming the partner, it
//! marks the open transaction as an echo: the row events that follow are not even decoded, and
//! at commit the whole transaction is dropped. Nothing the partner applied comes back, so there
//! is no ping-pong and the binlogs grow only with what applications write (plus the checkpoint
//! row events inside the applied transactions, which are themselves never re-applied).
//!
//! A dropped transaction does not move the reader's resume point either, so idle heartbeats
//! keep reporting the end of the last delivered transaction. Otherwise the consumer would
//! persist a checkpoint past the echo — itself a destination write, i.e. a new transaction in
//! the partner's source binlog, whose echo would move the partner's checkpoint in turn: an
//! endless exchange of checkpoint-only transactions. After a restart the dropped transactions
//! are read (and dropped) again; the next delivered transaction or binlog rotation moves the
//! resume point past them.
//!
//! Alternatives considered: server-side tagging (`@@skip_replication` on MariaDB, or a
//! per-session `server_id`) is flavour-specific and needs SUPER-like privileges; filtering by
//! comparing row images against what was applied needs state and breaks on restarts. The
//! marker row needs nothing but the checkpoint table the sink already keeps, works on MySQL and
//! MariaDB alike, survives restarts (it is in the binlog), and names the task, so a task only
//! drops what its own partner applied: a third, one-way task reading the same server still
//! sees everything.
//!
//! Statements the sink runs outside an apply transaction (DDL) carry no marker; the reverse task
//! of a two-way pair always filters DDL, and the forward task only receives DDL that
//! applications ran on its source, so DDL cannot loop either.

use dts_core::TableId;
use mysql_async::binlog::events::{RowsEventData, TableMapEvent};
use mysql_async::binlog::value::BinlogValue;
use mysql_async::Value;

/// Which binlog transactions a reader drops as echoes of a partner task's writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopGuard {
    /// The partner's checkpoint table on the server this reader reads
    /// (`<checkpoint_database>.dts_checkpoint`).
    pub marker_table: TableId,
    /// Task ids whose applied transactions are dropped (normally the one partner).
    pub partner_task_ids: Vec<String>,
}

impl LoopGuard {
    /// A guard dropping transactions applied by `partner_task_id`, whose sink keeps its
    /// checkpoint table in `checkpoint_database` of the server being read.
    pub fn new(checkpoint_database: impl Into<String>, partner_task_id: impl Into<String>) -> Self {
        Self {
            marker_table: TableId::new(
                checkpoint_database.into(),
                crate::sink::checkpoint::CHECKPOINT_TABLE,
            ),
            partner_task_ids: vec![partner_task_id.into()],
        }
    }

    /// Whether row events of `table` must be looked at by [`LoopGuard::marks_echo`].
    pub fn is_marker_table(&self, table: &TableId) -> bool {
        table.database == self.marker_table.database && table.table == self.marker_table.table
    }

    /// Whether a row event on the marker table writes a checkpoint row of a partner task
    /// (its first column, `task_id`, in any before or after image).
    pub fn marks_echo(&self, rows: &RowsEventData<'_>, tme: &TableMapEvent<'static>) -> bool {
        for pair in rows.rows(tme) {
            let Ok((before, after)) = pair else {
                continue;
            };
            for image in [after, before].into_iter().flatten() {
                if let Some(BinlogValue::Value(Value::Bytes(b))) = image.as_ref(0) {
                    if self.is_partner(b) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn is_partner(&self, task_id: &[u8]) -> bool {
        self.partner_task_ids
            .iter()
            .any(|p| p.as_bytes() == task_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_table_and_partner_ids() {
        let g = LoopGuard::new("dts_meta", "forward-1");
        assert!(g.is_marker_table(&TableId::new("dts_meta", "dts_checkpoint")));
        assert!(!g.is_marker_table(&TableId::new("app", "dts_checkpoint")));
        assert!(g.is_partner(b"forward-1"));
        assert!(!g.is_partner(b"forward-10"));
        assert!(!g.is_partner(b"reverse-1"));
    }
}
