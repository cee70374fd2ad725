//! The task files shipped under `examples/tasks/`: every one parses, validates and uses no
//! option a builder refuses, and builds and passes its precheck with the runner, as a user runs
//! it (`dts precheck FILE`), against the test environment the files are written for. A declared
//! `database_type` that is not the server's flavour is a precheck error naming both.
//!
//! The servers are shared with other tests, so each file's databases are renamed to unique
//! `tdef_` names in a copy of the file (nothing else changes), and created on its source with
//! the tables the file selects. A new file needs a fixture here: the test names it otherwise.

use dts_core::config::TaskConfig;
use dts_core::{CheckLevel, PrecheckReport};
use mysql_async::prelude::Queryable;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The runner binary: `DTS_RUNNER`, else the `dts` program cargo built for this test.
fn runner() -> PathBuf {
    match std::env::var("DTS_RUNNER") {
        Ok(path) => PathBuf::from(path),
        Err(_) => PathBuf::from(env!("CARGO_BIN_EXE_dts")),
    }
}

/// What a task file needs on its source: which server (an environment variable of
/// `scripts/test-env.sh env`), the databases it names, and the tables it selects.
struct Fixture {
    server: &'static str,
    databases: &'static [&'static str],
    statements: &'static [&'static str],
}

fn fixture(file: &str) -> Option<Fixture> {
    Some(match file {
        "quickstart.toml" | "mysql_to_kafka.toml" => Fixture {
            server: "DTS_TEST_SOURCE_URL",
            databases: &["sbtest"],
            statements: &[
                "CREATE TABLE sbtest.sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, \
                 c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY k_1 (k))",
            ],
        },
        "mysql_to_mysql.toml" => Fixture {
            server: "DTS_TEST_SOURCE_URL",
            databases: &["shop", "crm"],
            statements: &[
                "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(64))",
                "CREATE TABLE shop.tmp_import (id INT PRIMARY KEY)",
                "CREATE TABLE crm.customers (id INT PRIMARY KEY, name VARCHAR(64), \
                 email VARCHAR(128), created_at DATETIME, notes TEXT)",
                "CREATE TABLE crm.orders (id INT PRIMARY KEY, created_at DATETIME NOT NULL)",
            ],
        },
        "mysql_to_mysql_tls.toml" => Fixture {
            server: "DTS_TEST_TLS_URL",
            databases: &["shop", "shop_copy"],
            statements: &["CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(64))"],
        },
        "mysql_to_adb.toml" => Fixture {
            server: "DTS_TEST_SOURCE_URL",
            databases: &["ab_shop", "ab_dw"],
            statements: &[
                "CREATE TABLE ab_shop.orders_0 (id INT PRIMARY KEY, created DATE NOT NULL, \
                 amount DECIMAL(10,2))",
                "CREATE TABLE ab_shop.orders_1 LIKE ab_shop.orders_0",
                "CREATE TABLE ab_shop.orders_2 LIKE ab_shop.orders_0",
                "CREATE TABLE ab_shop.customers (id INT PRIMARY KEY, name VARCHAR(64))",
            ],
        },
        _ => return None,
    })
}

/// `text` with database `from` renamed to `to` where the file names it: as a whole quoted
/// name (`"shop"`), or before a table (`"shop.orders"`, `shop.tmp_*` patterns, SQL).
fn rename_database(text: &str, from: &str, to: &str) -> String {
    text.replace(&format!("\"{from}\""), &format!("\"{to}\""))
        .replace(&format!("\"{from}."), &format!("\"{to}."))
        .replace(&format!(" {from}."), &format!(" {to}."))
}

async fn source_conn(var: &str) -> mysql_async::Conn {
    let url = std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"`"));
    mysql_async::Conn::from_url(url).await.unwrap()
}

/// Runs `dts precheck` on `file` with the test environment's passwords; returns whether it
/// passed and what it printed.
fn precheck(file: &Path, state: &Path) -> (bool, String) {
    let env_dir = std::env::var("DTS_TEST_ENV_DIR").unwrap_or_default();
    let out = Command::new(runner())
        .arg("precheck")
        .arg("--state-dir")
        .arg(state)
        .arg(file)
        .env("DTS_SOURCE_PASSWORD", "dts-secret")
        .env("DTS_DEST_PASSWORD", "dts-secret")
        .env("DTS_TLS_PASSWORD", "dts-tls-secret")
        .env("DTS_TEST_ENV_DIR", env_dir)
        .output()
        .expect("run the runner");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A copy of example `name` with its databases renamed (returned, source name first) and the
/// test environment's directory in place of `target/test-env`.
fn prepared_copy(
    name: &str,
    fx: &Fixture,
    dir: &Path,
    tag: &str,
) -> (PathBuf, Vec<(String, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut text = std::fs::read_to_string(root.join(name)).unwrap();
    let renames: Vec<(String, String)> = fx
        .databases
        .iter()
        .map(|d| {
            (
                d.to_string(),
                format!("tdef_{tag}_{}_{d}", std::process::id()),
            )
        })
        .collect();
    for (from, to) in &renames {
        text = rename_database(&text, from, to);
    }
    if let Ok(env_dir) = std::env::var("DTS_TEST_ENV_DIR") {
        text = text.replace("target/test-env", &env_dir);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (path, renames)
}

/// Creates the fixture's databases (renamed) and tables on its server.
async fn create_fixture(fx: &Fixture, renames: &[(String, String)]) -> mysql_async::Conn {
    let mut c = source_conn(fx.server).await;
    for (_, db) in renames {
        c.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
            .await
            .unwrap();
    }
    // Only the databases the source holds are created; a `rename_to` target is not.
    for (from, db) in renames {
        if fx
            .statements
            .iter()
            .any(|s| s.contains(&format!(" {from}.")))
        {
            c.query_drop(format!("CREATE DATABASE `{db}`"))
                .await
                .unwrap();
        }
    }
    for s in fx.statements {
        let mut sql = s.to_string();
        for (from, to) in renames {
            sql = rename_database(&sql, from, to);
        }
        c.query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c
}

async fn drop_fixture(c: &mut mysql_async::Conn, renames: &[(String, String)]) {
    for (_, db) in renames {
        c.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_example_task_file_builds_and_prechecks() {
    let names: Vec<String> = task_files()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut failed = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let fx = fixture(name)
            .unwrap_or_else(|| panic!("examples/tasks/{name} has no fixture in this test"));
        let (path, renames) = prepared_copy(name, &fx, dir.path(), &format!("ex{i}"));
        let mut c = create_fixture(&fx, &renames).await;
        let state = dir.path().join(format!("state-{i}"));
        let (passed, out) = precheck(&path, &state);
        drop_fixture(&mut c, &renames).await;
        eprintln!(
            "== {name}: {}\n{out}",
            if passed { "passed" } else { "FAILED" }
        );
        if !passed || !out.contains("precheck passed") {
            failed.push(format!("{name}:\n{out}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

fn task_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "task files in {}: {files:?}",
        dir.display()
    );
    files
}

#[test]
fn every_shipped_task_file_parses_and_uses_only_supported_options() {
    for file in task_files() {
        let config =
            TaskConfig::from_toml_file(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        config
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let refused = dts_core::build::unsupported_options(&config);
        assert!(
            refused.is_empty(),
            "{}: refused {refused:?}",
            file.display()
        );
    }
}

/// The precheck of a task built in-process the way the runner builds it.
async fn precheck_built(config: &TaskConfig) -> PrecheckReport {
    let state = tempfile::tempdir().unwrap();
    let task = dts_examples::runner::compose_task(config, state.path(), None)
        .await
        .unwrap()
        .task;
    task.precheck().await.unwrap()
}

#[tokio::test]
async fn a_declared_database_type_that_is_not_the_servers_is_a_precheck_error() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/quickstart.toml");
    let text = std::fs::read_to_string(file).unwrap().replacen(
        "database_type = \"mariadb\"",
        "database_type = \"mysql\"",
        1,
    );
    let config = TaskConfig::from_toml_str(&text).unwrap();
    let report = precheck_built(&config).await;
    let c = report.get("source.database_type").unwrap();
    assert_eq!(c.level, CheckLevel::Error, "{c:?}");
    assert!(
        c.message.contains("\"mysql\"") && c.message.contains("mariadb"),
        "names both: {}",
        c.message
    );
}

#[tokio::test]
async fn a_declared_destination_database_type_that_is_not_the_servers_is_a_precheck_error() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/quickstart.toml");
    let text = std::fs::read_to_string(file).unwrap().replacen(
        "[destination]\ntype = \"mysql\"\n",
        "[destination]\ntype = \"mysql\"\ndatabase_type = \"mysql\"\n",
        1,
    );
    assert!(text.contains("database_type = \"mysql\""), "{text}");
    let config = TaskConfig::from_toml_str(&text).unwrap();
    let report = precheck_built(&config).await;
    let c = report.get("destination.database_type").unwrap();
    assert_eq!(c.level, CheckLevel::Error, "{c:?}");
    assert!(
        c.message.contains("destination.database_type = \"mysql\"")
            && c.message.contains("the server is mariadb"),
        "names both: {}",
        c.message
    );
    assert_eq!(
        report.get("source.database_type").map(|c| c.level),
        Some(CheckLevel::Pass)
    );
}
