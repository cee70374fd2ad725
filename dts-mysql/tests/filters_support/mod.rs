//! Helpers of the object/mapping/filtering tests (`filters*.rs`): build a task from a TOML
//! configuration the way a host program does, run it through full sync into incremental write,
//! wait for convergence, and read tables back as text.
#![allow(dead_code)]

use dts_core::config::TaskConfig;
use dts_core::{Task, TaskHandle};
use dts_mysql::build_mysql_task;
use dts_mysql::sink::MysqlSink;
use dts_mysql::{MysqlEndpoint, MysqlSource};
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{conn, endpoint, exec_all, source, unique_name};

/// The destination server.
pub fn dest() -> MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

/// `host`, `port` of a test server URL (`mysql://root@127.0.0.1:33061`).
fn host_port(var: &str) -> (String, u16) {
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
    let rest = url.rsplit('@').next().unwrap();
    let (host, port) = rest.trim_end_matches('/').split_once(':').unwrap();
    (host.to_string(), port.parse().unwrap())
}

/// A complete task configuration: source and destination of the test environment, then
/// `body` (objects, advanced options, …). The task id is unique.
pub fn config_text(body: &str) -> String {
    config_text_from("DTS_TEST_SOURCE_URL", body)
}

/// [`config_text`] with the source server named by environment variable `source_var`.
pub fn config_text_from(source_var: &str, body: &str) -> String {
    let (sh, sp) = host_port(source_var);
    let (dh, dp) = host_port("DTS_TEST_DEST_URL");
    format!(
        "id = \"{id}\"\n\
         [source]\nhost = \"{sh}\"\nport = {sp}\nuser = \"root\"\n\
         [destination]\ntype = \"mysql\"\nhost = \"{dh}\"\nport = {dp}\nuser = \"root\"\n\
         {body}\n",
        id = unique_name("fl_task"),
    )
}

/// Parses [`config_text`].
pub fn config(body: &str) -> TaskConfig {
    let text = config_text(body);
    TaskConfig::parse_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Parses [`config_text_from`].
pub fn config_from(source_var: &str, body: &str) -> TaskConfig {
    let text = config_text_from(source_var, body);
    TaskConfig::parse_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A running task.
pub struct Running {
    pub handle: TaskHandle,
    pub runner: tokio::task::JoinHandle<dts_core::Result<()>>,
    pub source: Arc<MysqlSource>,
    pub sink: Arc<MysqlSink>,
    _state: tempfile::TempDir,
}

/// Builds the task of `config` through `build_mysql_task`; `adapt` may add an ETL hook.
pub async fn build(
    config: &TaskConfig,
    adapt: impl FnOnce(Task) -> Task,
) -> dts_core::Result<(Task, Arc<MysqlSource>, Arc<MysqlSink>, tempfile::TempDir)> {
    let state = tempfile::tempdir().unwrap();
    let built = build_mysql_task(config, state.path(), None).await?;
    Ok((adapt(built.task), built.source, built.sink, state))
}

/// Starts the task of `config` and waits until incremental write runs (full sync done).
pub async fn start(config: &TaskConfig) -> Running {
    start_with(config, |t| t).await
}

/// [`start`] with a hook to adapt the task (e.g. `with_etl`).
pub async fn start_with(config: &TaskConfig, adapt: impl FnOnce(Task) -> Task) -> Running {
    let (task, source, sink, state) = build(config, adapt)
        .await
        .unwrap_or_else(|e| panic!("the task does not build: {e}"));
    let handle = task.handle();
    let runner = tokio::spawn(async move { task.run().await });
    Running::new(handle, runner, source, sink, state).await
}

impl Running {
    /// Watches a task started elsewhere; returns once incremental write runs.
    pub async fn new(
        handle: TaskHandle,
        runner: tokio::task::JoinHandle<dts_core::Result<()>>,
        source: Arc<MysqlSource>,
        sink: Arc<MysqlSink>,
        state: tempfile::TempDir,
    ) -> Running {
        dts_testkit::wait_incremental(&handle, Duration::from_secs(90)).await;
        Running {
            handle,
            runner,
            source,
            sink,
            _state: state,
        }
    }
}

impl Running {
    /// Waits until the destination's checkpoint reaches the source's current position.
    pub async fn catch_up(&self) {
        let target = dts_core::Source::current_position(&*self.source)
            .await
            .unwrap();
        dts_testkit::wait_checkpoint(&self.handle, &*self.sink, &target, Duration::from_secs(90))
            .await;
    }

    /// Waits until the task fails and returns its error text (panics after 60 s).
    pub async fn failure(self) -> String {
        let finished = tokio::time::timeout(Duration::from_secs(60), self.runner).await;
        match finished {
            Ok(r) => r.unwrap().expect_err("the task should fail").to_string(),
            Err(_) => panic!("the task did not fail: {:?}", self.handle.progress()),
        }
    }

    /// Catches up, stops the task and checks it ended cleanly.
    pub async fn finish(self) {
        self.catch_up().await;
        self.handle.stop();
        self.runner.await.unwrap().unwrap();
    }
}

/// Fresh databases on the source (created) and the destination (dropped).
pub async fn fresh(dbs: &[&str]) -> mysql_async::Conn {
    let mut s = conn(&source()).await;
    let mut d = conn(&dest()).await;
    for db in dbs {
        exec_all(
            &mut s,
            &[
                &format!("DROP DATABASE IF EXISTS `{db}`"),
                &format!("CREATE DATABASE `{db}`"),
            ],
        )
        .await;
    }
    for db in dbs {
        exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
    exec_all(&mut s, &[&format!("USE `{}`", dbs[0])]).await;
    s
}

/// Drops databases on both servers.
pub async fn cleanup(dbs: &[&str]) {
    for ep in [source(), dest()] {
        let mut c = conn(&ep).await;
        for db in dbs {
            exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
        }
    }
}

/// Rows of `sql` with every value as text (`None` for NULL), in the query's order.
pub async fn query_rows(ep: &MysqlEndpoint, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut c = conn(ep).await;
    let rows: Vec<mysql_async::Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let v: Option<mysql_async::Value> = r.get(i);
                    match v {
                        None | Some(mysql_async::Value::NULL) => None,
                        Some(mysql_async::Value::Bytes(b)) => {
                            Some(String::from_utf8_lossy(&b).into_owned())
                        }
                        Some(v) => Some(v.as_sql(true).trim_matches('\'').to_string()),
                    }
                })
                .collect()
        })
        .collect()
}

/// The destination's column names of a table, in order (exact case).
pub async fn columns(ep: &MysqlEndpoint, db: &str, table: &str) -> Vec<String> {
    let mut c = conn(ep).await;
    c.exec(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
         AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (db, table),
    )
    .await
    .unwrap()
}

/// The table names of a database (exact case, sorted).
pub async fn tables(ep: &MysqlEndpoint, db: &str) -> Vec<String> {
    let mut c = conn(ep).await;
    c.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
        (db,),
    )
    .await
    .unwrap()
}

/// The database names matching a LIKE pattern (exact case, sorted).
pub async fn databases(ep: &MysqlEndpoint, like: &str) -> Vec<String> {
    let mut c = conn(ep).await;
    c.exec(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1",
        (like,),
    )
    .await
    .unwrap()
}
