//! File uploads: single-part and multi-part lifecycles, Notion's part sizes and numbers, the
//! workspace limit (free vs paid), expiry, attaching uploads to blocks, properties, icons and
//! covers, listing by status, external URLs.

use std::time::Duration;

use notion_emulator::Emulator;
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, V2022};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn single_part_upload_is_attached_as_a_file_block_and_stops_expiring() {
    let api = Api::demo().await;
    let r = api.post("/v1/file_uploads", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert!(r.body["upload_url"].as_str().unwrap().ends_with("/send"));
    assert!(r.body["expiry_time"].is_string());
    let id = r.body["id"].as_str().unwrap().to_string();

    let r = api.send_part(&id, 1000, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["content_length"], 1000);
    assert_eq!(r.body["filename"], "report.pdf");
    assert_eq!(r.body["content_type"], "application/pdf");
    assert!(r.body.get("upload_url").is_none());

    // Sending again is refused: the upload is no longer pending.
    let again = api.send_part(&id, 10, None).await;
    assert_eq!(again.status, 400);
    assert!(again.message().contains("uploaded"), "{}", again.message());

    let page = api.ids().child_page.clone();
    let r = api
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({ "children": [{ "type": "pdf", "pdf": { "type": "file_upload", "file_upload": { "id": id } } }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let block = &r.body["results"][0];
    assert_eq!(block["pdf"]["type"], "file");
    assert!(block["pdf"]["file"]["url"].as_str().unwrap().contains(&id));

    let r = api.get(&format!("/v1/file_uploads/{id}")).await;
    assert_eq!(r.body["status"], "uploaded");
    assert!(r.body["expiry_time"].is_null(), "attached: {:?}", r.body);
    // Upload once, attach many times.
    let r = api
        .patch(
            &format!("/v1/pages/{page}"),
            json!({ "cover": { "type": "file_upload", "file_upload": { "id": id } } }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["cover"]["type"], "file");
}

#[tokio::test]
async fn multi_part_upload_checks_part_numbers_sizes_and_completion() {
    let api = Api::demo().await;
    let r = api
        .post(
            "/v1/file_uploads",
            json!({ "mode": "multi_part", "number_of_parts": 3, "filename": "big.bin" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["number_of_parts"], json!({ "total": 3, "sent": 0 }));
    let id = r.body["id"].as_str().unwrap().to_string();

    let r = api.send_part(&id, 100, None).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("part_number"), "{}", r.message());
    let r = api.send_part(&id, 100, Some(4)).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("between 1 and 3"), "{}", r.message());
    // A part that is not the last must have at least 5 MiB.
    let r = api.send_part(&id, 4 * MIB, Some(1)).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("at least"), "{}", r.message());

    let r = api.send_part(&id, 5 * MIB, Some(1)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["number_of_parts"]["sent"], 1);
    assert!(r.body["complete_url"].is_string());
    let r = api.send_part(&id, 1000, Some(3)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let r = api
        .call(
            Method::POST,
            &format!("/v1/file_uploads/{id}/complete"),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("received 2"), "{}", r.message());

    let r = api.send_part(&id, 6 * MIB, Some(2)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api
        .call(
            Method::POST,
            &format!("/v1/file_uploads/{id}/complete"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["content_length"], 11 * MIB + 1000);
    assert_eq!(r.body["number_of_parts"], json!({ "total": 3, "sent": 3 }));

    // Completing a single-part upload is refused.
    let single = api.uploaded(10).await;
    let r = api
        .call(
            Method::POST,
            &format!("/v1/file_uploads/{single}/complete"),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("multi_part"), "{}", r.message());
}

#[tokio::test]
async fn create_validates_mode_and_parts() {
    let api = Api::demo().await;
    for (body, needle) in [
        (json!({ "mode": "chunked" }), "body.mode"),
        (
            json!({ "mode": "multi_part", "filename": "a.bin" }),
            "number_of_parts",
        ),
        (
            json!({ "mode": "multi_part", "number_of_parts": 2 }),
            "filename",
        ),
        (
            json!({ "mode": "multi_part", "number_of_parts": 1001, "filename": "a.bin" }),
            "≤ `1000`",
        ),
        (
            json!({ "mode": "single_part", "number_of_parts": 2 }),
            "number_of_parts",
        ),
        (
            json!({ "mode": "external_url", "external_url": "http://example.com/a.pdf", "filename": "a.pdf" }),
            "HTTPS",
        ),
    ] {
        let r = api.post("/v1/file_uploads", body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.code(), "validation_error", "{body}");
        assert!(r.message().contains(needle), "{body}: {}", r.message());
    }
    let r = api
        .post(
            "/v1/file_uploads",
            json!({ "mode": "external_url", "external_url": "https://example.com/a.pdf", "filename": "a.pdf" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending");
    let id = r.body["id"].as_str().unwrap();
    let r = api.get(&format!("/v1/file_uploads/{id}")).await;
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["file_import_result"]["type"], "success");
    let r = api.send_part(id, 10, None).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("external_url"), "{}", r.message());
    // Unknown uploads.
    let r = api
        .get("/v1/file_uploads/1a2b3c4d-5e6f-8000-a000-0000000fffff")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "object_not_found");
}

#[tokio::test]
async fn workspace_limit_free_versus_paid() {
    let free = Api::start(Emulator::builder().free_workspace()).await;
    let me = free.get("/v1/users/me").await;
    assert_eq!(
        me.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"],
        5_242_880
    );
    let r = free.post("/v1/file_uploads", json!({})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = free.send_part(&id, 6 * MIB, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    assert!(r.message().contains("5242880"), "{}", r.message());
    // Multi-part on a free workspace: refused once the parts pass the limit.
    let r = free
        .post(
            "/v1/file_uploads",
            json!({ "mode": "multi_part", "number_of_parts": 2, "filename": "a.bin" }),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = free.send_part(&id, 5 * MIB, Some(1)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = free.send_part(&id, 10, Some(2)).await;
    assert_eq!(r.status, 400);

    let paid = Api::start(Emulator::builder()).await;
    let me = paid.get("/v1/users/me").await;
    assert_eq!(
        me.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"],
        5_368_709_120u64
    );
    paid.uploaded(6 * MIB).await;
    // A single part is at most 20 MiB, whatever the plan.
    let r = paid.post("/v1/file_uploads", json!({})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = paid.send_part(&id, 20 * MIB + 1, None).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("multi_part"), "{}", r.message());
    // The switch at run time.
    paid.emu.set_file_upload_limit(5_242_880);
    let me = paid.get("/v1/users/me").await;
    assert_eq!(
        me.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"],
        5_242_880
    );
}

#[tokio::test(start_paused = true)]
async fn expired_uploads_are_refused_and_listed_by_status() {
    let api = Api::demo().await;
    let pending = api.post("/v1/file_uploads", json!({})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let uploaded = api.uploaded(10).await;
    let page = api.ids().child_page.clone();
    // A pending upload cannot be attached.
    let r = api
        .patch(
            &format!("/v1/pages/{page}"),
            json!({ "icon": { "type": "file_upload", "file_upload": { "id": pending } } }),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("pending"), "{}", r.message());

    let r = api.get("/v1/file_uploads?status=pending").await;
    let ids: Vec<&str> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [pending.as_str()]);
    assert_eq!(r.body["type"], "file_upload");
    let r = api.get("/v1/file_uploads?status=done").await;
    assert_eq!(r.status, 400);

    tokio::time::advance(Duration::from_secs(3601)).await;
    let r = api.get(&format!("/v1/file_uploads/{uploaded}")).await;
    assert_eq!(r.body["status"], "expired");
    let r = api.send_part(&pending, 10, None).await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("expired"), "{}", r.message());
    let r = api
        .patch(
            &format!("/v1/pages/{page}"),
            json!({ "icon": { "type": "file_upload", "file_upload": { "id": uploaded } } }),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.message().contains("expired"), "{}", r.message());
    let r = api.get("/v1/file_uploads?status=expired").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn uploads_attach_to_files_properties_and_icons() {
    let api = Api::demo().await;
    let id = api.uploaded(2000).await;
    let row = api.ids().rows[0].clone();
    let r = api
        .patch(
            &format!("/v1/pages/{row}"),
            json!({
                "icon": { "type": "file_upload", "file_upload": { "id": id } },
                "properties": { "Attachments": { "files": [{ "type": "file_upload", "file_upload": { "id": id }, "name": "spec.pdf" }] } },
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["icon"]["type"], "file");
    let files = &r.body["properties"]["Attachments"]["files"];
    assert_eq!(files[0]["type"], "file");
    assert_eq!(files[0]["name"], "spec.pdf");
    // An unknown upload id is refused where it is used.
    let r = api
        .patch(
            &format!("/v1/pages/{row}"),
            json!({ "properties": { "Attachments": { "files": [{ "type": "file_upload", "file_upload": { "id": "1a2b3c4d-5e6f-8000-a000-0000000fffff" } }] } } }),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    // The demo workspace's page with a file.
    let ids = api.ids().clone();
    let r = api
        .get(&format!("/v1/blocks/{}/children", ids.file_page))
        .await;
    assert_eq!(r.body["results"][0]["type"], "file");
    let r = api
        .get(&format!("/v1/file_uploads/{}", ids.file_upload))
        .await;
    assert_eq!(r.body["status"], "uploaded");
    // Views and uploads exist on every version but views not on 2022-06-28.
    let r = api
        .get_v(&format!("/v1/file_uploads/{}", ids.file_upload), V2022)
        .await;
    assert_eq!(r.status, 200);
}

/// Notion checks an external file's `Content-Length` with a `HEAD` request before accepting
/// an `external_url` import ("Importing external files", step 1): over the workspace's
/// per-file limit it is a 400 `validation_error`; under it, the import reports that size.
#[tokio::test]
async fn external_url_imports_are_held_to_the_workspace_limit() {
    let url = "https://files.example.com/q3.mp4";
    let body = json!({ "mode": "external_url", "external_url": url, "filename": "q3.mp4" });
    let free = Api::start(Emulator::builder().free_workspace()).await;
    free.emu
        .serve_external_file(url, 30 * MIB as u64, "video/mp4");
    let r = free.post("/v1/file_uploads", body.clone()).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.code(), "validation_error");
    assert!(r.message().contains("5242880"), "{}", r.message());

    let paid = Api::start(Emulator::builder()).await;
    paid.emu
        .serve_external_file(url, 30 * MIB as u64, "video/mp4");
    let r = paid.post("/v1/file_uploads", body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap();
    let r = paid.get(&format!("/v1/file_uploads/{id}")).await;
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["content_length"], 30 * MIB as u64);
}
