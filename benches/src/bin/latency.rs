//! Steady-state latency: the dts task in incremental mode while a fixed-rate writer inserts
//! rows into the source (default 5,000 rows/s for 20 s, one multi-row INSERT every 10 ms),
//! each row carrying its source time (`NOW(6)` at insert). A poller reads the destination
//! every 20 ms for rows not seen yet (rows may appear out of id order) and records, per row, the destination's
//! `NOW(6)` minus that time: source-commit-to-destination-visible latency (both servers run
//! on this machine, so they share a clock). Reports p50/p99/max and merges them into
//! `target/bench/results.json` under `"latency"`.
//!
//! ```text
//! cargo run --release -p dts-benches --bin latency -- [--rate N] [--seconds N] [--keep]
//! ```

use dts_benches::task::{build_task, connect, exec, scratch_dir, wait_stage, BoxError, Knobs};
use dts_benches::{
    dest_url, fmt_count, parse_count, percentile, source_url, unix_time, write_result, Table,
};
use dts_core::{Stage, StageStatus};
use mysql_async::prelude::Queryable;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DB: &str = "dts_bench_lat";
const KEY: &str = "latency";
/// Writer tick.
const TICK: Duration = Duration::from_millis(10);
/// Destination poll interval.
const POLL: Duration = Duration::from_millis(20);

struct Args {
    rate: u64,
    seconds: u64,
    keep: bool,
}

const USAGE: &str =
    "usage: latency [--rate ROWS_PER_S (default 5000)] [--seconds N (default 20)] [--keep]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rate: 5_000,
        seconds: 20,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rate" => args.rate = parse_count(&it.next().ok_or(USAGE)?)?,
            "--seconds" => args.seconds = parse_count(&it.next().ok_or(USAGE)?)?,
            "--keep" => args.keep = true,
            "--bench" => {}
            _ => return Err(USAGE.into()),
        }
    }
    if args.rate < 100 || args.seconds == 0 {
        return Err("--rate must be at least 100 and --seconds at least 1".into());
    }
    Ok(args)
}

/// Inserts `rate` rows/s for `seconds`; returns the rows written and the seconds it took.
async fn writer(rate: u64, seconds: u64) -> Result<(u64, f64), BoxError> {
    let mut c = connect(&source_url()).await?;
    exec(&mut c, &[&format!("USE `{DB}`")]).await?;
    let ticks = seconds * 1000 / TICK.as_millis() as u64;
    let per_second_ticks = 1000 / TICK.as_millis() as u64;
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut written = 0;
    for tick in 0..ticks {
        interval.tick().await;
        // Spread the rate evenly over the ticks of each second.
        let due = rate * (tick % per_second_ticks + 1) / per_second_ticks
            - rate * (tick % per_second_ticks) / per_second_ticks;
        if due == 0 {
            continue;
        }
        let values = vec!["(NOW(6), 'latency-probe-row')"; due as usize].join(", ");
        c.query_drop(format!(
            "INSERT INTO lat (inserted_at, pad) VALUES {values}"
        ))
        .await?;
        written += due;
    }
    Ok((written, start.elapsed().as_secs_f64()))
}

async fn run(args: Args) -> Result<(), BoxError> {
    let mut s = connect(&source_url()).await?;
    exec(
        &mut s,
        &[
            &format!("DROP DATABASE IF EXISTS `{DB}`"),
            &format!("CREATE DATABASE `{DB}`"),
            &format!(
                "CREATE TABLE `{DB}`.lat (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
                 inserted_at DATETIME(6) NOT NULL, pad VARCHAR(32) NOT NULL)"
            ),
        ],
    )
    .await?;
    let mut d = connect(&dest_url()).await?;
    exec(&mut d, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;

    let dir = scratch_dir("latency")?;
    let task_id = format!("bench-lat-{}", std::process::id());
    let built = build_task(
        DB,
        &task_id,
        &dir.join("state.json"),
        Knobs::default(),
        true,
    )
    .await?;
    let handle = built.task.handle();
    let task = built.task;
    let runner = tokio::spawn(async move { task.run().await });
    wait_stage(
        &handle,
        Stage::IncrementalWrite,
        StageStatus::Running,
        Duration::from_millis(50),
        Duration::from_secs(120),
    )
    .await?;
    println!(
        "task in incremental write; writing {} rows/s for {}s",
        fmt_count(args.rate),
        args.seconds
    );

    let mut w = tokio::spawn(writer(args.rate, args.seconds));
    let mut latencies_ms: Vec<f64> = Vec::new();
    // The sink applies independent keys in parallel, so rows can become visible out of id
    // order: poll from the end of the contiguous prefix seen so far, skipping rows seen.
    let mut seen: Vec<bool> = vec![false; 1];
    let mut prefix: u64 = 0;
    let mut written: Option<(u64, f64)> = None;
    let mut drain_deadline = None;
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        poll.tick().await;
        dts_benches::task::check_failed(&handle)?;
        let rows: Vec<(u64, i64)> = d
            .exec(
                format!(
                    "SELECT id, TIMESTAMPDIFF(MICROSECOND, inserted_at, NOW(6)) \
                     FROM `{DB}`.lat WHERE id > ? ORDER BY id"
                ),
                (prefix,),
            )
            .await
            .unwrap_or_default();
        for (id, micros) in rows {
            let i = id as usize;
            if i >= seen.len() {
                seen.resize(i + 1, false);
            }
            if !seen[i] {
                seen[i] = true;
                latencies_ms.push(micros as f64 / 1000.0);
            }
        }
        while seen.get(prefix as usize + 1).copied().unwrap_or(false) {
            prefix += 1;
        }
        if written.is_none() && w.is_finished() {
            written = Some((&mut w).await??);
            drain_deadline = Some(Instant::now() + Duration::from_secs(60));
        }
        if let Some((n, _)) = written {
            if latencies_ms.len() as u64 >= n {
                break;
            }
            if drain_deadline.is_some_and(|t| Instant::now() > t) {
                println!(
                    "only {} of {} rows reached the destination within 60 s of the writer stopping",
                    latencies_ms.len(),
                    n
                );
                break;
            }
        }
    }
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(60), runner).await;
    let (rows_written, write_seconds) = written.unwrap_or((0, 0.0));
    let _ = d
        .exec_drop(
            "DELETE FROM dts_meta.dts_checkpoint WHERE task_id = ?",
            (&task_id,),
        )
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    if !args.keep {
        exec(&mut d, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;
        exec(&mut s, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await?;
    }

    let mut sorted = latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let p = |q: f64| percentile(&sorted, q);
    let mean = (!sorted.is_empty()).then(|| sorted.iter().sum::<f64>() / sorted.len() as f64);
    let ms = |v: Option<f64>| {
        v.map(|v| format!("{v:.1} ms"))
            .unwrap_or_else(|| "n/a".into())
    };
    let achieved = rows_written as f64 / write_seconds.max(1e-9);
    let mut t = Table::new(format!(
        "steady-state latency at {} rows/s for {}s (source NOW(6) to destination-visible, {} ms polls)",
        fmt_count(args.rate),
        args.seconds,
        POLL.as_millis()
    ));
    t.row(
        "rows written / seen",
        format!(
            "{} / {} (achieved {:.0} rows/s)",
            fmt_count(rows_written),
            fmt_count(sorted.len() as u64),
            achieved
        ),
    );
    t.row("p50", ms(p(0.50)));
    t.row("p90", ms(p(0.90)));
    t.row("p99", ms(p(0.99)));
    t.row("max", ms(sorted.last().copied()));
    t.row("mean", ms(mean));
    print!("{}", t.render());

    let value = json!({
        "rate": args.rate,
        "seconds": args.seconds,
        "achieved_rate": achieved,
        "rows_written": rows_written,
        "rows_seen": sorted.len(),
        "poll_ms": POLL.as_millis() as u64,
        "p50_ms": p(0.50),
        "p90_ms": p(0.90),
        "p99_ms": p(0.99),
        "max_ms": sorted.last().copied(),
        "mean_ms": mean,
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
            eprintln!("latency: {e}");
            ExitCode::FAILURE
        }
    }
}
