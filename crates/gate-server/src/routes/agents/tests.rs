//! Agents and keys over REST: keys shown once, a revoked key refused at once, a maturity
//! change effective on the next call, a disabled agent refused with 403.

use crate::ApiError;
use gate_core::{NotionRequest, Surface};
use reqwest::Method;
use serde_json::json;

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
