//! Configuration types: seed, rate limits, faults, OAuth clients and API versions.

use std::time::Duration;

use axum::http::Method;

/// Initial content of the emulated workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// Only the users (a person and the integration bot); no pages.
    #[default]
    Empty,
    /// The demo workspace described in [`crate::DemoIds`].
    Demo,
}

/// A rate-limit model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLimit {
    /// GCRA / token bucket: an average of `rate` requests per second with bursts of `burst`.
    PerSecond {
        /// Sustained requests per second.
        rate: f64,
        /// Requests allowed back to back from a full bucket.
        burst: u32,
    },
    /// A fixed budget of requests per 60-second window (the window starts with the first request).
    Window {
        /// Requests allowed per window.
        budget: u32,
        /// Window length (60 s for Notion; configurable for tests).
        window: Duration,
    },
}

impl RateLimit {
    /// Token bucket with `rate` requests per second and `burst` capacity.
    pub fn per_second(rate: f64, burst: u32) -> Self {
        RateLimit::PerSecond {
            rate,
            burst: burst.max(1),
        }
    }

    /// A budget of `budget` requests per 60-second window.
    pub fn window_budget(budget: u32) -> Self {
        RateLimit::Window {
            budget,
            window: Duration::from_secs(60),
        }
    }
}

/// The Notion API versions the emulator accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    /// `2022-06-28`: single-source databases.
    V2022_06_28,
    /// `2025-09-03`: databases contain data sources; `archived` and `in_trash`.
    V2025_09_03,
    /// `2026-03-11`: no `archived`, `position` only, `meeting_notes`.
    V2026_03_11,
}

impl ApiVersion {
    /// Parses a `Notion-Version` header value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "2022-06-28" => Some(ApiVersion::V2022_06_28),
            "2025-09-03" => Some(ApiVersion::V2025_09_03),
            "2026-03-11" => Some(ApiVersion::V2026_03_11),
            _ => None,
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2022_06_28 => "2022-06-28",
            ApiVersion::V2025_09_03 => "2025-09-03",
            ApiVersion::V2026_03_11 => "2026-03-11",
        }
    }

    /// True for the legacy single-source database model.
    pub fn is_legacy(self) -> bool {
        self == ApiVersion::V2022_06_28
    }

    /// True when responses carry `archived`.
    pub fn has_archived(self) -> bool {
        self != ApiVersion::V2026_03_11
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and the matching Notion error JSON (429 → `rate_limited`,
    /// 500 → `internal_server_error`, 502 → `bad_gateway`, 503 → `service_unavailable`,
    /// 529 → `service_overload`, ...), optionally with `Retry-After` seconds.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` in seconds (529 and 429 get 1 s by default).
        retry_after: Option<u64>,
    },
    /// Answer with this status and a Notion error of this code and message: the documented
    /// errors a status alone does not pick (`400 invalid_grant`, `401 invalid_client` on the
    /// OAuth endpoints, …).
    Error {
        /// HTTP status.
        status: u16,
        /// Notion's error code.
        code: String,
        /// Notion's message.
        message: String,
    },
    /// 502 with a non-JSON HTML body, like a CDN error page.
    BadGatewayHtml,
    /// Close the TCP connection without sending any response.
    DropConnection,
    /// Answer normally, but only after this extra delay (`tokio::time::sleep`): before the
    /// handler runs ([`FaultTiming::Before`]) or after the effect, before the answer
    /// ([`FaultTiming::AfterEffect`]: a client that times out meanwhile cannot know the write
    /// happened).
    Delay(Duration),
}

impl Fault {
    /// A JSON error fault with the given status.
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
        }
    }
}

/// When a fault strikes relative to the request's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultTiming {
    /// Before the handler runs: nothing is changed.
    #[default]
    Before,
    /// After the handler ran (the write was applied), the answer is replaced by the fault.
    AfterEffect,
}

/// A probabilistic fault on matching requests.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Method to match; `None` matches every method.
    pub method: Option<Method>,
    /// Path pattern: `"*"`, a route template such as `"/v1/blocks/{id}/children"` (matches
    /// exactly that route), a concrete path, or a path with `*` segments matching any segment.
    pub path: String,
    /// Probability in `[0, 1]` for each matching request.
    pub probability: f64,
    /// What happens.
    pub fault: Fault,
    /// Before or after the effect.
    pub timing: FaultTiming,
}

impl FaultRule {
    /// A rule for every route.
    pub fn all_routes(probability: f64, fault: Fault) -> Self {
        FaultRule {
            method: None,
            path: "*".into(),
            probability,
            fault,
            timing: FaultTiming::Before,
        }
    }

    /// A rule for one method and path pattern.
    pub fn route(method: Method, path: &str, probability: f64, fault: Fault) -> Self {
        FaultRule {
            method: Some(method),
            path: path.into(),
            probability,
            fault,
            timing: FaultTiming::Before,
        }
    }

    /// Applies the fault after the effect.
    pub fn after_effect(mut self) -> Self {
        self.timing = FaultTiming::AfterEffect;
        self
    }
}

/// Runtime fault configuration (see [`crate::EmulatorHandle::set_faults`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// Probabilistic rules, evaluated in order; the first that fires wins.
    pub rules: Vec<FaultRule>,
    /// Fixed latency added to every request (uses `tokio::time::sleep`).
    pub latency: Duration,
    /// Seed for the fault RNG (deterministic tests). `None` keeps the current RNG.
    pub rng_seed: Option<u64>,
}

impl FaultConfig {
    /// Every request fails with 500 `internal_server_error` with probability `p`.
    pub fn fail_rate(p: f64) -> Self {
        FaultConfig {
            rules: vec![FaultRule::all_routes(p, Fault::status(500))],
            ..Default::default()
        }
    }
}

/// A deterministic fault: "the next N requests matching method/path get this fault".
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedFault {
    /// Method to match; `None` matches any.
    pub method: Option<Method>,
    /// Path pattern (see [`FaultRule::path`]).
    pub path: String,
    /// The fault.
    pub fault: Fault,
    /// How many matching requests it applies to.
    pub times: u32,
    /// Before or after the effect.
    pub timing: FaultTiming,
}

impl ScriptedFault {
    /// A fault for `method` + `path` (pattern), by default one 500.
    pub fn new(method: Method, path: &str) -> Self {
        ScriptedFault {
            method: Some(method),
            path: path.into(),
            fault: Fault::status(500),
            times: 1,
            timing: FaultTiming::Before,
        }
    }

    /// A fault for any method on `path` (`"*"` for all routes).
    pub fn any_method(path: &str) -> Self {
        ScriptedFault {
            method: None,
            ..Self::new(Method::GET, path)
        }
    }

    /// Answer with this status (JSON Notion error).
    pub fn status(mut self, status: u16) -> Self {
        let ra = match self.fault {
            Fault::Status { retry_after, .. } => retry_after,
            _ => None,
        };
        self.fault = Fault::Status {
            status,
            retry_after: ra,
        };
        self
    }

    /// Adds a `Retry-After` header (seconds).
    pub fn retry_after(mut self, secs: u64) -> Self {
        let st = match self.fault {
            Fault::Status { status, .. } => status,
            _ => 429,
        };
        self.fault = Fault::Status {
            status: st,
            retry_after: Some(secs),
        };
        self
    }

    /// Answer with a Notion error of this status, code and message (see [`Fault::Error`]).
    pub fn error(mut self, status: u16, code: &str, message: &str) -> Self {
        self.fault = Fault::Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        };
        self
    }

    /// 502 with an HTML body.
    pub fn html_bad_gateway(mut self) -> Self {
        self.fault = Fault::BadGatewayHtml;
        self
    }

    /// Close the connection without an answer.
    pub fn drop_connection(mut self) -> Self {
        self.fault = Fault::DropConnection;
        self
    }

    /// Answer normally after an extra delay (see [`Fault::Delay`]).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.fault = Fault::Delay(delay);
        self
    }

    /// Number of matching requests affected.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Apply the request's effect first, then answer with the fault.
    pub fn after_effect(mut self) -> Self {
        self.timing = FaultTiming::AfterEffect;
        self
    }
}

/// A registered OAuth client (public connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
}

/// Full configuration of an emulator instance (built by [`crate::EmulatorBuilder`]).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Initial content.
    pub seed: Seed,
    /// Accepted internal tokens; `None` accepts any bearer token.
    pub tokens: Option<Vec<String>>,
    /// Per-token rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Workspace-wide rate limit (shared by all tokens).
    pub workspace_rate_limit: Option<RateLimit>,
    /// Registered OAuth clients.
    pub oauth_clients: Vec<OAuthClient>,
    /// When true, `/v1/oauth/authorize` redirects with `error=access_denied`.
    pub oauth_deny: bool,
    /// Faults and latency.
    pub faults: FaultConfig,
    /// Workspace name shown on the bot user and token responses.
    pub workspace_name: String,
    /// Result cap per query/search before `request_status: incomplete` (Notion: 10,000).
    pub query_result_cap: usize,
    /// Blocks rendered by `GET /v1/pages/{id}/markdown` before it answers `truncated: true`
    /// (Notion's own limit is not documented).
    pub markdown_block_limit: usize,
    /// The workspace's per-file upload limit, reported by `/v1/users/me` as
    /// `workspace_limits.max_file_upload_size_in_bytes` and enforced by file uploads: a paid
    /// workspace's 5 GiB by default,
    /// [`crate::handlers::uploads::FREE_WORKSPACE_UPLOAD_LIMIT`] (5 MiB) for a free one.
    pub max_file_upload_size: u64,
    /// Where to send Notion's webhooks, and the verification token that signs them
    /// (`webhooks.rs`); `None`: no webhooks.
    pub webhook: Option<crate::webhooks::WebhookTarget>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::Empty,
            tokens: None,
            rate_limit: None,
            workspace_rate_limit: None,
            oauth_clients: Vec::new(),
            oauth_deny: false,
            faults: FaultConfig::default(),
            workspace_name: "Emulated Workspace".into(),
            query_result_cap: 10_000,
            markdown_block_limit: 20_000,
            max_file_upload_size: crate::handlers::uploads::PAID_WORKSPACE_UPLOAD_LIMIT,
            webhook: None,
        }
    }
}
