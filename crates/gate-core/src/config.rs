//! [`GateConfig`]: everything a [`Gate`](crate::Gate) is built from, injected at
//! construction (nothing is read from the environment behind the caller's back), plus the
//! parsing of the local-only switch.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gate_policy::Policy;
use gate_store::{AuditWriterConfig, ConnectionId, Store, Vault};
use notion_client::{ClientConfig, LimiterConfig, RateLimiter};
use secrecy::SecretString;

use crate::error::GateError;
use crate::watch::{ApprovalBus, DEFAULT_MAX_WAITS_PER_KEY, POLL_FALLBACK, POLL_SAFETY};

/// The environment variable that switches local-only mode on.
pub const LOCAL_ONLY_ENV: &str = "NOTION_GATE_LOCAL_ONLY";
/// The original system's name for the same switch, still accepted.
pub const LEGACY_LOCAL_ONLY_ENV: &str = "ATOM_LOCAL_ONLY";

/// Default lifetime of cached authentication results and connection tokens: the bound on how
/// long another instance's change (maturity, connection, disable, key revocation) can go
/// unseen here.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Builds the limiter of one connection; called once per connection id per process. Plug a
/// distributed (Redis) limiter in here to share one budget across instances.
pub type LimiterFactory = Arc<dyn Fn(&ConnectionId) -> Arc<dyn RateLimiter> + Send + Sync>;

/// Client credentials of the public (OAuth) integration, used to refresh access tokens.
#[derive(Clone)]
pub struct OAuthSettings {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
}

impl OAuthSettings {
    /// Settings from a client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }
}

impl fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// The configuration of a [`Gate`](crate::Gate).
#[derive(Clone)]
#[non_exhaustive]
pub struct GateConfig {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The token vault.
    pub vault: Arc<Vault>,
    /// The policy (built-in defaults unless a policy file was loaded).
    pub policy: Policy,
    /// The Notion client: base URL, default `Notion-Version`, timeouts, retry, default limiter.
    pub notion: ClientConfig,
    /// Local-only mode at start (changeable later with
    /// [`Gate::set_local_only`](crate::Gate::set_local_only)).
    pub local_only: bool,
    /// Lifetime of cached authentication results and connection tokens (default 5 s).
    pub cache_ttl: Duration,
    /// Most cached keys kept (default 10 000).
    pub cache_capacity: usize,
    /// The per-connection limiter (default: the client's).
    pub limiter: Option<LimiterConfig>,
    /// Builds per-connection limiters instead of the default in-process GCRA limiter.
    pub limiter_factory: Option<LimiterFactory>,
    /// OAuth client credentials; without them OAuth tokens cannot be refreshed.
    pub oauth: Option<OAuthSettings>,
    /// How long a human has to decide an approval (default 24 h).
    pub approval_ttl: Duration,
    /// The batched audit writer.
    pub audit: AuditWriterConfig,
    /// How long a looked-up parent of a Notion object is remembered (default 60 s).
    pub ancestry_ttl: Duration,
    /// The deepest parent chain walked for root-page checks (default 16).
    pub ancestry_max_depth: usize,
    /// Carries approval changes between instances (Redis pub/sub, `gate-redis`). PostgreSQL
    /// stores announce changes themselves; without either, waits re-read the store.
    pub approval_bus: Option<Arc<dyn ApprovalBus>>,
    /// How many approval waits one key may hold at once (default
    /// [`DEFAULT_MAX_WAITS_PER_KEY`]).
    pub max_waits_per_key: usize,
    /// How often a wait re-reads its approval: without a cross-instance source connected
    /// (default [`POLL_FALLBACK`]), and with one (default [`POLL_SAFETY`]).
    pub approval_polls: (Duration, Duration),
    /// Approval notifications to webhooks (default: none).
    pub webhooks: Option<crate::notify::WebhookConfig>,
    /// Bounds of the MCP OAuth authorization server.
    pub mcp_oauth: crate::mcp_oauth::McpOAuthConfig,
    /// The local mirrors (`gate-mirror`): reads in local-only mode and `search_local`
    /// (default: none).
    pub mirrors: Option<gate_mirror::Mirrors>,
    /// Testing only: abort the process at this point of every write (crash tests). `None`
    /// (the default) in any real deployment.
    pub abort_at: Option<AbortPoint>,
}

/// Where a crash test aborts the process during a write (see [`GateConfig::abort_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortPoint {
    /// After the write's intent is durable, before the write is sent to Notion.
    AfterIntent,
    /// After Notion answered the write, before its audit record and the answer.
    AfterSend,
}

impl std::str::FromStr for AbortPoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "after_intent" => Ok(AbortPoint::AfterIntent),
            "after_send" => Ok(AbortPoint::AfterSend),
            other => Err(format!(
                "unknown abort point `{other}` (expected after_intent or after_send)"
            )),
        }
    }
}

impl fmt::Debug for GateConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateConfig")
            .field("store", &self.store.backend())
            .field("vault", &self.vault)
            .field("notion", &self.notion)
            .field("local_only", &self.local_only)
            .field("cache_ttl", &self.cache_ttl)
            .field("oauth", &self.oauth)
            .field("approval_ttl", &self.approval_ttl)
            .field("approval_bus", &self.approval_bus)
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

impl GateConfig {
    /// A configuration with the defaults: built-in policy, `api.notion.com`, local-only off,
    /// 5 s cache, no OAuth.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>) -> Self {
        Self {
            store,
            vault,
            policy: Policy::default(),
            notion: ClientConfig::default(),
            local_only: false,
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_capacity: 10_000,
            limiter: None,
            limiter_factory: None,
            oauth: None,
            approval_ttl: Duration::from_secs(24 * 3600),
            audit: AuditWriterConfig::default(),
            ancestry_ttl: Duration::from_secs(60),
            ancestry_max_depth: 16,
            approval_bus: None,
            max_waits_per_key: DEFAULT_MAX_WAITS_PER_KEY,
            approval_polls: (POLL_FALLBACK, POLL_SAFETY),
            abort_at: None,
            webhooks: None,
            mcp_oauth: crate::mcp_oauth::McpOAuthConfig::default(),
            mirrors: None,
        }
    }

    /// Sets how often a wait re-reads its approval without and with a cross-instance source
    /// connected.
    pub fn approval_polls(mut self, fallback: Duration, connected: Duration) -> Self {
        self.approval_polls = (fallback, connected);
        self
    }

    /// Sets the bus that carries approval changes between instances.
    pub fn approval_bus(mut self, bus: Arc<dyn ApprovalBus>) -> Self {
        self.approval_bus = Some(bus);
        self
    }

    /// Sets how many approval waits one key may hold at once (at least 1).
    pub fn max_waits_per_key(mut self, n: usize) -> Self {
        self.max_waits_per_key = n.max(1);
        self
    }

    /// Testing only: aborts the process at `point` of every write (see
    /// [`GateConfig::abort_at`]).
    pub fn abort_at(mut self, point: Option<AbortPoint>) -> Self {
        self.abort_at = point;
        self
    }

    /// Sets the policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the Notion client configuration.
    pub fn notion(mut self, notion: ClientConfig) -> Self {
        self.notion = notion;
        self
    }

    /// Sets local-only mode at start.
    pub fn local_only(mut self, on: bool) -> Self {
        self.local_only = on;
        self
    }

    /// Sets the cache lifetime (the cross-instance staleness bound).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Sets the per-connection limiter.
    pub fn limiter(mut self, limiter: LimiterConfig) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Sets a limiter factory (e.g. a Redis limiter shared by instances).
    pub fn limiter_factory(mut self, factory: LimiterFactory) -> Self {
        self.limiter_factory = Some(factory);
        self
    }

    /// Sets the OAuth client credentials.
    pub fn oauth(mut self, oauth: OAuthSettings) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Sets the approval lifetime.
    pub fn approval_ttl(mut self, ttl: Duration) -> Self {
        self.approval_ttl = ttl;
        self
    }

    /// Sends approval notifications to webhooks.
    pub fn webhooks(mut self, webhooks: crate::notify::WebhookConfig) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// Serves mirror reads (local-only mode, `search_local`) from these mirrors.
    pub fn mirrors(mut self, mirrors: gate_mirror::Mirrors) -> Self {
        self.mirrors = Some(mirrors);
        self
    }

    /// Sets the bounds of the MCP OAuth authorization server.
    pub fn mcp_oauth(mut self, limits: crate::mcp_oauth::McpOAuthConfig) -> Self {
        self.mcp_oauth = limits;
        self
    }

    /// Sets the audit writer configuration.
    pub fn audit(mut self, audit: AuditWriterConfig) -> Self {
        self.audit = audit;
        self
    }

    /// Reads the local-only switch from the environment: on when either
    /// [`LOCAL_ONLY_ENV`] or [`LEGACY_LOCAL_ONLY_ENV`] says so (see [`parse_local_only`]).
    /// Meant for start-up code; tests pass [`GateConfig::local_only`] instead.
    pub fn local_only_from_env(mut self) -> Result<Self, GateError> {
        let mut on = false;
        for name in [LOCAL_ONLY_ENV, LEGACY_LOCAL_ONLY_ENV] {
            if let Ok(v) = std::env::var(name) {
                on |= parse_local_only(name, &v)?;
            }
        }
        self.local_only = on;
        Ok(self)
    }
}

/// Parses a local-only switch value: `true`, `1`, `yes`, `on` (any case) mean on; `false`,
/// `0`, `no`, `off` and blank mean off. Anything else is an error rather than a silent "off",
/// because this is a privacy switch.
pub fn parse_local_only(name: &'static str, value: &str) -> Result<bool, GateError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(GateError::invalid(
            name,
            "expected true or false (also 1/0, yes/no, on/off)",
        )),
    }
}
