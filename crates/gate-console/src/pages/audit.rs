//! The audit trail: filters (agent, surface, class, decision, outcome, time), pages by
//! cursor (keyed by event id, so a page costs the same on the 100,000th event as on the
//! first), a live tail (the first page refreshes every 2 s), and the same selection as JSON
//! lines or CSV. Records whose outcome is `unknown` (a write in flight when the gateway
//! stopped) are shown plainly as such.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gate_core::Caller;
use gate_store::{
    AgentId, AuditCursor, AuditDecision, AuditEvent, AuditOrder, AuditQuery, Outcome, Surface,
};
use maud::{Markup, html};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Names;
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::Signed;
use crate::{ConsoleState, ui};

/// The filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    agent: String,
    #[serde(default)]
    surface: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    outcome: String,
    /// `YYYY-MM-DDTHH:MM` (UTC), from a `datetime-local` input.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    live: String,
    /// `jsonl` or `csv` (export).
    #[serde(default)]
    format: String,
}

const CLASSES: [&str; 5] = ["read", "create", "update", "delete", "schema"];

/// Page size of the audit table.
const PAGE: u32 = 50;

fn parse_local(field: &str, raw: &str) -> Result<Option<OffsetDateTime>, ConsoleError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let with_secs = if raw.len() == 16 {
        format!("{raw}:00Z")
    } else {
        format!("{raw}Z")
    };
    OffsetDateTime::parse(&with_secs, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(raw, &Rfc3339))
        .map(Some)
        .map_err(|_| {
            ConsoleError::bad(
                field,
                "expected a date and time such as 2026-12-07T15:30 (UTC)",
            )
        })
}

impl Filters {
    fn query(&self) -> Result<AuditQuery, ConsoleError> {
        let mut q = AuditQuery::new();
        if !self.agent.is_empty() {
            let id: AgentId = self
                .agent
                .parse()
                .map_err(|_| ConsoleError::bad("agent", "not an agent id"))?;
            q = q.agent(id);
        }
        if !self.surface.is_empty() {
            let s: Surface = self
                .surface
                .parse()
                .map_err(|_| ConsoleError::bad("surface", "unknown surface"))?;
            q = q.surface(s);
        }
        if !self.class.is_empty() {
            if !CLASSES.contains(&self.class.as_str()) {
                return Err(ConsoleError::bad("class", "unknown action class"));
            }
            q = q.action_class(self.class.clone());
        }
        if !self.decision.is_empty() {
            let d: AuditDecision = self
                .decision
                .parse()
                .map_err(|_| ConsoleError::bad("decision", "unknown decision"))?;
            q = q.decision(d);
        }
        if !self.outcome.is_empty() {
            let o: Outcome = self
                .outcome
                .parse()
                .map_err(|_| ConsoleError::bad("outcome", "unknown outcome"))?;
            q = q.outcome(o);
        }
        if let Some(t) = parse_local("since", &self.since)? {
            q = q.since(t);
        }
        if let Some(t) = parse_local("until", &self.until)? {
            q = q.until(t);
        }
        if !self.cursor.is_empty() {
            let c: AuditCursor = self
                .cursor
                .parse()
                .map_err(|_| ConsoleError::bad("cursor", "not a cursor of this list"))?;
            q = q.cursor(Some(c));
        }
        Ok(q)
    }

    /// The filters as a query string (without cursor, live and format).
    fn query_string(&self) -> String {
        serde_urlencoded::to_string(
            [
                ("agent", self.agent.as_str()),
                ("surface", self.surface.as_str()),
                ("class", self.class.as_str()),
                ("decision", self.decision.as_str()),
                ("outcome", self.outcome.as_str()),
                ("since", self.since.as_str()),
                ("until", self.until.as_str()),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    }
}

/// The audit table (also used on an agent's page).
pub(crate) fn table(events: &[AuditEvent], names: &Names) -> Markup {
    html! {
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "When" } th { "Who" } th { "Surface" } th { "Operation" } th { "Class" } th { "Decision" } th { "Outcome" } th class="num" { "ms" } } }
                tbody id="audit-rows" { (rows_markup(events, names)) }
            }
        }
    }
}

fn rows_markup(events: &[AuditEvent], names: &Names) -> Markup {
    html! {
        @for e in events {
            @let r = &e.record;
            tr {
                td data-label="When" class="nowrap" { (ui::when(r.call.at)) }
                td data-label="Who" {
                    @if r.call.agent_id.is_some() { (ui::mid(&names.agent(r.call.agent_id), 28)) }
                    @else if r.call.user_id.is_some() { (ui::mid(&names.user(r.call.user_id), 28)) span class="muted small" { " (user)" } }
                    @else { span class="muted" { (r.call.caller_kind.as_str()) } }
                }
                td data-label="Surface" { (r.call.surface.as_str()) }
                td data-label="Operation" {
                    code { (r.call.operation) }
                    @if let Some(t) = r.call.target_ids.first() { br; span class="muted small mono" title=(t) { (ui::short(t)) } }
                }
                td data-label="Class" { (r.call.action_class.as_deref().unwrap_or("—")) }
                td data-label="Decision" {
                    (ui::status(r.decision.as_str()))
                    @if let Some(reason) = r.reason.as_deref().filter(|x| *x != r.decision.as_str()) { br; span class="muted small" { (reason.replace('_', " ")) } }
                }
                td data-label="Outcome" {
                    (ui::status(r.outcome.as_str()))
                    @if let Some(s) = r.upstream_status { " " span class="muted small" { (s) } }
                }
                td data-label="ms" class="num" { (r.duration_ms.map(|d| d.to_string()).unwrap_or_default()) }
            }
        }
    }
}

fn select(name: &str, label: &str, current: &str, options: &[(String, String)]) -> Markup {
    html! {
        div class="field" {
            label for=(format!("f-{name}")) { (label) }
            select id=(format!("f-{name}")) name=(name) {
                option value="" { "Any" }
                @for (value, text) in options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
        }
    }
}

fn pairs(items: &[&str]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|s| ((*s).to_owned(), s.replace('_', " ")))
        .collect()
}

/// `GET /console/audit`.
pub(crate) async fn page_handler(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(f): Query<Filters>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let q = f.query()?.limit(PAGE);
    let result = state.gate.query_audit(caller, q).await?;
    let names = Names::load(&state, caller).await?;
    let ctx = Ctx::load(&state, &signed).await?;
    let qs = f.query_string();
    let live = f.live == "1" && f.cursor.is_empty();
    let mut agents: Vec<(String, String)> = names
        .agents
        .iter()
        .map(|(id, (n, _))| (id.to_string(), n.clone()))
        .collect();
    agents.sort_by_key(|a| a.1.to_lowercase());
    let sep = if qs.is_empty() { "" } else { "&" };
    let body = html! {
        form method="get" action="/console/audit" class="filters" {
            div class="row" {
                (select("agent", "Agent", &f.agent, &agents))
                (select("surface", "Surface", &f.surface, &pairs(&["rest", "tool", "mcp", "proxy", "cli", "console"])))
                (select("class", "Class", &f.class, &pairs(&CLASSES)))
                (select("decision", "Decision", &f.decision, &pairs(&["allow", "deny", "needs_approval"])))
                (select("outcome", "Outcome", &f.outcome, &pairs(&["ok", "error", "denied", "pending", "unknown"])))
            }
            div class="row" {
                div class="field" { label for="f-since" { "From (UTC)" } input id="f-since" name="since" type="datetime-local" value=(f.since); }
                div class="field" { label for="f-until" { "Until (UTC)" } input id="f-until" name="until" type="datetime-local" value=(f.until); }
                div class="field actions" {
                    button type="submit" class="primary" { "Filter" }
                    a class="button" href="/console/audit" { "Clear" }
                }
            }
        }
        div class="pager" {
            div class="actions" {
                @if live {
                    span { span class="live-dot" aria-hidden="true" {} "Live: new calls appear as they happen." }
                    a href=(format!("/console/audit?{qs}")) { "Stop" }
                } @else if f.cursor.is_empty() {
                    a href=(format!("/console/audit?{qs}{sep}live=1")) { "Follow live" }
                }
            }
            div class="actions" {
                span class="muted" { "Download:" }
                a href=(format!("/console/audit/export?{qs}{sep}format=jsonl")) hx-boost="false" download { "JSON lines" }
                a href=(format!("/console/audit/export?{qs}{sep}format=csv")) hx-boost="false" download { "CSV" }
            }
        }
        @if result.events.is_empty() {
            @if qs.is_empty() && f.cursor.is_empty() {
                (ui::empty("No calls recorded yet.", "Every call through the gateway, refused ones included, is recorded here."))
            } @else {
                (ui::empty("No call matches these filters.", "Widen the time range or clear a filter."))
            }
        } @else {
            div class="table-wrap" {
                table class="stack" {
                    thead { tr { th { "When" } th { "Who" } th { "Surface" } th { "Operation" } th { "Class" } th { "Decision" } th { "Outcome" } th class="num" { "ms" } } }
                    @if live {
                        tbody id="audit-rows" hx-get=(format!("/console/audit/rows?{qs}")) hx-trigger="every 2s" hx-swap="innerHTML" { (rows_markup(&result.events, &names)) }
                    } @else {
                        tbody id="audit-rows" { (rows_markup(&result.events, &names)) }
                    }
                }
            }
        }
        div class="pager" {
            @if !f.cursor.is_empty() { a href=(format!("/console/audit?{qs}")) { "← Newest" } } @else { span {} }
            @if let Some(c) = result.next_cursor { a href=(format!("/console/audit?{qs}{sep}cursor={c}")) { "Older →" } }
        }
    };
    Ok(page(&ctx, Nav::Audit, "Audit", body).into_response())
}

/// `GET /console/audit/rows`: the first page's rows alone, for the live tail.
pub(crate) async fn rows(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(f): Query<Filters>,
) -> Result<Response, ConsoleError> {
    let q = f.query()?.cursor(None).limit(PAGE);
    let result = state.gate.query_audit(&signed.caller, q).await?;
    let names = Names::load(&state, &signed.caller).await?;
    Ok(rows_markup(&result.events, &names).into_response())
}

fn csv_header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "id",
        "timestamp",
        "request_id",
        "caller_kind",
        "user_id",
        "agent_id",
        "connection_id",
        "surface",
        "action_class",
        "operation",
        "target_ids",
        "decision",
        "reason",
        "outcome",
        "upstream_status",
        "duration_ms",
    ]);
    w.into_inner().unwrap_or_default()
}

fn csv_rows(events: &[AuditEvent]) -> Vec<u8> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut w = csv::Writer::from_writer(Vec::new());
    for e in events {
        let r = &e.record;
        let _ = w.write_record([
            e.id.to_string(),
            r.call.at.format(&Rfc3339).unwrap_or_default(),
            r.call.request_id.clone(),
            r.call.caller_kind.as_str().to_owned(),
            opt(r.call.user_id.map(|v| v.to_string())),
            opt(r.call.agent_id.map(|v| v.to_string())),
            opt(r.call.connection_id.map(|v| v.to_string())),
            r.call.surface.as_str().to_owned(),
            opt(r.call.action_class.clone()),
            r.call.operation.clone(),
            r.call.target_ids.join(" "),
            r.decision.as_str().to_owned(),
            opt(r.reason.clone()),
            r.outcome.as_str().to_owned(),
            opt(r.upstream_status.map(|v| v.to_string())),
            opt(r.duration_ms.map(|v| v.to_string())),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

fn jsonl_rows(events: &[AuditEvent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 400);
    for e in events {
        if serde_json::to_writer(&mut out, e).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// `GET /console/audit/export?format=jsonl|csv`: every matching event, oldest first,
/// streamed a thousand at a time.
pub(crate) async fn export(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(f): Query<Filters>,
) -> Result<Response, ConsoleError> {
    let csv = match f.format.as_str() {
        "csv" => true,
        "jsonl" | "" => false,
        _ => return Err(ConsoleError::bad("format", "jsonl or csv")),
    };
    let q = f
        .query()?
        .cursor(None)
        .order(AuditOrder::OldestFirst)
        .limit(1000);
    let gate = state.gate.clone();
    let caller: Caller = signed.caller.clone();
    let head = if csv { csv_header() } else { Vec::new() };
    let stream = futures::stream::unfold(Some(q), move |next| {
        let gate = gate.clone();
        let caller = caller.clone();
        async move {
            let q = next?;
            match gate.query_audit(&caller, q.clone()).await {
                Ok(page) => {
                    let bytes = if csv {
                        csv_rows(&page.events)
                    } else {
                        jsonl_rows(&page.events)
                    };
                    let following = page.next_cursor.map(|c| q.cursor(Some(c)));
                    Some((Ok::<_, std::io::Error>(bytes), following))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "audit export stopped");
                    Some((Err(std::io::Error::other("audit export failed")), None))
                }
            }
        }
    });
    let head = futures::stream::once(async move { Ok::<_, std::io::Error>(head) });
    let body = Body::from_stream(futures::StreamExt::chain(head, stream));
    let (ctype, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"notion-gate-audit.{ext}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
