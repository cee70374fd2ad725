//! The guide's "Retry Time for Other Issues" on the real servers: a DDL or DML execution error
//! at the destination is retried within `other_retry`; put right inside the window, the task
//! resumes by itself and loses nothing; left in place, the task fails after the window naming
//! the object and the error. Databases are prefixed `tdef_`.

mod common;
mod ops_support;

use common::*;
use dts_core::{Alert, Stage, StageStatus, TaskOptions};
use ops_support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const COLS: &str = "id, v";

fn options(task_id: &str, other_retry: Duration) -> TaskOptions {
    TaskOptions {
        task_id: task_id.to_string(),
        chunk_rows: 500,
        other_retry,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn write_error_put_right_inside_the_window_recovers_and_loses_nothing() {
    let db = unique_name("tdef_retry_ok");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_10",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("tdef_retry_ok");
    let (task, _, _) = build(
        &db,
        source(),
        dest(),
        dir.path(),
        4,
        options(&task_id, Duration::from_secs(120)),
    )
    .await;
    let hook = Arc::new(RecordingHook::default());
    let task = task.with_alerts(hook.clone(), true, None);
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;

    // The destination table goes away (as if dropped): every write to it fails.
    let mut d = conn(&dest()).await;
    exec_all(
        &mut d,
        &[&format!("RENAME TABLE `{db}`.t TO `{db}`.t_parked")],
    )
    .await;
    let mut s = conn(&source()).await;
    exec_all(
        &mut s,
        &[
            &format!("USE `{db}`"),
            "INSERT INTO t SELECT seq, seq FROM seq_11_to_30",
            &format!("UPDATE `{db}`.t SET v = v * 10 WHERE id <= 5"),
            &format!("DELETE FROM `{db}`.t WHERE id IN (7, 8)"),
        ],
    )
    .await;
    // The task retries (it does not fail) and says what, why and for how long.
    wait_for(
        "the write error to be retried",
        Duration::from_secs(30),
        &handle,
        || async {
            handle.progress().retry.is_some_and(|r| {
                r.class == "other"
                    && r.error.contains("doesn't exist")
                    && r.error.contains(&db)
                    && r.time_left_ms > 0
                    && r.time_left_ms <= 120_000
            })
        },
    )
    .await;
    let p = handle.progress();
    let shown = p.retrying.clone().unwrap_or_default();
    assert!(
        shown.contains("incremental") && shown.contains("left of the 2 min retry window"),
        "{shown}"
    );
    let fired = hook.fired();
    assert!(
        fired.iter().any(
            |a| matches!(a, Alert::Retrying { class, error, window_ms, .. }
            if class == "other" && error.contains(&db) && *window_ms == 120_000)
        ),
        "a retry alert: {fired:?}"
    );

    // Put right: the task resumes by itself.
    exec_all(
        &mut d,
        &[&format!("RENAME TABLE `{db}`.t_parked TO `{db}`.t")],
    )
    .await;
    wait_identical(&handle, &db, "t", COLS).await;
    wait_for(
        "the retry to be cleared",
        Duration::from_secs(30),
        &handle,
        || async { handle.progress().retry.is_none() },
    )
    .await;
    let p = handle.progress();
    assert!(p.retry_time_ms > 0, "{p:?}");
    assert!(handle.status().failure().is_none());
    assert!(
        !hook
            .fired()
            .iter()
            .any(|a| matches!(a, Alert::TaskFailed { .. })),
        "{:?}",
        hook.fired()
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn write_error_left_in_place_fails_after_the_window_naming_object_and_error() {
    let db = unique_name("tdef_retry_fail");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_10",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("tdef_retry_fail");
    let window = Duration::from_secs(3);
    let (task, _, _) = build(
        &db,
        source(),
        dest(),
        dir.path(),
        4,
        options(&task_id, window),
    )
    .await;
    let hook = Arc::new(RecordingHook::default());
    let task = task.with_alerts(hook.clone(), true, None);
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    // The destination table loses a column the task writes, and nobody puts it back.
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("ALTER TABLE `{db}`.t DROP COLUMN v")]).await;
    let mut s = conn(&source()).await;
    let started = Instant::now();
    exec_all(&mut s, &[&format!("INSERT INTO `{db}`.t VALUES (11, 11)")]).await;
    let err = tokio::time::timeout(Duration::from_secs(60), runner)
        .await
        .expect("the task gives up after its window")
        .unwrap()
        .expect_err("the task fails");
    let took = started.elapsed();
    let text = err.to_string();
    assert!(took >= window, "retried for the window first: {took:?}");
    assert!(
        text.contains(&db) && text.contains(".t"),
        "names the table: {text}"
    );
    assert!(text.contains("Unknown column"), "names the error: {text}");
    assert!(
        text.contains("still failing after the retry window for other issues (3.0 s)"),
        "{text}"
    );
    eprintln!("failed after {took:?}: {text}");
    let (stage, reason) = handle
        .status()
        .failure()
        .map(|(s, r)| (s, r.to_string()))
        .unwrap();
    assert_eq!(stage, Stage::IncrementalWrite);
    assert_eq!(reason, text);
    let fired = hook.fired();
    assert!(
        matches!(&fired[..], [Alert::Retrying { .. }, Alert::TaskFailed { reason, .. }] if reason == &text),
        "a retry alert, then one failure alert: {fired:?}"
    );
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_sync_write_error_is_retried_until_the_destination_is_put_right() {
    let db = unique_name("tdef_retry_full");
    prepare(
        &db,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO t SELECT seq, seq FROM seq_1_to_100",
        ],
    )
    .await;
    // Without schema sync the task writes into the destination's own table, which lacks `v`.
    let mut d = conn(&dest()).await;
    exec_all(
        &mut d,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY)"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("tdef_retry_full");
    let mut opts = options(&task_id, Duration::from_secs(120));
    opts.schema_sync = false;
    let (task, _, _) = build(&db, source(), dest(), dir.path(), 4, opts).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    wait_for(
        "the full copy's write error to be retried",
        Duration::from_secs(30),
        &handle,
        || async {
            handle.progress().retry.is_some_and(|r| {
                r.operation.contains("full sync")
                    && r.class == "other"
                    && r.error.contains("Unknown column")
            })
        },
    )
    .await;
    assert_eq!(
        handle.status().stage(Stage::FullDataSync).status,
        StageStatus::Running
    );
    exec_all(
        &mut d,
        &[&format!("ALTER TABLE `{db}`.t ADD COLUMN v INT NOT NULL")],
    )
    .await;
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    wait_identical(&handle, &db, "t", COLS).await;
    assert!(handle.progress().retry_time_ms > 0);
    handle.stop();
    runner.await.unwrap().unwrap();
    cleanup(&db).await;
}
