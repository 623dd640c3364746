//! [`NotionRequest`] (a Notion API request as every surface hands it to the gate), its
//! validated canonical form (what is classified, executed and stored for approval), and
//! [`GateResponse`] (Notion's raw answer).

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::error::GateError;

/// A Notion API request. The proxy passes the SDK's request through; the REST and tool
/// surfaces build one.
#[derive(Debug, Clone, PartialEq)]
pub struct NotionRequest {
    /// HTTP method (`GET`, `POST`, `PATCH`, `DELETE`).
    pub method: String,
    /// Path, with or without `/v1` (`/v1/pages/{id}` or `/pages/{id}`). A query string
    /// after `?` is moved into `query`.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// The JSON body.
    pub body: Option<RequestBody>,
    /// `Notion-Version` to send (default: the gate's configured version).
    pub notion_version: Option<String>,
}

/// A request body: parsed JSON (REST, tool) or the bytes a proxy received.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    /// Parsed JSON.
    Json(Value),
    /// Raw bytes, which must be JSON.
    Bytes(Bytes),
    /// A `multipart/form-data` body (a file upload's `send`), passed on as received with its
    /// `Content-Type` (boundary included). Classified by its path; never parsed.
    Form {
        /// The `Content-Type` header, `multipart/form-data; boundary=…`.
        content_type: String,
        /// The body as received.
        bytes: Bytes,
    },
}

impl NotionRequest {
    /// A request with no query, body or version.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            body: None,
            notion_version: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new("POST", path).json(body)
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(path: impl Into<String>, body: Value) -> Self {
        Self::new("PATCH", path).json(body)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new("DELETE", path)
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(RequestBody::Json(body));
        self
    }

    /// Sets a raw body.
    pub fn bytes(mut self, body: Bytes) -> Self {
        self.body = Some(RequestBody::Bytes(body));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets the `Notion-Version`.
    pub fn notion_version(mut self, version: impl Into<String>) -> Self {
        self.notion_version = Some(version.into());
        self
    }
}

/// The most bytes a request body may have (Notion's own limit is far below this).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The most bytes a `multipart/form-data` body may have: Notion's largest part (20 MiB) plus
/// room for the form's own headers.
pub const MAX_FORM_BODY: usize = 20 * 1024 * 1024 + 64 * 1024;

/// A multipart body kept as received.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FormBody {
    pub(crate) content_type: HeaderValue,
    pub(crate) bytes: Bytes,
}

/// A validated request: method known, path of safe segments under `/v1/`, query sorted, body
/// parsed and in canonical (sorted-key) form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Canonical {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    /// A multipart body (file upload `send`), sent as received; `body` is then `None`.
    pub(crate) form: Option<FormBody>,
    pub(crate) notion_version: Option<notion_client::NotionVersion>,
}

impl Canonical {
    /// Validates and canonicalises.
    pub(crate) fn from_request(req: NotionRequest) -> Result<Self, GateError> {
        let method = match req.method.trim().to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => {
                return Err(GateError::invalid(
                    "method",
                    "expected GET, POST, PATCH or DELETE",
                ));
            }
        };
        let mut query = req.query;
        let raw_path = match req.path.split_once('?') {
            Some((p, q)) => {
                query.extend(parse_query(q));
                p.to_owned()
            }
            None => req.path,
        };
        let path = canonical_path(&raw_path)?;
        query.sort();
        let mut form = None;
        let body = match req.body {
            None => None,
            Some(RequestBody::Form {
                content_type,
                bytes,
            }) => {
                if bytes.len() > MAX_FORM_BODY {
                    return Err(GateError::invalid("body", "too large"));
                }
                let ct = content_type.trim();
                if !ct
                    .get(..19)
                    .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
                {
                    return Err(GateError::invalid(
                        "content_type",
                        "expected multipart/form-data",
                    ));
                }
                let content_type = HeaderValue::from_str(ct)
                    .map_err(|_| GateError::invalid("content_type", "not a valid header value"))?;
                form = Some(FormBody {
                    content_type,
                    bytes,
                });
                None
            }
            Some(RequestBody::Json(v)) => Some(v),
            Some(RequestBody::Bytes(b)) if b.iter().all(u8::is_ascii_whitespace) => None,
            Some(RequestBody::Bytes(b)) => {
                if b.len() > MAX_BODY {
                    return Err(GateError::invalid("body", "too large"));
                }
                Some(
                    serde_json::from_slice(&b)
                        .map_err(|_| GateError::invalid("body", "not valid JSON"))?,
                )
            }
        };
        let notion_version = req
            .notion_version
            .map(|v| {
                notion_client::NotionVersion::parse(v.trim())
                    .map_err(|_| GateError::invalid("notion_version", "expected YYYY-MM-DD"))
            })
            .transpose()?;
        Ok(Self {
            method,
            path,
            query,
            body: body.map(canonical_json),
            form,
            notion_version,
        })
    }

    /// The path with its query string, as `gate_policy::classify` reads it.
    pub(crate) fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let mut s = self.path.clone();
        s.push('?');
        for (i, (k, v)) in self.query.iter().enumerate() {
            if i > 0 {
                s.push('&');
            }
            s.push_str(&encode_component(k));
            s.push('=');
            s.push_str(&encode_component(v));
        }
        s
    }

    /// The canonical JSON stored with an approval (keys sorted; exactly what will run).
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("body".into(), self.body.clone().unwrap_or(Value::Null));
        if let Some(form) = &self.form {
            use base64::Engine as _;
            m.insert(
                "form".into(),
                serde_json::json!({
                    "content_type": form.content_type.to_str().unwrap_or_default(),
                    "base64": base64::engine::general_purpose::STANDARD.encode(&form.bytes),
                }),
            );
        }
        m.insert("method".into(), Value::String(self.method.to_string()));
        m.insert(
            "notion_version".into(),
            self.notion_version
                .as_ref()
                .map_or(Value::Null, |v| Value::String(v.as_str().to_owned())),
        );
        m.insert("path".into(), Value::String(self.path.clone()));
        m.insert(
            "query".into(),
            Value::Array(
                self.query
                    .iter()
                    .map(|(k, v)| {
                        Value::Array(vec![Value::String(k.clone()), Value::String(v.clone())])
                    })
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    /// Reads back a stored canonical request.
    pub(crate) fn from_json(v: &Value) -> Result<Self, GateError> {
        let bad = || GateError::invalid("approval request", "stored request is malformed");
        let s = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(bad);
        let query = v
            .get("query")
            .and_then(Value::as_array)
            .ok_or_else(bad)?
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = match (v.get("body"), v.get("form")) {
            (_, Some(form)) if !form.is_null() => {
                use base64::Engine as _;
                let content_type = form
                    .get("content_type")
                    .and_then(Value::as_str)
                    .ok_or_else(bad)?
                    .to_owned();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(form.get("base64").and_then(Value::as_str).ok_or_else(bad)?)
                    .map_err(|_| bad())?;
                Some(RequestBody::Form {
                    content_type,
                    bytes: Bytes::from(bytes),
                })
            }
            (None | Some(Value::Null), _) => None,
            (Some(b), _) => Some(RequestBody::Json(b.clone())),
        };
        let req = NotionRequest {
            method: s("method")?.to_owned(),
            path: s("path")?.to_owned(),
            query,
            body,
            notion_version: v
                .get("notion_version")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        Self::from_request(req)
    }

    /// The body bytes to send.
    pub(crate) fn body_bytes(&self) -> Option<Bytes> {
        self.body
            .as_ref()
            .map(|b| Bytes::from(serde_json::to_vec(b).unwrap_or_default()))
    }
}

/// `/v1/` followed by segments of ASCII letters, digits, `-` and `_` only: no `.`/`..`, no
/// percent-escapes, no empty segments (a trailing slash is dropped). This keeps the path that
/// is classified identical to the path that is sent.
fn canonical_path(raw: &str) -> Result<String, GateError> {
    let bad = || {
        GateError::invalid(
            "path",
            "expected a Notion API path such as /v1/pages/{id} (letters, digits, '-' and '_' only)",
        )
    };
    let trimmed = raw.trim();
    let rest = trimmed.strip_prefix('/').ok_or_else(bad)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let rest = match rest.strip_prefix("v1") {
        Some("") => return Err(bad()),
        Some(r) if r.starts_with('/') => &r[1..],
        _ => rest,
    };
    if rest.is_empty() || rest.len() > 512 {
        return Err(bad());
    }
    for seg in rest.split('/') {
        if seg.is_empty()
            || !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad());
        }
    }
    Ok(format!("/v1/{rest}"))
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// JSON with every object's keys in sorted order (arrays keep their order).
pub(crate) fn canonical_json(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical_json(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical_json).collect()),
        other => other,
    }
}

/// Response headers passed back to callers.
pub const KEPT_HEADERS: [&str; 3] = ["retry-after", "x-notion-request-id", "content-type"];

/// Notion's answer, raw: status, the headers worth keeping, and the body bytes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateResponse {
    /// Notion's HTTP status (any status: surfaces decide how to present errors).
    pub status: u16,
    /// `retry-after`, `x-notion-request-id` and `content-type`, when Notion sent them.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body, as Notion sent it.
    pub body: Bytes,
    /// The gateway's id for this call (also in the audit record).
    pub request_id: String,
    /// Notion's request id.
    pub notion_request_id: Option<String>,
    /// Whether the answer is that of an identical read another call sent at the same time
    /// (coalesced, see `notion_client::coalesce`): this call spent no request of its own.
    pub shared: bool,
}

impl GateResponse {
    pub(crate) fn from_raw(resp: &notion_client::RawResponse, request_id: String) -> Self {
        Self {
            status: resp.status,
            headers: kept_headers(&resp.headers),
            body: resp.body.clone(),
            request_id,
            notion_request_id: resp.request_id(),
            shared: resp.shared,
        }
    }

    /// Whether Notion answered 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, GateError> {
        serde_json::from_slice(&self.body).map_err(|_| GateError::Upstream {
            status: Some(self.status),
            code: None,
            message: "the answer is not JSON".to_owned(),
            request_id: self.notion_request_id.clone(),
            write_state: notion_client::WriteState::NotApplied,
        })
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }

    /// For surfaces that present typed errors: `Ok(self)` on 2xx, otherwise the matching
    /// [`GateError`] (`RateLimited` for 429, `Upstream` with Notion's code otherwise).
    pub fn error_for_status(self) -> Result<Self, GateError> {
        if self.is_success() {
            return Ok(self);
        }
        let retry_after = self
            .header("retry-after")
            .and_then(|v| notion_client::retry::parse_retry_after(v, std::time::SystemTime::now()));
        if self.status == 429 {
            return Err(GateError::RateLimited { retry_after });
        }
        let parsed: Option<Value> = serde_json::from_slice(&self.body).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let write_state = if self.status >= 500 && self.status != 529 {
            notion_client::WriteState::Unknown
        } else {
            notion_client::WriteState::NotApplied
        };
        Err(GateError::Upstream {
            status: Some(self.status),
            code: field("code"),
            message: field("message").unwrap_or_default(),
            request_id: field("request_id").or(self.notion_request_id),
            write_state,
        })
    }
}

fn kept_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .map(|v| (HeaderName::from_static(name), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_is_kept_as_received_and_survives_an_approval() {
        let form = Bytes::from_static(
            b"--b\r\ncontent-disposition: form-data; name=\"file\"\r\n\r\nxyz\r\n--b--\r\n",
        );
        let mut req = NotionRequest::new("POST", "/v1/file_uploads/abc/send");
        req.body = Some(RequestBody::Form {
            content_type: "multipart/form-data; boundary=b".into(),
            bytes: form.clone(),
        });
        let c = Canonical::from_request(req.clone()).unwrap();
        assert!(c.body.is_none(), "classified without a JSON body");
        assert_eq!(c.form.as_ref().unwrap().bytes, form);
        let back = Canonical::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        // Not multipart, or too large: refused naming the field.
        let mut bad = req.clone();
        bad.body = Some(RequestBody::Form {
            content_type: "text/plain".into(),
            bytes: form,
        });
        assert!(Canonical::from_request(bad).is_err());
        let mut big = req;
        big.body = Some(RequestBody::Form {
            content_type: "multipart/form-data; boundary=b".into(),
            bytes: Bytes::from(vec![0u8; MAX_FORM_BODY + 1]),
        });
        assert!(Canonical::from_request(big).is_err());
    }
    use serde_json::json;

    #[test]
    fn paths_are_canonical_and_safe() {
        let ok = |p: &str| canonical_path(p).ok();
        assert_eq!(ok("/v1/pages/abc").as_deref(), Some("/v1/pages/abc"));
        assert_eq!(ok("/pages/abc/").as_deref(), Some("/v1/pages/abc"));
        for bad in [
            "/v1/../oauth/token",
            "/v1/pages/%2e%2e",
            "/v1//pages",
            "pages",
            "/v1",
            "/v1/pages/a b",
            "/v1/pages/./x",
        ] {
            assert!(ok(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn canonical_request_round_trips_and_sorts() {
        let req =
            NotionRequest::patch("/pages/abc?b=2&a=1", json!({"z": 1, "a": {"y": 2, "b": 3}}));
        let c = Canonical::from_request(req).unwrap();
        assert_eq!(
            c.query,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        let text = serde_json::to_string(&c.to_json()).unwrap();
        assert_eq!(
            text,
            r#"{"body":{"a":{"b":3,"y":2},"z":1},"method":"PATCH","notion_version":null,"path":"/v1/pages/abc","query":[["a","1"],["b","2"]]}"#
        );
        let back = Canonical::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        assert_eq!(c.path_and_query(), "/v1/pages/abc?a=1&b=2");
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("a=%41b+c&x"),
            vec![("a".into(), "Ab c".into()), ("x".into(), String::new())]
        );
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%4"), "%4");
    }
}
