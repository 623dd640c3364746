//! Administration over REST: users (admins), agents, keys and connections; keys shown once;
//! a revoked key refused at once; a maturity change effective on the next call; a disabled
//! agent refused with 403.

use gate_core::{NotionRequest, Surface};
use gate_server::ApiError;
use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::{Gateway, me, spawn_gateway};

/// Reads the demo root page as the agent with `key`; answers the HTTP status the gateway's
/// REST surface gives for the outcome.
async fn read_as(gw: &Gateway, key: &str) -> u16 {
    let caller = match gw.gate.authenticate(key).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).code.status().as_u16(),
    };
    let root = gw.emu.demo_ids().root_page.clone();
    match gw
        .gate
        .call(
            &caller,
            Surface::Rest,
            NotionRequest::get(format!("/v1/pages/{root}")),
        )
        .await
    {
        Ok(r) => r.status,
        Err(e) => ApiError::from(e).code.status().as_u16(),
    }
}

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

#[tokio::test]
async fn agents_keys_maturity_and_disable() {
    let gw = spawn_gateway().await;
    let (_, alice) = me(&gw, &gw.alice_key).await;
    let alice_conn = alice["connection"]["id"].as_str().unwrap().to_owned();

    // Maturity is parsed case-insensitively; the key is shown once.
    let (status, created) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.alice_key),
            Some(json!({"name": "helper", "maturity": "STUDENT"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let agent = &created["agent"];
    assert_eq!(agent["maturity"], "student");
    assert_eq!(
        agent["connection_id"],
        alice_conn.as_str(),
        "the default connection"
    );
    let id = agent["id"].as_str().unwrap().to_owned();
    let key = created["key"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("nga_"));

    let (status, who) = me(&gw, &key).await;
    assert_eq!(status, 200);
    assert_eq!(who["kind"], "agent");
    assert_eq!(who["maturity"], "student");
    assert_eq!(who["connection"]["id"], alice_conn.as_str());

    let (status, got) = gw
        .call(
            Method::GET,
            &format!("/agents/{id}"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "helper");
    let (_, list) = gw
        .call(Method::GET, "/agents", Some(&gw.alice_key), None)
        .await;
    assert_eq!(list["results"].as_array().unwrap().len(), 5);
    assert!(!list.to_string().contains(&key), "keys are shown once");

    // Bad maturity, taken name.
    let (status, body) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.alice_key),
            Some(json!({"name": "x", "maturity": "expert"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "maturity");
    let (status, _) = gw
        .call(
            Method::POST,
            "/agents",
            Some(&gw.alice_key),
            Some(json!({"name": "helper", "maturity": "intern"})),
        )
        .await;
    assert_eq!(status, 409);

    // A maturity change takes effect on the very next call.
    assert_eq!(read_as(&gw, &key).await, 403, "a student cannot read");
    let path = format!("/agents/{id}");
    let (status, body) = gw
        .call(
            Method::PATCH,
            &path,
            Some(&gw.alice_key),
            Some(json!({"maturity": "Intern"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["maturity"], "intern");
    assert_eq!(read_as(&gw, &key).await, 200, "an intern can");

    // Disabled → 403; enabled again → allowed.
    let (status, body) = gw
        .call(
            Method::PATCH,
            &path,
            Some(&gw.alice_key),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["disabled"], true);
    assert_eq!(read_as(&gw, &key).await, 403);
    gw.call(
        Method::PATCH,
        &path,
        Some(&gw.alice_key),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(read_as(&gw, &key).await, 200);

    // Unbinding the connection, then binding it again.
    let (_, body) = gw
        .call(
            Method::PATCH,
            &path,
            Some(&gw.alice_key),
            Some(json!({"connection_id": null})),
        )
        .await;
    assert!(body["connection_id"].is_null(), "{body}");
    let (_, body) = gw
        .call(
            Method::PATCH,
            &path,
            Some(&gw.alice_key),
            Some(json!({"connection_id": alice_conn})),
        )
        .await;
    assert_eq!(body["connection_id"], alice_conn.as_str());

    // Another key, shown once; listing shows metadata only; revoking refuses it at once.
    let (status, second) = gw
        .call(
            Method::POST,
            &format!("/agents/{id}/keys"),
            Some(&gw.alice_key),
            Some(json!({"label": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second_key = second["key"].as_str().unwrap().to_owned();
    assert_ne!(second_key, key);
    assert_eq!(second["label"], "ci");
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/agents/{id}/keys"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 201, "no body is fine");
    assert_eq!(me(&gw, &second_key).await.0, 200);
    let (status, keys) = gw
        .call(Method::GET, "/keys", Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 200);
    let text = keys.to_string();
    for k in [&key, &second_key, &gw.alice_key] {
        assert!(!text.contains(k.as_str()), "a key in a listing");
    }
    let (status, revoked) = gw
        .call(
            Method::DELETE,
            &format!("/keys/{}", second["id"].as_str().unwrap()),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(me(&gw, &second_key).await.0, 401, "refused at once");
    assert_eq!(me(&gw, &key).await.0, 200, "the other key still works");

    // Agents cannot manage agents.
    for (method, p, body) in [
        (
            Method::POST,
            "/agents".to_owned(),
            Some(json!({"name": "y", "maturity": "intern"})),
        ),
        (Method::GET, "/agents".to_owned(), None),
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"maturity": "autonomous"})),
        ),
        (Method::POST, format!("{path}/keys"), None),
        (Method::GET, "/keys".to_owned(), None),
    ] {
        let (status, body) = gw.call(method, &p, Some(&key), body).await;
        assert_eq!(status, 403, "{p}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
}

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
