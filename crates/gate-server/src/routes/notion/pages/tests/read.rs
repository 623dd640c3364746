//! The REST page read asks Notion for the page object and for its block children at once.
//! With Notion answering slowly, both requests arrive at the emulator before the first one
//! could have been answered; one after the other, they would be at least the latency apart.
//! (An ordering check against the injected latency, not a timing of the gateway.)

use std::time::Duration;

use reqwest::Method;

use crate::test_support::spawn_gateway;

#[tokio::test]
async fn the_page_and_its_children_are_requested_together() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.alice_key.clone();
    let path = format!("/notion/pages/{}", ids.root_page);
    // A first read loads the key and the connection's token, so the timed read below makes
    // only the two Notion requests.
    let (s, first) = gw.call(Method::GET, &path, Some(&key), None).await;
    assert_eq!(s, 200, "{first}");

    let latency = Duration::from_secs(1);
    gw.emu.reset_counters();
    gw.emu.set_latency(latency);
    let (s, page) = gw.call(Method::GET, &path, Some(&key), None).await;
    gw.emu.set_latency(Duration::ZERO);
    assert_eq!(s, 200, "{page}");
    assert_eq!(page, first, "the same answer as without latency");

    let log = gw.emu.request_log();
    assert_eq!(log.len(), 2, "{log:?}");
    let arrived = |route: &str| {
        log.iter()
            .find(|r| r.route == route)
            .map(|r| r.at)
            .unwrap_or_else(|| panic!("no {route} in {log:?}"))
    };
    let page_at = arrived("GET /v1/pages/{id}");
    let children_at = arrived("GET /v1/blocks/{id}/children");
    let apart = page_at.max(children_at) - page_at.min(children_at);
    assert!(
        apart < latency,
        "the page and its children arrived {apart:?} apart: one after the other"
    );
}
