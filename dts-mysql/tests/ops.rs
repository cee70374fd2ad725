//! Operations tests on the real servers: throttles hold their rate and change while the task
//! runs, the heartbeat option, and latency alerts with a rule changed at runtime. Databases are
//! prefixed `op_`.

mod common;
mod ops_support;

use common::*;
use dts_core::{
    Alert, LatencyRule, Position, Source, Stage, StageStatus, StreamEvent, TaskHandle, TaskOptions,
    ThrottleSettings, Value,
};
use dts_mysql::{MysqlSource, Scope, SourceOptions};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use ops_support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const COLS: &str = "id, v";

fn rows(limit: u32) -> ThrottleSettings {
    ThrottleSettings {
        rows_per_s: Some(limit),
        ..Default::default()
    }
}

/// Rows per second of `count` over `span`, measured from now.
async fn rate(handle: &TaskHandle, span: Duration, count: impl Fn(&TaskHandle) -> u64) -> f64 {
    let (t0, n0) = (Instant::now(), count(handle));
    // Deliberately lets time pass, not a synchronization: the measurement window of a rate.
    tokio::time::sleep(span).await;
    let (t1, n1) = (Instant::now(), count(handle));
    (n1 - n0) as f64 / (t1 - t0).as_secs_f64()
}

fn assert_within(measured: f64, limit: u32, what: &str) {
    let limit = f64::from(limit);
    eprintln!("{what}: {measured:.0}/s against a limit of {limit:.0}/s");
    assert!(
        (measured - limit).abs() <= limit * 0.15,
        "{what}: {measured:.0}/s is not within 15% of {limit:.0}/s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_sync_throttle_holds_the_rate_and_changes_at_runtime() {
    let db = unique_name("op_thrfull");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_30000",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_thrfull");
    let opts = TaskOptions {
        task_id: task_id.clone(),
        chunk_rows: 100,
        full_throttle: rows(1_000),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let key = format!("{db}.t");
    let done = move |h: &TaskHandle| h.progress().tables.get(&key).map_or(0, |t| t.rows_done);
    wait_for(
        "the copy to start",
        Duration::from_secs(30),
        &handle,
        || async { done(&handle) > 0 },
    )
    .await;
    // Past the limiter's first-second burst, then measure.
    // Deliberately lets time pass, not a synchronization: (a throttle measurement).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let slow = rate(&handle, Duration::from_secs(4), &done).await;
    handle.set_full_throttle(rows(2_000));
    // Deliberately lets time pass, not a synchronization: the raised limit settles before it is
    // measured.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fast = rate(&handle, Duration::from_secs(3), &done).await;
    assert!(
        done(&handle) < 30_000,
        "the copy was still running while measured"
    );
    assert_within(slow, 1_000, "full sync at 1000 rows/s");
    assert_within(
        fast,
        2_000,
        "full sync after raising the limit to 2000 rows/s",
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn incremental_throttle_holds_the_rate_and_changes_at_runtime() {
    let db = unique_name("op_thrinc");
    prepare(
        &db,
        &["CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_thrinc");
    let opts = TaskOptions {
        task_id: task_id.clone(),
        batch_max_rows: 100,
        incremental_throttle: rows(1_000),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    // A backlog of 30 000 rows in transactions of 100, written faster than the limits.
    let mut c = conn(&source()).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    for _ in 0..300 {
        c.query_drop("INSERT INTO t (v) SELECT seq FROM seq_1_to_100")
            .await
            .unwrap();
    }
    let applied = |h: &TaskHandle| h.progress().incremental.rows_applied;
    wait_for(
        "rows to apply",
        Duration::from_secs(30),
        &handle,
        || async { applied(&handle) > 0 },
    )
    .await;
    // Deliberately lets time pass, not a synchronization: past the limiter's first-second burst,
    // then measure.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let slow = rate(&handle, Duration::from_secs(4), applied).await;
    handle.set_incremental_throttle(rows(2_000));
    // Deliberately lets time pass, not a synchronization: the raised limit settles before it is
    // measured.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fast = rate(&handle, Duration::from_secs(3), applied).await;
    assert!(
        applied(&handle) < 30_000,
        "the backlog lasted through the measurement"
    );
    assert_within(slow, 1_000, "incremental at 1000 rows/s");
    assert_within(
        fast,
        2_000,
        "incremental after raising the limit to 2000 rows/s",
    );
    // Lifting the limit lets the task catch up.
    handle.set_incremental_throttle(ThrottleSettings::default());
    wait_identical(&handle, &db, "t", COLS).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_sync_query_and_byte_throttles_hold() {
    let db = unique_name("op_thrqb");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(1000) NOT NULL)",
            "INSERT INTO t SELECT seq, REPEAT('x', 1000) FROM seq_1_to_12000",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_thrqb");
    let opts = TaskOptions {
        task_id: task_id.clone(),
        chunk_rows: 100,
        // One query per chunk: 5 queries/s is 500 rows/s.
        full_throttle: ThrottleSettings {
            queries_per_s: Some(5),
            ..Default::default()
        },
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let key = format!("{db}.t");
    let done = move |h: &TaskHandle| h.progress().tables.get(&key).map_or(0, |t| t.rows_done);
    wait_for(
        "the copy to start",
        Duration::from_secs(30),
        &handle,
        || async { done(&handle) > 0 },
    )
    .await;
    // Deliberately lets time pass, not a synchronization: past the limiter's first-second burst,
    // then measure.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let by_queries = rate(&handle, Duration::from_secs(3), &done).await;
    let limit = 512 * 1024;
    handle.set_full_throttle(ThrottleSettings {
        bytes_per_s: Some(limit),
        ..Default::default()
    });
    // The new limiter starts with a second's burst, which the writers (each waiting for a
    // ~100 KiB chunk) take over the next seconds: measure after it is spent, over a window
    // long enough that one chunk more or less stays well inside the tolerance.
    // Deliberately lets time pass, not a synchronization: (a throttle measurement).
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let bytes = |h: &TaskHandle| h.progress().full_bytes_done;
    let by_bytes = rate(&handle, Duration::from_secs(4), bytes).await;
    assert!(
        done(&handle) < 12_000,
        "the copy was still running while measured"
    );
    assert_within(by_queries, 500, "full sync at 5 queries/s of 100 rows");
    assert_within(by_bytes, limit as u32, "full sync at 512 KiB/s (bytes)");
    assert!(handle.progress().full_bytes_per_s > 0.0);
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn incremental_byte_throttle_holds() {
    let db = unique_name("op_thrib");
    prepare(
        &db,
        &["CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(1000) NOT NULL)"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_thrib");
    let limit = 256 * 1024;
    let opts = TaskOptions {
        task_id: task_id.clone(),
        batch_max_rows: 20,
        incremental_throttle: ThrottleSettings {
            bytes_per_s: Some(limit),
            ..Default::default()
        },
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    // About 2.5 MB of row images in transactions of 20 rows.
    let mut c = conn(&source()).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    for _ in 0..125 {
        c.query_drop("INSERT INTO t (s) SELECT REPEAT('y', 1000) FROM seq_1_to_20")
            .await
            .unwrap();
    }
    let bytes = |h: &TaskHandle| h.progress().incremental.bytes_applied;
    wait_for(
        "rows to apply",
        Duration::from_secs(30),
        &handle,
        || async { bytes(&handle) > 0 },
    )
    .await;
    // Deliberately lets time pass, not a synchronization: past the limiter's first-second burst,
    // then measure.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let measured = rate(&handle, Duration::from_secs(4), bytes).await;
    assert!(
        handle.progress().incremental.rows_applied < 2_500,
        "the backlog lasted through the measurement"
    );
    assert_within(measured, limit as u32, "incremental at 256 KiB/s (bytes)");
    assert!(handle.progress().incremental.bytes_per_s > 0.0);
    handle.set_incremental_throttle(ThrottleSettings::default());
    wait_identical(&handle, &db, "t", "id, s").await;
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

/// Task ids in the after images of `dts_meta`.`dts_heartbeat` changes, and the number of row
/// changes in `db`, in the source's binlog from `from` to `to`.
async fn binlog_between(db: &str, from: Position, to: &Position) -> (Vec<String>, usize) {
    let source = MysqlSource::connect(
        source(),
        SourceOptions {
            scope: Scope {
                databases: vec!["dts_meta".into(), db.to_string()],
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut stream = source.stream(from).await.unwrap();
    let (mut ids, mut in_db) = (Vec::new(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("binlog read to the end position in time")
            .expect("stream open")
            .expect("binlog event");
        let at = match event {
            StreamEvent::Transaction(t) => {
                for change in &t.changes {
                    let dts_core::Change::Row(r) = change else {
                        continue;
                    };
                    if r.table().database == db {
                        in_db += 1;
                    }
                    if r.table().database == "dts_meta" && r.table().table == "dts_heartbeat" {
                        if let Some(Value::Text(id)) = r.after.as_ref().and_then(|a| a.first()) {
                            ids.push(id.clone());
                        }
                    }
                }
                t.end
            }
            StreamEvent::Heartbeat { position, .. } => position,
        };
        if at.coordinates_cmp(to).is_ge() {
            return (ids, in_db);
        }
    }
}

async fn heartbeat_row(task_id: &str) -> Option<String> {
    let mut c = conn(&source()).await;
    c.exec_first::<Option<String>, _, _>(
        "SELECT CAST(beat AS CHAR) FROM dts_meta.dts_heartbeat WHERE task_id = ?",
        (task_id,),
    )
    .await
    .unwrap_or(None)
    .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeat_measures_latency_when_idle_and_writes_nothing_when_off() {
    let (db_on, db_off) = (unique_name("op_hbon"), unique_name("op_hboff"));
    for db in [&db_on, &db_off] {
        prepare(
            db,
            &[
                "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
                "INSERT INTO t VALUES (1, 1)",
            ],
        )
        .await;
    }
    let probe = reader(source(), &db_off).await;
    let before = probe.current_position().await.unwrap();
    let dir_on = tempfile::tempdir().unwrap();
    let dir_off = tempfile::tempdir().unwrap();
    let (id_on, id_off) = (unique_name("op_hbon"), unique_name("op_hboff"));
    let with = |id: &str, heartbeat: bool| TaskOptions {
        task_id: id.to_string(),
        write_heartbeat: heartbeat,
        ..Default::default()
    };
    let (on, _, _) = build(
        &db_on,
        source(),
        dest(),
        dir_on.path(),
        2,
        with(&id_on, true),
    )
    .await;
    let (off, _, _) = build(
        &db_off,
        source(),
        dest(),
        dir_off.path(),
        2,
        with(&id_off, false),
    )
    .await;
    let (h_on, h_off) = (on.handle(), off.handle());
    let r_on = tokio::spawn(async move { on.run().await });
    let r_off = tokio::spawn(async move { off.run().await });
    dts_testkit::wait_incremental(&h_on, Duration::from_secs(60)).await;
    dts_testkit::wait_incremental(&h_off, Duration::from_secs(60)).await;
    wait_for(
        "the first heartbeat",
        Duration::from_secs(10),
        &h_on,
        || async { heartbeat_row(&id_on).await.is_some() },
    )
    .await;

    // Idle: nobody writes to either database. The heartbeat task keeps publishing latency.
    let first_beat = heartbeat_row(&id_on).await.unwrap();
    let mut updates = h_on.watch_progress();
    updates.borrow_and_update();
    let idle = Instant::now();
    let (mut seen, mut worst) = (0, 0);
    while idle.elapsed() < Duration::from_secs(5) {
        if tokio::time::timeout(Duration::from_millis(500), updates.changed())
            .await
            .is_ok()
        {
            seen += 1;
            worst = worst.max(updates.borrow_and_update().incremental.latency_ms);
        }
    }
    let last_beat = heartbeat_row(&id_on).await.unwrap();
    assert!(last_beat > first_beat, "{first_beat} → {last_beat}");
    assert!(seen >= 3, "latency updated {seen} times in 5 idle seconds");
    assert!(worst < 3_000, "latency stays low while idle: {worst} ms");
    let after = probe.current_position().await.unwrap();

    let (ids, in_db) = binlog_between(&db_off, before, &after).await;
    let beats_on = ids.iter().filter(|i| **i == id_on).count();
    assert!(
        beats_on >= 3,
        "heartbeats of the task with the option on: {beats_on}"
    );
    assert!(
        !ids.contains(&id_off),
        "the task with heartbeat off wrote a heartbeat"
    );
    assert_eq!(heartbeat_row(&id_off).await, None);
    assert_eq!(
        in_db, 0,
        "nothing written to the source database of the task"
    );
    eprintln!("heartbeat: {beats_on} beats in the binlog, {seen} latency updates while idle (worst {worst} ms)");
    h_on.stop();
    h_off.stop();
    r_on.await.unwrap().unwrap();
    r_off.await.unwrap().unwrap();
    let mut c = conn(&source()).await;
    c.exec_drop(
        "DELETE FROM dts_meta.dts_heartbeat WHERE task_id = ?",
        (id_on.as_str(),),
    )
    .await
    .unwrap();
    cleanup(&db_on).await;
    cleanup(&db_off).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latency_alert_fires_after_n_periods_under_a_rule_changed_at_runtime() {
    let db = unique_name("op_alert");
    prepare(
        &db,
        &["CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_alert");
    let opts = TaskOptions {
        task_id: task_id.clone(),
        batch_max_rows: 50,
        // Short rounds, so latency is published while the backlog drains.
        batch_max_transactions: 2,
        // Slow apply: a backlog makes latency grow.
        incremental_throttle: rows(200),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 2, opts).await;
    let hook = Arc::new(RecordingHook::default());
    let lax = LatencyRule {
        threshold: Duration::from_secs(3600),
        period: Duration::from_millis(200),
        periods: 3,
    };
    let task = task.with_alerts(hook.clone(), true, Some(lax));
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    let mut c = conn(&source()).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    for _ in 0..100 {
        c.query_drop("INSERT INTO t (v) SELECT seq FROM seq_1_to_50")
            .await
            .unwrap();
    }
    wait_for(
        "latency over a second",
        Duration::from_secs(20),
        &handle,
        || async { handle.progress().incremental.latency_ms >= 1_500 },
    )
    .await;
    // Deliberately lets time pass, not a synchronization: no alert may fire under the lax rule for
    // 1 s.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        hook.fired().is_empty(),
        "under the lax rule: {:?}",
        hook.fired()
    );

    let strict = LatencyRule {
        threshold: Duration::from_secs(1),
        period: Duration::from_millis(200),
        periods: 3,
    };
    handle.set_latency_rule(Some(strict));
    assert_eq!(handle.latency_rule(), Some(strict));
    let changed = Instant::now();
    wait_for(
        "a latency alert",
        Duration::from_secs(10),
        &handle,
        || async { !hook.fired().is_empty() },
    )
    .await;
    let took = changed.elapsed();
    let fired = hook.fired();
    match &fired[..] {
        [Alert::LatencyHigh {
            task_id: id,
            latency_ms,
            threshold_ms,
            periods,
        }] => {
            assert_eq!(id, &task_id);
            assert!(*latency_ms >= 1_000, "{fired:?}");
            assert_eq!(*threshold_ms, 1_000);
            assert_eq!(*periods, 3);
        }
        other => panic!("one latency alert expected: {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(550),
        "three periods of 200 ms under the new rule: {took:?}"
    );
    // Turning the rule off: no more alerts while latency stays high.
    handle.set_latency_rule(None);
    // Deliberately lets time pass, not a synchronization: no alert may fire for 1 s.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hook.fired().len(), 1);
    handle.set_incremental_throttle(ThrottleSettings::default());
    wait_identical(&handle, &db, "t", COLS).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_eq!(hook.fired().len(), 1, "no failure alert for a stop");
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pause_resume_stop_and_restart_from_the_checkpoint() {
    let db = unique_name("op_life");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_20000",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_life");
    let opts = TaskOptions {
        task_id: task_id.clone(),
        chunk_rows: 200,
        full_throttle: rows(4_000),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts.clone()).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let key = format!("{db}.t");
    let done = |h: &TaskHandle| h.progress().tables.get(&key).map_or(0, |t| t.rows_done);
    wait_for(
        "some rows copied",
        Duration::from_secs(30),
        &handle,
        || async { done(&handle) >= 2_000 },
    )
    .await;

    // Pause in full sync: the copy holds at a chunk boundary.
    handle.pause();
    wait_for("the pause", Duration::from_secs(5), &handle, || async {
        handle.status().stage(Stage::FullDataSync).status == StageStatus::Paused
    })
    .await;
    let held = done(&handle);
    // Deliberately lets time pass, not a synchronization: no chunk may be recorded while paused for
    // 1.5 s.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(done(&handle), held, "no chunk recorded while paused");
    handle.resume();
    wait_for(
        "the copy to go on",
        Duration::from_secs(5),
        &handle,
        || async { done(&handle) > held },
    )
    .await;
    assert_eq!(
        handle.status().stage(Stage::FullDataSync).status,
        StageStatus::Running
    );

    // Stop in the middle of the copy, then a new task restarts from the checkpoint.
    handle.stop();
    runner.await.unwrap().unwrap();
    let stopped_at = done(&handle);
    assert!(
        stopped_at < 20_000,
        "stopped during the copy ({stopped_at})"
    );
    let unthrottled = TaskOptions {
        full_throttle: ThrottleSettings::default(),
        ..opts
    };
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, unthrottled).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    assert_eq!(
        done(&handle),
        20_000,
        "the restart resumed at the chunk: no row copied twice"
    );

    // Pause in incremental write: changes wait until resumed.
    handle.pause();
    wait_for("the pause", Duration::from_secs(5), &handle, || async {
        handle.status().stage(Stage::IncrementalWrite).status == StageStatus::Paused
    })
    .await;
    let mut c = conn(&source()).await;
    exec_all(
        &mut c,
        &[&format!("UPDATE `{db}`.t SET v = 0 WHERE id <= 10")],
    )
    .await;
    // Deliberately lets time pass, not a synchronization: nothing may be applied while paused for
    // 1.5 s.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut d = conn(&dest()).await;
    let zeros: Option<u64> = d
        .query_first(format!("SELECT COUNT(*) FROM `{db}`.t WHERE v = 0"))
        .await
        .unwrap();
    assert_eq!(zeros, Some(0), "nothing applied while paused");
    handle.resume();
    wait_identical(&handle, &db, "t", COLS).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}
