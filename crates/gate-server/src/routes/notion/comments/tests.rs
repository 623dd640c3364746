//! Comments (and views) over REST on the running server, with a held comment edit.

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::spawn_gateway;

#[tokio::test]
async fn comments_and_views_over_rest_with_a_held_comment_edit() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let auto = gw.agent("autonomous").to_owned();
    let (s, views) = gw
        .call(
            Method::GET,
            &format!("/notion/views?database_id={}", ids.simple_database),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{views}");
    assert_eq!(views["results"].as_array().unwrap().len(), 2);
    let (s, err) = gw
        .call(Method::GET, "/notion/views?view=1", Some(&auto), None)
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "view");
    let (s, rows) = gw
        .call(
            Method::POST,
            &format!("/notion/views/{}/query", ids.views[1]),
            Some(&auto),
            Some(json!({"limit": 2})),
        )
        .await;
    assert_eq!(s, 200, "{rows}");
    assert_eq!(rows["view_id"], ids.views[1]);
    assert!(rows["results"][0]["raw_properties"].is_object(), "{rows}");

    let (s, c) = gw
        .call(
            Method::POST,
            "/notion/comments",
            Some(&auto),
            Some(json!({"page_id": ids.root_page, "text": "First draft"})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let comment = c["id"].as_str().unwrap().to_owned();
    let (s, list) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{}/comments?limit=100", ids.root_page),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert!(
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == comment.as_str())
    );

    // A supervised agent's edit is held as the exact PATCH and runs once approved.
    let before = gw.emu.counters().total;
    let (s, held) = gw
        .call(
            Method::PATCH,
            &format!("/notion/comments/{comment}"),
            Some(gw.agent("supervised")),
            Some(json!({"text": "Approved wording"})),
        )
        .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(gw.emu.counters().total, before, "nothing sent");
    let approval: gate_store::ApprovalId = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let done = gw.gate.approve(&alice, approval, None).await.unwrap();
    assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
    let edited: Value = serde_json::from_str(done.result_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        edited["rich_text"][0]["plain_text"], "Approved wording",
        "{edited}"
    );

    let (s, gone) = gw
        .call(
            Method::DELETE,
            &format!("/notion/comments/{comment}"),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{gone}");
    assert_eq!(gone["deleted"], true);
    let (s, again) = gw
        .call(
            Method::DELETE,
            &format!("/notion/comments/{comment}"),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 404, "{again}");

    // A file attached over REST; a bad `attach_as` names the field.
    let (s, file) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{}/files", ids.root_page),
            Some(&auto),
            Some(json!({"content": "aGVsbG8=", "filename": "hello.txt"})),
        )
        .await;
    assert_eq!(s, 200, "{file}");
    assert_eq!(file["attached_as"], "file");
    let (s, err) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{}/files", ids.root_page),
            Some(&auto),
            Some(json!({"url": "https://example.com/a.png", "attach_as": "sticker"})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "attach_as", "{err}");
}
