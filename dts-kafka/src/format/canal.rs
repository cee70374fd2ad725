//! Canal JSON: Canal's flat message, one change per Kafka record.
//!
//! `{"data":[{…}],"database":…,"es":…,"id":…,"isDdl":…,"mysqlType":{…},"old":[{…}],
//! "pkNames":[…],"sql":…,"sqlType":{…},"table":…,"ts":…,"type":…}` with every value in its
//! text form (a JSON string, or null).

use crate::event::{canal_ddl_type, java_sql_type, reset_statement, Body, Event, Phase};
use crate::format::row_object;
use crate::render::Json;
use dts_core::{RowOp, Value};

pub(crate) fn encode(ev: &Event) -> Vec<u8> {
    let o = &ev.origin;
    let es = if o.phase == Phase::Full {
        o.now_ms
    } else {
        o.commit_time_ms
    };
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
            let data = match op {
                RowOp::Delete => before.unwrap_or(empty),
                _ => after.unwrap_or(empty),
            };
            j.key("data");
            j.begin_array();
            j.element();
            row_object(&mut j, schema, data, columns, false);
            j.end_array();
            j.key("database");
            j.string(&schema.id.database);
            j.key("es");
            j.u64(es);
            j.key("id");
            j.i64(ev.record_id());
            j.key("isDdl");
            j.bool(false);
            j.key("mysqlType");
            j.begin_object();
            for &i in columns.iter() {
                let c = &schema.columns[i];
                j.key(&c.name);
                j.string(&c.type_text);
            }
            j.end_object();
            j.key("old");
            match (op, before, after) {
                (RowOp::Update, Some(b), Some(a)) => {
                    // Full before image with "synchronize all fields" (the columns carried are
                    // all of them), else the previous values of the changed columns, as Canal
                    // does.
                    let all = columns.len() == schema.columns.len();
                    let old: Vec<usize> = columns
                        .iter()
                        .copied()
                        .filter(|&i| all || b.get(i) != a.get(i))
                        .collect();
                    j.begin_array();
                    j.element();
                    row_object(&mut j, schema, b, &old, false);
                    j.end_array();
                }
                _ => j.null(),
            }
            j.key("pkNames");
            match schema.identity_columns() {
                Some(cols) => {
                    j.begin_array();
                    for c in cols {
                        j.element();
                        j.string(c);
                    }
                    j.end_array();
                }
                None => j.null(),
            }
            j.key("sql");
            j.string("");
            j.key("sqlType");
            j.begin_object();
            for &i in columns.iter() {
                let c = &schema.columns[i];
                j.key(&c.name);
                j.i64(i64::from(java_sql_type(&c.column_type)));
            }
            j.end_object();
            j.key("table");
            j.string(&schema.id.table);
            j.key("ts");
            j.u64(o.now_ms);
            j.key("type");
            j.string(match op {
                RowOp::Insert => "INSERT",
                RowOp::Update => "UPDATE",
                RowOp::Delete => "DELETE",
            });
        }
        Body::Ddl(ddl) => ddl_like(
            &mut j,
            ev,
            es,
            &ev.table().map(|t| t.table.clone()).unwrap_or_default(),
            &ddl.statement,
            canal_ddl_type(ddl.kind),
        ),
        Body::Derived(d) => {
            // A predicate change: no row images, the `cascade` object says which rows.
            j.key("cascade");
            super::cascade::object(&mut j, d);
            j.key("data");
            j.null();
            j.key("database");
            j.string(&d.table().database);
            j.key("es");
            j.u64(es);
            j.key("id");
            j.i64(ev.record_id());
            j.key("isDdl");
            j.bool(false);
            j.key("mysqlType");
            j.null();
            j.key("old");
            j.null();
            j.key("pkNames");
            j.null();
            j.key("sql");
            j.string("");
            j.key("sqlType");
            j.null();
            j.key("table");
            j.string(&d.table().table);
            j.key("ts");
            j.u64(o.now_ms);
            j.key("type");
            j.string(match d.op {
                dts_core::CascadeOp::Delete => "DELETE",
                _ => "UPDATE",
            });
        }
        Body::Reset(schema) => ddl_like(
            &mut j,
            ev,
            es,
            &schema.id.table,
            &reset_statement(&schema.id),
            "TRUNCATE",
        ),
    }
    j.end_object();
    j.finish()
}

/// The members of a DDL (or reset marker) flat message.
fn ddl_like(j: &mut Json, ev: &Event, es: u64, table: &str, sql: &str, kind: &str) {
    j.key("data");
    j.null();
    j.key("database");
    j.string(ev.database());
    j.key("es");
    j.u64(es);
    j.key("id");
    j.i64(ev.record_id());
    j.key("isDdl");
    j.bool(true);
    j.key("mysqlType");
    j.null();
    j.key("old");
    j.null();
    j.key("pkNames");
    j.null();
    j.key("sql");
    j.string(sql);
    j.key("sqlType");
    j.null();
    j.key("table");
    j.string(table);
    j.key("ts");
    j.u64(ev.origin.now_ms);
    j.key("type");
    j.string(kind);
}
