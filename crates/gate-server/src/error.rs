//! The one error envelope of the gateway's own API:
//! `{"error": {"code", "message", "request_id", "details"}}` (see `docs/API-DESIGN.md`).
//!
//! Handlers return [`ApiError`]; the request id is filled in on the way out by
//! [`fill_request_id`], which knows it from the request-id layer.

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The stable error codes of the gateway's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: malformed JSON, a wrong type, an unknown or missing field.
    InvalidRequest,
    /// 400: a Notion ID that is not 32 hex digits.
    InvalidId,
    /// 401: missing, malformed or unknown key.
    Unauthorized,
    /// 403: the policy denies the action class.
    ForbiddenByPolicy,
    /// 403: local-only mode blocks cloud calls.
    LocalOnly,
    /// 403: Notion refused the token's access (`restricted_resource`).
    NotionForbidden,
    /// 403: the caller may not do this (an agent managing agents, a user approving).
    Forbidden,
    /// 404: a gateway object the caller cannot see.
    NotFound,
    /// 404: Notion's `object_not_found`.
    NotionNotFound,
    /// 405.
    MethodNotAllowed,
    /// 409: the connection needs to be connected again.
    ReconnectRequired,
    /// 409: a state conflict (already decided, already exists).
    Conflict,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: not JSON.
    UnsupportedMediaType,
    /// 202: the call waits for a human's approval.
    ApprovalRequired,
    /// 429: rate limited after the retry budget.
    RateLimited,
    /// 502: Notion failed.
    NotionError,
    /// 503: a feature is not configured (OAuth client credentials, …).
    NotConfigured,
    /// 504: the request took too long.
    Timeout,
    /// 500: a bug; the message says nothing more.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidId => "invalid_id",
            Self::Unauthorized => "unauthorized",
            Self::ForbiddenByPolicy => "forbidden_by_policy",
            Self::LocalOnly => "local_only",
            Self::NotionForbidden => "notion_forbidden",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::NotionNotFound => "notion_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ReconnectRequired => "reconnect_required",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ApprovalRequired => "approval_required",
            Self::RateLimited => "rate_limited",
            Self::NotionError => "notion_error",
            Self::NotConfigured => "not_configured",
            Self::Timeout => "timeout",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest | Self::InvalidId => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::ForbiddenByPolicy | Self::LocalOnly | Self::NotionForbidden | Self::Forbidden => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound | Self::NotionNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::ReconnectRequired | Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ApprovalRequired => StatusCode::ACCEPTED,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::NotionError => StatusCode::BAD_GATEWAY,
            Self::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer of the gateway's API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// A safe, human message: never a token, never page content, never an internal error.
    pub message: String,
    /// Structured details (`field`, `needed`, `approval_id`, `notion_code`, …).
    pub details: Map<String, Value>,
    /// `Retry-After` in seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
        }
    }

    /// Adds a detail.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A 400 that names the field at fault.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message).detail("field", field)
    }

    /// A 404 for a gateway object.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// A 500 that hides its cause from the caller (and logs it).
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error; see the server log")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// Marks a response whose body is an envelope still missing its request id.
#[derive(Clone)]
struct PendingEnvelope(Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = json!({"error": {
            "code": self.code.as_str(),
            "message": self.message,
            "request_id": Value::Null,
            "details": Value::Object(self.details),
        }});
        let mut resp = (status, Json(body.clone())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(PendingEnvelope(body));
        resp
    }
}

/// Middleware: puts the request id (from the `x-request-id` header set by the request-id
/// layer) into every error envelope produced downstream.
pub async fn fill_request_id(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The governed calls of this request are audited under the same id, when it is a sane
    // one (a client may send its own `x-request-id`; odd ones stay out of the audit).
    let mut resp = match request_id.as_deref().filter(|id| auditable_request_id(id)) {
        Some(id) => gate_core::with_request_id(id.to_owned(), next.run(req)).await,
        None => next.run(req).await,
    };
    if let Some(PendingEnvelope(mut body)) = resp.extensions_mut().remove::<PendingEnvelope>() {
        body["error"]["request_id"] = request_id.map_or(Value::Null, Value::String);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        *resp.body_mut() = Body::from(bytes);
    }
    resp
}

/// Whether a request id may go into the audit: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
fn auditable_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Turns a bare status from a layer (413 from the body limit, 408/504 from the timeout, 404
/// and 405 from the router) into the envelope.
pub async fn envelope_bare_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if resp.extensions().get::<PendingEnvelope>().is_some() {
        return resp;
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE);
    // A JSON error is already in the envelope; an HTML page (the console's, the OAuth
    // callback's) is meant for a person and stays as it is.
    let is_json = content_type.is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    let code = match resp.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorCode::PayloadTooLarge),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT if !is_json => {
            Some(ErrorCode::Timeout)
        }
        StatusCode::NOT_FOUND if !is_json => Some(ErrorCode::NotFound),
        StatusCode::METHOD_NOT_ALLOWED if !is_json => Some(ErrorCode::MethodNotAllowed),
        // axum's rejections are plain text; an HTML page (the OAuth callback's) stays.
        StatusCode::BAD_REQUEST
            if resp
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/plain")) =>
        {
            Some(ErrorCode::InvalidRequest)
        }
        _ => None,
    };
    match code {
        Some(ErrorCode::InvalidRequest) => {
            // axum's plain-text rejections (a query string or a path that does not parse):
            // the envelope, naming the field when the rejection does.
            let text = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let field = text
                .strip_prefix("Failed to deserialize query string: ")
                .and_then(|rest| rest.split_once(':'))
                .map(|(field, _)| field.trim())
                .filter(|f| !f.is_empty() && f.len() <= 64 && !f.contains(' '));
            match field {
                Some(field) => ApiError::invalid_field(field, "this value does not parse"),
                None => ApiError::new(
                    ErrorCode::InvalidRequest,
                    "malformed request: the query string or path does not parse",
                ),
            }
            .into_response()
        }
        Some(ErrorCode::PayloadTooLarge) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this server accepts",
        )
        .into_response(),
        Some(ErrorCode::NotFound) => {
            ApiError::new(ErrorCode::NotFound, "no such route").into_response()
        }
        Some(ErrorCode::MethodNotAllowed) => ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this route does not accept that method",
        )
        .into_response(),
        Some(code) => ApiError::new(code, "the request took too long").into_response(),
        None => resp,
    }
}
