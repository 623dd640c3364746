//! The audit trail over REST: filters, cursor pagination that sees every event once, scoping
//! (own and own agents'; admins all; agents nothing), and the JSON-lines export.

use gate_core::{NotionRequest, Surface};
use reqwest::{Method, header};
use serde_json::{Value, json};

use crate::test_support::{Gateway, spawn_gateway};

async fn agent_id(gw: &Gateway, key: &str) -> String {
    let (status, me) = gw.call(Method::GET, "/me", Some(key), None).await;
    assert_eq!(status, 200, "{me}");
    me["agent_id"].as_str().unwrap().to_owned()
}

/// A few calls: reads by the autonomous agent, a denied create by the student.
async fn some_calls(gw: &Gateway) {
    let root = gw.emu.demo_ids().root_page.clone();
    let auto = gw.gate.authenticate(gw.agent("autonomous")).await.unwrap();
    for _ in 0..3 {
        let r = gw
            .gate
            .call(
                &auto,
                Surface::Rest,
                NotionRequest::get(format!("/v1/pages/{root}")),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let student = gw.gate.authenticate(gw.agent("student")).await.unwrap();
    let denied = gw
        .gate
        .call(
            &student,
            Surface::Rest,
            NotionRequest::post(
                "/v1/pages",
                json!({"parent": {"page_id": root}, "properties": {}}),
            ),
        )
        .await;
    assert!(denied.is_err());
    gw.gate.flush_audit().await.unwrap();
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn filters_cursor_and_scope() {
    let gw = spawn_gateway().await;
    some_calls(&gw).await;
    let auto_id = agent_id(&gw, gw.agent("autonomous")).await;

    let (status, all) = gw
        .call(Method::GET, "/audit", Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 200, "{all}");
    let all_ids = ids(&all);
    assert_eq!(all_ids.len(), 4, "{all}");
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(all["has_more"], false);
    assert!(all["next_cursor"].is_null());

    // Filters.
    let (_, reads) = gw
        .call(
            Method::GET,
            &format!("/audit?agent_id={auto_id}&class=read"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(ids(&reads).len(), 3);
    for e in reads["results"].as_array().unwrap() {
        assert_eq!(e["agent_id"], auto_id.as_str());
        assert_eq!(e["action_class"], "read");
        assert_eq!(e["outcome"], "ok");
    }
    let (_, denied) = gw
        .call(
            Method::GET,
            "/audit?outcome=denied",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(ids(&denied).len(), 1);
    assert_eq!(denied["results"][0]["decision"], "deny");
    let (_, none) = gw
        .call(
            Method::GET,
            "/audit?since=2999-01-01T00:00:00Z",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(ids(&none).len(), 0);
    let (_, before) = gw
        .call(
            Method::GET,
            "/audit?until=2999-01-01T00:00:00Z&since=2000-01-01T00:00:00Z",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(ids(&before).len(), 4);

    // Cursor: one at a time, every event exactly once.
    let mut walked = Vec::new();
    let mut path = "/audit?limit=1".to_owned();
    loop {
        let (status, page) = gw.call(Method::GET, &path, Some(&gw.alice_key), None).await;
        assert_eq!(status, 200, "{page}");
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(page["has_more"], true);
                path = format!("/audit?limit=1&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(walked, all_ids);

    // Bad input.
    for bad in [
        "/audit?limit=0",
        "/audit?limit=101",
        "/audit?since=yesterday",
        "/audit?cursor=nope",
        "/audit?outcome=maybe",
        "/audit?class=write",
    ] {
        let (status, body) = gw.call(Method::GET, bad, Some(&gw.alice_key), None).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }

    // Scope: Bob sees none of it and cannot name Alice's agent; agents see nothing; admins all.
    let (status, bob) = gw
        .call(Method::GET, "/audit", Some(&gw.bob_key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&bob).len(), 0);
    let (status, _) = gw
        .call(
            Method::GET,
            &format!("/audit?agent_id={auto_id}"),
            Some(&gw.bob_key),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = gw
        .call(Method::GET, "/audit", Some(gw.agent("autonomous")), None)
        .await;
    assert_eq!(status, 403, "{body}");
    let (_, admin) = gw
        .call(Method::GET, "/audit", Some(&gw.admin_key), None)
        .await;
    assert!(ids(&admin).len() >= 4);
}

#[tokio::test]
async fn export_is_json_lines_oldest_first() {
    let gw = spawn_gateway().await;
    some_calls(&gw).await;
    let resp = gw
        .http
        .get(format!("{}/api/v1/audit/export", gw.base))
        .bearer_auth(&gw.alice_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = resp.text().await.unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), 4);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(events.iter().all(|e| e["timestamp"].is_string()));

    // Filters apply; Bob's export is empty; agents are refused.
    let r = gw
        .http
        .get(format!("{}/api/v1/audit/export?outcome=denied", gw.base))
        .bearer_auth(&gw.alice_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 1);
    let r = gw
        .http
        .get(format!("{}/api/v1/audit/export", gw.base))
        .bearer_auth(&gw.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    let r = gw
        .http
        .get(format!("{}/api/v1/audit/export", gw.base))
        .bearer_auth(gw.agent("intern"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn export_streams_past_one_page() {
    let gw = spawn_gateway().await;
    let alice = gw.gate.store().get_user_by_name("alice").await.unwrap();
    let records: Vec<gate_store::AuditRecord> = (0..1203)
        .map(|i| {
            let call = gate_store::AuditCall::new(
                format!("req_bulk_{i}"),
                gate_store::CallerKind::User,
                gate_store::Surface::Rest,
                "pages.retrieve",
            )
            .user(alice.id);
            gate_store::AuditRecord::new(
                call,
                gate_store::AuditDecision::Allow,
                gate_store::Outcome::Ok,
            )
        })
        .collect();
    gw.gate.store().append_audit(&records).await.unwrap();
    let text = gw
        .http
        .get(format!("{}/api/v1/audit/export", gw.base))
        .bearer_auth(&gw.alice_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ids: Vec<i64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1203, "every page of the walk");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
}

/// One id from the client to the audit: the `x-request-id` a client sends (or the one the
/// gateway makes) is in the answer, in the error envelope, and in the call's audit record, on
/// the REST API, the tool endpoint and the proxy. Odd ids stay out of the audit.
#[tokio::test]
async fn the_request_id_of_an_answer_finds_its_audit_record() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let intern = gw.agent("intern").to_owned();
    let send = |id: &str, req: reqwest::RequestBuilder| {
        req.bearer_auth(&intern)
            .header("x-request-id", id)
            .header("Notion-Version", "2025-09-03")
            .send()
    };
    let create = json!({"parent": {"page_id": root}, "title": "no", "content": "no"});
    let rest = send(
        "client-id-rest-1",
        gw.http
            .post(format!("{}/api/v1/notion/pages", gw.base))
            .json(&create),
    )
    .await
    .unwrap();
    assert_eq!(rest.status(), 403);
    assert_eq!(rest.headers()["x-request-id"], "client-id-rest-1");
    let body: Value = rest.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], "client-id-rest-1", "{body}");
    let tool = send(
        "client-id-tool-1",
        gw.http
            .post(format!("{}/api/v1/tools/notion", gw.base))
            .json(&json!({"action": "get_page", "params": {"page_id": root}})),
    )
    .await
    .unwrap();
    assert_eq!(tool.status(), 200);
    let proxy = send(
        "client-id-proxy-1",
        gw.http.get(format!("{}/v1/pages/{root}", gw.base)),
    )
    .await
    .unwrap();
    assert_eq!(proxy.status(), 200);
    let odd = "x".repeat(300);
    let r = send(&odd, gw.http.get(format!("{}/v1/pages/{root}", gw.base)))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    gw.gate.flush_audit().await.unwrap();
    let records = gw
        .gate
        .store()
        .query_audit(&gate_store::AuditQuery::new().limit(100))
        .await
        .unwrap()
        .events;
    let ids: Vec<&str> = records
        .iter()
        .map(|e| e.record.call.request_id.as_str())
        .collect();
    for (id, surface) in [
        ("client-id-rest-1", "rest"),
        ("client-id-tool-1", "tool"),
        ("client-id-proxy-1", "proxy"),
    ] {
        let found: Vec<_> = records
            .iter()
            .filter(|e| e.record.call.request_id == id)
            .collect();
        assert_eq!(found.len(), 1, "{id}: one record among {ids:?}");
        assert_eq!(found[0].record.call.surface.as_str(), surface, "{id}");
    }
    assert!(!ids.contains(&odd.as_str()), "an odd id is not audited");
    assert!(
        ids.iter().any(|id| id.starts_with("req_")),
        "the odd request got its own id: {ids:?}"
    );
}
