//! Helpers shared by the reliability and security tests (`secrets.rs`, `least_privilege.rs`,
//! `hostile.rs`): servers of the test environment, scratch names prefixed `rs_`, scratch
//! accounts, a log capture and a "run a configured task until both sides agree" driver.
#![allow(dead_code)]

use dts_core::config::TaskConfig;
use dts_core::{Stage, StageStatus};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A variable of `scripts/test-env.sh env`.
pub fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up`")
    })
}

/// `mysql://root@host:port` of the source server.
pub fn source_url() -> String {
    env("DTS_TEST_SOURCE_URL")
}

/// `mysql://root@host:port` of the destination server.
pub fn dest_url() -> String {
    env("DTS_TEST_DEST_URL")
}

/// Host and port of a URL of the test environment.
pub fn host_port(url: &str) -> (String, u16) {
    let opts = Opts::from_url(url).unwrap();
    (opts.ip_or_hostname().to_string(), opts.tcp_port())
}

/// A root connection with zero dates allowed, in UTC.
pub async fn connect(url: &str) -> Conn {
    let mut c = Conn::new(Opts::from_url(url).unwrap()).await.unwrap();
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await
        .unwrap();
    c
}

/// Runs statements in order, panicking with the statement on failure.
pub async fn exec_all(c: &mut Conn, statements: &[&str]) {
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// A name unique to this run: `rs_<what>_<pid>_<n>`.
pub fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "rs_{what}_{}_{}_{}",
        std::process::id(),
        nanos % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A password nobody else uses, with characters that need care in URLs and shells.
pub fn password(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("Pw-{tag}-{nanos}#%&:@/!")
}

/// Everything written through `tracing` by this test process, at every level.
pub fn captured_log() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| Arc::new(Mutex::new(Vec::new()))).clone()
}

/// Installs (once) a global subscriber that records every event of every target at TRACE
/// level into [`captured_log`].
pub fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        struct W(Arc<Mutex<Vec<u8>>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = log_buffer();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || W(buf.clone()))
            .init();
    });
}

/// Drops accounts (every host form used here) on a server.
pub async fn drop_user(url: &str, user: &str) {
    let mut c = connect(url).await;
    exec_all(&mut c, &[&format!("DROP USER IF EXISTS '{user}'@'%'")]).await;
}

/// `CHECKSUM TABLE` of every table of `db` (by name).
pub async fn checksums(c: &mut Conn, db: &str) -> Vec<(String, Option<u64>)> {
    let tables: Vec<String> = c
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
            (db,),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let sum: Option<(String, Option<u64>)> = c
            .query_first(format!(
                "CHECKSUM TABLE `{}`.`{}`",
                db.replace('`', "``"),
                t.replace('`', "``")
            ))
            .await
            .unwrap();
        out.push((t, sum.and_then(|s| s.1)));
    }
    out
}

/// Waits until `handle`'s task is in incremental write, failing with its error if it fails.
pub async fn wait_incremental(handle: &dts_core::TaskHandle, within: Duration) {
    let deadline = Instant::now() + within;
    while handle.status().stage(Stage::IncrementalWrite).status != StageStatus::Running {
        if let Some(f) = handle.status().failure() {
            panic!("task failed in {}: {}", f.0, f.1);
        }
        assert!(
            Instant::now() < deadline,
            "not in incremental write after {within:?}: {:?}",
            handle.progress()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every table of each database pair has the same checksum on both sides.
pub async fn wait_converged(
    handle: &dts_core::TaskHandle,
    pairs: &[(&str, &str)],
    within: Duration,
) {
    let mut s = connect(&source_url()).await;
    let mut d = connect(&dest_url()).await;
    let deadline = Instant::now() + within;
    loop {
        if let Some(f) = handle.status().failure() {
            panic!("task failed in {}: {}", f.0, f.1);
        }
        let mut same = true;
        for (src_db, dst_db) in pairs {
            let a = checksums(&mut s, src_db).await;
            let b = checksums(&mut d, dst_db).await;
            if a != b {
                same = false;
                if Instant::now() > deadline {
                    panic!("{src_db} → {dst_db} not converged after {within:?}:\nsource {a:?}\ndestination {b:?}");
                }
            }
        }
        if same {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The `[source]` and `[destination]` sections of a task over the test servers as `user`s,
/// without passwords (callers add the password keys they test).
pub fn endpoints_toml(
    source_user: &str,
    source_pw: &str,
    dest_user: &str,
    dest_pw: &str,
) -> String {
    let (sh, sp) = host_port(&source_url());
    let (dh, dp) = host_port(&dest_url());
    format!(
        "[source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"{source_user}\"\n{source_pw}\
         database_type = \"mariadb\"\n\n\
         [destination]\ntype = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"{dest_user}\"\n{dest_pw}\n"
    )
}

/// Parses a task file, panicking with the error.
pub fn parse(toml: &str) -> TaskConfig {
    TaskConfig::from_toml_str(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}
