//! Shared helpers for the benchmarks: process resource usage read from `/proc`, the merged
//! `target/bench/results.json` writer, command-line and environment helpers, and a plain
//! two-column table printer.
//!
//! Benchmarks measure; they never assert. Each one records its numbers under its own key in
//! the results file, leaving the other benchmarks' keys as they were.
#![warn(missing_docs)]

pub mod task;

/// Every benchmark binary links this library, so they all allocate through mimalloc (see
/// `Cargo.toml` for why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde_json::{Map, Value};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Default URL of the test source server (see `scripts/test-env.sh`).
pub const DEFAULT_SOURCE_URL: &str = "mysql://root@127.0.0.1:33061";

/// The value of environment variable `var`, or `default` when unset or empty.
pub fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The source server URL: `DTS_TEST_SOURCE_URL`, or the test environment's default.
pub fn source_url() -> String {
    env_or("DTS_TEST_SOURCE_URL", DEFAULT_SOURCE_URL)
}

/// A count given on the command line; `_` and `,` separators are allowed (`1_000_000`), as
/// are the suffixes `k` and `m` (`500k`, `2m`).
pub fn parse_count(text: &str) -> Result<u64, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '_' && *c != ',')
        .collect::<String>()
        .to_ascii_lowercase();
    let (digits, factor) = match cleaned.strip_suffix('k') {
        Some(d) => (d, 1_000),
        None => match cleaned.strip_suffix('m') {
            Some(d) => (d, 1_000_000),
            None => (cleaned.as_str(), 1),
        },
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("not a count: {text:?}"))
}

/// Default URL of the test destination server (see `scripts/test-env.sh`).
pub const DEFAULT_DEST_URL: &str = "mysql://root@127.0.0.1:33062";

/// A destination chosen for the whole run instead of the default one: the test environment's
/// server name (for its pid file) and URL.
static DESTINATION: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Makes every later [`dest_url`] and [`destination_name`] answer the test environment's
/// server `name` (e.g. `interleaved`), whose URL is in `DTS_TEST_<NAME>_URL`. Call once,
/// before any connection; fails when the variable is unset or a destination was already set.
pub fn use_destination(name: &str) -> Result<(), String> {
    let var = format!("DTS_TEST_{}_URL", name.to_ascii_uppercase());
    let url = std::env::var(&var).map_err(|_| {
        format!("{var} is not set: run `eval \"$(scripts/test-env.sh env)\"` first")
    })?;
    DESTINATION
        .set((name.to_string(), url))
        .map_err(|_| "the destination was already chosen".to_string())
}

/// The test environment's name of the destination server (`destination` unless
/// [`use_destination`] chose another), for [`server_cpu_seconds`].
pub fn destination_name() -> String {
    DESTINATION
        .get()
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| "destination".into())
}

/// The destination server URL: the one [`use_destination`] chose, else `DTS_TEST_DEST_URL`,
/// else the test environment's default.
pub fn dest_url() -> String {
    match DESTINATION.get() {
        Some((_, url)) => url.clone(),
        None => env_or("DTS_TEST_DEST_URL", DEFAULT_DEST_URL),
    }
}

/// `(host, port)` of a `mysql://user@host:port` URL, for the command-line clients.
pub fn host_port(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
    let rest = rest.split('/').next().unwrap_or(rest);
    match rest.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(3306)),
        None => (rest.to_string(), 3306),
    }
}

/// Runs `script` with `bash -c` (with `pipefail`), returning its wall time; a non-zero exit
/// status is an error carrying the tail of its standard error.
pub fn run_shell(script: &str) -> io::Result<std::time::Duration> {
    let start = std::time::Instant::now();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()?;
    let elapsed = start.elapsed();
    if out.status.success() {
        Ok(elapsed)
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err
            .chars()
            .rev()
            .take(2000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Err(io::Error::other(format!(
            "`{script}` failed ({}): {tail}",
            out.status
        )))
    }
}

/// The value at quantile `q` (0–1, nearest rank) of `sorted`, which must be sorted.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `a / b`, or `None` when `b` is zero or either is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A ratio as `1.23×`, or `n/a`.
pub fn fmt_ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×"))
        .unwrap_or_else(|| "n/a".into())
}

/// The sysbench table definition (`sysbench oltp_*` `prepare`), for table `name`.
pub fn sysbench_table_ddl(name: &str) -> String {
    format!(
        "CREATE TABLE `{name}` (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0, \
         c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), \
         KEY k_{name} (k)) ENGINE=InnoDB"
    )
}

/// [`sysbench_table_ddl`] without the secondary index `k_<name>`: the shape dts creates a
/// table in for its full copy (the index is added after the rows).
pub fn sysbench_table_ddl_primary_only(name: &str) -> String {
    sysbench_table_ddl(name).replace(&format!(", KEY k_{name} (k)"), "")
}

/// A server-side `INSERT … SELECT` filling sysbench table `name` with ids `from..=to` from
/// MariaDB's sequence engine. The content is deterministic (a function of the id), shaped like
/// sysbench's (`c`: ten 11-digit groups, `pad`: five), so two servers get identical rows.
pub fn sysbench_fill_sql(name: &str, from: u64, to: u64) -> String {
    let group = |salt: u64| format!("LPAD((seq * {salt} + {salt}) MOD 99999999999, 11, '0')");
    let c: Vec<String> = (0..10).map(|i| group(7_919 + 104_729 * i)).collect();
    let pad: Vec<String> = (0..5).map(|i| group(15_485_863 + 1_299_709 * i)).collect();
    format!(
        "INSERT INTO `{name}` (id, k, c, pad) SELECT seq, (seq * 2654435761) MOD 1000000 + 1, \
         CONCAT_WS('-', {}), CONCAT_WS('-', {}) FROM seq_{from}_to_{to}",
        c.join(", "),
        pad.join(", ")
    )
}

// ------------------------------------------------------------------ process resources

/// A `kB` field of `/proc/self/status` (e.g. `VmHWM`, `VmRSS`), in bytes.
fn status_kb(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Peak resident set size of this process (`VmHWM`), in bytes; `None` off Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kb("VmHWM")
}

/// Current resident set size of this process (`VmRSS`), in bytes; `None` off Linux.
pub fn current_rss_bytes() -> Option<u64> {
    status_kb("VmRSS")
}

/// Resets the peak RSS mark to the current RSS (writing `5` to `/proc/self/clear_refs`,
/// Linux 4.0+), so a later [`peak_rss_bytes`] covers only what follows. Returns whether the
/// kernel accepted it; when it did not, the peak covers the whole process lifetime.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// User plus system CPU time this process has used so far, in seconds (all threads), from
/// `/proc/self/stat`; `None` off Linux.
pub fn cpu_seconds() -> Option<f64> {
    process_cpu_seconds("self")
}

/// CPU seconds (user + system) used so far by a test-environment MariaDB server (`source`,
/// `destination`, …), read through its pid file: shows which side a run is bound by.
pub fn server_cpu_seconds(name: &str) -> Option<f64> {
    let dir = std::env::var("DTS_TEST_ENV_DIR").ok()?;
    let pid = fs::read_to_string(Path::new(&dir).join(name).join("mariadbd.pid")).ok()?;
    process_cpu_seconds(pid.trim())
}

/// CPU seconds of `/proc/<pid>` (`pid` may be `self`).
fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: fields resume after the
    // last ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // /proc reports clock ticks in USER_HZ, which Linux fixes at 100 for user space.
    Some((utime + stime) as f64 / 100.0)
}

// ------------------------------------------------------------------ results file

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where results are merged: `DTS_BENCH_RESULTS` if set, else
/// `$CARGO_TARGET_DIR/bench/results.json`, else `<workspace>/target/bench/results.json`.
pub fn results_path() -> PathBuf {
    if let Some(p) = std::env::var_os("DTS_BENCH_RESULTS").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("bench").join("results.json")
}

/// Stores `value` under `key` in the results file at `path`, keeping every other key. A
/// missing file (or directory) is created; an unreadable or non-object file is replaced, its
/// old content kept aside as `results.json.bad`. The write is atomic (temp file + rename).
pub fn merge_result_into(path: &Path, key: &str, value: Value) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut all = match fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ => {
                let _ = fs::rename(path, path.with_extension("json.bad"));
                Map::new()
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(e),
    };
    all.insert(key.to_string(), value);
    let text = serde_json::to_string_pretty(&Value::Object(all)).map_err(io::Error::other)?;
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    fs::write(&tmp, text + "\n")?;
    fs::rename(&tmp, path)
}

/// Stores `value` under `key` in [`results_path`]; returns the path written.
pub fn write_result(key: &str, value: Value) -> io::Result<PathBuf> {
    let path = results_path();
    merge_result_into(&path, key, value)?;
    Ok(path)
}

/// Seconds since the Unix epoch, for stamping results.
pub fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ------------------------------------------------------------------ formatting

/// `bytes` with a binary unit (`KiB`, `MiB`, `GiB`).
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// An integer with `_` every three digits (`1_000_000`).
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// A rate with a thousands separator and no decimals past 100 (`123_456/s`).
pub fn fmt_rate(per_s: f64) -> String {
    if per_s >= 100.0 {
        format!("{}/s", fmt_count(per_s.round() as u64))
    } else {
        format!("{per_s:.2}/s")
    }
}

/// A titled two-column table, printed with aligned labels.
#[derive(Debug, Default)]
pub struct Table {
    title: String,
    rows: Vec<(String, String)>,
}

impl Table {
    /// An empty table.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, label: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.rows.push((label.into(), value.into()));
        self
    }

    /// The table as text, one row a line.
    pub fn render(&self) -> String {
        let width = self.rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let rule = "-".repeat(self.title.len().max(width + 20));
        let mut out = format!("{}\n{rule}\n", self.title);
        for (label, value) in &self.rows {
            out.push_str(&format!("{label:<width$}  {value}\n"));
        }
        out.push_str(&rule);
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_with_separators_and_suffixes() {
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("1,000"), Ok(1_000));
        assert_eq!(parse_count("500k"), Ok(500_000));
        assert_eq!(parse_count("2M"), Ok(2_000_000));
        assert!(parse_count("ten").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1_000), "1_000");
        assert_eq!(fmt_count(1_234_567), "1_234_567");
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(fmt_rate(12.5), "12.50/s");
        assert_eq!(fmt_rate(123_456.4), "123_456/s");
    }

    #[test]
    fn proc_readings_are_available_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().unwrap() >= current_rss_bytes().unwrap() / 2);
            assert!(cpu_seconds().is_some());
        }
    }

    #[test]
    fn results_merge_keeps_other_keys() {
        let dir = std::env::temp_dir().join(format!("dts-bench-test-{}", std::process::id()));
        let path = dir.join("nested").join("results.json");
        merge_result_into(&path, "a", serde_json::json!({"x": 1})).unwrap();
        merge_result_into(&path, "b", serde_json::json!({"y": 2})).unwrap();
        merge_result_into(&path, "a", serde_json::json!({"x": 3})).unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"a": {"x": 3}, "b": {"y": 2}}));
        fs::write(&path, "not json").unwrap();
        merge_result_into(&path, "c", serde_json::json!(1)).unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"c": 1}));
        assert!(path.with_extension("json.bad").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
