//! Inbound Notion webhooks: `POST /webhooks/notion` (the gateway's only connection) and
//! `POST /webhooks/notion/{connection}`. Not an agent API: no gateway key; a delivery is
//! authenticated by its `X-Notion-Signature` (checked by `gate_core::Gate::notion_webhook`
//! over the body exactly as received), the verification handshake by nothing (Notion cannot
//! sign it; the token it carries is stored, never echoed).
//!
//! Answers: 200 `{"ok": true, "outcome": …}` at once (the refresh runs later, on the
//! mirror's refresh queue; unknown event types are accepted and ignored, since Notion retries
//! anything else), 401 `unauthorized` with the reason for a signature that is missing,
//! malformed or wrong, 404 for an unknown connection, 400 when the gateway has several
//! connections and the URL names none. Not in the OpenAPI document (it is Notion's contract,
//! not the gateway's API).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use gate_core::{InboundOutcome, NOTION_SIGNATURE_HEADER};
use gate_store::ConnectionId;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The inbound webhook routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/notion", post(only_connection))
        .route("/webhooks/notion/{connection}", post(named_connection))
}

async fn only_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    receive(&state, None, &headers, &body).await
}

async fn named_connection(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id: ConnectionId = connection
        .parse()
        .map_err(|_| ApiError::not_found("connection"))?;
    receive(&state, Some(id), &headers, &body).await
}

async fn receive(
    state: &AppState,
    connection: Option<ConnectionId>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let signature = headers
        .get(NOTION_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let outcome = state
        .gate
        .notion_webhook(connection, signature, body)
        .await?;
    let answer = match outcome {
        InboundOutcome::Verification { .. } => {
            json!({"ok": true, "outcome": "verification_stored"})
        }
        InboundOutcome::Scheduled { event_type } => {
            json!({"ok": true, "outcome": "refresh_scheduled", "type": event_type})
        }
        InboundOutcome::Ignored { event_type } => {
            json!({"ok": true, "outcome": "ignored", "type": event_type})
        }
        InboundOutcome::Rejected(reason) => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!("Notion webhook refused: {reason}"),
            )
            .detail("reason", "invalid_signature"));
        }
        _ => json!({"ok": true}),
    };
    Ok(Json(answer))
}

#[cfg(test)]
mod tests;
