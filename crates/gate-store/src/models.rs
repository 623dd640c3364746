//! Row models (what the store returns) and the inputs that create or change them.
//!
//! Returned models are `#[non_exhaustive]` so columns can be added without breaking callers;
//! inputs are built with `new(required…)` plus chained setters.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ids::{AgentId, ApiKeyId, ApprovalId, ConnectionId, TokenHash, UserId};
use crate::vault::KeyId;

/// Defines a string-backed enum with `as_str`, `FromStr`, `Display` and `Serialize`.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $var:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $var),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The stored (and serialised) spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$var => $s),+
                }
            }

            pub(crate) fn parse_stored(s: &str) -> $crate::error::Result<Self> {
                s.parse().map_err(|_| $crate::error::StoreError::corrupt(format!("{} {s:?}", $what)))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::StoreError;

            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($s => Ok($name::$var),)+
                    _ => Err($crate::error::StoreError::invalid(format!("{} {s:?}", $what))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use str_enum;

// ---------------------------------------------------------------------------------------------
// Users

/// A person who can log in, own connections and agents, and decide approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct User {
    /// Row id.
    pub id: UserId,
    /// Unique login name.
    pub name: String,
    /// Administrators manage other users and see every agent.
    pub is_admin: bool,
    /// A disabled user's keys stop working.
    pub disabled: bool,
    /// When the user was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Input for [`Store::create_user`](crate::Store::create_user).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewUser {
    /// Unique login name (trimmed, not empty).
    pub name: String,
    /// Whether the user is an administrator.
    pub is_admin: bool,
}

impl NewUser {
    /// A non-admin user called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            is_admin: false,
        }
    }

    /// Makes the user an administrator (or not).
    pub fn admin(mut self, is_admin: bool) -> Self {
        self.is_admin = is_admin;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// API keys

str_enum!(
    /// Whose key it is; shown by the key's prefix (`ngu_` user, `nga_` agent).
    ApiKeyKind, "api key kind" {
        /// A human user's own key.
        User => "user",
        /// An agent's key.
        Agent => "agent",
    }
);

impl ApiKeyKind {
    /// The prefix every key of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            ApiKeyKind::User => "ngu_",
            ApiKeyKind::Agent => "nga_",
        }
    }
}

/// An API key's metadata. The key itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiKey {
    /// Row id.
    pub id: ApiKeyId,
    /// User or agent key.
    pub kind: ApiKeyKind,
    /// The user the key belongs to (an agent key: the agent's owner).
    pub user_id: UserId,
    /// The agent, for an agent key.
    pub agent_id: Option<AgentId>,
    /// The public, non-secret start of the key (`ngu_Ab12Cd34`), for listing.
    pub public_id: String,
    /// A free label.
    pub label: Option<String>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last successful use, updated best-effort.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked; a revoked key never authenticates.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Input for [`Store::create_api_key`](crate::Store::create_api_key).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewApiKey {
    /// For a user key: the user. Ignored for agent keys (the agent's owner is used).
    pub user_id: Option<UserId>,
    /// For an agent key: the agent.
    pub agent_id: Option<AgentId>,
    /// A free label.
    pub label: Option<String>,
}

impl NewApiKey {
    /// A user's own key (`ngu_…`).
    pub fn for_user(user_id: UserId) -> Self {
        Self {
            user_id: Some(user_id),
            agent_id: None,
            label: None,
        }
    }

    /// An agent's key (`nga_…`), owned by the agent's owner.
    pub fn for_agent(agent_id: AgentId) -> Self {
        Self {
            user_id: None,
            agent_id: Some(agent_id),
            label: None,
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The kind of key this creates.
    pub fn kind(&self) -> ApiKeyKind {
        if self.agent_id.is_some() {
            ApiKeyKind::Agent
        } else {
            ApiKeyKind::User
        }
    }
}

/// A key just created: the only time its plaintext exists.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedApiKey {
    /// The full key, to show once to its owner.
    pub key: SecretString,
    /// Its stored metadata.
    pub info: ApiKey,
}

// ---------------------------------------------------------------------------------------------
// Agents

/// An agent: a program acting for its owner under a maturity level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Agent {
    /// Row id.
    pub id: AgentId,
    /// The user who registered it.
    pub owner_id: UserId,
    /// Name, unique per owner.
    pub name: String,
    /// The maturity level as `gate-policy` spells it; validated by the caller.
    pub maturity: String,
    /// The Notion connection it works through.
    pub connection_id: Option<ConnectionId>,
    /// A disabled agent is denied everything.
    pub disabled: bool,
    /// Bumped on every change; caches compare it to notice changes made by other instances.
    pub version: i64,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Input for [`Store::create_agent`](crate::Store::create_agent).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewAgent {
    /// Owner.
    pub owner_id: UserId,
    /// Name, unique per owner.
    pub name: String,
    /// Maturity level string (validated by the caller).
    pub maturity: String,
    /// Connection to use.
    pub connection_id: Option<ConnectionId>,
}

impl NewAgent {
    /// An agent without a connection.
    pub fn new(owner_id: UserId, name: impl Into<String>, maturity: impl Into<String>) -> Self {
        Self {
            owner_id,
            name: name.into(),
            maturity: maturity.into(),
            connection_id: None,
        }
    }

    /// Binds the agent to a connection.
    pub fn connection(mut self, id: ConnectionId) -> Self {
        self.connection_id = Some(id);
        self
    }
}

/// A partial change to an agent; `None` fields are left as they are. Every applied change
/// bumps [`Agent::version`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AgentUpdate {
    /// New name.
    pub name: Option<String>,
    /// New maturity level string.
    pub maturity: Option<String>,
    /// New connection (`Some(None)` unbinds).
    pub connection_id: Option<Option<ConnectionId>>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

impl AgentUpdate {
    /// An empty update.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Promotes or demotes.
    pub fn maturity(mut self, maturity: impl Into<String>) -> Self {
        self.maturity = Some(maturity.into());
        self
    }

    /// Binds to a connection, or unbinds with `None`.
    pub fn connection(mut self, id: Option<ConnectionId>) -> Self {
        self.connection_id = Some(id);
        self
    }

    /// Disables or enables.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

str_enum!(
    /// How the Notion token was obtained.
    ConnectionKind, "connection kind" {
        /// Public integration, OAuth 2.0.
        OAuth => "oauth",
        /// Internal integration token pasted by the user.
        Token => "token",
    }
);

/// The Notion side of a connection: the workspace, and the bot its tokens act as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotionBot {
    /// Notion workspace id.
    pub workspace_id: String,
    /// Workspace name.
    pub workspace_name: Option<String>,
    /// Workspace icon (URL or emoji).
    pub workspace_icon: Option<String>,
    /// Notion bot id; unique per owner, so reconnecting refreshes the row.
    pub bot_id: String,
    /// Notion's `owner` object, as given by the caller (keep it minimal).
    pub owner: Option<serde_json::Value>,
}

/// A connected Notion workspace (one bot) for one user. Tokens stay encrypted; read them with
/// [`Store::connection_tokens`](crate::Store::connection_tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Connection {
    /// Row id.
    pub id: ConnectionId,
    /// The user who connected it.
    pub owner_id: UserId,
    /// The workspace and the bot the tokens act as.
    #[serde(flatten)]
    pub bot: NotionBot,
    /// OAuth or pasted token.
    pub kind: ConnectionKind,
    /// When the access token expires, if Notion said so.
    #[serde(with = "time::serde::rfc3339::option")]
    pub token_expires_at: Option<OffsetDateTime>,
    /// Which vault key encrypted the tokens.
    pub key_id: KeyId,
    /// Disconnected by the user (tokens kept only until deletion).
    pub revoked: bool,
    /// Notion refused the token (401) or it cannot be decrypted: the user must reconnect.
    pub needs_reauth: bool,
    /// A disconnect could not revoke the token at Notion (client credentials refused, Notion
    /// unreachable or failing): the connection is kept, disabled here, until a disconnect
    /// succeeds.
    pub revocation_failed: bool,
    /// When it was first connected.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Input for [`Store::upsert_connection`](crate::Store::upsert_connection).
#[derive(Debug)]
#[non_exhaustive]
pub struct NewConnection {
    /// Owner.
    pub owner_id: UserId,
    /// The workspace and the bot the tokens act as.
    pub bot: NotionBot,
    /// OAuth or pasted token.
    pub kind: ConnectionKind,
    /// Plaintext access token; encrypted before it reaches the database.
    pub access_token: SecretString,
    /// Plaintext refresh token, if any.
    pub refresh_token: Option<SecretString>,
    /// Token expiry, if Notion gave one.
    pub token_expires_at: Option<OffsetDateTime>,
}

impl NewConnection {
    /// A connection with the required fields.
    pub fn new(
        owner_id: UserId,
        kind: ConnectionKind,
        workspace_id: impl Into<String>,
        bot_id: impl Into<String>,
        access_token: SecretString,
    ) -> Self {
        Self {
            owner_id,
            bot: NotionBot {
                workspace_id: workspace_id.into(),
                workspace_name: None,
                workspace_icon: None,
                bot_id: bot_id.into(),
                owner: None,
            },
            kind,
            access_token,
            refresh_token: None,
            token_expires_at: None,
        }
    }

    /// Sets the workspace name and icon.
    pub fn workspace(mut self, name: Option<String>, icon: Option<String>) -> Self {
        self.bot.workspace_name = name;
        self.bot.workspace_icon = icon;
        self
    }

    /// Sets the owner object.
    pub fn owner(mut self, owner: serde_json::Value) -> Self {
        self.bot.owner = Some(owner);
        self
    }

    /// Sets the refresh token.
    pub fn refresh_token(mut self, token: SecretString) -> Self {
        self.refresh_token = Some(token);
        self
    }

    /// Sets the expiry.
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.token_expires_at = Some(at);
        self
    }
}

/// A connection's decrypted tokens.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectionTokens {
    /// The bearer token for Notion.
    pub access_token: SecretString,
    /// The refresh token, if any.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: Option<OffsetDateTime>,
}

/// What [`Store::reencrypt_all`](crate::Store::reencrypt_all) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReencryptReport {
    /// Connections re-encrypted with the vault's primary key.
    pub rewritten: u64,
    /// Connections already under the primary key.
    pub unchanged: u64,
    /// Connections whose tokens no configured key can decrypt (marked `needs_reauth`).
    pub undecryptable: Vec<ConnectionId>,
}

// ---------------------------------------------------------------------------------------------
// OAuth states

/// The longest an OAuth `state` may live.
pub const MAX_OAUTH_STATE_TTL: Duration = Duration::from_secs(600);

/// A stored OAuth `state` (by hash), bound to the user who started the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthState {
    /// SHA-256 of the state value.
    pub state_hash: TokenHash,
    /// The user who started the flow.
    pub user_id: UserId,
    /// Where to send the browser afterwards.
    pub redirect_to: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// When it was consumed.
    pub used_at: Option<OffsetDateTime>,
}

/// Input for [`Store::create_oauth_state`](crate::Store::create_oauth_state).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewOAuthState {
    /// The user starting the flow.
    pub user_id: UserId,
    /// Where to send the browser afterwards.
    pub redirect_to: Option<String>,
    /// Lifetime; at most [`MAX_OAUTH_STATE_TTL`] (the default).
    pub ttl: Duration,
}

impl NewOAuthState {
    /// A state for `user_id` living [`MAX_OAUTH_STATE_TTL`].
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            redirect_to: None,
            ttl: MAX_OAUTH_STATE_TTL,
        }
    }

    /// Sets the redirect.
    pub fn redirect_to(mut self, to: impl Into<String>) -> Self {
        self.redirect_to = Some(to.into());
        self
    }

    /// Sets the lifetime.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

/// A state just created: the random value goes into the authorize URL and is never stored.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedOAuthState {
    /// The `state` parameter to send to Notion.
    pub state: SecretString,
    /// The stored row.
    pub info: OAuthState,
}

// ---------------------------------------------------------------------------------------------
// Approvals

str_enum!(
    /// Who asked for an approval.
    RequesterKind, "requester kind" {
        /// An agent's call.
        Agent => "agent",
        /// A user's own call.
        User => "user",
    }
);

str_enum!(
    /// Where an approval is in its life.
    ApprovalStatus, "approval status" {
        /// Waiting for a human.
        Pending => "pending",
        /// Approved, not yet run.
        Approved => "approved",
        /// Denied by a human.
        Denied => "denied",
        /// Nobody decided in time.
        Expired => "expired",
        /// Claimed by one instance, running now.
        Executing => "executing",
        /// Ran; the result is stored.
        Executed => "executed",
        /// Ran and failed; the error is stored.
        Failed => "failed",
        /// Taken back by its requester before anyone decided.
        Withdrawn => "withdrawn",
    }
);

impl ApprovalStatus {
    /// Whether nothing more will happen to an approval in this status: `executed`, `failed`,
    /// `denied`, `expired` or `withdrawn`. (`approved` and `executing` are on their way to
    /// `executed` or `failed`.)
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Executed | Self::Failed | Self::Denied | Self::Expired | Self::Withdrawn
        )
    }
}

/// The longest decider's note an approval keeps, in characters.
pub const MAX_APPROVAL_NOTE: usize = 2000;

/// A human's answer to a pending approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Let the call run (once).
    Approve,
    /// Refuse it.
    Deny,
}

/// A person's decision on a pending approval, for
/// [`Store::decide_approval`](crate::Store::decide_approval): which, by whom, and the note
/// they left (blank is no note).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decided<'a> {
    /// Approve or deny.
    pub kind: ApprovalDecision,
    /// The person deciding.
    pub by: UserId,
    /// Their note.
    pub note: Option<&'a str>,
}

impl<'a> Decided<'a> {
    /// `kind` by `by`, with `note`.
    pub fn new(kind: ApprovalDecision, by: UserId, note: Option<&'a str>) -> Self {
        Self { kind, by, note }
    }
}

/// What a held call asks for: who requests it, through which connection, and the exact
/// canonical request that will run. Both [`Approval`] and [`NewApproval`] hold one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// Agent or user.
    pub requester_kind: RequesterKind,
    /// The requesting user (for an agent: its owner, when known).
    pub requester_user_id: Option<UserId>,
    /// The requesting agent.
    pub agent_id: Option<AgentId>,
    /// The connection the call will use.
    pub connection_id: Option<ConnectionId>,
    /// Operation name.
    pub operation: String,
    /// Action class as `gate-policy` spells it.
    pub action_class: String,
    /// The canonical request, JSON text; exactly what will run.
    pub request_json: String,
}

/// A call held for human approval, with its exact canonical request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Approval {
    /// Row id.
    pub id: ApprovalId,
    /// What is asked (its fields are the approval's in JSON).
    #[serde(flatten)]
    pub request: ApprovalRequest,
    /// SHA-256 (hex) of `request_json`.
    pub request_hash: String,
    /// Current status.
    pub status: ApprovalStatus,
    /// When it was requested.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// After this a pending approval can no longer be approved.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who approved or denied it.
    pub decided_by: Option<UserId>,
    /// When.
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// When execution finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The result (JSON text) for the requester to fetch.
    pub result_json: Option<String>,
    /// The upstream HTTP status of the execution.
    pub result_status: Option<u16>,
    /// What the human who approved or denied it wrote, for the requester to read.
    pub decision_note: Option<String>,
}

/// Input for [`Store::create_approval`](crate::Store::create_approval).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewApproval {
    /// What is asked; the store hashes its canonical request.
    pub request: ApprovalRequest,
    /// How long a human has to decide (default 24 hours).
    pub ttl: Duration,
}

impl NewApproval {
    /// An approval requested by an agent.
    pub fn for_agent(
        agent_id: AgentId,
        operation: impl Into<String>,
        action_class: impl Into<String>,
        request_json: impl Into<String>,
    ) -> Self {
        let mut new = Self::new(RequesterKind::Agent, operation, action_class, request_json);
        new.request.agent_id = Some(agent_id);
        new
    }

    /// An approval requested by a user's own call.
    pub fn for_user(
        user_id: UserId,
        operation: impl Into<String>,
        action_class: impl Into<String>,
        request_json: impl Into<String>,
    ) -> Self {
        Self::new(RequesterKind::User, operation, action_class, request_json).user(user_id)
    }

    /// An approval requested by `kind`, nobody named yet, with the default lifetime.
    fn new(
        requester_kind: RequesterKind,
        operation: impl Into<String>,
        action_class: impl Into<String>,
        request_json: impl Into<String>,
    ) -> Self {
        Self {
            request: ApprovalRequest {
                requester_kind,
                requester_user_id: None,
                agent_id: None,
                connection_id: None,
                operation: operation.into(),
                action_class: action_class.into(),
                request_json: request_json.into(),
            },
            ttl: Duration::from_secs(24 * 3600),
        }
    }

    /// Sets the requesting user (an agent's owner).
    pub fn user(mut self, id: UserId) -> Self {
        self.request.requester_user_id = Some(id);
        self
    }

    /// Sets the connection.
    pub fn connection(mut self, id: ConnectionId) -> Self {
        self.request.connection_id = Some(id);
        self
    }

    /// Sets the time a human has to decide.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

/// How an executed approval ended, for [`Store::finish_approval`](crate::Store::finish_approval).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApprovalOutcome {
    /// Whether it succeeded (`executed`) or not (`failed`).
    pub ok: bool,
    /// The result or error body, JSON text.
    pub result_json: Option<String>,
    /// Upstream HTTP status.
    pub result_status: Option<u16>,
}

impl ApprovalOutcome {
    /// A success with its result.
    pub fn ok(result_json: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            ok: true,
            result_json: Some(result_json.into()),
            result_status: status,
        }
    }

    /// A failure with its error body.
    pub fn failed(error_json: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            ok: false,
            result_json: Some(error_json.into()),
            result_status: status,
        }
    }
}

/// Filter for [`Store::list_approvals`](crate::Store::list_approvals).
#[derive(Clone, Debug, Default, derive_setters::Setters)]
#[setters(strip_option, into)]
#[non_exhaustive]
pub struct ApprovalFilter {
    /// Only this status.
    pub status: Option<ApprovalStatus>,
    /// Only this agent's.
    #[setters(rename = "agent")]
    pub agent_id: Option<AgentId>,
    /// Only requests by this user (or that user's agents, when recorded).
    #[setters(rename = "user")]
    pub user_id: Option<UserId>,
    /// At most this many (newest first; default 100).
    #[setters(into = false)]
    pub limit: Option<u32>,
}

impl ApprovalFilter {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }
}
