//! `Browser`: a browser-like client of the web console that keeps its session cookie; and
//! `held_create`, a supervised agent's held page creation.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::json;

use super::Gateway;

/// The demo workspace's root page.
pub const ROOT: &str = "1a2b3c4d5e6f8000a000000000000101";

/// A browser-like client that follows nothing by itself and keeps the session cookie.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(gw: &Gateway) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: gw.base.clone(),
            cookie: None,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            r = r.header("cookie", format!("ng_session={c}"));
        }
        r
    }

    pub async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let resp = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let resp = self
            .req(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap())
    }

    /// Signs in with `key`; the `Set-Cookie` header of the answer.
    pub async fn sign_in(&mut self, key: &str) -> String {
        let (status, headers, body) = self.post("/console/login", &[("key", key)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let set = headers[SET_COOKIE].to_str().unwrap().to_owned();
        let value = set
            .split(';')
            .next()
            .and_then(|kv| kv.strip_prefix("ng_session="))
            .unwrap()
            .to_owned();
        self.cookie = Some(value);
        set
    }

    /// The CSRF token of the signed-in page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, _, body) = self.get(path).await;
        let at = body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a csrf field");
        let rest = &body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// A supervised agent's held page creation; its approval id.
pub async fn held_create(gw: &Gateway, title: &str, content: &str) -> String {
    let (status, body) = gw
        .call(
            reqwest::Method::POST,
            "/notion/pages",
            Some(gw.agent("supervised")),
            Some(json!({"parent": {"page_id": ROOT}, "title": title, "content": content})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    body["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
