//! The console's one error type, [`ConsoleError`], and how each is shown: a calm page that
//! says what happened and what to do, with the right status. Messages come from the gate,
//! which never puts a key, a token or page content into one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gate_core::GateError;
use maud::html;

/// Everything a console request can end with other than its page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// No valid session: sign in (the path to come back to).
    #[error("sign in to continue")]
    SignIn {
        /// Where to go after signing in.
        next: Option<String>,
        /// Whether htmx asked (then the redirect is an `HX-Redirect` header).
        htmx: bool,
    },
    /// A state-changing form without this session's CSRF token.
    #[error("this form is out of date or did not come from this console")]
    Csrf,
    /// Nothing here, or nothing this user may see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A form field is wrong.
    #[error("{field}: {message}")]
    BadInput {
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The thing changed meanwhile (an approval already decided, a name taken).
    #[error("{0}")]
    Conflict(String),
    /// Anything else the gate answered.
    #[error(transparent)]
    Gate(GateError),
}

impl ConsoleError {
    /// A bad form field.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConsoleError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<GateError> for ConsoleError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Unauthenticated => ConsoleError::SignIn {
                next: None,
                htmx: false,
            },
            GateError::NotFound { what } => ConsoleError::NotFound(what),
            GateError::Forbidden { reason, .. } => ConsoleError::Forbidden(reason),
            GateError::Invalid { field, message } => ConsoleError::BadInput {
                field: field.to_string(),
                message: message.to_string(),
            },
            GateError::Conflict { what } => ConsoleError::Conflict(what.to_string()),
            other => ConsoleError::Gate(other),
        }
    }
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { .. } => StatusCode::SEE_OTHER,
            ConsoleError::Csrf | ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadInput { .. } => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Gate(GateError::LocalOnly) => StatusCode::FORBIDDEN,
            ConsoleError::Gate(GateError::NotConfigured { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Gate(GateError::ReconnectRequired { .. }) => StatusCode::CONFLICT,
            ConsoleError::Gate(GateError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Gate(GateError::Upstream { .. }) => StatusCode::BAD_GATEWAY,
            ConsoleError::Gate(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ConsoleError::SignIn { .. } => "Sign in",
            ConsoleError::Csrf => "Form expired",
            ConsoleError::NotFound(_) => "Not found",
            ConsoleError::Forbidden(_) => "Not allowed",
            ConsoleError::BadInput { .. } => "Check the form",
            ConsoleError::Conflict(_) => "Already changed",
            ConsoleError::Gate(_) => "Something went wrong",
        }
    }

    fn advice(&self) -> &'static str {
        match self {
            ConsoleError::Csrf => "Go back, reload the page and try again.",
            ConsoleError::NotFound(_) => "It may have been removed, or it belongs to someone else.",
            ConsoleError::Conflict(_) => "Reload the page to see its current state.",
            _ => "Go back and try again.",
        }
    }
}

/// Where the sign-in page may send a browser afterwards: a console path only (no open
/// redirect).
pub(crate) fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with("/console")
            && !n.starts_with("/console/login")
            && !n.contains("//")
            && !n.contains('\\')
            && n.len() < 512
            && !n.chars().any(char::is_control)
    })
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::SignIn { next, htmx } = &self {
            let target = match safe_next(next.as_deref()) {
                Some(n) => format!("/console/login?next={}", url_encode(n)),
                None => "/console/login".to_owned(),
            };
            if *htmx {
                let mut resp = StatusCode::NO_CONTENT.into_response();
                if let Ok(v) = HeaderValue::from_str(&target) {
                    resp.headers_mut().insert("hx-redirect", v);
                }
                return resp;
            }
            return Redirect::to(&target).into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "console request failed");
        }
        let body = crate::layout::bare(
            self.title(),
            html! {
                main class="card narrow" {
                    h1 { (self.title()) }
                    p class="lead" { (self.to_string()) }
                    p class="muted" { (self.advice()) }
                    p { a href="/console" { "Back to the console" } }
                }
            },
        );
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// Percent-encodes a query value.
pub(crate) fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `GET /console/{*rest}`: an unknown console path.
pub(crate) async fn not_found() -> ConsoleError {
    ConsoleError::NotFound("page")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/console/approvals/1")),
            Some("/console/approvals/1")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/console//evil",
            "/consolex\\",
            "/api/v1/me",
            "/console/login?next=x",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(url_encode("/console/a?b=c&d"), "%2Fconsole%2Fa%3Fb%3Dc%26d");
    }
}
