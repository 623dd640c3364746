//! The connection registry: one entry per connection id per process, holding the
//! connection's one limiter (shared by every caller of that connection) and its current
//! token, refreshed single-flight.
//!
//! - **Loading.** The first call of a connection reads its row and decrypts its tokens; a
//!   revoked, `needs_reauth` or undecryptable connection is [`GateError::ReconnectRequired`]
//!   and nothing is sent. The token is re-validated against the row at most every cache TTL
//!   (or at once after [`Registry::mark_stale`]).
//! - **Refresh.** An OAuth token whose expiry is within a minute, or that Notion answered 401
//!   to, is refreshed under the entry's async mutex: concurrent calls in this process wait
//!   for one refresh and use its result. Across instances the refresh is single-flight too:
//!   before calling Notion an instance claims the row with a conditional update
//!   ([`gate_store::Store::claim_token_refresh`], a lease of [`REFRESH_LEASE`]). An instance
//!   that finds the claim taken does not refresh: it polls the row until the winner's new
//!   tokens land (the row's `updated_at` changes) and uses them; if the winner gives up or
//!   dies, its claim is released or its lease runs out and the next claimer refreshes. So a
//!   rotating refresh token is spent exactly once. (Should a refresh still be refused with
//!   `invalid_grant`, the row is re-read once more before the connection is flagged.)
//! - **Sessions.** A session's connection carries [`SessionReauth`], so that a 401 to any of
//!   its requests (typed endpoints, pagination, the tree fetcher) gets the same single-flight
//!   refresh and one repeat as `call`, and the session's later requests use the new token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use gate_store::{ConnectionId, ConnectionKind, UserId};
use notion_client::{Coalescer, ErrorCode, RateLimiter};
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::error::GateError;
use crate::gate::Inner;

/// Tokens expiring within this margin are refreshed before use.
const EXPIRY_MARGIN: time::Duration = time::Duration::seconds(60);

/// How long an instance's claim on a connection's refresh lasts if it never finishes (a
/// crash): longer than one refresh request may take.
pub(crate) const REFRESH_LEASE: Duration = Duration::from_secs(30);

/// How often an instance that lost the claim re-reads the row for the winner's tokens.
const CLAIM_POLL: Duration = Duration::from_millis(25);

/// The usable state of one connection.
#[derive(Clone)]
pub(crate) struct Current {
    pub(crate) conn: notion_client::Connection,
    pub(crate) generation: u64,
    pub(crate) owner_id: UserId,
    kind: ConnectionKind,
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    expires_at: Option<OffsetDateTime>,
    row_updated_at: OffsetDateTime,
    fetched: Instant,
}

impl Current {
    fn expiring(&self) -> bool {
        self.expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc() + EXPIRY_MARGIN)
    }

    fn refreshable(&self) -> bool {
        self.kind == ConnectionKind::OAuth && self.refresh_token.is_some()
    }
}

/// One connection's entry.
pub(crate) struct ConnEntry {
    id: ConnectionId,
    limiter: Arc<dyn RateLimiter>,
    /// Identical reads of every handle of the connection (whatever its token generation)
    /// share one request; its writes move one write epoch.
    coalescer: Arc<Coalescer>,
    state: tokio::sync::Mutex<Option<Current>>,
    stale: AtomicBool,
}

impl ConnEntry {
    /// Whether the connection holds no usable token: flagged for re-authorisation, revoked or
    /// gone (or not loaded yet).
    pub(crate) async fn is_unusable(&self) -> bool {
        self.state.lock().await.is_none()
    }
}

/// Connection id → entry. Entries are never removed, so a connection keeps one limiter for
/// the life of the process.
pub(crate) struct Registry {
    map: RwLock<HashMap<ConnectionId, Arc<ConnEntry>>>,
    generation: AtomicU64,
    /// This instance's name in refresh claims (random per `Gate`).
    holder: String,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            map: RwLock::default(),
            generation: AtomicU64::new(0),
            holder: format!("gate-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

impl Registry {
    pub(crate) fn get_or_insert(
        &self,
        id: ConnectionId,
        make_limiter: impl FnOnce() -> Arc<dyn RateLimiter>,
        make_coalescer: impl FnOnce() -> Arc<Coalescer>,
    ) -> Arc<ConnEntry> {
        if let Some(e) = self.map.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Arc::clone(e);
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(id).or_insert_with(|| {
            Arc::new(ConnEntry {
                id,
                limiter: make_limiter(),
                coalescer: make_coalescer(),
                state: tokio::sync::Mutex::new(None),
                stale: AtomicBool::new(false),
            })
        }))
    }

    /// Makes the next call of this connection re-read its row and tokens.
    pub(crate) fn mark_stale(&self, id: ConnectionId) {
        if let Some(e) = self.map.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            e.stale.store(true, Ordering::Release);
        }
    }

    /// Makes every connection re-read its row.
    pub(crate) fn mark_all_stale(&self) {
        for e in self.map.read().unwrap_or_else(|p| p.into_inner()).values() {
            e.stale.store(true, Ordering::Release);
        }
    }

    /// The limiter of a connection, if it has an entry.
    pub(crate) fn limiter(&self, id: ConnectionId) -> Option<Arc<dyn RateLimiter>> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .map(|e| Arc::clone(&e.limiter))
    }

    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }
}

fn same_secret(a: &SecretString, b: &SecretString) -> bool {
    a.expose_secret()
        .as_bytes()
        .ct_eq(b.expose_secret().as_bytes())
        .into()
}

impl Inner {
    pub(crate) fn entry(&self, id: ConnectionId) -> Arc<ConnEntry> {
        self.registry.get_or_insert(
            id,
            || match &self.limiter_factory {
                Some(f) => f(&id),
                None => self.notion.new_limiter(self.limiter_config),
            },
            || self.notion.new_coalescer(),
        )
    }

    /// The usable token of a connection. `stale_generation`: the generation Notion just
    /// answered 401 to; it is refreshed unless it was already replaced.
    pub(crate) async fn current(
        &self,
        entry: &ConnEntry,
        stale_generation: Option<u64>,
    ) -> Result<Current, GateError> {
        let mut st = entry.state.lock().await;
        let mut checked_row = false;
        let reload = match st.as_ref() {
            None => true,
            Some(c) => {
                entry.stale.swap(false, Ordering::AcqRel) || c.fetched.elapsed() >= self.cache.ttl()
            }
        };
        if reload {
            self.revalidate(entry, &mut st).await?;
            checked_row = true;
        }
        let Some(cur) = st.as_ref() else {
            return Err(GateError::ReconnectRequired {
                connection_id: Some(entry.id),
            });
        };
        let must_refresh = stale_generation == Some(cur.generation);
        if stale_generation.is_some() && !must_refresh {
            // Someone replaced the token Notion refused: use the new one.
            return Ok(cur.clone());
        }
        if !must_refresh && !cur.expiring() {
            return Ok(cur.clone());
        }
        if !cur.refreshable() || self.oauth.is_none() {
            if must_refresh {
                return Err(self.needs_reauth(entry, &mut st).await);
            }
            // Expired by our record but not refreshable here: try it; a 401 ends it.
            return Ok(cur.clone());
        }
        let seen = cur.generation;
        if !checked_row {
            // Another instance may have rotated the token already.
            self.revalidate(entry, &mut st).await?;
            if let Some(c) = st.as_ref()
                && c.generation != seen
                && !c.expiring()
            {
                return Ok(c.clone());
            }
        }
        self.refresh(entry, &mut st).await
    }

    /// Re-reads the row; reloads the tokens if it changed.
    async fn revalidate(
        &self,
        entry: &ConnEntry,
        st: &mut Option<Current>,
    ) -> Result<(), GateError> {
        let row = match self.store.get_connection(entry.id).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => {
                *st = None;
                return Err(GateError::NotFound { what: "connection" });
            }
            Err(e) => return Err(e.into()),
        };
        if row.revoked || row.needs_reauth {
            *st = None;
            return Err(GateError::ReconnectRequired {
                connection_id: Some(entry.id),
            });
        }
        if let Some(c) = st.as_mut()
            && c.row_updated_at == row.updated_at
        {
            c.fetched = Instant::now();
            return Ok(());
        }
        let tokens = match self.store.connection_tokens(&self.vault, entry.id).await {
            Ok(t) => t,
            Err(e) => {
                *st = None;
                return Err(e.into());
            }
        };
        let generation = match st.as_ref() {
            Some(c) if same_secret(&c.access_token, &tokens.access_token) => c.generation,
            _ => self.registry.next_generation(),
        };
        *st = Some(Current {
            conn: self
                .notion
                .connection_with_limiter(tokens.access_token.clone(), Arc::clone(&entry.limiter))
                .with_coalescer(Arc::clone(&entry.coalescer)),
            generation,
            owner_id: row.owner_id,
            kind: row.kind,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_at: tokens.expires_at,
            row_updated_at: row.updated_at,
            fetched: Instant::now(),
        });
        Ok(())
    }

    /// Claims the connection's refresh across instances. `Ok(None)`: claimed, refresh now.
    /// `Ok(Some(current))`: another instance refreshed meanwhile; use its token.
    async fn claim_or_wait(
        &self,
        entry: &ConnEntry,
        st: &mut Option<Current>,
    ) -> Result<Option<Current>, GateError> {
        let Some(cur) = st.as_ref() else {
            return Err(GateError::ReconnectRequired {
                connection_id: Some(entry.id),
            });
        };
        let (seen_row, seen_generation) = (cur.row_updated_at, cur.generation);
        // Waiting longer than one lease means the holder died; its lease has then run out.
        let give_up = tokio::time::Instant::now() + REFRESH_LEASE + REFRESH_LEASE / 2;
        loop {
            if self
                .store
                .claim_token_refresh(entry.id, &self.registry.holder, REFRESH_LEASE)
                .await?
            {
                break;
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(GateError::Upstream {
                    status: None,
                    code: None,
                    message: "another instance's token refresh did not finish".to_owned(),
                    request_id: None,
                    write_state: notion_client::WriteState::NotApplied,
                });
            }
            tokio::time::sleep(CLAIM_POLL).await;
            let row = self.store.get_connection(entry.id).await?;
            if row.updated_at != seen_row {
                self.revalidate(entry, st).await?;
                if let Some(c) = st.as_ref()
                    && c.generation != seen_generation
                {
                    metrics::counter!("gate_token_refresh_total", "result" => "other_instance")
                        .increment(1);
                    return Ok(Some(c.clone()));
                }
            }
        }
        // Claimed. The winner of an earlier round may have finished between our read and the
        // claim: re-read before spending the refresh token.
        let row = self.store.get_connection(entry.id).await?;
        if row.updated_at != seen_row {
            if let Err(e) = self.revalidate(entry, st).await {
                self.release_claim(entry).await;
                return Err(e);
            }
            if let Some(c) = st.as_ref()
                && c.generation != seen_generation
                && !c.expiring()
            {
                self.release_claim(entry).await;
                return Ok(Some(c.clone()));
            }
        }
        Ok(None)
    }

    async fn release_claim(&self, entry: &ConnEntry) {
        if let Err(e) = self
            .store
            .release_token_refresh(entry.id, &self.registry.holder)
            .await
        {
            tracing::warn!(connection_id = %entry.id, error = %e, "could not release the token refresh claim; it ends with its lease");
        }
    }

    async fn refresh(
        &self,
        entry: &ConnEntry,
        st: &mut Option<Current>,
    ) -> Result<Current, GateError> {
        if self.oauth.is_none() {
            return Err(GateError::NotConfigured {
                what: "Notion OAuth client credentials",
            });
        }
        self.outbound_allowed()?;
        if let Some(c) = self.claim_or_wait(entry, st).await? {
            return Ok(c);
        }
        let result = self.refresh_claimed(entry, st).await;
        if result.is_err() {
            // New tokens end the claim; anything else must release it.
            self.release_claim(entry).await;
        }
        result
    }

    /// Refreshes with the claim held.
    async fn refresh_claimed(
        &self,
        entry: &ConnEntry,
        st: &mut Option<Current>,
    ) -> Result<Current, GateError> {
        let (Some(cur), Some(oauth)) = (st.as_ref(), self.oauth.as_ref()) else {
            return Err(GateError::NotConfigured {
                what: "Notion OAuth client credentials",
            });
        };
        let Some(refresh_token) = cur.refresh_token.clone() else {
            return Err(self.needs_reauth(entry, st).await);
        };
        let seen_row = cur.row_updated_at;
        match oauth.refresh(&refresh_token).await {
            Ok(tok) => {
                metrics::counter!("gate_token_refresh_total", "result" => "ok").increment(1);
                let expires_at = tok.expires_in.map(|s| {
                    OffsetDateTime::now_utc() + Duration::from_secs(s.min(10 * 365 * 24 * 3600))
                });
                let new_refresh = tok.refresh_token.clone().unwrap_or(refresh_token);
                let row = self
                    .store
                    .update_connection_tokens(
                        &self.vault,
                        entry.id,
                        &tok.access_token,
                        Some(&new_refresh),
                        expires_at,
                    )
                    .await?;
                tracing::info!(connection_id = %entry.id, "refreshed the Notion access token");
                let c = Current {
                    conn: self
                        .notion
                        .connection_with_limiter(
                            tok.access_token.clone(),
                            Arc::clone(&entry.limiter),
                        )
                        .with_coalescer(Arc::clone(&entry.coalescer)),
                    generation: self.registry.next_generation(),
                    owner_id: row.owner_id,
                    kind: row.kind,
                    access_token: tok.access_token,
                    refresh_token: Some(new_refresh),
                    expires_at,
                    row_updated_at: row.updated_at,
                    fetched: Instant::now(),
                };
                *st = Some(c.clone());
                Ok(c)
            }
            Err(e)
                if e.code() == Some(&ErrorCode::InvalidGrant)
                    || matches!(e.status(), Some(400 | 401)) =>
            {
                metrics::counter!("gate_token_refresh_total", "result" => "refused").increment(1);
                // Did another instance win the race and rotate the token?
                if let Ok(row) = self.store.get_connection(entry.id).await
                    && row.updated_at != seen_row
                    && !row.revoked
                    && !row.needs_reauth
                {
                    let seen = st.as_ref().map(|c| c.generation);
                    self.revalidate(entry, st).await?;
                    if let Some(c) = st.as_ref()
                        && Some(c.generation) != seen
                    {
                        return Ok(c.clone());
                    }
                }
                tracing::warn!(connection_id = %entry.id, code = ?e.code().map(ErrorCode::as_str), "Notion refused the token refresh; reconnect required");
                Err(self.needs_reauth(entry, st).await)
            }
            Err(e) => {
                metrics::counter!("gate_token_refresh_total", "result" => "error").increment(1);
                Err(GateError::from_client(&e))
            }
        }
    }

    /// Flags the connection for re-authorisation and forgets its token.
    pub(crate) async fn needs_reauth(
        &self,
        entry: &ConnEntry,
        st: &mut Option<Current>,
    ) -> GateError {
        *st = None;
        if let Err(e) = self.store.mark_connection_needs_reauth(entry.id).await {
            tracing::warn!(connection_id = %entry.id, error = %e, "could not flag the connection for re-authorisation");
        }
        GateError::ReconnectRequired {
            connection_id: Some(entry.id),
        }
    }

    /// Flags the connection after Notion refused a freshly refreshed (or non-refreshable)
    /// token.
    pub(crate) async fn reject_token(&self, entry: &ConnEntry) -> GateError {
        let mut st = entry.state.lock().await;
        self.needs_reauth(entry, &mut st).await
    }
}

/// The [`notion_client::Reauthorize`] hook of a session's connection: Notion refused
/// `refused`, so use the connection's current token if another call already replaced it, or
/// refresh it (single-flight, across instances) exactly as `call` does. A connection that
/// cannot be refreshed is flagged for re-authorisation and the 401 stands.
pub(crate) struct SessionReauth {
    pub(crate) gate: crate::Gate,
    pub(crate) conn_id: ConnectionId,
}

#[async_trait::async_trait]
impl notion_client::Reauthorize for SessionReauth {
    async fn reauthorize(&self, refused: &SecretString) -> Option<SecretString> {
        let inner = &self.gate.inner;
        inner.outbound_allowed().ok()?;
        let entry = inner.entry(self.conn_id);
        let cur = inner.current(&entry, None).await.ok()?;
        if !same_secret(&cur.access_token, refused) {
            return Some(cur.access_token);
        }
        tracing::info!(connection_id = %self.conn_id, "Notion answered 401; refreshing the token once");
        match inner.current(&entry, Some(cur.generation)).await {
            Ok(fresh) if !same_secret(&fresh.access_token, refused) => Some(fresh.access_token),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(connection_id = %self.conn_id, code = e.code(), "no new token after a 401");
                None
            }
        }
    }
}
