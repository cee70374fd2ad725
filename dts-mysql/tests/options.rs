//! Task options on the real servers: synchronization types (full sync off, a start time,
//! schema sync off), saved connections shared by two tasks, and generated task ids.
//! Databases are prefixed `st_`.

mod common;

use common::{conn, exec_all, unique_name};
use dts_core::config::TaskConfig;
use dts_core::{Stage, StageStatus};
use mysql_async::prelude::Queryable;
use std::time::Duration;

fn url_parts(var: &str) -> (String, u16) {
    let url = std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"`"));
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    (opts.ip_or_hostname().to_string(), opts.tcp_port())
}

fn dest() -> dts_mysql::MysqlEndpoint {
    common::endpoint("destination", "DTS_TEST_DEST_URL")
}

/// A task file: saved connections `src` and `dst` for the test servers, `extra` appended.
fn config_text(db: &str, extra: &str) -> String {
    let (sh, sp) = url_parts("DTS_TEST_SOURCE_URL");
    let (dh, dp) = url_parts("DTS_TEST_DEST_URL");
    format!(
        r#"
[connections.src]
host = "{sh}"
port = {sp}
user = "root"

[connections.dst]
host = "{dh}"
port = {dp}
user = "root"

[source]
connection = "src"

[destination]
type = "mysql"
connection = "dst"

[[objects.databases]]
name = "{db}"

{extra}
"#
    )
}

/// [`config_text`], parsed and validated.
fn config(db: &str, extra: &str) -> TaskConfig {
    let text = config_text(db, extra);
    TaskConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

async fn prepare(db: &str, source: &[&str], destination: Option<&[&str]>) {
    let mut s = conn(&common::source()).await;
    exec_all(
        &mut s,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
        ],
    )
    .await;
    exec_all(&mut s, source).await;
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    if let Some(statements) = destination {
        exec_all(
            &mut d,
            &[&format!("CREATE DATABASE `{db}`"), &format!("USE `{db}`")],
        )
        .await;
        exec_all(&mut d, statements).await;
    }
}

async fn ids(db: &str, table: &str) -> Vec<i64> {
    let mut d = conn(&dest()).await;
    d.query(format!("SELECT id FROM `{db}`.`{table}` ORDER BY id"))
        .await
        .unwrap()
}

async fn wait_ids(db: &str, table: &str, want: &[i64]) {
    let what = format!("{db}.{table} holding ids {want:?}");
    dts_testkit::eventually(Duration::from_secs(60), &what, || async {
        let got = ids(db, table).await;
        if got == want {
            Ok(())
        } else {
            Err(got)
        }
    })
    .await;
}

const T: &str = "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20))";

/// Full data sync off: the existing rows are not copied, the table is still created (schema
/// sync on) and changes made after the start arrive; the stage machine shows full sync
/// skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_sync_off_copies_nothing_and_streams_later_changes() {
    let db = unique_name("st_nofull");
    prepare(
        &db,
        &[T, "INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')"],
        None,
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let cfg = config(&db, "[sync_types]\nfull_data = false\n");
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let h = built.task.handle();
    let task = built.task;
    let run = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&h, Duration::from_secs(90)).await;
    let status = h.status();
    assert_eq!(
        status.stage(Stage::FullDataSync).status,
        StageStatus::Skipped
    );
    assert_eq!(
        status.stage(Stage::SchemaSync).status,
        StageStatus::Finished
    );
    let mut s = conn(&common::source()).await;
    exec_all(
        &mut s,
        &[
            &format!("INSERT INTO `{db}`.t VALUES (100,'new')"),
            &format!("UPDATE `{db}`.t SET v = 'changed' WHERE id = 100"),
        ],
    )
    .await;
    wait_ids(&db, "t", &[100]).await;
    h.stop();
    run.await.unwrap().unwrap();
    let mut d = conn(&dest()).await;
    let v: Option<String> = d
        .query_first(format!("SELECT v FROM `{db}`.t WHERE id = 100"))
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("changed"));
    assert_eq!(
        ids(&db, "t").await,
        vec![100],
        "old rows must not be copied"
    );
}

/// `start_time`: incremental synchronization starts at the first transaction committed at or
/// after the time, found through the binlog files' timestamps: a row written before the time
/// is not applied, rows written after it are, even though they were committed before the task
/// started.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn start_time_begins_at_the_first_transaction_after_it() {
    let db = unique_name("st_time");
    prepare(&db, &[T], Some(&[T])).await;
    let mut s = conn(&common::source()).await;
    exec_all(
        &mut s,
        &[&format!("INSERT INTO `{db}`.t VALUES (1,'before')")],
    )
    .await;
    // Deliberately lets time pass, not a synchronization: the source's clock moves past the first
    // insert's second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let at: String = s
        .query_first("SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s')")
        .await
        .unwrap()
        .unwrap();
    // Deliberately lets time pass, not a synchronization: the source's clock moves past the
    // recorded moment.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    exec_all(
        &mut s,
        &[
            &format!("INSERT INTO `{db}`.t VALUES (2,'after')"),
            &format!("INSERT INTO `{db}`.t VALUES (3,'after')"),
        ],
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let cfg = config(
        &db,
        &format!("[sync_types]\nfull_data = false\nstart_time = \"{at}\"\n"),
    );
    // The destination table exists already (created for the test).
    let cfg = TaskConfig {
        conflicting_tables: dts_core::config::ConflictingTablesMode::IgnoreErrorsAndProceed,
        ..cfg
    };
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let h = built.task.handle();
    let task = built.task;
    let run = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&h, Duration::from_secs(90)).await;
    exec_all(
        &mut s,
        &[&format!("INSERT INTO `{db}`.t VALUES (4,'live')")],
    )
    .await;
    wait_ids(&db, "t", &[2, 3, 4]).await;
    h.stop();
    run.await.unwrap().unwrap();
}

/// Schema sync off: a destination table that is missing fails the precheck naming it, and no
/// DDL creates it; with every table present the task copies into the existing tables as they
/// are (no DDL: a column only the destination has keeps its default) and shows schema sync
/// skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schema_off_issues_no_ddl_and_fails_on_missing_tables() {
    let db = unique_name("st_noschema");
    let u = "CREATE TABLE u (id BIGINT PRIMARY KEY)";
    prepare(
        &db,
        &[
            T,
            u,
            "INSERT INTO t VALUES (1,'a')",
            "INSERT INTO u VALUES (7)",
        ],
        Some(&[T]),
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let cfg = config(&db, "[sync_types]\nschema = false\n");
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let h = built.task.handle();
    let err = built.task.run().await.unwrap_err().to_string();
    assert!(err.contains("destination.tables_exist"), "{err}");
    assert!(err.contains(&format!("{db}.u")), "{err}");
    assert!(!err.contains(&format!("{db}.t,")), "{err}");
    assert!(matches!(
        h.status().stage(Stage::Precheck).status,
        StageStatus::Failed(_)
    ));
    let mut d = conn(&dest()).await;
    let tables: Vec<String> = d
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (&db,),
        )
        .await
        .unwrap();
    assert_eq!(tables, vec!["t".to_string()], "no DDL may create u");

    // Every table present (t with an extra destination-only column): copied, no DDL.
    exec_all(
        &mut d,
        &[
            &format!("CREATE TABLE `{db}`.u (id BIGINT PRIMARY KEY)"),
            &format!("ALTER TABLE `{db}`.t ADD COLUMN dest_only INT NOT NULL DEFAULT 5"),
        ],
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let h = built.task.handle();
    let task = built.task;
    let run = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&h, Duration::from_secs(90)).await;
    let status = h.status();
    assert_eq!(status.stage(Stage::SchemaSync).status, StageStatus::Skipped);
    assert_eq!(
        status.stage(Stage::FullDataSync).status,
        StageStatus::Finished
    );
    wait_ids(&db, "t", &[1]).await;
    wait_ids(&db, "u", &[7]).await;
    let extra: Option<i64> = d
        .query_first(format!("SELECT dest_only FROM `{db}`.t WHERE id = 1"))
        .await
        .unwrap();
    assert_eq!(extra, Some(5));
    h.stop();
    run.await.unwrap().unwrap();
}

/// One saved connection pair serves two tasks with different objects; neither task names an
/// id, so each gets its own generated id (its own checkpoint file) and a descriptive name.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_saved_connection_serves_two_tasks() {
    let (db1, db2) = (unique_name("st_conn_a"), unique_name("st_conn_b"));
    for db in [&db1, &db2] {
        prepare(db, &[T, "INSERT INTO t VALUES (1,'x'),(2,'y')"], None).await;
    }
    let (c1, c2) = (config(&db1, ""), config(&db2, ""));
    assert_eq!(c1.source.connection.as_deref(), Some("src"));
    assert_eq!(
        c2.destination_settings().unwrap(),
        c1.destination_settings().unwrap()
    );
    assert_ne!(c1.task_id(), c2.task_id());
    assert!(c1
        .display_name()
        .starts_with(&format!("mysql-{db1}-to-mysql-")));
    let state = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let mut handles = Vec::new();
    for c in [&c1, &c2] {
        let built = dts_mysql::build_mysql_task(c, state.path(), None)
            .await
            .unwrap();
        assert_eq!(built.task_id, c.task_id());
        handles.push(built.task.handle());
        let task = built.task;
        runs.push(tokio::spawn(async move { task.run().await }));
    }
    for h in &handles {
        dts_testkit::wait_incremental(h, Duration::from_secs(90)).await;
    }
    let mut s = conn(&common::source()).await;
    for db in [&db1, &db2] {
        exec_all(&mut s, &[&format!("INSERT INTO `{db}`.t VALUES (3,'z')")]).await;
        wait_ids(db, "t", &[1, 2, 3]).await;
    }
    for h in &handles {
        h.stop();
    }
    for r in runs {
        r.await.unwrap().unwrap();
    }
    for c in [&c1, &c2] {
        let file = state.path().join(format!("{}.json", c.task_id()));
        assert!(file.exists(), "{} missing", file.display());
    }
}

/// Migration assessment with the precheck: a too-long utf8mb4 key (kept as a hash key by the
/// MariaDB destination, refused by a MySQL 8.0 one), a view and a procedure over a table that
/// is not selected, and a foreign key pointing outside the selection. The findings are listed
/// and the task still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assessment_reports_long_keys_and_outside_dependencies_without_blocking() {
    use dts_core::assessment::{Assessor, Severity, DEPENDENCIES, FOREIGN_KEYS, KEY_LENGTH};
    let db = unique_name("st_assess");
    prepare(
        &db,
        &[
            "CREATE TABLE a (id INT PRIMARY KEY, title VARCHAR(1000) CHARACTER SET utf8mb4, \
             UNIQUE KEY title (title))",
            "CREATE TABLE b (id INT PRIMARY KEY)",
            "CREATE TABLE c (id INT PRIMARY KEY, b_id INT, \
             CONSTRAINT c_b FOREIGN KEY (b_id) REFERENCES b (id))",
            "CREATE VIEW v_b AS SELECT id FROM b",
            "CREATE VIEW v_a AS SELECT id FROM a",
            "CREATE PROCEDURE p_b() SELECT COUNT(*) FROM b",
            "INSERT INTO a VALUES (1, REPEAT('x', 900))",
        ],
        None,
    )
    .await;
    let (sh, sp) = url_parts("DTS_TEST_SOURCE_URL");
    let (dh, dp) = url_parts("DTS_TEST_DEST_URL");
    // The foreign key to the unselected `b` is not created at the destination: a precheck
    // warning of its own (`objects.foreign_keys`), acknowledged here.
    let text = format!(
        r#"
acknowledge_warnings = ["objects.foreign_keys"]

[source]
host = "{sh}"
port = {sp}
user = "root"

[destination]
type = "mysql"
host = "{dh}"
port = {dp}
user = "root"

[migration]
migration_assessment = true

[[objects.databases]]
name = "{db}"

[[objects.databases.tables]]
name = "a"

[[objects.databases.tables]]
name = "c"
"#
    );
    let cfg = TaskConfig::from_toml_str(&text).unwrap();
    let state = tempfile::tempdir().unwrap();
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let report = built.task.precheck().await.unwrap();
    let text = report.to_string();
    let line = |name: &str, object: &str| {
        report
            .checks
            .iter()
            .find(|c| c.name == name && c.message.contains(object))
            .unwrap_or_else(|| panic!("no {name} for {object}:\n{text}"))
    };
    // The MariaDB destination keeps the 4000-byte unique key as a hash key: a note.
    let key = line(KEY_LENGTH, &format!("{db}.a.title"));
    assert_eq!(key.level, dts_core::CheckLevel::Pass, "{text}");
    assert!(key.message.contains("4000 bytes"), "{text}");
    let view = line(DEPENDENCIES, &format!("{db}.v_b"));
    assert!(view.message.contains(&format!("{db}.b")), "{text}");
    assert_eq!(view.level, dts_core::CheckLevel::Warning);
    line(DEPENDENCIES, &format!("{db}.p_b"));
    assert!(
        !report
            .checks
            .iter()
            .any(|c| c.message.contains(&format!("{db}.v_a"))),
        "v_a uses only selected tables:\n{text}"
    );
    let fk = line(FOREIGN_KEYS, &format!("{db}.c.c_b"));
    assert!(fk.message.contains(&format!("{db}.b")), "{text}");

    // The same source assessed for a MySQL 8.0 destination: the key is too long there.
    let source = common::reader(common::source(), &db).await;
    let tables = dts_core::Source::discover(&source).await.unwrap();
    let a = tables.iter().find(|t| t.id.table == "a").unwrap().clone();
    let assessor = dts_mysql::sink::assessment::MysqlAssessor::new(
        dts_mysql::sink::assessment::DestinationProfile::Fixed {
            limits: dts_core::assessment::KeyLimits::mysql_default(),
            version: "8.0.36".into(),
        },
    );
    let mysql = assessor
        .assess(&[dts_core::assessment::AssessedTable {
            destination: (*a).clone(),
            source: a,
        }])
        .await;
    let f = mysql.of(KEY_LENGTH);
    assert_eq!(f.len(), 1, "{mysql:?}");
    assert_eq!(f[0].severity, Severity::Risk);
    assert!(f[0].message.contains("4000 bytes") && f[0].message.contains("3072"));

    // Findings never block: the task runs.
    let h = built.task.handle();
    let task = built.task;
    let run = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&h, Duration::from_secs(90)).await;
    wait_ids(&db, "a", &[1]).await;
    h.stop();
    run.await.unwrap().unwrap();
}

/// The Luhn check digit completing `body`.
fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap()
}

/// The ISO 7064 check character completing a 17-digit resident ID body.
fn id_check(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// The scanner finds seeded e-mails, phones, resident IDs, IP addresses and Luhn-valid card
/// numbers in a bounded sample, ignores look-alikes (Luhn-invalid card numbers, order numbers,
/// text with an `@`), and its findings paste into a task file as valid masking rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scanner_finds_personal_data_and_ignores_look_alikes() {
    use dts_core::scan::SensitiveKind;
    let db = unique_name("st_scan");
    prepare(
        &db,
        &[
            "CREATE TABLE users (id BIGINT PRIMARY KEY, contact VARCHAR(80), mobile VARCHAR(20), \
           pay_ref VARCHAR(24), fake_card VARCHAR(24), order_no BIGINT, note VARCHAR(80), \
           resident VARCHAR(18), last_ip VARCHAR(40), created DATETIME)",
        ],
        None,
    )
    .await;
    let mut s = conn(&common::source()).await;
    let mut values = Vec::new();
    for i in 0..200u32 {
        let card_body = format!("4{:014}", 12_345_678_901u64 + u64::from(i) * 7_919);
        let card = format!("{card_body}{}", luhn_digit(&card_body));
        let bad = luhn_digit(&card_body).to_digit(10).unwrap();
        let fake = format!("{card_body}{}", (bad + 1) % 10);
        let id_body = format!(
            "110105{}{:02}{:02}{:03}",
            1950 + i % 50,
            1 + i % 12,
            1 + i % 28,
            i % 1000
        );
        let resident = format!("{id_body}{}", id_check(&id_body));
        values.push(format!(
            "({i}, 'user{i}@example.com', '+86 139 {:04} {:04}', '{card}', '{fake}', {}, \
             'meet @ noon #{i}', '{resident}', '10.{}.{}.7', NOW())",
            i,
            1000 + i,
            12_000_000_000u64 + u64::from(i),
            i % 256,
            (i * 7) % 256
        ));
    }
    exec_all(
        &mut s,
        &[&format!(
            "INSERT INTO `{db}`.users VALUES {}",
            values.join(",")
        )],
    )
    .await;
    let cfg = config(&db, "");
    let report = dts_mysql::factory::scan_config(&cfg, 150).await.unwrap();
    let text = report.to_string();
    for (column, kind) in [
        ("contact", SensitiveKind::Email),
        ("mobile", SensitiveKind::Phone),
        ("pay_ref", SensitiveKind::BankCard),
        ("resident", SensitiveKind::NationalId),
        ("last_ip", SensitiveKind::Ipv4),
    ] {
        let f = report
            .get(&db, "users", column)
            .unwrap_or_else(|| panic!("{column} not found:\n{text}"));
        assert_eq!(f.kind, kind, "{text}");
        assert_eq!((f.matched, f.sampled), (150, 150), "bounded sample: {text}");
        assert_eq!(f.confidence, 1.0);
    }
    for column in ["fake_card", "order_no", "note", "id", "created"] {
        assert!(
            report.get(&db, "users", column).is_none(),
            "{column}:\n{text}"
        );
    }
    assert_eq!(report.findings.len(), 5, "{text}");
    // One line per finding turns it into a masking rule the task accepts.
    let masked = config_text(&db, &report.masking_section());
    let parsed = TaskConfig::from_toml_str(&masked).unwrap_or_else(|e| panic!("{e}\n{masked}"));
    let rules = &parsed.advanced.masking.rules;
    assert_eq!(rules.len(), 5);
    let card = rules.iter().find(|r| r.column == "pay_ref").unwrap();
    assert_eq!((card.keep_first, card.keep_last), (Some(6), Some(4)));
    assert_eq!(card.database, db);

    // Masking "Open" without rules: the task scans the source when it is composed and is
    // refused with the rules that protect what the scan found.
    let open = "[advanced.masking]\nenabled = true\n";
    let state = tempfile::tempdir().unwrap();
    let err = match dts_mysql::build_mysql_task(&config(&db, open), state.path(), None).await {
        Ok(_) => panic!("masking enabled without rules over personal data must be refused"),
        Err(e) => e,
    };
    let dts_core::Error::Config(e) = &err else {
        panic!("a configuration error naming the key: {err}")
    };
    assert_eq!(e.key, "advanced.masking.rules", "{e}");
    for column in ["contact", "mobile", "pay_ref", "resident", "last_ip"] {
        assert!(
            e.message
                .contains(&format!("table = \"users\", column = \"{column}\"")),
            "{column} proposed: {e}"
        );
    }
    assert!(!e.message.contains("fake_card"), "{e}");
    // Without personal data the same settings let the task run (nothing to mask).
    let clean = unique_name("st_scan_clean");
    prepare(&clean, &[T], None).await;
    exec_all(
        &mut s,
        &[&format!(
            "INSERT INTO `{clean}`.t VALUES (1, 'plain'), (2, 'text')"
        )],
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    if let Err(e) = dts_mysql::build_mysql_task(&config(&clean, open), state.path(), None).await {
        panic!("no personal data, nothing to mask: {e}");
    }
}

/// `start_position` and `start_gtid`: incremental synchronization starts exactly there, so a
/// row written before is not applied and rows written after (before the task started) are.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn start_position_and_gtid_are_exact() {
    for form in ["position", "gtid"] {
        let db = unique_name("st_start");
        prepare(&db, &[T], Some(&[T])).await;
        let mut s = conn(&common::source()).await;
        exec_all(
            &mut s,
            &[&format!("INSERT INTO `{db}`.t VALUES (1,'before')")],
        )
        .await;
        let key = if form == "position" {
            let row: mysql_async::Row = s.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
            let (file, pos): (String, u64) = (row.get(0).unwrap(), row.get(1).unwrap());
            format!("start_position = \"{file}:{pos}\"")
        } else {
            let gtid: String = s
                .query_first("SELECT @@gtid_binlog_pos")
                .await
                .unwrap()
                .unwrap();
            format!("start_gtid = \"{gtid}\"")
        };
        exec_all(
            &mut s,
            &[&format!("INSERT INTO `{db}`.t VALUES (2,'after')")],
        )
        .await;
        let state = tempfile::tempdir().unwrap();
        let cfg = TaskConfig {
            conflicting_tables: dts_core::config::ConflictingTablesMode::IgnoreErrorsAndProceed,
            ..config(&db, &format!("[sync_types]\nfull_data = false\n{key}\n"))
        };
        let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
            .await
            .unwrap();
        let h = built.task.handle();
        let task = built.task;
        let run = tokio::spawn(async move { task.run().await });
        dts_testkit::wait_incremental(&h, Duration::from_secs(90)).await;
        exec_all(
            &mut s,
            &[&format!("INSERT INTO `{db}`.t VALUES (3,'live')")],
        )
        .await;
        wait_ids(&db, "t", &[2, 3]).await;
        h.stop();
        run.await.unwrap().unwrap();
    }
}

/// An instance class sets the writers' parallelism of the built task (micro 1, large 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_class_sets_parallelism() {
    let db = unique_name("st_class");
    prepare(&db, &[T], None).await;
    let state = tempfile::tempdir().unwrap();
    use dts_core::config::InstanceClass;
    for (class, workers) in [(InstanceClass::Micro, 1), (InstanceClass::Large, 8)] {
        let mut cfg = config(&db, "");
        cfg.instance_class = Some(class);
        let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
            .await
            .unwrap();
        assert_eq!(built.sink.options().workers, workers, "{class:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_write_options_reach_the_sink() {
    let db = unique_name("st_writeopts");
    prepare(&db, &[T], None).await;
    let state = tempfile::tempdir().unwrap();
    let text = config_text(&db, "").replace(
        "connection = \"dst\"\n",
        "connection = \"dst\"\nfull_sync_binlog = false\ndefer_secondary_indexes = false\nload_data = false\n",
    );
    let cfg = TaskConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let built = dts_mysql::build_mysql_task(&cfg, state.path(), None)
        .await
        .unwrap();
    let o = built.sink.options();
    assert!(!o.full_sync_binlog && !o.defer_secondary_indexes && !o.load_data);
    let built = dts_mysql::build_mysql_task(&config(&db, ""), state.path(), None)
        .await
        .unwrap();
    let o = built.sink.options();
    assert!(o.full_sync_binlog && o.defer_secondary_indexes && o.load_data);
}
