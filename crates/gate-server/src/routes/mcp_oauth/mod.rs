//! MCP clients by OAuth: the authorization server that lets a remote MCP client reach `/mcp`
//! without a pasted key (the MCP authorization spec's conventions).
//!
//! - `GET /.well-known/oauth-protected-resource[/mcp]`: protected-resource metadata (RFC 9728);
//!   `/mcp`'s 401 points at it (`WWW-Authenticate: Bearer resource_metadata="…"`).
//! - `GET /.well-known/oauth-authorization-server`: authorization-server metadata (RFC 8414).
//! - `POST /oauth/register`: dynamic client registration (RFC 7591), public clients only.
//! - `GET /oauth/authorize`: checks the request and sends the browser to the console's consent
//!   page ([`MCP_CONSENT_PATH`]), where the signed-in user picks the connection and the
//!   maturity; a bad client or redirect URI is shown, never redirected to.
//! - `POST /oauth/token`: the authorization-code grant with PKCE (S256); the access token is
//!   a new agent's key.
//! - `POST /oauth/revoke`: token revocation (RFC 7009); always 200.
//!
//! These endpoints answer errors in OAuth's format (`{"error", "error_description"}`), not
//! the gateway's envelope, because OAuth clients read that. The logic is in `gate-core`
//! (`mcp_oauth.rs`); this module is the HTTP shape.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gate_core::{
    AuthorizeParams, ClientRegistration, GateError, MCP_CONSENT_PATH, TokenParams, mcp_resource_url,
};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::AppState;

/// Protected-resource metadata of `/mcp` (RFC 9728 §3.1: the well-known prefix before the
/// resource's path).
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
/// Protected-resource metadata at the root (clients that do not insert the path).
pub const RESOURCE_METADATA_ROOT: &str = "/.well-known/oauth-protected-resource";
/// Authorization-server metadata (RFC 8414).
pub const AS_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// Dynamic client registration.
pub const REGISTER_PATH: &str = "/oauth/register";
/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The revocation endpoint.
pub const REVOKE_PATH: &str = "/oauth/revoke";

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(RESOURCE_METADATA_ROOT, get(resource_metadata))
        .route(RESOURCE_METADATA_PATH, get(resource_metadata))
        .route(AS_METADATA_PATH, get(server_metadata))
        .route(REGISTER_PATH, post(register))
        .route(AUTHORIZE_PATH, get(authorize))
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
}

/// The `WWW-Authenticate` value of `/mcp`'s 401.
pub fn www_authenticate(public_url: &str) -> String {
    format!(
        "Bearer resource_metadata=\"{}{RESOURCE_METADATA_PATH}\"",
        public_url.trim_end_matches('/')
    )
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// An OAuth error answer: 400 (401 for `invalid_client`), `{"error", "error_description"}`.
fn oauth_error(e: &GateError) -> Response {
    let (status, error, description) = match e {
        GateError::OAuth {
            error, description, ..
        } => {
            let status = if *error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, *error, description.clone())
        }
        GateError::Conflict { what } => (StatusCode::BAD_REQUEST, "invalid_request", what.clone()),
        GateError::Invalid { field, message } => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{field}: {message}"),
        ),
        other => {
            tracing::error!("MCP OAuth endpoint failed: {other}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the gateway failed; try again".to_owned(),
            )
        }
    };
    no_store(
        (
            status,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response(),
    )
}

async fn resource_metadata(State(state): State<AppState>) -> Response {
    let public = &state.settings.public_url;
    axum::Json(json!({
        "resource": mcp_resource_url(public),
        "authorization_servers": [public],
        "bearer_methods_supported": ["header"],
        "resource_name": "notion-gate",
    }))
    .into_response()
}

async fn server_metadata(State(state): State<AppState>) -> Response {
    let p = &state.settings.public_url;
    axum::Json(json!({
        "issuer": p,
        "authorization_endpoint": format!("{p}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{p}{TOKEN_PATH}"),
        "registration_endpoint": format!("{p}{REGISTER_PATH}"),
        "revocation_endpoint": format!("{p}{REVOKE_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
    }))
    .into_response()
}

/// RFC 7591's request, the fields used (others are ignored, as the RFC allows).
#[derive(Debug, Deserialize)]
struct RegisterBody {
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
}

async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    let parsed: RegisterBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return oauth_error(&GateError::OAuth {
                error: "invalid_client_metadata",
                description: format!("the body is not the JSON of a client registration: {e}"),
                redirect_to: None,
            });
        }
    };
    let mut reg = ClientRegistration::default();
    reg.client_name = parsed.client_name;
    reg.redirect_uris = parsed.redirect_uris.unwrap_or_default();
    reg.token_endpoint_auth_method = parsed.token_endpoint_auth_method;
    reg.grant_types = parsed.grant_types;
    reg.response_types = parsed.response_types;
    match state.gate.register_mcp_client(reg).await {
        Ok(c) => no_store(
            (
                StatusCode::CREATED,
                axum::Json(json!({
                    "client_id": c.client_id,
                    "client_id_issued_at": c.created_at.unix_timestamp(),
                    "client_name": c.name,
                    "redirect_uris": c.redirect_uris,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "none",
                })),
            )
                .into_response(),
        ),
        Err(e) => oauth_error(&e),
    }
}

async fn authorize(
    State(state): State<AppState>,
    params: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return invalid_page("the query string is malformed");
    };
    match state
        .gate
        .check_mcp_authorize(&params, &state.settings.public_url)
        .await
    {
        // The parameters again, fully encoded (the consent page survives a sign-in detour).
        Ok(_) => {
            Redirect::to(&format!("{MCP_CONSENT_PATH}?{}", consent_query(&params))).into_response()
        }
        Err(GateError::OAuth {
            redirect_to: Some(to),
            ..
        }) => Redirect::to(&to).into_response(),
        Err(GateError::OAuth { description, .. }) => invalid_page(&description),
        Err(e) => oauth_error(&e),
    }
}

/// The authorization request's parameters as a query string.
fn consent_query(p: &AuthorizeParams) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("state", &p.state),
        ("scope", &p.scope),
        ("resource", &p.resource),
    ] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

/// A plain-text page for an authorization request that cannot be sent back to its client.
fn invalid_page(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("This authorization request is invalid: {why}.\n"),
    )
        .into_response()
}

/// A form-encoded body's fields (the last of a repeated name wins).
fn form(body: &[u8]) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Value::Object(map)
}

async fn token(State(state): State<AppState>, body: Bytes) -> Response {
    let params: TokenParams = match serde_json::from_value(form(&body)) {
        Ok(p) => p,
        Err(_) => {
            return oauth_error(&GateError::OAuth {
                error: "invalid_request",
                description: "the body must be application/x-www-form-urlencoded".to_owned(),
                redirect_to: None,
            });
        }
    };
    match state
        .gate
        .exchange_mcp_code(&params, &state.settings.public_url)
        .await
    {
        Ok(t) => no_store(
            axum::Json(json!({
                "access_token": t.access_token.expose_secret(),
                "token_type": "Bearer",
                "expires_in": t.expires_in,
            }))
            .into_response(),
        ),
        Err(e) => oauth_error(&e),
    }
}

#[derive(Debug, Deserialize)]
struct RevokeParams {
    token: Option<String>,
    client_id: Option<String>,
}

async fn revoke(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(RevokeParams { token, client_id }) = serde_json::from_value(form(&body)) else {
        return oauth_error(&GateError::OAuth {
            error: "invalid_request",
            description: "the body must be application/x-www-form-urlencoded".to_owned(),
            redirect_to: None,
        });
    };
    let Some(token) = token else {
        return oauth_error(&GateError::OAuth {
            error: "invalid_request",
            description: "token is missing".to_owned(),
            redirect_to: None,
        });
    };
    match state
        .gate
        .revoke_mcp_token(&token, client_id.as_deref())
        .await
    {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error(&e),
    }
}

#[cfg(test)]
mod tests;
