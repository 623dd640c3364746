//! The home page: the inbox when anything waits for this person; otherwise the overview,
//! one line each: every connection healthy or not, its use of the request budget over the
//! last 24 hours, denials and errors of the last 24 hours.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use gate_store::{AuditDecision, AuditEvent, AuditQuery, Connection, Outcome};
use maud::{Markup, html};
use time::OffsetDateTime;

use super::Names;
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::Signed;
use crate::{ConsoleState, ui};

/// `GET /console`: the inbox when something is pending, else the overview.
pub(crate) async fn home(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    let ctx = Ctx::load(&state, &signed).await?;
    if ctx.pending > 0 {
        return Ok(Redirect::to("/console/approvals").into_response());
    }
    render(&state, &ctx).await
}

/// `GET /console/overview`.
pub(crate) async fn page_handler(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    let ctx = Ctx::load(&state, &signed).await?;
    render(&state, &ctx).await
}

/// The health word of a connection.
pub(crate) fn health(c: &Connection) -> &'static str {
    if c.revocation_failed {
        "revocation failed"
    } else if c.revoked {
        "revoked"
    } else if c.needs_reauth {
        "needs re-authorisation"
    } else {
        "usable"
    }
}

fn events_table(events: &[AuditEvent], names: &Names) -> Markup {
    html! {
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "When" } th { "Who" } th { "Operation" } th { "Why" } } }
                tbody {
                    @for e in events {
                        @let r = &e.record;
                        tr {
                            td data-label="When" class="nowrap" { (ui::when(r.call.at)) }
                            td data-label="Who" { @if r.call.agent_id.is_some() { (names.agent(r.call.agent_id)) } @else { (names.user(r.call.user_id)) } }
                            td data-label="Operation" { code { (r.call.operation) } " " (ui::status(r.outcome.as_str())) }
                            td data-label="Why" { (r.reason.as_deref().unwrap_or("—")) @if let Some(s) = r.upstream_status { " (HTTP " (s) ")" } }
                        }
                    }
                }
            }
        }
    }
}

async fn render(state: &ConsoleState, ctx: &Ctx<'_>) -> Result<Response, ConsoleError> {
    let caller = &ctx.signed.caller;
    let gate = &state.gate;
    let connections = gate.list_connections(caller).await?;
    let since = OffsetDateTime::now_utc() - time::Duration::hours(24);
    let mut used = Vec::with_capacity(connections.len());
    for c in &connections {
        let n = gate
            .count_audit(caller, AuditQuery::new().connection(c.id).since(since))
            .await?;
        used.push(n);
    }
    let denials = gate
        .query_audit(
            caller,
            AuditQuery::new()
                .decision(AuditDecision::Deny)
                .since(since)
                .limit(5),
        )
        .await?
        .events;
    let errors = gate
        .query_audit(
            caller,
            AuditQuery::new()
                .outcome(Outcome::Error)
                .since(since)
                .limit(5),
        )
        .await?
        .events;
    let names = Names::load(state, caller).await?;
    let hook_failures = notification_failures(state, caller).await?;
    let budget_per_day = state.config.rate_per_second * 86_400.0;
    let unhealthy = connections.iter().filter(|c| health(c) != "usable").count();
    let body = html! {
        div class="panels" {
            div class="panel" {
                div class="muted" { "Waiting for you" }
                div class="big" { (ctx.pending) }
                a href="/console/approvals" { @if ctx.pending == 0 { "Nothing pending" } @else { "Open the inbox" } }
            }
            div class="panel" {
                div class="muted" { "Connections" }
                div class="big" { (connections.len()) }
                @if connections.is_empty() { span class="muted" { "None yet" } }
                @else if unhealthy == 0 { (ui::badge(ui::Tone::Good, "all healthy")) }
                @else { (ui::badge(ui::Tone::Bad, &format!("{unhealthy} need attention"))) }
            }
            div class="panel" {
                div class="muted" { "Denied in the last 24 h" }
                div class="big" { (denials.len()) @if denials.len() == 5 { "+" } }
                a href="/console/audit?decision=deny" { "See denials" }
            }
            div class="panel" {
                div class="muted" { "Errors in the last 24 h" }
                div class="big" { (errors.len()) @if errors.len() == 5 { "+" } }
                a href="/console/audit?outcome=error" { "See errors" }
            }
        }
        h2 { "Connections" }
        @if connections.is_empty() {
            (ui::empty("No Notion connection yet.", "Connect a workspace on the Connections page; agents use it through the gateway."))
        } @else {
            div class="table-wrap" {
                table class="stack" {
                    thead { tr { th { "Workspace" } th { "Health" } th class="num" { "Calls, 24 h" } th { "Budget used" } } }
                    tbody {
                        @for (c, n) in connections.iter().zip(&used) {
                            tr {
                                td data-label="Workspace" { (ui::mid(c.bot.workspace_name.as_deref().unwrap_or("(unnamed)"), 60)) br; span class="muted small" { (c.kind.as_str()) " · " (ui::short(&c.id.to_string())) } }
                                td data-label="Health" { (ui::status(health(c))) }
                                td data-label="Calls, 24 h" class="num" { (n) }
                                td data-label="Budget used" {
                                    @let share = if budget_per_day > 0.0 { *n as f64 / budget_per_day * 100.0 } else { 0.0 };
                                    (format!("{share:.2}%")) span class="muted small" { " of " (format!("{:.0}", budget_per_day)) " requests a day at " (state.config.rate_per_second) "/s" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Recent denials" }
        @if denials.is_empty() { p class="muted" { "No call was denied in the last 24 hours." } } @else { (events_table(&denials, &names)) }
        h2 { "Recent errors" }
        @if errors.is_empty() { p class="muted" { "No call failed in the last 24 hours." } } @else { (events_table(&errors, &names)) }
        @if let Some(f) = &hook_failures { (f) }
    };
    Ok(page(ctx, Nav::Overview, "Overview", body).into_response())
}

/// The last failed approval notifications (webhook deliveries still retrying or given up),
/// when webhooks are configured; `None` otherwise. A hook shows as `scheme://host` only.
async fn notification_failures(
    state: &ConsoleState,
    caller: &gate_core::Caller,
) -> Result<Option<Markup>, ConsoleError> {
    if !state.gate.webhooks_enabled() {
        return Ok(None);
    }
    let failures = state.gate.recent_webhook_failures(caller, 5).await?;
    Ok(Some(html! {
        h2 { "Notification failures" }
        @if failures.is_empty() {
            p class="muted" { "Every approval notification reached its webhook." }
        } @else {
            div class="table-wrap" {
                table class="stack" {
                    thead { tr { th { "When" } th { "Webhook" } th { "Event" } th { "Attempts" } th { "Last error" } th { "Next try" } } }
                    tbody {
                        @for d in &failures {
                            tr {
                                td data-label="When" class="nowrap" { (ui::when(d.updated_at)) }
                                td data-label="Webhook" { code { (d.hook_label) } }
                                td data-label="Event" {
                                    a href=(format!("/console/approvals/{}", d.approval_id)) { (d.event_type) }
                                }
                                td data-label="Attempts" class="num" { (d.attempts) }
                                td data-label="Last error" { (d.last_error.as_deref().unwrap_or("—")) }
                                td data-label="Next try" class="nowrap" {
                                    @match d.next_attempt_at {
                                        Some(t) => (ui::when(t)),
                                        None => (ui::badge(ui::Tone::Bad, "gave up")),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }))
}
