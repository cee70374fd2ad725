//! What the progress display of `dts run` shows, as plain data and text, apart from the
//! terminal drawing (`indicatif`) of the program:
//!
//! - numbers with thousands separators and rates as integers with units (`99,975 rows/s`),
//!   durations as `1m05s`;
//! - per table ([`Tracker`]): rows copied of the estimate, the current rate and the ETA while
//!   it is copied; once it is done, its final (average) rate and the time it took, frozen;
//! - which tables get a bar ([`frame`]): every table when there are at most
//!   [`ALL_BARS_UP_TO`], else only the tables being copied (at most [`MAX_BARS`]); one summary
//!   line always counts tables and rows of the whole copy with its rate and ETA. A table counts as
//!   under way once rows of it are copied (the engine reports rows per finished chunk).

use dts_core::task::TableStatus;
use std::collections::{BTreeMap, VecDeque};

/// Up to this many tables, each gets a bar (finished ones stay, frozen).
pub const ALL_BARS_UP_TO: usize = 20;

/// With more tables, at most this many bars of tables being copied are drawn.
pub const MAX_BARS: usize = 16;

/// How far back the current rate of a table looks, in milliseconds.
const RATE_WINDOW_MS: u64 = 5_000;

/// `1234567` as `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as a rounded integer with its unit: `99,975 rows/s`.
pub fn rate(per_s: f64, unit: &str) -> String {
    let n = if per_s.is_finite() && per_s > 0.0 {
        per_s.round() as u64
    } else {
        0
    };
    format!("{} {unit}/s", group_digits(n))
}

/// Seconds as `42s`, `1m05s`, `2h03m` or `3d04h`.
pub fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3_599 => format!("{}m{:02}s", secs / 60, secs % 60),
        3_600..=86_399 => format!("{}h{:02}m", secs / 3_600, secs % 3_600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3_600),
    }
}

/// Where a table's copy stands, as the display shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum TableState {
    /// Not started (no row copied yet).
    Waiting,
    /// Being copied.
    Copying {
        /// Rows per second over the last seconds.
        rate: f64,
        /// Seconds since the copy was first seen under way.
        elapsed_s: u64,
        /// Seconds left at the current rate; `None` while no rate is known.
        eta_s: Option<u64>,
    },
    /// Copied whole.
    Done {
        /// Average rows per second over the copy; `None` when the copy was not watched (done
        /// before this run's display started).
        rate: Option<f64>,
        /// How long the copy took, as watched.
        elapsed_s: Option<u64>,
    },
}

/// One table's line.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    /// `db.table` at the source.
    pub name: String,
    /// Rows copied.
    pub rows_done: u64,
    /// The source's estimate (at least `rows_done`).
    pub rows_total: u64,
    /// Its state.
    pub state: TableState,
}

impl TableRow {
    /// The text after the bar: rows, rate, elapsed time and ETA; once done, the final rate and
    /// the time the copy took.
    pub fn message(&self) -> String {
        let rows = format!(
            "{}/{} rows",
            group_digits(self.rows_done),
            group_digits(self.rows_total)
        );
        match &self.state {
            TableState::Waiting => format!("{rows}  waiting"),
            TableState::Copying {
                rate: r,
                elapsed_s,
                eta_s,
            } => format!(
                "{rows}  {}  {}  ETA {}",
                rate(*r, "rows"),
                duration(*elapsed_s),
                eta_s.map(duration).unwrap_or_else(|| "-".into())
            ),
            TableState::Done { rate: r, elapsed_s } => match (r, elapsed_s) {
                (Some(r), Some(e)) => format!(
                    "{} rows  {}  done in {}",
                    group_digits(self.rows_done),
                    rate(*r, "rows"),
                    duration(*e)
                ),
                _ => format!("{} rows  done", group_digits(self.rows_done)),
            },
        }
    }

    /// True once copied.
    pub fn is_done(&self) -> bool {
        matches!(self.state, TableState::Done { .. })
    }

    /// True while being copied.
    pub fn is_copying(&self) -> bool {
        matches!(self.state, TableState::Copying { .. })
    }
}

#[derive(Debug, Default)]
struct Clock {
    /// When the copy was first seen under way (ms).
    started_ms: Option<u64>,
    /// Recent `(ms, rows_done)` readings.
    readings: VecDeque<(u64, u64)>,
    /// Frozen at the first reading that saw the table done.
    done: Option<(Option<f64>, Option<u64>)>,
}

/// Follows every table across readings of the task's progress, to know rates, elapsed times
/// and the frozen figures of finished tables.
#[derive(Debug, Default)]
pub struct Tracker {
    clocks: BTreeMap<String, Clock>,
    last_ms: Option<u64>,
}

impl Tracker {
    /// Takes a reading of the tables at `now_ms` (a monotonic clock in milliseconds).
    pub fn observe(&mut self, now_ms: u64, tables: &BTreeMap<String, TableStatus>) {
        let previous = self.last_ms;
        for (name, t) in tables {
            let seen_before = self.clocks.contains_key(name);
            let clock = self.clocks.entry(name.clone()).or_default();
            if clock.done.is_some() {
                continue;
            }
            if clock.started_ms.is_none() && (t.rows_done > 0 || t.finished) {
                // Started between the last reading and this one: count from the last one.
                clock.started_ms = match (seen_before, previous) {
                    (true, Some(p)) => Some(p),
                    _ if t.finished => None,
                    _ => Some(now_ms),
                };
            }
            clock.readings.push_back((now_ms, t.rows_done));
            while clock.readings.len() > 2
                && now_ms.saturating_sub(clock.readings[0].0) > RATE_WINDOW_MS
            {
                clock.readings.pop_front();
            }
            if t.finished {
                clock.done = Some(match clock.started_ms {
                    Some(s) => {
                        let ms = now_ms.saturating_sub(s).max(1);
                        (
                            Some(t.rows_done as f64 * 1000.0 / ms as f64),
                            Some(ms.div_ceil(1000)),
                        )
                    }
                    None => (None, None),
                });
            }
        }
        self.last_ms = Some(now_ms);
    }

    /// The line of one table as of the last reading at `now_ms`.
    pub fn row(&self, name: &str, t: &TableStatus, now_ms: u64) -> TableRow {
        let clock = self.clocks.get(name);
        let state = match clock {
            Some(Clock {
                done: Some((rate, elapsed_s)),
                ..
            }) => TableState::Done {
                rate: *rate,
                elapsed_s: *elapsed_s,
            },
            _ if t.finished => TableState::Done {
                rate: None,
                elapsed_s: None,
            },
            Some(c) if c.started_ms.is_some() => {
                let rate = match (c.readings.front(), c.readings.back()) {
                    (Some(&(t0, r0)), Some(&(t1, r1))) if t1 > t0 => {
                        r1.saturating_sub(r0) as f64 * 1000.0 / (t1 - t0) as f64
                    }
                    _ => 0.0,
                };
                let left = t.rows_estimated.saturating_sub(t.rows_done);
                TableState::Copying {
                    rate,
                    elapsed_s: now_ms.saturating_sub(c.started_ms.unwrap_or(now_ms)) / 1000,
                    eta_s: (rate > 0.0).then(|| (left as f64 / rate).ceil() as u64),
                }
            }
            _ => TableState::Waiting,
        };
        TableRow {
            name: name.to_string(),
            rows_done: t.rows_done,
            rows_total: t.rows_estimated.max(t.rows_done),
            state,
        }
    }

    /// Every table's line, in name order.
    pub fn rows(&self, tables: &BTreeMap<String, TableStatus>, now_ms: u64) -> Vec<TableRow> {
        tables
            .iter()
            .map(|(name, t)| self.row(name, t, now_ms))
            .collect()
    }
}

/// What one redraw shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The tables that get a bar, in order.
    pub bars: Vec<TableRow>,
    /// The line about the whole copy (`None` when there are no tables).
    pub summary: Option<String>,
}

/// Chooses the bars and writes the summary line of the whole copy (`full_rate` rows/s, ETA
/// `full_eta_s`) from every table's line.
pub fn frame(rows: Vec<TableRow>, full_rate: f64, full_eta_s: Option<u64>) -> Frame {
    if rows.is_empty() {
        return Frame {
            bars: Vec::new(),
            summary: None,
        };
    }
    let total = rows.len();
    let done = rows.iter().filter(|r| r.is_done()).count();
    let copying = rows.iter().filter(|r| r.is_copying()).count();
    let rows_done: u64 = rows.iter().map(|r| r.rows_done).sum();
    let rows_total: u64 = rows.iter().map(|r| r.rows_total).sum();
    let all_done = done == total;
    let bars: Vec<TableRow> = if total <= ALL_BARS_UP_TO {
        rows
    } else {
        rows.into_iter()
            .filter(TableRow::is_copying)
            .take(MAX_BARS)
            .collect()
    };
    let hidden_copying = copying - bars.iter().filter(|r| r.is_copying()).count();
    let mut summary = format!(
        "full sync: {} of {} tables copied",
        group_digits(done as u64),
        group_digits(total as u64)
    );
    if copying > 0 {
        summary.push_str(&format!(", {} under way", group_digits(copying as u64)));
    }
    if hidden_copying > 0 {
        summary.push_str(&format!(" ({hidden_copying} not drawn)"));
    }
    summary.push_str(&format!(
        " | {} of {} rows",
        group_digits(rows_done),
        group_digits(rows_total)
    ));
    if !all_done {
        summary.push_str(&format!(
            " | {} | ETA {}",
            rate(full_rate, "rows"),
            full_eta_s.map(duration).unwrap_or_else(|| "-".into())
        ));
    }
    Frame {
        bars,
        summary: Some(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(done: u64, estimated: u64, finished: bool) -> TableStatus {
        TableStatus {
            rows_done: done,
            rows_estimated: estimated,
            finished,
        }
    }

    #[test]
    fn numbers_rates_and_durations() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1,000");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(rate(99_975.222_940_548, "rows"), "99,975 rows/s");
        assert_eq!(rate(0.4, "rows"), "0 rows/s");
        assert_eq!(rate(f64::NAN, "rows"), "0 rows/s");
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(65), "1m05s");
        assert_eq!(duration(2 * 3600 + 3 * 60 + 9), "2h03m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3d04h");
    }

    #[test]
    fn a_copied_table_has_rate_and_eta_then_freezes_once_done() {
        let mut tracker = Tracker::default();
        let mut tables = BTreeMap::from([("d.t".to_string(), status(0, 10_000, false))]);
        tracker.observe(0, &tables);
        assert_eq!(
            tracker.row("d.t", &tables["d.t"], 0).state,
            TableState::Waiting
        );
        tables.insert("d.t".into(), status(1_000, 10_000, false));
        tracker.observe(1_000, &tables);
        tables.insert("d.t".into(), status(3_000, 10_000, false));
        tracker.observe(2_000, &tables);
        let row = tracker.row("d.t", &tables["d.t"], 2_000);
        assert_eq!(
            row.state,
            TableState::Copying {
                rate: 1_500.0,
                elapsed_s: 2,
                eta_s: Some(5)
            }
        );
        assert_eq!(row.message(), "3,000/10,000 rows  1,500 rows/s  2s  ETA 5s");
        tables.insert("d.t".into(), status(10_000, 10_000, true));
        tracker.observe(4_000, &tables);
        let done = tracker.row("d.t", &tables["d.t"], 4_000);
        assert_eq!(done.message(), "10,000 rows  2,500 rows/s  done in 4s");
        // Later readings change nothing: the line is frozen.
        tracker.observe(60_000, &tables);
        assert_eq!(tracker.row("d.t", &tables["d.t"], 60_000), done);
    }

    #[test]
    fn a_table_done_before_the_display_started_has_no_timing() {
        let mut tracker = Tracker::default();
        let tables = BTreeMap::from([("d.t".to_string(), status(5, 5, true))]);
        tracker.observe(7_000, &tables);
        let row = tracker.row("d.t", &tables["d.t"], 7_000);
        assert_eq!(row.message(), "5 rows  done");
    }

    #[test]
    fn few_tables_each_get_a_bar_and_the_summary_has_the_whole_eta() {
        let mut tracker = Tracker::default();
        let tables: BTreeMap<String, TableStatus> = (0..3)
            .map(|i| (format!("d.t{i}"), status(0, 100, false)))
            .collect();
        tracker.observe(0, &tables);
        let f = frame(tracker.rows(&tables, 0), 1234.6, Some(75));
        assert_eq!(f.bars.len(), 3);
        assert_eq!(
            f.summary.as_deref(),
            Some("full sync: 0 of 3 tables copied | 0 of 300 rows | 1,235 rows/s | ETA 1m15s")
        );
    }

    #[test]
    fn thousands_of_tables_show_the_copied_ones_and_one_summary() {
        let mut tracker = Tracker::default();
        let mut tables: BTreeMap<String, TableStatus> = (0..2_000)
            .map(|i| (format!("d.t{i:04}"), status(0, 10, false)))
            .collect();
        tracker.observe(0, &tables);
        for i in 0..1_500 {
            tables.insert(format!("d.t{i:04}"), status(10, 10, true));
        }
        for i in 1_500..1_504 {
            tables.insert(format!("d.t{i:04}"), status(4, 10, false));
        }
        tracker.observe(1_000, &tables);
        let f = frame(tracker.rows(&tables, 1_000), 80.0, Some(7));
        let names: Vec<&str> = f.bars.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["d.t1500", "d.t1501", "d.t1502", "d.t1503"]);
        assert_eq!(
            f.summary.as_deref(),
            Some("full sync: 1,500 of 2,000 tables copied, 4 under way | 15,016 of 20,000 rows | 80 rows/s | ETA 7s")
        );
        // More tables copied at once than bars: the rest are counted, not drawn.
        for i in 1_504..1_600 {
            tables.insert(format!("d.t{i:04}"), status(1, 10, false));
        }
        tracker.observe(2_000, &tables);
        let f = frame(tracker.rows(&tables, 2_000), 80.0, None);
        assert_eq!(f.bars.len(), MAX_BARS);
        let summary = f.summary.unwrap();
        assert!(
            summary.contains("copied, 100 under way (84 not drawn) |"),
            "{summary}"
        );
        assert!(summary.ends_with("ETA -"), "{summary}");
        // All done: no rate, no ETA.
        for i in 0..2_000 {
            tables.insert(format!("d.t{i:04}"), status(10, 10, true));
        }
        tracker.observe(3_000, &tables);
        let f = frame(tracker.rows(&tables, 3_000), 0.0, None);
        assert!(f.bars.is_empty());
        assert_eq!(
            f.summary.as_deref(),
            Some("full sync: 2,000 of 2,000 tables copied | 20,000 of 20,000 rows")
        );
    }
}
