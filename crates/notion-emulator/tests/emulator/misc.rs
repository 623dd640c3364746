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
