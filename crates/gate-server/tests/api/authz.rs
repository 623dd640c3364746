//! Authorization table (IDOR): Bob, with his user key or his own agent's key, using any of
//! Alice's ids (agent, connection, approval, user key, agent key, user) in any path, query or
//! body gets 404, exactly like an unknown id, and nothing changes; agents of every maturity get
//! 403 on every administration path (agents, keys, users, connections, OAuth, approve/deny,
//! audit), the requesting agent included; no key gets 401 everywhere but the OAuth callback.
//! Every test runs on each [`Backend::available`] (SQLite, and PostgreSQL when configured).

use gate_core::{GateError, NotionRequest, Surface};
use reqwest::Method;
use serde_json::{Value, json};

use gate_server::ServerOptions;

use crate::test_support::{Backend, Gateway, GatewayOpts, spawn_gateway_with};

struct AliceIds {
    agent: String,
    connection: String,
    approval: String,
    key: String,
    agent_key: String,
    user: String,
}

async fn alice_ids(gw: &Gateway) -> AliceIds {
    let (_, me) = gw
        .call(Method::GET, "/me", Some(gw.agent("supervised")), None)
        .await;
    let agent = me["agent_id"].as_str().unwrap().to_owned();
    let connection = me["connection"]["id"].as_str().unwrap().to_owned();
    let user = me["user_id"].as_str().unwrap().to_owned();
    let caller = gw.gate.authenticate(gw.agent("supervised")).await.unwrap();
    let root = gw.emu.demo_ids().root_page.clone();
    let approval = match gw
        .gate
        .call(
            &caller,
            Surface::Rest,
            NotionRequest::post(
                "/v1/pages",
                json!({"parent": {"page_id": root}, "properties": {}}),
            ),
        )
        .await
    {
        Err(GateError::ApprovalRequired { id, .. }) => id.to_string(),
        other => panic!("expected an approval: {other:?}"),
    };
    let (_, keys) = gw
        .call(Method::GET, "/keys", Some(&gw.alice_key), None)
        .await;
    let results = keys["results"].as_array().unwrap();
    let id_where = |agent_key: bool| {
        results
            .iter()
            .find(|k| k["agent_id"].is_null() != agent_key)
            .unwrap_or_else(|| panic!("no such key in {keys}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    AliceIds {
        agent,
        connection,
        approval,
        key: id_where(false),
        agent_key: id_where(true),
        user,
    }
}

#[tokio::test]
async fn another_users_ids_are_not_found_on_every_path() {
    for backend in Backend::available() {
        let gw = spawn_gateway_with(backend.opts("authz_idor").await).await;
        idor_table(&gw).await;
    }
}

async fn idor_table(gw: &Gateway) {
    let a = alice_ids(gw).await;
    let unknown = uuid::Uuid::new_v4().to_string();

    // Bob gets an agent of his own, to try binding Alice's connection to it.
    let (status, bobs) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.bob_key),
            Some(json!({"name": "bobbot", "maturity": "intern"})),
        )
        .await;
    assert_eq!(status, 201, "{bobs}");
    let bob_agent = bobs["agent"]["id"].as_str().unwrap().to_owned();
    let bob_agent_key = bobs["key"]["key"].as_str().unwrap().to_owned();

    let table: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/agents/{}", a.agent), None),
        (
            Method::PATCH,
            format!("/agents/{}", a.agent),
            Some(json!({"maturity": "autonomous"})),
        ),
        (
            Method::PATCH,
            format!("/agents/{}", a.agent),
            Some(json!({"disabled": true})),
        ),
        (Method::POST, format!("/agents/{}/keys", a.agent), None),
        (
            Method::POST,
            "/agents".to_owned(),
            Some(json!({"name": "thief", "maturity": "intern", "connection_id": a.connection})),
        ),
        (
            Method::POST,
            "/agents".to_owned(),
            Some(json!({"name": "thief2", "maturity": "intern", "owner_id": a.user})),
        ),
        (
            Method::PATCH,
            format!("/agents/{bob_agent}"),
            Some(json!({"connection_id": a.connection})),
        ),
        (Method::GET, format!("/connections/{}", a.connection), None),
        (
            Method::DELETE,
            format!("/connections/{}", a.connection),
            None,
        ),
        (Method::GET, format!("/approvals/{}", a.approval), None),
        (
            Method::POST,
            format!("/approvals/{}/approve", a.approval),
            None,
        ),
        (
            Method::POST,
            format!("/approvals/{}/deny", a.approval),
            None,
        ),
        (Method::GET, format!("/audit?agent_id={}", a.agent), None),
        (
            Method::GET,
            format!("/audit/export?agent_id={}", a.agent),
            None,
        ),
        (Method::GET, format!("/audit?user_id={}", a.user), None),
        (
            Method::PATCH,
            format!("/agents/{}", a.agent),
            Some(json!({"connection_id": null})),
        ),
        (Method::DELETE, format!("/keys/{}", a.key), None),
        (Method::DELETE, format!("/keys/{}", a.agent_key), None),
        (Method::GET, format!("/keys?user_id={}", a.user), None),
        (
            Method::GET,
            format!("/audit?agent_id={}&user_id={}", a.agent, a.user),
            None,
        ),
    ];
    for (method, path, body) in &table {
        let (status, answer) = gw
            .call(method.clone(), path, Some(&gw.bob_key), body.clone())
            .await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found", "{method} {path}");

        // The same answer as for an id that does not exist at all.
        let (unknown_status, unknown_answer) = gw
            .call(
                method.clone(),
                &path
                    .replace(&a.agent, &unknown)
                    .replace(&a.connection, &unknown)
                    .replace(&a.approval, &unknown)
                    .replace(&a.key, &unknown)
                    .replace(&a.agent_key, &unknown)
                    .replace(&a.user, &unknown),
                Some(&gw.bob_key),
                body.clone().map(|b| {
                    serde_json::from_str(
                        &b.to_string()
                            .replace(&a.connection, &unknown)
                            .replace(&a.user, &unknown),
                    )
                    .unwrap()
                }),
            )
            .await;
        assert_eq!(unknown_status, 404, "unknown id on {method} {path}");
        assert_eq!(
            answer["error"]["message"], unknown_answer["error"]["message"],
            "{method} {path}: the message tells Alice's id from an unknown one"
        );
    }
    // Bob's agent sees nothing of Alice's either: her approval is "not found", not forbidden.
    for path in [format!("/approvals/{}", a.approval)] {
        let (status, answer) = gw
            .call(Method::GET, &path, Some(&bob_agent_key), None)
            .await;
        assert_eq!(status, 404, "Bob's agent: {path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found");
    }
    // Nor does another agent of Alice's: an approval belongs to its requester and its owner.
    let (status, answer) = gw
        .call(
            Method::GET,
            &format!("/approvals/{}", a.approval),
            Some(gw.agent("student")),
            None,
        )
        .await;
    assert_eq!(status, 404, "a sibling agent: {answer}");
    // Bob is not an administrator: the users paths are forbidden whatever the id, so they say
    // nothing about whether Alice's id exists.
    for id in [&a.user, &unknown] {
        let (status, answer) = gw
            .call(
                Method::PATCH,
                &format!("/users/{id}"),
                Some(&gw.bob_key),
                Some(json!({"disabled": true})),
            )
            .await;
        assert_eq!(status, 403, "{answer}");
    }
    // Malformed ids are just as unknown.
    for path in ["/agents/not-a-uuid", "/connections/1", "/approvals/%20"] {
        assert_eq!(
            gw.call(Method::GET, path, Some(&gw.bob_key), None).await.0,
            404,
            "{path}"
        );
    }

    // Nothing changed for Alice.
    let (status, agent) = gw
        .call(
            Method::GET,
            &format!("/agents/{}", a.agent),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(agent["maturity"], "supervised");
    assert_eq!(agent["disabled"], false);
    assert_eq!(agent["connection_id"].as_str(), Some(a.connection.as_str()));
    let (_, keys) = gw
        .call(Method::GET, "/keys", Some(&gw.alice_key), None)
        .await;
    for k in keys["results"].as_array().unwrap() {
        assert!(
            k["revoked_at"].is_null(),
            "a key of Alice's was revoked: {k}"
        );
    }
    let (status, _) = gw
        .call(Method::GET, "/me", Some(gw.agent("supervised")), None)
        .await;
    assert_eq!(status, 200, "Alice's agent key still works");
    let (_, bobs_agent) = gw
        .call(
            Method::GET,
            &format!("/agents/{bob_agent}"),
            Some(&gw.bob_key),
            None,
        )
        .await;
    assert!(bobs_agent["connection_id"].is_null(), "{bobs_agent}");
    let (status, conn) = gw
        .call(
            Method::GET,
            &format!("/connections/{}", a.connection),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(conn["revoked"], false);
    let (_, approval) = gw
        .call(
            Method::GET,
            &format!("/approvals/{}", a.approval),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(approval["status"], "pending");
    assert_eq!(
        gw.call(Method::GET, "/me", Some(&gw.alice_key), None)
            .await
            .0,
        200
    );

    // And Bob's lists show none of Alice's objects.
    for path in [
        "/agents",
        "/connections",
        "/approvals?status=all",
        "/audit",
        "/keys",
    ] {
        let (status, list) = gw.call(Method::GET, path, Some(&gw.bob_key), None).await;
        assert_eq!(status, 200, "{path}");
        let text = list.to_string();
        for id in [&a.agent, &a.connection, &a.approval, &a.key, &a.agent_key] {
            assert!(!text.contains(id.as_str()), "{path} shows Alice's {id}");
        }
    }
    let (status, list) = gw
        .call(
            Method::GET,
            "/approvals?status=all",
            Some(&bob_agent_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(!list.to_string().contains(&a.approval), "{list}");
}

#[tokio::test]
async fn agents_are_forbidden_on_admin_paths_and_keys_are_required() {
    for backend in Backend::available() {
        // This test sends dozens of bad keys from one address on purpose: no failed-auth limit.
        let mut opts = backend.opts("authz_agents").await;
        opts.options = Some(ServerOptions::default().failed_auth_per_minute(0));
        let gw = spawn_gateway_with(opts).await;
        agents_table(&gw).await;
    }
}

async fn agents_table(gw: &Gateway) {
    let a = alice_ids(gw).await;
    let admin_paths: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/users".to_owned(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/users".to_owned(), None),
        (
            Method::PATCH,
            format!("/users/{}", a.user),
            Some(json!({"disabled": true})),
        ),
        (
            Method::POST,
            "/agents".to_owned(),
            Some(json!({"name": "x", "maturity": "intern"})),
        ),
        (Method::GET, "/agents".to_owned(), None),
        (Method::GET, format!("/agents/{}", a.agent), None),
        (
            Method::PATCH,
            format!("/agents/{}", a.agent),
            Some(json!({"maturity": "autonomous"})),
        ),
        (Method::POST, format!("/agents/{}/keys", a.agent), None),
        (Method::GET, "/keys".to_owned(), None),
        (Method::DELETE, format!("/keys/{}", a.key), None),
        (Method::DELETE, format!("/keys/{}", a.agent_key), None),
        (
            Method::GET,
            format!("/agents/{}", uuid::Uuid::new_v4()),
            None,
        ),
        (Method::GET, "/connections".to_owned(), None),
        (
            Method::POST,
            "/connections".to_owned(),
            Some(json!({"token": "ntn_0123456789"})),
        ),
        (Method::GET, format!("/connections/{}", a.connection), None),
        (
            Method::DELETE,
            format!("/connections/{}", a.connection),
            None,
        ),
        (Method::GET, "/notion/oauth/authorize".to_owned(), None),
        (
            Method::POST,
            format!("/approvals/{}/approve", a.approval),
            None,
        ),
        (
            Method::POST,
            format!("/approvals/{}/deny", a.approval),
            None,
        ),
        (Method::GET, "/audit".to_owned(), None),
        (Method::GET, "/audit/export".to_owned(), None),
    ];
    for (method, path, body) in &admin_paths {
        // The supervised agent is the approval's requester: it may not decide it either.
        for maturity in ["student", "intern", "supervised", "autonomous"] {
            let (status, answer) = gw
                .call(method.clone(), path, Some(gw.agent(maturity)), body.clone())
                .await;
            assert_eq!(status, 403, "{maturity} {method} {path}: {answer}");
            assert_eq!(answer["error"]["code"], "forbidden");
        }
    }
    let (_, approval) = gw
        .call(
            Method::GET,
            &format!("/approvals/{}", a.approval),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(approval["status"], "pending", "no agent decided it");
    let (_, agent) = gw
        .call(
            Method::GET,
            &format!("/agents/{}", a.agent),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(agent["maturity"], "supervised", "no agent promoted itself");
    let (status, users) = gw
        .call(Method::GET, "/users", Some(&gw.admin_key), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        users["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["disabled"] == false),
        "no agent disabled a user: {users}"
    );

    // No key (or a bad one): 401 on every authenticated path.
    let mut all = admin_paths.clone();
    all.push((Method::GET, "/me".to_owned(), None));
    all.push((Method::GET, "/approvals".to_owned(), None));
    all.push((Method::GET, format!("/approvals/{}", a.approval), None));
    for (method, path, body) in &all {
        for key in [None, Some("ngu_not_a_real_key")] {
            let (status, answer) = gw.call(method.clone(), path, key, body.clone()).await;
            assert_eq!(status, 401, "{method} {path}: {answer}");
            assert_eq!(answer["error"]["code"], "unauthorized");
        }
    }
}

/// A client whose connections come from `ip` (any 127.x address reaches the gateway).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .build()
        .unwrap()
}

async fn status_of(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn failed_authentication_is_limited_per_client_address() {
    let gw = spawn_gateway_with(GatewayOpts {
        options: Some(ServerOptions::default().failed_auth_per_minute(3)),
        ..GatewayOpts::default()
    })
    .await;
    let me = format!("{}/api/v1/me", gw.base);
    let attacker = client_from("127.0.0.2");
    // X-Forwarded-For is not trusted by default: changing it does not change the address.
    for i in 0..3 {
        let (status, _, body) = status_of(
            attacker
                .get(&me)
                .bearer_auth(format!("ngu_guess{i}"))
                .header("x-forwarded-for", format!("198.51.100.{i}")),
        )
        .await;
        assert_eq!(status, 401, "failure {i}: {body}");
    }
    let (status, headers, body) = status_of(attacker.get(&me).bearer_auth("ngu_guess3")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["details"]["reason"], "too_many_failed_auth");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // While blocked, a good key from that address is refused too (else a right guess would
    // show as a 200), on every surface; the public routes still answer.
    let (status, _, _) = status_of(attacker.get(&me).bearer_auth(&gw.alice_key)).await;
    assert_eq!(status, 429);
    let (status, headers, body) = status_of(
        attacker
            .get(format!("{}/v1/users/me", gw.base))
            .bearer_auth(gw.agent("student"))
            .header("Notion-Version", "2025-09-03"),
    )
    .await;
    assert_eq!(status, 429, "proxy: {body}");
    assert_eq!(body["object"], "error", "Notion's envelope on the proxy");
    assert_eq!(body["code"], "rate_limited");
    assert!(headers.contains_key("retry-after"));
    let (status, _, _) = status_of(
        attacker
            .post(format!("{}/mcp", gw.base))
            .bearer_auth("nga_guess")
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 429, "mcp");
    let (status, _, _) = status_of(attacker.get(format!("{}/healthz", gw.base))).await;
    assert_eq!(status, 200, "health is never blocked");

    // Another address is not affected, and successes spend nothing.
    let neighbour = client_from("127.0.0.3");
    for _ in 0..10 {
        let (status, _, _) = status_of(neighbour.get(&me).bearer_auth(&gw.alice_key)).await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = status_of(neighbour.get(&me).bearer_auth("ngu_wrong")).await;
    assert_eq!(status, 401, "the neighbour's budget is intact");
}

#[tokio::test]
async fn a_trusted_proxy_address_comes_from_x_forwarded_for() {
    let gw = spawn_gateway_with(GatewayOpts {
        options: Some(
            ServerOptions::default()
                .failed_auth_per_minute(2)
                .trust_forwarded_for(true),
        ),
        ..GatewayOpts::default()
    })
    .await;
    let me = format!("{}/api/v1/me", gw.base);
    let proxy = client_from("127.0.0.4");
    let from = |ip: &str| {
        proxy
            .get(&me)
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
    };
    for _ in 0..2 {
        assert_eq!(
            status_of(from("198.51.100.7").bearer_auth("ngu_x")).await.0,
            401
        );
    }
    assert_eq!(
        status_of(from("198.51.100.7").bearer_auth("ngu_x")).await.0,
        429
    );
    // Another client behind the same proxy (the last entry is the one the proxy appended).
    assert_eq!(
        status_of(from("198.51.100.8").bearer_auth(&gw.alice_key))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn cors_is_off_by_default_and_never_a_wildcard() {
    let preflight = |http: &reqwest::Client, base: &str, origin: &str| {
        http.request(Method::OPTIONS, format!("{base}/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
    };
    let gw = spawn_gateway_with(GatewayOpts::default()).await;
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let (_, headers, _) = status_of(preflight(&gw.http, &gw.base, origin)).await;
        assert!(
            !headers.contains_key("access-control-allow-origin"),
            "default: {origin}: {headers:?}"
        );
        let (status, headers, _) = status_of(
            gw.http
                .get(format!("{}/api/v1/me", gw.base))
                .header("origin", origin)
                .bearer_auth(&gw.alice_key),
        )
        .await;
        assert_eq!(status, 200);
        assert!(!headers.contains_key("access-control-allow-origin"));
    }

    let allowed = "https://app.example.com";
    let gw = spawn_gateway_with(GatewayOpts {
        options: Some(ServerOptions::default().cors_origins([allowed]).unwrap()),
        ..GatewayOpts::default()
    })
    .await;
    let (_, headers, _) = status_of(preflight(&gw.http, &gw.base, allowed)).await;
    assert_eq!(headers["access-control-allow-origin"], allowed);
    let (status, headers, _) = status_of(
        gw.http
            .get(format!("{}/api/v1/me", gw.base))
            .header("origin", allowed)
            .bearer_auth(&gw.alice_key),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], allowed);
    for origin in [
        "https://evil.example",
        "https://app.example.com.evil.example",
    ] {
        let (_, headers, _) = status_of(preflight(&gw.http, &gw.base, origin)).await;
        let acao = headers.get("access-control-allow-origin");
        assert!(
            acao.is_none_or(|v| v != "*" && v != origin),
            "{origin}: {acao:?}"
        );
    }
    assert!(ServerOptions::default().cors_origins(["*"]).is_err());
}

/// The gateway talks to the configured Notion base URL and nothing else: URLs in Markdown
/// (images, links, bookmarks), in Notion blocks, in icon/cover file objects, in proxied
/// bodies and in query parameters of the OAuth routes are handed to Notion as data, never
/// fetched. A listener stands in for "some other host" and must see no connection.
#[tokio::test]
async fn the_gateway_never_fetches_a_url_from_its_input() {
    let gw = spawn_gateway_with(GatewayOpts::default()).await;
    let canary = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let url = format!("http://127.0.0.1:{}", canary.local_addr().unwrap().port());
    let root = gw.emu.demo_ids().root_page.clone();
    let key = gw.agent("autonomous");
    let external = json!({"type": "external", "external": {"url": format!("{url}/file.png")}});
    let blocks = json!([
        {"object": "block", "type": "bookmark", "bookmark": {"url": format!("{url}/bookmark")}},
        {"object": "block", "type": "embed", "embed": {"url": format!("{url}/embed")}},
        {"object": "block", "type": "image", "image": external.clone()},
    ]);
    let markdown = format!(
        "# Links\n\n![image]({url}/image.png)\n\n[a link]({url}/link)\n\n<{url}/autolink>\n\n{url}/bare\n"
    );
    let (status, page) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(key),
            Some(json!({
                "parent": {"page_id": root},
                "title": "URLs",
                "content": markdown,
                "icon": external.clone(),
                "cover": external.clone(),
            })),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let page_id = page["id"].as_str().unwrap().to_owned();
    let (status, answer) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{page_id}/blocks"),
            Some(key),
            Some(json!({"blocks": blocks.clone()})),
        )
        .await;
    assert!(status < 300, "{status} {answer}");
    let (status, answer) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{page_id}/blocks"),
            Some(key),
            Some(json!({"markdown": format!("![again]({url}/again.png)")})),
        )
        .await;
    assert!(status < 300, "{status} {answer}");
    let resp = gw
        .http
        .patch(format!("{}/v1/blocks/{page_id}/children", gw.base))
        .bearer_auth(key)
        .header("Notion-Version", "2025-09-03")
        .json(&json!({"children": blocks}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (status, _) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{page_id}?format=markdown"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    // Redirect and return parameters are not taken from the request.
    let (status, auth) = gw
        .call(
            Method::GET,
            &format!("/notion/oauth/authorize?redirect_uri={url}/cb&return_to={url}/back"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert!(status < 500, "{auth}");
    assert!(
        !auth.to_string().contains(&url),
        "authorize echoes the given URL: {auth}"
    );
    let resp = gw
        .http
        .get(format!(
            "{}/api/v1/notion/oauth/callback?code=c&state=s&redirect_uri={url}/cb&return_to={url}/back",
            gw.base
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    if let Some(location) = resp.headers().get("location") {
        assert!(!location.to_str().unwrap().contains(&url), "{location:?}");
    }

    // The URLs did reach Notion, as data.
    let stored = gw
        .http
        .get(format!("{}/v1/blocks/{page_id}/children", gw.base))
        .bearer_auth(key)
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stored.contains(&format!("{url}/bookmark")), "{stored}");
    assert!(stored.contains(&format!("{url}/image.png")), "{stored}");
    match canary.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the gateway connected to a URL from its input: {other:?}"),
    }
}

/// Found by schemathesis: a query string that does not parse got axum's plain-text 400; it is
/// the envelope naming the field. And every authenticated operation of the OpenAPI document
/// declares the 400 and 429 it can answer.
#[tokio::test]
async fn malformed_queries_get_the_envelope_and_the_document_declares_them() {
    let gw = spawn_gateway_with(GatewayOpts::default()).await;
    let (status, body) = gw
        .call(
            Method::GET,
            "/connections?all=maybe",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(body["error"]["details"]["field"], "all");

    let (status, body) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.alice_key),
            Some(json!({"token": "ntn_\u{e9}t\u{e9}"})),
        )
        .await;
    assert_eq!(status, 400, "a token that cannot be a header value: {body}");
    assert_eq!(body["error"]["details"]["field"], "token");

    let doc: Value = gw
        .http
        .get(format!("{}/openapi.json", gw.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            assert!(responses.get("400").is_some(), "{method} {path}: no 400");
            if op.get("security").is_some() {
                assert!(responses.get("429").is_some(), "{method} {path}: no 429");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked} authenticated operations");
}
