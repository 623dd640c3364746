//! [`Caller`]: who is making a call, as resolved from a gateway key (user or agent), and the
//! borrowed [`gate_policy::Caller`] the policy decides on.

use std::fmt;
use std::sync::Arc;

use gate_policy::Maturity;
use gate_store::{AgentId, ApiKeyId, ConnectionId, UserId};

/// Whether a key is a person's own or an agent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallerKind {
    /// A human user's own key.
    User,
    /// An agent's key.
    Agent,
}

/// What is known about a caller. Read through [`Caller`]'s `Deref`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallerInfo {
    /// User or agent.
    pub kind: CallerKind,
    /// The user (for an agent: its owner).
    pub user_id: UserId,
    /// The agent, for agent keys.
    pub agent_id: Option<AgentId>,
    /// The user's or the agent's name.
    pub name: String,
    /// The agent's maturity (`None` for users).
    pub maturity: Option<Maturity>,
    /// A disabled agent is denied everything (audited).
    pub disabled: bool,
    /// Whether the user is an administrator (always false for agents).
    pub admin: bool,
    /// The connection calls go through: the agent's, or the user's first connection.
    pub connection_id: Option<ConnectionId>,
    /// The key that authenticated.
    pub key_id: ApiKeyId,
    /// The agent's version counter when this was loaded.
    pub agent_version: Option<i64>,
    pub(crate) user_id_str: String,
    pub(crate) agent_id_str: String,
}

/// An authenticated caller. Cheap to clone (one `Arc`).
#[derive(Clone, PartialEq, Eq)]
pub struct Caller(Arc<CallerInfo>);

impl std::ops::Deref for Caller {
    type Target = CallerInfo;

    fn deref(&self) -> &CallerInfo {
        &self.0
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("agent_id", &self.agent_id)
            .field("name", &self.name)
            .field("maturity", &self.maturity)
            .field("disabled", &self.disabled)
            .field("admin", &self.admin)
            .field("connection_id", &self.connection_id)
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl Caller {
    /// A user caller. Only [`Gate::authenticate`](crate::Gate::authenticate) (and the
    /// approval runner) make callers, so a surface cannot fabricate one.
    pub(crate) fn user(
        user_id: UserId,
        name: impl Into<String>,
        admin: bool,
        connection_id: Option<ConnectionId>,
        key_id: ApiKeyId,
    ) -> Self {
        Caller(Arc::new(CallerInfo {
            kind: CallerKind::User,
            user_id,
            agent_id: None,
            name: name.into(),
            maturity: None,
            disabled: false,
            admin,
            connection_id,
            key_id,
            agent_version: None,
            user_id_str: user_id.to_string(),
            agent_id_str: String::new(),
        }))
    }

    /// An agent caller (see [`Caller::user`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn agent(
        agent_id: AgentId,
        owner_id: UserId,
        name: impl Into<String>,
        maturity: Maturity,
        disabled: bool,
        connection_id: Option<ConnectionId>,
        key_id: ApiKeyId,
        version: i64,
    ) -> Self {
        Caller(Arc::new(CallerInfo {
            kind: CallerKind::Agent,
            user_id: owner_id,
            agent_id: Some(agent_id),
            name: name.into(),
            maturity: Some(maturity),
            disabled,
            admin: false,
            connection_id,
            key_id,
            agent_version: Some(version),
            user_id_str: owner_id.to_string(),
            agent_id_str: agent_id.to_string(),
        }))
    }

    /// Whether this is an agent.
    pub fn is_agent(&self) -> bool {
        self.kind == CallerKind::Agent
    }

    /// Whether this is an administrator (a user key of an admin).
    pub fn is_admin(&self) -> bool {
        self.kind == CallerKind::User && self.admin
    }

    /// The borrowed form the policy decides on.
    pub fn policy_caller(&self) -> gate_policy::Caller<'_> {
        match self.kind {
            CallerKind::User => gate_policy::Caller::user(&self.user_id_str, self.admin),
            CallerKind::Agent => {
                let maturity = self.maturity.unwrap_or(Maturity::Student);
                if self.disabled {
                    gate_policy::Caller::disabled_agent(&self.agent_id_str, &self.name, maturity)
                } else {
                    gate_policy::Caller::agent(&self.agent_id_str, &self.name, maturity)
                }
            }
        }
    }

    pub(crate) fn audit_kind(&self) -> gate_store::CallerKind {
        match self.kind {
            CallerKind::User => gate_store::CallerKind::User,
            CallerKind::Agent => gate_store::CallerKind::Agent,
        }
    }
}
