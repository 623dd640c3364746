//! The web console over HTTP (no browser): sign-in and its refusals, cookie flags, CSRF,
//! security headers, session revocation and expiry, who sees which approval, escaping of
//! what agents write, the failed sign-in limit, assets and exports.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::test_support::{Browser, ROOT, held_create, spawn_gateway};

#[tokio::test]
async fn root_goes_to_the_console_and_pages_need_a_session() {
    let gw = spawn_gateway().await;
    let b = Browser::new(&gw);
    let (s, h, _) = b.get("/").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[LOCATION], "/console");
    let (s, h, _) = b.get("/console/approvals").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[LOCATION], "/console/login?next=%2Fconsole%2Fapprovals");
    let (s, _, body) = b.get("/console/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("name=\"key\""), "{body}");
    // An unknown console path is an HTML page, not the API's JSON envelope.
    let (s, h, body) = b.get("/console/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("Back to the console"), "{body}");
}

#[tokio::test]
async fn a_path_id_that_does_not_parse_is_that_things_not_found() {
    let gw = spawn_gateway().await;
    let mut alice = Browser::new(&gw);
    alice.sign_in(&gw.alice_key).await;
    for (path, what) in [
        ("/console/agents/not-an-id", "agent not found"),
        ("/console/approvals/42", "approval not found"),
    ] {
        let (s, h, body) = alice.get(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(body.contains(what), "{path}: {body}");
    }
    // A form to a malformed id changes nothing and names what was not found.
    let csrf = alice.csrf("/console/agents").await;
    for (path, what) in [
        ("/console/agents/zzz/disable", "agent not found"),
        ("/console/connections/zzz/revoke", "connection not found"),
        ("/console/users/zzz/disable", "user not found"),
        ("/console/sessions/zzz/revoke", "console session not found"),
    ] {
        let (s, _, body) = alice.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains(what), "{path}: {body}");
    }
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_every_page_has_strict_headers() {
    let gw = spawn_gateway().await;
    let mut b = Browser::new(&gw);
    let set = b.sign_in(&gw.alice_key).await;
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(set.contains(flag), "{flag} missing from {set}");
    }
    assert!(!set.contains("Secure"), "plain http: no Secure flag: {set}");
    let (s, h, body) = b.get("/console/approvals").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        !body.contains("<script>") && !body.contains(" style=\""),
        "no inline script or style"
    );
    // Behind a TLS-terminating proxy, the cookie is Secure.
    let resp = b
        .http
        .post(format!("{}/console/login", b.base))
        .header("x-forwarded-proto", "https")
        .form(&[("key", gw.alice_key.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn wrong_keys_and_agent_keys_cannot_sign_in_and_failures_count_toward_the_limit() {
    let gw = spawn_gateway().await;
    let b = Browser::new(&gw);
    let (s, h, body) = b.post("/console/login", &[("key", "ngu_nope")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(h.get(SET_COOKIE).is_none());
    assert!(body.contains("not a valid user key"), "{body}");
    let (s, h, body) = b
        .post("/console/login", &[("key", gw.agent("autonomous"))])
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an agent key is a failed sign-in"
    );
    assert!(h.get(SET_COOKIE).is_none());
    assert!(body.contains("agent"), "{body}");
    // The per-address budget (20 a minute) runs out: then 429 with Retry-After, as HTML.
    let mut last = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut text = String::new();
    for _ in 0..25 {
        (last, headers, text) = b.post("/console/login", &[("key", "ngu_wrong")]).await;
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert!(text.contains("Too many attempts"), "{text}");
    // Even the right key waits now: the block cannot depend on the key.
    let (s, _, _) = b
        .post("/console/login", &[("key", gw.alice_key.as_str())])
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_is_refused() {
    let gw = spawn_gateway().await;
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;
    let (s, _, body) = b
        .post(
            "/console/agents",
            &[("name", "sneaky"), ("maturity", "autonomous")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _, _) = b
        .post(
            "/console/agents",
            &[
                ("name", "sneaky"),
                ("maturity", "autonomous"),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Another session's token is no good either.
    let mut other = Browser::new(&gw);
    other.sign_in(&gw.alice_key).await;
    let foreign = other.csrf("/console/agents").await;
    let (s, _, _) = b
        .post(
            "/console/agents",
            &[
                ("name", "sneaky"),
                ("maturity", "autonomous"),
                ("csrf", &foreign),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let agents = gw
        .gate
        .list_agents(&gw.gate.authenticate(&gw.alice_key).await.unwrap())
        .await
        .unwrap();
    assert!(
        agents.iter().all(|a| a.name != "sneaky"),
        "nothing was created"
    );
    // With it, the agent is added and its key shown once.
    let csrf = b.csrf("/console/agents").await;
    let (s, _, body) = b
        .post(
            "/console/agents",
            &[("name", "helper"), ("maturity", "intern"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let key = body
        .split("id=\"new-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(key.starts_with("nga_"), "{key}");
    let caller = gw.gate.authenticate(key).await.unwrap();
    assert!(caller.is_agent());
    let (_, _, again) = b.get("/console/agents").await;
    assert!(!again.contains(key), "the key is shown only once");
}

#[tokio::test]
async fn sign_out_and_revocation_end_sessions() {
    let gw = spawn_gateway().await;
    let mut a = Browser::new(&gw);
    a.sign_in(&gw.alice_key).await;
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;
    // Two sessions listed; revoke the other one from the first.
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let sessions = gw.gate.list_console_sessions(&alice).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let (_, _, page) = a.get("/console/sessions").await;
    assert!(page.contains("this browser"), "{page}");
    let b_session = gw
        .gate
        .console_session(b.cookie.as_deref().unwrap())
        .await
        .unwrap()
        .1;
    let csrf = a.csrf("/console/sessions").await;
    let (s, _, _) = a
        .post(
            &format!("/console/sessions/{}/revoke", b_session.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, h, _) = b.get("/console/agents").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[LOCATION].to_str().unwrap().starts_with("/console/login"));
    // Bob cannot revoke Alice's session: not found.
    let mut bob = Browser::new(&gw);
    bob.sign_in(&gw.bob_key).await;
    let a_session = gw
        .gate
        .console_session(a.cookie.as_deref().unwrap())
        .await
        .unwrap()
        .1;
    let csrf = bob.csrf("/console/sessions").await;
    let (s, _, _) = bob
        .post(
            &format!("/console/sessions/{}/revoke", a_session.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Sign-out clears the cookie and ends the session in the store.
    let csrf = a.csrf("/console/agents").await;
    let (s, h, _) = a.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert!(
        gw.gate
            .console_session(a.cookie.as_deref().unwrap())
            .await
            .is_err()
    );
    // Revoking the key that signed in ends the session too.
    let mut c = Browser::new(&gw);
    let admin = gw.gate.authenticate(&gw.admin_key).await.unwrap();
    let alice_user = alice.user_id;
    let extra = gw
        .gate
        .issue_user_key(&admin, alice_user, Some("extra"))
        .await
        .unwrap();
    use secrecy::ExposeSecret as _;
    c.sign_in(extra.key.expose_secret()).await;
    assert_eq!(c.get("/console/agents").await.0, StatusCode::OK);
    gw.gate.revoke_key(&admin, extra.info.id).await.unwrap();
    assert_eq!(c.get("/console/agents").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let gw = spawn_gateway().await;
    let store = gw.gate.store();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let created = store
        .create_console_session(gate_store::NewConsoleSession::new(
            alice.user_id,
            gate_store::TokenHash::of(&gw.alice_key),
            std::time::Duration::from_secs(1),
        ))
        .await
        .unwrap();
    use secrecy::ExposeSecret as _;
    let mut b = Browser::new(&gw);
    b.cookie = Some(created.token.expose_secret().to_owned());
    assert_eq!(b.get("/console/agents").await.0, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(b.get("/console/agents").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn approvals_are_seen_and_decided_only_by_their_people_and_run_once() {
    let gw = spawn_gateway().await;
    let id = held_create(&gw, "Console plan", "Hello **there**").await;
    let mut alice = Browser::new(&gw);
    alice.sign_in(&gw.alice_key).await;
    let (s, _, inbox) = alice.get("/console/approvals").await;
    assert_eq!(s, StatusCode::OK);
    assert!(inbox.contains("Create page “Console plan”"), "{inbox}");
    let (s, _, page) = alice.get(&format!("/console/approvals/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Demo Root"),
        "the parent's title, read as Alice: {page}"
    );
    assert!(
        page.contains("<strong>there</strong>"),
        "the content rendered: {page}"
    );
    // Bob sees nothing of it and cannot decide it.
    let mut bob = Browser::new(&gw);
    bob.sign_in(&gw.bob_key).await;
    assert_eq!(
        bob.get(&format!("/console/approvals/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let csrf = bob.csrf("/console/agents").await;
    let (s, _, _) = bob
        .post(
            &format!("/console/approvals/{id}/approve"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, bob_inbox) = bob.get("/console/approvals").await;
    assert!(!bob_inbox.contains("Console plan"));
    // Alice approves: it runs once; a second approval is a conflict.
    let creates_before = gw.emu.counters().route("POST /v1/pages");
    let csrf = alice.csrf(&format!("/console/approvals/{id}")).await;
    let (s, h, _) = alice
        .post(
            &format!("/console/approvals/{id}/approve"),
            &[("csrf", &csrf), ("note", "fine")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        h[LOCATION],
        format!("/console/approvals/{id}?done=approved")
    );
    let (_, _, done) = alice
        .get(&format!("/console/approvals/{id}?done=approved"))
        .await;
    assert!(
        done.contains("executed") && done.contains("HTTP 200"),
        "{done}"
    );
    let (s, _, _) = alice
        .post(
            &format!("/console/approvals/{id}/approve"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        creates_before + 1
    );
    // The preview's reads were governed and audited as Alice on the console surface.
    let alice_caller = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let page = gw
        .gate
        .query_audit(
            &alice_caller,
            gate_store::AuditQuery::new().surface(gate_store::Surface::Console),
        )
        .await
        .unwrap();
    assert!(!page.events.is_empty());
    assert!(
        page.events
            .iter()
            .all(|e| e.record.call.user_id == Some(alice_caller.user_id))
    );
    // Denying another.
    let id2 = held_create(&gw, "Second", "x").await;
    let csrf = alice.csrf(&format!("/console/approvals/{id2}")).await;
    let (s, _, _) = alice
        .post(
            &format!("/console/approvals/{id2}/deny"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (status, body) = gw
        .call(
            reqwest::Method::GET,
            &format!("/approvals/{id2}"),
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "denied");
}

#[tokio::test]
async fn what_agents_write_is_shown_as_text() {
    let gw = spawn_gateway().await;
    let id = held_create(
        &gw,
        "<script>alert(1)</script>",
        "Raw <img src=x onerror=alert(2)> and <b>bold</b>\n\n[link](javascript:alert(3))",
    )
    .await;
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;
    for path in [
        "/console/approvals".to_owned(),
        format!("/console/approvals/{id}"),
    ] {
        let (_, _, page) = b.get(&path).await;
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        assert!(!page.contains("<img src=x"), "{path}");
        assert!(!page.contains("href=\"javascript:"), "{path}");
    }
}

#[tokio::test]
async fn the_audit_filters_pages_and_exports() {
    let gw = spawn_gateway().await;
    for _ in 0..3 {
        gw.call(
            reqwest::Method::POST,
            "/notion/search",
            Some(gw.agent("intern")),
            Some(json!({"query": ""})),
        )
        .await;
    }
    gw.call(
        reqwest::Method::POST,
        "/notion/pages",
        Some(gw.agent("intern")),
        Some(json!({"parent": {"page_id": ROOT}, "title": "no"})),
    )
    .await;
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;
    let (s, _, page) = b.get("/console/audit?decision=deny").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("pages.create") && !page.contains("<code>search</code>"),
        "{page}"
    );
    let (s, _, _) = b.get("/console/audit?surface=nowhere").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, h, jsonl) = b.get("/console/audit/export?format=jsonl&class=read").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("notion-gate-audit.jsonl")
    );
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 3);
    assert!(lines.iter().all(|l| l["action_class"] == "read"));
    let (s, _, csv) = b
        .get("/console/audit/export?format=csv&decision=deny")
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("id,timestamp,request_id"));
    assert!(rows.all(|r| r.contains(",deny,")));
    // Bob's audit shows none of Alice's agents' calls.
    let mut bob = Browser::new(&gw);
    bob.sign_in(&gw.bob_key).await;
    let (_, _, jsonl) = bob.get("/console/audit/export?format=jsonl").await;
    assert!(!jsonl.contains("pages.create"), "{jsonl}");
}

#[tokio::test]
async fn assets_are_hashed_cached_and_light() {
    let gw = spawn_gateway().await;
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;
    let (_, _, page) = b.get("/console/overview").await;
    let hrefs: Vec<String> = page
        .split("/console/assets/")
        .skip(1)
        .map(|s| format!("/console/assets/{}", &s[..s.find('"').unwrap()]))
        .collect();
    assert_eq!(hrefs.len(), 4, "{hrefs:?}");
    let mut compressed = 0usize;
    for href in &hrefs {
        let resp = b
            .http
            .get(format!("{}{href}", b.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{href}");
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        compressed += resp.bytes().await.unwrap().len();
    }
    assert!(
        compressed < 150 * 1024,
        "assets weigh {compressed} bytes compressed"
    );
    assert_eq!(
        b.get("/console/assets/console.0000000000.css").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn admins_manage_users_and_users_do_not() {
    let gw = spawn_gateway().await;
    let mut alice = Browser::new(&gw);
    alice.sign_in(&gw.alice_key).await;
    assert_eq!(alice.get("/console/users").await.0, StatusCode::FORBIDDEN);
    let (_, _, page) = alice.get("/console/agents").await;
    assert!(
        !page.contains("href=\"/console/users\""),
        "no Users entry for a non-admin"
    );
    let mut admin = Browser::new(&gw);
    admin.sign_in(&gw.admin_key).await;
    let csrf = admin.csrf("/console/users").await;
    let (s, _, body) = admin
        .post("/console/users", &[("name", "carol"), ("csrf", &csrf)])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let key = body
        .split("id=\"new-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let mut carol = Browser::new(&gw);
    carol.sign_in(key).await;
    assert_eq!(carol.get("/console/agents").await.0, StatusCode::OK);
    let carol_id = gw.gate.authenticate(key).await.unwrap().user_id;
    let (s, _, _) = admin
        .post(
            &format!("/console/users/{carol_id}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        carol.get("/console/agents").await.0,
        StatusCode::SEE_OTHER,
        "a disabled user is signed out"
    );
}
