//! One handler per binlog event kind. Each reads the event at its place in the stream
//! ([`Cursor`], [`EventAt`]) and moves the transaction being assembled ([`TxnBuilder`]) on:
//! GTID events begin it, row events add changes, XID / `COMMIT` / a standalone DDL deliver it,
//! XA statements hold or resolve it, savepoints cut it back.

use super::txn::{PendingGtid, TxnBuilder};
use super::{decode_event, now_ms, rotate_name, BinlogReader, ReaderState};
use crate::source::binlog::gtid::format_uuid;
use crate::source::binlog::guard::{self, At};
use crate::source::binlog::mariadb_events::{
    parse_gtid_list, MariadbGtid, MARIADB_GTID_EVENT, MARIADB_GTID_LIST_EVENT,
};
use crate::source::binlog::savepoint;
use crate::source::binlog::schema_cache::SchemaCache;
use crate::source::binlog::xa::{
    self, parse_prepare, XaStatement, FL_PREPARED_XA, XA_PREPARE_EVENT,
};
use dts_core::{Change, DdlKind, Error, Position, StreamEvent, TableId};
use mysql_async::binlog::events::{
    Event, EventData, GtidEvent, QueryEvent, RotateEvent, RowsEventData,
};
use mysql_async::BinlogStream;
use tokio::sync::mpsc;

/// Where the reader is in the stream, and the transaction it is assembling.
pub(super) struct Cursor {
    /// The binlog file being read.
    pub(super) file: String,
    /// End of the last event read: where an event that cannot even be framed starts.
    pub(super) last_end: u64,
    /// A format description was read (events before it may carry an unknown checksum).
    pub(super) seen_format_description: bool,
    /// Whether the server writes event checksums.
    server_checksums: bool,
    /// The event group being read, from its GTID event or `BEGIN` on.
    txn: Option<TxnBuilder>,
}

impl Cursor {
    /// A cursor at `resume`.
    pub(super) fn new(resume: &Position, server_checksums: bool) -> Self {
        Self {
            file: resume.file.clone(),
            last_end: resume.offset,
            seen_format_description: false,
            server_checksums,
            txn: None,
        }
    }
}

/// Whether the reader goes on after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    /// Read the next event.
    Continue,
    /// The consumer dropped the stream: stop reading.
    ConsumerGone,
}

/// Where one event is: its start and end offsets in the file, and its timestamp.
#[derive(Clone, Copy)]
pub(super) struct EventAt {
    start: u64,
    log_pos: u64,
    timestamp_ms: u64,
}

type Sender = mpsc::Sender<Result<StreamEvent, Error>>;

/// What the handlers work on: the cursor, the reader's state (resume point, GTID tracker,
/// prepared XA branches), the schema cache and the consumer's channel.
pub(super) struct Reading<'a> {
    pub(super) cur: &'a mut Cursor,
    pub(super) state: &'a mut ReaderState,
    pub(super) schemas: &'a mut SchemaCache,
    pub(super) tx: &'a Sender,
}

impl BinlogReader {
    /// Handles one event.
    pub(super) async fn on_event(
        &self,
        event: &Event,
        stream: &BinlogStream,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let header = event.header();
        let type_raw = header.event_type_raw();
        let log_pos = u64::from(header.log_pos());
        let ev = EventAt {
            start: log_pos.saturating_sub(u64::from(header.event_size())),
            log_pos,
            timestamp_ms: u64::from(header.timestamp()) * 1000,
        };
        if log_pos != 0 {
            r.cur.last_end = log_pos;
        }
        let at = At {
            file: &r.cur.file,
            offset: ev.start,
        };
        // Header and claimed counts checked, then only the event types used here parsed.
        let data = guard::event_data(event, &self.endpoint.label, at)?;
        match type_raw {
            MARIADB_GTID_EVENT => return self.on_mariadb_gtid(event, ev, r),
            XA_PREPARE_EVENT => return self.on_xa_prepare(event, ev, r).await,
            MARIADB_GTID_LIST_EVENT => return Ok(on_gtid_list(event, r.state)),
            _ => {}
        }
        let Some(data) = data else {
            return Ok(Flow::Continue);
        };
        match data {
            EventData::FormatDescriptionEvent(_) => r.cur.seen_format_description = true,
            EventData::RotateEvent(rot) => self.on_rotate(&rot, r),
            EventData::GtidEvent(g) => self.on_gtid(Some(&g), ev, r),
            EventData::AnonymousGtidEvent(_) => self.on_gtid(None, ev, r),
            EventData::QueryEvent(q) => return self.on_query(&q, ev, r).await,
            EventData::RowsEvent(rows) => return self.on_rows(&rows, stream, ev, r).await,
            EventData::XidEvent(_) => return self.deliver(ev, r).await,
            EventData::HeartbeatEvent if r.cur.txn.is_none() => {
                let hb = StreamEvent::Heartbeat {
                    position: r.state.resume.clone(),
                    time_ms: now_ms(),
                };
                if r.tx.send(Ok(hb)).await.is_err() {
                    return Ok(Flow::ConsumerGone);
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// The position of the event at `offset` of the cursor's file.
    fn here(&self, cur: &Cursor, offset: u64, state: &ReaderState) -> Position {
        self.position(&cur.file, offset, &state.tracker)
    }

    /// Delivers the transaction being assembled, if any, ending at `ev`.
    async fn deliver(&self, ev: EventAt, r: &mut Reading<'_>) -> Result<Flow, Error> {
        if let Some(t) = r.cur.txn.take() {
            self.commit(t, &r.cur.file, ev.log_pos, ev.timestamp_ms, r.state, r.tx)
                .await?;
        }
        Ok(Flow::Continue)
    }

    /// A MariaDB GTID event: a new event group begins (standalone, or an XA branch).
    fn on_mariadb_gtid(
        &self,
        event: &Event,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let g = MariadbGtid::parse(event.data(), event.header().server_id())
            .ok_or_else(|| Error::definite(&self.endpoint.label, "malformed MariaDB GTID event"))?;
        let begin = self.here(r.cur, ev.start, r.state);
        r.state.scan_limit.get_or_insert_with(|| begin.clone());
        let mut t = TxnBuilder::new(begin, Some(PendingGtid::Mariadb(g)), g.is_standalone());
        t.xa = g.flags & FL_PREPARED_XA != 0;
        r.cur.txn = Some(t);
        Ok(Flow::Continue)
    }

    /// MariaDB's XA_PREPARE event: a one-phase XA commit delivers the group, a prepare holds it.
    async fn on_xa_prepare(
        &self,
        event: &Event,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let at = At {
            file: &r.cur.file,
            offset: ev.start,
        };
        let (one_phase, xid) = parse_prepare(event.data()).ok_or_else(|| {
            guard::malformed(&self.endpoint.label, at, "unreadable XA_PREPARE event")
        })?;
        if let Some(t) = r.cur.txn.take() {
            let (file, end, ts) = (&r.cur.file, ev.log_pos, ev.timestamp_ms);
            if one_phase {
                self.commit(t, file, end, ts, r.state, r.tx).await?;
            } else {
                let prepared_at = format!("{file}:{}", ev.start);
                self.prepare(t, xid, prepared_at, file, end, ts, r.state, r.tx)
                    .await?;
            }
        }
        Ok(Flow::Continue)
    }

    /// A rotation to the next binlog file.
    fn on_rotate(&self, rot: &RotateEvent<'_>, r: &mut Reading<'_>) {
        r.cur.file = rotate_name(
            rot.name_raw(),
            r.cur.server_checksums && !r.cur.seen_format_description,
        );
        r.cur.last_end = rot.position();
        if r.cur.txn.is_none() && !rot.is_fake() {
            r.state.resume = self.here(r.cur, rot.position(), r.state);
        }
    }

    /// A MySQL GTID event (or an anonymous one): a new event group begins.
    fn on_gtid(&self, gtid: Option<&GtidEvent>, ev: EventAt, r: &mut Reading<'_>) {
        let begin = self.here(r.cur, ev.start, r.state);
        r.state.scan_limit.get_or_insert_with(|| begin.clone());
        let pending = gtid.map(|g| PendingGtid::Mysql(format_uuid(&g.sid()), g.gno()));
        r.cur.txn = Some(TxnBuilder::new(begin, pending, true));
    }

    /// A query event: XA statements, savepoints, `BEGIN` / `COMMIT` / `ROLLBACK`, or DDL.
    async fn on_query(
        &self,
        q: &QueryEvent<'_>,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let sql = q.query();
        let trimmed = sql.trim();
        if r.state.scan_limit.is_none() {
            r.state.scan_limit = Some(self.here(r.cur, ev.start, r.state));
        }
        if let Some(statement) = xa::classify(trimmed) {
            let at = At {
                file: &r.cur.file,
                offset: ev.start,
            };
            let statement = statement.map_err(|m| guard::malformed(&self.endpoint.label, at, m))?;
            return self.on_xa_statement(statement, ev, r).await;
        }
        if let Some(statement) = savepoint::classify(trimmed) {
            if let Some(t) = r.cur.txn.as_mut() {
                let at = At {
                    file: &r.cur.file,
                    offset: ev.start,
                };
                t.savepoints
                    .apply(statement, t.first_change, &mut t.changes)
                    .map_err(|m| guard::malformed(&self.endpoint.label, at, m))?;
            }
            return Ok(Flow::Continue);
        }
        if trimmed.eq_ignore_ascii_case("BEGIN") {
            match r.cur.txn.as_mut() {
                Some(t) => t.standalone = false,
                None => {
                    let begin = self.here(r.cur, ev.start, r.state);
                    r.cur.txn = Some(TxnBuilder::new(begin, None, false));
                }
            }
            return Ok(Flow::Continue);
        }
        if trimmed.eq_ignore_ascii_case("COMMIT") {
            return self.deliver(ev, r).await;
        }
        if trimmed.eq_ignore_ascii_case("ROLLBACK") {
            // A non-transactional group rolled back: nothing to deliver.
            r.cur.txn = None;
            return Ok(Flow::Continue);
        }
        self.on_ddl(q, ev, r).await
    }

    /// `XA START`, `XA END`, `XA COMMIT` (one-phase, or of a prepared branch) and
    /// `XA ROLLBACK`.
    async fn on_xa_statement(
        &self,
        statement: XaStatement,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let begin = self.here(r.cur, ev.start, r.state);
        let (end, ts) = (ev.log_pos, ev.timestamp_ms);
        match statement {
            XaStatement::Start => {
                let t = r
                    .cur
                    .txn
                    .get_or_insert_with(|| TxnBuilder::new(begin, None, false));
                t.standalone = false;
                t.xa = true;
            }
            XaStatement::End => {}
            XaStatement::Commit {
                one_phase: true, ..
            } => return self.deliver(ev, r).await,
            XaStatement::Commit { xid, .. } => {
                let t = r
                    .cur
                    .txn
                    .take()
                    .unwrap_or_else(|| TxnBuilder::new(begin, None, true));
                let prepared = match r.state.pending_xa.take(&xid) {
                    Some(p) => p,
                    None => {
                        let limit = r
                            .state
                            .scan_limit
                            .clone()
                            .unwrap_or_else(|| r.state.resume.clone());
                        let at = At {
                            file: &r.cur.file,
                            offset: ev.start,
                        };
                        self.find_prepared(&xid, &limit, r.schemas, at).await?
                    }
                };
                if !self
                    .commit_prepared(t, prepared, &r.cur.file, end, ts, r.state, r.tx)
                    .await?
                {
                    return Ok(Flow::ConsumerGone);
                }
            }
            XaStatement::Rollback(xid) => {
                r.state.pending_xa.take(&xid);
                if let Some(mut t) = r.cur.txn.take() {
                    t.changes.clear();
                    self.commit(t, &r.cur.file, end, ts, r.state, r.tx).await?;
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// A statement other than transaction control: DDL (the schema cache follows it), added
    /// to the group, which it delivers when standalone.
    async fn on_ddl(
        &self,
        q: &QueryEvent<'_>,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let sql = q.query();
        let schema_name = q.schema();
        let default_db = (!schema_name.is_empty()).then(|| schema_name.into_owned());
        let mut ddl = crate::source::ddl::classify(&sql, default_db.as_deref());
        if matches!(ddl.kind, DdlKind::Object(_)) {
            ddl.sql_mode = crate::source::binlog::sql_mode::of_query(q);
        }
        if ddl.kind != DdlKind::Other || crate::source::ddl::is_ddl_statement(&sql) {
            self.refresh_after_ddl(r.schemas, &ddl).await?;
        }
        let in_scope =
            ddl.tables.is_empty() || ddl.tables.iter().any(|t| self.in_scope(&t.database));
        let mut t = match r.cur.txn.take() {
            Some(t) => t,
            None => TxnBuilder::new(self.here(r.cur, ev.start, r.state), None, true),
        };
        if in_scope && !crate::source::ddl::is_transaction_control(&sql) {
            t.changes.push(Change::Ddl(ddl));
        }
        if t.standalone {
            self.commit(t, &r.cur.file, ev.log_pos, ev.timestamp_ms, r.state, r.tx)
                .await?;
        } else {
            r.cur.txn = Some(t);
        }
        Ok(Flow::Continue)
    }

    /// A rows event: the two-way loop guard's marker, then the changes of a table in scope,
    /// delivered in fragments past `max_transaction_changes` (a prepared XA group is held
    /// whole).
    #[allow(clippy::too_many_arguments)]
    async fn on_rows(
        &self,
        rows: &RowsEventData<'_>,
        stream: &BinlogStream,
        ev: EventAt,
        r: &mut Reading<'_>,
    ) -> Result<Flow, Error> {
        let ep = &self.endpoint;
        let Some(tme) = stream.get_tme(rows.table_id()) else {
            return Err(Error::definite(
                &ep.label,
                format!(
                    "row event for unknown table id {} at {}:{}",
                    rows.table_id(),
                    r.cur.file,
                    ev.start
                ),
            ));
        };
        let id = TableId::new(
            tme.database_name().into_owned(),
            tme.table_name().into_owned(),
        );
        if let Some(guard) = &self.options.loop_guard {
            if guard.is_marker_table(&id) && guard.marks_echo(rows, tme) {
                if r.cur.txn.is_none() {
                    let begin = self.here(r.cur, ev.start, r.state);
                    r.cur.txn = Some(TxnBuilder::new(begin, None, false));
                }
                if let Some(t) = r.cur.txn.as_mut() {
                    t.echo = true;
                    t.changes.clear();
                }
            }
            if r.cur.txn.as_ref().is_some_and(|t| t.echo) {
                return Ok(Flow::Continue);
            }
        }
        if !self.in_scope(&id.database) {
            return Ok(Flow::Continue);
        }
        if r.cur.txn.is_none() {
            let begin = self.here(r.cur, ev.start, r.state);
            r.cur.txn = Some(TxnBuilder::new(begin, None, false));
        }
        let Some(t) = r.cur.txn.as_mut() else {
            return Ok(Flow::Continue);
        };
        let at = At {
            file: &r.cur.file,
            offset: ev.start,
        };
        decode_event(r.schemas, &id, tme, rows, &ep.label, at, &mut t.changes).await?;
        // A prepared XA group may still be rolled back: it is held whole.
        if !t.xa && t.changes.len() >= self.options.max_transaction_changes {
            let piece = t.take_fragment(&r.cur.file, ev.log_pos, ev.timestamp_ms);
            if r.tx
                .send(Ok(StreamEvent::Transaction(piece)))
                .await
                .is_err()
            {
                return Ok(Flow::ConsumerGone);
            }
        }
        Ok(Flow::Continue)
    }
}

/// MariaDB's GTID list: the executed set at the start of a file, adopted when the tracker has
/// none yet.
fn on_gtid_list(event: &Event, state: &mut ReaderState) -> Flow {
    if let (crate::source::binlog::gtid::GtidTracker::Mariadb(s), Some(list)) =
        (&mut state.tracker, parse_gtid_list(event.data()))
    {
        if s.is_empty() {
            for (d, srv, seq) in list {
                s.apply(d, srv, seq);
            }
        }
    }
    Flow::Continue
}
