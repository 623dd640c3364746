//! The full gateway starts, authenticates keys, and reports ready.

use reqwest::Method;

use crate::test_support::spawn_gateway;

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
    // A key of the right shape that was never issued, and no key: 401 on a real route.
    for key in [Some("nga_wrong"), None] {
        let (status, body) = gw.call(Method::GET, "/me", key, None).await;
        assert_eq!(status, 401, "{key:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{key:?}: {body}");
    }
    let (status, body) = gw.call(Method::GET, "/me", Some(&gw.alice_key), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(gw.gate.authenticate(&gw.alice_key).await.is_ok());
    assert!(gw.gate.authenticate("ngu_not_a_key").await.is_err());
}

/// The same start, a governed read and an audit record on every available backend
/// (PostgreSQL when `TEST_DATABASE_URL` is set).
#[tokio::test]
async fn the_gateway_serves_on_every_backend() {
    for backend in crate::test_support::Backend::available() {
        let gw = crate::test_support::spawn_gateway_with(backend.opts("smoke_every_backend").await)
            .await;
        let key = gw.agent("intern").to_owned();
        let (status, body) = gw
            .call(
                Method::POST,
                "/notion/search",
                Some(&key),
                Some(serde_json::json!({"query": ""})),
            )
            .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        gw.gate.flush_audit().await.unwrap();
        let (status, audit) = gw
            .call(Method::GET, "/audit", Some(&gw.alice_key.clone()), None)
            .await;
        assert_eq!(status, 200, "{backend:?}: {audit}");
        assert!(
            audit.to_string().contains("search"),
            "{backend:?}: the search is audited: {audit}"
        );
    }
}
