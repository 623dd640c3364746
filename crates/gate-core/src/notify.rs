//! Approval notifications: when a call is held (`approval.created`), when an approval is
//! decided (`approval.decided`, with the run's result when it was approved) and when it expires
//! (`approval.expired`), a JSON event is POSTed to every configured webhook.
//!
//! ```text
//! transition ─► Notifier::notify (try_send on a bounded queue; never waits, never fails)
//!            ─► worker task: build the event, one outbox row per hook (webhook_deliveries)
//!            ─► claim due rows under a lease ─► POST (signed) ─► delivered | retry | give up
//! ```
//!
//! The agent's call never waits for a hook: the transition only queues. The worker writes
//! each event to the store before its first attempt, so a hook that is down for a while, or a
//! restart of the gateway, loses nothing: due rows are claimed again by the next worker (on
//! any instance, under a lease). Failures back off exponentially (doubling from
//! [`WebhookRetry::first_backoff`] up to [`WebhookRetry::max_backoff`]) until
//! [`WebhookRetry::give_up_after`] from the event; a 4xx other than 408 and 429 is final.
//!
//! Every delivery carries `X-Notion-Gate-Event`, `X-Notion-Gate-Delivery` (the row id: a
//! retry repeats it, so a receiver can drop duplicates) and, with a secret,
//! `X-Notion-Gate-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. A hook written
//! `slack+https://…` gets Slack's format (`{"text": …}`) at `https://…`. The hook's URL is a
//! secret (Slack's holds one in its path): it is stored, logged and shown only as its digest
//! and `scheme://host`. Events hold ids, names, the operation and its class, times, statuses
//! and the console link; never a key, a token or the request's content.

use std::sync::Arc;
use std::time::Duration;

use gate_store::{
    Approval, ApprovalStatus, NewWebhookDelivery, RequesterKind, Store, WebhookAttempt,
    WebhookDelivery,
};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::error::GateError;

/// The header holding the body's signature: `sha256=<hex HMAC-SHA256 of the raw body>`.
pub const SIGNATURE_HEADER: &str = "x-notion-gate-signature";
/// The header naming the event type.
pub const EVENT_HEADER: &str = "x-notion-gate-event";
/// The header holding the delivery id (the same on every retry of one delivery).
pub const DELIVERY_HEADER: &str = "x-notion-gate-delivery";
/// The prefix that selects Slack's format for a hook (`slack+https://hooks.slack.com/…`).
pub const SLACK_PREFIX: &str = "slack+";
/// Where the console shows one approval, below the public URL: `<public>/console/approvals/<id>`.
pub const CONSOLE_APPROVALS_PATH: &str = "/console/approvals";

/// The console page of an approval, from the gateway's public base URL.
pub fn console_approval_url(public_url: &str, id: gate_store::ApprovalId) -> String {
    format!(
        "{}{CONSOLE_APPROVALS_PATH}/{id}",
        public_url.trim_end_matches('/')
    )
}

/// What happened to an approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalEvent {
    /// A call was held for approval.
    Created,
    /// Someone approved (and the call ran) or denied it.
    Decided,
    /// Nobody decided in time.
    Expired,
}

impl ApprovalEvent {
    /// The event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalEvent::Created => "approval.created",
            ApprovalEvent::Decided => "approval.decided",
            ApprovalEvent::Expired => "approval.expired",
        }
    }
}

/// One configured webhook. Its URL is a secret: `Debug` shows the label only.
#[derive(Clone)]
pub struct WebhookTarget {
    url: SecretString,
    slack: bool,
    id: String,
    label: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("label", &self.label)
            .field("id", &self.id)
            .field("slack", &self.slack)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// Parses `https://…`, `http://…` or `slack+https://…`. The error never repeats the URL.
    pub fn parse(text: &str) -> Result<Self, GateError> {
        let text = text.trim();
        let (slack, rest) = match text.strip_prefix(SLACK_PREFIX) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let url = url::Url::parse(rest).map_err(|_| {
            GateError::invalid("webhook URL", "not a URL (expected https://HOST/PATH)")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(GateError::invalid(
                "webhook URL",
                "expected an http:// or https:// URL (optionally prefixed slack+)",
            ));
        }
        let Some(host) = url.host_str() else {
            return Err(GateError::invalid("webhook URL", "the URL has no host"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(GateError::invalid(
                "webhook URL",
                "credentials in the URL are not supported (use --webhook-secret to sign)",
            ));
        }
        let label = format!(
            "{}{}://{host}{}",
            if slack { SLACK_PREFIX } else { "" },
            url.scheme(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        let digest = Sha256::digest(text.as_bytes());
        let id = hex::encode(&digest[..8]);
        Ok(Self {
            url: SecretString::from(String::from(url)),
            slack,
            id,
            label,
        })
    }

    /// A stable digest of the URL (what the store keeps to find the hook again).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `scheme://host[:port]`, with `slack+` for a Slack hook: what may be shown.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the hook takes Slack's format.
    pub fn is_slack(&self) -> bool {
        self.slack
    }
}

/// How long and how often a failed delivery is tried again.
#[derive(Clone, Debug)]
pub struct WebhookRetry {
    /// The wait after the first failure (then doubled after each; default 5 s).
    pub first_backoff: Duration,
    /// The longest wait between two attempts (default 2 min).
    pub max_backoff: Duration,
    /// No attempt is made later than this after the event (default 10 min).
    pub give_up_after: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(120),
            give_up_after: Duration::from_secs(600),
        }
    }
}

impl WebhookRetry {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

/// The notification settings of a [`Gate`](crate::Gate).
#[derive(Clone)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// The hooks every event goes to.
    pub hooks: Vec<WebhookTarget>,
    /// Signs every body (HMAC-SHA256) when set.
    pub secret: Option<SecretString>,
    /// The gateway's public base URL, for the console link.
    pub public_url: String,
    /// Retries.
    pub retry: WebhookRetry,
    /// How long one attempt may take (default 10 s).
    pub request_timeout: Duration,
    /// How often the worker looks for due retries (default 1 s).
    pub poll_interval: Duration,
    /// Events waiting to be recorded; past this, new events are dropped and logged
    /// (default 1024).
    pub queue_capacity: usize,
    /// Attempts in flight at once (default 8).
    pub concurrency: usize,
    /// Finished deliveries older than this are deleted (default 7 days).
    pub keep_finished: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("hooks", &self.hooks)
            .field("secret", &self.secret.as_ref().map(|_| "[set]"))
            .field("public_url", &self.public_url)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl WebhookConfig {
    /// Notifications to `hooks`, linking to the console under `public_url`.
    pub fn new(hooks: Vec<WebhookTarget>, public_url: impl Into<String>) -> Self {
        Self {
            hooks,
            secret: None,
            public_url: public_url.into(),
            retry: WebhookRetry::default(),
            request_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            queue_capacity: 1024,
            concurrency: 8,
            keep_finished: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Signs every body with this secret.
    pub fn secret(mut self, secret: SecretString) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Sets the retry schedule.
    pub fn retry(mut self, retry: WebhookRetry) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the time one attempt may take.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets how often due retries are looked for.
    pub fn poll_interval(mut self, t: Duration) -> Self {
        self.poll_interval = t;
        self
    }

    /// Sets the queue's capacity.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }
}

impl crate::Gate {
    /// The most recent failed deliveries (still retrying or given up), most recent first, for
    /// the console: an admin sees all; a user those about their own approvals and their
    /// agents'; an agent nothing (`forbidden`). At most `limit` (1 to 1000).
    pub async fn recent_webhook_failures(
        &self,
        actor: &crate::Caller,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GateError> {
        if actor.is_agent() {
            return Err(GateError::not_permitted(
                "agents cannot see webhook deliveries",
            ));
        }
        let mut filter = gate_store::WebhookDeliveryFilter::new()
            .failed()
            .limit(limit.clamp(1, 1000));
        if !actor.is_admin() {
            filter = filter.user(actor.user_id);
        }
        Ok(self.inner.store.list_webhook_deliveries(filter).await?)
    }

    /// Whether approval notifications are configured (at least one webhook).
    pub fn webhooks_enabled(&self) -> bool {
        self.inner.notifier.is_some()
    }
}

/// `sha256=<hex>`: the signature of `body` under `secret`.
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!("sha256={}", hex::encode(tag))
}

struct Notice {
    event: ApprovalEvent,
    approval: Approval,
}

/// The queue and its worker task.
pub(crate) struct Notifier {
    tx: mpsc::Sender<Notice>,
    stop: watch::Sender<bool>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Notifier {
    /// Starts the worker (needs a Tokio runtime).
    pub(crate) fn spawn(store: Arc<dyn Store>, config: WebhookConfig) -> Result<Self, GateError> {
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("notion-gate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| GateError::invalid("webhooks", "cannot build the HTTP client"))?;
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (stop, stopped) = watch::channel(false);
        let worker = Worker {
            store,
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config: Arc::new(config),
            client,
        };
        let task = tokio::spawn(worker.run(rx, stopped));
        Ok(Self {
            tx,
            stop,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// Queues an event; never waits. A full queue drops the event (logged and counted).
    pub(crate) fn notify(&self, event: ApprovalEvent, approval: &Approval) {
        let notice = Notice {
            event,
            approval: approval.clone(),
        };
        if self.tx.try_send(notice).is_err() {
            metrics::counter!("gate_webhook_deliveries_total", "result" => "dropped").increment(1);
            tracing::warn!(approval_id = %approval.id, event = event.as_str(), "approval notification dropped: the queue is full or closed");
        }
    }

    /// Records the queued events (they are delivered after the next start) and stops.
    pub(crate) async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

#[derive(Clone)]
struct Worker {
    store: Arc<dyn Store>,
    config: Arc<WebhookConfig>,
    client: reqwest::Client,
    permits: Arc<Semaphore>,
}

/// Deliveries are leased for one attempt's time plus a margin.
fn lease(config: &WebhookConfig) -> Duration {
    config.request_timeout + Duration::from_secs(30)
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Notice>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.config.poll_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut purged_at: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                notice = rx.recv() => match notice {
                    Some(n) => self.record(n).await,
                    None => break,
                },
                _ = tick.tick() => {}
            }
            self.dispatch_due().await;
            if purged_at.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                purged_at = Some(tokio::time::Instant::now());
                self.purge().await;
            }
        }
        // Whatever is still queued is recorded, to be delivered after the next start.
        rx.close();
        while let Ok(n) = rx.try_recv() {
            self.record(n).await;
        }
    }

    async fn purge(&self) {
        let Ok(keep) = time::Duration::try_from(self.config.keep_finished) else {
            return;
        };
        if let Err(e) = self
            .store
            .purge_webhook_deliveries(OffsetDateTime::now_utc() - keep)
            .await
        {
            tracing::warn!("purging old webhook deliveries failed: {e}");
        }
    }

    /// Builds the event and stores one delivery per hook.
    async fn record(&self, notice: Notice) {
        let event = self.event_json(&notice).await;
        let new: Vec<NewWebhookDelivery> = self
            .config
            .hooks
            .iter()
            .map(|h| {
                let body = if h.slack {
                    json!({"text": slack_text(notice.event, &event)})
                } else {
                    event.clone()
                };
                NewWebhookDelivery::new(
                    h.id.clone(),
                    h.label.clone(),
                    notice.event.as_str(),
                    notice.approval.id,
                    body.to_string(),
                )
            })
            .collect();
        if let Err(e) = self.store.create_webhook_deliveries(&new).await {
            metrics::counter!("gate_webhook_deliveries_total", "result" => "dropped")
                .increment(new.len() as u64);
            tracing::error!(approval_id = %notice.approval.id, "cannot record approval notifications: {e}");
        }
    }

    /// The event's JSON (the generic format).
    async fn event_json(&self, notice: &Notice) -> Value {
        let a = &notice.approval;
        let store = &self.store;
        let agent = match a.request.agent_id {
            Some(id) => {
                let name = store.get_agent(id).await.ok().map(|g| g.name);
                json!({"id": id, "name": name})
            }
            None => Value::Null,
        };
        let user_name = |id| async move { store.get_user(id).await.ok().map(|u| u.name) };
        let requester = match a.request.requester_user_id {
            Some(id) => {
                json!({"kind": a.request.requester_kind.as_str(), "user_id": id, "user_name": user_name(id).await})
            }
            None => json!({"kind": a.request.requester_kind.as_str()}),
        };
        let decided_by = match a.decided_by {
            Some(id) => json!({"id": id, "name": user_name(id).await}),
            None => Value::Null,
        };
        let decision = match (notice.event, a.status) {
            (ApprovalEvent::Decided, ApprovalStatus::Denied) => json!("denied"),
            (ApprovalEvent::Decided, _) => json!("approved"),
            _ => Value::Null,
        };
        json!({
            "type": notice.event.as_str(),
            "event_id": uuid::Uuid::new_v4(),
            "occurred_at": rfc3339(OffsetDateTime::now_utc()),
            "approval_id": a.id,
            "status": a.status.as_str(),
            "decision": decision,
            "agent": agent,
            "requester": requester,
            "operation": a.request.operation,
            "class": a.request.action_class,
            "created_at": rfc3339(a.created_at),
            "expires_at": rfc3339(a.expires_at),
            "decided_at": a.decided_at.map(rfc3339),
            "decided_by": decided_by,
            "result_status": a.result_status,
            "url": console_approval_url(&self.config.public_url, a.id),
        })
    }

    /// Claims what is due (as many as there are free attempt slots) and attempts each in its
    /// own task.
    async fn dispatch_due(&self) {
        let free = self.permits.available_permits();
        if free == 0 {
            return;
        }
        let due = match self
            .store
            .claim_due_webhook_deliveries(
                u32::try_from(free).unwrap_or(u32::MAX),
                lease(&self.config),
            )
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("cannot claim due webhook deliveries: {e}");
                return;
            }
        };
        for d in due {
            let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
                return;
            };
            let me = self.clone();
            tokio::spawn(async move {
                me.attempt(d).await;
                drop(permit);
            });
        }
    }

    async fn attempt(&self, d: WebhookDelivery) {
        let Some(hook) = self.config.hooks.iter().find(|h| h.id == d.hook_id) else {
            self.finish(
                &d,
                WebhookAttempt::GiveUp {
                    status: None,
                    error: "the hook is no longer configured".into(),
                },
            )
            .await;
            return;
        };
        let mut req = self
            .client
            .post(hook.url.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, &d.event_type)
            .header(DELIVERY_HEADER, d.id.to_string());
        if let Some(secret) = &self.config.secret {
            req = req.header(SIGNATURE_HEADER, sign(secret, d.body.as_bytes()));
        }
        let (status, error) = match req.body(d.body.clone()).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if resp.status().is_success() {
                    self.finish(&d, WebhookAttempt::Delivered { status }).await;
                    return;
                }
                (Some(status), format!("the hook answered {status}"))
            }
            Err(e) => (None, transport_error(&e)),
        };
        let permanent = status.is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429);
        let attempts = d.attempts + 1;
        let retry_at = OffsetDateTime::now_utc()
            + time::Duration::try_from(self.config.retry.backoff(attempts))
                .unwrap_or(time::Duration::MAX);
        let deadline = d.created_at
            + time::Duration::try_from(self.config.retry.give_up_after)
                .unwrap_or(time::Duration::MAX);
        let next = if permanent {
            WebhookAttempt::GiveUp {
                status,
                error: format!("{error}; not retried"),
            }
        } else if retry_at > deadline {
            WebhookAttempt::GiveUp {
                status,
                error: format!("{error}; gave up after {attempts} attempt(s)"),
            }
        } else {
            WebhookAttempt::Retry {
                status,
                error,
                retry_at,
            }
        };
        self.finish(&d, next).await;
    }

    async fn finish(&self, d: &WebhookDelivery, attempt: WebhookAttempt) {
        let result = match &attempt {
            WebhookAttempt::Delivered { .. } => "delivered",
            WebhookAttempt::Retry { .. } => "retry",
            _ => "gave_up",
        };
        metrics::counter!("gate_webhook_deliveries_total", "result" => result).increment(1);
        match &attempt {
            WebhookAttempt::Retry { error, .. } => {
                tracing::info!(delivery_id = %d.id, hook = %d.hook_label, event = %d.event_type, "webhook delivery failed, will retry: {error}");
            }
            WebhookAttempt::GiveUp { error, .. } => {
                tracing::warn!(delivery_id = %d.id, hook = %d.hook_label, event = %d.event_type, "webhook delivery given up: {error}");
            }
            _ => {
                tracing::debug!(delivery_id = %d.id, hook = %d.hook_label, event = %d.event_type, "webhook delivered");
            }
        }
        if let Err(e) = self.store.record_webhook_attempt(d.id, attempt).await {
            tracing::warn!(delivery_id = %d.id, "cannot record a webhook attempt: {e}");
        }
    }
}

/// A transport failure in words, without the URL (reqwest's own text includes it).
fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the hook did not answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect to the hook".to_owned()
    } else if e.is_redirect() {
        "the hook answered with a redirect (not followed)".to_owned()
    } else {
        "the request to the hook failed".to_owned()
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Slack's escaping of `&`, `<` and `>` in message text.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A readable sentence with the link, for Slack-compatible hooks.
fn slack_text(event: ApprovalEvent, e: &Value) -> String {
    let s = |v: &Value| slack_escape(v.as_str().unwrap_or(""));
    let who = match e["agent"]["name"].as_str() {
        Some(name) => format!("Agent *{}*", slack_escape(name)),
        None if e["requester"]["kind"] == RequesterKind::Agent.as_str() => "An agent".to_owned(),
        None => match e["requester"]["user_name"].as_str() {
            Some(name) => format!("User *{}*", slack_escape(name)),
            None => "A user".to_owned(),
        },
    };
    let what = format!("`{}` ({})", s(&e["operation"]), s(&e["class"]));
    let link = format!("<{}|approval {}>", s(&e["url"]), s(&e["approval_id"]));
    match event {
        ApprovalEvent::Created => format!(
            "{who} wants to run {what}; it waits for a decision until {}. Review: {link}",
            s(&e["expires_at"])
        ),
        ApprovalEvent::Decided => {
            let by = e["decided_by"]["name"]
                .as_str()
                .map(|n| format!(" by {}", slack_escape(n)))
                .unwrap_or_default();
            let verdict = if e["decision"] == "denied" {
                "denied".to_owned()
            } else {
                match (e["status"].as_str(), e["result_status"].as_u64()) {
                    (Some("executed"), Some(st)) => {
                        format!("approved and run (Notion answered {st})")
                    }
                    (Some("failed"), Some(st)) => {
                        format!("approved; the run failed (Notion answered {st})")
                    }
                    (Some("failed"), None) => "approved; the run failed".to_owned(),
                    _ => "approved".to_owned(),
                }
            };
            format!("{who}'s {what} was {verdict}{by}. {link}")
        }
        ApprovalEvent::Expired => {
            format!("{who}'s {what} expired without a decision. {link}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hide_their_url() {
        let t =
            WebhookTarget::parse("slack+https://hooks.slack.example/services/T0/B0/SECRETPATH?x=1")
                .expect("parse");
        assert!(t.is_slack());
        assert_eq!(t.label(), "slack+https://hooks.slack.example");
        assert_eq!(t.id().len(), 16);
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("SECRETPATH"), "{dbg}");
        let plain = WebhookTarget::parse("http://127.0.0.1:9/hook").expect("parse");
        assert!(!plain.is_slack());
        assert_eq!(plain.label(), "http://127.0.0.1:9");
        for bad in [
            "ftp://x/y",
            "nope",
            "https://user:pw@host/x",
            "slack+mailto:a@b",
        ] {
            let e = WebhookTarget::parse(bad).expect_err(bad);
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        let s = sign(
            &SecretString::from("Jefe".to_owned()),
            b"what do ya want for nothing?",
        );
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = WebhookRetry {
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            give_up_after: Duration::from_secs(600),
        };
        let waits: Vec<u64> = (1..=6).map(|n| r.backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
    }

    #[test]
    fn slack_text_escapes_and_links() {
        let e = json!({
            "agent": {"name": "<b>&bot"}, "requester": {"kind": "agent"},
            "operation": "pages.create", "class": "create", "url": "https://g.example/console/approvals/1",
            "approval_id": "1", "expires_at": "2026-01-01T00:00:00Z", "decision": null,
        });
        let t = slack_text(ApprovalEvent::Created, &e);
        assert!(t.contains("Agent *&lt;b&gt;&amp;bot*"), "{t}");
        assert!(
            t.contains("<https://g.example/console/approvals/1|approval 1>"),
            "{t}"
        );
    }
}
