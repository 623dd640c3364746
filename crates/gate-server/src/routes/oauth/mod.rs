//! Connecting a workspace with Notion's OAuth: `GET /api/v1/notion/oauth/authorize` (a
//! user's key; answers the authorization URL, or redirects to it with `?redirect=true`) and
//! `GET /api/v1/notion/oauth/callback` (Notion's redirect; authenticated by its single-use
//! `state`, never by a header).
//!
//! The callback answers a small HTML page to a browser and JSON to a client that asks for
//! `application/json`. A forged, expired, reused or missing state is a 400 before anything
//! else happens; `error=access_denied` records nothing and says the connection was
//! cancelled. If the callback also carries a key, it must be the key of the user who started
//! the flow.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use gate_core::OAuthCompletion;
use gate_store::ConnectionId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agents::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Query of the authorize route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// Answer `302 Found` to the authorization URL instead of JSON.
    #[serde(default)]
    pub redirect: bool,
}

/// Where to send the browser to connect a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeAnswer {
    /// Notion's consent page; its single-use `state` is valid until `expires_at`.
    pub authorization_url: String,
    /// When the link stops working (RFC 3339; at most 10 minutes).
    pub expires_at: String,
}

/// Query of the callback, as Notion sends it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code (absent when the user declined).
    pub code: Option<String>,
    /// The state issued by the authorize route.
    pub state: Option<String>,
    /// Notion's error (`access_denied` when the user declined).
    pub error: Option<String>,
}

/// The JSON answer of the callback.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAnswer {
    /// `connected` or `cancelled`.
    #[schema(example = "connected")]
    pub status: String,
    /// The connection (when connected).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub connection_id: Option<ConnectionId>,
    /// Notion workspace id (when connected).
    pub workspace_id: Option<String>,
    /// Workspace name (when connected).
    pub workspace_name: Option<String>,
    /// Notion's error (when cancelled).
    pub error: Option<String>,
}

/// Starts connecting a Notion workspace: the authorization URL with a single-use state.
#[utoipa::path(get, path = "/api/v1/notion/oauth/authorize", tag = "connections",
    security(("bearer" = [])), params(AuthorizeQuery),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The authorization URL", body = AuthorizeAnswer),
              (status = 302, description = "Redirect to Notion (with `?redirect=true`)"),
              (status = 403, description = "Agents cannot connect workspaces; or local-only mode"),
              (status = 503, description = "OAuth is not configured on this gateway")))]
pub async fn authorize(
    State(state): State<AppState>,
    Authed(caller): Authed,
    query: Result<Query<AuthorizeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::invalid_field("redirect", "expected `redirect=true` or `redirect=false`")
    })?;
    let start = state
        .gate
        .start_oauth(&caller, &state.settings.redirect_uri())
        .await?;
    if q.redirect {
        let mut resp = StatusCode::FOUND.into_response();
        let location = header::HeaderValue::from_str(&start.authorization_url)
            .map_err(|e| ApiError::internal(&e))?;
        resp.headers_mut().insert(header::LOCATION, location);
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        return Ok(resp);
    }
    Ok(Json(AuthorizeAnswer {
        authorization_url: start.authorization_url,
        expires_at: rfc3339(start.expires_at),
    })
    .into_response())
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"))
}

/// The bearer key of the callback request, if a client sent one.
fn bearer_of(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t} · notion-gate</title></head>\n<body style=\"font-family: system-ui, sans-serif; \
         max-width: 36rem; margin: 4rem auto; padding: 0 1rem\">\n<h1>{t}</h1>\n<p>{m}</p>\n\
         <p><a href=\"/console/connections\">Back to the console</a>, or close this window.</p>\n</body></html>\n",
        t = escape_html(title),
        m = escape_html(message),
    );
    let mut resp = (status, Html(body)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// Notion's redirect after consent (or refusal). Authenticated by the single-use `state`.
#[utoipa::path(get, path = "/api/v1/notion/oauth/callback", tag = "connections",
    params(CallbackQuery),
    responses((status = 200, description = "Connected or cancelled: an HTML page, or JSON for `Accept: application/json`", body = CallbackAnswer),
              (status = 400, description = "Missing, unknown, expired or reused state; or Notion refused the code"),
              (status = 403, description = "Local-only mode"),
              (status = 503, description = "OAuth is not configured on this gateway")))]
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let json = wants_json(&headers);
    let q = query.map(|Query(q)| q).unwrap_or_default();
    // Identity comes from the state; a key, if the client sent one, must agree with it.
    let expected_user = match bearer_of(&headers) {
        Some(key) => state.gate.authenticate(key).await.ok().map(|c| c.user_id),
        None => None,
    };
    let outcome = state
        .gate
        .complete_oauth(
            q.state.as_deref(),
            q.code.as_deref(),
            q.error.as_deref(),
            &state.settings.redirect_uri(),
            expected_user,
        )
        .await;
    match (outcome, json) {
        (Ok(OAuthCompletion::Connected(c)), true) => Json(CallbackAnswer {
            status: "connected".to_owned(),
            connection_id: Some(c.id),
            workspace_id: Some(c.bot.workspace_id),
            workspace_name: c.bot.workspace_name,
            error: None,
        })
        .into_response(),
        (Ok(OAuthCompletion::Connected(c)), false) => page(
            StatusCode::OK,
            "Notion connected",
            &format!(
                "The workspace {} is connected to notion-gate. Your agents can use it now.",
                c.bot.workspace_name.as_deref().unwrap_or("(unnamed)")
            ),
        ),
        (Ok(OAuthCompletion::Cancelled { error }), true) => Json(CallbackAnswer {
            status: "cancelled".to_owned(),
            connection_id: None,
            workspace_id: None,
            workspace_name: None,
            error: Some(error),
        })
        .into_response(),
        (Ok(OAuthCompletion::Cancelled { error }), false) => page(
            StatusCode::OK,
            "Connection cancelled",
            &if error == "access_denied" {
                "You declined at Notion, so nothing was connected.".to_owned()
            } else {
                format!("Notion did not authorize the connection ({error}); nothing was connected.")
            },
        ),
        (Ok(_), _) => {
            ApiError::new(ErrorCode::Internal, "unexpected OAuth outcome").into_response()
        }
        (Err(e), true) => ApiError::from(e).into_response(),
        (Err(e), false) => {
            let err = ApiError::from(e);
            page(err.code.status(), "Could not connect Notion", &err.message)
        }
    }
}

/// The OAuth routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(OAuthApi::openapi())
        .routes(routes!(authorize))
        .routes(routes!(callback))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(AuthorizeAnswer, CallbackAnswer)))]
pub struct OAuthApi;

#[cfg(test)]
mod tests;
