//! Connections: each Notion workspace connected, its health, and the ways to connect one
//! (Notion's OAuth consent, when configured, or an internal integration's token), re-authorise
//! (the same OAuth flow: the same bot keeps its connection id) or disconnect.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::GateError;
use gate_store::ConnectionId;
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;

use super::{Done, Empty, IdPath, Names};
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::pages::overview::health;
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    done: Option<&str>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let connections = state.gate.list_connections(caller).await?;
    let names = Names::load(state, caller).await?;
    let ctx = Ctx::load(state, signed).await?;
    let oauth = state.config.oauth_redirect_uri.is_some();
    let body = html! {
        (ui::notice(done))
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        @if connections.is_empty() {
            (ui::empty("No Notion workspace is connected.", "Connect one below: your agents reach Notion only through a connection."))
        } @else {
            div class="table-wrap" {
                table class="stack" {
                    thead { tr { th { "Workspace" } th { "Kind" } th { "Health" } @if caller.is_admin() { th { "Owner" } } th { "Connected" } th { span class="muted" { "Actions" } } } }
                    tbody {
                        @for c in &connections {
                            tr {
                                td data-label="Workspace" { (ui::mid(c.bot.workspace_name.as_deref().unwrap_or("(unnamed)"), 60)) br; (ui::id(&c.id.to_string())) }
                                td data-label="Kind" { @if c.kind.as_str() == "oauth" { "OAuth" } @else { "Integration token" } }
                                td data-label="Health" { (ui::status(health(c))) }
                                @if caller.is_admin() { td data-label="Owner" { (names.user(Some(c.owner_id))) } }
                                td data-label="Connected" class="nowrap" { (ui::when(c.created_at)) }
                                td data-label="Actions" {
                                    div class="actions" {
                                        @if oauth && c.kind.as_str() == "oauth" && c.owner_id == caller.user_id {
                                            form method="post" action="/console/connections/oauth" hx-boost="false" {
                                                (ui::csrf(signed))
                                                button type="submit" { "Re-authorise" }
                                            }
                                        }
                                        form method="post" action=(format!("/console/connections/{}/revoke", c.id)) {
                                            (ui::csrf(signed))
                                            button type="submit" class="danger" data-confirm="Disconnect this workspace? Agents using it stop reaching Notion." { "Disconnect" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Connect a workspace" }
        @if oauth {
            form method="post" action="/console/connections/oauth" class="card" hx-boost="false" {
                (ui::csrf(signed))
                p { "Notion asks you which pages to share, then sends you back here." }
                button type="submit" class="primary" { "Connect with Notion" }
            }
        } @else {
            p class="muted" { "Connecting with Notion's consent page needs OAuth (set " code { "NOTION_GATE_OAUTH_CLIENT_ID" } " and " code { "…_CLIENT_SECRET" } "). An internal integration's token works without it:" }
        }
        form method="post" action="/console/connections/token" class="card" {
            (ui::csrf(signed))
            div class="field" {
                label for="token" { "Internal integration token" }
                input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required placeholder="ntn_…";
                p class="hint" { "Create one at notion.so/profile/integrations and share pages with it. The gateway checks it with Notion and stores it encrypted; it is never shown again." }
            }
            button type="submit" { "Add connection" }
        }
    };
    Ok(page(&ctx, Nav::Connections, "Connections", body).into_response())
}

/// `GET /console/connections`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    render(&state, &signed, done.done.as_deref(), None).await
}

/// The token form.
#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    token: String,
}

/// `POST /console/connections/token`.
pub(crate) async fn add_token(
    State(state): State<ConsoleState>,
    CsrfForm(signed, f): CsrfForm<TokenForm>,
) -> Result<Response, ConsoleError> {
    let token = f.token.trim();
    if token.is_empty() {
        return render(
            &state,
            &signed,
            None,
            Some("Paste the integration's token.".into()),
        )
        .await;
    }
    match state
        .gate
        .add_token_connection(&signed.caller, None, SecretString::from(token.to_owned()))
        .await
    {
        Ok(_) => Ok(Redirect::to("/console/connections?done=connected").into_response()),
        Err(
            e @ (GateError::Upstream { .. }
            | GateError::ReconnectRequired { .. }
            | GateError::Invalid { .. }
            | GateError::LocalOnly),
        ) => {
            let message = match e {
                GateError::LocalOnly => "Local-only mode is on: the gateway does not reach Notion, so it cannot check the token.".to_owned(),
                GateError::ReconnectRequired { .. } => "Notion refused that token. Check that you copied the whole token of an active integration.".to_owned(),
                other => format!("Notion did not accept the token: {other}"),
            };
            render(&state, &signed, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/connections/oauth`: starts Notion's consent flow (the browser comes back
/// to the gateway's OAuth callback, which links back here).
pub(crate) async fn start_oauth(
    State(state): State<ConsoleState>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    let Some(redirect) = state.config.oauth_redirect_uri.as_deref() else {
        return Err(GateError::NotConfigured {
            what: "Notion OAuth (client id and secret)",
        }
        .into());
    };
    let start = state.gate.start_oauth(&signed.caller, redirect).await?;
    Ok(Redirect::to(&start.authorization_url).into_response())
}

/// `POST /console/connections/{id}/revoke`: disconnects (an OAuth token is revoked at Notion
/// first).
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<ConnectionId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    match state.gate.disconnect(&signed.caller, id).await {
        Ok(()) => Ok(Redirect::to("/console/connections?done=revoked").into_response()),
        Err(e @ GateError::RevocationFailed { .. }) => {
            render(
                &state,
                &signed,
                None,
                Some(format!(
                    "Not disconnected: {e}. The connection is disabled here meanwhile; press Disconnect again to retry."
                )),
            )
            .await
        }
        Err(e @ (GateError::Upstream { .. } | GateError::LocalOnly | GateError::RateLimited { .. })) => {
            render(
                &state,
                &signed,
                None,
                Some(format!(
                    "The connection is no longer used here, but revoking it at Notion failed ({e}). Try again later, or remove the integration's access in Notion."
                )),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
