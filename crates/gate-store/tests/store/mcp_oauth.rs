//! Contract tests: MCP OAuth clients (bounded in count), single-use codes (hash only,
//! consumed once even concurrently, expiry), token records and the purge.

use std::time::Duration;

use gate_store::{ApiKeyId, NewAgent, NewMcpClient, NewMcpCode, NewMcpToken, NewUser, TokenHash};
use secrecy::ExposeSecret as _;

use crate::TestDb;

crate::contract!(mcp_clients_codes_and_tokens);

async fn mcp_clients_codes_and_tokens(db: &TestDb) {
    let store = db.store().await;
    let other = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    let uris = vec!["http://127.0.0.1:3000/cb".to_owned()];
    let c = store
        .create_mcp_client(
            NewMcpClient::new("Inspector", uris.clone(), Duration::from_secs(60)),
            2,
        )
        .await
        .expect("client");
    assert!(c.client_id.starts_with("mcp_"));
    assert_eq!(c.redirect_uris, uris);
    assert_eq!(store.get_mcp_client(&c.client_id).await.expect("get"), c);
    assert!(
        store
            .get_mcp_client("mcp_nope")
            .await
            .expect_err("unknown")
            .is_not_found()
    );
    // Bounded in count: the third live registration is refused.
    store
        .create_mcp_client(
            NewMcpClient::new("two", uris.clone(), Duration::from_secs(60)),
            2,
        )
        .await
        .expect("second");
    let full = store
        .create_mcp_client(
            NewMcpClient::new("three", uris.clone(), Duration::from_secs(60)),
            2,
        )
        .await
        .expect_err("bounded");
    assert!(full.is_conflict(), "{full:?}");

    // A code: only its hash is stored; consumed once, even by two instances at once.
    let created = store
        .create_mcp_code(
            NewMcpCode::new(
                &c.client_id,
                alice.id,
                "supervised",
                &uris[0],
                "challenge",
                Duration::from_secs(60),
            )
            .resource(Some("http://x/mcp".into())),
        )
        .await
        .expect("code");
    let value = created.code.expose_secret().to_owned();
    assert!(
        !db.contains(&value).await,
        "the code itself is never stored"
    );
    let hash = TokenHash::of(&value);
    let (a, b) = tokio::join!(store.consume_mcp_code(&hash), other.consume_mcp_code(&hash));
    let got: Vec<_> = [a.expect("a"), b.expect("b")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(got.len(), 1, "exactly one exchange wins");
    assert_eq!(got[0].consent.maturity, "supervised");
    assert_eq!(got[0].consent.resource.as_deref(), Some("http://x/mcp"));
    assert!(
        store
            .consume_mcp_code(&hash)
            .await
            .expect("again")
            .is_none()
    );
    // An expired code is refused.
    let stale = store
        .create_mcp_code(NewMcpCode::new(
            &c.client_id,
            alice.id,
            "intern",
            &uris[0],
            "c",
            Duration::ZERO,
        ))
        .await
        .expect("code");
    assert!(
        store
            .consume_mcp_code(&TokenHash::of(stale.code.expose_secret()))
            .await
            .expect("consume")
            .is_none()
    );

    // Tokens: recorded, counted while alive, listed once expired.
    let agent = store
        .create_agent(NewAgent::new(alice.id, "mcp", "supervised"))
        .await
        .expect("agent");
    let key = ApiKeyId::new();
    let t = store
        .create_mcp_token(NewMcpToken::new(
            key,
            &c.client_id,
            agent.id,
            alice.id,
            Duration::from_secs(60),
        ))
        .await
        .expect("token");
    assert_eq!(store.get_mcp_token(key).await.expect("get"), Some(t));
    assert_eq!(store.count_mcp_tokens(alice.id).await.expect("count"), 1);
    assert!(
        store
            .expired_mcp_tokens(10)
            .await
            .expect("expired")
            .is_empty()
    );
    let old = ApiKeyId::new();
    store
        .create_mcp_token(NewMcpToken::new(
            old,
            &c.client_id,
            agent.id,
            alice.id,
            Duration::ZERO,
        ))
        .await
        .expect("token");
    let expired = store.expired_mcp_tokens(10).await.expect("expired");
    assert_eq!(
        expired.iter().map(|t| t.api_key_id).collect::<Vec<_>>(),
        [old]
    );
    assert_eq!(store.count_mcp_tokens(alice.id).await.expect("count"), 1);
    store.delete_mcp_token(old).await.expect("delete");
    assert!(store.get_mcp_token(old).await.expect("get").is_none());

    // The purge takes used and expired codes and expired clients.
    store
        .create_mcp_client(NewMcpClient::new("gone", uris, Duration::ZERO), 10)
        .await
        .expect("client");
    assert!(store.purge_mcp_oauth().await.expect("purge") >= 3);
    assert!(store.get_mcp_client(&c.client_id).await.is_ok());
}
