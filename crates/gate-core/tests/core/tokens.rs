//! Connection tokens: expired OAuth tokens are refreshed once for any number of concurrent
//! calls; a 401 causes one refresh and one retry; a second instance picks up the rotated
//! token instead of refreshing again; refused refreshes and refused token connections end in
//! `ReconnectRequired`; an undecryptable token sends nothing.

use gate_core::{Gate, GateError, NotionRequest, Surface};
use gate_store::{ConnectionId, ConnectionKind, NewConnection};
use notion_client::ClientConfig;
use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;

use crate::{
    CALLBACK, CLIENT_ID, CLIENT_SECRET, Opts, Person, TestDb, World, config, new_vault, secret,
    seen, world,
};

struct OAuthConn {
    id: ConnectionId,
    access: String,
    refresh: String,
}

/// Runs the emulator's OAuth flow and stores the connection for `owner`.
async fn oauth_connection(w: &World, owner: &Person, expires: Option<OffsetDateTime>) -> OAuthConn {
    let notion = notion_client::Notion::new(ClientConfig::default().base_url(w.emu.base_url()))
        .expect("client");
    let oauth = notion.oauth(CLIENT_ID, SecretString::from(CLIENT_SECRET.to_owned()));
    let url = oauth.authorize_url(Some(CALLBACK), "state-1");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let resp = http.get(url).send().await.expect("authorize");
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("redirect")
        .to_owned();
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("code")
        .to_owned();
    let tok = oauth
        .exchange_code(&code, Some(CALLBACK))
        .await
        .expect("exchange");
    let access = tok.access_token.expose_secret().to_owned();
    let refresh = tok
        .refresh_token
        .as_ref()
        .expect("refresh token")
        .expose_secret()
        .to_owned();
    secret(&access);
    secret(&refresh);
    let mut new = NewConnection::new(
        owner.id,
        ConnectionKind::OAuth,
        tok.workspace_id.clone(),
        tok.bot_id.clone(),
        tok.access_token.clone(),
    )
    .refresh_token(SecretString::from(refresh.clone()));
    if let Some(at) = expires {
        new = new.expires_at(at);
    }
    let c = w
        .gate
        .store()
        .upsert_connection(&w.vault, new)
        .await
        .expect("connection");
    OAuthConn {
        id: c.id,
        access,
        refresh,
    }
}

async fn oauth_agent(w: &World, conn: ConnectionId, name: &str) -> gate_core::Caller {
    let a = w
        .gate
        .create_agent(
            &w.alice.caller,
            gate_core::NewAgentSpec::new(name, "autonomous").connection(conn),
        )
        .await
        .expect("agent");
    let key = w
        .gate
        .issue_agent_key(&w.alice.caller, a.id, None)
        .await
        .expect("key")
        .key
        .expose_secret()
        .to_owned();
    secret(&key);
    w.caller(&key).await
}

fn tokens_used(w: &World, path: &str) -> Vec<String> {
    w.emu
        .request_log()
        .into_iter()
        .filter(|r| r.path == path)
        .filter_map(|r| r.token)
        .collect()
}

async fn expired_token_refreshed_once_for_20_calls(db: TestDb) {
    let w = world(db).await;
    let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let conn = oauth_connection(&w, &w.alice, Some(past)).await;
    let caller = oauth_agent(&w, conn.id, "oauth-bot").await;
    let page = w.emu.demo_ids().root_page.clone();
    let path = format!("/v1/pages/{page}");
    w.emu.reset_counters();

    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (gate, caller, path) = (w.gate.clone(), caller.clone(), path.clone());
        set.spawn(async move {
            gate.call(&caller, Surface::Proxy, NotionRequest::get(path))
                .await
                .map(|r| (r.status, r.shared))
        });
    }
    // Identical reads coalesce: a call either sent its request or shared another's.
    let mut shared = 0;
    while let Some(r) = set.join_next().await {
        let (status, was_shared) = r.expect("task").expect("call");
        assert_eq!(status, 200);
        shared += usize::from(was_shared);
    }
    assert_eq!(
        w.emu.counters().route("POST /v1/oauth/token"),
        1,
        "one refresh"
    );
    let used = tokens_used(&w, &path);
    assert_eq!(used.len() + shared, 20);
    assert!(
        used.iter().all(|t| *t != conn.access),
        "the expired token was never sent"
    );
    assert!(
        used.windows(2).all(|p| p[0] == p[1]),
        "all calls used the new token"
    );
    // The new tokens are stored (encrypted) with the rotated refresh token.
    let stored = w
        .gate
        .store()
        .connection_tokens(&w.vault, conn.id)
        .await
        .expect("tokens");
    assert_eq!(stored.access_token.expose_secret(), used[0]);
    let new_refresh = stored
        .refresh_token
        .expect("refresh")
        .expose_secret()
        .to_owned();
    secret(&new_refresh);
    assert_ne!(new_refresh, conn.refresh, "rotated");
    // Every caller shares the connection's one limiter.
    assert!(w.gate.connection_limiter(conn.id).is_some());
    w.finish().await;
}

/// Two gateway instances (own store pools, one database) and 20 concurrent calls split
/// across them with an expired token: the refresh claim lets exactly one instance spend the
/// rotating refresh token; the other waits for and uses the winner's token.
async fn expired_token_refreshed_once_across_two_instances(db: TestDb) {
    let w = world(db).await;
    let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let conn = oauth_connection(&w, &w.alice, Some(past)).await;
    let caller = oauth_agent(&w, conn.id, "oauth-bot").await;
    let other = Gate::new(config(
        w.db.store().await,
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    ))
    .expect("gate");
    let page = w.emu.demo_ids().root_page.clone();
    let path = format!("/v1/pages/{page}");
    w.emu.reset_counters();

    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let gate = if i % 2 == 0 {
            w.gate.clone()
        } else {
            other.clone()
        };
        let (caller, path) = (caller.clone(), path.clone());
        set.spawn(async move {
            gate.call(&caller, Surface::Proxy, NotionRequest::get(path))
                .await
                .map(|r| (r.status, r.shared))
        });
    }
    // Identical reads coalesce: a call either sent its request or shared another's.
    let mut shared = 0;
    while let Some(r) = set.join_next().await {
        let (status, was_shared) = r.expect("task").expect("call");
        assert_eq!(status, 200);
        shared += usize::from(was_shared);
    }
    assert_eq!(
        w.emu.counters().route("POST /v1/oauth/token"),
        1,
        "one refresh for both instances"
    );
    let used = tokens_used(&w, &path);
    assert_eq!(used.len() + shared, 20);
    assert!(
        used.iter().all(|t| *t != conn.access),
        "the expired token was never sent"
    );
    assert!(
        used.windows(2).all(|p| p[0] == p[1]),
        "both instances used the new token"
    );
    let c = w
        .gate
        .get_connection(&w.alice.caller, conn.id)
        .await
        .expect("conn");
    assert!(!c.needs_reauth);
    other.shutdown().await;
    w.finish().await;
}

async fn unauthorized_refreshes_once_and_retries_once(db: TestDb) {
    let w = world(db).await;
    let conn = oauth_connection(&w, &w.alice, None).await;
    let caller = oauth_agent(&w, conn.id, "oauth-bot").await;
    let page = w.emu.demo_ids().root_page.clone();
    let path = format!("/v1/pages/{page}");
    // Load the token, then have Notion revoke it.
    let first = w
        .gate
        .call(&caller, Surface::Rest, NotionRequest::get(path.clone()))
        .await
        .expect("call");
    assert_eq!(first.status, 200);
    w.emu.revoke_token(&conn.access);
    w.emu.reset_counters();

    let resp = w
        .gate
        .call(&caller, Surface::Rest, NotionRequest::get(path.clone()))
        .await
        .expect("call");
    assert_eq!(resp.status, 200);
    let c = w.emu.counters();
    assert_eq!(c.route("POST /v1/oauth/token"), 1, "one refresh");
    assert_eq!(c.status(401), 1, "one refused attempt");
    assert_eq!(c.route("GET /v1/pages/{id}"), 2, "one retry");

    // A second instance still holding the revoked token picks up the rotated one on its 401
    // instead of refreshing again.
    let other = Gate::new(config(
        w.db.store().await,
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    ))
    .expect("gate");
    let other_caller = caller.clone();
    assert_eq!(
        other
            .call(
                &other_caller,
                Surface::Rest,
                NotionRequest::get(path.clone())
            )
            .await
            .expect("call")
            .status,
        200
    );
    let current = w
        .gate
        .store()
        .connection_tokens(&w.vault, conn.id)
        .await
        .expect("tokens")
        .access_token
        .expose_secret()
        .to_owned();
    secret(&current);
    w.emu.revoke_token(&current);
    // The first instance rotates (401 → refresh → retry).
    assert_eq!(
        w.gate
            .call(&caller, Surface::Rest, NotionRequest::get(path.clone()))
            .await
            .expect("call")
            .status,
        200
    );
    w.emu.reset_counters();
    // The other instance gets a 401 with its stale token and re-reads the row: no refresh.
    assert_eq!(
        other
            .call(
                &other_caller,
                Surface::Rest,
                NotionRequest::get(path.clone())
            )
            .await
            .expect("call")
            .status,
        200
    );
    let c = w.emu.counters();
    assert_eq!(c.route("POST /v1/oauth/token"), 0, "no second refresh");
    assert_eq!(c.status(401), 1, "the stale token was refused once");
    other.shutdown().await;
    w.finish().await;
}

async fn refused_refresh_requires_reconnect(db: TestDb) {
    let w = world(db).await;
    let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let conn = oauth_connection(&w, &w.alice, Some(past)).await;
    let caller = oauth_agent(&w, conn.id, "oauth-bot").await;
    w.emu.revoke_token(&conn.refresh);
    w.emu.reset_counters();
    let page = w.emu.demo_ids().root_page.clone();
    let e = seen(
        w.gate
            .call(
                &caller,
                Surface::Rest,
                NotionRequest::get(format!("/v1/pages/{page}")),
            )
            .await
            .expect_err("reconnect"),
    );
    assert!(matches!(e, GateError::ReconnectRequired { .. }), "{e:?}");
    let c = w
        .gate
        .get_connection(&w.alice.caller, conn.id)
        .await
        .expect("conn");
    assert!(c.needs_reauth);
    assert_eq!(
        w.emu.counters().route("GET /v1/pages/{id}"),
        0,
        "nothing sent"
    );
    w.finish().await;
}

async fn refused_token_connection_requires_reconnect(db: TestDb) {
    let w = world(db).await;
    let page = w.emu.demo_ids().root_page.clone();
    let path = format!("/v1/pages/{page}");
    w.emu.revoke_token(&w.bob.notion_token);
    let before = w.emu.counters().total;
    let e = seen(
        w.gate
            .call(
                &w.bob.caller,
                Surface::Rest,
                NotionRequest::get(path.clone()),
            )
            .await
            .expect_err("reconnect"),
    );
    assert!(matches!(e, GateError::ReconnectRequired { .. }), "{e:?}");
    assert_eq!(
        w.emu.counters().total,
        before + 1,
        "one refused attempt, no retry"
    );
    let conn = w.bob.caller.connection_id.expect("conn");
    assert!(
        w.gate
            .get_connection(&w.bob.caller, conn)
            .await
            .expect("conn")
            .needs_reauth
    );
    // Later calls are refused without reaching Notion.
    let e = seen(
        w.gate
            .call(&w.bob.caller, Surface::Rest, NotionRequest::get(path))
            .await
            .expect_err("reconnect"),
    );
    assert!(matches!(e, GateError::ReconnectRequired { .. }));
    assert_eq!(w.emu.counters().total, before + 1);
    w.finish().await;
}

async fn undecryptable_token_sends_nothing(db: TestDb) {
    let w = world(db).await;
    // Another instance configured with a different key cannot read the stored tokens.
    let other = Gate::new(config(
        w.db.store().await,
        new_vault(),
        &w.emu,
        &Opts::default(),
    ))
    .expect("gate");
    let caller = other.authenticate(&w.alice.key).await.expect("auth");
    let before = w.emu.counters().total;
    let page = w.emu.demo_ids().root_page.clone();
    let e = seen(
        other
            .call(
                &caller,
                Surface::Proxy,
                NotionRequest::get(format!("/v1/pages/{page}")),
            )
            .await
            .expect_err("reconnect"),
    );
    assert!(matches!(e, GateError::ReconnectRequired { .. }), "{e:?}");
    assert_eq!(e.code(), "reconnect_required");
    assert_eq!(w.emu.counters().total, before, "nothing sent to Notion");
    let events = {
        other.flush_audit().await.expect("flush");
        w.audit().await
    };
    let last = &events.last().expect("record").record;
    assert_eq!(last.reason.as_deref(), Some("reconnect_required"));
    other.shutdown().await;
    w.finish().await;
}

crate::both!(
    expired_token_refreshed_once_for_20_calls,
    expired_token_refreshed_once_across_two_instances,
    unauthorized_refreshes_once_and_retries_once,
    refused_refresh_requires_reconnect,
    refused_token_connection_requires_reconnect,
    undecryptable_token_sends_nothing
);
