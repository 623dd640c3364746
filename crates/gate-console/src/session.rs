//! Who is signed in: the `ng_session` cookie (HttpOnly, SameSite=Strict, `Secure` over TLS
//! or when the public URL is https, path `/console`), looked up through the gate on every
//! request. [`Signed`] is the extractor of every page; [`CsrfForm`] the extractor of every
//! state-changing form, which refuses a POST without this session's CSRF token (403).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use gate_core::Caller;
use gate_store::ConsoleSession;
use serde::de::DeserializeOwned;

use crate::error::ConsoleError;
use crate::{ConsoleState, csrf};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ng_session";

/// A signed-in person (never an agent).
#[derive(Clone)]
pub struct Signed {
    /// The user, with the rights of the key they signed in with.
    pub caller: Caller,
    /// The session.
    pub session: ConsoleSession,
    /// This session's CSRF token, for the forms of the page.
    pub csrf: String,
    token: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("caller", &self.caller)
            .field("session", &self.session.id)
            .finish_non_exhaustive()
    }
}

impl Signed {
    /// The session token (for sign-out).
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// The session token in a request's cookies.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// Whether htmx sent the request.
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn start_cookie(token: &str, max_age: std::time::Duration, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that ends it.
pub(crate) fn end_cookie(secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// Whether the request reached the gateway over TLS: directly, or through a proxy that says
/// so (`X-Forwarded-Proto: https`). Trusting the header can only add `Secure` to a cookie.
pub(crate) fn over_tls(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

impl FromRequestParts<ConsoleState> for Signed {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, ConsoleError> {
        let sign_in = || ConsoleError::SignIn {
            next: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .filter(|_| parts.method == axum::http::Method::GET),
            htmx: is_htmx(&parts.headers),
        };
        let Some(token) = session_token(&parts.headers) else {
            return Err(sign_in());
        };
        match state.gate.console_session(&token).await {
            Ok((caller, session)) => Ok(Signed {
                caller,
                session,
                csrf: csrf::token_for(&token),
                token,
            }),
            Err(gate_core::GateError::Unauthenticated) => Err(sign_in()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A state-changing form: the signed-in person and the decoded fields, after checking the
/// `csrf` field against the session (403 when it is missing or wrong).
#[derive(Debug)]
pub struct CsrfForm<T>(pub Signed, pub T);

/// The largest form body accepted.
const MAX_FORM: usize = 256 * 1024;

impl<T: DeserializeOwned + Send> FromRequest<ConsoleState> for CsrfForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &ConsoleState) -> Result<Self, ConsoleError> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| ConsoleError::bad("form", "too large or cut short"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| ConsoleError::bad("form", "not a form"))?;
        let presented = pairs
            .iter()
            .find(|(k, _)| k == csrf::FIELD)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !csrf::verify(signed.token(), presented) {
            tracing::warn!(user_id = %signed.caller.user_id, path = %parts.uri.path(), "console form refused: missing or wrong CSRF token");
            return Err(ConsoleError::Csrf);
        }
        let value = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            let msg = e.to_string();
            let field = msg
                .strip_prefix("missing field `")
                .and_then(|r| r.split_once('`'))
                .map_or("form", |(f, _)| f)
                .to_owned();
            ConsoleError::bad(field, msg)
        })?;
        Ok(CsrfForm(signed, value))
    }
}
