//! The guide's two retry windows: connection failures are retried for
//! `connection_retry`, other transient failures (deadlocks, lock waits, DDL/DML execution errors)
//! for `other_retry`; definite errors fail at once.
//!
//! Every stage that talks to a server runs its work through [`Task::retry_failed`] /
//! [`Task::retry_succeeded`]: the work resumes from the checkpoint after a backoff, and the retry
//! in progress (what, why, for how long, within which window) is published in the task's
//! [`Progress`](super::Progress).

use super::alerts::Alert;
use super::progress::RetryStatus;
use super::{now_ms, Control, Task};
use crate::error::{Error, ErrorClass, Result};
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What to do after a failure.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Nothing a retry can fix.
    Definite,
    /// The error's window has passed since the first failure of this run.
    Exhausted(Duration),
}

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

    /// The window that applies to `class`, if any.
    fn window(&self, class: ErrorClass) -> Option<Duration> {
        match class {
            ErrorClass::Connection => Some(self.connection),
            ErrorClass::Transient => Some(self.other),
            ErrorClass::Definite => None,
        }
    }

    /// After a failure: how long to wait before retrying, or why not to.
    pub(crate) fn next(&mut self, error: &Error) -> Next {
        let Some(window) = self.window(error.class()) else {
            return Next::Definite;
        };
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= window {
            return Next::Exhausted(window);
        }
        self.attempt += 1;
        let backoff = Duration::from_millis(200u64 << self.attempt.min(6)).min(MAX_BACKOFF);
        Next::RetryAfter(backoff.min(window.saturating_sub(since.elapsed())))
    }

    /// After a failure: how long to wait before retrying, or `None` when the error is definite
    /// or its window is exhausted.
    #[cfg(test)]
    pub(crate) fn next_delay(&mut self, error: &Error) -> Option<Duration> {
        match self.next(error) {
            Next::RetryAfter(d) => Some(d),
            _ => None,
        }
    }

    /// Time since the first failure of the current run (zero when none).
    pub(crate) fn elapsed(&self) -> Duration {
        self.since.map(|s| s.elapsed()).unwrap_or_default()
    }

    /// True while a run of failures is under way.
    pub(crate) fn active(&self) -> bool {
        self.since.is_some()
    }

    /// After a success: the next failure starts a new window.
    pub(crate) fn reset(&mut self) {
        self.since = None;
        self.attempt = 0;
    }
}

/// The final error once its window has passed: the same error, its message saying which window
/// ran out (the endpoint or object is already named by the error).
pub(crate) fn exhausted(error: Error, window: Duration) -> Error {
    let within = format_window(window);
    match error {
        Error::Connection {
            endpoint, message, ..
        } => Error::Connection {
            endpoint,
            message: format!(
                "{message}; not reconnected within the connection retry window ({within})"
            ),
            cause: None,
        },
        Error::Transient {
            object, message, ..
        } => Error::Transient {
            object,
            message: format!(
                "{message}; still failing after the retry window for other issues ({within})"
            ),
            cause: None,
        },
        other => other,
    }
}

/// A window for messages: whole minutes when it is whole minutes, else seconds.
pub(crate) fn format_window(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Task {
    /// A fresh window with the task's settings.
    pub(crate) fn retry_window(&self) -> StdMutex<RetryWindow> {
        StdMutex::new(RetryWindow::new(
            self.options.connection_retry,
            self.options.other_retry,
        ))
    }

    /// After `operation` failed with `error`: publishes the retry and waits the backoff
    /// (`Ok`, try again from the checkpoint), or returns the error to fail with (definite, window
    /// passed, or the task was stopped meanwhile).
    pub(crate) async fn retry_failed(
        &self,
        operation: &str,
        window: &StdMutex<RetryWindow>,
        error: Error,
    ) -> Result<()> {
        if matches!(error, Error::Stopped) {
            return Err(error);
        }
        let (next, elapsed, attempts, limit) = {
            let mut w = window.lock().unwrap_or_else(|e| e.into_inner());
            let next = w.next(&error);
            let limit = w.window(error.class()).unwrap_or_default();
            (next, w.elapsed(), w.attempt, limit)
        };
        let message = error.to_string();
        let delay = match next {
            Next::RetryAfter(delay) => delay,
            Next::Definite => {
                self.progress
                    .send_modify(|p| p.last_error = Some(message.clone()));
                return Err(error);
            }
            Next::Exhausted(w) => {
                self.retry_succeeded(operation, window);
                let error = exhausted(error, w);
                let message = error.to_string();
                self.progress.send_modify(|p| p.last_error = Some(message));
                return Err(error);
            }
        };
        let left = limit.saturating_sub(elapsed);
        tracing::warn!(
            operation,
            error = %message,
            ?delay,
            attempts,
            time_left = %format_window(left),
            "retrying"
        );
        let task = self.options.task_id.clone();
        metrics::counter!("dts_retries_total", "task" => task.clone()).increment(1);
        let class = match error.class() {
            ErrorClass::Connection => "connection",
            _ => "other",
        };
        metrics::gauge!("dts_retrying", "task" => task.clone(), "class" => class).set(1.0);
        metrics::gauge!("dts_retry_time_left_ms", "task" => task.clone())
            .set(left.as_millis() as f64);
        self.progress.send_modify(|p| {
            p.retrying = Some(format!(
                "{operation}: {message} (attempt {attempts}, {} left of the {} retry window)",
                format_window(left),
                format_window(limit)
            ));
            p.last_error = Some(message.clone());
            p.retry = Some(RetryStatus {
                operation: operation.to_string(),
                class: class.to_string(),
                error: message.clone(),
                attempts,
                retrying_for_ms: elapsed.as_millis() as u64,
                since_ms: now_ms().saturating_sub(elapsed.as_millis() as u64),
                window_ms: limit.as_millis() as u64,
                next_attempt_at_ms: now_ms() + delay.as_millis() as u64,
                time_left_ms: left.as_millis() as u64,
            });
        });
        if attempts == 1 {
            if let (Some(hook), true) = (&self.alert_hook, self.alert_on_failure) {
                hook.fire(&Alert::Retrying {
                    task_id: task,
                    operation: operation.to_string(),
                    class: class.to_string(),
                    error: message.clone(),
                    window_ms: limit.as_millis() as u64,
                })
                .await;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = self.stop_signal() => Err(Error::Stopped),
        }
    }

    /// After `operation` made progress: ends its run of failures (adding the time spent to the
    /// task's total) and clears the published retry when it is this operation's.
    pub(crate) fn retry_succeeded(&self, operation: &str, window: &StdMutex<RetryWindow>) {
        let spent = {
            let mut w = window.lock().unwrap_or_else(|e| e.into_inner());
            if !w.active() {
                return;
            }
            let spent = w.elapsed();
            w.reset();
            spent
        };
        let spent_ms = spent.as_millis() as u64;
        let task = self.options.task_id.clone();
        metrics::counter!("dts_retry_time_ms_total", "task" => task.clone()).increment(spent_ms);
        for class in ["connection", "other"] {
            metrics::gauge!("dts_retrying", "task" => task.clone(), "class" => class).set(0.0);
        }
        metrics::gauge!("dts_retry_time_left_ms", "task" => task).set(0.0);
        self.progress.send_modify(|p| {
            p.retry_time_ms += spent_ms;
            if p.retry.as_ref().is_some_and(|r| r.operation == operation) {
                p.retry = None;
                p.retrying = None;
            }
        });
    }

    /// Runs `op` until it succeeds, retrying retryable failures within their windows.
    pub(crate) async fn with_retry<T, F, Fut>(&self, operation: &str, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let window = self.retry_window();
        loop {
            match op().await {
                Ok(v) => {
                    self.retry_succeeded(operation, &window);
                    return Ok(v);
                }
                Err(e) => self.retry_failed(operation, &window, e).await?,
            }
        }
    }

    /// Resolves once a stop is requested.
    pub(crate) async fn stop_signal(&self) {
        let mut rx = self.control.subscribe();
        while *rx.borrow_and_update() != Control::Stop {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_errors_are_not_retried() {
        let mut w = RetryWindow::new(Duration::from_secs(60), Duration::from_secs(1));
        assert!(w.next_delay(&Error::definite("x", "y")).is_none());
        let conn = Error::Connection {
            endpoint: "source".into(),
            message: "reset".into(),
            cause: None,
        };
        assert!(w.next_delay(&conn).is_some());
    }

    #[test]
    fn exhausted_window_stops_retrying() {
        let mut w = RetryWindow::new(Duration::ZERO, Duration::ZERO);
        let t = Error::Transient {
            object: "t".into(),
            message: "deadlock".into(),
            cause: None,
        };
        assert!(w.next_delay(&t).is_none());
        w.reset();
        let mut w = RetryWindow::new(Duration::from_secs(5), Duration::from_secs(5));
        let d = w.next_delay(&t).unwrap();
        assert!(d <= Duration::from_secs(5));
    }

    #[test]
    fn exhausted_message_names_endpoint_and_window() {
        let e = exhausted(
            Error::Connection {
                endpoint: "source (127.0.0.1:3306)".into(),
                message: "connect: refused".into(),
                cause: None,
            },
            Duration::from_secs(600),
        );
        let text = e.to_string();
        assert!(text.contains("source (127.0.0.1:3306)"), "{text}");
        assert!(text.contains("connection retry window (10 min)"), "{text}");
        let e = exhausted(
            Error::Transient {
                object: "destination".into(),
                message: "deadlock".into(),
                cause: None,
            },
            Duration::from_millis(2500),
        );
        assert!(e.to_string().contains("other issues (2.5 s)"), "{e}");
        assert_eq!(e.class(), ErrorClass::Transient);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut w = RetryWindow::new(Duration::from_secs(3600), Duration::from_secs(60));
        let c = Error::Connection {
            endpoint: "d".into(),
            message: "x".into(),
            cause: None,
        };
        let first = w.next_delay(&c).unwrap();
        let mut last = first;
        for _ in 0..10 {
            last = w.next_delay(&c).unwrap();
        }
        assert!(first < last);
        assert_eq!(last, MAX_BACKOFF);
        assert!(w.active());
        w.reset();
        assert!(!w.active());
    }
}
