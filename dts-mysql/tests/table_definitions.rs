//! Table definitions arrive whole at a MySQL-family destination (on the real servers, through
//! a task built from a task file as a user writes it): foreign keys (after the full copy, with
//! the destination's names of both tables and their columns), CHECK constraints and
//! partitioning with renamed columns, `ROW_FORMAT` and MariaDB `INVISIBLE` columns, whose values the copy
//! and the binlog replay still write. A foreign key to a table outside the selection is a
//! precheck warning naming table, key and referenced table. Databases are prefixed `tdef_`.

mod common;

use common::*;
use dts_core::{CheckLevel, Stage, StageStatus};
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};

fn dest() -> dts_mysql::MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

fn host_port(var: &str) -> (String, u16) {
    let url = std::env::var(var).unwrap();
    let rest = url.rsplit('@').next().unwrap();
    let (host, port) = rest.trim_end_matches('/').split_once(':').unwrap();
    (host.to_string(), port.parse().unwrap())
}

async fn show_create(ep: &dts_mysql::MysqlEndpoint, db: &str, table: &str) -> String {
    let mut c = conn(ep).await;
    let row: Option<(String, String)> = c
        .query_first(format!("SHOW CREATE TABLE `{db}`.`{table}`"))
        .await
        .unwrap_or_else(|e| panic!("SHOW CREATE TABLE {db}.{table}: {e}"));
    row.unwrap().1
}

async fn rows(ep: &dts_mysql::MysqlEndpoint, sql: &str) -> Vec<(i64, Option<i64>, i64, i64)> {
    conn(ep)
        .await
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Polls `check` until true, failing with `what` after `timeout` or when the task failed.
async fn until<F, Fut>(what: &str, handle: &dts_core::TaskHandle, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        if check().await {
            return;
        }
        if let Some((stage, reason)) = handle.status().failure() {
            panic!("waiting for {what}: task failed in {stage}: {reason}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreign_keys_checks_partitions_row_format_and_invisible_columns_arrive() {
    let db = unique_name("tdef_defs");
    let outside = format!("{db}_out");
    let dst = format!("{db}_d");
    let mut s = conn(&source()).await;
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{dst}`")]).await;
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{outside}`"),
            &format!("CREATE TABLE `{outside}`.ext (id INT PRIMARY KEY)"),
            &format!("INSERT INTO `{outside}`.ext VALUES (1)"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE p (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY uk_code (code)) \
             ROW_FORMAT=COMPACT",
            "CREATE TABLE c (id INT PRIMARY KEY, p_id INT NULL, \
             qty INT NOT NULL DEFAULT 0 CHECK (qty >= 0), hidden INT INVISIBLE DEFAULT 7, \
             KEY k_qty (qty), CONSTRAINT chk_small CHECK (qty < 1000), \
             CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id) \
             ON DELETE CASCADE ON UPDATE CASCADE)",
            &format!(
                "CREATE TABLE x (id INT PRIMARY KEY, ext_id INT, \
                 CONSTRAINT fk_x_ext FOREIGN KEY (ext_id) REFERENCES `{outside}`.ext (id))"
            ),
            "CREATE TABLE pt (id INT PRIMARY KEY, v INT) PARTITION BY HASH (id) PARTITIONS 3",
            "INSERT INTO p SELECT seq, seq * 10 FROM seq_1_to_10",
            "INSERT INTO c (id, p_id, qty, hidden) SELECT seq, (seq - 1) DIV 5 + 1, seq, seq \
             FROM seq_1_to_50",
            "INSERT INTO x VALUES (1, 1)",
            "INSERT INTO pt SELECT seq, seq FROM seq_1_to_9",
        ],
    )
    .await;
    let (sh, sp) = host_port("DTS_TEST_SOURCE_URL");
    let (dh, dp) = host_port("DTS_TEST_DEST_URL");
    let task_file = |acknowledge: bool| {
        format!(
            "id = \"{db}\"\n{}\n\
             [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\ndatabase_type = \"mariadb\"\n\
             [destination]\ntype = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n\
             [[objects.databases]]\nname = \"{db}\"\nrename_to = \"{dst}\"\n\
             [[objects.databases.tables]]\nname = \"p\"\nrename_to = \"parents\"\n\
             [[objects.databases.tables]]\nname = \"c\"\nrename_to = \"children\"\n\
             columns = [\"id\", \"p_id\", \"qty\", \"hidden\"]\n\
             rename_columns = {{ p_id = \"parent_id\", qty = \"quantity\" }}\n\
             [[objects.databases.tables]]\nname = \"x\"\n\
             [[objects.databases.tables]]\nname = \"pt\"\ncolumns = [\"id\", \"v\"]\n\
             rename_columns = {{ id = \"pid\" }}\n",
            if acknowledge {
                "acknowledge_warnings = [\"objects.foreign_keys\"]"
            } else {
                ""
            }
        )
    };
    let state = tempfile::tempdir().unwrap();

    // The foreign key to the unselected table is a finding naming table, key and parent.
    let config = dts_core::config::TaskConfig::parse_toml_str(&task_file(false)).unwrap();
    let built = dts_mysql::build_mysql_task(&config, state.path(), None)
        .await
        .unwrap();
    let report = built.task.precheck().await.unwrap();
    let fk = report
        .get("objects.foreign_keys")
        .expect("a foreign-key check");
    assert_eq!(fk.level, CheckLevel::Warning, "{fk}");
    assert!(
        fk.message.contains(&format!(
            "table {db}.x: foreign key `fk_x_ext` references {outside}.ext, which is not selected"
        )),
        "{fk}"
    );
    assert!(!fk.message.contains("fk_c_p"), "{fk}");
    drop(built);

    let config = dts_core::config::TaskConfig::parse_toml_str(&task_file(true)).unwrap();
    let built = dts_mysql::build_mysql_task(&config, state.path(), None)
        .await
        .unwrap();
    let handle = built.task.handle();
    let task = built.task;
    let runner = tokio::spawn(async move { task.run().await });
    until("incremental write", &handle, || async {
        handle.status().stage(Stage::IncrementalWrite).status == StageStatus::Running
    })
    .await;

    let children = show_create(&dest(), &dst, "children").await;
    for part in [
        "CONSTRAINT `fk_c_p` FOREIGN KEY (`parent_id`) REFERENCES `parents` (`id`) ON DELETE \
         CASCADE ON UPDATE CASCADE",
        "CHECK (`quantity` >= 0)",
        "CONSTRAINT `chk_small` CHECK (`quantity` < 1000)",
        "`hidden` int(11) INVISIBLE DEFAULT 7",
        "KEY `k_qty` (`quantity`)",
    ] {
        assert!(children.contains(part), "{part}\n{children}");
    }
    let parents = show_create(&dest(), &dst, "parents").await;
    assert!(parents.contains("ROW_FORMAT=COMPACT"), "{parents}");
    let pt = show_create(&dest(), &dst, "pt").await;
    assert!(pt.contains("PARTITION BY HASH (`pid`)"), "{pt}");
    assert!(pt.contains("PARTITIONS 3"), "{pt}");
    let x = show_create(&dest(), &dst, "x").await;
    assert!(!x.contains("FOREIGN KEY"), "{x}");
    // Nothing left owed once the copy is done.
    let owed: Option<u64> = d
        .exec_first(
            "SELECT COUNT(*) FROM dts_meta.dts_deferred_foreign_key WHERE task_id = ?",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(owed, Some(0));

    // Invisible values are copied and replayed; cascades at the source arrive once.
    exec_all(
        &mut s,
        &[
            &format!("USE `{db}`"),
            "INSERT INTO c (id, p_id, qty, hidden) VALUES (51, 10, 5, 1000)",
            "UPDATE c SET hidden = hidden + 100 WHERE id <= 3",
            "DELETE FROM p WHERE id = 1",
            "UPDATE p SET id = 100 WHERE id = 2",
        ],
    )
    .await;
    let src_rows = format!("SELECT id, p_id, qty, hidden FROM `{db}`.c ORDER BY id");
    let dst_rows =
        format!("SELECT id, parent_id, quantity, hidden FROM `{dst}`.children ORDER BY id");
    let want = rows(&source(), &src_rows).await;
    assert_eq!(want.len(), 46, "the source cascaded its delete");
    assert!(want.iter().any(|r| r.1 == Some(100)), "and its update");
    until("the children to match", &handle, || async {
        rows(&dest(), &dst_rows).await == want
    })
    .await;
    let parent_ids: Vec<i64> = conn(&dest())
        .await
        .query(format!("SELECT id FROM `{dst}`.parents ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(parent_ids, [3, 4, 5, 6, 7, 8, 9, 10, 100]);

    // The sink writes with foreign_key_checks = 0, so the destination's own ON DELETE CASCADE
    // never runs a second time beside the derived deletes.
    exec_all(
        &mut d,
        &[
            "SET SESSION foreign_key_checks = 0",
            "BEGIN",
            &format!("DELETE FROM `{dst}`.parents WHERE id = 3"),
        ],
    )
    .await;
    let kept: Option<u64> = d
        .query_first(format!(
            "SELECT COUNT(*) FROM `{dst}`.children WHERE parent_id = 3"
        ))
        .await
        .unwrap();
    exec_all(&mut d, &["ROLLBACK"]).await;
    assert_eq!(
        kept,
        Some(5),
        "no cascade at the destination under the sink's session"
    );

    handle.stop();
    runner.await.unwrap().unwrap();
    for (ep, name) in [(source(), &db), (source(), &outside), (dest(), &dst)] {
        exec_all(
            &mut conn(&ep).await,
            &[&format!("DROP DATABASE IF EXISTS `{name}`")],
        )
        .await;
    }
}
