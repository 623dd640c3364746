//! Intent before effect: every write makes a durable intent that its audit record completes
//! (reads make none); intents left by a dead process are settled from Notion (a create found
//! by its title under its parent, an append by its blocks, an update by `last_edited_time`
//! and its content),
//! or recorded `unknown` with the reason; intents of a live process are left alone; two
//! settlers never settle one intent twice.

use gate_core::{NotionRequest, Surface};
use gate_store::{AuditCall, AuditEntry, AuditIntent, CallerKind, Outcome, intent_owner};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{TestDb, World, world};

const VERSION: &str = "2026-03-11";

fn page_create(parent: &str, title: &str) -> Value {
    json!({
        "parent": {"page_id": parent},
        "properties": {"title": {"title": [{"text": {"content": title}}]}}
    })
}

async fn writes_make_an_intent_that_their_record_completes(db: TestDb) {
    let w = world(db).await;
    let root = w.emu.demo_ids().root_page.clone();
    let resp = w
        .gate
        .call(
            &w.alice.caller,
            Surface::Proxy,
            NotionRequest::post("/v1/pages", page_create(&root, "Intent test")),
        )
        .await
        .expect("create");
    assert!(resp.is_success());
    w.gate
        .call(
            &w.alice.caller,
            Surface::Proxy,
            NotionRequest::get(format!("/v1/pages/{root}")),
        )
        .await
        .expect("read");
    let events = w.audit().await;
    let write = events
        .iter()
        .find(|e| e.record.call.action_class.as_deref() == Some("create"))
        .expect("the write's record");
    assert!(write.record.intent_id.is_some(), "a write names its intent");
    assert_eq!(write.record.outcome, Outcome::Ok);
    let read = events
        .iter()
        .find(|e| e.record.call.action_class.as_deref() == Some("read"))
        .expect("the read's record");
    assert_eq!(read.record.intent_id, None, "a read makes no intent");
    assert!(
        w.gate
            .store()
            .open_intents(10)
            .await
            .expect("open")
            .is_empty(),
        "the record completed the intent"
    );
    w.finish().await;
}

/// An owner on this host whose process does not exist.
fn dead_owner() -> String {
    let me = intent_owner();
    let host = me.rsplitn(3, ':').nth(2).expect("host");
    format!("{host}:99999999:dead")
}

/// Sends a request to the emulator as Alice's integration (what the dead process sent).
async fn send(w: &World, method: reqwest::Method, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .request(method, format!("{}{path}", w.emu.base_url()))
        .bearer_auth(&w.alice.notion_token)
        .header("Notion-Version", VERSION)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.expect("json")
}

fn intent(w: &World, owner: &str, op: &str, class: &str, markers: Value) -> AuditIntent {
    let rid = format!("req_{}", uuid::Uuid::new_v4().simple());
    let mut call = AuditCall::new(rid, CallerKind::User, Surface::Proxy, op)
        .user(w.alice.id)
        .action_class(class);
    call.connection_id = w.alice.caller.connection_id;
    AuditIntent::new(call, "0".repeat(64), owner).markers(markers)
}

async fn dead_processes_intents_are_settled_from_notion(db: TestDb) {
    let w = world(db).await;
    let ids = w.emu.demo_ids().clone();
    let dead = dead_owner();
    let title_hash = |t: &str| gate_store::sha256_hex(t.as_bytes());

    // What the dead process sent and Notion carried out.
    let create_done = intent(
        &w,
        &dead,
        "pages.create",
        "create",
        json!({"method": "POST", "path": "/v1/pages",
               "parent": {"type": "page_id", "id": ids.root_page},
               "title_sha256": title_hash("Made before the crash")}),
    );
    let create_lost = intent(
        &w,
        &dead,
        "pages.create",
        "create",
        json!({"method": "POST", "path": "/v1/pages",
               "parent": {"type": "page_id", "id": ids.root_page},
               "title_sha256": title_hash("Never made")}),
    );
    let append_path = format!("/v1/blocks/{}/children", ids.child_page);
    let append_done = intent(
        &w,
        &dead,
        "blocks.children.append",
        "create",
        json!({"method": "PATCH", "path": append_path, "children": ["paragraph", "to_do"]}),
    );
    let update_done = intent(
        &w,
        &dead,
        "pages.update",
        "update",
        json!({"method": "PATCH", "path": format!("/v1/pages/{}", ids.grandchild_page)}),
    );
    // A page nobody edited since the seed (long before the intent).
    let update_lost = intent(
        &w,
        &dead,
        "pages.update",
        "update",
        json!({"method": "PATCH", "path": format!("/v1/pages/{}", ids.rows[0])}),
    );
    let unsupported = intent(
        &w,
        &dead,
        "comments.create",
        "create",
        json!({"method": "POST", "path": "/v1/comments"}),
    );
    // A live process's intent (ours), and a recent one of another host: left alone. An old
    // one of another host (past the lease) is settled.
    let live = intent(&w, intent_owner(), "pages.update", "update", json!({}));
    let other_host = intent(&w, "elsewhere:1:abc", "pages.update", "update", json!({}));
    let mut other_host_old = intent(&w, "elsewhere:1:abc", "pages.update", "update", json!({}));
    other_host_old.call.at =
        OffsetDateTime::now_utc() - gate_core::INTENT_LEASE - time::Duration::minutes(1);
    let all = [
        &create_done,
        &create_lost,
        &append_done,
        &update_done,
        &update_lost,
        &unsupported,
        &live,
        &other_host,
        &other_host_old,
    ];
    let entries: Vec<AuditEntry> = all
        .iter()
        .map(|i| AuditEntry::Intent(Box::new((*i).clone())))
        .collect();
    w.gate
        .store()
        .append_audit_entries(&entries)
        .await
        .expect("intents");

    send(
        &w,
        reqwest::Method::POST,
        "/v1/pages",
        page_create(&ids.root_page, "Made before the crash"),
    )
    .await;
    send(
        &w,
        reqwest::Method::PATCH,
        &append_path,
        json!({"children": [
            {"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "a"}}]}},
            {"type": "to_do", "to_do": {"rich_text": [{"type": "text", "text": {"content": "b"}}], "checked": false}}
        ]}),
    )
    .await;
    send(
        &w,
        reqwest::Method::PATCH,
        &format!("/v1/pages/{}", ids.grandchild_page),
        json!({"icon": {"type": "emoji", "emoji": "🚀"}}),
    )
    .await;

    let report = w.gate.settle_intents().await.expect("settle");
    assert_eq!(report.open, all.len());
    assert_eq!(report.left, 2, "{report:?}");
    assert_eq!(report.applied, 3, "{report:?}");
    assert_eq!(report.not_applied, 1, "{report:?}");
    assert_eq!(report.unknown, 3, "{report:?}");

    let events = w.audit().await;
    let settled = |i: &AuditIntent| {
        let found: Vec<_> = events
            .iter()
            .filter(|e| e.record.intent_id == Some(i.id))
            .collect();
        assert_eq!(found.len(), 1, "one record per settled intent");
        let r = &found[0].record;
        assert_eq!(r.call.request_id, i.call.request_id);
        assert_eq!(r.args_summary.as_ref().unwrap()["recovered"], true);
        (r.outcome, r.reason.clone().unwrap_or_default())
    };
    assert_eq!(
        settled(&create_done),
        (Outcome::Ok, "recovered_found".into())
    );
    assert_eq!(
        settled(&create_lost),
        (Outcome::Unknown, "recovered_not_found".into())
    );
    assert_eq!(
        settled(&append_done),
        (Outcome::Ok, "recovered_found".into())
    );
    assert_eq!(
        settled(&update_done),
        (Outcome::Ok, "recovered_edited_since".into())
    );
    assert_eq!(
        settled(&update_lost),
        (Outcome::Error, "recovered_not_applied".into())
    );
    assert_eq!(
        settled(&unsupported),
        (Outcome::Unknown, "recovery_unsupported".into())
    );
    assert_eq!(
        settled(&other_host_old),
        (Outcome::Unknown, "recovery_unsupported".into())
    );
    for i in [&live, &other_host] {
        assert!(events.iter().all(|e| e.record.intent_id != Some(i.id)));
    }
    // Unknown outcomes are plain in queries.
    let unknown = w
        .gate
        .store()
        .count_audit(&gate_store::AuditQuery::new().outcome(Outcome::Unknown))
        .await
        .expect("count");
    assert_eq!(unknown, 3);

    // A second run (or another instance) settles nothing twice.
    let again = w.gate.settle_intents().await.expect("settle again");
    assert_eq!(again.open, 2);
    assert_eq!(again.left, 2);
    let other = w
        .gate
        .store()
        .claim_intent(live.id, "someone-else", std::time::Duration::from_secs(60))
        .await
        .expect("claim");
    assert!(other);
    assert!(
        !w.gate
            .store()
            .claim_intent(live.id, "a-third", std::time::Duration::from_secs(60))
            .await
            .expect("claim"),
        "a claim holds"
    );
    w.finish().await;
}

/// The bot edited the page since the intent, but not with this write's content (the same
/// integration's next write, another agent on the connection): never `ok` on that alone. A
/// title update is decided by the title; an update without a content marker is unknown when
/// another recorded write of the gateway names the page.
async fn an_edit_by_the_same_bot_is_not_taken_for_the_lost_write(db: TestDb) {
    let w = world(db).await;
    let ids = w.emu.demo_ids().clone();
    let dead = dead_owner();
    let title_hash = |t: &str| gate_store::sha256_hex(t.as_bytes());
    let page = ids.grandchild_page.clone();
    let path = format!("/v1/pages/{page}");
    let mut lost = intent(
        &w,
        &dead,
        "pages.update",
        "update",
        json!({"method": "PATCH", "path": path, "title_sha256": title_hash("Lost title")}),
    );
    let mut applied = intent(
        &w,
        &dead,
        "pages.update",
        "update",
        json!({"method": "PATCH", "path": path, "title_sha256": title_hash("Kept title")}),
    );
    let mut icon = intent(
        &w,
        &dead,
        "pages.update",
        "update",
        json!({"method": "PATCH", "path": path}),
    );
    for i in [&mut lost, &mut applied, &mut icon] {
        i.call.target_ids = vec![page.clone()];
    }
    let entries: Vec<AuditEntry> = [&lost, &applied, &icon]
        .iter()
        .map(|i| AuditEntry::Intent(Box::new((*i).clone())))
        .collect();
    w.gate
        .store()
        .append_audit_entries(&entries)
        .await
        .expect("intents");
    // Only `applied` reached Notion, as the bot.
    send(
        &w,
        reqwest::Method::PATCH,
        &path,
        json!({"properties": {"title": {"title": [{"text": {"content": "Kept title"}}]}}}),
    )
    .await;
    let report = w.gate.settle_intents().await.expect("settle");
    assert_eq!(report.applied, 1, "{report:?}");
    assert_eq!(report.unknown, 2, "{report:?}");
    let events = w.audit().await;
    let settled = |i: &AuditIntent| {
        let r = &events
            .iter()
            .find(|e| e.record.intent_id == Some(i.id))
            .expect("settled")
            .record;
        (r.outcome, r.reason.clone().unwrap_or_default())
    };
    assert_eq!(
        settled(&applied),
        (Outcome::Ok, "recovered_content_matches".into())
    );
    assert_eq!(
        settled(&lost),
        (Outcome::Unknown, "recovered_content_differs".into())
    );
    // The other intents on the page (and `applied`'s record) could explain the edit.
    assert_eq!(
        settled(&icon),
        (Outcome::Unknown, "recovered_edited_by_other_write".into())
    );
    w.finish().await;
}

crate::both!(
    writes_make_an_intent_that_their_record_completes,
    dead_processes_intents_are_settled_from_notion,
    an_edit_by_the_same_bot_is_not_taken_for_the_lost_write
);
