//! Persistence for notion-gate: one [`Store`] trait with SQLite (default) and PostgreSQL
//! implementations chosen from the URL scheme, embedded migrations, the Fernet token
//! [`Vault`], and the batched [`AuditWriter`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), gate_store::StoreError> {
//! use gate_store::{NewUser, Vault};
//! let data = std::path::Path::new("./data");
//! let store = gate_store::open(&gate_store::default_sqlite_url(data)).await?;
//! let vault = Vault::load_or_create(data, std::env::var(gate_store::KEY_ENV).ok().as_deref())?;
//! let alice = store.create_user(NewUser::new("alice").admin(true)).await?;
//! # let _ = (vault, alice);
//! # Ok(()) }
//! ```
//!
//! Only this crate touches `sqlx`. Times are stored as UTC milliseconds since the epoch on both
//! backends, so the same SQL runs on both and comparisons are exact.

mod audit;
mod error;
mod ids;
mod keys;
mod mcp_oauth;
mod models;
mod notion_webhooks;
mod owner;
mod sessions;
mod sql;
mod store;
mod vault;
mod webhooks;
mod writer;

pub use audit::{
    AuditCall, AuditCursor, AuditDecision, AuditEntry, AuditEvent, AuditIntent, AuditOrder,
    AuditPage, AuditQuery, AuditRecord, CallerKind, Outcome, Surface,
};
pub use error::{Result, StoreError};
pub use ids::{
    AgentId, ApiKeyId, ApprovalId, AuditEventId, ConnectionId, ConsoleSessionId, IntentId,
    TokenHash, UserId, WebhookDeliveryId, sha256_hex,
};
pub use keys::{key_kind, public_id_of};
pub use mcp_oauth::{
    CreatedMcpCode, McpClient, McpCode, McpConsent, McpToken, NewMcpClient, NewMcpCode, NewMcpToken,
};
pub use models::{
    Agent, AgentUpdate, ApiKey, ApiKeyKind, Approval, ApprovalDecision, ApprovalFilter,
    ApprovalOutcome, ApprovalRequest, ApprovalStatus, Connection, ConnectionKind, ConnectionTokens,
    CreatedApiKey, CreatedOAuthState, Decided, MAX_APPROVAL_NOTE, MAX_OAUTH_STATE_TTL, NewAgent,
    NewApiKey, NewApproval, NewConnection, NewOAuthState, NewUser, NotionBot, OAuthState,
    ReencryptReport, RequesterKind, User,
};
pub use notion_webhooks::NotionWebhookTokens;
pub use owner::{intent_owner, owner_is_dead};
pub use sessions::{
    ConsoleSession, CreatedConsoleSession, MAX_CONSOLE_SESSION_TTL, NewConsoleSession,
};
pub use store::{
    AuditDurability, Backend, DirectAudit, Store, StoreOptions, default_sqlite_url, open, open_with,
};
pub use vault::{KEY_ENV, KEY_FILE_NAME, KeyId, KeySource, Sealed, Vault, VaultKey};
pub use webhooks::{
    DEFAULT_WEBHOOK_LEASE, NewWebhookDelivery, WebhookAttempt, WebhookDelivery,
    WebhookDeliveryFilter,
};
pub use writer::{AuditClosed, AuditStats, AuditWriter, AuditWriterConfig};
