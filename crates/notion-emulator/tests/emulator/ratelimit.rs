//! Rate limits with a paused tokio clock: token bucket per token, 60-second window budget,
//! workspace-wide limit across tokens, latency.

use std::time::Duration;

use notion_emulator::{Emulator, RateLimit, Seed};
use serde_json::json;

use crate::common::{Resp, V2025, http, into_resp, para};

async fn me(emu: &Emulator, tok: &str) -> Resp {
    into_resp(
        http()
            .get(format!("{}/v1/users/me", emu.base_url()))
            .header("Notion-Version", V2025)
            .bearer_auth(tok)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn burst_then_429_with_retry_after_and_reason() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(3.0, 10))
        .start()
        .await
        .unwrap();
    for i in 0..10 {
        assert_eq!(me(&emu, "tok").await.status, 200, "request {i}");
    }
    let r = me(&emu, "tok").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(
        r.body["additional_data"]["rate_limit_reason"],
        "integration_rate_limit"
    );
    assert_eq!(retry_after(&r), 1);
    // Another token is its own connection.
    assert_eq!(me(&emu, "other").await.status, 200);
    // One second refills three requests.
    tokio::time::advance(Duration::from_secs(1)).await;
    for _ in 0..3 {
        assert_eq!(me(&emu, "tok").await.status, 200);
    }
    assert_eq!(me(&emu, "tok").await.status, 429);
    let c = emu.counters();
    assert_eq!(c.rate_limited, 2);
    assert_eq!(c.status(429), 2);
    // Rate-limited writes have no effect.
    let page = emu.demo_ids().big_page.clone();
    let before = emu.child_ids(&page).len();
    let r = into_resp(
        http()
            .patch(format!("{}/v1/blocks/{page}/children", emu.base_url()))
            .header("Notion-Version", V2025)
            .bearer_auth("tok")
            .json(&json!({ "children": [para("x")] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(emu.child_ids(&page).len(), before);
    // Removing the limit at runtime.
    emu.set_rate_limit(None);
    assert_eq!(me(&emu, "tok").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn window_budget_resets_after_sixty_seconds() {
    let emu = Emulator::builder().window_budget(5).start().await.unwrap();
    for _ in 0..5 {
        assert_eq!(me(&emu, "t").await.status, 200);
    }
    let r = me(&emu, "t").await;
    assert_eq!(r.status, 429);
    assert_eq!(retry_after(&r), 60);
    tokio::time::advance(Duration::from_secs(30)).await;
    let r = me(&emu, "t").await;
    assert_eq!(r.status, 429);
    assert_eq!(retry_after(&r), 30);
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(me(&emu, "t").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn workspace_limit_is_shared_by_tokens() {
    let emu = Emulator::builder()
        .rate_limit(RateLimit::per_second(100.0, 100))
        .workspace_rate_limit(RateLimit::per_second(0.5, 4))
        .start()
        .await
        .unwrap();
    for i in 0..4 {
        let tok = if i % 2 == 0 { "a" } else { "b" };
        assert_eq!(me(&emu, tok).await.status, 200);
    }
    let r = me(&emu, "c").await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.body["additional_data"]["rate_limit_reason"],
        "workspace_rate_limit"
    );
    assert_eq!(retry_after(&r), 2);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(me(&emu, "a").await.status, 200);
    // Runtime change of the workspace limit.
    emu.set_workspace_rate_limit(Some(RateLimit::window_budget(1)));
    assert_eq!(me(&emu, "a").await.status, 200);
    assert_eq!(me(&emu, "b").await.status, 429);
}

#[tokio::test(start_paused = true)]
async fn latency_uses_the_tokio_clock() {
    let emu = Emulator::builder()
        .latency(Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    assert_eq!(me(&emu, "t").await.status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(500));
    let log = emu.request_log();
    assert_eq!(log.len(), 1);
    emu.set_latency(Duration::ZERO);
}
