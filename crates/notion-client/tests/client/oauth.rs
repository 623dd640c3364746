//! OAuth against the emulator: authorize URL, code exchange, refresh rotation, introspect,
//! revoke.

use notion_client::{ClientConfig, ErrorCode, Notion};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret, SecretString};

const REDIRECT: &str = "http://localhost:8787/api/v1/notion/oauth/callback";

async fn start() -> (Emulator, Notion) {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .oauth_client("client-id", "client-secret", [REDIRECT])
        .start()
        .await
        .unwrap();
    let notion = Notion::new(ClientConfig::default().base_url(emu.base_url())).unwrap();
    (emu, notion)
}

/// Follows the authorize URL like a browser whose user consents, and returns the code.
async fn consent(url: &str, state: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let loc = url::Url::parse(&location).unwrap();
    let pairs: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("state").map(String::as_str), Some(state));
    pairs["code"].clone()
}

#[tokio::test]
async fn code_exchange_refresh_introspect_revoke() {
    let (_emu, notion) = start().await;
    let oauth = notion.oauth("client-id", SecretString::from("client-secret"));
    let state = "s t&a=te/ü";
    let url = oauth.authorize_url(Some(REDIRECT), state);
    assert!(url.contains("owner=user") && url.contains("response_type=code"));
    assert!(url.contains("state=s+t%26a%3Dte%2F%C3%BC"), "{url}");
    let code = consent(&url, state).await;

    let token = oauth.exchange_code(&code, Some(REDIRECT)).await.unwrap();
    assert!(!token.bot_id.is_empty() && !token.workspace_id.is_empty());
    let debug = format!("{token:?}");
    assert!(
        !debug.contains(token.access_token.expose_secret()),
        "{debug}"
    );

    // The code is single-use.
    let err = oauth
        .exchange_code(&code, Some(REDIRECT))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidGrant));

    // The access token works for API calls.
    let conn = notion.connection(token.access_token.clone());
    let me = conn.users().me().await.unwrap();
    assert_eq!(me.id.canonical(), token.bot_id);

    // Refresh rotates the refresh token.
    let old_refresh = token.refresh_token.clone().expect("a refresh token");
    let refreshed = oauth.refresh(&old_refresh).await.unwrap();
    assert_ne!(
        refreshed.access_token.expose_secret(),
        token.access_token.expose_secret()
    );
    let err = oauth.refresh(&old_refresh).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidGrant));

    let info = oauth.introspect(&refreshed.access_token).await.unwrap();
    assert!(info.active);
    oauth.revoke(&refreshed.access_token).await.unwrap();
    let info = oauth.introspect(&refreshed.access_token).await.unwrap();
    assert!(!info.active);
    let conn = notion.connection(refreshed.access_token.clone());
    let err = conn.users().me().await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::Unauthorized));
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client() {
    let (_emu, notion) = start().await;
    let bad = notion.oauth("client-id", SecretString::from("wrong"));
    let err = bad
        .exchange_code("whatever", Some(REDIRECT))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some(&ErrorCode::InvalidClient));
    let msg = err.to_string();
    assert!(!msg.contains("wrong"), "the secret never shows: {msg}");
}
