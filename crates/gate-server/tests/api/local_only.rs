//! Local-only mode on the running server: every surface (the REST API as a user and as an
//! agent, the tool endpoint, the Notion-compatible proxy, MCP, the OAuth flow and token
//! connections) refuses with its own form of `local_only`, and not one request reaches
//! Notion. Switched off again, the same read goes through.

use reqwest::{Method, StatusCode, header};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::test_support::spawn_gateway;

#[tokio::test]
async fn local_only_blocks_every_surface_and_nothing_reaches_notion() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let agent = gw.agent("autonomous").to_owned();
    let alice = gw.alice_key.clone();

    // An OAuth flow started before the switch: its callback comes back after it.
    let callback = crate::test_support::consent(&gw, &alice).await;

    gw.gate.set_local_only(true);
    let before = gw.emu.counters().total;

    // REST: reads and writes, as an agent and as the user.
    let rest: [(&str, Method, String, Option<Value>); 6] = [
        (&agent, Method::GET, format!("/notion/pages/{root}"), None),
        (
            &agent,
            Method::POST,
            "/notion/search".into(),
            Some(json!({})),
        ),
        (&agent, Method::GET, "/notion/databases".into(), None),
        (
            &alice,
            Method::POST,
            "/notion/pages".into(),
            Some(json!({"parent": {"page_id": root}, "properties": {"title": "x"}})),
        ),
        (
            &agent,
            Method::POST,
            format!("/notion/pages/{root}/blocks"),
            Some(json!({"markdown": "x"})),
        ),
        (&alice, Method::GET, "/notion/oauth/authorize".into(), None),
    ];
    for (key, method, path, body) in rest {
        let (status, err) = gw.call(method.clone(), &path, Some(key), body).await;
        assert_eq!(status, 403, "{method} {path}: {err}");
        assert_eq!(err["error"]["code"], "local_only", "{method} {path}: {err}");
    }

    // A token connection is validated at Notion (`users/me`): refused before that.
    let (status, err) = gw
        .call(
            Method::POST,
            "/connections",
            Some(&gw.bob_key),
            Some(json!({"token": "ntn_local_only_never_sent_0123456789"})),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "local_only", "{err}");
    assert!(
        !err.to_string().contains("ntn_local_only_never_sent"),
        "{err}"
    );

    // The OAuth callback does not exchange its code.
    let resp = gw
        .http
        .get(&callback)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "local_only", "{err}");

    // The tool endpoint.
    let (status, err) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(&agent),
            Some(json!({"action": "get_page", "params": {"page_id": root}})),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "local_only", "{err}");

    // The Notion-compatible proxy: Notion's envelope, the gateway's code beside it.
    let resp = gw
        .http
        .get(format!("{}/v1/pages/{root}", gw.base))
        .bearer_auth(&agent)
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["object"], "error", "{err}");
    assert_eq!(err["code"], "restricted_resource", "{err}");
    assert_eq!(
        err["additional_data"]["gateway_code"], "local_only",
        "{err}"
    );

    // MCP: a tool error naming `local_only`.
    let client = crate::test_support::http_client(&gw, &agent).await.unwrap();
    let args = json!({"page_id": root}).as_object().cloned().unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new("get_page").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true), "{result:?}");
    let reason = result.structured_content.clone().unwrap();
    assert_eq!(reason["error"], "local_only", "{reason}");
    client.cancel().await.unwrap();

    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");
    assert_eq!(gw.emu.counters().route("POST /v1/oauth/token"), 0);

    // Off again: the same read goes through.
    gw.gate.set_local_only(false);
    let (status, page) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{root}"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(gw.emu.counters().total > before);
}
