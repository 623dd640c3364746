//! The HTTP core: one pooled `reqwest` client ([`Notion`]), per-connection handles
//! ([`Connection`]) that share a limiter, and the single send loop that applies read
//! coalescing ([`crate::coalesce`]), the limiter, the retry policy and error mapping to every
//! request.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::FutureExt as _;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::coalesce::{self, CoalesceConfig, Coalescer, Key, Role};
use crate::config::{ClientConfig, NotionVersion};
use crate::error::{Error, Result, TransportKind, error_from_response};
use crate::limiter::{GovernorLimiter, LimiterConfig, RateLimiter};
use crate::retry::{self, Decision, Idempotency, Outcome};

/// The response header that carries Notion's request id.
pub const REQUEST_ID_HEADER: &str = "x-notion-request-id";

/// The shared part of the client: one connection pool and the configuration. Cheap to clone.
#[derive(Clone)]
pub struct Notion {
    inner: Arc<NotionInner>,
}

struct NotionInner {
    http: reqwest::Client,
    config: ClientConfig,
    /// The base URL parsed once, when its text is in normal form and has no path of its own
    /// (`https://api.notion.com`): request paths are then joined to it without parsing its
    /// host again for every attempt. `None` for any other base (`http://proxy/notion`,
    /// `HTTP://Host:80`), whose requests are built from the text.
    base: Option<url::Url>,
}

impl fmt::Debug for Notion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notion")
            .field("base_url", &self.inner.config.base_url)
            .field("notion_version", &self.inner.config.notion_version)
            .finish_non_exhaustive()
    }
}

impl Notion {
    /// Builds the pooled HTTP client.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(90))
            // Only the configured base URL is ever contacted: a redirect is an answer, not
            // an address to follow.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if let Some(timeout) = config.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        let http = builder.build().map_err(|e| Error::Transport {
            kind: TransportKind::Connect,
            may_have_reached: false,
            attempts: 0,
            source: Some(e),
        })?;
        // Kept only when its text is already in normal form (`scheme://host[:port]`), so that
        // a joined URL starts with exactly the text's prefix.
        let base = url::Url::parse(&config.base_url)
            .ok()
            .filter(|u| u.as_str().strip_suffix('/') == Some(config.base_url.as_str()));
        Ok(Self {
            inner: Arc::new(NotionInner { http, config, base }),
        })
    }

    /// The URL of a request path (`/v1/pages/…`, possibly with a query): the base URL
    /// followed by the path, as `format!("{base}{path}")` parsed would give. A path starting
    /// with `/` never leaves the base's host: one that [`url::Url::join`] would read as
    /// another host (`//host/…`, `/\host/…`, or either once the parser has dropped tabs and
    /// newlines) is built from the text. Every path the client sends starts with `/`
    /// ([`RawRequest`]'s paths are `/v1/…`); any other is built from the text, as before.
    pub(crate) fn request_url(&self, path: &str) -> std::result::Result<url::Url, url::ParseError> {
        let bytes = path.as_bytes();
        let joinable = bytes.first() == Some(&b'/')
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && !bytes.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'));
        match &self.inner.base {
            Some(base) if joinable => base.join(path),
            _ => url::Url::parse(&format!("{}{}", self.inner.config.base_url, path)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A handle for one connection (one token), with a new limiter from the configuration.
    /// Clone the handle to share its limiter; do not call this twice for the same token.
    pub fn connection(&self, token: SecretString) -> Connection {
        let limiter: Arc<dyn RateLimiter> =
            Arc::new(GovernorLimiter::new(self.inner.config.limiter));
        self.connection_with_limiter(token, limiter)
    }

    /// A handle for one connection using a given (possibly shared or distributed) limiter.
    pub fn connection_with_limiter(
        &self,
        token: SecretString,
        limiter: Arc<dyn RateLimiter>,
    ) -> Connection {
        Connection {
            notion: self.clone(),
            auth: Arc::new(RwLock::new(Arc::new(Auth::Bearer(token)))),
            reauth: None,
            version: self.inner.config.notion_version.clone(),
            limiter,
            stats: Arc::new(Stats::default()),
            coalescer: self.new_coalescer(),
        }
    }

    /// A new read coalescer with the configured bounds, for callers that keep one per
    /// connection (see [`Connection::with_coalescer`]).
    pub fn new_coalescer(&self) -> Arc<Coalescer> {
        Arc::new(Coalescer::new(self.inner.config.coalesce))
    }

    /// A new limiter with the configured rate, for callers that keep one per connection.
    pub fn new_limiter(&self, config: Option<LimiterConfig>) -> Arc<dyn RateLimiter> {
        Arc::new(GovernorLimiter::new(
            config.unwrap_or(self.inner.config.limiter),
        ))
    }

    /// A connection-less handle for the OAuth endpoints (Basic auth, no limiter).
    pub(crate) fn basic_connection(
        &self,
        client_id: String,
        client_secret: SecretString,
    ) -> Connection {
        Connection {
            notion: self.clone(),
            auth: Arc::new(RwLock::new(Arc::new(Auth::Basic {
                client_id,
                client_secret,
            }))),
            reauth: None,
            version: self.inner.config.notion_version.clone(),
            limiter: Arc::new(crate::limiter::Unlimited::default()),
            stats: Arc::new(Stats::default()),
            coalescer: Arc::new(Coalescer::new(CoalesceConfig::off())),
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }
}

/// Counters of one connection, shared by its clones.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    limiter_wait_micros: AtomicU64,
    coalesced: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// HTTP attempts sent.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429/529 answers received.
    pub rate_limited: u64,
    /// Total time spent waiting for the limiter.
    pub limiter_wait: Duration,
    /// Reads answered by an identical read of another caller (requests saved).
    pub coalesced: u64,
}

impl Stats {
    /// The current counts.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            limiter_wait: Duration::from_micros(self.limiter_wait_micros.load(Ordering::Relaxed)),
            coalesced: self.coalesced.load(Ordering::Relaxed),
        }
    }
}

/// Records one attempt in the process's metrics (a no-op unless a recorder is installed, as
/// `gate-server` does for `/metrics`): `notion_upstream_requests_total{status}` (the HTTP
/// status, or `connect_failed` / `timeout` / `transport_failed`) and
/// `notion_limiter_wait_seconds`.
fn record_attempt(outcome: &Outcome, waited: std::time::Duration) {
    let status: metrics::SharedString = match outcome {
        Outcome::Status { status: 200, .. } => "200".into(),
        Outcome::Status { status, .. } => status.to_string().into(),
        Outcome::ConnectFailed => "connect_failed".into(),
        Outcome::TimedOut => "timeout".into(),
        Outcome::TransportFailed => "transport_failed".into(),
    };
    metrics::counter!("notion_upstream_requests_total", "status" => status).increment(1);
    metrics::histogram!("notion_limiter_wait_seconds").record(waited.as_secs_f64());
}

/// How a request authenticates.
pub(crate) enum Auth {
    /// `Authorization: Bearer <token>` (every API call).
    Bearer(SecretString),
    /// `Authorization: Basic base64(client_id:client_secret)` (the OAuth endpoints).
    Basic {
        client_id: String,
        client_secret: SecretString,
    },
}

/// What a connection does when Notion refuses its token (401), for tokens that can be
/// refreshed (OAuth): the gateway plugs its single-flight refresh in here, so that every
/// request made on the connection (endpoints, pagination, the tree fetcher) recovers the same
/// way.
#[async_trait::async_trait]
pub trait Reauthorize: Send + Sync {
    /// Called when Notion answered 401 to a request sent with `refused`. Returns the token to
    /// send the request with again, once (the connection and its clones then keep it), or
    /// `None` to answer the 401 as it is. A 401 means Notion did nothing, so the repeat cannot
    /// duplicate a write.
    async fn reauthorize(&self, refused: &SecretString) -> Option<SecretString>;
}

/// A handle on one Notion connection (one token). Clones share the token, the limiter, the
/// read coalescer and the counters; every request of every clone goes through the same
/// limiter, and identical reads of every clone share one request ([`crate::coalesce`]).
#[derive(Clone)]
pub struct Connection {
    notion: Notion,
    /// Swapped in place when a [`Reauthorize`] hook supplies a new token.
    auth: Arc<RwLock<Arc<Auth>>>,
    reauth: Option<Arc<dyn Reauthorize>>,
    version: NotionVersion,
    limiter: Arc<dyn RateLimiter>,
    stats: Arc<Stats>,
    coalescer: Arc<Coalescer>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("token", &"[redacted]")
            .field("version", &self.version)
            .field("limiter", &self.limiter)
            .field("reauthorize", &self.reauth.is_some())
            .finish()
    }
}

/// A request as the send loop sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawRequest {
    /// HTTP method.
    pub method: Method,
    /// Path starting with `/v1/`, already percent-encoded where needed.
    pub path: String,
    /// Query parameters (repeatable).
    pub query: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Bytes>,
    /// Whether a repeat after an ambiguous failure is harmless.
    pub idempotency: Idempotency,
    /// Whether the request only reads (every `GET`, and read-only `POST`s such as a query or
    /// a search): identical reads on one connection may share one request
    /// ([`crate::coalesce`]). Any other request counts as a write. Set by
    /// [`RawRequest::new`] for `GET`; set it with [`RawRequest::read`] for a read-only `POST`.
    pub read: bool,
    /// Extra headers (e.g. `Notion-Version` passed through by the proxy).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The `Content-Type` of [`Self::body`] when it is not JSON (a proxied
    /// `multipart/form-data` body with its boundary).
    pub content_type: Option<HeaderValue>,
    /// A `multipart/form-data` body (a file upload's `send`), built again for every attempt
    /// from bytes shared by reference. Takes the place of [`Self::body`].
    pub form: Option<MultipartBody>,
}

/// A `multipart/form-data` body: text fields and at most one file part.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MultipartBody {
    /// Text fields (`part_number`).
    pub fields: Vec<(String, String)>,
    /// The file part.
    pub file: Option<FilePart>,
}

/// The file part of a [`MultipartBody`].
#[derive(Clone)]
#[non_exhaustive]
pub struct FilePart {
    /// The form field name (`file`).
    pub name: String,
    /// The file name sent with the part.
    pub filename: String,
    /// The part's MIME type, if known.
    pub content_type: Option<String>,
    /// The content (shared, not copied, between attempts).
    pub data: Bytes,
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

impl FilePart {
    /// A file part named `file`.
    pub fn new(filename: impl Into<String>, content_type: Option<String>, data: Bytes) -> Self {
        Self {
            name: "file".to_owned(),
            filename: filename.into(),
            content_type,
            data,
        }
    }
}

impl MultipartBody {
    /// The `reqwest` form of one attempt. A MIME type `reqwest` cannot parse is left out (the
    /// file name still tells Notion the type).
    fn to_form(&self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in &self.fields {
            form = form.text(k.clone(), v.clone());
        }
        if let Some(file) = &self.file {
            let part = || {
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::from(file.data.clone()),
                    file.data.len() as u64,
                )
                .file_name(file.filename.clone())
            };
            let part = match &file.content_type {
                Some(ct) => part().mime_str(ct).unwrap_or_else(|_| part()),
                None => part(),
            };
            form = form.part(file.name.clone(), part);
        }
        form
    }
}

impl RawRequest {
    /// A request with no query and no body; a read when the method is `GET`.
    pub fn new(method: Method, path: impl Into<String>, idempotency: Idempotency) -> Self {
        Self {
            read: method == Method::GET,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotency,
            headers: Vec::new(),
            content_type: None,
            form: None,
        }
    }

    /// Says whether the request only reads (see [`RawRequest::read`](Self::read)).
    pub fn read(mut self, read: bool) -> Self {
        self.read = read;
        self
    }

    /// Whether the request may share another's answer: a read, sent as `GET` or `POST`
    /// (a `PATCH` or `DELETE` never coalesces, whatever it is marked).
    fn coalescible(&self) -> bool {
        self.read && (self.method == Method::GET || self.method == Method::POST)
    }

    /// Sets a `multipart/form-data` body.
    pub fn multipart(mut self, form: MultipartBody) -> Self {
        self.form = Some(form);
        self
    }

    /// Sets a raw body with its own `Content-Type` (not JSON).
    pub fn raw_body(mut self, body: Bytes, content_type: HeaderValue) -> Self {
        self.body = Some(body);
        self.content_type = Some(content_type);
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("body does not serialize: {e}")))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets a raw body (already JSON).
    pub fn body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
        self
    }
}

/// A complete answer, whatever its status.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
    /// Attempts made, retries included.
    pub attempts: u32,
    /// Whether this answer is that of an identical read another caller sent (the read was
    /// coalesced, [`crate::coalesce`]): this caller spent no request.
    pub shared: bool,
}

impl RawResponse {
    /// The `X-Notion-Request-Id` header.
    pub fn request_id(&self) -> Option<String> {
        header_str(&self.headers, REQUEST_ID_HEADER)
    }

    /// Parsed `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        header_str(&self.headers, RETRY_AFTER.as_str())
            .and_then(|v| retry::parse_retry_after(&v, SystemTime::now()))
    }

    fn into_result<T: DeserializeOwned>(self) -> Result<T> {
        if (200..300).contains(&self.status) {
            decode(&self.body, self.request_id())
        } else {
            Err(error_from_response(
                self.status,
                &self.body,
                self.request_id(),
                self.retry_after(),
                self.attempts,
            ))
        }
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Decodes JSON naming the path of any mismatch.
///
/// The body is decoded plainly first; only a body that fails is decoded again with path
/// tracking (`serde_path_to_error`), which costs a few percent of a read's CPU when paid on
/// every response. Decoding is deterministic, so the second pass fails the same way.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], request_id: Option<String>) -> Result<T> {
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
        request_id,
    })
}

struct AttemptError {
    kind: TransportKind,
    may_have_reached: bool,
    source: reqwest::Error,
}

impl Connection {
    /// The `Notion-Version` this handle sends.
    pub fn version(&self) -> &NotionVersion {
        &self.version
    }

    /// The same connection (same limiter and counters) speaking another `Notion-Version`.
    pub fn with_version(&self, version: NotionVersion) -> Self {
        let mut c = self.clone();
        c.version = version;
        c
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.limiter
    }

    /// The read coalescer (shared by every clone).
    pub fn coalescer(&self) -> &Arc<Coalescer> {
        &self.coalescer
    }

    /// This handle using `coalescer`: give every handle of one connection (one per token, or
    /// one per refreshed token) the same coalescer, so that their identical reads share one
    /// request and their writes move one write epoch.
    pub fn with_coalescer(&self, coalescer: Arc<Coalescer>) -> Connection {
        Connection {
            coalescer,
            ..self.clone()
        }
    }

    /// Counters of this connection.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The client this connection belongs to.
    pub fn notion(&self) -> &Notion {
        &self.notion
    }

    /// This connection (sharing token, limiter and counters) with a hook that supplies a new
    /// token when Notion answers 401; see [`Reauthorize`].
    pub fn with_reauthorize(&self, hook: Arc<dyn Reauthorize>) -> Connection {
        Connection {
            reauth: Some(hook),
            ..self.clone()
        }
    }

    fn current_auth(&self) -> Arc<Auth> {
        Arc::clone(&self.auth.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Sends a request through the limiter and the retry policy and returns the final answer,
    /// whatever its status. Transport failures that are not retried become errors. With a
    /// [`Reauthorize`] hook, a 401 gets one new token and one repeat.
    ///
    /// A read identical to one still in flight on this connection shares its answer instead
    /// of sending a request, when that answer cannot be older than a write that ended before
    /// this call ([`crate::coalesce`]); [`RawResponse::shared`] then says so.
    pub async fn execute(&self, req: RawRequest) -> Result<RawResponse> {
        if !(req.coalescible() && self.coalescer.config().enabled) {
            // Whatever is not a read counts as a write: its end moves the write epoch.
            let _ended = (!req.coalescible()).then(|| self.coalescer.write());
            return self.execute_alone(&req, None).await;
        }
        let auth = self.current_auth();
        match self.coalescer.enter(Key::of(&req, &self.version), &auth) {
            Role::Joiner(flight) => {
                let out = flight.wait().await;
                if !coalesce::shareable(&out, &self.coalescer.config()) {
                    return self.execute_alone(&req, None).await;
                }
                self.stats.coalesced.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("notion_coalesced_requests_total").increment(1);
                let mut mine = coalesce::copy_result(&out);
                if let Ok(resp) = &mut mine {
                    resp.shared = true;
                }
                mine
            }
            Role::Leader(ticket) => {
                let (key, id, sent) = (ticket.key().clone(), ticket.id(), ticket.sent_epoch());
                let (conn, coalescer) = (self.clone(), Arc::clone(&self.coalescer));
                let flight = async move {
                    let out = conn.execute_alone(&req, Some(&sent)).await;
                    coalescer.finish(&key, id);
                    Arc::new(out)
                }
                .boxed();
                let out = self.coalescer.start(ticket, auth, flight).wait().await;
                Arc::try_unwrap(out).unwrap_or_else(|shared| coalesce::copy_result(&shared))
            }
        }
    }

    /// [`Connection::execute`] without coalescing. `sent`, for a coalesced read's flight,
    /// records the write epoch at which each attempt leaves.
    async fn execute_alone(
        &self,
        req: &RawRequest,
        sent: Option<&AtomicU64>,
    ) -> Result<RawResponse> {
        let auth = self.current_auth();
        let resp = self.send_loop(req, &auth, sent).await?;
        let (401, Some(hook), Auth::Bearer(refused)) = (resp.status, &self.reauth, &*auth) else {
            return Ok(resp);
        };
        let Some(token) = hook.reauthorize(refused).await else {
            return Ok(resp);
        };
        let fresh = Arc::new(Auth::Bearer(token));
        *self.auth.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&fresh);
        self.send_loop(req, &fresh, sent).await
    }

    async fn send_loop(
        &self,
        req: &RawRequest,
        auth: &Auth,
        sent: Option<&AtomicU64>,
    ) -> Result<RawResponse> {
        let policy = &self.notion.config().retry;
        let (mut rl, mut se, mut attempts) = (0u32, 0u32, 0u32);
        loop {
            let waited = self.limiter.acquire().await;
            self.stats
                .limiter_wait_micros
                .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
            attempts += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            if let Some(sent) = sent {
                self.coalescer.mark_sent(sent);
            }
            let result = self.attempt(req, auth).await;
            let outcome = match &result {
                Ok(resp) => Outcome::Status {
                    status: resp.status,
                    retry_after: resp.retry_after(),
                },
                Err(e) => match e.kind {
                    TransportKind::Connect => Outcome::ConnectFailed,
                    TransportKind::Timeout => Outcome::TimedOut,
                    TransportKind::Broken => Outcome::TransportFailed,
                },
            };
            if matches!(
                outcome,
                Outcome::Status {
                    status: 429 | 529,
                    ..
                }
            ) {
                self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            record_attempt(&outcome, waited);
            match retry::decide(policy, req.idempotency, &outcome, rl, se, rand::random()) {
                Decision::GiveUp => {
                    return match result {
                        Ok(mut resp) => {
                            resp.attempts = attempts;
                            Ok(resp)
                        }
                        Err(e) => Err(Error::Transport {
                            kind: e.kind,
                            may_have_reached: e.may_have_reached,
                            attempts,
                            source: Some(e.source),
                        }),
                    };
                }
                Decision::Retry {
                    after,
                    rate_limited,
                } => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        method = %req.method,
                        path = %req.path,
                        ?outcome,
                        delay_ms = after.as_millis() as u64,
                        "retrying Notion request"
                    );
                    if rate_limited {
                        rl += 1;
                        // Every caller of this connection waits, not just this one.
                        self.limiter.pause(after).await;
                    } else {
                        se += 1;
                        tokio::time::sleep(after).await;
                    }
                }
            }
        }
    }

    /// Sends a request and decodes a 2xx body into `T`; any other status becomes an error.
    pub async fn send<T: DeserializeOwned>(&self, req: RawRequest) -> Result<T> {
        self.execute(req).await?.into_result()
    }

    async fn attempt(&self, req: &RawRequest, auth: &Auth) -> Result<RawResponse, AttemptError> {
        let config = self.notion.config();
        let mut rb = match self.notion.request_url(&req.path) {
            Ok(url) => self.notion.http().request(req.method.clone(), url),
            // reqwest reports the unparsable URL as a builder error when sent.
            Err(_) => self.notion.http().request(
                req.method.clone(),
                format!("{}{}", config.base_url, req.path),
            ),
        }
        .header("Notion-Version", self.version.as_str());
        rb = match auth {
            Auth::Bearer(token) => rb.bearer_auth(token.expose_secret()),
            Auth::Basic {
                client_id,
                client_secret,
            } => rb.basic_auth(client_id, Some(client_secret.expose_secret())),
        };
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        for (name, value) in &req.headers {
            rb = rb.header(name, value);
        }
        if let Some(timeout) = config.request_timeout {
            rb = rb.timeout(timeout);
        }
        if let Some(form) = &req.form {
            rb = rb.multipart(form.to_form());
        } else if let Some(body) = &req.body {
            rb = match &req.content_type {
                Some(ct) => rb.header(CONTENT_TYPE, ct.clone()),
                None => rb.header(CONTENT_TYPE, "application/json"),
            }
            .body(body.clone());
        }
        let resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| AttemptError {
            kind: if e.is_timeout() {
                TransportKind::Timeout
            } else {
                TransportKind::Broken
            },
            may_have_reached: true,
            source: e,
        })?;
        Ok(RawResponse {
            status,
            headers,
            body,
            attempts: 1,
            shared: false,
        })
    }
}

fn classify(e: reqwest::Error) -> AttemptError {
    let (kind, may_have_reached) = if e.is_connect() {
        (TransportKind::Connect, false)
    } else if e.is_timeout() {
        (TransportKind::Timeout, true)
    } else {
        (TransportKind::Broken, true)
    };
    AttemptError {
        kind,
        may_have_reached,
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{Notion, decode};
    use crate::config::ClientConfig;
    use crate::error::Error;

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        inner: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        n: u32,
    }

    /// Joining a path to the parsed base gives what parsing `base + path` gives, and never
    /// another host, for ordinary and hostile paths alike.
    #[test]
    fn request_urls_match_the_text_and_stay_on_the_base_host() {
        let paths = [
            "/v1/pages/59833787-2cf9-4fdf-8782-e53db20768a5",
            "/v1/blocks/59833787/children?page_size=100&start_cursor=a%20b",
            "/v1/search?query=caf\u{e9} au lait#frag",
            "/v1/../v1/users/./me",
            "/v1\\pages",
            "//evil.example/v1/pages",
            "/\\evil.example/v1/pages",
            "/\t/evil.example/v1/pages",
            "/\n\\evil.example/v1/pages",
            "/\r/evil.example/v1/pages",
            "/v1/pages/a\tb",
            "/",
            "/?x",
            "/#x",
            "/.",
            "/..",
            "/@evil.example",
            "/:1@evil.example",
            "/%2F%2Fevil.example",
            "/v1?u=//evil.example",
            "/v1/pages \u{1}",
            "v1/pages",
            "",
            "?x=1",
            "/%2e%2e/v1/users",
            "/v1/pages/\u{1F600}",
        ];
        // (base as configured, whether it is kept parsed)
        let bases = [
            ("https://api.notion.com", true),
            ("http://127.0.0.1:18900", true),
            ("http://[::1]:9", true),
            ("http://localhost:8080/notion", false),
            ("HTTP://API.notion.com:443", false),
            ("https://u:p@api.notion.com", true),
            ("http://127.0.0.1:9\\", false),
            ("http://127.0.0.1:9 ", false),
        ];
        for (base, kept) in bases {
            let notion = Notion::new(ClientConfig::default().base_url(base)).unwrap();
            assert_eq!(notion.inner.base.is_some(), kept, "{base}");
            let host = url::Url::parse(base).unwrap().host_str().map(str::to_owned);
            for path in paths {
                let joined = notion.request_url(path);
                let text = url::Url::parse(&format!("{base}{path}"));
                assert_eq!(joined, text, "{base} + {path:?}");
                // Every request path the client builds starts with `/`.
                if let (Ok(u), true) = (joined, path.starts_with('/')) {
                    assert_eq!(u.host_str().map(str::to_owned), host, "{base} + {path:?}");
                }
            }
        }
        // A trailing slash set on the field (the builder trims it) is not normal form either.
        let notion = Notion::new(ClientConfig {
            base_url: "https://api.notion.com/".to_owned(),
            ..ClientConfig::default()
        })
        .unwrap();
        assert!(notion.inner.base.is_none());
        assert_eq!(
            notion.request_url("/v1/users").unwrap().as_str(),
            "https://api.notion.com//v1/users"
        );
    }

    #[test]
    fn a_decode_error_names_the_path_and_keeps_the_request_id() {
        assert!(decode::<Outer>(br#"{"inner":[{"n":1}]}"#, None).is_ok());
        match decode::<Outer>(br#"{"inner":[{"n":1},{"n":"x"}]}"#, Some("rid".into())) {
            Err(Error::Decode {
                path,
                message,
                request_id,
            }) => {
                assert_eq!(path, "inner[1].n");
                assert!(message.contains("invalid type"), "{message}");
                assert_eq!(request_id.as_deref(), Some("rid"));
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn a_decode_error_inside_a_block_names_the_path() {
        let body = serde_json::json!({
            "object": "list",
            "results": [
                {"object": "block", "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
                 "type": "divider", "divider": {}},
                {"object": "block", "id": "59833787-2cf9-4fdf-8782-e53db20768a6",
                 "type": "to_do", "to_do": {"rich_text": [], "checked": "yes"}}
            ],
            "next_cursor": null,
            "has_more": false
        });
        let body = serde_json::to_vec(&body).unwrap();
        match decode::<crate::models::ListResponse<crate::models::Block>>(&body, None) {
            Err(Error::Decode { path, message, .. }) => {
                let said = format!("{path}: {message}");
                assert!(said.contains("results[1]"), "{said}");
                assert!(said.contains("to_do.checked: invalid type"), "{said}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn a_union_content_error_names_the_path() {
        let bad = serde_json::json!({"n": "x"});
        let err = crate::models::union::decode_content::<Inner>("t", Some(bad)).unwrap_err();
        assert!(err.starts_with("t.n: invalid type"), "{err}");
        let good = serde_json::json!({"n": 3});
        assert!(crate::models::union::decode_content::<Inner>("t", Some(good)).is_ok());
    }
}
