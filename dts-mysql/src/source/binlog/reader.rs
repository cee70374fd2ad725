//! The binlog reader: a replication connection turned into a stream of committed transactions.
//!
//! Event groups are assembled into [`Transaction`]s at their commit (XID, `COMMIT`, or the end
//! of a standalone DDL), carrying the begin and end positions with the executed GTID set, so a
//! consumer can resume after any delivered transaction by file/offset or by GTID. Transactions
//! with more changes than `max_transaction_changes` are delivered in fragments. A lost
//! connection is re-established from the end of the last delivered transaction.

use super::gtid::{format_uuid, parse_uuid, GtidTracker};
use super::guard::{self, At};
use super::loop_guard::LoopGuard;
use super::mariadb_events::{
    parse_gtid_list, MariadbGtid, MARIADB_GTID_EVENT, MARIADB_GTID_LIST_EVENT,
};
use super::savepoint::{self, Savepoints};
use super::schema_cache::SchemaCache;
use super::table_map::{column_names, schema_from_table_map};
use super::versioning;
use super::xa::{
    self, parse_prepare, PendingXa, PreparedXa, XaStatement, Xid, FL_PREPARED_XA, XA_PREPARE_EVENT,
};
use crate::wire::catalog::Scope;
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::decode::{decode, Origin};
use crate::wire::ident::quote_str;
use dts_core::{
    Change, DdlKind, Error, Fragment, Position, RowChange, RowOp, SchemaRef, StreamEvent, TableId,
    Transaction,
};
use futures::stream::BoxStream;
use futures::StreamExt;
use mysql_async::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, GnoInterval, Sid};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Tuning of the binlog reader.
#[derive(Clone, Debug)]
pub struct BinlogOptions {
    /// Server id this reader registers with; must differ from every server and replica.
    pub replica_server_id: u32,
    /// Databases whose row events are decoded (others are skipped undecoded).
    pub scope: Scope,
    /// A transaction with more row changes than this is delivered in fragments.
    pub max_transaction_changes: usize,
    /// How often the server sends a heartbeat while idle.
    pub heartbeat: Duration,
    /// Transactions buffered between the reader and the consumer.
    pub channel_capacity: usize,
    /// Two-way synchronization: drop transactions the partner task applied (see
    /// [`super::loop_guard`]).
    pub loop_guard: Option<LoopGuard>,
}

impl Default for BinlogOptions {
    fn default() -> Self {
        Self {
            replica_server_id: 0,
            scope: Scope::default(),
            max_transaction_changes: 20_000,
            heartbeat: Duration::from_secs(1),
            channel_capacity: 64,
            loop_guard: None,
        }
    }
}

/// Reads committed transactions from a MySQL-family server's binlog.
#[derive(Clone, Debug)]
pub struct BinlogReader {
    pub(super) endpoint: MysqlEndpoint,
    server: ServerInfo,
    pub(super) options: BinlogOptions,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl BinlogReader {
    /// A reader for `endpoint`; `server` is its detected flavour.
    pub fn new(endpoint: MysqlEndpoint, server: ServerInfo, mut options: BinlogOptions) -> Self {
        if options.replica_server_id == 0 {
            // Unique per reader: the server drops a replica connection when another registers
            // with the same id. The range is one real servers rarely use.
            use std::sync::atomic::{AtomicU32, Ordering};
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed) % 1000;
            options.replica_server_id = 1_000_000_000 + (std::process::id() % 1_000_000) * 1000 + n;
        }
        Self {
            endpoint,
            server,
            options,
        }
    }

    /// Committed transactions after `from`. With an empty `from.file` and a GTID set, the
    /// stream starts from the GTID set instead.
    pub async fn stream(
        &self,
        from: Position,
    ) -> Result<BoxStream<'static, Result<StreamEvent, Error>>, Error> {
        let mut probe = self.endpoint.connect().await?;
        if !from.file.is_empty() {
            check_file_present(&mut probe, &self.endpoint, &from.file).await?;
        } else if from.gtid_set.is_none() {
            return Err(Error::definite(
                &self.endpoint.label,
                "a stream needs a binlog file or a GTID set to start from",
            ));
        }
        drop(probe);
        let tracker = GtidTracker::new(self.server.flavor, from.gtid_set.as_ref())
            .map_err(|m| Error::definite(&self.endpoint.label, m))?;
        let (tx, rx) = mpsc::channel(self.options.channel_capacity);
        let reader = self.clone();
        tokio::spawn(async move {
            let mut state = ReaderState {
                resume: from,
                tracker,
                pending_xa: PendingXa::default(),
                scan_limit: None,
            };
            // A lost connection, like any failure, ends the stream: the task's retry window
            // (with its backoff, status and configured length) decides whether to reconnect.
            if let Err(err) = reader.run(&mut state, &tx).await {
                let _ = tx.send(Err(err)).await;
            }
        });
        Ok(ReceiverStream::new(rx).boxed())
    }

    async fn run(
        &self,
        state: &mut ReaderState,
        tx: &mpsc::Sender<Result<StreamEvent, Error>>,
    ) -> Result<(), Error> {
        let ep = &self.endpoint;
        let meta = ep.connect().await?;
        let mut schemas = SchemaCache::load(meta, self.server.clone(), &self.options.scope).await?;

        let (mut conn, server_checksums) = self.replication_conn().await?;
        let from = state.resume.clone();
        let file_bytes = from.file.clone().into_bytes();
        let mut sids: Vec<Sid<'static>> = Vec::new();
        if self.server.is_mariadb() {
            if from.file.is_empty() {
                let gtid = from
                    .gtid_set
                    .as_ref()
                    .map(|g| g.text.as_str())
                    .unwrap_or("");
                conn.query_drop(format!("SET @slave_connect_state = {}", quote_str(gtid)))
                    .await
                    .map_err(|e| ep.map_err("set GTID start", e))?;
            }
        } else if from.file.is_empty() {
            if let GtidTracker::Mysql(set) = &state.tracker {
                for (uuid, ranges) in set.intervals() {
                    let bytes = parse_uuid(uuid).ok_or_else(|| {
                        Error::definite(&ep.label, format!("bad GTID uuid {uuid}"))
                    })?;
                    let mut sid = Sid::new(bytes);
                    for (a, b) in ranges {
                        sid = sid.with_interval(GnoInterval::new(*a, b + 1));
                    }
                    sids.push(sid);
                }
            }
        }
        let mut request = BinlogStreamRequest::new(self.options.replica_server_id);
        if !from.file.is_empty() {
            request = request.with_filename(&file_bytes).with_pos(from.offset);
        } else if !self.server.is_mariadb() {
            request = request.with_gtid().with_gtid_set(sids);
        }
        let mut stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|e| map_stream_err(ep, &from, e))?;

        let mut file = from.file.clone();
        // End of the last event read: where an event that cannot even be framed starts.
        let mut last_end = from.offset;
        let mut seen_format_description = false;
        let mut txn: Option<TxnBuilder> = None;
        loop {
            // The stream frames each packet into an event (and reads table maps and
            // transaction payloads) inside mysql_common, whose parsers panic on some malformed
            // input: contained, so a hostile or corrupt stream ends in an error.
            let next = std::future::poll_fn(|cx| {
                let at = At {
                    file: &file,
                    offset: last_end,
                };
                match guard::contain(&ep.label, at, "framing the next event", || {
                    stream.poll_next_unpin(cx)
                }) {
                    Ok(poll) => poll.map(|o| o.map(|r| r.map_err(Err))),
                    Err(e) => std::task::Poll::Ready(Some(Err(Ok(e)))),
                }
            });
            let event: Event = match next.await {
                Some(Ok(e)) => e,
                Some(Err(Ok(e))) => return Err(e),
                Some(Err(Err(e))) => return Err(map_stream_err(ep, &state.resume, e)),
                None => {
                    return Err(Error::Connection {
                        endpoint: format!("{} ({})", ep.label, ep.address()),
                        message: "binlog stream ended".into(),
                        cause: None,
                    })
                }
            };
            if tx.is_closed() {
                return Ok(());
            }
            let header = event.header();
            let type_raw = header.event_type_raw();
            let log_pos = u64::from(header.log_pos());
            let start = log_pos.saturating_sub(u64::from(header.event_size()));
            let timestamp_ms = u64::from(header.timestamp()) * 1000;
            if log_pos != 0 {
                last_end = log_pos;
            }
            let at = At {
                file: &file,
                offset: start,
            };
            // Header and claimed counts checked, then only the event types used here parsed.
            let data = guard::event_data(&event, &ep.label, at)?;

            if type_raw == MARIADB_GTID_EVENT {
                let g = MariadbGtid::parse(event.data(), header.server_id())
                    .ok_or_else(|| Error::definite(&ep.label, "malformed MariaDB GTID event"))?;
                let begin = self.position(&file, start, &state.tracker);
                state.scan_limit.get_or_insert_with(|| begin.clone());
                let mut t =
                    TxnBuilder::new(begin, Some(PendingGtid::Mariadb(g)), g.is_standalone());
                t.xa = g.flags & FL_PREPARED_XA != 0;
                txn = Some(t);
                continue;
            }
            if type_raw == XA_PREPARE_EVENT {
                let (one_phase, xid) = parse_prepare(event.data()).ok_or_else(|| {
                    guard::malformed(&ep.label, at, "unreadable XA_PREPARE event")
                })?;
                if let Some(t) = txn.take() {
                    if one_phase {
                        self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                            .await?;
                    } else {
                        let prepared_at = format!("{file}:{start}");
                        self.prepare(t, xid, prepared_at, &file, log_pos, timestamp_ms, state, tx)
                            .await?;
                    }
                }
                continue;
            }
            if type_raw == MARIADB_GTID_LIST_EVENT {
                if let (GtidTracker::Mariadb(s), Some(list)) =
                    (&mut state.tracker, parse_gtid_list(event.data()))
                {
                    if s.is_empty() {
                        for (d, srv, seq) in list {
                            s.apply(d, srv, seq);
                        }
                    }
                }
                continue;
            }
            let Some(data) = data else {
                continue;
            };
            match data {
                EventData::FormatDescriptionEvent(_) => seen_format_description = true,
                EventData::RotateEvent(r) => {
                    file = rotate_name(r.name_raw(), server_checksums && !seen_format_description);
                    last_end = r.position();
                    if txn.is_none() && !r.is_fake() {
                        state.resume = self.position(&file, r.position(), &state.tracker);
                    }
                }
                EventData::GtidEvent(g) => {
                    let uuid = format_uuid(&g.sid());
                    let begin = self.position(&file, start, &state.tracker);
                    state.scan_limit.get_or_insert_with(|| begin.clone());
                    txn = Some(TxnBuilder::new(
                        begin,
                        Some(PendingGtid::Mysql(uuid, g.gno())),
                        true,
                    ));
                }
                EventData::AnonymousGtidEvent(_) => {
                    let begin = self.position(&file, start, &state.tracker);
                    state.scan_limit.get_or_insert_with(|| begin.clone());
                    txn = Some(TxnBuilder::new(begin, None, true));
                }
                EventData::QueryEvent(q) => {
                    let sql = q.query();
                    let trimmed = sql.trim();
                    if state.scan_limit.is_none() {
                        state.scan_limit = Some(self.position(&file, start, &state.tracker));
                    }
                    if let Some(statement) = xa::classify(trimmed) {
                        let statement =
                            statement.map_err(|m| guard::malformed(&ep.label, at, m))?;
                        let begin = self.position(&file, start, &state.tracker);
                        match statement {
                            XaStatement::Start => {
                                let t =
                                    txn.get_or_insert_with(|| TxnBuilder::new(begin, None, false));
                                t.standalone = false;
                                t.xa = true;
                            }
                            XaStatement::End => {}
                            XaStatement::Commit {
                                one_phase: true, ..
                            } => {
                                if let Some(t) = txn.take() {
                                    self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                                        .await?;
                                }
                            }
                            XaStatement::Commit { xid, .. } => {
                                let t = txn
                                    .take()
                                    .unwrap_or_else(|| TxnBuilder::new(begin, None, true));
                                let prepared = match state.pending_xa.take(&xid) {
                                    Some(p) => p,
                                    None => {
                                        let limit = state
                                            .scan_limit
                                            .clone()
                                            .unwrap_or_else(|| state.resume.clone());
                                        self.find_prepared(&xid, &limit, &mut schemas, at).await?
                                    }
                                };
                                if !self
                                    .commit_prepared(
                                        t,
                                        prepared,
                                        &file,
                                        log_pos,
                                        timestamp_ms,
                                        state,
                                        tx,
                                    )
                                    .await?
                                {
                                    return Ok(());
                                }
                            }
                            XaStatement::Rollback(xid) => {
                                state.pending_xa.take(&xid);
                                if let Some(mut t) = txn.take() {
                                    t.changes.clear();
                                    self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                                        .await?;
                                }
                            }
                        }
                        continue;
                    }
                    if let Some(statement) = savepoint::classify(trimmed) {
                        if let Some(t) = txn.as_mut() {
                            t.savepoints
                                .apply(statement, t.first_change, &mut t.changes)
                                .map_err(|m| guard::malformed(&ep.label, at, m))?;
                        }
                        continue;
                    }
                    if trimmed.eq_ignore_ascii_case("BEGIN") {
                        match txn.as_mut() {
                            Some(t) => t.standalone = false,
                            None => {
                                txn = Some(TxnBuilder::new(
                                    self.position(&file, start, &state.tracker),
                                    None,
                                    false,
                                ))
                            }
                        }
                        continue;
                    }
                    if trimmed.eq_ignore_ascii_case("COMMIT") {
                        if let Some(t) = txn.take() {
                            self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                                .await?;
                        }
                        continue;
                    }
                    if trimmed.eq_ignore_ascii_case("ROLLBACK") {
                        // A non-transactional group rolled back: nothing to deliver.
                        txn = None;
                        continue;
                    }
                    let schema_name = q.schema();
                    let default_db = (!schema_name.is_empty()).then(|| schema_name.into_owned());
                    let mut ddl = crate::source::ddl::classify(&sql, default_db.as_deref());
                    if matches!(ddl.kind, DdlKind::Object(_)) {
                        ddl.sql_mode = super::sql_mode::of_query(&q);
                    }
                    if ddl.kind != DdlKind::Other || crate::source::ddl::is_ddl_statement(&sql) {
                        self.refresh_after_ddl(&mut schemas, &ddl).await?;
                    }
                    let in_scope = ddl.tables.is_empty()
                        || ddl.tables.iter().any(|t| self.in_scope(&t.database));
                    let mut t = txn.take().unwrap_or_else(|| {
                        TxnBuilder::new(self.position(&file, start, &state.tracker), None, true)
                    });
                    if in_scope && !crate::source::ddl::is_transaction_control(&sql) {
                        t.changes.push(Change::Ddl(ddl));
                    }
                    if t.standalone {
                        self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                            .await?;
                    } else {
                        txn = Some(t);
                    }
                }
                EventData::RowsEvent(rows) => {
                    let Some(tme) = stream.get_tme(rows.table_id()) else {
                        return Err(Error::definite(
                            &ep.label,
                            format!(
                                "row event for unknown table id {} at {file}:{start}",
                                rows.table_id()
                            ),
                        ));
                    };
                    let id = TableId::new(
                        tme.database_name().into_owned(),
                        tme.table_name().into_owned(),
                    );
                    if let Some(guard) = &self.options.loop_guard {
                        if guard.is_marker_table(&id) && guard.marks_echo(&rows, tme) {
                            let t = txn.get_or_insert_with(|| {
                                let begin = self.position(&file, start, &state.tracker);
                                TxnBuilder::new(begin, None, false)
                            });
                            t.echo = true;
                            t.changes.clear();
                        }
                        if txn.as_ref().is_some_and(|t| t.echo) {
                            continue;
                        }
                    }
                    if !self.in_scope(&id.database) {
                        continue;
                    }
                    let t = txn.get_or_insert_with(|| {
                        TxnBuilder::new(self.position(&file, start, &state.tracker), None, false)
                    });
                    let at = At {
                        file: &file,
                        offset: start,
                    };
                    decode_event(&mut schemas, &id, tme, &rows, &ep.label, at, &mut t.changes)
                        .await?;
                    // A prepared XA group may still be rolled back: it is held whole.
                    if !t.xa && t.changes.len() >= self.options.max_transaction_changes {
                        let piece = t.take_fragment(&file, log_pos, timestamp_ms);
                        if tx.send(Ok(StreamEvent::Transaction(piece))).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                EventData::XidEvent(_) => {
                    if let Some(t) = txn.take() {
                        self.commit(t, &file, log_pos, timestamp_ms, state, tx)
                            .await?;
                    }
                }
                EventData::HeartbeatEvent if txn.is_none() => {
                    let hb = StreamEvent::Heartbeat {
                        position: state.resume.clone(),
                        time_ms: now_ms(),
                    };
                    if tx.send(Ok(hb)).await.is_err() {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
    }

    /// A connection prepared to request a binlog stream: heartbeat period set, MariaDB
    /// capabilities announced. Also says whether the server writes event checksums (events
    /// before the first format description carry one the decoder cannot know about yet).
    pub(super) async fn replication_conn(&self) -> Result<(mysql_async::Conn, bool), Error> {
        let ep = &self.endpoint;
        let mut conn = ep.connect().await?;
        let heartbeat_ns = self
            .options
            .heartbeat
            .as_nanos()
            .min(u128::from(u64::MAX / 2));
        let checksum: Option<String> = conn
            .query_first("SELECT @@global.binlog_checksum")
            .await
            .map_err(|e| ep.map_err("read binlog_checksum", e))?;
        let server_checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        conn.query_drop(format!("SET @master_heartbeat_period = {heartbeat_ns}"))
            .await
            .map_err(|e| ep.map_err("set heartbeat", e))?;
        if self.server.is_mariadb() {
            conn.query_drop("SET @mariadb_slave_capability = 4")
                .await
                .map_err(|e| ep.map_err("set capability", e))?;
        }
        Ok((conn, server_checksums))
    }

    pub(super) fn in_scope(&self, database: &str) -> bool {
        let s = &self.options.scope;
        if s.databases.is_empty() {
            !dts_core::SYSTEM_DATABASES.contains(&database)
        } else {
            s.databases.iter().any(|d| d == database)
        }
    }

    fn position(&self, file: &str, offset: u64, tracker: &GtidTracker) -> Position {
        Position {
            file: file.to_string(),
            offset,
            gtid_set: tracker.snapshot(),
        }
    }

    async fn refresh_after_ddl(
        &self,
        schemas: &mut SchemaCache,
        ddl: &dts_core::Ddl,
    ) -> Result<(), Error> {
        match ddl.kind {
            DdlKind::DropDatabase | DdlKind::CreateDatabase | DdlKind::AlterDatabase => {
                if let Some(db) = ddl_database(ddl) {
                    schemas.refresh_database(&db).await?;
                }
            }
            DdlKind::Unparsed => {
                if let Some(db) = &ddl.database {
                    schemas.refresh_database(db).await?;
                }
            }
            _ => {
                for t in &ddl.tables {
                    if self.in_scope(&t.database) {
                        schemas.refresh(t).await?;
                    } else {
                        schemas.forget(t);
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the prepared part of an XA transaction: its changes are held until the commit or
    /// rollback; the GTID of the prepare group counts as executed, and the consumer may move its
    /// checkpoint past it (a restarted reader finds the prepare again, see [`super::xa`]).
    #[allow(clippy::too_many_arguments)]
    async fn prepare(
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
    async fn commit_prepared(
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

    async fn commit(
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

/// The file name of a ROTATE event. The first (fake) rotate arrives before the format
/// description announces checksums, so when the server writes them its name still ends in the
/// 4 checksum bytes (which may happen to be digits): they are cut off exactly.
pub(super) fn rotate_name(raw: &[u8], has_unread_checksum: bool) -> String {
    let name = if has_unread_checksum && raw.len() > 4 {
        &raw[..raw.len() - 4]
    } else {
        raw
    };
    String::from_utf8_lossy(name).into_owned()
}

/// The database a database-level DDL names (its first word after DATABASE/SCHEMA).
fn ddl_database(ddl: &dts_core::Ddl) -> Option<String> {
    let words: Vec<&str> = ddl.statement.split_whitespace().collect();
    let pos = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("database") || w.eq_ignore_ascii_case("schema"))?;
    let rest = words[pos + 1..]
        .iter()
        .find(|w| !["if", "not", "exists"].contains(&w.to_ascii_lowercase().as_str()))?;
    Some(
        rest.trim_matches(|c| c == '`' || c == ';')
            .replace("``", "`"),
    )
}

struct ReaderState {
    /// End of the last delivered transaction: where a reconnect resumes.
    resume: Position,
    tracker: GtidTracker,
    /// XA transactions prepared in the stream and not yet committed or rolled back; kept
    /// across reconnects.
    pending_xa: PendingXa,
    /// Start of the first event group this reader received: the prepare of an XA transaction
    /// committed later but not held in `pending_xa` lies before it.
    scan_limit: Option<Position>,
}

enum PendingGtid {
    Mariadb(MariadbGtid),
    Mysql(String, u64),
}

struct TxnBuilder {
    begin: Position,
    gtid: Option<PendingGtid>,
    standalone: bool,
    changes: Vec<Change>,
    first_change: u64,
    /// Applied by the two-way partner task: dropped whole at commit.
    echo: bool,
    /// The prepared part of an XA transaction: held until its XA_PREPARE, never fragmented.
    xa: bool,
    /// Savepoints set in the group, for a logged `ROLLBACK TO SAVEPOINT`.
    savepoints: Savepoints,
}

impl TxnBuilder {
    fn new(begin: Position, gtid: Option<PendingGtid>, standalone: bool) -> Self {
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
    fn take_fragment(&mut self, file: &str, log_pos: u64, timestamp_ms: u64) -> Transaction {
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

/// Decodes a rows event of table `id` into `out`, with the schema that describes its images
/// (a system-versioned table's changes of current rows only, see [`versioning`]).
pub(super) async fn decode_event(
    schemas: &mut SchemaCache,
    id: &TableId,
    tme: &TableMapEvent<'static>,
    rows: &RowsEventData<'_>,
    endpoint: &str,
    at: At<'_>,
    out: &mut Vec<Change>,
) -> Result<(), Error> {
    let versioned = schemas
        .get(id)
        .and_then(|v| versioning::with_period_columns(v, tme).map(|f| (v.clone(), f)));
    if let Some((visible, full)) = versioned {
        let full = Arc::new(full);
        let mut decoded = Vec::new();
        guard::contain(endpoint, at, "decoding a rows event", || {
            decode_rows(rows, tme, &full, &mut decoded)
        })??;
        versioning::current_rows(decoded, &visible, out);
        return Ok(());
    }
    let schema = resolve_schema(schemas, id, tme).await?;
    guard::contain(endpoint, at, "decoding a rows event", || {
        decode_rows(rows, tme, &schema, out)
    })?
}

/// The schema to decode a table map's rows with: the cached one when it matches the map, else
/// a re-read one, else one built from the map's own metadata.
async fn resolve_schema(
    schemas: &mut SchemaCache,
    id: &TableId,
    tme: &TableMapEvent<'static>,
) -> Result<SchemaRef, Error> {
    let names = column_names(tme);
    let matches = |s: &SchemaRef| {
        s.columns.len() == tme.columns_count() as usize
            && names
                .as_ref()
                .is_none_or(|n| n.iter().zip(&s.columns).all(|(a, c)| *a == c.name))
    };
    if let Some(s) = schemas.get(id) {
        if matches(s) {
            return Ok(s.clone());
        }
    }
    let fresh = schemas.refresh(id).await?;
    if let Some(s) = &fresh {
        if matches(s) {
            return Ok(s.clone());
        }
    }
    schema_from_table_map(tme, fresh.as_deref())
        .map(Arc::new)
        .ok_or_else(|| Error::Schema {
            table: id.clone(),
            message: format!(
                "row image has {} columns but the table's current definition differs and the binlog \
                 lacks column metadata to decode it (set binlog_row_metadata=FULL on the source)",
                tme.columns_count()
            ),
        })
}

fn decode_image(row: BinlogRow, schema: &SchemaRef) -> Result<dts_core::Row, Error> {
    let values = row.unwrap();
    if values.len() != schema.columns.len() {
        return Err(Error::Schema {
            table: schema.id.clone(),
            message: format!(
                "row image has {} of {} columns; the source must use binlog_row_image=FULL",
                values.len(),
                schema.columns.len()
            ),
        });
    }
    values
        .into_iter()
        .zip(&schema.columns)
        .map(|(v, col)| {
            let raw = match v {
                BinlogValue::Value(v) => v,
                BinlogValue::Jsonb(j) => {
                    let json = serde_json::Value::try_from(j).map_err(|e| Error::Schema {
                        table: schema.id.clone(),
                        message: format!("column {}: undecodable JSON: {e}", col.name),
                    })?;
                    mysql_async::Value::Bytes(json.to_string().into_bytes())
                }
                BinlogValue::JsonDiff(_) => {
                    return Err(Error::Schema {
                        table: schema.id.clone(),
                        message: format!(
                            "column {}: partial JSON update in binlog; set binlog_row_value_options='' on the source",
                            col.name
                        ),
                    })
                }
            };
            decode(col, raw, Origin::Binlog).map_err(|m| Error::Schema {
                table: schema.id.clone(),
                message: format!("column {}: {m}", col.name),
            })
        })
        .collect()
}

fn decode_rows(
    rows: &RowsEventData<'_>,
    tme: &TableMapEvent<'static>,
    schema: &SchemaRef,
    out: &mut Vec<Change>,
) -> Result<(), Error> {
    let op = match rows {
        RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => RowOp::Insert,
        RowsEventData::UpdateRowsEvent(_)
        | RowsEventData::UpdateRowsEventV1(_)
        | RowsEventData::PartialUpdateRowsEvent(_) => RowOp::Update,
        RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => RowOp::Delete,
    };
    for pair in rows.rows(tme) {
        let (before, after) = pair.map_err(|e| Error::Schema {
            table: schema.id.clone(),
            message: format!("undecodable row event: {e}"),
        })?;
        let before = before.map(|r| decode_image(r, schema)).transpose()?;
        let after = after.map(|r| decode_image(r, schema)).transpose()?;
        out.push(Change::Row(RowChange {
            schema: schema.clone(),
            op,
            before,
            after,
        }));
    }
    Ok(())
}

async fn check_file_present(
    conn: &mut mysql_async::Conn,
    ep: &MysqlEndpoint,
    file: &str,
) -> Result<(), Error> {
    let logs: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(|e| ep.map_err("list binary logs", e))?;
    let present = logs
        .iter()
        .any(|r| r.get::<String, _>(0).as_deref() == Some(file));
    if present {
        Ok(())
    } else {
        Err(Error::BinlogPurged {
            file: file.to_string(),
            message: format!("{} no longer lists it in SHOW BINARY LOGS", ep.label),
        })
    }
}

pub(super) fn map_stream_err(ep: &MysqlEndpoint, from: &Position, e: mysql_async::Error) -> Error {
    if let mysql_async::Error::Server(s) = &e {
        if s.code == 1236 {
            return Error::BinlogPurged {
                file: if from.file.is_empty() {
                    from.gtid_set
                        .as_ref()
                        .map(|g| g.text.clone())
                        .unwrap_or_default()
                } else {
                    from.file.clone()
                },
                message: format!("{}: {}", ep.label, s.message),
            };
        }
    }
    ep.map_err("binlog stream", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_names_lose_checksum_bytes() {
        assert_eq!(
            rotate_name(b"binlog.000004N\xfe\x12>", true),
            "binlog.000004"
        );
        // Checksum bytes that happen to be digits.
        assert_eq!(rotate_name(b"binlog.0000011234", true), "binlog.000001");
        assert_eq!(rotate_name(b"mysql-bin.000010", false), "mysql-bin.000010");
    }
}
