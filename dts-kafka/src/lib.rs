//! # dts-kafka
//!
//! The Kafka destination of **dts**: [`KafkaSink`] implements [`dts_core::Sink`] and writes
//! every change as one Kafka record, in one of four formats, partitioned by the service's
//! policies, delivered at least once and in order per key.
//!
//! ```no_run
//! use dts_kafka::{KafkaSink, KafkaSinkOptions};
//! use dts_kafka::{KafkaDataFormat, PartitionPolicy};
//!
//! # async fn demo() -> dts_core::Result<()> {
//! let mut options = KafkaSinkOptions::new(vec!["127.0.0.1:9092".into()], "orders-cdc", "task-1");
//! options.format = KafkaDataFormat::CanalJson;
//! options.partition_policy = PartitionPolicy::ByPrimaryKeyHash;
//! options.partitions = Some(12);
//! let sink = KafkaSink::connect(options).await?;
//! # let _ = sink; Ok(()) }
//! ```
//!
//! ## What is written
//!
//! - **Schema sync** (`apply_schema`) creates the table's topic when missing and writes no
//!   record: every record carries its columns' names and types.
//! - **Full sync** (`write_rows`) writes one INSERT record per row (Debezium: `op` `r`).
//! - **Incremental** (`apply`) writes one record per row change and one DDL record per DDL
//!   statement, in log order; an UPDATE that changes the row's key under the primary-key
//!   policy becomes a DELETE of the old row and an INSERT of the new one (both with header
//!   `dts.split_update: 1`), so each key's records stay in one partition, in order.
//! - **Re-copying a keyless table** (`reset_table`) writes a reset marker, a
//!   `TRUNCATE TABLE` record of the table (header `dts.op: reset`), before the new copy.
//!
//! ## Formats
//!
//! | format | value | key |
//! | --- | --- | --- |
//! | DTS Avro (default) | one Avro datum of [`DTS_RECORD_AVSC`] (no container, no registry prefix); DDL as the `afterImages` string | `db.table[:key values]` |
//! | Canal JSON | Canal's flat message (`data`, `database`, `es`, `id`, `isDdl`, `mysqlType`, `old`, `pkNames`, `sql`, `sqlType`, `table`, `ts`, `type`) | same |
//! | Shareplex JSON | `meta` (time, userid, op, scn, rowid, trans, seq, size, table, idx, posttime), `data`, `key` | same |
//! | Debezium JSON | `before`, `after`, `source`, `op`, `ts_ms`, `transaction` (schemas disabled); DDL as Debezium's schema-change value | Debezium's JSON key (`{"id":1}`) |
//!
//! **Synchronize all fields** (`sync_all_fields`): UPDATE records carry every column, or only
//! the changed columns plus the identity key (primary key, else first NOT NULL unique key) —
//! DTS Avro `fields`/images, Canal `data`, Shareplex `data`/`key`, Debezium `before`/`after`.
//! Canal's `old` holds the whole before image when all fields are synchronized, otherwise the
//! previous values of the changed columns (Canal's own convention).
//!
//! Shareplex's Oracle fields map onto the binlog: `scn` = binlog file sequence number followed
//! by the transaction's begin offset padded to 10 digits (`mysql-bin.000003`:4567 →
//! `30000004567`, monotonic along the log; `0` for full sync); `trans` = GTID, else
//! `file:offset`; `rowid` = identity key values joined by `,`; `userid` = 0; `seq` = 1-based
//! index in the transaction; `size` = changes in the transaction; `time` = commit time and
//! `posttime` = production time, `yyyy-MM-ddTHH:mm:ss` UTC; `op` = `ins`/`upd`/`del`, `ddl`
//! (`data` = `{"sql": statement}`), `truncate`.
//!
//! ### MySQL types
//!
//! Every MySQL column type, the [`dts_core::Value`] the source decodes it to (its rendering per
//! format is in the next table), Canal's `sqlType` (`java.sql.Types`; `mysqlType` is the
//! column's declared type text, e.g. `bigint(20) unsigned`) and DTS Avro's `dataTypeNumber`:
//!
//! | MySQL type | `Value` | Canal `sqlType` | DTS Avro |
//! | --- | --- | --- | --- |
//! | TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT | `Int` | -6, 5, 4, 4, -5 | `Integer` 1, 2, 9, 3, 8 |
//! | the same, UNSIGNED | `UInt` | 5, 4, 4, -5, 3 (`BIGINT UNSIGNED` is DECIMAL: it exceeds a Java `long`) | `Integer` 1, 2, 9, 3, 8 |
//! | FLOAT | `Float` | 7 | `Float` 4 |
//! | DOUBLE, REAL | `Double` | 8 | `Float` 5 |
//! | DECIMAL(p,s), NUMERIC | `Decimal` (exact text) | 3 | `Decimal` 246 |
//! | BIT(n) | `Bit` | -7 | `Integer` 16 |
//! | CHAR(n) | `Text` | 1 | `Character` 254 |
//! | VARCHAR(n) | `Text` | 12 | `Character` 253 |
//! | TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT | `Text` | 2005 | `Character` 253 |
//! | BINARY(n) | `Bytes` | -2 | `Character` (charset `binary`) 254 |
//! | VARBINARY(n) | `Bytes` | -3 | `Character` (charset `binary`) 253 |
//! | TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB | `Bytes` | 2004 | `BinaryObject` 249, 252, 250, 251 |
//! | DATE | `Date` | 91 | `DateTime` 10 |
//! | TIME(fsp) | `Time` | 92 | `DateTime` 11 |
//! | DATETIME(fsp) | `DateTime` | 93 | `DateTime` 12 |
//! | TIMESTAMP(fsp) | `Timestamp` (UTC instant) | 93 | `Timestamp` 7 |
//! | YEAR | `Year` | 12 | `DateTime` 13 |
//! | ENUM(…) | `Enum` (member text) | 1 | `TextObject` 247 |
//! | SET(…) | `Set` (members) | 1 | `TextObject` 248 |
//! | JSON (MySQL's binary JSON, and MariaDB's LONGTEXT with a `JSON_VALID` check) | `Json` (document text) | 12 | `TextObject` 245 |
//! | GEOMETRY, POINT, LINESTRING, POLYGON, MULTI…, GEOMETRYCOLLECTION | `Geometry` (SRID + WKB) | -2 | `BinaryGeometry` 255 |
//! | any, NULL | `Null` | the column's | `null` |
//!
//! ### Values
//!
//! Text form (Canal and Shareplex values are JSON strings, NULL is JSON `null`); typed form
//! (Debezium); DTS Avro union branch (`dataTypeNumber` in parentheses is MySQL's type code):
//!
//! | `Value` | text (Canal, Shareplex) | typed (Debezium) | DTS Avro |
//! | --- | --- | --- | --- |
//! | `Int` | decimal | number | `Integer{precision: display width, value: decimal text}` (1/2/9/3/8) |
//! | `UInt` | decimal, exact to `u64::MAX` | number, exact (`18446744073709551615`) | `Integer`, exact text |
//! | `Float` | shortest text that reads back to the same `f32` (`1.5`, `3.4028235e38`) | number (f32 shortest) | `Float{value: f32 widened exactly to double, precision 12, scale -1}` (4) |
//! | `Double` | shortest round-trip text (`-1.7976931348623157e308`) | number | `Float{value, precision 22, scale -1}` (5) |
//! | `Decimal` | exact text (`-12345678.90`) | string, exact | `Decimal{value: exact text, precision, scale}` (246) |
//! | `Bit` | decimal of the bits as unsigned | number | `Integer{precision: width, value}` (16) |
//! | `Text` | the string | string | `Character{charset "utf8mb4", value: UTF-8 bytes}` (254 CHAR, 253 VARCHAR/TEXT) |
//! | `Bytes` | base64 (standard, padded) | base64 | BLOB: `BinaryObject{type "TINYBLOB"…"LONGBLOB", value}` (249/252/250/251); BINARY/VARBINARY: `Character{charset "binary"}` (254/253) |
//! | `Date` | `YYYY-MM-DD` (zero date kept) | same string | `DateTime{year, month, day}` (10) |
//! | `Time` | `[-]HH:MM:SS[.f]` (to 838 h) | number: signed microseconds (Debezium `MicroTime`) | `DateTime{hour, minute, second, millis: microseconds}`, every part negated when negative (11) |
//! | `DateTime` | `YYYY-MM-DD HH:MM:SS[.f]` | `YYYY-MM-DDTHH:MM:SS[.f]` | `DateTime{…, millis: microseconds}` (12) |
//! | `Timestamp` | UTC `YYYY-MM-DD HH:MM:SS[.f]`; zero `0000-00-00 00:00:00` | UTC `YYYY-MM-DDTHH:MM:SS[.f]Z`; zero = `1970-01-01T00:00:00Z` (the instant it is stored as) | `Timestamp{timestamp: epoch seconds, millis: microseconds}` (7) |
//! | `Year` | 4 digits (`0000`, `2155`) | number | `DateTime{year}` (13) |
//! | `Enum` | member text | string | `TextObject{type "ENUM"}` (247) |
//! | `Set` | members joined by `,` | same string | `TextObject{type "SET"}` (248) |
//! | `Json` | document text | string | `TextObject{type "JSON"}` (245) |
//! | `Geometry` | base64 of MySQL's internal bytes (4-byte LE SRID + WKB) | `{"wkb": base64 WKB, "srid": n}` (Debezium `Geometry`) | `BinaryGeometry{type: "POINT"…, value: SRID + WKB}` (255) |
//! | `Null` | `null` | `null` | the `null` branch |
//!
//! `[.f]`: as many fractional digits as the column's precision (`DATETIME(6)` → 6), or all six
//! when the value has more; none for precision 0. Nothing is rounded.
//!
//! ## Partitioning
//!
//! Hash function: Java's `String.hashCode()` ([`java_string_hash`]: UTF-16 code units, `i32`
//! wrapping); partition = `abs(hash) % partitions` ([`partition_for_hash`], the absolute value
//! taken in 64 bits so `i32::MIN` stays positive), over the topic's actual partition count.
//! The service documents Java's hashCode but not the exact string or the modulo step; these
//! are this crate's choices:
//!
//! - all to partition 0: every record, DDL included;
//! - by table hash: the string `database.table` (e.g. `shop.orders`); DDL goes with its first
//!   table; DDL without a table (CREATE DATABASE…) to partition 0;
//! - by primary key hash: the key column values in text form (NULL as empty) joined by `,`
//!   (e.g. `42` or `42,eu`). Columns: `partition_key_columns` when the table has them all, else
//!   the primary key, else the first unique key; a table with neither falls back to the table
//!   hash. DDL to partition 0. The reset marker of a keyed table goes to every partition.
//!
//! ## Delivery and checkpoint
//!
//! `apply(batch, checkpoint)` produces every record of the batch (the idempotent producer with
//! `acks=all`; with `acks=1` one request in flight, so retries cannot reorder), waits for every
//! delivery report, and only then writes the checkpoint — a JSON record keyed by the task id
//! to the compacted topic `__dts_checkpoints` (acks=all, idempotent). `read_checkpoint` reads
//! the last record of that key by explicit partition assignment. A crash or error before the
//! checkpoint is acknowledged replays the batch: **at least once, in order per key**. With
//! `acks=0` delivery reports come without broker acknowledgement, so records can be lost.
//!
//! Every record carries where it came from, in headers: `dts.task_id`, `dts.phase`
//! (`full`/`incremental`), `dts.op`, `dts.table`, `dts.position` (`file:offset` of the
//! transaction's begin), `dts.gtid`, `dts.change_index` (index of the change in its
//! transaction). `(dts.position, dts.change_index, dts.op)` identifies a change, so consumers
//! can drop replays; the formats carry the same in their own fields (DTS Avro `sourcePosition`
//! `offset@fileSequence` and tags, Debezium `source.file`/`pos`/`row`, Shareplex
//! `scn`/`seq`, Canal and Avro `id` — a deterministic hash of position, index and split part).
//!
//! Broker outages, timeouts and leader changes surface as [`dts_core::Error::Connection`],
//! which the task retries within its connection retry window (`connection_retry_minutes`),
//! replaying from the checkpoint. An outage shorter than `delivery_timeout` is absorbed by
//! librdkafka's own retries; after a longer one the idempotent producer's records have timed
//! out and brokers may fence its bumped epoch (`ProducerFenced`, `UnknownProducerId`…): the
//! sink then re-creates that producer and reports a connection error, so the retried batch
//! goes out under a fresh producer id. A record larger than `max_message_bytes` (or the
//! topic's `max.message.bytes`, when smaller) fails before it is sent, as a definite error
//! naming the table and the row's key; a broker that still rejects a record as too large
//! gives the same kind of error.
//!
//! ## Configuration
//!
//! [`KafkaSinkOptions::from_config`] reads `[destination]` with `type = "kafka"`: `brokers`,
//! `topic`, `ddl_topic`, `data_format`, `sync_all_fields`, `compression`, `partition_policy`,
//! `partition_key_columns`, `acks`, `num_partitions`, `max_message_bytes`, and the topic
//! mapping — `topic_template` (e.g. `"cdc.{database}.{table}"`) and `[destination.topic_routes]`
//! (`"shop.orders" = "orders"`, `crm = "crm-all"`). Topic names are resolved over the names at
//! the destination, i.e. after the `[objects]` name mapping (`rename_to`, mapping rules), so
//! renaming a database or table in the selection also renames its topic under a template.
#![warn(missing_docs)]

mod config;
mod error;
mod event;
mod factory;
pub mod format;
mod hash;
mod options;
mod render;
mod route;
mod schema_ddl;
mod sink;

pub use factory::KafkaSinkFactory;
pub use format::avro::{dts_record_schema, DTS_RECORD_AVSC};
pub use hash::{java_string_hash, partition_for_hash, partition_for_key};
pub use options::{
    KafkaSinkOptions, TopicMapping, DEFAULT_CHECKPOINT_TOPIC, DEFAULT_MAX_MESSAGE_BYTES,
};
pub use sink::KafkaSink;

pub use config::{KafkaAcks, KafkaCompression, KafkaDataFormat, KafkaDestination, PartitionPolicy};
