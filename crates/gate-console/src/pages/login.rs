//! Sign-in (`GET`/`POST /console/login`) and sign-out (`POST /console/logout`).
//!
//! A failed sign-in answers 401, so it counts toward the gateway's per-address limit on
//! failed authentications like any bad key; agent keys are refused the same way.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::{ClientInfo, GateError};
use maud::{Markup, html};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::Empty;
use crate::error::{ConsoleError, safe_next};
use crate::session::{self, CsrfForm};
use crate::{ConsoleState, layout, ui};

/// `?next=…&done=…`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    key: String,
    next: Option<String>,
}

fn render(next: Option<&str>, error: Option<&str>, done: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            main class="card narrow" {
                h1 { "Sign in" }
                (ui::notice(done))
                @if let Some(e) = error {
                    p class="error" role="alert" id="login-error" { (e) }
                }
                form method="post" action="/console/login" {
                    div class="field" {
                        label for="key" { "Your user key" }
                        input id="key" name="key" type="password" autocomplete="off" spellcheck="false"
                            required autofocus placeholder="ngu_…"
                            aria-describedby=(if error.is_some() { "key-hint login-error" } else { "key-hint" });
                        p class="hint" id="key-hint" {
                            "The key that starts with " code { "ngu_" } ". "
                            "The sandbox writes it to " code { "data/sandbox-admin.key" } "; "
                            code { "notion-gate user add NAME" } " prints a new one."
                        }
                    }
                    @if let Some(n) = next {
                        input type="hidden" name="next" value=(n);
                    }
                    button type="submit" class="primary" { "Sign in" }
                }
            }
        },
    )
}

/// `GET /console/login`.
pub(crate) async fn form(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    // Already signed in: go on.
    if let Some(token) = session::session_token(&headers)
        && state.gate.console_session(&token).await.is_ok()
    {
        return Redirect::to(next.unwrap_or("/console")).into_response();
    }
    render(next, None, q.done.as_deref()).into_response()
}

/// `POST /console/login`.
pub(crate) async fn sign_in(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    extensions: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, ConsoleError> {
    let next = safe_next(f.next.as_deref()).map(str::to_owned);
    let client = ClientInfo::new(
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    );
    let refused = |message: &str| {
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            render(next.as_deref(), Some(message), None),
        )
            .into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    };
    let key = f.key.trim();
    if key.is_empty() {
        return refused("Enter your user key.");
    }
    match state
        .gate
        .console_sign_in(key, state.config.session_ttl, client)
        .await
    {
        Ok(signed) => {
            tracing::info!(user_id = %signed.caller.user_id, session = %signed.session.id, "console sign-in");
            let cookie = session::start_cookie(
                signed.token.expose_secret(),
                state.config.session_ttl,
                state.config.secure_cookies || session::over_tls(&headers, &uri),
            );
            let mut resp = Redirect::to(next.as_deref().unwrap_or("/console")).into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie)
                    .map_err(|_| ConsoleError::bad("session", "cannot be set"))?,
            );
            Ok(resp)
        }
        Err(GateError::Unauthenticated) => refused(
            "That key is not a valid user key: it is unknown, revoked, or its user is disabled.",
        ),
        Err(GateError::Forbidden {
            code: gate_core::Refusal::AgentKey,
            ..
        }) => {
            refused("That is an agent's key. Agents cannot sign in; use your own user key (ngu_…).")
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/logout`: ends the session here and in the store.
pub(crate) async fn sign_out(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    state.gate.console_sign_out(signed.token()).await?;
    tracing::info!(user_id = %signed.caller.user_id, session = %signed.session.id, "console sign-out");
    let mut resp = Redirect::to("/console/login?done=signed-out").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::end_cookie(
            state.config.secure_cookies || session::over_tls(&headers, &uri),
        ))
        .map_err(|_| ConsoleError::bad("session", "cannot be cleared"))?,
    );
    Ok(resp)
}
