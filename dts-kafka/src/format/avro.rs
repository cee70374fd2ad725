//! DTS Avro: each Kafka record value is one Avro datum (binary encoding, no container header,
//! no schema-registry prefix) of the DTS `Record` schema, [`DTS_RECORD_AVSC`].

use crate::event::{binlog_sequence, reset_statement, Body, Event, Phase};
use crate::format::EncodeContext;
use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use dts_core::{ColumnType, Error, Result, RowOp, TableSchema, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The DTS `Record` Avro schema, written from the published field list of the service's
/// `Record.avsc` (namespace `com.alibaba.dts.formats.avro`): version, id, sourceTimestamp,
/// sourcePosition, safeSourcePosition, sourceTxid, source, operation, objectName,
/// processTimestamps, tags, fields, beforeImages, afterImages, bornTimestamp — the same
/// fields, types, union branch order and enum symbols, so records decode with the service's
/// own consumers.
pub const DTS_RECORD_AVSC: &str = include_str!("Record.avsc");

/// The parsed [`DTS_RECORD_AVSC`].
pub fn dts_record_schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The schema text is part of the crate and covered by a test; failing to parse it is a
        // build defect, not a runtime condition.
        Schema::parse_str(DTS_RECORD_AVSC).expect("the vendored DTS Record.avsc parses")
    })
}

/// Union branch indexes of an image element.
const NULL: u32 = 0;
const INTEGER: u32 = 1;
const CHARACTER: u32 = 2;
const DECIMAL: u32 = 3;
const FLOAT: u32 = 4;
const TIMESTAMP: u32 = 5;
const DATETIME: u32 = 6;
const BINARY_GEOMETRY: u32 = 8;
const BINARY_OBJECT: u32 = 10;
const TEXT_OBJECT: u32 = 11;

/// Operation enum symbols used.
fn operation(sym: &str) -> Avro {
    let index = match sym {
        "INSERT" => 0,
        "UPDATE" => 1,
        "DELETE" => 2,
        _ => 3, // DDL
    };
    Avro::Enum(index, sym.to_owned())
}

/// MySQL's column type code (`dataTypeNumber`) as the DTS consumers dispatch on it.
pub(crate) fn data_type_number(t: &ColumnType) -> i32 {
    match t {
        ColumnType::Integer { bytes, .. } => match bytes {
            1 => 1,
            2 => 2,
            3 => 9,
            4 => 3,
            _ => 8,
        },
        ColumnType::Float => 4,
        ColumnType::Double => 5,
        ColumnType::Decimal { .. } => 246,
        ColumnType::Bit { .. } => 16,
        ColumnType::Char { .. } | ColumnType::Binary { .. } => 254,
        ColumnType::VarChar { .. } | ColumnType::Text { .. } | ColumnType::VarBinary { .. } => 253,
        ColumnType::Blob { max_bytes } => match max_bytes {
            0..=255 => 249,
            256..=65_535 => 252,
            65_536..=16_777_215 => 250,
            _ => 251,
        },
        ColumnType::Date => 10,
        ColumnType::Time { .. } => 11,
        ColumnType::DateTime { .. } => 12,
        ColumnType::Timestamp { .. } => 7,
        ColumnType::Year => 13,
        ColumnType::Enum { .. } => 247,
        ColumnType::Set { .. } => 248,
        ColumnType::Json => 245,
        ColumnType::Geometry { .. } => 255,
    }
}

/// MySQL's default display width of an integer type (the `precision` of an `Integer`).
fn integer_precision(t: Option<&ColumnType>) -> i32 {
    match t {
        Some(ColumnType::Integer { bytes, unsigned }) => match (bytes, unsigned) {
            (1, false) => 4,
            (1, true) => 3,
            (2, false) => 6,
            (2, true) => 5,
            (3, false) => 9,
            (3, true) => 8,
            (4, false) => 11,
            (4, true) => 10,
            _ => 20,
        },
        Some(ColumnType::Bit { width }) => i32::from(*width),
        _ => 20,
    }
}

fn some_int(v: i64) -> Avro {
    Avro::Union(1, Box::new(Avro::Int(v as i32)))
}

fn no_int() -> Avro {
    Avro::Union(0, Box::new(Avro::Null))
}

/// `DateTime` record from optional parts.
fn datetime(parts: [Option<i64>; 7]) -> Avro {
    const NAMES: [&str; 7] = ["year", "month", "day", "hour", "minute", "second", "millis"];
    Avro::Record(
        NAMES
            .iter()
            .zip(parts)
            .map(|(n, p)| ((*n).to_owned(), p.map_or_else(no_int, some_int)))
            .collect(),
    )
}

fn typed_object(kind: &str, value: Avro) -> Avro {
    Avro::Record(vec![
        ("type".into(), Avro::String(kind.to_owned())),
        ("value".into(), value),
    ])
}

/// One image element: the union branch for a value of a column.
pub(crate) fn image_value(value: &Value, column: Option<&ColumnType>) -> Avro {
    let (branch, inner) = match value {
        Value::Null => (NULL, Avro::Null),
        Value::Int(v) => (
            INTEGER,
            Avro::Record(vec![
                ("precision".into(), Avro::Int(integer_precision(column))),
                ("value".into(), Avro::String(v.to_string())),
            ]),
        ),
        Value::UInt(v) | Value::Bit(v) => (
            INTEGER,
            Avro::Record(vec![
                ("precision".into(), Avro::Int(integer_precision(column))),
                ("value".into(), Avro::String(v.to_string())),
            ]),
        ),
        Value::Float(v) => (
            FLOAT,
            Avro::Record(vec![
                ("value".into(), Avro::Double(f64::from(*v))),
                ("precision".into(), Avro::Int(12)),
                ("scale".into(), Avro::Int(-1)),
            ]),
        ),
        Value::Double(v) => (
            FLOAT,
            Avro::Record(vec![
                ("value".into(), Avro::Double(*v)),
                ("precision".into(), Avro::Int(22)),
                ("scale".into(), Avro::Int(-1)),
            ]),
        ),
        Value::Decimal(s) => {
            let (precision, scale) = match column {
                Some(ColumnType::Decimal { precision, scale }) => {
                    (i32::from(*precision), i32::from(*scale))
                }
                _ => {
                    let digits = s.chars().filter(char::is_ascii_digit).count() as i32;
                    let scale = s.split_once('.').map_or(0, |(_, f)| f.len() as i32);
                    (digits, scale)
                }
            };
            (
                DECIMAL,
                Avro::Record(vec![
                    ("value".into(), Avro::String(s.clone())),
                    ("precision".into(), Avro::Int(precision)),
                    ("scale".into(), Avro::Int(scale)),
                ]),
            )
        }
        Value::Text(s) => (
            CHARACTER,
            Avro::Record(vec![
                ("charset".into(), Avro::String("utf8mb4".into())),
                ("value".into(), Avro::Bytes(s.as_bytes().to_vec())),
            ]),
        ),
        Value::Bytes(b) => match column {
            Some(ColumnType::Blob { max_bytes }) => {
                let kind = match max_bytes {
                    0..=255 => "TINYBLOB",
                    256..=65_535 => "BLOB",
                    65_536..=16_777_215 => "MEDIUMBLOB",
                    _ => "LONGBLOB",
                };
                (BINARY_OBJECT, typed_object(kind, Avro::Bytes(b.to_vec())))
            }
            _ => (
                CHARACTER,
                Avro::Record(vec![
                    ("charset".into(), Avro::String("binary".into())),
                    ("value".into(), Avro::Bytes(b.to_vec())),
                ]),
            ),
        },
        Value::Date(d) => (
            DATETIME,
            datetime([
                Some(i64::from(d.year)),
                Some(i64::from(d.month)),
                Some(i64::from(d.day)),
                None,
                None,
                None,
                None,
            ]),
        ),
        Value::Time(t) => {
            let sign = if t.negative { -1 } else { 1 };
            (
                DATETIME,
                datetime([
                    None,
                    None,
                    None,
                    Some(sign * i64::from(t.hours)),
                    Some(sign * i64::from(t.minutes)),
                    Some(sign * i64::from(t.seconds)),
                    Some(sign * i64::from(t.micros)),
                ]),
            )
        }
        Value::DateTime(dt) => (
            DATETIME,
            datetime([
                Some(i64::from(dt.date.year)),
                Some(i64::from(dt.date.month)),
                Some(i64::from(dt.date.day)),
                Some(i64::from(dt.hour)),
                Some(i64::from(dt.minute)),
                Some(i64::from(dt.second)),
                Some(i64::from(dt.micros)),
            ]),
        ),
        Value::Timestamp(ts) => (
            TIMESTAMP,
            Avro::Record(vec![
                ("timestamp".into(), Avro::Long(ts.seconds)),
                ("millis".into(), Avro::Int(ts.micros as i32)),
            ]),
        ),
        Value::Year(y) => (
            DATETIME,
            datetime([Some(i64::from(*y)), None, None, None, None, None, None]),
        ),
        Value::Enum(s) => (TEXT_OBJECT, typed_object("ENUM", Avro::String(s.clone()))),
        Value::Set(items) => (
            TEXT_OBJECT,
            typed_object("SET", Avro::String(items.join(","))),
        ),
        Value::Json(s) => (TEXT_OBJECT, typed_object("JSON", Avro::String(s.clone()))),
        Value::Geometry(b) => {
            let kind = match column {
                Some(ColumnType::Geometry { subtype }) => subtype.to_ascii_uppercase(),
                _ => "GEOMETRY".into(),
            };
            (
                BINARY_GEOMETRY,
                typed_object(&kind, Avro::Bytes(b.to_vec())),
            )
        }
    };
    Avro::Union(branch, Box::new(inner))
}

/// `pk_uk_info` tag: `{"PRIMARY":[…],"<unique key>":[…]}`.
fn pk_uk_info(schema: &TableSchema) -> String {
    let mut j = crate::render::Json::new();
    j.begin_object();
    if !schema.primary_key.is_empty() {
        j.key("PRIMARY");
        j.begin_array();
        for c in &schema.primary_key {
            j.element();
            j.string(c);
        }
        j.end_array();
    }
    for k in &schema.unique_keys {
        j.key(&k.name);
        j.begin_array();
        for c in &k.columns {
            j.element();
            j.string(c);
        }
        j.end_array();
    }
    j.end_object();
    String::from_utf8(j.finish()).unwrap_or_default()
}

fn image(schema: &TableSchema, row: &[Value], columns: &[usize]) -> Avro {
    Avro::Union(
        2,
        Box::new(Avro::Array(
            columns
                .iter()
                .map(|&i| {
                    image_value(
                        row.get(i).unwrap_or(&Value::Null),
                        schema.columns.get(i).map(|c| &c.column_type),
                    )
                })
                .collect(),
        )),
    )
}

fn null_union() -> Avro {
    Avro::Union(0, Box::new(Avro::Null))
}

/// Encodes one record as a DTS Avro datum.
pub(crate) fn encode(ev: &Event, ctx: &EncodeContext) -> Result<Vec<u8>> {
    let o = &ev.origin;
    let position = match o.position {
        Some(p) => format!("{}@{}", p.offset, binlog_sequence(&p.file)),
        None => "0@0".to_owned(),
    };
    let mut tags: HashMap<String, Avro> = HashMap::new();
    for (k, v) in crate::format::header_pairs(ev, ctx) {
        tags.insert(k.to_owned(), Avro::String(v));
    }
    let (op, object_name, fields, before, after) = match &ev.body {
        Body::Row {
            schema,
            op,
            before,
            after,
            columns,
        } => {
            tags.insert("pk_uk_info".into(), Avro::String(pk_uk_info(schema)));
            let fields = Avro::Union(
                2,
                Box::new(Avro::Array(
                    columns
                        .iter()
                        .map(|&i| {
                            let c = &schema.columns[i];
                            Avro::Record(vec![
                                ("name".into(), Avro::String(c.name.clone())),
                                (
                                    "dataTypeNumber".into(),
                                    Avro::Int(data_type_number(&c.column_type)),
                                ),
                            ])
                        })
                        .collect(),
                )),
            );
            let before = match (op, before) {
                (RowOp::Update | RowOp::Delete, Some(b)) => image(schema, b, columns),
                _ => null_union(),
            };
            let after = match (op, after) {
                (RowOp::Insert | RowOp::Update, Some(a)) => image(schema, a, columns),
                _ => null_union(),
            };
            let sym = match op {
                RowOp::Insert => "INSERT",
                RowOp::Update => "UPDATE",
                RowOp::Delete => "DELETE",
            };
            (sym, Some(schema.id.to_string()), fields, before, after)
        }
        Body::Ddl(ddl) => {
            let object = ev
                .table()
                .map(|t| t.to_string())
                .or_else(|| ddl.database.clone());
            (
                "DDL",
                object,
                null_union(),
                null_union(),
                Avro::Union(1, Box::new(Avro::String(ddl.statement.clone()))),
            )
        }
        Body::Derived(_) => unreachable!("refused by format::encode"),
        Body::Reset(schema) => (
            "DDL",
            Some(schema.id.to_string()),
            null_union(),
            null_union(),
            Avro::Union(1, Box::new(Avro::String(reset_statement(&schema.id)))),
        ),
    };
    let source_ts = if o.phase == Phase::Full {
        o.now_ms
    } else {
        o.commit_time_ms
    };
    let record = Avro::Record(vec![
        ("version".into(), Avro::Int(1)),
        ("id".into(), Avro::Long(ev.record_id())),
        (
            "sourceTimestamp".into(),
            Avro::Long((source_ts / 1000) as i64),
        ),
        ("sourcePosition".into(), Avro::String(position.clone())),
        ("safeSourcePosition".into(), Avro::String(position)),
        (
            "sourceTxid".into(),
            Avro::String(o.gtid.unwrap_or_default().to_owned()),
        ),
        (
            "source".into(),
            Avro::Record(vec![
                ("sourceType".into(), Avro::Enum(0, "MySQL".into())),
                ("version".into(), Avro::String(ctx.source_version.clone())),
            ]),
        ),
        ("operation".into(), operation(op)),
        (
            "objectName".into(),
            match object_name {
                Some(n) => Avro::Union(1, Box::new(Avro::String(n))),
                None => null_union(),
            },
        ),
        ("processTimestamps".into(), null_union()),
        ("tags".into(), Avro::Map(tags)),
        ("fields".into(), fields),
        ("beforeImages".into(), before),
        ("afterImages".into(), after),
        ("bornTimestamp".into(), Avro::Long(source_ts as i64)),
    ]);
    datum(&record)
        .map_err(|e| Error::definite(ev.describe(), format!("cannot encode as DTS Avro: {e}")))
}

/// Length of the single-object-encoding header (`C3 01` + 8-byte schema fingerprint).
const SINGLE_OBJECT_HEADER: usize = 10;

/// Validates `record` against the DTS schema and returns its binary datum.
///
/// `apache_avro::to_avro_datum` re-resolves the schema's named types on every call, which
/// costs more than encoding a record of this schema. `GenericSingleObjectWriter` resolves them
/// once; it writes the single-object header before the datum, which is cut off here (Kafka
/// values of the service carry the bare datum).
fn datum(record: &Avro) -> apache_avro::AvroResult<Vec<u8>> {
    use apache_avro::GenericSingleObjectWriter;
    use std::cell::RefCell;
    thread_local! {
        static WRITER: RefCell<Option<GenericSingleObjectWriter>> = const { RefCell::new(None) };
    }
    WRITER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let writer = match slot.as_mut() {
            Some(w) => w,
            None => slot.insert(GenericSingleObjectWriter::new_with_capacity(
                dts_record_schema(),
                1024,
            )?),
        };
        let mut out = Vec::with_capacity(512);
        writer.write_value_ref(record, &mut out)?;
        out.drain(..SINGLE_OBJECT_HEADER);
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::from_avro_datum;

    #[test]
    fn schema_parses_with_the_published_fields() {
        let Schema::Record(r) = dts_record_schema() else {
            panic!("Record is a record schema");
        };
        assert_eq!(r.name.fullname(None), "com.alibaba.dts.formats.avro.Record");
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "id",
                "sourceTimestamp",
                "sourcePosition",
                "safeSourcePosition",
                "sourceTxid",
                "source",
                "operation",
                "objectName",
                "processTimestamps",
                "tags",
                "fields",
                "beforeImages",
                "afterImages",
                "bornTimestamp"
            ]
        );
    }

    #[test]
    fn every_image_branch_round_trips_through_the_reader() {
        let schema = dts_record_schema();
        let values = vec![
            Value::Null,
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Double(-1.797_693_134_862_315_7e308),
            Value::Decimal("-1.50".into()),
            Value::Bit(u64::MAX),
            Value::Text("é😀".into()),
            Value::Bytes(bytes::Bytes::from_static(&[0, 255])),
            Value::Year(2155),
            Value::Enum("c".into()),
            Value::Set(vec!["x".into(), "z".into()]),
            Value::Json("{}".into()),
            Value::Geometry(bytes::Bytes::from_static(&[0, 0, 0, 0, 1])),
            Value::Timestamp(dts_core::Timestamp {
                seconds: 2_147_483_647,
                micros: 999_999,
            }),
        ];
        let images: Vec<Avro> = values.iter().map(|v| image_value(v, None)).collect();
        let record = Avro::Record(vec![
            ("version".into(), Avro::Int(1)),
            ("id".into(), Avro::Long(7)),
            ("sourceTimestamp".into(), Avro::Long(1)),
            ("sourcePosition".into(), Avro::String("4@1".into())),
            ("safeSourcePosition".into(), Avro::String("4@1".into())),
            ("sourceTxid".into(), Avro::String(String::new())),
            (
                "source".into(),
                Avro::Record(vec![
                    ("sourceType".into(), Avro::Enum(0, "MySQL".into())),
                    ("version".into(), Avro::String("8.0".into())),
                ]),
            ),
            ("operation".into(), operation("INSERT")),
            ("objectName".into(), null_union()),
            ("processTimestamps".into(), null_union()),
            ("tags".into(), Avro::Map(HashMap::new())),
            ("fields".into(), null_union()),
            ("beforeImages".into(), null_union()),
            (
                "afterImages".into(),
                Avro::Union(2, Box::new(Avro::Array(images.clone()))),
            ),
            ("bornTimestamp".into(), Avro::Long(1000)),
        ]);
        let bytes = datum(&record).unwrap();
        // The same bytes as the plain (slower) datum writer.
        assert_eq!(
            bytes,
            apache_avro::to_avro_datum(schema, record.clone()).unwrap()
        );
        let back = from_avro_datum(schema, &mut bytes.as_slice(), None).unwrap();
        assert_eq!(back, record);
        let Avro::Record(fields) = back else { panic!() };
        let Avro::Union(2, arr) = &fields[13].1 else {
            panic!()
        };
        let Avro::Array(items) = arr.as_ref() else {
            panic!()
        };
        // u64::MAX survives as exact text.
        let Avro::Union(INTEGER, int) = &items[2] else {
            panic!()
        };
        assert_eq!(
            **int,
            Avro::Record(vec![
                ("precision".into(), Avro::Int(20)),
                ("value".into(), Avro::String("18446744073709551615".into()))
            ])
        );
    }

    #[test]
    fn negative_time_negates_every_part() {
        let t = Value::Time(dts_core::Time {
            negative: true,
            hours: 0,
            minutes: 0,
            seconds: 1,
            micros: 500_000,
        });
        let Avro::Union(DATETIME, r) = image_value(&t, None) else {
            panic!()
        };
        assert_eq!(
            *r,
            datetime([None, None, None, Some(0), Some(0), Some(-1), Some(-500_000)])
        );
    }
}
