//! How every [`GateError`] becomes the gateway's error envelope (see `docs/API-DESIGN.md`).

use gate_core::GateError;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

impl From<GateError> for ApiError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Unauthenticated => ApiError::new(
                ErrorCode::Unauthorized,
                "missing, unknown or revoked key: send `Authorization: Bearer <key>`",
            ),
            GateError::Forbidden { code, reason, .. } if !code.is_governance() => {
                ApiError::new(ErrorCode::Forbidden, reason)
            }
            GateError::Forbidden {
                code,
                reason,
                needed,
            } => {
                let mut err = ApiError::new(ErrorCode::ForbiddenByPolicy, reason)
                    .detail("reason", code.as_str());
                if let Some(needed) = needed {
                    err = err.detail("needed", needed.to_string());
                }
                err
            }
            e @ GateError::LocalOnly => ApiError::new(ErrorCode::LocalOnly, e.to_string()),
            GateError::ApprovalRequired { id, expires_at } => ApiError::new(
                ErrorCode::ApprovalRequired,
                format!(
                    "this call needs a human's approval and runs once when approved, so do not \
                     repeat it; follow it with GET {}/{id}?wait=60 (tool endpoint and MCP: \
                     get_approval)",
                    crate::routes::approvals::APPROVALS_PATH
                ),
            )
            .detail("approval_id", id.to_string())
            .detail(
                "expires_at",
                expires_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            ),
            GateError::ReconnectRequired { connection_id } => {
                let mut err = ApiError::new(
                    ErrorCode::ReconnectRequired,
                    "the Notion connection must be connected again (its token was revoked, \
                     expired or cannot be decrypted); nothing was sent to Notion with it",
                );
                if let Some(id) = connection_id {
                    err = err.detail("connection_id", id.to_string());
                }
                err
            }
            GateError::NotFound { what } => ApiError::not_found(what),
            GateError::Invalid { field, message } => ApiError::invalid_field(field, message),
            GateError::Conflict { what } => ApiError::new(ErrorCode::Conflict, what),
            GateError::RateLimited { retry_after } => {
                let mut err = ApiError::new(
                    ErrorCode::RateLimited,
                    "Notion is rate limiting this connection; try again later",
                );
                err.retry_after = Some(retry_after.map_or(1, |d| d.as_secs().max(1)));
                // Notion refuses a rate-limited request before acting on it.
                err.detail("write_state", "not_applied")
            }
            GateError::Upstream {
                status,
                code,
                message,
                request_id,
                write_state,
            } => {
                let (ecode, text) = match status {
                    Some(404) => (
                        ErrorCode::NotionNotFound,
                        "Notion could not find it, or it is not shared with the integration"
                            .to_owned(),
                    ),
                    Some(403) => (
                        ErrorCode::NotionForbidden,
                        "Notion refused: the integration lacks the capability for this".to_owned(),
                    ),
                    Some(400) => (ErrorCode::InvalidRequest, format!("Notion refused the request: {message}")),
                    Some(409) => (ErrorCode::Conflict, "Notion reported a conflicting change; read the current state and try again".to_owned()),
                    _ => (
                        ErrorCode::NotionError,
                        match (status, write_state) {
                            (None, notion_client::WriteState::NotApplied) => {
                                "Notion could not be reached; nothing was sent, so nothing was \
                                 written and the call can be repeated"
                            }
                            (None, notion_client::WriteState::Unknown) => {
                                "the connection to Notion failed after the request was sent; \
                                 if this was a write it may have been applied: read the current \
                                 state before repeating it"
                            }
                            (Some(_), notion_client::WriteState::Unknown) => {
                                "Notion failed to answer this request after retries; if this \
                                 was a write it may have been applied: read the current state \
                                 before repeating it"
                            }
                            (Some(_), notion_client::WriteState::NotApplied) => {
                                "Notion refused this request before acting on it; nothing was \
                                 written"
                            }
                        }
                        .to_owned(),
                    ),
                };
                let mut err = ApiError::new(ecode, text).detail(
                    "write_state",
                    serde_json::to_value(write_state).unwrap_or(Value::Null),
                );
                if let Some(status) = status {
                    err = err.detail("notion_status", status);
                }
                if let Some(code) = code {
                    err = err.detail("notion_code", code);
                }
                if let Some(id) = request_id {
                    err = err.detail("notion_request_id", id);
                }
                err
            }
            GateError::TooManyWaits { limit } => {
                let mut err = ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "this key already waits for {limit} approvals at once; let one end \
                         before waiting for another"
                    ),
                )
                .detail("reason", "too_many_waits")
                .detail("limit", limit);
                err.retry_after = Some(1);
                err
            }
            GateError::RevocationFailed {
                connection_id,
                reason,
                notion_status,
                notion_code,
                advice,
            } => {
                let text = format!("the token could not be revoked at Notion ({reason}): {advice}");
                let mut err = ApiError::new(ErrorCode::RevocationFailed, text)
                    .detail("connection_id", connection_id.to_string())
                    .detail("reason", reason)
                    .detail("revocation_failed", true);
                if let Some(status) = notion_status {
                    err = err.detail("notion_status", status);
                }
                if let Some(code) = notion_code {
                    err = err.detail("notion_code", code);
                }
                err
            }
            GateError::NotConfigured { what } => ApiError::new(
                ErrorCode::NotConfigured,
                format!("{what} is not configured on this gateway"),
            ),
            GateError::OAuth {
                error, description, ..
            } => ApiError::new(ErrorCode::InvalidRequest, format!("{error}: {description}")),
            other => ApiError::internal(&other),
        }
    }
}
