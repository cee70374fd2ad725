//! Helpers of the operations tests (`faults.rs`, `ops.rs`): a TCP relay that can cut a
//! server off without stopping it (the servers are shared), a task builder, table checksums
//! and a recording alert hook.
#![allow(dead_code)]

use crate::common::*;
use async_trait::async_trait;
use dts_core::{
    Alert, AlertHook, DatabaseFilter, FileCheckpointStore, Task, TaskHandle, TaskOptions,
};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The test environment's destination server.
pub fn dest() -> MysqlEndpoint {
    endpoint("destination", "DTS_TEST_DEST_URL")
}

/// A TCP relay in front of a server: `cut` drops every relayed connection and refuses new
/// ones until `restore`, which looks to the task like the server going away.
pub struct Relay {
    /// Local port to connect to instead of the server's.
    pub port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Starts relaying to `upstream` on a free local port.
    pub async fn start(upstream: &MysqlEndpoint) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = upstream.address();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, connections2) = (up.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                let mut list = connections2.lock().unwrap();
                list.retain(|h| !h.is_finished());
                list.push(relay);
            }
        });
        Self {
            port,
            up,
            connections,
            accept,
        }
    }

    /// `endpoint` reached through this relay.
    pub fn endpoint(&self, endpoint: &MysqlEndpoint) -> MysqlEndpoint {
        let mut e = endpoint.clone();
        e.host = "127.0.0.1".into();
        e.port = self.port;
        e
    }

    /// Cuts every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for h in self.connections.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        for h in self.connections.lock().unwrap().drain(..) {
            h.abort();
        }
    }
}

/// Creates `db` on the source with `statements` run in it, and drops it on the destination.
pub async fn prepare(db: &str, statements: &[&str]) {
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
    exec_all(&mut c, statements).await;
    let mut d = conn(&dest()).await;
    exec_all(&mut d, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
}

/// Drops `db` on both servers.
pub async fn cleanup(db: &str) {
    for ep in [source(), dest()] {
        let mut c = conn(&ep).await;
        exec_all(&mut c, &[&format!("DROP DATABASE IF EXISTS `{db}`")]).await;
    }
}

/// A task over `db` from `source_ep` to `dest_ep` (either may be a relay's endpoint).
pub async fn build(
    db: &str,
    source_ep: MysqlEndpoint,
    dest_ep: MysqlEndpoint,
    state: &Path,
    workers: usize,
    options: TaskOptions,
) -> (Task, Arc<MysqlSource>, Arc<MysqlSink>) {
    let source = Arc::new(
        MysqlSource::connect(
            source_ep,
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
            dest_ep,
            SinkOptions {
                task_id: options.task_id.clone(),
                workers,
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.to_string()])),
        Arc::new(FileCheckpointStore::new(state.join("state.json"))),
        options,
    );
    (task, source, sink)
}

/// Row count and an order-independent checksum of `db`.`table` (columns `cols`).
pub async fn checksum(ep: &MysqlEndpoint, db: &str, table: &str, cols: &str) -> (u64, u64) {
    let mut c = conn(ep).await;
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CRC32(CONCAT_WS('|', {cols}))), 0) AS UNSIGNED) \
         FROM `{db}`.`{table}`"
    );
    c.query_first::<(u64, u64), _>(sql)
        .await
        .unwrap_or_else(|e| panic!("checksum of {db}.{table}: {e}"))
        .unwrap()
}

/// Polls `check` every 100 ms until it is true; panics with `what` and the task's progress
/// after `timeout`, or when the task failed. Not faster: InnoDB refreshes what
/// `information_schema.INNODB_TRX` shows only when it was last read 100 ms ago or more, so a
/// probe of it polled more often reads the same stale snapshot forever.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, handle: &TaskHandle, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let every = Duration::from_millis(100);
    dts_testkit::wait_for_every(handle, every, timeout, what, || {
        let holds = check();
        async move { holds.await.then_some(()).ok_or("not yet") }
    })
    .await
}

/// Waits until the destination's copy of `db`.`table` matches the source's.
pub async fn wait_identical(handle: &TaskHandle, db: &str, table: &str, cols: &str) {
    wait_for(
        &format!("{db}.{table} identical on both servers"),
        Duration::from_secs(60),
        handle,
        || async {
            let s = checksum(&source(), db, table, cols).await;
            let mut d = conn(&dest()).await;
            let exists: Option<u64> = d
                .exec_first(
                    "SELECT 1 FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (db, table),
                )
                .await
                .unwrap();
            exists.is_some() && checksum(&dest(), db, table, cols).await == s
        },
    )
    .await;
}

/// An alert hook that keeps what it is told.
#[derive(Default)]
pub struct RecordingHook {
    /// Alerts in the order fired.
    pub alerts: Mutex<Vec<Alert>>,
}

impl RecordingHook {
    /// A copy of the alerts so far.
    pub fn fired(&self) -> Vec<Alert> {
        self.alerts.lock().unwrap().clone()
    }
}

#[async_trait]
impl AlertHook for RecordingHook {
    async fn fire(&self, alert: &Alert) {
        self.alerts.lock().unwrap().push(alert.clone());
    }
}
