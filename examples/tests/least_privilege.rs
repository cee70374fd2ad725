//! The documented minimal grants (README, "Accounts, grants and secrets") are enough: a task
//! built from a configuration runs schema sync, full sync (LOAD DATA LOCAL INFILE, no FILE
//! privilege) and incremental write with DML and DDL to convergence as accounts holding exactly
//! those grants, with their passwords read from an environment variable (source) and a file
//! (destination) — and neither password reaches the log or the task's snapshots. One grant
//! less and the precheck names what is missing.

mod rs_support;

use dts_core::precheck::CheckLevel;
use rs_support::*;
use std::time::Duration;

/// The source grants of the README for database `db`, on MariaDB 10.5+.
fn source_grants(db: &str, account: &str) -> Vec<String> {
    vec![
        format!("GRANT SELECT ON `{db}`.* TO {account}"),
        format!("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO {account}"),
    ]
}

/// The destination grants of the README for destination database `db`.
fn destination_grants(db: &str, account: &str) -> Vec<String> {
    const PRIVS: &str = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX";
    vec![
        format!("GRANT {PRIVS} ON `{db}`.* TO {account}"),
        format!("GRANT {PRIVS} ON `dts_meta`.* TO {account}"),
    ]
}

async fn create_user(url: &str, user: &str, pw: &str, grants: &[String]) {
    drop_user(url, user).await;
    let mut c = connect(url).await;
    exec_all(
        &mut c,
        &[&format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{pw}'")],
    )
    .await;
    for g in grants {
        exec_all(&mut c, &[g]).await;
    }
}

fn task_toml(id: &str, db: &str, src: (&str, &str), dst: (&str, &std::path::Path)) -> String {
    format!(
        "id = \"{id}\"\n{}\n[[objects.databases]]\nname = \"{db}\"\n",
        endpoints_toml(
            src.0,
            &format!("password_env = \"{}\"\n", src.1),
            dst.0,
            &format!("password_file = \"{}\"\n", dst.1.display())
        )
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_and_incremental_task_runs_as_minimal_accounts() {
    capture_logs();
    let db = unique("lp");
    let src_user = unique("lps");
    let dst_user = unique("lpd");
    let src_pw = password("lp-src");
    let dst_pw = password("lp-dst");
    let account = |u: &str| format!("'{u}'@'%'");

    let mut s = connect(&source_url()).await;
    exec_all(
        &mut s,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(20), \
             amount DECIMAL(12,2), placed DATETIME(3), note TEXT)",
            "CREATE TABLE customers (email VARCHAR(60) NOT NULL, name VARCHAR(40), \
             UNIQUE KEY (email))",
            "INSERT INTO orders (customer, amount, placed, note) SELECT CONCAT('c', seq MOD 50), \
             seq * 1.25, '2024-01-01 00:00:00' + INTERVAL seq MINUTE, REPEAT('n', seq MOD 30) \
             FROM seq_1_to_3000",
            "INSERT INTO customers SELECT CONCAT('c', seq, '@x.test'), CONCAT('name ', seq) \
             FROM seq_0_to_49",
        ],
    )
    .await;
    let mut d = connect(&dest_url()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    create_user(
        &source_url(),
        &src_user,
        &src_pw,
        &source_grants(&db, &account(&src_user)),
    )
    .await;
    create_user(
        &dest_url(),
        &dst_user,
        &dst_pw,
        &destination_grants(&db, &account(&dst_user)),
    )
    .await;

    let var = format!("RS_LP_SOURCE_PW_{}", std::process::id());
    std::env::set_var(&var, &src_pw);
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("dest.pw");
    std::fs::write(&pw_file, format!("{dst_pw}\n")).unwrap();
    let config = parse(&task_toml(
        &src_user,
        &db,
        (&src_user, &var),
        (&dst_user, &pw_file),
    ));
    let state = dir.path().join("state");

    // The precheck's privilege checks pass for exactly these grants.
    let built = dts_mysql::build_mysql_task(&config, &state, None)
        .await
        .unwrap();
    let report = built.task.precheck().await.unwrap();
    for name in ["source.privileges", "destination.privileges"] {
        let check = report
            .checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name} check in {report}"));
        assert_eq!(check.level, CheckLevel::Pass, "{check}");
    }

    let handle = built.task.handle();
    let task = built.task;
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(120)).await;
    exec_all(
        &mut s,
        &[
            "INSERT INTO orders (customer, amount, placed) VALUES ('late', 9.99, NOW(3))",
            "UPDATE orders SET amount = amount + 1 WHERE id <= 100",
            "DELETE FROM orders WHERE id BETWEEN 200 AND 260",
            "REPLACE INTO customers VALUES ('c1@x.test', 'renamed')",
            "ALTER TABLE orders ADD COLUMN status ENUM('new','paid') DEFAULT 'new', ADD INDEX (customer)",
            "UPDATE orders SET status = 'paid' WHERE id MOD 3 = 0",
            "CREATE TABLE refunds (id INT PRIMARY KEY, order_id INT, amount DECIMAL(12,2))",
            "INSERT INTO refunds VALUES (1, 5, 1.00), (2, 6, 2.00)",
            "RENAME TABLE refunds TO refunds_2024",
            "TRUNCATE TABLE customers",
            "INSERT INTO customers VALUES ('new@x.test', 'after truncate')",
            "CREATE TABLE scratch (id INT PRIMARY KEY)",
            "DROP TABLE scratch",
        ],
    )
    .await;
    wait_converged(&handle, &[(&db, &db)], Duration::from_secs(120)).await;
    handle.stop();
    runner.await.unwrap().unwrap();
    let tables: Vec<String> = checksums(&mut d, &db)
        .await
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(tables, ["customers", "orders", "refunds_2024"]);

    // Neither password reached the log or the snapshots.
    let texts = [
        captured_log(),
        format!("{:?}", handle.status()),
        format!("{:?}", handle.progress()),
        format!("{config:?}"),
    ];
    for t in &texts {
        assert!(!t.contains(&src_pw) && !t.contains(&dst_pw), "{t}");
    }

    // One grant less (no REPLICATION SLAVE): the precheck names the missing privilege.
    exec_all(
        &mut s,
        &[&format!(
            "REVOKE REPLICATION SLAVE ON *.* FROM {}",
            account(&src_user)
        )],
    )
    .await;
    let state2 = dir.path().join("state2");
    let built = dts_mysql::build_mysql_task(&config, &state2, None)
        .await
        .unwrap();
    let report = built.task.precheck().await.unwrap();
    let check = report
        .checks
        .iter()
        .find(|c| c.name == "source.privileges")
        .unwrap();
    assert_eq!(check.level, CheckLevel::Error, "{check}");
    assert!(check.message.contains("REPLICATION SLAVE"), "{check}");

    exec_all(&mut s, &[&format!("DROP DATABASE `{db}`")]).await;
    exec_all(
        &mut d,
        &[
            &format!("DROP DATABASE `{db}`"),
            &format!("DELETE FROM dts_meta.dts_checkpoint WHERE task_id = '{src_user}'"),
        ],
    )
    .await;
    drop_user(&source_url(), &src_user).await;
    drop_user(&dest_url(), &dst_user).await;
    std::env::remove_var(&var);
}
