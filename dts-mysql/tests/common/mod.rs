//! Shared helpers of the integration tests: endpoints of the test environment and scratch
//! databases.
#![allow(dead_code)]

use dts_core::{StreamEvent, Transaction};
use dts_mysql::MysqlEndpoint;
use futures::stream::BoxStream;
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use std::time::Duration;

pub use dts_testkit::mysql::exec_all;
pub use dts_testkit::unique_name;

/// The endpoint named by an environment variable of `scripts/test-env.sh env`.
pub fn endpoint(label: &str, var: &str) -> MysqlEndpoint {
    MysqlEndpoint::from_url(label, &dts_testkit::env::var(var)).unwrap()
}

/// The test environment's source server.
pub fn source() -> MysqlEndpoint {
    endpoint("source", "DTS_TEST_SOURCE_URL")
}

/// The test environment's spare server (used where a test must disturb its binlog).
pub fn peer() -> MysqlEndpoint {
    endpoint("peer", "DTS_TEST_PEER_URL")
}

/// A MySQL source over any server, to discover and read tables of `db`.
pub async fn reader(ep: MysqlEndpoint, db: &str) -> dts_mysql::MysqlSource {
    dts_mysql::MysqlSource::connect(
        ep,
        dts_mysql::SourceOptions {
            scope: dts_mysql::Scope {
                databases: vec![db.to_string()],
            },
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// A connection with a permissive SQL mode (zero dates allowed) in UTC.
pub async fn conn(ep: &MysqlEndpoint) -> mysql_async::Conn {
    let mut c = ep.connect().await.unwrap();
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await
        .unwrap();
    c
}

/// Collects transactions touching `database` until `done` says enough, or panics after 20 s.
pub async fn collect_until(
    stream: &mut BoxStream<'static, Result<StreamEvent, dts_core::Error>>,
    database: &str,
    mut done: impl FnMut(&[Transaction]) -> bool,
) -> Vec<Transaction> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(&out) {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("timed out; collected {} transactions: {out:#?}", out.len()))
            .expect("stream ended")
            .expect("stream error");
        if let StreamEvent::Transaction(t) = next {
            let touches = t.changes.iter().any(|c| match c {
                dts_core::Change::Row(r) => r.table().database == database,
                dts_core::Change::Derived(d) => d.table().database == database,
                dts_core::Change::Ddl(d) => {
                    d.database.as_deref() == Some(database)
                        || d.tables.iter().any(|t| t.database == database)
                        || d.statement.contains(database)
                }
            });
            if touches {
                out.push(t);
            }
        }
    }
    out
}

/// The row changes of some transactions, flattened.
pub fn rows(txns: &[Transaction]) -> Vec<&dts_core::RowChange> {
    txns.iter()
        .flat_map(|t| t.changes.iter())
        .filter_map(|c| match c {
            dts_core::Change::Row(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// A table with every type family.
pub const TYPES_TABLE: &str = "CREATE TABLE t (
    id INT PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
    i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
    f FLOAT, d DOUBLE, dec1 DECIMAL(65,30), dec2 DECIMAL(10,2),
    b1 BIT(1), b64 BIT(64),
    c CHAR(10), vc VARCHAR(100), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
    bn BINARY(4), vb VARBINARY(20), bl BLOB,
    dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
    e ENUM('a','b','c'), s SET('x','y','z'), j JSON, g GEOMETRY
) DEFAULT CHARSET = utf8mb4";

/// A row of [`TYPES_TABLE`] with extreme values of every type.
pub const EXTREME_ROW: &str = "INSERT INTO t VALUES (1,
    -128, 255, -32768, -8388608, 16777215, -2147483648, 4294967295,
    -9223372036854775808, 18446744073709551615,
    1.5, -1.7976931348623157e308,
    '-99999999999999999999999999999999999.999999999999999999999999999999', '-12345678.90',
    b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
    'ab', 'emoji 😀 ok', 'some text', 'café',
    x'0100', x'00ff00', x'000102',
    '0000-00-00', '-838:59:59', '838:59:59.999999', '0000-00-00 00:00:00',
    '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 0,
    'c', 'x,z', '{\"k\": \"ünï\", \"n\": [1, 2.5, null]}', ST_GeomFromText('POINT(1 2)', 4326))";

/// The lock on disruptive use of the spare `peer` server (restarts, purging its binlogs),
/// shared with other test processes (the crash trials of `examples/tests/crash_trials.rs`
/// take it too), held until dropped.
pub async fn peer_file_lock() -> std::fs::File {
    let dir = std::env::var("DTS_TEST_ENV_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-env").to_string());
    tokio::task::spawn_blocking(move || {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(std::path::Path::new(&dir).join("peer-restart.lock"))
            .unwrap();
        f.lock().unwrap();
        f
    })
    .await
    .unwrap()
}
