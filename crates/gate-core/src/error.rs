//! The crate's one error type, [`GateError`], with one variant per answer the server maps to
//! HTTP. Messages never contain tokens, keys or page content.

use std::time::Duration;

use gate_policy::Maturity;
use gate_store::{ApprovalId, ConnectionId, StoreError};
use notion_client::WriteState;
use time::OffsetDateTime;

/// The message of [`GateError::LocalOnly`].
pub const LOCAL_ONLY_MESSAGE: &str = "Notion is blocked in local-only mode: this gateway makes no \
cloud calls. Page reads and searches are answered from the local mirror when the page is \
mirrored (`notion-gate mirror sync` before switching local-only on; `search_local` searches it); \
other calls are refused. To allow Notion calls, turn off NOTION_GATE_LOCAL_ONLY (or \
ATOM_LOCAL_ONLY) and reload.";

/// Why a call is refused ([`GateError::Forbidden`]): a policy decision, or something the
/// caller may not do whatever the policy says. One enum, so the status and the envelope are
/// chosen by `match`, never by comparing strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The policy: the agent is disabled.
    AgentDisabled,
    /// The policy: the agent's maturity is too low for the class.
    MaturityTooLow,
    /// The policy: the agent's allow/deny lists exclude the class.
    ClassNotPermitted,
    /// The policy: a target is outside the agent's allowed pages (or could not be placed).
    OutsideRoots,
    /// The policy: the operation is never forwarded.
    NotProxied,
    /// The caller lacks the right (an admin operation, someone else's object).
    NotPermitted,
    /// An agent's key was used where only a person's key may be (console sign-in).
    AgentKey,
    /// The user who asked is disabled (a held call of theirs cannot run).
    UserDisabled,
    /// A write was attempted before the human's approval it waits for.
    ApprovalRequiredFirst,
    /// A call was held that was not awaiting approval (a handler bug).
    NotAwaitingApproval,
    /// The request to hold does not match the governed operation (a handler bug).
    ApprovalRequestMismatch,
    /// A write that needs several Notion requests cannot be held as one approval.
    ApprovalRequiresSingleRequest,
    /// A read that needs a human's approval cannot be answered from the mirror.
    NeedsApproval,
}

impl Refusal {
    /// The stable code (`maturity_too_low`, `not_permitted`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::AgentDisabled => "agent_disabled",
            Refusal::MaturityTooLow => "maturity_too_low",
            Refusal::ClassNotPermitted => "class_not_permitted",
            Refusal::OutsideRoots => "outside_roots",
            Refusal::NotProxied => "not_proxied",
            Refusal::NotPermitted => "not_permitted",
            Refusal::AgentKey => "agent_key",
            Refusal::UserDisabled => "user_disabled",
            Refusal::ApprovalRequiredFirst => "approval_required_first",
            Refusal::NotAwaitingApproval => "not_awaiting_approval",
            Refusal::ApprovalRequestMismatch => "approval_request_mismatch",
            Refusal::ApprovalRequiresSingleRequest => "approval_requires_single_request",
            Refusal::NeedsApproval => "needs_approval",
        }
    }

    /// Whether the governance (policy, approvals) refuses, rather than the caller's rights:
    /// `forbidden_by_policy` on the REST API rather than `forbidden`.
    pub fn is_governance(self) -> bool {
        match self {
            Refusal::NotPermitted => false,
            Refusal::AgentDisabled
            | Refusal::MaturityTooLow
            | Refusal::ClassNotPermitted
            | Refusal::OutsideRoots
            | Refusal::NotProxied
            | Refusal::AgentKey
            | Refusal::UserDisabled
            | Refusal::ApprovalRequiredFirst
            | Refusal::NotAwaitingApproval
            | Refusal::ApprovalRequestMismatch
            | Refusal::ApprovalRequiresSingleRequest
            | Refusal::NeedsApproval => true,
        }
    }
}

impl From<&gate_policy::DenyReason> for Refusal {
    fn from(reason: &gate_policy::DenyReason) -> Self {
        use gate_policy::DenyReason as D;
        match reason {
            D::AgentDisabled => Refusal::AgentDisabled,
            D::MaturityTooLow { .. } => Refusal::MaturityTooLow,
            D::ClassNotPermitted { .. } => Refusal::ClassNotPermitted,
            D::OutsideRoots { .. } => Refusal::OutsideRoots,
            D::NotProxied { .. } => Refusal::NotProxied,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a gateway operation can answer other than success.
///
/// Suggested HTTP mapping: `Unauthenticated` 401, `Forbidden` 403 (`policy_denied`),
/// `LocalOnly` 403 (`local_only`), `ApprovalRequired` 202, `ReconnectRequired` 409,
/// `NotFound` 404, `Invalid` 400, `Conflict` 409, `RateLimited` 429, `Upstream` 502 (or
/// Notion's own status), `NotConfigured` 503, `Store` 500.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The key is missing, unknown, revoked, or belongs to a disabled user. One answer for all
    /// of these, so the error is no oracle.
    #[error("missing, unknown or revoked gateway key")]
    Unauthenticated,
    /// The policy (or the caller's rights on an admin operation) refuses.
    #[error("forbidden ({code}): {reason}")]
    Forbidden {
        /// Why, as a stable machine-readable code ([`Refusal::as_str`]).
        code: Refusal,
        /// A human-readable reason.
        reason: String,
        /// For maturity denials, the lowest maturity that would not be denied.
        needed: Option<Maturity>,
    },
    /// Local-only mode is on: no call leaves for Notion.
    #[error("{LOCAL_ONLY_MESSAGE}")]
    LocalOnly,
    /// The call is held for a human's approval; fetch its result later.
    #[error("approval required: the request is held as approval {id} until {expires_at}")]
    ApprovalRequired {
        /// The approval to poll.
        id: ApprovalId,
        /// When it expires if nobody decides.
        expires_at: OffsetDateTime,
    },
    /// The connection's token cannot be used (revoked, undecryptable, refused by Notion): the
    /// owner must connect the workspace again. Nothing was sent with the bad token.
    #[error("the Notion connection must be reconnected")]
    ReconnectRequired {
        /// The connection, when known.
        connection_id: Option<ConnectionId>,
    },
    /// The thing does not exist, or the caller may not see it (same answer, no oracle).
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: &'static str,
    },
    /// A caller-supplied value was rejected.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which input.
        field: &'static str,
        /// Why (never echoes secrets).
        message: String,
    },
    /// The state changed underneath (an approval already decided, a name taken).
    #[error("conflict: {what}")]
    Conflict {
        /// A short, safe description.
        what: String,
    },
    /// Notion rate-limited the connection and the retry budget ran out.
    #[error("rate limited by Notion{}", retry_suffix(*.retry_after))]
    RateLimited {
        /// How long Notion asked to wait.
        retry_after: Option<Duration>,
    },
    /// Notion answered with an error, or could not be reached.
    #[error("Notion error{}{}{}", status_suffix(*.status), code_suffix(.code.as_deref()), request_suffix(.request_id.as_deref()))]
    Upstream {
        /// Notion's HTTP status; `None` when no answer came back.
        status: Option<u16>,
        /// Notion's error code.
        code: Option<String>,
        /// Notion's message (or the transport failure's kind). Kept out of `Display`.
        message: String,
        /// Notion's request id.
        request_id: Option<String>,
        /// Whether a failed write may nevertheless have been applied.
        write_state: WriteState,
    },
    /// The key already holds as many approval waits as it may; one must end first.
    #[error("this key already waits for {limit} approvals at once; wait for one to end")]
    TooManyWaits {
        /// The most waits one key may hold at once.
        limit: usize,
    },
    /// A disconnect could not revoke the connection's token at Notion (the client
    /// credentials were refused, Notion could not be reached or failed). The connection is
    /// kept, disabled here and flagged `revocation_failed`; disconnecting again retries.
    #[error("the token could not be revoked at Notion ({reason}): {advice}")]
    RevocationFailed {
        /// The connection, kept and flagged.
        connection_id: ConnectionId,
        /// Why, as a stable code: `invalid_client`, `notion_unreachable`, `notion_error`,
        /// `not_configured`, `local_only`.
        reason: &'static str,
        /// Notion's status and error code, when Notion answered.
        notion_status: Option<u16>,
        /// Notion's error code, when Notion answered.
        notion_code: Option<String>,
        /// What the user should do.
        advice: &'static str,
    },
    /// A feature needs configuration that is missing (for example OAuth client credentials).
    #[error("not configured: {what}")]
    NotConfigured {
        /// What is missing.
        what: &'static str,
    },
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[source] StoreError),
    /// An OAuth 2.0 protocol error of the MCP authorization server (an RFC 6749 / RFC 7591
    /// `error` code), answered in OAuth's own format by its endpoints.
    #[error("{error}: {description}")]
    OAuth {
        /// The OAuth `error` code (`invalid_request`, `invalid_grant`, …).
        error: &'static str,
        /// `error_description` (never a secret).
        description: String,
        /// Where to send the browser with the error, when the client's redirect URI is
        /// known to be valid (authorization requests only); `None`: show the error.
        redirect_to: Option<String>,
    },
}

fn retry_suffix(d: Option<Duration>) -> String {
    d.map(|d| format!("; retry after {} s", d.as_secs().max(1)))
        .unwrap_or_default()
}

fn status_suffix(s: Option<u16>) -> String {
    match s {
        Some(s) => format!(" {s}"),
        None => ": Notion could not be reached".to_owned(),
    }
}

fn code_suffix(c: Option<&str>) -> String {
    c.map(|c| format!(" ({c})")).unwrap_or_default()
}

fn request_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(" [request {id}]")).unwrap_or_default()
}

impl GateError {
    /// A stable machine-readable code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            GateError::Unauthenticated => "unauthenticated",
            GateError::Forbidden { code, .. } => code.as_str(),
            GateError::LocalOnly => "local_only",
            GateError::ApprovalRequired { .. } => "approval_required",
            GateError::ReconnectRequired { .. } => "reconnect_required",
            GateError::NotFound { .. } => "not_found",
            GateError::Invalid { .. } => "invalid_request",
            GateError::Conflict { .. } => "conflict",
            GateError::RateLimited { .. } => "rate_limited",
            GateError::Upstream { status, .. } => match status {
                Some(403) => "notion_forbidden",
                Some(404) => "notion_not_found",
                Some(_) => "notion_error",
                None => "notion_unreachable",
            },
            GateError::TooManyWaits { .. } => "too_many_waits",
            GateError::RevocationFailed { .. } => "revocation_failed",
            GateError::NotConfigured { .. } => "not_configured",
            GateError::Store(_) => "internal",
            GateError::OAuth { error, .. } => error,
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        GateError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn not_permitted(reason: impl Into<String>) -> Self {
        GateError::Forbidden {
            code: Refusal::NotPermitted,
            reason: reason.into(),
            needed: None,
        }
    }

    /// Maps a client error (no answer, or an error answer) to [`GateError::Upstream`] or
    /// [`GateError::RateLimited`].
    pub(crate) fn from_client(e: &notion_client::Error) -> Self {
        if let Some(api) = e.api() {
            if api.status == 429 {
                return GateError::RateLimited {
                    retry_after: api.retry_after,
                };
            }
            return GateError::Upstream {
                status: Some(api.status),
                code: Some(api.code.as_str().to_owned()),
                message: api.message.clone(),
                request_id: api.request_id.clone(),
                write_state: e.write_state(),
            };
        }
        let message = match e {
            notion_client::Error::Transport { kind, .. } => format!("transport: {kind}"),
            notion_client::Error::UnexpectedResponse { status, .. } => {
                format!("unexpected HTTP {status} (not a Notion error body)")
            }
            notion_client::Error::Decode { path, .. } => format!("undecodable answer at {path}"),
            notion_client::Error::InvalidId(_) => "invalid id".to_owned(),
            _ => "request refused by the client".to_owned(),
        };
        GateError::Upstream {
            status: e.status(),
            code: None,
            message,
            request_id: None,
            write_state: e.write_state(),
        }
    }
}

impl From<StoreError> for GateError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => GateError::NotFound { what },
            StoreError::Conflict { what } => GateError::Conflict { what },
            StoreError::Invalid { what } => GateError::Invalid {
                field: "input",
                message: what,
            },
            StoreError::ReconnectRequired { connection_id } => {
                GateError::ReconnectRequired { connection_id }
            }
            other => GateError::Store(other),
        }
    }
}
