//! Throttling of full and incremental sync (the guide's "Enable Throttling"): queries per second
//! to the source, rows per second and MB/s, changeable while the task runs.
//!
//! Built on `governor`'s GCRA limiter rather than sleeps: it keeps the long-run rate exact
//! across bursts and costs nothing when no limit is set.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Limits for one phase; `None` means unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Queries per second sent to the source (full sync only).
    pub queries_per_s: Option<u32>,
    /// Rows per second.
    pub rows_per_s: Option<u32>,
    /// Bytes per second.
    pub bytes_per_s: Option<u64>,
}

struct Limiters {
    queries: Option<DefaultDirectRateLimiter>,
    rows: Option<DefaultDirectRateLimiter>,
    bytes: Option<(DefaultDirectRateLimiter, u32)>,
    /// Bytes not yet charged (under one KiB cell), carried to the next call so many small
    /// batches are charged in full.
    carry: AtomicU64,
}

fn limiter(per_s: u32) -> DefaultDirectRateLimiter {
    let n = NonZeroU32::new(per_s.max(1)).expect("non-zero");
    RateLimiter::direct(Quota::per_second(n))
}

impl Limiters {
    fn new(s: ThrottleSettings) -> Self {
        Self {
            queries: s.queries_per_s.map(limiter),
            rows: s.rows_per_s.map(limiter),
            // Bytes are counted in KiB cells so a quota fits in a u32.
            bytes: s.bytes_per_s.map(|b| {
                let kib = (b / 1024).clamp(1, u64::from(u32::MAX)) as u32;
                (limiter(kib), kib)
            }),
            carry: AtomicU64::new(0),
        }
    }
}

/// A set of limits that can be replaced at any time.
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<RwLock<(ThrottleSettings, Arc<Limiters>)>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Throttle").field(&self.settings()).finish()
    }
}

impl Throttle {
    /// A throttle with these limits.
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            inner: Arc::new(RwLock::new((settings, Arc::new(Limiters::new(settings))))),
        }
    }

    /// The limits in force.
    pub fn settings(&self) -> ThrottleSettings {
        self.inner.read().map(|g| g.0).unwrap_or_default()
    }

    /// Replaces the limits; waits already under way finish under the old ones.
    pub fn set(&self, settings: ThrottleSettings) {
        if let Ok(mut g) = self.inner.write() {
            *g = (settings, Arc::new(Limiters::new(settings)));
        }
    }

    fn current(&self) -> Option<Arc<Limiters>> {
        self.inner.read().ok().map(|g| g.1.clone())
    }

    /// Waits until `queries` more source queries are allowed.
    pub async fn queries(&self, queries: u32) {
        if let Some(l) = self.current() {
            if let Some(q) = &l.queries {
                wait(q, queries, u32::MAX).await;
            }
        }
    }

    /// Waits until `rows` rows of `bytes` bytes may pass.
    pub async fn rows(&self, rows: u64, bytes: u64) {
        let Some(l) = self.current() else { return };
        if let Some(r) = &l.rows {
            wait(r, rows.min(u64::from(u32::MAX)) as u32, u32::MAX).await;
        }
        if let Some((b, per_s)) = &l.bytes {
            let total = bytes + l.carry.swap(0, Ordering::Relaxed);
            l.carry.fetch_add(total % 1024, Ordering::Relaxed);
            let kib = (total / 1024).min(u64::from(u32::MAX)) as u32;
            wait(b, kib, *per_s).await;
        }
    }
}

/// Takes `n` cells, in pieces no larger than the limiter's one-second burst.
async fn wait(limiter: &DefaultDirectRateLimiter, mut n: u32, burst_hint: u32) {
    while n > 0 {
        let mut piece = n.min(burst_hint);
        loop {
            let Some(cells) = NonZeroU32::new(piece) else {
                return;
            };
            match limiter.until_n_ready(cells).await {
                Ok(()) => break,
                // More than one second's worth: take the burst size at most.
                Err(e) => piece = e.0.max(1),
            }
        }
        n -= piece;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn unlimited_is_free() {
        let t = Throttle::new(ThrottleSettings::default());
        let start = Instant::now();
        t.rows(1_000_000, 1 << 30).await;
        t.queries(1000).await;
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn rows_are_limited_and_limits_change_at_runtime() {
        let t = Throttle::new(ThrottleSettings {
            rows_per_s: Some(1000),
            ..Default::default()
        });
        let start = Instant::now();
        // The first second's burst is free; 1500 more rows take about 1.5 s.
        t.rows(1000, 0).await;
        t.rows(1500, 0).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1300), "{took:?}");
        assert!(took < Duration::from_millis(3000), "{took:?}");
        t.set(ThrottleSettings::default());
        let start = Instant::now();
        t.rows(100_000, 0).await;
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn small_byte_batches_are_charged_in_full() {
        let t = Throttle::new(ThrottleSettings {
            bytes_per_s: Some(100 * 1024),
            ..Default::default()
        });
        let start = Instant::now();
        // 300 KiB in 600-byte pieces (each under one cell): the first 100 KiB are the burst,
        // the other 200 KiB take about two seconds.
        for _ in 0..512 {
            t.rows(1, 600).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1700), "{took:?}");
        assert!(took < Duration::from_millis(3500), "{took:?}");
    }

    #[tokio::test]
    async fn bytes_are_limited() {
        let t = Throttle::new(ThrottleSettings {
            bytes_per_s: Some(1 << 20),
            ..Default::default()
        });
        let start = Instant::now();
        t.rows(1, 1 << 20).await;
        t.rows(1, 1 << 19).await;
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
    }
}
