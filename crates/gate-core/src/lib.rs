//! The one governance path of notion-gate. Every surface (REST, tool endpoint, MCP, the
//! Notion-compatible proxy, the CLI) authenticates with [`Gate::authenticate`] and sends
//! Notion requests through [`Gate::call`]; none has a shortcut.
//!
//! ```text
//! key ─► SHA-256 ─► auth cache (TTL) ─► store            = Caller
//! call ─► canonicalise ─► classify ─► local-only guard ─► policy (+ root ancestry)
//!      ─► deny | hold for approval | execute (connection registry: one limiter per
//!         connection, token refresh single-flight, 401 → refresh once + retry once)
//!      ─► exactly one audit record ─► Notion's raw answer
//! ```
//!
//! # Caching and its bound
//!
//! Only the key → caller lookup (ids, name, maturity, disabled, admin, connection) and the
//! connection's decrypted token are cached, never a decision and never the local-only
//! switch. Changes made through this process's [`Gate`] (maturity, connection, disable, key
//! revocation, user disable, new connection) invalidate at once. Changes made by another
//! instance are seen within [`GateConfig::cache_ttl`] (default 5 s): a cached entry older
//! than the TTL is never used. Unknown and revoked keys are never cached.
//!
//! # Audit
//!
//! One record per call, written when the call ends (decision and outcome in the same
//! record): denied → `deny`/`denied`; held → `needs_approval`/`pending`; executed →
//! `allow`/`ok` or `allow`/`error` with the upstream status, duration, Notion request id and
//! target ids. Local-only blocks and invalid requests are recorded too. An approved call that
//! later runs gets its own record (caller kind `system`). Records go through the batched
//! [`gate_store::AuditWriter`], off the request path; a call whose future is dropped still
//! gets its record (reason `cancelled`).
//!
//! # Metrics
//!
//! Through the `metrics` facade (no exporter here): `gate_decisions_total{decision}`
//! (`allow`, `deny`, `needs_approval`, `local_only`, `invalid`), `gate_auth_cache_total{result}`
//! (`hit`, `miss`), `gate_token_refresh_total{result}`.

mod admin;
mod ancestry;
mod approvals;
mod audit;
mod cache;
mod caller;
mod config;
mod connections;
mod console;
mod error;
mod gate;
mod inbound;
mod intents;
mod mcp_oauth;
mod mirror;
mod notify;
mod oauth_flow;
mod request;
mod session;
mod system;
mod watch;

pub use admin::NewAgentSpec;
pub use approvals::ApprovalView;
pub use caller::{Caller, CallerInfo, CallerKind};
pub use config::{
    AbortPoint, DEFAULT_CACHE_TTL, GateConfig, LEGACY_LOCAL_ONLY_ENV, LOCAL_ONLY_ENV,
    LimiterFactory, OAuthSettings, parse_local_only,
};
pub use console::{ClientInfo, ConsoleSignIn, DEFAULT_SESSION_TTL};
pub use error::{GateError, LOCAL_ONLY_MESSAGE, Refusal};
pub use gate::{Gate, bearer_token, with_request_id};
pub use gate_store::Surface;
pub use inbound::{InboundOutcome, NOTION_SIGNATURE_HEADER};
pub use intents::{INTENT_LEASE, SettleReport, page_title};
pub use mcp_oauth::{
    AuthorizeParams, AuthorizeRequest, ClientRegistration, IssuedToken, MCP_CONSENT_PATH, MCP_PATH,
    McpOAuthConfig, TokenParams, mcp_resource_url, pkce_s256,
};
pub use mirror::{MirrorRead, mirror_source};
pub use notify::{
    ApprovalEvent, CONSOLE_APPROVALS_PATH, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER,
    SLACK_PREFIX, WebhookConfig, WebhookRetry, WebhookTarget, console_approval_url, sign,
};
pub use oauth_flow::{OAuthCompletion, OAuthStart};
pub use request::{GateResponse, KEPT_HEADERS, MAX_FORM_BODY, NotionRequest, RequestBody};
pub use session::{GovernedSession, SessionOutcome};
pub use watch::{
    ApprovalBus, BusError, DEFAULT_MAX_WAITS_PER_KEY, MAX_APPROVAL_WAIT, POLL_FALLBACK, POLL_SAFETY,
};
