//! The request extractors whose errors name the offending field (`details.field`) and never
//! leak a 5xx for bad input: `ApiJson<T>` for a JSON body (`parent.page_id`) and
//! `ApiQuery<T>` for a query string (`limit`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// A JSON request body, decoded with the failing path reported.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or_default().trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than this server accepts",
                )
            } else {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    "the request body could not be read",
                )
            }
        })?;
        if json_type == Some(false) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        parse(&bytes).map(ApiJson)
    }
}

/// A query string, decoded with the failing parameter reported.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Decodes a query string, naming the parameter of the first problem.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            // A missing or unknown parameter: serde names it in backticks.
            inner
                .split('`')
                .nth(1)
                .filter(|f| !f.contains(' '))
                .map(str::to_owned)
        } else {
            Some(path)
        };
        let mut err = ApiError::new(
            ErrorCode::InvalidRequest,
            format!("invalid query string: {inner}"),
        );
        if let Some(field) = field {
            err = err.detail("field", field);
        }
        err
    })
}

/// Decodes JSON, naming the path of the first problem.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the request body is empty; send a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!(
                "the body is not valid JSON (line {}, column {})",
                inner.line(),
                inner.column()
            )
        } else {
            // serde's own text names the expected type or the unknown field; it holds no
            // secrets (values are not echoed for strings).
            format!("invalid value at `{path}`: {}", scrub(&inner.to_string()))
        };
        let mut err = ApiError::new(ErrorCode::InvalidRequest, message);
        if path != "." {
            err = err.detail("field", path);
        }
        err
    })
}

/// Drops serde's " at line X column Y" suffix (the path is given instead).
fn scrub(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        limit: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u32>,
        status: Option<String>,
    }

    #[test]
    fn names_the_query_parameter() {
        let p: Params = parse_query("limit=5&status=pending").unwrap();
        assert_eq!(p.limit, Some(5));
        let e = parse_query::<Params>("limit=ten").unwrap_err();
        assert_eq!(e.details["field"], "limit");
        assert!(e.message.contains("invalid digit"), "{}", e.message);
        let e = parse_query::<Params>("limit=1&nope=2").unwrap_err();
        assert_eq!(e.details["field"], "nope");
        let p: Params = parse_query("").unwrap();
        assert!(p.limit.is_none() && p.status.is_none());
    }

    #[test]
    fn names_the_field() {
        let e = parse::<Body>(br#"{"name": "x", "inner": {"limit": "ten"}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.details["field"], "inner.limit");
        let e = parse::<Body>(br#"{"name": "x", "inner": {"limit": 1}, "extra": 1}"#).unwrap_err();
        assert!(e.message.contains("extra"), "{}", e.message);
        let e = parse::<Body>(br#"{"name": "x""#).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
        let e = parse::<Body>(b"  ").unwrap_err();
        assert!(e.message.contains("empty"));
        let e = parse::<Body>(br#"{"inner": {"limit": 1}}"#).unwrap_err();
        assert!(e.message.contains("name"), "{}", e.message);
    }
}
