//! The `Reauthorize` hook: a 401 asks the hook for a new token once, the request is repeated
//! once with it, and the connection (and its clones) keep the new token; without a new token,
//! or without a hook, the 401 stands. Counted at the emulator.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use notion_client::ids::PageId;
use notion_client::{ErrorCode, Reauthorize};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret, SecretString};

use crate::support::{client, fast};

/// Hands out `next` (if any) and counts its calls.
struct Hook {
    next: Option<String>,
    calls: AtomicUsize,
    refused: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Reauthorize for Hook {
    async fn reauthorize(&self, refused: &SecretString) -> Option<SecretString> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.refused
            .lock()
            .unwrap()
            .push(refused.expose_secret().to_owned());
        self.next.clone().map(SecretString::from)
    }
}

fn hook(next: Option<&str>) -> Arc<Hook> {
    Arc::new(Hook {
        next: next.map(str::to_owned),
        calls: AtomicUsize::new(0),
        refused: std::sync::Mutex::new(Vec::new()),
    })
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(Seed::Demo)
        .tokens(["ntn_old", "ntn_new"])
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_401_gets_one_new_token_and_one_repeat_and_the_token_sticks() {
    let emu = emulator().await;
    let page = PageId::parse(&emu.demo_ids().root_page).unwrap();
    let base = client(&emu, fast()).connection("ntn_old".to_owned().into());
    let h = hook(Some("ntn_new"));
    let conn = base.with_reauthorize(h.clone());
    emu.revoke_token("ntn_old");
    emu.reset_counters();

    conn.pages().retrieve(&page).await.unwrap();
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
    assert_eq!(*h.refused.lock().unwrap(), vec!["ntn_old".to_owned()]);
    // Later requests, also on clones and on the hook-less original, use the new token.
    conn.clone().pages().retrieve(&page).await.unwrap();
    base.pages().retrieve(&page).await.unwrap();
    assert_eq!(h.calls.load(Ordering::SeqCst), 1, "no second refresh");
    let tokens: Vec<Option<String>> = emu.request_log().into_iter().map(|r| r.token).collect();
    assert_eq!(
        tokens,
        ["ntn_old", "ntn_new", "ntn_new", "ntn_new"].map(|t| Some(t.to_owned())),
        "one refused request, its repeat, then the new token only"
    );
}

#[tokio::test]
async fn without_a_new_token_or_a_hook_the_401_stands() {
    let emu = emulator().await;
    let page = PageId::parse(&emu.demo_ids().root_page).unwrap();
    emu.revoke_token("ntn_old");
    let base = client(&emu, fast()).connection("ntn_old".to_owned().into());
    let h = hook(None);
    let e = base
        .with_reauthorize(h.clone())
        .pages()
        .retrieve(&page)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::Unauthorized));
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
    let e = base.pages().retrieve(&page).await.unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::Unauthorized));
    assert_eq!(emu.counters().route("GET /v1/pages/{id}"), 2, "no repeat");
}
