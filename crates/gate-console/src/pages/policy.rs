//! The effective policy, read-only: the lowest maturity allowed per action class, which
//! maturities need a human's approval, and each per-agent override (its rules, allowed and
//! denied classes, and the page subtrees it is kept to).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use gate_policy::{ActionClass, AgentSelector, Maturity, Rules};
use maud::{Markup, html};

use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::Signed;
use crate::{ConsoleState, ui};

fn rules_table(rules: &Rules) -> Markup {
    html! {
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "Class" } @for m in Maturity::ALL { th { (m.as_str()) } } } }
                tbody {
                    @for class in ActionClass::ALL {
                        tr {
                            td data-label="Class" { strong { (class.as_str()) } }
                            @for m in Maturity::ALL {
                                td data-label=(m.as_str()) {
                                    @if m < rules.min_maturity(class) { (ui::badge(ui::Tone::Bad, "denied")) }
                                    @else if rules.approvals(class).contains(m) { (ui::badge(ui::Tone::Wait, "with approval")) }
                                    @else { (ui::badge(ui::Tone::Good, "allowed")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/policy`.
pub(crate) async fn page_handler(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    let ctx = Ctx::load(&state, &signed).await?;
    let policy = state.gate.policy();
    let body = html! {
        p class="prose muted" {
            "What each maturity may do, by action class. A person's own key may do everything "
            "(still audited, still bound by local-only). This page is read-only: the policy comes "
            "from the built-in defaults or the file given with " code { "--policy-file" } "."
        }
        h2 { "Defaults" }
        (rules_table(policy.defaults()))
        h2 { "Per-agent overrides" }
        @if policy.agents().is_empty() {
            (ui::empty("No per-agent overrides.", "Add [[agents]] entries to the policy file to give one agent other rules or keep it to some pages."))
        }
        @for a in policy.agents() {
            h3 {
                @match a.selector() {
                    AgentSelector::Id(id) => { "Agent " code { (id) } }
                    AgentSelector::Name(n) => { "Agents named " em { (n) } }
                    _ => { "Agents" }
                }
            }
            (rules_table(a.rules()))
            dl class="facts" {
                dt { "Allowed classes" } dd { @match a.allowed_classes() { Some(set) => { (set.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")) } None => { "all" } } }
                dt { "Denied classes" } dd { @let d: Vec<_> = a.denied_classes().iter().map(|c| c.as_str()).collect(); @if d.is_empty() { "none" } @else { (d.join(", ")) } }
                dt { "Pages" } dd { @match a.roots() { Some(roots) => { "only under " @for (i, r) in roots.iter().enumerate() { @if i > 0 { ", " } code { (r) } } } None => { "the whole connection" } } }
            }
        }
    };
    Ok(page(&ctx, Nav::Policy, "Policy", body).into_response())
}
