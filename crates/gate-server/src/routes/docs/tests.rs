//! The OpenAPI document (pinned by an `insta` snapshot) and the Swagger UI on the running
//! server.

use serde_json::Value;

use crate::test_support::spawn_default;

#[tokio::test]
async fn openapi_document_and_swagger_ui() {
    let app = spawn_default().await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("openapi_common", doc, {".info.version" => "[version]"});
    // Every Notion `{id}` carries the pattern the gateway checks.
    let mut patterned = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/notion/") || !path.contains("{id}") {
            continue;
        }
        for op in item.as_object().unwrap().values() {
            let id = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "id" && p["in"] == "path")
                .unwrap_or_else(|| panic!("{path}: no id parameter"));
            assert_eq!(
                id["schema"]["pattern"],
                notion_client::ids::ID_PATTERN,
                "{path}"
            );
            patterned += 1;
        }
    }
    assert_eq!(patterned, 10, "the ten Notion operations on an id");
    let page = app
        .http
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js"));
    let js = app
        .http
        .get(format!("{}/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 100_000);
    // `/docs/` is the same page, by a permanent redirect.
    let slash = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(slash.status(), 308);
    assert_eq!(slash.headers()["location"], "/docs");
}
