//! The example's user-defined policy ([`NewestUpdatedAtWins`]) in a real two-way pair (A =
//! test source 33061, B = peer 33063): rows changed on both sides while the tasks are paused
//! converge to the image with the newest `updated_at`, whichever side wrote it.

use dts_core::config::TwoWayRole;
use dts_core::{Stage, StageStatus};
use dts_examples::two_way_policy::NewestUpdatedAtWins;
use dts_mysql::two_way::TwoWayTaskOptions;
use dts_mysql::MysqlEndpoint;
use dts_testkit::wait_stage;
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::Duration;

fn endpoint(label: &str, var: &str) -> MysqlEndpoint {
    MysqlEndpoint::from_url(label, &dts_testkit::env::var(var)).unwrap()
}

async fn run(ep: &MysqlEndpoint, statements: &[String]) {
    let mut c = ep.connect().await.unwrap();
    for s in statements {
        c.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

async fn rows(ep: &MysqlEndpoint, db: &str) -> Vec<(i32, String, String)> {
    let mut c = ep.connect().await.unwrap();
    c.query(format!(
        "SELECT id, note, CAST(updated_at AS CHAR) FROM `{db}`.kv ORDER BY id"
    ))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn newest_updated_at_wins_on_both_sides() {
    let (a, b) = (
        endpoint("A", "DTS_TEST_SOURCE_URL"),
        endpoint("B", "DTS_TEST_PEER_URL"),
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let db = format!("tw_policy_{}_{}", std::process::id(), nanos % 100_000);
    run(&b, &[format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    run(
        &a,
        &[
            format!("DROP DATABASE IF EXISTS `{db}`"),
            format!("CREATE DATABASE `{db}`"),
            format!(
                "CREATE TABLE `{db}`.kv (id INT PRIMARY KEY, note VARCHAR(20), \
                 updated_at TIMESTAMP(6) NOT NULL)"
            ),
            format!("USE `{db}`"),
            format!(
                "INSERT INTO `{db}`.kv SELECT seq, 'seed', '2030-01-01 00:00:00' FROM seq_1_to_5"
            ),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (fid, rid) = (format!("{db}-f"), format!("{db}-r"));
    let options = |id: &str, partner: &str, role| {
        let mut o = TwoWayTaskOptions::new(id, partner, role, [db.clone()], dir.path().join(id));
        o.policy = Arc::new(NewestUpdatedAtWins::default());
        o.delay_period = Duration::from_secs(3600);
        o.task_options.write_heartbeat = false;
        o
    };
    let (fwd, _, _) = options(&fid, &rid, TwoWayRole::Forward)
        .build(a.clone(), b.clone())
        .await
        .unwrap();
    let fh = fwd.handle();
    let fwd_run = tokio::spawn(async move { fwd.run().await });
    wait_stage(
        &fh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;
    let (rev, _, _) = options(&rid, &fid, TwoWayRole::Reverse)
        .build(b.clone(), a.clone())
        .await
        .unwrap();
    let rh = rev.handle();
    let rev_run = tokio::spawn(async move { rev.run().await });
    wait_stage(
        &rh,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_secs(90),
    )
    .await;

    // Both sides change rows 1-3 and insert key 9 while the tasks are paused.
    fh.pause();
    rh.pause();
    wait_stage(
        &fh,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    wait_stage(
        &rh,
        Stage::IncrementalWrite,
        StageStatus::Paused,
        Duration::from_secs(90),
    )
    .await;
    let set = |id: i32, note: &str, second: u32| {
        format!(
            "UPDATE `{db}`.kv SET note = '{note}', updated_at = '2030-01-01 00:00:{second:02}' \
             WHERE id = {id}"
        )
    };
    run(
        &a,
        &[
            set(1, "a-newer", 5),
            set(2, "a-older", 1),
            set(3, "a-newer", 9),
            format!("INSERT INTO `{db}`.kv VALUES (9, 'a-older', '2030-01-01 00:00:01')"),
        ],
    )
    .await;
    run(
        &b,
        &[
            set(1, "b-older", 2),
            set(2, "b-newer", 7),
            set(3, "b-older", 3),
            format!("INSERT INTO `{db}`.kv VALUES (9, 'b-newer', '2030-01-01 00:00:08')"),
        ],
    )
    .await;
    fh.resume();
    rh.resume();
    let expected: Vec<(i32, String, String)> = vec![
        (1, "a-newer".into(), "2030-01-01 00:00:05.000000".into()),
        (2, "b-newer".into(), "2030-01-01 00:00:07.000000".into()),
        (3, "a-newer".into(), "2030-01-01 00:00:09.000000".into()),
        (4, "seed".into(), "2030-01-01 00:00:00.000000".into()),
        (5, "seed".into(), "2030-01-01 00:00:00.000000".into()),
        (9, "b-newer".into(), "2030-01-01 00:00:08.000000".into()),
    ];
    dts_testkit::eventually(Duration::from_secs(60), "both sides converged", || async {
        for h in [&fh, &rh] {
            if let Some((stage, msg)) = h.status().failure() {
                panic!("task failed in {stage}: {msg}");
            }
        }
        let (ra, rb) = (rows(&a, &db).await, rows(&b, &db).await);
        if ra == expected && rb == expected {
            Ok(())
        } else {
            Err(format!("A {ra:?}\nB {rb:?}"))
        }
    })
    .await;
    fh.stop();
    rh.stop();
    fwd_run.await.unwrap().unwrap();
    rev_run.await.unwrap().unwrap();
    for ep in [&a, &b] {
        run(ep, &[format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}
