//! Search, users and comments.

use reqwest::Method;
use serde_json::json;

use crate::common::{Api, V2022, title_of};

#[tokio::test]
async fn search_by_title_filters_sort_and_pagination() {
    let api = Api::demo().await;
    let r = api
        .post("/v1/search", json!({ "query": "DEMO root" }))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["type"], "page_or_data_source");
    assert_eq!(r.body["page_or_data_source"], json!({}));
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(title_of(&results[0]), "Demo Root");
    // Data sources match on their own title and on the database title.
    let r = api.post("/v1/search", json!({ "query": "demo database", "filter": { "property": "object", "value": "data_source" } })).await;
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|x| x["object"] == "data_source"));
    let r = api
        .post(
            "/v1/search",
            json!({ "filter": { "property": "object", "value": "page" }, "page_size": 10 }),
        )
        .await;
    assert!(
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["object"] == "page")
    );
    assert_eq!(r.body["has_more"], true);
    // "database" is the legacy value.
    let r = api
        .post(
            "/v1/search",
            json!({ "filter": { "property": "object", "value": "database" } }),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    let r = api
        .call_v(Method::POST, "/v1/search", Some(json!({ "query": "reading", "filter": { "property": "object", "value": "database" } })), V2022)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["type"], "page_or_database");
    assert_eq!(r.body["results"][0]["object"], "database");
    assert!(r.body["results"][0].get("properties").is_some());
    // Default order: most recently edited first; ascending reverses.
    let desc = api.post("/v1/search", json!({ "page_size": 100 })).await;
    let asc = api.post("/v1/search", json!({ "sort": { "timestamp": "last_edited_time", "direction": "ascending" }, "page_size": 100 })).await;
    let d: Vec<&str> = desc.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["last_edited_time"].as_str().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(
        desc.body["results"][0]["id"],
        asc.body["results"].as_array().unwrap().last().unwrap()["id"]
    );
    // Pagination across everything.
    let mut n = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut b = json!({ "page_size": 17 });
        if let Some(c) = &cursor {
            b["start_cursor"] = json!(c);
        }
        let r = api.post("/v1/search", b).await;
        n += r.body["results"].as_array().unwrap().len();
        if r.body["has_more"] == false {
            break;
        }
        cursor = r.body["next_cursor"].as_str().map(str::to_string);
    }
    assert!(n > 40, "{n}");
    // No match.
    let r = api
        .post("/v1/search", json!({ "query": "zzz-nothing" }))
        .await;
    assert_eq!(r.body["results"], json!([]));
    assert_eq!(r.body["next_cursor"], json!(null));
}

#[tokio::test]
async fn users_me_list_retrieve() {
    let api = Api::demo().await;
    let me = api.get("/v1/users/me").await;
    assert_eq!(me.body["type"], "bot");
    assert_eq!(
        me.body["bot"]["owner"],
        json!({ "type": "workspace", "workspace": true })
    );
    assert_eq!(me.body["bot"]["workspace_name"], "Emulated Workspace");
    assert!(me.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"].is_u64());
    let list = api.get("/v1/users?page_size=2").await;
    assert_eq!(list.body["type"], "user");
    assert_eq!(list.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["has_more"], true);
    let u = api.get(&format!("/v1/users/{}", api.ids().user)).await;
    assert_eq!(u.body["person"]["email"], "ada@example.com");
    let r = api
        .get("/v1/users/2600ce2a-6520-801c-86cb-fd0b73eb91de")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn comments_create_list_retrieve() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api.post("/v1/comments", json!({ "parent": { "page_id": ids.root_page }, "rich_text": [{ "text": { "content": "new thread" } }] })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["object"], "comment");
    assert_eq!(r.body["created_by"]["id"], json!(ids.bot));
    let r = api
        .post(
            "/v1/comments",
            json!({ "discussion_id": ids.discussion, "markdown": "**reply**" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["discussion_id"], json!(ids.discussion));
    let cid = r.body["id"].as_str().unwrap().to_string();
    let list = api
        .get(&format!("/v1/comments?block_id={}", ids.root_page))
        .await;
    assert_eq!(list.body["type"], "comment");
    assert_eq!(list.body["results"].as_array().unwrap().len(), 4);
    let one = api.get(&format!("/v1/comments/{cid}")).await;
    assert_eq!(one.body["id"], json!(cid));
    let block = ids.blocks["paragraph"].clone();
    let r = api.post("/v1/comments", json!({ "parent": { "block_id": block }, "rich_text": [{ "text": { "content": "on a block" } }] })).await;
    assert_eq!(
        r.body["parent"],
        json!({ "type": "block_id", "block_id": block })
    );
    let r = api.get("/v1/comments").await;
    assert_eq!(r.status, 400);
    let r = api.post("/v1/comments", json!({ "rich_text": [] })).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn query_and_search_result_cap_sets_request_status() {
    let api = Api::start(
        notion_emulator::Emulator::builder()
            .seed(notion_emulator::Seed::Demo)
            .query_result_cap(5),
    )
    .await;
    let ds = api.ids().data_source.clone();
    let r = api
        .post(&format!("/v1/data_sources/{ds}/query"), json!({}))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["has_more"], false);
    assert_eq!(
        r.body["request_status"],
        json!({ "type": "incomplete", "incomplete_reason": "query_result_limit_reached" })
    );
    let r = api.post("/v1/search", json!({})).await;
    assert_eq!(r.body["request_status"]["type"], "incomplete");
    // Under the cap: no request_status.
    let r = api
        .post(
            &format!("/v1/data_sources/{ds}/query"),
            json!({ "filter": { "property": "ID", "unique_id": { "equals": 1 } } }),
        )
        .await;
    assert!(r.body.get("request_status").is_none());
}

#[tokio::test]
async fn in_process_router_without_a_socket() {
    use tower::ServiceExt;
    let (app, handle) = notion_emulator::build_app(notion_emulator::EmulatorConfig {
        seed: notion_emulator::Seed::Demo,
        ..Default::default()
    });
    let req = axum::http::Request::builder()
        .uri(format!("/v1/pages/{}", handle.demo_ids().root_page))
        .header("Notion-Version", "2025-09-03")
        .header("Authorization", "Bearer t")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-notion-request-id"));
    assert_eq!(handle.counters().route("GET /v1/pages/{id}"), 1);
}

#[tokio::test]
async fn data_source_routes_do_not_exist_on_2022() {
    let api = Api::demo().await;
    let r = api
        .get_v(
            &format!("/v1/data_sources/{}", api.ids().data_source),
            V2022,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "invalid_request_url");
}

#[tokio::test]
async fn standalone_binary_serves_and_logs_its_address() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    /// Stops the child this test started, even when an assertion fails.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_notion-emulator"))
        .env("RUST_LOG", "info")
        .args([
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "demo",
            "--token",
            "secret_cli",
            "--rate",
            "100",
            "--burst",
            "10",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn notion-emulator");
    let stderr = child.stderr.take().unwrap();
    let _guard = KillOnDrop(child);
    let mut lines = BufReader::new(stderr).lines();
    let mut base = None;
    let mut saw_ids = false;
    for _ in 0..20 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(i) = line.find("http://127.0.0.1:") {
            let rest = &line[i + "http://127.0.0.1:".len()..];
            let port: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            base = Some(format!("http://127.0.0.1:{port}"));
        }
        if line.contains("root_page") {
            saw_ids = true;
            break;
        }
    }
    let base = base.expect("listen address logged");
    assert!(saw_ids, "demo ids logged");
    let c = crate::common::http();
    let ok = c
        .get(format!("{base}/v1/users/me"))
        .header("Notion-Version", "2025-09-03")
        .bearer_auth("secret_cli")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let bad = c
        .get(format!("{base}/v1/users/me"))
        .header("Notion-Version", "2025-09-03")
        .bearer_auth("other")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
}
