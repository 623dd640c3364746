//! The webhook-delivery outbox, written once for both backends (methods of [`SqlStore`]).
//!
//! A due delivery is claimed with one conditional `UPDATE … RETURNING` that moves its
//! `next_attempt_at` past a lease, so among workers on several instances exactly one attempts
//! it; a worker that dies mid-attempt loses only its lease.

use super::SqlStore;
use super::dialect::{self, Dialect, query};
use super::rows::{RowExt, opt_time, opt_u16, time};
use crate::error::{Result, StoreError};
use crate::ids::{ApprovalId, WebhookDeliveryId, now, to_ms};
use crate::webhooks::{WebhookAttempt, WebhookDelivery};

pub(crate) const DELIVERY_COLS: &str = "id, hook_id, hook_label, event_type, approval_id, body, \
     attempts, last_status, last_error, created_at, updated_at, next_attempt_at, delivered_at, \
     gave_up_at";

pub(crate) fn delivery(row: &impl RowExt) -> Result<WebhookDelivery> {
    let attempts = row.int("attempts")?;
    Ok(WebhookDelivery {
        id: WebhookDeliveryId::parse_stored(&row.text("id")?)?,
        hook_id: row.text("hook_id")?,
        hook_label: row.text("hook_label")?,
        event_type: row.text("event_type")?,
        approval_id: ApprovalId::parse_stored(&row.text("approval_id")?)?,
        body: row.text("body")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::corrupt(format!("column attempts: {attempts}")))?,
        last_status: opt_u16(row, "last_status")?,
        last_error: row.opt_text("last_error")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        next_attempt_at: opt_time(row, "next_attempt_at")?,
        delivered_at: opt_time(row, "delivered_at")?,
        gave_up_at: opt_time(row, "gave_up_at")?,
    })
}

/// Error texts are kept short: they are shown in the console.
pub(crate) fn short(error: &str) -> String {
    error.chars().take(500).collect()
}

impl<D: Dialect> SqlStore<D> {
    pub(super) async fn webhook_create(
        &self,
        new: &[crate::webhooks::NewWebhookDelivery],
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, hook_id, hook_label, event_type, approval_id, \
               body, attempts, created_at, updated_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $7) RETURNING {DELIVERY_COLS}"
        );
        let at = to_ms(now());
        let statements = new
            .iter()
            .map(|n| {
                query(&sql)
                    .bind(WebhookDeliveryId::new().to_string())
                    .bind(n.hook_id.clone())
                    .bind(n.hook_label.clone())
                    .bind(n.event_type.clone())
                    .bind(n.approval_id.to_string())
                    .bind(n.body.clone())
                    .bind(at)
            })
            .collect();
        dialect::batch(&self.pool, statements)
            .await?
            .iter()
            .flatten()
            .map(delivery)
            .collect()
    }

    pub(super) async fn webhook_claim_due(
        &self,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let at = now();
        let until = at
            + time::Duration::try_from(lease).map_err(|_| StoreError::invalid("webhook lease"))?;
        // The outer condition is checked again on the locked row (PostgreSQL), so a
        // row another worker claimed in between is skipped, never attempted twice.
        let sql = format!(
            "UPDATE webhook_deliveries SET next_attempt_at = $2 \
             WHERE next_attempt_at <= $1 AND id IN (SELECT id FROM webhook_deliveries \
               WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3) \
             RETURNING {DELIVERY_COLS}"
        );
        let rows = query(&sql)
            .bind(to_ms(at))
            .bind(to_ms(until))
            .bind(i64::from(limit.min(1000)))
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|d| (d.created_at, d.id));
        Ok(out)
    }

    pub(super) async fn webhook_record(
        &self,
        id: crate::ids::WebhookDeliveryId,
        attempt: crate::webhooks::WebhookAttempt,
    ) -> Result<crate::webhooks::WebhookDelivery> {
        let at = to_ms(now());
        let (status, error, next, delivered, gave_up) = match attempt {
            WebhookAttempt::Delivered { status } => (Some(status), None, None, Some(at), None),
            WebhookAttempt::Retry {
                status,
                error,
                retry_at,
            } => (
                status,
                Some(short(&error)),
                Some(to_ms(retry_at)),
                None,
                None,
            ),
            WebhookAttempt::GiveUp { status, error } => {
                (status, Some(short(&error)), None, None, Some(at))
            }
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, \
               last_error = $3, updated_at = $4, next_attempt_at = $5, delivered_at = $6, \
               gave_up_at = $7 \
             WHERE id = $1 AND delivered_at IS NULL AND gave_up_at IS NULL \
             RETURNING {DELIVERY_COLS}"
        );
        let recorded = query(&sql)
            .bind(id.to_string())
            .bind(status.map(i64::from))
            .bind(error)
            .bind(at)
            .bind(next)
            .bind(delivered)
            .bind(gave_up)
            .fetch_first(&self.pool, delivery)
            .await?;
        if let Some(d) = recorded {
            return Ok(d);
        }
        query("SELECT id FROM webhook_deliveries WHERE id = $1")
            .bind(id.to_string())
            .fetch_found(&self.pool, "webhook delivery", |_| Ok(()))
            .await?;
        Err(StoreError::conflict("webhook delivery is already finished"))
    }

    pub(super) async fn webhook_list(
        &self,
        filter: crate::webhooks::WebhookDeliveryFilter,
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        let mut qb = query(format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE 1 = 1"
        ));
        if filter.failed_only {
            qb.push(" AND delivered_at IS NULL AND last_error IS NOT NULL");
        }
        if let Some(a) = filter.approval_id {
            qb.push(" AND approval_id = ").push_bind(a.to_string());
        }
        if let Some(u) = filter.user_id {
            qb.push(" AND approval_id IN (SELECT id FROM approvals WHERE requester_user_id = ")
                .push_bind(u.to_string())
                .push(")");
        }
        qb.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.unwrap_or(50).clamp(1, 1000)));
        qb.fetch_rows(&self.pool, delivery).await
    }

    pub(super) async fn webhook_purge(&self, finished_before: time::OffsetDateTime) -> Result<u64> {
        Ok(query(
            "DELETE FROM webhook_deliveries WHERE next_attempt_at IS NULL AND updated_at < $1",
        )
        .bind(to_ms(finished_before))
        .execute(&self.pool)
        .await?)
    }
}
