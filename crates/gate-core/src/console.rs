//! Web console sessions: a person signs in with their own user key and gets a session that
//! acts with that key's rights. Agent keys cannot sign in. The store keeps only hashes: of
//! the session token, and of the key that signed in (so revoking the key, or disabling the
//! user, ends the session at the next request, within the auth cache's TTL on other
//! instances).

use std::time::Duration;

use gate_store::{ConsoleSession, ConsoleSessionId, NewConsoleSession, TokenHash};
use secrecy::SecretString;

use crate::cache::Digest;
use crate::caller::Caller;
use crate::error::GateError;
use crate::error::Refusal;
use crate::gate::Gate;

/// The default lifetime of a console session (12 hours).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// How often a session's `last_seen_at` is written at most.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(60);

/// A successful sign-in: who, and the session token for the cookie (shown nowhere else).
#[derive(Debug)]
#[non_exhaustive]
pub struct ConsoleSignIn {
    /// The signed-in user.
    pub caller: Caller,
    /// The session token (`ngs_…`).
    pub token: SecretString,
    /// The stored session.
    pub session: ConsoleSession,
}

/// Who a browser is signing in from (informational, shown in the session list).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The client address.
    pub addr: Option<String>,
}

impl ClientInfo {
    /// Client details from a user agent and an address.
    pub fn new(user_agent: Option<String>, addr: Option<String>) -> Self {
        Self { user_agent, addr }
    }
}

fn digest_of_hash(hash: &TokenHash) -> Option<Digest> {
    let hex = hash.as_str().as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(Digest(out))
}

impl Gate {
    /// Signs a person in with their user key: a new session of `ttl`. An agent's key is
    /// refused (`Forbidden`, code `agent_key`), as are unknown and revoked keys
    /// (`Unauthenticated`).
    pub async fn console_sign_in(
        &self,
        key: &str,
        ttl: Duration,
        client: ClientInfo,
    ) -> Result<ConsoleSignIn, GateError> {
        let key = key.trim();
        let caller = self.authenticate(key).await?;
        if caller.is_agent() {
            return Err(GateError::Forbidden {
                code: Refusal::AgentKey,
                reason: "an agent's key cannot sign in to the console; use your own user key"
                    .into(),
                needed: None,
            });
        }
        let new = NewConsoleSession::new(caller.user_id, TokenHash::of(key), ttl)
            .user_agent(client.user_agent.as_deref())
            .client_addr(client.addr);
        let created = self.inner.store.create_console_session(new).await?;
        Ok(ConsoleSignIn {
            caller,
            token: created.token,
            session: created.info,
        })
    }

    /// The caller behind a session token, and the session. An unknown, expired or ended
    /// session, or one whose key was revoked or whose user was disabled, is
    /// `Unauthenticated`.
    pub async fn console_session(
        &self,
        token: &str,
    ) -> Result<(Caller, ConsoleSession), GateError> {
        let token = token.trim();
        if !token.starts_with("ngs_") || token.len() > 200 {
            return Err(GateError::Unauthenticated);
        }
        let hash = TokenHash::of(token);
        let Some(session) = self.inner.store.find_console_session(&hash).await? else {
            return Err(GateError::Unauthenticated);
        };
        let d = digest_of_hash(&session.key_hash).ok_or(GateError::Unauthenticated)?;
        let caller = self.authenticate_digest(d).await?;
        if caller.is_agent() || caller.user_id != session.user_id {
            return Err(GateError::Unauthenticated);
        }
        if time::OffsetDateTime::now_utc() - session.last_seen_at > TOUCH_EVERY {
            let store = std::sync::Arc::clone(&self.inner.store);
            let id = session.id;
            tokio::spawn(async move {
                // Best effort: last-seen is informational.
                let _ = store.touch_console_session(id).await;
            });
        }
        Ok((caller, session))
    }

    /// Ends the session of a token (sign-out). Unknown tokens are ignored.
    pub async fn console_sign_out(&self, token: &str) -> Result<(), GateError> {
        if let Some(s) = self
            .inner
            .store
            .find_console_session(&TokenHash::of(token.trim()))
            .await?
        {
            self.inner.store.revoke_console_session(s.id).await?;
        }
        Ok(())
    }

    /// Live console sessions: the actor's own, or everyone's for an admin.
    pub async fn list_console_sessions(
        &self,
        actor: &Caller,
    ) -> Result<Vec<ConsoleSession>, GateError> {
        if actor.is_agent() {
            return Err(GateError::not_permitted("agents have no console sessions"));
        }
        let owner = (!actor.is_admin()).then_some(actor.user_id);
        Ok(self.inner.store.list_console_sessions(owner).await?)
    }

    /// Ends a session: the actor's own, or anyone's for an admin; others are `NotFound`.
    pub async fn revoke_console_session(
        &self,
        actor: &Caller,
        id: ConsoleSessionId,
    ) -> Result<ConsoleSession, GateError> {
        if actor.is_agent() {
            return Err(GateError::NotFound {
                what: "console session",
            });
        }
        let visible = self
            .inner
            .store
            .list_console_sessions((!actor.is_admin()).then_some(actor.user_id))
            .await?
            .into_iter()
            .any(|s| s.id == id);
        if !visible {
            return Err(GateError::NotFound {
                what: "console session",
            });
        }
        Ok(self.inner.store.revoke_console_session(id).await?)
    }

    /// Deletes ended and expired sessions (housekeeping); returns how many.
    pub async fn purge_console_sessions(&self) -> Result<u64, GateError> {
        Ok(self.inner.store.purge_console_sessions().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::digest;

    #[test]
    fn a_stored_hash_turns_back_into_the_digest_of_the_key() {
        let key = "ngu_example";
        let d = digest_of_hash(&TokenHash::of(key)).expect("64 hex digits");
        assert!(d == digest(key));
        assert!(digest_of_hash(&TokenHash::of("other")).is_some_and(|o| !(o == d)));
    }
}
