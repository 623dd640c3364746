//! Console sessions: the signed-in browsers of this person (of everyone, for an admin), and
//! revoking one. Signing out ends the current one.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gate_store::ConsoleSessionId;
use maud::html;

use super::{Done, Empty, IdPath, Names};
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

/// `GET /console/sessions`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    let sessions = state.gate.list_console_sessions(caller).await?;
    let names = Names::load(&state, caller).await?;
    let ctx = Ctx::load(&state, &signed).await?;
    let body = html! {
        (ui::notice(done.done.as_deref()))
        p class="prose muted" { "Browsers signed in to this console. A session lasts " (state.config.session_ttl.as_secs() / 3600) " hours unless it is revoked or its key is." }
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "Who" } th { "Browser" } th { "From" } th { "Signed in" } th { "Last seen" } th { "Expires" } th { span class="muted" { "Actions" } } } }
                tbody {
                    @for s in &sessions {
                        tr {
                            td data-label="Who" { (names.user(Some(s.user_id))) @if s.id == signed.session.id { " " (ui::badge(ui::Tone::Good, "this browser")) } }
                            td data-label="Browser" { (ui::mid(s.user_agent.as_deref().unwrap_or("—"), 48)) }
                            td data-label="From" { (s.client_addr.as_deref().unwrap_or("—")) }
                            td data-label="Signed in" class="nowrap" { (ui::when(s.created_at)) }
                            td data-label="Last seen" class="nowrap" { (ui::when(s.last_seen_at)) }
                            td data-label="Expires" class="nowrap" { (ui::when(s.expires_at)) }
                            td data-label="Actions" {
                                form method="post" action=(format!("/console/sessions/{}/revoke", s.id)) {
                                    (ui::csrf(&signed))
                                    button type="submit" class="danger" { @if s.id == signed.session.id { "Sign out" } @else { "Revoke" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&ctx, Nav::Sessions, "Sessions", body).into_response())
}

/// `POST /console/sessions/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<ConsoleSessionId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    state
        .gate
        .revoke_console_session(&signed.caller, id)
        .await?;
    if id == signed.session.id {
        return Ok(Redirect::to("/console/login?done=signed-out").into_response());
    }
    Ok(Redirect::to("/console/sessions?done=revoked").into_response())
}
