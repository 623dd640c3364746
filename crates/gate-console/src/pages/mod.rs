//! One module per console screen; each holds its handlers and its markup.

pub(crate) mod agents;
pub(crate) mod approvals;
pub(crate) mod audit;
pub(crate) mod connections;
pub(crate) mod login;
pub(crate) mod mcp_consent;
pub(crate) mod overview;
pub(crate) mod policy;
pub(crate) mod sessions;
pub(crate) mod users;

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use gate_core::Caller;
use gate_store::{AgentId, ApprovalId, ConnectionId, ConsoleSessionId, UserId};
use serde::Deserialize;

use crate::ConsoleState;
use crate::error::ConsoleError;

/// A query or form id; anything that does not parse is simply not found.
pub(crate) fn parse_id<T: FromStr>(raw: &str, what: &'static str) -> Result<T, ConsoleError> {
    raw.parse().map_err(|_| ConsoleError::NotFound(what))
}

/// The typed id of a `/console/<things>/{id}` path; anything that does not parse is simply
/// not found, named by [`PathId::WHAT`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdPath<T>(pub(crate) T);

/// An id that can stand in a console path, and what a missing one is called.
pub(crate) trait PathId: FromStr {
    /// The thing it names ("agent"), for "agent not found".
    const WHAT: &'static str;
}

macro_rules! path_ids {
    ($($ty:ty => $what:literal),* $(,)?) => {
        $(impl PathId for $ty {
            const WHAT: &'static str = $what;
        })*
    };
}

path_ids! {
    AgentId => "agent",
    ApprovalId => "approval",
    ConnectionId => "connection",
    ConsoleSessionId => "console session",
    UserId => "user",
}

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for IdPath<T> {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ConsoleError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ConsoleError::NotFound(T::WHAT))?;
        parse_id(&raw, T::WHAT).map(IdPath)
    }
}

/// A form with no fields but the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

/// The `?done=` notice of a page after a change.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    pub(crate) done: Option<String>,
}

/// Names of the agents (and users, for admins) the person may see, for display.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) agents: HashMap<AgentId, (String, String)>,
    pub(crate) users: HashMap<UserId, String>,
}

impl Names {
    /// Loads the agents the caller may see (name and maturity) and, for an admin, every
    /// user; a user sees their own name.
    pub(crate) async fn load(state: &ConsoleState, caller: &Caller) -> Result<Self, ConsoleError> {
        let agents = state
            .gate
            .list_agents(caller)
            .await?
            .into_iter()
            .map(|a| (a.id, (a.name, a.maturity)))
            .collect();
        let users = if caller.is_admin() {
            state
                .gate
                .list_users(caller)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect()
        } else {
            HashMap::from([(caller.user_id, caller.name.clone())])
        };
        Ok(Self { agents, users })
    }

    /// An agent's name, or its short id when it is gone.
    pub(crate) fn agent(&self, id: Option<AgentId>) -> String {
        match id {
            Some(id) => self
                .agents
                .get(&id)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| format!("agent {}", crate::ui::short(&id.to_string()))),
            None => "—".to_owned(),
        }
    }

    /// A user's name, or its short id.
    pub(crate) fn user(&self, id: Option<UserId>) -> String {
        match id {
            Some(id) => self
                .users
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("user {}", crate::ui::short(&id.to_string()))),
            None => "—".to_owned(),
        }
    }
}
