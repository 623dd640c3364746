//! The consent page of MCP clients by OAuth (`/console/oauth/consent`): `/oauth/authorize`
//! sends the browser here with the authorization request. The signed-in person (a sign-in
//! comes first when there is no session) sees which client asks and where it will be sent
//! back, picks one of their connections and the maturity of the agent the client will act
//! as, and allows or denies. Allowing sends the browser to the client's redirect URI with a
//! single-use code (`gate_core::Gate::grant_mcp_authorization`); the client exchanges it at
//! `/oauth/token` for the new agent's key. Denying sends `error=access_denied`.
//!
//! The request is checked again on every step (the form carries its parameters back). Its
//! form posts without htmx (the answer is a redirect to another origin), and the page's
//! Content-Security-Policy lets forms go on to the client's redirect URI and nowhere else.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::{AuthorizeParams, AuthorizeRequest, Gate, GateError};
use gate_policy::Maturity;
use gate_store::ConnectionId;
use maud::html;
use serde::Deserialize;

use super::parse_id;
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

/// The maturity proposed: reads only, the least that is useful.
const DEFAULT_MATURITY: Maturity = Maturity::Intern;

/// The consent form: the request's parameters, the choices, and the button pressed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConsentForm {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
    connection: Option<String>,
    maturity: Option<String>,
    decision: Option<String>,
}

impl ConsentForm {
    fn params(&self) -> AuthorizeParams {
        let mut p = AuthorizeParams::default();
        p.response_type = self.response_type.clone();
        p.client_id = self.client_id.clone();
        p.redirect_uri = self.redirect_uri.clone();
        p.code_challenge = self.code_challenge.clone();
        p.code_challenge_method = self.code_challenge_method.clone();
        p.state = self.state.clone();
        p.scope = self.scope.clone();
        p.resource = self.resource.clone();
        p
    }
}

/// A refused request: to the client's redirect URI when it is known to be good, else shown.
/// The consent form's authorization request, checked again on every step; a refusal is the
/// answer to give (a redirect back to the client, or an error page).
async fn checked(
    state: &ConsoleState,
    form: &ConsentForm,
) -> Result<AuthorizeRequest, Result<Response, ConsoleError>> {
    state
        .gate
        .check_mcp_authorize(&form.params(), &state.config.public_url)
        .await
        .map_err(refused)
}

fn refused(e: GateError) -> Result<Response, ConsoleError> {
    match e {
        GateError::OAuth {
            redirect_to: Some(to),
            ..
        } => Ok(Redirect::to(&to).into_response()),
        GateError::OAuth { description, .. } => {
            Err(ConsoleError::bad("authorization request", description))
        }
        other => Err(other.into()),
    }
}

/// The CSP source that lets the consent form's redirect reach the client: its origin, or its
/// private-use scheme (`com.example.app:`).
fn redirect_source(uri: &str) -> Option<String> {
    if let Some(o) = crate::security::origin(uri) {
        return Some(o.to_owned());
    }
    let (scheme, _) = uri.split_once(':')?;
    let ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    ok.then(|| format!("{scheme}:"))
}

/// `GET /console/oauth/consent`.
pub(crate) async fn page_handler(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(form): Query<ConsentForm>,
) -> Result<Response, ConsoleError> {
    let req = match checked(&state, &form).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    render(&state, &signed, &req, None).await
}

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    req: &AuthorizeRequest,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let connections: Vec<_> = state
        .gate
        .list_connections(caller)
        .await?
        .into_iter()
        .filter(|c| c.owner_id == caller.user_id && !c.revoked)
        .collect();
    let ctx = Ctx::load(state, signed).await?;
    let back_to = crate::security::origin(&req.redirect_uri)
        .map(str::to_owned)
        .unwrap_or_else(|| req.redirect_uri.clone());
    let hidden = [
        ("response_type", Some("code")),
        ("client_id", Some(req.client.client_id.as_str())),
        ("redirect_uri", Some(req.redirect_uri.as_str())),
        ("code_challenge", Some(req.code_challenge.as_str())),
        ("code_challenge_method", Some("S256")),
        ("state", req.state.as_deref()),
        ("scope", req.scope.as_deref()),
        ("resource", req.resource.as_deref()),
    ];
    let body = html! {
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        section class="card" aria-labelledby="consent-title" {
            h2 id="consent-title" { "“" (ui::mid(&req.client.name, 80)) "” asks to use Notion through this gateway" }
            p {
                "Allowing it creates a new agent of yours for this client, on the connection and at the maturity you choose below. "
                "The client then calls the gateway as that agent: every call is checked against the policy and audited, "
                "and writes of a supervised agent wait in your inbox."
            }
            p class="muted" {
                "After your answer the browser returns to " code { (back_to) } ". "
                "Revoke the access later by disabling the agent on the Agents page."
            }
        }
        form method="post" action=(gate_core::MCP_CONSENT_PATH) class="card" hx-boost="false" {
            (ui::csrf(signed))
            @for (name, value) in hidden {
                @if let Some(v) = value { input type="hidden" name=(name) value=(v); }
            }
            div class="row" {
                div class="field" {
                    label for="consent-connection" { "Connection" }
                    select id="consent-connection" name="connection" {
                        @if connections.is_empty() { option value="" { "None yet (connect a workspace first)" } }
                        @for c in &connections {
                            option value=(c.id) { (c.bot.workspace_name.as_deref().unwrap_or("(unnamed)")) " · " (ui::short(&c.id.to_string())) }
                        }
                    }
                }
                div class="field" {
                    label for="consent-maturity" { "Maturity" }
                    select id="consent-maturity" name="maturity" {
                        @for m in Maturity::ALL {
                            option value=(m.as_str()) selected[m == DEFAULT_MATURITY] { (m.as_str()) }
                        }
                    }
                }
            }
            p class="hint" { "intern reads; supervised also writes, each write after your approval; autonomous may do everything, deletes included." }
            div class="actions" {
                button type="submit" name="decision" value="allow" class="primary" disabled[connections.is_empty()] { "Allow" }
                button type="submit" name="decision" value="deny" { "Deny" }
            }
        }
    };
    let mut resp = page(&ctx, Nav::Agents, "Connect an MCP client", body).into_response();
    // Forms of this page may go on to the client's redirect URI (the answer redirects there).
    let mut csp = crate::security::policy(None);
    if let Some(src) = redirect_source(&req.redirect_uri) {
        csp = csp.replacen(
            "form-action 'self'",
            &format!("form-action 'self' {src}"),
            1,
        );
    }
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(resp)
}

/// `POST /console/oauth/consent`.
pub(crate) async fn decide(
    State(state): State<ConsoleState>,
    CsrfForm(signed, form): CsrfForm<ConsentForm>,
) -> Result<Response, ConsoleError> {
    let req = match checked(&state, &form).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if form.decision.as_deref() != Some("allow") {
        tracing::info!(client_id = %req.client.client_id, user_id = %signed.caller.user_id, "MCP client refused");
        return Ok(Redirect::to(&Gate::deny_mcp_authorization(&req)).into_response());
    }
    let connection: Option<ConnectionId> = match form.connection.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => Some(parse_id(c, "connection")?),
        _ => None,
    };
    let maturity = form
        .maturity
        .as_deref()
        .unwrap_or(DEFAULT_MATURITY.as_str());
    match state
        .gate
        .grant_mcp_authorization(&signed.caller, &req, connection, maturity)
        .await
    {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e @ (GateError::Conflict { .. } | GateError::Invalid { .. })) => {
            let mut resp = render(&state, &signed, &req, Some(e.to_string())).await?;
            *resp.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
