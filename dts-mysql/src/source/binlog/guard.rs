//! Defences against a corrupt or hostile binlog stream.
//!
//! mysql_common's event parsers trust the lengths and counts an event claims: an event size
//! larger than the bytes that follow makes the framing panic, a malformed TRANSACTION_PAYLOAD
//! event panics while its header is read, and a PREVIOUS_GTIDS event or a table map's ENUM/SET
//! metadata claiming billions of entries makes the parser reserve memory for all of them (an
//! allocation failure aborts the process; no `catch_unwind` contains that). The reader therefore
//!
//! 1. checks every event's header against the bytes that came with it ([`check_header`]),
//! 2. bounds every count an event claims by the bytes that could hold the entries, before any
//!    parser sees the event ([`check_counts`]),
//! 3. parses only the event types it uses ([`event_data`]), and
//! 4. runs all third-party parsing (the stream's own framing included) under [`contain`], which
//!    turns a panic into an error.
//!
//! Every failure is a definite [`Error`] naming the binlog file and offset ([`At`]).

use super::mariadb_events::MARIADB_GTID_LIST_EVENT;
use dts_core::Error;
use mysql_async::binlog::events::{Event, EventData, TableMapEvent};
use mysql_common::proto::MySerialize;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Length of the common binlog event header.
pub const HEADER_LEN: usize = 19;

/// Bytes an event may carry beyond its parsed body: a CRC32 checksum and, for a format
/// description, the checksum algorithm byte.
const MAX_FOOTER_LEN: usize = 5;

const QUERY: u8 = 2;
const ROTATE: u8 = 4;
const FORMAT_DESCRIPTION: u8 = 15;
const XID: u8 = 16;
const TABLE_MAP: u8 = 19;
const HEARTBEAT: u8 = 27;
const GTID: u8 = 33;
const ANONYMOUS_GTID: u8 = 34;
const PREVIOUS_GTIDS: u8 = 35;
/// WRITE/UPDATE/DELETE rows events v1 and v2, and partial-JSON updates.
const ROWS: [u8; 7] = [23, 24, 25, 30, 31, 32, 39];

/// Where an event was read: the binlog file and the offset of the event (or, when the event
/// itself could not be framed, the end of the last good one).
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// Binlog file name (empty before the stream named one).
    pub file: &'a str,
    /// Byte offset in that file.
    pub offset: u64,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = if self.file.is_empty() {
            "(file not yet named)"
        } else {
            self.file
        };
        write!(f, "binlog {file} at offset {}", self.offset)
    }
}

/// The error for a malformed event read from `endpoint` at `at`.
pub fn malformed(endpoint: &str, at: At<'_>, detail: impl fmt::Display) -> Error {
    Error::definite(
        endpoint,
        format!("malformed binlog event in {at}: {detail}; the stream was stopped there"),
    )
}

/// Runs `f` (third-party parsing), turning a panic into an error naming `what` and `at`.
pub fn contain<T>(
    endpoint: &str,
    at: At<'_>,
    what: &str,
    f: impl FnOnce() -> T,
) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        malformed(
            endpoint,
            at,
            format!("the parser failed while {what}: {message}"),
        )
    })
}

/// Checks an event's header against its bytes: the claimed size must cover the header and
/// exactly the body that was read (plus at most a checksum footer), and the end position it
/// claims must not lie before its own start.
pub fn check_header(event: &Event) -> Result<(), String> {
    let header = event.header();
    let size = header.event_size() as usize;
    let body = event.data().len();
    if size < HEADER_LEN {
        return Err(format!(
            "event size {size} is smaller than the {HEADER_LEN}-byte header"
        ));
    }
    let claimed = size - HEADER_LEN;
    if claimed < body || claimed - body > MAX_FOOTER_LEN {
        return Err(format!(
            "event type {} claims {size} bytes but carries {} ({body}-byte body)",
            header.event_type_raw(),
            HEADER_LEN + body
        ));
    }
    let log_pos = header.log_pos();
    if log_pos != 0 && (log_pos as usize) < size {
        return Err(format!(
            "event type {} ends at offset {log_pos}, before its own {size} bytes",
            header.event_type_raw()
        ));
    }
    Ok(())
}

/// Bounds the entry counts an event claims by the bytes that could hold them, before any
/// parser reserves memory for them: PREVIOUS_GTIDS (sids, intervals), MariaDB's GTID_LIST,
/// and the ENUM/SET value lists of a table map's optional metadata.
pub fn check_counts(event: &Event) -> Result<(), String> {
    let body = event.data();
    match event.header().event_type_raw() {
        PREVIOUS_GTIDS => check_previous_gtids(body),
        MARIADB_GTID_LIST_EVENT => {
            let count = body
                .get(0..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x0fff_ffff)
                .ok_or("GTID_LIST event without a count")?;
            let room = (body.len() - 4) / 16;
            if count as usize > room {
                return Err(format!(
                    "GTID_LIST event claims {count} entries but has room for {room}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn le_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

fn check_previous_gtids(body: &[u8]) -> Result<(), String> {
    let header = le_u64(body).ok_or("PREVIOUS_GTIDS event shorter than its count")?;
    let tagged = (header >> 56) != 0;
    let n_sids = if tagged {
        (header >> 8) & ((1 << 48) - 1)
    } else {
        header & ((1 << 56) - 1)
    };
    // Each sid takes at least a 16-byte UUID and an 8-byte interval count (tagged: one more
    // byte for the tag length).
    let per_sid = if tagged { 25 } else { 24 };
    let rest = &body[8..];
    let room = (rest.len() / per_sid) as u64;
    if n_sids > room {
        return Err(format!(
            "PREVIOUS_GTIDS event claims {n_sids} source ids but has room for {room}"
        ));
    }
    if !tagged {
        let mut at = rest;
        for _ in 0..n_sids {
            let n = le_u64(at.get(16..).unwrap_or_default())
                .ok_or("PREVIOUS_GTIDS event cut inside a source id")?;
            at = &at[24..];
            let room = (at.len() / 16) as u64;
            if n > room {
                return Err(format!(
                    "PREVIOUS_GTIDS event claims {n} intervals but has room for {room}"
                ));
            }
            at = &at[n as usize * 16..];
        }
    }
    Ok(())
}

/// Reads a length-encoded integer; `None` at the end of `buf` or on the invalid 0xff prefix.
fn lenenc(buf: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = buf.split_first()?;
    let (len, value_bytes) = match first {
        0..=0xfa => {
            *buf = rest;
            return Some(u64::from(first));
        }
        0xfc => (2, rest),
        0xfd => (3, rest),
        0xfe => (8, rest),
        _ => return None,
    };
    let bytes = value_bytes.get(..len)?;
    let mut v = [0u8; 8];
    v[..len].copy_from_slice(bytes);
    *buf = &value_bytes[len..];
    Some(u64::from_le_bytes(v))
}

/// Splits `n` bytes off `buf`.
fn take<'a>(buf: &mut &'a [u8], n: u64) -> Option<&'a [u8]> {
    let n = usize::try_from(n).ok()?;
    let head = buf.get(..n)?;
    *buf = &buf[n..];
    Some(head)
}

/// Optional-metadata field types whose value is a list of ENUM or SET value lists.
const SET_STR_VALUE: u8 = 5;
const ENUM_STR_VALUE: u8 = 6;

/// Checks the counts in a table map's optional metadata: every ENUM/SET value list must be
/// able to hold the number of values it claims (each takes at least its length byte).
pub fn check_table_map(tme: &TableMapEvent<'_>) -> Result<(), String> {
    // The serialized body (6-byte table id, whatever the server sent) is walked up to the
    // optional metadata.
    let mut bytes = Vec::new();
    tme.serialize(&mut bytes);
    let mut buf = &bytes[..];
    let bad = || "table map cut short".to_string();
    take(&mut buf, 8).ok_or_else(bad)?; // table id, flags
    for _ in 0..2 {
        // database, table: length byte, name, NUL
        let len = *buf.first().ok_or_else(bad)?;
        take(&mut buf, 1 + u64::from(len) + 1).ok_or_else(bad)?;
    }
    let columns = lenenc(&mut buf).ok_or_else(bad)?;
    take(&mut buf, columns).ok_or_else(bad)?;
    let meta_len = lenenc(&mut buf).ok_or_else(bad)?;
    take(&mut buf, meta_len).ok_or_else(bad)?;
    take(&mut buf, columns.div_ceil(8)).ok_or_else(bad)?;
    // Optional metadata: type byte, length, value.
    while let Some((&kind, rest)) = buf.split_first() {
        buf = rest;
        let len = lenenc(&mut buf).ok_or_else(bad)?;
        let mut value = take(&mut buf, len).ok_or_else(|| {
            format!("table map optional metadata field {kind} claims {len} bytes past the event")
        })?;
        if kind == SET_STR_VALUE || kind == ENUM_STR_VALUE {
            while !value.is_empty() {
                let n = lenenc(&mut value).ok_or_else(bad)?;
                if n > value.len() as u64 {
                    return Err(format!(
                        "table map {} metadata claims {n} values in {} bytes",
                        if kind == SET_STR_VALUE { "SET" } else { "ENUM" },
                        value.len()
                    ));
                }
                for _ in 0..n {
                    let l = lenenc(&mut value).ok_or_else(bad)?;
                    take(&mut value, l).ok_or_else(bad)?;
                }
            }
        }
    }
    Ok(())
}

/// True for the event types whose bodies the reader parses.
pub fn is_parsed(type_raw: u8) -> bool {
    matches!(
        type_raw,
        QUERY | ROTATE | FORMAT_DESCRIPTION | XID | TABLE_MAP | HEARTBEAT | GTID | ANONYMOUS_GTID
    ) || ROWS.contains(&type_raw)
}

/// The parsed body of an event the reader uses (`None` for any other type, which is never
/// parsed), after [`check_header`] and [`check_counts`]; a table map's metadata counts are
/// checked too ([`check_table_map`]). Parsing runs under [`contain`].
pub fn event_data<'e>(
    event: &'e Event,
    endpoint: &str,
    at: At<'_>,
) -> Result<Option<EventData<'e>>, Error> {
    check_header(event).map_err(|m| malformed(endpoint, at, m))?;
    check_counts(event).map_err(|m| malformed(endpoint, at, m))?;
    let kind = event.header().event_type_raw();
    if !is_parsed(kind) {
        return Ok(None);
    }
    let data = contain(endpoint, at, "reading the event body", || event.read_data())?
        .map_err(|e| malformed(endpoint, at, format!("event type {kind}: {e}")))?;
    if let Some(EventData::TableMapEvent(tme)) = &data {
        check_table_map(tme).map_err(|m| malformed(endpoint, at, m))?;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::binlog::events::TransactionPayloadEvent;
    use mysql_common::binlog::consts::BinlogVersion;
    use mysql_common::binlog::EventStreamReader;

    const EP: &str = "source";

    /// An event: the 19-byte header (size from `size`, or the real one) and `body`.
    fn event(kind: u8, body: &[u8], size: Option<u32>, log_pos: u32) -> Vec<u8> {
        let size = size.unwrap_or((HEADER_LEN + body.len()) as u32);
        let mut out = Vec::new();
        out.extend(1_700_000_000u32.to_le_bytes());
        out.push(kind);
        out.extend(1u32.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(log_pos.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(body);
        out
    }

    /// What the reader does with one packet: the stream's framing (mysql_async runs this and,
    /// for a TRANSACTION_PAYLOAD event, reads its header) under `contain`, then `event_data`.
    fn feed(packet: &[u8]) -> Result<Option<String>, Error> {
        let at = At {
            file: "binlog.000007",
            offset: 1234,
        };
        let mut esr = EventStreamReader::new(BinlogVersion::Version4);
        let event = contain(EP, at, "framing the event", || {
            let event = esr.read(packet)?;
            if let Some(e) = &event {
                if e.header().event_type_raw() == 40 {
                    e.read_event::<TransactionPayloadEvent<'_>>()?;
                }
            }
            Ok::<_, std::io::Error>(event)
        })?
        .map_err(|e| malformed(EP, at, e))?;
        let Some(event) = event else { return Ok(None) };
        Ok(event_data(&event, EP, at)?.map(|d| format!("{d:?}")))
    }

    fn assert_names_position(r: Result<Option<String>, Error>, needle: &str) {
        let e = r.expect_err("malformed event accepted").to_string();
        assert!(
            e.contains("binlog binlog.000007 at offset 1234") && e.contains(needle),
            "{e}"
        );
    }

    #[test]
    fn truncated_event_is_an_error_not_a_panic() {
        // The header claims 200 bytes; 10 follow.
        let packet = event(QUERY, &[0; 10], Some(200), 219);
        assert_names_position(feed(&packet), "framing the event");
        // A size smaller than the header.
        let packet = event(XID, &[0; 8], Some(3), 0);
        assert!(feed(&packet).is_err());
    }

    #[test]
    fn bad_transaction_payload_is_an_error_not_a_panic() {
        // Fields: compression type 7 (none such), payload size 0, end mark.
        let body = [2, 1, 7, 1, 1, 0, 0];
        assert_names_position(feed(&event(40, &body, None, 1000)), "framing the event");
        // An unknown field whose length runs past the event.
        let body = [9, 0xfc, 0xff, 0xff, 1];
        assert_names_position(feed(&event(40, &body, None, 1000)), "framing the event");
    }

    #[test]
    fn huge_previous_gtids_count_is_refused_before_parsing() {
        let mut body = (1u64 << 50).to_le_bytes().to_vec();
        body.extend([0u8; 24]);
        assert_names_position(
            feed(&event(PREVIOUS_GTIDS, &body, None, 1000)),
            "claims 1125899906842624 source ids",
        );
        // One sid claiming 2^40 intervals.
        let mut body = 1u64.to_le_bytes().to_vec();
        body.extend([0xab; 16]);
        body.extend((1u64 << 40).to_le_bytes());
        assert_names_position(feed(&event(PREVIOUS_GTIDS, &body, None, 1000)), "intervals");
        // A well-formed one passes (and is not parsed).
        let mut body = 1u64.to_le_bytes().to_vec();
        body.extend([0xab; 16]);
        body.extend(1u64.to_le_bytes());
        body.extend(1u64.to_le_bytes());
        body.extend(5u64.to_le_bytes());
        assert_eq!(
            feed(&event(PREVIOUS_GTIDS, &body, None, 1000)).unwrap(),
            None
        );
    }

    #[test]
    fn huge_gtid_list_count_is_refused() {
        let mut body = 0x0fff_ffffu32.to_le_bytes().to_vec();
        body.extend([0; 16]);
        assert_names_position(
            feed(&event(MARIADB_GTID_LIST_EVENT, &body, None, 1000)),
            "GTID_LIST",
        );
    }

    fn table_map(optional: &[u8]) -> Vec<u8> {
        let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0]; // table id 1, flags
        body.extend([2, b'd', b'b', 0, 1, b't', 0]);
        body.extend([1, 254]); // one STRING column
        body.extend([2, 247, 1]); // its metadata: real type ENUM, 1 byte
        body.push(0); // null bitmap
        body.extend(optional);
        body
    }

    #[test]
    fn huge_enum_value_count_is_refused() {
        // ENUM_STR_VALUE field: one list claiming 2^40 values.
        let value = [0xfe, 0, 0, 0, 0, 0, 1, 0, 0, 1, b'a'];
        let mut optional = vec![ENUM_STR_VALUE, value.len() as u8];
        optional.extend(value);
        let packet = event(TABLE_MAP, &table_map(&optional), None, 1000);
        assert_names_position(feed(&packet), "ENUM metadata claims 1099511627776 values");
        // The same with one real value decodes.
        let value = [1, 1, b'a'];
        let mut optional = vec![ENUM_STR_VALUE, value.len() as u8];
        optional.extend(value);
        let packet = event(TABLE_MAP, &table_map(&optional), None, 1000);
        assert!(feed(&packet).unwrap().unwrap().contains("TableMapEvent"));
    }

    #[test]
    fn header_lengths_are_checked() {
        let packet = event(XID, &7u64.to_le_bytes(), None, 1000);
        assert!(feed(&packet).unwrap().unwrap().contains("XidEvent"));
        // Ends before its own start.
        let packet = event(XID, &7u64.to_le_bytes(), None, 10);
        assert_names_position(feed(&packet), "before its own");
        // A body parse error is an error too, not a skipped event.
        let packet = event(XID, &[1, 2, 3], None, 1000);
        assert_names_position(feed(&packet), "event type 16");
    }

    #[test]
    fn unused_event_types_are_not_parsed() {
        // A garbage TRANSACTION_CONTEXT body is never read.
        assert_eq!(feed(&event(36, &[0xff; 9], None, 1000)).unwrap(), None);
    }
}
