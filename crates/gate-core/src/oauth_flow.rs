//! Connecting a workspace with Notion's OAuth, and disconnecting it.
//!
//! - [`Gate::start_oauth`]: a user (never an agent) gets an authorization URL carrying a
//!   random single-use `state` (256 bits, stored only as its SHA-256, bound to the user,
//!   living at most 10 minutes), `owner=user`, `response_type=code` and the redirect URI,
//!   percent-encoded.
//! - [`Gate::complete_oauth`]: the callback is authenticated by the `state` alone. The state
//!   is consumed first (one conditional update in the store, so it works once across every
//!   instance); a missing, unknown, expired or reused state is refused before anything else.
//!   A denial (`error=access_denied`) records nothing. Otherwise the code is exchanged once
//!   (JSON body, Basic client authentication, never retried) and the connection is stored
//!   encrypted, keyed by owner and bot id. The exchange and the storage run in their own task,
//!   so a browser that goes away mid-way cannot leave a spent code without a stored
//!   connection.
//! - [`Gate::disconnect`]: an OAuth connection's token is revoked at Notion, then the
//!   connection is deleted; a token connection is just deleted. Notion saying the token is
//!   invalid already counts as revoked. Any other failure (client credentials refused, Notion
//!   unreachable or failing) keeps the connection, revoked here (it stops working at once)
//!   and flagged `revocation_failed`, and answers [`GateError::RevocationFailed`] saying
//!   what to do; disconnecting again retries. A failed revocation never answers success.
//! - A refused code exchange names Notion's reason: a redirect URI mismatch, client
//!   credentials refused, or a code expired, used or issued to another integration.
//!
//! Local-only mode refuses starting, completing (the exchange) and revoking: each is a call
//! to Notion.

use gate_store::{ConnectionId, ConnectionKind, NewConnection, NewOAuthState, TokenHash, UserId};
use notion_client::ErrorCode;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::caller::Caller;
use crate::error::GateError;
use crate::gate::Gate;

/// The start of an OAuth flow: where to send the browser, and until when it may come back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthStart {
    /// Notion's consent page, with every parameter percent-encoded.
    pub authorization_url: String,
    /// When the `state` in the URL stops being accepted.
    pub expires_at: OffsetDateTime,
}

/// How an OAuth callback ended (errors are [`GateError`]s).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OAuthCompletion {
    /// The workspace is connected (or reconnected: same owner and bot, same id).
    Connected(Box<gate_store::Connection>),
    /// The user declined at Notion (or Notion reported another `error`); nothing was stored.
    Cancelled {
        /// Notion's `error` value, reduced to a safe token (`access_denied`, …).
        error: String,
    },
}

/// The longest `code` accepted from the callback.
const MAX_CODE_LEN: usize = 512;

/// Keeps only what identifies the authorizing owner: its type and, for a user, the user id.
/// Names, avatars and e-mail addresses are not stored.
fn minimal_owner(owner: &Value) -> Option<Value> {
    match owner.get("type").and_then(Value::as_str) {
        Some("user") => {
            let id = owner
                .get("user")
                .and_then(|u| u.get("id"))
                .cloned()
                .unwrap_or(Value::Null);
            Some(json!({"type": "user", "user": {"id": id}}))
        }
        Some("workspace") => Some(json!({"type": "workspace", "workspace": true})),
        _ => None,
    }
}

/// Reduces an `error` parameter to lowercase letters and underscores (at most 64).
fn safe_error(error: &str) -> String {
    let cleaned: String = error
        .chars()
        .filter(|c| c.is_ascii_alphabetic() || *c == '_')
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if cleaned.is_empty() {
        "unknown_error".to_owned()
    } else {
        cleaned
    }
}

impl Gate {
    /// Starts connecting a workspace for `actor` (a user): stores a fresh single-use state
    /// and answers Notion's authorization URL for `redirect_uri` (which must be registered
    /// at Notion).
    pub async fn start_oauth(
        &self,
        actor: &Caller,
        redirect_uri: &str,
    ) -> Result<OAuthStart, GateError> {
        if actor.is_agent() {
            return Err(GateError::not_permitted("agents cannot connect workspaces"));
        }
        let Some(oauth) = self.inner.oauth.as_ref() else {
            return Err(GateError::NotConfigured {
                what: "Notion OAuth (client id and secret)",
            });
        };
        self.inner.outbound_allowed()?;
        let created = self
            .inner
            .store
            .create_oauth_state(NewOAuthState::new(actor.user_id))
            .await?;
        // Best effort: old states are useless; clearing them never fails the request.
        let store = std::sync::Arc::clone(&self.inner.store);
        tokio::spawn(async move {
            if let Err(e) = store.purge_oauth_states().await {
                tracing::debug!(error = %e, "could not purge old OAuth states");
            }
        });
        let url = oauth.authorize_url(Some(redirect_uri), created.state.expose_secret());
        tracing::info!(user_id = %actor.user_id, "OAuth flow started");
        Ok(OAuthStart {
            authorization_url: url,
            expires_at: created.info.expires_at,
        })
    }

    /// Completes an OAuth flow from Notion's redirect. The user is the one the `state` was
    /// issued to; `expected_user`, when the callback also carried a key, must be that user.
    /// `redirect_uri` must be the one of [`Gate::start_oauth`].
    pub async fn complete_oauth(
        &self,
        state: Option<&str>,
        code: Option<&str>,
        error: Option<&str>,
        redirect_uri: &str,
        expected_user: Option<UserId>,
    ) -> Result<OAuthCompletion, GateError> {
        let bad_state = || {
            GateError::invalid(
                "state",
                "the authorization link is unknown, expired or already used; start connecting again",
            )
        };
        let state = state
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 512);
        let Some(state) = state else {
            return Err(GateError::invalid(
                "state",
                "the callback carries no state; start connecting again",
            ));
        };
        let Some(consumed) = self
            .inner
            .store
            .consume_oauth_state(&TokenHash::of(state))
            .await?
        else {
            tracing::warn!("OAuth callback with an unknown, expired or used state");
            return Err(bad_state());
        };
        let user_id = consumed.user_id;
        if expected_user.is_some_and(|u| u != user_id) {
            tracing::warn!(state_user = %user_id, "OAuth callback by another user than the one who started it");
            return Err(GateError::invalid(
                "state",
                "this authorization was started by another user",
            ));
        }
        if let Some(error) = error {
            let error = safe_error(error);
            tracing::info!(user_id = %user_id, error = %error, "OAuth flow cancelled at Notion");
            return Ok(OAuthCompletion::Cancelled { error });
        }
        let code = code
            .map(str::trim)
            .filter(|c| !c.is_empty() && c.len() <= MAX_CODE_LEN)
            .ok_or_else(|| GateError::invalid("code", "the callback carries no code"))?
            .to_owned();
        match self.inner.store.get_user(user_id).await {
            Ok(u) if !u.disabled => {}
            Ok(_) => return Err(bad_state()),
            Err(e) if e.is_not_found() => return Err(bad_state()),
            Err(e) => return Err(e.into()),
        }
        if self.inner.oauth.is_none() {
            return Err(GateError::NotConfigured {
                what: "Notion OAuth (client id and secret)",
            });
        }
        self.inner.outbound_allowed()?;
        // From here the code is spent: finish in a task of its own.
        let gate = self.clone();
        let redirect_uri = redirect_uri.to_owned();
        let task =
            tokio::spawn(
                async move { gate.exchange_and_store(user_id, &code, &redirect_uri).await },
            );
        match task.await {
            Ok(r) => r.map(|c| OAuthCompletion::Connected(Box::new(c))),
            Err(_) => Err(GateError::Conflict {
                what: "the connection could not be completed; start connecting again".to_owned(),
            }),
        }
    }

    async fn exchange_and_store(
        &self,
        user_id: UserId,
        code: &str,
        redirect_uri: &str,
    ) -> Result<gate_store::Connection, GateError> {
        let Some(oauth) = self.inner.oauth.as_ref() else {
            return Err(GateError::NotConfigured {
                what: "Notion OAuth (client id and secret)",
            });
        };
        let token = match oauth.exchange_code(code, Some(redirect_uri)).await {
            Ok(t) => t,
            Err(e) => {
                // Notion's body stays on the server (and holds no secret of ours).
                tracing::warn!(user_id = %user_id, status = ?e.status(), code = ?e.code().map(ErrorCode::as_str), "Notion refused the authorization code");
                return Err(exchange_failure(&e, redirect_uri));
            }
        };
        let mut new = NewConnection::new(
            user_id,
            ConnectionKind::OAuth,
            token.workspace_id.clone(),
            token.bot_id.clone(),
            token.access_token.clone(),
        )
        .workspace(token.workspace_name.clone(), token.workspace_icon.clone());
        if let Some(owner) = minimal_owner(&token.owner) {
            new = new.owner(owner);
        }
        if let Some(rt) = token.refresh_token.clone() {
            new = new.refresh_token(rt);
        }
        if let Some(secs) = token.expires_in {
            let secs = i64::try_from(secs.min(10 * 365 * 24 * 3600)).unwrap_or(i64::MAX);
            new = new.expires_at(OffsetDateTime::now_utc() + time::Duration::seconds(secs));
        }
        let c = self
            .inner
            .store
            .upsert_connection(&self.inner.vault, new)
            .await?;
        self.inner.cache.invalidate_user(user_id);
        self.inner.registry.mark_stale(c.id);
        tracing::info!(connection_id = %c.id, user_id = %user_id, "OAuth connection stored");
        Ok(c)
    }

    /// Disconnects a connection the actor may see: revokes an OAuth token at Notion, then
    /// deletes the connection (agents bound to it are unbound). A token connection is just
    /// deleted (its token belongs to an internal integration that only its owner can
    /// rotate in Notion).
    ///
    /// A revocation that Notion answers with "this token is invalid" (`400 invalid_grant`,
    /// `401 unauthorized`) means the token is dead already: the connection is deleted. Any
    /// other failure (the client credentials refused, Notion unreachable or failing, OAuth
    /// not configured, local-only mode) keeps the connection, revoked here and flagged
    /// `revocation_failed`, and answers [`GateError::RevocationFailed`]: calling `disconnect`
    /// again retries. A failed revocation never answers success.
    pub async fn disconnect(&self, actor: &Caller, id: ConnectionId) -> Result<(), GateError> {
        let c = self.get_connection(actor, id).await?;
        if c.kind == ConnectionKind::OAuth
            && let Err(failure) = self.revoke_at_notion(id).await?
        {
            // Stop using it here at once; keep it (and its token) so that the user is told
            // and can try again.
            if let Err(e2) = self.inner.store.mark_revocation_failed(id).await {
                tracing::warn!(connection_id = %id, error = %e2, "could not flag the connection's failed revocation");
            }
            self.inner.registry.mark_stale(id);
            self.inner.cache.invalidate_user(c.owner_id);
            tracing::warn!(connection_id = %id, reason = failure.code(), "the token could not be revoked at Notion; the connection is kept, disabled and flagged");
            return Err(failure);
        }
        self.inner.store.delete_connection(id).await?;
        self.inner.registry.mark_stale(id);
        self.inner.cache.invalidate_user(c.owner_id);
        tracing::info!(connection_id = %id, kind = %c.kind, "connection removed");
        Ok(())
    }

    /// Revokes a connection's token at Notion. `Ok(Ok(()))`: revoked, or Notion says the
    /// token is invalid already; `Ok(Err(_))`: not revoked (a
    /// [`GateError::RevocationFailed`]); `Err`: the store failed.
    async fn revoke_at_notion(&self, id: ConnectionId) -> Result<Result<(), GateError>, GateError> {
        let failed = |reason, advice| GateError::RevocationFailed {
            connection_id: id,
            reason,
            notion_status: None,
            notion_code: None,
            advice,
        };
        let tokens = match self
            .inner
            .store
            .connection_tokens(&self.inner.vault, id)
            .await
        {
            Ok(t) => t,
            // Nothing usable to revoke: no key of this gateway can read the token, so it can
            // never be sent (revoking it needs the owner at Notion's settings).
            Err(gate_store::StoreError::ReconnectRequired { .. }) => {
                tracing::warn!(connection_id = %id, "the connection's token cannot be decrypted, so it cannot be revoked at Notion; remove the connection in Notion's settings");
                return Ok(Ok(()));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(oauth) = self.inner.oauth.as_ref() else {
            return Ok(Err(failed("not_configured", NOT_CONFIGURED_ADVICE)));
        };
        if self.inner.outbound_allowed().is_err() {
            return Ok(Err(failed("local_only", LOCAL_ONLY_ADVICE)));
        }
        match oauth.revoke(&tokens.access_token).await {
            Ok(()) => Ok(Ok(())),
            Err(e) => match revocation_failure(&e) {
                None => {
                    tracing::info!(connection_id = %id, status = ?e.status(), code = ?e.code().map(ErrorCode::as_str), "Notion reports the token invalid already");
                    Ok(Ok(()))
                }
                Some((reason, advice)) => Ok(Err(GateError::RevocationFailed {
                    connection_id: id,
                    reason,
                    notion_status: e.status(),
                    notion_code: e.code().map(|c| c.as_str().to_owned()),
                    advice,
                })),
            },
        }
    }
}

const NOT_CONFIGURED_ADVICE: &str = "OAuth client credentials are not configured on this \
gateway, so the token cannot be revoked: set NOTION_GATE_OAUTH_CLIENT_ID and \
NOTION_GATE_OAUTH_CLIENT_SECRET and disconnect again, or remove the connection in Notion \
(Settings, Connections); the connection is disabled here meanwhile";

const LOCAL_ONLY_ADVICE: &str = "local-only mode blocks the call to Notion that revokes the \
token: disconnect again with local-only mode off, or remove the connection in Notion \
(Settings, Connections); the connection is disabled here meanwhile";

const CLIENT_ADVICE: &str = "Notion refused this gateway's OAuth client credentials (was the \
client secret changed at Notion?): fix NOTION_GATE_OAUTH_CLIENT_ID / \
NOTION_GATE_OAUTH_CLIENT_SECRET and disconnect again, or remove the connection in Notion \
(Settings, Connections); the token is still valid at Notion and the connection is disabled \
here meanwhile";

const UNREACHABLE_ADVICE: &str = "Notion could not be reached, so the token is still valid at \
Notion: disconnect again later; the connection is disabled here meanwhile";

const NOTION_ERROR_ADVICE: &str = "Notion did not revoke the token (it answered with an \
error): disconnect again later, or remove the connection in Notion (Settings, Connections); \
the connection is disabled here meanwhile";

/// Whether a failed revocation means "not revoked" (`Some(reason, advice)`), or "the token is
/// invalid already" (`None`: Notion answered `400 invalid_grant` or `401 unauthorized` about
/// the token itself). Client credentials refused (`401 invalid_client`,
/// `400 unauthorized_client`), any other answer (a malformed request, 403, 429, 5xx) and no
/// answer at all are failures.
pub(crate) fn revocation_failure(e: &notion_client::Error) -> Option<(&'static str, &'static str)> {
    let Some(api) = e.api() else {
        return Some(("notion_unreachable", UNREACHABLE_ADVICE));
    };
    match (api.status, &api.code) {
        (400, ErrorCode::InvalidGrant) | (401, ErrorCode::Unauthorized) => None,
        (401, _) | (400, ErrorCode::UnauthorizedClient) => Some(("invalid_client", CLIENT_ADVICE)),
        _ => Some(("notion_error", NOTION_ERROR_ADVICE)),
    }
}

/// The error a refused authorization-code exchange answers, naming Notion's reason: a
/// redirect URI that does not match (a configuration problem), client credentials refused,
/// or a code that expired, was used already or belongs to another integration.
pub(crate) fn exchange_failure(e: &notion_client::Error, redirect_uri: &str) -> GateError {
    let Some(api) = e.api() else {
        return GateError::from_client(e);
    };
    let notion_said = |m: &str| -> String {
        let m: String = m.chars().filter(|c| !c.is_control()).take(200).collect();
        if m.is_empty() {
            String::new()
        } else {
            format!(" (Notion: {m})")
        }
    };
    let about_redirect = api.message.to_ascii_lowercase().contains("redirect");
    match (api.status, &api.code) {
        (400, ErrorCode::InvalidGrant | ErrorCode::InvalidRequest) if about_redirect => {
            GateError::invalid(
                "redirect_uri",
                format!(
                    "Notion refused the redirect URI {redirect_uri}: it must be registered for the \
                     integration at Notion exactly as sent{}; fix the registration (or \
                     NOTION_GATE_OAUTH_REDIRECT_URI / --public-url), then start connecting again",
                    notion_said(&api.message)
                ),
            )
        }
        (400, ErrorCode::InvalidGrant) => GateError::invalid(
            "code",
            format!(
                "Notion refused the authorization code: it expired, was already used, or was \
                 issued to another integration{}; start connecting again",
                notion_said(&api.message)
            ),
        ),
        (401, _) | (400, ErrorCode::UnauthorizedClient) => GateError::NotConfigured {
            what: "valid Notion OAuth client credentials (Notion refused the client id or \
                   secret: check NOTION_GATE_OAUTH_CLIENT_ID and NOTION_GATE_OAUTH_CLIENT_SECRET)",
        },
        (400, _) => GateError::invalid(
            "code",
            format!(
                "Notion refused the code exchange{}; start connecting again",
                notion_said(&api.message)
            ),
        ),
        _ => GateError::from_client(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_reduced_to_its_id() {
        let o = json!({"type": "user", "user": {"object": "user", "id": "u1", "name": "A", "person": {"email": "a@b.c"}}});
        assert_eq!(
            minimal_owner(&o),
            Some(json!({"type": "user", "user": {"id": "u1"}}))
        );
        assert_eq!(
            minimal_owner(&json!({"type": "workspace", "workspace": true})),
            Some(json!({"type": "workspace", "workspace": true}))
        );
        assert_eq!(minimal_owner(&Value::Null), None);
    }

    #[test]
    fn error_values_are_reduced() {
        assert_eq!(safe_error("access_denied"), "access_denied");
        assert_eq!(safe_error("<script>x"), "scriptx");
        assert_eq!(safe_error("%%"), "unknown_error");
    }
}
