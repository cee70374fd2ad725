//! Crash trials of the example runner (the `dts` program, `examples/src/bin/dts/`) as a separate process: while a random
//! writer changes the source, the runner is started, killed with SIGKILL at a random moment
//! (during startup/precheck, schema sync, full sync or incremental write), restarted, killed
//! again…; finally it runs until the destination equals the source, and both sides are compared
//! row by row by key and with `CHECKSUM TABLE`.
//!
//! Two of every three trials also restart a MariaDB server at a random moment while the runner
//! works: the spare `peer` server of the test environment takes the place of the source (trial
//! 1, 4, …) or of the destination (trial 2, 5, …) and is shut down and started again (down for
//! 1–4 s). A runner that gives up during such an outage (say, its precheck cannot connect) is
//! started again once the server is back, as a supervisor would; at any other moment its own
//! exit fails the trial. Peer restarts are serialized with other test processes by a file lock
//! (`peer-restart.lock` in the test environment's directory). A key-less table is part of every
//! trial (its precheck warning is acknowledged in the task file).
//!
//! `DTS_CRASH_TRIALS` sets the number of trials (default 2, what the suite runs);
//! `scripts/soak.sh N` runs N of them against the release build. `DTS_CRASH_ROWS` sets the rows
//! seeded per table (default 5000; the full sync is throttled to 8000 rows/s so kills land in
//! it). `DTS_CRASH_SEED` fixes the
//! random seed (printed at the start) to replay a run; `DTS_RUNNER` names a prebuilt runner
//! binary (otherwise it is built with cargo, in this test's profile).
//!
//! Every trial prints one line; the run ends with
//! `trials: N, lost rows: X, duplicated rows: Y, mismatched tables: Z` and fails unless all
//! three are 0.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Row};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dts_testkit::env::var as env;

use dts_testkit::env::host_port;

use dts_testkit::mysql::connect_utc as connect;

use dts_testkit::mysql::exec_all;

/// A small deterministic random generator (xorshift64*), shareable between threads.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The runner binary: `DTS_RUNNER`, else the `dts` program cargo built for this test.
fn runner() -> PathBuf {
    match std::env::var("DTS_RUNNER") {
        Ok(path) => PathBuf::from(path),
        Err(_) => PathBuf::from(env!("CARGO_BIN_EXE_dts")),
    }
}

/// Tables of every trial: keyed ones (primary key, NOT NULL unique key) and a key-less one
/// (exactly-once path; the task acknowledges the precheck's warning about it).
const TABLES: [&str; 11] = [
    // Beyond plain tables: a sequence (NEXTVAL from a default and by itself), a
    // system-versioned table, and a table only XA two-phase transactions write.
    "CREATE SEQUENCE seq_a START WITH 1 INCREMENT BY 3 CACHE 5",
    "CREATE TABLE versioned (id INT PRIMARY KEY, v INT, n BIGINT DEFAULT NEXTVAL(seq_a)) WITH SYSTEM VERSIONING",
    "CREATE TABLE xa_rows (id BIGINT PRIMARY KEY, v INT)",
    "CREATE TABLE keyless (a INT, b VARCHAR(20))",
    // Foreign-key cascades: the binlog carries none of the child rows they change.
    "CREATE TABLE fk_parent (id INT PRIMARY KEY, v INT)",
    "CREATE TABLE fk_cascade (id INT PRIMARY KEY, parent_id INT NOT NULL, v INT, \
     FOREIGN KEY (parent_id) REFERENCES fk_parent (id) ON DELETE CASCADE ON UPDATE CASCADE)",
    "CREATE TABLE fk_set_null (id INT PRIMARY KEY, parent_id INT NULL, v INT, \
     FOREIGN KEY (parent_id) REFERENCES fk_parent (id) ON DELETE SET NULL ON UPDATE SET NULL)",
    "CREATE TABLE single_pk (id INT PRIMARY KEY, v INT, s VARCHAR(40))",
    "CREATE TABLE composite_pk (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))",
    "CREATE TABLE unique_only (u INT NOT NULL, v INT, s VARCHAR(20), UNIQUE KEY uq (u))",
    "CREATE TABLE wide (id BIGINT UNSIGNED PRIMARY KEY, i TINYINT, d DECIMAL(30,10), f DOUBLE, \
     t TEXT, b BLOB, dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, e ENUM('a','b'), \
     st SET('x','y'), j JSON, bit8 BIT(8), bin BINARY(3))",
];

async fn prepare(source: &str, dest: &str, db: &str, rows: u32) {
    let mut c = connect(source).await;
    exec_all(
        &mut c,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
        ],
    )
    .await;
    for t in TABLES {
        exec_all(&mut c, &[t]).await;
    }
    exec_all(
        &mut c,
        &[
            &format!("INSERT INTO single_pk SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_{rows}"),
            "INSERT INTO fk_parent SELECT seq, seq FROM seq_1_to_60",
            &format!("INSERT INTO fk_cascade SELECT seq, seq MOD 60 + 1, seq FROM seq_1_to_{rows}"),
            &format!("INSERT INTO fk_set_null SELECT seq, seq MOD 60 + 1, seq FROM seq_1_to_{rows}"),
            &format!("INSERT INTO composite_pk SELECT seq DIV 3, CONCAT('k', seq MOD 3), seq FROM seq_1_to_{rows}"),
            &format!("INSERT INTO unique_only SELECT seq, seq, 'u' FROM seq_1_to_{rows}"),
            // Pairs of identical rows: a key-less delete or update must touch one copy only.
            &format!("INSERT INTO keyless SELECT seq DIV 2, 'k' FROM seq_1_to_{rows}"),
            &format!(
                "INSERT INTO wide SELECT seq, seq MOD 100, seq / 7, seq / 3, REPEAT('t', seq MOD 50), \
                 UNHEX(HEX(seq)), '2024-01-02 03:04:05.123456', '2024-05-06 07:08:09.123', '12:34:56.78', \
                 2000 + seq MOD 100, IF(seq MOD 2, 'a', 'b'), 'x,y', JSON_OBJECT('n', seq), seq MOD 256, 'ab' \
                 FROM seq_1_to_{rows}"
            ),
        ],
    )
    .await;
    let mut d = connect(dest).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
}

/// Runs `statements` in order; the first error ends it.
async fn try_exec_all(c: &mut Conn, statements: &[&str]) -> Result<(), mysql_async::Error> {
    for s in statements {
        c.query_drop(*s).await?;
    }
    Ok(())
}

/// A connection to `db` on `url`, retried while the server is down (restarts).
async fn connect_retrying(url: &str, db: &str, stop: &AtomicBool) -> Option<Conn> {
    loop {
        if let Ok(mut c) = Conn::new(Opts::from_url(url).unwrap()).await {
            let setup = [
                "SET SESSION sql_mode = '', time_zone = '+00:00'",
                &format!("USE `{db}`"),
            ];
            if try_exec_all(&mut c, &setup).await.is_ok() {
                return Some(c);
            }
        }
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Random inserts, updates (key changes included), deletes and multi-statement transactions on
/// every table until `stop`; returns the number of statements run. A statement that fails
/// (the server restarting) is dropped and the connection re-established: what counts is the
/// source's state at the end, not what the writer meant to do.
async fn random_writer(
    url: String,
    db: String,
    rows: u32,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> u64 {
    let Some(mut c) = connect_retrying(&url, &db, &stop).await else {
        return 0;
    };
    let mut rng = Rng(seed | 1);
    let span = u64::from(rows) + u64::from(rows) / 2;
    let mut n = 0;
    // XA two-phase transactions: prepared on a session of their own, decided a few statements
    // later (so a runner killed in between restarts past the prepare).
    let mut xa = XaWriter::new(&url, &db, seed).await;
    while !stop.load(Ordering::Relaxed) {
        let k = rng.below(span) + 1;
        let v = rng.below(1_000_000);
        if rng.below(8) == 0 {
            xa.step(&mut rng).await;
        }
        let parent = k % 90 + 1;
        let sql = match rng.below(19) {
            // Cascading deletes and key updates; children inserted only under a parent.
            15 => format!("DELETE FROM fk_parent WHERE id = {parent}"),
            16 => format!(
                "UPDATE IGNORE fk_parent SET id = {} WHERE id = {parent}",
                parent + 90 * (1 + rng.below(3))
            ),
            17 => format!("INSERT IGNORE INTO fk_parent VALUES ({parent}, {v})"),
            18 => match rng.below(3) {
                0 => format!(
                    "INSERT IGNORE INTO fk_cascade SELECT {}, id, {v} FROM fk_parent ORDER BY id LIMIT 1",
                    k + span
                ),
                1 => format!(
                    "INSERT IGNORE INTO fk_set_null SELECT {}, id, {v} FROM fk_parent WHERE id >= {parent} LIMIT 1",
                    k + span
                ),
                _ => format!("UPDATE fk_set_null SET v = {v} WHERE id = {k}"),
            },
            12 => "SELECT NEXTVAL(seq_a)".to_string(),
            13 => format!(
                "INSERT INTO versioned (id, v) VALUES ({}, {v}) ON DUPLICATE KEY UPDATE v = {v}",
                k % 40
            ),
            14 => format!("DELETE FROM versioned WHERE id = {}", k % 40),
            0 => format!("INSERT IGNORE INTO single_pk VALUES ({k}, {v}, 'w')"),
            1 => format!("UPDATE single_pk SET v = {v}, s = CONCAT(s, 'u') WHERE id = {k}"),
            2 => format!("DELETE FROM single_pk WHERE id = {k}"),
            3 => format!(
                "UPDATE IGNORE single_pk SET id = {} WHERE id = {k}",
                k + span + rng.below(100)
            ),
            4 => format!(
                "REPLACE INTO composite_pk VALUES ({}, 'k{}', {v})",
                k / 3,
                k % 3
            ),
            5 => format!(
                "DELETE FROM composite_pk WHERE a = {} AND b = 'k{}'",
                k / 3,
                k % 3
            ),
            6 => format!(
                "INSERT INTO unique_only VALUES ({}, {v}, 'n') ON DUPLICATE KEY UPDATE v = {v}",
                k + span
            ),
            7 => format!("DELETE FROM unique_only WHERE u = {k}"),
            8 => format!(
                "INSERT IGNORE INTO wide (id, i, t, j) VALUES ({}, 1, 'new', '{{}}')",
                k + span
            ),
            9 => match rng.below(3) {
                0 => format!("INSERT INTO keyless VALUES ({}, 'k')", k / 2),
                1 => format!("DELETE FROM keyless WHERE a = {} LIMIT 1", k / 2),
                _ => format!(
                    "UPDATE keyless SET b = CONCAT(b, 'u') WHERE a = {} LIMIT 1",
                    k / 2
                ),
            },
            10 => format!("UPDATE keyless SET b = 'w' WHERE a = {}", k / 2),
            _ => format!(
                "UPDATE wide SET d = d + 1.5, t = CONCAT(t, 'z'), j = JSON_SET(j, '$.w', {v}), \
                 ts = NOW(3), b = UNHEX(HEX({v})) WHERE id = {k}"
            ),
        };
        let done = if rng.below(5) == 0 {
            try_exec_all(
                &mut c,
                &[
                    "BEGIN",
                    &sql,
                    &format!("UPDATE single_pk SET v = v + 1 WHERE id = {}", k / 2 + 1),
                    &format!("DELETE FROM composite_pk WHERE a = {} LIMIT 1", k / 5),
                    &format!("INSERT INTO keyless VALUES ({}, 't')", k / 3),
                    "COMMIT",
                ],
            )
            .await
        } else {
            try_exec_all(&mut c, &[&sql]).await
        };
        if let Err(e) = done {
            // Server shutdown in progress, connection killed, deadlock, lock wait timeout.
            if let mysql_async::Error::Server(se) = &e {
                assert!(
                    [1053, 1927, 1213, 1205].contains(&se.code),
                    "writer statement {sql}: {e}"
                );
            }
            // Connection lost: the server is restarting.
            let Some(fresh) = connect_retrying(&url, &db, &stop).await else {
                break;
            };
            c = fresh;
        }
        n += 1;
        if n % 20 == 0 {
            // Pacing of the workload, not a synchronization.
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    xa.finish().await;
    n
}

/// The crash trials' XA writer: at most one transaction prepared and undecided at a time.
struct XaWriter {
    url: String,
    db: String,
    prefix: String,
    next: u64,
    /// The prepared, undecided transaction: its XID.
    pending: Option<String>,
}

impl XaWriter {
    async fn new(url: &str, db: &str, seed: u64) -> Self {
        Self {
            url: url.to_string(),
            db: db.to_string(),
            prefix: format!("dts{seed:x}"),
            next: 0,
            pending: None,
        }
    }

    /// Prepares a new transaction, or commits (three times in four) or rolls back the pending
    /// one. Each step is its own session: a prepared transaction outlives it.
    async fn step(&mut self, rng: &mut Rng) {
        let Ok(mut c) = Conn::from_url(self.url.as_str()).await else {
            return; // the server is restarting
        };
        let statements: Vec<String> = match self.pending.take() {
            Some(xid) if rng.below(4) == 0 => vec![format!("XA ROLLBACK '{xid}'")],
            Some(xid) => vec![format!("XA COMMIT '{xid}'")],
            None => {
                self.next += 1;
                let xid = format!("{}_{}", self.prefix, self.next);
                let id = self.next * 10;
                let v = rng.below(1000);
                let statements = vec![
                    format!("USE `{}`", self.db),
                    format!("XA START '{xid}'"),
                    format!("INSERT INTO xa_rows VALUES ({id}, {v}), ({}, {v})", id + 1),
                    format!(
                        "UPDATE xa_rows SET v = v + 1 WHERE id = {}",
                        id.saturating_sub(10)
                    ),
                    format!("XA END '{xid}'"),
                    format!("XA PREPARE '{xid}'"),
                ];
                self.pending = Some(xid);
                statements
            }
        };
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        if try_exec_all(&mut c, &refs).await.is_err() {
            // Lost with the server, or not yet detached from its session: decided at the end.
        }
        let _ = c.disconnect().await;
    }

    /// Decides every transaction this writer left prepared (commit), so the comparison sees a
    /// quiet source and the database can be dropped.
    async fn finish(&mut self) {
        for _ in 0..200 {
            let Ok(mut c) = Conn::from_url(self.url.as_str()).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let listed: Vec<Row> = c.query("XA RECOVER").await.unwrap_or_default();
            let mine: Vec<String> = listed
                .iter()
                .filter_map(|r| r.get::<String, _>(3))
                .filter(|x| x.starts_with(&self.prefix))
                .collect();
            if mine.is_empty() && self.pending.is_none() {
                return;
            }
            if let Some(x) = self.pending.take() {
                let _ = c.query_drop(format!("XA COMMIT '{x}'")).await;
            }
            for x in mine {
                let _ = c.query_drop(format!("XA COMMIT '{x}'")).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "prepared XA transactions of {} were never decided",
            self.prefix
        );
    }
}

/// The task file of one trial.
fn task_toml(task_id: &str, db: &str, source: &str, dest: &str, rps: u32) -> String {
    let (sh, sp) = host_port(source);
    let (dh, dp) = host_port(dest);
    format!(
        r#"name = "crash trial {db}"
id = "{task_id}"
acknowledge_warnings = ["source.tables_without_primary_key"]

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

[sync_types]
schema = true
full_data = true
incremental = true

[[objects.databases]]
name = "{db}"

# Slows the full sync down so random kills land inside it too.
[advanced.full_sync_throttle]
rps = {rps}
"#
    )
}

/// Stages in the order the runner reports them (`null` before the task has started).
const STAGES: [&str; 6] = [
    "starting",
    "Precheck",
    "Incremental Data Collection",
    "Schema Sync",
    "Full Data Sync",
    "Incremental Write",
];

fn stage_rank(stage: &str) -> usize {
    STAGES.iter().position(|s| *s == stage).unwrap_or(0)
}

/// A running runner process and the last stage it reported.
struct Run {
    child: Child,
    stage: Arc<Mutex<String>>,
    stderr: PathBuf,
}

impl Run {
    fn start(runner: &Path, task: &Path, state: &Path, log: PathBuf) -> Run {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = Command::new(runner)
            .arg("run")
            .arg(task)
            .arg("--state-dir")
            .arg(state)
            .arg("--json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the runner");
        let stage = Arc::new(Mutex::new("starting".to_string()));
        let out = child.stdout.take().unwrap();
        let seen = stage.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(s) = v.get("stage").and_then(|s| s.as_str()) {
                        *seen.lock().unwrap() = s.to_string();
                    }
                }
            }
        });
        Run {
            child,
            stage,
            stderr: log,
        }
    }

    fn stage(&self) -> String {
        self.stage.lock().unwrap().clone()
    }

    /// Panics with the runner's log when it has exited on its own.
    fn assert_alive(&mut self, what: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            panic!("{what}: the runner exited by itself ({status}); its log:\n{log}");
        }
    }

    /// True when the runner has exited on its own during a server outage (or within
    /// [`OUTAGE_GRACE`] after it); panics when it exited at any other moment.
    fn exited_in_outage(&mut self, outage: &Outage, what: &str) -> bool {
        if self.child.try_wait().unwrap().is_none() {
            return false;
        }
        if outage.recent() {
            return true;
        }
        self.assert_alive(what);
        unreachable!()
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long after a server came back a runner may still exit because of the outage (it may
/// have been waiting on a connect timeout).
const OUTAGE_GRACE: Duration = Duration::from_secs(30);

/// The server outage of a trial: when it began and when the server was back.
#[derive(Clone, Default)]
struct Outage(Arc<Mutex<(Option<Instant>, Option<Instant>)>>);

impl Outage {
    fn begin(&self) {
        self.0.lock().unwrap().0 = Some(Instant::now());
    }
    fn end(&self) {
        self.0.lock().unwrap().1 = Some(Instant::now());
    }
    /// True while the server is down and shortly after.
    fn recent(&self) -> bool {
        match *self.0.lock().unwrap() {
            (Some(_), None) => true,
            (Some(_), Some(end)) => end.elapsed() < OUTAGE_GRACE,
            _ => false,
        }
    }
    /// True while the server is down.
    fn down(&self) -> bool {
        matches!(*self.0.lock().unwrap(), (Some(_), None))
    }
}

/// Which server a trial restarts (the `peer` server stands in for it).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Restart {
    None,
    Source,
    Destination,
}

/// The `peer` server of the test environment, stopped and started by the trials.
struct Peer {
    url: String,
    dir: PathBuf,
}

impl Peer {
    fn port(&self) -> u16 {
        host_port(&self.url).1
    }

    /// Holds the cross-process lock on peer restarts until dropped.
    fn lock(&self) -> std::fs::File {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("..").join("peer-restart.lock"))
            .unwrap();
        f.lock().unwrap();
        f
    }

    /// Shuts the server down (as an operator would) and waits until its port is closed.
    fn stop(&self) {
        let status = Command::new("mariadb-admin")
            .args(["--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-uroot"])
            .arg(format!("-P{}", self.port()))
            .arg("shutdown")
            .stdout(Stdio::null())
            .status()
            .expect("run mariadb-admin");
        assert!(status.success(), "peer shutdown failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port())).is_ok()
            || self.dir.join("mariadbd.pid").exists()
        {
            assert!(Instant::now() < deadline, "peer did not stop in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the server again from its configuration and waits until it answers.
    fn start(&self) {
        let mariadbd = ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("mariadbd is installed");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("mariadbd.stdout.log"))
            .unwrap();
        // setsid --fork: the server is detached (reparented to init, never our zombie).
        let started = Command::new("setsid")
            .arg("--fork")
            .arg(mariadbd)
            .arg(format!(
                "--defaults-file={}",
                self.dir.join("my.cnf").display()
            ))
            .arg("--user=root")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .expect("start mariadbd");
        assert!(started.success(), "start mariadbd");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ping = Command::new("mariadb-admin")
                .args(["--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-uroot"])
                .arg(format!("-P{}", self.port()))
                .args(["--connect-timeout=2", "ping"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if ping.success() {
                return;
            }
            assert!(Instant::now() < deadline, "peer did not start in 90 s");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Restarts the peer after `delay`, down for `downtime`, recording the outage.
fn restart_peer_later(
    peer: Arc<Peer>,
    delay: Duration,
    downtime: Duration,
    outage: Outage,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Deliberately lets time pass, not a synchronization: the outage starts after the trial's
        // random delay.
        tokio::time::sleep(delay).await;
        outage.begin();
        let p = peer.clone();
        tokio::task::spawn_blocking(move || p.stop()).await.unwrap();
        // Deliberately lets time pass, not a synchronization: the server stays down for the trial's
        // downtime.
        tokio::time::sleep(downtime).await;
        tokio::task::spawn_blocking(move || peer.start())
            .await
            .unwrap();
        outage.end();
    })
}

/// When a run is killed: `delay` after start, or `delay` after it reports a stage at or past
/// `stage`.
struct KillPlan {
    stage: &'static str,
    delay: Duration,
}

impl KillPlan {
    fn random(rng: &mut Rng) -> KillPlan {
        match rng.below(3) {
            0 => KillPlan {
                stage: "starting",
                delay: Duration::from_millis(rng.below(1500)),
            },
            1 => KillPlan {
                stage: "Full Data Sync",
                delay: Duration::from_millis(rng.below(1500)),
            },
            _ => KillPlan {
                stage: "Incremental Write",
                delay: Duration::from_millis(rng.below(2500)),
            },
        }
    }
}

/// One table's rows on both sides.
struct Side {
    /// Key columns (primary key, else the first unique key), 1-based positions.
    key: Vec<usize>,
    rows: Vec<Vec<String>>,
    checksum: Option<u64>,
}

async fn tables(c: &mut Conn, db: &str) -> Vec<String> {
    c.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
        (db,),
    )
    .await
    .unwrap()
}

async fn read_side(c: &mut Conn, db: &str, table: &str) -> Side {
    let key: Vec<(String, u64)> = c
        .exec(
            "SELECT s.INDEX_NAME, c.ORDINAL_POSITION FROM information_schema.STATISTICS s \
             JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA \
             AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME \
             WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 \
             ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX",
            (db, table),
        )
        .await
        .unwrap();
    let first = key.first().map(|k| k.0.clone());
    let key: Vec<usize> = key
        .iter()
        .filter(|k| Some(&k.0) == first.as_ref())
        .map(|k| k.1 as usize)
        .collect();
    let rows: Vec<Row> = c
        .query(format!("SELECT * FROM `{db}`.`{table}`"))
        .await
        .unwrap();
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(|v| format!("{v:?}")).collect())
        .collect();
    rows.sort();
    Side {
        key,
        rows,
        checksum: table_checksum(c, db, table).await,
    }
}

/// The outcome of comparing one database on both servers.
#[derive(Default, Debug)]
struct Comparison {
    /// Source rows whose key (whole row for key-less tables) is missing at the destination.
    lost: u64,
    /// Destination copies beyond the source's count of the same key (or same row).
    duplicated: u64,
    /// Tables whose rows or checksum differ, or that exist on one side only.
    mismatched: Vec<String>,
}

impl Comparison {
    fn equal(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.mismatched.is_empty()
    }
}

async fn compare(source: &str, dest: &str, db: &str) -> Comparison {
    let mut s = connect(source).await;
    let mut d = connect(dest).await;
    let src_tables = tables(&mut s, db).await;
    let dst_tables = tables(&mut d, db).await;
    let mut out = Comparison::default();
    for t in &dst_tables {
        if !src_tables.contains(t) {
            out.mismatched.push(format!("{t} (destination only)"));
        }
    }
    for t in &src_tables {
        let a = read_side(&mut s, db, t).await;
        if !dst_tables.contains(t) {
            out.lost += a.rows.len() as u64;
            out.mismatched.push(format!("{t} (source only)"));
            continue;
        }
        let b = read_side(&mut d, db, t).await;
        let key_of = |row: &Vec<String>| -> Vec<String> {
            if a.key.is_empty() {
                row.clone()
            } else {
                a.key.iter().map(|i| row[i - 1].clone()).collect()
            }
        };
        let mut counts: HashMap<Vec<String>, (u64, u64)> = HashMap::new();
        for r in &a.rows {
            counts.entry(key_of(r)).or_default().0 += 1;
        }
        for r in &b.rows {
            counts.entry(key_of(r)).or_default().1 += 1;
        }
        for (src_n, dst_n) in counts.values() {
            if *dst_n == 0 {
                out.lost += src_n;
            } else if dst_n > src_n && *src_n > 0 {
                out.duplicated += dst_n - src_n;
            }
        }
        if a.rows != b.rows || a.checksum != b.checksum {
            out.mismatched.push(t.clone());
        }
    }
    out
}

/// Checksums of every table of `db` (cheap convergence probe).
async fn checksums(c: &mut Conn, db: &str) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    for t in tables(c, db).await {
        out.push((t.clone(), table_checksum(c, db, &t).await));
    }
    out
}

/// `CHECKSUM TABLE`, except for system-versioned tables, whose history (part of their
/// checksum) is each server's own: there a hash of the current rows.
async fn table_checksum(c: &mut Conn, db: &str, table: &str) -> Option<u64> {
    let kind: Option<String> = c
        .exec_first(
            "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .unwrap();
    if kind.as_deref() == Some("SYSTEM VERSIONED") {
        let rows: Vec<Row> = c
            .query(format!("SELECT * FROM `{db}`.`{table}` ORDER BY 1"))
            .await
            .unwrap();
        let text: Vec<String> = rows
            .into_iter()
            .map(|r| format!("{:?}", r.unwrap()))
            .collect();
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        return Some(h.finish());
    }
    let sum: Option<(String, Option<u64>)> = c
        .query_first(format!("CHECKSUM TABLE `{db}`.`{table}`"))
        .await
        .unwrap();
    sum.and_then(|s| s.1)
}

/// What one trial did and found.
struct Trial {
    kills: Vec<String>,
    restart: Restart,
    /// Runs that exited by themselves during the server outage (and were started again).
    outage_exits: u64,
    writes: u64,
    result: Comparison,
}

struct Settings {
    source: String,
    dest: String,
    peer: Arc<Peer>,
    rows: u32,
    rps: u32,
    max_kills: u64,
}

/// Waits while the trial's server is down.
async fn wait_while_down(outage: &Outage) {
    while outage.down() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn trial(n: u64, rng: &mut Rng, runner: &Path, s: &Settings) -> Trial {
    let restart = match n % 3 {
        1 => Restart::Source,
        2 => Restart::Destination,
        _ => Restart::None,
    };
    let peer = s.peer.clone();
    let _peer_lock = match restart {
        Restart::None => None,
        _ => Some(
            tokio::task::spawn_blocking(move || peer.lock())
                .await
                .unwrap(),
        ),
    };
    let source = match restart {
        Restart::Source => s.peer.url.clone(),
        _ => s.source.clone(),
    };
    let dest = match restart {
        Restart::Destination => s.peer.url.clone(),
        _ => s.dest.clone(),
    };
    let db = format!("rs_crash_{}_{n}", std::process::id());
    let task_id = format!("rs-crash-{}-{n}", std::process::id());
    prepare(&source, &dest, &db, s.rows).await;
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task.toml");
    std::fs::write(&task, task_toml(&task_id, &db, &source, &dest, s.rps)).unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("runner.log");
    let what = format!("trial {n} ({db})");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(random_writer(
        source.clone(),
        db.clone(),
        s.rows,
        stop.clone(),
        rng.next(),
    ));

    let outage = Outage::default();
    let mut restart_job = None;
    let mut outage_exits = 0;
    let mut kills = Vec::new();
    let runs = 1 + rng.below(s.max_kills);
    let restart_during = rng.below(runs);
    for i in 0..runs {
        let plan = KillPlan::random(rng);
        let mut run = Run::start(runner, &task, &state, log.clone());
        if restart != Restart::None && i == restart_during {
            let delay = Duration::from_millis(rng.below(2500));
            let downtime = Duration::from_millis(1000 + rng.below(3000));
            restart_job = Some(restart_peer_later(
                s.peer.clone(),
                delay,
                downtime,
                outage.clone(),
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while stage_rank(&run.stage()) < stage_rank(plan.stage) {
            if run.exited_in_outage(&outage, &what) {
                outage_exits += 1;
                wait_while_down(&outage).await;
                run = Run::start(runner, &task, &state, log.clone());
                continue;
            }
            assert!(
                Instant::now() < deadline,
                "trial {n}: never reached {}",
                plan.stage
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Deliberately lets time pass, not a synchronization: the crash comes the trial's random
        // delay after the stage.
        tokio::time::sleep(plan.delay).await;
        if run.exited_in_outage(&outage, &what) {
            outage_exits += 1;
            continue;
        }
        kills.push(run.stage());
        run.kill();
    }
    if let Some(job) = restart_job {
        job.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.unwrap();

    // Final run: until both sides agree (or two minutes), then compare exactly.
    let mut run = Run::start(runner, &task, &state, log.clone());
    let mut s_conn = connect(&source).await;
    let mut d_conn = connect(&dest).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if run.exited_in_outage(&outage, &format!("{what} final run")) {
            outage_exits += 1;
            run = Run::start(runner, &task, &state, log.clone());
        }
        if run.stage() == "Incremental Write"
            && checksums(&mut s_conn, &db).await == checksums(&mut d_conn, &db).await
        {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    run.kill();
    let result = compare(&source, &dest, &db).await;
    if result.equal() {
        for url in [&source, &dest] {
            let mut c = connect(url).await;
            exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
        }
        exec_all(
            &mut d_conn,
            &[&format!(
                "DELETE FROM dts_meta.dts_checkpoint WHERE task_id = '{task_id}'"
            )],
        )
        .await;
    } else {
        // Kept for inspection, with the runner's log.
        let kept = dir.keep();
        eprintln!(
            "trial {n}: {db} kept on {source} and {dest}; task files in {}",
            kept.display()
        );
    }
    Trial {
        kills,
        restart,
        outage_exits,
        writes,
        result,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let trials: u64 = std::env::var("DTS_CRASH_TRIALS")
        .ok()
        .map(|v| v.parse().expect("DTS_CRASH_TRIALS is a number"))
        .unwrap_or(2);
    let seed: u64 = std::env::var("DTS_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("DTS_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash trials: {trials}, seed {seed} (DTS_CRASH_SEED={seed} replays)");
    let settings = Settings {
        source: env("DTS_TEST_SOURCE_URL"),
        dest: env("DTS_TEST_DEST_URL"),
        peer: Arc::new(Peer {
            url: env("DTS_TEST_PEER_URL"),
            dir: std::env::var("DTS_TEST_ENV_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| {
                    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-env"))
                })
                .join("peer"),
        }),
        rows: std::env::var("DTS_CRASH_ROWS")
            .ok()
            .map(|v| v.parse().expect("DTS_CRASH_ROWS is a number"))
            .unwrap_or(5_000),
        rps: 8_000,
        max_kills: 3,
    };
    let runner = runner();
    let mut rng = Rng(seed | 1);
    let (mut lost, mut duplicated, mut mismatched) = (0, 0, 0);
    let mut by_stage: BTreeMap<usize, (String, u64)> = BTreeMap::new();
    let mut restarts = 0u64;
    let started = Instant::now();
    for n in 1..=trials {
        let t = trial(n, &mut rng, &runner, &settings).await;
        let restart = match t.restart {
            Restart::None => "no server restart".to_string(),
            Restart::Source => format!(
                "source restarted ({} runner exit(s) in the outage)",
                t.outage_exits
            ),
            Restart::Destination => format!(
                "destination restarted ({} runner exit(s) in the outage)",
                t.outage_exits
            ),
        };
        restarts += u64::from(t.restart != Restart::None);
        println!(
            "trial {n}: {} kill(s) at [{}], {restart}, {} writer statements, lost {}, duplicated {}, mismatched {:?}",
            t.kills.len(),
            t.kills.join(", "),
            t.writes,
            t.result.lost,
            t.result.duplicated,
            t.result.mismatched
        );
        for k in &t.kills {
            by_stage
                .entry(stage_rank(k))
                .or_insert_with(|| (k.clone(), 0))
                .1 += 1;
        }
        lost += t.result.lost;
        duplicated += t.result.duplicated;
        mismatched += t.result.mismatched.len() as u64;
    }
    let stages: Vec<String> = by_stage
        .values()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!(
        "kills by last reported stage: {}; server restarts: {restarts}; {:.0} s",
        stages.join(", "),
        started.elapsed().as_secs_f64()
    );
    println!(
        "trials: {trials}, lost rows: {lost}, duplicated rows: {duplicated}, mismatched tables: {mismatched}"
    );
    assert_eq!(
        (lost, duplicated, mismatched),
        (0, 0, 0),
        "the destination differs from the source after crashes (seed {seed})"
    );
}

// ------------------------------------------------------------------ Kafka destination

/// Rows seeded in the Kafka trials' table.
const KAFKA_ROWS: u64 = 300;

/// The task file of one Kafka trial: Canal JSON records keyed by primary key over 3 partitions.
fn kafka_task_toml(task_id: &str, db: &str, source: &str, brokers: &str, topic: &str) -> String {
    let (sh, sp) = host_port(source);
    format!(
        r#"name = "kafka crash trial {db}"
id = "{task_id}"
acknowledge_warnings = ["destination.existing_tables", "destination.message_size"]

[source]
host = "{sh}"
port = {sp}
user = "root"
database_type = "mariadb"

[destination]
type = "kafka"
brokers = ["{brokers}"]
topic = "{topic}"
data_format = "canal_json"
partition_policy = "by_primary_key_hash"
num_partitions = 3

[sync_types]
schema = true
full_data = true
incremental = true

[[objects.databases]]
name = "{db}"
"#
    )
}

/// Creates `topic` with 3 partitions (explicitly: the broker's auto-creation is not relied on).
async fn create_topic(brokers: &str, topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let result = admin
        .create_topics(
            &[NewTopic::new(topic, 3, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    for r in result {
        if let Err((t, e)) = r {
            assert_eq!(
                e,
                rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                "create topic {t}"
            );
        }
    }
}

/// Every record of `topic`'s 3 partitions, by explicit partition assignment (consumer-group
/// subscription is not reliable on the test broker), in partition order.
fn consume_all(brokers: &str, topic: &str) -> Vec<(i32, serde_json::Value)> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Message, Offset, TopicPartitionList};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("verify-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    // Read until the partitions stay quiet. Not up to the high watermarks: tansu 0.6.0
    // reports them per produced batch rather than per record (a topic holding 51 records
    // answered 1, then 4), so reading to them stops early and looks like a lost tail.
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_secs(2) {
        assert!(
            Instant::now() < deadline,
            "could not read {topic} to its end"
        );
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                out.push((m.partition(), serde_json::from_slice(payload).unwrap()));
                quiet_since = Instant::now();
            }
            Some(Err(e)) => panic!("consume {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// What the Kafka trials' writer did to one key, in commit order: `Some(v)` an insert or
/// update leaving `v`, `None` a delete.
type KeyLog = BTreeMap<i64, Vec<Option<i64>>>;

/// Updates (each raising `v` by one), inserts of new keys and deletes on `t` until `stop`;
/// returns what it did per key, in commit order.
async fn kafka_writer(url: String, db: String, stop: Arc<AtomicBool>, seed: u64) -> KeyLog {
    let mut c = connect(&url).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    let mut rng = Rng(seed | 1);
    let mut log: KeyLog = BTreeMap::new();
    let mut value: HashMap<i64, i64> = (1..=KAFKA_ROWS as i64).map(|k| (k, 0)).collect();
    let mut next_key = KAFKA_ROWS as i64 + 1;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let k = rng.below(next_key as u64 - 1) as i64 + 1;
        match (rng.below(20), value.get(&k).copied()) {
            (0, _) => {
                let k = next_key;
                next_key += 1;
                exec_all(&mut c, &[&format!("INSERT INTO t VALUES ({k}, 0)")]).await;
                value.insert(k, 0);
                log.entry(k).or_default().push(Some(0));
            }
            (1, Some(_)) => {
                exec_all(&mut c, &[&format!("DELETE FROM t WHERE id = {k}")]).await;
                value.remove(&k);
                log.entry(k).or_default().push(None);
            }
            (_, Some(v)) => {
                // Some in multi-row transactions touching two keys.
                let other = rng.below(KAFKA_ROWS) as i64 + 1;
                if rng.below(4) == 0 && other != k && value.contains_key(&other) {
                    exec_all(
                        &mut c,
                        &[
                            "BEGIN",
                            &format!("UPDATE t SET v = v + 1 WHERE id = {k}"),
                            &format!("UPDATE t SET v = v + 1 WHERE id = {other}"),
                            "COMMIT",
                        ],
                    )
                    .await;
                    let ov = value[&other] + 1;
                    value.insert(other, ov);
                    log.entry(other).or_default().push(Some(ov));
                } else {
                    exec_all(&mut c, &[&format!("UPDATE t SET v = v + 1 WHERE id = {k}")]).await;
                }
                value.insert(k, v + 1);
                log.entry(k).or_default().push(Some(v + 1));
            }
            _ => continue,
        }
        n += 1;
        if n.is_multiple_of(10) {
            // Pacing of the workload, not a synchronization.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    log
}

/// Checks the records against the writer's log: every seeded key's snapshot INSERT (v = 0,
/// the writer starts after the full sync) and every change the writer made present at least
/// once, each key on one partition, and in order per key: a change may repeat (replay after a
/// crash), but none appears for the first time after a later one of the same key. Returns the
/// problems found (empty: all good) and the number of duplicate records.
fn check_kafka(records: &[(i32, serde_json::Value)], db: &str, log: &KeyLog) -> (Vec<String>, u64) {
    // Per key: the (op, v) records in partition order.
    let mut per_key: BTreeMap<i64, Vec<Option<i64>>> = BTreeMap::new();
    let mut partition_of: BTreeMap<i64, i32> = BTreeMap::new();
    let mut problems = Vec::new();
    for (partition, m) in records {
        if m["isDdl"] == true || m["database"] != db || m["table"] != "t" {
            continue;
        }
        let kind = m["type"].as_str().unwrap_or_default();
        for row in m["data"].as_array().into_iter().flatten() {
            let id: i64 = row["id"].as_str().unwrap().parse().unwrap();
            let v: i64 = row["v"].as_str().unwrap().parse().unwrap();
            per_key
                .entry(id)
                .or_default()
                .push((kind != "DELETE").then_some(v));
            if *partition_of.entry(id).or_insert(*partition) != *partition {
                problems.push(format!("key {id} on more than one partition"));
            }
        }
    }
    let mut duplicates = 0;
    let keys: std::collections::BTreeSet<i64> =
        (1..=KAFKA_ROWS as i64).chain(log.keys().copied()).collect();
    for id in keys {
        let seen = per_key.get(&id).cloned().unwrap_or_default();
        let mut expected: Vec<Option<i64>> = Vec::new();
        if id <= KAFKA_ROWS as i64 {
            expected.push(Some(0)); // the snapshot's row
        }
        expected.extend(log.get(&id).into_iter().flatten().copied());
        // Walk the records: each is either the next expected change or a repeat of one
        // already seen (a replay); anything else is out of order or unknown.
        let mut done = 0;
        for r in &seen {
            if done < expected.len() && *r == expected[done] {
                done += 1;
            } else if expected[..done].contains(r) {
                duplicates += 1;
            } else {
                problems.push(format!(
                    "key {id}: record {r:?} out of order (expected {:?} next; records {seen:?}, changes {expected:?})",
                    expected.get(done)
                ));
                break;
            }
        }
        if done < expected.len()
            && problems
                .last()
                .is_none_or(|p| !p.starts_with(&format!("key {id}:")))
        {
            problems.push(format!(
                "key {id}: changes {:?} missing (records {seen:?}, changes {expected:?})",
                &expected[done..]
            ));
        }
    }
    (problems, duplicates)
}

async fn kafka_trial(
    n: u64,
    rng: &mut Rng,
    runner: &Path,
    source: &str,
    brokers: &str,
) -> (Vec<String>, u64, u64, Vec<String>) {
    let pid = std::process::id();
    let db = format!("rs_kcrash_{pid}_{n}");
    let task_id = format!("rs-kcrash-{pid}-{n}");
    let topic = format!("rs-kcrash-{pid}-{n}");
    let mut c = connect(source).await;
    exec_all(
        &mut c,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY, v INT)",
            &format!("INSERT INTO t SELECT seq, 0 FROM seq_1_to_{KAFKA_ROWS}"),
        ],
    )
    .await;
    create_topic(brokers, &topic).await;
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task.toml");
    std::fs::write(
        &task,
        kafka_task_toml(&task_id, &db, source, brokers, &topic),
    )
    .unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("runner.log");
    let what = format!("kafka trial {n} ({db})");

    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = None;
    let mut kills = Vec::new();
    for _ in 0..1 + rng.below(3) {
        // Before the writer runs, kills land anywhere up to the full sync; after, at start or
        // in incremental write.
        let plan = match (writer.is_some(), rng.below(2)) {
            (false, 0) => KillPlan {
                stage: "starting",
                delay: Duration::from_millis(rng.below(1500)),
            },
            (true, 0) => KillPlan {
                stage: "starting",
                delay: Duration::from_millis(rng.below(1500)),
            },
            _ => KillPlan {
                stage: "Incremental Write",
                delay: Duration::from_millis(rng.below(2000)),
            },
        };
        let mut run = Run::start(runner, &task, &state, log.clone());
        let deadline = Instant::now() + Duration::from_secs(120);
        while stage_rank(&run.stage()) < stage_rank(plan.stage) {
            run.assert_alive(&what);
            assert!(
                Instant::now() < deadline,
                "{what}: never reached {}",
                plan.stage
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if writer.is_none() && run.stage() == "Incremental Write" {
            writer = Some(tokio::spawn(kafka_writer(
                source.to_string(),
                db.clone(),
                stop.clone(),
                rng.next(),
            )));
        }
        // Deliberately lets time pass, not a synchronization: the crash comes the trial's random
        // delay after the stage.
        tokio::time::sleep(plan.delay).await;
        run.assert_alive(&what);
        kills.push(run.stage());
        run.kill();
    }
    // Final run: the writer (started now if no run reached incremental write yet) runs a
    // little, stops, and the runner catches up to the source's position.
    let mut run = Run::start(runner, &task, &state, log.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    while run.stage() != "Incremental Write" {
        run.assert_alive(&format!("{what} final run"));
        assert!(
            Instant::now() < deadline,
            "{what}: final run never reached incremental write"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let writer = match writer {
        Some(w) => w,
        None => tokio::spawn(kafka_writer(
            source.to_string(),
            db.clone(),
            stop.clone(),
            rng.next(),
        )),
    };
    // Deliberately lets time pass, not a synchronization: the writer keeps writing for 1 s into the
    // final run.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    let changes = writer.await.unwrap();
    let expected: u64 = changes.values().map(|c| c.len() as u64).sum();
    // Caught up when every change is there (or the deadline passed).
    let records = loop {
        run.assert_alive(&format!("{what} final run"));
        let records = consume_all(brokers, &topic);
        if check_kafka(&records, &db, &changes).0.is_empty()
            || Instant::now() > deadline + Duration::from_secs(60)
        {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    run.kill();
    let (problems, duplicates) = check_kafka(&records, &db, &changes);
    if problems.is_empty() {
        exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    } else {
        let kept = dir.keep();
        eprintln!(
            "{what}: {db} kept on the source; task files in {}",
            kept.display()
        );
    }
    (kills, expected, duplicates, problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_with_kafka_destination_keeps_every_change_in_order_per_key() {
    let trials: u64 = std::env::var("DTS_KAFKA_CRASH_TRIALS")
        .ok()
        .map(|v| v.parse().expect("DTS_KAFKA_CRASH_TRIALS is a number"))
        .unwrap_or(1);
    let seed: u64 = std::env::var("DTS_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("DTS_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("kafka crash trials: {trials}, seed {seed} (DTS_CRASH_SEED={seed} replays)");
    let source = env("DTS_TEST_SOURCE_URL");
    let brokers = env("DTS_TEST_KAFKA_BROKERS");
    let runner = runner();
    let mut rng = Rng(seed | 1);
    let (mut changes, mut duplicates, mut failed) = (0, 0, 0);
    for n in 1..=trials {
        let (kills, expected, dups, problems) =
            kafka_trial(n, &mut rng, &runner, &source, &brokers).await;
        println!(
            "kafka trial {n}: {} kill(s) at [{}], {expected} changes, {dups} duplicate records, problems {:?}",
            kills.len(),
            kills.join(", "),
            problems.iter().take(5).collect::<Vec<_>>()
        );
        changes += expected;
        duplicates += dups;
        failed += u64::from(!problems.is_empty());
    }
    println!(
        "kafka trials: {trials}, changes: {changes}, duplicate records: {duplicates}, trials with missing or out-of-order changes: {failed}"
    );
    assert_eq!(
        failed, 0,
        "changes missing or out of order in Kafka (seed {seed})"
    );
}
