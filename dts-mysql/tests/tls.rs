//! TLS to source and destination against the test environment's `tls` server (a MariaDB with a
//! certificate of a self-signed CA naming `127.0.0.1` and `localhost`, also listening on
//! `127.0.0.2`, which the certificate does not name; accounts `dts_tls` REQUIRE SSL and
//! `dts_x509` REQUIRE X509) and its plain `source` server.
//!
//! Needs `DTS_TEST_TLS_URL`, `DTS_TEST_TLS_CERT_DIR` and `DTS_TEST_SOURCE_URL` from
//! `scripts/test-env.sh env`. Databases are prefixed `tls_`.

mod common;

use common::{exec_all, unique_name};
use dts_core::config::{TaskConfig, TlsConfig, TlsMode};
use dts_core::{CheckLevel, ConflictingTables, Error};
use dts_mysql::source::precheck;
use dts_mysql::MysqlEndpoint;
use mysql_async::prelude::Queryable;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const TLS_PASSWORD: &str = "dts-tls-secret";
const X509_PASSWORD: &str = "dts-x509-secret";

use dts_testkit::env::var as env;

fn cert(file: &str) -> PathBuf {
    let path = PathBuf::from(env("DTS_TEST_TLS_CERT_DIR")).join(file);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// The port of the `tls` server.
fn tls_port() -> u16 {
    mysql_async::Opts::from_url(&env("DTS_TEST_TLS_URL"))
        .unwrap()
        .tcp_port()
}

/// The `tls` server as root over plain TCP (for preparing data).
fn tls_admin() -> MysqlEndpoint {
    common::endpoint("tls-admin", "DTS_TEST_TLS_URL")
}

fn tls_config(mode: TlsMode, ca: Option<&str>) -> TlsConfig {
    TlsConfig {
        mode,
        ca_cert: ca.map(cert),
        ..TlsConfig::default()
    }
}

/// The `tls` server at `host` as `dts_tls` (REQUIRE SSL) with `tls`.
fn tls_endpoint(host: &str, tls: TlsConfig) -> MysqlEndpoint {
    MysqlEndpoint::new(
        "tls-server",
        host,
        tls_port(),
        "dts_tls",
        Some(TLS_PASSWORD.into()),
    )
    .with_tls(tls)
}

/// `Ssl_cipher` of a connection (empty when not encrypted).
async fn cipher(conn: &mut mysql_async::Conn) -> String {
    let row: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .unwrap();
    row.map(|(_, v)| v).unwrap_or_default()
}

/// Connects, asserts the session is encrypted, and returns the cipher.
async fn assert_encrypted(ep: &MysqlEndpoint) -> String {
    let mut c = ep.connect().await.unwrap_or_else(|e| panic!("{ep:?}: {e}"));
    let cipher = cipher(&mut c).await;
    assert!(!cipher.is_empty(), "{ep:?}: session not encrypted");
    c.disconnect().await.unwrap();
    cipher
}

/// The error of a connection attempt that must fail.
async fn connect_error(ep: &MysqlEndpoint) -> Error {
    match ep.connect().await {
        Ok(_) => panic!("{ep:?}: connected, but the connection must be refused"),
        Err(e) => {
            println!("{} {:?}: {e}", ep.host, ep.tls().mode);
            e
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_identity_accepts_the_names_the_certificate_holds_only() {
    for host in ["127.0.0.1", "localhost"] {
        let ep = tls_endpoint(host, tls_config(TlsMode::VerifyIdentity, Some("ca.pem")));
        let cipher = assert_encrypted(&ep).await;
        println!("verify_identity {host}: {cipher}");
    }
    // 127.0.0.2 reaches the same server, but the certificate does not name it.
    let ep = tls_endpoint(
        "127.0.0.2",
        tls_config(TlsMode::VerifyIdentity, Some("ca.pem")),
    );
    let e = connect_error(&ep).await;
    let text = e.to_string();
    assert!(
        !e.is_retryable(),
        "a certificate mismatch is definite: {e:?}"
    );
    assert!(text.contains("tls-server"), "{text}");
    assert!(text.contains(&ep.address()), "{text}");
    assert!(text.contains("does not name host `127.0.0.2`"), "{text}");
    assert!(!text.contains(TLS_PASSWORD), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_ca_checks_the_ca_but_not_the_name() {
    // A host the certificate does not name: accepted under verify_ca, also by pools built
    // after the first connection and by the precheck.
    let ep = tls_endpoint("127.0.0.2", tls_config(TlsMode::VerifyCa, Some("ca.pem")));
    assert_encrypted(&ep).await;
    let pool = ep.pool(2);
    let mut c = pool.get_conn().await.unwrap();
    assert!(!cipher(&mut c).await.is_empty());
    drop(c);
    pool.disconnect().await.unwrap();
    let report = precheck::check_source(&ep, &[]).await;
    let tls = report.get(precheck::TLS).expect("source.tls result");
    assert_eq!(tls.level, CheckLevel::Pass, "{report}");
    assert!(tls.message.contains("encrypted with TLS"), "{tls}");
    assert!(tls.message.contains("verify_ca"), "{tls}");

    // A CA that did not sign the server's certificate: refused, naming the endpoint and the
    // CA file, and not retried.
    for mode in [TlsMode::VerifyCa, TlsMode::VerifyIdentity] {
        let ep = tls_endpoint("127.0.0.1", tls_config(mode, Some("other-ca.pem")));
        let e = connect_error(&ep).await;
        let text = e.to_string();
        assert!(!e.is_retryable(), "{e:?}");
        assert!(text.contains("tls-server (127.0.0.1:"), "{text}");
        assert!(
            text.contains("not signed by the CA in tls.ca_cert"),
            "{text}"
        );
        assert!(text.contains("other-ca.pem"), "{text}");
        let report = precheck::check_source(&ep, &[]).await;
        let c = report.get(precheck::TLS).expect("source.tls result");
        assert_eq!(c.level, CheckLevel::Error, "{report}");
        assert!(c.message.contains("tls-server (127.0.0.1:"), "{c}");
        assert!(c.message.contains("other-ca.pem"), "{c}");
        assert_eq!(
            report.get(precheck::CONNECTIVITY).unwrap().level,
            CheckLevel::Error
        );
        assert!(!report.passes(&[]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn required_encrypts_without_verifying_and_disabled_is_refused_by_require_ssl() {
    // `required` encrypts without checking the certificate: even an unrelated CA is ignored.
    assert_encrypted(&tls_endpoint(
        "127.0.0.2",
        tls_config(TlsMode::Required, None),
    ))
    .await;
    assert_encrypted(&tls_endpoint(
        "127.0.0.1",
        tls_config(TlsMode::Required, Some("other-ca.pem")),
    ))
    .await;
    // The account is REQUIRE SSL: a plain connection is denied, and the message says TLS.
    let ep = tls_endpoint("127.0.0.1", TlsConfig::default());
    let text = connect_error(&ep).await.to_string();
    assert!(text.contains("tls-server (127.0.0.1:"), "{text}");
    assert!(text.contains("access denied"), "{text}");
    assert!(text.contains("REQUIRE SSL"), "{text}");
    assert!(text.contains("tls.mode"), "{text}");
    assert!(!text.contains(TLS_PASSWORD), "{text}");
    // The precheck: a connectivity error whose fix names the TLS setting (the server does not
    // tell a REQUIRE SSL refusal from a wrong password).
    let report = precheck::check_source(&ep, &[]).await;
    let c = report.get(precheck::CONNECTIVITY).unwrap();
    assert_eq!(c.level, CheckLevel::Error, "{report}");
    assert!(c.fix.contains("REQUIRE SSL"), "{c}");
    assert!(c.fix.contains("set tls.mode"), "{c}");
    assert!(!report.to_string().contains(TLS_PASSWORD), "{report}");
    // The same server without TLS for an account that does not require it: a pass saying the
    // session is not encrypted.
    let plain = tls_admin();
    let report = precheck::check_source(&plain, &[]).await;
    let c = report.get(precheck::TLS).expect("source.tls result");
    assert_eq!(c.level, CheckLevel::Pass, "{report}");
    assert!(c.message.contains("not encrypted"), "{c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_certificate_for_require_x509_accounts() {
    let x509 = |client: bool| {
        let mut tls = tls_config(TlsMode::VerifyIdentity, Some("ca.pem"));
        if client {
            tls.client_cert = Some(cert("client.pem"));
            tls.client_key = Some(cert("client-key.pem"));
        }
        MysqlEndpoint::new(
            "x509",
            "127.0.0.1",
            tls_port(),
            "dts_x509",
            Some(X509_PASSWORD.into()),
        )
        .with_tls(tls)
    };
    let ep = x509(true);
    assert_encrypted(&ep).await;
    let report = precheck::check_source(&ep, &[]).await;
    let c = report.get(precheck::TLS).unwrap();
    assert_eq!(c.level, CheckLevel::Pass, "{report}");
    assert!(c.message.contains("client certificate presented"), "{c}");
    // Key material never shows in Debug output: only paths.
    let debug = format!("{ep:?}");
    let key = std::fs::read_to_string(cert("client-key.pem")).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    assert!(!debug.contains(key_line), "{debug}");
    assert!(!debug.contains(X509_PASSWORD), "{debug}");
    // Without the client certificate the account is denied.
    let text = connect_error(&x509(false)).await.to_string();
    assert!(text.contains("x509 (127.0.0.1:"), "{text}");
    assert!(text.to_lowercase().contains("access denied"), "{text}");
    assert!(text.contains("tls.client_cert"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_against_a_server_without_tls_fails_clearly() {
    let plain = common::source().with_tls(tls_config(TlsMode::Required, None));
    let text = connect_error(&plain).await.to_string();
    assert!(
        text.contains(&format!("source ({})", plain.address())),
        "{text}"
    );
    assert!(text.contains("does not offer TLS"), "{text}");

    let report = precheck::check_source(&plain, &[]).await;
    let c = report.get(precheck::TLS).expect("source.tls result");
    assert_eq!(c.level, CheckLevel::Error, "{report}");
    assert!(c.message.contains("does not offer TLS"), "{c}");
    assert!(c.message.contains(&plain.address()), "{c}");
    assert!(!report.passes(&[]));

    let dest = plain
        .clone()
        .with_tls(tls_config(TlsMode::VerifyCa, Some("ca.pem")));
    let report = dts_mysql::sink::precheck::check_destination(
        &dest,
        "dts_meta",
        &[],
        ConflictingTables::PrecheckAndReportErrors,
    )
    .await;
    let c = report
        .get(dts_mysql::sink::precheck::TLS)
        .expect("destination.tls result");
    assert_eq!(c.level, CheckLevel::Error, "{report}");
    assert!(c.message.contains("does not offer TLS"), "{c}");

    // Through the config runner: the task is not built, and the error names the key's side.
    let (host, port) = {
        let o = mysql_async::Opts::from_url(&env("DTS_TEST_SOURCE_URL")).unwrap();
        (o.ip_or_hostname().to_string(), o.tcp_port())
    };
    let text = format!(
        r#"
[source]
host = "{host}"
port = {port}
user = "root"
[source.tls]
mode = "required"

[destination]
type = "mysql"
host = "{host}"
port = {port}
user = "root"

[[objects.databases]]
name = "tls_never"
"#
    );
    let cfg = TaskConfig::from_toml_str(&text).unwrap();
    let state = tempfile::tempdir().unwrap();
    let err = match dts_mysql::build_mysql_task(&cfg, state.path(), None).await {
        Ok(_) => panic!("a TLS task against a server without TLS must not build"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("source ("), "{err}");
    assert!(err.contains("does not offer TLS"), "{err}");
}

async fn rows(db: &str) -> Vec<(i64, String)> {
    let mut c = tls_admin().connect().await.unwrap();
    let rows = c
        .query(format!("SELECT id, v FROM `{db}`.t ORDER BY id"))
        .await
        .unwrap_or_default();
    c.disconnect().await.unwrap();
    rows
}

async fn wait_rows(db: &str, want: &[(i64, &str)]) {
    let want: Vec<(i64, String)> = want.iter().map(|(i, v)| (*i, v.to_string())).collect();
    let what = format!("{db} holding {want:?}");
    dts_testkit::eventually(Duration::from_secs(60), &what, || async {
        let got = rows(db).await;
        if got == want {
            Ok(())
        } else {
            Err(got)
        }
    })
    .await;
}

/// The whole pipeline over TLS, built by the config runner: schema sync, full sync and
/// incremental sync from the `tls` server reached at 127.0.0.2 under `verify_ca` (a name the
/// certificate does not hold) to the same server reached as `localhost` under
/// `verify_identity`, into a renamed database. Both accounts are REQUIRE SSL, so any
/// connection dts made without TLS (discovery, snapshot, binlog, destination pool,
/// checkpoint, precheck) would fail the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn config_task_syncs_schema_full_and_incremental_over_tls() {
    let src_db = unique_name("tls_src");
    let dst_db = format!("{src_db}_copy");
    let mut admin = tls_admin().connect().await.unwrap();
    exec_all(
        &mut admin,
        &[
            &format!("DROP DATABASE IF EXISTS `{src_db}`"),
            &format!("DROP DATABASE IF EXISTS `{dst_db}`"),
            &format!("CREATE DATABASE `{src_db}`"),
            &format!("CREATE TABLE `{src_db}`.t (id BIGINT PRIMARY KEY, v VARCHAR(40))"),
            &format!("INSERT INTO `{src_db}`.t VALUES (1,'one'),(2,'two'),(3,'three')"),
        ],
    )
    .await;
    let text = format!(
        r#"
id = "{src_db}"

[connections.tls_server]
host = "localhost"
port = {port}
user = "dts_tls"
password = "{password}"
database_type = "mariadb"
[connections.tls_server.tls]
mode = "verify_identity"
ca_cert = "{ca}"

[source]
host = "127.0.0.2"
port = {port}
user = "dts_tls"
password = "{password}"
database_type = "mariadb"
[source.tls]
mode = "verify_ca"
ca_cert = "{ca}"

[destination]
type = "mysql"
connection = "tls_server"

[[objects.databases]]
name = "{src_db}"
rename_to = "{dst_db}"
"#,
        port = tls_port(),
        ca = cert("ca.pem").display(),
        password = TLS_PASSWORD,
    );
    let cfg = TaskConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let state = tempfile::tempdir().unwrap();
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let report = built.task.precheck().await.unwrap();
    for name in [precheck::TLS, dts_mysql::sink::precheck::TLS] {
        let c = report
            .get(name)
            .unwrap_or_else(|| panic!("{name}: {report}"));
        assert_eq!(c.level, CheckLevel::Pass, "{report}");
        assert!(c.message.contains("encrypted with TLS"), "{c}");
    }
    assert!(report
        .get(precheck::TLS)
        .unwrap()
        .message
        .contains("verify_ca"));
    assert!(report
        .get(dts_mysql::sink::precheck::TLS)
        .unwrap()
        .message
        .contains("verify_identity"));

    let h = built.task.handle();
    let task = built.task;
    let started = Instant::now();
    let run = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&h, Duration::from_secs(120)).await;
    wait_rows(&dst_db, &[(1, "one"), (2, "two"), (3, "three")]).await;
    println!("schema + full sync over TLS: {:?}", started.elapsed());
    let changed = Instant::now();
    exec_all(
        &mut admin,
        &[
            &format!("INSERT INTO `{src_db}`.t VALUES (4,'four')"),
            &format!("UPDATE `{src_db}`.t SET v = 'TWO' WHERE id = 2"),
            &format!("DELETE FROM `{src_db}`.t WHERE id = 1"),
            &format!("ALTER TABLE `{src_db}`.t ADD COLUMN w INT NULL"),
            &format!("INSERT INTO `{src_db}`.t VALUES (5,'five',5)"),
        ],
    )
    .await;
    wait_rows(
        &dst_db,
        &[(2, "TWO"), (3, "three"), (4, "four"), (5, "five")],
    )
    .await;
    println!(
        "incremental changes over TLS applied in {:?}",
        changed.elapsed()
    );
    let w: Option<Option<i64>> = admin
        .query_first(format!("SELECT w FROM `{dst_db}`.t WHERE id = 5"))
        .await
        .unwrap();
    assert_eq!(w, Some(Some(5)), "the DDL and the row after it arrived");
    // Every session of dts_tls on the server is encrypted (REQUIRE SSL) — and there are some.
    let sessions: Vec<(u64, String)> = admin
        .query("SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE USER = 'dts_tls'")
        .await
        .unwrap();
    assert!(!sessions.is_empty(), "the running task holds connections");
    h.stop();
    run.await.unwrap().unwrap();
    exec_all(
        &mut admin,
        &[
            &format!("DROP DATABASE IF EXISTS `{src_db}`"),
            &format!("DROP DATABASE IF EXISTS `{dst_db}`"),
        ],
    )
    .await;
    admin.disconnect().await.unwrap();
}

/// The example task file with TLS parses and validates.
#[test]
fn example_tls_task_file_is_valid() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/tasks/mysql_to_mysql_tls.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let cfg = TaskConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let source = cfg.source_settings().unwrap();
    assert_eq!(source.tls.mode, TlsMode::VerifyCa);
    assert!(source.tls.ca_cert.is_some());
}
