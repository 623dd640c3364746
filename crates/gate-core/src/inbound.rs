//! Inbound Notion webhooks (`POST /webhooks/notion`, served by `gate-server`): Notion's
//! change notifications, which keep the local mirror following edits within seconds.
//! Not to be confused with `notify.rs`, the gateway's *outbound* approval notifications.
//!
//! - **Handshake**: a body `{"verification_token": "…"}` (unsigned: the receiver has no key
//!   yet) is stored for the connection, encrypted by the vault
//!   ([`gate_store::Store::save_notion_webhook_token`]). The log says a token arrived and how
//!   an admin reveals it (`notion-gate mirror webhook-token`), never the token.
//! - **Deliveries**: `X-Notion-Signature: sha256=<hex>` must be the HMAC-SHA256 of the raw
//!   body keyed by the stored token (or the verified token a newer, not yet verified handshake
//!   replaced), compared in constant time (`Mac::verify_slice`); otherwise the delivery is
//!   rejected. The first delivery that verifies with a new token marks it verified.
//! - **Events** are signals only: a page event schedules a refetch of that page, a data
//!   source event an incremental sync, on the connection's [`RefreshQueue`] (one per
//!   connection with a mirror, created on first use; deduplicated and debounced there). Other
//!   event types, and events for a connection without a mirror, are accepted and ignored.
//!
//! Which connection: the URL names it (`/webhooks/notion/{connection}`), or the gateway has
//! exactly one connection (`/webhooks/notion`).

use std::sync::{Arc, Weak};

use gate_mirror::RefreshQueue;
use gate_store::{ConnectionId, NotionWebhookTokens};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use sha2::Sha256;

use crate::error::GateError;
use crate::gate::{Gate, Inner};

/// The header that carries a delivery's signature.
pub const NOTION_SIGNATURE_HEADER: &str = "x-notion-signature";

/// What the gateway made of an inbound webhook request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboundOutcome {
    /// A verification handshake: the token is stored for the connection.
    Verification {
        /// The connection it was stored for.
        connection: ConnectionId,
    },
    /// A signed event the mirror acts on: a refresh was scheduled.
    Scheduled {
        /// The event type (`page.content_updated`, …).
        event_type: String,
    },
    /// A signed event accepted and ignored: a type the mirror does not use (comments, file
    /// uploads, views, types Notion adds later), or no mirror for the connection.
    Ignored {
        /// The event type, as sent.
        event_type: String,
    },
    /// The request is refused (answered 401): the reason, safe to show.
    Rejected(&'static str),
}

/// What one event asks of the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Refetch this page (created, edited, moved, restored, deleted: the refetch removes a
    /// page in the trash).
    Page(String),
    /// Refresh this data source's rows (an incremental sync).
    DataSource(String),
    /// Nothing for the mirror.
    Ignore,
}

fn action(event: &Value) -> Action {
    let event_type = event.get("type").and_then(Value::as_str).unwrap_or("");
    let entity = event
        .pointer("/entity/id")
        .and_then(Value::as_str)
        .and_then(gate_mirror::dashed_id);
    let Some(entity) = entity else {
        return Action::Ignore;
    };
    match event_type {
        "page.created"
        | "page.content_updated"
        | "page.properties_updated"
        | "page.moved"
        | "page.deleted"
        | "page.undeleted"
        | "page.locked"
        | "page.unlocked" => Action::Page(entity),
        "data_source.created"
        | "data_source.content_updated"
        | "data_source.moved"
        | "data_source.undeleted"
        | "database.content_updated" => Action::DataSource(entity),
        _ => Action::Ignore,
    }
}

/// `sha256=<64 lowercase or uppercase hex>` → the 32 bytes.
fn parse_signature(header: &str) -> Option<[u8; 32]> {
    let hex_part = header.trim().strip_prefix("sha256=")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

/// Whether `signature` is the HMAC-SHA256 of `body` keyed by `token` (constant time).
fn verifies(token: &SecretString, body: &[u8], signature: &[u8; 32]) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(signature).is_ok()
}

/// The handshake's token, if `body` is a handshake (an object whose only field is a
/// non-empty string `verification_token`).
fn handshake_token(body: &Value) -> Option<SecretString> {
    let map = body.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let token = map.get("verification_token")?.as_str()?.trim();
    (!token.is_empty()).then(|| SecretString::from(token.to_owned()))
}

fn count(outcome: &'static str) {
    metrics::counter!("notion_webhook_events_total", "outcome" => outcome).increment(1);
}

impl Gate {
    /// Handles one inbound Notion webhook request: `connection` from the URL (else the only
    /// connection), the `X-Notion-Signature` header, the raw body. Errors are for requests
    /// the gateway cannot attribute (no such connection, several and none named: 404/400)
    /// and storage failures; a bad signature is [`InboundOutcome::Rejected`].
    pub async fn notion_webhook(
        &self,
        connection: Option<ConnectionId>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<InboundOutcome, GateError> {
        let connection = self.webhook_connection(connection).await?;
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            count("rejected");
            return Ok(InboundOutcome::Rejected("the body is not JSON"));
        };
        if let Some(token) = handshake_token(&json) {
            self.inner
                .store
                .save_notion_webhook_token(&self.inner.vault, connection, &token)
                .await?;
            count("verification");
            tracing::warn!(
                connection_id = %connection,
                "Notion webhook verification token received and stored; reveal it with \
                 `notion-gate mirror webhook-token --connection {connection}` and paste it in \
                 the integration's Webhooks settings to activate the subscription"
            );
            return Ok(InboundOutcome::Verification { connection });
        }
        let Some(signature) = signature.and_then(parse_signature) else {
            count("rejected");
            return Ok(InboundOutcome::Rejected(
                "missing or malformed X-Notion-Signature (expected sha256=<64 hex digits>)",
            ));
        };
        let tokens = self
            .inner
            .store
            .notion_webhook_tokens(&self.inner.vault, connection)
            .await?;
        let Some(tokens) = tokens else {
            count("rejected");
            return Ok(InboundOutcome::Rejected(
                "no verification token is stored for this connection (the handshake comes first)",
            ));
        };
        if !self
            .check_signature(connection, &tokens, body, &signature)
            .await?
        {
            count("rejected");
            return Ok(InboundOutcome::Rejected(
                "X-Notion-Signature does not verify with the stored verification token",
            ));
        }
        let event_type = json
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let act = action(&json);
        let queue = match act {
            Action::Ignore => None,
            _ => self.refresh_queue(connection),
        };
        let Some(queue) = queue else {
            count("ignored");
            tracing::debug!(connection_id = %connection, event_type, "Notion webhook ignored");
            return Ok(InboundOutcome::Ignored { event_type });
        };
        match act {
            Action::Page(id) => queue.touch(&id),
            Action::DataSource(id) => queue.data_source_changed(&id),
            Action::Ignore => {}
        }
        count("scheduled");
        metrics::counter!("mirror_refreshes_scheduled_total").increment(1);
        Ok(InboundOutcome::Scheduled { event_type })
    }

    /// Whether the signature verifies with the current or the previous token; marks a
    /// current token verified the first time it does.
    async fn check_signature(
        &self,
        connection: ConnectionId,
        tokens: &NotionWebhookTokens,
        body: &[u8],
        signature: &[u8; 32],
    ) -> Result<bool, GateError> {
        if verifies(&tokens.current, body, signature) {
            if tokens.verified_at.is_none() {
                self.inner
                    .store
                    .confirm_notion_webhook_token(connection, tokens.received_at)
                    .await?;
                tracing::info!(connection_id = %connection, "Notion webhook verification token verified");
            }
            return Ok(true);
        }
        Ok(tokens
            .previous
            .as_ref()
            .is_some_and(|p| verifies(p, body, signature)))
    }

    /// The connection a webhook is for: the one named, or the only one.
    async fn webhook_connection(
        &self,
        named: Option<ConnectionId>,
    ) -> Result<ConnectionId, GateError> {
        if let Some(id) = named {
            return match self.inner.store.get_connection(id).await {
                Ok(c) => Ok(c.id),
                Err(e) if e.is_not_found() => Err(GateError::NotFound { what: "connection" }),
                Err(e) => Err(e.into()),
            };
        }
        let mut all = self.inner.store.list_connections(None).await?;
        match all.len() {
            1 => Ok(all.remove(0).id),
            0 => Err(GateError::NotFound { what: "connection" }),
            _ => Err(GateError::Invalid {
                field: "connection",
                message: "the gateway has several connections: point the subscription at \
                          /webhooks/notion/{connection id}"
                    .into(),
            }),
        }
    }

    /// A connection's stored webhook verification tokens (for an admin to reveal:
    /// `notion-gate mirror webhook-token`).
    pub async fn notion_webhook_tokens(
        &self,
        connection: ConnectionId,
    ) -> Result<Option<NotionWebhookTokens>, GateError> {
        Ok(self
            .inner
            .store
            .notion_webhook_tokens(&self.inner.vault, connection)
            .await?)
    }

    /// The refresh queue of a connection's mirror, started on first use; `None` without
    /// mirrors or before the connection's first sync (a webhook cannot build a mirror: the
    /// first sync lists everything).
    pub fn refresh_queue(&self, connection: ConnectionId) -> Option<RefreshQueue> {
        let mut queues = self
            .inner
            .refresh_queues
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(q) = queues.get(&connection) {
            return Some(q.clone());
        }
        let store = self.mirror_store(connection).ok()??;
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let queue = RefreshQueue::spawn(store, RefreshQueue::DEBOUNCE, move || {
            let weak = weak.clone();
            async move {
                // The queue lives in the gate: it holds the gate weakly, so that dropping
                // the gate stops its workers.
                let gate = Gate {
                    inner: weak.upgrade()?,
                };
                gate.mirror_connection(connection).await.ok()
            }
        });
        queues.insert(connection, queue.clone());
        Some(queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(token: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn signatures_verify_only_with_the_key_and_the_exact_body() {
        let token = SecretString::from("secret_abc".to_owned());
        let body = br#"{"type":"page.created"}"#;
        let good = parse_signature(&sign("secret_abc", body)).expect("well formed");
        assert!(verifies(&token, body, &good));
        assert!(!verifies(&token, br#"{"type": "page.created"}"#, &good));
        let other = parse_signature(&sign("secret_xyz", body)).expect("well formed");
        assert!(!verifies(&token, body, &other));
        assert!(parse_signature("sha256=abcd").is_none());
        assert!(parse_signature(&sign("k", body).replace("sha256=", "sha1=")).is_none());
        assert!(parse_signature(&format!("sha256={}", "g".repeat(64))).is_none());
    }

    #[test]
    fn handshakes_are_a_lone_verification_token() {
        let t = handshake_token(&serde_json::json!({"verification_token": "secret_1"}));
        assert_eq!(
            t.map(|t| t.expose_secret().to_owned()),
            Some("secret_1".into())
        );
        assert!(handshake_token(&serde_json::json!({"verification_token": ""})).is_none());
        assert!(
            handshake_token(
                &serde_json::json!({"verification_token": "x", "type": "page.created"})
            )
            .is_none()
        );
    }

    #[test]
    fn events_map_to_page_and_data_source_refreshes() {
        let ev = |t: &str, kind: &str| serde_json::json!({"type": t, "entity": {"id": "0123456789abcdef0123456789abcdef", "type": kind}});
        let id = "01234567-89ab-cdef-0123-456789abcdef".to_owned();
        assert_eq!(
            action(&ev("page.content_updated", "page")),
            Action::Page(id.clone())
        );
        assert_eq!(
            action(&ev("page.deleted", "page")),
            Action::Page(id.clone())
        );
        assert_eq!(
            action(&ev("data_source.content_updated", "data_source")),
            Action::DataSource(id)
        );
        assert_eq!(action(&ev("comment.created", "comment")), Action::Ignore);
        assert_eq!(action(&ev("page.something_new", "page")), Action::Ignore);
        assert_eq!(
            action(&serde_json::json!({"type": "page.created"})),
            Action::Ignore
        );
    }
}
