//! TLS to an "ADB" destination: the test environment's `tls` MariaDB server (a certificate of a
//! self-signed CA naming `127.0.0.1` and `localhost`, also listening on `127.0.0.2`, which the
//! certificate does not name; accounts `dts_tls` REQUIRE SSL and `dts_x509` REQUIRE X509)
//! stands in for AnalyticDB in `mariadb_compat` mode, as in the other dts-adb tests; no ADB
//! server was available. The source is the plain `source` server.
//!
//! Needs `DTS_TEST_TLS_URL`, `DTS_TEST_TLS_CERT_DIR`, `DTS_TEST_SOURCE_URL` and
//! `DTS_TEST_DEST_URL` from `scripts/test-env.sh env`. Databases are prefixed `ab_tls`.

mod build_support;

use dts_adb::{AdbOptions, AdbSink};
use dts_core::config::{TaskConfig, TlsConfig, TlsMode};
use dts_core::{CheckLevel, Sink, Stage};
use dts_mysql::sink::precheck::{CONNECTIVITY, TLS};
use mysql_async::prelude::Queryable;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const TLS_PASSWORD: &str = "dts-tls-secret";
const X509_PASSWORD: &str = "dts-x509-secret";

use dts_testkit::env::var as env;

fn cert(file: &str) -> PathBuf {
    let path = PathBuf::from(env("DTS_TEST_TLS_CERT_DIR")).join(file);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

fn host_port(var: &str) -> (String, u16) {
    dts_testkit::env::host_port(&env(var))
}

fn tls_port() -> u16 {
    host_port("DTS_TEST_TLS_URL").1
}

async fn conn(var: &str) -> mysql_async::Conn {
    mysql_async::Conn::from_url(env(var)).await.unwrap()
}

async fn exec(c: &mut mysql_async::Conn, statements: &[String]) {
    for s in statements {
        c.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// A fresh name per test run, so runs never see each other's leftovers.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A task file: source `source` server (root, plain) → ADB destination `destination`
/// (a TOML body of `[destination]` after `type = "adb"`).
fn task_config(id: &str, src_db: &str, dst_db: &str, destination: &str, extra: &str) -> TaskConfig {
    let (sh, sp) = host_port("DTS_TEST_SOURCE_URL");
    let text = format!(
        "id = \"{id}\"\n\
         [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\ndatabase_type = \"mariadb\"\n\
         [destination]\ntype = \"adb\"\nmariadb_compat = true\nflush_interval_ms = 100\n\
         {destination}\n\
         [[objects.databases]]\nname = \"{src_db}\"\nrename_to = \"{dst_db}\"\n{extra}"
    );
    TaskConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The `[destination]` keys for the `tls` server at `host` as `dts_tls` (REQUIRE SSL).
fn tls_destination(host: &str, mode: &str, ca: &str) -> String {
    format!(
        "host = \"{host}\"\nport = {port}\nuser = \"dts_tls\"\npassword = \"{TLS_PASSWORD}\"\n\
         [destination.tls]\nmode = \"{mode}\"\nca_cert = \"{ca}\"\n",
        port = tls_port(),
        ca = cert(ca).display(),
    )
}

async fn source_table(src_db: &str, rows: usize) {
    let mut s = conn("DTS_TEST_SOURCE_URL").await;
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 'v{i}')")).collect();
    exec(
        &mut s,
        &[
            format!("DROP DATABASE IF EXISTS `{src_db}`"),
            format!("CREATE DATABASE `{src_db}`"),
            format!("CREATE TABLE `{src_db}`.t (id BIGINT PRIMARY KEY, v VARCHAR(40))"),
            format!("INSERT INTO `{src_db}`.t VALUES {}", values.join(", ")),
        ],
    )
    .await;
    s.disconnect().await.unwrap();
}

async fn drop_databases(var: &str, dbs: &[&str]) {
    let mut c = conn(var).await;
    let statements: Vec<String> = dbs
        .iter()
        .map(|db| format!("DROP DATABASE IF EXISTS `{db}`"))
        .collect();
    exec(&mut c, &statements).await;
    c.disconnect().await.unwrap();
}

/// Rows of `db`.t on the `tls` server, read as root over plain TCP.
async fn tls_rows(db: &str) -> Vec<(i64, String)> {
    let mut c = conn("DTS_TEST_TLS_URL").await;
    let rows = c
        .query(format!("SELECT id, v FROM `{db}`.t ORDER BY id"))
        .await
        .unwrap_or_default();
    c.disconnect().await.unwrap();
    rows
}

async fn wait_rows(db: &str, want: &[(i64, String)]) {
    let what = format!("{db} holding {want:?}");
    dts_testkit::eventually(Duration::from_secs(60), &what, || async {
        let got = tls_rows(db).await;
        if got == want {
            Ok(())
        } else {
            Err(got)
        }
    })
    .await;
}

/// The whole ADB task over TLS, built from a configuration: precheck (`destination.tls`
/// reports the encrypted, identity-verified session), schema and full sync, verification read
/// on the ADB side, and incremental changes. The destination account is REQUIRE SSL, so any
/// connection the sink, its checkpoint, the precheck or the verification reader made without
/// TLS would fail the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_task_over_verify_identity_copies_rows_and_applies_changes() {
    let src_db = unique("ab_tls_src");
    let dst_db = format!("{src_db}_dw");
    source_table(&src_db, 20).await;
    drop_databases("DTS_TEST_TLS_URL", &[&dst_db]).await;
    let config = task_config(
        &src_db,
        &src_db,
        &dst_db,
        &tls_destination("localhost", "verify_identity", "ca.pem"),
        "[validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\nschema = true\n",
    );
    assert!(dts_core::build::unsupported_options(&config).is_empty());
    let state = tempfile::tempdir().unwrap();
    let built = build_support::build_adb_task(&config, state.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(built.sink.endpoint().tls().mode, TlsMode::VerifyIdentity);

    let report = built.task.precheck().await.unwrap();
    let c = report.get(TLS).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(c.level, CheckLevel::Pass, "{report}");
    assert!(c.message.contains("encrypted with TLS"), "{c}");
    assert!(c.message.contains("verify_identity"), "{c}");
    assert!(c.message.contains("naming `localhost`"), "{c}");
    assert_eq!(report.get(CONNECTIVITY).unwrap().level, CheckLevel::Pass);
    assert!(!report.to_string().contains(TLS_PASSWORD), "{report}");

    let verification = built.spawn_verification().expect("verification configured");
    let sink = built.sink.clone();
    let h = built.task.handle();
    let task = Arc::new(built.task);
    let run = {
        let task = task.clone();
        tokio::spawn(async move { task.run().await })
    };
    dts_testkit::wait_incremental(&h, Duration::from_secs(120)).await;
    let want: Vec<(i64, String)> = (1..=20).map(|i| (i, format!("v{i}"))).collect();
    wait_rows(&dst_db, &want).await;
    let verified = tokio::time::timeout(Duration::from_secs(120), verification)
        .await
        .expect("verification finished in time")
        .unwrap()
        .unwrap_or_else(|e| panic!("verification over TLS failed: {e}"));
    assert!(verified.errors.is_empty(), "{}", verified.to_text());
    let t = &verified.tables[0];
    assert_eq!(
        (t.checked, t.inconsistent()),
        (20, 0),
        "{}",
        verified.to_text()
    );

    let mut s = conn("DTS_TEST_SOURCE_URL").await;
    exec(
        &mut s,
        &[
            format!("INSERT INTO `{src_db}`.t VALUES (21, 'v21')"),
            format!("UPDATE `{src_db}`.t SET v = 'TWO' WHERE id = 2"),
            format!("DELETE FROM `{src_db}`.t WHERE id = 1"),
        ],
    )
    .await;
    let mut want: Vec<(i64, String)> = want.into_iter().filter(|(i, _)| *i != 1).collect();
    want[0].1 = "TWO".into();
    want.push((21, "v21".into()));
    wait_rows(&dst_db, &want).await;

    // The task's sessions on the server are dts_tls ones, and each is encrypted.
    let mut admin = conn("DTS_TEST_TLS_URL").await;
    let sessions: Vec<u64> = admin
        .query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'dts_tls'")
        .await
        .unwrap();
    assert!(!sessions.is_empty(), "the running task holds connections");
    h.stop();
    run.await.unwrap().unwrap();
    sink.flush().await.unwrap();
    // The checkpoint was written over TLS too.
    let stored: Option<u64> = admin
        .exec_first(
            "SELECT COUNT(*) FROM dts_meta.dts_adb_checkpoint WHERE task_id = ?",
            (src_db.as_str(),),
        )
        .await
        .unwrap();
    assert_eq!(stored, Some(1));
    admin.disconnect().await.unwrap();
    s.disconnect().await.unwrap();
    drop_databases("DTS_TEST_SOURCE_URL", &[&src_db]).await;
    drop_databases("DTS_TEST_TLS_URL", &[&dst_db]).await;
}

/// A CA that did not sign the server's certificate: the precheck's `destination.tls` and the
/// sink's own connections fail at once (not retried), naming the ADB endpoint and the CA file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_ca_fails_clearly_naming_the_endpoint() {
    let src_db = unique("ab_tls_ca");
    let dst_db = format!("{src_db}_dw");
    source_table(&src_db, 3).await;
    let config = task_config(
        &src_db,
        &src_db,
        &dst_db,
        &tls_destination("127.0.0.1", "verify_ca", "other-ca.pem"),
        "",
    );
    let state = tempfile::tempdir().unwrap();
    let built = build_support::build_adb_task(&config, state.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let endpoint = format!("destination (127.0.0.1:{})", tls_port());

    let report = built.task.precheck().await.unwrap();
    let c = report.get(TLS).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(c.level, CheckLevel::Error, "{report}");
    assert!(c.message.contains(&endpoint), "{c}");
    assert!(c.message.contains("not signed by the CA"), "{c}");
    assert!(c.message.contains("other-ca.pem"), "{c}");
    assert_eq!(report.get(CONNECTIVITY).unwrap().level, CheckLevel::Error);
    assert!(!report.to_string().contains(TLS_PASSWORD), "{report}");

    // The sink itself: a definite error naming the endpoint and what to change.
    let e = built.sink.read_checkpoint().await.unwrap_err();
    let text = e.to_string();
    assert!(
        !e.is_retryable(),
        "a rejected certificate is definite: {e:?}"
    );
    assert!(text.contains(&endpoint), "{text}");
    assert!(
        text.contains("not signed by the CA in tls.ca_cert"),
        "{text}"
    );
    assert!(!text.contains(TLS_PASSWORD), "{text}");

    // Running the task stops at the precheck; nothing reaches the destination.
    let err = tokio::time::timeout(Duration::from_secs(60), built.task.run())
        .await
        .expect("the task stops at the precheck")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not signed by the CA"), "{err}");
    assert!(tls_rows(&dst_db).await.is_empty());
    drop_databases("DTS_TEST_SOURCE_URL", &[&src_db]).await;
}

/// `required` TLS against the plain `destination` server (no TLS configured): the precheck
/// fails with `destination.tls` saying the server does not offer TLS, and the task does not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_tls_against_a_plain_destination_fails_at_precheck() {
    let src_db = unique("ab_tls_plain");
    let dst_db = format!("{src_db}_dw");
    source_table(&src_db, 3).await;
    drop_databases("DTS_TEST_DEST_URL", &[&dst_db]).await;
    let (dh, dp) = host_port("DTS_TEST_DEST_URL");
    let config = task_config(
        &src_db,
        &src_db,
        &dst_db,
        &format!(
            "host = \"{dh}\"\nport = {dp}\nuser = \"root\"\ntls = {{ mode = \"required\" }}\n"
        ),
        "",
    );
    let state = tempfile::tempdir().unwrap();
    let built = build_support::build_adb_task(&config, state.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let h = built.task.handle();
    let err = tokio::time::timeout(Duration::from_secs(60), built.task.run())
        .await
        .expect("the task stops at the precheck")
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not offer TLS"), "{err}");
    assert!(err.contains(&format!("destination ({dh}:{dp})")), "{err}");
    let status = h.status();
    let (stage, why) = status.failure().expect("the task is marked failed");
    assert_eq!(stage, Stage::Precheck, "{why}");

    let report = built.task.precheck().await.unwrap();
    let c = report.get(TLS).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(c.level, CheckLevel::Error, "{report}");
    assert!(c.message.contains("does not offer TLS"), "{c}");
    assert!(c.message.contains("tls.mode is required"), "{c}");
    // Nothing was created on the destination.
    let mut d = conn("DTS_TEST_DEST_URL").await;
    let found: Option<u64> = d
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (dst_db.as_str(),),
        )
        .await
        .unwrap();
    assert_eq!(found, Some(0));
    d.disconnect().await.unwrap();
    drop_databases("DTS_TEST_SOURCE_URL", &[&src_db]).await;
}

fn sink_options(host: &str, user: &str, password: &str, tls: TlsConfig) -> AdbOptions {
    let mut o = AdbOptions::new(
        format!("mysql://{user}:{password}@{host}:{}", tls_port()),
        unique("ab-tls-sink"),
    );
    o.mariadb_compat = true;
    o.tls = tls;
    o
}

fn tls_config(mode: TlsMode, ca: Option<&str>) -> TlsConfig {
    TlsConfig {
        mode,
        ca_cert: ca.map(cert),
        ..TlsConfig::default()
    }
}

/// The other modes through the sink's own pool: `verify_ca` to an address the certificate
/// does not name (the pool verifies a name the certificate holds), a client certificate for a
/// REQUIRE X509 account, and the hints when TLS or the client certificate is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_pool_verify_ca_client_certificate_and_hints() {
    let sink = AdbSink::new(sink_options(
        "127.0.0.2",
        "dts_tls",
        TLS_PASSWORD,
        tls_config(TlsMode::VerifyCa, Some("ca.pem")),
    ))
    .unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), None);
    let report = sink.precheck(&[], Default::default()).await;
    let c = report.get(TLS).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(c.level, CheckLevel::Pass, "{report}");
    assert!(c.message.contains("verify_ca"), "{c}");
    sink.disconnect().await.unwrap();

    let mut x509 = tls_config(TlsMode::VerifyIdentity, Some("ca.pem"));
    x509.client_cert = Some(cert("client.pem"));
    x509.client_key = Some(cert("client-key.pem"));
    let sink = AdbSink::new(sink_options("127.0.0.1", "dts_x509", X509_PASSWORD, x509)).unwrap();
    assert_eq!(sink.read_checkpoint().await.unwrap(), None);
    let report = sink.precheck(&[], Default::default()).await;
    let c = report.get(TLS).unwrap_or_else(|| panic!("{report}"));
    assert!(c.message.contains("client certificate presented"), "{c}");
    let debug = format!("{:?} {:?}", sink, sink.options());
    assert!(!debug.contains(X509_PASSWORD), "{debug}");
    sink.disconnect().await.unwrap();

    // Without the client certificate, and without TLS at all: denied, with the setting named.
    let sink = AdbSink::new(sink_options(
        "127.0.0.1",
        "dts_x509",
        X509_PASSWORD,
        tls_config(TlsMode::VerifyIdentity, Some("ca.pem")),
    ))
    .unwrap();
    let text = sink.read_checkpoint().await.unwrap_err().to_string();
    assert!(text.contains("destination (127.0.0.1:"), "{text}");
    assert!(text.contains("tls.client_cert"), "{text}");
    let sink = AdbSink::new(sink_options(
        "127.0.0.1",
        "dts_tls",
        TLS_PASSWORD,
        TlsConfig::default(),
    ))
    .unwrap();
    let text = sink.read_checkpoint().await.unwrap_err().to_string();
    assert!(text.contains("REQUIRE SSL"), "{text}");
    assert!(!text.contains(TLS_PASSWORD), "{text}");
}

/// TLS parameters in the sink's URL are refused instead of being ignored.
#[test]
fn tls_parameters_in_the_url_are_refused() {
    let e = AdbSink::new(AdbOptions::new(
        "mysql://u:pw-secret@127.0.0.1:3306?require_ssl=true",
        "t",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("TLS parameters"), "{e}");
    assert!(!e.contains("pw-secret"), "{e}");
}
