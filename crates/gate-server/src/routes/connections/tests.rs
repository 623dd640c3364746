//! Token connections over REST: adding one, who sees which, and removing it.

use reqwest::Method;
use serde_json::json;

use crate::test_support::{me, spawn_gateway};

#[tokio::test]
async fn token_connections() {
    let gw = spawn_gateway().await;
    let token = format!("ntn_bob_{}", uuid::Uuid::new_v4().simple());
    let (status, added) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.bob_key),
            Some(json!({"token": token, "name": "mine"})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert!(added["workspace_name"].is_string());
    assert_eq!(added["connection"]["kind"], "token");
    assert!(!added.to_string().contains(&token));
    let (_, who) = me(&gw, &gw.bob_key).await;
    assert_eq!(who["connection"]["id"], added["connection_id"]);

    // Notion refuses a revoked token: 400 on `token`, never echoed.
    let bad = format!("ntn_bad_{}", uuid::Uuid::new_v4().simple());
    gw.emu.revoke_token(&bad);
    let (status, body) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.bob_key),
            Some(json!({"token": bad})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "token");
    assert!(!body.to_string().contains(&bad));
    let (status, _) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.bob_key),
            Some(json!({"token": " "})),
        )
        .await;
    assert_eq!(status, 400);

    // Own list; admins see everyone's with `all=true`.
    let (_, list) = gw
        .call(Method::GET, "/connections", Some(&gw.bob_key), None)
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    let (_, list) = gw
        .call(Method::GET, "/connections", Some(&gw.admin_key), None)
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 0);
    let (_, list) = gw
        .call(
            Method::GET,
            "/connections?all=true",
            Some(&gw.admin_key),
            None,
        )
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    let (_, list) = gw
        .call(
            Method::GET,
            "/connections?all=true",
            Some(&gw.bob_key),
            None,
        )
        .await;
    assert_eq!(
        list["results"].as_array().unwrap().len(),
        1,
        "all=true is for admins"
    );
}
