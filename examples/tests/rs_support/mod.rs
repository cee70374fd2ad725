//! Helpers shared by the reliability and security tests (`secrets.rs`, `least_privilege.rs`,
//! `hostile.rs`): servers of the test environment, scratch names prefixed `rs_`, scratch
//! accounts, a log capture and a "run a configured task until both sides agree" driver.
#![allow(dead_code)]

use dts_core::config::TaskConfig;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A variable of `scripts/test-env.sh env`.
#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::env::var as env;

#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::env::{dest_url, host_port, source_url};

/// A root connection with zero dates allowed, in UTC.
#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::mysql::connect_utc as connect;

#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::mysql::exec_all;

/// A name unique to this run: `rs_<what>_<pid>_<clock>_<n>`.
pub fn unique(what: &str) -> String {
    dts_testkit::unique_name(&format!("rs_{what}"))
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

/// Waits until every table of each database pair has the same checksum on both sides.
pub async fn wait_converged(
    handle: &dts_core::TaskHandle,
    pairs: &[(&str, &str)],
    within: Duration,
) {
    let servers =
        tokio::sync::Mutex::new((connect(&source_url()).await, connect(&dest_url()).await));
    dts_testkit::wait_for(handle, within, "the databases converged", || async {
        let (s, d) = &mut *servers.lock().await;
        for (src_db, dst_db) in pairs {
            let a = checksums(s, src_db).await;
            let b = checksums(d, dst_db).await;
            if a != b {
                return Err(format!(
                    "{src_db} → {dst_db} not converged:\nsource {a:?}\ndestination {b:?}"
                ));
            }
        }
        Ok(())
    })
    .await
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
