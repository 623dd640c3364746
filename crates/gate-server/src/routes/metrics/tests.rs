//! `/metrics` on the running server: requests counted by route and status.

use crate::test_support::spawn_default;

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_default().await;
    app.http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains("route=\"/healthz\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
}
