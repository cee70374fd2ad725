//! MySQL → Kafka: rows/s of a full sync of a 1,000,000-row sysbench table, then of draining a
//! 500,000-change backlog, as Canal JSON records with LZ4 compression (acks=all, idempotent
//! producer, all records to partition 0 — the service's defaults apart from the format), with
//! the peak RSS of each phase.
//!
//! The source table `kb_bench.sbtest1` is generated server-side (sequence engine, sysbench's
//! layout) unless it already holds the requested row count. dts runs in-process: a `Task` with
//! `MysqlSource` and `KafkaSink`, writing to a fresh topic `kb-bench-<pid>` on the broker of
//! `DTS_TEST_KAFKA_BROKERS`.
//!
//! - **Full sync**: from task start to the full-sync stage finishing (every record
//!   acknowledged by the broker).
//! - **Backlog**: the task is stopped once its Kafka checkpoint has caught up; two connections
//!   then write sysbench `oltp_write_only`-shaped transactions (UPDATE of the indexed `k`,
//!   UPDATE of `c`, DELETE and re-INSERT of one row: 4 row changes each) on disjoint id
//!   ranges; the restarted task is timed until the checkpoint it stores in Kafka reaches the
//!   source's binlog position at the end of the backlog.
//!
//! The peak RSS is this process's `VmHWM`, reset before each phase. The topics are deleted at
//! the end unless `--keep`. Results go to `target/bench/results.json` under `"kafka"`.
//!
//! ```text
//! cargo run --release -p dts-benches --bin kafka -- [--rows N] [--changes N] [--keep]
//! ```

use dts_benches::task::{connect, exec, master_status, scratch_dir, wait_stage, BoxError};
use dts_benches::{
    cpu_seconds, env_or, fmt_bytes, fmt_count, fmt_rate, parse_count, peak_rss_bytes,
    reset_peak_rss, source_url, unix_time, write_result, Table,
};
use dts_core::{
    DatabaseFilter, FileCheckpointStore, Position, Sink, Source, Stage, StageStatus, Task,
    TaskHandle, TaskOptions,
};
use dts_kafka::{KafkaCompression, KafkaDataFormat};
use dts_kafka::{KafkaSink, KafkaSinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use mysql_async::prelude::Queryable;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DB: &str = "kb_bench";
const TABLE: &str = "sbtest1";
const KEY: &str = "kafka";
/// Row changes per generated backlog transaction.
const TXN_ROWS: u64 = 4;

struct Args {
    rows: u64,
    changes: u64,
    keep: bool,
}

const USAGE: &str =
    "usage: kafka [--rows N (default 1_000_000)] [--changes N (default 500_000)] [--keep]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        changes: 500_000,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rows" => args.rows = parse_count(&it.next().ok_or(USAGE)?)?,
            "--changes" => args.changes = parse_count(&it.next().ok_or(USAGE)?)?,
            "--keep" => args.keep = true,
            "--bench" => {}
            _ => return Err(USAGE.into()),
        }
    }
    if args.rows < 1_000 {
        return Err("--rows must be at least 1000".into());
    }
    Ok(args)
}

fn brokers() -> String {
    env_or("DTS_TEST_KAFKA_BROKERS", "127.0.0.1:19092")
}

/// One measured phase.
struct Phase {
    records: u64,
    seconds: f64,
    peak_rss: Option<u64>,
    cpu_seconds: Option<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.records as f64 / self.seconds
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "records": self.records,
            "seconds": self.seconds,
            "rows_per_s": self.rate(),
            "peak_rss_bytes": self.peak_rss,
            "cpu_seconds": self.cpu_seconds,
        })
    }

    fn line(&self) -> String {
        format!(
            "{} ({} in {:.2}s, peak RSS {}, CPU {:.1}s)",
            fmt_rate(self.rate()),
            fmt_count(self.records),
            self.seconds,
            self.peak_rss.map(fmt_bytes).unwrap_or_else(|| "n/a".into()),
            self.cpu_seconds.unwrap_or(0.0)
        )
    }
}

async fn prepare_source(rows: u64) -> Result<(), BoxError> {
    dts_benches::task::ensure_sysbench_source(DB, TABLE, rows).await
}

fn sink_options(topic: &str, task_id: &str) -> KafkaSinkOptions {
    let mut o = KafkaSinkOptions::new(vec![brokers()], topic, task_id);
    o.format = KafkaDataFormat::CanalJson;
    o.compression = KafkaCompression::Lz4;
    o
}

/// A MySQL → Kafka task over database `DB`.
async fn build(
    topic: &str,
    task_id: &str,
    state: &Path,
) -> Result<(Task, Arc<MysqlSource>, Arc<KafkaSink>), BoxError> {
    let source = Arc::new(
        MysqlSource::connect(
            MysqlEndpoint::from_url("source", &source_url())?,
            SourceOptions {
                scope: Scope {
                    databases: vec![DB.to_string()],
                },
                ..Default::default()
            },
        )
        .await?,
    );
    let sink = Arc::new(KafkaSink::connect(sink_options(topic, task_id)).await?);
    let task = Task::new(
        source.clone(),
        sink.clone(),
        Arc::new(DatabaseFilter::new([DB.to_string()])),
        Arc::new(FileCheckpointStore::new(state)),
        TaskOptions {
            task_id: task_id.to_string(),
            acknowledged_warnings: vec!["destination.existing_tables".into()],
            ..Default::default()
        },
    );
    Ok((task, source, sink))
}

/// Waits until the checkpoint the sink stored in Kafka reaches `target`.
async fn wait_kafka_checkpoint(
    sink: &KafkaSink,
    handle: &TaskHandle,
    target: &Position,
    timeout: Duration,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(f) = handle.status().failure() {
            return Err(format!("task failed in {}: {}", f.0, f.1).into());
        }
        if let Some(cp) = Sink::read_checkpoint(sink).await? {
            if cp.position.coordinates_cmp(target).is_ge() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("checkpoint did not reach {target} after {timeout:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One writer of the backlog: `txns` sysbench write-only transactions on ids `lo..hi`.
async fn writer(lo: u64, hi: u64, txns: u64, seed: u64) -> Result<(), BoxError> {
    let mut c = connect(&source_url()).await?;
    exec(&mut c, &[&format!("USE `{DB}`")]).await?;
    let mut x = seed | 1;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let span = hi - lo;
    for i in 0..txns {
        let a = lo + next() % span;
        let b = lo + next() % span;
        let d = lo + next() % span;
        let sql = format!(
            "BEGIN; UPDATE {TABLE} SET k = k + 1 WHERE id = {a}; \
             UPDATE {TABLE} SET c = CONCAT(LEFT(c, 100), '-{i:08}') WHERE id = {b}; \
             DELETE FROM {TABLE} WHERE id = {d}; \
             INSERT INTO {TABLE} (id, k, c, pad) VALUES ({d}, {}, '{:011}-{i:011}-{d:011}', '{:011}'); \
             COMMIT",
            next() % 1_000_000,
            next() % 99_999_999_999,
            next() % 99_999_999_999
        );
        c.query_drop(sql).await?;
    }
    Ok(())
}

/// Deletes the benchmark's topics from the broker (they live in its memory).
async fn delete_topics(topics: &[&str]) -> Result<(), BoxError> {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()?;
    admin.delete_topics(topics, &AdminOptions::new()).await?;
    Ok(())
}

async fn run(args: Args) -> Result<(), BoxError> {
    prepare_source(args.rows).await?;
    let pid = std::process::id();
    let topic = format!("kb-bench-{pid}");
    let task_id = format!("kb-bench-{pid}");
    let dir = scratch_dir("kafka")?;
    let state = dir.join("state.json");

    // Full sync, then incremental until the checkpoint covers the source's position.
    println!("full sync to kafka topic {topic} (canal_json, lz4) …");
    let (task, source, sink) = build(&topic, &task_id, &state).await?;
    let handle = task.handle();
    let scoped = reset_peak_rss();
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let runner = tokio::spawn(async move { task.run().await });
    let waited = wait_stage(
        &handle,
        Stage::FullDataSync,
        StageStatus::Finished,
        Duration::from_millis(20),
        Duration::from_secs(1800),
    )
    .await;
    let full = Phase {
        records: handle.progress().tables.values().map(|t| t.rows_done).sum(),
        seconds: start.elapsed().as_secs_f64(),
        peak_rss: peak_rss_bytes().filter(|_| scoped),
        cpu_seconds: cpu_seconds().zip(cpu0).map(|(b, a)| b - a),
    };
    if let Err(e) = waited {
        handle.stop();
        return Err(e);
    }
    println!("full sync: {}", full.line());
    let caught_up = async {
        wait_stage(
            &handle,
            Stage::IncrementalWrite,
            StageStatus::Running,
            Duration::from_millis(50),
            Duration::from_secs(600),
        )
        .await?;
        let target = Source::current_position(&*source).await?;
        wait_kafka_checkpoint(&sink, &handle, &target, Duration::from_secs(300)).await
    }
    .await;
    handle.stop();
    runner.await??;
    caught_up?;
    drop((source, sink));

    // The backlog, written while the task is stopped.
    let txns = args.changes.div_ceil(TXN_ROWS);
    let changes = txns * TXN_ROWS;
    let mut s = connect(&source_url()).await?;
    let p0 = master_status(&mut s).await?;
    let gen_start = Instant::now();
    let half = args.rows / 2;
    let w1 = tokio::spawn(writer(1, half, txns / 2, 0x9E37_79B9));
    let w2 = tokio::spawn(writer(half + 1, args.rows, txns - txns / 2, 0x85EB_CA6B));
    w1.await??;
    w2.await??;
    let p1 = master_status(&mut s).await?;
    println!(
        "backlog: {} row changes in {} transactions written in {:.1}s, binlog {}:{} → {}:{}",
        fmt_count(changes),
        fmt_count(txns),
        gen_start.elapsed().as_secs_f64(),
        p0.0,
        p0.1,
        p1.0,
        p1.1
    );

    // Drain it.
    let (task, source, sink) = build(&topic, &task_id, &state).await?;
    let target = Source::current_position(&*source).await?;
    let handle = task.handle();
    let scoped = reset_peak_rss();
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let runner = tokio::spawn(async move { task.run().await });
    let waited = wait_kafka_checkpoint(&sink, &handle, &target, Duration::from_secs(1800)).await;
    let backlog = Phase {
        records: changes,
        seconds: start.elapsed().as_secs_f64(),
        peak_rss: peak_rss_bytes().filter(|_| scoped),
        cpu_seconds: cpu_seconds().zip(cpu0).map(|(b, a)| b - a),
    };
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(60), runner).await;
    waited?;
    let applied = handle.progress().incremental.rows_applied;
    println!(
        "backlog drain: {} (rows applied {})",
        backlog.line(),
        fmt_count(applied)
    );
    let _ = std::fs::remove_dir_all(&dir);
    if !args.keep {
        if let Err(e) = delete_topics(&[&topic]).await {
            println!("could not delete topic {topic}: {e}");
        }
    }

    let mut t = Table::new(format!(
        "MySQL → Kafka (canal_json, lz4, acks=all, partition 0), {DB}.{TABLE}"
    ));
    t.row(
        format!("full sync of {} rows", fmt_count(args.rows)),
        full.line(),
    );
    t.row(
        format!("backlog of {} row changes", fmt_count(changes)),
        backlog.line(),
    );
    print!("{}", t.render());
    let value = json!({
        "format": "canal_json",
        "compression": "lz4",
        "acks": "all",
        "partition_policy": "all_to_partition_0",
        "rows": args.rows,
        "full_sync_rows_per_s": full.rate(),
        "full_sync_seconds": full.seconds,
        "full_sync_peak_rss_bytes": full.peak_rss,
        "full_sync": full.json(),
        "changes": changes,
        "backlog_changes_per_s": backlog.rate(),
        "backlog_seconds": backlog.seconds,
        "backlog_peak_rss_bytes": backlog.peak_rss,
        "backlog_rows_applied": applied,
        "backlog": backlog.json(),
        "unix_time": unix_time(),
    });
    let path = write_result(KEY, value)?;
    println!("results merged into {}", path.display());
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kafka: {e}");
            ExitCode::FAILURE
        }
    }
}
