//! The full gateway starts, authenticates keys, and reports ready.

use reqwest::Method;

use crate::support::spawn_gateway;

#[tokio::test]
async fn the_gateway_starts_and_refuses_unknown_keys() {
    let gw = spawn_gateway().await;
    let r = gw
        .http
        .get(format!("{}/readyz", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = gw
        .call(Method::GET, "/nothing", Some("nga_wrong"), None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(gw.gate.authenticate(&gw.alice_key).await.is_ok());
    assert!(gw.gate.authenticate("ngu_not_a_key").await.is_err());
}
