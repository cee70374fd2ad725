//! Record formats: DTS Avro, Canal JSON, Shareplex JSON and a Debezium-compatible JSON
//! envelope, plus the record key and the headers every format shares.

pub mod avro;
mod canal;
pub(crate) mod cascade;
mod debezium;
mod shareplex;

use crate::config::KafkaDataFormat;
use crate::event::{Body, Event, Phase};
use crate::render::Json;
use dts_core::Result;

/// What encoders need besides the record.
#[derive(Clone, Debug)]
pub(crate) struct EncodeContext {
    pub format: KafkaDataFormat,
    pub task_id: String,
    pub source_version: String,
}

/// An encoded record: Kafka key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
}

/// The headers every record carries (also the tags of a DTS Avro record):
/// `dts.task_id`, `dts.phase` (`full`/`incremental`), `dts.op`
/// (`insert`/`update`/`delete`/`ddl`/`reset`), `dts.table` (when the record concerns a table),
/// `dts.position` (`file:offset` of the source transaction's begin), `dts.gtid`,
/// `dts.change_index` (0-based index of the change in its transaction), and
/// `dts.split_update` (`1` on both halves of an UPDATE split into DELETE + INSERT).
pub(crate) fn header_pairs(ev: &Event, ctx: &EncodeContext) -> Vec<(&'static str, String)> {
    let o = &ev.origin;
    let mut h = Vec::with_capacity(8);
    h.push(("dts.task_id", ctx.task_id.clone()));
    h.push((
        "dts.phase",
        match o.phase {
            Phase::Full => "full",
            Phase::Incremental => "incremental",
        }
        .to_owned(),
    ));
    h.push(("dts.op", ev.op_name().to_owned()));
    if let Some(t) = ev.table() {
        h.push(("dts.table", t.to_string()));
    }
    if let Some(p) = o.position {
        h.push(("dts.position", format!("{}:{}", p.file, p.offset)));
    }
    if let Some(g) = o.gtid {
        h.push(("dts.gtid", g.to_owned()));
    }
    h.push(("dts.change_index", o.change_index.to_string()));
    if o.part != 0 {
        h.push(("dts.split_update", "1".to_owned()));
    }
    if let Body::Derived(d) = &ev.body {
        h.push(("dts.cascade", cascade::header(d)));
    }
    h
}

/// The record key: Debezium's JSON key object for that format; otherwise `database.table`,
/// followed for rows of a table with a key by `:` and the key values (text form, joined by
/// `,`). DDL without a table is keyed by its database.
fn key(ev: &Event, ctx: &EncodeContext) -> Option<Vec<u8>> {
    if ctx.format == KafkaDataFormat::DebeziumJson {
        return debezium::key(ev);
    }
    let s = match &ev.body {
        Body::Row { schema, .. } => match ev.identity_text() {
            Some(k) => format!("{}:{k}", schema.id),
            None => schema.id.to_string(),
        },
        Body::Reset(schema) => schema.id.to_string(),
        Body::Derived(d) => d.table().to_string(),
        Body::Ddl(_) => match ev.table() {
            Some(t) => t.to_string(),
            None => ev.database().to_owned(),
        },
    };
    (!s.is_empty()).then(|| s.into_bytes())
}

/// Encodes a record in the configured format.
pub(crate) fn encode(ev: &Event, ctx: &EncodeContext) -> Result<Encoded> {
    if let Body::Derived(d) = &ev.body {
        // The precheck refuses such tasks; never drop a cascade silently.
        if let Err(reason) = cascade::supports(ctx.format) {
            return Err(dts_core::Error::Schema {
                table: d.table().clone(),
                message: format!("foreign key `{}`: {reason}", d.constraint),
            });
        }
    }
    let value = match ctx.format {
        KafkaDataFormat::DtsAvro => avro::encode(ev, ctx)?,
        KafkaDataFormat::CanalJson => canal::encode(ev),
        KafkaDataFormat::ShareplexJson => shareplex::encode(ev),
        KafkaDataFormat::DebeziumJson => debezium::encode(ev, ctx),
    };
    Ok(Encoded {
        key: key(ev, ctx),
        value,
    })
}

/// Writes `{"col": value, …}` for `columns` of a row with `write`.
pub(crate) fn row_object(
    j: &mut Json,
    schema: &dts_core::TableSchema,
    row: &[dts_core::Value],
    columns: &[usize],
    typed: bool,
) {
    j.begin_object();
    for &i in columns {
        let c = &schema.columns[i];
        j.key(&c.name);
        let v = row.get(i).unwrap_or(&dts_core::Value::Null);
        if typed {
            j.typed_value(v, Some(&c.column_type));
        } else {
            j.text_value(v, Some(&c.column_type));
        }
    }
    j.end_object();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use dts_core::{
        Column, ColumnType, Ddl, DdlKind, Position, RowOp, TableId, TableSchema, Timestamp, Value,
    };

    fn schema() -> TableSchema {
        let mut id = Column::new(
            "id",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        id.nullable = false;
        TableSchema {
            id: TableId::new("shop", "orders"),
            columns: vec![
                id,
                Column::new("name", ColumnType::VarChar { length: 20 }, "varchar(20)"),
                Column::new(
                    "price",
                    ColumnType::Decimal {
                        precision: 10,
                        scale: 2,
                    },
                    "decimal(10,2)",
                ),
                Column::new("bin", ColumnType::VarBinary { length: 4 }, "varbinary(4)"),
                Column::new("ts", ColumnType::Timestamp { fsp: 3 }, "timestamp(3)"),
            ],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    fn row(id: i64, name: &str) -> Vec<Value> {
        vec![
            Value::Int(id),
            Value::Text(name.into()),
            Value::Decimal("-12345678.90".into()),
            Value::Bytes(bytes::Bytes::from_static(&[0, 255])),
            Value::Timestamp(Timestamp {
                seconds: 86_400,
                micros: 500_000,
            }),
        ]
    }

    fn origin(p: &Position) -> Origin<'_> {
        Origin {
            phase: Phase::Incremental,
            position: Some(p),
            gtid: Some("0-1-42"),
            commit_time_ms: 1_700_000_000_123,
            change_index: 1,
            txn_size: 3,
            now_ms: 1_700_000_001_000,
            part: 0,
        }
    }

    fn ctx(format: KafkaDataFormat) -> EncodeContext {
        EncodeContext {
            format,
            task_id: "task-1".into(),
            source_version: "10.11".into(),
        }
    }

    fn json(ev: &Event, format: KafkaDataFormat) -> (serde_json::Value, Option<String>) {
        let e = encode(ev, &ctx(format)).unwrap();
        (
            serde_json::from_slice(&e.value).unwrap(),
            e.key.map(|k| String::from_utf8(k).unwrap()),
        )
    }

    fn update<'a>(
        s: &'a TableSchema,
        b: &'a [Value],
        a: &'a [Value],
        p: &'a Position,
        all: bool,
    ) -> Event<'a> {
        Event {
            origin: origin(p),
            body: Body::Row {
                schema: s,
                op: RowOp::Update,
                before: Some(b),
                after: Some(a),
                columns: crate::event::update_columns(s, b, a, all),
            },
        }
    }

    #[test]
    fn canal_update_flat_message() {
        let s = schema();
        let p = Position::new("mysql-bin.000003", 4567);
        let (b, a) = (row(7, "old"), row(7, "new"));
        let ev = update(&s, &b, &a, &p, false);
        let (v, key) = json(&ev, KafkaDataFormat::CanalJson);
        assert_eq!(key.as_deref(), Some("shop.orders:7"));
        assert_eq!(v["type"], "UPDATE");
        assert_eq!(v["database"], "shop");
        assert_eq!(v["table"], "orders");
        assert_eq!(v["isDdl"], false);
        assert_eq!(v["es"], 1_700_000_000_123u64);
        assert_eq!(v["ts"], 1_700_000_001_000u64);
        assert_eq!(v["pkNames"], serde_json::json!(["id"]));
        // Only the key and the changed column, as strings.
        assert_eq!(v["data"], serde_json::json!([{"id": "7", "name": "new"}]));
        assert_eq!(v["old"], serde_json::json!([{"name": "old"}]));
        assert_eq!(
            v["mysqlType"],
            serde_json::json!({"id": "int(11)", "name": "varchar(20)"})
        );
        assert_eq!(v["sqlType"], serde_json::json!({"id": 4, "name": 12}));
        assert_eq!(v["sql"], "");
        assert_eq!(v["id"].as_i64().unwrap(), ev.record_id());

        let ev = update(&s, &b, &a, &p, true);
        let (v, _) = json(&ev, KafkaDataFormat::CanalJson);
        assert_eq!(
            v["data"],
            serde_json::json!([{"id": "7", "name": "new", "price": "-12345678.90", "bin": "AP8=", "ts": "1970-01-02 00:00:00.500"}])
        );
        assert_eq!(v["old"][0]["name"], "old");
        assert_eq!(v["old"][0]["price"], "-12345678.90");
    }

    #[test]
    fn canal_ddl_and_delete() {
        let p = Position::new("mysql-bin.000003", 4567);
        let ddl = Ddl {
            database: Some("shop".into()),
            statement: "DROP TABLE orders".into(),
            kind: DdlKind::DropTable,
            tables: vec![TableId::new("shop", "orders")],
            sql_mode: None,
        };
        let ev = Event {
            origin: origin(&p),
            body: Body::Ddl(&ddl),
        };
        let (v, key) = json(&ev, KafkaDataFormat::CanalJson);
        assert_eq!(key.as_deref(), Some("shop.orders"));
        assert_eq!(v["isDdl"], true);
        assert_eq!(v["type"], "ERASE");
        assert_eq!(v["sql"], "DROP TABLE orders");
        assert_eq!(v["data"], serde_json::Value::Null);

        let s = schema();
        let b = row(9, "gone");
        let ev = Event {
            origin: origin(&p),
            body: Body::Row {
                schema: &s,
                op: RowOp::Delete,
                before: Some(&b),
                after: None,
                columns: vec![0, 1, 2, 3, 4].into(),
            },
        };
        let (v, _) = json(&ev, KafkaDataFormat::CanalJson);
        assert_eq!(v["type"], "DELETE");
        assert_eq!(v["data"][0]["name"], "gone");
        assert_eq!(v["old"], serde_json::Value::Null);
    }

    #[test]
    fn shareplex_meta_maps_binlog_position() {
        let s = schema();
        let p = Position::new("mysql-bin.000003", 4567);
        let (b, a) = (row(7, "old"), row(7, "new"));
        let ev = update(&s, &b, &a, &p, false);
        let (v, _) = json(&ev, KafkaDataFormat::ShareplexJson);
        let m = &v["meta"];
        assert_eq!(m["op"], "upd");
        assert_eq!(m["scn"], "30000004567");
        assert_eq!(m["trans"], "0-1-42");
        assert_eq!(m["rowid"], "7");
        assert_eq!(m["seq"], 2);
        assert_eq!(m["size"], 3);
        assert_eq!(m["idx"], "2/3");
        assert_eq!(m["table"], "shop.orders");
        assert_eq!(m["userid"], 0);
        assert_eq!(m["time"], "2023-11-14T22:13:20");
        assert_eq!(m["posttime"], "2023-11-14T22:13:21");
        assert_eq!(v["data"], serde_json::json!({"id": "7", "name": "new"}));
        assert_eq!(v["key"], serde_json::json!({"id": "7", "name": "old"}));

        let ins = Event {
            origin: origin(&p),
            body: Body::Row {
                schema: &s,
                op: RowOp::Insert,
                before: None,
                after: Some(&a),
                columns: vec![0, 1, 2, 3, 4].into(),
            },
        };
        let (v, _) = json(&ins, KafkaDataFormat::ShareplexJson);
        assert_eq!(v["meta"]["op"], "ins");
        assert_eq!(v["data"]["bin"], "AP8=");
        assert!(v.get("key").is_none());
    }

    #[test]
    fn debezium_envelope() {
        let s = schema();
        let p = Position::new("mysql-bin.000003", 4567);
        let (b, a) = (row(7, "old"), row(7, "new"));
        let ev = update(&s, &b, &a, &p, true);
        let (v, key) = json(&ev, KafkaDataFormat::DebeziumJson);
        assert_eq!(key.as_deref(), Some(r#"{"id":7}"#));
        assert_eq!(v["op"], "u");
        assert_eq!(v["before"]["name"], "old");
        assert_eq!(v["after"]["name"], "new");
        assert_eq!(v["after"]["id"], 7);
        assert_eq!(v["after"]["price"], "-12345678.90");
        assert_eq!(v["after"]["bin"], "AP8=");
        assert_eq!(v["after"]["ts"], "1970-01-02T00:00:00.500Z");
        let src = &v["source"];
        assert_eq!(src["connector"], "mysql");
        assert_eq!(src["name"], "task-1");
        assert_eq!(src["file"], "mysql-bin.000003");
        assert_eq!(src["pos"], 4567);
        assert_eq!(src["row"], 1);
        assert_eq!(src["gtid"], "0-1-42");
        assert_eq!(src["snapshot"], "false");
        assert_eq!(src["db"], "shop");
        assert_eq!(src["table"], "orders");
        assert_eq!(src["ts_ms"], 1_700_000_000_123u64);
        assert_eq!(v["ts_ms"], 1_700_000_001_000u64);

        let full = Event {
            origin: Origin {
                phase: Phase::Full,
                position: None,
                gtid: None,
                ..origin(&p)
            },
            body: Body::Row {
                schema: &s,
                op: RowOp::Insert,
                before: None,
                after: Some(&a),
                columns: vec![0, 1, 2, 3, 4].into(),
            },
        };
        let (v, _) = json(&full, KafkaDataFormat::DebeziumJson);
        assert_eq!(v["op"], "r");
        assert_eq!(v["source"]["snapshot"], "true");
        assert_eq!(v["before"], serde_json::Value::Null);
    }

    #[test]
    fn headers_identify_the_change() {
        let s = schema();
        let p = Position::new("mysql-bin.000003", 4567);
        let a = row(7, "new");
        let ev = Event {
            origin: Origin {
                part: 1,
                ..origin(&p)
            },
            body: Body::Row {
                schema: &s,
                op: RowOp::Insert,
                before: None,
                after: Some(&a),
                columns: vec![0, 1, 2, 3, 4].into(),
            },
        };
        let h: std::collections::HashMap<_, _> = header_pairs(&ev, &ctx(KafkaDataFormat::DtsAvro))
            .into_iter()
            .collect();
        assert_eq!(h["dts.position"], "mysql-bin.000003:4567");
        assert_eq!(h["dts.change_index"], "1");
        assert_eq!(h["dts.gtid"], "0-1-42");
        assert_eq!(h["dts.op"], "insert");
        assert_eq!(h["dts.table"], "shop.orders");
        assert_eq!(h["dts.phase"], "incremental");
        assert_eq!(h["dts.task_id"], "task-1");
        assert_eq!(h["dts.split_update"], "1");
    }

    #[test]
    fn dts_avro_record_decodes() {
        use apache_avro::types::Value as A;
        let s = schema();
        let p = Position::new("mysql-bin.000003", 4567);
        let (b, a) = (row(7, "old"), row(7, "new"));
        let ev = update(&s, &b, &a, &p, false);
        let e = encode(&ev, &ctx(KafkaDataFormat::DtsAvro)).unwrap();
        let v =
            apache_avro::from_avro_datum(avro::dts_record_schema(), &mut e.value.as_slice(), None)
                .unwrap();
        let A::Record(fields) = v else { panic!() };
        let f: std::collections::HashMap<_, _> = fields.into_iter().collect();
        assert_eq!(f["operation"], A::Enum(1, "UPDATE".into()));
        assert_eq!(f["sourcePosition"], A::String("4567@3".into()));
        assert_eq!(f["sourceTxid"], A::String("0-1-42".into()));
        assert_eq!(f["sourceTimestamp"], A::Long(1_700_000_000));
        assert_eq!(f["bornTimestamp"], A::Long(1_700_000_000_123));
        assert_eq!(
            f["objectName"],
            A::Union(1, Box::new(A::String("shop.orders".into())))
        );
        // Only the key and the changed column.
        let A::Union(2, list) = &f["fields"] else {
            panic!()
        };
        let A::Array(list) = list.as_ref() else {
            panic!()
        };
        assert_eq!(list.len(), 2);
        let A::Map(tags) = &f["tags"] else { panic!() };
        assert_eq!(
            tags["pk_uk_info"],
            A::String(r#"{"PRIMARY":["id"]}"#.into())
        );
        assert_eq!(
            tags["dts.position"],
            A::String("mysql-bin.000003:4567".into())
        );
    }
}
