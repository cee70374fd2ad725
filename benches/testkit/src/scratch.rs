//! Names unique to a test, and scratch databases dropped when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The process id, a clock-derived part (so reruns against servers that keep their data do not
/// collide) and a per-process counter (so names taken in the same instant differ).
fn suffix(clock_modulus: u128, separator: char) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!(
        "{}{separator}{}{separator}{}",
        std::process::id(),
        nanos % clock_modulus,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database (or table, or account) name unique to this test: `<prefix>_<pid>_<clock>_<n>`,
/// short enough for MySQL's 64-character identifiers with a prefix of up to 40 characters.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", suffix(100_000, '_'))
}

/// A Kafka topic (or task id) unique to this test: `<prefix>-<pid>-<clock>-<n>`. The clock part
/// is wider than [`unique_name`]'s: the broker keeps every topic of the session.
pub fn unique_topic(prefix: &str) -> String {
    format!("{prefix}-{}", suffix(1_000_000_000_000, '-'))
}

/// A database of a unique name on some test servers, dropped from each of them when this value
/// is dropped (also when the test panics), so a test leaves nothing behind.
///
/// ```no_run
/// # async fn f() {
/// let db = dts_testkit::ScratchDatabase::new("kit_demo", &[dts_testkit::env::dest_url()]);
/// db.create().await; // CREATE DATABASE on every server named
/// // … use db.name() …
/// # }
/// ```
#[derive(Debug)]
pub struct ScratchDatabase {
    name: String,
    /// The databases dropped at the end: the scratch database and its companions.
    dropped: Vec<String>,
    urls: Vec<String>,
}

impl ScratchDatabase {
    /// A fresh name from `prefix` (see [`unique_name`]) on the servers at `urls`; nothing is
    /// created yet.
    pub fn new(prefix: &str, urls: &[String]) -> Self {
        let name = unique_name(prefix);
        Self {
            dropped: vec![name.clone()],
            name,
            urls: urls.to_vec(),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Creates the database (empty) on every server of this scratch database.
    pub async fn create(&self) {
        for url in &self.urls {
            let mut c = crate::mysql::connect(url).await;
            crate::mysql::exec_all(
                &mut c,
                &[
                    format!("DROP DATABASE IF EXISTS `{}`", self.name),
                    format!("CREATE DATABASE `{}`", self.name),
                ],
            )
            .await;
        }
    }

    /// A further database dropped with this one, e.g. a sink's checkpoint database: its name
    /// is `<name>_<suffix>`; nothing is created.
    pub fn companion(&mut self, suffix: &str) -> String {
        let name = format!("{}_{suffix}", self.name);
        self.dropped.push(name.clone());
        name
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let dropped = std::mem::take(&mut self.dropped);
        let urls = self.urls.clone();
        // Drop may run inside a runtime, where blocking on another future is not allowed: the
        // clean-up runs on a thread of its own, with its own runtime. Best effort: a server
        // that is down keeps the database, which its unique name makes harmless.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use mysql_async::prelude::Queryable;
                for url in &urls {
                    let Ok(opts) = mysql_async::Opts::from_url(url) else {
                        continue;
                    };
                    if let Ok(mut c) = mysql_async::Conn::new(opts).await {
                        for db in &dropped {
                            let _ = c
                                .query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
                                .await;
                        }
                        let _ = c.disconnect().await;
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fit_mysql_identifiers() {
        let a = unique_name("kit_prefix_of_forty_characters_long_xxxx");
        let b = unique_name("kit_prefix_of_forty_characters_long_xxxx");
        assert_ne!(a, b);
        assert!(a.len() <= 64, "{a}");
        assert!(unique_topic("kit").starts_with("kit-"));
    }
}
