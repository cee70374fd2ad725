//! Incremental catch-up apply rate with and without two-way conflict detection.
//!
//! For each mode the same backlog is applied: a fresh task copies a sysbench-shaped table from
//! the source (A) to the peer server (B), is stopped, the source runs `--updates` row updates
//! (1,000 rows per statement, in id order), and the restarted task's time to reach the source's
//! position is measured. Modes: `one_way` (no policy: upserts), `two_way` (Overwrite policy,
//! delay period off, so every row goes through detection: one `SELECT … FOR UPDATE` per run of
//! a table plus the net writes).
//!
//! ```sh
//! eval "$(scripts/test-env.sh env)"
//! cargo run --release -p dts-benches --bin two_way_apply -- --rows 100000 --updates 100000
//! ```

use dts_benches::task::{
    check_failed, connect, exec, master_status, scratch_dir, wait_stage, BoxError,
};
use dts_benches::{env_or, fmt_rate, parse_count, sysbench_fill_sql, sysbench_table_ddl};
use dts_benches::{unix_time, write_result, Table};
use dts_core::{Position, Sink, Stage, StageStatus, Task, TaskOptions};
use dts_mysql::sink::{MysqlSink, SinkOptions};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DB: &str = "tw_bench_apply";
const TABLE: &str = "sbtest1";
const KEY: &str = "two_way_apply";

fn arg(name: &str, default: u64) -> Result<u64, BoxError> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(parse_count(args.get(i + 1).ok_or("missing value")?)?),
        None => Ok(default),
    }
}

async fn build(
    task_id: &str,
    state: &std::path::Path,
    two_way: bool,
) -> Result<(Task, Arc<MysqlSink>), BoxError> {
    let source = Arc::new(
        MysqlSource::connect(
            MysqlEndpoint::from_url("A", &dts_benches::source_url())?,
            SourceOptions {
                scope: Scope {
                    databases: vec![DB.into()],
                },
                ..Default::default()
            },
        )
        .await?,
    );
    let mut options = SinkOptions {
        task_id: task_id.into(),
        ..Default::default()
    };
    if two_way {
        options.conflict_policy = Some(Arc::new(dts_core::OverwritePolicy));
        options.overwrite_delayed_after = None;
    }
    let sink = Arc::new(
        MysqlSink::connect(
            MysqlEndpoint::from_url(
                "B",
                &env_or("DTS_TEST_PEER_URL", "mysql://root@127.0.0.1:33063"),
            )?,
            options,
        )
        .await?,
    );
    let task = Task::new(
        source,
        sink.clone(),
        Arc::new(dts_core::DatabaseFilter::new([DB])),
        Arc::new(dts_core::FileCheckpointStore::new(
            state.join(format!("{task_id}.json")),
        )),
        TaskOptions {
            task_id: task_id.into(),
            write_heartbeat: false,
            ..Default::default()
        },
    );
    Ok((task, sink))
}

async fn run_mode(mode: &str, rows: u64, updates: u64) -> Result<f64, BoxError> {
    let source_url = dts_benches::source_url();
    let peer_url = env_or("DTS_TEST_PEER_URL", "mysql://root@127.0.0.1:33063");
    let mut a = connect(&source_url).await?;
    let mut b = connect(&peer_url).await?;
    exec(&mut b, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;
    exec(
        &mut a,
        &[
            &format!("DROP DATABASE IF EXISTS `{DB}`"),
            &format!("CREATE DATABASE `{DB}`"),
            &format!("USE `{DB}`"),
            &sysbench_table_ddl(TABLE),
            &sysbench_fill_sql(TABLE, 1, rows),
        ],
    )
    .await?;
    let dir = scratch_dir(&format!("two-way-{mode}"))?;
    let task_id = format!("bench-{mode}-{}", unix_time());
    let two_way = mode == "two_way";
    // Copy, then stop at incremental write.
    let (task, _) = build(&task_id, &dir, two_way).await?;
    let h = task.handle();
    let run = tokio::spawn(async move { task.run().await });
    wait_stage(
        &h,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_millis(100),
        Duration::from_secs(600),
    )
    .await?;
    h.stop();
    let _ = run.await?;
    // The backlog.
    let mut id = 1;
    let mut done = 0;
    while done < updates {
        let n = 1000.min(updates - done).min(rows);
        let to = id + n - 1;
        exec(
            &mut a,
            &[&format!(
                "UPDATE `{DB}`.`{TABLE}` SET k = k + 1 WHERE id BETWEEN {id} AND {to}"
            )],
        )
        .await?;
        done += n;
        id = if to >= rows { 1 } else { to + 1 };
    }
    let (file, offset) = master_status(&mut a).await?;
    let target = Position::new(file, offset);
    let (task, sink) = build(&task_id, &dir, two_way).await?;
    let h = task.handle();
    let started = Instant::now();
    let run = tokio::spawn(async move { task.run().await });
    loop {
        check_failed(&h)?;
        if let Some(cp) = Sink::read_checkpoint(&*sink).await? {
            if cp.position.coordinates_cmp(&target).is_ge() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(900) {
            return Err("catch-up did not finish in 15 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    h.stop();
    let _ = run.await?;
    exec(&mut a, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;
    exec(&mut b, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(updates as f64 / secs)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let rows = arg("--rows", 50_000)?;
    let updates = arg("--updates", 50_000)?;
    let one_way = run_mode("one_way", rows, updates).await?;
    let two_way = run_mode("two_way", rows, updates).await?;
    let mut t = Table::new(format!(
        "catch-up apply of {updates} row updates (A → B, 4 workers)"
    ));
    t.row("one-way (upserts)", fmt_rate(one_way));
    t.row("two-way (Overwrite, detection on)", fmt_rate(two_way));
    t.row("two-way / one-way", format!("{:.2}", two_way / one_way));
    println!("{}", t.render());
    let path = write_result(
        KEY,
        serde_json::json!({
            "rows": rows,
            "updates": updates,
            "one_way_rows_per_s": one_way,
            "two_way_rows_per_s": two_way,
            "time": unix_time(),
        }),
    )?;
    println!("results in {}", path.display());
    Ok(())
}
