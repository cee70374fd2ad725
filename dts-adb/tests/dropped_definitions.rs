//! What an AnalyticDB table cannot hold of a source table's definition is said at precheck,
//! per table (the test environment's MariaDB destination in `mariadb_compat` mode stands in
//! for ADB): foreign keys, CHECK constraints, INVISIBLE, ROW_FORMAT and the source's
//! partitioning. Databases are prefixed `tdef_`.

use dts_adb::{AdbOptions, AdbSink};
use dts_core::{CheckLevel, DatabaseFilter, FileCheckpointStore, Task, TaskOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::sync::Arc;

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run `eval \"$(scripts/test-env.sh env)\"`"))
}

async fn exec(url: &str, statements: &[&str]) {
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn precheck_names_per_table_what_adb_leaves_out() {
    let (src, dst) = (var("DTS_TEST_SOURCE_URL"), var("DTS_TEST_DEST_URL"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let db = format!("tdef_adb_{}_{}", std::process::id(), nanos % 100_000);
    exec(
        &src,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE p (id INT PRIMARY KEY) ROW_FORMAT=COMPACT",
            "CREATE TABLE c (id INT PRIMARY KEY, p_id INT, qty INT CHECK (qty >= 0), \
             h INT INVISIBLE, CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id))",
            "CREATE TABLE pt (id INT PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 2",
            "CREATE TABLE plain (id INT PRIMARY KEY)",
            "CREATE VIEW v AS SELECT id FROM plain",
            "CREATE PROCEDURE pr() SELECT 1",
        ],
    )
    .await;
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
    let sink = Arc::new(AdbSink::new(o).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let task = Task::new(
        source,
        sink,
        Arc::new(DatabaseFilter::new([db.clone()])),
        Arc::new(FileCheckpointStore::new(dir.path().join("state.json"))),
        TaskOptions {
            task_id,
            ..Default::default()
        },
    );
    let report = task.precheck().await.unwrap();
    exec(&src, &[&format!("DROP DATABASE `{db}`")]).await;
    let c = report
        .get(dts_adb::dropped::DROPPED_DEFINITIONS)
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(c.level, CheckLevel::Warning, "{c}");
    for part in [
        format!("{db}.c: foreign key(s) `fk_c_p`, CHECK constraint(s) `qty`, INVISIBLE of column(s) `h`"),
        format!("{db}.p: ROW_FORMAT=COMPACT"),
        format!("{db}.pt: the source's PARTITION BY"),
    ] {
        assert!(c.message.contains(&part), "{part}\n{c}");
    }
    assert!(!c.message.contains(&format!("{db}.plain")), "{c}");
    // The ADB destination creates no foreign keys, so the task's own check does not run.
    assert!(
        report.get(dts_core::FOREIGN_KEYS_CHECK).is_none(),
        "{report}"
    );
    // Views and routines have no place at ADB: a warning naming each, never a silent drop.
    let objects = report
        .get("destination.schema_objects")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(objects.level, CheckLevel::Warning, "{objects}");
    for part in [format!("view {db}.v"), format!("procedure {db}.pr")] {
        assert!(objects.message.contains(&part), "{part}\n{objects}");
    }
    assert!(
        objects
            .message
            .contains("AnalyticDB for MySQL 3.0 destinations hold tables only"),
        "{objects}"
    );
}
