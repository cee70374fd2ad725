//! Two-way synchronization on real servers: A is the test source (33061), B the peer (33063).
//! A forward task (A → B) and a reverse task (B → A) run together; these tests check loop
//! prevention, conflict policies, DDL direction, exactly-once key-less tables across a crash,
//! and the delay period after a pause.

mod common;

use common::*;
use dts_core::config::{
    ConflictPolicyKind, ConnectionSettings, DatabaseSelection, DestinationConfig, Endpoint,
    ObjectSelection, TaskConfig, TopologyMode, TwoWayRole,
};
use dts_core::{
    ConflictPolicy, Error, IgnorePolicy, OverwritePolicy, Stage, StageStatus, TaskFailedPolicy,
    TaskHandle,
};
use dts_mysql::sink::MysqlSink;
use dts_mysql::two_way::TwoWayTaskOptions;
use dts_mysql::MysqlEndpoint;
use mysql_async::prelude::Queryable;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

fn a() -> MysqlEndpoint {
    source()
}

fn b() -> MysqlEndpoint {
    peer()
}

type Run = JoinHandle<Result<(), Error>>;

/// Both tasks of a pair, running.
struct Pair {
    fwd: TaskHandle,
    rev: TaskHandle,
    fwd_run: Option<Run>,
    rev_run: Option<Run>,
    fwd_sink: Arc<MysqlSink>,
    rev_sink: Arc<MysqlSink>,
}

impl Pair {
    async fn stop(mut self) {
        self.fwd.stop();
        self.rev.stop();
        for r in [self.fwd_run.take(), self.rev_run.take()]
            .into_iter()
            .flatten()
        {
            let _ = r.await;
        }
    }

    fn check_running(&self) {
        for (name, h) in [("forward", &self.fwd), ("reverse", &self.rev)] {
            if let Some((stage, msg)) = h.status().failure() {
                panic!("{name} task failed in {stage}: {msg}");
            }
        }
    }
}

/// Drops `db` on both servers and creates it on A with `tables` and `seed` statements.
async fn prepare(db: &str, statements: &[&str]) {
    let mut cb = conn(&b()).await;
    exec_all(&mut cb, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    let mut ca = conn(&a()).await;
    exec_all(
        &mut ca,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
        ],
    )
    .await;
    exec_all(&mut ca, statements).await;
}

async fn cleanup(db: &str) {
    for ep in [a(), b()] {
        let mut c = conn(&ep).await;
        exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}

async fn on(ep: &MysqlEndpoint, db: &str, statements: &[&str]) {
    let mut c = conn(ep).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    exec_all(&mut c, statements).await;
}

fn options(
    id: &str,
    partner: &str,
    role: TwoWayRole,
    db: &str,
    dir: &Path,
    policy: Arc<dyn ConflictPolicy>,
) -> TwoWayTaskOptions {
    let mut o = TwoWayTaskOptions::new(id, partner, role, [db], dir.join(format!("{id}.json")));
    o.policy = policy;
    o.task_options.chunk_rows = 500;
    o.task_options.write_heartbeat = false;
    o
}

/// Starts the forward task, waits for its incremental write, then starts the reverse task.
async fn start_pair(
    db: &str,
    dir: &Path,
    tune: impl Fn(&mut TwoWayTaskOptions),
    policy: Arc<dyn ConflictPolicy>,
) -> Pair {
    let (fid, rid) = (format!("{db}-fwd"), format!("{db}-rev"));
    let mut f = options(&fid, &rid, TwoWayRole::Forward, db, dir, policy.clone());
    tune(&mut f);
    let (fwd, _, fwd_sink) = f.build(a(), b()).await.unwrap();
    let fh = fwd.handle();
    let fwd_run = tokio::spawn(async move { fwd.run().await });
    dts_testkit::wait_stage(
        &fh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;
    let mut r = options(&rid, &fid, TwoWayRole::Reverse, db, dir, policy);
    tune(&mut r);
    let (rev, _, rev_sink) = r.build(b(), a()).await.unwrap();
    let rh = rev.handle();
    let rev_run = tokio::spawn(async move { rev.run().await });
    dts_testkit::wait_stage(
        &rh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;
    Pair {
        fwd: fh,
        rev: rh,
        fwd_run: Some(fwd_run),
        rev_run: Some(rev_run),
        fwd_sink,
        rev_sink,
    }
}

type Rows = Vec<Vec<mysql_async::Value>>;

/// A table's rows ordered by every column.
async fn rows_of(ep: &MysqlEndpoint, db: &str, table: &str) -> Rows {
    let mut c = conn(ep).await;
    let n: usize = c
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .unwrap()
        .unwrap_or(0);
    let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let rows: Vec<mysql_async::Row> = c
        .query(format!(
            "SELECT * FROM `{db}`.`{table}` ORDER BY {}",
            order.join(", ")
        ))
        .await
        .unwrap();
    rows.into_iter().map(|r| r.unwrap()).collect()
}

/// Waits until `table` holds the same rows on both servers (and `extra` holds).
async fn wait_identical(pair: &Pair, db: &str, tables: &[&str]) {
    dts_testkit::eventually(
        Duration::from_secs(120),
        &format!("{tables:?} identical on both servers"),
        || async {
            pair.check_running();
            let mut differing = Vec::new();
            for t in tables {
                if rows_of(&a(), db, t).await != rows_of(&b(), db, t).await {
                    differing.push(*t);
                }
            }
            if differing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{differing:?} differ; forward {:?} reverse {:?}",
                    pair.fwd.progress().incremental,
                    pair.rev.progress().incremental
                ))
            }
        },
    )
    .await;
}

/// Writes a sentinel row on each side and waits until both sides have both: everything
/// written before has then been applied in both directions.
async fn settle(pair: &Pair, db: &str, n: u32) {
    on(
        &a(),
        db,
        &[&format!("INSERT INTO sentinel VALUES ({n}, 'a')")],
    )
    .await;
    on(
        &b(),
        db,
        &[&format!("INSERT INTO sentinel VALUES ({}, 'b')", n + 1)],
    )
    .await;
    dts_testkit::eventually(Duration::from_secs(90), "the sentinels crossed", || async {
        pair.check_running();
        let mut counts = Vec::new();
        for ep in [a(), b()] {
            let mut c = conn(&ep).await;
            let k: usize = c
                .query_first(format!(
                    "SELECT COUNT(*) FROM `{db}`.sentinel WHERE id IN ({n}, {})",
                    n + 1
                ))
                .await
                .unwrap()
                .unwrap_or(0);
            counts.push(k);
        }
        if counts == [2, 2] {
            Ok(())
        } else {
            Err(counts)
        }
    })
    .await;
}

async fn binlog_position(ep: &MysqlEndpoint) -> (String, u64) {
    let mut c = conn(ep).await;
    let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
    (row.get(0).unwrap(), row.get(1).unwrap())
}

/// Table-map events of `db`'s tables in the binlog since `from` (one per table per row-event
/// group: a measure of how many row writes reached the binlog).
async fn table_maps_since(ep: &MysqlEndpoint, from: &(String, u64), db: &str) -> usize {
    let mut c = conn(ep).await;
    let logs: Vec<mysql_async::Row> = c.query("SHOW BINARY LOGS").await.unwrap();
    let files: Vec<String> = logs
        .into_iter()
        .map(|r| r.get::<String, _>(0).unwrap())
        .filter(|f| f >= &from.0)
        .collect();
    let needle = format!("({db}.");
    let mut n = 0;
    for f in files {
        let sql = if f == from.0 {
            format!("SHOW BINLOG EVENTS IN '{f}' FROM {}", from.1)
        } else {
            format!("SHOW BINLOG EVENTS IN '{f}'")
        };
        let events: Vec<mysql_async::Row> = c.query(sql).await.unwrap();
        for e in events {
            let kind: String = e.get(2).unwrap();
            let info: String = e.get(5).unwrap_or_default();
            if kind == "Table_map" && info.contains(&needle) {
                n += 1;
            }
        }
    }
    n
}

fn url_parts(var: &str) -> (String, u16) {
    let url = std::env::var(var).unwrap();
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    (opts.ip_or_hostname().to_string(), opts.tcp_port())
}

const KV: &str = "CREATE TABLE kv (id INT PRIMARY KEY, v INT, note VARCHAR(40), \
                  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))";
const SENTINEL: &str = "CREATE TABLE sentinel (id INT PRIMARY KEY, side VARCHAR(5))";

/// Configuration path: the pair is built from `TaskConfig`s (the reverse one derived from the
/// forward one and checked against it), concurrent writers on both sides touch disjoint keys,
/// both sides converge, each task applies exactly what the other side wrote (no echo), the
/// binlogs hold a number of row-event groups proportional to the writes, and once idle neither
/// binlog grows any more (no ping-pong, not even of checkpoint rows).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disjoint_writers_converge_without_echo() {
    let db = unique_name("tw_conv");
    prepare(
        &db,
        &[
            KV,
            SENTINEL,
            "INSERT INTO kv (id, v, note) SELECT seq, seq, 'seed' FROM seq_1_to_500",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (ha, pa) = url_parts("DTS_TEST_SOURCE_URL");
    let (hb, pb) = url_parts("DTS_TEST_PEER_URL");
    let mut forward = TaskConfig::new(
        Endpoint::inline(ConnectionSettings::new(ha, pa, "root")),
        DestinationConfig::mysql(Endpoint::inline(ConnectionSettings::new(hb, pb, "root"))),
        ObjectSelection {
            databases: vec![DatabaseSelection::whole(db.clone())],
            ..Default::default()
        },
    );
    let (fid, rid) = (format!("{db}-f"), format!("{db}-r"));
    forward.id = Some(fid.clone());
    forward.topology.mode = TopologyMode::TwoWay;
    forward.topology.partner_task_id = Some(rid.clone());
    forward.topology.conflict_policy = Some(ConflictPolicyKind::TaskFailed);
    forward.advanced.write_heartbeat = false;
    let reverse = dts_core::topology::derive_reverse(&forward, &rid).unwrap();
    let check = dts_core::topology::check_reverse(&forward, &reverse);
    assert!(check.is_ok() && check.warnings.is_empty(), "{check:?}");

    let built = dts_mysql::build_mysql_task(&forward, dir.path(), None)
        .await
        .unwrap();
    let fwd = built.task;
    let fh = fwd.handle();
    let fwd_run = tokio::spawn(async move { fwd.run().await });
    dts_testkit::wait_stage(
        &fh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;
    let rbuilt = dts_mysql::build_mysql_task(&reverse, dir.path(), None)
        .await
        .unwrap();
    let rev = rbuilt.task;
    let rh = rev.handle();
    let rev_run = tokio::spawn(async move { rev.run().await });
    dts_testkit::wait_stage(
        &rh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;
    let pair = Pair {
        fwd: fh,
        rev: rh,
        fwd_run: Some(fwd_run),
        rev_run: Some(rev_run),
        fwd_sink: built.sink,
        rev_sink: rbuilt.sink,
    };
    wait_identical(&pair, &db, &["kv"]).await;
    let applied_before = (
        pair.fwd.progress().incremental.rows_applied,
        pair.rev.progress().incremental.rows_applied,
    );
    let (start_a, start_b) = (binlog_position(&a()).await, binlog_position(&b()).await);

    // Side A owns even seed rows and keys 10000+, side B odd seed rows and keys 20000+.
    const N: u32 = 300;
    let writer = |ep: MysqlEndpoint, base: u32, parity: u32| {
        let db = db.clone();
        async move {
            let mut c = conn(&ep).await;
            exec_all(&mut c, &[&format!("USE `{db}`")]).await;
            let mut rows = 0u64;
            let mut statements = 0u64;
            for i in 0..N {
                let seed_id = 2 * (i % 250) + 1 + parity;
                let mut batch = vec![
                    format!(
                        "INSERT INTO kv (id, v, note) VALUES ({}, {i}, 'new')",
                        base + i
                    ),
                    format!("UPDATE kv SET v = v + 1, note = 'upd{i}' WHERE id = {seed_id}"),
                ];
                if i >= 5 && i % 10 == 0 {
                    batch.push(format!("DELETE FROM kv WHERE id = {}", base + i - 5));
                }
                rows += batch.len() as u64;
                statements += batch.len() as u64;
                if i % 7 == 0 {
                    let mut t = vec!["BEGIN".to_string()];
                    t.extend(batch);
                    t.push("COMMIT".into());
                    let t: Vec<&str> = t.iter().map(String::as_str).collect();
                    exec_all(&mut c, &t).await;
                } else {
                    let t: Vec<&str> = batch.iter().map(String::as_str).collect();
                    exec_all(&mut c, &t).await;
                }
            }
            (rows, statements)
        }
    };
    let (wa, wb) = tokio::join!(
        tokio::spawn(writer(a(), 10_000, 1)),
        tokio::spawn(writer(b(), 20_000, 0))
    );
    let ((rows_a, stmts_a), (rows_b, stmts_b)) = (wa.unwrap(), wb.unwrap());
    settle(&pair, &db, 1).await;
    wait_identical(&pair, &db, &["kv", "sentinel"]).await;

    // Each task applied exactly what the other side wrote (+ its sentinel row): no echo.
    let fwd_applied = pair.fwd.progress().incremental.rows_applied - applied_before.0;
    let rev_applied = pair.rev.progress().incremental.rows_applied - applied_before.1;
    assert_eq!(fwd_applied, rows_a + 1, "forward applied only A's writes");
    assert_eq!(rev_applied, rows_b + 1, "reverse applied only B's writes");

    // Row-event groups in each binlog: the side's own statements plus at most one group per
    // change applied from the other side.
    let maps_a = table_maps_since(&a(), &start_a, &db).await;
    let maps_b = table_maps_since(&b(), &start_b, &db).await;
    println!(
        "writes: A {rows_a} rows / {stmts_a} statements, B {rows_b} / {stmts_b}; \
         table-map events: A {maps_a}, B {maps_b}"
    );
    assert!(
        maps_a as u64 >= stmts_a && maps_a as u64 <= stmts_a + rows_b + 2,
        "A: {maps_a}"
    );
    assert!(
        maps_b as u64 >= stmts_b && maps_b as u64 <= stmts_b + rows_a + 2,
        "B: {maps_b}"
    );

    // Idle: no row of the database bounces between the two servers any more. (Both servers
    // are shared with other tests, so whole-binlog growth is not a measure here.)
    // Deliberately lets time pass, not a synchronization: the idle span over which nothing may
    // bounce.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_a = binlog_position(&a()).await;
    let idle_b = binlog_position(&b()).await;
    // Deliberately lets time pass, not a synchronization: nothing may be written on either server
    // over 6 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        table_maps_since(&a(), &idle_a, &db).await,
        0,
        "rows kept reaching A"
    );
    assert_eq!(
        table_maps_since(&b(), &idle_b, &db).await,
        0,
        "rows kept reaching B"
    );
    pair.check_running();
    let _ = (&pair.fwd_sink, &pair.rev_sink);
    pair.stop().await;
    cleanup(&db).await;
}

/// Same-key changes on both sides while both tasks are paused, then resumed: an UPDATE of one
/// row on both sides (`UpdateRowChanged`), an INSERT of one key on both sides
/// (`DuplicateKeyOnInsert`), a DELETE of one row on both sides (`DeleteMissingRow`, always
/// ignored) and, with `update_of_deleted`, an UPDATE of a row the other side deleted
/// (`UpdateMissingRow`), the same for a row of a key-less table, and two inserts colliding on
/// a secondary unique key.
async fn conflicting_changes(pair: &Pair, db: &str, update_of_deleted: bool) {
    pair.fwd.pause();
    pair.rev.pause();
    dts_testkit::wait_stage(
        &pair.fwd,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    dts_testkit::wait_stage(
        &pair.rev,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    on(&a(), db, &["DELETE FROM kv WHERE id = 3"]).await;
    on(&b(), db, &["DELETE FROM kv WHERE id = 3"]).await;
    on(
        &a(),
        db,
        &[
            "UPDATE kv SET v = 100, note = 'A' WHERE id = 1",
            "INSERT INTO kv (id, v, note) VALUES (50, 1, 'A')",
        ],
    )
    .await;
    if update_of_deleted {
        on(
            &a(),
            db,
            &["UPDATE kv SET v = 400, note = 'A' WHERE id = 4"],
        )
        .await;
        on(&b(), db, &["DELETE FROM kv WHERE id = 4"]).await;
        // Different primary keys, same value of the secondary unique key.
        on(&a(), db, &["INSERT INTO users VALUES (60, 'x@e', 'A')"]).await;
        on(&b(), db, &["INSERT INTO users VALUES (61, 'x@e', 'B')"]).await;
        // A key-less row updated on A and deleted on B.
        on(&a(), db, &["UPDATE notes SET y = 'A' WHERE x = 1"]).await;
        on(&b(), db, &["DELETE FROM notes WHERE x = 1"]).await;
    }
    on(
        &b(),
        db,
        &[
            "UPDATE kv SET v = 200, note = 'B' WHERE id = 1",
            "INSERT INTO kv (id, v, note) VALUES (50, 2, 'B')",
        ],
    )
    .await;
    pair.fwd.resume();
    pair.rev.resume();
}

async fn users(ep: &MysqlEndpoint, db: &str) -> Vec<(i32, String)> {
    let mut c = conn(ep).await;
    c.query(format!("SELECT id, note FROM `{db}`.users ORDER BY id"))
        .await
        .unwrap()
}

async fn notes(ep: &MysqlEndpoint, db: &str) -> Vec<(i32, String)> {
    let mut c = conn(ep).await;
    c.query(format!("SELECT x, y FROM `{db}`.notes ORDER BY x, y"))
        .await
        .unwrap()
}

async fn note(ep: &MysqlEndpoint, db: &str, id: i32) -> Option<String> {
    let mut c = conn(ep).await;
    c.query_first(format!("SELECT note FROM `{db}`.kv WHERE id = {id}"))
        .await
        .unwrap()
}

async fn policy_pair(db: &str, dir: &Path, policy: Arc<dyn ConflictPolicy>) -> Pair {
    prepare(
        db,
        &[
            KV,
            SENTINEL,
            "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(40) NOT NULL, \
             note VARCHAR(10), UNIQUE KEY email (email))",
            "CREATE TABLE notes (x INT, y VARCHAR(10))",
            "INSERT INTO notes VALUES (1, 'seed'), (2, 'seed')",
            "INSERT INTO kv (id, v, note) SELECT seq, seq, 'seed' FROM seq_1_to_10",
        ],
    )
    .await;
    // A long delay period: the pause below must not count as delay.
    let pair = start_pair(
        db,
        dir,
        |o| {
            o.delay_period = Duration::from_secs(3600);
            o.exactly_once_write = true;
        },
        policy,
    )
    .await;
    wait_identical(&pair, db, &["kv"]).await;
    pair
}

/// Overwrite: each side takes the other side's image (the guide's documented result: the
/// sides swap values); the row deleted on one side and updated on the other is re-inserted on
/// the deleting side and deleted on the updating side.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overwrite_policy_takes_incoming_rows() {
    let db = unique_name("tw_over");
    let dir = tempfile::tempdir().unwrap();
    let pair = policy_pair(&db, dir.path(), Arc::new(OverwritePolicy)).await;
    conflicting_changes(&pair, &db, true).await;
    settle(&pair, &db, 1).await;
    assert_eq!(note(&a(), &db, 1).await.as_deref(), Some("B"));
    assert_eq!(note(&b(), &db, 1).await.as_deref(), Some("A"));
    assert_eq!(note(&a(), &db, 50).await.as_deref(), Some("B"));
    assert_eq!(note(&b(), &db, 50).await.as_deref(), Some("A"));
    assert_eq!(note(&a(), &db, 3).await, None);
    assert_eq!(note(&b(), &db, 3).await, None);
    assert_eq!(note(&a(), &db, 4).await, None, "B's delete reached A");
    assert_eq!(
        note(&b(), &db, 4).await.as_deref(),
        Some("A"),
        "update of a missing row inserts it"
    );
    // The unique-key collision: each side's REPLACE removed its own row for the incoming one.
    assert_eq!(users(&a(), &db).await, vec![(61, "B".to_string())]);
    assert_eq!(users(&b(), &db).await, vec![(60, "A".to_string())]);
    // Key-less: the update of the row B deleted inserts it there; B's delete missed on A.
    let seed2 = (2, "seed".to_string());
    assert_eq!(
        notes(&a(), &db).await,
        vec![(1, "A".to_string()), seed2.clone()]
    );
    assert_eq!(notes(&b(), &db).await, vec![(1, "A".to_string()), seed2]);
    pair.check_running();
    pair.stop().await;
    cleanup(&db).await;
}

/// Ignore: each side keeps its own rows; the double delete is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ignore_policy_keeps_destination_rows() {
    let db = unique_name("tw_ign");
    let dir = tempfile::tempdir().unwrap();
    let pair = policy_pair(&db, dir.path(), Arc::new(IgnorePolicy)).await;
    conflicting_changes(&pair, &db, true).await;
    settle(&pair, &db, 1).await;
    assert_eq!(note(&a(), &db, 1).await.as_deref(), Some("A"));
    assert_eq!(note(&b(), &db, 1).await.as_deref(), Some("B"));
    assert_eq!(note(&a(), &db, 50).await.as_deref(), Some("A"));
    assert_eq!(note(&b(), &db, 50).await.as_deref(), Some("B"));
    assert_eq!(
        note(&b(), &db, 4).await,
        None,
        "the update of a missing row is skipped"
    );
    assert_eq!(note(&a(), &db, 4).await, None, "B's delete reached A");
    assert_eq!(users(&a(), &db).await, vec![(60, "A".to_string())]);
    assert_eq!(users(&b(), &db).await, vec![(61, "B".to_string())]);
    // Key-less: the update of the row B deleted is skipped there; B's delete missed on A.
    let seed2 = (2, "seed".to_string());
    assert_eq!(
        notes(&a(), &db).await,
        vec![(1, "A".to_string()), seed2.clone()]
    );
    assert_eq!(notes(&b(), &db).await, vec![seed2]);
    // Non-conflicting changes still flow.
    on(&a(), &db, &["UPDATE kv SET note = 'later' WHERE id = 7"]).await;
    settle(&pair, &db, 3).await;
    assert_eq!(note(&b(), &db, 7).await.as_deref(), Some("later"));
    pair.check_running();
    pair.stop().await;
    cleanup(&db).await;
}

/// TaskFailed: both tasks stop with status Failed and a conflict error naming the table, the
/// key and both row images; the double delete (applied first) did not fail them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn task_failed_policy_stops_with_the_conflict() {
    let db = unique_name("tw_fail");
    let dir = tempfile::tempdir().unwrap();
    let mut pair = policy_pair(&db, dir.path(), Arc::new(TaskFailedPolicy)).await;
    conflicting_changes(&pair, &db, false).await;
    for (name, run, h) in [
        ("forward", pair.fwd_run.take().unwrap(), &pair.fwd),
        ("reverse", pair.rev_run.take().unwrap(), &pair.rev),
    ] {
        let result = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("{name} task did not stop"))
            .unwrap();
        let err = result.expect_err("the task must fail");
        assert!(matches!(err, Error::Conflict { .. }), "{name}: {err:?}");
        let msg = err.to_string();
        let (mine, theirs) = if name == "forward" {
            ("A", "B")
        } else {
            ("B", "A")
        };
        assert!(
            msg.contains(&format!("{db}.kv"))
                && msg.contains("id=")
                && msg.contains(&format!("Text(\"{mine}\")"))
                && msg.contains(&format!("Text(\"{theirs}\")"))
                && !msg.contains("DeleteMissingRow"),
            "{name}: {msg}"
        );
        let status = h.status();
        let (stage, reason) = status.failure().expect("status Failed");
        assert_eq!(stage, Stage::IncrementalWrite);
        assert!(reason.contains("kv"), "{reason}");
    }
    cleanup(&db).await;
}

/// DDL flows forward only: an ALTER on A reaches B, while DDL run on B (a new index, a new
/// table) never reaches A; rows keep flowing both ways afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ddl_flows_forward_only() {
    let db = unique_name("tw_ddl");
    prepare(
        &db,
        &[
            KV,
            SENTINEL,
            "INSERT INTO kv (id, v, note) SELECT seq, seq, 'seed' FROM seq_1_to_10",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pair = start_pair(&db, dir.path(), |_| {}, Arc::new(TaskFailedPolicy)).await;
    on(
        &a(),
        &db,
        &[
            "ALTER TABLE kv ADD COLUMN extra VARCHAR(10) NOT NULL DEFAULT 'd'",
            "INSERT INTO kv (id, v, note, extra) VALUES (100, 1, 'after', 'x')",
        ],
    )
    .await;
    on(
        &b(),
        &db,
        &[
            "CREATE INDEX b_only_idx ON kv (v)",
            "CREATE TABLE b_only (id INT PRIMARY KEY)",
        ],
    )
    .await;
    settle(&pair, &db, 1).await;
    wait_identical(&pair, &db, &["kv"]).await;
    on(
        &b(),
        &db,
        &["INSERT INTO kv (id, v, note, extra) VALUES (200, 2, 'from b', 'y')"],
    )
    .await;
    settle(&pair, &db, 3).await;
    wait_identical(&pair, &db, &["kv"]).await;
    let mut ca = conn(&a()).await;
    let tables: Vec<String> = ca
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(tables, vec!["kv".to_string(), "sentinel".to_string()]);
    let indexes: usize = ca
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? \
             AND INDEX_NAME = 'b_only_idx'",
            (&db,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(indexes, 0, "B's index must not reach A");
    let extra: Option<String> = ca
        .query_first(format!("SELECT extra FROM `{db}`.kv WHERE id = 200"))
        .await
        .unwrap();
    assert_eq!(extra.as_deref(), Some("y"));
    pair.check_running();
    pair.stop().await;
    cleanup(&db).await;
}

async fn count_and_checksum(ep: &MysqlEndpoint, db: &str) -> (u64, Option<u64>) {
    let mut c = conn(ep).await;
    let n: u64 = c
        .query_first(format!("SELECT COUNT(*) FROM `{db}`.log"))
        .await
        .unwrap()
        .unwrap();
    let sum: Option<(String, Option<u64>)> = c
        .query_first(format!("CHECKSUM TABLE `{db}`.log"))
        .await
        .unwrap();
    (n, sum.and_then(|s| s.1))
}

/// A table without any key, two-way with exactly-once write: duplicate rows written on both
/// sides, the forward task killed (runtime task aborted, no graceful stop) in the middle and
/// restarted; both sides end with exactly the same multiset of rows. Without the option, the
/// pair refuses the table at precheck.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyless_table_exactly_once_across_a_crash() {
    let db = unique_name("tw_keyless");
    prepare(
        &db,
        &[
            "CREATE TABLE log (x INT, y VARCHAR(20))",
            SENTINEL,
            "INSERT INTO log SELECT seq MOD 10, 'seed' FROM seq_1_to_100",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    // Without exactly-once write the key-less table is refused.
    let refused = options(
        &format!("{db}-x"),
        &format!("{db}-y"),
        TwoWayRole::Forward,
        &db,
        dir.path(),
        Arc::new(TaskFailedPolicy),
    );
    let (task, _, _) = refused.build(a(), b()).await.unwrap();
    let err = task.run().await.expect_err("key-less table refused");
    assert!(err.to_string().contains("exactly_once_write"), "{err}");

    let exactly_once = |o: &mut TwoWayTaskOptions| {
        o.exactly_once_write = true;
        o.task_options.batch_max_transactions = 20;
    };
    let mut pair = start_pair(&db, dir.path(), exactly_once, Arc::new(TaskFailedPolicy)).await;
    wait_identical(&pair, &db, &["log"]).await;
    let writer = |ep: MysqlEndpoint, tag: &'static str| {
        let db = db.clone();
        async move {
            let mut c = conn(&ep).await;
            exec_all(&mut c, &[&format!("USE `{db}`")]).await;
            // Duplicate rows on purpose; each side touches only its own tag's rows.
            for i in 0..400u32 {
                let x = i % 5;
                let s = match i % 4 {
                    0 | 1 => format!("INSERT INTO log VALUES ({x}, '{tag}')"),
                    2 => {
                        format!("UPDATE log SET y = '{tag}2' WHERE x = {x} AND y = '{tag}' LIMIT 1")
                    }
                    _ => format!("DELETE FROM log WHERE x = {x} AND y = '{tag}2' LIMIT 1"),
                };
                exec_all(&mut c, &[&s]).await;
            }
        }
    };
    let wa = tokio::spawn(writer(a(), "a"));
    let wb = tokio::spawn(writer(b(), "b"));
    // Kill the forward task in the middle of the stream.
    // Every 5 ms: the forward task is killed as soon as it gets there.
    dts_testkit::try_eventually_every(
        Duration::from_millis(5),
        Duration::from_secs(60),
        "60 rows applied forward",
        || async {
            pair.check_running();
            let progress = pair.fwd.progress();
            if progress.incremental.rows_applied >= 60 {
                Ok(())
            } else {
                Err(progress)
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let run = pair.fwd_run.take().unwrap();
    run.abort();
    let _ = run.await;
    wa.await.unwrap();
    wb.await.unwrap();
    // Restart the forward task from its checkpoint.
    let mut f = options(
        &format!("{db}-fwd"),
        &format!("{db}-rev"),
        TwoWayRole::Forward,
        &db,
        dir.path(),
        Arc::new(TaskFailedPolicy),
    );
    exactly_once(&mut f);
    let (fwd, _, _) = f.build(a(), b()).await.unwrap();
    pair.fwd = fwd.handle();
    pair.fwd_run = Some(tokio::spawn(async move { fwd.run().await }));
    settle(&pair, &db, 1).await;
    let (na, ca) = count_and_checksum(&a(), &db).await;
    let (nb, cb) = count_and_checksum(&b(), &db).await;
    assert_eq!(na, nb, "row counts");
    assert_eq!(ca, cb, "CHECKSUM TABLE");
    assert_eq!(
        rows_of(&a(), &db, "log").await,
        rows_of(&b(), &db, "log").await
    );
    pair.check_running();
    pair.stop().await;
    cleanup(&db).await;
}

/// After a pause longer than the delay period, the backlog overwrites the destination even
/// under TaskFailed (the guide: policies do not apply during the delay period); fresh
/// conflicts after it are detected again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delay_period_after_pause_overwrites() {
    let db = unique_name("tw_delay");
    prepare(
        &db,
        &[
            KV,
            SENTINEL,
            "INSERT INTO kv (id, v, note) SELECT seq, seq, 'seed' FROM seq_1_to_10",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut pair = start_pair(
        &db,
        dir.path(),
        |o| o.delay_period = Duration::from_secs(3),
        Arc::new(TaskFailedPolicy),
    )
    .await;
    wait_identical(&pair, &db, &["kv"]).await;
    pair.fwd.pause();
    pair.rev.pause();
    dts_testkit::wait_stage(
        &pair.fwd,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    dts_testkit::wait_stage(
        &pair.rev,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    on(
        &a(),
        &db,
        &["UPDATE kv SET v = 100, note = 'A' WHERE id = 1"],
    )
    .await;
    on(
        &b(),
        &db,
        &["UPDATE kv SET v = 200, note = 'B' WHERE id = 1"],
    )
    .await;
    // Deliberately lets time pass, not a synchronization: both sides' updates are in the binlogs
    // before the forward task resumes.
    tokio::time::sleep(Duration::from_secs(5)).await;
    pair.fwd.resume();
    pair.rev.resume();
    settle(&pair, &db, 1).await;
    // Overwritten in both directions: the sides swapped values, nobody failed.
    assert_eq!(note(&a(), &db, 1).await.as_deref(), Some("B"));
    assert_eq!(note(&b(), &db, 1).await.as_deref(), Some("A"));
    pair.check_running();
    // Out of the delay period, a fresh conflict fails the task again.
    pair.fwd.pause();
    pair.rev.pause();
    dts_testkit::wait_stage(
        &pair.fwd,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    dts_testkit::wait_stage(
        &pair.rev,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    on(&a(), &db, &["UPDATE kv SET note = 'A2' WHERE id = 2"]).await;
    on(&b(), &db, &["UPDATE kv SET note = 'B2' WHERE id = 2"]).await;
    pair.fwd.resume();
    pair.rev.resume();
    let run = pair.fwd_run.take().unwrap();
    let result = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("forward task stops")
        .unwrap();
    assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}");
    pair.stop().await;
    cleanup(&db).await;
}
