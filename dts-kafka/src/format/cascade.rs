//! Foreign-key cascades ([`dts_core::DerivedChange`]) as records: the child rows InnoDB
//! changed by itself are not in the binlog, so the record describes them by predicate — which
//! rows (the `where` object) and what happens to them (`op`, `set`) — marked as derived by a
//! `cascade` object naming the constraint and the parent change, and by the `dts.cascade`
//! header.
//!
//! ```json
//! "cascade": {"constraint": "fk_c_p", "op": "delete", "depth": 1,
//!             "parent": {"table": "shop.p", "op": "delete", "key": {"id": "1"}},
//!             "where": {"equals": {"p_id": "1"}}, "set": {}}
//! ```
//!
//! A deeper level selects its rows through the level above (evaluated on the rows as they
//! were before the level above changed; records come deepest level first):
//! `"where": {"references": {"columns": ["b_id"], "table": "shop.b", "referenced": ["id"],
//! "where": {…}}}`. Values are in their text form, as in Canal and Shareplex rows.
//!
//! Canal JSON and Shareplex JSON carry this object; the Debezium envelope and the DTS Avro
//! schema have no place for a predicate change, so a task with cascading foreign keys on
//! selected tables is refused at precheck in those formats ([`supports`]).

use crate::config::KafkaDataFormat;
use crate::render::Json;
use dts_core::{DerivedChange, RowMatch, RowOp, TableSchema};

/// Whether `format` can carry derived changes, and why not.
pub(crate) fn supports(format: KafkaDataFormat) -> Result<(), String> {
    match format {
        KafkaDataFormat::CanalJson | KafkaDataFormat::ShareplexJson => Ok(()),
        KafkaDataFormat::DebeziumJson => Err(
            "the Debezium envelope carries row images only and cannot represent the child rows \
             a foreign-key cascade changes (use canal_json or shareplex_json)"
                .into(),
        ),
        KafkaDataFormat::DtsAvro => Err(
            "the DTS Avro record schema carries row images only and cannot represent the child \
             rows a foreign-key cascade changes (use canal_json or shareplex_json)"
                .into(),
        ),
    }
}

/// The `dts.cascade` header: the constraint and the parent change.
pub(crate) fn header(d: &DerivedChange) -> String {
    format!("{} <- {}", d.constraint, d.cause)
}

/// Writes the `cascade` object's value.
pub(crate) fn object(j: &mut Json, d: &DerivedChange) {
    j.begin_object();
    j.key("constraint");
    j.string(&d.constraint);
    j.key("op");
    j.string(d.op.name());
    j.key("depth");
    j.u64(u64::from(d.depth));
    j.key("parent");
    j.begin_object();
    j.key("table");
    j.string(&d.cause.table.to_string());
    j.key("op");
    j.string(match d.cause.op {
        RowOp::Insert => "insert",
        RowOp::Update => "update",
        RowOp::Delete => "delete",
    });
    j.key("key");
    j.begin_object();
    for (c, v) in &d.cause.key {
        j.key(c);
        j.text_value(v, None);
    }
    j.end_object();
    j.end_object();
    j.key("where");
    matching(j, &d.schema, &d.matching);
    j.key("set");
    j.begin_object();
    for (c, v) in &d.set {
        j.key(c);
        j.text_value(v, d.schema.column(c).map(|c| &c.column_type));
    }
    j.end_object();
    j.end_object();
}

fn matching(j: &mut Json, schema: &TableSchema, m: &RowMatch) {
    j.begin_object();
    match m {
        RowMatch::Equals { columns, values } => {
            j.key("equals");
            j.begin_object();
            for (c, v) in columns.iter().zip(values) {
                j.key(c);
                j.text_value(v, schema.column(c).map(|c| &c.column_type));
            }
            j.end_object();
        }
        RowMatch::Referencing {
            columns,
            table,
            referenced,
            within,
        } => {
            let list = |j: &mut Json, cols: &[String]| {
                j.begin_array();
                for c in cols {
                    j.element();
                    j.string(c);
                }
                j.end_array();
            };
            j.key("references");
            j.begin_object();
            j.key("columns");
            list(j, columns);
            j.key("table");
            j.string(&table.id.to_string());
            j.key("referenced");
            list(j, referenced);
            j.key("where");
            matching(j, table, within);
            j.end_object();
        }
    }
    j.end_object();
}
