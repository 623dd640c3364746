//! Agents follow their held calls to the result or to the denial with its note, on every
//! surface: REST (`GET /approvals/{id}?wait=`, withdraw, the decider's note, the bound on
//! waits per key), the tool endpoint and MCP (`get_approval`, `list_approvals`,
//! `withdraw_approval`, over HTTP and stdio), and the proxy's `additional_data`. Nobody
//! else's approval is visible (404 / `not_found`) on any of them.
//!
//! No test measures wall-clock time: a wait of 30 s decided after 1 s must answer with the
//! final state inside a test timeout of 10 s.

use std::time::Duration;

use gate_core::{Gate, GateConfig};
use gate_server::mcp::serve_io;
use gate_server::{AppState, ServerSettings};
use gate_store::{Vault, VaultKey};
use notion_client::endpoints::CreatePage;
use notion_client::ids::PageId;
use notion_client::{ClientConfig, Notion, ParentRef};
use reqwest::Method;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::test_support::{Backend, Gateway, GatewayOpts, spawn_gateway, spawn_gateway_with};
use crate::test_support::{Client, http_client};

const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A page creation over REST by the supervised agent: held; answers the approval id.
async fn held(gw: &Gateway, title: &str) -> String {
    let root = gw.emu.demo_ids().root_page.clone();
    let (status, body) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(gw.agent("supervised")),
            Some(json!({"parent": {"page_id": root}, "title": title, "content": "Held **here**."})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["error"]["code"], "approval_required");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("get_approval") && message.contains("?wait="),
        "{message}"
    );
    body["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /approvals/{id}?wait=…` with `key`, on its own task.
fn wait_rest(
    gw: &Gateway,
    key: &str,
    id: &str,
    secs: u32,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let req = gw
        .http
        .get(format!("{}/api/v1/approvals/{id}?wait={secs}", gw.base))
        .bearer_auth(key);
    tokio::spawn(async move {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    })
}

async fn answered<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, task)
        .await
        .expect("answered before the end of its wait")
        .unwrap()
}

/// Until `key` holds `n` waits.
async fn waits_held(gate: &Gate, key: &str, n: usize) {
    let caller = gate.authenticate(key).await.unwrap();
    let held = async {
        while gate.approval_waits_held(caller.key_id) < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, held)
        .await
        .expect("the waits started");
}

/// Every key that must not see the supervised agent's approvals: its owner's other agents
/// and another user.
fn strangers(gw: &Gateway) -> [&str; 3] {
    [gw.agent("intern"), gw.agent("autonomous"), &gw.bob_key]
}

#[tokio::test]
async fn rest_wait_answers_with_the_result_or_the_denial_and_its_note() {
    for backend in Backend::available() {
        let gw = spawn_gateway_with(backend.opts("rest_wait").await).await;
        let id = held(&gw, "awaited page").await;
        let path = format!("/approvals/{id}");

        for key in strangers(&gw) {
            let (status, body) = gw
                .call(Method::GET, &format!("{path}?wait=5"), Some(key), None)
                .await;
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["error"]["code"], "not_found");
        }
        for bad in ["61", "-1", "soon"] {
            let (status, body) = gw
                .call(
                    Method::GET,
                    &format!("{path}?wait={bad}"),
                    Some(gw.agent("supervised")),
                    None,
                )
                .await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["error"]["details"]["field"], "wait", "{body}");
        }
        let (status, body) = gw
            .call(Method::GET, &path, Some(gw.agent("supervised")), None)
            .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("pending")));

        // Approved (with a note) a second after the wait began: the wait answers with the
        // result, in the REST API's compact form too.
        let wait = wait_rest(&gw, gw.agent("supervised"), &id, 30);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (status, body) = gw
            .call(
                Method::POST,
                &format!("{path}/approve"),
                Some(&gw.alice_key),
                Some(json!({"note": "fine, go ahead"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, got) = answered(wait).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["status"], "executed", "{got}");
        assert_eq!(got["note"], "fine, go ahead");
        assert_eq!(got["result"]["body"]["object"], "page");
        let page_id = got["result"]["summary"]["id"].as_str().unwrap();
        assert!(got["result"]["summary"]["url"].is_string(), "{got}");
        assert_eq!(got["result"]["summary"]["title"], "awaited page");
        assert_eq!(got["result"]["summary"]["blocks_written"], 1);
        assert!(gw.emu.get_object(page_id).is_some());

        // Denied with a note: the wait answers with the denial and the note.
        let id = held(&gw, "denied page").await;
        let wait = wait_rest(&gw, gw.agent("supervised"), &id, 30);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let deny = format!("/approvals/{id}/deny");
        let (status, body) = gw
            .call(
                Method::POST,
                &deny,
                Some(&gw.alice_key),
                Some(json!({"nope": 1})),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("nope"));
        let (status, body) = gw
            .call(
                Method::POST,
                &deny,
                Some(&gw.alice_key),
                Some(json!({"note": "not in the team space"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, got) = answered(wait).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["status"], "denied");
        assert_eq!(got["note"], "not in the team space");
        assert!(got["result"].is_null());
    }
}

/// Decided by another instance on the same database: PostgreSQL announces it (LISTEN), and
/// SQLite's waits re-read the store every second.
#[tokio::test]
async fn rest_wait_answers_when_another_instance_decides() {
    for backend in Backend::available() {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend.database_url("rest_wait_instances").await {
            Some(url) => url,
            None => format!("sqlite://{}", dir.path().join("shared.db").display()),
        };
        let gw = spawn_gateway_with(GatewayOpts {
            database_url: Some(url.clone()),
            ..GatewayOpts::default()
        })
        .await;
        let (_, key) = VaultKey::generate();
        let other = Gate::new(GateConfig::new(
            gate_store::open(&url).await.unwrap(),
            std::sync::Arc::new(Vault::new(vec![key]).unwrap()),
        ))
        .unwrap();
        let alice = other.authenticate(&gw.alice_key).await.unwrap();

        let id = held(&gw, "decided elsewhere").await;
        let wait = wait_rest(&gw, gw.agent("supervised"), &id, 30);
        waits_held(&gw.gate, gw.agent("supervised"), 1).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        other
            .deny(
                &alice,
                id.parse().unwrap(),
                Some("decided on the other instance"),
            )
            .await
            .unwrap();
        let (status, got) = answered(wait).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["status"], "denied", "{backend:?}");
        assert_eq!(got["note"], "decided on the other instance");
        other.shutdown().await;
    }
}

#[tokio::test]
async fn rest_withdraw_and_the_bound_on_waits() {
    let gw = spawn_gateway().await;
    let id = held(&gw, "withdrawn page").await;
    let withdraw = format!("/approvals/{id}/withdraw");

    for key in strangers(&gw) {
        let (status, _) = gw.call(Method::POST, &withdraw, Some(key), None).await;
        assert_eq!(status, 404);
    }
    // The owner decides; only the requester withdraws.
    let (status, body) = gw
        .call(Method::POST, &withdraw, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = gw
        .call(Method::POST, &withdraw, Some(gw.agent("supervised")), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "withdrawn");
    let (status, body) = gw
        .call(Method::POST, &withdraw, Some(gw.agent("supervised")), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["details"]["status"], "withdrawn");
    let (status, body) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/approve"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (_, list) = gw
        .call(
            Method::GET,
            "/approvals?status=withdrawn",
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), 0);

    // Eight waits at once per key; a ninth is refused, an answer without a wait is not.
    let id = held(&gw, "watched page").await;
    let key = gw.agent("supervised");
    let waits: Vec<_> = (0..8).map(|_| wait_rest(&gw, key, &id, 60)).collect();
    waits_held(&gw.gate, key, 8).await;
    let (status, body) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}?wait=60"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["details"]["reason"], "too_many_waits");
    let (status, _) = gw
        .call(Method::GET, &format!("/approvals/{id}"), Some(key), None)
        .await;
    assert_eq!(status, 200);
    // Withdrawing it ends every wait at once.
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/withdraw"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    for wait in waits {
        let (status, got) = answered(wait).await;
        assert_eq!((status, got["status"].as_str()), (200, Some("withdrawn")));
    }
}

async fn tool(gw: &Gateway, key: &str, action: &str, params: Value) -> (u16, Value) {
    gw.call(
        Method::POST,
        "/tools/notion",
        Some(key),
        Some(json!({"action": action, "params": params})),
    )
    .await
}

#[tokio::test]
async fn tool_endpoint_follows_held_calls() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let key = gw.agent("supervised");
    let create = json!({"parent": {"page_id": root}, "title": "Tool page"});
    let (status, body) = tool(&gw, key, "create_page", create.clone()).await;
    assert_eq!(status, 202, "{body}");
    let id = body["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();

    for other in strangers(&gw) {
        for action in ["get_approval", "withdraw_approval"] {
            let (status, body) = tool(&gw, other, action, json!({"approval_id": id})).await;
            assert_eq!(status, 404, "{action}: {body}");
            assert_eq!(body["error"]["code"], "not_found");
        }
        let (_, list) = tool(&gw, other, "list_approvals", json!({})).await;
        assert_eq!(list["result"]["results"], json!([]), "{list}");
    }
    // A student can use nothing, following approvals included.
    let (status, body) = tool(&gw, gw.agent("student"), "list_approvals", json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden_by_policy");
    let (status, body) = tool(
        &gw,
        key,
        "get_approval",
        json!({"approval_id": id, "wait": 61}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "params.wait");
    let (status, body) = tool(&gw, key, "list_approvals", json!({"status": "later"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "params.status");

    let (status, got) = tool(&gw, key, "get_approval", json!({"approval_id": id})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["result"]["status"], "pending");
    assert_eq!(got["result"]["done"], false);
    assert!(
        got["result"]["message"]
            .as_str()
            .unwrap()
            .contains("get_approval")
    );

    let wait = {
        let req = gw
            .http
            .post(format!("{}/api/v1/tools/notion", gw.base))
            .bearer_auth(key)
            .json(&json!({"action": "get_approval", "params": {"approval_id": id, "wait": 30}}));
        tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/approve"),
            Some(&gw.alice_key),
            Some(json!({"note": "ok"})),
        )
        .await;
    assert_eq!(status, 200);
    let got = answered(wait).await;
    assert_eq!(got["ok"], true, "{got}");
    let held = &got["result"];
    assert_eq!(held["status"], "executed", "{got}");
    assert_eq!(held["done"], true);
    assert_eq!(held["note"], "ok");
    assert_eq!(held["result"]["title"], "Tool page");
    let page_id = held["result"]["id"].as_str().unwrap();
    assert!(held["result"]["url"].is_string());
    assert!(gw.emu.get_object(page_id).is_some());

    // Another one, withdrawn by the agent; both listed, newest first.
    let (_, body) = tool(&gw, key, "create_page", create).await;
    let second = body["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = tool(
        &gw,
        key,
        "withdraw_approval",
        json!({"approval_id": second}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["status"], "withdrawn");
    let (_, list) = tool(&gw, key, "list_approvals", json!({})).await;
    let ids: Vec<_> = list["result"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["approval_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), id.as_str()]);
    let (_, list) = tool(&gw, key, "list_approvals", json!({"status": "executed"})).await;
    assert_eq!(list["result"]["results"].as_array().unwrap().len(), 1);
}

fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

async fn mcp_call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.unwrap()
}

#[tokio::test]
async fn mcp_follows_held_calls_to_the_result_and_the_denial() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let client = http_client(&gw, gw.agent("supervised")).await.unwrap();
    let create = json!({"parent": {"page_id": root}, "title": "MCP page"});

    let r = mcp_call(&client, "create_page", create.clone()).await;
    assert_eq!(r.is_error, Some(true));
    let held = structured(&r);
    assert_eq!(held["error"], "approval_required");
    assert!(
        held["message"].as_str().unwrap().contains("get_approval"),
        "{held}"
    );
    let id = held["approval_id"].as_str().unwrap().to_owned();

    // Denied while the agent waits: the answer carries the note.
    let waiting = {
        let client = http_client(&gw, gw.agent("supervised")).await.unwrap();
        let id = id.clone();
        tokio::spawn(async move {
            mcp_call(
                &client,
                "get_approval",
                json!({"approval_id": id, "wait": 30}),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/deny"),
            Some(&gw.alice_key),
            Some(json!({"note": "use the team space"})),
        )
        .await;
    assert_eq!(status, 200);
    let r = answered(waiting).await;
    assert_eq!(r.is_error, Some(false));
    let got = structured(&r);
    assert_eq!(got["status"], "denied", "{got}");
    assert_eq!(got["note"], "use the team space");

    // Approved: the result has the new page's id.
    let r = mcp_call(&client, "create_page", create).await;
    let id = structured(&r)["approval_id"].as_str().unwrap().to_owned();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    gw.gate
        .approve(&alice, id.parse().unwrap(), None)
        .await
        .unwrap();
    let got = structured(&mcp_call(&client, "get_approval", json!({"approval_id": id})).await);
    assert_eq!(got["status"], "executed", "{got}");
    let page_id = got["result"]["id"].as_str().unwrap();
    assert!(gw.emu.get_object(page_id).is_some());
    let list = structured(&mcp_call(&client, "list_approvals", json!({})).await);
    assert_eq!(list["results"].as_array().unwrap().len(), 2, "{list}");

    // Nobody else's agent sees it.
    let intern = http_client(&gw, gw.agent("intern")).await.unwrap();
    for tool in ["get_approval", "withdraw_approval"] {
        let r = mcp_call(&intern, tool, json!({"approval_id": id})).await;
        assert_eq!(r.is_error, Some(true));
        assert_eq!(structured(&r)["error"], "not_found", "{tool}");
    }

    // Over stdio (the path `notion-gate mcp` takes): the same view.
    let state = AppState::new(
        gw.gate.clone(),
        ServerSettings::new(gw.base.clone(), gw.emu.base_url()),
    );
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (r, w) = tokio::io::split(server_io);
    let key = SecretString::from(gw.agent("supervised").to_owned());
    let server = tokio::spawn(serve_io(state, key, r, w));
    let stdio = ().serve(client_io).await.unwrap();
    let got = structured(&mcp_call(&stdio, "get_approval", json!({"approval_id": id})).await);
    assert_eq!(got["status"], "executed", "{got}");
    assert_eq!(got["result"]["id"], page_id);
    stdio.cancel().await.unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn proxy_refusal_carries_the_approval_id_and_status_url() {
    let gw = spawn_gateway().await;
    let root = PageId::parse(&gw.emu.demo_ids().root_page).unwrap();
    let sdk = Notion::new(
        ClientConfig::default()
            .base_url(gw.base.clone())
            .retry(notion_client::RetryPolicy::none()),
    )
    .unwrap()
    .connection(gw.agent("supervised").to_owned().into());
    let err = sdk
        .pages()
        .create(&CreatePage::new(ParentRef::Page(root)).title("title", "via proxy"))
        .await
        .unwrap_err();
    let data = err.api().unwrap().additional_data.clone().unwrap();
    assert_eq!(data["gateway_code"], "approval_required");
    let id = data["approval_id"].as_str().unwrap();
    let url = data["status_url"].as_str().unwrap();
    assert_eq!(url, format!("{}/api/v1/approvals/{id}", gw.base));
    assert!(data["expires_at"].is_string());

    let get = |key: &str| {
        gw.http
            .get(format!("{url}?wait=0"))
            .bearer_auth(key.to_owned())
            .send()
    };
    let resp = get(gw.agent("supervised")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    for key in strangers(&gw) {
        assert_eq!(get(key).await.unwrap().status(), 404);
    }
}
