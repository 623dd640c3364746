//! The Notion-compatible proxy: a Notion client pointed at the gateway with an agent key sees
//! Notion's own answers, and the gateway's refusals as Notion errors; each call is audited
//! exactly once.

use gate_store::AuditQuery;
use notion_client::endpoints::{CreatePage, Search};
use notion_client::ids::PageId;
use notion_client::{ClientConfig, ErrorCode, Notion, NotionVersion, Paging, ParentRef};
use serde_json::Value;

use crate::test_support::{Gateway, spawn_gateway};

/// Our own Notion client as an SDK pointed at the proxy.
fn sdk(gw: &Gateway, key: &str) -> notion_client::Connection {
    Notion::new(
        ClientConfig::default()
            .base_url(gw.base.clone())
            .retry(notion_client::RetryPolicy::none()),
    )
    .unwrap()
    .connection(key.to_owned().into())
}

async fn proxy_audit_count(gw: &Gateway) -> usize {
    gw.gate.flush_audit().await.unwrap();
    let page = gw
        .gate
        .store()
        .query_audit(&AuditQuery::default().limit(1000))
        .await
        .unwrap();
    page.events
        .iter()
        .filter(|e| e.record.call.surface.as_str() == "proxy")
        .count()
}

#[tokio::test]
async fn reads_pass_through_unchanged() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let conn = sdk(&gw, gw.agent("intern"));
    let me = conn.users().me().await.unwrap();
    assert_eq!(me.id.canonical(), ids.bot);
    let found = conn
        .search(&Search::new().query("Projects Overview"), &Paging::first())
        .await
        .unwrap();
    assert!(!found.results.is_empty());

    // Byte-for-byte: the proxy's body equals what the emulator answers directly.
    let via = gw
        .http
        .get(format!("{}/v1/pages/{}", gw.base, ids.root_page))
        .bearer_auth(gw.agent("intern"))
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap();
    assert_eq!(via.status(), 200);
    assert!(via.headers().contains_key("x-notion-request-id"));
    let via: Value = via.json().await.unwrap();
    let direct: Value = gw
        .http
        .get(format!("{}/v1/pages/{}", gw.emu.base_url(), ids.root_page))
        .bearer_auth(&gw.notion_token)
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(strip(via.clone()), strip(direct));
    assert!(
        via.get("archived").is_some(),
        "Notion-Version passed through"
    );
    assert_eq!(proxy_audit_count(&gw).await, 3);
}

#[tokio::test]
async fn notion_errors_pass_through_with_their_status() {
    let gw = spawn_gateway().await;
    let conn = sdk(&gw, gw.agent("intern"));
    let err = conn
        .pages()
        .retrieve(&PageId::parse("0000000000000000000000000000beef").unwrap())
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 404);
    assert_eq!(api.code, ErrorCode::ObjectNotFound);
    assert!(api.request_id.is_some());
}

#[tokio::test]
async fn refusals_are_notion_errors_with_the_gateway_code() {
    let gw = spawn_gateway().await;
    let root = PageId::parse(&gw.emu.demo_ids().root_page).unwrap();
    let create = CreatePage::new(ParentRef::Page(root.clone())).title("title", "via proxy");
    let before = gw.emu.counters().route("POST /v1/pages");

    // An intern may not create.
    let err = sdk(&gw, gw.agent("intern"))
        .pages()
        .create(&create)
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.status, &api.code),
        (403, &ErrorCode::RestrictedResource)
    );
    assert!(api.message.contains("notion-gate"), "{}", api.message);
    let data = api.additional_data.clone().unwrap();
    assert_eq!(data["needed_maturity"], "supervised");
    assert_eq!(data["gateway_code"], "forbidden_by_policy");
    assert_eq!(data["reason"], "maturity_too_low");

    // A supervised agent's create waits for approval (default policy).
    let err = sdk(&gw, gw.agent("supervised"))
        .pages()
        .create(&create)
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.code, ErrorCode::RestrictedResource);
    let data = api.additional_data.clone().unwrap();
    assert_eq!(data["gateway_code"], "approval_required");
    assert!(data["approval_id"].is_string());
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before,
        "nothing reached Notion"
    );

    // An autonomous agent's create goes through.
    let page = sdk(&gw, gw.agent("autonomous"))
        .pages()
        .create(&create)
        .await
        .unwrap();
    assert_eq!(page.title(), "via proxy");
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before + 1);

    // Trash: only autonomous.
    let trash = notion_client::endpoints::UpdatePage::new().in_trash(true);
    let err = sdk(&gw, gw.agent("supervised"))
        .pages()
        .update(&page.id, &trash)
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 403);
    let trashed = sdk(&gw, gw.agent("autonomous"))
        .pages()
        .update(&page.id, &trash)
        .await
        .unwrap();
    assert!(trashed.is_in_trash());
    assert_eq!(
        proxy_audit_count(&gw).await,
        5,
        "one audit record per proxied call"
    );
}

#[tokio::test]
async fn keys_versions_and_oauth_paths() {
    let gw = spawn_gateway().await;
    // A refusal carries the gateway's request id in its body and headers.
    let r = gw
        .http
        .post(format!("{}/v1/pages", gw.base))
        .bearer_auth(gw.agent("intern"))
        .header("Notion-Version", "2026-03-11")
        .header("x-request-id", "trace-me-42")
        .json(&serde_json::json!({"parent": {"page_id": gw.emu.demo_ids().root_page}, "properties": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-notion-request-id"], "trace-me-42");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-me-42");

    // A wrong key: Notion's 401.
    let err = sdk(&gw, "nga_wrong").users().me().await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::Unauthorized));
    // The Notion token itself is not a gateway key.
    let err = sdk(&gw, &gw.notion_token).users().me().await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::Unauthorized));
    // No Notion-Version: Notion's missing_version.
    let r = gw
        .http
        .get(format!("{}/v1/users/me", gw.base))
        .bearer_auth(gw.agent("intern"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "missing_version");
    // OAuth endpoints are not proxied.
    let r = gw
        .http
        .post(format!("{}/v1/oauth/token", gw.base))
        .bearer_auth(gw.agent("autonomous"))
        .header("Notion-Version", "2026-03-11")
        .json(&serde_json::json!({"grant_type": "refresh_token", "refresh_token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(gw.emu.counters().route("POST /v1/oauth/token"), 0);
    // 2022-06-28 works too (legacy shapes pass through).
    let legacy =
        sdk(&gw, gw.agent("intern")).with_version(NotionVersion::parse("2022-06-28").unwrap());
    assert!(legacy.users().me().await.is_ok());
}

/// A reader of `len` zero bytes.
fn zeros(len: u64) -> impl tokio::io::AsyncRead + Unpin {
    tokio::io::repeat(0).take(len)
}

use tokio::io::AsyncReadExt as _;

#[tokio::test]
async fn a_30_mb_file_uploads_through_the_proxy_in_parts_and_attaches() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let conn = sdk(&gw, gw.agent("autonomous"));
    let size = 30 * 1024 * 1024;
    let file = notion_client::endpoints::UploadFile::new("report.pdf", size)
        .content_type("application/pdf");
    let up = conn
        .file_uploads()
        .upload(zeros(size), &file)
        .await
        .unwrap();
    assert_eq!(up.status, notion_client::models::FileUploadStatus::Uploaded);
    assert_eq!(up.content_length, notion_client::models::Maybe::Value(size));
    let c = gw.emu.counters();
    assert_eq!(c.route("POST /v1/file_uploads/{id}/send"), 3);
    assert_eq!(c.route("POST /v1/file_uploads/{id}/complete"), 1);

    // Attached to a page through the proxy, as a PDF block.
    let block: notion_client::models::NewBlock = serde_json::from_value(serde_json::json!({
        "type": "pdf", "pdf": { "type": "file_upload", "file_upload": { "id": up.id.as_str() } }
    }))
    .unwrap();
    let added = conn
        .blocks()
        .append(
            &notion_client::ids::BlockId::parse(&ids.child_page).unwrap(),
            &notion_client::endpoints::AppendChildren::new([block]),
        )
        .await
        .unwrap();
    assert_eq!(added.results[0].kind_name(), "pdf");

    // Each send is one governed, audited call classified `file_uploads.send` (create).
    gw.gate.flush_audit().await.unwrap();
    let page = gw
        .gate
        .store()
        .query_audit(&AuditQuery::default().limit(1000))
        .await
        .unwrap();
    let sends: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.record.call.operation == "file_uploads.send")
        .collect();
    assert_eq!(sends.len(), 3);
    assert!(
        sends
            .iter()
            .all(|e| e.record.call.action_class.as_deref() == Some("create"))
    );
}

#[tokio::test]
async fn uploads_and_views_are_governed_by_their_class() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    // An intern reads views and view queries, but cannot upload.
    let intern = sdk(&gw, gw.agent("intern"));
    let of = notion_client::endpoints::ViewsOf::Database(
        notion_client::ids::DatabaseId::parse(&ids.simple_database).unwrap(),
    );
    let views = intern.views().list(&of, &Paging::first()).await.unwrap();
    assert_eq!(views.results.len(), 2);
    let q = intern
        .views()
        .create_query(&views.results[0].id, None)
        .await
        .unwrap();
    assert_eq!(q.total_count, Some(3));
    let err = intern
        .file_uploads()
        .upload(
            zeros(10),
            &notion_client::endpoints::UploadFile::new("a.txt", 10).workspace_limit(1 << 20),
        )
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 403, "{err}");
    // A view delete is a schema change: refused below autonomous.
    let err = sdk(&gw, gw.agent("supervised"))
        .views()
        .delete(&views.results[0].id)
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 403, "{err}");

    // A supervised agent's send is held for approval with its multipart body, and runs as
    // sent once approved.
    let up: Value = gw
        .http
        .post(format!("{}/v1/file_uploads", gw.emu.base_url()))
        .bearer_auth(&gw.notion_token)
        .header("Notion-Version", "2025-09-03")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload_id = up["id"].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![7u8; 4096])
            .file_name("notes.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let held = gw
        .http
        .post(format!("{}/v1/file_uploads/{upload_id}/send", gw.base))
        .bearer_auth(gw.agent("supervised"))
        .header("Notion-Version", "2025-09-03")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), 403);
    let held: Value = held.json().await.unwrap();
    let approval = held["additional_data"]["approval_id"]
        .as_str()
        .expect("held for approval")
        .to_owned();
    assert_eq!(
        gw.emu.counters().route("POST /v1/file_uploads/{id}/send"),
        0
    );
    let (status, body) = gw
        .call(
            reqwest::Method::POST,
            &format!("/approvals/{approval}/approve"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done: Value = gw
        .http
        .get(format!("{}/v1/file_uploads/{upload_id}", gw.emu.base_url()))
        .bearer_auth(&gw.notion_token)
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "uploaded");
    assert_eq!(done["content_length"], 4096);
    assert_eq!(done["filename"], "notes.txt");
}
