//! Users (administrators only): `POST/GET /api/v1/users`, `PATCH /api/v1/users/{id}`; and
//! `GET /api/v1/me`, which any caller may ask ("who am I").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gate_core::CallerKind;
use gate_store::{AgentId, ConnectionId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agents::{IssuedKey, path_id, rfc3339};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The answers every administrators-only route has: 401 and 403.
pub struct AdminOnly;

impl IntoResponses for AdminOnly {
    fn responses() -> std::collections::BTreeMap<String, RefOr<Response>> {
        ResponsesBuilder::new()
            .response(
                "401",
                ResponseBuilder::new().description("Missing, unknown or revoked key"),
            )
            .response(
                "403",
                ResponseBuilder::new().description("Administrators only"),
            )
            .build()
            .into()
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    /// Unique login name.
    pub name: String,
    /// Administrators manage users and see everything.
    pub admin: bool,
    /// A disabled user's keys (and their agents' keys) stop working.
    pub disabled: bool,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            admin: u.is_admin,
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique login name.
    pub name: String,
    /// Make the user an administrator (default false).
    #[serde(default)]
    pub admin: bool,
}

/// A user just created, with their key (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    /// The user.
    pub user: UserView,
    /// Their key; shown once.
    pub key: IssuedKey,
}

/// `PATCH /users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    /// Disable (their keys and their agents' keys stop working at once) or enable.
    pub disabled: Option<bool>,
}

/// A list of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The users, by name.
    pub results: Vec<UserView>,
    /// Always `null`: the whole list is returned.
    pub next_cursor: Option<String>,
    /// Always `false`.
    pub has_more: bool,
}

/// The caller's connection, briefly.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionBrief {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ConnectionId,
    /// Workspace name.
    pub workspace_name: Option<String>,
    /// `oauth` or `token`.
    pub kind: String,
    /// Whether calls can use it now (not revoked, no reconnect needed).
    pub usable: bool,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `user` or `agent`.
    #[schema(example = "agent")]
    pub kind: String,
    /// The user (an agent: its owner).
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// The agent, for an agent key.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_id: Option<AgentId>,
    /// The user's or the agent's name.
    pub name: String,
    /// Whether the caller is an administrator.
    pub admin: bool,
    /// The agent's maturity.
    pub maturity: Option<String>,
    /// Whether the agent is disabled.
    pub disabled: bool,
    /// The connection the caller's Notion calls go through.
    pub connection: Option<ConnectionBrief>,
}

/// Creates a user and their first key (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUser,
    responses(AdminOnly, (status = 201, description = "The user and their key (shown once)", body = UserCreated), (status = 400, description = "Invalid name or body"), (status = 409, description = "The name is taken")))]
pub async fn create_user(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let user = state
        .gate
        .create_user(&caller, &body.name, body.admin)
        .await?;
    let key = state
        .gate
        .issue_user_key(&caller, user.id, Some("initial"))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: user.into(),
            key: key.into(),
        }),
    ))
}

/// Every user (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses(AdminOnly, (status = 200, description = "The users", body = UserList)))]
pub async fn list_users(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<UserList>, ApiError> {
    let users = state.gate.list_users(&caller).await?;
    Ok(Json(UserList {
        results: users.into_iter().map(UserView::from).collect(),
        next_cursor: None,
        has_more: false,
    }))
}

/// Disables or enables a user (admins only; not one's own account).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id", format = Uuid)),
    request_body = PatchUser,
    responses(AdminOnly, (status = 200, description = "The user as changed", body = UserView), (status = 404, description = "No such user"), (status = 409, description = "An administrator disabling their own account")))]
pub async fn patch_user(
    Path(id): Path<String>,
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<PatchUser>,
) -> Result<Json<UserView>, ApiError> {
    // The admin check comes first, so a non-admin learns nothing about ids.
    let users = state.gate.list_users(&caller).await?;
    let id: UserId = path_id(&id, "user")?;
    let user = match body.disabled {
        Some(d) => state.gate.set_user_disabled(&caller, id, d).await?,
        None => users
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| ApiError::not_found("user"))?,
    };
    Ok(Json(user.into()))
}

/// Who the caller is: kind, name, maturity (agents) and connection.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me),
              (status = 401, description = "Missing or unknown key")))]
pub async fn me(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<Me>, ApiError> {
    let connection = match caller.connection_id {
        // The caller's own bound connection: no ownership question to ask.
        Some(id) => match state.gate.store().get_connection(id).await {
            Ok(c) => Some(ConnectionBrief {
                id: c.id,
                workspace_name: c.bot.workspace_name,
                kind: c.kind.to_string(),
                usable: !c.revoked && !c.needs_reauth,
            }),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(gate_core::GateError::from(e).into()),
        },
        None => None,
    };
    Ok(Json(Me {
        kind: match caller.kind {
            CallerKind::Agent => "agent",
            _ => "user",
        }
        .to_owned(),
        user_id: caller.user_id,
        agent_id: caller.agent_id,
        name: caller.name.clone(),
        admin: caller.is_admin(),
        maturity: caller.maturity.map(|m| m.to_string()),
        disabled: caller.disabled,
        connection,
    }))
}

/// The user routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(UsersApi::openapi())
        .routes(routes!(create_user, list_users))
        .routes(routes!(patch_user))
        .routes(routes!(me))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(
    UserView,
    CreateUser,
    UserCreated,
    PatchUser,
    UserList,
    Me,
    ConnectionBrief
)))]
pub struct UsersApi;

#[cfg(test)]
mod tests;
