//! Fault tests of the retry windows on the real servers. The servers are shared with other
//! tests, so an outage is simulated by a TCP relay between the task and the server that the
//! test cuts and restores (`ops_support::Relay`); databases are prefixed `op_`.

mod common;
mod ops_support;

use common::*;
use dts_core::{Alert, Stage, StageStatus, TaskOptions, ThrottleSettings};
use mysql_async::prelude::Queryable;
use ops_support::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COLS: &str = "id, v";

/// Serializes the tests that stop and start the spare `peer` server.
static PEER_RESTARTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Shuts the `peer` server down (as an operator would).
fn stop_peer() {
    let port = std::env::var("DTS_TEST_PEER_URL")
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let down = std::process::Command::new("mariadb-admin")
        .args(["--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-uroot"])
        .arg(format!("-P{port}"))
        .arg("shutdown")
        .status()
        .unwrap();
    assert!(down.success(), "peer shut down");
}

/// Fails the test if the task fails at any moment during `how_long`.
async fn stays_up_for(handle: &dts_core::TaskHandle, how_long: Duration) {
    let since = Instant::now();
    while since.elapsed() < how_long {
        assert!(
            handle.status().failure().is_none(),
            "{:?}",
            handle.status().failure()
        );
        // Deliberately lets time pass, not a synchronization: the task is watched for the whole
        // span.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Drops database `db` on the `peer` server.
async fn drop_on_peer(db: &str) {
    exec_all(
        &mut conn(&peer()).await,
        &[&format!("DROP DATABASE IF EXISTS `{db}`")],
    )
    .await;
}

/// Starts the `peer` server again through the test environment script.
fn start_peer() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let up = std::process::Command::new("bash")
        .arg(root.join("scripts/test-env.sh"))
        .arg("up")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(up.success(), "peer started again");
}

/// Inserts and updates on the source's `db`.`t` until `stop`; returns the statements run.
async fn writer(db: String, stop: Arc<AtomicBool>) -> u64 {
    let mut c = conn(&source()).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        c.query_drop(format!("INSERT INTO t (v) VALUES ({n})"))
            .await
            .unwrap();
        c.query_drop(format!("UPDATE t SET v = v + 1 WHERE id = {}", n % 100 + 1))
            .await
            .unwrap();
        n += 2;
        // Pacing of the workload, not a synchronization.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    n
}

fn options(task_id: &str) -> TaskOptions {
    TaskOptions {
        task_id: task_id.to_string(),
        chunk_rows: 500,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn source_outage_during_incremental_recovers_and_loses_nothing() {
    let db = unique_name("op_srcout");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t (v) SELECT seq FROM seq_1_to_100",
        ],
    )
    .await;
    let relay = Relay::start(&source()).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_srcout");
    let (task, _, _) = build(
        &db,
        relay.endpoint(&source()),
        dest(),
        dir.path(),
        4,
        options(&task_id),
    )
    .await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;

    // Writes continue on the source (directly) through a 20 s outage of the task's source.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = tokio::spawn(writer(db.clone(), stop.clone()));
    // Deliberately lets time pass, not a synchronization: the writes flow before the cut.
    tokio::time::sleep(Duration::from_millis(500)).await;
    relay.cut();
    let cut_at = Instant::now();
    wait_for(
        "the retry to show",
        Duration::from_secs(10),
        &handle,
        || async { handle.progress().retry.is_some() },
    )
    .await;
    let seen = handle.progress().retry.unwrap();
    assert_eq!(seen.class, "connection", "{seen:?}");
    assert_eq!(seen.operation, "incremental write");
    assert!(
        seen.error
            .contains(&format!("source (127.0.0.1:{})", relay.port)),
        "the error names the source endpoint: {seen:?}"
    );
    let mut longest = 0;
    while cut_at.elapsed() < Duration::from_secs(20) {
        if let Some(r) = handle.progress().retry {
            longest = longest.max(r.retrying_for_ms);
        }
        assert!(handle.status().failure().is_none());
        // Deliberately lets time pass, not a synchronization: the outage lasts 20 s, watched as it
        // goes.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        longest >= 10_000,
        "time spent retrying is visible while it lasts ({longest} ms)"
    );
    relay.restore();
    // Deliberately lets time pass, not a synchronization: writes continue after the restore.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let n = writes.await.unwrap();
    assert!(n > 200, "the writer wrote during the outage ({n})");
    wait_identical(&handle, &db, "t", COLS).await;
    wait_for(
        "the retry to clear",
        Duration::from_secs(10),
        &handle,
        || async { handle.progress().retry.is_none() },
    )
    .await;
    let p = handle.progress();
    assert!(p.retry_time_ms >= 19_000, "{p:?}");
    assert!(p.last_error.is_some());
    eprintln!(
        "source outage: {n} statements during the test, retried {} ms",
        p.retry_time_ms
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn destination_outage_during_full_sync_resumes_at_the_chunk() {
    let db = unique_name("op_dstout");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq * 7 FROM seq_1_to_30000",
        ],
    )
    .await;
    let relay = Relay::start(&dest()).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_dstout");
    let mut opts = options(&task_id);
    // Slow enough to cut the destination in the middle of the copy.
    opts.full_throttle = ThrottleSettings {
        rows_per_s: Some(5_000),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), relay.endpoint(&dest()), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let key = format!("{db}.t");
    let rows_done = |h: &dts_core::TaskHandle| {
        h.progress()
            .tables
            .get(&key)
            .map(|t| t.rows_done)
            .unwrap_or(0)
    };
    wait_for(
        "some rows copied",
        Duration::from_secs(30),
        &handle,
        || async { rows_done(&handle) >= 5_000 },
    )
    .await;
    relay.cut();
    wait_for(
        "the retry to show",
        Duration::from_secs(10),
        &handle,
        || async { handle.progress().retry.is_some() },
    )
    .await;
    let seen = handle.progress().retry.unwrap();
    assert_eq!(seen.class, "connection", "{seen:?}");
    assert_eq!(seen.operation, format!("full sync of {key}"));
    assert!(
        seen.error
            .contains(&format!("destination (127.0.0.1:{})", relay.port)),
        "the error names the destination endpoint: {seen:?}"
    );
    let during = rows_done(&handle);
    assert!(during < 30_000, "cut in the middle of the copy ({during})");
    // Deliberately lets time pass, not a synchronization: nothing may be copied during 5 s of
    // outage.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        handle.status().stage(Stage::FullDataSync).status,
        StageStatus::Running
    );
    relay.restore();
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    let p = handle.progress();
    // Resumed at the chunk after the last recorded one: nothing copied twice.
    assert_eq!(p.tables[&key].rows_done, 30_000, "{p:?}");
    assert!(p.tables[&key].finished);
    assert!(p.retry.is_none(), "{p:?}");
    assert!(p.retry_time_ms >= 4_000, "{p:?}");
    eprintln!(
        "destination outage: cut at {during} rows, retried {} ms",
        p.retry_time_ms
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deadlock_on_destination_is_retried() {
    let db = unique_name("op_dlock");
    let heavy = format!("{db}_h");
    let create = "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)";
    prepare(
        &db,
        &[create, "INSERT INTO t SELECT seq, seq FROM seq_1_to_20"],
    )
    .await;
    // The destination table exists already (no schema sync): the copy replaces its rows.
    let mut w = conn(&dest()).await;
    exec_all(
        &mut w,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            create,
            &format!("DROP DATABASE IF EXISTS `{heavy}`"),
            &format!("CREATE DATABASE `{heavy}`"),
            &format!("USE `{heavy}`"),
            "CREATE TABLE h (id INT PRIMARY KEY, v INT)",
            "INSERT INTO h SELECT seq, 0 FROM seq_1_to_5000",
            // A writer on the destination: a large transaction (so InnoDB picks the task as
            // the deadlock victim) holding row 10, which the task's chunk (rows 1..20) needs.
            "BEGIN",
            "UPDATE h SET v = v + 1",
            &format!("INSERT INTO `{db}`.t VALUES (10, -1)"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_dlock");
    let mut opts = options(&task_id);
    opts.schema_sync = false;
    opts.other_retry = Duration::from_secs(60);
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 1, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    // The task writes rows 1..9 and waits for row 10.
    let pattern = format!("%{db}%");
    wait_for(
        "the task to wait for the writer's lock",
        Duration::from_secs(30),
        &handle,
        || {
            let pattern = pattern.clone();
            async move {
                let mut probe = conn(&dest()).await;
                let n: Option<u64> = probe
                    .exec_first(
                        "SELECT COUNT(*) FROM information_schema.INNODB_TRX \
                         WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE ?",
                        (pattern,),
                    )
                    .await
                    .unwrap();
                n.unwrap_or(0) > 0
            }
        },
    )
    .await;
    // Now the writer wants a row the task holds: a deadlock.
    w.query_drop(format!("INSERT INTO `{db}`.t VALUES (5, -1)"))
        .await
        .expect("the writer (the larger transaction) is not the deadlock victim");
    exec_all(&mut w, &["COMMIT"]).await;
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    let p = handle.progress();
    let last = p.last_error.clone().unwrap_or_default();
    assert!(
        last.contains("Deadlock") && last.starts_with("transient error on destination"),
        "the deadlock was retried: {p:?}"
    );
    assert!(p.retry.is_none(), "{p:?}");
    assert!(p.retry_time_ms > 0, "{p:?}");
    // Resumed at the failed chunk: every row counted once.
    assert_eq!(p.tables[&format!("{db}.t")].rows_done, 20, "{p:?}");
    eprintln!("deadlock retried: {last}");
    handle.stop();
    runner.await.unwrap().unwrap();
    exec_all(&mut w, &[&format!("DROP DATABASE IF EXISTS `{heavy}`")]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_longer_than_the_window_fails_naming_endpoint_and_window() {
    let db = unique_name("op_window");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_10",
        ],
    )
    .await;
    let relay = Relay::start(&source()).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_window");
    let mut opts = options(&task_id);
    opts.connection_retry = Duration::from_secs(3);
    opts.other_retry = Duration::from_secs(1);
    let (task, _, _) = build(&db, relay.endpoint(&source()), dest(), dir.path(), 4, opts).await;
    let hook = Arc::new(RecordingHook::default());
    let task = task.with_alerts(hook.clone(), true, None);
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    relay.cut();
    let cut_at = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(30), runner)
        .await
        .expect("the task gives up after its window")
        .unwrap()
        .expect_err("the task fails");
    let took = cut_at.elapsed();
    let text = err.to_string();
    let endpoint = format!("source (127.0.0.1:{})", relay.port);
    assert!(text.contains(&endpoint), "{text}");
    assert!(text.contains("connection retry window (3.0 s)"), "{text}");
    assert!(
        took >= Duration::from_secs(3),
        "retried for the window: {took:?}"
    );
    let (stage, reason) = handle
        .status()
        .failure()
        .map(|(s, r)| (s, r.to_string()))
        .unwrap();
    assert_eq!(stage, Stage::IncrementalWrite);
    assert_eq!(reason, text);
    let fired = hook.fired();
    assert!(
        matches!(&fired[..], [Alert::Retrying { class, .. }, Alert::TaskFailed { reason, .. }]
            if class == "connection" && reason == &text),
        "a retry alert, then one failure alert: {fired:?}"
    );
    eprintln!("gave up after {took:?}: {text}");
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outages_during_schema_sync_and_full_sync_are_retried() {
    let db = unique_name("op_stages");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_8000",
            "CREATE TABLE n (x INT, y VARCHAR(20))",
            "INSERT INTO n SELECT seq MOD 50, CONCAT('y', seq) FROM seq_1_to_8000",
        ],
    )
    .await;
    let (src_relay, dst_relay) = (Relay::start(&source()).await, Relay::start(&dest()).await);
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_stages");
    let mut opts = options(&task_id);
    opts.chunk_rows = 200;
    opts.full_throttle = ThrottleSettings {
        rows_per_s: Some(2_000),
        ..Default::default()
    };
    // The key-less table is copied from one consistent snapshot; a failed copy starts over.
    opts.acknowledged_warnings = vec!["source.tables_without_primary_key".into()];
    let (task, _, _) = build(
        &db,
        src_relay.endpoint(&source()),
        dst_relay.endpoint(&dest()),
        dir.path(),
        4,
        opts,
    )
    .await;
    let handle = task.handle();
    // Held at the first schema-sync boundary, so the destination goes away during it.
    handle.pause();
    let runner = tokio::spawn(async move { task.run().await });
    wait_for(
        "the schema sync pause",
        Duration::from_secs(30),
        &handle,
        || async { handle.status().stage(Stage::SchemaSync).status == StageStatus::Paused },
    )
    .await;
    dst_relay.cut();
    handle.resume();
    wait_for(
        "the schema sync retry",
        Duration::from_secs(10),
        &handle,
        || async {
            handle
                .progress()
                .retry
                .is_some_and(|r| r.operation.starts_with("schema sync of"))
        },
    )
    .await;
    let seen = handle.progress().retry.unwrap();
    assert!(
        seen.error
            .contains(&format!("destination (127.0.0.1:{})", dst_relay.port)),
        "{seen:?}"
    );
    // Deliberately lets time pass, not a synchronization: the task must stay up through 2 s of
    // outage.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(handle.status().failure().is_none());
    dst_relay.restore();

    // The source goes away while both tables are being copied.
    let done = |h: &dts_core::TaskHandle, t: &str| {
        h.progress()
            .tables
            .get(&format!("{db}.{t}"))
            .map_or(0, |s| s.rows_done)
    };
    wait_for(
        "the copy under way",
        Duration::from_secs(30),
        &handle,
        || async { done(&handle, "t") >= 1_000 && done(&handle, "n") >= 1_000 },
    )
    .await;
    src_relay.cut();
    wait_for(
        "the full sync retry",
        Duration::from_secs(10),
        &handle,
        || async {
            handle
                .progress()
                .retry
                .is_some_and(|r| r.operation.starts_with("full sync of"))
        },
    )
    .await;
    let seen = handle.progress().retry.unwrap();
    assert!(
        seen.error
            .contains(&format!("source (127.0.0.1:{})", src_relay.port)),
        "{seen:?}"
    );
    // The keyed table reads chunk by chunk through the relay, so it cannot have finished; the
    // key-less one streams from a single query whose rows may already sit in socket buffers.
    assert!(done(&handle, "t") < 8_000, "{:?}", handle.progress());
    // Deliberately lets time pass, not a synchronization: a 3 s outage of the source.
    tokio::time::sleep(Duration::from_secs(3)).await;
    src_relay.restore();
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    wait_identical(&handle, &db, "n", "x, y").await;
    assert_eq!(done(&handle, "t"), 8_000, "{:?}", handle.progress());
    assert_eq!(done(&handle, "n"), 8_000, "{:?}", handle.progress());
    let p = handle.progress();
    assert!(p.retry.is_none() && p.retry_time_ms >= 4_000, "{p:?}");
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

/// The task's source server itself goes away for 20 s — `mariadbd` shut down, then started
/// again by `scripts/test-env.sh up` — during incremental write, with changes before and after:
/// the task recovers on its own and loses nothing. The spare `peer` server is the source, so no
/// other test's server is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn source_server_restart_during_incremental_loses_nothing() {
    let _peer = PEER_RESTARTS.lock().await;
    let _peer_file = peer_file_lock().await;
    let db = unique_name("op_restart");
    let setup = [
        format!("DROP DATABASE IF EXISTS `{db}`"),
        format!("CREATE DATABASE `{db}`"),
        format!("USE `{db}`"),
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)".to_string(),
        "INSERT INTO t (v) SELECT seq FROM seq_1_to_100".to_string(),
    ];
    let setup: Vec<&str> = setup.iter().map(String::as_str).collect();
    exec_all(&mut conn(&peer()).await, &setup).await;
    exec_all(
        &mut conn(&dest()).await,
        &[&format!("DROP DATABASE IF EXISTS `{db}`")],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_restart");
    let (task, _, _) = build(&db, peer(), dest(), dir.path(), 2, options(&task_id)).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    let identical = || async {
        checksum(&peer(), &db, "t", COLS).await == checksum(&dest(), &db, "t", COLS).await
    };
    wait_for("the copy", Duration::from_secs(60), &handle, identical).await;

    let write = |from: u32| {
        let db = db.clone();
        async move {
            let mut c = conn(&peer()).await;
            for i in from..from + 50 {
                c.query_drop(format!("INSERT INTO `{db}`.t (v) VALUES ({i})"))
                    .await
                    .unwrap();
            }
            c.query_drop(format!("UPDATE `{db}`.t SET v = v + 1 WHERE id <= 10"))
                .await
                .unwrap();
        }
    };
    write(1_000).await;
    stop_peer();
    stays_up_for(&handle, Duration::from_secs(20)).await;
    assert!(
        handle.progress().retry.is_some(),
        "the task is retrying while its source is down: {:?}",
        handle.progress()
    );
    start_peer();
    write(2_000).await;
    wait_for(
        "catching up after the restart",
        Duration::from_secs(90),
        &handle,
        identical,
    )
    .await;
    let (rows, _) = checksum(&dest(), &db, "t", COLS).await;
    assert_eq!(rows, 200);
    assert!(
        handle.progress().retry_time_ms >= 19_000,
        "{:?}",
        handle.progress()
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    drop_on_peer(&db).await;
    cleanup(&db).await;
}

/// The destination server goes away for 20 s during full sync (the spare `peer` server as the
/// destination, shut down and started again): the copy resumes and ends identical, no row lost
/// or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn destination_server_restart_during_full_sync_loses_nothing() {
    let _peer = PEER_RESTARTS.lock().await;
    let _peer_file = peer_file_lock().await;
    let db = unique_name("op_dstrestart");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq * 7 FROM seq_1_to_30000",
        ],
    )
    .await;
    drop_on_peer(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("op_dstrestart");
    let mut opts = options(&task_id);
    opts.full_throttle = ThrottleSettings {
        rows_per_s: Some(3_000),
        ..Default::default()
    };
    let (task, _, _) = build(&db, source(), peer(), dir.path(), 2, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let done = |h: &dts_core::TaskHandle| {
        h.progress()
            .tables
            .get(&format!("{db}.t"))
            .map_or(0, |s| s.rows_done)
    };
    wait_for(
        "the copy under way",
        Duration::from_secs(60),
        &handle,
        || async { done(&handle) >= 5_000 },
    )
    .await;
    stop_peer();
    stays_up_for(&handle, Duration::from_secs(20)).await;
    assert!(done(&handle) < 30_000, "{:?}", handle.progress());
    start_peer();
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_for(
        "the copy to match",
        Duration::from_secs(60),
        &handle,
        || async {
            checksum(&source(), &db, "t", COLS).await == checksum(&peer(), &db, "t", COLS).await
        },
    )
    .await;
    let (rows, _) = checksum(&peer(), &db, "t", COLS).await;
    assert_eq!(rows, 30_000);
    assert!(
        handle.progress().retry_time_ms >= 19_000,
        "{:?}",
        handle.progress()
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    drop_on_peer(&db).await;
    cleanup(&db).await;
}
