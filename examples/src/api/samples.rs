//! The charts' data: one [`Sample`] a second while a task runs, kept in memory for the last
//! hour in a ring buffer of fixed capacity, and the per-table copy rates behind the ETAs.

use super::views::Sample;
use std::collections::{BTreeMap, VecDeque};

/// Time between samples.
pub const INTERVAL_MS: u64 = 1_000;
/// Samples kept: one hour at one a second.
pub const CAPACITY: usize = 3_600;
/// Window of the per-table copy rate.
const TABLE_RATE_WINDOW_MS: u64 = 10_000;

/// At most `capacity` samples, the oldest dropped first.
#[derive(Debug)]
pub struct Ring {
    capacity: usize,
    samples: VecDeque<Sample>,
}

impl Default for Ring {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl Ring {
    /// An empty ring holding at most `capacity` samples.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            samples: VecDeque::with_capacity(capacity.clamp(1, CAPACITY)),
        }
    }

    /// Adds a sample, dropping the oldest when full.
    pub fn push(&mut self, sample: Sample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// Samples taken after `since_ms`, oldest first.
    pub fn since(&self, since_ms: u64) -> Vec<Sample> {
        self.samples
            .iter()
            .filter(|s| s.t_ms > since_ms)
            .copied()
            .collect()
    }

    /// How many samples are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.samples.len()
    }
}

/// Rows copied per second per table, over the last few seconds of `rows_done` readings.
#[derive(Debug, Default)]
pub struct TableRates {
    readings: BTreeMap<String, VecDeque<(u64, u64)>>,
}

impl TableRates {
    /// Records `rows_done` of `table` at `now_ms`.
    pub fn record(&mut self, table: &str, now_ms: u64, rows_done: u64) {
        let q = self.readings.entry(table.to_owned()).or_default();
        q.push_back((now_ms, rows_done));
        while q.len() > 2 && now_ms.saturating_sub(q[0].0) > TABLE_RATE_WINDOW_MS {
            q.pop_front();
        }
    }

    /// The table's rate over the window (0 before two readings).
    pub fn rate(&self, table: &str) -> f64 {
        let Some(q) = self.readings.get(table) else {
            return 0.0;
        };
        match (q.front(), q.back()) {
            (Some(&(t0, r0)), Some(&(t1, r1))) if t1 > t0 => {
                r1.saturating_sub(r0) as f64 * 1000.0 / (t1 - t0) as f64
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_ms: u64) -> Sample {
        Sample {
            t_ms,
            latency_ms: t_ms,
            rows_per_s: 0.0,
            full_rows_per_s: 0.0,
        }
    }

    #[test]
    fn ring_is_bounded_and_keeps_the_newest() {
        let mut r = Ring::new(3);
        for t in 1..=5 {
            r.push(sample(t));
        }
        assert_eq!(r.len(), 3);
        let ts: Vec<u64> = r.since(0).iter().map(|s| s.t_ms).collect();
        assert_eq!(ts, [3, 4, 5]);
        let ts: Vec<u64> = r.since(4).iter().map(|s| s.t_ms).collect();
        assert_eq!(ts, [5]);
    }

    #[test]
    fn table_rate_over_the_window() {
        let mut t = TableRates::default();
        assert_eq!(t.rate("d.t"), 0.0);
        t.record("d.t", 0, 0);
        t.record("d.t", 1_000, 500);
        t.record("d.t", 2_000, 1_000);
        assert!((t.rate("d.t") - 500.0).abs() < 1e-9);
        // Old readings leave the window: the rate is the recent one.
        t.record("d.t", 60_000, 1_000);
        t.record("d.t", 61_000, 1_100);
        assert!((t.rate("d.t") - 100.0).abs() < 1e-9, "{}", t.rate("d.t"));
    }
}
