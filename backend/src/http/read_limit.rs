//! A read rate limit per signed-in session for the expensive reads (the metric aggregates):
//! one polling tab is far below it, a script looping on them is slowed to it, so it cannot
//! keep every pooled connection busy and starve the other callers.
//!
//! A token bucket per session, in process memory. The limit is per instance: behind a load
//! balancer with two instances a session may read twice the rate. That is acceptable for a
//! read limit, whose aim is to protect each instance's own pool, not to meter a quota.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};

/// Requests per second a session may make on the limited routes, over time.
pub const DEFAULT_RATE: f64 = 10.0;
/// Requests a session may make at once after being idle.
pub const DEFAULT_BURST: f64 = 20.0;

/// Number of buckets above which idle ones are swept. A bucket that has refilled to the burst
/// holds nothing a new bucket would not, so sweeping drops exactly those: what stays is the
/// sessions that read within the last `burst / rate` seconds.
const SWEEP_ABOVE: usize = 1024;

/// Token buckets, one per session id.
#[derive(Debug)]
pub struct ReadLimit {
    rate: f64,
    burst: f64,
    inner: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    by_session: HashMap<String, Bucket>,
    /// Size at which the next sweep runs; doubled when a sweep frees too little, so a crowd of
    /// active sessions does not make every request sweep.
    sweep_at: usize,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant, rate: f64, burst: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate).min(burst)
    }
}

impl Default for ReadLimit {
    fn default() -> Self {
        ReadLimit::new(DEFAULT_RATE, DEFAULT_BURST)
    }
}

impl ReadLimit {
    /// `rate` requests per second on average, `burst` at once. Both are clamped to sane
    /// minimums (a burst below one would refuse everything).
    pub fn new(rate: f64, burst: f64) -> Self {
        ReadLimit {
            rate: rate.max(0.001),
            burst: burst.max(1.0),
            inner: Mutex::new(Buckets {
                by_session: HashMap::new(),
                sweep_at: SWEEP_ABOVE,
            }),
        }
    }

    /// Takes one request from the session's bucket, or answers `Error::RateLimited` with the
    /// whole seconds until one is back (at least 1, as `Retry-After` counts whole seconds).
    pub fn take(&self, session_id: &str) -> Result<()> {
        self.take_at(session_id, Instant::now())
    }

    fn take_at(&self, session_id: &str, now: Instant) -> Result<()> {
        let (rate, burst) = (self.rate, self.burst);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.by_session.len() >= inner.sweep_at {
            inner
                .by_session
                .retain(|_, b| b.refilled(now, rate, burst) < burst);
            inner.sweep_at = (inner.by_session.len() * 2).max(SWEEP_ABOVE);
        }
        let bucket = inner
            .by_session
            .entry(session_id.to_owned())
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        let tokens = bucket.refilled(now, rate, burst);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        let retry_after = ((1.0 - tokens) / rate).ceil().max(1.0) as u64;
        Err(Error::RateLimited {
            message: format!(
                "too many metric reads from this session (at most {rate} a second); \
                 try again in {retry_after} s"
            ),
            retry_after,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_session.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limit = ReadLimit::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            limit.take_at("a", t0).expect("within the burst");
        }
        let Err(Error::RateLimited { retry_after, .. }) = limit.take_at("a", t0) else {
            panic!("past the burst")
        };
        assert_eq!(retry_after, 1);
        limit
            .take_at("b", t0)
            .expect("another session has its own bucket");
        limit
            .take_at("a", t0 + Duration::from_millis(500))
            .expect("one request back after 1/rate s");
        assert!(limit.take_at("a", t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn retry_after_counts_whole_seconds_up() {
        let limit = ReadLimit::new(0.25, 1.0);
        let t0 = Instant::now();
        limit.take_at("a", t0).expect("first");
        let Err(Error::RateLimited { retry_after, .. }) = limit.take_at("a", t0) else {
            panic!("limited")
        };
        assert_eq!(retry_after, 4);
    }

    #[test]
    fn idle_buckets_are_swept() {
        let limit = ReadLimit::new(10.0, 2.0);
        let t0 = Instant::now();
        for i in 0..SWEEP_ABOVE {
            limit.take_at(&i.to_string(), t0).expect("first read");
        }
        assert_eq!(limit.len(), SWEEP_ABOVE);
        // One second later every bucket is full again, so the sweep drops them all.
        limit
            .take_at("late", t0 + Duration::from_secs(1))
            .expect("first read");
        assert_eq!(limit.len(), 1);
    }
}
