//! Security headers on every console answer: a strict Content-Security-Policy (scripts and
//! styles from the gateway only, nothing inline; forms may post only to the gateway and to
//! Notion's OAuth consent page; no framing), `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`, and `no-store` on pages
//! (a page may show a key once). A handler that sets its own policy (a consent page that
//! must send the browser on to a client's redirect URI) keeps it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::ConsoleState;

/// The origin (`scheme://host[:port]`) of a URL, if it has one.
pub(crate) fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme == "https" || scheme == "http") {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.is_empty() && !host.contains(['\'', ';', ' ', '"', '\\']))
        .then(|| &url[..scheme.len() + 3 + end])
}

/// The Content-Security-Policy of console pages.
pub(crate) fn policy(extra_form_action: Option<&str>) -> String {
    let mut form_action = "'self'".to_owned();
    if let Some(o) = extra_form_action.and_then(origin) {
        form_action.push(' ');
        form_action.push_str(o);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The layer's function.
pub(crate) async fn headers(
    State(state): State<ConsoleState>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(v) = HeaderValue::from_str(&policy(Some(&state.config.notion_url)))
    {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_cut_at_the_path_and_refuse_odd_urls() {
        assert_eq!(
            origin("https://api.notion.com/v1"),
            Some("https://api.notion.com")
        );
        assert_eq!(origin("http://127.0.0.1:9/x?y"), Some("http://127.0.0.1:9"));
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("https://a.b'; script-src *"), None);
        let p = policy(Some("https://api.notion.com"));
        assert!(
            p.contains("form-action 'self' https://api.notion.com;"),
            "{p}"
        );
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(!p.contains("unsafe-inline"));
    }
}
