//! A Redis-backed implementation of notion-client's [`RateLimiter`]: one GCRA budget per
//! Notion connection, shared by every gateway instance that points at the same Redis; and
//! [`RedisApprovalBus`] (module [`bus`]), gate-core's `ApprovalBus` on Redis pub/sub, which
//! carries approval changes between instances so that waits answer at once everywhere.
//!
//! - **Algorithm.** The same GCRA as the in-process [`GovernorLimiter`]: emission interval
//!   `T = 1 / rate`, burst `b = burst - headroom` (at least 1). A request is admitted when the
//!   new theoretical arrival time `max(tat, now) + T` is at most `now + b·T`; otherwise the
//!   caller learns how long to wait. The check-and-set runs atomically in one Lua script
//!   (`EVALSHA`, falling back to `SCRIPT LOAD` when the server does not know it) and reads
//!   the clock with Redis `TIME`, so the instances' own clocks do not matter.
//! - **Keys.** `notion-gate:limiter:{<connection>}:tat` (the theoretical arrival time, µs)
//!   and `notion-gate:limiter:{<connection>}:pause` (a pause after a 429/529, µs); the hash
//!   tag keeps both in one Redis Cluster slot. Both expire on their own once idle.
//! - **Pause.** [`RateLimiter::pause`] is written to Redis (so every instance stops) and kept
//!   locally too (so this instance stops even if Redis is down). A shorter pause never
//!   shortens a longer one.
//! - **Redis unreachable.** `acquire` cannot fail (the trait returns a wait), so the limiter
//!   **falls back to an in-process GCRA limiter with the same configuration** rather than
//!   blocking every call: traffic continues at the per-instance rate, a warning is logged
//!   once per outage and [`RedisLimiter::degraded`] says so. Redis is tried again after
//!   [`RETRY_AFTER_ERROR`]. With several instances the combined rate may then exceed
//!   Notion's; Notion answers 429 with `Retry-After`, which pauses the connection. At start-up
//!   [`RedisLimiters::check`] lets the binary refuse to start with a clear error instead.

mod bus;

pub use bus::{APPROVALS_CHANNEL, RedisApprovalBus};

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use notion_client::{GovernorLimiter, LimiterConfig, RateLimiter};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

/// How long the limiter uses its local fallback after a Redis error before trying Redis
/// again.
pub const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// How long one Redis command may take before it counts as an error.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Key prefix of every limiter key.
pub const KEY_PREFIX: &str = "notion-gate:limiter";

/// The atomic GCRA step. KEYS: tat, pause. ARGV: interval µs, burst. Returns 0 when
/// admitted, else the wait in µs.
const ACQUIRE_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - burst * interval
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"#;

/// Pauses the connection. KEYS: pause. ARGV: duration µs. Returns the pause end (µs).
const PAUSE_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= untl then return cur end
redis.call('SET', KEYS[1], string.format('%.0f', untl), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
return untl
"#;

/// Errors of this crate. Never contains the Redis URL (it may carry a password).
#[derive(Debug, thiserror::Error)]
pub enum RedisLimitError {
    /// The Redis URL does not parse.
    #[error("NOTION_GATE_REDIS_URL: not a valid Redis URL ({0})")]
    InvalidUrl(String),
    /// Redis did not answer or answered with an error.
    #[error("Redis limiter: {0}")]
    Redis(String),
}

impl From<redis::RedisError> for RedisLimitError {
    fn from(e: redis::RedisError) -> Self {
        // RedisError's Display names the command and server message, never the URL.
        Self::Redis(e.to_string())
    }
}

/// A connection to Redis from which per-connection limiters are made (cheap to clone).
#[derive(Clone)]
pub struct RedisLimiters {
    manager: ConnectionManager,
    config: LimiterConfig,
}

impl fmt::Debug for RedisLimiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiters")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisLimiters {
    /// Limiters with this configuration on the Redis at `url` (`redis://` or `rediss://`).
    /// Connects lazily; call [`Self::check`] to find out now whether Redis answers. Call
    /// from within a tokio runtime.
    pub fn new(url: &str, config: LimiterConfig) -> Result<Self, RedisLimitError> {
        let client = redis::Client::open(url).map_err(|e| {
            // The parse error may quote the URL: report only its kind.
            RedisLimitError::InvalidUrl(format!("{:?}", e.kind()))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)?;
        Ok(Self { manager, config })
    }

    /// Pings Redis.
    pub async fn check(&self) -> Result<(), RedisLimitError> {
        let mut conn = self.manager.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// The configuration every limiter gets.
    pub fn config(&self) -> LimiterConfig {
        self.config
    }

    /// The limiter of one Notion connection (`key` is its id). Limiters made for the same key
    /// by any instance share one budget.
    pub fn limiter(&self, key: &str) -> RedisLimiter {
        RedisLimiter {
            manager: self.manager.clone(),
            config: self.config,
            tat_key: format!("{KEY_PREFIX}:{{{key}}}:tat"),
            pause_key: format!("{KEY_PREFIX}:{{{key}}}:pause"),
            acquire: redis::Script::new(ACQUIRE_LUA),
            pause: redis::Script::new(PAUSE_LUA),
            fallback: GovernorLimiter::new(self.config),
            local_pause: Mutex::new(None),
            redis_down_until: Mutex::new(None),
            degraded: AtomicBool::new(false),
        }
    }
}

/// One connection's limiter, shared with every instance through Redis.
pub struct RedisLimiter {
    manager: ConnectionManager,
    config: LimiterConfig,
    tat_key: String,
    pause_key: String,
    acquire: redis::Script,
    pause: redis::Script,
    fallback: GovernorLimiter,
    local_pause: Mutex<Option<Instant>>,
    redis_down_until: Mutex<Option<Instant>>,
    degraded: AtomicBool,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("key", &self.tat_key)
            .field("config", &self.config)
            .field("degraded", &self.degraded())
            .finish_non_exhaustive()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RedisLimiter {
    /// The emission interval in µs (at least 1).
    fn interval_us(&self) -> u64 {
        ((1_000_000.0 / self.config.rate_per_second.max(1e-6)).round() as u64).max(1)
    }

    /// One atomic GCRA step against Redis: `None` when admitted (the request may go now),
    /// `Some(wait)` when the caller must wait that long and try again. Does not consume
    /// budget when it answers `Some`.
    pub async fn try_acquire(&self) -> Result<Option<Duration>, RedisLimitError> {
        let mut conn = self.manager.clone();
        let wait_us: u64 = self
            .acquire
            .key(&self.tat_key)
            .key(&self.pause_key)
            .arg(self.interval_us())
            .arg(self.config.effective_burst())
            .invoke_async(&mut conn)
            .await?;
        Ok((wait_us > 0).then(|| Duration::from_micros(wait_us)))
    }

    /// True while Redis is failing and the local fallback limiter is in use.
    pub fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    fn local_pause_deadline(&self) -> Option<Instant> {
        let guard = self.local_pause.lock().unwrap_or_else(|e| e.into_inner());
        guard.filter(|until| *until > Instant::now())
    }

    fn redis_skipped(&self) -> bool {
        let guard = self
            .redis_down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        guard.is_some_and(|until| until > Instant::now())
    }

    fn note_error(&self, e: &RedisLimitError) {
        *self
            .redis_down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + RETRY_AFTER_ERROR);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(key = %self.tat_key, error = %e, "Redis limiter unavailable; using the in-process limiter of this instance until it answers");
        }
    }

    fn note_ok(&self) {
        if self.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!(key = %self.tat_key, "Redis limiter available again");
        }
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn acquire(&self) -> Duration {
        let start = Instant::now();
        loop {
            if let Some(until) = self.local_pause_deadline() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            if self.redis_skipped() {
                self.fallback.acquire().await;
                return start.elapsed();
            }
            match self.try_acquire().await {
                Ok(None) => {
                    self.note_ok();
                    return start.elapsed();
                }
                Ok(Some(wait)) => {
                    self.note_ok();
                    tokio::time::sleep(wait.max(Duration::from_micros(50))).await;
                }
                Err(e) => {
                    self.note_error(&e);
                    self.fallback.acquire().await;
                    return start.elapsed();
                }
            }
        }
    }

    async fn pause(&self, duration: Duration) {
        {
            let until = Instant::now() + duration;
            let mut guard = self.local_pause.lock().unwrap_or_else(|e| e.into_inner());
            if guard.is_none_or(|current| current < until) {
                *guard = Some(until);
            }
        }
        self.fallback.pause(duration).await;
        if self.redis_skipped() {
            return;
        }
        let mut conn = self.manager.clone();
        let r: Result<u64, _> = self
            .pause
            .key(&self.pause_key)
            .arg(micros(duration))
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = r {
            self.note_error(&e.into());
        }
    }
}
