//! The retry decision: a pure function of the policy, the operation's idempotency, the attempt
//! number and what went wrong, with a table of unit tests.
//!
//! Rules (notion-api.md §9, by effect rather than by HTTP method):
//! - 429 `rate_limited` and 529 `service_overload` are retried for every operation: Notion
//!   refused the request before doing anything. `Retry-After` is honoured.
//! - 500, 502, 503, 504, a timeout or a connection dropped after the request was sent are
//!   retried only for operations whose repetition cannot duplicate an effect (reads, absolute
//!   updates, deletes). A create or an append that may have reached Notion is never re-sent.
//! - A connection that could not be established never reached Notion and is retried for every
//!   operation.
//! - Anything else (400, 401, 403, 404, 409, …) is never retried.

use std::time::{Duration, SystemTime};

/// Whether repeating an operation after an ambiguous failure could duplicate its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Reads, and writes that set absolute state (update, move, trash): a repeat ends in the
    /// same state.
    Safe,
    /// Creates and appends: a repeat could create a duplicate.
    Unsafe,
}

/// What one attempt ended with, as far as the retry decision cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP response with this status, and its `Retry-After` if any.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The parsed `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// The TCP/TLS connection could not be made: nothing reached Notion.
    ConnectFailed,
    /// The request may have been sent, but no complete response came back (connection reset,
    /// closed, or a body error).
    TransportFailed,
    /// The attempt timed out; the request may have been processed.
    TimedOut,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this delay. `rate_limited` says the whole connection should pause.
    Retry {
        /// How long to wait before the next attempt.
        after: Duration,
        /// Whether this was a 429/529 that should pause every caller of the connection.
        rate_limited: bool,
    },
    /// Stop and report the outcome to the caller.
    GiveUp,
}

/// Bounds and backoff of retries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after 429/529 (default 5: rate limits are expected and cheap to wait out).
    pub max_rate_limit_retries: u32,
    /// Retries after 5xx, timeouts and transport failures on safe operations (default 3).
    pub max_server_error_retries: u32,
    /// The first backoff delay when no `Retry-After` is given (default 1 s).
    pub base_delay: Duration,
    /// The longest delay, `Retry-After` included (default 60 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_rate_limit_retries: 5,
            max_server_error_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_rate_limit_retries: 0,
            max_server_error_retries: 0,
            ..Self::default()
        }
    }

    /// Sets both retry budgets.
    pub fn with_max_retries(mut self, rate_limit: u32, server_error: u32) -> Self {
        self.max_rate_limit_retries = rate_limit;
        self.max_server_error_retries = server_error;
        self
    }

    /// Sets the base backoff delay.
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest delay between attempts (`Retry-After` included).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, capped.
    /// `jitter` is a random number in `[0, 1)`.
    pub fn backoff(&self, retry_index: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry_index.min(16)).unwrap_or(u32::MAX));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Decides whether to retry. `rate_limit_retries` and `server_error_retries` count the retries
/// already made of each kind; `jitter` is a random number in `[0, 1)`.
pub fn decide(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    outcome: &Outcome,
    rate_limit_retries: u32,
    server_error_retries: u32,
    jitter: f64,
) -> Decision {
    match outcome {
        Outcome::Status { status, .. } if *status < 400 => Decision::GiveUp,
        Outcome::Status {
            status: 429 | 529,
            retry_after,
        } => {
            if rate_limit_retries >= policy.max_rate_limit_retries {
                return Decision::GiveUp;
            }
            let after = match retry_after {
                Some(d) => (*d).min(policy.max_delay),
                None => policy.backoff(rate_limit_retries, jitter),
            };
            Decision::Retry {
                after,
                rate_limited: true,
            }
        }
        Outcome::Status {
            status: 500 | 502 | 503 | 504,
            retry_after,
        } => server_error(
            policy,
            idempotency,
            server_error_retries,
            jitter,
            *retry_after,
        ),
        Outcome::Status { .. } => Decision::GiveUp,
        Outcome::ConnectFailed => server_error(
            policy,
            Idempotency::Safe,
            server_error_retries,
            jitter,
            None,
        ),
        Outcome::TransportFailed | Outcome::TimedOut => {
            server_error(policy, idempotency, server_error_retries, jitter, None)
        }
    }
}

fn server_error(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    done: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Decision {
    if idempotency == Idempotency::Unsafe || done >= policy.max_server_error_retries {
        return Decision::GiveUp;
    }
    let after = retry_after
        .map(|d| d.min(policy.max_delay))
        .unwrap_or_else(|| policy.backoff(done, jitter));
    Decision::Retry {
        after,
        rate_limited: false,
    }
}

/// The idempotency of a Notion request by its effect (notion-api.md §9), for callers that
/// forward requests they did not build (the gateway's proxy):
///
/// - `GET`, `HEAD`, `DELETE`, and the read-only `POST`s (search, database/data source/view
///   queries, `pages/{id}/move`, OAuth introspect and revoke) are [`Idempotency::Safe`];
/// - `PATCH /blocks/{id}/children` (append) is [`Idempotency::Unsafe`], whatever else the body
///   says;
/// - `PATCH /pages/{id}/markdown` is safe only when its only command is `replace_content`;
/// - any other `PATCH` sets absolute state and is safe;
/// - every other `POST` (creates, comments, file uploads, OAuth token) and any other method is
///   unsafe.
///
/// `path` may carry `/v1`, a query string and a trailing slash.
pub fn idempotency_of(method: &str, path: &str, body: Option<&serde_json::Value>) -> Idempotency {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip_while(|s| *s == "v1")
        .collect();
    let method = method.to_ascii_uppercase();
    let safe = match (method.as_str(), segs.as_slice()) {
        ("GET" | "HEAD" | "DELETE", _) => true,
        ("POST", ["search"])
        | ("POST", ["databases" | "data_sources", _, "query"])
        | ("POST", ["views", _, "queries"])
        | ("POST", ["blocks", "meeting_notes", "query"])
        | ("POST", ["pages", _, "move"])
        | ("POST", ["oauth", "introspect" | "revoke"]) => true,
        ("PATCH", ["blocks", _, "children"]) => false,
        ("PATCH", ["pages", _, "markdown"]) => markdown_is_replace_only(body),
        ("PATCH", _) => true,
        _ => false,
    };
    if safe {
        Idempotency::Safe
    } else {
        Idempotency::Unsafe
    }
}

/// Whether a Markdown `PATCH` body holds `replace_content` and no other command.
fn markdown_is_replace_only(body: Option<&serde_json::Value>) -> bool {
    let Some(obj) = body.and_then(serde_json::Value::as_object) else {
        return false;
    };
    let named = obj.get("type").and_then(serde_json::Value::as_str);
    let others = ["insert_content", "update_content", "replace_content_range"]
        .iter()
        .any(|k| obj.contains_key(*k));
    named == Some("replace_content") && !others
}

/// Parses `Retry-After`: integer (or decimal) seconds, or an HTTP date relative to `now`.
/// A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::Idempotency::{Safe, Unsafe};
    use super::*;

    fn st(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn retry(after_secs: u64, rate_limited: bool) -> Decision {
        Decision::Retry {
            after: Duration::from_secs(after_secs),
            rate_limited,
        }
    }

    /// The whole table: (idempotency, outcome, rate-limit retries done, server retries done,
    /// expected). Jitter 0 makes backoff deterministic: half of base × 2^n.
    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let half = |ms: u64| Decision::Retry {
            after: Duration::from_millis(ms),
            rate_limited: false,
        };
        let table: Vec<(Idempotency, Outcome, u32, u32, Decision)> = vec![
            // Success and client errors: never.
            (Safe, st(200, None), 0, 0, Decision::GiveUp),
            (Safe, st(400, None), 0, 0, Decision::GiveUp),
            (Safe, st(401, None), 0, 0, Decision::GiveUp),
            (Safe, st(403, None), 0, 0, Decision::GiveUp),
            (Safe, st(404, None), 0, 0, Decision::GiveUp),
            (Safe, st(409, None), 0, 0, Decision::GiveUp),
            (Unsafe, st(409, None), 0, 0, Decision::GiveUp),
            (Safe, st(501, None), 0, 0, Decision::GiveUp),
            // 429 and 529: always, honouring Retry-After, for safe and unsafe alike.
            (Safe, st(429, Some(2)), 0, 0, retry(2, true)),
            (Unsafe, st(429, Some(2)), 0, 0, retry(2, true)),
            (Unsafe, st(529, Some(7)), 0, 0, retry(7, true)),
            (
                Safe,
                st(529, None),
                0,
                0,
                Decision::Retry {
                    after: Duration::from_millis(500),
                    rate_limited: true,
                },
            ),
            // Retry-After is capped at max_delay.
            (Safe, st(429, Some(3600)), 0, 0, retry(60, true)),
            // The rate-limit budget runs out.
            (Safe, st(429, Some(1)), 4, 0, retry(1, true)),
            (Safe, st(429, Some(1)), 5, 0, Decision::GiveUp),
            // Server errors: safe only.
            (Safe, st(500, None), 0, 0, half(500)),
            (Safe, st(502, None), 0, 1, half(1000)),
            (Safe, st(503, None), 0, 2, half(2000)),
            (Safe, st(504, None), 0, 3, Decision::GiveUp),
            (Safe, st(503, Some(4)), 0, 0, retry(4, false)),
            (Unsafe, st(500, None), 0, 0, Decision::GiveUp),
            (Unsafe, st(502, None), 0, 0, Decision::GiveUp),
            (Unsafe, st(503, Some(1)), 0, 0, Decision::GiveUp),
            (Unsafe, st(504, None), 0, 0, Decision::GiveUp),
            // Transport: ambiguous failures follow idempotency; a failed connect never reached
            // Notion and is always safe.
            (Safe, Outcome::TransportFailed, 0, 0, half(500)),
            (Unsafe, Outcome::TransportFailed, 0, 0, Decision::GiveUp),
            (Safe, Outcome::TimedOut, 0, 0, half(500)),
            (Unsafe, Outcome::TimedOut, 0, 0, Decision::GiveUp),
            (Unsafe, Outcome::ConnectFailed, 0, 0, half(500)),
            (Safe, Outcome::ConnectFailed, 0, 3, Decision::GiveUp),
        ];
        for (i, (idem, outcome, rl, se, want)) in table.into_iter().enumerate() {
            let got = decide(&p, idem, &outcome, rl, se, 0.0);
            assert_eq!(got, want, "row {i}: {idem:?} {outcome:?} rl={rl} se={se}");
        }
    }

    #[test]
    fn idempotency_by_effect() {
        use serde_json::json;
        let table: Vec<(&str, &str, Option<serde_json::Value>, Idempotency)> = vec![
            ("GET", "/v1/pages/abc", None, Safe),
            ("get", "/v1/blocks/abc/children?page_size=10", None, Safe),
            ("DELETE", "/v1/blocks/abc", None, Safe),
            ("POST", "/v1/search", Some(json!({})), Safe),
            ("POST", "/v1/data_sources/abc/query", None, Safe),
            ("POST", "/v1/databases/abc/query/", None, Safe),
            ("POST", "/v1/pages/abc/move", None, Safe),
            ("POST", "/v1/oauth/introspect", None, Safe),
            (
                "PATCH",
                "/v1/pages/abc",
                Some(json!({"in_trash": true})),
                Safe,
            ),
            ("PATCH", "/v1/blocks/abc", None, Safe),
            ("PATCH", "/v1/data_sources/abc", None, Safe),
            ("POST", "/v1/pages", Some(json!({})), Unsafe),
            ("POST", "/v1/comments", None, Unsafe),
            ("POST", "/v1/databases", None, Unsafe),
            ("POST", "/v1/oauth/token", None, Unsafe),
            ("POST", "/v1/file_uploads", None, Unsafe),
            ("PUT", "/v1/pages/abc", None, Unsafe),
            // An append stays unsafe even when its body also trashes or deletes.
            ("PATCH", "/v1/blocks/abc/children", None, Unsafe),
            (
                "PATCH",
                "v1/blocks/abc/children",
                Some(json!({"children": [], "in_trash": true})),
                Unsafe,
            ),
            (
                "PATCH",
                "/v1/pages/abc/markdown",
                Some(json!({"type": "replace_content", "replace_content": {}})),
                Safe,
            ),
            (
                "PATCH",
                "/v1/pages/abc/markdown",
                Some(json!({"type": "insert_content", "insert_content": {}})),
                Unsafe,
            ),
            (
                "PATCH",
                "/v1/pages/abc/markdown",
                Some(json!({"type": "update_content"})),
                Unsafe,
            ),
            (
                "PATCH",
                "/v1/pages/abc/markdown",
                Some(json!({"type": "replace_content", "insert_content": {}})),
                Unsafe,
            ),
            ("PATCH", "/v1/pages/abc/markdown", None, Unsafe),
        ];
        for (method, path, body, want) in table {
            assert_eq!(
                idempotency_of(method, path, body.as_ref()),
                want,
                "{method} {path} {body:?}"
            );
        }
    }

    #[test]
    fn backoff_has_bounded_jitter() {
        let p = RetryPolicy::default();
        for n in 0..10 {
            let lo = p.backoff(n, 0.0);
            let hi = p.backoff(n, 0.999_999);
            assert!(lo <= hi);
            assert!(hi <= p.max_delay);
            assert!(lo >= p.backoff(0, 0.0));
        }
        assert_eq!(p.backoff(40, 0.5), Duration::from_secs(45));
    }

    #[test]
    fn no_retry_policy_never_retries() {
        let p = RetryPolicy::none();
        assert_eq!(
            decide(&p, Safe, &st(429, Some(1)), 0, 0, 0.0),
            Decision::GiveUp
        );
        assert_eq!(
            decide(&p, Safe, &st(500, None), 0, 0, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
