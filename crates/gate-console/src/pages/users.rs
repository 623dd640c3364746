//! Users (administrators only): add a user (their key shown once), disable or enable one.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gate_store::{CreatedApiKey, UserId};
use maud::html;
use serde::Deserialize;

use super::{Done, Empty, IdPath};
use crate::error::ConsoleError;
use crate::layout::{Ctx, Nav, page};
use crate::pages::agents::key_once;
use crate::session::{CsrfForm, Signed};
use crate::{ConsoleState, ui};

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    done: Option<&str>,
    created: Option<(String, CreatedApiKey)>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let caller = &signed.caller;
    if !caller.is_admin() {
        return Err(ConsoleError::Forbidden(
            "Only administrators manage users.".into(),
        ));
    }
    let users = state.gate.list_users(caller).await?;
    let ctx = Ctx::load(state, signed).await?;
    let body = html! {
        (ui::notice(done))
        @if let Some((name, key)) = &created { (key_once(key, &format!("user “{name}”"))) }
        @if let Some(e) = &error { p class="error" role="alert" { (e) } }
        div class="table-wrap" {
            table class="stack" {
                thead { tr { th { "Name" } th { "Role" } th { "Status" } th { "Added" } th { span class="muted" { "Actions" } } } }
                tbody {
                    @for u in &users {
                        tr {
                            td data-label="Name" { (ui::mid(&u.name, 40)) @if u.id == caller.user_id { span class="muted small" { " (you)" } } }
                            td data-label="Role" { @if u.is_admin { "administrator" } @else { "user" } }
                            td data-label="Status" { @if u.disabled { (ui::status("disabled")) } @else { (ui::status("active")) } }
                            td data-label="Added" class="nowrap" { (ui::when(u.created_at)) }
                            td data-label="Actions" {
                                @if u.id != caller.user_id {
                                    @if u.disabled {
                                        form method="post" action=(format!("/console/users/{}/enable", u.id)) { (ui::csrf(signed)) button type="submit" { "Enable" } }
                                    } @else {
                                        form method="post" action=(format!("/console/users/{}/disable", u.id)) { (ui::csrf(signed)) button type="submit" class="danger" data-confirm="Disable this user? Their keys and their agents' keys stop working." { "Disable" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a user" }
        form method="post" action="/console/users" class="card" {
            (ui::csrf(signed))
            div class="row" {
                div class="field" {
                    label for="user-name" { "Name" }
                    input id="user-name" name="name" type="text" required maxlength="200" autocomplete="off";
                }
                div class="field" {
                    label for="user-admin" { "Role" }
                    select id="user-admin" name="admin" { option value="" { "user" } option value="yes" { "administrator" } }
                }
            }
            p class="hint" { "A user manages their own agents and connections and decides their agents' approvals." }
            button type="submit" class="primary" { "Add user" }
        }
    };
    Ok(page(&ctx, Nav::Users, "Users", body).into_response())
}

/// `GET /console/users`.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    render(&state, &signed, done.done.as_deref(), None, None).await
}

/// The add-user form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewUserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    admin: String,
}

/// `POST /console/users`: adds the user and shows their key once.
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    CsrfForm(signed, f): CsrfForm<NewUserForm>,
) -> Result<Response, ConsoleError> {
    let name = f.name.trim().to_owned();
    if name.is_empty() {
        return render(
            &state,
            &signed,
            None,
            None,
            Some("Give the user a name.".into()),
        )
        .await;
    }
    let user = match state
        .gate
        .create_user(&signed.caller, &name, f.admin == "yes")
        .await
    {
        Ok(u) => u,
        Err(gate_core::GateError::Conflict { .. }) => {
            return render(
                &state,
                &signed,
                None,
                None,
                Some(format!("A user named “{name}” exists already.")),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let key = state
        .gate
        .issue_user_key(&signed.caller, user.id, Some("console"))
        .await?;
    render(&state, &signed, None, Some((user.name, key)), None).await
}

async fn set_disabled(
    state: ConsoleState,
    id: UserId,
    signed: Signed,
    disabled: bool,
) -> Result<Response, ConsoleError> {
    if id == signed.caller.user_id {
        return Err(ConsoleError::Forbidden(
            "You cannot disable yourself.".into(),
        ));
    }
    state
        .gate
        .set_user_disabled(&signed.caller, id, disabled)
        .await?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/console/users?done={done}")).into_response())
}

/// `POST /console/users/{id}/disable`.
pub(crate) async fn disable(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<UserId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    set_disabled(state, id, signed, true).await
}

/// `POST /console/users/{id}/enable`.
pub(crate) async fn enable(
    State(state): State<ConsoleState>,
    IdPath(id): IdPath<UserId>,
    CsrfForm(signed, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    set_disabled(state, id, signed, false).await
}
