//! Helpers of the `dts serve` tests (`api.rs`, `console.rs`): the program started as a child
//! process on a free loopback port, a JSON client of its API, scratch databases prefixed
//! `serve_` on the test environment's servers, and waits on conditions with a deadline.
#![allow(dead_code)]

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde_json::Value;
use std::future::Future;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A variable of `scripts/test-env.sh env`.
#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::env::var as env;

/// A root connection to the server of `var` (`DTS_TEST_SOURCE_URL`, `DTS_TEST_DEST_URL`).
pub async fn connect(var: &str) -> Conn {
    dts_testkit::mysql::connect(&env(var)).await
}

/// Host and port of the server of `var`.
pub fn host_port(var: &str) -> (String, u16) {
    dts_testkit::env::host_port(&env(var))
}

/// A database name unique to this run: `serve_<what>_<pid>_<clock>_<n>`.
pub fn unique(what: &str) -> String {
    dts_testkit::unique_name(&format!("serve_{what}"))
}

#[allow(unused_imports)] // not every test file uses every helper
pub use dts_testkit::mysql::exec_all;

/// Creates `db` on the source with `t` (keyed, `rows` rows) and drops it on the destination.
pub async fn prepare(db: &str, rows: u32) {
    let mut src = connect("DTS_TEST_SOURCE_URL").await;
    let mut statements = vec![
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(40), pad CHAR(100))"),
    ];
    // Rows in batches of 1,000.
    let mut id = 0;
    while id < rows {
        let end = (id + 1_000).min(rows);
        let values: Vec<String> = (id..end)
            .map(|i| format!("({i}, 'row {i}', REPEAT('x', 100))"))
            .collect();
        statements.push(format!("INSERT INTO `{db}`.t VALUES {}", values.join(", ")));
        id = end;
    }
    exec_all(&mut src, &statements).await;
    let mut dst = connect("DTS_TEST_DEST_URL").await;
    exec_all(&mut dst, &[format!("DROP DATABASE IF EXISTS `{db}`")]).await;
}

/// Drops `db` on both servers.
pub async fn cleanup(db: &str) {
    for var in ["DTS_TEST_SOURCE_URL", "DTS_TEST_DEST_URL"] {
        let mut c = connect(var).await;
        exec_all(&mut c, &[format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}

/// Rows of `db.t` on the destination (0 while the table does not exist).
pub async fn dest_rows(db: &str) -> u64 {
    let mut c = connect("DTS_TEST_DEST_URL").await;
    c.query_first::<u64, _>(format!("SELECT COUNT(*) FROM `{db}`.t"))
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// Whether row `id` of `db.t` is on the destination.
pub async fn dest_has(db: &str, id: u32) -> bool {
    let mut c = connect("DTS_TEST_DEST_URL").await;
    c.query_first::<u32, _>(format!("SELECT id FROM `{db}`.t WHERE id = {id}"))
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Waits until row `id` of `db.t` is on the destination.
pub async fn wait_row(db: &str, id: u32, within: Duration) {
    eventually(
        within,
        &format!("row {id} of {db}.t at the destination"),
        || async { dest_has(db, id).await.then_some(()) },
    )
    .await
}

/// A MySQL → MySQL task of `db` (id = `db`) on the test servers, as TOML.
pub fn task_toml(db: &str) -> String {
    let (sh, sp) = host_port("DTS_TEST_SOURCE_URL");
    let (dh, dp) = host_port("DTS_TEST_DEST_URL");
    format!(
        r#"id = "{db}"
name = "serve test {db}"

[source]
host = "{sh}"
port = {sp}
user = "root"
database_type = "mariadb"

[destination]
type = "mysql"
host = "{dh}"
port = {dp}
user = "root"

[[objects.databases]]
name = "{db}"

[advanced]
write_heartbeat = true
"#
    )
}

/// Polls `probe` until it returns `Some`, failing with `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    dts_testkit::eventually(within, what, || {
        let next = probe();
        async move { next.await.ok_or("not yet") }
    })
    .await
}

/// A running `dts serve`.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its state directory.
    pub state_dir: PathBuf,
    /// Its log (standard error).
    pub log: PathBuf,
    client: reqwest::Client,
    token: Option<String>,
}

/// The `dts` program of this build.
pub fn dts_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dts"))
}

impl Server {
    /// Starts `dts serve --listen 127.0.0.1:0 --state-dir STATE_DIR EXTRA…` and waits for its
    /// `listening on` line.
    pub async fn start(state_dir: &Path, extra: &[&str]) -> Self {
        std::fs::create_dir_all(state_dir).unwrap();
        let log = state_dir.join(format!("serve-{}.log", crate_nanos()));
        let mut child = Command::new(dts_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
            .arg(state_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start dts serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let first = lines.next().and_then(|l| l.ok());
            let _ = tx.send(first);
            // Keep the pipe drained.
            for _ in lines {}
        });
        let line = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("dts serve printed no address within 60 s")
            .unwrap()
            .unwrap_or_else(|| {
                panic!(
                    "dts serve ended before listening: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let base = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self {
            child: Some(child),
            base,
            state_dir: state_dir.to_path_buf(),
            log,
            client: reqwest::Client::new(),
            token: None,
        }
    }

    /// Sends `token` as a bearer token from now on.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit status (within `within`).
    pub async fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        eventually(within, "dts serve to exit after SIGTERM", || {
            let r = child.try_wait().unwrap();
            async move { r }
        })
        .await
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// A call with an optional JSON body: the status and the JSON answer (`Null` when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = self.request(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.expect("send");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// A call expected to answer `expected`; returns the JSON answer.
    pub async fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {value}");
        value
    }

    /// `GET /api/tasks/{id}`.
    pub async fn task(&self, id: &str) -> Value {
        self.expect("GET", &format!("/api/tasks/{id}"), None, 200)
            .await
    }

    /// Waits until the task's stage `stage` has `status`.
    pub async fn wait_stage(&self, id: &str, stage: &str, status: &str, within: Duration) -> Value {
        eventually(within, &format!("{id}: {stage} {status}"), || async {
            let d = self.task(id).await;
            if let Some(e) = d["last_error"].as_str() {
                panic!("task {id} failed: {e}");
            }
            let s = d["stages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["stage"] == stage)
                .cloned()
                .unwrap();
            (s["status"] == status).then_some(d)
        })
        .await
    }

    /// Waits until the task's state is `state`.
    pub async fn wait_state(&self, id: &str, state: &str, within: Duration) -> Value {
        eventually(within, &format!("{id}: state {state}"), || async {
            let d = self.task(id).await;
            (d["state"] == state).then_some(d)
        })
        .await
    }
}

fn crate_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
