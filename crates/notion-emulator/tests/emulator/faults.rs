//! Fault injection: scripted statuses with Retry-After, HTML 502, dropped connections,
//! probabilistic faults with a seeded RNG, and faults after the effect.

use notion_emulator::{Fault, FaultConfig, FaultRule, ScriptedFault};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, V2025, para};

#[tokio::test]
async fn scripted_529_500_and_429_then_success() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let path = format!("/v1/pages/{root}");
    api.emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(529)
            .retry_after(3)
            .times(1),
    );
    api.emu
        .push_fault(ScriptedFault::new(Method::GET, &path).status(500).times(1));
    api.emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(2),
    );
    let r = api.get(&path).await;
    assert_eq!(r.status, 529);
    assert_eq!(r.code(), "service_overload");
    assert_eq!(r.headers["retry-after"], "3");
    let r = api.get(&path).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.code(), "internal_server_error");
    assert!(r.body["request_id"].is_string());
    let r = api.get(&path).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "2");
    assert!(r.body["additional_data"]["rate_limit_reason"].is_string());
    assert_eq!(api.get(&path).await.status, 200);
    // Other routes are not affected by a route-specific fault.
    api.emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/search")
            .status(503)
            .times(2),
    );
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert_eq!(api.post("/v1/search", json!({})).await.status, 503);
    assert_eq!(api.post("/v1/search", json!({})).await.status, 503);
    assert_eq!(api.post("/v1/search", json!({})).await.status, 200);
    let c = api.emu.counters();
    assert_eq!(c.status(529), 1);
    assert_eq!(c.status(503), 2);
    assert_eq!(c.rate_limited, 1);
}

#[tokio::test]
async fn bad_gateway_with_html_body() {
    let api = Api::demo().await;
    api.emu
        .push_fault(ScriptedFault::any_method("*").html_bad_gateway());
    let r = api.get("/v1/users/me").await;
    assert_eq!(r.status, 502);
    let body = r.body.as_str().expect("non-JSON body");
    assert!(body.contains("<html>"));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let api = Api::demo().await;
    api.emu
        .push_fault(ScriptedFault::new(Method::GET, "/v1/users/me").drop_connection());
    let err = api
        .client
        .get(api.url("/v1/users/me"))
        .header("Notion-Version", V2025)
        .bearer_auth("x")
        .send()
        .await
        .expect_err("connection must be dropped");
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(api.emu.counters().dropped, 1);
    assert_eq!(api.emu.request_log()[0].status, None);
    assert_eq!(api.get("/v1/users/me").await.status, 200);
}

#[tokio::test]
async fn fault_after_effect_applies_the_write() {
    let api = Api::demo().await;
    let page = api
        .emu
        .create_page(&api.ids().root_page, "after effect")
        .unwrap();
    let path = format!("/v1/blocks/{page}/children");
    api.emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .status(500)
            .after_effect(),
    );
    let r = api
        .patch(&path, json!({ "children": [para("written")] }))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        api.emu.child_ids(&page).len(),
        1,
        "the append reached the store"
    );
    // Dropped connection after a page create: the page exists.
    api.emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/pages")
            .drop_connection()
            .after_effect(),
    );
    let before = api.emu.child_ids(&api.ids().root_page).len();
    let res = api
        .client
        .post(api.url("/v1/pages"))
        .header("Notion-Version", V2025)
        .bearer_auth("x")
        .json(&json!({ "parent": { "page_id": api.ids().root_page }, "properties": { "title": { "title": [{ "text": { "content": "ghost" } }] } } }))
        .send()
        .await;
    assert!(res.is_err());
    assert_eq!(api.emu.child_ids(&api.ids().root_page).len(), before + 1);
    assert_eq!(
        api.emu.counters().route("PATCH /v1/blocks/{id}/children"),
        1
    );
}

#[tokio::test]
async fn probabilistic_faults_are_deterministic_with_a_seed() {
    async fn run(api: &Api) -> Vec<u16> {
        api.emu.set_faults(FaultConfig {
            rules: vec![FaultRule::all_routes(0.5, Fault::status(503))],
            rng_seed: Some(42),
            ..Default::default()
        });
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(api.get("/v1/users/me").await.status);
        }
        out
    }
    let api = Api::demo().await;
    let a = run(&api).await;
    let b = run(&api).await;
    assert_eq!(a, b);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
    // Route-specific rule with probability 1, and clearing.
    api.emu.set_faults(FaultConfig {
        rules: vec![FaultRule::route(
            Method::GET,
            "/v1/users/{id}",
            1.0,
            Fault::status(502),
        )],
        ..Default::default()
    });
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    let r = api.get(&format!("/v1/users/{}", api.ids().user)).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.code(), "bad_gateway");
    api.emu.set_faults(FaultConfig::default());
    assert_eq!(
        api.get(&format!("/v1/users/{}", api.ids().user))
            .await
            .status,
        200
    );
}

#[tokio::test(start_paused = true)]
async fn delays_and_the_applied_and_fault_counters() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let page = api.emu.create_page(&root, "counted").unwrap();
    let path = format!("/v1/blocks/{page}/children");
    // A delay before the effect answers normally, later (paused clock: exact).
    api.emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/users/me").delay(std::time::Duration::from_secs(30)),
    );
    let t0 = tokio::time::Instant::now();
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert!(t0.elapsed() >= std::time::Duration::from_secs(30));
    // A delay after the effect: the write is applied before the (late) answer.
    api.emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .delay(std::time::Duration::from_secs(5))
            .after_effect(),
    );
    let r = api
        .patch(&path, json!({ "children": [para("late")] }))
        .await;
    assert_eq!(r.status, 200);
    // A 500 before the effect: not applied; a 503 after it: applied.
    api.emu
        .push_fault(ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children").status(500));
    assert_eq!(
        api.patch(&path, json!({ "children": [para("no")] }))
            .await
            .status,
        500
    );
    api.emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .status(503)
            .after_effect(),
    );
    assert_eq!(
        api.patch(&path, json!({ "children": [para("yes")] }))
            .await
            .status,
        503
    );
    // A refused request (404) is received but not applied.
    let missing = format!("/v1/blocks/{}/children", uuid::Uuid::new_v4());
    assert_eq!(
        api.patch(&missing, json!({ "children": [para("x")] }))
            .await
            .status,
        404
    );

    let c = api.emu.counters();
    assert_eq!(c.route("PATCH /v1/blocks/{id}/children"), 4);
    assert_eq!(c.applied("PATCH /v1/blocks/{id}/children"), 2);
    assert_eq!(c.applied("GET /v1/users/me"), 1);
    assert_eq!(api.emu.child_ids(&page).len(), 2);
    assert_eq!(c.faults.get("delay"), Some(&1));
    assert_eq!(c.faults.get("delay_after"), Some(&1));
    assert_eq!(c.faults.get("500"), Some(&1));
    assert_eq!(c.faults.get("503_after"), Some(&1));
    assert_eq!(c.faults_injected(), 4);
    let log = api.emu.request_log();
    assert_eq!(log.iter().filter(|r| r.applied).count(), 3);
    assert_eq!(log.last().unwrap().fault, None);
}
