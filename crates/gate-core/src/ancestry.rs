//! Root-page checks: when the policy answers `NeedsAncestry`, the gate walks each target's
//! parents through the caller's connection (`GET /v1/blocks/{id}`, falling back to data
//! sources and databases), bounded in depth, and remembers each object's parents for a
//! short while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gate_store::ConnectionId;
use hashlink::LruCache;
use notion_client::{Idempotency, RawRequest};
use reqwest::Method;
use serde_json::Value;

use crate::gate::Inner;

/// Parents of Notion objects, remembered for a while: a bounded LRU map (`hashlink`), so a
/// full cache forgets its least recently used object, not everything.
pub(crate) struct ParentCache {
    map: Mutex<LruCache<String, (Vec<String>, Instant)>>,
    ttl: Duration,
}

/// How many objects' parents are remembered at most.
const CAPACITY: usize = 50_000;

impl ParentCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, CAPACITY)
    }

    fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: Mutex::new(LruCache::new(capacity)),
            ttl,
        }
    }

    fn get(&self, id: &str) -> Option<Vec<String>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let (parents, at) = map.get(id)?;
        if at.elapsed() < self.ttl {
            return Some(parents.clone());
        }
        map.remove(id);
        None
    }

    fn put(&self, id: String, parents: Vec<String>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(id, (parents, Instant::now()));
    }
}

/// The direct parents named by an object's `parent` (nearest first), normalised.
fn parents_of(obj: &Value) -> Vec<String> {
    let Some(parent) = obj.get("parent") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for id in gate_mirror::parent_ids(parent).filter_map(gate_policy::normalize_id) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

impl Inner {
    /// Every ancestor of each target that could be resolved; targets whose walk failed are
    /// left out (the policy then still lacks them and the call is denied).
    pub(crate) async fn resolve_ancestry(
        &self,
        conn_id: ConnectionId,
        targets: &[String],
    ) -> (HashMap<String, Vec<String>>, u32) {
        let mut out = HashMap::new();
        let mut lookups = 0u32;
        for t in targets {
            let mut ancestors: Vec<String> = Vec::new();
            let mut current = t.clone();
            let mut complete = false;
            for _ in 0..self.ancestry_max_depth {
                let parents = match self.parents.get(&current) {
                    Some(p) => p,
                    None => {
                        lookups += 1;
                        match self.fetch_parents(conn_id, &current).await {
                            Some(p) => {
                                self.parents.put(current.clone(), p.clone());
                                p
                            }
                            None => break,
                        }
                    }
                };
                let Some(next) = parents.first().cloned() else {
                    complete = true;
                    break;
                };
                for p in parents {
                    if !ancestors.contains(&p) {
                        ancestors.push(p);
                    }
                }
                current = next;
            }
            if complete || !ancestors.is_empty() {
                // A partial chain still proves membership if it reaches a root; if it does
                // not, the policy denies as outside the roots.
                out.insert(t.clone(), ancestors);
            }
        }
        (out, lookups)
    }

    async fn fetch_parents(&self, conn_id: ConnectionId, id: &str) -> Option<Vec<String>> {
        // Local-only: the mirror knows the parents (a mirror read's root check); Notion is
        // not asked.
        if self.local_only.load(std::sync::atomic::Ordering::SeqCst) {
            return self.mirror_parents(conn_id, id);
        }
        let compact: String = id.chars().filter(|c| *c != '-').collect();
        if compact.len() != 32 || !compact.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        for kind in ["blocks", "data_sources", "databases"] {
            let req = RawRequest::new(
                Method::GET,
                format!("/v1/{kind}/{compact}"),
                Idempotency::Safe,
            );
            match self.execute_raw(conn_id, req, None).await {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    let v: Value = serde_json::from_slice(&resp.body).ok()?;
                    return Some(parents_of(&v));
                }
                Ok(resp) if matches!(resp.status, 400 | 404) => continue,
                _ => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parent_extraction() {
        let v = json!({"parent": {"type": "data_source_id", "data_source_id": "AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAAA", "database_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}});
        let p = parents_of(&v);
        assert_eq!(p.len(), 2);
        assert_eq!(
            Some(p[0].clone()),
            gate_policy::normalize_id("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );
        assert!(
            parents_of(&json!({"parent": {"type": "workspace", "workspace": true}})).is_empty()
        );
    }

    #[test]
    fn a_full_parent_cache_forgets_the_least_recently_used_object_only() {
        let cache = ParentCache::with_capacity(Duration::from_secs(60), 2);
        cache.put("a".into(), vec!["pa".into()]);
        cache.put("b".into(), vec!["pb".into()]);
        assert_eq!(cache.get("a"), Some(vec!["pa".to_owned()])); // `a` is now the most recent
        cache.put("c".into(), vec!["pc".into()]);
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("a"), Some(vec!["pa".to_owned()]));
        assert_eq!(cache.get("c"), Some(vec!["pc".to_owned()]));
    }

    #[test]
    fn an_expired_parent_entry_is_not_returned() {
        let cache = ParentCache::with_capacity(Duration::ZERO, 2);
        cache.put("a".into(), vec!["pa".into()]);
        assert_eq!(cache.get("a"), None);
    }
}
