//! OAuth: authorize redirect (consent and denial), code exchange, code reuse, client auth,
//! redirect_uri rules, refresh rotation, introspect, revoke.

use base64::Engine;
use notion_emulator::{Emulator, Seed};
use serde_json::{Value, json};

use crate::common::{V2025, http, into_resp};

const ID: &str = "client-id";
const SECRET: &str = "client-secret";
const CB: &str = "http://localhost/cb";

async fn emu(uris: &[&str]) -> Emulator {
    Emulator::builder()
        .seed(Seed::Demo)
        .tokens(["secret_a"])
        .oauth_client(ID, SECRET, uris.iter().copied())
        .start()
        .await
        .unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn authorize(emu: &Emulator, query: &str) -> (u16, String) {
    let r = http()
        .get(format!("{}/v1/oauth/authorize?{query}", emu.base_url()))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, loc)
}

fn param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn token(emu: &Emulator, auth: &str, body: Value) -> crate::common::Resp {
    into_resp(
        http()
            .post(format!("{}/v1/oauth/token", emu.base_url()))
            .header("Authorization", auth)
            .header("Notion-Version", V2025)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn oauth_post(emu: &Emulator, path: &str, body: Value) -> crate::common::Resp {
    into_resp(
        http()
            .post(format!("{}{path}", emu.base_url()))
            .header("Authorization", basic(ID, SECRET))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn me(emu: &Emulator, tok: &str) -> crate::common::Resp {
    into_resp(
        http()
            .get(format!("{}/v1/users/me", emu.base_url()))
            .header("Notion-Version", V2025)
            .bearer_auth(tok)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn full_code_flow_refresh_introspect_revoke() {
    let emu = emu(&[CB]).await;
    let q = format!(
        "client_id={ID}&response_type=code&owner=user&redirect_uri={}&state=xyz",
        url::form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
    );
    let (status, loc) = authorize(&emu, &q).await;
    assert_eq!(status, 302);
    assert!(loc.starts_with(CB));
    assert_eq!(param(&loc, "state").as_deref(), Some("xyz"));
    let code = param(&loc, "code").unwrap();

    // Wrong secret → 401 invalid_client.
    let r = token(
        &emu,
        &basic(ID, "wrong"),
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB }),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "invalid_client");
    // Missing redirect_uri when the authorize request had one.
    let r = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "authorization_code", "code": code }),
    )
    .await;
    assert_eq!(r.status, 400);

    let r = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB }),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for k in [
        "access_token",
        "token_type",
        "refresh_token",
        "bot_id",
        "workspace_id",
        "workspace_name",
        "workspace_icon",
        "owner",
        "duplicated_template_id",
        "request_id",
    ] {
        assert!(r.body.get(k).is_some(), "missing {k}");
    }
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["owner"]["type"], "user");
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let bot = r.body["bot_id"].clone();

    // The issued token works against the API.
    let m = me(&emu, &access).await;
    assert_eq!(m.status, 200);
    assert_eq!(m.body["id"], bot);
    assert_eq!(m.body["bot"]["owner"]["type"], "user");

    // Codes are single-use.
    let r = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB }),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "invalid_grant");

    // Refresh rotates: new tokens, same bot; the old refresh token is dead.
    let r = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "refresh_token", "refresh_token": refresh }),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_ne!(r.body["refresh_token"], json!(refresh));
    assert_ne!(r.body["access_token"], json!(access));
    assert_eq!(r.body["bot_id"], bot);
    let access2 = r.body["access_token"].as_str().unwrap().to_string();
    let r2 = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "refresh_token", "refresh_token": refresh }),
    )
    .await;
    assert_eq!(r2.status, 400);
    assert_eq!(r2.code(), "invalid_grant");
    let r3 = token(
        &emu,
        &basic(ID, SECRET),
        json!({ "grant_type": "password" }),
    )
    .await;
    assert_eq!(r3.code(), "unsupported_grant_type");

    // Both need the client's credentials and a `token`, and do nothing without them.
    for path in ["/v1/oauth/introspect", "/v1/oauth/revoke"] {
        let no_token = oauth_post(&emu, path, json!({})).await;
        assert_eq!(no_token.status, 400, "{path}");
        assert_eq!(no_token.code(), "invalid_request", "{path}");
        let wrong_client = into_resp(
            http()
                .post(format!("{}{path}", emu.base_url()))
                .header("Authorization", basic(ID, "not-the-secret"))
                .json(&json!({ "token": access2 }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(wrong_client.status, 401, "{path}");
    }

    // Introspect (still active: the refused revokes did nothing), revoke, then 401.
    let i = oauth_post(&emu, "/v1/oauth/introspect", json!({ "token": access2 })).await;
    assert_eq!(i.status, 200);
    assert_eq!(i.body["active"], true);
    assert!(i.body["iat"].is_i64());
    let rv = oauth_post(&emu, "/v1/oauth/revoke", json!({ "token": access2 })).await;
    assert_eq!(rv.status, 200);
    let i = oauth_post(&emu, "/v1/oauth/introspect", json!({ "token": access2 })).await;
    assert_eq!(i.body["active"], false);
    let m = me(&emu, &access2).await;
    assert_eq!(m.status, 401);
    assert_eq!(m.code(), "unauthorized");
    let i = oauth_post(&emu, "/v1/oauth/introspect", json!({ "token": "unknown" })).await;
    assert_eq!(i.body["active"], false);
}

#[tokio::test]
async fn redirect_uri_rules_and_denial() {
    // One registered URI, none in the authorize request: token must not carry one.
    let emu1 = emu(&[CB]).await;
    let (status, loc) = authorize(
        &emu1,
        &format!("client_id={ID}&response_type=code&owner=user&state=s"),
    )
    .await;
    assert_eq!(status, 302);
    let code = param(&loc, "code").unwrap();
    let r = token(
        &emu1,
        &basic(ID, SECRET),
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB }),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "invalid_request");
    // Bad requests to authorize.
    let (s, _) = authorize(&emu1, "client_id=nope&response_type=code&owner=user").await;
    assert_eq!(s, 400);
    let (s, _) = authorize(
        &emu1,
        &format!("client_id={ID}&response_type=token&owner=user"),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = authorize(
        &emu1,
        &format!("client_id={ID}&response_type=code&owner=user&redirect_uri=http://evil/cb"),
    )
    .await;
    assert_eq!(s, 400);

    // Two registered URIs: the authorize request must name one.
    let emu2 = emu(&[CB, "http://localhost/other"]).await;
    let (s, _) = authorize(
        &emu2,
        &format!("client_id={ID}&response_type=code&owner=user"),
    )
    .await;
    assert_eq!(s, 400);
    let (s, loc) = authorize(
        &emu2,
        &format!(
            "client_id={ID}&response_type=code&owner=user&redirect_uri=http://localhost/other"
        ),
    )
    .await;
    assert_eq!(s, 302);
    let code = param(&loc, "code").unwrap();
    let r = token(
        &emu2,
        &basic(ID, SECRET),
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB }),
    )
    .await;
    assert_eq!(r.code(), "invalid_grant");

    // Deny mode.
    emu2.set_oauth_deny(true);
    let (s, loc) = authorize(
        &emu2,
        &format!("client_id={ID}&response_type=code&owner=user&redirect_uri={CB}&state=abc"),
    )
    .await;
    assert_eq!(s, 302);
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&loc, "state").as_deref(), Some("abc"));
    assert!(param(&loc, "code").is_none());
}
