//! The `Authed` extractor: `Authorization: Bearer <key>` → the caller, through the gate's
//! cached key lookup. No other header identifies anyone.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use gate_core::Caller;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller of a request (a user's or an agent's key).
#[derive(Debug, Clone)]
pub struct Authed(pub Caller);

/// The bearer token of a request, if it has a well-formed one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    gate_core::bearer_token(parts.headers.get(AUTHORIZATION)?.to_str().ok()?)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key =
            bearer(parts).ok_or_else(|| ApiError::from(gate_core::GateError::Unauthenticated))?;
        let caller = state.gate.authenticate(key).await?;
        Ok(Authed(caller))
    }
}
