//! The governed Notion operations under `/api/v1/notion` against the emulator's demo
//! workspace, across the resources: the maturity × endpoint table with one audit record per
//! call, bad input that never reaches Notion, Notion's errors, rate limits and revoked
//! tokens, the time limit, and a held write run once approved.

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::{Gateway, GatewayOpts, audit, spawn_gateway, spawn_gateway_with};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ep {
    Search,
    ListDbs,
    Schema,
    Query,
    GetPage,
    Create,
    Update,
    Append,
    Trash,
}

/// Expected status per caller (alice, student, intern, supervised, autonomous).
fn expected(ep: Ep) -> [u16; 5] {
    match ep {
        Ep::Search | Ep::ListDbs | Ep::Schema | Ep::Query | Ep::GetPage => {
            [200, 403, 200, 200, 200]
        }
        Ep::Create | Ep::Update | Ep::Append => [200, 403, 403, 202, 200],
        Ep::Trash => [200, 403, 403, 403, 200],
    }
}

async fn hit(gw: &Gateway, key: &str, ep: Ep, page: &str) -> (u16, Value) {
    let ids = gw.emu.demo_ids();
    match ep {
        Ep::Search => {
            gw.call(
                Method::POST,
                "/notion/search",
                Some(key),
                Some(json!({"query": "Demo"})),
            )
            .await
        }
        Ep::ListDbs => {
            gw.call(Method::GET, "/notion/databases", Some(key), None)
                .await
        }
        Ep::Schema => {
            let path = format!("/notion/databases/{}", ids.database);
            gw.call(Method::GET, &path, Some(key), None).await
        }
        Ep::Query => {
            let path = format!("/notion/databases/{}/query", ids.data_source);
            gw.call(Method::POST, &path, Some(key), Some(json!({"limit": 2})))
                .await
        }
        Ep::GetPage => {
            let path = format!("/notion/pages/{}", ids.root_page);
            gw.call(Method::GET, &path, Some(key), None).await
        }
        Ep::Create => {
            let body = json!({"parent": {"page_id": page}, "title": "Made here", "content": "# Hello\n\nSome *text*."});
            gw.call(Method::POST, "/notion/pages", Some(key), Some(body))
                .await
        }
        Ep::Update => {
            let path = format!("/notion/pages/{page}");
            let body = json!({"properties": {"title": "Renamed"}});
            gw.call(Method::PATCH, &path, Some(key), Some(body)).await
        }
        Ep::Append => {
            let path = format!("/notion/pages/{page}/blocks");
            let body = json!({"markdown": "- one\n- two"});
            gw.call(Method::POST, &path, Some(key), Some(body)).await
        }
        Ep::Trash => {
            let path = format!("/notion/pages/{page}");
            gw.call(
                Method::PATCH,
                &path,
                Some(key),
                Some(json!({"in_trash": true})),
            )
            .await
        }
    }
}

#[tokio::test]
async fn every_endpoint_by_maturity_with_one_audit_record_each() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let callers = [
        ("alice", gw.alice_key.clone()),
        ("student", gw.agent("student").to_owned()),
        ("intern", gw.agent("intern").to_owned()),
        ("supervised", gw.agent("supervised").to_owned()),
        ("autonomous", gw.agent("autonomous").to_owned()),
    ];
    let eps = [
        Ep::Search,
        Ep::ListDbs,
        Ep::Schema,
        Ep::Query,
        Ep::GetPage,
        Ep::Create,
        Ep::Update,
        Ep::Append,
        Ep::Trash,
    ];
    for (i, (who, key)) in callers.iter().enumerate() {
        for ep in eps {
            let page = gw.emu.create_page(&root, &format!("{who} {ep:?}")).unwrap();
            let before = audit(&gw).await.len();
            let (status, body) = hit(&gw, key, ep, &page).await;
            assert_eq!(status, expected(ep)[i], "{who} {ep:?}: {body}");
            let records = audit(&gw).await;
            assert_eq!(records.len(), before + 1, "{who} {ep:?}: one audit record");
            let r = &records[0];
            assert_eq!(r.call.surface.as_str(), "rest");
            let decision = r.decision.as_str();
            match status {
                200 => {
                    assert_eq!(
                        (decision, r.outcome.as_str()),
                        ("allow", "ok"),
                        "{who} {ep:?}"
                    );
                }
                202 => {
                    assert_eq!(body["error"]["code"], "approval_required");
                    assert!(body["error"]["details"]["approval_id"].is_string());
                    assert_eq!(
                        (decision, r.outcome.as_str()),
                        ("needs_approval", "pending")
                    );
                }
                _ => {
                    assert_eq!(body["error"]["code"], "forbidden_by_policy", "{body}");
                    assert_eq!((decision, r.outcome.as_str()), ("deny", "denied"));
                }
            }
            if who == &"autonomous" && ep == Ep::Trash {
                assert_eq!(body["in_trash"], true, "{body}");
                assert_eq!(r.call.action_class.as_deref(), Some("delete"));
            }
        }
    }
}

#[tokio::test]
async fn bad_input_is_4xx_naming_the_field_and_never_reaches_notion() {
    let gw = spawn_gateway().await;
    let key = gw.alice_key.clone();
    let root = gw.emu.demo_ids().root_page.clone();
    let before = gw.emu.counters().total;
    let cases: Vec<(Method, String, Value, u16, &str)> = vec![
        (
            Method::POST,
            "/notion/search".into(),
            json!({"limit": "ten"}),
            400,
            "limit",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"limit": 0}),
            400,
            "limit",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"colour": 1}),
            400,
            "",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"filter": "user"}),
            400,
            "filter",
        ),
        (
            Method::GET,
            "/notion/pages/not-an-id".into(),
            Value::Null,
            400,
            "page_id",
        ),
        (
            Method::GET,
            format!("/notion/pages/{root}?depth=0"),
            Value::Null,
            400,
            "depth",
        ),
        (
            Method::GET,
            format!("/notion/pages/{root}?format=pdf"),
            Value::Null,
            400,
            "",
        ),
        (
            Method::POST,
            "/notion/databases/xyz/query".into(),
            json!({}),
            400,
            "database_id",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {"page_id": "123"}}),
            400,
            "parent.page_id",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {}}),
            400,
            "parent",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {"page_id": root}, "blocks": [{"type": "paragraph", "paragraph": {"rich_text": 5}}]}),
            400,
            "blocks[0]",
        ),
        (
            Method::PATCH,
            format!("/notion/pages/{root}"),
            json!({"in_trash": "yes"}),
            400,
            "in_trash",
        ),
        (
            Method::POST,
            format!("/notion/pages/{root}/blocks"),
            json!({"markdown": "x", "position": {"after_block": "zz"}}),
            400,
            "position.after_block",
        ),
        (
            Method::POST,
            format!("/notion/pages/{root}/blocks"),
            json!({}),
            400,
            "markdown",
        ),
    ];
    for (method, path, body, status, field) in cases {
        let body = (!body.is_null()).then_some(body);
        let (s, err) = gw.call(method.clone(), &path, Some(&key), body).await;
        assert_eq!(s, status, "{method} {path}: {err}");
        assert!(err["error"]["message"].is_string(), "{err}");
        if !field.is_empty() {
            assert_eq!(
                err["error"]["details"]["field"], field,
                "{method} {path}: {err}"
            );
        }
    }
    // A block's message names the key inside it that is wrong.
    let (s, err) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(&key),
            Some(json!({"parent": {"page_id": root}, "blocks": [
                {"type": "paragraph", "paragraph": {"rich_text": []}},
                {"type": "to_do", "to_do": {"rich_text": [], "checked": "yes"}}
            ]})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "blocks[1]", "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("to_do.checked: invalid type"), "{message}");
    // Malformed JSON and an oversized body.
    let r = gw
        .http
        .post(format!("{}/api/v1/notion/search", gw.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = gw
        .http
        .post(format!("{}/api/v1/notion/pages/{root}/blocks", gw.base))
        .bearer_auth(&key)
        .json(&json!({"markdown": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // No key at all.
    let (s, _) = gw
        .call(Method::POST, "/notion/search", None, Some(json!({})))
        .await;
    assert_eq!(s, 401);
    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");
}

#[tokio::test]
async fn notion_errors_keep_their_meaning() {
    let gw = spawn_gateway().await;
    let key = gw.alice_key.clone();
    let missing = "0123456789abcdef0123456789abcdef";
    let (s, err) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{missing}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 404, "{err}");
    assert_eq!(err["error"]["code"], "notion_not_found");
    assert_eq!(
        err["error"]["details"]["notion_code"], "object_not_found",
        "{err}"
    );
    assert!(
        err["error"]["details"]["notion_request_id"].is_string(),
        "{err}"
    );
    let records = audit(&gw).await;
    assert_eq!(records[0].outcome.as_str(), "error");
    assert_eq!(records[0].upstream_status, Some(404));
    gw.gate.set_local_only(true);
    let (s, err) = gw
        .call(Method::POST, "/notion/search", Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 403);
    assert_eq!(err["error"]["code"], "local_only");
}

#[tokio::test]
async fn a_held_write_is_the_exact_request_and_runs_once_approved() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let before = gw.emu.counters().route("POST /v1/pages");
    // Simple values need the schema: it is read first, then the converted create is held.
    let body = json!({
        "parent": {"data_source_id": ids.data_source},
        "properties": {"Name": "Held task", "Estimate": 3},
        "content": "Waiting for a human",
    });
    let (s, held) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(gw.agent("supervised")),
            Some(body),
        )
        .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before,
        "nothing written yet"
    );
    let records = audit(&gw).await;
    assert_eq!(records[0].decision.as_str(), "needs_approval");
    let approval: gate_store::ApprovalId = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let done = gw.gate.approve(&alice, approval, None).await.unwrap();
    assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
    let created: Value = serde_json::from_str(done.result_json.as_deref().unwrap()).unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["properties"]["Estimate"]["number"], 3);
    assert_eq!(gw.emu.child_ids(id).len(), 1);
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before + 1);
}

#[tokio::test]
async fn a_request_past_the_time_limit_is_a_504_in_the_envelope_and_counted() {
    let gw = spawn_gateway_with(GatewayOpts {
        options: Some(
            crate::ServerOptions::default().request_timeout(std::time::Duration::from_millis(300)),
        ),
        ..GatewayOpts::default()
    })
    .await;
    let root = gw.emu.demo_ids().root_page.clone();
    gw.emu.push_fault(
        notion_emulator::ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .delay(std::time::Duration::from_secs(3)),
    );
    let resp = gw
        .http
        .get(format!("{}/api/v1/notion/pages/{root}", gw.base))
        .bearer_auth(gw.agent("autonomous"))
        .header("x-request-id", "slow-read-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504);
    assert_eq!(resp.headers()["x-request-id"], "slow-read-1");
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "timeout", "{err}");
    assert_eq!(err["error"]["request_id"], "slow-read-1", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().len() > 5, "{err}");

    let metrics = gw.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total") && l.contains("status=\"504\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn notion_rate_limits_and_revoked_tokens_reach_the_caller_with_their_meaning() {
    let gw = spawn_gateway_with(GatewayOpts {
        retry: Some(notion_client::RetryPolicy::none()),
        ..GatewayOpts::default()
    })
    .await;
    let root = gw.emu.demo_ids().root_page.clone();
    let url = format!("{}/api/v1/notion/pages/{root}", gw.base);
    let key = gw.agent("autonomous").to_owned();

    // Notion's 429, with no retry budget left: a 429 with Notion's `Retry-After`.
    gw.emu.push_fault(
        notion_emulator::ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(7),
    );
    let resp = gw.http.get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=7).contains(&wait), "{wait}");
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "rate_limited", "{err}");
    assert_eq!(
        err["error"]["details"]["write_state"], "not_applied",
        "{err}"
    );

    // The token revoked at Notion: 409 `reconnect_required`, and the next call is refused
    // without sending the dead token again.
    gw.emu.revoke_token(&gw.notion_token);
    let (s, err) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{root}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["code"], "reconnect_required", "{err}");
    let sent = gw.emu.counters().total;
    let (s, err) = gw
        .call(Method::POST, "/notion/search", Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["code"], "reconnect_required", "{err}");
    assert_eq!(
        gw.emu.counters().total,
        sent,
        "the revoked token is not sent again"
    );
}
