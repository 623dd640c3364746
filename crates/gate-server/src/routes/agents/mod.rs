//! Agents and gateway keys: `POST/GET /api/v1/agents`, `GET/PATCH /api/v1/agents/{id}`,
//! `POST /api/v1/agents/{id}/keys`, `GET /api/v1/keys` and `DELETE /api/v1/keys/{id}`.
//!
//! A user manages their own agents, an admin everyone's, an agent nothing (403 `forbidden`).
//! Someone else's agent or key answers 404, exactly like a missing one. A key is shown once,
//! in the answer that creates it, and never again. Also home of the small helpers the other
//! administration routes share (path ids, time fields, issued keys).

use std::str::FromStr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gate_core::NewAgentSpec;
use gate_store::{
    Agent, AgentId, ApiKey, ApiKeyId, ApiKeyKind, ConnectionId, CreatedApiKey, UserId,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

// ---- helpers shared by the administration routes ------------------------------------------

/// Parses an id from a path. A malformed id answers 404 like an unknown one, so ids are no
/// oracle and no input reaches the store unparsed.
pub(crate) fn path_id<T: FromStr>(raw: &str, what: &'static str) -> Result<T, ApiError> {
    raw.parse::<T>().map_err(|_| ApiError::not_found(what))
}

/// RFC 3339 text of a time (empty if it cannot be formatted, which cannot happen for UTC).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Deserialises a field that distinguishes "absent" (`None`) from `null` (`Some(None)`).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A key just issued: the only answer that ever contains it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    /// The key's id (for listing and revoking).
    #[schema(value_type = String, format = Uuid)]
    pub id: ApiKeyId,
    /// The full key: `ngu_…` (user) or `nga_…` (agent). Shown once; store it now.
    pub key: String,
    /// Its public, non-secret start, shown in listings.
    pub public_id: String,
    /// `user` or `agent`.
    #[schema(value_type = String, example = "agent")]
    pub kind: ApiKeyKind,
    /// The label, if any.
    pub label: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

impl From<CreatedApiKey> for IssuedKey {
    fn from(k: CreatedApiKey) -> Self {
        Self {
            id: k.info.id,
            key: k.key.expose_secret().to_owned(),
            public_id: k.info.public_id,
            kind: k.info.kind,
            label: k.info.label,
            created_at: rfc3339(k.info.created_at),
        }
    }
}

/// A key's metadata (never the key).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ApiKeyId,
    /// `user` or `agent`.
    #[schema(value_type = String, example = "agent")]
    pub kind: ApiKeyKind,
    /// The user it belongs to (an agent key: the agent's owner).
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// The agent, for an agent key.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_id: Option<AgentId>,
    /// Public, non-secret start of the key.
    pub public_id: String,
    /// Label.
    pub label: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last use, best effort (RFC 3339).
    pub last_used_at: Option<String>,
    /// When it was revoked (RFC 3339); a revoked key never authenticates.
    pub revoked_at: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            kind: k.kind,
            user_id: k.user_id,
            agent_id: k.agent_id,
            public_id: k.public_id,
            label: k.label,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
        }
    }
}

// ---- agents -------------------------------------------------------------------------------

/// An agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: AgentId,
    /// The user who owns it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: UserId,
    /// Name (unique per owner).
    pub name: String,
    /// `student`, `intern`, `supervised` or `autonomous`.
    pub maturity: String,
    /// The connection its calls go through.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub connection_id: Option<ConnectionId>,
    /// A disabled agent is denied everything.
    pub disabled: bool,
    /// Bumped on every change.
    pub version: i64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id,
            owner_id: a.owner_id,
            name: a.name,
            maturity: a.maturity,
            connection_id: a.connection_id,
            disabled: a.disabled,
            version: a.version,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

/// `POST /agents`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    /// Name, unique per owner.
    pub name: String,
    /// Maturity, any case: `student`, `intern`, `supervised`, `autonomous`.
    #[schema(example = "intern")]
    pub maturity: String,
    /// The connection to use (default: the owner's first connection). Must be the owner's.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub connection_id: Option<ConnectionId>,
    /// The owner (admins only; default: the caller).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<UserId>,
}

/// An agent just registered, with its first key (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentCreated {
    /// The agent.
    pub agent: AgentView,
    /// Its key; shown once.
    pub key: IssuedKey,
}

/// `PATCH /agents/{id}`: every field optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAgent {
    /// New maturity (any case); takes effect on the agent's next call.
    pub maturity: Option<String>,
    /// New connection, or `null` to unbind.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid, nullable)]
    pub connection_id: Option<Option<ConnectionId>>,
    /// Disable (every later call is denied) or enable.
    pub disabled: Option<bool>,
}

/// `POST /agents/{id}/keys`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A free label.
    pub label: Option<String>,
}

/// A list of agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    /// The agents.
    pub results: Vec<AgentView>,
    /// Always `null`: the whole list is returned.
    pub next_cursor: Option<String>,
    /// Always `false`.
    pub has_more: bool,
}

/// A list of keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// The keys (metadata only), newest first.
    pub results: Vec<KeyView>,
    /// Always `null`: the whole list is returned.
    pub next_cursor: Option<String>,
    /// Always `false`.
    pub has_more: bool,
}

/// Query of `GET /keys`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeysQuery {
    /// Whose keys (admins only; default: the caller's).
    pub user_id: Option<String>,
}

/// Registers an agent and issues its first key (shown once).
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])),
    request_body = CreateAgent,
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),
        (status = 201, description = "The agent and its key (shown once)", body = AgentCreated),
        (status = 400, description = "Invalid name, maturity or body"),
        (status = 403, description = "Agents cannot manage agents"),
        (status = 404, description = "The connection or owner is not yours"),
        (status = 409, description = "The name is taken")))]
pub async fn create_agent(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CreateAgent>,
) -> Result<(StatusCode, Json<AgentCreated>), ApiError> {
    let mut spec = NewAgentSpec::new(body.name, body.maturity);
    if let Some(owner) = body.owner_id {
        spec = spec.owner(owner);
    }
    if let Some(c) = body.connection_id {
        spec = spec.connection(c);
    }
    let agent = state.gate.create_agent(&caller, spec).await?;
    let key = state
        .gate
        .issue_agent_key(&caller, agent.id, Some("initial"))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AgentCreated {
            agent: agent.into(),
            key: key.into(),
        }),
    ))
}

/// The caller's agents (an admin: everyone's).
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The agents", body = AgentList),
              (status = 403, description = "Agents cannot list agents")))]
pub async fn list_agents(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<AgentList>, ApiError> {
    let agents = state.gate.list_agents(&caller).await?;
    Ok(Json(AgentList {
        results: agents.into_iter().map(AgentView::from).collect(),
        next_cursor: None,
        has_more: false,
    }))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The agent", body = AgentView),
              (status = 403, description = "Agents cannot manage agents"),
              (status = 404, description = "No such agent of yours")))]
pub async fn get_agent(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    let id: AgentId = path_id(&id, "agent")?;
    Ok(Json(state.gate.get_agent(&caller, id).await?.into()))
}

/// Changes an agent's maturity, connection or disabled flag; effective on its next call.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id", format = Uuid)),
    request_body = PatchAgent,
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The agent as changed", body = AgentView),
              (status = 400, description = "Invalid maturity or body"),
              (status = 403, description = "Agents cannot manage agents"),
              (status = 404, description = "No such agent (or connection) of yours")))]
pub async fn patch_agent(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchAgent>,
) -> Result<Json<AgentView>, ApiError> {
    let id: AgentId = path_id(&id, "agent")?;
    let gate = &state.gate;
    let mut agent = gate.get_agent(&caller, id).await?;
    if let Some(m) = body.maturity.as_deref() {
        agent = gate.set_agent_maturity(&caller, id, m).await?;
    }
    if let Some(c) = body.connection_id {
        agent = gate.set_agent_connection(&caller, id, c).await?;
    }
    match body.disabled {
        Some(true) => agent = gate.disable_agent(&caller, id).await?,
        Some(false) => agent = gate.enable_agent(&caller, id).await?,
        None => {}
    }
    Ok(Json(agent.into()))
}

/// Issues another key for an agent (shown once).
#[utoipa::path(post, path = "/api/v1/agents/{id}/keys", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id", format = Uuid)),
    request_body(content = Option<NewKey>, description = "Optional label"),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 201, description = "The key (shown once)", body = IssuedKey),
              (status = 403, description = "Agents cannot manage agents"),
              (status = 404, description = "No such agent of yours")))]
pub async fn issue_agent_key(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<IssuedKey>), ApiError> {
    let id: AgentId = path_id(&id, "agent")?;
    let body: NewKey = if body.iter().all(u8::is_ascii_whitespace) {
        NewKey::default()
    } else {
        crate::extract::parse(&body)?
    };
    let key = state
        .gate
        .issue_agent_key(&caller, id, body.label.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// Keys of the caller (their own and their agents'); admins may name a user.
#[utoipa::path(get, path = "/api/v1/keys", tag = "agents", security(("bearer" = [])),
    params(KeysQuery),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Key metadata (never the keys)", body = KeyList),
              (status = 403, description = "Agents cannot list keys"),
              (status = 404, description = "No such user")))]
pub async fn list_keys(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<KeysQuery>,
) -> Result<Json<KeyList>, ApiError> {
    let user = match q.user_id.as_deref() {
        Some(u) => path_id::<UserId>(u, "user")?,
        None => caller.user_id,
    };
    let keys = state.gate.list_keys(&caller, user).await?;
    Ok(Json(KeyList {
        results: keys.into_iter().map(KeyView::from).collect(),
        next_cursor: None,
        has_more: false,
    }))
}

/// Revokes a key: it is refused from the next request on.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Key id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The revoked key", body = KeyView),
              (status = 403, description = "Agents cannot revoke keys"),
              (status = 404, description = "No such key of yours")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    let id: ApiKeyId = path_id(&id, "api key")?;
    Ok(Json(state.gate.revoke_key(&caller, id).await?.into()))
}

/// The agent and key routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AgentsApi::openapi())
        .routes(routes!(create_agent, list_agents))
        .routes(routes!(get_agent, patch_agent))
        .routes(routes!(issue_agent_key))
        .routes(routes!(list_keys))
        .routes(routes!(revoke_key))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(
    AgentView,
    AgentCreated,
    CreateAgent,
    PatchAgent,
    NewKey,
    IssuedKey,
    KeyView,
    AgentList,
    KeyList
)))]
pub struct AgentsApi;

#[cfg(test)]
mod tests;
