//! Scale-out: two gateway instances (two `Gate`s, two servers) on ONE PostgreSQL schema and
//! one Redis, in front of one emulator that enforces Notion's 3 requests/s, burst 10.
//!
//! - ten agents split across both instances never make the emulator answer 429 (the Redis
//!   limiter gives the connection one budget); the same run with in-process limiters does;
//! - an OAuth state made on A is single-use across A and B;
//! - an approval approved at once on A and on B runs exactly once;
//! - a maturity change on A takes effect on B within the cache TTL (polled; counts only).
//!
//! Skipped with a notice unless both `TEST_DATABASE_URL` and `TEST_REDIS_URL` are set (`.ci/run`
//! sets them).

use std::sync::Arc;
use std::time::Duration;

use gate_core::{Gate, GateConfig, GateError, NewAgentSpec, NotionRequest, OAuthSettings, Surface};
use gate_server::{AppState, Application, ServerOptions, ServerSettings};
use gate_store::{Vault, VaultKey};
use notion_client::ids::PageId;
use notion_client::{ClientConfig, ErrorCode, LimiterConfig, Notion, RateLimiter, RetryPolicy};
use notion_emulator::{Emulator, RateLimit, Seed};
use reqwest::{Method, header};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::test_support::{Backend, CLIENT_ID, CLIENT_SECRET};

/// The cache TTL of both instances: the documented bound on how long a change made on one
/// instance goes unseen on the other.
const CACHE_TTL: Duration = Duration::from_millis(400);

/// One instance: its `Gate` and its server's base URL.
struct Instance {
    gate: Gate,
    base: String,
}

/// Two instances on one database, one emulator and (unless `redis` is false) one Redis.
struct Pair {
    a: Instance,
    b: Instance,
    emu: Emulator,
    alice_key: String,
    /// Agents of Alice (all on her token connection): ten `intern` readers, one `supervised`,
    /// one `student` (with its id).
    readers: Vec<String>,
    supervised: String,
    student: (String, String),
    http: reqwest::Client,
}

/// The Redis URL, when both PostgreSQL and Redis are available (else a notice).
fn redis_url() -> Option<String> {
    match (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("TEST_REDIS_URL"),
    ) {
        (Ok(_), Ok(redis)) => Some(redis),
        _ => {
            eprintln!(
                "\nNOTICE: TEST_DATABASE_URL and TEST_REDIS_URL are needed: the two-instance \
                 (scale) test is SKIPPED.\n"
            );
            None
        }
    }
}

/// Starts one instance on `db_url`, sharing `vault_key`, the emulator and (if any) Redis.
async fn instance(
    db_url: &str,
    vault_key: &VaultKey,
    emu: &Emulator,
    redis: Option<&str>,
    redirect: &str,
    listener: tokio::net::TcpListener,
) -> Instance {
    let store = gate_store::open(db_url).await.unwrap();
    let vault = Arc::new(Vault::new(vec![vault_key.clone()]).unwrap());
    let limiter = LimiterConfig::new(3.0, 10).unwrap();
    let mut config = GateConfig::new(store, vault)
        .notion(ClientConfig::default().base_url(emu.base_url()))
        .limiter(limiter)
        .cache_ttl(CACHE_TTL)
        .oauth(OAuthSettings::new(
            CLIENT_ID,
            SecretString::from(CLIENT_SECRET.to_owned()),
        ));
    if let Some(url) = redis {
        let limiters = gate_redis::RedisLimiters::new(url, limiter).unwrap();
        limiters.check().await.expect("Redis answers");
        config = config.limiter_factory(Arc::new(move |id| {
            Arc::new(limiters.limiter(&id.to_string())) as Arc<dyn RateLimiter>
        }));
    }
    let gate = Gate::new(config).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Behind a load balancer every instance has the same public URL and redirect URI.
    let settings =
        ServerSettings::new(base.clone(), emu.base_url()).oauth_redirect_uri(redirect.to_owned());
    let state = AppState::new(gate.clone(), settings);
    let app = Application::build(
        listener,
        gate_server::api::app(state, &ServerOptions::default()),
    )
    .unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Instance { gate, base }
}

async fn agent_key(
    gate: &Gate,
    owner: &gate_core::Caller,
    name: &str,
    maturity: &str,
) -> (String, String) {
    let agent = gate
        .create_agent(owner, NewAgentSpec::new(name, maturity))
        .await
        .unwrap();
    let key = gate.issue_agent_key(owner, agent.id, None).await.unwrap();
    (key.key.expose_secret().to_owned(), agent.id.to_string())
}

async fn pair(test: &str, redis: bool) -> Option<Pair> {
    let redis_url = redis_url()?;
    let db_url = Backend::Postgres.database_url(test).await.unwrap();
    let (_, vault_key) = VaultKey::generate();
    let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://{}/api/v1/notion/oauth/callback",
        la.local_addr().unwrap()
    );
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .oauth_client(CLIENT_ID, CLIENT_SECRET, [redirect.clone()])
        .rate_limit(RateLimit::per_second(3.0, 10))
        .start()
        .await
        .unwrap();
    let redis = redis.then_some(redis_url.as_str());
    // A migrates the schema first; B then opens the migrated database.
    let a = instance(&db_url, &vault_key, &emu, redis, &redirect, la).await;
    let b = instance(&db_url, &vault_key, &emu, redis, &redirect, lb).await;

    let gate = &a.gate;
    let (_, admin) = gate.bootstrap_admin("admin").await.unwrap();
    let admin = gate.authenticate(admin.key.expose_secret()).await.unwrap();
    let alice = gate.create_user(&admin, "alice", false).await.unwrap();
    let alice_key = gate
        .issue_user_key(&admin, alice.id, Some("own"))
        .await
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    let alice = gate.authenticate(&alice_key).await.unwrap();
    let token = format!("ntn_alice_{}", uuid::Uuid::new_v4().simple());
    gate.add_token_connection(&alice, None, SecretString::from(token))
        .await
        .unwrap();
    let alice = gate.authenticate(&alice_key).await.unwrap();
    let mut readers = Vec::new();
    for i in 0..10 {
        readers.push(
            agent_key(gate, &alice, &format!("reader-{i}"), "intern")
                .await
                .0,
        );
    }
    let supervised = agent_key(gate, &alice, "supervisor-bot", "supervised")
        .await
        .0;
    let student = agent_key(gate, &alice, "student-bot", "student").await;
    Some(Pair {
        a,
        b,
        emu,
        alice_key,
        readers,
        supervised,
        student,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    })
}

impl Pair {
    async fn call(
        &self,
        on: &Instance,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", on.base))
            .bearer_auth(&self.alice_key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn shutdown(self) {
        self.a.gate.shutdown().await;
        self.b.gate.shutdown().await;
        self.emu.shutdown().await;
    }
}

/// An "SDK" pointed at an instance's proxy: retries off and no client-side limiter, so any
/// 429 would surface as an error.
fn sdk(base: &str, key: &str) -> notion_client::Connection {
    Notion::new(
        ClientConfig::default()
            .base_url(base.to_owned())
            .retry(RetryPolicy::none())
            .limiter(LimiterConfig::new(10_000.0, 10_000).unwrap()),
    )
    .unwrap()
    .connection(key.to_owned().into())
}

/// Ten agents, five per instance, three reads each, all at once, each of its own page (so
/// that no read shares another's request: every one spends budget). Answers the errors seen
/// by the agents.
async fn ten_agents_read(p: &Pair) -> Vec<String> {
    let root = p.emu.demo_ids().root_page.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, key) in p.readers.iter().enumerate() {
        let base = if i % 2 == 0 { &p.a.base } else { &p.b.base };
        let conn = sdk(base, key);
        let page: PageId = p
            .emu
            .create_page(&root, &format!("page of reader {i}"))
            .unwrap()
            .parse()
            .unwrap();
        tasks.spawn(async move {
            let mut errors = Vec::new();
            for _ in 0..3 {
                if let Err(e) = conn.pages().retrieve(&page).await {
                    errors.push(format!("{:?}: {e}", e.code().map(ErrorCode::as_str)));
                }
            }
            errors
        });
    }
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        errors.extend(r.unwrap());
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_agents_on_two_instances_stay_within_the_connection_rate() {
    let Some(p) = pair("scale_rate", true).await else {
        return;
    };
    p.emu.handle().reset_counters();
    let errors = ten_agents_read(&p).await;
    let at_notion = p.emu.handle().counters();
    assert_eq!(errors, Vec::<String>::new(), "every read succeeded");
    assert_eq!(
        at_notion.rate_limited, 0,
        "the emulator answered no 429: {at_notion:?}"
    );
    assert_eq!(
        at_notion.route("GET /v1/pages/{id}"),
        30,
        "each read reached Notion exactly once: {at_notion:?}"
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_two_instances_overrun_the_connection_rate() {
    // The control: each instance with its own in-process limiter spends a full burst, so
    // together they exceed Notion's and meet 429s (absorbed by the gateway's retries).
    let Some(p) = pair("scale_norate", false).await else {
        return;
    };
    p.emu.handle().reset_counters();
    let errors = ten_agents_read(&p).await;
    let at_notion = p.emu.handle().counters();
    assert!(
        at_notion.rate_limited > 0,
        "two independent limiters overrun the connection: {at_notion:?} (agent errors {errors:?})"
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_state_is_single_use_across_instances() {
    let Some(p) = pair("scale_oauth", true).await else {
        return;
    };
    let (status, body) = p
        .call(&p.a, Method::GET, "/notion/oauth/authorize", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let consent = p
        .http
        .get(body["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let location = consent.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(&p.a.base), "{location}");
    let on_b = location.replacen(&p.a.base, &p.b.base, 1);
    let get = |url: String| {
        let http = p.http.clone();
        async move {
            let resp = http
                .get(url)
                .header(header::ACCEPT, "application/json")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    p.emu.handle().reset_counters();
    let (ra, rb) = tokio::join!(get(location.clone()), get(on_b));
    let (ok, refused) = match (ra, rb) {
        ((200, ok), (400, no)) | ((400, no), (200, ok)) => (ok, no),
        other => panic!("exactly one instance must accept the state: {other:?}"),
    };
    assert!(ok.contains("connected"), "{ok}");
    let refused: Value = serde_json::from_str(&refused).unwrap();
    assert_eq!(refused["error"]["details"]["field"], "state", "{refused}");
    assert_eq!(
        p.emu.counters().route("POST /v1/oauth/token"),
        1,
        "the code was exchanged once"
    );
    // And a third try on A is refused too.
    assert_eq!(get(location).await.0, 400);
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_approved_on_both_instances_runs_once() {
    let Some(p) = pair("scale_approval", true).await else {
        return;
    };
    let root = p.emu.demo_ids().root_page.clone();
    let agent = p.a.gate.authenticate(&p.supervised).await.unwrap();
    let req = NotionRequest::post(
        "/v1/pages",
        json!({"parent": {"page_id": root}, "properties": {"title": {"title": [{"text": {"content": "held"}}]}}}),
    );
    let id = match p.a.gate.call(&agent, Surface::Rest, req).await {
        Err(GateError::ApprovalRequired { id, .. }) => id.to_string(),
        other => panic!("expected an approval, got {other:?}"),
    };
    p.emu.handle().reset_counters();
    let path = format!("/approvals/{id}/approve");
    let (ra, rb) = tokio::join!(
        p.call(&p.a, Method::POST, &path, None),
        p.call(&p.b, Method::POST, &path, None)
    );
    match (&ra, &rb) {
        ((200, ok), (409, _)) | ((409, _), (200, ok)) => {
            assert_eq!(ok["status"], "executed", "{ok}");
        }
        other => panic!("one instance must win the approval: {other:?}"),
    }
    assert_eq!(
        p.emu.counters().route("POST /v1/pages"),
        1,
        "executed exactly once"
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maturity_change_on_a_reaches_b_within_the_cache_ttl() {
    let Some(p) = pair("scale_maturity", true).await else {
        return;
    };
    let (key, agent_id) = p.student.clone();
    let root = p.emu.demo_ids().root_page.clone();
    let create = |on: &Instance| {
        p.http
            .post(format!("{}/v1/pages", on.base))
            .bearer_auth(&key)
            .header("Notion-Version", "2022-06-28")
            .json(&json!({"parent": {"page_id": root}, "properties": {"title": {"title": [{"text": {"content": "by student"}}]}}}))
            .send()
    };
    // B has seen (and cached) the student: a write is refused.
    let refused = create(&p.b).await.unwrap();
    assert_eq!(refused.status().as_u16(), 403, "{:?}", refused.text().await);

    // Promote on A.
    let (status, body) = p
        .call(
            &p.a,
            Method::PATCH,
            &format!("/agents/{agent_id}"),
            Some(json!({"maturity": "autonomous"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["maturity"], "autonomous");

    // B follows within the TTL: poll in steps of a tenth of it, at most 30 steps (3 TTLs, for
    // a slow machine); count the steps rather than time them.
    let mut steps = 0;
    loop {
        let status = create(&p.b).await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        assert_eq!(status, 403, "refused, not broken");
        steps += 1;
        assert!(steps <= 30, "B still refuses after 3 cache TTLs");
        tokio::time::sleep(CACHE_TTL / 10).await;
    }
    assert_eq!(
        p.emu.counters().route("POST /v1/pages"),
        1,
        "one write went through"
    );
    p.shutdown().await;
}
