//! Read coalescing: identical reads on one connection share one upstream request.
//!
//! Every request goes through [`Connection::execute`](crate::Connection::execute). A request
//! marked as a read ([`RawRequest::read`](crate::RawRequest::read): every `GET`, and the
//! read-only `POST`s such as a data source query or a search) is looked up in its
//! connection's [`Coalescer`] by its identity: method, path, query, body bytes, extra headers
//! and `Notion-Version`, sent with the same token. An identical read still in flight is
//! *joined*, and its answer (any status, or the transport error it ended with) is given to
//! every caller, instead of spending budget on a copy. The first caller's request is a
//! *flight*; its future is shared, so a caller that goes away does not cancel the others.
//!
//! **No staleness.** A read may join a flight that is still waiting for the limiter (it will
//! be sent after the joiner asked), or one already sent only if no write on the connection
//! has completed since it was sent: every request that is not a read counts as a write and
//! moves the connection's *write epoch* forward when it ends (answered, failed or dropped),
//! and a flight remembers the epoch at which its last attempt left. So a caller never gets an
//! answer older than a write that finished on this connection before it asked.
//!
//! **Bounds.** At most [`CoalesceConfig::max_joiners`] callers join one flight (the next one
//! starts a new flight, which later callers join), and an answer larger than
//! [`CoalesceConfig::max_shared_bytes`] is not shared: its joiners send their own request.
//! Writes (`PATCH`, `DELETE`, and every request not marked as a read) never coalesce.
//!
//! **Scope.** Coalescing stays within one process: every instance of a gateway coalesces its
//! own callers, and the write epoch counts the writes made through this process only (a
//! write made through another instance, or in Notion itself, is as concurrent with a read
//! here as it would be without coalescing).
//!
//! Each joiner is counted in `notion_coalesced_requests_total` (the requests saved) and in
//! the connection's [`StatsSnapshot::coalesced`](crate::StatsSnapshot::coalesced); its
//! [`RawResponse::shared`](crate::RawResponse::shared) is true.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::{BoxFuture, Shared, WeakShared};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::client::{Auth, RawRequest, RawResponse};
use crate::config::NotionVersion;
use crate::error::{Error, Result};

/// How reads coalesce on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CoalesceConfig {
    /// Whether identical reads share one request (default on).
    pub enabled: bool,
    /// The most callers that join one flight (default 64).
    pub max_joiners: usize,
    /// The largest answer shared with joiners, in bytes (default 4 MiB); joiners of a larger
    /// answer send their own request.
    pub max_shared_bytes: usize,
}

impl Default for CoalesceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_joiners: 64,
            max_shared_bytes: 4 * 1024 * 1024,
        }
    }
}

impl CoalesceConfig {
    /// No coalescing: every read sends its own request.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the most callers that join one flight.
    pub fn with_max_joiners(mut self, n: usize) -> Self {
        self.max_joiners = n;
        self
    }

    /// Sets the largest answer shared with joiners.
    pub fn with_max_shared_bytes(mut self, n: usize) -> Self {
        self.max_shared_bytes = n;
        self
    }
}

/// `sent_epoch` of a flight that has not sent an attempt yet.
const WAITING: u64 = u64::MAX;

/// What a flight ends with, shared by its callers.
pub(crate) type FlightResult = Arc<Result<RawResponse>>;
type FlightFuture = Shared<BoxFuture<'static, FlightResult>>;

/// The identity of a read: two reads with equal keys (and the same token) get the same
/// answer from Notion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Bytes>,
    headers: Vec<(HeaderName, HeaderValue)>,
    version: NotionVersion,
}

impl Key {
    pub(crate) fn of(req: &RawRequest, version: &NotionVersion) -> Self {
        Self {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            body: req.body.clone(),
            headers: req.headers.clone(),
            version: version.clone(),
        }
    }
}

/// One read in flight.
struct Flight {
    id: u64,
    auth: Arc<Auth>,
    /// The write epoch when the flight's latest attempt was sent; [`WAITING`] before.
    sent_epoch: Arc<AtomicU64>,
    joiners: usize,
    future: WeakShared<BoxFuture<'static, FlightResult>>,
}

/// Whether two requests authenticate the same way (the same token).
fn same_auth(a: &Arc<Auth>, b: &Arc<Auth>) -> bool {
    if Arc::ptr_eq(a, b) {
        return true;
    }
    match (&**a, &**b) {
        (Auth::Bearer(x), Auth::Bearer(y)) => x.expose_secret() == y.expose_secret(),
        _ => false,
    }
}

/// The coalescing state of one connection: its reads in flight and its write epoch. Shared by
/// every handle of the connection (clones, [`Connection::with_version`](crate::Connection::with_version),
/// and handles given it through
/// [`Connection::with_coalescer`](crate::Connection::with_coalescer)). See the
/// [module docs](self).
pub struct Coalescer {
    config: CoalesceConfig,
    flights: Mutex<HashMap<Key, Flight>>,
    write_epoch: AtomicU64,
    next_id: AtomicU64,
}

impl fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalescer")
            .field("config", &self.config)
            .field("write_epoch", &self.write_epoch.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What a caller of [`Coalescer::enter`] became.
pub(crate) enum Role {
    /// It starts a flight: build it with [`Coalescer::start`].
    Leader(Ticket),
    /// It joined a flight.
    Joiner(Participant),
}

/// The right to start one flight under a key.
pub(crate) struct Ticket {
    key: Key,
    id: u64,
    sent_epoch: Arc<AtomicU64>,
}

impl Ticket {
    /// The key of the flight to start.
    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    /// The flight's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Where the flight's send loop records the epoch of each attempt it sends.
    pub(crate) fn sent_epoch(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.sent_epoch)
    }
}

/// A caller waiting for a flight's answer. Dropped before the answer (the caller went
/// away), it forgets the flight if nobody else waits for it.
pub(crate) struct Participant {
    coalescer: Arc<Coalescer>,
    key: Option<Key>,
    id: u64,
    future: Option<FlightFuture>,
}

impl Participant {
    /// Waits for the flight's answer.
    pub(crate) async fn wait(mut self) -> FlightResult {
        let out = match self.future.as_mut() {
            Some(f) => f.await,
            None => Arc::new(Err(Error::InvalidRequest(
                "a coalesced read lost its flight".to_owned(),
            ))),
        };
        // Answered: nothing to forget when dropped.
        self.key = None;
        self.future = None;
        out
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        // Only a participant dropped while still waiting has a key and a future.
        let (Some(key), Some(future)) = (self.key.take(), self.future.take()) else {
            return;
        };
        drop(future);
        let mut flights = self.coalescer.lock();
        if let Some(f) = flights.get(&key)
            && f.id == self.id
            && f.future.upgrade().is_none()
        {
            flights.remove(&key);
        }
    }
}

impl Coalescer {
    /// An empty coalescer.
    pub fn new(config: CoalesceConfig) -> Self {
        Self {
            config,
            flights: Mutex::new(HashMap::new()),
            write_epoch: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> CoalesceConfig {
        self.config
    }

    /// How many writes have ended on the connection.
    pub fn write_epoch(&self) -> u64 {
        self.write_epoch.load(Ordering::SeqCst)
    }

    /// Reads in flight (distinct keys).
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A guard that moves the write epoch forward when the write it covers ends.
    pub(crate) fn write(&self) -> WriteGuard<'_> {
        WriteGuard(self)
    }

    /// Joins the flight of an identical read when allowed, or hands out the ticket to start
    /// one.
    pub(crate) fn enter(self: &Arc<Self>, key: Key, auth: &Arc<Auth>) -> Role {
        let mut flights = self.lock();
        if let Some(f) = flights.get_mut(&key) {
            let sent = f.sent_epoch.load(Ordering::SeqCst);
            let fresh = sent == WAITING || sent == self.write_epoch();
            if fresh
                && f.joiners < self.config.max_joiners
                && same_auth(&f.auth, auth)
                && let Some(future) = f.future.upgrade()
            {
                f.joiners += 1;
                return Role::Joiner(Participant {
                    coalescer: Arc::clone(self),
                    key: Some(key),
                    id: f.id,
                    future: Some(future),
                });
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Role::Leader(Ticket {
            key,
            id,
            sent_epoch: Arc::new(AtomicU64::new(WAITING)),
        })
    }

    /// Registers a leader's flight (replacing any flight under its key that may no longer be
    /// joined) and returns the leader's participation.
    pub(crate) fn start(
        self: &Arc<Self>,
        ticket: Ticket,
        auth: Arc<Auth>,
        future: BoxFuture<'static, FlightResult>,
    ) -> Participant {
        let shared = futures::FutureExt::shared(future);
        let Some(weak) = shared.downgrade() else {
            // Only a completed future has no weak handle; this one was never polled.
            return Participant {
                coalescer: Arc::clone(self),
                key: None,
                id: ticket.id,
                future: Some(shared),
            };
        };
        self.lock().insert(
            ticket.key.clone(),
            Flight {
                id: ticket.id,
                auth,
                sent_epoch: ticket.sent_epoch,
                joiners: 0,
                future: weak,
            },
        );
        Participant {
            coalescer: Arc::clone(self),
            key: Some(ticket.key),
            id: ticket.id,
            future: Some(shared),
        }
    }

    /// Forgets a flight that has its answer: later reads send their own request.
    pub(crate) fn finish(&self, key: &Key, id: u64) {
        let mut flights = self.lock();
        if flights.get(key).is_some_and(|f| f.id == id) {
            flights.remove(key);
        }
    }

    /// Records the epoch at which a flight sends an attempt (just before sending it).
    pub(crate) fn mark_sent(&self, sent_epoch: &AtomicU64) {
        sent_epoch.store(self.write_epoch(), Ordering::SeqCst);
    }
}

/// Moves the write epoch forward when dropped (the write ended, however it ended).
pub(crate) struct WriteGuard<'a>(&'a Coalescer);

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.0.write_epoch.fetch_add(1, Ordering::SeqCst);
    }
}

/// A caller's own copy of a flight's result.
pub(crate) fn copy_result(result: &Result<RawResponse>) -> Result<RawResponse> {
    match result {
        Ok(resp) => Ok(resp.clone()),
        Err(e) => Err(e.shared_copy()),
    }
}

/// Whether an answer may be given to joiners (its body is not too large to keep).
pub(crate) fn shareable(result: &Result<RawResponse>, config: &CoalesceConfig) -> bool {
    match result {
        Ok(resp) => resp.body.len() <= config.max_shared_bytes,
        Err(_) => true,
    }
}
