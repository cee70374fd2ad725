//! Every format, end to end against the broker: full-sync rows and incremental transactions
//! (insert, update, delete, DDL) of the every-type table go through the `Sink` API, are
//! consumed back by explicit partition assignment, decoded, and checked value by value.

mod common;

use apache_avro::types::Value as Avro;
use common::*;
use dts_core::{
    ColumnType, Date, DateTime, DdlKind, ExistingRows, Row, SchemaRef, Sink, Time, Timestamp, Value,
};
use dts_kafka::{dts_record_schema, KafkaDataFormat, KafkaSink};
use serde_json::json;

/// What the scenario wrote, for the checks.
struct Written {
    schema: SchemaRef,
    records: Vec<Consumed>,
    updated: Row,
}

/// Full sync of rows 1 (extremes), 2 (NULLs) and 3 (other extremes), then
/// t1 = {insert 4, update 1, delete 2} and t2 = {ALTER TABLE}.
async fn scenario(format: KafkaDataFormat, sync_all_fields: bool) -> Written {
    let schema = every_type_schema("shop");
    let n = schema.columns.len();
    let topic = unique("fmt");
    let mut o = options(&topic, format);
    o.sync_all_fields = sync_all_fields;
    let sink = KafkaSink::connect(o).await.expect("connect");
    sink.apply_schema(&schema).await.expect("apply_schema");
    sink.write_rows(
        &schema,
        vec![extreme_row(1), null_row(2, n), other_row(3)],
        ExistingRows::Replace,
    )
    .await
    .expect("write_rows");
    let mut updated = extreme_row(1);
    updated[17] = Value::Text("changed".into());
    updated[13] = Value::Decimal("0.01".into());
    let t1 = txn(
        1000,
        vec![
            insert(&schema, extreme_row(4)),
            update(&schema, extreme_row(1), updated.clone()),
            delete(&schema, null_row(2, n)),
        ],
    );
    let t2 = txn(
        1100,
        vec![ddl(
            "shop",
            Some("t"),
            "ALTER TABLE t ADD COLUMN extra INT",
            DdlKind::AlterTable,
        )],
    );
    let cp = checkpoint_after(&t2);
    sink.apply(&[t1, t2], &cp).await.expect("apply");
    assert_eq!(sink.read_checkpoint().await.unwrap(), Some(cp));
    let mut records = consume_all(&topic).await;
    assert_eq!(
        records.len(),
        8,
        "schema sync's CREATE TABLE + 3 full-sync rows + 3 row changes + 1 DDL"
    );
    // Schema sync's record comes first; the format checks below start at the rows.
    let create = records.remove(0);
    assert_eq!(create.header("dts.op"), "ddl");
    assert!(records.iter().all(|r| r.partition == 0));
    Written {
        schema,
        records,
        updated,
    }
}

/// The text form of rows 1 and 3, column by column (Canal JSON and Shareplex JSON values).
fn text_of_extreme_row(id: &str) -> Vec<(&'static str, Option<String>)> {
    let s = |v: &str| Some(v.to_owned());
    vec![
        ("id", s(id)),
        ("ti", s("-128")),
        ("tiu", s("255")),
        ("si", s("-32768")),
        ("mi", s("-8388608")),
        ("miu", s("16777215")),
        ("i", s("-2147483648")),
        ("iu", s("4294967295")),
        ("bi", s("-9223372036854775808")),
        ("biu", s("18446744073709551615")),
        ("f", s("1.5")),
        ("d", s("-1.7976931348623157e308")),
        (
            "dec1",
            s("-99999999999999999999999999999999999.999999999999999999999999999999"),
        ),
        ("dec2", s("-12345678.90")),
        ("b1", s("1")),
        ("b64", s("18446744073709551615")),
        ("c", s("ab")),
        ("vc", s("emoji 😀 ok")),
        ("tx", s("some text")),
        ("l1", s("café")),
        ("bn", s("AQAAAA==")),
        ("vb", s("AP8A")),
        ("bl", s("AAEC")),
        ("dt", s("0000-00-00")),
        ("tm", s("-838:59:59")),
        ("tm6", s("838:59:59.999999")),
        ("dtm", s("0000-00-00 00:00:00")),
        ("dtm6", s("9999-12-31 23:59:59.999999")),
        ("ts", s("2038-01-19 03:14:07.999999")),
        ("yr", s("0000")),
        ("e", s("c")),
        ("s", s("x,z")),
        ("j", s("{\"k\": \"ünï\", \"n\": [1, 2.5, null]}")),
        ("g", s("AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==")),
    ]
}

fn text_of_other_row() -> Vec<(&'static str, Option<String>)> {
    let s = |v: &str| Some(v.to_owned());
    vec![
        ("id", s("3")),
        ("ti", s("127")),
        ("tiu", s("0")),
        ("si", s("32767")),
        ("mi", s("8388607")),
        ("miu", s("0")),
        ("i", s("2147483647")),
        ("iu", s("0")),
        ("bi", s("9223372036854775807")),
        ("biu", s("0")),
        ("f", s("-3.4028235e38")),
        ("d", s("5e-324")),
        ("dec1", s("0.000000000000000000000000000001")),
        ("dec2", s("0.00")),
        ("b1", s("0")),
        ("b64", s("9223372036854775809")),
        ("c", s("")),
        ("vc", s("quote \" backslash \\ newline \n tab \t ctl \u{1}")),
        ("tx", s("中文 text")),
        ("l1", s("ÿ")),
        ("bn", s("AAAAAA==")),
        ("vb", s("")),
        ("bl", Some("q6ur".repeat(100))),
        ("dt", s("2024-02-29")),
        ("tm", s("00:00:00")),
        ("tm6", s("-00:00:00.000001")),
        ("dtm", s("1000-01-01 00:00:00")),
        ("dtm6", s("2024-02-29 12:34:56.000001")),
        ("ts", s("0000-00-00 00:00:00.000000")),
        ("yr", s("2155")),
        ("e", s("a")),
        ("s", s("")),
        ("j", s("null")),
        ("g", s("5hAAAAEBAAAAAAAAAAAA4L8AAAAAAADQPw==")),
    ]
}

fn text_of_null_row(id: &str, schema: &SchemaRef) -> Vec<(&'static str, Option<String>)> {
    let names = [
        "id", "ti", "tiu", "si", "mi", "miu", "i", "iu", "bi", "biu", "f", "d", "dec1", "dec2",
        "b1", "b64", "c", "vc", "tx", "l1", "bn", "vb", "bl", "dt", "tm", "tm6", "dtm", "dtm6",
        "ts", "yr", "e", "s", "j", "g",
    ];
    assert_eq!(names.len(), schema.columns.len());
    names
        .iter()
        .map(|n| (*n, (*n == "id").then(|| id.to_owned())))
        .collect()
}

/// The first occurrences of `"name":` in a record's JSON text follow the table's column order
/// (the row object comes first in the record).
fn assert_column_order(raw: &[u8], schema: &SchemaRef) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let positions: Vec<usize> = schema
        .columns
        .iter()
        .map(|c| {
            text.find(&format!("\"{}\":", c.name))
                .unwrap_or_else(|| panic!("column {} missing in {text}", c.name))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "columns out of table order in {text}"
    );
}

/// Checks a JSON object of text values column by column.
fn assert_text_object(obj: &serde_json::Value, want: &[(&str, Option<String>)], what: &str) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {obj}"));
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut want_keys: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    want_keys.sort_unstable();
    assert_eq!(keys, want_keys, "{what}: columns");
    for (col, value) in want {
        let got = &map[*col];
        match value {
            Some(v) => assert_eq!(got.as_str(), Some(v.as_str()), "{what}: column {col}"),
            None => assert!(
                got.is_null(),
                "{what}: column {col} should be null, is {got}"
            ),
        }
    }
}

fn with(
    mut want: Vec<(&'static str, Option<String>)>,
    col: &str,
    v: &str,
) -> Vec<(&'static str, Option<String>)> {
    for (k, val) in &mut want {
        if *k == col {
            *val = Some(v.to_owned());
        }
    }
    want
}

#[tokio::test(flavor = "multi_thread")]
async fn canal_json_every_type_full_and_incremental() {
    let w = scenario(KafkaDataFormat::CanalJson, true).await;
    let r = &w.records;
    let v: Vec<serde_json::Value> = r.iter().map(Consumed::json).collect();

    // Full sync: three INSERTs.
    for (i, want) in [
        text_of_extreme_row("1"),
        text_of_null_row("2", &w.schema),
        text_of_other_row(),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(v[i]["type"], "INSERT");
        assert_eq!(v[i]["isDdl"], false);
        assert_eq!(v[i]["database"], "shop");
        assert_eq!(v[i]["table"], "t");
        assert_eq!(v[i]["pkNames"], json!(["id"]));
        assert_eq!(v[i]["old"], serde_json::Value::Null);
        assert_text_object(&v[i]["data"][0], want, &format!("full row {i}"));
        assert_eq!(r[i].header("dts.phase"), "full");
    }
    assert_column_order(&r[0].value, &w.schema);
    assert_eq!(v[0]["mysqlType"]["biu"], "bigint(20) unsigned");
    assert_eq!(v[0]["mysqlType"]["ts"], "timestamp(6)");
    assert_eq!(v[0]["sqlType"]["biu"], 3);
    assert_eq!(v[0]["sqlType"]["vc"], 12);
    assert_eq!(v[0]["sqlType"]["ts"], 93);
    assert_eq!(r[0].key_str().as_deref(), Some("shop.t:1"));

    // Incremental: INSERT 4, UPDATE 1 (all fields), DELETE 2, DDL.
    assert_eq!(v[3]["type"], "INSERT");
    assert_text_object(&v[3]["data"][0], &text_of_extreme_row("4"), "insert 4");
    assert_eq!(v[3]["es"], 1_700_000_001_000u64);
    assert_eq!(v[4]["type"], "UPDATE");
    let updated = with(
        with(text_of_extreme_row("1"), "vc", "changed"),
        "dec2",
        "0.01",
    );
    assert_text_object(&v[4]["data"][0], &updated, "update 1 after");
    assert_text_object(
        &v[4]["old"][0],
        &text_of_extreme_row("1"),
        "update 1 before",
    );
    assert_eq!(v[5]["type"], "DELETE");
    assert_text_object(
        &v[5]["data"][0],
        &text_of_null_row("2", &w.schema),
        "delete 2",
    );
    assert_eq!(v[6]["isDdl"], true);
    assert_eq!(v[6]["type"], "ALTER");
    assert_eq!(v[6]["sql"], "ALTER TABLE t ADD COLUMN extra INT");
    assert_eq!(v[6]["database"], "shop");
    assert_eq!(v[6]["table"], "t");
    assert_eq!(v[6]["data"], serde_json::Value::Null);

    // Positions for deduplication.
    assert_eq!(r[3].header("dts.position"), "bin.000001:1000");
    assert_eq!(r[4].header("dts.change_index"), "1");
    assert_eq!(r[5].header("dts.op"), "delete");
    assert_eq!(r[5].header("dts.gtid"), "0-1-1000");
    assert_eq!(r[6].header("dts.position"), "bin.000001:1100");
    // Deterministic ids: distinct per change.
    let ids: std::collections::HashSet<i64> = v.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn canal_json_changed_fields_only() {
    let w = scenario(KafkaDataFormat::CanalJson, false).await;
    let v = w.records[4].json();
    assert_eq!(v["type"], "UPDATE");
    assert_eq!(
        v["data"],
        json!([{"id": "1", "dec2": "0.01", "vc": "changed"}]),
        "only the key and the changed columns"
    );
    assert_eq!(
        v["old"],
        json!([{"dec2": "-12345678.90", "vc": "emoji 😀 ok"}])
    );
    assert_eq!(
        v["mysqlType"],
        json!({"id": "int(11)", "dec2": "decimal(10,2)", "vc": "varchar(100)"})
    );
    // Inserts and deletes always carry the whole row.
    assert_eq!(
        w.records[3].json()["data"][0].as_object().unwrap().len(),
        34
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shareplex_json_every_type_full_and_incremental() {
    let w = scenario(KafkaDataFormat::ShareplexJson, true).await;
    let v: Vec<serde_json::Value> = w.records.iter().map(Consumed::json).collect();
    for (i, want) in [
        text_of_extreme_row("1"),
        text_of_null_row("2", &w.schema),
        text_of_other_row(),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(v[i]["meta"]["op"], "ins");
        assert_eq!(v[i]["meta"]["table"], "shop.t");
        assert_eq!(v[i]["meta"]["scn"], "0");
        assert_text_object(&v[i]["data"], want, &format!("full row {i}"));
        assert!(v[i].get("key").is_none());
    }
    assert_column_order(&w.records[0].value, &w.schema);
    let m = &v[3]["meta"];
    assert_eq!(m["op"], "ins");
    assert_eq!(
        m["scn"], "10000001000",
        "file sequence 1, offset 1000 padded to 10 digits"
    );
    assert_eq!(m["trans"], "0-1-1000");
    assert_eq!(m["seq"], 1);
    assert_eq!(m["size"], 3);
    assert_eq!(m["idx"], "1/3");
    assert_eq!(m["rowid"], "4");
    assert_eq!(m["userid"], 0);
    assert_eq!(m["time"], "2023-11-14T22:13:21");
    assert_text_object(&v[3]["data"], &text_of_extreme_row("4"), "insert 4");

    assert_eq!(v[4]["meta"]["op"], "upd");
    assert_eq!(v[4]["meta"]["idx"], "2/3");
    let updated = with(
        with(text_of_extreme_row("1"), "vc", "changed"),
        "dec2",
        "0.01",
    );
    assert_text_object(&v[4]["data"], &updated, "update after");
    assert_text_object(&v[4]["key"], &text_of_extreme_row("1"), "update before");

    assert_eq!(v[5]["meta"]["op"], "del");
    assert_text_object(
        &v[5]["data"],
        &text_of_null_row("2", &w.schema),
        "delete data",
    );
    assert_eq!(v[5]["key"], json!({"id": "2"}));

    assert_eq!(v[6]["meta"]["op"], "ddl");
    assert_eq!(v[6]["meta"]["scn"], "10000001100");
    assert_eq!(v[6]["data"]["sql"], "ALTER TABLE t ADD COLUMN extra INT");
}

/// Debezium's typed values of the extreme row.
fn typed_extreme_row(id: i64) -> serde_json::Value {
    json!({
        "id": id, "ti": -128, "tiu": 255, "si": -32768, "mi": -8388608, "miu": 16777215,
        "i": -2147483648i64, "iu": 4294967295u64, "bi": i64::MIN, "biu": u64::MAX,
        "f": 1.5, "d": -1.797_693_134_862_315_7e308,
        "dec1": "-99999999999999999999999999999999999.999999999999999999999999999999",
        "dec2": "-12345678.90", "b1": 1, "b64": u64::MAX,
        "c": "ab", "vc": "emoji 😀 ok", "tx": "some text", "l1": "café",
        "bn": "AQAAAA==", "vb": "AP8A", "bl": "AAEC",
        "dt": "0000-00-00", "tm": -3_020_399_000_000i64, "tm6": 3_020_399_999_999i64,
        "dtm": "0000-00-00T00:00:00", "dtm6": "9999-12-31T23:59:59.999999",
        "ts": "2038-01-19T03:14:07.999999Z", "yr": 0, "e": "c", "s": "x,z",
        "j": "{\"k\": \"ünï\", \"n\": [1, 2.5, null]}",
        "g": {"wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA", "srid": 0}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn debezium_json_every_type_full_and_incremental() {
    let w = scenario(KafkaDataFormat::DebeziumJson, true).await;
    let r = &w.records;
    let v: Vec<serde_json::Value> = r.iter().map(Consumed::json).collect();

    assert_eq!(v[0]["op"], "r");
    assert_eq!(v[0]["source"]["snapshot"], "true");
    assert_eq!(v[0]["after"], typed_extreme_row(1));
    assert_eq!(r[0].key_str().as_deref(), Some(r#"{"id":1}"#));
    let nulls = v[1]["after"].as_object().unwrap();
    assert_eq!(nulls.len(), 34);
    assert!(nulls.iter().all(|(k, x)| k == "id" || x.is_null()));

    let other = &v[2]["after"];
    let expected_other = json!({
        "id": 3, "ti": 127, "tiu": 0, "si": 32767, "mi": 8388607, "miu": 0,
        "i": 2147483647, "iu": 0, "bi": i64::MAX, "biu": 0,
        "d": 5e-324, "dec1": "0.000000000000000000000000000001", "dec2": "0.00",
        "b1": 0, "b64": 9223372036854775809u64, "c": "",
        "vc": "quote \" backslash \\ newline \n tab \t ctl \u{1}", "tx": "中文 text", "l1": "ÿ",
        "bn": "AAAAAA==", "vb": "", "bl": "q6ur".repeat(100), "dt": "2024-02-29",
        "tm": 0, "tm6": -1, "dtm": "1000-01-01T00:00:00", "dtm6": "2024-02-29T12:34:56.000001",
        "ts": "1970-01-01T00:00:00.000000Z", "yr": 2155, "e": "a", "s": "", "j": "null",
        "g": {"wkb": "AQEAAAAAAAAAAADgvwAAAAAAANA/", "srid": 4326}
    });
    for (k, want) in expected_other.as_object().unwrap() {
        assert_eq!(&other[k], want, "column {k}");
    }
    // FLOAT keeps its f32 value.
    assert_eq!(other["f"].as_f64().unwrap() as f32, -3.402_823_5e38f32);

    assert_eq!(v[3]["op"], "c");
    assert_eq!(v[3]["after"], typed_extreme_row(4));
    assert_eq!(v[3]["before"], serde_json::Value::Null);
    let src = &v[3]["source"];
    assert_eq!(src["file"], "bin.000001");
    assert_eq!(src["pos"], 1000);
    assert_eq!(src["row"], 0);
    assert_eq!(src["gtid"], "0-1-1000");
    assert_eq!(src["ts_ms"], 1_700_000_001_000u64);
    assert_eq!(src["snapshot"], "false");
    assert_eq!(src["db"], "shop");
    assert_eq!(src["table"], "t");
    assert_eq!(src["name"], r[3].header("dts.task_id"));

    assert_eq!(v[4]["op"], "u");
    assert_eq!(v[4]["before"], typed_extreme_row(1));
    let mut after = typed_extreme_row(1);
    after["vc"] = json!("changed");
    after["dec2"] = json!("0.01");
    assert_eq!(v[4]["after"], after);
    assert_eq!(v[4]["source"]["row"], 1);

    assert_eq!(v[5]["op"], "d");
    assert_eq!(v[5]["after"], serde_json::Value::Null);
    assert_eq!(v[5]["before"]["id"], 2);
    assert_eq!(r[5].key_str().as_deref(), Some(r#"{"id":2}"#));

    assert_eq!(v[6]["ddl"], "ALTER TABLE t ADD COLUMN extra INT");
    assert_eq!(v[6]["databaseName"], "shop");
    assert_eq!(v[6]["source"]["pos"], 1100);
    assert_eq!(
        r[6].key_str().as_deref(),
        Some(r#"{"databaseName":"shop"}"#)
    );
}

// ---------------------------------------------------------------- DTS Avro

fn record_fields(bytes: &[u8]) -> std::collections::HashMap<String, Avro> {
    let v = apache_avro::from_avro_datum(dts_record_schema(), &mut &bytes[..], None)
        .expect("a DTS Avro datum");
    let Avro::Record(fields) = v else {
        panic!("not a record: {v:?}")
    };
    fields.into_iter().collect()
}

fn rec(v: &Avro) -> std::collections::HashMap<&str, &Avro> {
    let Avro::Record(f) = v else {
        panic!("not a record: {v:?}")
    };
    f.iter().map(|(k, v)| (k.as_str(), v)).collect()
}

fn s(v: &Avro) -> &str {
    match v {
        Avro::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

fn bytes(v: &Avro) -> &[u8] {
    match v {
        Avro::Bytes(b) => b,
        other => panic!("not bytes: {other:?}"),
    }
}

fn opt_int(v: &Avro) -> Option<i64> {
    match v {
        Avro::Union(0, _) => None,
        Avro::Union(1, i) => match **i {
            Avro::Int(i) => Some(i64::from(i)),
            ref other => panic!("not an int: {other:?}"),
        },
        other => panic!("not an optional int: {other:?}"),
    }
}

/// Decodes one image element back to a dts value, knowing only the column type — the way a
/// consumer of the service's records does.
fn decode_value(v: &Avro, t: &ColumnType) -> Value {
    let Avro::Union(branch, inner) = v else {
        panic!("image element is not a union: {v:?}")
    };
    match branch {
        0 => Value::Null,
        1 => {
            let r = rec(inner);
            let text = s(r["value"]);
            match t {
                ColumnType::Integer { unsigned: true, .. } => Value::UInt(text.parse().unwrap()),
                ColumnType::Integer { .. } => Value::Int(text.parse().unwrap()),
                ColumnType::Bit { .. } => Value::Bit(text.parse().unwrap()),
                other => panic!("Integer for {other:?}"),
            }
        }
        2 => {
            let r = rec(inner);
            let b = bytes(r["value"]);
            if s(r["charset"]) == "binary" {
                Value::Bytes(bytes::Bytes::copy_from_slice(b))
            } else {
                assert_eq!(s(r["charset"]), "utf8mb4");
                Value::Text(String::from_utf8(b.to_vec()).unwrap())
            }
        }
        3 => Value::Decimal(s(rec(inner)["value"]).to_owned()),
        4 => {
            let Avro::Double(d) = rec(inner)["value"] else {
                panic!()
            };
            match t {
                ColumnType::Float => Value::Float(*d as f32),
                _ => Value::Double(*d),
            }
        }
        5 => {
            let r = rec(inner);
            let (Avro::Long(sec), Avro::Int(us)) = (r["timestamp"], r["millis"]) else {
                panic!()
            };
            Value::Timestamp(Timestamp {
                seconds: *sec,
                micros: *us as u32,
            })
        }
        6 => {
            let r = rec(inner);
            let p = |n: &str| opt_int(r[n]);
            match t {
                ColumnType::Year => Value::Year(p("year").unwrap() as u16),
                ColumnType::Date => Value::Date(Date {
                    year: p("year").unwrap() as u16,
                    month: p("month").unwrap() as u8,
                    day: p("day").unwrap() as u8,
                }),
                ColumnType::Time { .. } => {
                    let parts =
                        [p("hour"), p("minute"), p("second"), p("millis")].map(|x| x.unwrap());
                    assert!(p("year").is_none());
                    Value::Time(Time {
                        negative: parts.iter().any(|x| *x < 0),
                        hours: parts[0].unsigned_abs() as u16,
                        minutes: parts[1].unsigned_abs() as u8,
                        seconds: parts[2].unsigned_abs() as u8,
                        micros: parts[3].unsigned_abs() as u32,
                    })
                }
                _ => Value::DateTime(DateTime {
                    date: Date {
                        year: p("year").unwrap() as u16,
                        month: p("month").unwrap() as u8,
                        day: p("day").unwrap() as u8,
                    },
                    hour: p("hour").unwrap() as u8,
                    minute: p("minute").unwrap() as u8,
                    second: p("second").unwrap() as u8,
                    micros: p("millis").unwrap() as u32,
                }),
            }
        }
        8 => Value::Geometry(bytes::Bytes::copy_from_slice(bytes(rec(inner)["value"]))),
        10 => Value::Bytes(bytes::Bytes::copy_from_slice(bytes(rec(inner)["value"]))),
        11 => {
            let r = rec(inner);
            let text = s(r["value"]).to_owned();
            match s(r["type"]) {
                "ENUM" => Value::Enum(text),
                "SET" if text.is_empty() => Value::Set(vec![]),
                "SET" => Value::Set(text.split(',').map(String::from).collect()),
                "JSON" => Value::Json(text),
                other => panic!("TextObject type {other}"),
            }
        }
        other => panic!("unexpected union branch {other}: {inner:?}"),
    }
}

/// Decodes an image (`beforeImages`/`afterImages` array branch) into a row.
fn decode_image(v: &Avro, schema: &SchemaRef) -> Row {
    let Avro::Union(2, arr) = v else {
        panic!("image is not the array branch: {v:?}")
    };
    let Avro::Array(items) = arr.as_ref() else {
        panic!()
    };
    assert_eq!(items.len(), schema.columns.len());
    items
        .iter()
        .zip(&schema.columns)
        .map(|(item, c)| decode_value(item, &c.column_type))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dts_avro_every_type_full_and_incremental() {
    let w = scenario(KafkaDataFormat::DtsAvro, true).await;
    let n = w.schema.columns.len();
    let r: Vec<_> = w.records.iter().map(|c| record_fields(&c.value)).collect();
    let op = |f: &std::collections::HashMap<String, Avro>| match &f["operation"] {
        Avro::Enum(_, s) => s.clone(),
        other => panic!("{other:?}"),
    };

    // Field list: names and MySQL type codes.
    let Avro::Union(2, fields) = &r[0]["fields"] else {
        panic!("{:?}", r[0]["fields"])
    };
    let Avro::Array(fields) = fields.as_ref() else {
        panic!()
    };
    let names: Vec<&str> = fields.iter().map(|f| s(rec(f)["name"])).collect();
    let want: Vec<&str> = w.schema.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, want);
    let types: Vec<i32> = fields
        .iter()
        .map(|f| match rec(f)["dataTypeNumber"] {
            Avro::Int(i) => *i,
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        types,
        vec![
            3, 1, 1, 2, 9, 9, 3, 3, 8, 8, 4, 5, 246, 246, 16, 16, 254, 253, 253, 253, 254, 253,
            252, 10, 11, 11, 12, 12, 7, 13, 247, 248, 245, 255
        ]
    );

    // Full sync: values decode back exactly.
    for (i, want) in [extreme_row(1), null_row(2, n), other_row(3)]
        .into_iter()
        .enumerate()
    {
        assert_eq!(op(&r[i]), "INSERT");
        assert_eq!(
            r[i]["objectName"],
            Avro::Union(1, Box::new(Avro::String("shop.t".into())))
        );
        assert_eq!(r[i]["beforeImages"], Avro::Union(0, Box::new(Avro::Null)));
        assert_eq!(
            decode_image(&r[i]["afterImages"], &w.schema),
            want,
            "full row {i}"
        );
    }
    // A few raw representations, as the service's consumers read them.
    let Avro::Union(2, after) = &r[0]["afterImages"] else {
        panic!()
    };
    let Avro::Array(after) = after.as_ref() else {
        panic!()
    };
    let Avro::Union(1, biu) = &after[9] else {
        panic!()
    };
    assert_eq!(s(rec(biu)["value"]), "18446744073709551615");
    assert_eq!(rec(biu)["precision"], &Avro::Int(20));
    let Avro::Union(3, dec) = &after[12] else {
        panic!()
    };
    assert_eq!(rec(dec)["precision"], &Avro::Int(65));
    assert_eq!(rec(dec)["scale"], &Avro::Int(30));
    let Avro::Union(10, blob) = &after[22] else {
        panic!()
    };
    assert_eq!(s(rec(blob)["type"]), "BLOB");
    let Avro::Union(8, geo) = &after[33] else {
        panic!()
    };
    assert_eq!(s(rec(geo)["type"]), "GEOMETRY");
    assert_eq!(r[0]["sourcePosition"], Avro::String("0@0".into()));
    let Avro::Record(source) = &r[0]["source"] else {
        panic!()
    };
    assert_eq!(source[0].1, Avro::Enum(0, "MySQL".into()));
    assert_eq!(source[1].1, Avro::String("10.11.0-MariaDB".into()));

    // Incremental.
    assert_eq!(op(&r[3]), "INSERT");
    assert_eq!(
        decode_image(&r[3]["afterImages"], &w.schema),
        extreme_row(4)
    );
    assert_eq!(r[3]["sourcePosition"], Avro::String("1000@1".into()));
    assert_eq!(r[3]["safeSourcePosition"], Avro::String("1000@1".into()));
    assert_eq!(r[3]["sourceTxid"], Avro::String("0-1-1000".into()));
    assert_eq!(r[3]["sourceTimestamp"], Avro::Long(1_700_000_001));
    assert_eq!(r[3]["bornTimestamp"], Avro::Long(1_700_000_001_000));
    assert_eq!(op(&r[4]), "UPDATE");
    assert_eq!(
        decode_image(&r[4]["beforeImages"], &w.schema),
        extreme_row(1)
    );
    assert_eq!(decode_image(&r[4]["afterImages"], &w.schema), w.updated);
    assert_eq!(op(&r[5]), "DELETE");
    assert_eq!(
        decode_image(&r[5]["beforeImages"], &w.schema),
        null_row(2, n)
    );
    assert_eq!(r[5]["afterImages"], Avro::Union(0, Box::new(Avro::Null)));
    assert_eq!(op(&r[6]), "DDL");
    assert_eq!(
        r[6]["afterImages"],
        Avro::Union(
            1,
            Box::new(Avro::String("ALTER TABLE t ADD COLUMN extra INT".into()))
        )
    );
    assert_eq!(r[6]["fields"], Avro::Union(0, Box::new(Avro::Null)));
    let Avro::Map(tags) = &r[4]["tags"] else {
        panic!()
    };
    assert_eq!(tags["dts.change_index"], Avro::String("1".into()));
    assert_eq!(
        tags["pk_uk_info"],
        Avro::String(r#"{"PRIMARY":["id"]}"#.into())
    );
    let ids: std::collections::HashSet<i64> = r
        .iter()
        .map(|f| match f["id"] {
            Avro::Long(i) => i,
            _ => panic!(),
        })
        .collect();
    assert_eq!(ids.len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn dts_avro_changed_fields_only() {
    let w = scenario(KafkaDataFormat::DtsAvro, false).await;
    let f = record_fields(&w.records[4].value);
    let Avro::Union(2, fields) = &f["fields"] else {
        panic!()
    };
    let Avro::Array(fields) = fields.as_ref() else {
        panic!()
    };
    let names: Vec<&str> = fields.iter().map(|x| s(rec(x)["name"])).collect();
    assert_eq!(names, ["id", "dec2", "vc"]);
    let Avro::Union(2, after) = &f["afterImages"] else {
        panic!()
    };
    let Avro::Array(after) = after.as_ref() else {
        panic!()
    };
    assert_eq!(after.len(), 3);
    let Avro::Union(3, dec) = &after[1] else {
        panic!()
    };
    assert_eq!(s(rec(dec)["value"]), "0.01");
}

#[tokio::test(flavor = "multi_thread")]
async fn shareplex_json_changed_fields_only() {
    let w = scenario(KafkaDataFormat::ShareplexJson, false).await;
    let v = w.records[4].json();
    assert_eq!(v["meta"]["op"], "upd");
    assert_eq!(
        v["data"],
        json!({"id": "1", "dec2": "0.01", "vc": "changed"}),
        "only the key and the changed columns, new values"
    );
    assert_eq!(
        v["key"],
        json!({"id": "1", "dec2": "-12345678.90", "vc": "emoji 😀 ok"}),
        "the same columns' previous values"
    );
    assert_eq!(
        w.records[3].json()["data"].as_object().unwrap().len(),
        34,
        "inserts carry the whole row"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn debezium_json_changed_fields_only() {
    let w = scenario(KafkaDataFormat::DebeziumJson, false).await;
    let v = w.records[4].json();
    assert_eq!(v["op"], "u");
    assert_eq!(
        v["after"],
        json!({"id": 1, "dec2": "0.01", "vc": "changed"}),
        "only the key and the changed columns"
    );
    assert_eq!(
        v["before"],
        json!({"id": 1, "dec2": "-12345678.90", "vc": "emoji 😀 ok"})
    );
    assert_eq!(
        w.records[3].json()["after"].as_object().unwrap().len(),
        34,
        "inserts carry the whole row"
    );
}
