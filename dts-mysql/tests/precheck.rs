//! The source precheck against the real servers of `scripts/test-env.sh`: a well configured
//! source, a deliberately misconfigured one (binlog_format=MIXED, binlog_row_image=MINIMAL,
//! binlog_row_metadata=MINIMAL), under-privileged accounts, a wrong password and keyless tables.
//!
//! Needs `DTS_TEST_SOURCE_URL` and `DTS_TEST_MISCONFIGURED_URL`; `scripts/test.sh` sets them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dts_core::{CheckLevel, CheckResult, PrecheckReport};
use dts_mysql::source::precheck::{self, check_source};
use dts_mysql::MysqlEndpoint;
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};

const TIMEOUT: Duration = Duration::from_secs(60);

use dts_testkit::env::var as env_url;

fn endpoint(var: &str) -> MysqlEndpoint {
    MysqlEndpoint::from_url("source", &env_url(var)).expect("valid test URL")
}

/// An administrative connection (root) for setting up and cleaning up.
async fn admin(var: &str) -> Conn {
    let opts = Opts::from_url(&env_url(var)).expect("valid test URL");
    tokio::time::timeout(TIMEOUT, Conn::new(opts))
        .await
        .unwrap_or_else(|_| panic!("connecting to {var} timed out; is scripts/test-env.sh up?"))
        .unwrap_or_else(|e| panic!("cannot connect to {var}: {e}; is scripts/test-env.sh up?"))
}

async fn exec(conn: &mut Conn, sql: &str) {
    tokio::time::timeout(TIMEOUT, conn.query_drop(sql))
        .await
        .unwrap_or_else(|_| panic!("statement timed out: {sql}"))
        .unwrap_or_else(|e| panic!("statement failed: {sql}: {e}"));
}

async fn run(endpoint: &MysqlEndpoint, databases: &[String]) -> PrecheckReport {
    tokio::time::timeout(TIMEOUT, check_source(endpoint, databases))
        .await
        .expect("precheck timed out")
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

fn check<'r>(report: &'r PrecheckReport, name: &str) -> &'r CheckResult {
    report
        .get(name)
        .unwrap_or_else(|| panic!("check {name} did not run:\n{report}"))
}

fn assert_level<'r>(report: &'r PrecheckReport, name: &str, level: CheckLevel) -> &'r CheckResult {
    let c = check(report, name);
    assert_eq!(c.level, level, "{name}: {c}\nfull report:\n{report}");
    if level == CheckLevel::Pass {
        assert!(c.fix.is_empty(), "{c}");
    } else {
        assert!(!c.fix.is_empty(), "{name} has no fix: {c}");
    }
    c
}

/// Creates a database with one keyed table on the source, outside the binary log.
async fn keyed_database(conn: &mut Conn) -> String {
    let db = unique("dts_precheck_ok");
    exec(conn, "SET SESSION sql_log_bin = 0").await;
    exec(conn, &format!("CREATE DATABASE `{db}`")).await;
    exec(
        conn,
        &format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(10))"),
    )
    .await;
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn well_configured_source_passes_every_check() {
    let source = endpoint("DTS_TEST_SOURCE_URL");
    let mut conn = admin("DTS_TEST_SOURCE_URL").await;
    let db = keyed_database(&mut conn).await;

    let report = run(&source, std::slice::from_ref(&db)).await;
    exec(&mut conn, &format!("DROP DATABASE `{db}`")).await;

    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, precheck::SOURCE_CHECKS, "{report}");
    for name in precheck::SOURCE_CHECKS {
        assert_level(&report, name, CheckLevel::Pass);
    }
    assert!(report.passes(&[]), "{report}");
    assert!(precheck::is_complete(&report));

    // The messages say what was found.
    assert!(
        check(&report, precheck::VERSION)
            .message
            .contains("MariaDB 10."),
        "{report}"
    );
    assert!(check(&report, precheck::BINLOG_FORMAT)
        .message
        .contains("ROW"));
    assert!(check(&report, precheck::GTID)
        .message
        .contains("gtid_strict_mode = ON"));
    assert!(check(&report, precheck::BINLOG_RETENTION)
        .message
        .contains("never expire"));
    assert!(check(&report, precheck::PRIVILEGES)
        .message
        .contains("'root'@'127.0.0.1'"));
    assert!(check(&report, precheck::CONNECTIVITY)
        .message
        .contains(&source.address()));
    conn.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn whole_instance_selection_passes_except_tables_other_tests_left() {
    let report = run(&endpoint("DTS_TEST_SOURCE_URL"), &[]).await;
    assert!(precheck::is_complete(&report), "{report}");
    for name in precheck::SOURCE_CHECKS {
        if name == precheck::TABLES_WITHOUT_PRIMARY_KEY {
            // Other tests create keyless tables in their own databases on this server at any
            // time; the selection covers them, so a warning is legitimate here.
            let c = check(&report, name);
            assert_ne!(c.level, CheckLevel::Error, "{c}");
        } else {
            assert_level(&report, name, CheckLevel::Pass);
        }
    }
    assert!(
        report.passes(&[precheck::TABLES_WITHOUT_PRIMARY_KEY.to_string()]),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn misconfigured_server_fails_binlog_format_and_row_image() {
    let report = run(&endpoint("DTS_TEST_MISCONFIGURED_URL"), &[]).await;
    assert!(precheck::is_complete(&report), "{report}");

    assert_level(&report, precheck::CONNECTIVITY, CheckLevel::Pass);
    assert_level(&report, precheck::VERSION, CheckLevel::Pass);
    assert_level(&report, precheck::LOG_BIN, CheckLevel::Pass);
    assert_level(&report, precheck::SERVER_ID, CheckLevel::Pass);
    assert_level(&report, precheck::PRIVILEGES, CheckLevel::Pass);
    assert_level(&report, precheck::GTID, CheckLevel::Pass);

    let f = assert_level(&report, precheck::BINLOG_FORMAT, CheckLevel::Error);
    assert!(f.message.contains("binlog_format = MIXED"), "{f}");
    assert!(f.fix.contains("SET GLOBAL binlog_format = 'ROW'"), "{f}");
    assert!(f.fix.contains("my.cnf"), "{f}");

    let i = assert_level(&report, precheck::BINLOG_ROW_IMAGE, CheckLevel::Error);
    assert!(i.message.contains("binlog_row_image = MINIMAL"), "{i}");
    assert!(
        i.fix.contains("SET GLOBAL binlog_row_image = 'FULL'"),
        "{i}"
    );

    let m = assert_level(&report, precheck::BINLOG_ROW_METADATA, CheckLevel::Warning);
    assert!(m.message.contains("binlog_row_metadata = MINIMAL"), "{m}");
    assert!(m.message.contains("DDL"), "{m}");
    assert!(
        m.fix.contains("SET GLOBAL binlog_row_metadata = 'FULL'"),
        "{m}"
    );

    assert_eq!(
        precheck::names_at(&report, CheckLevel::Error),
        vec![precheck::BINLOG_FORMAT, precheck::BINLOG_ROW_IMAGE],
        "{report}"
    );
    // Errors block even when every check is acknowledged.
    let all: Vec<String> = precheck::SOURCE_CHECKS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(!report.passes(&all));
    assert!(
        report.to_string().contains("[FAIL] source.binlog_format"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn short_binlog_retention_warns() {
    let mut conn = admin("DTS_TEST_MISCONFIGURED_URL").await;
    let before: u64 = conn
        .query_first("SELECT @@GLOBAL.binlog_expire_logs_seconds")
        .await
        .unwrap()
        .unwrap();
    exec(&mut conn, "SET GLOBAL binlog_expire_logs_seconds = 172800").await;
    let short = run(&endpoint("DTS_TEST_MISCONFIGURED_URL"), &[]).await;
    exec(&mut conn, "SET GLOBAL binlog_expire_logs_seconds = 864000").await;
    let long = run(&endpoint("DTS_TEST_MISCONFIGURED_URL"), &[]).await;
    exec(
        &mut conn,
        &format!("SET GLOBAL binlog_expire_logs_seconds = {before}"),
    )
    .await;
    let restored = run(&endpoint("DTS_TEST_MISCONFIGURED_URL"), &[]).await;
    conn.disconnect().await.unwrap();

    let w = assert_level(&short, precheck::BINLOG_RETENTION, CheckLevel::Warning);
    assert!(w.message.contains("2 days"), "{w}");
    assert!(
        w.message.contains("binlog_expire_logs_seconds = 172800"),
        "{w}"
    );
    assert!(w.message.contains("at least 7 days"), "{w}");
    assert!(
        w.fix
            .contains("SET GLOBAL binlog_expire_logs_seconds = 604800"),
        "{w}"
    );

    let p = assert_level(&long, precheck::BINLOG_RETENTION, CheckLevel::Pass);
    assert!(p.message.contains("10 days"), "{p}");

    if before == 0 {
        let r = assert_level(&restored, precheck::BINLOG_RETENTION, CheckLevel::Pass);
        assert!(r.message.contains("never expire"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn select_only_account_lacks_replication_privileges() {
    let user = unique("dts_pc_ro");
    let password = "Sel-only-pw-1";
    let mut conn = admin("DTS_TEST_SOURCE_URL").await;
    exec(&mut conn, "SET SESSION sql_log_bin = 0").await;
    exec(
        &mut conn,
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
    )
    .await;
    exec(&mut conn, &format!("GRANT SELECT ON *.* TO '{user}'@'%'")).await;

    let ep = endpoint("DTS_TEST_SOURCE_URL").with_user(&user, Some(password.to_string()));
    let report = run(&ep, &[]).await;
    exec(&mut conn, &format!("DROP USER '{user}'@'%'")).await;
    conn.disconnect().await.unwrap();

    assert_level(&report, precheck::CONNECTIVITY, CheckLevel::Pass);
    let p = assert_level(&report, precheck::PRIVILEGES, CheckLevel::Error);
    assert!(p.message.contains(&format!("'{user}'@'%'")), "{p}");
    assert!(p.message.contains("REPLICATION SLAVE"), "{p}");
    // MariaDB 10.5+ calls REPLICATION CLIENT "BINLOG MONITOR".
    assert!(p.message.contains("BINLOG MONITOR"), "{p}");
    assert!(!p.message.contains("SELECT on"), "SELECT is granted: {p}");
    assert_eq!(
        p.fix,
        format!("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{user}'@'%';")
    );
    assert!(!report.to_string().contains(password), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn database_level_select_covers_only_that_database() {
    let user = unique("dts_pc_db");
    let password = "Db-level-pw-1";
    let mut conn = admin("DTS_TEST_SOURCE_URL").await;
    let db = keyed_database(&mut conn).await;
    exec(
        &mut conn,
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
    )
    .await;
    exec(
        &mut conn,
        &format!("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'"),
    )
    .await;
    exec(
        &mut conn,
        &format!("GRANT SELECT ON `{db}`.* TO '{user}'@'%'"),
    )
    .await;

    let ep = endpoint("DTS_TEST_SOURCE_URL").with_user(&user, Some(password.to_string()));
    let own = run(&ep, std::slice::from_ref(&db)).await;
    let other = unique("dts_pc_other");
    let both = run(&ep, &[db.clone(), other.clone()]).await;
    let all = run(&ep, &[]).await;
    exec(&mut conn, &format!("DROP USER '{user}'@'%'")).await;
    exec(&mut conn, &format!("DROP DATABASE `{db}`")).await;
    conn.disconnect().await.unwrap();

    assert_level(&own, precheck::PRIVILEGES, CheckLevel::Pass);
    assert_level(&own, precheck::SELECTED_DATABASES, CheckLevel::Pass);
    assert_level(&own, precheck::TABLES_WITHOUT_PRIMARY_KEY, CheckLevel::Pass);

    let p = assert_level(&both, precheck::PRIVILEGES, CheckLevel::Error);
    assert!(p.message.contains(&format!("SELECT on `{other}`.*")), "{p}");
    assert!(!p.message.contains(&format!("`{db}`")), "{p}");
    assert!(!p.message.contains("REPLICATION SLAVE"), "{p}");
    assert_eq!(
        p.fix,
        format!("GRANT SELECT ON `{other}`.* TO '{user}'@'%';")
    );
    let s = assert_level(&both, precheck::SELECTED_DATABASES, CheckLevel::Error);
    assert!(s.message.contains(&other), "{s}");

    let p = assert_level(&all, precheck::PRIVILEGES, CheckLevel::Error);
    assert!(p.message.contains("SELECT on *.*"), "{p}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_a_connectivity_error_without_the_password() {
    let source = endpoint("DTS_TEST_SOURCE_URL");
    let password = unique("Wrong-pw");
    let ep = source.clone().with_user("root", Some(password.clone()));
    let report = run(&ep, &[]).await;

    assert_eq!(
        report.checks.len(),
        1,
        "the other checks are skipped:\n{report}"
    );
    let c = assert_level(&report, precheck::CONNECTIVITY, CheckLevel::Error);
    assert!(c.message.contains("'root'"), "{c}");
    assert!(c.message.contains(&source.address()), "{c}");
    assert!(c.message.contains("Access denied"), "{c}");
    assert!(!c.message.contains(&password), "{c}");
    assert!(!c.fix.contains(&password), "{c}");
    assert!(!report.to_string().contains(&password));
    assert!(!format!("{report:?}").contains(&password));
    assert!(!precheck::is_complete(&report));
    assert!(!report.passes(&[]));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_is_a_connectivity_error() {
    let ep = MysqlEndpoint::new("source", "127.0.0.1", 1, "root", None);
    let report = run(&ep, &[]).await;
    assert_eq!(report.checks.len(), 1, "{report}");
    let c = assert_level(&report, precheck::CONNECTIVITY, CheckLevel::Error);
    assert!(c.message.contains("127.0.0.1:1"), "{c}");
    assert!(c.fix.contains("127.0.0.1:1"), "{c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_tables_are_named() {
    let db = unique("dts_precheck_nokey");
    let mut conn = admin("DTS_TEST_SOURCE_URL").await;
    exec(&mut conn, "SET SESSION sql_log_bin = 0").await;
    exec(&mut conn, &format!("CREATE DATABASE `{db}`")).await;
    for ddl in [
        "CREATE TABLE `{db}`.keyless (id INT, v TEXT)",
        "CREATE TABLE `{db}`.nullable_unique (id INT NULL, UNIQUE KEY (id))",
        "CREATE TABLE `{db}`.plain_index (id INT NOT NULL, KEY (id))",
        "CREATE TABLE `{db}`.keyed (id INT PRIMARY KEY)",
        "CREATE TABLE `{db}`.unique_not_null (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY (a, b))",
        "CREATE VIEW `{db}`.keyless_view AS SELECT id FROM `{db}`.keyless",
    ] {
        exec(&mut conn, &ddl.replace("{db}", &db)).await;
    }
    let report = run(&endpoint("DTS_TEST_SOURCE_URL"), std::slice::from_ref(&db)).await;
    let everything = run(&endpoint("DTS_TEST_SOURCE_URL"), &[]).await;
    exec(&mut conn, &format!("DROP DATABASE `{db}`")).await;
    conn.disconnect().await.unwrap();

    let w = assert_level(
        &report,
        precheck::TABLES_WITHOUT_PRIMARY_KEY,
        CheckLevel::Warning,
    );
    assert!(w.message.starts_with("3 table(s)"), "{w}");
    for t in ["keyless", "nullable_unique", "plain_index"] {
        assert!(w.message.contains(&format!("`{db}`.`{t}`")), "{t}: {w}");
    }
    for t in ["keyed", "unique_not_null", "keyless_view"] {
        assert!(!w.message.contains(&format!("`{db}`.`{t}`")), "{t}: {w}");
    }
    assert!(w.fix.contains("PRIMARY KEY"), "{w}");
    // Only options every task accepts: not the two-way-only `topology.exactly_once_write`.
    assert!(w.fix.contains("acknowledge_warnings"), "{w}");
    assert!(!w.fix.contains("exactly_once_write"), "{w}");
    // Only the warning stands between this selection and the task.
    assert!(!report.passes(&[]), "{report}");
    assert!(
        report.passes(&[precheck::TABLES_WITHOUT_PRIMARY_KEY.to_string()]),
        "{report}"
    );

    // Selecting every database covers this one too.
    let w = assert_level(
        &everything,
        precheck::TABLES_WITHOUT_PRIMARY_KEY,
        CheckLevel::Warning,
    );
    assert!(
        w.message.contains(&db) || w.message.contains(" more"),
        "{w}"
    );
}
