//! CORS: off unless origins are listed. With no list the gateway sends no CORS header at all
//! (browsers then refuse cross-origin reads); with a list, exactly those origins are allowed
//! (tower-http's `CorsLayer` with an exact list). `*` is never sent: the API is authenticated
//! with bearer keys and a wildcard would let any web page drive a key it got hold of.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// An origin that cannot be allowed.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid CORS origin {origin:?}: expected scheme://host[:port] with no path, e.g. \
     https://app.example.com (a wildcard is never allowed)"
)]
pub struct InvalidOrigin {
    /// The origin as given.
    pub origin: String,
}

/// Checks one origin: `scheme://host[:port]`, nothing else, never `*`.
pub fn parse_origin(origin: &str) -> Result<HeaderValue, InvalidOrigin> {
    let bad = || InvalidOrigin {
        origin: origin.to_owned(),
    };
    let trimmed = origin.trim().trim_end_matches('/');
    if trimmed.contains('*') {
        return Err(bad());
    }
    let url = url::Url::parse(trimmed).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    let serialized = url.origin().ascii_serialization();
    if !serialized.eq_ignore_ascii_case(trimmed) {
        return Err(bad());
    }
    HeaderValue::from_str(&serialized).map_err(|_| bad())
}

/// The layer for an allow-list, or `None` for an empty list (no CORS headers).
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("notion-version"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("https://app.example.com/").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        for bad in [
            "*",
            "",
            "null",
            "app.example.com",
            "https://app.example.com/path",
            "ftp://x.example",
            "https://*.example.com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
