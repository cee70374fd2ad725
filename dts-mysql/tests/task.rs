//! The one-way MySQL → MySQL task end to end on the real servers: convergence under a
//! concurrent writer, crash safety at every stage, and DDL during incremental write.

mod common;

use common::*;
use dts_core::{
    DatabaseFilter, FileCheckpointStore, Source, Stage, StageStatus, Task, TaskHandle, TaskOptions,
};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn dest() -> MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

async fn build(db: &str, task_id: &str, state: &Path) -> (Task, Arc<MysqlSource>, Arc<MysqlSink>) {
    let source = Arc::new(
        MysqlSource::connect(
            source(),
            SourceOptions {
                scope: Scope {
                    databases: vec![db.to_string()],
                },
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let sink = Arc::new(
        MysqlSink::connect(
            dest(),
            SinkOptions {
                task_id: task_id.to_string(),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let options = TaskOptions {
        task_id: task_id.to_string(),
        chunk_rows: 500,
        // The key-less test table is copied exactly once through a consistent snapshot.
        acknowledged_warnings: vec!["source.tables_without_primary_key".into()],
        ..Default::default()
    };
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.to_string()])),
        Arc::new(FileCheckpointStore::new(state.join("state.json"))),
        options,
    );
    (task, source, sink)
}

/// A small deterministic random generator (xorshift64*).
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

const TABLES: [&str; 5] = [
    "CREATE TABLE single_pk (id INT PRIMARY KEY, v INT, s VARCHAR(40), KEY kv (v), KEY ks (s(8), v))",
    "CREATE TABLE composite_pk (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b), KEY kvb (v, b))",
    "CREATE TABLE unique_only (u INT NOT NULL, v INT, s VARCHAR(20), UNIQUE KEY uq (u))",
    "CREATE TABLE no_key (x INT, y VARCHAR(20))",
    "CREATE TABLE wide (id BIGINT UNSIGNED PRIMARY KEY, i TINYINT, d DECIMAL(30,10), f DOUBLE, \
     t TEXT, b BLOB, dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, e ENUM('a','b'), \
     st SET('x','y'), j JSON, bit8 BIT(8), bin BINARY(3))",
];

async fn seed(c: &mut mysql_async::Conn, rows: u32) {
    exec_all(
        c,
        &[
            &format!("INSERT INTO single_pk SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_{rows}"),
            &format!("INSERT INTO composite_pk SELECT seq DIV 3, CONCAT('k', seq MOD 3), seq FROM seq_1_to_{rows}"),
            &format!("INSERT INTO unique_only SELECT seq, seq, 'u' FROM seq_1_to_{rows}"),
            &format!("INSERT INTO no_key SELECT seq MOD 50, CONCAT('y', seq) FROM seq_1_to_{}", rows / 4),
            &format!(
                "INSERT INTO wide SELECT seq, seq MOD 100, seq / 7, seq / 3, REPEAT('t', seq MOD 50), \
                 UNHEX(HEX(seq)), '2024-01-02 03:04:05.123456', '2024-05-06 07:08:09.123', '12:34:56.78', \
                 2000 + seq MOD 100, IF(seq MOD 2, 'a', 'b'), 'x,y', JSON_OBJECT('n', seq), seq MOD 256, 'ab' \
                 FROM seq_1_to_{rows}"
            ),
        ],
    )
    .await;
}

/// Random inserts, updates (including key changes) and deletes on every table until `stop`.
async fn random_writer(db: String, stop: Arc<AtomicBool>, seed: u64) -> u64 {
    let mut c = conn(&source()).await;
    exec_all(&mut c, &[&format!("USE `{db}`")]).await;
    let mut rng = Rng(seed);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let k = rng.below(3000) + 1;
        let v = rng.below(1_000_000);
        let sql = match rng.below(12) {
            0 => format!("INSERT IGNORE INTO single_pk VALUES ({k}, {v}, 'w')"),
            1 => format!("UPDATE single_pk SET v = {v}, s = CONCAT(s, 'u') WHERE id = {k}"),
            2 => format!("DELETE FROM single_pk WHERE id = {k}"),
            3 => format!("UPDATE IGNORE single_pk SET id = {} WHERE id = {k}", k + 5000 + rng.below(100)),
            4 => format!("REPLACE INTO composite_pk VALUES ({}, 'k{}', {v})", k / 3, k % 3),
            5 => format!("DELETE FROM composite_pk WHERE a = {} AND b = 'k{}'", k / 3, k % 3),
            6 => format!("INSERT INTO unique_only VALUES ({}, {v}, 'n') ON DUPLICATE KEY UPDATE v = {v}", k + 3000),
            7 => format!("DELETE FROM unique_only WHERE u = {k}"),
            8 => format!("INSERT INTO no_key VALUES ({}, 'w{v}')", k % 50),
            9 => format!("DELETE FROM no_key WHERE x = {} LIMIT 1", k % 50),
            10 => format!("UPDATE no_key SET y = 'upd{v}' WHERE x = {} LIMIT 2", k % 50),
            _ => format!(
                "UPDATE wide SET d = d + 1.5, t = CONCAT(t, 'z'), j = JSON_SET(j, '$.w', {v}), ts = NOW(3) WHERE id = {k}"
            ),
        };
        // Several statements per transaction now and then.
        if rng.below(5) == 0 {
            exec_all(
                &mut c,
                &[
                    "BEGIN",
                    &sql,
                    &format!("UPDATE single_pk SET v = v + 1 WHERE id = {}", k / 2 + 1),
                    "COMMIT",
                ],
            )
            .await;
        } else {
            exec_all(&mut c, &[&sql]).await;
        }
        n += 1;
        if n % 50 == 0 {
            // Pacing of the workload, not a synchronization.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    n
}

/// Every table's rows, sorted, from one server.
async fn dump(ep: &MysqlEndpoint, db: &str) -> Vec<(String, u64, Vec<mysql_async::Row>)> {
    let mut c = conn(ep).await;
    let tables: Vec<String> = c
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
            (db,),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let cols: Vec<String> = c
            .exec(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (db, &t),
            )
            .await
            .unwrap();
        let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
        let rows: Vec<mysql_async::Row> = c
            .query(format!(
                "SELECT * FROM `{db}`.`{t}` ORDER BY {}",
                order.join(", ")
            ))
            .await
            .unwrap();
        let checksum: Option<(String, Option<u64>)> = c
            .query_first(format!("CHECKSUM TABLE `{db}`.`{t}`"))
            .await
            .unwrap();
        out.push((t, checksum.and_then(|c| c.1).unwrap_or(0), rows));
    }
    out
}

/// Every index of a database's tables: table, index, uniqueness, position, column, prefix.
async fn indexes(
    ep: &MysqlEndpoint,
    db: &str,
) -> Vec<(String, String, u64, u64, String, Option<u64>)> {
    conn(ep)
        .await
        .exec(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY 1, 2, 4",
            (db,),
        )
        .await
        .unwrap()
}

async fn assert_identical(db: &str) {
    // Secondary indexes are built after each table's copy; they must all be there.
    assert_eq!(
        indexes(&source(), db).await,
        indexes(&dest(), db).await,
        "same indexes"
    );
    let a = dump(&source(), db).await;
    let b = dump(&dest(), db).await;
    let names = |d: &[(String, u64, Vec<mysql_async::Row>)]| {
        d.iter().map(|t| t.0.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b), "same tables");
    for ((t, ca, ra), (_, cb, rb)) in a.iter().zip(&b) {
        assert_eq!(
            ra.len(),
            rb.len(),
            "{t}: row count source {} vs destination {}",
            ra.len(),
            rb.len()
        );
        for (i, (x, y)) in ra.iter().zip(rb).enumerate() {
            assert_eq!(
                x.clone().unwrap(),
                y.clone().unwrap(),
                "{t}: row {i} differs"
            );
        }
        assert_eq!(ca, cb, "{t}: CHECKSUM TABLE differs");
    }
}

/// Waits until the sink's checkpoint reaches the source's current position.
async fn wait_caught_up(source: &MysqlSource, sink: &MysqlSink, handle: &TaskHandle) {
    let target = source.current_position().await.unwrap();
    dts_testkit::wait_checkpoint(handle, sink, &target, Duration::from_secs(120)).await;
}

async fn prepare(db: &str, rows: u32) -> mysql_async::Conn {
    let mut c = conn(&source()).await;
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
    seed(&mut c, rows).await;
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    c
}

async fn cleanup(db: &str) {
    for ep in [source(), dest()] {
        let mut c = conn(&ep).await;
        exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn converges_under_concurrent_writes() {
    let db = unique_name("dts_conv");
    let _c = prepare(&db, 6000).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("conv");
    let (task, source, sink) = build(&db, &task_id, dir.path()).await;
    let handle = task.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(random_writer(db.clone(), stop.clone(), 42));
    let runner = tokio::spawn(async move { task.run().await });
    // Keep writing through the full sync and well into incremental write.
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    // Deliberately lets time pass, not a synchronization: the writer keeps writing for 3 s
    // into incremental write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.unwrap();
    assert!(writes > 100, "the writer did work ({writes} statements)");
    wait_caught_up(&source, &sink, &handle).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_identical(&db).await;
    let p = handle.progress();
    assert!(p.incremental.rows_applied > 0);
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_at_every_stage_loses_and_duplicates_nothing() {
    let db = unique_name("dts_crash");
    let _c = prepare(&db, 20_000).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("crash");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(random_writer(db.clone(), stop.clone(), 7));

    // Each round starts the task and kills it (abort: no graceful stop) when `when` holds.
    type When = fn(&TaskHandle) -> bool;
    let rounds: [(&str, When); 4] = [
        ("mid-schema-sync", |h| {
            h.status().stage(Stage::SchemaSync).status == StageStatus::Running
                || h.status().stage(Stage::FullDataSync).status != StageStatus::NotStarted
        }),
        ("mid-full-sync", |h| {
            h.progress()
                .tables
                .values()
                .map(|t| t.rows_done)
                .sum::<u64>()
                > 5_000
        }),
        ("late-full-sync", |h| {
            h.progress().tables.values().filter(|t| t.finished).count() >= 2
        }),
        ("mid-incremental", |h| {
            h.progress().incremental.rows_applied > 50
        }),
    ];
    for (name, when) in rounds {
        let (task, _, _) = build(&db, &task_id, dir.path()).await;
        let handle = task.handle();
        let runner = tokio::spawn(async move { task.run().await });
        // Every 5 ms: the round kills the task as soon as it gets there.
        dts_testkit::wait_for_every(
            &handle,
            Duration::from_millis(5),
            Duration::from_secs(60),
            name,
            || async { when(&handle).then_some(()).ok_or("not yet") },
        )
        .await;
        runner.abort();
        let _ = runner.await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    // Final run: must converge exactly.
    let (task, source, sink) = build(&db, &task_id, dir.path()).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    wait_caught_up(&source, &sink, &handle).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_identical(&db).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ddl_during_incremental_reaches_destination_in_order() {
    let db = unique_name("dts_ddlrun");
    let mut c = prepare(&db, 200).await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("ddl");
    let (task, source, sink) = build(&db, &task_id, dir.path()).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    exec_all(
        &mut c,
        &[
            "INSERT INTO single_pk VALUES (100001, 1, 'before')",
            "ALTER TABLE single_pk ADD COLUMN extra VARCHAR(10) DEFAULT 'dflt'",
            "INSERT INTO single_pk VALUES (100002, 2, 'after add', 'x')",
            "UPDATE single_pk SET extra = 'upd' WHERE id <= 10",
            "ALTER TABLE single_pk MODIFY COLUMN v BIGINT",
            "INSERT INTO single_pk VALUES (100003, 9000000000, 'after modify', 'y')",
            "ALTER TABLE single_pk DROP COLUMN s",
            "INSERT INTO single_pk VALUES (100004, 4, 'z')",
            "CREATE TABLE created_later (id INT PRIMARY KEY, v VARCHAR(5))",
            "INSERT INTO created_later VALUES (1, 'a'), (2, 'b')",
            "RENAME TABLE created_later TO renamed_later",
            "INSERT INTO renamed_later VALUES (3, 'c')",
            "TRUNCATE TABLE composite_pk",
            "INSERT INTO composite_pk VALUES (1, 'new', 1)",
            "CREATE TABLE to_drop (id INT PRIMARY KEY)",
            "INSERT INTO to_drop VALUES (1)",
            "DROP TABLE to_drop",
            "DELETE FROM no_key WHERE x < 10",
        ],
    )
    .await;
    wait_caught_up(&source, &sink, &handle).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_identical(&db).await;
    let mut d = conn(&dest()).await;
    let extra: Option<String> = d
        .query_first(format!(
            "SELECT extra FROM `{db}`.single_pk WHERE id = 100002"
        ))
        .await
        .unwrap();
    assert_eq!(extra.as_deref(), Some("x"));
    cleanup(&db).await;
}

/// Every table of `db` read on both sides (current rows of versioned tables, a sequence's
/// state row), compared row by row.
async fn assert_same_rows(db: &str) {
    let tables = |ep: MysqlEndpoint| {
        let db = db.to_string();
        async move {
            let mut c = conn(&ep).await;
            let names: Vec<(String, String)> = c
                .exec(
                    "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = ? ORDER BY 1",
                    (&db,),
                )
                .await
                .unwrap();
            let mut out = Vec::new();
            for (t, kind) in names {
                let rows: Vec<mysql_async::Row> = c
                    .query(format!("SELECT * FROM `{db}`.`{t}` ORDER BY 1"))
                    .await
                    .unwrap();
                let rows: Vec<Vec<mysql_async::Value>> =
                    rows.into_iter().map(|r| r.unwrap()).collect();
                out.push((t, kind, rows));
            }
            out
        }
    };
    let a = tables(source()).await;
    let b = tables(dest()).await;
    assert_eq!(a, b, "source and destination differ");
}

/// Event groups and statement kinds beyond single-statement transactions, written while the
/// task runs (and across a restart): XA two-phase commits (one prepared before the restart and
/// committed while the task was down), rollback and one phase; MariaDB sequences (NEXTVAL from
/// a column default, CREATE / ALTER / DROP SEQUENCE); system-versioned tables; savepoints
/// rolled back in a transaction that also touched a non-transactional table; TRUNCATE
/// PARTITION; CREATE TABLE … SELECT; multi-table UPDATE and DELETE; LOAD DATA.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_group_kind_reaches_the_destination_exactly() {
    let db = unique_name("dts_kinds");
    let mut c = conn(&source()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE SEQUENCE order_no START WITH 500 INCREMENT BY 5 CACHE 4",
            "CREATE TABLE orders (id BIGINT PRIMARY KEY DEFAULT NEXTVAL(order_no), customer INT, note VARCHAR(20), KEY (customer))",
            "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20), tier INT) WITH SYSTEM VERSIONING",
            "CREATE TABLE audit (id INT PRIMARY KEY) ENGINE=MyISAM",
            "CREATE TABLE parts (id INT PRIMARY KEY, v INT) PARTITION BY RANGE (id) \
             (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE)",
            "INSERT INTO orders (customer, note) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
            "INSERT INTO customers VALUES (1, 'ann', 0), (2, 'bob', 0), (3, 'cy', 0)",
            "UPDATE customers SET tier = 1 WHERE id = 1",
            "INSERT INTO parts VALUES (1, 1), (2, 2), (150, 3)",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let task_id = unique_name("kinds");
    let (task, src, sink) = build(&db, &task_id, dir.path()).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    let xa = |name: &str, id: u32| {
        [
            format!("XA START '{name}'"),
            format!("INSERT INTO orders VALUES ({id}, 9, 'xa {name}')"),
            "UPDATE customers SET tier = tier + 10 WHERE id = 2".to_string(),
            format!("XA END '{name}'"),
            format!("XA PREPARE '{name}'"),
        ]
    };
    let x1 = unique_name("x1");
    let x2 = unique_name("x2");
    let x3 = unique_name("x3");
    // Prepared on sessions of their own, decided later from `c`.
    for (name, id) in [(&x1, 1001), (&x2, 1002), (&x3, 1003)] {
        let mut s = conn(&source()).await;
        exec_all(&mut s, &[&format!("USE `{db}`")]).await;
        let statements = xa(name, id);
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        if name == &x1 {
            exec_all(&mut s, &refs).await;
        } else {
            // x2 and x3 touch other rows so they do not wait on x1's locks.
            let other: Vec<String> = refs
                .iter()
                .map(|q| {
                    if name == &x2 {
                        q.replace("WHERE id = 2", "WHERE id = 3")
                    } else if q.starts_with("UPDATE") {
                        // x3 stays prepared through the statements below: it locks nothing
                        // they need.
                        "DO 0".to_string()
                    } else {
                        q.to_string()
                    }
                })
                .collect();
            let refs: Vec<&str> = other.iter().map(String::as_str).collect();
            exec_all(&mut s, &refs).await;
        }
        // Decided later from `c`, once its session has detached it.
        dts_testkit::mysql::detach_prepared(s, &mut c, &[name.as_str()]).await;
    }
    // The LOAD DATA LOCAL below reads its rows from this handler.
    c.set_infile_handler(async {
        use futures::StreamExt;
        let rows = bytes::Bytes::from_static(b"2001\t7\tloaded\n2002\t8\tloaded too\n");
        Ok(futures::stream::iter([Ok(rows)]).boxed())
    });
    exec_all(
        &mut c,
        &[
            &format!("XA COMMIT '{x1}'"),
            &format!("XA ROLLBACK '{x2}'"),
            "INSERT INTO orders (customer, note) VALUES (4, 'd'), (5, 'e'), (6, 'f'), (7, 'g'), (8, 'h')",
            "SELECT NEXTVAL(order_no)",
            "ALTER SEQUENCE order_no INCREMENT BY 50",
            "INSERT INTO orders (customer, note) VALUES (9, 'after alter')",
            "CREATE SEQUENCE later_seq START WITH 3",
            "SELECT NEXTVAL(later_seq)",
            "CREATE SEQUENCE dropped_seq",
            "DROP SEQUENCE dropped_seq",
            "UPDATE customers SET name = 'bobby' WHERE id = 2",
            "DELETE FROM customers WHERE id = 3",
            "INSERT INTO customers VALUES (4, 'dee', 2)",
            "BEGIN",
            "INSERT INTO orders VALUES (3001, 1, 'kept')",
            "SAVEPOINT sp1",
            "INSERT INTO orders VALUES (3002, 1, 'undone')",
            "UPDATE orders SET note = 'undone' WHERE id = 3001",
            "INSERT INTO audit VALUES (1)",
            "ROLLBACK TO SAVEPOINT sp1",
            "INSERT INTO orders VALUES (3003, 1, 'kept too')",
            "COMMIT",
            "ALTER TABLE parts TRUNCATE PARTITION p0",
            "INSERT INTO parts VALUES (5, 5)",
            "CREATE TABLE copied (PRIMARY KEY (id)) SELECT id, note FROM orders WHERE id < 1000",
            "UPDATE orders o JOIN customers c ON c.id = o.customer SET o.note = c.name, c.tier = c.tier + 1 WHERE o.customer <= 2",
            "DELETE o, p FROM orders o JOIN parts p ON p.id = o.customer + 149 WHERE o.customer = 1",
            "LOAD DATA LOCAL INFILE 'rows.txt' INTO TABLE orders (id, customer, note)",
        ],
    )
    .await;
    wait_caught_up(&src, &sink, &handle).await;
    assert_same_rows(&db).await;

    // A restart while x3 is prepared: the new run begins after the prepare and meets its
    // commit only.
    handle.stop();
    runner.await.unwrap().unwrap();
    exec_all(
        &mut c,
        &[
            &format!("XA COMMIT '{x3}'"),
            "SELECT NEXTVAL(later_seq)",
            "DELETE HISTORY FROM customers",
            "UPDATE customers SET tier = 7 WHERE id = 4",
        ],
    )
    .await;
    let (task, src, sink) = build(&db, &task_id, dir.path()).await;
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    wait_caught_up(&src, &sink, &handle).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_same_rows(&db).await;
    let mut d = conn(&dest()).await;
    let x3_row: Option<String> = d
        .query_first(format!("SELECT note FROM `{db}`.orders WHERE id = 1003"))
        .await
        .unwrap();
    assert_eq!(x3_row.as_deref(), Some(&*format!("xa {x3}")));
    // The destination keeps its own history of the versioned table.
    let kind: Option<String> = d
        .exec_first(
            "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'customers'",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(kind.as_deref(), Some("SYSTEM VERSIONED"));
    cleanup(&db).await;
}
