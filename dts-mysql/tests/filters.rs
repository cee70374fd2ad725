//! Objects, mapping and filtering end to end on the real servers (source → destination), each
//! through full sync and then incremental write, with the task built from a configuration the
//! way a host program builds it (`dts_mysql::build_mysql_task`): WHERE filters with rows moving in
//! and out, column subsets with renames under every capitalization policy, batch mapping
//! rules, merged tables, DML/DDL operation selection, tables created later, masking and the
//! ETL hook. Database names start with `fl_`.

mod common;
mod filters_support;

use common::{conn, exec_all, source, unique_name};
use filters_support::*;

/// A WHERE filter is pushed into the full-sync read and evaluated on binlog row images: rows
/// moving into the condition under an UPDATE are inserted at the destination, rows moving out
/// are deleted, and string comparison follows the column's `_ci` collation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn where_filter_moves_rows_in_and_out() {
    let db = unique_name("fl_where");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20) COLLATE utf8mb4_general_ci, \
             d DECIMAL(8,2), n INT NULL)",
            "INSERT INTO t SELECT seq, seq MOD 20, IF(seq MOD 3 = 0, 'Keep', 'drop'), seq / 4, \
             IF(seq MOD 5 = 0, NULL, seq) FROM seq_1_to_200",
            "CREATE TABLE other (id INT PRIMARY KEY, v INT)",
            "INSERT INTO other VALUES (1, 1), (2, 50)",
        ],
    )
    .await;
    let filter = "(v BETWEEN 5 AND 9 OR s = 'KEEP') AND (n IS NULL OR n % 2 = 0 OR d > 40.5) \
                  AND id NOT IN (7, 8)";
    let cfg = config(&format!(
        r#"
[[objects.databases]]
name = "{db}"
[[objects.databases.tables]]
name = "t"
filter = "{filter}"
[[objects.databases.tables]]
name = "other"
filter = "v > 10"
"#
    ));
    let run = start(&cfg).await;
    let expect = |server: &str| format!("SELECT * FROM `{db}`.t {server} ORDER BY id");
    let src_where = format!("WHERE {filter}");
    // Full sync copied exactly the matching rows.
    assert_eq!(
        query_rows(&dest(), &expect("")).await,
        query_rows(&source(), &expect(&src_where)).await
    );
    assert_eq!(
        query_rows(&dest(), &format!("SELECT id FROM `{db}`.other")).await,
        vec![vec![Some("2".to_string())]]
    );
    exec_all(
        &mut s,
        &[
            // Inserts in and out.
            "INSERT INTO t VALUES (1001, 6, 'x', 1, 2), (1002, 1, 'x', 1, 2), (1003, 1, 'keep', 1, NULL)",
            // Moves in (out → in): becomes an insert.
            "UPDATE t SET v = 6 WHERE id IN (1, 2, 4)",
            // Moves out (in → out): becomes a delete.
            "UPDATE t SET s = 'drop', v = 0 WHERE id IN (3, 6, 9)",
            // Stays in: an update.
            "UPDATE t SET d = d + 100 WHERE id = 12",
            // Stays out: nothing.
            "UPDATE t SET d = d + 1 WHERE id = 10",
            // A key change moving a row in.
            "UPDATE t SET id = 2001, s = 'KEEP' WHERE id = 11",
            // Deletes in and out.
            "DELETE FROM t WHERE id IN (15, 16, 18)",
            // In and out in one transaction.
            "BEGIN",
            "UPDATE t SET v = 7 WHERE id = 13",
            "UPDATE t SET v = 0 WHERE id = 13",
            "UPDATE t SET s = 'kEeP', n = NULL WHERE id = 14",
            "COMMIT",
            "UPDATE other SET v = 11 WHERE id = 1",
            "UPDATE other SET v = 0 WHERE id = 2",
        ],
    )
    .await;
    run.finish().await;
    let want = query_rows(&source(), &expect(&src_where)).await;
    assert!(want.len() > 50, "the filter keeps rows: {}", want.len());
    assert_eq!(query_rows(&dest(), &expect("")).await, want);
    assert_eq!(
        query_rows(&dest(), &format!("SELECT id FROM `{db}`.other")).await,
        vec![vec![Some("1".to_string())]]
    );
    cleanup(&[&db]).await;
}

/// A column subset with a column rename, under each capitalization policy: the destination's
/// database, table and column names follow the policy in schema sync, full sync, incremental
/// DML and DDL (an ALTER naming a renamed column is rewritten).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn column_subset_rename_and_capitalization() {
    for (policy, fold_objects, fold_columns) in [
        ("same_as_source", false, false),
        // The test destination keeps names' case (lower_case_table_names = 0): the default
        // policy keeps them too.
        ("dts_default", false, false),
        ("destination_default", true, true),
    ] {
        let db = unique_name("fl_Case");
        let mut s = fresh(&[&db]).await;
        exec_all(
            &mut s,
            &[
                "CREATE TABLE Orders (Id INT PRIMARY KEY, Amount INT, Secret VARCHAR(20), \
                 Note VARCHAR(20), KEY k_note (Note))",
                "INSERT INTO Orders VALUES (1, 10, 's1', 'n1'), (2, 20, 's2', 'n2')",
            ],
        )
        .await;
        let cfg = config(&format!(
            r#"
[migration]
capitalization = "{policy}"
[[objects.databases]]
name = "{db}"
[[objects.databases.tables]]
name = "Orders"
columns = ["Id", "Amount", "Note"]
rename_columns = {{ Note = "Remark" }}
"#
        ));
        let run = start(&cfg).await;
        exec_all(
            &mut s,
            &[
                "INSERT INTO Orders VALUES (3, 30, 's3', 'n3'), (4, 40, 's4', 'n4')",
                "UPDATE Orders SET Note = 'changed', Secret = 'x' WHERE Id = 1",
                "UPDATE Orders SET Secret = 'only secret' WHERE Id = 2",
                "DELETE FROM Orders WHERE Id = 4",
                "ALTER TABLE Orders MODIFY Note VARCHAR(64)",
                "INSERT INTO Orders VALUES (5, 50, 's5', REPEAT('long', 10))",
            ],
        )
        .await;
        run.finish().await;
        let ddb = if fold_objects {
            db.to_lowercase()
        } else {
            db.clone()
        };
        let table = if fold_objects { "orders" } else { "Orders" };
        let cols: Vec<String> = ["Id", "Amount", "Remark"]
            .iter()
            .map(|c| {
                if fold_columns {
                    c.to_lowercase()
                } else {
                    c.to_string()
                }
            })
            .collect();
        assert_eq!(
            databases(&dest(), &db.to_lowercase()).await,
            vec![ddb.clone()],
            "{policy}: database name"
        );
        assert_eq!(tables(&dest(), &ddb).await, vec![table], "{policy}");
        assert_eq!(columns(&dest(), &ddb, table).await, cols, "{policy}");
        let got = query_rows(
            &dest(),
            &format!("SELECT * FROM `{ddb}`.`{table}` ORDER BY 1"),
        )
        .await;
        let want = query_rows(
            &source(),
            &format!("SELECT Id, Amount, Note FROM `{db}`.Orders ORDER BY 1"),
        )
        .await;
        assert_eq!(got, want, "{policy}: rows");
        let width: Vec<String> = {
            let mut c = conn(&dest()).await;
            mysql_async::prelude::Queryable::exec(
                &mut c,
                "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
                 AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                (&ddb, table, &cols[2]),
            )
            .await
            .unwrap()
        };
        assert_eq!(width, vec!["varchar(64)"], "{policy}: renamed ALTER");
        cleanup(&[&db, &ddb]).await;
    }
}

/// The error a configuration is refused with, whether building or the precheck refuses it;
/// checks that nothing was created at the destination.
async fn refused(cfg: &dts_core::config::TaskConfig, db: &str) -> String {
    let e = match build(cfg, |t| t).await {
        Err(e) => e.to_string(),
        Ok((task, ..)) => task
            .run()
            .await
            .expect_err("the task must not start")
            .to_string(),
    };
    assert!(
        databases(&dest(), &format!("{db}%")).await.is_empty(),
        "nothing may start: {e}"
    );
    e
}

/// Bad object configuration is a precheck error naming the key and the object; the task does
/// not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_object_configuration_is_refused_before_anything_starts() {
    let db = unique_name("fl_bad");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE a_t (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE b_t (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE Mixed (id INT PRIMARY KEY)",
            "CREATE TABLE mixed (id INT PRIMARY KEY)",
        ],
    )
    .await;
    let table = |extra: &str| {
        config(&format!(
            "[[objects.databases]]\nname = \"{db}\"\n[[objects.databases.tables]]\nname = \"a_t\"\n{extra}\n"
        ))
    };
    let cases: Vec<(&str, dts_core::config::TaskConfig, Vec<String>)> = vec![
        (
            "invalid regex pattern",
            config(&format!(
                "[[objects.patterns]]\npattern = \"{db}\\\\.(a\"\nkind = \"regex\"\n"
            )),
            vec!["objects.patterns[0].pattern".into()],
        ),
        (
            "invalid exclude pattern",
            config(&format!(
                "[[objects.databases]]\nname = \"{db}\"\n[[objects.exclude]]\npattern = \"[z-a]\"\nkind = \"regex\"\n"
            )),
            vec!["objects.exclude[0].pattern".into()],
        ),
        (
            "WHERE that does not parse",
            table("filter = \"v >< 3 AND\""),
            vec!["objects.databases[0].tables[0].filter".into()],
        ),
        (
            "WHERE naming a missing column",
            table("filter = \"missing_column > 3\""),
            vec![
                "objects.databases[0].tables[0].filter".into(),
                "missing_column".into(),
                "a_t".into(),
            ],
        ),
        (
            "two tables renamed to one",
            config(&format!(
                "[[objects.databases]]\nname = \"{db}\"\n\
                 [[objects.databases.tables]]\nname = \"a_t\"\nrename_to = \"t\"\n\
                 [[objects.databases.tables]]\nname = \"b_t\"\nrename_to = \"t\"\n"
            )),
            vec!["objects.databases[0].tables[1].rename_to".into()],
        ),
        (
            "a mapping rule making two tables collide",
            config(&format!(
                "[[objects.databases]]\nname = \"{db}\"\n\
                 [[objects.mapping_rules]]\nregex = \"^[ab]_\"\nreplacement = \"\"\n"
            )),
            vec!["a_t".into(), "b_t".into(), format!("{db}.t")],
        ),
        (
            "capitalization making two tables collide",
            config(&format!(
                "[migration]\ncapitalization = \"destination_default\"\n\
                 [[objects.databases]]\nname = \"{db}\"\n"
            )),
            vec!["Mixed".into(), "mixed".into()],
        ),
        (
            "a column subset naming a missing column",
            table("columns = [\"id\", \"nope\"]"),
            vec![
                "objects.databases[0].tables[0].columns".into(),
                "nope".into(),
            ],
        ),
        (
            "a fixed mask that does not fit its column",
            config(&format!(
                "[advanced.masking]\nenabled = true\n[[advanced.masking.rules]]\n\
                 database = \"{db}\"\ntable = \"a_t\"\ncolumn = \"v\"\nmethod = \"fixed\"\n\
                 value = \"abc\"\n[[objects.databases]]\nname = \"{db}\"\n"
            )),
            vec![
                "advanced.masking.rules[0].value".into(),
                "a_t".into(),
                "`v`".into(),
            ],
        ),
        (
            "a hash key variable that is not set",
            config(&format!(
                "[advanced.masking]\nenabled = true\n[[advanced.masking.rules]]\n\
                 database = \"{db}\"\ntable = \"a_t\"\ncolumn = \"v\"\nmethod = \"hash\"\n\
                 hash_key_env = \"FL_SURELY_UNSET_KEY\"\n[[objects.databases]]\nname = \"{db}\"\n"
            )),
            vec![
                "advanced.masking.rules[0].hash_key_env".into(),
                "FL_SURELY_UNSET_KEY".into(),
            ],
        ),
        (
            "an ETL script",
            config(&format!(
                "[advanced.etl]\nenabled = true\nscript = \"e_set(`v`, 1)\"\n\
                 [[objects.databases]]\nname = \"{db}\"\n"
            )),
            vec!["advanced.etl".into(), "Task::with_etl".into()],
        ),
    ];
    for (what, cfg, needles) in cases {
        let e = refused(&cfg, &db).await;
        eprintln!("{what}: {e}");
        for needle in needles {
            assert!(e.contains(&needle), "{what}: `{needle}` not in: {e}");
        }
    }
    cleanup(&[&db]).await;
}

/// Batch mapping rules (database suffix, table prefix, column regex) apply to existing tables
/// and to tables created later in the binlog; a whole database and a pattern both pick up new
/// tables, exclusions and unselected tables stay out, and DDL text is rewritten (ALTER with a
/// mapped column, RENAME with mapped tables).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_mapping_and_tables_created_later() {
    let db1 = unique_name("fl_map");
    let db2 = unique_name("fl_pat");
    let dest1 = format!("{db1}_copy");
    let mut s = fresh(&[&db1, &db2]).await;
    {
        let mut d = conn(&dest()).await;
        exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{dest1}`")]).await;
    }
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t1 (id INT PRIMARY KEY, c_name VARCHAR(10))",
            "INSERT INTO t1 VALUES (1, 'a'), (2, 'b')",
            "CREATE TABLE tmp_x (id INT PRIMARY KEY)",
            &format!("CREATE TABLE `{db2}`.log_a (id INT PRIMARY KEY, m VARCHAR(10))"),
            &format!("INSERT INTO `{db2}`.log_a VALUES (1, 'x')"),
            &format!("CREATE TABLE `{db2}`.other (id INT PRIMARY KEY)"),
        ],
    )
    .await;
    let cfg = config(&format!(
        r#"
[[objects.databases]]
name = "{db1}"
[[objects.patterns]]
pattern = "{db2}.log_*"
[[objects.exclude]]
pattern = "{db1}.tmp_*"
[[objects.mapping_rules]]
level = "database"
scope = "{db1}.*"
add_suffix = "_copy"
[[objects.mapping_rules]]
level = "table"
scope = "{db1}.*"
add_prefix = "p_"
[[objects.mapping_rules]]
level = "column"
scope = "{db1}.*"
regex = "^c_"
replacement = "col_"
"#
    ));
    let run = start(&cfg).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO t1 VALUES (3, 'c')",
            "ALTER TABLE t1 ADD COLUMN c_extra INT DEFAULT 7 AFTER c_name",
            "UPDATE t1 SET c_extra = 8 WHERE id = 1",
            "CREATE TABLE t2 (id INT PRIMARY KEY, c_v INT, KEY k_v (c_v))",
            "INSERT INTO t2 VALUES (1, 10), (2, 20)",
            "RENAME TABLE t2 TO t3",
            "INSERT INTO t3 VALUES (3, 30)",
            "ALTER TABLE t3 CHANGE c_v c_w BIGINT",
            "UPDATE t3 SET c_w = 99 WHERE id = 1",
            "CREATE TABLE child (id INT PRIMARY KEY, c_parent INT, \
             CONSTRAINT fk_parent FOREIGN KEY (c_parent) REFERENCES t1 (id))",
            "INSERT INTO child VALUES (1, 1)",
            "ALTER TABLE child ADD CONSTRAINT fk_parent2 FOREIGN KEY (c_parent) REFERENCES t1 (id)",
            "CREATE TABLE t4 LIKE t1",
            "INSERT INTO t4 (id, c_name) VALUES (1, 'like')",
            "CREATE TABLE t5 (id INT PRIMARY KEY)",
            "INSERT INTO t5 VALUES (1)",
            "DROP TABLE t5",
            "CREATE TABLE tmp_y (id INT PRIMARY KEY)",
            "INSERT INTO tmp_y VALUES (1)",
            &format!("CREATE TABLE `{db2}`.log_b (id INT PRIMARY KEY, m VARCHAR(10))"),
            &format!("INSERT INTO `{db2}`.log_b VALUES (5, 'y')"),
            &format!("INSERT INTO `{db2}`.log_a VALUES (2, 'z')"),
            &format!("CREATE TABLE `{db2}`.nolog (id INT PRIMARY KEY)"),
            &format!("INSERT INTO `{db2}`.nolog VALUES (1)"),
            &format!("INSERT INTO `{db2}`.other VALUES (1)"),
        ],
    )
    .await;
    run.finish().await;
    assert!(databases(&dest(), &db1).await.is_empty(), "db1 is renamed");
    assert_eq!(
        tables(&dest(), &dest1).await,
        vec!["p_child", "p_t1", "p_t3", "p_t4"]
    );
    assert_eq!(
        columns(&dest(), &dest1, "p_child").await,
        vec!["id", "col_parent"]
    );
    let fks: Vec<(String, String)> = {
        use mysql_async::prelude::Queryable;
        conn(&dest())
            .await
            .exec(
                "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM \
                 information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? \
                 ORDER BY 1",
                (&dest1,),
            )
            .await
            .unwrap()
    };
    assert_eq!(
        fks,
        vec![
            ("fk_parent".to_string(), "p_t1".to_string()),
            ("fk_parent2".to_string(), "p_t1".to_string())
        ]
    );
    assert_eq!(
        query_rows(
            &dest(),
            &format!("SELECT * FROM `{dest1}`.p_t4 ORDER BY id")
        )
        .await,
        query_rows(&source(), &format!("SELECT * FROM `{db1}`.t4 ORDER BY id")).await
    );
    assert_eq!(
        columns(&dest(), &dest1, "p_t1").await,
        vec!["id", "col_name", "col_extra"]
    );
    assert_eq!(columns(&dest(), &dest1, "p_t3").await, vec!["id", "col_w"]);
    assert_eq!(
        query_rows(
            &dest(),
            &format!("SELECT * FROM `{dest1}`.p_t1 ORDER BY id")
        )
        .await,
        query_rows(&source(), &format!("SELECT * FROM `{db1}`.t1 ORDER BY id")).await
    );
    assert_eq!(
        query_rows(
            &dest(),
            &format!("SELECT * FROM `{dest1}`.p_t3 ORDER BY id")
        )
        .await,
        query_rows(&source(), &format!("SELECT * FROM `{db1}`.t3 ORDER BY id")).await
    );
    assert_eq!(tables(&dest(), &db2).await, vec!["log_a", "log_b"]);
    for t in ["log_a", "log_b"] {
        assert_eq!(
            query_rows(&dest(), &format!("SELECT * FROM `{db2}`.{t} ORDER BY id")).await,
            query_rows(&source(), &format!("SELECT * FROM `{db2}`.{t} ORDER BY id")).await,
            "{t}"
        );
    }
    cleanup(&[&db1, &db2, &dest1]).await;
}

/// DML and DDL operation selection per database, table and pattern: deselected operations
/// never reach the destination, the rest do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operation_selection_is_honoured() {
    let db = unique_name("fl_ops");
    let db2 = unique_name("fl_opsp");
    let db3 = unique_name("fl_opsw");
    let mut s = fresh(&[&db, &db2, &db3]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE no_delete (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE insert_only (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE no_ddl (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE plain (id INT PRIMARY KEY, v INT)",
            "INSERT INTO no_delete VALUES (1, 1), (2, 2), (3, 3)",
            "INSERT INTO insert_only VALUES (1, 1), (2, 2), (3, 3)",
            "INSERT INTO no_ddl VALUES (1, 1), (2, 2)",
            "INSERT INTO plain VALUES (1, 1), (2, 2)",
            &format!("CREATE TABLE `{db2}`.p (id INT PRIMARY KEY, v INT)"),
            &format!("INSERT INTO `{db2}`.p VALUES (1, 1), (2, 2)"),
        ],
    )
    .await;
    let cfg = config(&format!(
        r#"
[[objects.databases]]
name = "{db}"
ddl = ["create_table", "alter_table", "create_index"]
[[objects.databases.tables]]
name = "no_delete"
dml = ["insert", "update"]
[[objects.databases.tables]]
name = "insert_only"
dml = ["insert"]
[[objects.databases.tables]]
name = "no_ddl"
ddl = []
[[objects.databases.tables]]
name = "plain"
[[objects.patterns]]
pattern = "{db2}.*"
dml = ["insert", "delete"]
ddl = ["truncate_table"]
[[objects.databases]]
name = "{db3}"
ddl = ["create_table", "rename_table"]
"#
    ));
    let run = start(&cfg).await;
    // Full sync copies every row whatever the DML choice.
    assert_eq!(
        query_rows(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.insert_only")).await,
        vec![vec![Some("3".to_string())]]
    );
    exec_all(
        &mut s,
        &[
            "INSERT INTO no_delete VALUES (4, 4)",
            "UPDATE no_delete SET v = 20 WHERE id = 2",
            "DELETE FROM no_delete WHERE id IN (1, 3)",
            "INSERT INTO insert_only VALUES (4, 4)",
            "UPDATE insert_only SET v = 20 WHERE id = 2",
            "DELETE FROM insert_only WHERE id = 1",
            "CREATE INDEX k_v ON no_ddl (v)",
            "TRUNCATE TABLE no_ddl",
            "INSERT INTO no_ddl VALUES (9, 9)",
            "ALTER TABLE plain ADD COLUMN w INT DEFAULT 5",
            "CREATE INDEX k_w ON plain (w)",
            "INSERT INTO plain VALUES (3, 3, 6)",
            "TRUNCATE TABLE plain",
            "INSERT INTO plain VALUES (4, 4, 7)",
            &format!("TRUNCATE TABLE `{db2}`.p"),
            &format!("INSERT INTO `{db2}`.p VALUES (3, 3), (4, 4)"),
            &format!("UPDATE `{db2}`.p SET v = 30 WHERE id = 3"),
            &format!("DELETE FROM `{db2}`.p WHERE id = 4"),
            // db3 was empty at the start, so it exists at the destination only once a table
            // is created in it.
            &format!("CREATE TABLE `{db3}`.x (id INT PRIMARY KEY)"),
            &format!("INSERT INTO `{db3}`.x VALUES (1)"),
            &format!("RENAME TABLE `{db3}`.x TO `{db3}`.y"),
            &format!("INSERT INTO `{db3}`.y VALUES (2)"),
            &format!("DROP TABLE `{db3}`.y"),
            &format!("USE `{db3}`"),
            "CREATE TABLE z (id INT PRIMARY KEY)",
            "INSERT INTO z VALUES (7)",
            &format!("USE `{db}`"),
        ],
    )
    .await;
    run.finish().await;
    let q = |sql: String| async move { query_rows(&dest(), &sql).await };
    let pairs = |v: &[(i32, i32)]| -> Vec<Vec<Option<String>>> {
        v.iter()
            .map(|(a, b)| vec![Some(a.to_string()), Some(b.to_string())])
            .collect()
    };
    assert_eq!(
        q(format!("SELECT * FROM `{db}`.no_delete ORDER BY id")).await,
        pairs(&[(1, 1), (2, 20), (3, 3), (4, 4)]),
        "deletes are not synchronized"
    );
    assert_eq!(
        q(format!("SELECT * FROM `{db}`.insert_only ORDER BY id")).await,
        pairs(&[(1, 1), (2, 2), (3, 3), (4, 4)]),
        "only inserts are synchronized"
    );
    assert_eq!(
        q(format!("SELECT * FROM `{db}`.no_ddl ORDER BY id")).await,
        pairs(&[(1, 1), (2, 2), (9, 9)]),
        "no DDL: TRUNCATE not synchronized"
    );
    assert_eq!(
        q(format!(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{db}' \
             AND TABLE_NAME = 'no_ddl' AND INDEX_NAME = 'k_v'"
        ))
        .await,
        vec![vec![Some("0".to_string())]],
        "no DDL: CREATE INDEX not synchronized"
    );
    assert_eq!(
        q(format!("SELECT id, v, w FROM `{db}`.plain ORDER BY id")).await,
        vec![
            vec![Some("1".into()), Some("1".into()), Some("5".into())],
            vec![Some("2".into()), Some("2".into()), Some("5".into())],
            vec![Some("3".into()), Some("3".into()), Some("6".into())],
            vec![Some("4".into()), Some("4".into()), Some("7".into())],
        ],
        "database DDL choice: ALTER synchronized, TRUNCATE not"
    );
    assert_eq!(
        q(format!(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{db}' \
             AND TABLE_NAME = 'plain' AND INDEX_NAME = 'k_w'"
        ))
        .await,
        vec![vec![Some("1".to_string())]],
        "database DDL choice: CREATE INDEX synchronized"
    );
    assert_eq!(
        q(format!("SELECT * FROM `{db2}`.p ORDER BY id")).await,
        pairs(&[(3, 3)]),
        "pattern: truncate, inserts and deletes synchronized, updates not"
    );
    assert_eq!(
        q(format!("SELECT * FROM `{db3}`.y ORDER BY id")).await,
        vec![vec![Some("1".to_string())], vec![Some("2".to_string())]],
        "whole database: CREATE and RENAME synchronized, DROP not"
    );
    assert_eq!(
        q(format!("SELECT * FROM `{db3}`.z")).await,
        vec![vec![Some("7".to_string())]]
    );
    cleanup(&[&db, &db2, &db3]).await;
}

/// Masking rules of every kind are visible in the destination, for rows of the full sync and
/// of incremental inserts and updates; NULL stays NULL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn masking_is_visible_in_the_destination() {
    let db = unique_name("fl_mask");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(64), phone VARCHAR(20), \
             name VARCHAR(30), salary INT, note VARCHAR(10), login VARCHAR(64), \
             city VARCHAR(8), age SMALLINT)",
            "INSERT INTO users VALUES (1, 'a@example.com', '13812345678', 'Alice', 5000, 'n1', \
             'alice', 'Paris', 30), (2, NULL, NULL, NULL, NULL, 'n2', NULL, NULL, NULL)",
        ],
    )
    .await;
    let rule = |column: &str, method: &str, extra: &str| {
        format!(
            "[[advanced.masking.rules]]\ndatabase = \"{db}\"\ntable = \"users\"\n\
             column = \"{column}\"\nmethod = \"{method}\"\n{extra}\n"
        )
    };
    // The key of the keyed hash, from the environment as a host would supply it.
    let key_var = format!("FL_MASK_KEY_{}", std::process::id());
    let key = b"fl-secret-key";
    std::env::set_var(&key_var, std::str::from_utf8(key).unwrap());
    let cfg = config(&format!(
        "[advanced.masking]\nenabled = true\n{}{}{}{}{}{}{}[[objects.databases]]\nname = \"{db}\"\n",
        rule("email", "hash", ""),
        rule("phone", "partial", "keep_first = 3\nkeep_last = 2"),
        rule("name", "redact", ""),
        rule("salary", "redact", ""),
        rule("login", "hash", &format!("hash_key_env = \"{key_var}\"")),
        rule("city", "fixed", "value = \"somewhere far\""),
        rule("age", "fixed", "value = \"-1\""),
    ));
    let run = start(&cfg).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO users VALUES (3, 'b@example.com', '5551234', 'Bob', 7000, 'n3', 'bob', \
             'Rome', 40)",
            "UPDATE users SET email = 'c@example.com', phone = '0987654321', login = 'al' \
             WHERE id = 1",
            "UPDATE users SET note = 'changed' WHERE id = 3",
            "UPDATE users SET email = 'd@example.com', name = 'Dan' WHERE id = 2",
        ],
    )
    .await;
    run.finish().await;
    let got = query_rows(&dest(), &format!("SELECT * FROM `{db}`.users ORDER BY id")).await;
    // Expected values computed by the source server from the clear values; the keyed hash is
    // HMAC-SHA-256 spelled out in SQL (RFC 2104, 64-byte blocks).
    let pad = |byte: u8| {
        let mut block = [0u8; 64];
        block[..key.len()].copy_from_slice(key);
        block
            .iter()
            .map(|b| format!("{:02x}", b ^ byte))
            .collect::<String>()
    };
    let hmac = format!(
        "SHA2(CONCAT(UNHEX('{}'), UNHEX(SHA2(CONCAT(UNHEX('{}'), login), 256))), 256)",
        pad(0x5c),
        pad(0x36)
    );
    let want = query_rows(
        &source(),
        &format!(
            "SELECT id, SHA2(email, 256), \
             IF(phone IS NULL, NULL, CONCAT(LEFT(phone, 3), REPEAT('*', CHAR_LENGTH(phone) - 5), \
             RIGHT(phone, 2))), IF(name IS NULL, NULL, '******'), IF(salary IS NULL, NULL, 0), \
             note, {hmac}, IF(city IS NULL, NULL, 'somewher'), IF(age IS NULL, NULL, -1) \
             FROM `{db}`.users ORDER BY id"
        ),
    )
    .await;
    assert_eq!(got, want);
    assert_eq!(got[0][2].as_deref(), Some("098*****21"));
    assert_eq!(got[1][2], None, "NULL stays NULL");
    assert_eq!(
        got[0][7].as_deref(),
        Some("somewher"),
        "fixed, cut to the column"
    );
    assert_eq!(got[2][8].as_deref(), Some("-1"), "fixed number");
    assert_ne!(
        got[0][6],
        query_rows(
            &source(),
            &format!("SELECT SHA2(login, 256) FROM `{db}`.users WHERE id = 1")
        )
        .await[0][0],
        "the keyed hash differs from the plain one"
    );
    cleanup(&[&db]).await;
}

/// The ETL hook (`Task::with_etl`) modifies, drops and splits changes, in the full sync (rows
/// arrive as INSERTs) and in incremental write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn etl_hook_modifies_drops_and_splits_changes() {
    use dts_core::{RowChange, RowOp, Value};
    let db = unique_name("fl_etl");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, kind VARCHAR(10), v VARCHAR(20))",
            "INSERT INTO t VALUES (1, 'keep', 'Mixed'), (2, 'test', 'x'), (3, 'split', 'S')",
        ],
    )
    .await;
    // Upper-cases `v`, drops kind = 'test', and splits kind = 'split' into the row and a copy
    // with id + 1000.
    let etl = |mut c: RowChange| -> Vec<RowChange> {
        let image = c.after.as_ref().or(c.before.as_ref()).unwrap();
        let kind = match &image[1] {
            Value::Text(k) => k.clone(),
            _ => String::new(),
        };
        if kind == "test" {
            return vec![];
        }
        if let Some(after) = c.after.as_mut() {
            if let Value::Text(v) = &after[2] {
                after[2] = Value::Text(v.to_uppercase());
            }
        }
        if kind == "split" && c.op != RowOp::Delete {
            let mut copy = c.clone();
            for row in [copy.before.as_mut(), copy.after.as_mut()]
                .into_iter()
                .flatten()
            {
                if let Value::Int(id) = row[0] {
                    row[0] = Value::Int(id + 1000);
                }
            }
            return vec![c, copy];
        }
        vec![c]
    };
    let cfg = config(&format!("[[objects.databases]]\nname = \"{db}\"\n"));
    let run = start_with(&cfg, |t| t.with_etl(std::sync::Arc::new(etl))).await;
    let after_full = query_rows(&dest(), &format!("SELECT * FROM `{db}`.t ORDER BY id")).await;
    let row =
        |id: i32, k: &str, v: &str| vec![Some(id.to_string()), Some(k.into()), Some(v.into())];
    assert_eq!(
        after_full,
        vec![
            row(1, "keep", "MIXED"),
            row(3, "split", "S"),
            row(1003, "split", "S")
        ]
    );
    exec_all(
        &mut s,
        &[
            "INSERT INTO t VALUES (4, 'keep', 'lower'), (5, 'test', 'x'), (6, 'split', 'six')",
            "UPDATE t SET v = 'upd' WHERE id IN (1, 3)",
            "UPDATE t SET v = 'hidden' WHERE id = 2",
            "DELETE FROM t WHERE id = 4",
        ],
    )
    .await;
    run.finish().await;
    assert_eq!(
        query_rows(&dest(), &format!("SELECT * FROM `{db}`.t ORDER BY id")).await,
        vec![
            row(1, "keep", "UPD"),
            row(3, "split", "UPD"),
            row(6, "split", "SIX"),
            row(1003, "split", "UPD"),
            row(1006, "split", "SIX"),
        ]
    );
    cleanup(&[&db]).await;
}

/// Several source tables mapped to one destination table (what a merging destination needs):
/// the filter of a configuration with `merge_tables = true` routes both shards' full-sync rows
/// and incremental changes into one table, here written by the MySQL sink.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_tables_merge_into_one_destination_table() {
    use dts_core::objects::ConfigFilter;
    use dts_core::{FileCheckpointStore, Task, TaskOptions};
    use dts_mysql::sink::{MysqlSink, SinkOptions};
    use std::sync::Arc;
    let db = unique_name("fl_merge");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE shard_1 (id INT PRIMARY KEY, v VARCHAR(10))",
            "CREATE TABLE shard_2 (id INT PRIMARY KEY, v VARCHAR(10))",
            "CREATE TABLE single (id INT PRIMARY KEY)",
            "INSERT INTO shard_1 VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO shard_2 VALUES (101, 'x'), (102, 'y')",
            "INSERT INTO single VALUES (1)",
        ],
    )
    .await;
    // The destination type decides whether merging is allowed; the rows go to the MySQL
    // destination through a MySQL sink.
    let text = config_text(&format!(
        r#"
[[objects.databases]]
name = "{db}"
[[objects.databases.tables]]
name = "shard_1"
rename_to = "all_shards"
[[objects.databases.tables]]
name = "shard_2"
rename_to = "all_shards"
[[objects.databases.tables]]
name = "single"
"#
    ))
    .replace("type = \"mysql\"", "type = \"adb\"\nmerge_tables = true");
    let cfg = dts_core::config::TaskConfig::parse_toml_str(&text).unwrap();
    cfg.validate().unwrap();
    // The same selection towards a MySQL destination is a collision.
    let mysql = config_text(&format!(
        "[[objects.databases]]\nname = \"{db}\"\n[[objects.databases.tables]]\nname = \"shard_1\"\n\
         rename_to = \"all_shards\"\n[[objects.databases.tables]]\nname = \"shard_2\"\n\
         rename_to = \"all_shards\"\n"
    ));
    let e = dts_core::config::TaskConfig::parse_toml_str(&mysql)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("merge_tables"), "{e}");

    let filter = Arc::new(ConfigFilter::from_config(&cfg).unwrap());
    let task_id = unique_name("fl_merge_task");
    let reader = Arc::new(common::reader(source(), &db).await);
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
    let state = tempfile::tempdir().unwrap();
    let task = Task::new(
        reader.clone(),
        sink.clone(),
        filter,
        Arc::new(FileCheckpointStore::new(state.path().join("s.json"))),
        TaskOptions {
            task_id,
            ..Default::default()
        },
    );
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, std::time::Duration::from_secs(60)).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO shard_1 VALUES (3, 'c')",
            "INSERT INTO shard_2 VALUES (103, 'z')",
            "UPDATE shard_1 SET v = 'A' WHERE id = 1",
            "UPDATE shard_2 SET v = 'X' WHERE id = 101",
            "DELETE FROM shard_2 WHERE id = 102",
            "INSERT INTO single VALUES (2)",
        ],
    )
    .await;
    let target = dts_core::Source::current_position(&*reader).await.unwrap();
    dts_testkit::wait_checkpoint(&handle, &*sink, &target, std::time::Duration::from_secs(60))
        .await;
    handle.stop();
    runner.await.unwrap().unwrap();
    assert_eq!(tables(&dest(), &db).await, vec!["all_shards", "single"]);
    assert_eq!(
        query_rows(
            &dest(),
            &format!("SELECT * FROM `{db}`.all_shards ORDER BY id")
        )
        .await,
        query_rows(
            &source(),
            &format!(
                "SELECT * FROM `{db}`.shard_1 UNION ALL SELECT * FROM `{db}`.shard_2 ORDER BY id"
            )
        )
        .await
    );
    assert_eq!(
        query_rows(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.single")).await,
        vec![vec![Some("2".to_string())]]
    );
    cleanup(&[&db]).await;
}

/// A WHERE filter may name columns left out of a column subset, in any letter case: it is
/// evaluated on the full source row, before projection and renaming.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn where_filter_on_columns_outside_the_subset() {
    let db = unique_name("fl_wsub");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, Region VARCHAR(10), amount DECIMAL(10,2), \
             payload VARCHAR(20))",
            "INSERT INTO t VALUES (1, 'eu', 10, 'a'), (2, 'us', 20, 'b'), (3, 'EU', 30, 'c')",
        ],
    )
    .await;
    let cfg = config(&format!(
        r#"
[[objects.databases]]
name = "{db}"
[[objects.databases.tables]]
name = "t"
columns = ["id", "payload"]
rename_columns = {{ payload = "data" }}
filter = "region = 'eu' AND AMOUNT * 2 >= 20"
"#
    ));
    let run = start(&cfg).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO t VALUES (4, 'Eu', 5, 'small'), (5, 'eu', 50, 'big')",
            "UPDATE t SET region = 'us' WHERE id = 1",
            "UPDATE t SET region = 'eu', payload = 'moved' WHERE id = 2",
            "UPDATE t SET amount = 100 WHERE id = 4",
        ],
    )
    .await;
    run.finish().await;
    assert_eq!(columns(&dest(), &db, "t").await, vec!["id", "data"]);
    assert_eq!(
        query_rows(&dest(), &format!("SELECT * FROM `{db}`.t ORDER BY id")).await,
        query_rows(
            &source(),
            &format!(
                "SELECT id, payload FROM `{db}`.t WHERE region = 'eu' AND AMOUNT * 2 >= 20 \
                 ORDER BY id"
            )
        )
        .await
    );
    cleanup(&[&db]).await;
}

/// Selecting a database whole carries its views and routines; selecting tables does not.
/// Triggers are not replayed under the guide's default trigger method (manual).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn table_selection_leaves_out_views_triggers_and_routines() {
    let whole = unique_name("fl_objw");
    let listed = unique_name("fl_objl");
    let mut s = fresh(&[&whole, &listed]).await;
    for db in [&whole, &listed] {
        exec_all(
            &mut s,
            &[
                &format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"),
                &format!("INSERT INTO `{db}`.t VALUES (1, 1)"),
            ],
        )
        .await;
    }
    let cfg = config(&format!(
        "[[objects.databases]]\nname = \"{whole}\"\n\
         [[objects.databases]]\nname = \"{listed}\"\n[[objects.databases.tables]]\nname = \"t\"\n"
    ));
    let run = start(&cfg).await;
    for db in [&whole, &listed] {
        exec_all(
            &mut s,
            &[
                &format!("CREATE VIEW `{db}`.v AS SELECT id FROM `{db}`.t"),
                &format!(
                    "CREATE TRIGGER `{db}`.trg BEFORE INSERT ON `{db}`.t FOR EACH ROW \
                     SET NEW.v = NEW.v + 1000"
                ),
                &format!("CREATE PROCEDURE `{db}`.p() SELECT 1"),
                &format!("INSERT INTO `{db}`.t VALUES (2, 2)"),
            ],
        )
        .await;
    }
    run.finish().await;
    let mut d = conn(&dest()).await;
    use mysql_async::prelude::Queryable;
    // Triggers stay out under the default `migration.triggers = "manual"`.
    for (db, views) in [(&whole, 1), (&listed, 0)] {
        let n_views: u64 = d
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?",
                (db,),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n_views, views, "{db}: views");
        let n_triggers: u64 = d
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
                (db,),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n_triggers, 0, "{db}: triggers");
        let n_routines: u64 = d
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?",
                (db,),
            )
            .await
            .unwrap()
            .unwrap();
        // A database selected whole gets its routines (created mid-stream too); a table
        // selection leaves them out, as the guide says.
        assert_eq!(n_routines, views, "{db}: routines");
        // The trigger's effect arrives through the binlog row image, once.
        assert_eq!(
            query_rows(&dest(), &format!("SELECT v FROM `{db}`.t ORDER BY id")).await,
            vec![vec![Some("1".to_string())], vec![Some("1002".to_string())]],
            "{db}"
        );
    }
    cleanup(&[&whole, &listed]).await;
}

/// A table created after the precheck whose mapped name collides with another selected table's
/// destination: the task must not merge the two silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn later_table_colliding_through_a_mapping_rule_is_not_merged_silently() {
    let db = unique_name("fl_coll");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE a_t (id INT PRIMARY KEY, v INT)",
            "INSERT INTO a_t VALUES (1, 1)",
        ],
    )
    .await;
    let cfg = config(&format!(
        "[[objects.databases]]\nname = \"{db}\"\n\
         [[objects.mapping_rules]]\nregex = \"^[ab]_\"\nreplacement = \"\"\n"
    ));
    let run = start(&cfg).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE b_t (id INT PRIMARY KEY, v INT)",
            "INSERT INTO b_t VALUES (1, 100)",
            "INSERT INTO a_t VALUES (2, 2)",
        ],
    )
    .await;
    let e = run.failure().await;
    eprintln!("{e}");
    assert!(e.contains("a_t") && e.contains("b_t"), "{e}");
    assert_eq!(
        query_rows(&dest(), &format!("SELECT * FROM `{db}`.t ORDER BY id")).await,
        vec![vec![Some("1".to_string()), Some("1".to_string())]],
        "nothing of b_t reached a_t's destination table"
    );
    cleanup(&[&db]).await;
}

/// The default capitalization policy towards a destination that stores names in lower case
/// (`lower_case_table_names` ≠ 0, told to the task builder as the MySQL sink factory does after
/// reading the variable): database and table names become lower-case, column names keep the source's
/// case, in schema sync, full sync, DML and DDL alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn default_capitalization_towards_a_lower_casing_destination() {
    use dts_core::build::{BuiltSink, SinkFactory, SinkRequest, TaskBuilder};
    use dts_core::config::{DestinationKind, TaskConfig};
    use dts_mysql::{MysqlSinkFactory, MysqlSourceFactory};

    /// The MySQL destination connector, telling the builder its server folds names to lower
    /// case (as `lower_case_table_names` ≠ 0 would).
    struct LowerCasing(MysqlSinkFactory);

    #[async_trait::async_trait]
    impl SinkFactory for LowerCasing {
        fn kind(&self) -> DestinationKind {
            DestinationKind::Mysql
        }
        async fn folds_names_to_lower(&self, _: &TaskConfig) -> dts_core::Result<bool> {
            Ok(true)
        }
        async fn build(&self, request: SinkRequest<'_>) -> dts_core::Result<BuiltSink> {
            self.0.build(request).await
        }
    }
    let db = unique_name("fl_Lower");
    let ddb = db.to_lowercase();
    let mut s = fresh(&[&db]).await;
    cleanup_dest(&ddb).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE Orders (Id INT PRIMARY KEY, Amount INT)",
            "INSERT INTO Orders VALUES (1, 10)",
        ],
    )
    .await;
    let cfg = config(&format!("[[objects.databases]]\nname = \"{db}\"\n"));
    let state = tempfile::tempdir().unwrap();
    let sources = MysqlSourceFactory::default();
    let sinks = MysqlSinkFactory::default();
    let task = TaskBuilder::new(&cfg, state.path())
        .source(sources.clone())
        .sink(LowerCasing(sinks.clone()))
        .build()
        .await
        .unwrap()
        .task;
    let (reader, sink) = (sources.built().unwrap(), sinks.built().unwrap());
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    let running = Running::new(handle, runner, reader, sink, state).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO Orders VALUES (2, 20)",
            "ALTER TABLE Orders ADD COLUMN NoteText VARCHAR(10) DEFAULT 'd'",
            "UPDATE Orders SET Amount = 11, NoteText = 'x' WHERE Id = 1",
        ],
    )
    .await;
    running.finish().await;
    assert!(databases(&dest(), &db).await.iter().all(|d| d == &ddb));
    assert_eq!(tables(&dest(), &ddb).await, vec!["orders"]);
    assert_eq!(
        columns(&dest(), &ddb, "orders").await,
        vec!["Id", "Amount", "NoteText"]
    );
    assert_eq!(
        query_rows(&dest(), &format!("SELECT * FROM `{ddb}`.orders ORDER BY 1")).await,
        query_rows(
            &source(),
            &format!("SELECT * FROM `{db}`.Orders ORDER BY 1")
        )
        .await
    );
    cleanup(&[&db, &ddb]).await;
}

async fn cleanup_dest(db: &str) {
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
}

/// The incremental evaluation of a WHERE filter agrees with the server's: the same rows pass
/// whether the source evaluates the filter (full sync, and the reference query) or the task
/// evaluates it on binlog row images (every row moves in through one UPDATE of `flag`).
/// Covers temporal, decimal, enum, set, NULL, collation, arithmetic (infix `MOD` too), LIKE,
/// BETWEEN and the allowed functions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn where_filter_evaluation_matches_the_server() {
    let db = unique_name("fl_wdiff");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, flag INT, dt DATETIME(3), d DATE, \
             ts TIMESTAMP NULL, amount DECIMAL(10,3), f DOUBLE, e ENUM('a','b','c'), \
             st SET('x','y','z'), s VARCHAR(20) COLLATE utf8mb4_general_ci, \
             bs VARBINARY(10), u BIGINT UNSIGNED, n INT NULL)",
            "INSERT INTO t SELECT seq, 0, '2024-01-01' + INTERVAL seq HOUR + INTERVAL seq MOD 7 SECOND, \
             '2024-01-01' + INTERVAL seq DAY, FROM_UNIXTIME(1700000000 + seq * 3600), \
             seq / 7, seq / 3.0, ELT(1 + seq MOD 3, 'a', 'b', 'c'), \
             ELT(1 + seq MOD 4, 'x', 'x,y', '', 'y,z'), \
             ELT(1 + seq MOD 6, 'Apple', 'apricot', 'BANANA', 'cherry ', NULL, 'Äpfel'), \
             UNHEX(HEX(seq)), 18446744073709551615 - seq, IF(seq MOD 4 = 0, NULL, seq MOD 9) \
             FROM seq_1_to_300",
        ],
    )
    .await;
    let conditions = [
        "dt >= '2024-01-03 12:00:00' AND d < '2024-06-01'",
        "amount BETWEEN 5.5 AND 20.125 OR f > 90",
        "e IN ('a', 'c') AND NOT (n IS NULL)",
        "s LIKE 'ap%' OR s = 'banana' OR s = 'cherry'",
        "n + 1 > 5 OR n IS NULL AND id % 2 = 0",
        "u > 18446744073709551500 AND id MOD 3 <> 1",
        "LENGTH(s) = 7 AND UPPER(s) <> 'APRICOT'",
        "ts > '2023-11-15 12:00:00' AND YEAR(dt) = 2024 AND MONTH(d) IN (1, 2)",
        "COALESCE(n, 100) >= 8 OR ABS(amount - 10) < 1",
        "st = 'x,y' OR st = ''",
        "s = 'apfel' OR s > 'BAN' AND s < 'c'",
        "SUBSTRING(s, 2, 3) = 'ppl' OR CONCAT(e, '-', id) = 'b-4'",
        "IFNULL(s, 'none') = 'none' OR TRIM(s) = 'cherry'",
    ];
    let mut body = format!("[[objects.databases]]\nname = \"{db}\"\n");
    let mut statements = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        let name = format!("t{i}");
        statements.push(format!("CREATE TABLE {name} LIKE t"));
        statements.push(format!("INSERT INTO {name} SELECT * FROM t"));
        body.push_str(&format!(
            "[[objects.databases.tables]]\nname = \"{name}\"\nfilter = \"flag = 1 AND ({})\"\n",
            c.replace('"', "\\\"")
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    exec_all(&mut s, &statements).await;
    let run = start(&config(&body)).await;
    let updates: Vec<String> = (0..conditions.len())
        .map(|i| format!("UPDATE t{i} SET flag = 1"))
        .collect();
    let updates: Vec<&str> = updates.iter().map(String::as_str).collect();
    exec_all(&mut s, &updates).await;
    run.finish().await;
    for (i, c) in conditions.iter().enumerate() {
        let want = query_rows(
            &source(),
            &format!("SELECT id FROM `{db}`.t{i} WHERE {c} ORDER BY id"),
        )
        .await;
        let got = query_rows(&dest(), &format!("SELECT id FROM `{db}`.t{i} ORDER BY id")).await;
        assert!(
            !want.is_empty() && want.len() < 300,
            "{c}: {} rows",
            want.len()
        );
        assert_eq!(got, want, "filter `{c}`");
    }
    cleanup(&[&db]).await;
}

/// A key-less table the selection leaves out does not hold the task up: the source's
/// key-less-table warning is judged on the selected tables only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unselected_keyless_table_does_not_block_the_precheck() {
    let db = unique_name("fl_keyless");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE orders_1 (id INT PRIMARY KEY, v INT)",
            "INSERT INTO orders_1 VALUES (1, 1), (2, 2)",
            "CREATE TABLE audit (v INT)",
            "INSERT INTO audit VALUES (1)",
        ],
    )
    .await;
    let cfg = config(&format!(
        "[[objects.patterns]]\npattern = \"{db}.orders_*\"\n"
    ));
    let run = start(&cfg).await;
    exec_all(&mut s, &["INSERT INTO orders_1 VALUES (3, 3)"]).await;
    run.finish().await;
    assert_eq!(tables(&dest(), &db).await, vec!["orders_1".to_string()]);
    assert_eq!(
        query_rows(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.orders_1")).await,
        vec![vec![Some("3".to_string())]]
    );
    // Selected, the same table is reported (by name) and blocks until acknowledged.
    let cfg = config(&format!("[[objects.patterns]]\npattern = \"{db}.*\"\n"));
    let (task, _, _, _state) = build(&cfg, |t| t).await.unwrap();
    let err = task.run().await.unwrap_err().to_string();
    assert!(
        err.contains("tables_without_primary_key") && err.contains(&format!("{db}.audit")),
        "{err}"
    );
    // Acknowledged in the configuration, the warning no longer blocks (into a fresh
    // destination database).
    exec_all(
        &mut conn(&dest()).await,
        &[&format!("DROP DATABASE `{db}`")],
    )
    .await;
    let cfg = dts_core::config::TaskConfig {
        acknowledge_warnings: vec!["source.tables_without_primary_key".into()],
        ..config(&format!("[[objects.patterns]]\npattern = \"{db}.*\"\n"))
    };
    let run = start(&cfg).await;
    run.finish().await;
    assert_eq!(
        query_rows(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.audit")).await,
        vec![vec![Some("1".to_string())]]
    );
    cleanup(&[&db]).await;
}
