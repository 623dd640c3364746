//! Users over REST (admins only): creation with the first key shown once, the list,
//! disabling and enabling, and `/me`.

use reqwest::Method;
use serde_json::json;

use crate::test_support::{me, spawn_gateway};

#[tokio::test]
async fn users_are_managed_by_admins_only() {
    let gw = spawn_gateway().await;
    let (status, created) = gw
        .call(
            Method::POST,
            "/users",
            Some(&gw.admin_key),
            Some(json!({"name": "carol"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"]["name"], "carol");
    assert_eq!(created["user"]["admin"], false);
    let key = created["key"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ngu_"));
    assert_eq!(created["key"]["kind"], "user");
    let user_id = created["user"]["id"].as_str().unwrap().to_owned();

    let (status, who) = me(&gw, &key).await;
    assert_eq!(status, 200);
    assert_eq!(who["kind"], "user");
    assert_eq!(who["name"], "carol");
    assert!(who["connection"].is_null());

    // Listed, never with a key.
    let (status, list) = gw
        .call(Method::GET, "/users", Some(&gw.admin_key), None)
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice", "bob", "carol"]);
    assert!(!list.to_string().contains(&key));

    // A taken name; a bad body.
    let (status, _) = gw
        .call(
            Method::POST,
            "/users",
            Some(&gw.admin_key),
            Some(json!({"name": "carol"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = gw
        .call(
            Method::POST,
            "/users",
            Some(&gw.admin_key),
            Some(json!({"name": "dan", "role": "x"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Disabling stops the key at once; enabling brings it back.
    let path = format!("/users/{user_id}");
    let (status, body) = gw
        .call(
            Method::PATCH,
            &path,
            Some(&gw.admin_key),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);
    assert_eq!(me(&gw, &key).await.0, 401);
    gw.call(
        Method::PATCH,
        &path,
        Some(&gw.admin_key),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(me(&gw, &key).await.0, 200);

    // An administrator cannot disable their own account (409); the key keeps working.
    let (status, who) = me(&gw, &gw.admin_key).await;
    assert_eq!(status, 200, "{who}");
    let own = format!("/users/{}", who["user_id"].as_str().expect("own user id"));
    let (status, body) = gw
        .call(
            Method::PATCH,
            &own,
            Some(&gw.admin_key),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("own account")),
        "{body}"
    );
    assert_eq!(me(&gw, &gw.admin_key).await.0, 200);

    // Non-admins and agents: 403 on every admin path.
    for k in [gw.alice_key.as_str(), gw.agent("autonomous")] {
        let (status, body) = gw
            .call(
                Method::POST,
                "/users",
                Some(k),
                Some(json!({"name": "eve"})),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert_eq!(gw.call(Method::GET, "/users", Some(k), None).await.0, 403);
        let (status, _) = gw
            .call(
                Method::PATCH,
                &path,
                Some(k),
                Some(json!({"disabled": true})),
            )
            .await;
        assert_eq!(status, 403);
    }
    assert_eq!(me(&gw, &key).await.0, 200);
}
