//! The binlog reader: a replication connection turned into a stream of committed transactions.
//!
//! Event groups are assembled into [`Transaction`]s at their commit (XID, `COMMIT`, or the end
//! of a standalone DDL), carrying the begin and end positions with the executed GTID set, so a
//! consumer can resume after any delivered transaction by file/offset or by GTID. Transactions
//! with more changes than `max_transaction_changes` are delivered in fragments. A lost
//! connection ends the stream with a connection error: the task's retry window reconnects,
//! from the end of the last delivered transaction.
//!
//! In pieces: [`stream`] sets up the replication connection and frames events, [`events`]
//! has one handler per event kind, [`txn`] assembles and delivers transactions.

use super::gtid::GtidTracker;
use super::guard::{self, At};
use super::loop_guard::LoopGuard;
use super::schema_cache::SchemaCache;
use super::table_map::{column_names, schema_from_table_map};
use super::versioning;
use super::xa::PendingXa;
use crate::wire::catalog::Scope;
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::decode::{decode, Origin};
use dts_core::{
    Change, DdlKind, Error, Position, RowChange, RowOp, SchemaRef, StreamEvent, TableId,
};
use futures::stream::BoxStream;
use futures::StreamExt;
use mysql_async::binlog::events::{RowsEventData, TableMapEvent};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

mod events;
mod stream;
mod txn;

use events::{Cursor, Flow, Reading};

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

    /// Reads the stream from `state.resume` until it fails or the consumer goes away: the
    /// connection ([`stream`](self::stream)), then one event at a time through its handler
    /// ([`events`](self::events)); transactions are assembled in [`txn`](self::txn).
    async fn run(
        &self,
        state: &mut ReaderState,
        tx: &mpsc::Sender<Result<StreamEvent, Error>>,
    ) -> Result<(), Error> {
        let meta = self.endpoint.connect().await?;
        let mut schemas = SchemaCache::load(meta, self.server.clone(), &self.options.scope).await?;
        let (mut stream, server_checksums) = self.open_stream(state).await?;
        let mut cur = Cursor::new(&state.resume, server_checksums);
        loop {
            let event = self.next_event(&mut stream, &cur, state).await?;
            if tx.is_closed() {
                return Ok(());
            }
            let mut reading = Reading {
                cur: &mut cur,
                state,
                schemas: &mut schemas,
                tx,
            };
            let flow = self.on_event(&event, &stream, &mut reading).await?;
            if flow == Flow::ConsumerGone {
                return Ok(());
            }
        }
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
