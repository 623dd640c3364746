//! Shared test helpers: a started emulator plus a `reqwest` client with Notion headers.

use notion_emulator::{DemoIds, Emulator, EmulatorBuilder, Seed};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const V2022: &str = "2022-06-28";
pub const V2025: &str = "2025-09-03";
pub const V2026: &str = "2026-03-11";

/// A response: status, parsed JSON body (or `Value::String` for non-JSON), headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// A client without connection pooling (no idle timers, so paused clocks stay exact) and
/// without proxies.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub struct Api {
    pub emu: Emulator,
    pub client: reqwest::Client,
    pub token: String,
    pub version: String,
}

impl Api {
    pub async fn demo() -> Api {
        Api::start(Emulator::builder().seed(Seed::Demo)).await
    }

    pub async fn start(b: EmulatorBuilder) -> Api {
        let emu = b.start().await.expect("start emulator");
        Api {
            emu,
            client: http(),
            token: "secret_test".into(),
            version: V2025.into(),
        }
    }

    pub fn ids(&self) -> &DemoIds {
        self.emu.demo_ids()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    pub async fn call_v(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        version: &str,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, self.url(path))
            .header("Notion-Version", version)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        into_resp(rb.send().await.expect("send")).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_v(method, path, body, &self.version).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    pub async fn get_v(&self, path: &str, version: &str) -> Resp {
        self.call_v(Method::GET, path, None, version).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(body)).await
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        body,
        headers,
    }
}

pub fn para(text: &str) -> Value {
    json!({ "object": "block", "type": "paragraph", "paragraph": { "rich_text": [{ "type": "text", "text": { "content": text } }] } })
}

pub fn texts(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|b| {
            let t = b["type"].as_str().unwrap_or_default();
            b[t]["rich_text"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["plain_text"].as_str())
                        .collect::<String>()
                })
                .unwrap_or_default()
        })
        .collect()
}

pub fn title_of(page: &Value) -> String {
    page["properties"]
        .as_object()
        .and_then(|p| p.values().find(|v| v["type"] == "title"))
        .map(|t| {
            t["title"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["plain_text"].as_str())
                        .collect::<String>()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

impl Api {
    /// `POST /v1/file_uploads/{id}/send` with `len` bytes under `file` (and `part_number`).
    pub async fn send_part(&self, upload: &str, len: usize, part: Option<u32>) -> Resp {
        let file = reqwest::multipart::Part::bytes(vec![b'x'; len])
            .file_name("report.pdf")
            .mime_str("application/pdf")
            .expect("mime");
        let mut form = reqwest::multipart::Form::new().part("file", file);
        if let Some(n) = part {
            form = form.text("part_number", n.to_string());
        }
        let rb = self
            .client
            .post(self.url(&format!("/v1/file_uploads/{upload}/send")))
            .header("Notion-Version", &self.version)
            .bearer_auth(&self.token)
            .multipart(form);
        into_resp(rb.send().await.expect("send")).await
    }

    /// Creates a single-part upload and sends `len` bytes; returns the upload id.
    pub async fn uploaded(&self, len: usize) -> String {
        let r = self.post("/v1/file_uploads", json!({})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let id = r.body["id"].as_str().expect("id").to_string();
        let r = self.send_part(&id, len, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        id
    }
}
