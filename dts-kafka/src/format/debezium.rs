//! A Debezium-compatible JSON envelope (as Debezium's JSON converter writes it with schemas
//! disabled): `{"before":…,"after":…,"source":{…},"op":…,"ts_ms":…,"transaction":null}` for
//! rows, Debezium's schema-change value `{"source":…,"ts_ms":…,"databaseName":…,"ddl":…,
//! "tableChanges":[]}` for DDL, and its truncate event (`op` `t`) for the reset marker. Values
//! are typed (see the crate documentation).

use crate::event::{Body, Event, Phase};
use crate::format::{row_object, EncodeContext};
use crate::render::Json;
use dts_core::{RowOp, Value};

fn source(j: &mut Json, ev: &Event, ctx: &EncodeContext) {
    let o = &ev.origin;
    j.key("source");
    j.begin_object();
    j.key("version");
    j.string(env!("CARGO_PKG_VERSION"));
    j.key("connector");
    j.string("mysql");
    j.key("name");
    j.string(&ctx.task_id);
    j.key("ts_ms");
    j.u64(if o.phase == Phase::Full {
        o.now_ms
    } else {
        o.commit_time_ms
    });
    j.key("snapshot");
    j.string(if o.phase == Phase::Full {
        "true"
    } else {
        "false"
    });
    j.key("db");
    j.string(ev.database());
    j.key("table");
    j.opt_string(ev.table().map(|t| t.table.as_str()));
    j.key("server_id");
    j.u64(0);
    j.key("gtid");
    j.opt_string(o.gtid);
    j.key("file");
    j.string(o.position.map(|p| p.file.as_str()).unwrap_or(""));
    j.key("pos");
    j.u64(o.position.map(|p| p.offset).unwrap_or(0));
    j.key("row");
    j.u64(o.change_index);
    j.key("thread");
    j.null();
    j.key("query");
    j.null();
    j.end_object();
}

pub(crate) fn encode(ev: &Event, ctx: &EncodeContext) -> Vec<u8> {
    let mut j = Json::new();
    j.begin_object();
    match &ev.body {
        Body::Row {
            schema,
            op,
            before,
            after,
            columns,
        } => {
            let empty: &[Value] = &[];
            j.key("before");
            match (op, before) {
                (RowOp::Update | RowOp::Delete, Some(b)) => {
                    row_object(&mut j, schema, b, columns, true)
                }
                _ => j.null(),
            }
            j.key("after");
            match op {
                RowOp::Insert | RowOp::Update => {
                    row_object(&mut j, schema, after.unwrap_or(empty), columns, true)
                }
                RowOp::Delete => j.null(),
            }
            source(&mut j, ev, ctx);
            j.key("op");
            j.string(match (op, ev.origin.phase) {
                (RowOp::Insert, Phase::Full) => "r",
                (RowOp::Insert, Phase::Incremental) => "c",
                (RowOp::Update, _) => "u",
                (RowOp::Delete, _) => "d",
            });
            j.key("ts_ms");
            j.u64(ev.origin.now_ms);
            j.key("transaction");
            j.null();
        }
        Body::Ddl(ddl) => {
            source(&mut j, ev, ctx);
            j.key("ts_ms");
            j.u64(ev.origin.now_ms);
            j.key("databaseName");
            j.string(ev.database());
            j.key("schemaName");
            j.null();
            j.key("ddl");
            j.string(&ddl.statement);
            j.key("tableChanges");
            j.begin_array();
            j.end_array();
        }
        Body::Derived(_) => unreachable!("refused by format::encode"),
        Body::Reset(_) => {
            j.key("before");
            j.null();
            j.key("after");
            j.null();
            source(&mut j, ev, ctx);
            j.key("op");
            j.string("t");
            j.key("ts_ms");
            j.u64(ev.origin.now_ms);
            j.key("transaction");
            j.null();
        }
    }
    j.end_object();
    j.finish()
}

/// Debezium's record key: the identity columns as a typed JSON object for rows (none for a
/// keyless table), `{"databaseName":…}` for DDL, none for the truncate marker.
pub(crate) fn key(ev: &Event) -> Option<Vec<u8>> {
    match &ev.body {
        Body::Row { schema, .. } => {
            let idx = schema.identity_indexes()?;
            let image = ev.main_image()?;
            let mut j = Json::new();
            row_object(&mut j, schema, image, &idx, true);
            Some(j.finish())
        }
        Body::Ddl(_) => {
            let mut j = Json::new();
            j.begin_object();
            j.key("databaseName");
            j.string(ev.database());
            j.end_object();
            Some(j.finish())
        }
        Body::Reset(_) | Body::Derived(_) => None,
    }
}
