//! Shareplex JSON: `{"meta":{…},"data":{…},"key":{…}}`, values in their text form.
//!
//! SharePlex comes from Oracle; its Oracle-specific meta fields are mapped onto the binlog:
//! `scn` is the binlog file's sequence number followed by the transaction's begin offset padded
//! to 10 digits (monotonic along the log: `mysql-bin.000003` offset 4567 → `"30000004567"`),
//! `trans` the transaction's GTID (else `file:offset` of its begin), `rowid` the row's identity
//! key values joined by `,` (empty for a keyless table), `userid` 0 (the binlog does not say
//! who committed).

use crate::event::{binlog_sequence, reset_statement, Body, Event, Phase};
use crate::format::row_object;
use crate::render::{datetime_text, Json};
use dts_core::{DdlKind, RowOp, Timestamp, Value};

/// `yyyy-MM-ddTHH:mm:ss` in UTC of a millisecond instant.
fn time_text(ms: u64) -> String {
    let ts = Timestamp {
        seconds: (ms / 1000) as i64,
        micros: 0,
    };
    if ts.is_zero() {
        return "1970-01-01T00:00:00".into();
    }
    datetime_text(&ts.to_utc_datetime(), 'T', 0)
}

pub(crate) fn encode(ev: &Event) -> Vec<u8> {
    let o = &ev.origin;
    let commit_ms = if o.phase == Phase::Full {
        o.now_ms
    } else {
        o.commit_time_ms
    };
    let (scn, trans) = match o.position {
        Some(p) => (
            format!("{}{:010}", binlog_sequence(&p.file), p.offset),
            o.gtid
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{}:{}", p.file, p.offset)),
        ),
        None => ("0".to_owned(), String::new()),
    };
    let seq = o.change_index + 1;
    let size = o.txn_size.max(seq);
    let op = match &ev.body {
        Body::Row { op, .. } => match op {
            RowOp::Insert => "ins",
            RowOp::Update => "upd",
            RowOp::Delete => "del",
        },
        Body::Ddl(ddl) if ddl.kind == DdlKind::TruncateTable => "truncate",
        Body::Ddl(_) => "ddl",
        Body::Reset(_) => "truncate",
        Body::Derived(d) => match d.op {
            dts_core::CascadeOp::Delete => "del",
            _ => "upd",
        },
    };
    let table = match ev.table() {
        Some(t) => t.to_string(),
        None => ev.database().to_owned(),
    };
    let mut j = Json::new();
    j.begin_object();
    j.key("meta");
    j.begin_object();
    j.key("time");
    j.string(&time_text(commit_ms));
    j.key("userid");
    j.u64(0);
    j.key("op");
    j.string(op);
    j.key("scn");
    j.string(&scn);
    j.key("rowid");
    j.string(&ev.identity_text().unwrap_or_default());
    j.key("trans");
    j.string(&trans);
    j.key("seq");
    j.u64(seq);
    j.key("size");
    j.u64(size);
    j.key("table");
    j.string(&table);
    j.key("idx");
    j.string(&format!("{seq}/{size}"));
    j.key("posttime");
    j.string(&time_text(o.now_ms));
    j.end_object();
    match &ev.body {
        Body::Row {
            schema,
            op,
            before,
            after,
            columns,
        } => {
            let empty: &[Value] = &[];
            match op {
                RowOp::Insert => {
                    j.key("data");
                    row_object(&mut j, schema, after.unwrap_or(empty), columns, false);
                }
                RowOp::Update => {
                    j.key("data");
                    row_object(&mut j, schema, after.unwrap_or(empty), columns, false);
                    j.key("key");
                    row_object(&mut j, schema, before.unwrap_or(empty), columns, false);
                }
                RowOp::Delete => {
                    let b = before.unwrap_or(empty);
                    j.key("data");
                    row_object(&mut j, schema, b, columns, false);
                    j.key("key");
                    let key: Vec<usize> = schema
                        .identity_indexes()
                        .unwrap_or_else(|| columns.to_vec());
                    row_object(&mut j, schema, b, &key, false);
                }
            }
        }
        Body::Ddl(ddl) => {
            j.key("data");
            j.begin_object();
            j.key("sql");
            j.string(&ddl.statement);
            j.end_object();
        }
        Body::Derived(d) => {
            j.key("cascade");
            super::cascade::object(&mut j, d);
        }
        Body::Reset(schema) => {
            j.key("data");
            j.begin_object();
            j.key("sql");
            j.string(&reset_statement(&schema.id));
            j.end_object();
        }
    }
    j.end_object();
    j.finish()
}
