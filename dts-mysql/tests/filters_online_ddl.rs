//! Online DDL tools on the real servers under each `advanced.online_ddl` mode: a gh-ost-shaped
//! migration (shadow `_t_gho`, changelog `_t_ghc`, atomic cut-over `RENAME TABLE t TO _t_del,
//! _t_gho TO t`, drop of `_t_del`) and the DMS-shaped one (`_t_new` / `_t_old`), during
//! incremental write, with the destination's `t` checked afterwards (schema and rows). In the
//! adapt modes the destination's `t` is altered in place, never dropped or replaced; in `yes`
//! mode the temporary tables are synchronized like any table. pt-online-schema-change is
//! refused at precheck and at run time. Database names start with `fl_`.

mod common;
mod filters_support;

use common::{conn, exec_all, source, unique_name};
use filters_support::*;
use mysql_async::prelude::Queryable;

/// Column names and types of a table, in order.
async fn column_types(
    ep: &dts_mysql::MysqlEndpoint,
    db: &str,
    table: &str,
) -> Vec<(String, String)> {
    let mut c = conn(ep).await;
    c.exec(
        "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
         AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (db, table),
    )
    .await
    .unwrap()
}

/// Index names of a table.
async fn index_names(ep: &dts_mysql::MysqlEndpoint, db: &str, table: &str) -> Vec<String> {
    let mut c = conn(ep).await;
    c.exec(
        "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? \
         AND TABLE_NAME = ? ORDER BY 1",
        (db, table),
    )
    .await
    .unwrap()
}

/// Which tool's table names a migration uses.
#[derive(Clone, Copy, Debug)]
enum Tool {
    /// `_t_gho`, `_t_ghc`, `_t_del`.
    GhOst,
    /// `_t_new`, `_t_old`.
    Dms,
}

/// Runs one online schema change of `tool` on `t` during incremental write under `mode`, and
/// checks the destination afterwards.
async fn online_schema_change(tool: Tool, mode: &str) {
    let db = unique_name("fl_osc");
    let mut s = fresh(&[&db]).await;
    let (shadow, useless) = match tool {
        Tool::GhOst => ("_t_gho", "_t_del"),
        Tool::Dms => ("_t_new", "_t_old"),
    };
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20))",
            "INSERT INTO t SELECT seq, seq, CONCAT('r', seq) FROM seq_1_to_100",
            // A leftover of an earlier migration: a temporary table full sync must skip in the
            // adapt modes.
            "CREATE TABLE _u_del (id INT PRIMARY KEY)",
            "INSERT INTO _u_del VALUES (1), (2)",
        ],
    )
    .await;
    let adapt = mode != "yes";
    let cfg = config(&format!(
        "[advanced]\nonline_ddl = \"{mode}\"\n[[objects.databases]]\nname = \"{db}\"\n"
    ));
    let run = start(&cfg).await;
    // A row only the destination has: it survives only if the destination's `t` is never
    // dropped or replaced.
    let mut d = conn(&dest()).await;
    exec_all(
        &mut d,
        &[&format!(
            "INSERT INTO `{db}`.t VALUES (9999, 0, 'destination only')"
        )],
    )
    .await;
    let mut steps: Vec<String> = vec![
        format!("CREATE TABLE {shadow} LIKE t"),
        format!(
            "ALTER TABLE {shadow} ADD COLUMN extra VARCHAR(10) DEFAULT 'dflt', ADD KEY k_v (v)"
        ),
    ];
    if let Tool::GhOst = tool {
        steps.extend([
            "CREATE TABLE _t_ghc (id BIGINT AUTO_INCREMENT PRIMARY KEY, hint VARCHAR(64), \
             value TEXT, UNIQUE KEY uq_hint (hint))"
                .to_string(),
            "INSERT INTO _t_ghc (hint, value) VALUES ('state', 'migrating')".to_string(),
        ]);
    }
    steps.extend([
        // Copy the first chunk.
        format!("INSERT INTO {shadow} (id, v, s) SELECT id, v, s FROM t WHERE id <= 50"),
        // Changes on t, and the tool applying them to the shadow table.
        "UPDATE t SET v = v + 1000 WHERE id IN (10, 60)".to_string(),
        format!("REPLACE INTO {shadow} (id, v, s) SELECT id, v, s FROM t WHERE id = 10"),
        "INSERT INTO t VALUES (101, 101, 'new on t')".to_string(),
        format!("REPLACE INTO {shadow} (id, v, s) VALUES (101, 101, 'new on t')"),
        "DELETE FROM t WHERE id IN (20, 70)".to_string(),
        format!("DELETE FROM {shadow} WHERE id = 20"),
        // Copy the rest.
        format!("INSERT IGNORE INTO {shadow} (id, v, s) SELECT id, v, s FROM t WHERE id > 50"),
    ]);
    if let Tool::GhOst = tool {
        steps.push(
            "INSERT INTO _t_ghc (hint, value) VALUES ('state', 'cut-over') \
             ON DUPLICATE KEY UPDATE value = VALUES(value)"
                .to_string(),
        );
    }
    steps.extend([
        format!("RENAME TABLE t TO {useless}, {shadow} TO t"),
        format!("DROP TABLE {useless}"),
    ]);
    if let Tool::GhOst = tool {
        steps.push("DROP TABLE _t_ghc".to_string());
    }
    steps.extend([
        "INSERT INTO t (id, v, s, extra) VALUES (102, 102, 'after', 'new')".to_string(),
        "UPDATE t SET extra = 'upd', v = v + 1 WHERE id IN (1, 101)".to_string(),
        "DELETE FROM t WHERE id = 2".to_string(),
    ]);
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    exec_all(&mut s, &steps).await;
    run.finish().await;

    let what = format!("{tool:?} under {mode}");
    assert_eq!(
        column_types(&dest(), &db, "t").await,
        column_types(&source(), &db, "t").await,
        "{what}: schema of t"
    );
    assert_eq!(
        index_names(&dest(), &db, "t").await,
        index_names(&source(), &db, "t").await,
        "{what}: indexes of t"
    );
    let all = format!("SELECT * FROM `{db}`.t WHERE id <> 9999 ORDER BY id");
    let want = query_rows(&source(), &all).await;
    assert_eq!(want.len(), 99, "{what}: source rows");
    assert_eq!(query_rows(&dest(), &all).await, want, "{what}: rows of t");
    let marker = query_rows(&dest(), &format!("SELECT id FROM `{db}`.t WHERE id = 9999")).await;
    let expected_tables: Vec<String> = if adapt {
        assert_eq!(marker.len(), 1, "{what}: the destination's t was replaced");
        vec!["t".into()]
    } else {
        // In `yes` mode the shadow table, synchronized like any table, replaced t.
        assert!(
            marker.is_empty(),
            "{what}: the cut-over RENAME was not replayed"
        );
        vec!["_u_del".into(), "t".into()]
    };
    let mut got = tables(&dest(), &db).await;
    got.sort();
    assert_eq!(got, expected_tables, "{what}: tables");
    cleanup(&[&db]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gh_ost_migration_under_no_gh_ost() {
    online_schema_change(Tool::GhOst, "no_gh_ost").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gh_ost_migration_under_no_dms() {
    online_schema_change(Tool::GhOst, "no_dms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gh_ost_migration_under_yes() {
    online_schema_change(Tool::GhOst, "yes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_migration_under_no_dms() {
    online_schema_change(Tool::Dms, "no_dms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_migration_under_no_gh_ost() {
    online_schema_change(Tool::Dms, "no_gh_ost").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_migration_under_yes() {
    online_schema_change(Tool::Dms, "yes").await;
}

/// pt-online-schema-change's objects for table `t` of `db`: the copy table `_t_new` and the
/// three triggers that feed it.
fn pt_osc_statements(db: &str) -> Vec<String> {
    let mut out = vec![
        "CREATE TABLE `_t_new` (id INT PRIMARY KEY, v INT, s VARCHAR(20), extra INT)".to_string(),
    ];
    out.push(format!(
        "CREATE TRIGGER `pt_osc_{db}_t_del` AFTER DELETE ON `{db}`.`t` FOR EACH ROW \
         DELETE IGNORE FROM `{db}`.`_t_new` WHERE `{db}`.`_t_new`.`id` <=> OLD.`id`"
    ));
    out.push(format!(
        "CREATE TRIGGER `pt_osc_{db}_t_upd` AFTER UPDATE ON `{db}`.`t` FOR EACH ROW \
         REPLACE INTO `{db}`.`_t_new` (`id`, `v`, `s`) VALUES (NEW.`id`, NEW.`v`, NEW.`s`)"
    ));
    out.push(format!(
        "CREATE TRIGGER `pt_osc_{db}_t_ins` AFTER INSERT ON `{db}`.`t` FOR EACH ROW \
         REPLACE INTO `{db}`.`_t_new` (`id`, `v`, `s`) VALUES (NEW.`id`, NEW.`v`, NEW.`s`)"
    ));
    out
}

/// A source connection to the spare server (these tests leave pt-osc triggers there for a
/// moment, which other tests' whole-instance prechecks on the main source must not see).
async fn peer_db(db: &str) -> mysql_async::Conn {
    let mut s = conn(&common::peer()).await;
    exec_all(
        &mut s,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20))",
            "INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b')",
        ],
    )
    .await;
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    s
}

async fn peer_cleanup(db: &str) {
    for ep in [common::peer(), dest()] {
        let mut c = conn(&ep).await;
        exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}

/// A pt-online-schema-change run in progress on a selected table fails the precheck, naming
/// the table and its triggers; nothing is created at the destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pt_online_schema_change_is_refused_at_precheck() {
    let db = unique_name("fl_ptosc");
    let mut s = peer_db(&db).await;
    let steps = pt_osc_statements(&db);
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    exec_all(&mut s, &steps).await;
    for mode in ["yes", "no_gh_ost", "no_dms"] {
        let cfg = config_from(
            "DTS_TEST_PEER_URL",
            &format!(
                "[advanced]\nonline_ddl = \"{mode}\"\n[[objects.databases]]\nname = \"{db}\"\n"
            ),
        );
        let (task, ..) = build(&cfg, |t| t).await.unwrap();
        let e = task.run().await.unwrap_err().to_string();
        assert!(e.contains("source.pt_online_schema_change"), "{mode}: {e}");
        assert!(
            e.contains("pt-online-schema-change is not supported"),
            "{mode}: {e}"
        );
        assert!(e.contains(&format!("`{db}`.`t`")), "{mode}: {e}");
        assert!(e.contains(&format!("pt_osc_{db}_t_ins")), "{mode}: {e}");
        assert!(
            databases(&dest(), &db).await.is_empty(),
            "{mode}: nothing may start"
        );
    }
    peer_cleanup(&db).await;
}

/// pt-online-schema-change starting on a selected table while the task runs fails the task
/// with an error naming the table and the tool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pt_online_schema_change_fails_the_running_task() {
    let db = unique_name("fl_ptosc_run");
    let mut s = peer_db(&db).await;
    let cfg = config_from(
        "DTS_TEST_PEER_URL",
        &format!(
            "[advanced]\nonline_ddl = \"no_gh_ost\"\n[[objects.databases]]\nname = \"{db}\"\n"
        ),
    );
    let run = start(&cfg).await;
    let steps = pt_osc_statements(&db);
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    exec_all(&mut s, &steps).await;
    exec_all(&mut s, &["INSERT INTO t VALUES (3, 3, 'c')"]).await;
    let e = run.failure().await;
    assert!(
        e.contains("pt-online-schema-change is not supported"),
        "{e}"
    );
    assert!(e.contains(&db) && e.contains("pt_osc_"), "{e}");
    peer_cleanup(&db).await;
}

/// An online schema change of a renamed table with a renamed column, a row filter and a masked
/// column. In the adapt modes the shadow table's ALTER reaches the destination table under its
/// mapped names (table, database and the columns inside the statement); in `yes` mode the
/// tool's copies follow the listed table (its names, filter and masking) and the cut-over
/// RENAME is replayed on the mapped names.
async fn mapped_online_schema_change(tool: Tool, mode: &str) {
    let db = unique_name("fl_oscm");
    let ddb = format!("{db}_d");
    let mut s = fresh(&[&db]).await;
    {
        let mut d = conn(&dest()).await;
        exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{ddb}`")]).await;
    }
    let (shadow, useless) = match tool {
        Tool::GhOst => ("_t_gho", "_t_del"),
        Tool::Dms => ("_t_new", "_t_old"),
    };
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT, s VARCHAR(20))",
            "INSERT INTO t SELECT seq, seq, CONCAT('r', seq) FROM seq_1_to_20",
        ],
    )
    .await;
    let cfg = config(&format!(
        r#"
[advanced]
online_ddl = "{mode}"
[advanced.masking]
enabled = true
[[advanced.masking.rules]]
database = "{db}"
table = "t"
column = "s"
method = "redact"
[[objects.databases]]
name = "{db}"
rename_to = "{ddb}"
[[objects.databases.tables]]
name = "t"
rename_to = "t_dest"
rename_columns = {{ s = "s2" }}
filter = "id <> 5"
"#
    ));
    let run = start(&cfg).await;
    let steps = [
        format!("CREATE TABLE {shadow} LIKE t"),
        format!(
            "ALTER TABLE {shadow} ADD COLUMN extra INT DEFAULT 1 AFTER v, MODIFY s VARCHAR(40), \
             ADD KEY k_s (s)"
        ),
        format!("INSERT INTO {shadow} (id, v, s) SELECT id, v, s FROM t"),
        "UPDATE t SET s = 'changed on t' WHERE id = 3".to_string(),
        format!("REPLACE INTO {shadow} (id, v, s) SELECT id, v, s FROM t WHERE id = 3"),
        format!("RENAME TABLE t TO {useless}, {shadow} TO t"),
        format!("DROP TABLE {useless}"),
        "INSERT INTO t VALUES (21, 21, 5, REPEAT('x', 35))".to_string(),
    ];
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    exec_all(&mut s, &steps).await;
    run.finish().await;
    let what = format!("{tool:?} under {mode}, mapped");
    assert_eq!(tables(&dest(), &ddb).await, vec!["t_dest"], "{what}");
    assert_eq!(
        column_types(&dest(), &ddb, "t_dest").await,
        vec![
            ("id".to_string(), "int(11)".to_string()),
            ("v".into(), "int(11)".into()),
            ("extra".into(), "int(11)".into()),
            ("s2".into(), "varchar(40)".into()),
        ],
        "{what}"
    );
    assert_eq!(
        index_names(&dest(), &ddb, "t_dest").await,
        vec!["k_s", "PRIMARY"],
        "{what}"
    );
    assert_eq!(
        query_rows(
            &dest(),
            &format!("SELECT id, v, extra, s2 FROM `{ddb}`.t_dest ORDER BY id")
        )
        .await,
        query_rows(
            &source(),
            &format!(
                "SELECT id, v, extra, IF(s IS NULL, NULL, '******') FROM `{db}`.t \
                 WHERE id <> 5 ORDER BY id"
            )
        )
        .await,
        "{what}"
    );
    cleanup(&[&db, &ddb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mapped_gh_ost_migration_under_no_gh_ost() {
    mapped_online_schema_change(Tool::GhOst, "no_gh_ost").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mapped_dms_migration_under_no_dms() {
    mapped_online_schema_change(Tool::Dms, "no_dms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mapped_gh_ost_migration_under_yes() {
    mapped_online_schema_change(Tool::GhOst, "yes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mapped_dms_migration_under_yes() {
    mapped_online_schema_change(Tool::Dms, "yes").await;
}

/// With `online_ddl = "yes"`, rows copied into gh-ost's shadow table are masked like the
/// table's own, whether the table is selected with its database or by a pattern, so the
/// destination's `t` holds no clear values after the cut-over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gh_ost_copies_are_masked_like_their_table_under_yes() {
    for by_pattern in [false, true] {
        let db = unique_name("fl_oscmask");
        let mut s = fresh(&[&db]).await;
        exec_all(
            &mut s,
            &[
                "CREATE TABLE t (id INT PRIMARY KEY, secret VARCHAR(20))",
                "INSERT INTO t SELECT seq, CONCAT('clear', seq) FROM seq_1_to_10",
            ],
        )
        .await;
        let selection = if by_pattern {
            format!("[[objects.patterns]]\npattern = \"{db}.t\"\n")
        } else {
            format!("[[objects.databases]]\nname = \"{db}\"\n")
        };
        let cfg = config(&format!(
            "[advanced]\nonline_ddl = \"yes\"\n[advanced.masking]\nenabled = true\n\
             [[advanced.masking.rules]]\ndatabase = \"{db}\"\ntable = \"t\"\n\
             column = \"secret\"\nmethod = \"redact\"\n{selection}"
        ));
        let run = start(&cfg).await;
        exec_all(
            &mut s,
            &[
                "CREATE TABLE _t_gho LIKE t",
                "ALTER TABLE _t_gho ADD COLUMN extra INT",
                "INSERT INTO _t_gho (id, secret) SELECT id, secret FROM t",
                "INSERT INTO t VALUES (11, 'clear11')",
                "REPLACE INTO _t_gho (id, secret) VALUES (11, 'clear11')",
                "RENAME TABLE t TO _t_del, _t_gho TO t",
                "DROP TABLE _t_del",
            ],
        )
        .await;
        run.finish().await;
        let what = if by_pattern { "pattern" } else { "database" };
        assert_eq!(
            columns(&dest(), &db, "t").await,
            vec!["id", "secret", "extra"],
            "{what}"
        );
        let got = query_rows(&dest(), &format!("SELECT DISTINCT secret FROM `{db}`.t")).await;
        assert_eq!(got, vec![vec![Some("******".to_string())]], "{what}");
        assert_eq!(
            query_rows(&dest(), &format!("SELECT COUNT(*) FROM `{db}`.t")).await,
            vec![vec![Some("11".to_string())]],
            "{what}"
        );
        cleanup(&[&db]).await;
    }
}

/// Starting in an adapt mode while an online schema change of a selected table is under way
/// (its shadow table exists, already altered) is refused at precheck: that ALTER precedes the
/// task's start and could never reach the destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn start_during_an_online_schema_change_is_refused_in_the_adapt_modes() {
    let db = unique_name("fl_oscrun");
    let mut s = fresh(&[&db]).await;
    exec_all(
        &mut s,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE _t_gho (id INT PRIMARY KEY, v INT, extra INT)",
        ],
    )
    .await;
    for mode in ["no_gh_ost", "no_dms"] {
        let cfg = config(&format!(
            "[advanced]\nonline_ddl = \"{mode}\"\n[[objects.databases]]\nname = \"{db}\"\n"
        ));
        let (task, ..) = build(&cfg, |t| t).await.unwrap();
        let e = task.run().await.unwrap_err().to_string();
        assert!(
            e.contains("advanced.online_ddl") && e.contains(&format!("{db}._t_gho")),
            "{mode}: {e}"
        );
        assert!(
            databases(&dest(), &db).await.is_empty(),
            "{mode}: nothing starts"
        );
    }
    cleanup(&[&db]).await;
}
