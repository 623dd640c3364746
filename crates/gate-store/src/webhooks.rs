//! Approval-notification deliveries: one row per event and configured webhook (the outbox the
//! notifier in `gate-core` delivers from, retries from and reports failures from).
//!
//! A hook is known here only by its digest (`hook_id`) and a label (scheme and host): the URL
//! itself may hold a secret (Slack's incoming-webhook URLs do, in the path) and is never
//! stored. The body is the event exactly as sent; it holds nothing secret.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::ids::{ApprovalId, UserId, WebhookDeliveryId};

/// Input for [`Store::create_webhook_deliveries`](crate::Store::create_webhook_deliveries).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewWebhookDelivery {
    /// A digest of the hook's URL, stable across restarts.
    pub hook_id: String,
    /// What a person may see of the hook: scheme and host, never the path or query.
    pub hook_label: String,
    /// The event type (`approval.created`, …).
    pub event_type: String,
    /// The approval the event is about.
    pub approval_id: ApprovalId,
    /// The body to send, exactly.
    pub body: String,
}

impl NewWebhookDelivery {
    /// A delivery of `body` to one hook, due at once.
    pub fn new(
        hook_id: impl Into<String>,
        hook_label: impl Into<String>,
        event_type: impl Into<String>,
        approval_id: ApprovalId,
        body: impl Into<String>,
    ) -> Self {
        Self {
            hook_id: hook_id.into(),
            hook_label: hook_label.into(),
            event_type: event_type.into(),
            approval_id,
            body: body.into(),
        }
    }
}

/// One stored delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// Row id (also sent as `X-Notion-Gate-Delivery`).
    pub id: WebhookDeliveryId,
    /// A digest of the hook's URL.
    pub hook_id: String,
    /// The hook's scheme and host.
    pub hook_label: String,
    /// The event type.
    pub event_type: String,
    /// The approval the event is about.
    pub approval_id: ApprovalId,
    /// The body sent.
    #[serde(skip)]
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The HTTP status of the last attempt, when the hook answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed (`None` once delivered).
    pub last_error: Option<String>,
    /// When the event was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the row last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the next attempt is due (`None` once finished).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the hook accepted it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    /// When the notifier stopped trying.
    #[serde(with = "time::serde::rfc3339::option")]
    pub gave_up_at: Option<OffsetDateTime>,
}

impl WebhookDelivery {
    /// Whether the hook accepted the event.
    pub fn is_delivered(&self) -> bool {
        self.delivered_at.is_some()
    }

    /// Whether the notifier stopped trying without success.
    pub fn gave_up(&self) -> bool {
        self.gave_up_at.is_some()
    }
}

/// What became of one attempt, for
/// [`Store::record_webhook_attempt`](crate::Store::record_webhook_attempt).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookAttempt {
    /// The hook answered 2xx.
    Delivered {
        /// Its status.
        status: u16,
    },
    /// It failed; try again at `retry_at`.
    Retry {
        /// The hook's status, when it answered.
        status: Option<u16>,
        /// What went wrong (no secret: never the URL).
        error: String,
        /// When to try again.
        retry_at: OffsetDateTime,
    },
    /// It failed for good (a permanent refusal, or the retry time is used up).
    GiveUp {
        /// The hook's status, when it answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
    },
}

/// Which deliveries [`Store::list_webhook_deliveries`](crate::Store::list_webhook_deliveries)
/// returns, most recently changed first.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WebhookDeliveryFilter {
    /// Only those not delivered whose last attempt failed (still retrying or given up).
    pub failed_only: bool,
    /// Only those about approvals this user requested (directly or through an agent).
    pub user_id: Option<UserId>,
    /// Only those about this approval.
    pub approval_id: Option<ApprovalId>,
    /// At most this many (default 50, at most 1000).
    pub limit: Option<u32>,
}

impl WebhookDeliveryFilter {
    /// Every delivery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only failed ones.
    pub fn failed(mut self) -> Self {
        self.failed_only = true;
        self
    }

    /// Only those about one user's approvals.
    pub fn user(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }

    /// Only those about one approval.
    pub fn approval(mut self, approval: ApprovalId) -> Self {
        self.approval_id = Some(approval);
        self
    }

    /// At most `n`.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }
}

/// How long a claimed delivery stays with its claimer before another worker may take it
/// (a worker that died mid-attempt); see
/// [`Store::claim_due_webhook_deliveries`](crate::Store::claim_due_webhook_deliveries).
pub const DEFAULT_WEBHOOK_LEASE: Duration = Duration::from_secs(60);
