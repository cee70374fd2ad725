//! Foreign-key cascades through the whole MySQL → MySQL task (schema sync, full sync, then
//! incremental write): the child rows InnoDB deletes or updates by `ON DELETE CASCADE`,
//! `ON DELETE SET NULL`, `ON UPDATE CASCADE` and `ON UPDATE SET NULL` are not in the binlog,
//! yet the destination must end up identical to the source — for each rule, a 3-level cascade
//! and a self-referencing table; with cascades off, full verification finds the leftovers; a
//! child selected without its parent is a precheck warning.

mod common;

use common::*;
use dts_core::config::FullVerificationMode;
use dts_core::verify::{DiffKind, FullOptions, Verifier, VerifyTarget};
use dts_core::{
    CheckLevel, ConflictingTables, DatabaseFilter, ExistingRows, FileCheckpointStore, Filter,
    PrecheckReport, Sink, Source, TableId, TableRoute, TableSchema, Task, TaskHandle, TaskOptions,
};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::wire::verify::MysqlVerifyReader;
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::Duration;

fn dest() -> MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

/// A running task over database `db`.
struct Running {
    db: String,
    handle: TaskHandle,
    source: Arc<MysqlSource>,
    sink: Arc<MysqlSink>,
    runner: tokio::task::JoinHandle<dts_core::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn source_for(db: &str) -> Arc<MysqlSource> {
    Arc::new(
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
    )
}

/// Creates `db` at the source with `setup`, drops it at the destination, and starts a task
/// (cascades as `cascade` says) that is in incremental write when this returns.
async fn start(prefix: &str, setup: &[&str], cascade: bool) -> Running {
    let db = unique_name(prefix);
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
    exec_all(&mut c, setup).await;
    exec_all(
        &mut conn(&dest()).await,
        &[&format!("DROP DATABASE IF EXISTS `{db}`")],
    )
    .await;
    let source = source_for(&db).await;
    let task_id = unique_name("fk");
    let sink = Arc::new(
        MysqlSink::connect(
            dest(),
            SinkOptions {
                task_id: task_id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.clone()])),
        Arc::new(FileCheckpointStore::new(dir.path().join("state.json"))),
        TaskOptions {
            task_id,
            cascade_foreign_keys: cascade,
            ..Default::default()
        },
    );
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(60)).await;
    Running {
        db,
        handle,
        source,
        sink,
        runner,
        _dir: dir,
    }
}

impl Running {
    /// Runs `statements` at the source in database `db`.
    async fn source_exec(&self, statements: &[&str]) {
        let mut c = conn(&source()).await;
        exec_all(&mut c, &[&format!("USE `{}`", self.db)]).await;
        exec_all(&mut c, statements).await;
    }

    /// Waits until the sink's checkpoint reaches the source's current position.
    async fn caught_up(&self) {
        let target = self.source.current_position().await.unwrap();
        dts_testkit::wait_checkpoint(&self.handle, &*self.sink, &target, Duration::from_secs(60))
            .await;
    }

    async fn stop(self) -> String {
        self.handle.stop();
        self.runner.await.unwrap().unwrap();
        self.db
    }
}

/// Rows of a table, sorted by every column.
async fn rows(ep: &MysqlEndpoint, db: &str, table: &str) -> Vec<Vec<mysql_async::Value>> {
    let mut c = conn(ep).await;
    let n: usize = c
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .unwrap()
        .unwrap();
    let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let r: Vec<mysql_async::Row> = c
        .query(format!(
            "SELECT * FROM `{db}`.`{table}` ORDER BY {}",
            order.join(", ")
        ))
        .await
        .unwrap();
    r.into_iter().map(|r| r.unwrap()).collect()
}

async fn count(ep: &MysqlEndpoint, sql: &str) -> i64 {
    conn(ep).await.query_first(sql).await.unwrap().unwrap()
}

/// Every table of `db` holds the same rows at both ends.
async fn assert_same(db: &str, tables: &[&str]) {
    for t in tables {
        let a = rows(&source(), db, t).await;
        let b = rows(&dest(), db, t).await;
        assert_eq!(a.len(), b.len(), "{t}: row count source vs destination");
        assert_eq!(a, b, "{t}: rows differ");
    }
}

async fn cleanup(db: &str) {
    for ep in [source(), dest()] {
        exec_all(
            &mut conn(&ep).await,
            &[&format!("DROP DATABASE IF EXISTS `{db}`")],
        )
        .await;
    }
}

const PARENT_CHILD_DELETE_CASCADE: [&str; 4] = [
    "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20))",
    "CREATE TABLE c (id INT PRIMARY KEY, p_id INT, v VARCHAR(20), \
     CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE)",
    "INSERT INTO p SELECT seq, CONCAT('p', seq) FROM seq_1_to_20",
    "INSERT INTO c SELECT seq, (seq - 1) DIV 10 + 1, CONCAT('c', seq) FROM seq_1_to_200",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_delete_cascade_removes_the_children_of_10_parents() {
    let run = start("fk_del", &PARENT_CHILD_DELETE_CASCADE, true).await;
    let db = run.db.clone();
    // 10 parents × 10 children: one statement, then single deletes in one transaction, and
    // a child inserted before its parent goes in the same transaction.
    run.source_exec(&[
        "DELETE FROM p WHERE id <= 5",
        "BEGIN",
        "INSERT INTO c VALUES (1000, 6, 'late')",
        "DELETE FROM p WHERE id = 6",
        "DELETE FROM p WHERE id = 7",
        "UPDATE c SET v = 'kept' WHERE id = 81",
        "DELETE FROM p WHERE id IN (8, 9, 10)",
        "COMMIT",
    ])
    .await;
    run.caught_up().await;
    let db2 = run.stop().await;
    assert_eq!(db, db2);
    assert_eq!(
        count(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.c")).await,
        100,
        "the 100 cascaded children are gone"
    );
    assert_same(&db, &["p", "c"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_delete_set_null_clears_the_foreign_key() {
    let run = start(
        "fk_dsn",
        &[
            "CREATE TABLE p (id INT PRIMARY KEY)",
            "CREATE TABLE c (id INT PRIMARY KEY, p_id INT NULL, v INT, \
             CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE SET NULL)",
            "INSERT INTO p SELECT seq FROM seq_1_to_10",
            "INSERT INTO c SELECT seq, (seq - 1) DIV 10 + 1, seq FROM seq_1_to_100",
        ],
        true,
    )
    .await;
    run.source_exec(&[
        "DELETE FROM p WHERE id IN (2, 4, 6)",
        "DELETE FROM p WHERE id = 10",
    ])
    .await;
    run.caught_up().await;
    let db = run.stop().await;
    assert_eq!(
        count(
            &dest(),
            &format!("SELECT COUNT(*) FROM `{db}`.c WHERE p_id IS NULL")
        )
        .await,
        40
    );
    assert_same(&db, &["p", "c"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_update_cascade_follows_new_parent_keys() {
    let run = start(
        "fk_uc",
        &[
            // A composite natural key: only the changed column moves in the children.
            "CREATE TABLE p (region CHAR(2), num INT, name VARCHAR(10), PRIMARY KEY (region, num))",
            "CREATE TABLE c (id INT PRIMARY KEY, region CHAR(2), num INT, \
             CONSTRAINT fk_c_p FOREIGN KEY (region, num) REFERENCES p (region, num) \
             ON UPDATE CASCADE ON DELETE RESTRICT)",
            "INSERT INTO p SELECT IF(seq % 2, 'eu', 'us'), seq, 'x' FROM seq_1_to_10",
            "INSERT INTO c SELECT seq, IF(((seq - 1) DIV 10 + 1) % 2, 'eu', 'us'), \
             (seq - 1) DIV 10 + 1 FROM seq_1_to_100",
        ],
        true,
    )
    .await;
    run.source_exec(&[
        "UPDATE p SET num = num + 100 WHERE num <= 4",
        "UPDATE p SET region = 'ap' WHERE num = 5",
        // Not a referenced column: nothing cascades.
        "UPDATE p SET name = 'y' WHERE num = 6",
    ])
    .await;
    run.caught_up().await;
    let db = run.stop().await;
    assert_eq!(
        count(
            &dest(),
            &format!("SELECT COUNT(*) FROM `{db}`.c WHERE num > 100 OR region = 'ap'")
        )
        .await,
        50
    );
    assert_same(&db, &["p", "c"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_update_set_null_clears_the_foreign_key() {
    let run = start(
        "fk_usn",
        &[
            "CREATE TABLE p (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY (code))",
            "CREATE TABLE c (id INT PRIMARY KEY, code INT NULL, \
             CONSTRAINT fk_c_p FOREIGN KEY (code) REFERENCES p (code) ON UPDATE SET NULL)",
            "INSERT INTO p SELECT seq, seq * 10 FROM seq_1_to_10",
            "INSERT INTO c SELECT seq, ((seq - 1) DIV 10 + 1) * 10 FROM seq_1_to_100",
        ],
        true,
    )
    .await;
    run.source_exec(&["UPDATE p SET code = code + 1 WHERE id IN (1, 3, 5)"])
        .await;
    run.caught_up().await;
    let db = run.stop().await;
    assert_eq!(
        count(
            &dest(),
            &format!("SELECT COUNT(*) FROM `{db}`.c WHERE code IS NULL")
        )
        .await,
        30
    );
    assert_same(&db, &["p", "c"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_level_cascade_reaches_the_grandchildren() {
    let run = start(
        "fk_3l",
        &[
            "CREATE TABLE a (id INT PRIMARY KEY)",
            "CREATE TABLE b (id INT PRIMARY KEY, a_id INT, \
             FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE CASCADE)",
            "CREATE TABLE c (id INT PRIMARY KEY, b_id INT, \
             FOREIGN KEY (b_id) REFERENCES b (id) ON DELETE CASCADE)",
            "CREATE TABLE d (id INT PRIMARY KEY, c_id INT NULL, \
             FOREIGN KEY (c_id) REFERENCES c (id) ON DELETE SET NULL)",
            "INSERT INTO a SELECT seq FROM seq_1_to_5",
            "INSERT INTO b SELECT seq, (seq - 1) DIV 4 + 1 FROM seq_1_to_20",
            "INSERT INTO c SELECT seq, (seq - 1) DIV 4 + 1 FROM seq_1_to_80",
            "INSERT INTO d SELECT seq, (seq - 1) DIV 2 + 1 FROM seq_1_to_160",
        ],
        true,
    )
    .await;
    run.source_exec(&[
        "DELETE FROM a WHERE id IN (1, 3)",
        "DELETE FROM b WHERE id = 20",
    ])
    .await;
    run.caught_up().await;
    let db = run.stop().await;
    // a 1 and 3 take b 1-4 and 9-12, c 1-16 and 33-48, and clear d 1-32 and 65-96; b 20
    // takes c 77-80 and clears d 153-160.
    assert_eq!(
        count(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.c")).await,
        80 - 36
    );
    assert_eq!(
        count(
            &dest(),
            &format!("SELECT COUNT(*) FROM `{db}`.d WHERE c_id IS NULL")
        )
        .await,
        72
    );
    assert_same(&db, &["a", "b", "c", "d"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn self_referencing_tree_loses_whole_subtrees() {
    let run = start(
        "fk_self",
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, parent INT NULL, v INT, \
             CONSTRAINT fk_t_t FOREIGN KEY (parent) REFERENCES t (id) ON DELETE CASCADE)",
            // A binary tree of 6 levels: node n's parent is n DIV 2.
            "INSERT INTO t VALUES (1, NULL, 1)",
            "INSERT INTO t SELECT seq, seq DIV 2, seq FROM seq_2_to_63",
        ],
        true,
    )
    .await;
    // Node 2's subtree (31 nodes, 5 levels), then leaf 63, then node 7's subtree (15 nodes, 4
    // levels, one of them already gone).
    run.source_exec(&[
        "DELETE FROM t WHERE id = 2",
        "DELETE FROM t WHERE id = 63",
        "DELETE FROM t WHERE id = 7",
    ])
    .await;
    run.caught_up().await;
    let db = run.stop().await;
    assert_eq!(
        count(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.t")).await,
        63 - 31 - 1 - 14
    );
    assert_same(&db, &["t"]).await;
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_cascades_full_verification_reports_the_leftover_children() {
    let run = start("fk_off", &PARENT_CHILD_DELETE_CASCADE, false).await;
    run.source_exec(&["DELETE FROM p WHERE id <= 10"]).await;
    run.caught_up().await;
    let db = run.stop().await;
    assert_eq!(
        count(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.c")).await,
        200,
        "the children stay at the destination"
    );
    let src = Arc::new(MysqlVerifyReader::new(source(), 2));
    let dst = Arc::new(MysqlVerifyReader::new(dest(), 2));
    use dts_core::verify::VerifyReader;
    let schema = src
        .describe(&TableId::new(&db, "c"))
        .await
        .unwrap()
        .expect("child table");
    let target = VerifyTarget {
        route: TableRoute::identity(&schema.id),
        schema,
        masked: vec![],
    };
    let verifier = Verifier::new(
        src,
        dst,
        FullOptions {
            mode: FullVerificationMode::Sampled,
            sampling_percent: 100,
            ..Default::default()
        },
    );
    let report = verifier.run(std::slice::from_ref(&target), false).await;
    assert!(report.errors.is_empty(), "{}", report.to_text());
    let t = &report.tables[0];
    assert_eq!(t.extra, 100, "{}", report.to_text());
    assert!(!t.keys(DiffKind::Extra).is_empty());
    assert_eq!((t.missing, t.different), (0, 0));
    cleanup(&db).await;
}

/// Selects the named tables of one database.
struct Tables(String, Vec<&'static str>);

impl Filter for Tables {
    fn route(&self, table: &TableSchema) -> Option<TableRoute> {
        (table.id.database == self.0 && self.1.contains(&table.id.table.as_str()))
            .then(|| TableRoute::identity(&table.id))
    }
    fn route_ddl(&self, _: &dts_core::Ddl) -> Option<dts_core::Ddl> {
        None
    }
}

/// A MySQL destination that says it cannot apply derived changes (as a Kafka destination in
/// a row-image-only format does).
struct Refusing(Arc<MysqlSink>);

#[async_trait::async_trait]
impl Sink for Refusing {
    async fn precheck(&self, t: &[TableSchema], m: ConflictingTables) -> PrecheckReport {
        self.0.precheck(t, m).await
    }
    async fn apply_schema(&self, s: &TableSchema) -> dts_core::Result<()> {
        self.0.apply_schema(s).await
    }
    fn supports_derived_changes(&self) -> Result<(), String> {
        Err("no predicate changes here".into())
    }
    async fn write_rows(
        &self,
        s: &dts_core::SchemaRef,
        r: Vec<dts_core::Row>,
        e: ExistingRows,
    ) -> dts_core::Result<()> {
        self.0.write_rows(s, r, e).await
    }
    async fn reset_table(&self, s: &TableSchema) -> dts_core::Result<()> {
        self.0.reset_table(s).await
    }
    async fn apply_ddl(&self, d: &dts_core::Ddl) -> dts_core::Result<()> {
        self.0.apply_ddl(d).await
    }
    async fn apply(
        &self,
        b: &[dts_core::Transaction],
        c: &dts_core::Checkpoint,
    ) -> dts_core::Result<()> {
        self.0.apply(b, c).await
    }
    async fn read_checkpoint(&self) -> dts_core::Result<Option<dts_core::Checkpoint>> {
        self.0.read_checkpoint().await
    }
}

#[tokio::test]
async fn precheck_warns_of_unselected_parents_and_refuses_sinks_without_cascades() {
    let db = unique_name("fk_pre");
    let mut c = conn(&source()).await;
    exec_all(
        &mut c,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            PARENT_CHILD_DELETE_CASCADE[0],
            PARENT_CHILD_DELETE_CASCADE[1],
        ],
    )
    .await;
    let task_id = unique_name("fkpre");
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(
        MysqlSink::connect(
            dest(),
            SinkOptions {
                task_id: task_id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let source = source_for(&db).await;
    let check = |only: Vec<&'static str>| {
        let task = Task::new(
            source.clone(),
            sink.clone(),
            Arc::new(Tables(db.clone(), only)),
            Arc::new(FileCheckpointStore::new(dir.path().join("s.json"))),
            TaskOptions {
                task_id: task_id.clone(),
                ..Default::default()
            },
        );
        async move { task.precheck().await.unwrap() }
    };
    let report = check(vec!["c"]).await;
    let w = report
        .get("objects.foreign_key_cascades")
        .expect("cascade warning");
    assert_eq!(w.level, CheckLevel::Warning, "{w}");
    assert!(w.message.contains("fk_c_p"), "{w}");
    assert!(w.message.contains(&format!("{db}.p")), "{w}");
    // A destination that cannot apply derived changes fails the precheck, naming table and
    // constraint.
    let refusing = Task::new(
        source.clone(),
        Arc::new(Refusing(sink.clone())),
        Arc::new(DatabaseFilter::new([db.clone()])),
        Arc::new(FileCheckpointStore::new(dir.path().join("r.json"))),
        TaskOptions {
            task_id: task_id.clone(),
            ..Default::default()
        },
    );
    let report = refusing.precheck().await.unwrap();
    let e = report
        .get("destination.foreign_key_cascades")
        .expect("cascade error");
    assert_eq!(e.level, CheckLevel::Error, "{e}");
    assert!(
        e.message.contains("fk_c_p") && e.message.contains(&format!("{db}.c")),
        "{e}"
    );
    assert!(e.message.contains("no predicate changes here"), "{e}");
    // Parent and child selected, or the parent alone: nothing to warn about.
    for only in [vec!["p", "c"], vec!["p"]] {
        let report = check(only).await;
        assert!(report.get("objects.foreign_key_cascades").is_none());
        assert!(report.get("destination.foreign_key_cascades").is_none());
    }
    cleanup(&db).await;
}
