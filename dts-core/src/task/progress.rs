//! What a running task reports about itself: per-table full-sync progress, incremental
//! latency and throughput, retries and the last error.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Full-sync progress of one table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStatus {
    /// Rows copied so far.
    pub rows_done: u64,
    /// The source's row estimate when the copy started (`information_schema`-grade accuracy).
    pub rows_estimated: u64,
    /// True once the table is copied.
    pub finished: bool,
}

/// Incremental write figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncrementalStatus {
    /// Source commit time of the last applied transaction to now, in milliseconds; 0 when
    /// caught up and idle.
    pub latency_ms: u64,
    /// Row changes applied per second, over the last few seconds.
    pub rows_per_s: f64,
    /// Row changes applied since the task started.
    pub rows_applied: u64,
    /// Approximate bytes of row images applied per second, over the last few seconds.
    pub bytes_per_s: f64,
    /// Approximate bytes of row images applied since the task started.
    pub bytes_applied: u64,
    /// Transactions applied since the task started.
    pub transactions_applied: u64,
    /// Position of the last applied transaction (`file:offset`).
    pub position: String,
    /// True once latency has been near zero at least once (the guide's start rule for
    /// verification).
    pub caught_up: bool,
}

/// A snapshot of a task's progress, published on a watch channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Full-sync progress per source table (`db.table`).
    pub tables: BTreeMap<String, TableStatus>,
    /// Full-sync rows copied per second, over the last few seconds.
    pub full_rows_per_s: f64,
    /// Full-sync approximate bytes copied per second, over the last few seconds.
    pub full_bytes_per_s: f64,
    /// Full-sync approximate bytes copied by this run.
    pub full_bytes_done: u64,
    /// Estimated time until the full sync ends, in seconds: rows left (by the source's
    /// estimates) over the current copy rate; `None` before a rate is known or once done.
    pub full_eta_s: Option<u64>,
    /// Incremental figures.
    pub incremental: IncrementalStatus,
    /// Set while an error is being retried: what failed (`operation: error`).
    pub retrying: Option<String>,
    /// Set while an error is being retried: the retry in detail.
    pub retry: Option<RetryStatus>,
    /// Time spent in runs of failures that ended (reconnected or resolved), in milliseconds,
    /// summed over operations (tables copied at once each count).
    pub retry_time_ms: u64,
    /// The last error seen (retried or not).
    pub last_error: Option<String>,
    /// The task's labels (the guide's environment tag and scene label), for monitoring.
    pub labels: BTreeMap<String, String>,
}

impl Progress {
    /// Rows left to copy over `rate` rows/s, in whole seconds.
    pub(crate) fn estimate_full_eta(&self) -> Option<u64> {
        let left: u64 = self
            .tables
            .values()
            .filter(|t| !t.finished)
            .map(|t| t.rows_estimated.saturating_sub(t.rows_done))
            .sum();
        if self.tables.values().all(|t| t.finished) {
            return None;
        }
        (self.full_rows_per_s > 0.0).then(|| (left as f64 / self.full_rows_per_s).ceil() as u64)
    }
}

/// A retry under way: the guide's "time spent retrying is visible in the status".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryStatus {
    /// What is retried (`schema sync of db.t`, `full sync of db.t`, `incremental write`, …).
    pub operation: String,
    /// Which window applies: `connection` or `other`.
    pub class: String,
    /// The error being retried, naming endpoint or object.
    pub error: String,
    /// Attempts failed so far in this run.
    pub attempts: u32,
    /// Time since the first failure of this run, in milliseconds, as of the last attempt.
    pub retrying_for_ms: u64,
    /// When the first failure of this run happened (ms since the epoch), to show the time
    /// spent retrying live.
    pub since_ms: u64,
    /// The window the run must recover within, in milliseconds.
    pub window_ms: u64,
    /// When the next attempt starts (ms since the epoch).
    pub next_attempt_at_ms: u64,
    /// Time left in the window, in milliseconds, as of the last attempt: the task fails when
    /// the operation is still failing after it.
    #[serde(default)]
    pub time_left_ms: u64,
}

/// Rates of two counts (rows and bytes) over a sliding window of about `window_ms`.
#[derive(Debug)]
pub(crate) struct RateMeter {
    window_ms: u64,
    samples: std::collections::VecDeque<(u64, u64, u64)>,
}

impl RateMeter {
    pub(crate) fn new(window_ms: u64) -> Self {
        Self {
            window_ms,
            samples: Default::default(),
        }
    }

    /// Records `count` events at `now_ms` and returns the rate per second over the window.
    #[cfg(test)]
    pub(crate) fn record(&mut self, now_ms: u64, count: u64) -> f64 {
        self.record_pair(now_ms, count, 0).0
    }

    /// Records `rows` and `bytes` at `now_ms`; returns both rates per second over the window.
    pub(crate) fn record_pair(&mut self, now_ms: u64, rows: u64, bytes: u64) -> (f64, f64) {
        self.samples.push_back((now_ms, rows, bytes));
        while let Some(&(t, _, _)) = self.samples.front() {
            if now_ms.saturating_sub(t) > self.window_ms && self.samples.len() > 1 {
                self.samples.pop_front();
            } else {
                break;
            }
        }
        let first = self.samples.front().map(|s| s.0).unwrap_or(now_ms);
        let rows: u64 = self.samples.iter().skip(1).map(|s| s.1).sum();
        let bytes: u64 = self.samples.iter().skip(1).map(|s| s.2).sum();
        let span = now_ms.saturating_sub(first);
        if span == 0 {
            (0.0, 0.0)
        } else {
            let per_s = |n: u64| n as f64 * 1000.0 / span as f64;
            (per_s(rows), per_s(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_window() {
        let mut m = RateMeter::new(2000);
        assert_eq!(m.record(0, 0), 0.0);
        m.record(500, 50);
        let r = m.record(1000, 50);
        assert!((r - 100.0).abs() < 1e-9, "{r}");
        // Old samples fall out of the window.
        let r = m.record(10_000, 10);
        assert!(r < 10.0, "{r}");
    }

    #[test]
    fn eta_from_rows_left_and_rate() {
        let mut p = Progress::default();
        assert_eq!(p.estimate_full_eta(), None);
        p.tables.insert(
            "d.a".into(),
            TableStatus {
                rows_done: 100,
                rows_estimated: 1_100,
                finished: false,
            },
        );
        p.tables.insert(
            "d.b".into(),
            TableStatus {
                rows_done: 50,
                rows_estimated: 50,
                finished: true,
            },
        );
        assert_eq!(p.estimate_full_eta(), None, "no rate yet");
        p.full_rows_per_s = 300.0;
        assert_eq!(p.estimate_full_eta(), Some(4));
        p.tables.get_mut("d.a").unwrap().finished = true;
        assert_eq!(p.estimate_full_eta(), None, "done");
    }
}
