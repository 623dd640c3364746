//! Agents: the list with the form to add one (its key shown once, with a copy button), and
//! an agent's page: promote or demote, disable or enable, a new key, its recent calls.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::NewAgentSpec;
use gate_policy::Maturity;
use gate_store::{AgentId, AuditQuery, ConnectionId, CreatedApiKey};
use maud::{Markup, html};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::{Done, Empty, IdPath, Names};
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

/// Every maturity, lowest first.
const MATURITIES: [Maturity; 4] = Maturity::ALL;

fn maturity_hint(m: Maturity) -> &'static str {
    match m {
        Maturity::Student => "nothing (a placeholder)",
        Maturity::Intern => "reads",
        Maturity::Supervised => "reads; writes after a human approves",
        Maturity::Autonomous => "everything, deletes and schema changes included",
    }
}

fn maturity_select(name: &str, id: &str, selected: &str) -> Markup {
    html! {
        select name=(name) id=(id) {
            @for m in MATURITIES {
                option value=(m.as_str()) selected[m.as_str() == selected] { (m.as_str()) " — " (maturity_hint(m)) }
            }
        }
    }
}

/// The key, once: a monospace box, a copy button, and the sentence that says so.
pub(crate) fn key_once(created: &CreatedApiKey, whose: &str) -> Markup {
    let key = created.key.expose_secret();
    html! {
        section class="card" aria-labelledby="key-title" {
            h2 id="key-title" { "The key of " (whose) }
            p { strong { "It is shown only this once." } " Copy it now and give it to " (whose) "; the gateway keeps only its hash." }
            div class="key-box" {
                code id="new-key" { (key) }
                button type="button" class="copy" data-copy=(key) { "Copy" }
            }
        }
    }
}

async fn list_page(
    state: &ConsoleState,
    signed: &Signed,
    created: Option<(String, CreatedApiKey)>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let agents = state.gate.list_agents(caller).await?;
    let connections = state.gate.list_connections(caller).await?;
    let names = Names::load(state, caller).await?;
    let ctx = Ctx::load(state, signed).await?;
    let conn_name = |id: Option<ConnectionId>| {
        id.and_then(|id| connections.iter().find(|c| c.id == id))
            .map(|c| {
                c.bot
                    .workspace_name
                    .clone()
                    .unwrap_or_else(|| ui::short(&c.id.to_string()))
            })
            .unwrap_or_else(|| "—".to_owned())
    };
    let own_connections: Vec<_> = connections
        .iter()
        .filter(|c| c.owner_id == caller.user_id && !c.revoked)
        .collect();
    let body = html! {
        @if let Some((name, key)) = &created { (key_once(key, &format!("agent “{name}”"))) }
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        @if agents.is_empty() {
            (ui::empty("No agents yet.", "Add one below, then give its key to your agent (MCP, the tool endpoint, the REST API or a Notion SDK)."))
        } @else {
            div class="table-wrap" {
                table class="stack" {
                    thead { tr { th { "Name" } th { "Maturity" } th { "Status" } th { "Connection" } @if caller.is_admin() { th { "Owner" } } th { "Added" } } }
                    tbody {
                        @for a in &agents {
                            tr {
                                td data-label="Name" { a href=(format!("/console/agents/{}", a.id)) { (ui::mid(&a.name, 40)) } }
                                td data-label="Maturity" { span class="badge" { (a.maturity) } }
                                td data-label="Status" { @if a.disabled { (ui::status("disabled")) } @else { (ui::status("active")) } }
                                td data-label="Connection" { (ui::mid(&conn_name(a.connection_id), 40)) }
                                @if caller.is_admin() { td data-label="Owner" { (names.user(Some(a.owner_id))) } }
                                td data-label="Added" class="nowrap" { (ui::when(a.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        h2 id="add" { "Add an agent" }
        form method="post" action="/console/agents" class="card" {
            (ui::csrf(signed))
            div class="row" {
                div class="field" {
                    label for="agent-name" { "Name" }
                    input id="agent-name" name="name" type="text" required maxlength="200" autocomplete="off" placeholder="e.g. research-assistant";
                }
                div class="field" {
                    label for="agent-maturity" { "Maturity" }
                    (maturity_select("maturity", "agent-maturity", "supervised"))
                }
                div class="field" {
                    label for="agent-connection" { "Connection" }
                    select id="agent-connection" name="connection" {
                        @if own_connections.is_empty() { option value="" { "None yet (connect a workspace first)" } }
                        @for c in &own_connections {
                            option value=(c.id) { (c.bot.workspace_name.as_deref().unwrap_or("(unnamed)")) " · " (ui::short(&c.id.to_string())) }
                        }
                    }
                }
            }
            p class="hint" { "Supervised agents may write, but each write waits in your inbox until you approve it." }
            button type="submit" class="primary" { "Add agent" }
        }
    };
    Ok(page(&ctx, Nav::Agents, "Agents", body).into_response())
}

/// `GET /console/agents`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    list_page(&state, &signed, None, None).await
}

/// The add-agent form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewAgentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    maturity: String,
    #[serde(default)]
    connection: String,
}

/// `POST /console/agents`: adds the agent and shows its key once (in this answer only, never
/// in a URL).
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    CsrfForm(signed, f): CsrfForm<NewAgentForm>,
) -> Result<Response, ConsoleError> {
    let name = f.name.trim().to_owned();
    if name.is_empty() {
        return list_page(&state, &signed, None, Some("Give the agent a name.".into())).await;
    }
    let mut spec = NewAgentSpec::new(name.clone(), f.maturity.trim());
    if !f.connection.trim().is_empty() {
        let c: ConnectionId = f
            .connection
            .trim()
            .parse()
            .map_err(|_| ConsoleError::bad("connection", "not a connection id"))?;
        spec = spec.connection(c);
    }
    let agent = match state.gate.create_agent(&signed.caller, spec).await {
        Ok(a) => a,
        Err(gate_core::GateError::Conflict { .. }) => {
            return list_page(
                &state,
                &signed,
                None,
                Some(format!(
                    "You already have an agent named “{name}”. Pick another name."
                )),
            )
            .await;
        }
        Err(gate_core::GateError::Invalid { message, .. }) => {
            return list_page(&state, &signed, None, Some(message.to_string())).await;
        }
        Err(e) => return Err(e.into()),
    };
    let key = state
        .gate
        .issue_agent_key(&signed.caller, agent.id, Some("console"))
        .await?;
    tracing::info!(agent_id = %agent.id, user_id = %signed.caller.user_id, "agent added from the console");
    list_page(&state, &signed, Some((agent.name, key)), None).await
}

async fn detail_page(
    state: &ConsoleState,
    signed: &Signed,
    id: AgentId,
    done: Option<&str>,
    created: Option<CreatedApiKey>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let agent = state.gate.get_agent(caller, id).await?;
    let calls = state
        .gate
        .query_audit(caller, AuditQuery::new().agent(id).limit(25))
        .await?
        .events;
    let ctx = Ctx::load(state, signed).await?;
    let body = html! {
        (ui::notice(done))
        @if let Some(k) = &created { (key_once(k, &format!("agent “{}”", agent.name))) }
        p { a href="/console/agents" { "← All agents" } }
        dl class="facts" {
            dt { "Name" } dd { (agent.name) }
            dt { "Maturity" } dd { span class="badge" { (agent.maturity) } }
            dt { "Status" } dd { @if agent.disabled { (ui::status("disabled")) } @else { (ui::status("active")) } }
            dt { "Id" } dd { (ui::id(&agent.id.to_string())) }
            dt { "Added" } dd { (ui::when(agent.created_at)) }
        }
        div class="actions" {
            form method="post" action=(format!("/console/agents/{id}/maturity")) class="actions" {
                (ui::csrf(signed))
                label for="maturity" class="inline" { "Maturity" }
                (maturity_select("maturity", "maturity", &agent.maturity))
                button type="submit" { "Change" }
            }
            @if agent.disabled {
                form method="post" action=(format!("/console/agents/{id}/enable")) { (ui::csrf(signed)) button type="submit" { "Enable" } }
            } @else {
                form method="post" action=(format!("/console/agents/{id}/disable")) { (ui::csrf(signed)) button type="submit" class="danger" data-confirm="Disable this agent? Its next call is refused." { "Disable" } }
            }
            form method="post" action=(format!("/console/agents/{id}/keys")) { (ui::csrf(signed)) button type="submit" { "New key" } }
        }
        h2 { "Recent calls" }
        @if calls.is_empty() {
            (ui::empty("This agent has made no call yet.", "Its calls appear here, refused ones included."))
        } @else {
            (super::audit::table(&calls, &Names::load(state, caller).await?))
            p { a href=(format!("/console/audit?agent={id}")) { "All of its calls in the audit trail" } }
        }
    };
    Ok(page(&ctx, Nav::Agents, &format!("Agent {}", agent.name), body).into_response())
}

/// `GET /console/agents/{id}`.
pub(crate) async fn detail(
    State(state): State<ConsoleState>,
    signed: Signed,
    IdPath(id): IdPath<AgentId>,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    detail_page(&state, &signed, id, done.done.as_deref(), None).await
}

/// The maturity form.
#[derive(Debug, Deserialize)]
pub(crate) struct MaturityForm {
    maturity: String,
}

/// `POST /console/agents/{id}/maturity`.
pub(crate) async fn set_maturity(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<AgentId>,
    CsrfForm(signed, f): CsrfForm<MaturityForm>,
) -> Result<Response, ConsoleError> {
    state
        .gate
        .set_agent_maturity(&signed.caller, id, &f.maturity)
        .await?;
    Ok(Redirect::to(&format!("/console/agents/{id}?done=maturity")).into_response())
}

/// `POST /console/agents/{id}/disable`.
pub(crate) async fn disable(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<AgentId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    state.gate.disable_agent(&signed.caller, id).await?;
    Ok(Redirect::to(&format!("/console/agents/{id}?done=disabled")).into_response())
}

/// `POST /console/agents/{id}/enable`.
pub(crate) async fn enable(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<AgentId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    state.gate.enable_agent(&signed.caller, id).await?;
    Ok(Redirect::to(&format!("/console/agents/{id}?done=enabled")).into_response())
}

/// `POST /console/agents/{id}/keys`: a new key, shown once.
pub(crate) async fn new_key(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<AgentId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    let key = state
        .gate
        .issue_agent_key(&signed.caller, id, Some("console"))
        .await?;
    detail_page(&state, &signed, id, None, Some(key)).await
}
