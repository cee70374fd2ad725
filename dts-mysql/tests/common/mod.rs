//! Shared helpers of the integration tests: endpoints of the test environment and scratch
//! databases.
#![allow(dead_code)]

use dts_core::{StreamEvent, Transaction};
use dts_mysql::MysqlEndpoint;
use futures::stream::BoxStream;
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use std::time::Duration;

/// The endpoint named by an environment variable of `scripts/test-env.sh env`.
pub fn endpoint(label: &str, var: &str) -> MysqlEndpoint {
    let url = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up`")
    });
    MysqlEndpoint::from_url(label, &url).unwrap()
}

/// The test environment's source server.
pub fn source() -> MysqlEndpoint {
    endpoint("source", "DTS_TEST_SOURCE_URL")
}

/// The test environment's spare server (used where a test must disturb its binlog).
pub fn peer() -> MysqlEndpoint {
    endpoint("peer", "DTS_TEST_PEER_URL")
}

/// A database name unique to this test run.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A connection with a permissive SQL mode (zero dates allowed) in UTC.
pub async fn conn(ep: &MysqlEndpoint) -> mysql_async::Conn {
    let mut c = ep.connect().await.unwrap();
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await
        .unwrap();
    c
}

/// Runs statements in order, panicking with the statement on failure.
pub async fn exec_all(c: &mut mysql_async::Conn, statements: &[&str]) {
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
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
