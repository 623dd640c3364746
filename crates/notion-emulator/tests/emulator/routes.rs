//! The route list (`pipeline::ROUTES`) is the one list the router is built from: every entry
//! has a handler and is served on some API version.

use notion_emulator::handlers::handler;
use notion_emulator::pipeline::ROUTES;
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, V2022, V2025};

#[tokio::test]
async fn every_listed_route_is_served() {
    let api = Api::demo().await;
    let id = "1a2b3c4d-5e6f-8000-a000-00000000ffff";
    for (method, path) in ROUTES {
        assert!(
            handler(method, path).is_some(),
            "{method} {path}: no handler"
        );
        let concrete = path
            .replace("{id}", id)
            .replace("{property_id}", "title")
            .replace("{query_id}", id);
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
        let mut served = false;
        for v in [V2025, V2022] {
            let r = api.call_v(m.clone(), &concrete, body.clone(), v).await;
            if r.code() != "invalid_request_url" {
                served = true;
                break;
            }
        }
        assert!(
            served,
            "{method} {path} answers invalid_request_url on every version"
        );
    }
    // And something not listed is not served.
    let r = api.call_v(Method::PUT, "/v1/views", None, V2025).await;
    assert_eq!(r.code(), "invalid_request_url");
}
