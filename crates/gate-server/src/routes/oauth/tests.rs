//! The OAuth connection flow end to end against the emulator: authorize → Notion's consent
//! (auto-consent, or denial) → callback → an encrypted, usable connection; forged, missing,
//! expired, reused and other users' states refused before any code exchange; HTML and JSON
//! answers; disconnecting revokes at Notion; no token in any answer, log line or the database
//! file.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use gate_core::{NotionRequest, Surface};
use gate_store::NewOAuthState;
use reqwest::{Method, StatusCode, header};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::test_support::{CLIENT_ID, Gateway, consent, no_redirects, spawn_gateway};

const TOKEN_ROUTE: &str = "POST /v1/oauth/token";

/// Calls the callback URL like a browser (HTML) or a client asking for JSON, optionally with
/// a key. Answers the status, the content type and the body text.
async fn callback(url: &str, json: bool, key: Option<&str>) -> (u16, String, String) {
    let mut req = no_redirects().get(url);
    if json {
        req = req.header(header::ACCEPT, "application/json");
    } else {
        req = req.header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8");
    }
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

fn callback_url(gw: &Gateway, query: &str) -> String {
    format!("{}/api/v1/notion/oauth/callback?{query}", gw.base)
}

async fn connection_count(gw: &Gateway, key: &str) -> usize {
    let (status, body) = gw.call(Method::GET, "/connections", Some(key), None).await;
    assert_eq!(status, 200, "{body}");
    body["results"].as_array().unwrap().len()
}

/// Every byte of every file in the gateway's data folder (database, WAL, journal).
fn data_files(gw: &Gateway) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(gw.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every log line of this test binary (a global subscriber installed once), so that secrets
/// can be looked for in what the gateway logs.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

fn capture_logs() -> Capture {
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "trace,notion_emulator=off,hyper=off,hyper_util=off,h2=off,rustls=off,sqlx=warn",
                ))
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            capture
        })
        .clone()
}

#[tokio::test]
async fn connects_end_to_end_encrypted_usable_and_quiet() {
    let capture = capture_logs();

    let gw = spawn_gateway().await;
    let mut bodies = Vec::new();

    // The authorization URL: encoded, complete, with a fresh 256-bit state.
    let (status, body) = gw
        .call(
            Method::GET,
            "/notion/oauth/authorize",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    bodies.push(body.to_string());
    let url = reqwest::Url::parse(body["authorization_url"].as_str().unwrap()).unwrap();
    assert!(url.as_str().starts_with(&gw.emu.base_url()));
    assert_eq!(url.path(), "/v1/oauth/authorize");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["owner"], "user");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/api/v1/notion/oauth/callback", gw.base)
    );
    assert!(q["state"].len() >= 43, "256 bits of state");
    assert!(url.as_str().contains("redirect_uri=http%3A%2F%2F127.0.0.1"));
    let expires = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(left <= time::Duration::minutes(10) && left > time::Duration::minutes(9));

    // Consent at Notion, then the callback (JSON).
    let resp = no_redirects().get(url.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("code=") && location.contains("state="));
    let before = connection_count(&gw, &gw.alice_key).await;
    let (status, ctype, text) = callback(&location, true, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(ctype.starts_with("application/json"));
    bodies.push(text.clone());
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["status"], "connected");
    assert!(answer["workspace_name"].is_string());
    let conn_id = answer["connection_id"].as_str().unwrap().to_owned();
    assert_eq!(gw.emu.counters().route(TOKEN_ROUTE), 1, "one code exchange");
    assert_eq!(connection_count(&gw, &gw.alice_key).await, before + 1);

    let (status, conn) = gw
        .call(
            Method::GET,
            &format!("/connections/{conn_id}"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{conn}");
    assert_eq!(conn["kind"], "oauth");
    assert_eq!(conn["authorized_by"], "user");
    assert_eq!(conn["revoked"], false);
    bodies.push(conn.to_string());

    // Usable: an agent bound to it searches through it.
    let (status, created) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.alice_key),
            Some(json!({"name": "oauth-bot", "maturity": "Autonomous", "connection_id": conn_id})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["agent"]["connection_id"], conn_id.as_str());
    let agent_key = created["key"]["key"].as_str().unwrap().to_owned();
    let agent = gw.gate.authenticate(&agent_key).await.unwrap();
    let resp = gw
        .gate
        .call(
            &agent,
            Surface::Rest,
            NotionRequest::post("/v1/search", json!({})),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    let search = gw
        .emu
        .request_log()
        .into_iter()
        .rev()
        .find(|r| r.route == "POST /v1/search")
        .unwrap();
    let access_token = search.token.clone().unwrap();
    assert!(access_token.starts_with("ntn_"));
    assert_ne!(
        access_token, gw.notion_token,
        "the OAuth token, not Alice's own"
    );

    // The HTML answer for a browser.
    let location = consent(&gw, &gw.alice_key).await;
    let (status, ctype, html) = callback(&location, false, None).await;
    assert_eq!(status, 200, "{html}");
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(html.contains("Notion connected"), "{html}");
    bodies.push(html);

    // Encrypted at rest: no token in the database files (nor any refresh token).
    gw.gate.flush_audit().await.unwrap();
    let files = data_files(&gw);
    assert!(!files.is_empty());
    assert!(
        !contains(&files, &access_token),
        "access token in the database"
    );
    assert!(!contains(&files, &gw.notion_token), "token in the database");
    assert!(!contains(&files, "nrt_"), "a refresh token in the database");
    assert!(!contains(&files, "ntn_"), "a Notion token in the database");

    // Nowhere in an answer or a log line.
    let log =
        String::from_utf8_lossy(&capture.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        log.contains("OAuth connection stored") && log.contains("OAuth flow started"),
        "the capture sees the gateway's logs"
    );
    for text in bodies.iter().chain([&log]) {
        assert!(!text.contains(&access_token));
        assert!(!text.contains(&gw.notion_token));
        assert!(!text.contains("nrt_"));
        assert!(!text.contains(&gw.alice_key));
        assert!(!text.contains(&gw.admin_key));
    }
}

#[tokio::test]
async fn bad_states_are_refused_before_any_exchange() {
    let gw = spawn_gateway().await;
    let expect_state_error = |status: u16, text: &str| {
        assert_eq!(status, 400, "{text}");
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["error"]["code"], "invalid_request");
        assert_eq!(v["error"]["details"]["field"], "state", "{text}");
    };

    // Forged and missing.
    let (status, _, text) = callback(
        &callback_url(&gw, "code=abc&state=forged-state"),
        true,
        None,
    )
    .await;
    expect_state_error(status, &text);
    let (status, _, text) = callback(&callback_url(&gw, "code=abc"), true, None).await;
    expect_state_error(status, &text);
    let (status, ctype, html) = callback(&callback_url(&gw, "code=abc&state=x"), false, None).await;
    assert_eq!(status, 400);
    assert!(ctype.starts_with("text/html"));
    assert!(html.contains("start connecting again"), "{html}");

    // Expired.
    let alice = gw.gate.store().get_user_by_name("alice").await.unwrap();
    let old = gw
        .gate
        .store()
        .create_oauth_state(NewOAuthState::new(alice.id).ttl(Duration::from_millis(1)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let url = callback_url(
        &gw,
        &format!("code=abc&state={}", old.state.expose_secret()),
    );
    let (status, _, text) = callback(&url, true, None).await;
    expect_state_error(status, &text);
    assert_eq!(
        gw.emu.counters().route(TOKEN_ROUTE),
        0,
        "no exchange so far"
    );

    // Reused.
    let location = consent(&gw, &gw.alice_key).await;
    let (status, _, text) = callback(&location, true, None).await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = callback(&location, true, None).await;
    expect_state_error(status, &text);
    assert_eq!(
        gw.emu.counters().route(TOKEN_ROUTE),
        1,
        "the code is exchanged once"
    );

    // Another user's flow: Bob cannot complete Alice's, and nothing is stored for either.
    let alice_before = connection_count(&gw, &gw.alice_key).await;
    let location = consent(&gw, &gw.alice_key).await;
    let (status, _, text) = callback(&location, true, Some(&gw.bob_key)).await;
    expect_state_error(status, &text);
    assert!(text.contains("another user"), "{text}");
    assert_eq!(connection_count(&gw, &gw.bob_key).await, 0);
    assert_eq!(connection_count(&gw, &gw.alice_key).await, alice_before);
    let (status, _, text) = callback(&location, true, Some(&gw.alice_key)).await;
    expect_state_error(status, &text);
    assert_eq!(gw.emu.counters().route(TOKEN_ROUTE), 1);

    // Agents cannot start a flow; nobody without a key can.
    let (status, body) = gw
        .call(
            Method::GET,
            "/notion/oauth/authorize",
            Some(gw.agent("autonomous")),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _) = gw
        .call(Method::GET, "/notion/oauth/authorize", None, None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn access_denied_records_nothing() {
    let gw = spawn_gateway().await;
    gw.emu.set_oauth_deny(true);
    let before = connection_count(&gw, &gw.alice_key).await;
    let location = consent(&gw, &gw.alice_key).await;
    assert!(location.contains("error=access_denied"));
    assert!(!location.contains("code="));
    let (status, _, text) = callback(&location, true, None).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["error"], "access_denied");
    assert!(v["connection_id"].is_null());
    // The state is spent, too.
    let (status, _, _) = callback(&location, true, None).await;
    assert_eq!(status, 400);

    let location = consent(&gw, &gw.alice_key).await;
    let (status, ctype, html) = callback(&location, false, None).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(html.contains("Connection cancelled"), "{html}");
    assert_eq!(gw.emu.counters().route(TOKEN_ROUTE), 0);
    assert_eq!(connection_count(&gw, &gw.alice_key).await, before);
}

#[tokio::test]
async fn redirect_mode_and_disconnect_revokes_at_notion() {
    let gw = spawn_gateway().await;
    let resp = no_redirects()
        .get(format!(
            "{}/api/v1/notion/oauth/authorize?redirect=true",
            gw.base
        ))
        .bearer_auth(&gw.alice_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let to = resp.headers()[header::LOCATION].to_str().unwrap();
    assert!(to.starts_with(&format!("{}/v1/oauth/authorize?", gw.emu.base_url())));

    let location = consent(&gw, &gw.alice_key).await;
    let (_, _, text) = callback(&location, true, None).await;
    let conn_id = serde_json::from_str::<Value>(&text).unwrap()["connection_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob cannot delete it; Alice can, and the token is revoked at Notion first.
    let path = format!("/connections/{conn_id}");
    let (status, _) = gw
        .call(Method::DELETE, &path, Some(&gw.bob_key), None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = gw
        .call(Method::DELETE, &path, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(gw.emu.counters().route("POST /v1/oauth/revoke"), 1);
    let (status, _) = gw.call(Method::GET, &path, Some(&gw.alice_key), None).await;
    assert_eq!(status, 404);

    // A token connection is just removed: nothing to revoke at Notion.
    let (status, added) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.bob_key),
            Some(json!({"token": "ntn_bob_0123456789abcdef", "name": "bob's"})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert!(!added.to_string().contains("ntn_bob_0123456789abcdef"));
    let id = added["connection_id"].as_str().unwrap();
    let (status, _) = gw
        .call(
            Method::DELETE,
            &format!("/connections/{id}"),
            Some(&gw.bob_key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(gw.emu.counters().route("POST /v1/oauth/revoke"), 1);
}

/// A revocation Notion refuses (the client credentials, here) is answered 502
/// `revocation_failed` naming the reason and what to do; the connection is kept, listed with
/// `revocation_failed: true`, and `DELETE` again retries.
#[tokio::test]
async fn failed_revocation_is_answered_and_retried() {
    let gw = spawn_gateway().await;
    let location = consent(&gw, &gw.alice_key).await;
    let (_, _, text) = callback(&location, true, None).await;
    let conn_id = serde_json::from_str::<Value>(&text).unwrap()["connection_id"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.emu.push_fault(
        notion_emulator::ScriptedFault::new(Method::POST, "/v1/oauth/revoke").error(
            401,
            "invalid_client",
            "Client authentication failed.",
        ),
    );
    let path = format!("/connections/{conn_id}");
    let (status, body) = gw
        .call(Method::DELETE, &path, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "revocation_failed", "{body}");
    assert_eq!(body["error"]["details"]["reason"], "invalid_client");
    assert_eq!(body["error"]["details"]["notion_code"], "invalid_client");
    assert_eq!(body["error"]["details"]["connection_id"], conn_id.as_str());
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("NOTION_GATE_OAUTH_CLIENT_SECRET"),
        "{message}"
    );
    assert!(message.contains("disconnect again"), "{message}");
    let (status, conn) = gw.call(Method::GET, &path, Some(&gw.alice_key), None).await;
    assert_eq!(status, 200, "{conn}");
    assert_eq!(conn["revocation_failed"], true);
    assert_eq!(conn["revoked"], true);

    let (status, body) = gw
        .call(Method::DELETE, &path, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(gw.emu.counters().route("POST /v1/oauth/revoke"), 2);
    let (status, _) = gw.call(Method::GET, &path, Some(&gw.alice_key), None).await;
    assert_eq!(status, 404);
}

/// An OAuth connection whose access token Notion stopped accepting (401): twenty concurrent
/// calls through REST and the proxy cost exactly one refresh at Notion, each call is retried
/// once with the new token and succeeds, and the expired token is not sent again.
#[tokio::test]
async fn twenty_concurrent_calls_refresh_an_expired_token_once() {
    let gw = spawn_gateway().await;
    let location = consent(&gw, &gw.alice_key).await;
    let (status, _, text) = callback(&location, true, None).await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    let conn_id = answer["connection_id"].as_str().unwrap().to_owned();
    let (status, agent) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.alice_key),
            Some(json!({"name": "oauth-bot", "maturity": "autonomous", "connection_id": conn_id})),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let key = agent["key"]["key"].as_str().unwrap().to_owned();
    let page = gw.emu.demo_ids().root_page.clone();
    let proxy_path = format!("/v1/pages/{page}");

    // One call to learn the access token in use, then Notion stops accepting it.
    let first = gw
        .http
        .get(format!("{}{proxy_path}", gw.base))
        .bearer_auth(&key)
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let old = gw
        .emu
        .handle()
        .request_log()
        .into_iter()
        .rev()
        .find(|r| r.path == proxy_path)
        .and_then(|r| r.token)
        .expect("the proxied read's token");
    gw.emu.handle().expire_token(&old);
    gw.emu.handle().reset_counters();

    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (http, base, key, page, proxy_path) = (
            gw.http.clone(),
            gw.base.clone(),
            key.clone(),
            page.clone(),
            proxy_path.clone(),
        );
        set.spawn(async move {
            let req = if i % 2 == 0 {
                http.get(format!("{base}{proxy_path}"))
                    .header("Notion-Version", "2025-09-03")
            } else {
                http.get(format!("{base}/api/v1/notion/pages/{page}?format=text"))
            };
            let resp = req.bearer_auth(key).send().await.unwrap();
            let status = resp.status().as_u16();
            (i, status, resp.text().await.unwrap())
        });
    }
    while let Some(r) = set.join_next().await {
        let (i, status, body) = r.unwrap();
        assert_eq!(status, 200, "call {i}: {body}");
    }
    let counters = gw.emu.handle().counters();
    assert_eq!(counters.route(TOKEN_ROUTE), 1, "one refresh: {counters:?}");
    let after: Vec<String> = gw
        .emu
        .handle()
        .request_log()
        .into_iter()
        .filter(|r| r.path == proxy_path && r.status == Some(200))
        .filter_map(|r| r.token)
        .collect();
    // Identical reads in flight together share one request (coalescing): at most one
    // request per call, each with a good token.
    assert!(
        (1..=20).contains(&after.len()),
        "the calls read the page with a good token: {}",
        after.len()
    );
    assert!(after.iter().all(|t| *t != old), "the expired token is gone");
}
