//! Shared emulator state: the store, runtime configuration, counters, the rate limiter, fault
//! scripts and OAuth grants. All timing uses `tokio::time` so paused-clock tests are exact.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::time::Instant;

use crate::config::{
    EmulatorConfig, Fault, FaultConfig, FaultTiming, OAuthClient, RateLimit, ScriptedFault,
};
use crate::seed::DemoIds;
use crate::store::Store;

/// Snapshot of the request counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// All requests seen (including rejected and dropped ones).
    pub total: u64,
    /// By route pattern, e.g. `"GET /v1/blocks/{id}/children"`. Unknown routes are keyed by
    /// `"<METHOD> <path>"`.
    pub by_route: BTreeMap<String, u64>,
    /// By HTTP status answered.
    pub by_status: BTreeMap<u16, u64>,
    /// Number of 429 answers (rate limiter and injected).
    pub rate_limited: u64,
    /// Connections dropped without an answer.
    pub dropped: u64,
    /// Requests whose handler ran and succeeded (the effect happened), by route pattern,
    /// whatever was answered: an injected fault after the effect still counts here. A write
    /// applied twice shows as 2 for its route.
    pub applied: BTreeMap<String, u64>,
    /// Faults injected (scripted and probabilistic), by kind: `"429"`, `"500"`, …,
    /// `"502_html"`, `"drop"`, `"delay"`, each suffixed `"_after"` when struck after the
    /// effect.
    pub faults: BTreeMap<String, u64>,
}

impl Counters {
    /// Count for a route pattern (`"POST /v1/pages"`).
    pub fn route(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }

    /// Count for a status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// How many requests of a route pattern were applied (`"POST /v1/pages"`).
    pub fn applied(&self, key: &str) -> u64 {
        self.applied.get(key).copied().unwrap_or(0)
    }

    /// All injected faults.
    pub fn faults_injected(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// One entry of the request log.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// When the request arrived (`tokio::time::Instant`, so paused clocks apply).
    pub at: Instant,
    /// HTTP method.
    pub method: Method,
    /// Request path (no query).
    pub path: String,
    /// Route pattern key (as in [`Counters::by_route`]).
    pub route: String,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// Status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The `request_id` sent back.
    pub request_id: String,
    /// Whether the handler ran and succeeded (the request's effect happened), even if an
    /// injected fault replaced the answer.
    pub applied: bool,
    /// The injected fault's kind (see [`Counters::faults`]), if one struck.
    pub fault: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub counters: Counters,
    /// The newest [`REQUEST_LOG_CAP`] requests (counters keep counting past it).
    pub log: VecDeque<LoggedRequest>,
}

/// How many requests the request log keeps, newest last: enough for any test, and a bound on
/// the memory of a long-running emulator (the sandbox's), which would otherwise grow by one
/// entry per request forever.
pub const REQUEST_LOG_CAP: usize = 20_000;

#[derive(Debug, Clone, Copy)]
enum Bucket {
    Gcra { tat: Instant },
    Window { start: Instant, used: u32 },
}

fn check_limit(limit: &RateLimit, state: Option<Bucket>, now: Instant) -> Result<Bucket, Duration> {
    match *limit {
        RateLimit::PerSecond { rate, burst } => {
            let t = Duration::from_secs_f64(1.0 / rate.max(1e-9));
            let tat = match state {
                Some(Bucket::Gcra { tat }) => tat.max(now),
                _ => now,
            };
            let backlog = tat - now;
            let cap = t * burst;
            if backlog + t > cap {
                Err(backlog + t - cap)
            } else {
                Ok(Bucket::Gcra { tat: tat + t })
            }
        }
        RateLimit::Window { budget, window } => {
            let (start, used) = match state {
                Some(Bucket::Window { start, used }) if now < start + window => (start, used),
                _ => (now, 0),
            };
            if used < budget {
                Ok(Bucket::Window {
                    start,
                    used: used + 1,
                })
            } else {
                Err(start + window - now)
            }
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Limiter {
    per_token: HashMap<String, Bucket>,
    workspace: Option<Bucket>,
}

/// OAuth grant bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenGrant {
    pub client_id: String,
    pub bot_id: String,
    pub iat: i64,
}

#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    pub codes: HashMap<String, CodeGrant>,
    pub access: HashMap<String, TokenGrant>,
    pub refresh: HashMap<String, TokenGrant>,
}

#[derive(Debug)]
pub(crate) struct Runtime {
    pub tokens: Option<Vec<String>>,
    pub revoked: HashSet<String>,
    pub rate_limit: Option<RateLimit>,
    pub workspace_rate_limit: Option<RateLimit>,
    pub faults: FaultConfig,
    pub scripted: VecDeque<ScriptedFault>,
    pub oauth_deny: bool,
    pub oauth_clients: Vec<OAuthClient>,
}

/// The shared state behind a running emulator.
#[derive(Debug)]
pub struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) rt: Mutex<Runtime>,
    pub(crate) metrics: Mutex<Metrics>,
    pub(crate) limiter: Mutex<Limiter>,
    pub(crate) oauth: Mutex<OAuthState>,
    pub(crate) rng: Mutex<StdRng>,
    pub(crate) demo: Option<DemoIds>,
    pub(crate) query_cap: usize,
    pub(crate) markdown_block_limit: usize,
    /// The webhook sender, when a target is set (`webhooks.rs`).
    pub(crate) webhooks: Mutex<Option<crate::webhooks::Sender>>,
    pub(crate) webhook_stats: Arc<Mutex<crate::webhooks::WebhookStats>>,
}

/// A cloneable handle on the emulator state: counters, faults, rate limits, tokens and direct
/// store access for tests. [`crate::Emulator`] dereferences to it.
#[derive(Debug, Clone)]
pub struct EmulatorHandle(pub(crate) Arc<Shared>);

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The outcome of the fault lookup for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FaultHit {
    pub fault: Fault,
    pub timing: FaultTiming,
}

/// Whether `pattern` matches a request: `"*"`, the request's route template (e.g.
/// `/v1/pages/{id}`), the concrete path, or a path with `*` segments (`/v1/pages/*`).
pub(crate) fn pattern_matches(pattern: &str, template: Option<&str>, path: &str) -> bool {
    if pattern == "*" || Some(pattern) == template || pattern == path {
        return true;
    }
    // A route template (`{id}` segments) names exactly that route.
    if pattern.contains('{') {
        return false;
    }
    let ps: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let xs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if ps.len() != xs.len() {
        return false;
    }
    ps.iter().zip(xs.iter()).all(|(p, x)| *p == "*" || p == x)
}

impl EmulatorHandle {
    pub(crate) fn from_config(config: &EmulatorConfig) -> Self {
        let (store, demo) = crate::seed::build(config);
        let rng = match config.faults.rng_seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        EmulatorHandle(Arc::new(Shared {
            store: Mutex::new(store),
            rt: Mutex::new(Runtime {
                tokens: config.tokens.clone(),
                revoked: HashSet::new(),
                rate_limit: config.rate_limit,
                workspace_rate_limit: config.workspace_rate_limit,
                faults: config.faults.clone(),
                scripted: VecDeque::new(),
                oauth_deny: config.oauth_deny,
                oauth_clients: config.oauth_clients.clone(),
            }),
            metrics: Mutex::new(Metrics::default()),
            limiter: Mutex::new(Limiter::default()),
            oauth: Mutex::new(OAuthState::default()),
            rng: Mutex::new(rng),
            demo,
            query_cap: config.query_result_cap,
            markdown_block_limit: config.markdown_block_limit,
            webhooks: Mutex::new(None),
            webhook_stats: Arc::default(),
        }))
    }

    /// Sends Notion's webhooks to `target` from now on (the verification handshake first),
    /// or stops sending them (`None`). Needs a Tokio runtime.
    pub fn set_webhook(&self, target: Option<crate::webhooks::WebhookTarget>) {
        let sender =
            target.map(|t| crate::webhooks::Sender::start(t, self.0.webhook_stats.clone()));
        *lock(&self.0.webhooks) = sender;
    }

    /// What the webhook sender has done so far.
    pub fn webhook_stats(&self) -> crate::webhooks::WebhookStats {
        *lock(&self.0.webhook_stats)
    }

    /// Sets the workspace's per-file upload limit (`/v1/users/me` reports it).
    pub fn set_file_upload_limit(&self, bytes: u64) {
        lock(&self.0.store).max_file_upload_size = bytes;
    }

    /// Declares what a public URL serves (its size and MIME type), as Notion's `HEAD` request
    /// before an `external_url` import would see it: a file larger than the workspace's
    /// per-file limit is then refused at create with `400 validation_error`, and an accepted
    /// import reports that `content_length`.
    pub fn serve_external_file(&self, url: &str, content_length: u64, content_type: &str) {
        lock(&self.0.store)
            .external_files
            .insert(url.to_string(), (content_length, content_type.to_string()));
    }

    /// Snapshot of the counters.
    pub fn counters(&self) -> Counters {
        lock(&self.0.metrics).counters.clone()
    }

    /// The request log, oldest first: the newest [`REQUEST_LOG_CAP`] requests.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.0.metrics).log.iter().cloned().collect()
    }

    /// Clears counters and the request log.
    pub fn reset_counters(&self) {
        *lock(&self.0.metrics) = Metrics::default();
    }

    /// Queues a scripted fault (applied in FIFO order to matching requests).
    pub fn push_fault(&self, fault: ScriptedFault) {
        lock(&self.0.rt).scripted.push_back(fault);
    }

    /// Removes all scripted faults.
    pub fn clear_scripted_faults(&self) {
        lock(&self.0.rt).scripted.clear();
    }

    /// Replaces the probabilistic fault configuration and latency. A `rng_seed` reseeds the
    /// fault RNG.
    pub fn set_faults(&self, faults: FaultConfig) {
        if let Some(s) = faults.rng_seed {
            *lock(&self.0.rng) = StdRng::seed_from_u64(s);
        }
        lock(&self.0.rt).faults = faults;
    }

    /// Sets the fixed latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.0.rt).faults.latency = latency;
    }

    /// Sets (or removes) the per-token rate limit. Bucket state is reset.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        lock(&self.0.rt).rate_limit = limit;
        lock(&self.0.limiter).per_token.clear();
    }

    /// Sets (or removes) the workspace-wide rate limit. Bucket state is reset.
    pub fn set_workspace_rate_limit(&self, limit: Option<RateLimit>) {
        lock(&self.0.rt).workspace_rate_limit = limit;
        lock(&self.0.limiter).workspace = None;
    }

    /// When true, `/v1/oauth/authorize` refuses consent (`error=access_denied`).
    pub fn set_oauth_deny(&self, deny: bool) {
        lock(&self.0.rt).oauth_deny = deny;
    }

    /// Accepts an additional internal token (switches to the allow-list mode if needed).
    pub fn add_token(&self, token: &str) {
        let mut rt = lock(&self.0.rt);
        rt.revoked.remove(token);
        if let Some(t) = rt.tokens.as_mut() {
            t.push(token.to_string());
        }
    }

    /// Revokes a token (internal or OAuth access/refresh): later calls get 401 `unauthorized`.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.0.rt).revoked.insert(token.to_string());
        let mut o = lock(&self.0.oauth);
        o.access.remove(token);
        o.refresh.remove(token);
    }

    /// Expires a token; for the API this is the same as revoking it (401 `unauthorized`).
    pub fn expire_token(&self, token: &str) {
        self.revoke_token(token);
    }

    /// Demo ids, if the emulator was seeded with [`crate::Seed::Demo`].
    pub fn try_demo_ids(&self) -> Option<&DemoIds> {
        self.0.demo.as_ref()
    }

    /// Demo ids.
    ///
    /// # Panics
    /// When the emulator was started with [`crate::Seed::Empty`].
    pub fn demo_ids(&self) -> &DemoIds {
        self.0
            .demo
            .as_ref()
            .expect("demo_ids() requires Seed::Demo")
    }

    /// The bot user id that internal tokens act as.
    pub fn bot_id(&self) -> String {
        lock(&self.0.store).bot_id.clone()
    }

    /// Resolves the bot user of a token; `None` means 401.
    pub(crate) fn authenticate(&self, token: &str) -> Option<String> {
        let rt = lock(&self.0.rt);
        if rt.revoked.contains(token) {
            return None;
        }
        if let Some(g) = lock(&self.0.oauth).access.get(token) {
            return Some(g.bot_id.clone());
        }
        let ok = match &rt.tokens {
            None => !token.is_empty(),
            Some(list) => list.iter().any(|t| t == token),
        };
        drop(rt);
        ok.then(|| self.bot_id())
    }

    /// Applies the rate limits; `Err((retry_after, reason))` when limited.
    pub(crate) fn rate_check(&self, token: &str) -> Result<(), (Duration, &'static str)> {
        let (tl, wl) = {
            let rt = lock(&self.0.rt);
            (rt.rate_limit, rt.workspace_rate_limit)
        };
        if tl.is_none() && wl.is_none() {
            return Ok(());
        }
        let now = Instant::now();
        let mut lim = lock(&self.0.limiter);
        let new_tok = match &tl {
            Some(l) => Some(
                check_limit(l, lim.per_token.get(token).copied(), now)
                    .map_err(|d| (d, "integration_rate_limit"))?,
            ),
            None => None,
        };
        let new_ws = match &wl {
            Some(l) => {
                Some(check_limit(l, lim.workspace, now).map_err(|d| (d, "workspace_rate_limit"))?)
            }
            None => None,
        };
        if let Some(b) = new_tok {
            lim.per_token.insert(token.to_string(), b);
        }
        if let Some(b) = new_ws {
            lim.workspace = Some(b);
        }
        Ok(())
    }

    /// Finds the fault for a request: scripted faults first, then probabilistic rules.
    pub(crate) fn fault_for(
        &self,
        method: &Method,
        template: Option<&str>,
        path: &str,
    ) -> Option<FaultHit> {
        let mut rt = lock(&self.0.rt);
        let idx = rt.scripted.iter().position(|f| {
            f.times > 0
                && f.method.as_ref().is_none_or(|m| m == method)
                && pattern_matches(&f.path, template, path)
        });
        if let Some(i) = idx {
            let f = &mut rt.scripted[i];
            f.times -= 1;
            let hit = FaultHit {
                fault: f.fault.clone(),
                timing: f.timing,
            };
            if f.times == 0 {
                rt.scripted.remove(i);
            }
            return Some(hit);
        }
        let rules = rt.faults.rules.clone();
        drop(rt);
        let mut rng = lock(&self.0.rng);
        for r in rules {
            if r.method.as_ref().is_none_or(|m| m == method)
                && pattern_matches(&r.path, template, path)
                && r.probability > 0.0
                && rng.random::<f64>() < r.probability
            {
                return Some(FaultHit {
                    fault: r.fault,
                    timing: r.timing,
                });
            }
        }
        None
    }

    pub(crate) fn latency(&self) -> Duration {
        lock(&self.0.rt).faults.latency
    }

    pub(crate) fn record(&self, entry: LoggedRequest) {
        let mut m = lock(&self.0.metrics);
        m.counters.total += 1;
        *m.counters.by_route.entry(entry.route.clone()).or_insert(0) += 1;
        match entry.status {
            Some(s) => {
                *m.counters.by_status.entry(s).or_insert(0) += 1;
                if s == 429 {
                    m.counters.rate_limited += 1;
                }
            }
            None => m.counters.dropped += 1,
        }
        if entry.applied {
            *m.counters.applied.entry(entry.route.clone()).or_insert(0) += 1;
        }
        if let Some(kind) = &entry.fault {
            *m.counters.faults.entry(kind.clone()).or_insert(0) += 1;
        }
        if m.log.len() >= REQUEST_LOG_CAP {
            m.log.pop_front();
        }
        m.log.push_back(entry);
    }

    /// Runs a closure with the store locked (advanced test access).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut lock(&self.0.store))
    }

    /// Reads a stored object (page, block, database or data source) back, in its stored form
    /// (full property values, both `archived` and `in_trash`).
    pub fn get_object(&self, id: &str) -> Option<Value> {
        let id = crate::util::parse_id(id)?;
        let s = lock(&self.0.store);
        s.pages
            .get(&id)
            .or_else(|| s.databases.get(&id))
            .or_else(|| s.data_sources.get(&id))
            .or_else(|| s.blocks.get(&id))
            .cloned()
    }

    /// Ids of the visible children of a page or block, in order.
    pub fn child_ids(&self, id: &str) -> Vec<String> {
        let Some(id) = crate::util::parse_id(id) else {
            return Vec::new();
        };
        lock(&self.0.store).visible_children(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_request_log_keeps_the_newest_entries_and_the_counters_keep_counting() {
        let h = EmulatorHandle::from_config(&EmulatorConfig::default());
        let n = REQUEST_LOG_CAP + 5;
        for i in 0..n {
            h.record(LoggedRequest {
                at: Instant::now(),
                method: Method::GET,
                path: format!("/v1/users/{i}"),
                route: "GET /v1/users/{id}".to_owned(),
                token: None,
                status: Some(200),
                request_id: i.to_string(),
                applied: true,
                fault: None,
            });
        }
        let log = h.request_log();
        assert_eq!(log.len(), REQUEST_LOG_CAP);
        assert_eq!(log[0].request_id, "5", "the oldest five were dropped");
        assert_eq!(log.last().unwrap().request_id, (n - 1).to_string());
        assert_eq!(h.counters().total, n as u64);
    }
}
