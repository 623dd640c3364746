//! Request basics: version header, tokens, ids, 404 wording, invalid JSON, unknown routes,
//! request ids and content type.

use notion_emulator::{Emulator, Seed};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, V2022, V2025, V2026, http, into_resp};

#[tokio::test]
async fn missing_version_is_400_missing_version() {
    let api = Api::demo().await;
    let r = into_resp(
        api.client
            .get(api.url("/v1/users/me"))
            .bearer_auth("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "missing_version");
    assert_eq!(
        r.message(),
        "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`."
    );
}

#[tokio::test]
async fn unknown_version_is_validation_error_and_known_ones_pass() {
    let api = Api::demo().await;
    let r = api.get_v("/v1/users/me", "2021-01-01").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    for v in [V2022, V2025, V2026] {
        assert_eq!(api.get_v("/v1/users/me", v).await.status, 200, "{v}");
    }
}

#[tokio::test]
async fn token_allow_list_and_missing_token() {
    let emu = Emulator::builder()
        .seed(Seed::Empty)
        .tokens(["secret_a"])
        .start()
        .await
        .unwrap();
    let c = http();
    let send = |tok: Option<&'static str>| {
        let mut rb = c
            .get(format!("{}/v1/users/me", emu.base_url()))
            .header("Notion-Version", V2025);
        if let Some(t) = tok {
            rb = rb.bearer_auth(t);
        }
        rb.send()
    };
    let ok = into_resp(send(Some("secret_a")).await.unwrap()).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["type"], "bot");
    for tok in [Some("secret_b"), None] {
        let r = into_resp(send(tok).await.unwrap()).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.code(), "unauthorized");
        assert_eq!(r.message(), "API token is invalid.");
    }
    emu.revoke_token("secret_a");
    assert_eq!(
        into_resp(send(Some("secret_a")).await.unwrap())
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn bad_uuid_names_the_path_parameter() {
    let api = Api::demo().await;
    for (path, param) in [
        ("/v1/pages/AAA", "page_id"),
        ("/v1/blocks/AAA", "block_id"),
        ("/v1/blocks/AAA/children", "block_id"),
        ("/v1/databases/AAA", "database_id"),
        ("/v1/data_sources/AAA", "data_source_id"),
        ("/v1/users/AAA", "user_id"),
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.code(), "validation_error");
        assert_eq!(
            r.message(),
            format!(
                "path failed validation: path.{param} should be a valid uuid, instead was `\"AAA\"`."
            )
        );
    }
}

#[tokio::test]
async fn not_found_wording_per_kind() {
    let api = Api::demo().await;
    let id = "2600ce2a-6520-801c-86cb-fd0b73eb91de";
    for (path, kind) in [
        (format!("/v1/pages/{id}"), "page"),
        (format!("/v1/blocks/{id}"), "block"),
        (format!("/v1/databases/{id}"), "database"),
        (format!("/v1/data_sources/{id}"), "database"),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "object_not_found");
        assert_eq!(
            r.message(),
            format!(
                "Could not find {kind} with ID: {id}. Make sure the relevant pages and databases are shared with your integration."
            )
        );
    }
    // Ids without dashes are accepted and answered in dashed form.
    let compact = id.replace('-', "");
    let r = api.get(&format!("/v1/pages/{compact}")).await;
    assert!(r.message().contains(id));
}

#[tokio::test]
async fn invalid_json_and_unknown_route() {
    let api = Api::demo().await;
    let r = into_resp(
        api.client
            .post(api.url("/v1/search"))
            .header("Notion-Version", V2025)
            .bearer_auth("x")
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "invalid_json");
    for (m, p) in [
        (Method::GET, "/v1/nothing"),
        (Method::GET, "/v1/databases"),
        (Method::DELETE, "/v1/pages/abc"),
    ] {
        let r = api.call(m, p, None).await;
        assert_eq!(r.status, 400, "{p}");
        assert_eq!(r.code(), "invalid_request_url");
        assert_eq!(r.message(), "Invalid request URL.");
    }
}

#[tokio::test]
async fn request_id_in_body_and_header_and_content_type() {
    let api = Api::demo().await;
    for r in [
        api.get("/v1/users/me").await,
        api.get("/v1/pages/AAA").await,
    ] {
        let hdr = r.headers["x-notion-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(r.body["request_id"], json!(hdr));
        assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    }
}

#[tokio::test]
async fn counters_and_request_log() {
    let api = Api::demo().await;
    let page = api.ids().big_page.clone();
    api.get(&format!("/v1/blocks/{page}/children")).await;
    api.get(&format!("/v1/blocks/{page}/children?page_size=5"))
        .await;
    api.get("/v1/pages/AAA").await;
    let c = api.emu.counters();
    assert_eq!(c.total, 3);
    assert_eq!(c.route("GET /v1/blocks/{id}/children"), 2);
    assert_eq!(c.route("GET /v1/pages/{id}"), 1);
    assert_eq!(c.status(200), 2);
    assert_eq!(c.status(400), 1);
    let log = api.emu.request_log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, Method::GET);
    assert_eq!(log[0].path, format!("/v1/blocks/{page}/children"));
    assert_eq!(log[0].token.as_deref(), Some("secret_test"));
    assert_eq!(log[2].status, Some(400));
    assert!(log[0].at <= log[2].at);
    api.emu.reset_counters();
    assert_eq!(api.emu.counters().total, 0);
}
