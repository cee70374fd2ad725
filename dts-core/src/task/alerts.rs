//! Alerting (the guide's "Monitoring and Alerting"): a hook that is told when the task fails
//! and when incremental latency stays at or above a threshold for N consecutive periods.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Something a user should hear about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// The task stopped with an error.
    TaskFailed {
        /// Task id.
        task_id: String,
        /// Stage that failed.
        stage: String,
        /// The error, naming object and cause.
        reason: String,
    },
    /// Incremental latency was at or above the threshold at the end of `periods` consecutive
    /// periods.
    LatencyHigh {
        /// Task id.
        task_id: String,
        /// Latency at the last check, in milliseconds.
        latency_ms: u64,
        /// The configured threshold, in milliseconds.
        threshold_ms: u64,
        /// Consecutive periods over the threshold.
        periods: u32,
    },
    /// An operation failed with an error a retry may fix and is being retried (fired once per
    /// run of failures, at its first failure): the task resumes by itself when the operation
    /// succeeds within the window, and fails (a [`Alert::TaskFailed`]) otherwise.
    Retrying {
        /// Task id.
        task_id: String,
        /// What is retried (`incremental write`, `full sync of db.t`, …).
        operation: String,
        /// Which window applies: `connection` or `other`.
        class: String,
        /// The error, naming the endpoint or object and the cause.
        error: String,
        /// The window the operation must recover within, in milliseconds.
        window_ms: u64,
    },
    /// Full data verification could not complete (the guide's "full validation task fails").
    VerificationFailed {
        /// Task id.
        task_id: String,
        /// The errors, naming object and cause.
        reason: String,
    },
    /// Full data verification found at least `threshold` inconsistent rows.
    VerificationInconsistent {
        /// Task id.
        task_id: String,
        /// Missing + extra + different rows found.
        inconsistent: u64,
        /// The configured threshold.
        threshold: u64,
    },
    /// Incremental verification: `metric` (`inconsistent_count` rows per period, or
    /// `latency` seconds) was at or above the threshold for `periods` consecutive periods, or
    /// (`metric` = `failed`) incremental verification failed.
    IncrementalVerification {
        /// Task id.
        task_id: String,
        /// `inconsistent_count`, `latency` or `failed`.
        metric: String,
        /// The value at the last period (0 for `failed`).
        value: u64,
        /// The configured threshold (0 for `failed`).
        threshold: u64,
        /// Consecutive periods at or above the threshold.
        periods: u32,
    },
}

/// Receives alerts; implementations deliver them (webhook, log, pager…). Must not block for
/// long: the task awaits it.
#[async_trait]
pub trait AlertHook: Send + Sync {
    /// Deliver one alert.
    async fn fire(&self, alert: &Alert);
}

/// Delivers alerts to the log (`tracing` at error level): the hook used when the host
/// configures no other delivery.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogAlertHook;

#[async_trait]
impl AlertHook for LogAlertHook {
    async fn fire(&self, alert: &Alert) {
        tracing::error!(alert = ?alert, "dts alert");
    }
}

/// When latency counts as too high.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyRule {
    /// Latency at or above this is over the threshold.
    pub threshold: Duration,
    /// How often latency is checked.
    pub period: Duration,
    /// How many consecutive checks over the threshold fire an alert.
    pub periods: u32,
}

/// Counts consecutive periods over the threshold; fires once per excursion.
#[derive(Debug)]
pub(crate) struct LatencyWatch {
    rule: LatencyRule,
    over: u32,
    fired: bool,
}

impl LatencyWatch {
    pub(crate) fn new(rule: LatencyRule) -> Self {
        Self {
            rule,
            over: 0,
            fired: false,
        }
    }

    /// One period's check; returns the number of consecutive periods when an alert is due.
    pub(crate) fn check(&mut self, latency_ms: u64) -> Option<u32> {
        if latency_ms >= self.rule.threshold.as_millis() as u64 {
            self.over += 1;
            if self.over >= self.rule.periods.max(1) && !self.fired {
                self.fired = true;
                return Some(self.over);
            }
        } else {
            self.over = 0;
            self.fired = false;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_after_n_consecutive_periods_once_per_excursion() {
        let mut w = LatencyWatch::new(LatencyRule {
            threshold: Duration::from_secs(10),
            period: Duration::from_secs(1),
            periods: 3,
        });
        assert_eq!(w.check(20_000), None);
        assert_eq!(w.check(20_000), None);
        assert_eq!(w.check(5_000), None, "a good period resets the count");
        assert_eq!(w.check(10_000), None);
        assert_eq!(w.check(10_000), None);
        assert_eq!(w.check(10_000), Some(3));
        assert_eq!(w.check(30_000), None, "fires once per excursion");
        assert_eq!(w.check(0), None);
        assert_eq!(w.check(11_000), None);
    }
}
