//! The per-connection rate limiter: GCRA through `governor`, with a pause that a 429 or 529
//! imposes on every caller of the connection.
//!
//! The limiter sits behind the [`RateLimiter`] trait so that a shared implementation (Redis)
//! can replace the in-process one when several gateway instances use one connection. All
//! timing goes through `tokio::time`, so tests can run it on a paused clock.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Governor};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Rate and burst of a connection's limiter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LimiterConfig {
    /// Sustained requests per second (default 3, Notion's documented average).
    pub rate_per_second: f64,
    /// Notion's burst: requests that may go at once after a quiet spell (default 10).
    pub burst: u32,
    /// Requests of the burst the client leaves unused (default 1). Notion starts its own
    /// clock when a request *arrives*; if the first request of a run travels slower than a
    /// later one, an exact copy of Notion's bucket would be a few milliseconds early and earn
    /// a 429. One request of headroom absorbs up to one period of jitter for the cost of one
    /// period per run.
    pub headroom: u32,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            rate_per_second: 3.0,
            burst: 10,
            headroom: 1,
        }
    }
}

impl LimiterConfig {
    /// A limiter config; `rate_per_second` must be positive and finite, `burst` at least 1.
    pub fn new(rate_per_second: f64, burst: u32) -> Result<Self, String> {
        if !(rate_per_second.is_finite() && rate_per_second > 0.0) {
            return Err(format!(
                "limiter rate must be a positive number of requests per second, got {rate_per_second}"
            ));
        }
        if burst == 0 {
            return Err("limiter burst must be at least 1".to_owned());
        }
        Ok(Self {
            rate_per_second,
            burst,
            headroom: 1,
        })
    }

    /// Sets the headroom (see [`Self::headroom`]); the effective burst never drops below 1.
    pub fn with_headroom(mut self, headroom: u32) -> Self {
        self.headroom = headroom;
        self
    }

    /// The burst the client actually uses: `burst - headroom`, at least 1.
    pub fn effective_burst(&self) -> u32 {
        self.burst.saturating_sub(self.headroom).max(1)
    }

    fn quota(&self) -> Quota {
        let period = Duration::from_secs_f64(1.0 / self.rate_per_second.max(1e-6))
            .max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(self.effective_burst()).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// A limiter shared by every caller of one Notion connection.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until one more request may be sent, and returns how long it waited.
    async fn acquire(&self) -> Duration;

    /// Pauses the whole connection for `duration` (after a 429 or 529 with `Retry-After`).
    /// A later pause that ends sooner does not shorten an earlier one.
    async fn pause(&self, duration: Duration);
}

/// A `governor` clock on `tokio::time`, so that a paused test clock drives the limiter.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }
}

/// The in-process GCRA limiter.
pub struct GovernorLimiter {
    config: LimiterConfig,
    clock: TokioClock,
    gcra: Governor<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>,
    paused_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for GovernorLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernorLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GovernorLimiter {
    /// A limiter with this rate and burst. Call from within a tokio runtime.
    pub fn new(config: LimiterConfig) -> Self {
        let clock = TokioClock {
            origin: Instant::now(),
        };
        Self {
            config,
            clock,
            gcra: Governor::direct_with_clock(config.quota(), clock),
            paused_until: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> LimiterConfig {
        self.config
    }

    fn pause_deadline(&self) -> Option<Instant> {
        let mut guard = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        match *guard {
            Some(until) if until > Instant::now() => Some(until),
            Some(_) => {
                *guard = None;
                None
            }
            None => None,
        }
    }
}

#[async_trait]
impl RateLimiter for GovernorLimiter {
    async fn acquire(&self) -> Duration {
        let start = Instant::now();
        loop {
            if let Some(until) = self.pause_deadline() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            match self.gcra.check() {
                Ok(()) => return start.elapsed(),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    tokio::time::sleep(wait.max(Duration::from_micros(50))).await;
                }
            }
        }
    }

    async fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut guard = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|current| current < until) {
            *guard = Some(until);
        }
    }
}

/// A limiter that never waits (for the emulator with no limits, or a caller that limits
/// elsewhere). Pauses after a 429 are still honoured.
#[derive(Debug, Default)]
pub struct Unlimited {
    paused_until: Mutex<Option<Instant>>,
}

#[async_trait]
impl RateLimiter for Unlimited {
    async fn acquire(&self) -> Duration {
        let start = Instant::now();
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
        start.elapsed()
    }

    async fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut guard = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|current| current < until) {
            *guard = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let limiter = GovernorLimiter::new(LimiterConfig::new(3.0, 10).unwrap().with_headroom(0));
        let t0 = Instant::now();
        for _ in 0..10 {
            limiter.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::ZERO, "the burst goes at once");
        for _ in 0..30 {
            limiter.acquire().await;
        }
        let secs = t0.elapsed().as_secs_f64();
        assert!(
            (9.9..=10.1).contains(&secs),
            "30 more at 3/s take 10 s, took {secs}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn headroom_keeps_one_request_of_the_burst_back() {
        let config = LimiterConfig::new(3.0, 10).unwrap();
        assert_eq!(config.effective_burst(), 9);
        assert_eq!(config.with_headroom(50).effective_burst(), 1);
        let limiter = GovernorLimiter::new(config);
        let t0 = Instant::now();
        for _ in 0..9 {
            limiter.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        let waited = t0.elapsed().as_secs_f64();
        assert!(
            (0.33..0.34).contains(&waited),
            "the tenth waits one period: {waited}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pause_stops_every_caller_and_keeps_the_longest() {
        let limiter = Arc::new(GovernorLimiter::new(
            LimiterConfig::new(100.0, 100).unwrap(),
        ));
        limiter.pause(Duration::from_secs(5)).await;
        limiter.pause(Duration::from_secs(2)).await;
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move { l.acquire().await }));
        }
        for t in tasks {
            let waited = t.await.unwrap();
            assert!(waited >= Duration::from_secs(5), "waited {waited:?}");
        }
        assert!(t0.elapsed() >= Duration::from_secs(5));
    }

    #[test]
    fn config_validation() {
        assert!(LimiterConfig::new(0.0, 1).is_err());
        assert!(LimiterConfig::new(f64::NAN, 1).is_err());
        assert!(LimiterConfig::new(3.0, 0).is_err());
        assert!(LimiterConfig::new(0.5, 1).is_ok());
    }
}
