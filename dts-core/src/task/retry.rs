//! The guide's two retry windows: connection failures are retried for
//! `connection_retry`, other transient failures for `other_retry`; definite errors fail at once.

use crate::error::{Error, ErrorClass};
use std::time::{Duration, Instant};

/// Tracks how long the current run of failures has lasted.
#[derive(Debug)]
pub(crate) struct RetryWindow {
    connection: Duration,
    other: Duration,
    since: Option<Instant>,
    attempt: u32,
}

impl RetryWindow {
    pub(crate) fn new(connection: Duration, other: Duration) -> Self {
        Self {
            connection,
            other,
            since: None,
            attempt: 0,
        }
    }

    /// After a failure: how long to wait before retrying, or `None` when the error is definite
    /// or its window is exhausted.
    pub(crate) fn next_delay(&mut self, error: &Error) -> Option<Duration> {
        let window = match error.class() {
            ErrorClass::Connection => self.connection,
            ErrorClass::Transient => self.other,
            ErrorClass::Definite => return None,
        };
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= window {
            return None;
        }
        self.attempt += 1;
        let backoff =
            Duration::from_millis(200u64 << self.attempt.min(6)).min(Duration::from_secs(10));
        Some(backoff.min(window.saturating_sub(since.elapsed())))
    }

    /// After a success: the next failure starts a new window.
    pub(crate) fn reset(&mut self) {
        self.since = None;
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_errors_are_not_retried() {
        let mut w = RetryWindow::new(Duration::from_secs(60), Duration::from_secs(1));
        assert!(w.next_delay(&Error::other("x", "y")).is_none());
        let conn = Error::Connection {
            endpoint: "source".into(),
            message: "reset".into(),
        };
        assert!(w.next_delay(&conn).is_some());
    }

    #[test]
    fn exhausted_window_stops_retrying() {
        let mut w = RetryWindow::new(Duration::ZERO, Duration::ZERO);
        let t = Error::Transient {
            object: "t".into(),
            message: "deadlock".into(),
        };
        assert!(w.next_delay(&t).is_none());
        w.reset();
        let mut w = RetryWindow::new(Duration::from_secs(5), Duration::from_secs(5));
        let d = w.next_delay(&t).unwrap();
        assert!(d <= Duration::from_secs(5));
    }
}
