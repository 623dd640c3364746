//! The error envelope of each kind of refusal, pinned by `insta` snapshots: a change to a
//! code, a message or a detail shows up as a snapshot diff to review (`docs/API-DESIGN.md`,
//! "Error envelope"). Request ids and approval ids and times are redacted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::spawn_gateway;

/// `(status, body)` with the per-request values redacted.
fn pinned(status: u16, mut body: Value) -> Value {
    if let Some(err) = body.get_mut("error").and_then(Value::as_object_mut) {
        // An approval's id also stands in the message's follow-up URL.
        if let Some(Value::String(message)) = err.get_mut("message")
            && let Some(start) = message.find("/api/v1/approvals/")
        {
            let from = start + "/api/v1/approvals/".len();
            let end = message[from..]
                .find('?')
                .map_or(message.len(), |i| from + i);
            message.replace_range(from..end, "[approval_id]");
        }
        if err.contains_key("request_id") {
            err.insert("request_id".into(), json!("[request_id]"));
        }
        if let Some(details) = err.get_mut("details").and_then(Value::as_object_mut) {
            for key in [
                "approval_id",
                "expires_at",
                "request_id",
                "notion_request_id",
            ] {
                if details.contains_key(key) {
                    details.insert(key.into(), json!(format!("[{key}]")));
                }
            }
        }
    }
    if body.get("request_id").is_some() {
        body["request_id"] = json!("[request_id]");
    }
    json!({"status": status, "body": body})
}

#[tokio::test]
async fn every_kind_of_refusal_has_a_pinned_envelope() {
    let gw = spawn_gateway().await;
    let page = gw.emu.demo_ids().root_page.clone();
    let student = gw.agents["student"].clone();
    let supervised = gw.agents["supervised"].clone();

    // 401: no key.
    let (s, b) = gw
        .call(Method::GET, &format!("/notion/pages/{page}"), None, None)
        .await;
    insta::assert_json_snapshot!("unauthenticated", pinned(s, b));

    // 400: a body field of the wrong type, named.
    let (s, b) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&gw.alice_key),
            Some(json!({"query": 3})),
        )
        .await;
    insta::assert_json_snapshot!("invalid_body_field", pinned(s, b));

    // 400: a query parameter of the wrong type, named.
    let (s, b) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{page}?max_blocks=many"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    insta::assert_json_snapshot!("invalid_query_parameter", pinned(s, b));

    // 400: an id that is not one.
    let (s, b) = gw
        .call(
            Method::GET,
            "/notion/pages/not-an-id",
            Some(&gw.alice_key),
            None,
        )
        .await;
    insta::assert_json_snapshot!("invalid_id", pinned(s, b));

    // 403: the policy (a student may not write).
    let (s, b) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{page}/blocks"),
            Some(&student),
            Some(json!({"markdown": "hello"})),
        )
        .await;
    insta::assert_json_snapshot!("forbidden_by_policy", pinned(s, b));

    // 403: a right the caller lacks (an agent listing users).
    let (s, b) = gw.call(Method::GET, "/users", Some(&student), None).await;
    insta::assert_json_snapshot!("forbidden", pinned(s, b));

    // 202: held for a human.
    let (s, b) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{page}/blocks"),
            Some(&supervised),
            Some(json!({"markdown": "held"})),
        )
        .await;
    insta::assert_json_snapshot!("approval_required", pinned(s, b));

    // 404: Notion has no such page.
    let (s, b) = gw
        .call(
            Method::GET,
            "/notion/pages/00000000000000000000000000000000",
            Some(&gw.alice_key),
            None,
        )
        .await;
    insta::assert_json_snapshot!("notion_not_found", pinned(s, b));

    // 400: an unknown tool action lists them all.
    let (s, b) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(&gw.alice_key),
            Some(json!({"action": "delete_everything"})),
        )
        .await;
    insta::assert_json_snapshot!("unknown_action", pinned(s, b));
}
