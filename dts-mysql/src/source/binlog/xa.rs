//! XA (two-phase) transactions in the binlog.
//!
//! A server logs an XA transaction's rows when it is *prepared*, not when it is decided:
//!
//! ```text
//! GTID a (MariaDB: flag PREPARED_XA)   [MySQL: QUERY "XA START X'…',X'…',n"]
//! TABLE_MAP / ROWS …
//! QUERY "XA END X'…',X'…',n"
//! XA_PREPARE (event 38: one_phase, format id, gtrid, bqual)
//! … other transactions, possibly many …
//! GTID b   QUERY "XA COMMIT X'…',X'…',n"    (or "XA ROLLBACK …": the rows never happened)
//! ```
//!
//! The reader therefore keeps each prepared group's changes by XID ([`PendingXa`]) and delivers
//! them as one transaction at the group that commits them (positions and GTID of that group),
//! or drops them at the rollback. `XA COMMIT … ONE PHASE` is an ordinary commit of the group
//! that carries the rows.
//!
//! A restarted reader begins after its checkpoint and may meet the commit of an XID whose
//! prepare lies before it (prepared before the task started, or before the last checkpoint).
//! It then reads the binlog again, from the start of ever earlier files up to where its stream
//! began, until it finds that XID prepared and not yet decided (`BinlogReader::find_prepared`);
//! the checkpoint never needs to hold rows. A commit whose prepare is no longer in the binlog
//! is a definite error naming the XID, never a silent skip.

use super::guard::{self, At};
use super::mariadb_events::{MariadbGtid, MARIADB_GTID_EVENT};
use super::reader::{decode_event, map_stream_err, rotate_name, BinlogReader};
use super::schema_cache::SchemaCache;
use dts_core::{Change, Error, Position, TableId};
use futures::StreamExt;
use mysql_async::binlog::events::EventData;
use mysql_async::prelude::Queryable;
use mysql_async::BinlogStreamRequest;
use std::collections::HashMap;
use std::fmt;

/// Event type code of XA_PREPARE_LOG_EVENT (MySQL 5.7+, MariaDB 10.5+).
pub const XA_PREPARE_EVENT: u8 = 38;

/// MariaDB GTID event flag: the group is the prepared part of an XA transaction.
pub const FL_PREPARED_XA: u8 = 64;

/// An XA transaction identifier in the canonical form the server logs in its statements:
/// `X'<gtrid hex>',X'<bqual hex>',<format id>` (hex in lower case).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Xid(String);

impl Xid {
    /// The XID of parts read from an event.
    pub fn new(gtrid: &[u8], bqual: &[u8], format_id: i64) -> Self {
        Xid(format!("X'{}',X'{}',{format_id}", hex(gtrid), hex(bqual)))
    }
}

impl fmt::Display for Xid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An XA_PREPARE event's body: `one_phase` (1 byte), format id (4), gtrid length (4), bqual
/// length (4), then gtrid and bqual. `None` when the body is too short for what it claims.
pub fn parse_prepare(body: &[u8]) -> Option<(bool, Xid)> {
    let one_phase = *body.first()? != 0;
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?))
    };
    let format_id = word(1)? as i32;
    let gtrid_len = word(5)? as usize;
    let bqual_len = word(9)? as usize;
    // XID parts are at most 64 bytes each.
    if gtrid_len > 64 || bqual_len > 64 {
        return None;
    }
    let gtrid = body.get(13..13 + gtrid_len)?;
    let bqual = body.get(13 + gtrid_len..13 + gtrid_len + bqual_len)?;
    Some((one_phase, Xid::new(gtrid, bqual, i64::from(format_id))))
}

/// What an XA statement logged as a QUERY event does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XaStatement {
    /// `XA START` / `XA BEGIN` (MySQL logs it; MariaDB puts the XID in the GTID event).
    Start,
    /// `XA END`: the prepared group's rows are complete; the XA_PREPARE event follows.
    End,
    /// `XA COMMIT xid` (`one_phase`: `… ONE PHASE`, the rows are in this same group).
    Commit {
        /// The transaction decided.
        xid: Xid,
        /// True for `XA COMMIT … ONE PHASE`.
        one_phase: bool,
    },
    /// `XA ROLLBACK xid`.
    Rollback(Xid),
}

/// Recognizes an XA statement of a QUERY event; `None` for anything else (and for an XA
/// statement whose XID this parser cannot read, which the caller reports).
pub fn classify(sql: &str) -> Option<Result<XaStatement, String>> {
    let s = sql.trim_start();
    let (first, rest) = split_word(s);
    if !first.eq_ignore_ascii_case("XA") {
        return None;
    }
    let (verb, rest) = split_word(rest);
    let verb = verb.to_ascii_uppercase();
    Some(match verb.as_str() {
        "START" | "BEGIN" => Ok(XaStatement::Start),
        "END" => Ok(XaStatement::End),
        "COMMIT" => parse_xid(rest).map(|(xid, tail)| XaStatement::Commit {
            xid,
            one_phase: tail.to_ascii_uppercase().contains("ONE PHASE"),
        }),
        "ROLLBACK" => parse_xid(rest).map(|(xid, _)| XaStatement::Rollback(xid)),
        _ => return None, // XA RECOVER, XA PREPARE as text: nothing to replicate
    })
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Reads `gtrid[, bqual[, format_id]]` as the server logs it (`X'hex'` or quoted strings) and
/// returns the canonical XID and the text after it.
fn parse_xid(s: &str) -> Result<(Xid, &str), String> {
    let err = || format!("unreadable XID in XA statement: {s}");
    let (gtrid, mut rest) = parse_part(s).ok_or_else(err)?;
    let mut bqual = Vec::new();
    let mut format_id = 1i64;
    if let Some(r) = rest.trim_start().strip_prefix(',') {
        let (b, r) = parse_part(r).ok_or_else(err)?;
        bqual = b;
        rest = r;
        if let Some(r) = rest.trim_start().strip_prefix(',') {
            let r = r.trim_start();
            let end = r
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(r.len());
            format_id = r[..end].parse().map_err(|_| err())?;
            rest = &r[end..];
        }
    }
    Ok((Xid::new(&gtrid, &bqual, format_id), rest))
}

fn parse_part(s: &str) -> Option<(Vec<u8>, &str)> {
    let s = s.trim_start();
    if let Some(r) = s.strip_prefix("X'").or_else(|| s.strip_prefix("x'")) {
        let end = r.find('\'')?;
        let digits = &r[..end];
        if digits.len() % 2 != 0 {
            return None;
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        return Some((bytes, &r[end + 1..]));
    }
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &s[1..];
    let mut out = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if body[i + 1..].starts_with(quote) {
                chars.next();
                out.push(quote as u8);
                continue;
            }
            return Some((out, &body[i + 1..]));
        }
        if c == '\\' {
            let (_, n) = chars.next()?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(n.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    None
}

/// The changes of one prepared, undecided XA transaction.
#[derive(Debug)]
pub struct PreparedXa {
    /// Row changes of the prepared group, in log order.
    pub changes: Vec<Change>,
    /// Where the prepare was logged (for messages).
    pub prepared_at: String,
}

/// Prepared XA transactions the reader has seen and not yet seen decided.
#[derive(Debug, Default)]
pub struct PendingXa {
    prepared: HashMap<Xid, PreparedXa>,
}

impl PendingXa {
    /// Records a prepared group (a later prepare of a reused XID replaces an earlier one).
    pub fn prepare(&mut self, xid: Xid, xa: PreparedXa) {
        self.prepared.insert(xid, xa);
    }

    /// Takes a prepared group out, at its commit or rollback.
    pub fn take(&mut self, xid: &Xid) -> Option<PreparedXa> {
        self.prepared.remove(xid)
    }
}

/// Orders a binlog event by (file, offset) against a limit.
fn at_or_past(file: &str, offset: u64, limit: &Position) -> bool {
    (file, offset) >= (limit.file.as_str(), limit.offset)
}

impl BinlogReader {
    /// Finds the changes of XA transaction `xid`, prepared before `limit` (where the reader's
    /// stream began) and not decided before it, by reading the binlog again from the start of
    /// ever earlier files. A definite error when no listed binlog holds it.
    pub(super) async fn find_prepared(
        &self,
        xid: &Xid,
        limit: &Position,
        schemas: &mut SchemaCache,
        commit_at: At<'_>,
    ) -> Result<PreparedXa, Error> {
        let ep = &self.endpoint;
        let mut conn = ep.connect().await?;
        let logs: Vec<mysql_async::Row> = conn
            .query("SHOW BINARY LOGS")
            .await
            .map_err(|e| ep.map_err("list binary logs", e))?;
        drop(conn);
        let files: Vec<String> = logs
            .iter()
            .filter_map(|r| r.get::<String, _>(0))
            .filter(|f| f.as_str() <= limit.file.as_str())
            .collect();
        for first in (0..files.len()).rev() {
            let mut pending = self.scan_prepared(&files[first], limit, schemas).await?;
            if let Some(found) = pending.take(xid) {
                tracing::info!(%xid, prepared_at = %found.prepared_at, "found the prepare of a committed XA transaction by reading the binlog again");
                return Ok(found);
            }
        }
        Err(Error::BinlogPurged {
            file: files.first().cloned().unwrap_or_default(),
            message: format!(
                "{}: XA COMMIT of {xid} in {commit_at}, but no binlog the server still lists holds \
                 its XA PREPARE (and so its rows) before {limit}; the transaction's rows cannot \
                 be replicated: a new full sync is needed",
                ep.label
            ),
        })
    }

    /// The XA transactions prepared and undecided at `limit`, reading from the start of `file`.
    async fn scan_prepared(
        &self,
        file: &str,
        limit: &Position,
        schemas: &mut SchemaCache,
    ) -> Result<PendingXa, Error> {
        let ep = &self.endpoint;
        let (conn, checksums) = self.replication_conn().await?;
        let mut seen_format_description = false;
        let mut scanner = self.clone();
        // A separate replica id: the main stream stays registered.
        scanner.options.replica_server_id = self.options.replica_server_id.wrapping_add(500);
        let request = BinlogStreamRequest::new(scanner.options.replica_server_id)
            .with_filename(file.as_bytes())
            .with_pos(4u64);
        let from = Position::new(file, 4);
        let mut stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|e| map_stream_err(ep, &from, e))?;
        let mut file = file.to_string();
        let mut pending = PendingXa::default();
        // Changes of the XA group being read (None outside XA groups: nothing is decoded there).
        let mut group: Option<Vec<Change>> = None;
        while let Some(event) = stream.next().await {
            let event = event.map_err(|e| map_stream_err(ep, &from, e))?;
            let header = event.header();
            let log_pos = u64::from(header.log_pos());
            let start = log_pos.saturating_sub(u64::from(header.event_size()));
            let type_raw = header.event_type_raw();
            if log_pos != 0 && at_or_past(&file, start, limit) {
                break;
            }
            let at = At {
                file: &file,
                offset: start,
            };
            let data = guard::event_data(&event, &ep.label, at)?;
            if type_raw == MARIADB_GTID_EVENT {
                let g = MariadbGtid::parse(event.data(), header.server_id());
                group = g
                    .filter(|g| g.flags & FL_PREPARED_XA != 0)
                    .map(|_| Vec::new());
                continue;
            }
            if type_raw == XA_PREPARE_EVENT {
                if let (Some(changes), Some((one_phase, xid))) =
                    (group.take(), parse_prepare(event.data()))
                {
                    if !one_phase {
                        pending.prepare(
                            xid,
                            PreparedXa {
                                changes,
                                prepared_at: format!("{file}:{start}"),
                            },
                        );
                    }
                }
                continue;
            }
            let Some(data) = data else { continue };
            match data {
                EventData::FormatDescriptionEvent(_) => seen_format_description = true,
                EventData::RotateEvent(r) => {
                    let name = rotate_name(r.name_raw(), checksums && !seen_format_description);
                    if name.as_str() > limit.file.as_str() {
                        break;
                    }
                    file = name;
                }
                EventData::GtidEvent(_) | EventData::AnonymousGtidEvent(_) => group = None,
                EventData::XidEvent(_) => group = None,
                EventData::QueryEvent(q) => match classify(&q.query()) {
                    Some(Ok(XaStatement::Start)) => group = Some(Vec::new()),
                    Some(Ok(XaStatement::Commit { xid, .. }))
                    | Some(Ok(XaStatement::Rollback(xid))) => {
                        pending.take(&xid);
                    }
                    _ => {}
                },
                EventData::RowsEvent(rows) => {
                    let Some(changes) = group.as_mut() else {
                        continue;
                    };
                    let Some(tme) = stream.get_tme(rows.table_id()) else {
                        continue;
                    };
                    let id = TableId::new(
                        tme.database_name().into_owned(),
                        tme.table_name().into_owned(),
                    );
                    if !self.in_scope(&id.database) {
                        continue;
                    }
                    decode_event(schemas, &id, tme, &rows, &ep.label, at, changes).await?;
                }
                _ => {}
            }
        }
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_event_bodies() {
        let mut body = vec![0u8];
        body.extend(1u32.to_le_bytes());
        body.extend(1u32.to_le_bytes());
        body.extend(2u32.to_le_bytes());
        body.extend(b"bq1");
        let (one, xid) = parse_prepare(&body).unwrap();
        assert!(!one);
        assert_eq!(xid.to_string(), "X'62',X'7131',1");
        body[0] = 1;
        assert!(parse_prepare(&body).unwrap().0);
        assert!(parse_prepare(&body[..14]).is_none(), "cut inside the XID");
        let mut huge = vec![0u8];
        huge.extend(1u32.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        huge.extend(0u32.to_le_bytes());
        assert!(parse_prepare(&huge).is_none());
    }

    #[test]
    fn statements_and_xids() {
        let b = Xid::new(b"b", b"", 1);
        assert_eq!(
            classify("XA COMMIT X'62',X'',1"),
            Some(Ok(XaStatement::Commit {
                xid: b.clone(),
                one_phase: false
            }))
        );
        assert_eq!(
            classify("xa rollback 'b'"),
            Some(Ok(XaStatement::Rollback(b.clone())))
        );
        assert_eq!(
            classify("XA COMMIT 'b','',1 ONE PHASE"),
            Some(Ok(XaStatement::Commit {
                xid: b,
                one_phase: true
            }))
        );
        assert_eq!(classify("XA END X'62',X'',1"), Some(Ok(XaStatement::End)));
        assert_eq!(
            classify("XA START X'62',X'',1"),
            Some(Ok(XaStatement::Start))
        );
        assert_eq!(
            classify("XA COMMIT X'6',X'',1"),
            Some(Err("unreadable XID in XA statement:  X'6',X'',1".into()))
        );
        assert_eq!(classify("XA RECOVER"), None);
        assert_eq!(classify("COMMIT"), None);
        assert_eq!(
            classify("XA ROLLBACK X'ab01',X'ff',-3"),
            Some(Ok(XaStatement::Rollback(Xid::new(&[0xab, 1], &[0xff], -3))))
        );
    }
}
