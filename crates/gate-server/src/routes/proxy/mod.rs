//! The Notion-compatible proxy at `/v1/...`: an existing Notion SDK points its base URL at the
//! gateway and uses an agent key as its token. Each request goes through the one governance
//! path (`Gate::call`, surface `proxy`) and Notion's status, `Retry-After`,
//! `X-Notion-Request-Id` and body come back unchanged. Refusals are answered in Notion's own
//! error envelope (`restricted_resource` and friends) with the gateway's code in the message
//! and in `additional_data.gateway_code`, so SDKs raise their usual error types. A call held
//! for approval also carries `additional_data.approval_id`, `status_url` (the approval in the
//! REST API, where the agent follows it with `?wait=`) and `expires_at`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use gate_core::{GateError, NotionRequest, RequestBody, Surface};
use serde_json::{Map, Value, json};

use super::approvals::status_url;
use super::proxy_mirror::{
    self, Answer, MIRRORED_AT_HEADER, MirrorRoute, ProxyRead, SOURCE_HEADER,
};
use crate::state::{AppState, ServerSettings};

/// The proxy's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/{*rest}", any(proxy))
}

/// The largest JSON body the proxy reads (Notion's own limit is 500 KB). A
/// `multipart/form-data` body (a file upload's `send`) may have up to
/// [`gate_core::MAX_FORM_BODY`] bytes: one part of at most 20 MiB, held once per request so
/// that a 429 can send it again unchanged.
const MAX_BODY: usize = 1024 * 1024;

async fn proxy(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let rid = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok());
    let Some(key) = crate::auth::bearer(&parts) else {
        return notion_error(
            401,
            "unauthorized",
            "API token is invalid.",
            None,
            Map::new(),
            rid,
        );
    };
    let caller = match state.gate.authenticate(key).await {
        Ok(c) => c,
        Err(e) => return from_gate_error(e, &state.settings, rid),
    };
    let form_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| {
            ct.trim_start()
                .get(..19)
                .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
        })
        .map(str::to_owned);
    let limit = if form_type.is_some() {
        gate_core::MAX_FORM_BODY
    } else {
        MAX_BODY
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return notion_error(
                413,
                "validation_error",
                "Request body too large.",
                None,
                Map::new(),
                rid,
            );
        }
    };
    let Some(version) = parts
        .headers
        .get("notion-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return notion_error(
            400,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
            None,
            Map::new(),
            rid,
        );
    };
    let method = parts.method.clone();
    if !matches!(
        method,
        Method::GET | Method::POST | Method::PATCH | Method::DELETE
    ) {
        return notion_error(
            400,
            "invalid_request_url",
            "Invalid request URL.",
            None,
            Map::new(),
            rid,
        );
    }
    let mut request = NotionRequest::new(method.as_str(), parts.uri.path()).notion_version(version);
    if let Some(q) = parts.uri.query() {
        for (k, v) in url_pairs(q) {
            request = request.query(k, v);
        }
    }
    if let Some(content_type) = form_type {
        request.body = Some(RequestBody::Form {
            content_type,
            bytes: bytes.clone(),
        });
    } else if !bytes.iter().all(u8::is_ascii_whitespace) {
        request = request.bytes(bytes.clone());
    }
    // Local-only mode: the reads the mirror can answer faithfully come from it.
    if state.gate.is_local_only()
        && let Some(route) = MirrorRoute::of(&method, parts.uri.path())
    {
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => v,
                Err(_) => {
                    return notion_error(
                        400,
                        "invalid_json",
                        "Error parsing JSON body.",
                        None,
                        Map::new(),
                        rid,
                    );
                }
            }
        };
        // The mirror reads the query and the version from the request itself: nothing is
        // copied for the calls that go to Notion.
        let read = ProxyRead {
            route,
            query: &request.query,
            body: &body,
            version: request.notion_version.as_deref().unwrap_or_default(),
        };
        match proxy_mirror::answer(&state.gate, &caller, request.clone(), read).await {
            Ok(Some(answer)) => return mirror_response(answer, rid),
            Ok(None) => {}
            Err(e) => return from_gate_error(e, &state.settings, rid),
        }
    }
    match state.gate.call(&caller, Surface::Proxy, request).await {
        Ok(resp) => {
            let mut out = Response::new(Body::from(resp.body));
            *out.status_mut() =
                StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY);
            for (name, value) in resp.headers {
                out.headers_mut().insert(name, value);
            }
            if let Some(state) = write_state(&method, resp.status) {
                out.headers_mut()
                    .insert(WRITE_STATE_HEADER, HeaderValue::from_static(state));
            }
            out
        }
        Err(e) => from_gate_error(e, &state.settings, rid),
    }
}

/// An answer of the mirror: Notion's body with the source in headers, or Notion's
/// `validation_error`, or the local-only refusal with the reason.
fn mirror_response(answer: Answer, rid: Option<&str>) -> Response {
    match answer {
        Answer::Body {
            mut body,
            mirrored_at,
        } => {
            // As Notion: the request's id in the body and in `x-notion-request-id`.
            let request_id = rid.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
            if let Some(m) = body.as_object_mut() {
                m.insert("request_id".into(), Value::String(request_id.clone()));
            }
            let mut out = (
                StatusCode::OK,
                [(CONTENT_TYPE, "application/json; charset=utf-8")],
                serde_json::to_vec(&body).unwrap_or_default(),
            )
                .into_response();
            let headers = out.headers_mut();
            headers.insert(SOURCE_HEADER, HeaderValue::from_static("mirror"));
            if let Some(v) = mirrored_at.and_then(|t| HeaderValue::from_str(&t).ok()) {
                headers.insert(MIRRORED_AT_HEADER, v);
            }
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                headers.insert("x-notion-request-id", v);
            }
            out
        }
        Answer::Invalid(message) => {
            notion_error(400, "validation_error", &message, None, Map::new(), rid)
        }
        Answer::Refused(reason) => {
            let mut data = Map::new();
            data.insert("gateway_code".into(), Value::String("local_only".into()));
            data.insert("source".into(), Value::String("mirror".into()));
            notion_error(
                403,
                "restricted_resource",
                &format!(
                    "notion-gate: local_only: {} ({reason})",
                    GateError::LocalOnly
                ),
                None,
                data,
                rid,
            )
        }
    }
}

/// On a write that failed (after the gateway's retries), whether it may have been applied:
/// `may_have_applied` after a 5xx other than 529, `not_applied` after any other error. Notion's
/// body is passed on unchanged; this header says it in one word.
const WRITE_STATE_HEADER: &str = "notion-gate-write-state";

fn write_state(method: &Method, status: u16) -> Option<&'static str> {
    if *method == Method::GET || status < 400 {
        return None;
    }
    Some(if status >= 500 && status != 529 {
        "may_have_applied"
    } else {
        "not_applied"
    })
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A refusal or failure of the gateway, in Notion's envelope.
fn from_gate_error(e: GateError, settings: &ServerSettings, request_id: Option<&str>) -> Response {
    // The same codes as the REST API and MCP: `forbidden_by_policy` with the policy's reason
    // (`maturity_too_low`, …) beside it.
    let gateway_code = match &e {
        GateError::Forbidden { code, .. } if !code.is_governance() => "forbidden",
        GateError::Forbidden { .. } => "forbidden_by_policy",
        other => other.code(),
    };
    let mut data = Map::new();
    data.insert("gateway_code".into(), Value::String(gateway_code.into()));
    if let GateError::Forbidden { code, .. } = &e {
        data.insert("reason".into(), Value::String(code.as_str().into()));
    }
    let (status, code, message, retry_after) = match &e {
        GateError::Unauthenticated => (
            401,
            "unauthorized",
            "API token is invalid.".to_owned(),
            None,
        ),
        GateError::Forbidden { reason, needed, .. } => {
            if let Some(n) = needed {
                data.insert("needed_maturity".into(), Value::String(n.to_string()));
            }
            (
                403,
                "restricted_resource",
                format!("notion-gate: {gateway_code}: {reason}"),
                None,
            )
        }
        GateError::LocalOnly => (
            403,
            "restricted_resource",
            format!("notion-gate: local_only: {e}"),
            None,
        ),
        GateError::ApprovalRequired { id, expires_at } => {
            let url = status_url(settings, *id);
            data.insert("approval_id".into(), Value::String(id.to_string()));
            data.insert("status_url".into(), Value::String(url.clone()));
            data.insert(
                "expires_at".into(),
                Value::String(
                    expires_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                ),
            );
            (
                403,
                "restricted_resource",
                format!(
                    "notion-gate: approval_required: this request is held for a human's approval \
                     (approval {id}) and runs once when approved, so do not repeat it; its status \
                     and result: GET {url}?wait=60 with the same key"
                ),
                None,
            )
        }
        GateError::ReconnectRequired { .. } => (
            403,
            "restricted_resource",
            "notion-gate: reconnect_required: the workspace connection must be connected again"
                .to_owned(),
            None,
        ),
        GateError::NotFound { what } => (
            404,
            "object_not_found",
            format!("notion-gate: {what} not found"),
            None,
        ),
        GateError::Invalid { field, message } => (
            400,
            "validation_error",
            format!("body failed validation: {field}: {message}"),
            None,
        ),
        GateError::RateLimited { retry_after } => (
            429,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.".to_owned(),
            Some(retry_after.map_or(1, |d| d.as_secs().max(1))),
        ),
        GateError::Upstream {
            status: None,
            write_state,
            ..
        } => {
            data.insert(
                "write_state".into(),
                serde_json::to_value(write_state).unwrap_or(Value::Null),
            );
            let message = match write_state {
                notion_client::WriteState::NotApplied => {
                    "notion-gate: Notion could not be reached; nothing was sent"
                }
                notion_client::WriteState::Unknown => {
                    "notion-gate: the connection to Notion failed after the request was sent; \
                     a write may have been applied: read the current state before repeating it"
                }
            };
            (502, "bad_gateway", message.to_owned(), None)
        }
        GateError::NotConfigured { what } => (
            503,
            "service_unavailable",
            format!("notion-gate: {what} is not configured"),
            None,
        ),
        _ => {
            tracing::error!(error = %e, "proxy failure");
            (
                500,
                "internal_server_error",
                "Unexpected error occurred.".to_owned(),
                None,
            )
        }
    };
    notion_error(status, code, &message, retry_after, data, request_id)
}

fn notion_error(
    status: u16,
    code: &str,
    message: &str,
    retry_after: Option<u64>,
    additional_data: Map<String, Value>,
    request_id: Option<&str>,
) -> Response {
    // The gateway's request id (the `x-request-id` of this request), so that the id an SDK
    // reports can be found in the server's log.
    let request_id = request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let mut body = json!({
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": request_id,
    });
    if !additional_data.is_empty() {
        body["additional_data"] = Value::Object(additional_data);
    }
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(CONTENT_TYPE, "application/json; charset=utf-8")],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-notion-request-id", v);
    }
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

#[cfg(test)]
mod tests;
