//! Foreign-key cascades through a whole MySQL → "ADB" task (the test environment's MariaDB
//! destination in `mariadb_compat` mode; no ADB server was available): the child rows the
//! source's InnoDB deletes or updates by `ON DELETE CASCADE`, `ON DELETE SET NULL` and
//! `ON UPDATE CASCADE` — not in the binlog — are applied at the destination as predicate
//! statements, three levels deep, in order with the buffered row writes around them.

use dts_adb::{AdbOptions, AdbSink};
use dts_core::{DatabaseFilter, FileCheckpointStore, Sink, Source, Task, TaskOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::Duration;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `eval \"$(scripts/test-env.sh env)\"` after `scripts/test-env.sh up`")
    })
}

async fn exec(url: &str, statements: &[&str]) {
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

async fn count(url: &str, sql: &str) -> i64 {
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    c.query_first(sql).await.unwrap().unwrap()
}

/// `(id, fk)` pairs of a table, sorted.
async fn pairs(url: &str, sql: &str) -> Vec<(i64, Option<i64>)> {
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    c.query(sql).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cascades_reach_the_destination_three_levels_deep() {
    let (src, dst) = (var("DTS_TEST_SOURCE_URL"), var("DTS_TEST_DEST_URL"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let db = format!("ab_fk_{}_{}", std::process::id(), nanos % 100_000);
    exec(
        &src,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE p (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY (code))",
            "CREATE TABLE c (id INT PRIMARY KEY, p_id INT, \
             CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE)",
            "CREATE TABLE g (id INT PRIMARY KEY, c_id INT NULL, \
             CONSTRAINT fk_g_c FOREIGN KEY (c_id) REFERENCES c (id) ON DELETE CASCADE)",
            "CREATE TABLE h (id INT PRIMARY KEY, g_id INT NULL, \
             CONSTRAINT fk_h_g FOREIGN KEY (g_id) REFERENCES g (id) ON DELETE SET NULL)",
            "CREATE TABLE u (id INT PRIMARY KEY, code INT NULL, \
             CONSTRAINT fk_u_p FOREIGN KEY (code) REFERENCES p (code) ON UPDATE CASCADE ON DELETE SET NULL)",
            "INSERT INTO p SELECT seq, seq * 10 FROM seq_1_to_10",
            "INSERT INTO c SELECT seq, (seq - 1) DIV 10 + 1 FROM seq_1_to_100",
            "INSERT INTO g SELECT seq, (seq - 1) DIV 2 + 1 FROM seq_1_to_200",
            "INSERT INTO h SELECT seq, seq FROM seq_1_to_200",
            "INSERT INTO u SELECT seq, ((seq - 1) DIV 10 + 1) * 10 FROM seq_1_to_100",
        ],
    )
    .await;
    exec(&dst, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    let source = Arc::new(
        MysqlSource::connect(
            MysqlEndpoint::from_url("source", &src).unwrap(),
            SourceOptions {
                scope: Scope {
                    databases: vec![db.clone()],
                },
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let task_id = format!("{db}-task");
    let mut o = AdbOptions::new(&dst, &task_id);
    o.mariadb_compat = true;
    // Buffered writes outlive `apply` calls: derived changes must flush them first.
    o.flush_interval = Duration::from_millis(200);
    let sink = Arc::new(AdbSink::new(o).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.clone()])),
        Arc::new(FileCheckpointStore::new(dir.path().join("state.json"))),
        TaskOptions {
            task_id,
            // ADB holds no foreign keys: the precheck says so per table.
            acknowledged_warnings: vec![dts_adb::dropped::DROPPED_DEFINITIONS.into()],
            ..Default::default()
        },
    );
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    exec(
        &src,
        &[
            &format!("USE `{db}`"),
            // A buffered write of a child row, then its parent's delete takes it.
            "INSERT INTO c VALUES (500, 3)",
            "DELETE FROM p WHERE id IN (1, 3)",
            "UPDATE p SET code = code + 1 WHERE id IN (5, 6)",
            "DELETE FROM c WHERE id = 100",
        ],
    )
    .await;
    let target = source.current_position().await.unwrap();
    // Reading the checkpoint writes whatever is buffered first.
    dts_testkit::wait_checkpoint(&handle, &*sink, &target, Duration::from_secs(60)).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    for (t, fk) in [("c", "p_id"), ("g", "c_id"), ("h", "g_id"), ("u", "code")] {
        let sql = format!("SELECT id, {fk} FROM `{db}`.`{t}` ORDER BY id");
        assert_eq!(
            pairs(&src, &sql).await,
            pairs(&dst, &sql).await,
            "table {t}"
        );
    }
    // p 1 and 3 took c 1-10, 21-30 and 500, g 1-20 and 41-60; c 100 took g 199-200.
    assert_eq!(
        count(&dst, &format!("SELECT COUNT(*) FROM `{db}`.c")).await,
        79
    );
    assert_eq!(
        count(
            &dst,
            &format!("SELECT COUNT(*) FROM `{db}`.h WHERE g_id IS NULL")
        )
        .await,
        42
    );
    assert_eq!(
        count(
            &dst,
            &format!("SELECT COUNT(*) FROM `{db}`.u WHERE code IN (51, 61)")
        )
        .await,
        20
    );
    sink.flush().await.unwrap();
    for url in [&src, &dst] {
        exec(url, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}
