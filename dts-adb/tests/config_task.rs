//! A whole MySQL → "ADB" task built from `examples/tasks/mysql_to_adb.toml` (database names
//! changed to this file's `ab_cfg_` ones, servers from the test environment) through
//! the core task builder with the MySQL source and ADB sink factories, as the `dts` program
//! composes it. The destination is the
//! test environment's MariaDB (`DTS_TEST_DEST_URL`) in `mariadb_compat` mode; no ADB server was
//! available.
//!
//! Proves, end to end: three sharded source tables with overlapping keys, written concurrently
//! on the source during incremental sync, merge into one destination table and are identical
//! per shard (by `__dts_data_source`); table-level DML selection (customers' deletes are not
//! synchronized) and instance-level DDL selection (CREATE INDEX is not synchronized) are
//! honoured; writes are flushed in batches; schema-changing DDL on a merged shard stops the
//! task with an error naming the statement.

mod build_support;

use dts_core::config::TaskConfig;
use dts_core::Sink;
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};

/// Database names and task id of one test.
#[derive(Clone, Copy)]
struct Names {
    src: &'static str,
    dst: &'static str,
    task: &'static str,
}

const MERGE: Names = Names {
    src: "ab_cfg_shop",
    dst: "ab_cfg_dw",
    task: "ab-cfg-task",
};

const REPLAY: Names = Names {
    src: "ab_cfg2_shop",
    dst: "ab_cfg2_dw",
    task: "ab-cfg2-task",
};

use dts_testkit::env::var as env;

use dts_testkit::env::host_port;

/// The example task for `names`, with `batch_rows` and `flush_interval_ms` replaced.
fn config(names: Names, batch_rows: u32, flush_interval_ms: u64) -> TaskConfig {
    let Names {
        src: src_db,
        dst: dst_db,
        task: task_id,
    } = names;
    let (sh, sp) = host_port(&env("DTS_TEST_SOURCE_URL"));
    let (dh, dp) = host_port(&env("DTS_TEST_DEST_URL"));
    let example = include_str!("../../examples/tasks/mysql_to_adb.toml");
    let mut text = example.to_string();
    for (from, to) in [
        ("ab_shop", src_db.to_string()),
        ("ab_dw", dst_db.to_string()),
        ("id = \"ab-shop-to-adb\"", format!("id = \"{task_id}\"")),
        (
            "host = \"127.0.0.1\"\nport = 33061",
            format!("host = \"{sh}\"\nport = {sp}"),
        ),
        (
            "host = \"127.0.0.1\"\nport = 33062",
            format!("host = \"{dh}\"\nport = {dp}"),
        ),
        ("batch_rows = 2000", format!("batch_rows = {batch_rows}")),
        (
            "flush_interval_ms = 1000",
            format!("flush_interval_ms = {flush_interval_ms}"),
        ),
    ] {
        assert!(
            text.contains(from),
            "the example task no longer has `{from}`"
        );
        text = text.replace(from, &to);
    }
    TaskConfig::from_toml_str(&text).unwrap()
}

async fn conn(url: &str) -> mysql_async::Conn {
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    c.query_drop("SET time_zone = '+00:00'").await.unwrap();
    c
}

/// Fresh source tables with overlapping keys, no destination database, no checkpoint row.
async fn setup(names: Names) {
    let Names {
        src: src_db,
        dst: dst_db,
        task: task_id,
    } = names;
    let mut s = conn(&env("DTS_TEST_SOURCE_URL")).await;
    s.query_drop(format!("DROP DATABASE IF EXISTS `{src_db}`"))
        .await
        .unwrap();
    s.query_drop(format!("CREATE DATABASE `{src_db}`"))
        .await
        .unwrap();
    s.query_drop(format!(
        "CREATE TABLE `{src_db}`.orders_0 (id INT PRIMARY KEY, created DATE NOT NULL, \
         amount DECIMAL(10,2))"
    ))
    .await
    .unwrap();
    for n in 0..3 {
        if n > 0 {
            s.query_drop(format!(
                "CREATE TABLE `{src_db}`.orders_{n} LIKE `{src_db}`.orders_0"
            ))
            .await
            .unwrap();
        }
        let values: Vec<String> = (1..=30)
            .map(|id| {
                format!(
                    "({id}, '2026-01-{:02}', {}.{:02})",
                    id % 28 + 1,
                    n * 1000 + id,
                    n
                )
            })
            .collect();
        s.query_drop(format!(
            "INSERT INTO `{src_db}`.orders_{n} VALUES {}",
            values.join(", ")
        ))
        .await
        .unwrap();
    }
    s.query_drop(format!(
        "CREATE TABLE `{src_db}`.customers (id INT PRIMARY KEY, name VARCHAR(64))"
    ))
    .await
    .unwrap();
    let values: Vec<String> = (1..=10).map(|id| format!("({id}, 'c{id}')")).collect();
    s.query_drop(format!(
        "INSERT INTO `{src_db}`.customers VALUES {}",
        values.join(", ")
    ))
    .await
    .unwrap();
    let mut d = conn(&env("DTS_TEST_DEST_URL")).await;
    d.query_drop(format!("DROP DATABASE IF EXISTS `{dst_db}`"))
        .await
        .unwrap();
    // The checkpoint table may not exist yet.
    let _ = d
        .exec_drop(
            "DELETE FROM dts_meta.dts_adb_checkpoint WHERE task_id = ?",
            (task_id,),
        )
        .await;
}

/// Concurrent writes to one shard: inserts of new keys, updates and deletes of existing
/// ones, some in multi-statement transactions. Keys overlap with the other shards'.
async fn write_shard(names: Names, n: u32, steps: u32) {
    let src_db = names.src;
    let mut c = conn(&env("DTS_TEST_SOURCE_URL")).await;
    let mut seed = 12_345u64 + u64::from(n) * 7_919;
    let mut next_id = 31;
    let mut rand = move |m: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % m
    };
    for step in 0..steps {
        let table = format!("`{src_db}`.orders_{n}");
        let mut statements = Vec::new();
        for _ in 0..if step % 10 == 0 { 3 } else { 1 } {
            statements.push(match rand(3) {
                0 => {
                    next_id += 1;
                    format!(
                        "INSERT INTO {table} VALUES ({next_id}, '2026-02-{:02}', {step}.5)",
                        next_id % 28 + 1
                    )
                }
                1 => format!(
                    "UPDATE {table} SET amount = amount + {step}, created = '2026-03-01' \
                     WHERE id = {}",
                    rand(next_id) + 1
                ),
                _ => format!("DELETE FROM {table} WHERE id = {}", rand(next_id) + 1),
            });
        }
        if statements.len() > 1 {
            c.query_drop("BEGIN").await.unwrap();
            for s in &statements {
                c.query_drop(s).await.unwrap();
            }
            c.query_drop("COMMIT").await.unwrap();
        } else {
            c.query_drop(&statements[0]).await.unwrap();
        }
        if step % 20 == 0 {
            // Pacing of the workload, not a synchronization.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

/// Customers: inserts, updates, deletes (not synchronized: `dml = ["insert", "update"]`) and a
/// CREATE INDEX (not synchronized: not in the instance-level `ddl` list).
async fn write_customers(names: Names) {
    let src_db = names.src;
    let mut c = conn(&env("DTS_TEST_SOURCE_URL")).await;
    let t = format!("`{src_db}`.customers");
    for id in 11..=15 {
        c.query_drop(format!("INSERT INTO {t} VALUES ({id}, 'c{id}')"))
            .await
            .unwrap();
    }
    c.query_drop(format!("CREATE INDEX ix_name ON {t} (name)"))
        .await
        .unwrap();
    for id in 4..=6 {
        c.query_drop(format!(
            "UPDATE {t} SET name = 'renamed {id}' WHERE id = {id}"
        ))
        .await
        .unwrap();
    }
    c.query_drop(format!("DELETE FROM {t} WHERE id <= 3"))
        .await
        .unwrap();
}

type OrderRow = (i64, String, String);

async fn source_orders(c: &mut mysql_async::Conn, names: Names, n: u32) -> Vec<OrderRow> {
    let src_db = names.src;
    c.query(format!(
        "SELECT id, CAST(created AS CHAR), CAST(amount AS CHAR) FROM `{src_db}`.orders_{n} \
         ORDER BY id"
    ))
    .await
    .unwrap()
}

async fn dest_orders(c: &mut mysql_async::Conn, names: Names, n: u32) -> Vec<OrderRow> {
    let Names {
        src: src_db,
        dst: dst_db,
        task: task_id,
    } = names;
    c.exec(
        format!(
            "SELECT id, CAST(created AS CHAR), CAST(amount AS CHAR) FROM `{dst_db}`.orders \
             WHERE __dts_data_source = ? ORDER BY id"
        ),
        (format!("{task_id}:{src_db}:{src_db}:orders_{n}"),),
    )
    .await
    .unwrap_or_default()
}

async fn customers(c: &mut mysql_async::Conn, db: &str) -> Vec<(i64, String)> {
    c.query(format!("SELECT id, name FROM `{db}`.customers ORDER BY id"))
        .await
        .unwrap_or_default()
}

/// A task over `state` started from `config`, once incremental write runs.
async fn start(
    config: &TaskConfig,
    state: &std::path::Path,
) -> (
    std::sync::Arc<dts_adb::AdbSink>,
    dts_core::TaskHandle,
    tokio::task::JoinHandle<dts_core::Result<()>>,
) {
    let built = build_support::build_adb_task(config, state)
        .await
        .unwrap_or_else(|e| panic!("the task does not build: {e}"));
    let sink = built.sink.clone();
    let task = built.task;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(120)).await;
    (sink, handle, runner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_task_merges_three_shards_under_concurrent_writes() {
    let names = MERGE;
    let Names {
        src: src_db,
        dst: dst_db,
        task: task_id,
    } = names;
    setup(names).await;
    let state = tempfile::tempdir().unwrap();
    // Small batches and a short interval, so both flush triggers can fire in a short test.
    let (sink, handle, runner) = start(&config(names, 50, 200), state.path()).await;

    // Concurrent writers on the three shards and on customers.
    let writers: Vec<_> = (0..3)
        .map(|n| tokio::spawn(write_shard(names, n, 120)))
        .chain([tokio::spawn(write_customers(names))])
        .collect();
    for w in writers {
        w.await.unwrap();
    }

    let mut src = conn(&env("DTS_TEST_SOURCE_URL")).await;
    let dst = conn(&env("DTS_TEST_DEST_URL")).await;
    let mut expected = Vec::new();
    for n in 0..3 {
        expected.push(source_orders(&mut src, names, n).await);
    }
    // Deletes of customers are not synchronized: ids 1..=3 stay with their first names.
    let mut expected_customers = customers(&mut src, src_db).await;
    expected_customers.extend((1..=3).map(|id| (id, format!("c{id}"))));
    expected_customers.sort();
    // Identical per shard once the buffered changes are flushed (by size or by time: nothing
    // here forces a flush).
    let shared = tokio::sync::Mutex::new(dst);
    dts_testkit::wait_for(
        &handle,
        Duration::from_secs(90),
        &format!(
            "the destination matching the source: shard sizes {:?}, customers \
             {expected_customers:?}",
            expected.iter().map(Vec::len).collect::<Vec<_>>()
        ),
        || async {
            let mut dst = shared.lock().await;
            let mut actual = Vec::new();
            for n in 0..3 {
                actual.push(dest_orders(&mut dst, names, n).await);
            }
            let c = customers(&mut dst, dst_db).await;
            if actual == expected && c == expected_customers {
                Ok(())
            } else {
                Err(format!(
                    "shard sizes {:?}, customers {c:?}",
                    actual.iter().map(Vec::len).collect::<Vec<_>>()
                ))
            }
        },
    )
    .await;
    let mut dst = shared.into_inner();
    // Keys overlap across shards, and nothing else is in the merged table.
    let shared = expected[0]
        .iter()
        .filter(|r| {
            expected[1..]
                .iter()
                .all(|rows| rows.iter().any(|o| o.0 == r.0))
        })
        .count();
    assert!(shared > 0, "no key is in every shard");
    let total: Option<u64> = dst
        .query_first(format!("SELECT COUNT(*) FROM `{dst_db}`.orders"))
        .await
        .unwrap();
    assert_eq!(total, Some(expected.iter().map(|e| e.len() as u64).sum()));
    // CREATE INDEX was not synchronized.
    let indexes: Option<u64> = dst
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.statistics \
             WHERE table_schema = '{dst_db}' AND table_name = 'customers' \
             AND index_name = 'ix_name'"
        ))
        .await
        .unwrap();
    assert_eq!(indexes, Some(0));
    let stats = sink.stats();
    println!("sink counters after convergence: {stats:?}");
    assert!(
        stats.rows_upserted > 0 && stats.rows_deleted > 0,
        "{stats:?}"
    );
    assert!(
        stats.commits_by_time + stats.commits_by_size > 0,
        "incremental writes were flushed by size or time: {stats:?}"
    );
    let stored: Option<u64> = dst
        .exec_first(
            "SELECT `offset` FROM dts_meta.dts_adb_checkpoint WHERE task_id = ?",
            (task_id,),
        )
        .await
        .unwrap();
    assert!(stored.is_some_and(|o| o > 0), "{stored:?}");

    // Schema-changing DDL on a merged shard stops the task, naming the statement; the merged
    // table keeps its schema.
    src.query_drop(format!(
        "ALTER TABLE `{src_db}`.orders_1 ADD COLUMN note INT"
    ))
    .await
    .unwrap();
    dts_testkit::eventually(Duration::from_secs(60), "the task stopped", || async {
        if runner.is_finished() {
            Ok(())
        } else {
            Err(handle.progress())
        }
    })
    .await;
    let err = runner.await.unwrap().unwrap_err().to_string();
    assert!(
        err.contains("merged tables") && err.contains("ADD COLUMN note INT"),
        "{err}"
    );
    let note: Option<u64> = dst
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '{dst_db}' \
             AND table_name = 'orders' AND column_name = 'note'"
        ))
        .await
        .unwrap();
    assert_eq!(note, Some(0));
    sink.flush().await.unwrap();

    src.query_drop(format!("DROP DATABASE IF EXISTS `{src_db}`"))
        .await
        .unwrap();
    dst.query_drop(format!("DROP DATABASE IF EXISTS `{dst_db}`"))
        .await
        .unwrap();
}

/// The shards as the destination holds them.
async fn dest_shards(c: &mut mysql_async::Conn, names: Names) -> Vec<Vec<OrderRow>> {
    let mut shards = Vec::new();
    for n in 0..3 {
        shards.push(dest_orders(c, names, n).await);
    }
    shards
}

/// At-least-once across a stop that loses the buffers: changes buffered but not flushed (an
/// hour-long interval, huge batches) are not in the destination and their checkpoint is not
/// stored; the task stops without flushing (as a killed process would), and a new task over
/// the same state replays them from the stored checkpoint and converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_task_replays_changes_lost_from_the_buffers() {
    let names = REPLAY;
    setup(names).await;
    let state = tempfile::tempdir().unwrap();
    let (sink, handle, runner) = start(&config(names, 100_000, 3_600_000), state.path()).await;
    let mut src = conn(&env("DTS_TEST_SOURCE_URL")).await;
    let mut dst = conn(&env("DTS_TEST_DEST_URL")).await;
    let after_full_sync = dest_shards(&mut dst, names).await;
    assert!(
        after_full_sync.iter().all(|s| s.len() == 30),
        "{after_full_sync:?}"
    );
    for n in 0..3 {
        write_shard(names, n, 40).await;
    }
    let mut expected = Vec::new();
    for n in 0..3 {
        expected.push(source_orders(&mut src, names, n).await);
    }
    assert_ne!(expected, after_full_sync, "the writes changed nothing");
    // Wait until the task has handed changes to the sink (buffered: `apply` returned) and
    // has been quiet for a second.
    let mut last = (0, Instant::now());
    dts_testkit::eventually(
        Duration::from_secs(60),
        "changes applied, then a quiet second",
        || {
            let applied = handle.progress().incremental.rows_applied;
            let quiet = if applied != last.0 {
                last = (applied, Instant::now());
                false
            } else {
                applied > 0 && last.1.elapsed() >= Duration::from_secs(1)
            };
            async move {
                if quiet {
                    Ok(())
                } else {
                    Err(format!("{applied} rows applied"))
                }
            }
        },
    )
    .await;
    assert_eq!(
        dest_shards(&mut dst, names).await,
        after_full_sync,
        "buffered changes were written before a flush"
    );
    let s = sink.stats();
    assert_eq!(
        (s.commits_by_size, s.commits_by_time),
        (0, 0),
        "nothing flushed: {s:?}"
    );
    handle.stop();
    runner.await.unwrap().unwrap();
    drop(sink); // Lost with its buffers, never flushed.
    assert_eq!(dest_shards(&mut dst, names).await, after_full_sync);

    // The restarted task replays from the stored checkpoint and converges.
    let (sink, handle, runner) = start(&config(names, 50, 200), state.path()).await;
    let shared = tokio::sync::Mutex::new(dst);
    dts_testkit::wait_for(
        &handle,
        Duration::from_secs(90),
        &format!("the replay converging to {expected:?}"),
        || async {
            let actual = dest_shards(&mut *shared.lock().await, names).await;
            if actual == expected {
                Ok(())
            } else {
                Err(actual)
            }
        },
    )
    .await;
    let mut dst = shared.into_inner();
    handle.stop();
    runner.await.unwrap().unwrap();
    sink.flush().await.unwrap();
    src.query_drop(format!("DROP DATABASE IF EXISTS `{}`", names.src))
        .await
        .unwrap();
    dst.query_drop(format!("DROP DATABASE IF EXISTS `{}`", names.dst))
        .await
        .unwrap();
}
