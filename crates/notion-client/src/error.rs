//! The client's one error type. API errors keep Notion's status, code, message, request id and
//! `additional_data`; transport errors say whether the request may have reached Notion.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::InvalidId;

/// Notion's error `code`, with a fallback for codes this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body is not JSON.
    InvalidJson,
    /// 400: no such endpoint.
    InvalidRequestUrl,
    /// 400: unsupported request.
    InvalidRequest,
    /// 400: the request does not match the schema or a limit.
    ValidationError,
    /// 400: `Notion-Version` missing.
    MissingVersion,
    /// 400: bad `Notion-Beta` header.
    InvalidBeta,
    /// 400: OAuth grant invalid.
    InvalidGrant,
    /// 401: OAuth client credentials wrong.
    InvalidClient,
    /// 400: OAuth grant type not allowed for this client.
    UnauthorizedClient,
    /// 400: OAuth grant type unknown.
    UnsupportedGrantType,
    /// 401: token invalid, revoked or expired.
    Unauthorized,
    /// 403: the token lacks a capability.
    RestrictedResource,
    /// 404: missing, or not shared with the connection.
    ObjectNotFound,
    /// 409: concurrent modification.
    ConflictError,
    /// 429: rate limited.
    RateLimited,
    /// 500.
    InternalServerError,
    /// 502.
    BadGateway,
    /// 503.
    ServiceUnavailable,
    /// 503: Notion's storage unavailable.
    DatabaseConnectionUnavailable,
    /// 504.
    GatewayTimeout,
    /// 529.
    ServiceOverload,
    /// A code this client does not know yet.
    Unknown(String),
}

impl ErrorCode {
    /// Parses Notion's code string.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_json" => Self::InvalidJson,
            "invalid_request_url" => Self::InvalidRequestUrl,
            "invalid_request" => Self::InvalidRequest,
            "validation_error" => Self::ValidationError,
            "missing_version" => Self::MissingVersion,
            "invalid_beta" => Self::InvalidBeta,
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client" => Self::InvalidClient,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "unauthorized" => Self::Unauthorized,
            "restricted_resource" => Self::RestrictedResource,
            "object_not_found" => Self::ObjectNotFound,
            "conflict_error" => Self::ConflictError,
            "rate_limited" => Self::RateLimited,
            "internal_server_error" => Self::InternalServerError,
            "bad_gateway" => Self::BadGateway,
            "service_unavailable" => Self::ServiceUnavailable,
            "database_connection_unavailable" => Self::DatabaseConnectionUnavailable,
            "gateway_timeout" => Self::GatewayTimeout,
            "service_overload" => Self::ServiceOverload,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The code string as Notion spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidRequestUrl => "invalid_request_url",
            Self::InvalidRequest => "invalid_request",
            Self::ValidationError => "validation_error",
            Self::MissingVersion => "missing_version",
            Self::InvalidBeta => "invalid_beta",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::Unauthorized => "unauthorized",
            Self::RestrictedResource => "restricted_resource",
            Self::ObjectNotFound => "object_not_found",
            Self::ConflictError => "conflict_error",
            Self::RateLimited => "rate_limited",
            Self::InternalServerError => "internal_server_error",
            Self::BadGateway => "bad_gateway",
            Self::ServiceUnavailable => "service_unavailable",
            Self::DatabaseConnectionUnavailable => "database_connection_unavailable",
            Self::GatewayTimeout => "gateway_timeout",
            Self::ServiceOverload => "service_overload",
            Self::Unknown(s) => s,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// An error answered by Notion in its JSON envelope.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Notion's `code`.
    pub code: ErrorCode,
    /// Notion's `message`.
    pub message: String,
    /// `request_id` from the body, or the `X-Notion-Request-Id` header.
    pub request_id: Option<String>,
    /// `additional_data` (e.g. `rate_limit_reason`, `integration_id`).
    pub additional_data: Option<Map<String, Value>>,
    /// `Retry-After`, when sent (429, 529, some 503).
    pub retry_after: Option<Duration>,
    /// How many attempts were made before giving up.
    pub attempts: u32,
}

/// Whether a failed write may nevertheless have been applied by Notion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteState {
    /// Nothing reached Notion, or Notion refused before acting (4xx, 429, 529).
    NotApplied,
    /// The request reached Notion and the answer was lost or was a 5xx: it may have happened.
    /// Serialized as `may_have_applied`.
    #[serde(rename = "may_have_applied")]
    Unknown,
}

/// Everything that can go wrong in a Notion call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Notion answered with its error envelope.
    #[error("Notion API error {}: {} ({}){}", .0.status, .0.message, .0.code, request_suffix(.0.request_id.as_deref()))]
    Api(Box<ApiError>),
    /// A non-2xx answer that is not Notion's JSON (a CDN page, a proxy error).
    #[error("unexpected HTTP {status} from Notion (not a Notion error body): {snippet}")]
    UnexpectedResponse {
        /// HTTP status.
        status: u16,
        /// The first 200 characters of the body.
        snippet: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection failed or broke. `may_have_reached` says whether Notion may have acted.
    #[error("could not reach Notion ({kind}){}", reached_suffix(*.may_have_reached))]
    Transport {
        /// What failed: connect, timeout, reset, body.
        kind: TransportKind,
        /// Whether the request may have been received and applied.
        may_have_reached: bool,
        /// Attempts made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A 2xx body that does not match the expected model.
    #[error("could not decode Notion's response at `{path}`: {message}{}", request_suffix(.request_id.as_deref()))]
    Decode {
        /// JSON path of the failure, e.g. `results[3].paragraph.rich_text`.
        path: String,
        /// The serde message.
        message: String,
        /// The request id of the response.
        request_id: Option<String>,
    },
    /// An ID that is not 32 hex digits; no request was sent.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// A request the client refuses to send (it would break a Notion rule); nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made.
    Connect,
    /// The attempt timed out.
    Timeout,
    /// The connection broke or the body could not be read.
    Broken,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect failed",
            Self::Timeout => "timed out",
            Self::Broken => "connection broken",
        })
    }
}

fn request_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(" [request {id}]")).unwrap_or_default()
}

fn reached_suffix(may_have_reached: bool) -> &'static str {
    if may_have_reached {
        "; the request may have reached Notion and been applied"
    } else {
        "; the request did not reach Notion"
    }
}

impl Error {
    /// The HTTP status, for API and unexpected-response errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Notion's error code, for API errors.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Api(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The API error, if Notion answered with its envelope.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a write that failed with this error may still have been applied.
    pub fn write_state(&self) -> WriteState {
        match self {
            Self::Api(e) if e.status >= 500 && e.status != 529 => WriteState::Unknown,
            Self::UnexpectedResponse { status, .. } if *status >= 500 => WriteState::Unknown,
            Self::Transport {
                may_have_reached: true,
                ..
            } => WriteState::Unknown,
            _ => WriteState::NotApplied,
        }
    }

    /// Whether this is a 429 (after the retry budget ran out).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::Api(e) if e.status == 429)
    }

    /// The same error for another caller of a coalesced read: everything but a transport
    /// error's source (a `reqwest::Error` cannot be copied), which only the first caller
    /// keeps.
    pub(crate) fn shared_copy(&self) -> Self {
        match self {
            Self::Api(e) => Self::Api(e.clone()),
            Self::UnexpectedResponse {
                status,
                snippet,
                attempts,
            } => Self::UnexpectedResponse {
                status: *status,
                snippet: snippet.clone(),
                attempts: *attempts,
            },
            Self::Transport {
                kind,
                may_have_reached,
                attempts,
                ..
            } => Self::Transport {
                kind: *kind,
                may_have_reached: *may_have_reached,
                attempts: *attempts,
                source: None,
            },
            Self::Decode {
                path,
                message,
                request_id,
            } => Self::Decode {
                path: path.clone(),
                message: message.clone(),
                request_id: request_id.clone(),
            },
            Self::InvalidId(e) => Self::InvalidId(e.clone()),
            Self::InvalidRequest(m) => Self::InvalidRequest(m.clone()),
        }
    }
}

/// A convenient alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a non-2xx answer into an [`Error`]: the one place where that happens.
pub(crate) fn error_from_response(
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
) -> Error {
    #[derive(Deserialize)]
    struct Envelope {
        object: Option<String>,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        additional_data: Option<Map<String, Value>>,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(env) if env.code.is_some() && env.object.as_deref().is_none_or(|o| o == "error") => {
            Error::Api(Box::new(ApiError {
                status,
                code: ErrorCode::parse(env.code.as_deref().unwrap_or_default()),
                message: env.message.unwrap_or_default(),
                request_id: env
                    .request_id
                    .filter(|s| !s.is_empty())
                    .or(header_request_id),
                additional_data: env.additional_data,
                retry_after,
                attempts,
            }))
        }
        _ => Error::UnexpectedResponse {
            status,
            snippet: String::from_utf8_lossy(body).chars().take(200).collect(),
            attempts,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_notion_envelope() {
        let body = br#"{"object":"error","status":404,"code":"object_not_found","message":"Could not find page","request_id":"r-1","additional_data":{"integration_id":"x"}}"#;
        let e = error_from_response(404, body, Some("h".into()), None, 1);
        let api = e.api().unwrap();
        assert_eq!(api.code, ErrorCode::ObjectNotFound);
        assert_eq!(api.request_id.as_deref(), Some("r-1"));
        assert_eq!(api.additional_data.as_ref().unwrap()["integration_id"], "x");
        assert!(e.to_string().contains("Could not find page"));
        assert!(e.to_string().contains("r-1"));
        assert_eq!(e.write_state(), WriteState::NotApplied);
    }

    #[test]
    fn unknown_code_and_html_body() {
        let e = error_from_response(
            400,
            br#"{"object":"error","code":"brand_new"}"#,
            None,
            None,
            1,
        );
        assert_eq!(e.code(), Some(&ErrorCode::Unknown("brand_new".into())));
        let e = error_from_response(502, b"<html>Bad gateway</html>", None, None, 3);
        assert!(matches!(e, Error::UnexpectedResponse { status: 502, .. }));
        assert_eq!(e.write_state(), WriteState::Unknown);
    }

    #[test]
    fn write_states_serialize_plainly() {
        assert_eq!(
            serde_json::to_value(WriteState::Unknown).unwrap(),
            "may_have_applied"
        );
        assert_eq!(
            serde_json::to_value(WriteState::NotApplied).unwrap(),
            "not_applied"
        );
    }

    #[test]
    fn codes_round_trip() {
        for code in [
            "validation_error",
            "rate_limited",
            "service_overload",
            "zzz",
        ] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
    }
}
