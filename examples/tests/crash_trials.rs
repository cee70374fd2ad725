//! Crash trials of the example runner (`examples/dts.rs`) as a separate process: while a random
//! writer changes the source, the runner is started, killed with SIGKILL at a random moment
//! (during startup/precheck, schema sync, full sync or incremental write), restarted, killed
//! again…; finally it runs until the destination equals the source, and both sides are compared
//! row by row by key and with `CHECKSUM TABLE`.
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

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up`")
    })
}

/// Host and port of a `mysql://user@host:port` URL of the test environment.
fn host_port(url: &str) -> (String, u16) {
    let opts = Opts::from_url(url).unwrap();
    (opts.ip_or_hostname().to_string(), opts.tcp_port())
}

async fn connect(url: &str) -> Conn {
    let mut c = Conn::new(Opts::from_url(url).unwrap()).await.unwrap();
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await
        .unwrap();
    c
}

async fn exec_all(c: &mut Conn, statements: &[&str]) {
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

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

/// The runner binary: `DTS_RUNNER`, else `examples/dts` built now with cargo in the profile of
/// this test (an up-to-date build returns at once).
fn runner() -> PathBuf {
    if let Ok(path) = std::env::var("DTS_RUNNER") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec!["build", "-q", "-p", "dts-examples", "--example", "dts"];
    if !cfg!(debug_assertions) {
        args.push("--release");
    }
    let status = Command::new(cargo)
        .args(&args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo {args:?} failed");
    // target/<profile>/deps/crash_trials-<hash> → target/<profile>/examples/dts
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join("dts");
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Tables of every trial; all have a primary key or a NOT NULL unique key (the runner's
/// precheck refuses key-less tables in one-way tasks built from a configuration).
const TABLES: [&str; 4] = [
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
            &format!("INSERT INTO composite_pk SELECT seq DIV 3, CONCAT('k', seq MOD 3), seq FROM seq_1_to_{rows}"),
            &format!("INSERT INTO unique_only SELECT seq, seq, 'u' FROM seq_1_to_{rows}"),
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

/// Random inserts, updates (key changes included), deletes and multi-statement transactions on
/// every table until `stop`; returns the number of statements run.
async fn random_writer(
    url: String,
    db: String,
    rows: u32,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> u64 {
    let mut c = connect(&url).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    let mut rng = Rng(seed | 1);
    let span = u64::from(rows) + u64::from(rows) / 2;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let k = rng.below(span) + 1;
        let v = rng.below(1_000_000);
        let sql = match rng.below(10) {
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
            _ => format!(
                "UPDATE wide SET d = d + 1.5, t = CONCAT(t, 'z'), j = JSON_SET(j, '$.w', {v}), \
                 ts = NOW(3), b = UNHEX(HEX({v})) WHERE id = {k}"
            ),
        };
        if rng.below(5) == 0 {
            exec_all(
                &mut c,
                &[
                    "BEGIN",
                    &sql,
                    &format!("UPDATE single_pk SET v = v + 1 WHERE id = {}", k / 2 + 1),
                    &format!("DELETE FROM composite_pk WHERE a = {} LIMIT 1", k / 5),
                    "COMMIT",
                ],
            )
            .await;
        } else {
            exec_all(&mut c, &[&sql]).await;
        }
        n += 1;
        if n % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    n
}

/// The task file of one trial.
fn task_toml(task_id: &str, db: &str, source: &str, dest: &str, rps: u32) -> String {
    let (sh, sp) = host_port(source);
    let (dh, dp) = host_port(dest);
    format!(
        r#"name = "crash trial {db}"
id = "{task_id}"

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

    /// SIGKILL, then reap.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let checksum: Option<(String, Option<u64>)> = c
        .query_first(format!("CHECKSUM TABLE `{db}`.`{table}`"))
        .await
        .unwrap();
    Side {
        key,
        rows,
        checksum: checksum.and_then(|c| c.1),
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
        let sum: Option<(String, Option<u64>)> = c
            .query_first(format!("CHECKSUM TABLE `{db}`.`{t}`"))
            .await
            .unwrap();
        out.push((t, sum.and_then(|s| s.1)));
    }
    out
}

/// What one trial did and found.
struct Trial {
    kills: Vec<String>,
    writes: u64,
    result: Comparison,
}

struct Settings {
    source: String,
    dest: String,
    rows: u32,
    rps: u32,
    max_kills: u64,
}

async fn trial(n: u64, rng: &mut Rng, runner: &Path, s: &Settings) -> Trial {
    let db = format!("rs_crash_{}_{n}", std::process::id());
    let task_id = format!("rs-crash-{}-{n}", std::process::id());
    prepare(&s.source, &s.dest, &db, s.rows).await;
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task.toml");
    std::fs::write(&task, task_toml(&task_id, &db, &s.source, &s.dest, s.rps)).unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("runner.log");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(random_writer(
        s.source.clone(),
        db.clone(),
        s.rows,
        stop.clone(),
        rng.next(),
    ));

    let mut kills = Vec::new();
    for _ in 0..1 + rng.below(s.max_kills) {
        let plan = KillPlan::random(rng);
        let mut run = Run::start(runner, &task, &state, log.clone());
        let deadline = Instant::now() + Duration::from_secs(120);
        while stage_rank(&run.stage()) < stage_rank(plan.stage) {
            run.assert_alive(&format!("trial {n} ({db})"));
            assert!(
                Instant::now() < deadline,
                "trial {n}: never reached {}",
                plan.stage
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(plan.delay).await;
        run.assert_alive(&format!("trial {n} ({db})"));
        kills.push(run.stage());
        run.kill();
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.unwrap();

    // Final run: until both sides agree (or two minutes), then compare exactly.
    let mut run = Run::start(runner, &task, &state, log.clone());
    let mut s_conn = connect(&s.source).await;
    let mut d_conn = connect(&s.dest).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        run.assert_alive(&format!("trial {n} ({db}) final run"));
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
    let result = compare(&s.source, &s.dest, &db).await;
    if result.equal() {
        for url in [&s.source, &s.dest] {
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
            "trial {n}: {db} kept on both servers; task files in {}",
            kept.display()
        );
    }
    Trial {
        kills,
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
    let started = Instant::now();
    for n in 1..=trials {
        let t = trial(n, &mut rng, &runner, &settings).await;
        println!(
            "trial {n}: {} kill(s) at [{}], {} writer statements, lost {}, duplicated {}, mismatched {:?}",
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
        "kills by last reported stage: {}; {:.0} s",
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
