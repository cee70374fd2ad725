//! Binlog decode throughput of the MySQL source.
//!
//! Builds a backlog of row events on the test source server (a sysbench-like `sbtest1`, filled
//! server-side from MariaDB's sequence engine: 70% inserts, 20% updates, 10% deletes), then
//! times `MysqlSource::stream` from the position before the backlog until it has delivered
//! everything up to the position after it. Reports row events/s, transactions/s, binlog MB/s
//! and the peak RSS of the decoding phase, and merges them into `target/bench/results.json`
//! under `"binlog_decode"`.
//!
//! ```text
//! cargo run --release -p dts-benches --bin binlog_decode -- [--rows N] [--txn-rows N] [--keep]
//! ```
//!
//! The source URL is `DTS_TEST_SOURCE_URL` (default `mysql://root@127.0.0.1:33061`). Other
//! clients writing to the same server meanwhile add to the binlog bytes between the two
//! positions (their events are skipped undecoded, but still read).

use dts_benches::{
    cpu_seconds, fmt_bytes, fmt_count, fmt_rate, parse_count, peak_rss_bytes, reset_peak_rss,
    source_url, unix_time, write_result, Table,
};
use dts_core::{Change, GtidFlavor, Position, RowOp, Source, StreamEvent};
use dts_mysql::{MysqlEndpoint, MysqlSource, Scope, SourceOptions};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DB: &str = "dts_bench_binlog";
const KEY: &str = "binlog_decode";
/// The longest wait for the next stream event before the run is declared stuck.
const STALL: Duration = Duration::from_secs(120);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    /// Row changes to generate and decode.
    rows: u64,
    /// Rows per generated statement (each statement is its own transaction).
    txn_rows: u64,
    /// Keep the database afterwards.
    keep: bool,
}

const USAGE: &str = "usage: binlog_decode [--rows N (default 1_000_000)] \
                     [--txn-rows N (default 10_000)] [--keep]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        txn_rows: 10_000,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<u64, String> {
            let v = inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{what} needs a value\n{USAGE}"))?;
            parse_count(&v)
        };
        match name.as_str() {
            "--rows" => args.rows = value("--rows")?,
            "--txn-rows" => args.txn_rows = value("--txn-rows")?,
            "--keep" => args.keep = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            // `cargo bench` passes --bench to harness-less targets.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.rows < 10 {
        return Err("--rows must be at least 10".into());
    }
    args.txn_rows = args.txn_rows.max(1);
    Ok(args)
}

/// How many row changes of each kind the backlog holds.
#[derive(Clone, Copy, Debug)]
struct Mix {
    inserts: u64,
    updates: u64,
    deletes: u64,
}

impl Mix {
    fn for_total(rows: u64) -> Self {
        let inserts = rows * 7 / 10;
        let updates = rows * 2 / 10;
        Self {
            inserts,
            updates,
            deletes: rows - inserts - updates,
        }
    }

    fn total(&self) -> u64 {
        self.inserts + self.updates + self.deletes
    }
}

/// What the decode phase saw.
#[derive(Debug, Default)]
struct Decoded {
    inserts: u64,
    updates: u64,
    deletes: u64,
    /// Committed transactions with rows of the bench database.
    transactions: u64,
    /// Stream pieces (fragments of large transactions count once each).
    pieces: u64,
    heartbeats: u64,
    /// From the stream call to the first event.
    first_event: Option<Duration>,
    seconds: f64,
    cpu_seconds: Option<f64>,
    peak_rss_bytes: Option<u64>,
    peak_rss_scoped: bool,
    /// The first stream position naming a binlog file outside the measured range.
    bad_file: Option<String>,
    /// Binlog files of the start and end positions.
    files: (String, String),
}

impl Decoded {
    fn rows(&self) -> u64 {
        self.inserts + self.updates + self.deletes
    }
}

/// The sequence number of a binlog file name (`binlog.000012` → 12).
fn file_seq(file: &str) -> u64 {
    file.rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A MariaDB GTID position (`0-1-100,1-2-5`) as (domain, sequence) pairs.
fn mariadb_gtids(text: &str) -> Option<Vec<(u32, u64)>> {
    text.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| {
            let mut parts = g.split('-');
            let domain = parts.next()?.parse().ok()?;
            let _server: u32 = parts.next()?.parse().ok()?;
            let seq = parts.next()?.parse().ok()?;
            parts.next().is_none().then_some((domain, seq))
        })
        .collect()
}

/// Whether `pos` is at or past `end`. With MariaDB GTID sets on both, by GTID (every domain of
/// `end` reached), which does not depend on binlog file names; else by file and offset.
fn reached(pos: &Position, end: &Position) -> bool {
    let gtids = |p: &Position| {
        p.gtid_set
            .as_ref()
            .filter(|g| g.flavor == GtidFlavor::Mariadb)
            .and_then(|g| mariadb_gtids(&g.text))
    };
    if let (Some(at), Some(goal)) = (gtids(pos), gtids(end)) {
        if !goal.is_empty() {
            return goal
                .iter()
                .all(|(domain, seq)| at.iter().any(|(d, s)| d == domain && s >= seq));
        }
    }
    (file_seq(&pos.file), pos.offset) >= (file_seq(&end.file), end.offset)
}

async fn exec(conn: &mut Conn, sql: impl AsRef<str>) -> Result<(), BoxError> {
    let sql = sql.as_ref();
    conn.query_drop(sql)
        .await
        .map_err(|e| format!("{e}\n  in: {sql}").into())
}

async fn setup(conn: &mut Conn) -> Result<(), BoxError> {
    exec(conn, format!("DROP DATABASE IF EXISTS `{DB}`")).await?;
    exec(conn, format!("CREATE DATABASE `{DB}`")).await?;
    exec(conn, format!("USE `{DB}`")).await?;
    exec(
        conn,
        "CREATE TABLE sbtest1 (
            id INT AUTO_INCREMENT PRIMARY KEY,
            k INT NOT NULL,
            c CHAR(120) NOT NULL,
            pad CHAR(60) NOT NULL,
            KEY k_1 (k)
        ) ENGINE = InnoDB",
    )
    .await
}

/// Writes the backlog, one autocommitted statement of at most `txn_rows` rows at a time:
/// inserts of ids `1..=inserts`, updates of the lowest ids, deletes of the highest.
/// Returns the number of transactions written.
async fn generate(conn: &mut Conn, mix: Mix, txn_rows: u64) -> Result<u64, BoxError> {
    let mut transactions = 0;
    let mut done = 0;
    while done < mix.inserts {
        let n = txn_rows.min(mix.inserts - done);
        // Sysbench-like values: k spread over the id range, c and pad filled to their full
        // width with digit groups (no trailing spaces, so the binlog carries every byte).
        exec(
            conn,
            format!(
                "INSERT INTO sbtest1 (id, k, c, pad) \
                 SELECT seq + {done}, (seq + {done}) * 7919 % {m} + 1, \
                   REPEAT(CONCAT(LPAD((seq + {done}) * 48271 % 99999999989, 11, '0'), '-'), 10), \
                   REPEAT(CONCAT(LPAD((seq + {done}) * 16807 % 99999999989, 11, '0'), '-'), 5) \
                 FROM seq_1_to_{n}",
                m = mix.inserts.max(1),
            ),
        )
        .await?;
        done += n;
        transactions += 1;
    }
    let mut done = 0;
    while done < mix.updates {
        let n = txn_rows.min(mix.updates - done);
        exec(
            conn,
            format!(
                "UPDATE sbtest1 SET k = k + 1 WHERE id BETWEEN {} AND {}",
                done + 1,
                done + n
            ),
        )
        .await?;
        done += n;
        transactions += 1;
    }
    let first_deleted = mix.inserts - mix.deletes + 1;
    let mut done = 0;
    while done < mix.deletes {
        let n = txn_rows.min(mix.deletes - done);
        let from = first_deleted + done;
        exec(
            conn,
            format!(
                "DELETE FROM sbtest1 WHERE id BETWEEN {from} AND {}",
                from + n - 1
            ),
        )
        .await?;
        done += n;
        transactions += 1;
    }
    Ok(transactions)
}

/// Binlog bytes from `start` to `end`, from the file sizes `SHOW BINARY LOGS` lists.
async fn binlog_bytes(conn: &mut Conn, start: &Position, end: &Position) -> Result<u64, BoxError> {
    if start.file == end.file {
        return Ok(end.offset.saturating_sub(start.offset));
    }
    let logs: Vec<(String, u64)> = conn
        .query("SHOW BINARY LOGS")
        .await?
        .into_iter()
        .map(|row: mysql_async::Row| {
            (
                row.get::<String, _>(0).unwrap_or_default(),
                row.get::<u64, _>(1).unwrap_or(0),
            )
        })
        .collect();
    let (first, last) = (file_seq(&start.file), file_seq(&end.file));
    let mut total = 0;
    for (name, size) in logs {
        let seq = file_seq(&name);
        if seq == first {
            total += size.saturating_sub(start.offset);
        } else if seq == last {
            total += end.offset;
        } else if seq > first && seq < last {
            total += size;
        }
    }
    Ok(total)
}

/// Streams from `start` until the stream has delivered everything up to `end`.
async fn decode(
    source: &MysqlSource,
    start: Position,
    end: &Position,
) -> Result<Decoded, BoxError> {
    let mut d = Decoded {
        peak_rss_scoped: reset_peak_rss(),
        ..Default::default()
    };
    let cpu_before = cpu_seconds();
    let began = Instant::now();
    d.files = (start.file.clone(), end.file.clone());
    let mut stream = source.stream(start).await?;
    let mut last_progress = Instant::now();
    loop {
        if last_progress.elapsed() > STALL {
            return Err(format!(
                "only heartbeats for {}s, end position not reached ({} rows decoded so far)",
                STALL.as_secs(),
                d.rows()
            )
            .into());
        }
        let event = match tokio::time::timeout(STALL, stream.next()).await {
            Ok(Some(event)) => event?,
            Ok(None) => return Err("binlog stream ended before the end position".into()),
            Err(_) => {
                return Err(format!(
                    "no stream event for {}s ({} rows decoded so far)",
                    STALL.as_secs(),
                    d.rows()
                )
                .into())
            }
        };
        d.first_event.get_or_insert_with(|| began.elapsed());
        let position = match &event {
            StreamEvent::Transaction(t) => {
                last_progress = Instant::now();
                d.pieces += 1;
                let mut ours = false;
                for change in &t.changes {
                    if let Change::Row(r) = change {
                        if r.schema.id.database == DB {
                            ours = true;
                            match r.op {
                                RowOp::Insert => d.inserts += 1,
                                RowOp::Update => d.updates += 1,
                                RowOp::Delete => d.deletes += 1,
                            }
                        }
                    }
                }
                // The last piece of a fragmented transaction may carry no rows of its own.
                if t.fragment.last && (ours || t.fragment.first_change > 0) {
                    d.transactions += 1;
                }
                &t.end
            }
            StreamEvent::Heartbeat { position, .. } => {
                d.heartbeats += 1;
                position
            }
        };
        let files = &d.files;
        if position.file != files.0 && position.file != files.1 && d.bad_file.is_none() {
            // Only a rotation between the two positions can name another file, and then one
            // numbered between them.
            let seq = file_seq(&position.file);
            if seq <= file_seq(&files.0) || seq >= file_seq(&files.1) {
                d.bad_file = Some(position.to_string());
            }
        }
        if reached(position, end) {
            break;
        }
    }
    d.seconds = began.elapsed().as_secs_f64();
    d.cpu_seconds = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    d.peak_rss_bytes = peak_rss_bytes();
    drop(stream);
    Ok(d)
}

/// Writes the backlog and decodes it: (what was decoded, binlog bytes, generation seconds,
/// generated transactions).
async fn measure(
    args: &Args,
    mix: Mix,
    source: &MysqlSource,
    conn: &mut Conn,
) -> Result<(Decoded, u64, f64, u64), BoxError> {
    let start = source.current_position().await?;
    eprintln!(
        "binlog_decode: generating {} row changes ({} inserts, {} updates, {} deletes) in \
         statements of up to {} rows from {start}",
        fmt_count(mix.total()),
        fmt_count(mix.inserts),
        fmt_count(mix.updates),
        fmt_count(mix.deletes),
        fmt_count(args.txn_rows),
    );
    let generating = Instant::now();
    let generated_txns = generate(conn, mix, args.txn_rows).await?;
    let generate_seconds = generating.elapsed().as_secs_f64();
    let end = source.current_position().await?;
    let bytes = binlog_bytes(conn, &start, &end).await?;
    eprintln!(
        "binlog_decode: backlog written in {generate_seconds:.1}s, {} of binlog up to {end}; decoding",
        fmt_bytes(bytes)
    );

    let d = decode(source, start, &end).await?;
    Ok((d, bytes, generate_seconds, generated_txns))
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let url = source_url();
    let endpoint = MysqlEndpoint::from_url("source", &url)?;
    let mix = Mix::for_total(args.rows);
    let mut conn = endpoint.connect().await?;
    let version: Option<String> = conn.query_first("SELECT VERSION()").await?;
    let version = version.unwrap_or_default();
    eprintln!("binlog_decode: source {url} ({version}); database {DB}");
    setup(&mut conn).await?;

    let source = MysqlSource::connect(
        endpoint.clone(),
        SourceOptions {
            scope: Scope {
                databases: vec![DB.to_string()],
            },
            ..Default::default()
        },
    )
    .await?;
    let measured = measure(args, mix, &source, &mut conn).await;
    if args.keep {
        eprintln!("binlog_decode: keeping database {DB} (--keep)");
    } else {
        exec(&mut conn, format!("DROP DATABASE IF EXISTS `{DB}`")).await?;
    }
    conn.disconnect().await?;
    let (d, bytes, generate_seconds, generated_txns) = measured?;

    let rows = d.rows();
    let secs = d.seconds.max(f64::EPSILON);
    let rows_per_s = rows as f64 / secs;
    let txns_per_s = d.transactions as f64 / secs;
    let mb_per_s = bytes as f64 / 1e6 / secs;
    let cpu_util = d.cpu_seconds.map(|c| c / secs);

    let mut table = Table::new(format!(
        "binlog_decode: {} row changes from {version}",
        fmt_count(mix.total())
    ));
    table
        .row("row events decoded", fmt_count(rows))
        .row(
            "  inserts/updates/deletes",
            format!(
                "{} / {} / {}",
                fmt_count(d.inserts),
                fmt_count(d.updates),
                fmt_count(d.deletes)
            ),
        )
        .row(
            "transactions",
            format!(
                "{} ({} stream pieces, {} heartbeats)",
                fmt_count(d.transactions),
                fmt_count(d.pieces),
                fmt_count(d.heartbeats)
            ),
        )
        .row("wall time", format!("{:.3} s", d.seconds))
        .row(
            "  first event after",
            d.first_event
                .map(|t| format!("{:.1} ms", t.as_secs_f64() * 1e3))
                .unwrap_or_else(|| "-".into()),
        )
        .row("row events/s", fmt_rate(rows_per_s))
        .row("transactions/s", fmt_rate(txns_per_s))
        .row("binlog bytes", format!("{} ({bytes} B)", fmt_bytes(bytes)))
        .row("binlog MB/s", format!("{mb_per_s:.1}"))
        .row(
            "process CPU (decode phase)",
            match (d.cpu_seconds, cpu_util) {
                (Some(c), Some(u)) => format!("{c:.2} s ({:.0}% of one core)", u * 100.0),
                _ => "-".into(),
            },
        )
        .row(
            if d.peak_rss_scoped {
                "peak RSS (decode phase)"
            } else {
                "peak RSS (whole process)"
            },
            d.peak_rss_bytes
                .map(fmt_bytes)
                .unwrap_or_else(|| "-".into()),
        )
        .row(
            "backlog generation",
            format!(
                "{generate_seconds:.1} s, {} statements",
                fmt_count(generated_txns)
            ),
        );
    println!("{}", table.render());

    let expected = (mix.inserts, mix.updates, mix.deletes);
    let matched = (d.inserts, d.updates, d.deletes) == expected;
    if !matched {
        eprintln!(
            "binlog_decode: WARNING: decoded {:?} (inserts, updates, deletes), generated {expected:?}",
            (d.inserts, d.updates, d.deletes)
        );
    }

    if let Some(bad) = &d.bad_file {
        eprintln!(
            "binlog_decode: WARNING: the stream reported position {bad}, a binlog file outside \
             {} .. {} (mangled file name: positions from this stream would not resume)",
            d.files.0, d.files.1
        );
    }

    let result = json!({
        "row_events": rows,
        "seconds": d.seconds,
        "row_events_per_s": rows_per_s,
        "peak_rss_bytes": d.peak_rss_bytes,
        "binlog_bytes": bytes,
        "binlog_mb_per_s": mb_per_s,
        "transactions": d.transactions,
        "transactions_per_s": txns_per_s,
        "inserts": d.inserts,
        "updates": d.updates,
        "deletes": d.deletes,
        "counts_match_generated": matched,
        "stream_pieces": d.pieces,
        "bad_position_file": d.bad_file,
        "first_event_seconds": d.first_event.map(|t| t.as_secs_f64()),
        "cpu_seconds": d.cpu_seconds,
        "peak_rss_scope": if d.peak_rss_scoped { "decode" } else { "process" },
        "rows_requested": args.rows,
        "txn_rows": args.txn_rows,
        "generate_seconds": generate_seconds,
        "server_version": version,
        "unix_time": unix_time(),
    });
    let path = write_result(KEY, result)?;
    println!("results: {}", path.display());
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("binlog_decode: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::GtidSet;

    fn pos(file: &str, offset: u64, gtid: Option<&str>) -> Position {
        Position {
            file: file.into(),
            offset,
            gtid_set: gtid.map(|text| GtidSet {
                flavor: GtidFlavor::Mariadb,
                text: text.into(),
            }),
        }
    }

    #[test]
    fn end_is_reached_by_gtid_whatever_the_file_name() {
        let end = pos("binlog.000001", 500, Some("0-1-7,1-1-269"));
        // A mangled file name must not end the run early...
        assert!(!reached(
            &pos("binlog.0000011", 10, Some("0-1-7,1-1-170")),
            &end
        ));
        // ...nor keep it from ending.
        assert!(reached(
            &pos("binlog.0000011", 500, Some("0-1-7,1-1-269")),
            &end
        ));
        assert!(!reached(&pos("binlog.000001", 500, Some("1-1-269")), &end));
    }

    #[test]
    fn end_is_reached_by_coordinates_without_gtids() {
        let end = pos("binlog.000002", 500, None);
        assert!(!reached(&pos("binlog.000001", 900, None), &end));
        assert!(reached(&pos("binlog.000002", 500, None), &end));
        assert!(reached(&pos("binlog.000010", 4, None), &end));
    }

    #[test]
    fn mix_adds_up() {
        let m = Mix::for_total(1_000_001);
        assert_eq!(m.total(), 1_000_001);
        assert_eq!((m.inserts, m.updates), (700_000, 200_000));
        assert_eq!(mariadb_gtids("0-1-5, 1-2-9"), Some(vec![(0, 5), (1, 9)]));
        assert_eq!(mariadb_gtids("0-1"), None);
    }
}
