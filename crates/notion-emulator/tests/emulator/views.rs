//! Views, view queries (the view's filter and sorts honoured), comment update and delete,
//! custom emojis, and async Markdown updates.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, V2022};

fn ids_of(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn demo_views_are_listed_and_their_queries_honour_filter_and_sorts() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api
        .get(&format!("/v1/views?database_id={}", ids.simple_database))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids_of(&r.body), ids.views);
    let r = api
        .get(&format!(
            "/v1/views?data_source_id={}",
            ids.simple_data_source
        ))
        .await;
    assert_eq!(ids_of(&r.body).len(), 2);
    let r = api.get("/v1/views").await;
    assert_eq!(r.status, 400);

    let to_read = &ids.views[1];
    let r = api.get(&format!("/v1/views/{to_read}")).await;
    assert_eq!(r.body["name"], "To read");
    assert_eq!(r.body["data_source_id"], json!(ids.simple_data_source));

    let r = api
        .post(
            &format!("/v1/views/{to_read}/queries"),
            json!({ "page_size": 1 }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["object"], "view_query");
    // Unread books only: Neuromancer (the only `Read = false` row).
    assert_eq!(r.body["total_count"], 1);
    let q = r.body["id"].as_str().unwrap().to_string();
    let first = r.body["results"][0]["id"].as_str().unwrap().to_string();
    let page = api.get(&format!("/v1/pages/{first}")).await;
    assert_eq!(crate::common::title_of(&page.body), "Neuromancer");

    // All books, paged through the query results.
    let all = &ids.views[0];
    let r = api
        .post(
            &format!("/v1/views/{all}/queries"),
            json!({ "page_size": 1 }),
        )
        .await;
    assert_eq!(r.body["total_count"], 3);
    assert_eq!(r.body["has_more"], true);
    let q_all = r.body["id"].as_str().unwrap().to_string();
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = api
        .get(&format!(
            "/v1/views/{all}/queries/{q_all}?page_size=5&start_cursor={cursor}"
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids_of(&r.body).len(), 2);
    assert_eq!(r.body["has_more"], false);

    // Sorted by title when the view says so.
    api.patch(
        &format!("/v1/views/{all}"),
        json!({ "sorts": [{ "property": "Title", "direction": "descending" }] }),
    )
    .await;
    let r = api
        .post(&format!("/v1/views/{all}/queries"), json!({}))
        .await;
    let titles: Vec<String> = {
        let mut t = Vec::new();
        for id in ids_of(&r.body) {
            t.push(crate::common::title_of(
                &api.get(&format!("/v1/pages/{id}")).await.body,
            ));
        }
        t
    };
    assert_eq!(titles, ["Snow Crash", "Neuromancer", "Dune"]);

    let r = api
        .call(
            Method::DELETE,
            &format!("/v1/views/{to_read}/queries/{q}"),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({ "object": "view_query", "id": q, "deleted": true, "request_id": r.body["request_id"] })
    );
    let r = api.get(&format!("/v1/views/{to_read}/queries/{q}")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn views_are_created_updated_and_deleted_with_notion_validation() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    // A data source of another database.
    let r = api
        .post(
            "/v1/views",
            json!({ "database_id": ids.simple_database, "data_source_id": ids.data_source, "name": "x", "type": "table" }),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("does not belong"), "{}", r.message());
    let r = api
        .post(
            "/v1/views",
            json!({ "database_id": ids.simple_database, "data_source_id": ids.simple_data_source, "name": "x", "type": "spreadsheet" }),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("body.type"), "{}", r.message());
    let r = api
        .post(
            "/v1/views",
            json!({ "database_id": ids.simple_database, "data_source_id": ids.simple_data_source, "name": "x", "type": "table", "filter": { "property": "Nope", "checkbox": { "equals": true } } }),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = api
        .post(
            "/v1/views",
            json!({ "database_id": ids.simple_database, "data_source_id": ids.simple_data_source, "name": "Read", "type": "board", "filter": { "property": "Read", "checkbox": { "equals": true } } }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["object"], "view");
    assert_eq!(r.body["type"], "board");
    let view = r.body["id"].as_str().unwrap().to_string();
    let r = api
        .post(&format!("/v1/views/{view}/queries"), json!({}))
        .await;
    assert_eq!(r.body["total_count"], 2);
    let r = api
        .patch(
            &format!("/v1/views/{view}"),
            json!({ "name": "Everything", "filter": null }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["name"], "Everything");
    let r = api
        .post(&format!("/v1/views/{view}/queries"), json!({}))
        .await;
    assert_eq!(r.body["total_count"], 3);
    let r = api
        .call(Method::DELETE, &format!("/v1/views/{view}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "view");
    assert_eq!(r.body["type"], "board");
    let r = api.get(&format!("/v1/views/{view}")).await;
    assert_eq!(r.status, 404);
    // Views need 2025-09-03 or later.
    let r = api
        .get_v(&format!("/v1/views/{}", ids.views[0]), V2022)
        .await;
    assert_eq!(r.code(), "invalid_request_url");
}

#[tokio::test]
async fn comments_are_updated_and_deleted() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let r = api
        .post(
            "/v1/comments",
            json!({ "parent": { "page_id": root }, "rich_text": [{ "text": { "content": "draft" } }] }),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = api
        .patch(
            &format!("/v1/comments/{id}"),
            json!({ "markdown": "final" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["rich_text"][0]["plain_text"], "final");
    let r = api.patch(&format!("/v1/comments/{id}"), json!({})).await;
    assert_eq!(r.status, 400);
    let r = api
        .call(Method::DELETE, &format!("/v1/comments/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "comment");
    let r = api.get(&format!("/v1/comments/{id}")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn custom_emojis_are_listed_by_exact_name() {
    let api = Api::demo().await;
    let r = api.get("/v1/custom_emojis").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["type"], "custom_emoji");
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    let r = api.get("/v1/custom_emojis?name=bufo").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    let r = api.get("/v1/custom_emojis?name=buf").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn async_markdown_update_answers_202_and_a_task() {
    let api = Api::demo().await;
    let page = api.ids().grandchild_page.clone();
    let r = api
        .patch(
            &format!("/v1/pages/{page}/markdown"),
            json!({ "type": "insert_content", "insert_content": { "content": "Async line." }, "allow_async": true }),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["object"], "async_task");
    assert_eq!(r.body["status"], "queued");
    assert!(r.body["poll_after_seconds"].is_number());
    let task = r.body["id"].as_str().unwrap().to_string();
    assert!(task.starts_with("task_"));
    let r = api.get(&format!("/v1/async_tasks/{task}")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(r.body["result"]["object"], "page_markdown");
    assert!(
        r.body["result"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Async line.")
    );
    // A bad request is refused at once, as without allow_async.
    let r = api
        .patch(
            &format!("/v1/pages/{page}/markdown"),
            json!({ "type": "insert_content", "allow_async": true }),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api.get("/v1/async_tasks/task_nope").await;
    assert_eq!(r.status, 404);
}
