//! The in-process authentication cache: SHA-256 of a gateway key → [`Caller`], for at most
//! the configured TTL.
//!
//! - Only successful lookups are cached; an unknown or revoked key is looked up again every
//!   time (negative results are never cached).
//! - Changes made through this process's [`Gate`](crate::Gate) invalidate at once (by key, by
//!   agent, by user, or everything) and bump an epoch, so a lookup that started before the
//!   change cannot insert its stale result afterwards.
//! - Changes made by another instance are seen when the entry expires: at most `ttl` after
//!   the change (plus the duration of one store read).
//! - Keys are already uniformly distributed digests, so the map hashes the first 8 bytes of
//!   the digest instead of running SipHash over all 32.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gate_store::{AgentId, ApiKeyId, UserId};
use subtle::ConstantTimeEq as _;

use crate::caller::Caller;

/// SHA-256 of a gateway key. Equality is constant-time (`subtle`): the map compares digests
/// of presented keys with digests of real ones, so no timing says how many bytes matched.
#[derive(Clone, Copy)]
pub(crate) struct Digest(pub(crate) [u8; 32]);

impl std::hash::Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Consistent with the constant-time `eq`: equal digests hash alike.
        self.0.hash(state);
    }
}

impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Digest {}

/// Hashes a digest by its first 8 bytes.
#[derive(Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A `Digest` hashes as its bytes (arrays feed `write` once, no length prefix);
        // anything else is folded in so the hasher stays correct for other inputs.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

struct Entry {
    caller: Caller,
    inserted: Instant,
}

/// The cache. Cheap reads (one read lock, one map probe, one clock read).
pub(crate) struct AuthCache {
    map: RwLock<HashMap<Digest, Entry, BuildHasherDefault<DigestHasher>>>,
    ttl: Duration,
    capacity: usize,
    epoch: AtomicU64,
}

impl AuthCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
            ttl,
            capacity: capacity.max(1),
            epoch: AtomicU64::new(0),
        }
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The current epoch; pass it to [`AuthCache::insert`] after loading.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A live entry.
    pub(crate) fn get(&self, digest: &Digest) -> Option<Caller> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let e = map.get(digest)?;
        (e.inserted.elapsed() < self.ttl).then(|| e.caller.clone())
    }

    /// Inserts a loaded caller unless something was invalidated since `epoch` was read.
    pub(crate) fn insert(&self, digest: Digest, caller: Caller, epoch: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if map.len() >= self.capacity && !map.contains_key(&digest) {
            let ttl = self.ttl;
            map.retain(|_, e| e.inserted.elapsed() < ttl);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(
            digest,
            Entry {
                caller,
                inserted: Instant::now(),
            },
        );
    }

    fn remove_where(&self, pred: impl Fn(&Caller) -> bool) -> usize {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let before = map.len();
        map.retain(|_, e| !pred(&e.caller));
        before - map.len()
    }

    /// Drops the entry of one key.
    pub(crate) fn invalidate_key(&self, key_id: ApiKeyId) -> usize {
        self.remove_where(|c| c.key_id == key_id)
    }

    /// Drops every entry of one agent.
    pub(crate) fn invalidate_agent(&self, agent_id: AgentId) -> usize {
        self.remove_where(|c| c.agent_id == Some(agent_id))
    }

    /// Drops every entry of one user and of the user's agents.
    pub(crate) fn invalidate_user(&self, user_id: UserId) -> usize {
        self.remove_where(|c| c.user_id == user_id)
    }

    /// Drops everything.
    pub(crate) fn clear(&self) {
        self.remove_where(|_| true);
    }

    /// Drops entries that are expired as of `now` (a later instant simulates time passing).
    pub(crate) fn invalidate_expired_at(&self, now: Instant) -> usize {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let ttl = self.ttl;
        let before = map.len();
        map.retain(|_, e| now.saturating_duration_since(e.inserted) < ttl);
        before - map.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::Digest;

    #[test]
    fn digests_compare_by_every_byte() {
        let a = Digest([7; 32]);
        assert!(a == Digest([7; 32]));
        for i in [0, 15, 31] {
            let mut b = [7; 32];
            b[i] ^= 1;
            assert!(a != Digest(b), "a difference at byte {i} went unseen");
        }
    }
}
