//! Waiting on conditions, not clocks.
//!
//! A test that needs something to have happened (a row arrived, a stage started, a retry was
//! counted) polls for it with [`eventually`] under a deadline. The poll interval lives here and
//! only here; a test body has no fixed sleep standing in for "long enough".

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How often [`eventually`] probes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Probes until `probe` returns `Ok`, and returns its value; after `timeout` returns an error
/// naming `what` was awaited and the last value observed (`probe`'s last `Err`).
///
/// A probe call that is itself still running at the deadline is abandoned.
pub async fn try_eventually<T, O, F, Fut>(
    timeout: Duration,
    what: &str,
    probe: F,
) -> Result<T, String>
where
    O: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, O>>,
{
    try_eventually_every(POLL_INTERVAL, timeout, what, probe).await
}

/// [`try_eventually`] probing every `interval` instead of [`POLL_INTERVAL`], for a test that
/// must act within a few milliseconds of the condition (e.g. kill a task at a given point).
pub async fn try_eventually_every<T, O, F, Fut>(
    interval: Duration,
    timeout: Duration,
    what: &str,
    mut probe: F,
) -> Result<T, String>
where
    O: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, O>>,
{
    let deadline = Instant::now() + timeout;
    let mut last: Option<O> = None;
    let mut probes = 0u64;
    loop {
        match tokio::time::timeout_at(deadline, probe()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(observed)) => {
                probes += 1;
                last = Some(observed);
            }
            Err(_) => break,
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        tokio::time::sleep_until((now + interval).min(deadline)).await;
    }
    Err(match last {
        Some(last) => format!(
            "timed out after {timeout:?} waiting for {what} ({probes} probes); last observed: {last:?}"
        ),
        None => format!("timed out after {timeout:?} waiting for {what}: no probe finished"),
    })
}

/// Probes until `probe` returns `Ok`, and returns its value; panics after `timeout` with a
/// message naming `what` was awaited and the last value observed (`probe`'s last `Err`).
///
/// ```no_run
/// # async fn f(count: impl Fn() -> u64) {
/// use std::time::Duration;
/// dts_testkit::eventually(Duration::from_secs(30), "10 rows on the destination", || async {
///     let n = count();
///     if n == 10 { Ok(()) } else { Err(n) }
/// })
/// .await;
/// # }
/// ```
pub async fn eventually<T, O, F, Fut>(timeout: Duration, what: &str, probe: F) -> T
where
    O: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, O>>,
{
    match try_eventually(timeout, what, probe).await {
        Ok(v) => v,
        Err(message) => panic!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn returns_the_value_once_the_condition_holds() {
        let calls = AtomicU32::new(0);
        let got = eventually(Duration::from_secs(5), "the third call", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= 3 {
                Ok(n * 10)
            } else {
                Err(n)
            }
        })
        .await;
        assert_eq!(got, 30);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    #[should_panic(
        expected = "waiting for a condition that never holds (" // then the probe count
    )]
    async fn panics_on_timeout() {
        eventually(
            Duration::from_millis(200),
            "a condition that never holds",
            || async { Err::<(), _>("still false") },
        )
        .await;
    }

    #[tokio::test]
    async fn the_timeout_names_the_wait_and_the_last_observation() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let err = try_eventually(Duration::from_millis(300), "row 7", || async {
            Err::<(), _>(format!("{} rows", calls.fetch_add(1, Ordering::SeqCst)))
        })
        .await
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let last = calls.load(Ordering::SeqCst) - 1;
        assert!(last >= 1, "probed more than once");
        assert!(err.contains("waiting for row 7"), "{err}");
        assert!(
            err.contains(&format!("last observed: \"{last} rows\"")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_probe_that_hangs_is_cut_at_the_deadline() {
        let err = try_eventually(Duration::from_millis(100), "a reply", || async {
            std::future::pending::<Result<(), ()>>().await
        })
        .await
        .unwrap_err();
        assert!(err.contains("no probe finished"), "{err}");
    }
}
