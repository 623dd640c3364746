//! Approvals over REST: listing, approving twice at once (the held call runs exactly once,
//! counted at the emulator), the result for the requester, denial, and who may decide.

use gate_core::{GateError, NotionRequest, Surface};
use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::{Gateway, spawn_gateway};

const PAGES: &str = "POST /v1/pages";

/// A page creation by the supervised agent, held for approval; answers the approval id.
async fn held(gw: &Gateway, title: &str) -> String {
    let root = gw.emu.demo_ids().root_page.clone();
    let agent = gw.gate.authenticate(gw.agent("supervised")).await.unwrap();
    let req = NotionRequest::post(
        "/v1/pages",
        json!({"parent": {"page_id": root}, "properties": {"title": {"title": [{"text": {"content": title}}]}}}),
    );
    match gw.gate.call(&agent, Surface::Rest, req).await {
        Err(GateError::ApprovalRequired { id, .. }) => id.to_string(),
        other => panic!("expected an approval, got {other:?}"),
    }
}

#[tokio::test]
async fn approving_twice_at_once_runs_the_call_exactly_once() {
    let gw = spawn_gateway().await;
    let id = held(&gw, "approved page").await;
    assert_eq!(gw.emu.counters().route(PAGES), 0, "nothing sent while held");

    // Listed for the owner and the agent, pending by default; not for Bob.
    let (status, list) = gw
        .call(Method::GET, "/approvals", Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 200, "{list}");
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], id.as_str());
    assert_eq!(results[0]["status"], "pending");
    assert_eq!(results[0]["action_class"], "create");
    assert_eq!(results[0]["request"]["method"], "POST");
    assert!(results[0]["result"].is_null());
    let (_, list) = gw
        .call(
            Method::GET,
            "/approvals",
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    let (_, list) = gw
        .call(Method::GET, "/approvals", Some(&gw.bob_key), None)
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);

    // Agents cannot approve (not even their own).
    let approve = format!("/approvals/{id}/approve");
    let (status, body) = gw
        .call(Method::POST, &approve, Some(gw.agent("supervised")), None)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");

    // Two approvals at once: one runs it, the other is told it is taken.
    let (a, b) = tokio::join!(
        gw.call(Method::POST, &approve, Some(&gw.alice_key), None),
        gw.call(Method::POST, &approve, Some(&gw.alice_key), None)
    );
    let (ok, conflict) = match (a, b) {
        ((200, ok), (409, c)) | ((409, c), (200, ok)) => (ok, c),
        other => panic!("one approve must win: {other:?}"),
    };
    assert_eq!(ok["status"], "executed", "{ok}");
    assert_eq!(ok["result"]["status"], 200);
    assert_eq!(ok["result"]["body"]["object"], "page");
    assert_eq!(conflict["error"]["code"], "conflict");
    let seen = conflict["error"]["details"]["status"].as_str().unwrap();
    // The loser sees the winner somewhere after its decision: approved (not yet claimed for
    // execution), executing or executed.
    assert!(
        ["approved", "executing", "executed"].contains(&seen),
        "{conflict}"
    );
    assert_eq!(gw.emu.counters().route(PAGES), 1, "executed exactly once");

    // Approving again: still once.
    let (status, body) = gw
        .call(Method::POST, &approve, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["details"]["status"], "executed");
    assert_eq!(gw.emu.counters().route(PAGES), 1);

    // The requester sees the result, the same as the approver got.
    let (status, got) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], "executed");
    assert_eq!(got["result"], ok["result"]);
    assert!(got["decided_by"].is_string());
    // Another agent of the same owner does not.
    let (status, _) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(gw.agent("intern")),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // No longer pending; listed with `status=all` or `status=executed`.
    let (_, list) = gw
        .call(Method::GET, "/approvals", Some(&gw.alice_key), None)
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);
    let (_, list) = gw
        .call(
            Method::GET,
            "/approvals?status=all",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    let (_, list) = gw
        .call(
            Method::GET,
            "/approvals?status=Executed",
            Some(&gw.admin_key),
            None,
        )
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    let (status, body) = gw
        .call(
            Method::GET,
            "/approvals?status=maybe",
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "status");
}

#[tokio::test]
async fn denial_is_final_and_only_the_owner_decides() {
    let gw = spawn_gateway().await;
    let id = held(&gw, "denied page").await;
    let deny = format!("/approvals/{id}/deny");
    let approve = format!("/approvals/{id}/approve");

    // Bob cannot see or decide it; agents cannot deny.
    for path in [&deny, &approve] {
        let (status, _) = gw.call(Method::POST, path, Some(&gw.bob_key), None).await;
        assert_eq!(status, 404);
    }
    let (status, _) = gw
        .call(Method::POST, &deny, Some(gw.agent("supervised")), None)
        .await;
    assert_eq!(status, 403);

    let (status, denied) = gw
        .call(Method::POST, &deny, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 200, "{denied}");
    assert_eq!(denied["status"], "denied");
    let (status, body) = gw
        .call(Method::POST, &approve, Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["details"]["status"], "denied");
    assert_eq!(
        gw.emu.counters().route(PAGES),
        0,
        "a denied call never runs"
    );

    // The requester sees the denial.
    let (status, got) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["status"], "denied");
    assert_eq!(got["result"], Value::Null);

    // An admin may approve someone else's.
    let other = held(&gw, "admin-approved page").await;
    let (status, body) = gw
        .call(
            Method::POST,
            &format!("/approvals/{other}/approve"),
            Some(&gw.admin_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "executed");
    assert_eq!(gw.emu.counters().route(PAGES), 1);
}

/// A write held by REST, answered with its approval; the approval as its owner sees it.
async fn held_by_rest(gw: &Gateway, method: Method, path: &str, body: Value) -> (String, Value) {
    let (status, held) = gw
        .call(method, path, Some(gw.agent("supervised")), Some(body))
        .await;
    assert_eq!(status, 202, "{held}");
    let id = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, approval) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{approval}");
    (id, approval)
}

/// What a human approves is exactly what the notion-client builder of the write serialises:
/// a comment (text past Notion's 2,000 characters per run, split the same way as when it is
/// sent at once), a page update with an icon, and a file attached by URL as the cover. Each
/// then runs as held.
#[tokio::test]
async fn held_writes_are_the_builders_serialisation() {
    use notion_client::ParentRef;
    use notion_client::endpoints::{CreateComment, UpdatePage};
    use notion_client::ids::PageId;
    use notion_client::models::{FileObject, Icon};

    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let page = PageId::parse(&root).unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let approve = |id: String| {
        let alice = alice.clone();
        let gate = gw.gate.clone();
        async move {
            let done = gate
                .approve(&alice, id.parse().unwrap(), None)
                .await
                .unwrap();
            assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
            serde_json::from_str::<Value>(done.result_json.as_deref().unwrap()).unwrap()
        }
    };

    let text = "a".repeat(2500);
    let (id, approval) = held_by_rest(
        &gw,
        Method::POST,
        "/notion/comments",
        json!({"page_id": root, "text": text}),
    )
    .await;
    let want = CreateComment::on(ParentRef::Page(page.clone()), &text).unwrap();
    assert_eq!(approval["request"]["path"], "/v1/comments");
    assert_eq!(approval["request"]["body"], want.body());
    assert_eq!(want.body()["rich_text"].as_array().map(Vec::len), Some(2));
    let comment = approve(id).await;
    let sent: String = comment["rich_text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["plain_text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(sent, text);

    let (id, approval) = held_by_rest(
        &gw,
        Method::PATCH,
        &format!("/notion/pages/{root}"),
        json!({"icon": {"emoji": "🚀"}, "cover": null}),
    )
    .await;
    let want = UpdatePage::new().icon(Some(Icon::emoji("🚀"))).cover(None);
    assert_eq!(approval["request"]["body"], want.body());
    assert_eq!(
        approval["request"]["body"]["icon"],
        json!({"type": "emoji", "emoji": "🚀"})
    );
    assert_eq!(approve(id).await["icon"]["emoji"], "🚀");

    let url = "https://example.com/cover.png";
    let (id, approval) = held_by_rest(
        &gw,
        Method::POST,
        &format!("/notion/pages/{root}/files"),
        json!({"url": url, "attach_as": "cover"}),
    )
    .await;
    let want = UpdatePage::new().cover(Some(FileObject::external(url)));
    assert_eq!(approval["request"]["method"], "PATCH");
    assert_eq!(approval["request"]["body"], want.body());
    assert_eq!(approve(id).await["cover"]["external"]["url"], url);

    // An icon that is not one is refused before anything is held or sent.
    let (status, body) = gw
        .call(
            Method::PATCH,
            &format!("/notion/pages/{root}"),
            Some(gw.agent("supervised")),
            Some(json!({"icon": "🚀"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "icon");
}
