//! Building and driving a MySQL → MySQL `dts_core::Task` for the end-to-end scenarios.

use dts_core::{
    DatabaseFilter, FileCheckpointStore, Position, Sink, Source, Stage, StageStatus, Task,
    TaskHandle, TaskOptions,
};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Boxed error of the benchmark programs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The tunable settings a scenario varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knobs {
    /// `TaskOptions::chunk_rows`.
    pub chunk_rows: usize,
    /// `TaskOptions::write_concurrency`.
    pub write_concurrency: usize,
    /// `SinkOptions::workers`.
    pub workers: usize,
    /// `SinkOptions::batch_rows`.
    pub batch_rows: usize,
    /// `SinkOptions::full_sync_binlog`.
    pub full_sync_binlog: bool,
}

impl Default for Knobs {
    /// The library defaults.
    fn default() -> Self {
        let t = TaskOptions::default();
        let s = SinkOptions::default();
        Self {
            chunk_rows: t.chunk_rows,
            write_concurrency: t.write_concurrency,
            workers: s.workers,
            batch_rows: s.batch_rows,
            full_sync_binlog: s.full_sync_binlog,
        }
    }
}

impl std::fmt::Display for Knobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chunk_rows={} write_concurrency={} workers={} batch_rows={}{}",
            self.chunk_rows,
            self.write_concurrency,
            self.workers,
            self.batch_rows,
            if self.full_sync_binlog {
                ""
            } else {
                " destination-binlog=off"
            }
        )
    }
}

/// A task copying database `db` from the source to the destination (same name), with its
/// checkpoint state in `state_file`.
pub struct Built {
    /// The task (not started).
    pub task: Task,
    /// Its source.
    pub source: Arc<MysqlSource>,
    /// Its sink.
    pub sink: Arc<MysqlSink>,
}

/// Connects a source and a sink and builds the task.
pub async fn build_task(
    db: &str,
    task_id: &str,
    state_file: &Path,
    knobs: Knobs,
    full_sync: bool,
) -> Result<Built, BoxError> {
    let source = Arc::new(
        MysqlSource::connect(
            MysqlEndpoint::from_url("source", &crate::source_url())?,
            SourceOptions {
                scope: Scope {
                    databases: vec![db.to_string()],
                },
                ..Default::default()
            },
        )
        .await?,
    );
    let sink = Arc::new(
        MysqlSink::connect(
            MysqlEndpoint::from_url("destination", &crate::dest_url())?,
            SinkOptions {
                task_id: task_id.to_string(),
                workers: knobs.workers,
                batch_rows: knobs.batch_rows,
                full_sync_binlog: knobs.full_sync_binlog,
                // For comparisons only: DTS_BENCH_NO_DEFER=1 keeps secondary indexes during
                // the copy, as before they were deferred.
                defer_secondary_indexes: std::env::var_os("DTS_BENCH_NO_DEFER").is_none(),
                // For comparisons only: DTS_BENCH_NO_LOAD_DATA=1 writes the copy with
                // multi-row INSERTs.
                load_data: std::env::var_os("DTS_BENCH_NO_LOAD_DATA").is_none(),
                ..Default::default()
            },
        )
        .await?,
    );
    let options = TaskOptions {
        task_id: task_id.to_string(),
        schema_sync: full_sync,
        full_sync,
        chunk_rows: knobs.chunk_rows,
        write_concurrency: knobs.write_concurrency,
        ..Default::default()
    };
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([db.to_string()])),
        Arc::new(FileCheckpointStore::new(state_file)),
        options,
    );
    Ok(Built { task, source, sink })
}

/// Fails when the task reported a failure.
pub fn check_failed(handle: &TaskHandle) -> Result<(), BoxError> {
    match handle.status().failure() {
        Some(f) => Err(format!("task failed in {}: {}", f.0, f.1).into()),
        None => Ok(()),
    }
}

/// Waits (polling every `every`) until `stage` of the task is `status`.
pub async fn wait_stage(
    handle: &TaskHandle,
    stage: Stage,
    status: StageStatus,
    every: Duration,
    timeout: Duration,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + timeout;
    while handle.status().stage(stage).status != status {
        check_failed(handle)?;
        if Instant::now() > deadline {
            return Err(format!("{stage} not {status:?} after {timeout:?}").into());
        }
        tokio::time::sleep(every).await;
    }
    Ok(())
}

/// Waits until the sink's stored checkpoint reaches `target`.
pub async fn wait_checkpoint(
    sink: &MysqlSink,
    handle: &TaskHandle,
    target: &Position,
    every: Duration,
    timeout: Duration,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + timeout;
    loop {
        check_failed(handle)?;
        if let Some(cp) = Sink::read_checkpoint(sink).await? {
            if cp.position.coordinates_cmp(target).is_ge() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("checkpoint did not reach {target} after {timeout:?}").into());
        }
        tokio::time::sleep(every).await;
    }
}

/// The source's current binlog position.
pub async fn source_position(source: &MysqlSource) -> Result<Position, BoxError> {
    Ok(Source::current_position(source).await?)
}

/// A connection to `url` in UTC with a permissive SQL mode.
pub async fn connect(url: &str) -> Result<mysql_async::Conn, BoxError> {
    let mut c = MysqlEndpoint::from_url("bench", url)?.connect().await?;
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await?;
    Ok(c)
}

/// Runs statements in order, naming the failing one.
pub async fn exec(c: &mut mysql_async::Conn, statements: &[&str]) -> Result<(), BoxError> {
    for s in statements {
        c.query_drop(*s)
            .await
            .map_err(|e| format!("{}: {e}", &s[..s.len().min(200)]))?;
    }
    Ok(())
}

/// `SHOW MASTER STATUS` of a server: (file, position).
pub async fn master_status(c: &mut mysql_async::Conn) -> Result<(String, u64), BoxError> {
    let row: Option<mysql_async::Row> = c.query_first("SHOW MASTER STATUS").await?;
    let row = row.ok_or("binary log is off")?;
    let file: String = row.get(0).ok_or("no file")?;
    let pos: u64 = row.get(1).ok_or("no position")?;
    Ok((file, pos))
}

/// A fresh scratch directory under the system temporary directory.
pub fn scratch_dir(name: &str) -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("dts-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Makes source table `db`.`table` a sysbench table of exactly `rows` rows, generating it
/// server-side when it holds a different count (a re-run reuses it).
pub async fn ensure_sysbench_source(db: &str, table: &str, rows: u64) -> Result<(), BoxError> {
    let mut c = connect(&crate::source_url()).await?;
    let have: Option<u64> = c
        .query_first(format!("SELECT COUNT(*) FROM `{db}`.`{table}`"))
        .await
        .ok()
        .flatten();
    if have == Some(rows) {
        println!(
            "source {db}.{table} already holds {} rows",
            crate::fmt_count(rows)
        );
        return Ok(());
    }
    println!(
        "generating {} rows in source {db}.{table} …",
        crate::fmt_count(rows)
    );
    let start = Instant::now();
    exec(
        &mut c,
        &[
            &format!("DROP DATABASE IF EXISTS `{db}`"),
            &format!("CREATE DATABASE `{db}`"),
            &format!("USE `{db}`"),
            &crate::sysbench_table_ddl(table),
        ],
    )
    .await?;
    let mut from = 1;
    while from <= rows {
        let to = (from + 99_999).min(rows);
        exec(&mut c, &[&crate::sysbench_fill_sql(table, from, to)]).await?;
        from = to + 1;
    }
    exec(&mut c, &[&format!("ANALYZE TABLE `{table}`")]).await?;
    println!("  generated in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}
