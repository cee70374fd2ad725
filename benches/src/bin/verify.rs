//! Data verification of a 1,000,000-row sysbench table: dts full-field verification (100 %,
//! union baseline) against `pt-table-sync --print` on the same pair, first with no
//! differences, then with 100 (40 changed, 30 missing, 30 extra rows at the destination).
//!
//! The table `vf_bench_src.sbtest1` (source) and `vf_bench_dst.sbtest1` (destination) are
//! generated server-side with identical content. For each tool: wall-clock seconds, the rows
//! it reports as differing, and bytes transferred — dts's own count of query and result bytes,
//! and for both tools the servers' `Bytes_sent + Bytes_received` growth during the run
//! (server-wide, so other clients of the test servers add noise). Results go to
//! `target/bench/results.json` under `"verification"`.
//!
//! The same dts runs are repeated with the reading side of an AnalyticDB destination
//! (`dts_adb::verify`: the portable encoding, built only from functions ADB documents) on the
//! same pair — MariaDB standing in for ADB, as in `dts-adb`'s tests — to show what the portable
//! encoding costs next to the native one.
//!
//! ```text
//! cargo run --release -p dts-benches --bin verify -- [--rows N] [--chunk-rows N] [--keep]
//! ```

use dts_benches::task::{connect, exec, BoxError};
use dts_benches::{
    dest_url, fmt_bytes, fmt_count, host_port, parse_count, ratio, source_url, sysbench_fill_sql,
    sysbench_table_ddl, unix_time, write_result, Table,
};
use dts_core::config::{FullVerificationMode, VerificationBaseline};
use dts_core::verify::{FullOptions, Verifier, VerifyReader, VerifyTarget};
use dts_core::{TableId, TableRoute};
use dts_mysql::wire::verify::MysqlVerifyReader;
use dts_mysql::MysqlEndpoint;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const SRC: &str = "vf_bench_src";
const DST: &str = "vf_bench_dst";
const TABLE: &str = "sbtest1";
const KEY: &str = "verification";

struct Args {
    rows: u64,
    chunk_rows: u64,
    keep: bool,
}

const USAGE: &str =
    "usage: verify [--rows N (default 1_000_000)] [--chunk-rows N (default 10_000)] [--keep]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        chunk_rows: 10_000,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rows" => args.rows = parse_count(&it.next().ok_or(USAGE)?)?,
            "--chunk-rows" => args.chunk_rows = parse_count(&it.next().ok_or(USAGE)?)?,
            "--keep" => args.keep = true,
            "--bench" => {}
            _ => return Err(USAGE.into()),
        }
    }
    Ok(args)
}

/// One tool's measured run.
#[derive(Clone, Debug)]
struct Run {
    seconds: f64,
    differing: u64,
    /// Bytes the tool itself counted (dts only).
    own_bytes: Option<u64>,
    /// Growth of both servers' Bytes_sent + Bytes_received.
    server_bytes: u64,
}

impl Run {
    fn json(&self) -> Value {
        json!({
            "seconds": self.seconds,
            "differing_rows": self.differing,
            "bytes_transferred": self.own_bytes,
            "server_bytes": self.server_bytes,
        })
    }
}

async fn server_bytes() -> Result<u64, BoxError> {
    let mut total = 0;
    for url in [source_url(), dest_url()] {
        let mut c = connect(&url).await?;
        let rows: Vec<(String, String)> = c
            .query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Bytes_sent', 'Bytes_received')")
            .await?;
        total += rows
            .iter()
            .map(|(_, v)| v.parse::<u64>().unwrap_or(0))
            .sum::<u64>();
    }
    Ok(total)
}

async fn prepare(rows: u64) -> Result<(), BoxError> {
    for (url, db) in [(source_url(), SRC), (dest_url(), DST)] {
        let mut c = connect(&url).await?;
        let have: Option<u64> = c
            .query_first(format!("SELECT COUNT(*) FROM `{db}`.`{TABLE}`"))
            .await
            .ok()
            .flatten();
        if have == Some(rows) && db == SRC {
            continue;
        }
        exec(
            &mut c,
            &[
                &format!("DROP DATABASE IF EXISTS `{db}`"),
                &format!("CREATE DATABASE `{db}`"),
                &format!("USE `{db}`"),
                &sysbench_table_ddl(TABLE),
                &sysbench_fill_sql(TABLE, 1, rows),
            ],
        )
        .await?;
    }
    Ok(())
}

/// 40 changed, 30 deleted and 30 inserted destination rows, spread over the key range.
async fn seed_differences(rows: u64) -> Result<(), BoxError> {
    let mut c = connect(&dest_url()).await?;
    let step = (rows / 101).max(1);
    let ids: Vec<u64> = (1..=70).map(|i| i * step).collect();
    let changed: Vec<String> = ids[..40].iter().map(u64::to_string).collect();
    let deleted: Vec<String> = ids[40..].iter().map(u64::to_string).collect();
    let inserted: Vec<String> = (1..=30)
        .map(|i| format!("({}, 1, 'extra', 'extra')", rows + i))
        .collect();
    exec(
        &mut c,
        &[
            &format!(
                "UPDATE `{DST}`.`{TABLE}` SET c = CONCAT('changed-', c) WHERE id IN ({})",
                changed.join(", ")
            ),
            &format!(
                "DELETE FROM `{DST}`.`{TABLE}` WHERE id IN ({})",
                deleted.join(", ")
            ),
            &format!(
                "INSERT INTO `{DST}`.`{TABLE}` (id, k, c, pad) VALUES {}",
                inserted.join(", ")
            ),
        ],
    )
    .await?;
    Ok(())
}

/// dts verification of the pair; `adb` reads it as an ADB destination (portable encoding).
async fn run_dts(chunk_rows: u64, adb: bool) -> Result<Run, BoxError> {
    let source_ep = MysqlEndpoint::from_url("source", &source_url())?;
    let dest_ep = MysqlEndpoint::from_url("destination", &dest_url())?;
    let (source, destination): (Arc<dyn VerifyReader>, Arc<dyn VerifyReader>) = if adb {
        (
            Arc::new(dts_adb::verify::source_reader(
                source_ep,
                4,
                dts_mysql::wire::verify::SplitMethod::Auto,
            )),
            Arc::new(dts_adb::verify::AdbVerifyReader::new(dest_ep, 4, true)),
        )
    } else {
        (
            Arc::new(MysqlVerifyReader::new(source_ep, 4)),
            Arc::new(MysqlVerifyReader::new(dest_ep, 4)),
        )
    };
    let id = TableId::new(SRC, TABLE);
    let schema = source.describe(&id).await?.ok_or("source table missing")?;
    let target = VerifyTarget {
        route: TableRoute {
            destination: TableId::new(DST, TABLE),
            ..TableRoute::identity(&id)
        },
        schema,
        masked: vec![],
    };
    let verifier = Verifier::new(
        source,
        destination,
        FullOptions {
            mode: FullVerificationMode::Sampled,
            sampling_percent: 100,
            baseline: VerificationBaseline::Union,
            chunk_rows,
            ..Default::default()
        },
    );
    let before = server_bytes().await?;
    let start = Instant::now();
    let report = verifier.run(&[target], false).await;
    let seconds = start.elapsed().as_secs_f64();
    let server = server_bytes().await?.saturating_sub(before);
    if !report.errors.is_empty() {
        return Err(report.errors.join("; ").into());
    }
    Ok(Run {
        seconds,
        differing: report.inconsistent(),
        own_bytes: Some(report.bytes_transferred),
        server_bytes: server,
    })
}

async fn run_pt_table_sync() -> Result<Run, BoxError> {
    let dsn = |url: &str, db: &str| {
        let (host, port) = host_port(url);
        format!("h={host},P={port},u=root,D={db},t={TABLE}")
    };
    let before = server_bytes().await?;
    let start = Instant::now();
    let out = std::process::Command::new("pt-table-sync")
        .args(["--print", "--no-check-slave"])
        .arg(dsn(&source_url(), SRC))
        .arg(dsn(&dest_url(), DST))
        .output()?;
    let seconds = start.elapsed().as_secs_f64();
    let server = server_bytes().await?.saturating_sub(before);
    if !matches!(out.status.code(), Some(0 | 2)) {
        return Err(format!(
            "pt-table-sync failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let differing = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    Ok(Run {
        seconds,
        differing,
        own_bytes: None,
        server_bytes: server,
    })
}

fn show(r: &Result<Run, BoxError>) -> String {
    match r {
        Ok(r) => format!(
            "{:.2}s, {} differing, {}server bytes {}",
            r.seconds,
            r.differing,
            r.own_bytes
                .map(|b| format!("own bytes {}, ", fmt_bytes(b)))
                .unwrap_or_default(),
            fmt_bytes(r.server_bytes)
        ),
        Err(e) => format!("n/a ({e})"),
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    prepare(args.rows).await?;
    let clean_dts = run_dts(args.chunk_rows, false).await?;
    let clean_adb = run_dts(args.chunk_rows, true).await;
    let clean_pt = run_pt_table_sync().await;
    seed_differences(args.rows).await?;
    let diff_dts = run_dts(args.chunk_rows, false).await?;
    let diff_adb = run_dts(args.chunk_rows, true).await;
    let diff_pt = run_pt_table_sync().await;
    if !args.keep {
        let mut c = connect(&dest_url()).await?;
        exec(&mut c, &[&format!("DROP DATABASE IF EXISTS `{DST}`")]).await?;
    }
    let mut t = Table::new(format!(
        "verification of {} rows ({SRC}.{TABLE} vs {DST}.{TABLE}), chunks of {}",
        fmt_count(args.rows),
        fmt_count(args.chunk_rows)
    ));
    t.row("dts, no differences", show(&Ok(clean_dts.clone())));
    t.row("pt-table-sync --print, no differences", show(&clean_pt));
    t.row("dts, 100 differences", show(&Ok(diff_dts.clone())));
    t.row("pt-table-sync --print, 100 differences", show(&diff_pt));
    t.row(
        "dts, ADB reading side (compat), no differences",
        show(&clean_adb),
    );
    t.row(
        "dts, ADB reading side (compat), 100 differences",
        show(&diff_adb),
    );
    let secs = |r: &Result<Run, BoxError>| r.as_ref().ok().map(|r| r.seconds);
    let speedup = |pt: &Result<Run, BoxError>, dts: &Run| ratio(secs(pt), Some(dts.seconds));
    t.row(
        "pt-table-sync time / dts time (clean, 100 diffs)",
        format!(
            "{}, {}",
            dts_benches::fmt_ratio(speedup(&clean_pt, &clean_dts)),
            dts_benches::fmt_ratio(speedup(&diff_pt, &diff_dts))
        ),
    );
    print!("{}", t.render());
    let j = |r: &Result<Run, BoxError>| match r {
        Ok(r) => r.json(),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let value = json!({
        "rows": args.rows,
        "chunk_rows": args.chunk_rows,
        "dts_clean": clean_dts.json(),
        "dts_100_differences": diff_dts.json(),
        "pt_table_sync_clean": j(&clean_pt),
        "pt_table_sync_100_differences": j(&diff_pt),
        "dts_adb_reader_clean": j(&clean_adb),
        "dts_adb_reader_100_differences": j(&diff_adb),
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
            eprintln!("verify benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
