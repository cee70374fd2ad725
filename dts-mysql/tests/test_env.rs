//! Proves that the real test environment (`scripts/test-env.sh up`) is what
//! the rest of the test suite assumes: separate MariaDB servers with row-based
//! binary logging, and one deliberately misconfigured server.
//!
//! Needs `DTS_TEST_SOURCE_URL`, `DTS_TEST_DEST_URL`, `DTS_TEST_PEER_URL`,
//! `DTS_TEST_INTERLEAVED_URL` and `DTS_TEST_MISCONFIGURED_URL`; `scripts/test.sh` sets them.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder, Row};

const TIMEOUT: Duration = Duration::from_secs(30);

fn env_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{var} is not set. These tests need the real test environment: run \
             `scripts/test-env.sh up && eval \"$(scripts/test-env.sh env)\"` first, \
             or run everything with `scripts/test.sh`."
        ),
    }
}

fn opts(var: &str) -> Opts {
    let url = env_url(var);
    Opts::from_url(&url).unwrap_or_else(|e| panic!("{var}={url} is not a valid MySQL URL: {e}"))
}

async fn connect_opts(what: &str, opts: Opts) -> Conn {
    tokio::time::timeout(TIMEOUT, Conn::new(opts))
        .await
        .unwrap_or_else(|_| {
            panic!("connecting to {what} timed out; is `scripts/test-env.sh up` running?")
        })
        .unwrap_or_else(|e| {
            panic!("cannot connect to {what}: {e}; is `scripts/test-env.sh up` running?")
        })
}

async fn connect(var: &str) -> Conn {
    connect_opts(var, opts(var)).await
}

async fn q_first<T: FromRow + Send + 'static>(conn: &mut Conn, sql: &str) -> T {
    tokio::time::timeout(TIMEOUT, conn.query_first::<T, _>(sql))
        .await
        .unwrap_or_else(|_| panic!("query timed out: {sql}"))
        .unwrap_or_else(|e| panic!("query failed: {sql}: {e}"))
        .unwrap_or_else(|| panic!("query returned no row: {sql}"))
}

async fn q_rows(conn: &mut Conn, sql: &str) -> Vec<Row> {
    tokio::time::timeout(TIMEOUT, conn.query::<Row, _>(sql))
        .await
        .unwrap_or_else(|_| panic!("query timed out: {sql}"))
        .unwrap_or_else(|e| panic!("query failed: {sql}: {e}"))
}

async fn exec(conn: &mut Conn, sql: &str) {
    tokio::time::timeout(TIMEOUT, conn.query_drop(sql))
        .await
        .unwrap_or_else(|_| panic!("statement timed out: {sql}"))
        .unwrap_or_else(|e| panic!("statement failed: {sql}: {e}"))
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    )
}

#[derive(Debug)]
struct BinlogSettings {
    log_bin: i64,
    format: String,
    row_image: String,
    row_metadata: String,
    server_id: u32,
    gtid_domain_id: u32,
    gtid_strict_mode: i64,
    log_slave_updates: i64,
}

async fn binlog_settings(conn: &mut Conn) -> BinlogSettings {
    let (
        log_bin,
        format,
        row_image,
        row_metadata,
        server_id,
        gtid_domain_id,
        gtid_strict_mode,
        log_slave_updates,
    ): (i64, String, String, String, u32, u32, i64, i64) = q_first(
        conn,
        "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, \
         @@server_id, @@gtid_domain_id, @@gtid_strict_mode, @@log_slave_updates",
    )
    .await;
    BinlogSettings {
        log_bin,
        format,
        row_image,
        row_metadata,
        server_id,
        gtid_domain_id,
        gtid_strict_mode,
        log_slave_updates,
    }
}

fn assert_cdc_ready(name: &str, s: &BinlogSettings) {
    assert_eq!(s.log_bin, 1, "{name}: binary log must be on: {s:?}");
    assert_eq!(s.format, "ROW", "{name}: {s:?}");
    assert_eq!(s.row_image, "FULL", "{name}: {s:?}");
    assert_eq!(s.row_metadata, "FULL", "{name}: {s:?}");
    assert_eq!(s.gtid_strict_mode, 1, "{name}: {s:?}");
    assert_eq!(s.log_slave_updates, 1, "{name}: {s:?}");
    assert_ne!(s.server_id, 0, "{name}: {s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_are_distinct_and_row_binlogged() {
    let mut ids = BTreeSet::new();
    let mut domains = BTreeSet::new();
    for var in [
        "DTS_TEST_SOURCE_URL",
        "DTS_TEST_DEST_URL",
        "DTS_TEST_PEER_URL",
        "DTS_TEST_INTERLEAVED_URL",
    ] {
        let mut conn = connect(var).await;
        let s = binlog_settings(&mut conn).await;
        assert_cdc_ready(var, &s);
        let version: String = q_first(&mut conn, "SELECT VERSION()").await;
        assert!(
            version.contains("MariaDB"),
            "{var}: expected a MariaDB server, got {version}"
        );
        let charset: String = q_first(&mut conn, "SELECT @@character_set_server").await;
        assert_eq!(charset, "utf8mb4", "{var}");
        let max_packet: u64 = q_first(&mut conn, "SELECT @@max_allowed_packet").await;
        assert_eq!(max_packet, 1 << 30, "{var}");
        assert!(
            ids.insert(s.server_id),
            "{var}: server_id {} is shared with another server",
            s.server_id
        );
        assert!(
            domains.insert(s.gtid_domain_id),
            "{var}: gtid_domain_id {} is shared",
            s.gtid_domain_id
        );
        conn.disconnect().await.unwrap();
    }
}

/// The benchmark's second destination differs from the others in its AUTO-INC lock mode only.
#[tokio::test(flavor = "multi_thread")]
async fn interleaved_server_has_no_table_level_auto_inc_lock() {
    for (var, mode) in [("DTS_TEST_DEST_URL", 1u32), ("DTS_TEST_INTERLEAVED_URL", 2)] {
        let mut conn = connect(var).await;
        let found: u32 = q_first(&mut conn, "SELECT @@innodb_autoinc_lock_mode").await;
        assert_eq!(found, mode, "{var}: innodb_autoinc_lock_mode");
        conn.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn misconfigured_server_is_really_misconfigured() {
    let mut conn = connect("DTS_TEST_MISCONFIGURED_URL").await;
    let s = binlog_settings(&mut conn).await;
    assert_eq!(s.log_bin, 1, "{s:?}");
    assert_eq!(s.format, "MIXED", "{s:?}");
    assert_eq!(s.row_image, "MINIMAL", "{s:?}");
    assert_eq!(s.row_metadata, "MINIMAL", "{s:?}");

    let mut source = connect("DTS_TEST_SOURCE_URL").await;
    let source_id: u32 = q_first(&mut source, "SELECT @@server_id").await;
    assert_ne!(
        s.server_id, source_id,
        "misconfigured and source must be different servers"
    );
    source.disconnect().await.unwrap();
    conn.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dts_user_can_log_in_with_its_password() {
    for var in [
        "DTS_TEST_SOURCE_URL",
        "DTS_TEST_DEST_URL",
        "DTS_TEST_PEER_URL",
        "DTS_TEST_MISCONFIGURED_URL",
    ] {
        let dts = OptsBuilder::from_opts(opts(var))
            .user(Some("dts"))
            .pass(Some("dts-secret"));
        let mut conn = connect_opts(&format!("{var} as dts"), dts.into()).await;
        let user: String = q_first(&mut conn, "SELECT CURRENT_USER()").await;
        assert!(user.starts_with("dts@"), "{var}: logged in as {user}");
        let grants = q_rows(&mut conn, "SHOW GRANTS").await;
        let grants: Vec<String> = grants
            .into_iter()
            .map(|r| r.get::<String, _>(0).unwrap())
            .collect();
        assert!(
            grants
                .iter()
                .any(|g| g.contains("ALL PRIVILEGES ON *.*") && g.contains("WITH GRANT OPTION")),
            "{var}: dts lacks ALL PRIVILEGES WITH GRANT OPTION: {grants:?}"
        );
        conn.disconnect().await.unwrap();

        let wrong = OptsBuilder::from_opts(opts(var))
            .user(Some("dts"))
            .pass(Some("not-the-password"));
        let denied = tokio::time::timeout(TIMEOUT, Conn::new(Opts::from(wrong)))
            .await
            .expect("timed out");
        assert!(denied.is_err(), "{var}: a wrong password must be refused");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn write_on_source_lands_in_its_binlog_only() {
    let db = unique("dts_test_env");
    let mut source = connect("DTS_TEST_SOURCE_URL").await;
    let (source_id, domain_id): (u32, u32) =
        q_first(&mut source, "SELECT @@server_id, @@gtid_domain_id").await;

    let before = q_rows(&mut source, "SHOW MASTER STATUS").await;
    let before = before
        .first()
        .expect("SHOW MASTER STATUS is empty: binary log is off");
    let file: String = before.get("File").unwrap();
    let pos_before: u64 = before.get("Position").unwrap();
    let gtid_before: String = q_first(&mut source, "SELECT @@gtid_binlog_pos").await;

    exec(&mut source, &format!("CREATE DATABASE `{db}`")).await;
    exec(
        &mut source,
        &format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB"),
    )
    .await;
    exec(
        &mut source,
        &format!("INSERT INTO `{db}`.t VALUES (1, 'hello binlog')"),
    )
    .await;
    exec(
        &mut source,
        &format!("UPDATE `{db}`.t SET v = 'changed' WHERE id = 1"),
    )
    .await;

    let after = q_rows(&mut source, "SHOW MASTER STATUS").await;
    let after = after.first().unwrap();
    let file_after: String = after.get("File").unwrap();
    let pos_after: u64 = after.get("Position").unwrap();
    assert!(
        file_after > file || pos_after > pos_before,
        "binlog position did not advance: {file}:{pos_before} -> {file_after}:{pos_after}"
    );
    let gtid_after: String = q_first(&mut source, "SELECT @@gtid_binlog_pos").await;
    assert_ne!(gtid_before, gtid_after, "gtid_binlog_pos did not move");
    assert!(
        gtid_after
            .split(',')
            .any(|g| g.starts_with(&format!("{domain_id}-{source_id}-"))),
        "expected a GTID in domain {domain_id} from server {source_id}, got {gtid_after:?}"
    );

    // The events of this test's transactions, read back from the binary log.
    // (Other tests may write concurrently, so look for ours rather than count.)
    let events = q_rows(
        &mut source,
        &format!("SHOW BINLOG EVENTS IN '{file}' FROM {pos_before}"),
    )
    .await;
    let events: Vec<(String, u32, String)> = events
        .into_iter()
        .map(|r| {
            (
                r.get::<String, _>("Event_type").unwrap(),
                r.get::<u32, _>("Server_id").unwrap(),
                r.get::<Option<String>, _>("Info")
                    .unwrap()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let has = |ty: &str, info: &str| {
        events
            .iter()
            .any(|(t, _, i)| t.starts_with(ty) && i.contains(info))
    };
    assert!(
        events
            .iter()
            .any(|(t, _, i)| t == "Query" && i.contains("CREATE DATABASE") && i.contains(&db)),
        "no CREATE DATABASE event: {events:#?}"
    );
    assert!(
        has("Table_map", &db),
        "no Table_map event for {db}.t: {events:#?}"
    );
    assert!(
        has("Write_rows", ""),
        "no Write_rows event (is binlog_format ROW?): {events:#?}"
    );
    assert!(has("Update_rows", ""), "no Update_rows event: {events:#?}");
    assert!(has("Gtid", ""), "no GTID event: {events:#?}");
    assert!(
        !has("Query", "INSERT INTO"),
        "the INSERT was logged as a statement, not as rows: {events:#?}"
    );
    assert!(
        events.iter().all(|(_, id, _)| *id == source_id),
        "foreign server_id in source binlog"
    );

    // The destination is a different server: it has not seen the write.
    let mut dest = connect("DTS_TEST_DEST_URL").await;
    let seen: i64 = q_first(
        &mut dest,
        &format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{db}'"),
    )
    .await;
    assert_eq!(
        seen, 0,
        "the destination sees the source's database: not separate servers"
    );
    dest.disconnect().await.unwrap();

    exec(&mut source, &format!("DROP DATABASE `{db}`")).await;
    source.disconnect().await.unwrap();
}
