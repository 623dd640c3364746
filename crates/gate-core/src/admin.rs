//! Administration through the gate (used by the CLI and REST): users, agents, keys,
//! connections and the audit trail, each checked against the acting caller.
//!
//! Rules: an admin sees and manages everything; a user sees and manages only their own
//! agents, keys, connections, approvals and audit; an agent manages nothing. Asking for
//! someone else's object by id answers `NotFound`, exactly as for a missing one. Every change
//! that affects authentication or the call path invalidates this process's caches at once;
//! other instances see it within the cache TTL.

use gate_policy::Maturity;
use gate_store::{
    Agent, AgentId, AgentUpdate, ApiKey, ApiKeyId, AuditPage, AuditQuery, Connection, ConnectionId,
    ConnectionKind, CreatedApiKey, NewAgent, NewApiKey, NewConnection, NewUser, User, UserId,
};
use notion_client::{Idempotency, RawRequest};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;

use crate::caller::Caller;
use crate::error::GateError;
use crate::gate::Gate;

/// What [`Gate::create_agent`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewAgentSpec {
    /// The owner (default: the acting user; only an admin may name another user).
    pub owner: Option<UserId>,
    /// Name, unique per owner.
    pub name: String,
    /// Maturity, parsed case-insensitively (`"Intern"`, `"intern"`, …).
    pub maturity: String,
    /// The connection (default: the owner's first connection). Must belong to the owner.
    pub connection: Option<ConnectionId>,
}

impl NewAgentSpec {
    /// An agent for the acting user with the default connection.
    pub fn new(name: impl Into<String>, maturity: impl Into<String>) -> Self {
        Self {
            owner: None,
            name: name.into(),
            maturity: maturity.into(),
            connection: None,
        }
    }

    /// Sets the owner (admins only).
    pub fn owner(mut self, owner: UserId) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Sets the connection.
    pub fn connection(mut self, id: ConnectionId) -> Self {
        self.connection = Some(id);
        self
    }
}

fn parse_maturity(s: &str) -> Result<Maturity, GateError> {
    s.parse::<Maturity>().map_err(|_| {
        GateError::invalid(
            "maturity",
            "expected one of student, intern, supervised, autonomous",
        )
    })
}

impl Gate {
    fn require_user(actor: &Caller) -> Result<(), GateError> {
        if actor.is_agent() {
            Err(GateError::not_permitted("agents cannot manage the gateway"))
        } else {
            Ok(())
        }
    }

    fn require_admin(actor: &Caller) -> Result<(), GateError> {
        Self::require_user(actor)?;
        if actor.is_admin() {
            Ok(())
        } else {
            Err(GateError::not_permitted(
                "only an administrator may do this",
            ))
        }
    }

    /// The user whose objects `actor` acts on: `owner` (admins, or the actor themself) or
    /// the actor.
    fn acting_owner(actor: &Caller, owner: Option<UserId>) -> Result<UserId, GateError> {
        Self::require_user(actor)?;
        match owner {
            Some(o) if o != actor.user_id && !actor.is_admin() => {
                Err(GateError::NotFound { what: "user" })
            }
            Some(o) => Ok(o),
            None => Ok(actor.user_id),
        }
    }

    // ---- users --------------------------------------------------------------------------

    /// Creates the first administrator and their key, only while there are no users at all.
    /// The key is returned once and never again.
    pub async fn bootstrap_admin(&self, name: &str) -> Result<(User, CreatedApiKey), GateError> {
        let store = &self.inner.store;
        if !store.list_users().await?.is_empty() {
            return Err(GateError::Conflict {
                what: "users already exist; ask an administrator for a key".to_owned(),
            });
        }
        let user = store.create_user(NewUser::new(name).admin(true)).await?;
        let key = store
            .create_api_key(NewApiKey::for_user(user.id).label("bootstrap"))
            .await?;
        tracing::info!(user_id = %user.id, key = %key.info.public_id, "bootstrapped the first administrator");
        Ok((user, key))
    }

    /// Creates a user (admins only).
    pub async fn create_user(
        &self,
        actor: &Caller,
        name: &str,
        admin: bool,
    ) -> Result<User, GateError> {
        Self::require_admin(actor)?;
        Ok(self
            .inner
            .store
            .create_user(NewUser::new(name).admin(admin))
            .await?)
    }

    /// Every user (admins only).
    pub async fn list_users(&self, actor: &Caller) -> Result<Vec<User>, GateError> {
        Self::require_admin(actor)?;
        Ok(self.inner.store.list_users().await?)
    }

    /// Disables or enables a user (admins only); their keys and their agents' keys stop
    /// working at once here, within the TTL elsewhere.
    pub async fn set_user_disabled(
        &self,
        actor: &Caller,
        user: UserId,
        disabled: bool,
    ) -> Result<User, GateError> {
        Self::require_admin(actor)?;
        if disabled && user == actor.user_id {
            // The account would be locked out by its own hand, possibly the last
            // administrator with it.
            return Err(GateError::Conflict {
                what: "an administrator cannot disable their own account; another \
                       administrator has to"
                    .to_owned(),
            });
        }
        let u = self.inner.store.set_user_disabled(user, disabled).await?;
        self.inner.cache.invalidate_user(user);
        Ok(u)
    }

    // ---- agents -------------------------------------------------------------------------

    /// Registers an agent. The maturity is parsed case-insensitively and stored lowercase;
    /// the connection defaults to the owner's first connection and must belong to the owner.
    pub async fn create_agent(
        &self,
        actor: &Caller,
        spec: NewAgentSpec,
    ) -> Result<Agent, GateError> {
        let owner = Self::acting_owner(actor, spec.owner)?;
        let maturity = parse_maturity(&spec.maturity)?;
        let connection = match spec.connection {
            Some(c) => Some(self.owned_connection(owner, c).await?.id),
            None => self.default_connection(owner).await?,
        };
        let mut new = NewAgent::new(owner, spec.name, maturity.as_str());
        if let Some(c) = connection {
            new = new.connection(c);
        }
        Ok(self.inner.store.create_agent(new).await?)
    }

    /// An agent the actor may see.
    pub async fn get_agent(&self, actor: &Caller, id: AgentId) -> Result<Agent, GateError> {
        Self::require_user(actor)?;
        let agent = self.inner.store.get_agent(id).await?;
        if actor.is_admin() || agent.owner_id == actor.user_id {
            Ok(agent)
        } else {
            Err(GateError::NotFound { what: "agent" })
        }
    }

    /// The actor's agents (an admin: everyone's).
    pub async fn list_agents(&self, actor: &Caller) -> Result<Vec<Agent>, GateError> {
        Self::require_user(actor)?;
        let owner = (!actor.is_admin()).then_some(actor.user_id);
        Ok(self.inner.store.list_agents(owner).await?)
    }

    async fn update_agent(
        &self,
        actor: &Caller,
        id: AgentId,
        update: AgentUpdate,
    ) -> Result<Agent, GateError> {
        self.get_agent(actor, id).await?;
        let agent = self.inner.store.update_agent(id, update).await?;
        self.inner.cache.invalidate_agent(id);
        tracing::info!(agent_id = %id, version = agent.version, "agent changed");
        Ok(agent)
    }

    /// Promotes or demotes an agent; takes effect on the very next call in this process.
    pub async fn set_agent_maturity(
        &self,
        actor: &Caller,
        id: AgentId,
        maturity: &str,
    ) -> Result<Agent, GateError> {
        let m = parse_maturity(maturity)?;
        self.update_agent(actor, id, AgentUpdate::new().maturity(m.as_str()))
            .await
    }

    /// Binds an agent to one of its owner's connections (or unbinds it).
    pub async fn set_agent_connection(
        &self,
        actor: &Caller,
        id: AgentId,
        connection: Option<ConnectionId>,
    ) -> Result<Agent, GateError> {
        let agent = self.get_agent(actor, id).await?;
        if let Some(c) = connection {
            self.owned_connection(agent.owner_id, c).await?;
        }
        self.update_agent(actor, id, AgentUpdate::new().connection(connection))
            .await
    }

    /// Disables an agent: every later call is denied (and audited).
    pub async fn disable_agent(&self, actor: &Caller, id: AgentId) -> Result<Agent, GateError> {
        self.update_agent(actor, id, AgentUpdate::new().disabled(true))
            .await
    }

    /// Enables a disabled agent.
    pub async fn enable_agent(&self, actor: &Caller, id: AgentId) -> Result<Agent, GateError> {
        self.update_agent(actor, id, AgentUpdate::new().disabled(false))
            .await
    }

    // ---- keys ---------------------------------------------------------------------------

    /// Issues a user's own key (`ngu_…`): for the actor, or by an admin for anyone.
    pub async fn issue_user_key(
        &self,
        actor: &Caller,
        user: UserId,
        label: Option<&str>,
    ) -> Result<CreatedApiKey, GateError> {
        let user = Self::acting_owner(actor, Some(user))?;
        let mut new = NewApiKey::for_user(user);
        if let Some(l) = label {
            new = new.label(l);
        }
        Ok(self.inner.store.create_api_key(new).await?)
    }

    /// Issues an agent key (`nga_…`) for an agent the actor may manage.
    pub async fn issue_agent_key(
        &self,
        actor: &Caller,
        agent: AgentId,
        label: Option<&str>,
    ) -> Result<CreatedApiKey, GateError> {
        self.get_agent(actor, agent).await?;
        let mut new = NewApiKey::for_agent(agent);
        if let Some(l) = label {
            new = new.label(l);
        }
        Ok(self.inner.store.create_api_key(new).await?)
    }

    /// Keys of a user (theirs and their agents'), for that user or an admin.
    pub async fn list_keys(&self, actor: &Caller, user: UserId) -> Result<Vec<ApiKey>, GateError> {
        let user = Self::acting_owner(actor, Some(user))?;
        Ok(self.inner.store.list_api_keys(user).await?)
    }

    /// Revokes a key: rejected at once here, within the TTL elsewhere.
    pub async fn revoke_key(&self, actor: &Caller, id: ApiKeyId) -> Result<ApiKey, GateError> {
        Self::require_user(actor)?;
        if !actor.is_admin() {
            let own = self.inner.store.list_api_keys(actor.user_id).await?;
            if !own.iter().any(|k| k.id == id) {
                return Err(GateError::NotFound { what: "api key" });
            }
        }
        let key = self.inner.store.revoke_api_key(id).await?;
        self.inner.cache.invalidate_key(id);
        tracing::info!(key = %key.public_id, "api key revoked");
        Ok(key)
    }

    // ---- connections --------------------------------------------------------------------

    async fn owned_connection(
        &self,
        owner: UserId,
        id: ConnectionId,
    ) -> Result<Connection, GateError> {
        match self.inner.store.get_connection(id).await {
            Ok(c) if c.owner_id == owner => Ok(c),
            Ok(_) => Err(GateError::NotFound { what: "connection" }),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds an internal-integration (token) connection after checking the token with
    /// `GET /v1/users/me`; stores the workspace name and id and the bot id. Refused in
    /// local-only mode (it is a call to Notion).
    pub async fn add_token_connection(
        &self,
        actor: &Caller,
        owner: Option<UserId>,
        token: SecretString,
    ) -> Result<Connection, GateError> {
        let owner = Self::acting_owner(actor, owner)?;
        self.inner.outbound_allowed()?;
        let conn = self.inner.notion.connection(token.clone());
        let resp = conn
            .execute(RawRequest::new(
                Method::GET,
                "/v1/users/me",
                Idempotency::Safe,
            ))
            .await
            .map_err(|e| GateError::from_client(&e))?;
        if resp.status == 401 {
            return Err(GateError::invalid("token", "Notion refused the token"));
        }
        if !(200..300).contains(&resp.status) {
            let raw = crate::request::GateResponse::from_raw(&resp, String::new());
            return Err(raw.error_for_status().err().unwrap_or(GateError::Upstream {
                status: Some(resp.status),
                code: None,
                message: String::new(),
                request_id: None,
                write_state: notion_client::WriteState::NotApplied,
            }));
        }
        let me: Value = serde_json::from_slice(&resp.body)
            .map_err(|_| GateError::invalid("token", "users/me did not answer JSON"))?;
        let bot_id = me
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GateError::invalid("token", "users/me has no bot id"))?
            .to_owned();
        let bot = me.get("bot");
        let workspace_name = bot
            .and_then(|b| b.get("workspace_name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let workspace_id = bot
            .and_then(|b| b.get("workspace_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("bot:{bot_id}"));
        let new = NewConnection::new(owner, ConnectionKind::Token, workspace_id, bot_id, token)
            .workspace(workspace_name, None);
        let c = self
            .inner
            .store
            .upsert_connection(&self.inner.vault, new)
            .await?;
        // The owner's default connection, and this connection's tokens, may have changed.
        self.inner.cache.invalidate_user(owner);
        self.inner.registry.mark_stale(c.id);
        tracing::info!(connection_id = %c.id, "token connection added");
        Ok(c)
    }

    /// The actor's connections (an admin: everyone's).
    pub async fn list_connections(&self, actor: &Caller) -> Result<Vec<Connection>, GateError> {
        Self::require_user(actor)?;
        let owner = (!actor.is_admin()).then_some(actor.user_id);
        Ok(self.inner.store.list_connections(owner).await?)
    }

    /// A connection the actor may see.
    pub async fn get_connection(
        &self,
        actor: &Caller,
        id: ConnectionId,
    ) -> Result<Connection, GateError> {
        Self::require_user(actor)?;
        let c = self.inner.store.get_connection(id).await?;
        if actor.is_admin() || c.owner_id == actor.user_id {
            Ok(c)
        } else {
            Err(GateError::NotFound { what: "connection" })
        }
    }

    /// Marks a connection disconnected (or reconnected); calls through it stop at once here.
    pub async fn set_connection_revoked(
        &self,
        actor: &Caller,
        id: ConnectionId,
        revoked: bool,
    ) -> Result<Connection, GateError> {
        let c = self.get_connection(actor, id).await?;
        let c2 = self
            .inner
            .store
            .set_connection_revoked(c.id, revoked)
            .await?;
        self.inner.registry.mark_stale(id);
        self.inner.cache.invalidate_user(c.owner_id);
        Ok(c2)
    }

    // ---- audit --------------------------------------------------------------------------

    /// How many audit events match a query, with the scoping of [`Gate::query_audit`].
    pub async fn count_audit(&self, actor: &Caller, query: AuditQuery) -> Result<u64, GateError> {
        Self::require_user(actor)?;
        let query = if actor.is_admin() {
            query
        } else {
            query.user(actor.user_id)
        };
        Ok(self.inner.store.count_audit(&query).await?)
    }

    /// One page of the audit trail: a user's own calls and their agents' (any filter they
    /// pass on `user_id` is replaced by their own id), or anything for an admin.
    pub async fn query_audit(
        &self,
        actor: &Caller,
        query: AuditQuery,
    ) -> Result<AuditPage, GateError> {
        Self::require_user(actor)?;
        let query = if actor.is_admin() {
            query
        } else {
            query.user(actor.user_id)
        };
        // Every call answered so far is in the table (SQLite imports them from its spool).
        self.inner.audit.settle().await;
        Ok(self.inner.store.query_audit(&query).await?)
    }
}
