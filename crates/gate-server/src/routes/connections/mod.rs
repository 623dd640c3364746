//! Notion connections: `GET/POST /api/v1/connections`, `GET/DELETE /api/v1/connections/{id}`.
//!
//! A user sees their own connections (an admin everyone's with `?all=true`); someone else's
//! answers 404. Adding one from an internal integration token checks the token with Notion
//! (`users/me`) and never echoes it. Deleting an OAuth connection revokes its token at
//! Notion first. Tokens never appear in any answer.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gate_store::{Connection, ConnectionId, UserId};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agents::{path_id, rfc3339};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// A connected Notion workspace (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ConnectionId,
    /// The user who connected it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: UserId,
    /// `oauth` or `token`.
    #[schema(example = "oauth")]
    pub kind: String,
    /// Notion workspace id.
    pub workspace_id: String,
    /// Workspace name.
    pub workspace_name: Option<String>,
    /// Workspace icon (URL or emoji).
    pub workspace_icon: Option<String>,
    /// Notion bot id.
    pub bot_id: String,
    /// Who authorized it at Notion: `user` or `workspace`.
    pub authorized_by: Option<String>,
    /// Disconnected.
    pub revoked: bool,
    /// Notion refused the token: connect again.
    pub needs_reauth: bool,
    /// A disconnect could not revoke the token at Notion: the connection is kept, disabled
    /// here, until a disconnect succeeds (`DELETE` again retries).
    pub revocation_failed: bool,
    /// When the access token expires, if Notion said so (RFC 3339).
    pub token_expires_at: Option<String>,
    /// Connected (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            owner_id: c.owner_id,
            kind: c.kind.to_string(),
            workspace_id: c.bot.workspace_id,
            workspace_name: c.bot.workspace_name,
            workspace_icon: c.bot.workspace_icon,
            bot_id: c.bot.bot_id,
            authorized_by: c
                .bot
                .owner
                .as_ref()
                .and_then(|o| o.get("type"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            revoked: c.revoked,
            needs_reauth: c.needs_reauth,
            revocation_failed: c.revocation_failed,
            token_expires_at: c.token_expires_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// A list of connections.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionList {
    /// The connections, oldest first.
    pub results: Vec<ConnectionView>,
    /// Always `null`: the whole list is returned.
    pub next_cursor: Option<String>,
    /// Always `false`.
    pub has_more: bool,
}

/// Query of `GET /connections`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Admins: everyone's connections (default: only the caller's).
    #[serde(default)]
    pub all: bool,
}

/// `POST /connections`: an internal integration token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddConnection {
    /// The integration's token (`ntn_…` or `secret_…`). Stored encrypted; never answered.
    #[schema(value_type = String)]
    pub token: SecretString,
    /// A label for the caller's records. Connections are named after their Notion
    /// workspace; this is accepted for compatibility and not stored.
    pub name: Option<String>,
}

/// A connection just added.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionAdded {
    /// Its id.
    #[schema(value_type = String, format = Uuid)]
    pub connection_id: ConnectionId,
    /// The workspace Notion reported for the token.
    pub workspace_name: Option<String>,
    /// The whole connection.
    pub connection: ConnectionView,
}

/// The caller's connections (admins: everyone's with `?all=true`).
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The connections", body = ConnectionList),
              (status = 403, description = "Agents cannot manage connections")))]
pub async fn list_connections(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<ListQuery>,
) -> Result<Json<ConnectionList>, ApiError> {
    let all = q.all && caller.is_admin();
    let mut conns = state.gate.list_connections(&caller).await?;
    if !all {
        conns.retain(|c| c.owner_id == caller.user_id);
    }
    conns.sort_by_key(|c| (c.created_at, c.id));
    Ok(Json(ConnectionList {
        results: conns.into_iter().map(ConnectionView::from).collect(),
        next_cursor: None,
        has_more: false,
    }))
}

/// One connection.
#[utoipa::path(get, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The connection", body = ConnectionView),
              (status = 403, description = "Agents cannot manage connections"),
              (status = 404, description = "No such connection of yours")))]
pub async fn get_connection(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    let id: ConnectionId = path_id(&id, "connection")?;
    Ok(Json(state.gate.get_connection(&caller, id).await?.into()))
}

/// Adds a connection from an internal integration token, checked with Notion first.
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])),
    request_body = AddConnection,
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 201, description = "The connection (never the token)", body = ConnectionAdded),
              (status = 400, description = "Notion refused the token, or a bad body"),
              (status = 403, description = "Agents cannot manage connections; or local-only mode")))]
pub async fn add_connection(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<AddConnection>,
) -> Result<(StatusCode, Json<ConnectionAdded>), ApiError> {
    let token = body.token.expose_secret().trim();
    // Printable ASCII only: anything else cannot go into an Authorization header.
    if token.is_empty() || token.len() > 512 || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            "token",
            "expected a Notion integration token (`ntn_…` or `secret_…`)",
        ));
    }
    let token = SecretString::from(token.to_owned());
    let c = state
        .gate
        .add_token_connection(&caller, None, token)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectionAdded {
            connection_id: c.id,
            workspace_name: c.bot.workspace_name.clone(),
            connection: c.into(),
        }),
    ))
}

/// Disconnects: revokes an OAuth token at Notion, then deletes the connection (agents using
/// it are unbound). A token connection is just deleted.
#[utoipa::path(delete, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "Connection id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 204, description = "Disconnected"),
              (status = 403, description = "Agents cannot manage connections"),
              (status = 404, description = "No such connection of yours"),
              (status = 502, description = "`revocation_failed`: Notion could not revoke the token (client credentials refused, Notion unreachable or failing); the connection is kept, disabled and flagged `revocation_failed`; `DELETE` again retries")))]
pub async fn delete_connection(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ConnectionId = path_id(&id, "connection")?;
    state.gate.disconnect(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The connection routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ConnectionsApi::openapi())
        .routes(routes!(list_connections, add_connection))
        .routes(routes!(get_connection, delete_connection))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(ConnectionView, ConnectionList, AddConnection, ConnectionAdded)))]
pub struct ConnectionsApi;

#[cfg(test)]
mod tests;
