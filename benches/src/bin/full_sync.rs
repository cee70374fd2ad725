//! Full sync of a 1,000,000-row sysbench table: dts against `mariadb-dump | mariadb`,
//! `mydumper` + `myloader` (2 threads, 100,000-row chunks so both load threads work; once as
//! myloader runs by default, skipping the destination binlog, and once with `--enable-binlog`,
//! which is what dts does) and the `LOAD DATA INFILE` ceiling, on the same data, one after
//! another (the destination database is dropped between runs).
//!
//! The source table `dts_bench_full.sbtest1` is generated server-side (sequence engine,
//! sysbench's layout) unless it already holds the requested row count. dts runs in-process
//! (a `Task` with schema and full sync) once per setting; the time runs from start to the
//! full-sync stage finishing, and the peak RSS is this process's `VmHWM`, reset before each run.
//! Results go to `target/bench/results.json` under `"full_sync"`.
//!
//! ```text
//! cargo run --release -p dts-benches --bin full_sync -- [--rows N] [--quick] [--keep]
//! ```

use dts_benches::task::{build_task, connect, exec, scratch_dir, wait_stage, BoxError, Knobs};
use dts_benches::{
    cpu_seconds, dest_url, destination_name, fmt_bytes, fmt_count, fmt_rate, fmt_ratio, host_port,
    parse_count, peak_rss_bytes, ratio, reset_peak_rss, run_shell, server_cpu_seconds, source_url,
    sysbench_table_ddl, sysbench_table_ddl_primary_only, unix_time, use_destination, write_result,
    Table,
};
use dts_core::{Stage, StageStatus};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DB: &str = "dts_bench_full";
const TABLE: &str = "sbtest1";
const KEY: &str = "full_sync";

struct Args {
    rows: u64,
    /// Only the default settings for dts.
    quick: bool,
    /// Skip the peer tools (for tuning runs; results are not written).
    dts_only: bool,
    /// Explicit dts settings instead of the built-in list.
    settings: Vec<Knobs>,
    keep: bool,
    /// The test environment's destination server (`destination`, or `interleaved`).
    destination: String,
}

const USAGE: &str = "usage: full_sync [--rows N (default 1_000_000)] [--quick] [--keep] \
     [--dts-only] [--settings chunk_rows,write_concurrency,workers,batch_rows[;…]] \
     [--destination destination|interleaved]";

/// `"c,w,k,b;c,w,k,b"` → knob settings.
fn parse_settings(text: &str) -> Result<Vec<Knobs>, String> {
    text.split(';')
        .map(|one| {
            let n: Vec<usize> = one
                .split(',')
                .map(|x| parse_count(x).map(|v| v as usize))
                .collect::<Result<_, _>>()?;
            match n[..] {
                [chunk_rows, write_concurrency, workers, batch_rows] => Ok(Knobs {
                    chunk_rows,
                    write_concurrency,
                    workers,
                    batch_rows,
                    full_sync_binlog: true,
                }),
                _ => Err(USAGE.to_string()),
            }
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        quick: false,
        dts_only: false,
        settings: Vec::new(),
        keep: false,
        destination: "destination".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rows" => args.rows = parse_count(&it.next().ok_or(USAGE)?)?,
            "--quick" => args.quick = true,
            "--dts-only" => args.dts_only = true,
            "--settings" => args.settings = parse_settings(&it.next().ok_or(USAGE)?)?,
            "--keep" => args.keep = true,
            "--destination" => args.destination = it.next().ok_or(USAGE)?,
            "--bench" => {}
            _ => return Err(USAGE.into()),
        }
    }
    Ok(args)
}

/// One measured run.
#[derive(Clone, Debug)]
struct Run {
    rows: u64,
    seconds: f64,
    peak_rss: Option<u64>,
    cpu_seconds: Option<f64>,
    /// CPU the source and destination servers spent during the run (dts runs only).
    source_cpu_seconds: Option<f64>,
    destination_cpu_seconds: Option<f64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.seconds
    }
}

async fn prepare_source(rows: u64) -> Result<(), BoxError> {
    dts_benches::task::ensure_sysbench_source(DB, TABLE, rows).await
}

async fn drop_dest() -> Result<(), BoxError> {
    let mut d = connect(&dest_url()).await?;
    exec(&mut d, &[&format!("DROP DATABASE IF EXISTS `{DB}`")]).await
}

async fn dest_count() -> Result<u64, BoxError> {
    let mut d = connect(&dest_url()).await?;
    let n: Option<u64> = d
        .query_first(format!("SELECT COUNT(*) FROM `{DB}`.`{TABLE}`"))
        .await?;
    Ok(n.unwrap_or(0))
}

async fn run_dts(knobs: Knobs, n: usize) -> Result<Run, BoxError> {
    drop_dest().await?;
    let dir = scratch_dir(&format!("full-{n}"))?;
    let task_id = format!("bench-full-{}-{n}", std::process::id());
    let built = build_task(DB, &task_id, &dir.join("state.json"), knobs, true).await?;
    let handle = built.task.handle();
    let scoped = reset_peak_rss();
    let cpu0 = cpu_seconds();
    let servers0 = (
        server_cpu_seconds("source"),
        server_cpu_seconds(&destination_name()),
    );
    let start = Instant::now();
    let task = built.task;
    let runner = tokio::spawn(async move { task.run().await });
    let waited = wait_stage(
        &handle,
        Stage::FullDataSync,
        StageStatus::Finished,
        Duration::from_millis(20),
        Duration::from_secs(1800),
    )
    .await;
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let source_cpu = server_cpu_seconds("source")
        .zip(servers0.0)
        .map(|(b, a)| b - a);
    let dest_cpu = server_cpu_seconds(&destination_name())
        .zip(servers0.1)
        .map(|(b, a)| b - a);
    let peak = peak_rss_bytes().filter(|_| scoped);
    handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(60), runner).await;
    waited?;
    let rows: u64 = handle.progress().tables.values().map(|t| t.rows_done).sum();
    let _ = std::fs::remove_dir_all(&dir);
    let mut d = connect(&dest_url()).await?;
    let _ = d
        .exec_drop(
            "DELETE FROM dts_meta.dts_checkpoint WHERE task_id = ?",
            (&task_id,),
        )
        .await;
    Ok(Run {
        rows,
        seconds,
        peak_rss: peak,
        cpu_seconds: cpu,
        source_cpu_seconds: source_cpu,
        destination_cpu_seconds: dest_cpu,
    })
}

fn cli(url: &str) -> String {
    let (h, p) = host_port(url);
    format!("-h {h} -P {p} -uroot")
}

/// Connection options for mydumper/myloader (GLib option parsing wants them spelled out).
fn long_cli(url: &str) -> String {
    let (h, p) = host_port(url);
    format!("--host {h} --port {p} --user root")
}

async fn run_dump_pipe(rows: u64) -> Result<Run, BoxError> {
    drop_dest().await?;
    let mut d = connect(&dest_url()).await?;
    exec(&mut d, &[&format!("CREATE DATABASE `{DB}`")]).await?;
    let took = run_shell(&format!(
        "mariadb-dump {} --single-transaction {DB} | mariadb {} {DB}",
        cli(&source_url()),
        cli(&dest_url())
    ))?;
    Ok(run_without_process_figures(
        dest_count().await.unwrap_or(rows),
        took.as_secs_f64(),
    ))
}

/// mydumper + myloader; myloader skips the destination binlog unless `binlog` (dts always
/// writes it, so the like-for-like figure is the one with `binlog`).
async fn run_mydumper(rows: u64, binlog: bool) -> Result<Run, BoxError> {
    drop_dest().await?;
    let mut d = connect(&dest_url()).await?;
    exec(&mut d, &[&format!("CREATE DATABASE `{DB}`")]).await?;
    let dir = scratch_dir("mydumper")?;
    let out = dir.join("dump");
    let took = run_shell(&format!(
        "mydumper {} -B {DB} -t 2 -r 100000 -o {out} && myloader {} -B {DB} -t 2 -o {} -d {out}",
        long_cli(&source_url()),
        long_cli(&dest_url()),
        if binlog { "--enable-binlog" } else { "" },
        out = out.display()
    ))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(run_without_process_figures(
        dest_count().await.unwrap_or(rows),
        took.as_secs_f64(),
    ))
}

/// Rows per statement of the destination ceiling: dts's default chunk.
const CEILING_CHUNK: usize = 5_000;

/// `SELECT … INTO OUTFILE` of the source table into `dir` (through the `mariadb` client when
/// the server may not write there); the file the later runs load.
async fn export_rows(dir: &Path) -> Result<PathBuf, BoxError> {
    // The servers run as this user on this machine; let them write there in any case.
    let _ = run_shell(&format!("chmod 777 {}", dir.display()));
    let file = dir.join("sbtest1.tsv");
    let mut s = connect(&source_url()).await?;
    let outfile = s
        .query_drop(format!(
            "SELECT * FROM `{DB}`.`{TABLE}` INTO OUTFILE '{}'",
            file.display()
        ))
        .await;
    if let Err(e) = outfile {
        println!("  INTO OUTFILE refused ({e}); exporting with the mariadb client");
        run_shell(&format!(
            "mariadb {} -N -B --raw -e 'SELECT * FROM `{DB}`.`{TABLE}`' > {}",
            cli(&source_url()),
            file.display()
        ))?;
    }
    Ok(file)
}

/// The destination database created anew with the table of `ddl` in it; the session is left
/// in that database.
async fn fresh_dest_table(ddl: &str) -> Result<mysql_async::Conn, BoxError> {
    drop_dest().await?;
    let mut d = connect(&dest_url()).await?;
    exec(
        &mut d,
        &[
            &format!("CREATE DATABASE `{DB}`"),
            &format!("USE `{DB}`"),
            ddl,
        ],
    )
    .await?;
    Ok(d)
}

/// (Timed) `LOAD DATA INFILE` of the exported rows into the destination table with its
/// indexes; falls back to `LOAD DATA LOCAL INFILE` through the `mariadb` client when the
/// server may not read the file. Returns the run and which variant ran.
async fn run_load_data(file: &Path) -> Result<(Run, &'static str), BoxError> {
    let mut d = fresh_dest_table(&sysbench_table_ddl(TABLE)).await?;
    let start = Instant::now();
    let server = d
        .query_drop(format!(
            "LOAD DATA INFILE '{}' INTO TABLE `{DB}`.`{TABLE}`",
            file.display()
        ))
        .await;
    let (seconds, variant) = match server {
        Ok(()) => (start.elapsed().as_secs_f64(), "LOAD DATA INFILE"),
        Err(e) => {
            println!("  LOAD DATA INFILE refused ({e}); using LOAD DATA LOCAL INFILE");
            exec(&mut d, &[&format!("TRUNCATE TABLE `{DB}`.`{TABLE}`")]).await?;
            let took = run_shell(&format!(
                "mariadb {} --local-infile=1 -e \"LOAD DATA LOCAL INFILE '{}' INTO TABLE \\`{DB}\\`.\\`{TABLE}\\`\"",
                cli(&dest_url()),
                file.display()
            ))?;
            (took.as_secs_f64(), "LOAD DATA LOCAL INFILE")
        }
    };
    Ok((
        run_without_process_figures(dest_count().await?, seconds),
        variant,
    ))
}

fn run_without_process_figures(rows: u64, seconds: f64) -> Run {
    Run {
        rows,
        seconds,
        peak_rss: None,
        cpu_seconds: None,
        source_cpu_seconds: None,
        destination_cpu_seconds: None,
    }
}

/// Splits the exported rows into files of [`CEILING_CHUNK`] rows (one row per line:
/// `INTO OUTFILE` escapes line breaks inside values).
fn split_rows(file: &Path) -> Result<Vec<PathBuf>, BoxError> {
    let data = std::fs::read(file)?;
    let mut pieces = Vec::new();
    let mut rest = &data[..];
    while !rest.is_empty() {
        let mut end = 0;
        let mut lines = 0;
        while end < rest.len() && lines < CEILING_CHUNK {
            end += rest[end..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len() - end, |i| i + 1);
            lines += 1;
        }
        let path = file.with_extension(format!("{:05}", pieces.len()));
        std::fs::write(&path, &rest[..end])?;
        pieces.push(path);
        rest = &rest[end..];
    }
    Ok(pieces)
}

/// The destination's own ceiling for what dts asks of it, from files already on the server
/// (no source, no network): the table without its secondary index, the rows as
/// [`CEILING_CHUNK`]-row `LOAD DATA INFILE` statements spread round-robin over `connections`
/// sessions, then one `ALTER TABLE … ADD KEY`; with or without the destination binlog.
async fn run_ceiling(
    pieces: &[PathBuf],
    binlog: bool,
    connections: usize,
) -> Result<Run, BoxError> {
    let mut d = fresh_dest_table(&sysbench_table_ddl_primary_only(TABLE)).await?;
    let mut sessions = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut c = connect(&dest_url()).await?;
        if !binlog {
            c.query_drop("SET SESSION sql_log_bin = 0").await?;
        }
        sessions.push(c);
    }
    let cpu0 = server_cpu_seconds(&destination_name());
    let start = Instant::now();
    let loads = sessions
        .into_iter()
        .enumerate()
        .map(|(n, mut c)| async move {
            for piece in pieces.iter().skip(n).step_by(connections) {
                c.query_drop(format!(
                    "LOAD DATA INFILE '{}' INTO TABLE `{DB}`.`{TABLE}` CHARACTER SET binary",
                    piece.display()
                ))
                .await?;
            }
            Ok::<_, mysql_async::Error>(())
        });
    futures::future::try_join_all(loads).await?;
    exec(
        &mut d,
        &[&format!(
            "ALTER TABLE `{DB}`.`{TABLE}` ADD KEY `k_{TABLE}` (k)"
        )],
    )
    .await?;
    let seconds = start.elapsed().as_secs_f64();
    let mut run = run_without_process_figures(dest_count().await?, seconds);
    run.destination_cpu_seconds = server_cpu_seconds(&destination_name())
        .zip(cpu0)
        .map(|(b, a)| b - a);
    Ok(run)
}

/// The best of [`run_ceiling`] over 1 and 2 sessions (one session is the best a table with
/// an AUTO_INCREMENT column can get under `innodb_autoinc_lock_mode = 1`: the table's
/// AUTO-INC lock makes concurrent `LOAD DATA` statements wait for each other).
async fn best_ceiling(pieces: &[PathBuf], binlog: bool) -> Result<(Run, usize), BoxError> {
    let mut best: Option<(Run, usize)> = None;
    for connections in [1, 2] {
        let r = run_ceiling(pieces, binlog, connections).await?;
        println!(
            "  binlog {}, {connections} session(s): {:.2}s = {}, destination CPU {:.1}s",
            if binlog { "on" } else { "off" },
            r.seconds,
            fmt_rate(r.rate()),
            r.destination_cpu_seconds.unwrap_or(0.0)
        );
        if best.as_ref().is_none_or(|(b, _)| r.rate() > b.rate()) {
            best = Some((r, connections));
        }
    }
    Ok(best.expect("two runs"))
}

fn knob_json(k: &Knobs) -> Value {
    json!({"chunk_rows": k.chunk_rows, "write_concurrency": k.write_concurrency,
           "workers": k.workers, "batch_rows": k.batch_rows,
           "full_sync_binlog": k.full_sync_binlog})
}

async fn run(args: Args) -> Result<(), BoxError> {
    prepare_source(args.rows).await?;
    let defaults = Knobs::default();
    let mut settings = vec![defaults];
    if !args.settings.is_empty() {
        settings = args.settings.clone();
    } else if !args.quick {
        for (chunk_rows, write_concurrency, workers, batch_rows) in
            [(10_000, 4, 2, 10_000), (10_000, 4, 4, 5_000)]
        {
            let k = Knobs {
                chunk_rows,
                write_concurrency,
                workers,
                batch_rows,
                full_sync_binlog: true,
            };
            if k != defaults {
                settings.push(k);
            }
        }
    }
    // Like myloader's default: the copy kept out of the destination binlog.
    settings.push(Knobs {
        full_sync_binlog: false,
        ..defaults
    });
    let mut dts_runs = Vec::new();
    for (n, k) in settings.iter().enumerate() {
        print!("dts [{k}] … ");
        let r = run_dts(*k, n).await?;
        println!(
            "{} rows in {:.2}s = {}, peak RSS {}, CPU dts {:.1}s, source server {:.1}s, destination server {:.1}s",
            fmt_count(r.rows),
            r.seconds,
            fmt_rate(r.rate()),
            r.peak_rss.map(fmt_bytes).unwrap_or_else(|| "n/a".into()),
            r.cpu_seconds.unwrap_or(0.0),
            r.source_cpu_seconds.unwrap_or(0.0),
            r.destination_cpu_seconds.unwrap_or(0.0)
        );
        dts_runs.push((*k, r));
    }
    if args.dts_only {
        return Ok(());
    }
    let measure = |name: &str, r: &Result<Run, BoxError>| match r {
        Ok(r) => println!(
            "{name}: {} rows in {:.2}s = {}",
            fmt_count(r.rows),
            r.seconds,
            fmt_rate(r.rate())
        ),
        Err(e) => println!("{name}: could not run: {e}"),
    };
    print!("mariadb-dump | mariadb … ");
    let pipe = run_dump_pipe(args.rows).await;
    measure("dump pipe", &pipe);
    print!("mydumper + myloader (2 threads) … ");
    let myl = run_mydumper(args.rows, false).await;
    measure("mydumper+myloader", &myl);
    print!("mydumper + myloader --enable-binlog (2 threads) … ");
    let myl_binlog = run_mydumper(args.rows, true).await;
    measure("mydumper+myloader --enable-binlog", &myl_binlog);
    let dir = scratch_dir("loaddata")?;
    let file = export_rows(&dir).await;
    print!("LOAD DATA of the whole table into it with its indexes … ");
    let load = match &file {
        Ok(f) => run_load_data(f).await,
        Err(e) => Err(format!("export failed: {e}").into()),
    };
    let load_variant = load.as_ref().map(|l| l.1).unwrap_or("failed");
    let load = load.map(|l| l.0);
    measure(load_variant, &load);
    println!(
        "destination ceiling ({CEILING_CHUNK}-row LOAD DATA INFILE statements into the table \
         without its secondary index, then ADD KEY; no source, no network):"
    );
    let pieces = match &file {
        Ok(f) => split_rows(f),
        Err(e) => Err(format!("export failed: {e}").into()),
    };
    let ceiling = |binlog: bool| {
        let pieces = &pieces;
        async move {
            match pieces {
                Ok(p) => best_ceiling(p, binlog).await,
                Err(e) => Err(format!("{e}").into()),
            }
        }
    };
    let ceiling_binlog = ceiling(true).await;
    let ceiling_unlogged = ceiling(false).await;
    for (name, c) in [
        ("binlog on", &ceiling_binlog),
        ("binlog off", &ceiling_unlogged),
    ] {
        if let Err(e) = c {
            println!("  {name}: could not run: {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let lock_mode: Option<u64> = connect(&dest_url())
        .await?
        .query_first("SELECT @@innodb_autoinc_lock_mode")
        .await?;
    if !args.keep {
        drop_dest().await?;
    }

    let (default_knobs, default_run) = dts_runs[0].clone();
    let best_of = |binlog: bool| {
        dts_runs
            .iter()
            .filter(|(k, _)| k.full_sync_binlog == binlog)
            .max_by(|a, b| a.1.rate().total_cmp(&b.1.rate()))
            .cloned()
    };
    let (best_knobs, best_run) = best_of(true)
        .or_else(|| best_of(false))
        .expect("one dts run");
    let unlogged = best_of(false);
    let unlogged_r = unlogged.as_ref().map(|(_, r)| r.rate());
    let rate = |r: &Result<Run, BoxError>| r.as_ref().ok().map(Run::rate);
    let (pipe_r, myl_r, load_r) = (rate(&pipe), rate(&myl), rate(&load));
    let myl_binlog_r = rate(&myl_binlog);
    let best = Some(best_run.rate());
    let mut t = Table::new(format!(
        "full sync of {} rows ({DB}.{TABLE})",
        fmt_count(args.rows)
    ));
    for (k, r) in &dts_runs {
        t.row(
            format!("dts [{k}]"),
            format!(
                "{} ({:.2}s, peak RSS {})",
                fmt_rate(r.rate()),
                r.seconds,
                r.peak_rss.map(fmt_bytes).unwrap_or_else(|| "n/a".into())
            ),
        );
    }
    let show = |r: Option<f64>| r.map(fmt_rate).unwrap_or_else(|| "n/a".into());
    t.row("mariadb-dump | mariadb", show(pipe_r));
    t.row(
        "mydumper + myloader (2 threads, destination binlog off)",
        show(myl_r),
    );
    t.row(
        "mydumper + myloader --enable-binlog (2 threads)",
        show(myl_binlog_r),
    );
    t.row(
        format!("{load_variant} (whole table, indexes in place)"),
        show(load_r),
    );
    let ceiling_r = |c: &Result<(Run, usize), BoxError>| c.as_ref().ok().map(|(r, _)| r.rate());
    let (ceil_b, ceil_u) = (ceiling_r(&ceiling_binlog), ceiling_r(&ceiling_unlogged));
    let sessions = |c: &Result<(Run, usize), BoxError>| {
        c.as_ref()
            .map(|(_, n)| format!(", best with {n} session(s)"))
            .unwrap_or_default()
    };
    t.row(
        "destination ceiling, binlog on",
        format!("{}{}", show(ceil_b), sessions(&ceiling_binlog)),
    );
    t.row(
        "destination ceiling, binlog off",
        format!("{}{}", show(ceil_u), sessions(&ceiling_unlogged)),
    );
    t.row("dts best / dump pipe", fmt_ratio(ratio(best, pipe_r)));
    t.row(
        "dts best / myloader --enable-binlog (both binlogged)",
        fmt_ratio(ratio(best, myl_binlog_r)),
    );
    t.row(
        "dts binlog off / myloader (both unlogged)",
        fmt_ratio(ratio(unlogged_r, myl_r)),
    );
    t.row("dts best / LOAD DATA", fmt_ratio(ratio(best, load_r)));
    t.row(
        "dts default / destination ceiling (binlog on)",
        fmt_ratio(ratio(Some(default_run.rate()), ceil_b)),
    );
    t.row(
        "dts binlog off / destination ceiling (binlog off)",
        fmt_ratio(ratio(unlogged_r, ceil_u)),
    );
    t.row(
        "dts default / dump pipe, myloader, LOAD DATA",
        format!(
            "{}, {}, {}",
            fmt_ratio(ratio(Some(default_run.rate()), pipe_r)),
            fmt_ratio(ratio(Some(default_run.rate()), myl_r)),
            fmt_ratio(ratio(Some(default_run.rate()), load_r))
        ),
    );
    print!("{}", t.render());

    let secs = |r: &Result<Run, BoxError>| r.as_ref().ok().map(|r| r.seconds);
    let value = json!({
        "rows": args.rows,
        "dts_rows_per_s": best_run.rate(),
        "dts_seconds": best_run.seconds,
        "dts_peak_rss_bytes": best_run.peak_rss,
        "dts_cpu_seconds": best_run.cpu_seconds,
        "dts_settings": knob_json(&best_knobs),
        "dts_default_rows_per_s": default_run.rate(),
        "dts_default_seconds": default_run.seconds,
        "dts_default_peak_rss_bytes": default_run.peak_rss,
        "dts_default_settings": knob_json(&default_knobs),
        "dts_runs": dts_runs.iter().map(|(k, r)| json!({
            "settings": knob_json(k), "rows": r.rows, "seconds": r.seconds,
            "rows_per_s": r.rate(), "peak_rss_bytes": r.peak_rss, "cpu_seconds": r.cpu_seconds,
            "source_cpu_seconds": r.source_cpu_seconds,
            "destination_cpu_seconds": r.destination_cpu_seconds,
        })).collect::<Vec<_>>(),
        "dump_pipe_rows_per_s": pipe_r,
        "dump_pipe_seconds": secs(&pipe),
        "myloader_rows_per_s": myl_r,
        "myloader_seconds": secs(&myl),
        "myloader_binlog_rows_per_s": myl_binlog_r,
        "myloader_binlog_seconds": secs(&myl_binlog),
        "dts_vs_myloader_binlog": ratio(best, myl_binlog_r),
        "load_data_rows_per_s": load_r,
        "load_data_seconds": secs(&load),
        "load_data_variant": load_variant,
        "dts_vs_dump_pipe": ratio(best, pipe_r),
        "dts_vs_myloader": ratio(unlogged_r, myl_r),
        "dts_vs_myloader_note": "like for like: dts with full_sync_binlog = false vs myloader's default (no binlog); dts_vs_myloader_binlog compares both binlogged",
        "dts_binlog_off_rows_per_s": unlogged_r,
        "dts_vs_load_data": ratio(best, load_r),
        "destination": destination_name(),
        "innodb_autoinc_lock_mode": lock_mode,
        "ceiling_binlog_rows_per_s": ceil_b,
        "ceiling_unlogged_rows_per_s": ceil_u,
        "ceiling_binlog_sessions": ceiling_binlog.as_ref().ok().map(|(_, n)| *n),
        "ceiling_unlogged_sessions": ceiling_unlogged.as_ref().ok().map(|(_, n)| *n),
        "dts_default_vs_ceiling_binlog": ratio(Some(default_run.rate()), ceil_b),
        "dts_binlog_off_vs_ceiling_unlogged": ratio(unlogged_r, ceil_u),
        "unix_time": unix_time(),
    });
    let key = match destination_name().as_str() {
        "destination" => KEY.to_string(),
        other => format!("{KEY}_{other}"),
    };
    let path = write_result(&key, value)?;
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
    if args.destination != "destination" {
        if let Err(e) = use_destination(&args.destination) {
            eprintln!("full_sync: {e}");
            return ExitCode::from(2);
        }
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("full_sync: {e}");
            ExitCode::FAILURE
        }
    }
}
