//! Waiting for approvals: the in-process notifier every transition of this process feeds, the
//! cross-instance sources that feed it too, and the bound on concurrent waits per key.
//!
//! - **In process**: one `tokio::sync::watch` channel per approval somebody waits for
//!   (created by the first waiter, dropped with the last). Every approval transition this
//!   process makes (decide, withdraw, claim, finish) bumps the approval's channel, so a wait
//!   on the same instance answers at once.
//! - **Across instances**: the store's own announcements (PostgreSQL: `LISTEN` on the channel
//!   a trigger notifies, [`gate_store::Store::approval_changes`]), and an [`ApprovalBus`]
//!   when one is configured (Redis pub/sub, `gate-redis`), which this process also publishes
//!   its transitions to. Both are started on the first wait and reconnect after a failure.
//! - **Fallback**: a waiter re-reads the approval every [`POLL_FALLBACK`] while no
//!   cross-instance source is connected (SQLite used by several processes, a bus that is
//!   down), and every [`POLL_SAFETY`] otherwise (announcements lost while a source
//!   reconnected). A pending approval also wakes its waiters when it expires.
//! - **Bound**: one key holds at most `max_waits_per_key` waits at once
//!   ([`GateError::TooManyWaits`] beyond).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use gate_store::{ApiKeyId, ApprovalId, Store};
use tokio::sync::watch;

use crate::error::GateError;

/// The longest a caller may wait for an approval in one request.
pub const MAX_APPROVAL_WAIT: Duration = Duration::from_secs(60);

/// How many approval waits one key may hold at once, unless configured otherwise.
pub const DEFAULT_MAX_WAITS_PER_KEY: usize = 8;

/// How often a waiter re-reads its approval while no cross-instance source is connected.
pub const POLL_FALLBACK: Duration = Duration::from_secs(1);

/// How often a waiter re-reads its approval while a cross-instance source is connected.
pub const POLL_SAFETY: Duration = Duration::from_secs(5);

/// The pause before a failed cross-instance source is tried again.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// The error a bus reports (connecting, subscribing).
pub type BusError = Box<dyn std::error::Error + Send + Sync>;

/// Carries "this approval changed" between gateway instances. `gate-redis` implements it
/// with Redis pub/sub; a [`Gate`](crate::Gate) publishes each transition it makes and
/// listens from its first wait on.
#[async_trait]
pub trait ApprovalBus: Send + Sync + std::fmt::Debug {
    /// Announces a change to every instance (best effort: a lost announcement only delays
    /// waiters until their next re-read).
    async fn publish(&self, id: ApprovalId);
    /// The ids every instance announces from now on. The stream ends when its connection
    /// fails; the gate then subscribes again.
    async fn subscribe(&self) -> Result<BoxStream<'static, ApprovalId>, BusError>;
}

/// The notifier of one [`Gate`](crate::Gate) (shared by its clones).
#[derive(Debug)]
pub(crate) struct Watch {
    channels: Mutex<HashMap<ApprovalId, watch::Sender<u64>>>,
    waits: Mutex<HashMap<ApiKeyId, usize>>,
    max_per_key: usize,
    polls: (Duration, Duration),
    bus: Option<Arc<dyn ApprovalBus>>,
    started: AtomicBool,
    /// Cross-instance sources connected right now.
    connected: AtomicUsize,
    /// Dropped with the gate: the listener tasks stop.
    alive: watch::Sender<()>,
    /// Set when the server begins to stop: every wait answers at once.
    ending: watch::Sender<bool>,
}

/// A waiter's channel; leaving drops the approval's entry when it was the last.
pub(crate) struct Subscription<'a> {
    watch: &'a Watch,
    id: ApprovalId,
    rx: Option<watch::Receiver<u64>>,
}

impl Subscription<'_> {
    /// Resolves at the approval's next announced change.
    pub(crate) async fn changed(&mut self) {
        match self.rx.as_mut() {
            Some(rx) => {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        drop(self.rx.take());
        let mut channels = self
            .watch
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if channels
            .get(&self.id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            channels.remove(&self.id);
        }
    }
}

/// One of a key's wait slots, given back on drop.
pub(crate) struct WaitSlot<'a> {
    watch: &'a Watch,
    key: ApiKeyId,
}

impl Drop for WaitSlot<'_> {
    fn drop(&mut self) {
        let mut waits = self
            .watch
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = waits.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                waits.remove(&self.key);
            }
        }
    }
}

impl Watch {
    pub(crate) fn new(
        bus: Option<Arc<dyn ApprovalBus>>,
        max_per_key: usize,
        polls: (Duration, Duration),
    ) -> Self {
        Self {
            channels: Mutex::default(),
            waits: Mutex::default(),
            max_per_key: max_per_key.max(1),
            polls,
            bus,
            started: AtomicBool::new(false),
            connected: AtomicUsize::new(0),
            alive: watch::channel(()).0,
            ending: watch::channel(false).0,
        }
    }

    /// Makes every wait, present and future, answer at once.
    pub(crate) fn end_waits(&self) {
        self.ending.send_replace(true);
    }

    /// Resolves once waits must end (at once if they already must).
    pub(crate) async fn ending(&self) {
        let mut rx = self.ending.subscribe();
        if rx.wait_for(|ending| *ending).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Wakes this process's waiters of `id` (no cross-instance announcement).
    pub(crate) fn wake(&self, id: ApprovalId) {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = channels.get(&id) {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// A transition this process made: wakes its waiters and publishes it on the bus.
    pub(crate) fn changed(&self, id: ApprovalId) {
        self.wake(id);
        if let Some(bus) = &self.bus {
            let bus = Arc::clone(bus);
            tokio::spawn(async move { bus.publish(id).await });
        }
    }

    /// Takes one of `key`'s wait slots.
    pub(crate) fn admit(&self, key: ApiKeyId) -> Result<WaitSlot<'_>, GateError> {
        let mut waits = self.waits.lock().unwrap_or_else(PoisonError::into_inner);
        let n = waits.entry(key).or_insert(0);
        if *n >= self.max_per_key {
            return Err(GateError::TooManyWaits {
                limit: self.max_per_key,
            });
        }
        *n += 1;
        Ok(WaitSlot { watch: self, key })
    }

    /// Subscribes to `id`'s changes.
    pub(crate) fn subscribe(&self, id: ApprovalId) -> Subscription<'_> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let rx = channels
            .entry(id)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        Subscription {
            watch: self,
            id,
            rx: Some(rx),
        }
    }

    /// How long a waiter may sleep before re-reading its approval.
    pub(crate) fn poll_interval(&self) -> Duration {
        if self.connected.load(Ordering::SeqCst) > 0 {
            self.polls.1
        } else {
            self.polls.0
        }
    }

    /// How many waits `key` holds now.
    pub(crate) fn held(&self, key: ApiKeyId) -> usize {
        let waits = self.waits.lock().unwrap_or_else(PoisonError::into_inner);
        waits.get(&key).copied().unwrap_or(0)
    }

    /// Whether a cross-instance source is connected now.
    pub(crate) fn cross_instance(&self) -> bool {
        self.connected.load(Ordering::SeqCst) > 0
    }

    /// Starts the cross-instance listeners (once per gate): the store's announcements, and
    /// the bus when there is one.
    pub(crate) fn start(self: &Arc<Self>, store: &Arc<dyn Store>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let store = Arc::clone(store);
        spawn_source(self, "store", move || {
            let store = Arc::clone(&store);
            async move {
                store
                    .approval_changes()
                    .await
                    .map_err(|e| Box::new(e) as BusError)
            }
        });
        if let Some(bus) = self.bus.clone() {
            spawn_source(self, "bus", move || {
                let bus = Arc::clone(&bus);
                async move { bus.subscribe().await.map(Some) }
            });
        }
    }
}

/// Runs one cross-instance source until the gate is dropped: subscribe, forward every id to
/// the local waiters, subscribe again after a failure. A source that has nothing to offer
/// (`Ok(None)`: SQLite) stops at once.
fn spawn_source<F, Fut>(watch: &Arc<Watch>, name: &'static str, subscribe: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<BoxStream<'static, ApprovalId>>, BusError>> + Send,
{
    let weak: Weak<Watch> = Arc::downgrade(watch);
    let mut alive = watch.alive.subscribe();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                s = subscribe() => s,
                _ = alive.changed() => return,
            };
            match stream {
                Ok(None) => return,
                Ok(Some(mut ids)) => {
                    let Some(w) = weak.upgrade() else { return };
                    w.connected.fetch_add(1, Ordering::SeqCst);
                    drop(w);
                    tracing::debug!(source = name, "listening for approval changes");
                    loop {
                        let next = tokio::select! {
                            id = ids.next() => id,
                            _ = alive.changed() => None,
                        };
                        let Some(w) = weak.upgrade() else { return };
                        match next {
                            Some(id) => w.wake(id),
                            None => {
                                w.connected.fetch_sub(1, Ordering::SeqCst);
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(source = name, error = %e, "cannot listen for approval changes; waits re-read the store meanwhile");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(RECONNECT_AFTER) => {}
                _ = alive.changed() => return,
            }
        }
    });
}
