//! The page frame: the head (style sheet, htmx with a CSP-safe configuration, our script),
//! the left navigation with the inbox's pending count, the signed-in user and sign-out at the
//! bottom, and the content column. [`bare`] is the frame without navigation (sign-in, errors).

use gate_store::{ApprovalFilter, ApprovalStatus};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::assets::{HTMX, ICON, SCRIPT, STYLE};
use crate::error::ConsoleError;
use crate::session::Signed;
use crate::{ConsoleState, ui};

/// The navigation's entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nav {
    Inbox,
    Overview,
    Agents,
    Connections,
    Audit,
    Policy,
    Users,
    Sessions,
}

impl Nav {
    fn entries(admin: bool) -> Vec<(Nav, &'static str, &'static str)> {
        let mut v = vec![
            (Nav::Inbox, "Inbox", "/console/approvals"),
            (Nav::Overview, "Overview", "/console/overview"),
            (Nav::Agents, "Agents", "/console/agents"),
            (Nav::Connections, "Connections", "/console/connections"),
            (Nav::Audit, "Audit", "/console/audit"),
            (Nav::Policy, "Policy", "/console/policy"),
        ];
        if admin {
            v.push((Nav::Users, "Users", "/console/users"));
        }
        v.push((Nav::Sessions, "Sessions", "/console/sessions"));
        v
    }
}

/// What the frame needs to know about the person and the inbox.
pub(crate) struct Ctx<'a> {
    pub(crate) signed: &'a Signed,
    pub(crate) pending: usize,
}

/// Most pending approvals counted for the badge ("100+" beyond).
const PENDING_CAP: u32 = 100;

impl<'a> Ctx<'a> {
    /// Loads the pending count this person may see.
    pub(crate) async fn load(
        state: &ConsoleState,
        signed: &'a Signed,
    ) -> Result<Self, ConsoleError> {
        let pending = state
            .gate
            .list_approvals(
                &signed.caller,
                ApprovalFilter::new()
                    .status(ApprovalStatus::Pending)
                    .limit(PENDING_CAP),
            )
            .await?
            .len();
        Ok(Self { signed, pending })
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            meta name="referrer" content="no-referrer";
            // htmx must not inject inline styles or evaluate strings: the CSP forbids both.
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"refreshOnHistoryMiss":true}"#;
            title { (title) " · notion-gate" }
            link rel="icon" href=(ICON.href()) type="image/svg+xml";
            link rel="stylesheet" href=(STYLE.href());
            script src=(HTMX.href()) defer {}
            script src=(SCRIPT.href()) defer {}
        }
    }
}

/// A full console page.
pub(crate) fn page(ctx: &Ctx<'_>, active: Nav, title: &str, body: Markup) -> Markup {
    let caller = &ctx.signed.caller;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body hx-boost="true" {
                a class="skip" href="#main" { "Skip to content" }
                div class="shell" {
                    nav class="side" aria-label="Main" {
                        a class="brand" href="/console" { (PreEscaped(LOGO)) span { "notion-gate" } }
                        ul {
                            @for (nav, label, href) in Nav::entries(caller.is_admin()) {
                                li {
                                    a href=(href) aria-current=[(nav == active).then_some("page")] {
                                        span { (label) }
                                        @if nav == Nav::Inbox && ctx.pending > 0 {
                                            span class="count" aria-label=(format!("{} pending", ctx.pending)) {
                                                @if ctx.pending >= PENDING_CAP as usize { "100+" } @else { (ctx.pending) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        div class="me" {
                            span class="who" title=(caller.name) { (ui::mid(&caller.name, 24)) }
                            @if caller.is_admin() { span class="muted small" { "administrator" } }
                            form method="post" action="/console/logout" {
                                (ui::csrf(ctx.signed))
                                button type="submit" class="link" { "Sign out" }
                            }
                        }
                    }
                    main id="main" class="content" tabindex="-1" {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body class="bare" {
                div class="bare-brand" { (PreEscaped(LOGO)) span { "notion-gate" } }
                (body)
            }
        }
    }
}

/// The mark: a gate (two posts and a bar), drawn inline so it needs no request.
const LOGO: &str = r#"<svg class="logo" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><rect x="3" y="4" width="4" height="16" rx="1" fill="currentColor"/><rect x="17" y="4" width="4" height="16" rx="1" fill="currentColor"/><rect x="7" y="9" width="10" height="3" rx="1" fill="currentColor" opacity=".55"/></svg>"#;
