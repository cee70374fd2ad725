//! Transaction assembly: the event group being read ([`TxnBuilder`]) and how it is delivered —
//! committed, held as a prepared XA branch, or committed from a prepared branch.

use super::{BinlogReader, ReaderState};
use crate::source::binlog::gtid::GtidTracker;
use crate::source::binlog::mariadb_events::MariadbGtid;
use crate::source::binlog::savepoint::Savepoints;
use crate::source::binlog::xa::{PreparedXa, Xid};
use dts_core::{Change, Error, Fragment, Position, StreamEvent, Transaction};
use tokio::sync::mpsc;

pub(super) enum PendingGtid {
    Mariadb(MariadbGtid),
    Mysql(String, u64),
}

pub(super) struct TxnBuilder {
    pub(super) begin: Position,
    pub(super) gtid: Option<PendingGtid>,
    pub(super) standalone: bool,
    pub(super) changes: Vec<Change>,
    pub(super) first_change: u64,
    /// Applied by the two-way partner task: dropped whole at commit.
    pub(super) echo: bool,
    /// The prepared part of an XA transaction: held until its XA_PREPARE, never fragmented.
    pub(super) xa: bool,
    /// Savepoints set in the group, for a logged `ROLLBACK TO SAVEPOINT`.
    pub(super) savepoints: Savepoints,
}

impl TxnBuilder {
    pub(super) fn new(begin: Position, gtid: Option<PendingGtid>, standalone: bool) -> Self {
        Self {
            begin,
            gtid,
            standalone,
            changes: Vec::new(),
            first_change: 0,
            echo: false,
            xa: false,
            savepoints: Savepoints::default(),
        }
    }

    /// Hands out the changes collected so far as a non-final fragment.
    pub(super) fn take_fragment(
        &mut self,
        file: &str,
        log_pos: u64,
        timestamp_ms: u64,
    ) -> Transaction {
        let changes = std::mem::take(&mut self.changes);
        let first = self.first_change;
        self.first_change += changes.len() as u64;
        Transaction {
            begin: self.begin.clone(),
            end: Position {
                file: file.to_string(),
                offset: log_pos,
                gtid_set: self.begin.gtid_set.clone(),
            },
            gtid: match &self.gtid {
                Some(PendingGtid::Mariadb(g)) => Some(g.text()),
                Some(PendingGtid::Mysql(u, n)) => Some(format!("{u}:{n}")),
                None => None,
            },
            commit_time_ms: timestamp_ms,
            changes,
            fragment: Fragment {
                first_change: first,
                last: false,
            },
        }
    }
}

impl BinlogReader {
    /// Ends the prepared part of an XA transaction: its changes are held until the commit or
    /// rollback; the GTID of the prepare group counts as executed, and the consumer may move its
    /// checkpoint past it (a restarted reader finds the prepare again, see [`crate::source::binlog::xa`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn prepare(
        &self,
        mut t: TxnBuilder,
        xid: Xid,
        prepared_at: String,
        file: &str,
        log_pos: u64,
        timestamp_ms: u64,
        state: &mut ReaderState,
        tx: &mpsc::Sender<Result<StreamEvent, Error>>,
    ) -> Result<(), Error> {
        let changes = std::mem::take(&mut t.changes);
        if !t.echo {
            state.pending_xa.prepare(
                xid,
                PreparedXa {
                    changes,
                    prepared_at,
                },
            );
        }
        // The group itself delivers nothing now: committed empty, it advances the GTID set and
        // the resume point.
        t.echo = false;
        self.commit(t, file, log_pos, timestamp_ms, state, tx).await
    }

    /// Delivers a committed XA transaction: the prepared changes, at the commit group's
    /// positions and GTID, in fragments when large. False when the consumer went away.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn commit_prepared(
        &self,
        mut t: TxnBuilder,
        prepared: PreparedXa,
        file: &str,
        log_pos: u64,
        timestamp_ms: u64,
        state: &mut ReaderState,
        tx: &mpsc::Sender<Result<StreamEvent, Error>>,
    ) -> Result<bool, Error> {
        let max = self.options.max_transaction_changes.max(1);
        let mut changes = prepared.changes;
        while changes.len() > max {
            let rest = changes.split_off(max);
            t.changes = changes;
            let piece = t.take_fragment(file, log_pos, timestamp_ms);
            if tx.send(Ok(StreamEvent::Transaction(piece))).await.is_err() {
                return Ok(false);
            }
            changes = rest;
        }
        t.changes = changes;
        self.commit(t, file, log_pos, timestamp_ms, state, tx)
            .await?;
        Ok(true)
    }

    pub(super) async fn commit(
        &self,
        mut t: TxnBuilder,
        file: &str,
        log_pos: u64,
        timestamp_ms: u64,
        state: &mut ReaderState,
        tx: &mpsc::Sender<Result<StreamEvent, Error>>,
    ) -> Result<(), Error> {
        let gtid = match t.gtid.take() {
            Some(PendingGtid::Mariadb(g)) => {
                if let GtidTracker::Mariadb(s) = &mut state.tracker {
                    s.apply(g.domain, g.server, g.sequence);
                }
                Some(g.text())
            }
            Some(PendingGtid::Mysql(uuid, gno)) => {
                if let GtidTracker::Mysql(s) = &mut state.tracker {
                    s.add(&uuid, gno);
                }
                Some(format!("{uuid}:{gno}"))
            }
            None => None,
        };
        let end = self.position(file, log_pos, &state.tracker);
        state.resume = end.clone();
        if t.echo {
            // Applied by the two-way partner: dropped, and the resume point stays before it so
            // heartbeats do not move the consumer's checkpoint over it (a checkpoint write
            // would be a new transaction for the partner to read: an endless exchange).
            return Ok(());
        }
        let event = if t.changes.is_empty() && t.first_change == 0 {
            // Nothing in scope: let the consumer advance its checkpoint all the same.
            StreamEvent::Heartbeat {
                position: end,
                time_ms: timestamp_ms,
            }
        } else {
            StreamEvent::Transaction(Transaction {
                begin: t.begin,
                end,
                gtid,
                commit_time_ms: timestamp_ms,
                changes: t.changes,
                fragment: Fragment {
                    first_change: t.first_change,
                    last: true,
                },
            })
        };
        // A closed channel means the consumer is gone; the reader loop notices and stops.
        let _ = tx.send(Ok(event)).await;
        Ok(())
    }
}
