//! Binlog row decoding: arbitrary bytes read as a binlog event stream; every table map becomes
//! a schema (`schema_from_table_map`) and every row image of a rows event on a known table is
//! decoded into dts values (`decode`, binlog origin). Nothing of dts may panic; errors are fine.
//!
//! Event framing and parsing are mysql_common's (0.37.3), which panics on some malformed events
//! (an event size larger than the bytes that follow; a malformed transaction payload event)
//! or aborts (a PREVIOUS_GTIDS event claiming a huge count). The framing is contained here
//! with `catch_unwind` as the reader contains it; event bodies go through the reader's own
//! guard (`dts_mysql::source::binlog::guard::event_data`). A panic in dts code aborts the run and is
//! reported.
#![no_main]

use dts_mysql::source::binlog::table_map::schema_from_table_map;
use dts_mysql::wire::decode::{decode, Origin};
use libfuzzer_sys::fuzz_target;
use mysql_common::binlog::consts::BinlogVersion;
use mysql_common::binlog::events::{Event, EventData, TableMapEvent};
use mysql_common::binlog::row::BinlogRow;
use mysql_common::binlog::value::BinlogValue;
use mysql_common::binlog::EventStreamReader;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// Runs third-party parsing; `None` when it panicked.
fn contained<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn read_event(reader: &mut EventStreamReader, input: &mut &[u8]) -> Option<Event> {
    // mysql_common's framing allocates the size an event header claims (up to 4 GiB) before
    // reading it. In the reader, that framing runs inside mysql_async on one replication
    // packet, out of dts's reach (a known limit, see the reader's guard); here the stream is
    // the fuzz input, so a claim beyond the input ends the stream instead of exhausting
    // libFuzzer's memory limit on code that is not dts's.
    let claimed = input
        .get(9..13)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)?;
    if claimed > input.len() {
        return None;
    }
    contained(|| reader.read(input))
        .and_then(|r| r.ok())
        .flatten()
}

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's hook aborts on any panic, contained or not: replace it with one that
    // prints panics outside mysql_common. Uncontained panics still abort through
    // libfuzzer-sys's own catch_unwind and are reported as crashes.
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let third_party = info
                .location()
                .is_some_and(|l| l.file().contains("mysql_common"));
            if !third_party {
                eprintln!("{info}");
            }
        }));
    });
    let mut reader = EventStreamReader::new(BinlogVersion::Version4);
    let mut input = data;
    let mut tables: HashMap<u64, (TableMapEvent<'static>, dts_core::TableSchema)> = HashMap::new();
    // A bounded number of events: a malformed length can only shorten the stream.
    for _ in 0..64 {
        let Some(event) = read_event(&mut reader, &mut input) else {
            break;
        };
        // dts's guard (header and claimed counts checked, only used event types parsed,
        // mysql_common's parsing contained) decides what is parsed: an abort here is a guard
        // that let a hostile count through.
        let at = dts_mysql::source::binlog::guard::At {
            file: "fuzz",
            offset: 0,
        };
        let Ok(Some(data)) = dts_mysql::source::binlog::guard::event_data(&event, "fuzz", at) else {
            continue;
        };
        match data {
            EventData::TableMapEvent(tme) => {
                if let Some(schema) = schema_from_table_map(&tme, None) {
                    tables.insert(tme.table_id(), (tme.into_owned(), schema));
                }
            }
            EventData::RowsEvent(rows) => {
                let Some((tme, schema)) = tables.get(&rows.table_id()) else {
                    continue;
                };
                let images: Option<Vec<BinlogRow>> = contained(|| {
                    let mut out = Vec::new();
                    for pair in rows.rows(tme).take(256) {
                        let Ok((before, after)) = pair else { break };
                        out.extend(before);
                        out.extend(after);
                    }
                    out
                });
                for image in images.unwrap_or_default() {
                    for (value, column) in image.unwrap().into_iter().zip(&schema.columns) {
                        if let BinlogValue::Value(v) = value {
                            let _ = decode(column, v, Origin::Binlog);
                        }
                    }
                }
            }
            _ => {}
        }
    }
});
