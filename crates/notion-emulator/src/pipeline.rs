//! The request pipeline shared by every route: latency, version and token checks, rate limits,
//! fault injection, counters/log, `request_id` in body and `X-Notion-Request-Id` header.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::config::{ApiVersion, Fault, FaultTiming};
use crate::error::ApiError;
use crate::state::{EmulatorHandle, FaultHit, LoggedRequest};

/// Marker extension: the HTTP server closes the connection instead of answering.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Per-request context handed to handlers.
#[derive(Debug, Clone)]
pub struct ReqCtx {
    /// The request's API version.
    pub version: ApiVersion,
    /// Bot user id acting for the token.
    pub bot_id: String,
    /// `http://host` of this server (for `next_url`).
    pub origin: String,
}

/// Every endpoint the emulator serves, as (method, path template), most specific first: the
/// one list the router is built from ([`crate::handlers::router`]) and that route templates
/// (counters, faults) are matched against. Anything else answers `invalid_request_url`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/users/me"),
    ("GET", "/v1/users/{id}"),
    ("GET", "/v1/users"),
    ("POST", "/v1/search"),
    ("POST", "/v1/pages"),
    ("POST", "/v1/pages/{id}/move"),
    ("GET", "/v1/pages/{id}/markdown"),
    ("PATCH", "/v1/pages/{id}/markdown"),
    ("GET", "/v1/pages/{id}/properties/{property_id}"),
    ("GET", "/v1/pages/{id}"),
    ("PATCH", "/v1/pages/{id}"),
    ("GET", "/v1/blocks/{id}/children"),
    ("PATCH", "/v1/blocks/{id}/children"),
    ("GET", "/v1/blocks/{id}"),
    ("PATCH", "/v1/blocks/{id}"),
    ("DELETE", "/v1/blocks/{id}"),
    ("POST", "/v1/databases"),
    ("POST", "/v1/databases/{id}/query"),
    ("GET", "/v1/databases/{id}"),
    ("PATCH", "/v1/databases/{id}"),
    ("POST", "/v1/data_sources"),
    ("POST", "/v1/data_sources/{id}/query"),
    ("GET", "/v1/data_sources/{id}/templates"),
    ("GET", "/v1/data_sources/{id}"),
    ("PATCH", "/v1/data_sources/{id}"),
    ("GET", "/v1/comments"),
    ("POST", "/v1/comments"),
    ("GET", "/v1/comments/{id}"),
    ("PATCH", "/v1/comments/{id}"),
    ("DELETE", "/v1/comments/{id}"),
    ("POST", "/v1/file_uploads"),
    ("GET", "/v1/file_uploads"),
    ("POST", "/v1/file_uploads/{id}/send"),
    ("POST", "/v1/file_uploads/{id}/complete"),
    ("GET", "/v1/file_uploads/{id}"),
    ("POST", "/v1/views"),
    ("GET", "/v1/views"),
    ("POST", "/v1/views/{id}/queries"),
    ("GET", "/v1/views/{id}/queries/{query_id}"),
    ("DELETE", "/v1/views/{id}/queries/{query_id}"),
    ("GET", "/v1/views/{id}"),
    ("PATCH", "/v1/views/{id}"),
    ("DELETE", "/v1/views/{id}"),
    ("GET", "/v1/custom_emojis"),
    ("GET", "/v1/async_tasks/{id}"),
    ("GET", "/v1/oauth/authorize"),
    ("POST", "/v1/oauth/token"),
    ("POST", "/v1/oauth/introspect"),
    ("POST", "/v1/oauth/revoke"),
];

/// The route template of a request, if it names a known endpoint.
pub fn route_template(method: &Method, path: &str) -> Option<&'static str> {
    let xs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    ROUTES
        .iter()
        .find(|(m, t)| {
            *m == method.as_str() && {
                let ts: Vec<&str> = t.split('/').collect();
                ts.len() == xs.len()
                    && ts
                        .iter()
                        .zip(xs.iter())
                        .all(|(a, b)| a.starts_with('{') || a == b)
            }
        })
        .map(|(_, t)| *t)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| tok.trim().to_string())
}

/// The response for an injected fault.
pub fn fault_response(fault: &Fault) -> Response {
    match fault {
        Fault::Status {
            status,
            retry_after,
        } => {
            let mut e = ApiError::for_status(*status);
            e.retry_after = match (retry_after, status) {
                (Some(r), _) => Some(*r),
                (None, 429) | (None, 529) => Some(1),
                _ => None,
            };
            e.into_response()
        }
        Fault::Error {
            status,
            code,
            message,
        } => ApiError::new(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message.clone(),
        )
        .into_response(),
        Fault::BadGatewayHtml => {
            let mut r = (
                StatusCode::BAD_GATEWAY,
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
            )
                .into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            r
        }
        Fault::DropConnection => {
            let mut r = ApiError::for_status(500).into_response();
            r.extensions_mut().insert(DropConnection);
            r
        }
        // Handled in the pipeline (it delays the normal answer); never a response of its own.
        Fault::Delay(_) => ApiError::for_status(500).into_response(),
    }
}

/// The counter key of an injected fault (see [`crate::Counters::faults`]).
pub fn fault_kind(fault: &Fault, timing: FaultTiming) -> String {
    let kind = match fault {
        Fault::Status { status, .. } => status.to_string(),
        Fault::Error { status, code, .. } => format!("{status}_{code}"),
        Fault::BadGatewayHtml => "502_html".to_owned(),
        Fault::DropConnection => "drop".to_owned(),
        Fault::Delay(_) => "delay".to_owned(),
    };
    match timing {
        FaultTiming::Before => kind,
        FaultTiming::AfterEffect => format!("{kind}_after"),
    }
}

/// What the pipeline learnt while processing one request, for the log and counters.
#[derive(Debug, Default)]
struct Trace {
    applied: bool,
    fault: Option<String>,
}

/// The middleware implementing the pipeline.
pub async fn pipeline(State(h): State<EmulatorHandle>, mut req: Request, next: Next) -> Response {
    let at = tokio::time::Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let template = route_template(&method, &path);
    let route = format!("{method} {}", template.unwrap_or(&path));
    let token = bearer(req.headers());

    let latency = h.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let mut trace = Trace::default();
    let resp = process(
        &h,
        &mut req,
        template,
        &method,
        &path,
        token.clone(),
        next,
        &mut trace,
    )
    .await;
    let resp = finalize(resp, &request_id).await;
    let status = if resp.extensions().get::<DropConnection>().is_some() {
        None
    } else {
        Some(resp.status().as_u16())
    };
    h.record(LoggedRequest {
        at,
        method,
        path,
        route,
        token,
        status,
        request_id,
        applied: trace.applied,
        fault: trace.fault,
    });
    resp
}

#[allow(clippy::too_many_arguments)]
async fn process(
    h: &EmulatorHandle,
    req: &mut Request,
    template: Option<&str>,
    method: &Method,
    path: &str,
    token: Option<String>,
    next: Next,
    trace: &mut Trace,
) -> Response {
    let is_oauth = path.starts_with("/v1/oauth/");
    let mut bot_id = String::new();
    let mut version = ApiVersion::V2025_09_03;
    if !is_oauth {
        match req.headers().get("notion-version") {
            None => return ApiError::missing_version().into_response(),
            Some(v) => match v.to_str().ok().and_then(ApiVersion::parse) {
                Some(ver) => version = ver,
                None => {
                    let raw = v.to_str().unwrap_or_default();
                    return ApiError::validation(format!(
                        "Notion-Version header failed validation: Notion-Version header should be one of `2022-06-28`, `2025-09-03`, `2026-03-11`, instead was `{}`.",
                        serde_json::to_string(raw).unwrap_or_default()
                    ))
                    .into_response();
                }
            },
        }
        let Some(tok) = token.as_deref() else {
            return ApiError::unauthorized().into_response();
        };
        match h.authenticate(tok) {
            Some(b) => bot_id = b,
            None => return ApiError::unauthorized().into_response(),
        }
        if let Err((wait, reason)) = h.rate_check(tok) {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return ApiError::rate_limited(secs, reason).into_response();
        }
    } else if let Some(v) = req
        .headers()
        .get("notion-version")
        .and_then(|v| v.to_str().ok())
        .and_then(ApiVersion::parse)
    {
        version = v;
    }

    let hit = h.fault_for(method, template, path);
    if let Some(FaultHit { fault, timing }) = &hit {
        trace.fault = Some(fault_kind(fault, *timing));
    }
    match &hit {
        Some(FaultHit {
            fault: Fault::Delay(d),
            timing: FaultTiming::Before,
        }) => tokio::time::sleep(*d).await,
        Some(FaultHit {
            fault,
            timing: FaultTiming::Before,
        }) => return fault_response(fault),
        _ => {}
    }

    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let webhook_before = if *method == Method::GET {
        None
    } else {
        crate::webhooks::before(h, template, path)
    };
    let author = bot_id.clone();
    req.extensions_mut().insert(ReqCtx {
        version,
        bot_id,
        origin: format!("http://{host}"),
    });
    let placeholder = Request::new(Body::empty());
    let owned = std::mem::replace(req, placeholder);
    let resp = next.run(owned).await;
    trace.applied = resp.status().is_success();
    let resp = match webhook_before {
        Some(before) if trace.applied => {
            let applied = crate::webhooks::Applied {
                before,
                method,
                template,
                path,
                bot_id: &author,
            };
            crate::webhooks::observe(h, applied, resp).await
        }
        _ => resp,
    };
    crate::state::lock(&h.0.store).settle_attachments(trace.applied);
    match hit {
        Some(FaultHit {
            fault: Fault::Delay(d),
            timing: FaultTiming::AfterEffect,
        }) => {
            tokio::time::sleep(d).await;
            resp
        }
        Some(FaultHit {
            fault,
            timing: FaultTiming::AfterEffect,
        }) => fault_response(&fault),
        _ => resp,
    }
}

async fn finalize(resp: Response, request_id: &str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = if is_json {
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(mut m)) => {
                m.entry("request_id")
                    .or_insert_with(|| Value::String(request_id.to_string()));
                Body::from(serde_json::to_vec(&Value::Object(m)).unwrap_or_default())
            }
            _ => Body::from(bytes),
        }
    } else {
        body
    };
    if is_json {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        parts.headers.insert("x-notion-request-id", v);
    }
    Response::from_parts(parts, body)
}

/// A JSON success answer.
pub fn ok(v: Value) -> Response {
    let mut r = (StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Request body parsed as JSON with Notion's errors: 500 KB limit (`validation_error`), invalid
/// JSON (`invalid_json`). An empty body is `{}`.
#[derive(Debug)]
pub struct JsonBody(pub Value);

/// The request size limit (500 KB).
pub const MAX_BODY_BYTES: usize = 500 * 1000;

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::invalid_json())?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::body_le(
                "body.length",
                MAX_BODY_BYTES,
                bytes.len(),
            ));
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => Ok(JsonBody(v)),
            Ok(_) => Err(ApiError::validation(
                "body failed validation: body should be an object.",
            )),
            Err(_) => Err(ApiError::invalid_json()),
        }
    }
}
