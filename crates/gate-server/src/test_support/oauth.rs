//! `consent`: a Notion OAuth flow started for a key and consented at the emulator; and
//! `no_redirects`, an HTTP client that follows no redirect.

use reqwest::{Method, StatusCode, header};

use super::Gateway;

/// An HTTP client that follows no redirect.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts a flow for `key`, follows the URL to the emulator's consent endpoint and answers
/// where Notion sends the browser back (the callback URL with `code`/`error` and `state`).
pub async fn consent(gw: &Gateway, key: &str) -> String {
    let (status, body) = gw
        .call(Method::GET, "/notion/oauth/authorize", Some(key), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let url = body["authorization_url"].as_str().unwrap();
    let resp = no_redirects().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}
