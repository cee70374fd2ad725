//! MySQL side of the guide's "Synchronization Types": where incremental synchronization starts
//! when full data synchronization is off (binlog coordinates, a GTID set or a point in time),
//! and which destination tables are missing when schema synchronization is off.

use crate::source::position::read_position;
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use dts_core::config::StartAt;
use dts_core::{Error, GtidSet, Position};
use futures::StreamExt;
use mysql_async::binlog::events::Event;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn};

/// Binlog event types that open a transaction: MySQL GTID and anonymous GTID, MariaDB GTID.
const TRANSACTION_STARTS: [u8; 3] = [
    0x21,
    0x22,
    crate::source::binlog::mariadb_events::MARIADB_GTID_EVENT,
];
/// `FORMAT_DESCRIPTION_EVENT`: the first real event of every binlog file.
const FORMAT_DESCRIPTION: u8 = 0x0f;

/// Resolves `start` into the position incremental synchronization starts from; `None` for
/// [`StartAt::Current`] (the task takes the current position itself).
///
/// A time resolves to the first transaction committed at or after it: the binlog files'
/// first-event timestamps pick the file that contains the time, and that file (and the next
/// ones) is read up to the first transaction whose timestamp is at or after it. A time after the
/// last transaction resolves to the current position.
pub async fn resolve_start(
    endpoint: &MysqlEndpoint,
    server: &ServerInfo,
    start: &StartAt,
) -> Result<Option<Position>, Error> {
    match start {
        StartAt::Current => Ok(None),
        StartAt::Position { file, offset } => {
            let mut conn = endpoint.connect().await?;
            let files = binlog_files(&mut conn, endpoint).await?;
            if !files.contains(file) {
                return Err(Error::definite(
                    &endpoint.label,
                    format!(
                        "sync_types.start_position: binlog file {file} is not on the source \
                         (it has {}); purged files cannot be read",
                        files.join(", ")
                    ),
                ));
            }
            Ok(Some(Position::new(file.clone(), *offset)))
        }
        StartAt::Gtid(text) => Ok(Some(Position {
            file: String::new(),
            offset: 0,
            gtid_set: Some(GtidSet {
                flavor: server.flavor,
                text: text.clone(),
            }),
        })),
        StartAt::Time(secs) => position_at_time(endpoint, server, *secs).await.map(Some),
    }
}

async fn binlog_files(conn: &mut Conn, ep: &MysqlEndpoint) -> Result<Vec<String>, Error> {
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(|e| ep.map_err("list binlog files (SHOW BINARY LOGS)", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.get::<String, _>(0))
        .collect())
}

/// A server id for the short-lived binlog readers used here, distinct from the task's reader.
fn probe_server_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    2_000_000_000
        + (std::process::id() % 100_000) * 100
        + NEXT.fetch_add(1, Ordering::Relaxed) % 100
}

/// A non-blocking binlog stream from `file`:4 (ends when it has caught up).
async fn open_stream(
    ep: &MysqlEndpoint,
    server: &ServerInfo,
    file: &str,
) -> Result<mysql_async::BinlogStream, Error> {
    let mut conn = ep.connect().await?;
    if server.is_mariadb() {
        conn.query_drop("SET @mariadb_slave_capability = 4")
            .await
            .map_err(|e| ep.map_err("set capability", e))?;
    }
    let request = BinlogStreamRequest::new(probe_server_id())
        .with_filename(file.as_bytes())
        .with_pos(4u64)
        .with_non_blocking();
    conn.get_binlog_stream(request)
        .await
        .map_err(|e| ep.map_err(&format!("read binlog file {file}"), e))
}

/// Timestamp of the first real event of `file` (its format description).
async fn file_start_time(
    ep: &MysqlEndpoint,
    server: &ServerInfo,
    file: &str,
) -> Result<u32, Error> {
    let mut stream = open_stream(ep, server, file).await?;
    while let Some(event) = stream.next().await {
        let event: Event = event.map_err(|e| ep.map_err(&format!("read binlog file {file}"), e))?;
        if event.header().event_type_raw() == FORMAT_DESCRIPTION {
            return Ok(event.header().timestamp());
        }
    }
    Err(Error::definite(
        &ep.label,
        format!("binlog file {file} has no format description event"),
    ))
}

async fn position_at_time(
    ep: &MysqlEndpoint,
    server: &ServerInfo,
    secs: u64,
) -> Result<Position, Error> {
    let mut conn = ep.connect().await?;
    let files = binlog_files(&mut conn, ep).await?;
    let Some(first) = files.first() else {
        return Err(Error::definite(
            &ep.label,
            "binary logging is off: enable log_bin",
        ));
    };
    // The last file that started at or before the time contains it (or the first file, when
    // every file started later: then its first transaction is the answer).
    let mut from = first.clone();
    for file in &files {
        if u64::from(file_start_time(ep, server, file).await?) <= secs {
            from = file.clone();
        } else {
            break;
        }
    }
    let mut stream = open_stream(ep, server, &from).await?;
    let mut file = from;
    // Inside a file, after its format description (rotates there have clean names).
    let mut in_file = false;
    while let Some(event) = stream.next().await {
        let event: Event = event.map_err(|e| ep.map_err("scan binlog for start_time", e))?;
        let header = event.header();
        // Real rotates (at a file's end) name the next file; the fake one the server sends
        // before a file's format description may carry checksum bytes in its name, and it only
        // repeats the file already known.
        if header.event_type_raw() == FORMAT_DESCRIPTION {
            in_file = true;
            continue;
        }
        if let Ok(Some(mysql_async::binlog::events::EventData::RotateEvent(r))) = event.read_data()
        {
            if in_file {
                file = String::from_utf8_lossy(r.name_raw()).into_owned();
                in_file = false;
            }
            continue;
        }
        if TRANSACTION_STARTS.contains(&header.event_type_raw())
            && u64::from(header.timestamp()) >= secs
        {
            let end = u64::from(header.log_pos());
            let start = end.saturating_sub(u64::from(header.event_size()));
            return Ok(Position::new(file, start));
        }
    }
    read_position(&mut conn, ep, server).await
}
