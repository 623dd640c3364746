//! Error types: [`ApiError`] is a Notion error envelope sent to the client, [`EmulatorError`] is
//! the crate's own error (binding the socket, bad configuration, store access from tests).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The crate's error type for operations that are not HTTP answers.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding or serving the TCP listener failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A configuration value is invalid (e.g. a non-positive rate).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A store operation requested by a test was refused with a Notion error.
    #[error("notion error {status} {code}: {message}")]
    Api {
        /// HTTP status the API would have answered.
        status: u16,
        /// Notion error code.
        code: String,
        /// Notion error message.
        message: String,
    },
}

impl From<ApiError> for EmulatorError {
    fn from(e: ApiError) -> Self {
        EmulatorError::Api {
            status: e.status.as_u16(),
            code: e.code.clone(),
            message: e.message.clone(),
        }
    }
}

/// A Notion error envelope (`{"object":"error","status","code","message",...}`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Notion error code (`validation_error`, `object_not_found`, ...).
    pub code: String,
    /// Human-readable message, worded like Notion's.
    pub message: String,
    /// Optional `additional_data` object.
    pub additional_data: Option<Box<Value>>,
    /// Optional `Retry-After` header (seconds).
    pub retry_after: Option<u64>,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Builds an error from parts.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            additional_data: None,
            retry_after: None,
        }
    }

    /// 400 `validation_error` with the given message.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation_error", message)
    }

    /// 400 `validation_error` for a body field, worded like
    /// ``body failed validation: body.x should be ≤ `2000`, instead was `2001`.``
    pub fn body_le(path: &str, limit: usize, actual: usize) -> Self {
        Self::validation(format!(
            "body failed validation: {path} should be ≤ `{limit}`, instead was `{actual}`."
        ))
    }

    /// 400 `validation_error` for a field that must be present.
    pub fn body_undefined(path: &str) -> Self {
        Self::validation(format!(
            "body failed validation: {path} should be defined, instead was `undefined`."
        ))
    }

    /// 400 `validation_error` for a malformed path id.
    pub fn bad_uuid(param: &str, raw: &str) -> Self {
        Self::validation(format!(
            "path failed validation: path.{param} should be a valid uuid, instead was `{}`.",
            serde_json::to_string(raw).unwrap_or_default()
        ))
    }

    /// 404 `object_not_found` naming the kind ("page", "block", "database").
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "object_not_found",
            format!(
                "Could not find {kind} with ID: {id}. Make sure the relevant pages and databases are shared with your integration."
            ),
        )
    }

    /// 400 `invalid_json`.
    pub fn invalid_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "Error parsing JSON body.",
        )
    }

    /// 400 `invalid_request_url`.
    pub fn invalid_request_url() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_url",
            "Invalid request URL.",
        )
    }

    /// 400 `invalid_request` ("Unsupported request: <name>.").
    pub fn unsupported(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Unsupported request: {name}."),
        )
    }

    /// 400 `missing_version`.
    pub fn missing_version() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
        )
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API token is invalid.",
        )
    }

    /// 429 `rate_limited` with `Retry-After` and `additional_data.rate_limit_reason`.
    pub fn rate_limited(retry_after: u64, reason: &str) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.",
        );
        e.retry_after = Some(retry_after);
        e.additional_data = Some(Box::new(json!({ "rate_limit_reason": reason })));
        e
    }

    /// The error Notion sends for a given status, used by fault injection.
    pub fn for_status(status: u16) -> Self {
        let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (code, msg) = match status {
            400 => ("validation_error", "Request validation failed."),
            401 => ("unauthorized", "API token is invalid."),
            403 => (
                "restricted_resource",
                "API token does not have access to this resource.",
            ),
            404 => ("object_not_found", "Could not find the requested object."),
            409 => (
                "conflict_error",
                "Conflict occurred while saving. Please try again.",
            ),
            429 => (
                "rate_limited",
                "You have been rate limited. Please try again in a few minutes.",
            ),
            500 => ("internal_server_error", "Unexpected error occurred."),
            502 => ("bad_gateway", "Bad gateway."),
            503 => (
                "service_unavailable",
                "Notion is unavailable, please try again later.",
            ),
            504 => ("gateway_timeout", "Notion timed out."),
            529 => ("service_overload", "Service overloaded"),
            _ => ("internal_server_error", "Unexpected error occurred."),
        };
        let mut e = Self::new(st, code, msg);
        if status == 429 {
            e.additional_data = Some(Box::new(
                json!({ "rate_limit_reason": "integration_rate_limit" }),
            ));
        }
        e
    }

    /// The JSON body of this error (without `request_id`, which the pipeline adds).
    pub fn body(&self) -> Value {
        let mut v = json!({
            "object": "error",
            "status": self.status.as_u16(),
            "code": self.code,
            "message": self.message,
        });
        if let Some(ad) = &self.additional_data {
            v["additional_data"] = (**ad).clone();
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(ra) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&ra.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
