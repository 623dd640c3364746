//! The console in a real browser: headless Chromium driven over WebDriver (`chromedriver`,
//! Debian's `chromium` and `chromium-driver`; `.ci/run` installs them). Each test starts its
//! own gateway on port 0 and its own chromedriver. Screenshots of every page, at 1280×800
//! and at a phone's 390×844, are written to `target/console-screenshots/`.
//!
//! Without chromedriver the tests say so and pass, except under CI (`CI=true`), where a
//! missing browser is a failure.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::test_support::held_create;
use crate::test_support::{Gateway, spawn_gateway};

/// A chromedriver of this test, killed when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

async fn start_driver() -> Option<Driver> {
    let Some(bin) = chromedriver() else {
        assert!(
            std::env::var("CI").is_err(),
            "chromedriver is missing under CI: .ci/run installs chromium and chromium-driver"
        );
        eprintln!("NOTICE: no chromedriver: the console's browser tests are SKIPPED");
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Driver { child, url });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// chromedriver listens on loopback over plain HTTP: no TLS stack needed.
fn plain_http() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}

async fn browser(driver: &Driver, profile: &tempfile::TempDir) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    ClientBuilder::new(plain_http())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

/// Where screenshots go: `target/console-screenshots/`.
fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Desktop and phone screenshots of the current page.
async fn shots(c: &Client, name: &str) {
    c.set_window_size(1280, 800).await.unwrap();
    shot(c, name).await;
    c.set_window_size(390, 844).await.unwrap();
    shot(c, &format!("{name}-phone")).await;
    c.set_window_size(1280, 800).await.unwrap();
}

async fn sign_in(c: &Client, gw: &Gateway, key: &str) {
    c.goto(&format!("{}/", gw.base)).await.unwrap();
    let field = c.wait().for_element(Locator::Id("key")).await.unwrap();
    field.send_keys(key).await.unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("nav.side"))
        .await
        .unwrap();
}

/// The page's text, or `None` while the page is being replaced (a navigation in progress
/// answers "stale element" or "no such element" for a moment).
async fn body_text(c: &Client) -> Option<String> {
    c.find(Locator::Css("body")).await.ok()?.text().await.ok()
}

/// Waits (up to 20 s) until the page's text contains `text`.
async fn wait_text(c: &Client, text: &str) {
    let mut last = None;
    for _ in 0..200 {
        if let Some(body) = body_text(c).await {
            if body.contains(text) {
                return;
            }
            last = Some(body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{text:?} never appeared; the page says:\n{}",
        last.unwrap_or_default()
    );
}

#[tokio::test]
async fn a_person_signs_in_adds_an_agent_decides_held_calls_and_signs_out() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let gw = spawn_gateway().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &profile).await;

    // The sign-in page, a wrong key, then the right one.
    c.goto(&format!("{}/", gw.base)).await.unwrap();
    c.wait().for_element(Locator::Id("key")).await.unwrap();
    shots(&c, "login").await;
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys("ngu_wrong")
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "not a valid user key").await;
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(&gw.alice_key)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "Overview").await;
    shots(&c, "overview").await;

    // Add an agent: its key is shown once, with a copy button.
    c.goto(&format!("{}/console/agents", gw.base))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("agent-name"))
        .await
        .unwrap()
        .send_keys("writer-bot")
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[action='/console/agents'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let key = c
        .wait()
        .for_element(Locator::Id("new-key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(key.starts_with("nga_"), "{key}");
    assert!(gw.gate.authenticate(&key).await.unwrap().is_agent());
    c.find(Locator::Css(".key-box button.copy")).await.unwrap();
    shots(&c, "agent-key").await;
    c.goto(&format!("{}/console/agents", gw.base))
        .await
        .unwrap();
    wait_text(&c, "writer-bot").await;
    let body = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains(&key), "the key is shown only once");
    shots(&c, "agents").await;

    // The inbox is open when an agent's write is held: it appears without a reload.
    c.goto(&format!("{}/console/approvals", gw.base))
        .await
        .unwrap();
    wait_text(&c, "Nothing is waiting for you").await;
    let id = held_create(
        &gw,
        "Quarterly plan",
        "# Goals\n\n- ship the console\n- sleep",
    )
    .await;
    wait_text(&c, "Create page “Quarterly plan”").await;
    shots(&c, "inbox").await;

    // Its page shows the facts; approve it: it runs once and the result shows in place.
    c.find(Locator::LinkText("Create page “Quarterly plan”"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "Demo Root").await;
    wait_text(&c, "ship the console").await;
    shots(&c, "approval").await;
    let before = gw.emu.counters().route("POST /v1/pages");
    c.find(Locator::Css("button.approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "HTTP 200").await;
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before + 1,
        "ran exactly once"
    );
    let (_, body) = gw
        .call(
            reqwest::Method::GET,
            &format!("/approvals/{id}"),
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(body["status"], "executed");
    shots(&c, "approval-executed").await;

    // Deny another.
    let id2 = held_create(&gw, "Delete everything", "no").await;
    c.goto(&format!("{}/console/approvals/{id2}", gw.base))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("button.deny"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "Denied.").await;
    let (_, body) = gw
        .call(
            reqwest::Method::GET,
            &format!("/approvals/{id2}"),
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    assert_eq!(body["status"], "denied");

    // Filter the audit trail by decision.
    c.goto(&format!("{}/console/audit", gw.base)).await.unwrap();
    wait_text(&c, "pages.create").await;
    shots(&c, "audit").await;
    c.find(Locator::Css("#f-decision option[value=needs_approval]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "needs approval").await;
    let rows = c.find_all(Locator::Css("#audit-rows tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "the two held creates");
    for row in rows {
        assert!(row.text().await.unwrap().contains("needs approval"));
    }
    let url = c.current_url().await.unwrap();
    assert!(url.as_str().contains("decision=needs_approval"), "{url}");

    // The remaining pages, for the screenshots.
    for (path, name) in [
        ("/console/connections", "connections"),
        ("/console/policy", "policy"),
        ("/console/sessions", "sessions"),
        ("/console/approvals?status=all", "inbox-all"),
    ] {
        c.goto(&format!("{}{path}", gw.base)).await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        shots(&c, name).await;
    }

    // Sign out: back to the sign-in page, and the console asks to sign in again.
    c.find(Locator::Css("form[action='/console/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "You are signed out").await;
    c.goto(&format!("{}/console/agents", gw.base))
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("key")).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_sees_users_and_the_console_works_without_javascript() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let gw = spawn_gateway().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &profile).await;
    sign_in(&c, &gw, &gw.admin_key).await;
    c.goto(&format!("{}/console/users", gw.base)).await.unwrap();
    wait_text(&c, "alice").await;
    shots(&c, "users").await;
    // htmx loaded (the CSP allows our own scripts) and boosts the page.
    let htmx = c
        .execute("return typeof window.htmx", vec![])
        .await
        .unwrap();
    assert_eq!(htmx, json!("object"));
    c.close().await.unwrap();
    drop(driver);

    // JavaScript off: sign in and approve with plain forms.
    let driver = start_driver().await.unwrap();
    let mut caps = serde_json::Map::new();
    let profile2 = tempfile::tempdir().unwrap();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,800",
                     format!("--user-data-dir={}", profile2.path().display())],
            "prefs": {"profile.managed_default_content_settings.javascript": 2}
        }),
    );
    let c = ClientBuilder::new(plain_http())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap();
    sign_in(&c, &gw, &gw.alice_key).await;
    let id = held_create(&gw, "No script", "plain").await;
    c.goto(&format!("{}/console/approvals/{id}", gw.base))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("button.approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "HTTP 200").await;
    c.close().await.unwrap();
}
