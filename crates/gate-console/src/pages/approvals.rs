//! The approval inbox (`/console/approvals`, live: the list refreshes every 2 s through
//! htmx) and an approval's page (`/console/approvals/{id}`): what will happen in Notion's own
//! terms, the content rendered, the property changes as a before/after table (read through
//! the gateway as the approver: governed and audited on the `console` surface), who asks,
//! when it expires, the raw request folded away, and Approve / Deny at the end of the facts.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::{Caller, GateError, NotionRequest, Surface};
use gate_store::{Approval, ApprovalFilter, ApprovalId, ApprovalStatus};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{Done, IdPath, Names};
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::preview::{self, Held};
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

/// `?status=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxQuery {
    status: Option<String>,
}

/// The statuses the inbox can show, with their labels.
const TABS: [(&str, &str); 4] = [
    ("pending", "Waiting"),
    ("executed", "Executed"),
    ("denied", "Denied"),
    ("all", "All"),
];

fn status_filter(
    raw: Option<&str>,
) -> Result<(&'static str, Option<ApprovalStatus>), ConsoleError> {
    const KNOWN: [&str; 9] = [
        "pending",
        "executed",
        "denied",
        "all",
        "approved",
        "expired",
        "executing",
        "failed",
        "withdrawn",
    ];
    let bad = || ConsoleError::bad("status", "unknown status");
    let raw = raw.unwrap_or("pending");
    let tab = KNOWN.into_iter().find(|k| *k == raw).ok_or_else(bad)?;
    if tab == "all" {
        return Ok((tab, None));
    }
    Ok((tab, Some(tab.parse().map_err(|_| bad())?)))
}

/// How many approvals a list shows at most.
const LIST_LIMIT: u32 = 100;

/// The list the inbox shows for a `?status=`: its tab, the approvals and their names, as the
/// page and its live fragment both render it.
async fn listing(
    state: &ConsoleState,
    caller: &Caller,
    status: Option<&str>,
) -> Result<(&'static str, Markup), ConsoleError> {
    let (tab, status) = status_filter(status)?;
    let mut filter = ApprovalFilter::new().limit(LIST_LIMIT);
    if let Some(s) = status {
        filter = filter.status(s);
    }
    let approvals = state.gate.list_approvals(caller, filter).await?;
    let names = Names::load(state, caller).await?;
    Ok((tab, list_markup(&approvals, &names, tab)))
}

/// A short description of a held call for lists: the verb and its object.
fn headline(a: &Approval) -> String {
    let held = Held::parse(&a.request.request_json);
    let verb = match a.request.operation.as_str() {
        "pages.create" => match held.title() {
            Some(t) if !t.is_empty() => return format!("Create page “{t}”"),
            _ => "Create a page",
        },
        "blocks.children.append" => {
            let n = held.children().map_or(0, Vec::len);
            return format!("Add {n} block{}", if n == 1 { "" } else { "s" });
        }
        "pages.update" if held.trashes() => "Move a page to the trash",
        "pages.update" => "Update a page",
        "blocks.update" => "Update a block",
        "blocks.delete" => "Delete a block",
        "comments.create" => "Add a comment",
        op if op.starts_with("pages.markdown") => "Edit a page's Markdown",
        op => return op.to_owned(),
    };
    verb.to_owned()
}

fn list_markup(approvals: &[Approval], names: &Names, tab: &str) -> Markup {
    html! {
        div id="inbox" hx-get=(format!("/console/approvals/live?status={tab}")) hx-trigger="every 2s" hx-swap="outerHTML" {
            @if approvals.is_empty() {
                @if tab == "pending" {
                    (ui::empty("Nothing is waiting for you.", "When an agent's call needs a human, it appears here at once; this page updates by itself."))
                } @else {
                    (ui::empty("No approvals here yet.", "Calls held for a human appear in this list once they reach this state."))
                }
            } @else {
                div class="table-wrap" {
                    table class="stack" {
                        thead { tr { th { "Requested" } th { "Agent" } th { "What" } th { "Class" } th { "Status" } th { "Expires" } } }
                        tbody {
                            @for a in approvals {
                                tr {
                                    td data-label="Requested" class="nowrap" { (ui::when(a.created_at)) }
                                    td data-label="Agent" { (ui::mid(&names.agent(a.request.agent_id), 28)) }
                                    td data-label="What" {
                                        a href=(format!("/console/approvals/{}", a.id)) { (ui::mid(&headline(a), 80)) }
                                        br; span class="muted small mono" { (a.request.operation) }
                                    }
                                    td data-label="Class" { (a.request.action_class) }
                                    td data-label="Status" { (ui::status(a.status.as_str())) }
                                    td data-label="Expires" class="nowrap" {
                                        @if a.status == ApprovalStatus::Pending { (ui::when(a.expires_at)) } @else { span class="muted" { "—" } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if approvals.len() >= LIST_LIMIT as usize {
                    p class="muted small" { "Showing the newest " (LIST_LIMIT) "." }
                }
            }
        }
    }
}

/// `GET /console/approvals`.
pub(crate) async fn inbox(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(q): Query<InboxQuery>,
) -> Result<Response, ConsoleError> {
    let (tab, list) = listing(&state, &signed.caller, q.status.as_deref()).await?;
    let ctx = Ctx::load(&state, &signed).await?;
    let body = html! {
        nav class="actions" aria-label="Filter" {
            @for (key, label) in TABS {
                a class=(if key == tab { "button primary" } else { "button" }) href=(format!("/console/approvals?status={key}"))
                    aria-current=[(key == tab).then_some("page")] { (label) }
            }
        }
        div class="sep" {}
        (list)
    };
    Ok(page(&ctx, Nav::Inbox, "Approvals", body).into_response())
}

/// `GET /console/approvals/live`: the list alone, for the inbox's poll.
pub(crate) async fn inbox_live(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(q): Query<InboxQuery>,
) -> Result<Response, ConsoleError> {
    Ok(listing(&state, &signed.caller, q.status.as_deref())
        .await?
        .1
        .into_response())
}

/// What the approver's read of Notion found for the preview.
#[derive(Default)]
struct Looked {
    target_title: Option<String>,
    target_url: Option<String>,
    parent_title: Option<String>,
    parent_url: Option<String>,
    current_props: Option<serde_json::Map<String, Value>>,
    note: Option<String>,
}

/// Reads a page through the gateway as the approver (governed, audited on `console`).
async fn read_page(state: &ConsoleState, caller: &Caller, id: &str) -> Result<Value, String> {
    let resp = state
        .gate
        .call(
            caller,
            Surface::Console,
            NotionRequest::get(format!("/v1/pages/{id}")),
        )
        .await
        .map_err(|e| match e {
            GateError::LocalOnly => "local-only mode is on, so Notion was not read".to_owned(),
            other => other.to_string(),
        })?;
    if !resp.is_success() {
        return Err(format!("Notion answered {}", resp.status));
    }
    resp.json().map_err(|e| e.to_string())
}

async fn look(state: &ConsoleState, caller: &Caller, a: &Approval, held: &Held) -> Looked {
    let mut looked = Looked::default();
    if a.request.connection_id.is_none() || caller.connection_id != a.request.connection_id {
        looked.note = Some(
            "The page is not shown: the call uses a connection other than your own default one."
                .into(),
        );
        return looked;
    }
    if let Some(("page", id)) = held.parent().as_ref().map(|(k, id)| (*k, id.clone())) {
        match read_page(state, caller, &id).await {
            Ok(p) => {
                looked.parent_title = preview::page_title(&p);
                looked.parent_url = p.get("url").and_then(Value::as_str).map(str::to_owned);
            }
            Err(e) => looked.note = Some(format!("Could not read the parent page: {e}.")),
        }
    }
    let page_target = a.request.operation.starts_with("pages.")
        || a.request.operation == "blocks.children.append"
        || a.request.operation == "comments.create";
    if page_target
        && a.request.operation != "pages.create"
        && let Some(id) = held.target_id()
    {
        match read_page(state, caller, id).await {
            Ok(p) => {
                looked.target_title = preview::page_title(&p);
                looked.target_url = p.get("url").and_then(Value::as_str).map(str::to_owned);
                looked.current_props = p.get("properties").and_then(Value::as_object).cloned();
            }
            // An append or a comment may target a block, not a page: no title then.
            Err(e) if a.request.operation == "pages.update" => {
                looked.note = Some(format!("Could not read the page: {e}."));
            }
            Err(_) => {}
        }
    }
    looked
}

fn linked(title: Option<&str>, url: Option<&str>, fallback: &str) -> Markup {
    let text = title.filter(|t| !t.is_empty()).unwrap_or(fallback);
    html! {
        @match url {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                a href=(u) target="_blank" rel="noopener noreferrer" { em { (ui::mid(text, 120)) } }
            }
            _ => em { (ui::mid(text, 120)) },
        }
    }
}

fn summary(a: &Approval, held: &Held, looked: &Looked) -> Markup {
    let parent = match held.parent() {
        Some(("page", id)) => linked(
            looked.parent_title.as_deref(),
            looked.parent_url.as_deref(),
            &format!("page {}", ui::short(&id)),
        ),
        Some((kind, id)) => html! { (kind) " " code { (ui::short(&id)) } },
        None => html! { "the workspace" },
    };
    let target = linked(
        looked.target_title.as_deref(),
        looked.target_url.as_deref(),
        &held
            .target_id()
            .map(|id| format!("object {}", ui::short(id)))
            .unwrap_or_else(|| "an object".into()),
    );
    html! {
        p class="summary" {
            @match a.request.operation.as_str() {
                "pages.create" => { "Create page " em { (ui::mid(&held.title().unwrap_or_else(|| "Untitled".into()), 200)) } " under " (parent) "." }
                "blocks.children.append" => { "Add " (held.children().map_or(0, Vec::len)) " block(s) to " (target) "." }
                "pages.update" if held.trashes() => { "Move " (target) " to the trash." }
                "pages.update" => { "Update " (target) "." }
                "comments.create" => { "Comment on " (target) "." }
                op if op.starts_with("pages.markdown") => { "Edit the Markdown of " (target) "." }
                op => { "Run " code { (op) } " (" (held.method) " " code { (held.path) } ")." }
            }
        }
    }
}

fn property_table(held: &Held, looked: &Looked) -> Markup {
    let Some(props) = held.properties() else {
        return html! {};
    };
    let is_create = held.method == "POST" && held.path == "/v1/pages";
    html! {
        h2 { "Properties" }
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "Property" } @if !is_create { th { "Now" } } th { @if is_create { "Value" } @else { "After" } } } }
                tbody {
                    @for (name, value) in props {
                        @let after = preview::property_text(value);
                        @let before = looked.current_props.as_ref().and_then(|c| c.get(name)).map(preview::property_text);
                        tr {
                            td data-label="Property" { (ui::mid(name, 60)) }
                            @if !is_create {
                                td data-label="Now" {
                                    @match &before { Some(b) if !b.is_empty() => { (ui::mid(b, 200)) } Some(_) => { span class="muted" { "(empty)" } } None => { span class="muted" { "(unknown)" } } }
                                }
                            }
                            td data-label=(if is_create { "Value" } else { "After" }) {
                                @if after.is_empty() { span class="muted" { "(empty)" } } @else { strong { (ui::mid(&after, 200)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn content_preview(held: &Held) -> Markup {
    let md = match (held.markdown(), held.children()) {
        (Some(md), _) => md.to_owned(),
        (None, Some(blocks)) if !blocks.is_empty() => preview::blocks_markdown(blocks),
        _ => return html! {},
    };
    html! {
        h2 { "Content" }
        div class="preview" { (preview::markdown_html(&md)) }
    }
}

fn result_markup(a: &Approval) -> Markup {
    let body: Option<Value> = a
        .result_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let url = body
        .as_ref()
        .and_then(|b| b.get("url"))
        .and_then(Value::as_str);
    html! {
        h2 { "Result" }
        dl class="facts" {
            dt { "Status" } dd { (ui::status(a.status.as_str())) }
            @if let Some(s) = a.result_status { dt { "Notion answered" } dd { "HTTP " (s) } }
            @if let Some(t) = a.finished_at { dt { "Finished" } dd { (ui::when(t)) } }
            @if let Some(u) = url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                dt { "In Notion" } dd { a href=(u) target="_blank" rel="noopener noreferrer" { "Open the page" } }
            }
        }
        @if let Some(b) = &body {
            details { summary { "Notion's answer" } pre { (serde_json::to_string_pretty(b).unwrap_or_default()) } }
        }
    }
}

/// `GET /console/approvals/{id}`.
pub(crate) async fn detail(
    State(state): State<ConsoleState>,
    signed: Signed,
    IdPath(id): IdPath<ApprovalId>,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    let a = state.gate.approval_result(&signed.caller, id).await?;
    let held = Held::parse(&a.request.request_json);
    let looked = if a.status == ApprovalStatus::Pending {
        look(&state, &signed.caller, &a, &held).await
    } else {
        Looked::default()
    };
    let names = Names::load(&state, &signed.caller).await?;
    let ctx = Ctx::load(&state, &signed).await?;
    let agent = a.request.agent_id.and_then(|id| names.agents.get(&id));
    let pending =
        a.status == ApprovalStatus::Pending && a.expires_at > time::OffsetDateTime::now_utc();
    let raw_request = serde_json::from_str::<Value>(&a.request.request_json)
        .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
        .unwrap_or_else(|_| a.request.request_json.clone());
    let body = html! {
        (ui::notice(done.done.as_deref()))
        p { a href="/console/approvals" { "← All approvals" } }
        (summary(&a, &held, &looked))
        @if let Some(n) = &looked.note { p class="warning" { (n) } }
        dl class="facts" {
            dt { "Status" } dd { (ui::status(a.status.as_str())) }
            dt { "Asked by" } dd {
                @match agent {
                    Some((name, maturity)) => { a href=(format!("/console/agents/{}", a.request.agent_id.map(|i| i.to_string()).unwrap_or_default())) { (ui::mid(name, 60)) } " " span class="badge" { (maturity) } }
                    None => { (names.agent(a.request.agent_id)) }
                }
                @if a.request.requester_user_id.is_some() { span class="muted" { " for " (names.user(a.request.requester_user_id)) } }
            }
            dt { "Operation" } dd { code { (a.request.operation) } " · " (a.request.action_class) " class" }
            dt { "Requested" } dd { (ui::when(a.created_at)) }
            @if a.status == ApprovalStatus::Pending { dt { "Expires" } dd { (ui::when(a.expires_at)) } }
            @if let Some(t) = a.decided_at { dt { "Decided" } dd { (ui::when(t)) " by " (names.user(a.decided_by)) } }
            @if let Some(n) = a.decision_note.as_deref() { dt { "Note" } dd { (n) } }
            dt { "Approval" } dd { (ui::id(&a.id.to_string())) }
        }
        (content_preview(&held))
        (property_table(&held, &looked))
        details {
            summary { "The exact request (" (held.method) " " (held.path) ")" }
            pre { (raw_request) }
            p class="muted small" { "SHA-256 " code { (a.request_hash) } }
        }
        @if matches!(a.status, ApprovalStatus::Executed | ApprovalStatus::Failed) { (result_markup(&a)) }
        @if pending {
            section class="decide" aria-label="Decision" {
                h2 { "Decide" }
                p class="muted" { "Approving runs exactly this request once, now, with the agent's connection. Denying tells the agent no." }
                form method="post" action=(format!("/console/approvals/{}/approve", a.id)) id="decide-form" {
                    (ui::csrf(&signed))
                    div class="field" {
                        label for="note" { "Note for the agent " span class="muted" { "(optional)" } }
                        textarea id="note" name="note" maxlength="1000" {}
                    }
                    div class="actions" {
                        button type="submit" class="approve" { "Approve and run" }
                        button type="submit" class="deny" formaction=(format!("/console/approvals/{}/deny", a.id)) { "Deny" }
                    }
                }
            }
        } @else if a.status == ApprovalStatus::Pending {
            p class="warning" { "This approval has expired; it can no longer run." }
        }
    };
    Ok(page(&ctx, Nav::Inbox, "Approval", body).into_response())
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    note: String,
}

impl DecideForm {
    /// The note (trimmed, at most 1,000 characters; blank is none).
    fn note(&self) -> Option<String> {
        let n = self.note.trim();
        (!n.is_empty()).then(|| n.chars().take(1000).collect())
    }
}

/// `POST /console/approvals/{id}/approve`: approves and runs the call once.
pub(crate) async fn approve(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<ApprovalId>,
    CsrfForm(signed, form): CsrfForm<DecideForm>,
) -> Result<Response, ConsoleError> {
    let note = form.note();
    match state
        .gate
        .approve(&signed.caller, id, note.as_deref())
        .await
    {
        // The call ran (or failed at Notion): either way the page shows the result.
        Ok(_) | Err(GateError::Upstream { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/console/approvals/{id}?done=approved")).into_response())
}

/// `POST /console/approvals/{id}/deny`.
pub(crate) async fn deny(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<ApprovalId>,
    CsrfForm(signed, form): CsrfForm<DecideForm>,
) -> Result<Response, ConsoleError> {
    let note = form.note();
    state.gate.deny(&signed.caller, id, note.as_deref()).await?;
    Ok(Redirect::to(&format!("/console/approvals/{id}?done=denied")).into_response())
}
