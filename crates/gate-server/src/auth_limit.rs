//! Failed authentication is rate limited per client address, on every HTTP surface at once
//! (REST, the tool endpoint, the `/v1` proxy and `/mcp` all answer a bad key with 401).
//!
//! - Every 401 answered to an address spends one cell of that address's budget (a
//!   [`governor`] keyed limiter: `failed_auth_per_minute` cells, refilled evenly over a
//!   minute). Successful requests spend nothing.
//! - Once the budget is spent, the address is blocked until the next cell is back: the 401
//!   that overdrew it and EVERY request it sends to an authenticated surface meanwhile are
//!   answered 429 with `Retry-After`, good keys included. Letting a good key through would
//!   tell a guesser which guess was right (200 rather than 429), so the block cannot depend
//!   on the key. Public routes (health, readiness, metrics, the OpenAPI document and the
//!   docs) are never blocked.
//! - The address is the TCP peer (`ConnectInfo`). `X-Forwarded-For` is ignored unless the
//!   deployment says a trusted reverse proxy sits in front ([`AuthLimitConfig::trust_forwarded_for`]);
//!   then its last entry (the one the proxy appended) is the client.
//! - REST and tool answers use the gateway's envelope (`rate_limited`, `details.reason =
//!   "too_many_failed_auth"`); the proxy answers in Notion's envelope (`rate_limited`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::{ApiError, ErrorCode};

/// The settings of the failed-authentication limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimitConfig {
    /// Failed authentications an address may have per minute (also the burst); `0` turns
    /// the limit off. Default 20.
    pub failed_auth_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a trusted
    /// reverse proxy that sets it). Default off: the TCP peer address.
    pub trust_forwarded_for: bool,
}

impl Default for AuthLimitConfig {
    fn default() -> Self {
        Self {
            failed_auth_per_minute: 20,
            trust_forwarded_for: false,
        }
    }
}

/// Past this many tracked addresses, forgotten ones are swept out.
const SWEEP_AT: usize = 10_000;

/// The shared state of the layer.
pub struct AuthLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    trust_forwarded_for: bool,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimiter")
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

impl AuthLimiter {
    /// A limiter, or `None` when the configuration turns the limit off.
    pub fn new(config: AuthLimitConfig) -> Option<Arc<Self>> {
        let per_minute = NonZeroU32::new(config.failed_auth_per_minute)?;
        Some(Arc::new(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::new(HashMap::new()),
            trust_forwarded_for: config.trust_forwarded_for,
        }))
    }

    /// How long `ip` is still blocked, if it is.
    fn blocked_for(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match blocked.get(&ip) {
            Some(until) if *until > now => Some(*until - now),
            Some(_) => {
                blocked.remove(&ip);
                None
            }
            None => None,
        }
    }

    /// Counts one failure of `ip`; `Some(wait)` when that overdrew its budget.
    fn fail(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let wait = match self.limiter.check_key(&ip) {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(DefaultClock::default().now())),
        };
        if self.limiter.len() > SWEEP_AT {
            self.limiter.retain_recent();
        }
        let wait = wait?.max(Duration::from_secs(1));
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if blocked.len() > SWEEP_AT {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(ip, now + wait);
        Some(wait)
    }

    /// The client address of a request.
    fn client(&self, req: &Request) -> Option<IpAddr> {
        if self.trust_forwarded_for
            && let Some(ip) = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return Some(ip);
        }
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    }
}

/// Routes that need no key and are never blocked.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
        || path == "/docs"
        || path.starts_with("/docs/")
        || path.starts_with("/console/assets/")
}

/// The 429 of a blocked address, in the envelope of the surface asked.
fn too_many(path: &str, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let message = "too many failed authentications from this address; retry later";
    let mut resp = if path == "/console" || path.starts_with("/console/") {
        gate_console::too_many_attempts(secs)
    } else if path.starts_with("/v1/") {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({
                "object": "error",
                "status": 429,
                "code": "rate_limited",
                "message": format!("notion-gate: too_many_failed_auth: {message}"),
                "additional_data": {"gateway_code": "too_many_failed_auth"},
            })),
        )
            .into_response()
    } else {
        let mut err = ApiError::new(ErrorCode::RateLimited, message)
            .detail("reason", "too_many_failed_auth")
            .detail("retry_after_seconds", secs);
        err.retry_after = Some(secs);
        err.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The layer's function (`middleware::from_fn_with_state`).
pub async fn limit_failed_auth(
    State(limiter): State<Arc<AuthLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if is_public(&path) {
        return next.run(req).await;
    }
    let Some(ip) = limiter.client(&req) else {
        return next.run(req).await;
    };
    if let Some(wait) = limiter.blocked_for(ip, Instant::now()) {
        return too_many(&path, wait);
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::UNAUTHORIZED
        && let Some(wait) = limiter.fail(ip, Instant::now())
    {
        tracing::warn!(client = %ip, "too many failed authentications; blocking the address");
        metrics::counter!("gate_auth_blocked_total").increment(1);
        return too_many(&path, wait);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_address_and_blocks_until_refilled() {
        let limiter = AuthLimiter::new(AuthLimitConfig {
            failed_auth_per_minute: 3,
            trust_forwarded_for: false,
        })
        .unwrap();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.fail(a, now), None);
        }
        let wait = limiter.fail(a, now).expect("the 4th failure overdraws");
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.blocked_for(a, now).is_some());
        assert!(limiter.blocked_for(b, now).is_none(), "another address");
        assert_eq!(limiter.fail(b, now), None);
        assert!(
            limiter.blocked_for(a, now + wait).is_none(),
            "unblocked once the wait is over"
        );
    }

    #[test]
    fn off_when_zero() {
        assert!(
            AuthLimiter::new(AuthLimitConfig {
                failed_auth_per_minute: 0,
                trust_forwarded_for: false
            })
            .is_none()
        );
    }

    #[test]
    fn public_routes() {
        for p in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/openapi.json",
            "/docs",
            "/docs/x.js",
        ] {
            assert!(is_public(p), "{p}");
        }
        for p in ["/api/v1/me", "/v1/users/me", "/mcp", "/docsx"] {
            assert!(!is_public(p), "{p}");
        }
    }
}
