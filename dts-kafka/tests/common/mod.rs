//! Helpers shared by the integration tests: the broker from the test environment, unique
//! names, a table with every type family and extreme values, and a reader that consumes a
//! whole topic by explicit partition assignment.
#![allow(dead_code)]

use bytes::Bytes;
use dts_core::{
    Change, Column, ColumnType, Date, DateTime, Ddl, DdlKind, Row, SchemaRef, TableId, TableSchema,
    Time, Timestamp, Value,
};
use dts_kafka::{KafkaDataFormat, KafkaSinkOptions};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test file uses some
pub use dts_testkit::changes::{
    checkpoint_after, delete, insert, small_row, small_schema, txn, update,
};

/// The broker list of the test environment.
pub fn brokers() -> String {
    dts_testkit::env::kafka_brokers()
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    dts_testkit::unique_topic(prefix)
}

/// Options for a test sink writing `format` to `topic`, with its own checkpoint topic.
pub fn options(topic: &str, format: KafkaDataFormat) -> KafkaSinkOptions {
    let mut o = KafkaSinkOptions::new(vec![brokers()], topic, unique("task"));
    o.format = format;
    o.checkpoint_topic = format!("{topic}-checkpoints");
    o.request_timeout = Duration::from_secs(20);
    o.delivery_timeout = Duration::from_secs(30);
    o.source_version = "10.11.0-MariaDB".into();
    o
}

/// One consumed record.
#[derive(Clone, Debug)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: HashMap<String, String>,
}

impl Consumed {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.value).unwrap_or_else(|e| {
            panic!(
                "record {}@{} is not JSON ({e}): {}",
                self.partition,
                self.offset,
                String::from_utf8_lossy(&self.value)
            )
        })
    }

    pub fn key_str(&self) -> Option<String> {
        self.key
            .as_ref()
            .map(|k| String::from_utf8(k.clone()).unwrap())
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} missing: {:?}", self.headers))
    }
}

fn consumer() -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers())
        // librdkafka wants a group.id even for assign(); it is never joined.
        .set("group.id", unique("dts-kafka-test-reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("consumer")
}

/// Partition count of a topic.
pub fn partitions_of(topic: &str) -> i32 {
    let c = consumer();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    md.topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0)
}

/// Every record of every partition of `topic`, ordered by partition then offset.
pub async fn consume_all(topic: &str) -> Vec<Consumed> {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || consume_all_blocking(&topic))
        .await
        .unwrap()
}

fn consume_all_blocking(topic: &str) -> Vec<Consumed> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", unique("dts-kafka-test-reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("consumer");
    let n = partitions_of(topic);
    assert!(n > 0, "topic {topic} does not exist");
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    // Read each partition to its end (end of partition events), not to the high watermark:
    // tansu 0.6 reports the latest offset as the last batch's base offset + 1.
    let mut open: std::collections::HashSet<i32> = (0..n).collect();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !open.is_empty() {
        assert!(
            Instant::now() < deadline,
            "timed out consuming {topic}; partitions {open:?} never reached their end"
        );
        let Some(m) = c.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = match m {
            Err(rdkafka::error::KafkaError::PartitionEOF(p)) => {
                open.remove(&p);
                continue;
            }
            other => other.expect("consume"),
        };
        let mut headers = HashMap::new();
        if let Some(h) = m.headers() {
            for h in h.iter() {
                headers.insert(
                    h.key.to_owned(),
                    String::from_utf8(h.value.unwrap_or_default().to_vec()).unwrap(),
                );
            }
        }
        out.push(Consumed {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    out.sort_by_key(|c| (c.partition, c.offset));
    out
}

fn col(name: &str, t: ColumnType, text: &str) -> Column {
    Column::new(name, t, text)
}

fn int(bytes: u8, unsigned: bool) -> ColumnType {
    ColumnType::Integer { bytes, unsigned }
}

/// The every-type table of `dts-mysql/tests/source.rs`, as a schema.
pub fn every_type_schema(database: &str) -> SchemaRef {
    let mut id = col("id", int(4, false), "int(11)");
    id.nullable = false;
    let mut l1 = col("l1", ColumnType::VarChar { length: 20 }, "varchar(20)");
    l1.charset = Some("latin1".into());
    Arc::new(TableSchema {
        id: TableId::new(database, "t"),
        columns: vec![
            id,
            col("ti", int(1, false), "tinyint(4)"),
            col("tiu", int(1, true), "tinyint(3) unsigned"),
            col("si", int(2, false), "smallint(6)"),
            col("mi", int(3, false), "mediumint(9)"),
            col("miu", int(3, true), "mediumint(8) unsigned"),
            col("i", int(4, false), "int(11)"),
            col("iu", int(4, true), "int(10) unsigned"),
            col("bi", int(8, false), "bigint(20)"),
            col("biu", int(8, true), "bigint(20) unsigned"),
            col("f", ColumnType::Float, "float"),
            col("d", ColumnType::Double, "double"),
            col(
                "dec1",
                ColumnType::Decimal {
                    precision: 65,
                    scale: 30,
                },
                "decimal(65,30)",
            ),
            col(
                "dec2",
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                "decimal(10,2)",
            ),
            col("b1", ColumnType::Bit { width: 1 }, "bit(1)"),
            col("b64", ColumnType::Bit { width: 64 }, "bit(64)"),
            col("c", ColumnType::Char { length: 10 }, "char(10)"),
            col("vc", ColumnType::VarChar { length: 100 }, "varchar(100)"),
            col("tx", ColumnType::Text { max_bytes: 65_535 }, "text"),
            l1,
            col("bn", ColumnType::Binary { length: 4 }, "binary(4)"),
            col("vb", ColumnType::VarBinary { length: 20 }, "varbinary(20)"),
            col("bl", ColumnType::Blob { max_bytes: 65_535 }, "blob"),
            col("dt", ColumnType::Date, "date"),
            col("tm", ColumnType::Time { fsp: 0 }, "time"),
            col("tm6", ColumnType::Time { fsp: 6 }, "time(6)"),
            col("dtm", ColumnType::DateTime { fsp: 0 }, "datetime"),
            col("dtm6", ColumnType::DateTime { fsp: 6 }, "datetime(6)"),
            col("ts", ColumnType::Timestamp { fsp: 6 }, "timestamp(6)"),
            col("yr", ColumnType::Year, "year(4)"),
            col(
                "e",
                ColumnType::Enum {
                    members: vec!["a".into(), "b".into(), "c".into()],
                },
                "enum('a','b','c')",
            ),
            col(
                "s",
                ColumnType::Set {
                    members: vec!["x".into(), "y".into(), "z".into()],
                },
                "set('x','y','z')",
            ),
            col("j", ColumnType::Json, "json"),
            col(
                "g",
                ColumnType::Geometry {
                    subtype: "geometry".into(),
                },
                "geometry",
            ),
        ],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    })
}

pub fn datetime(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> DateTime {
    DateTime {
        date: Date {
            year: y,
            month: mo,
            day: d,
        },
        hour: h,
        minute: mi,
        second: s,
        micros: us,
    }
}

/// SRID 0 + WKB of POINT(1 2) (what MySQL stores for `ST_GeomFromText('POINT(1 2)')`).
pub fn point_1_2() -> Bytes {
    let mut b = vec![0, 0, 0, 0, 1, 1, 0, 0, 0];
    b.extend_from_slice(&1f64.to_le_bytes());
    b.extend_from_slice(&2f64.to_le_bytes());
    Bytes::from(b)
}

/// The extreme row of the source test.
pub fn extreme_row(id: i64) -> Row {
    vec![
        Value::Int(id),
        Value::Int(-128),
        Value::UInt(255),
        Value::Int(-32768),
        Value::Int(-8_388_608),
        Value::UInt(16_777_215),
        Value::Int(-2_147_483_648),
        Value::UInt(4_294_967_295),
        Value::Int(i64::MIN),
        Value::UInt(u64::MAX),
        Value::Float(1.5),
        Value::Double(-1.797_693_134_862_315_7e308),
        Value::Decimal(
            "-99999999999999999999999999999999999.999999999999999999999999999999".into(),
        ),
        Value::Decimal("-12345678.90".into()),
        Value::Bit(1),
        Value::Bit(u64::MAX),
        Value::Text("ab".into()),
        Value::Text("emoji 😀 ok".into()),
        Value::Text("some text".into()),
        Value::Text("café".into()),
        Value::Bytes(Bytes::from_static(&[1, 0, 0, 0])),
        Value::Bytes(Bytes::from_static(&[0, 255, 0])),
        Value::Bytes(Bytes::from_static(&[0, 1, 2])),
        Value::Date(Date::ZERO),
        Value::Time(Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 0,
        }),
        Value::Time(Time {
            negative: false,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 999_999,
        }),
        Value::DateTime(datetime(0, 0, 0, 0, 0, 0, 0)),
        Value::DateTime(datetime(9999, 12, 31, 23, 59, 59, 999_999)),
        Value::Timestamp(Timestamp {
            seconds: 2_147_483_647,
            micros: 999_999,
        }),
        Value::Year(0),
        Value::Enum("c".into()),
        Value::Set(vec!["x".into(), "z".into()]),
        Value::Json("{\"k\": \"ünï\", \"n\": [1, 2.5, null]}".into()),
        Value::Geometry(point_1_2()),
    ]
}

/// Every column NULL but the key.
pub fn null_row(id: i64, columns: usize) -> Row {
    let mut r = vec![Value::Null; columns];
    r[0] = Value::Int(id);
    r
}

/// The other ends of the ranges, empty strings, JSON escapes, the zero timestamp.
pub fn other_row(id: i64) -> Row {
    let mut srid = vec![0xE6, 0x10, 0, 0, 1, 1, 0, 0, 0];
    srid.extend_from_slice(&(-0.5f64).to_le_bytes());
    srid.extend_from_slice(&0.25f64.to_le_bytes());
    vec![
        Value::Int(id),
        Value::Int(127),
        Value::UInt(0),
        Value::Int(32767),
        Value::Int(8_388_607),
        Value::UInt(0),
        Value::Int(2_147_483_647),
        Value::UInt(0),
        Value::Int(i64::MAX),
        Value::UInt(0),
        Value::Float(-3.402_823_5e38),
        Value::Double(5e-324),
        Value::Decimal("0.000000000000000000000000000001".into()),
        Value::Decimal("0.00".into()),
        Value::Bit(0),
        Value::Bit(0x8000_0000_0000_0001),
        Value::Text(String::new()),
        Value::Text("quote \" backslash \\ newline \n tab \t ctl \u{1}".into()),
        Value::Text("中文 text".into()),
        Value::Text("ÿ".into()),
        Value::Bytes(Bytes::from_static(&[0, 0, 0, 0])),
        Value::Bytes(Bytes::new()),
        Value::Bytes(Bytes::from(vec![0xAB; 300])),
        Value::Date(Date {
            year: 2024,
            month: 2,
            day: 29,
        }),
        Value::Time(Time {
            negative: false,
            hours: 0,
            minutes: 0,
            seconds: 0,
            micros: 0,
        }),
        Value::Time(Time {
            negative: true,
            hours: 0,
            minutes: 0,
            seconds: 0,
            micros: 1,
        }),
        Value::DateTime(datetime(1000, 1, 1, 0, 0, 0, 0)),
        Value::DateTime(datetime(2024, 2, 29, 12, 34, 56, 1)),
        Value::Timestamp(Timestamp {
            seconds: 0,
            micros: 0,
        }),
        Value::Year(2155),
        Value::Enum("a".into()),
        Value::Set(vec![]),
        Value::Json("null".into()),
        Value::Geometry(Bytes::from(srid)),
    ]
}

pub fn ddl(database: &str, table: Option<&str>, statement: &str, kind: DdlKind) -> Change {
    Change::Ddl(Ddl {
        database: Some(database.into()),
        statement: statement.into(),
        kind,
        tables: table
            .map(|t| vec![TableId::new(database, t)])
            .unwrap_or_default(),
        sql_mode: None,
    })
}
