//! Contract tests: agents, connections, token encryption in the store and key rotation.

use gate_store::{
    AgentUpdate, ConnectionId, ConnectionKind, NewAgent, NewConnection, NewUser, StoreError, Vault,
    VaultKey,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::TestDb;

crate::contract!(
    agents_crud_and_version,
    connections_upsert_encrypt_and_decrypt,
    undecryptable_token_requires_reconnect,
    reencrypt_all_rotates_keys,
    notion_webhook_tokens_keep_the_verified_one,
);

fn vault() -> Vault {
    Vault::new(vec![VaultKey::generate().1]).expect("vault")
}

fn conn(owner: gate_store::UserId, bot: &str, token: &str) -> NewConnection {
    NewConnection::new(
        owner,
        ConnectionKind::OAuth,
        "ws-1",
        bot,
        SecretString::from(token.to_owned()),
    )
}

async fn agents_crud_and_version(db: &TestDb) {
    let store = db.store().await;
    let vault = vault();
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let bob = store.create_user(NewUser::new("bob")).await.expect("bob");
    let c_alice = store
        .upsert_connection(&vault, conn(alice.id, "bot-a", "ntn_a"))
        .await
        .expect("conn");
    let c_bob = store
        .upsert_connection(&vault, conn(bob.id, "bot-b", "ntn_b"))
        .await
        .expect("conn");

    let a = store
        .create_agent(NewAgent::new(alice.id, "writer", "supervised").connection(c_alice.id))
        .await
        .expect("agent");
    assert_eq!(a.version, 1);
    assert_eq!(a.maturity, "supervised");
    assert_eq!(a.connection_id, Some(c_alice.id));
    assert!(!a.disabled);

    // Name unique per owner, not globally.
    let dup = store
        .create_agent(NewAgent::new(alice.id, "writer", "intern"))
        .await
        .expect_err("dup");
    assert!(dup.is_conflict(), "{dup:?}");
    store
        .create_agent(NewAgent::new(bob.id, "writer", "intern"))
        .await
        .expect("same name, other owner");

    // An agent cannot use another user's connection.
    let foreign = store
        .create_agent(NewAgent::new(alice.id, "thief", "intern").connection(c_bob.id))
        .await
        .expect_err("foreign connection");
    assert!(matches!(foreign, StoreError::Invalid { .. }), "{foreign:?}");
    let unknown_owner = store
        .create_agent(NewAgent::new(gate_store::UserId::new(), "x", "intern"))
        .await
        .expect_err("no owner");
    assert!(unknown_owner.is_not_found(), "{unknown_owner:?}");

    // Every change bumps the version; an empty update does not.
    let a2 = store
        .update_agent(a.id, AgentUpdate::new().maturity("autonomous"))
        .await
        .expect("promote");
    assert_eq!((a2.version, a2.maturity.as_str()), (2, "autonomous"));
    assert!(a2.updated_at >= a.updated_at);
    let a3 = store
        .update_agent(a.id, AgentUpdate::new().disabled(true))
        .await
        .expect("disable");
    assert_eq!((a3.version, a3.disabled), (3, true));
    let a4 = store
        .update_agent(a.id, AgentUpdate::new())
        .await
        .expect("noop");
    assert_eq!(a4.version, 3);
    let a5 = store
        .update_agent(a.id, AgentUpdate::new().connection(None).name("editor"))
        .await
        .expect("unbind");
    assert_eq!(
        (a5.version, a5.connection_id, a5.name.as_str()),
        (4, None, "editor")
    );
    assert!(
        store
            .update_agent(a.id, AgentUpdate::new().connection(Some(c_bob.id)))
            .await
            .is_err()
    );
    let clash = store
        .update_agent(a.id, AgentUpdate::new().name("writer"))
        .await;
    assert!(
        clash.is_ok(),
        "writer is free again after the rename: {clash:?}"
    );

    assert_eq!(store.get_agent(a.id).await.expect("get").version, 5);
    assert_eq!(
        store
            .get_agent_by_name(alice.id, "writer")
            .await
            .expect("by name")
            .id,
        a.id
    );
    assert_eq!(
        store.list_agents(Some(alice.id)).await.expect("list").len(),
        1
    );
    assert_eq!(store.list_agents(None).await.expect("list").len(), 2);

    store.delete_agent(a.id).await.expect("delete");
    assert!(
        store
            .get_agent(a.id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    assert!(
        store
            .delete_agent(a.id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    assert!(
        store
            .update_agent(a.id, AgentUpdate::new().disabled(false))
            .await
            .expect_err("gone")
            .is_not_found()
    );
}

async fn connections_upsert_encrypt_and_decrypt(db: &TestDb) {
    let store = db.store().await;
    let vault = vault();
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let access = "ntn_plaintext_access_token_0123456789";
    let refresh = "nrt_plaintext_refresh_token_0123456789";
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let c = store
        .upsert_connection(
            &vault,
            conn(alice.id, "bot-1", access)
                .workspace(Some("Acme".into()), Some("🚀".into()))
                .owner(serde_json::json!({"type": "user"}))
                .refresh_token(SecretString::from(refresh))
                .expires_at(expires),
        )
        .await
        .expect("upsert");
    assert_eq!(c.bot.workspace_name.as_deref(), Some("Acme"));
    assert_eq!(c.bot.workspace_icon.as_deref(), Some("🚀"));
    assert_eq!(c.bot.owner, Some(serde_json::json!({"type": "user"})));
    assert_eq!(c.kind, ConnectionKind::OAuth);
    assert_eq!(&c.key_id, vault.primary_key_id());
    assert!(!c.revoked && !c.needs_reauth);

    // Tokens are encrypted at rest.
    assert!(!db.contains(access).await, "plaintext access token stored");
    assert!(
        !db.contains(refresh).await,
        "plaintext refresh token stored"
    );
    assert!(db.contains("gAAAA").await, "Fernet ciphertext expected");

    let tokens = store.connection_tokens(&vault, c.id).await.expect("tokens");
    assert_eq!(tokens.access_token.expose_secret(), access);
    assert_eq!(
        tokens.refresh_token.as_ref().map(|r| r.expose_secret()),
        Some(refresh)
    );
    assert_eq!(
        tokens.expires_at.map(|t| t.unix_timestamp()),
        Some(expires.unix_timestamp())
    );
    assert!(
        !format!("{tokens:?}").contains(access),
        "Debug must not show tokens"
    );

    // Reconnecting the same bot refreshes the row and clears the flags; same id.
    store
        .set_connection_revoked(c.id, true)
        .await
        .expect("revoke");
    store
        .mark_connection_needs_reauth(c.id)
        .await
        .expect("flag");
    let again = store
        .upsert_connection(
            &vault,
            conn(alice.id, "bot-1", "ntn_second").workspace(Some("Acme 2".into()), None),
        )
        .await
        .expect("reconnect");
    assert_eq!(again.id, c.id);
    assert_eq!(again.bot.workspace_name.as_deref(), Some("Acme 2"));
    assert!(!again.revoked && !again.needs_reauth);
    let tokens = store.connection_tokens(&vault, c.id).await.expect("tokens");
    assert_eq!(tokens.access_token.expose_secret(), "ntn_second");
    assert!(tokens.refresh_token.is_none());

    // Another bot is another connection.
    let other = store
        .upsert_connection(&vault, conn(alice.id, "bot-2", "ntn_x"))
        .await
        .expect("second");
    assert_ne!(other.id, c.id);
    assert_eq!(
        store
            .list_connections(Some(alice.id))
            .await
            .expect("list")
            .len(),
        2
    );

    // Refreshed tokens.
    let refreshed = store
        .update_connection_tokens(
            &vault,
            c.id,
            &SecretString::from("ntn_third"),
            Some(&SecretString::from("nrt_3")),
            None,
        )
        .await
        .expect("refresh");
    assert_eq!(refreshed.token_expires_at, None);
    let tokens = store.connection_tokens(&vault, c.id).await.expect("tokens");
    assert_eq!(tokens.access_token.expose_secret(), "ntn_third");
    assert_eq!(
        tokens
            .refresh_token
            .map(|r| r.expose_secret().to_owned())
            .as_deref(),
        Some("nrt_3")
    );

    // Deleting a connection unbinds its agents.
    let agent = store
        .create_agent(NewAgent::new(alice.id, "a", "intern").connection(c.id))
        .await
        .expect("agent");
    store.delete_connection(c.id).await.expect("delete");
    assert_eq!(
        store
            .get_agent(agent.id)
            .await
            .expect("agent")
            .connection_id,
        None
    );
    assert!(
        store
            .get_connection(c.id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    assert!(
        store
            .connection_tokens(&vault, c.id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    assert!(
        store
            .upsert_connection(&vault, conn(gate_store::UserId::new(), "b", "t"))
            .await
            .expect_err("no user")
            .is_not_found()
    );
}

async fn undecryptable_token_requires_reconnect(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let writer = vault();
    let c = store
        .upsert_connection(&writer, conn(alice.id, "bot", "ntn_secret"))
        .await
        .expect("upsert");

    // A vault without the key: a typed error, never the stored value.
    let stranger = vault();
    let err = store
        .connection_tokens(&stranger, c.id)
        .await
        .expect_err("cannot decrypt");
    assert!(err.is_reconnect_required(), "{err:?}");
    assert!(matches!(err, StoreError::ReconnectRequired { connection_id: Some(id) } if id == c.id));
    assert!(err.to_string().contains("reconnect required"));
    assert!(!err.to_string().contains("gAAAA"));
    assert!(
        store.get_connection(c.id).await.expect("get").needs_reauth,
        "marked unusable"
    );

    // A ciphertext tampered with in the database: same error.
    store
        .upsert_connection(&writer, conn(alice.id, "bot", "ntn_secret"))
        .await
        .expect("reset");
    let n = db
        .exec(&format!(
            "UPDATE connections SET access_token_enc = 'gAAAAAB' || substr(access_token_enc, 8, 20) || 'tampered' WHERE id = '{}'",
            c.id
        ))
        .await
        .expect("tamper");
    assert_eq!(n, 1);
    let err = store
        .connection_tokens(&writer, c.id)
        .await
        .expect_err("tampered");
    assert!(err.is_reconnect_required(), "{err:?}");
}

async fn reencrypt_all_rotates_keys(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let (old_encoded, old_key) = VaultKey::generate();
    let (new_encoded, new_key) = VaultKey::generate();
    let old_id = old_key.id().clone();
    let new_id = new_key.id().clone();
    let v_old = Vault::new(vec![old_key.clone()]).expect("old");

    let mut ids: Vec<ConnectionId> = Vec::new();
    for i in 0..3 {
        let mut n = conn(alice.id, &format!("bot-{i}"), &format!("ntn_token_{i}"));
        if i == 0 {
            n = n.refresh_token(SecretString::from("nrt_0"));
        }
        ids.push(store.upsert_connection(&v_old, n).await.expect("upsert").id);
    }
    // One connection encrypted with a key nobody has any more.
    let lost = store
        .upsert_connection(&vault(), conn(alice.id, "bot-lost", "ntn_lost"))
        .await
        .expect("lost");

    // Rotation: new key first, old key still decrypts.
    let rotated = Vault::from_key_list(&format!(
        "{},{}",
        new_encoded.expose_secret(),
        old_encoded.expose_secret()
    ))
    .expect("rotated vault");
    assert_eq!(rotated.primary_key_id(), &new_id);
    assert_eq!(
        store
            .connection_tokens(&rotated, ids[1])
            .await
            .expect("old key decrypts")
            .access_token
            .expose_secret(),
        "ntn_token_1"
    );

    let report = store.reencrypt_all(&rotated).await.expect("rotate");
    assert_eq!(report.rewritten, 3);
    assert_eq!(report.unchanged, 0);
    assert_eq!(report.undecryptable, vec![lost.id]);
    for (i, id) in ids.iter().enumerate() {
        let c = store.get_connection(*id).await.expect("get");
        assert_eq!(c.key_id, new_id, "connection {i} re-encrypted");
        assert_ne!(c.key_id, old_id);
    }
    assert!(
        store
            .get_connection(lost.id)
            .await
            .expect("lost")
            .needs_reauth
    );

    // The old key can now be dropped.
    let only_new = Vault::new(vec![new_key]).expect("new only");
    for (i, id) in ids.iter().enumerate() {
        let t = store
            .connection_tokens(&only_new, *id)
            .await
            .expect("new key decrypts");
        assert_eq!(t.access_token.expose_secret(), format!("ntn_token_{i}"));
    }
    let t0 = store
        .connection_tokens(&only_new, ids[0])
        .await
        .expect("refresh too");
    assert_eq!(
        t0.refresh_token
            .map(|r| r.expose_secret().to_owned())
            .as_deref(),
        Some("nrt_0")
    );
    assert!(
        store
            .connection_tokens(&v_old, ids[0])
            .await
            .expect_err("old only")
            .is_reconnect_required()
    );

    // Running it again changes nothing.
    let again = store.reencrypt_all(&rotated).await.expect("rotate again");
    assert_eq!((again.rewritten, again.unchanged), (0, 3));
}

/// Inbound Notion webhooks: the handshake's token is stored encrypted, unverified; a verified
/// token survives later (unauthenticated) handshakes as the previous one until a new token
/// verifies.
async fn notion_webhook_tokens_keep_the_verified_one(db: &TestDb) {
    let store = db.store().await;
    let vault = vault();
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let id = store
        .upsert_connection(&vault, conn(alice.id, "bot-w", "ntn_w"))
        .await
        .expect("upsert")
        .id;
    assert!(
        store
            .notion_webhook_tokens(&vault, id)
            .await
            .expect("read")
            .is_none()
    );
    let secret = |s: &str| SecretString::from(s.to_owned());
    let read = || async {
        store
            .notion_webhook_tokens(&vault, id)
            .await
            .expect("read")
            .expect("stored")
    };

    store
        .save_notion_webhook_token(&vault, id, &secret("secret_a"))
        .await
        .expect("save a");
    let a = read().await;
    assert_eq!(a.current.expose_secret(), "secret_a");
    assert!(a.verified_at.is_none() && a.previous.is_none());
    assert!(
        store
            .notion_webhook_tokens(&self::vault(), id)
            .await
            .is_err(),
        "another key cannot read it"
    );
    store
        .confirm_notion_webhook_token(id, a.received_at)
        .await
        .expect("confirm a");
    assert!(read().await.verified_at.is_some());

    // Two handshakes after a verified token: the verified one stays, as the previous.
    store
        .save_notion_webhook_token(&vault, id, &secret("secret_b"))
        .await
        .expect("save b");
    store
        .save_notion_webhook_token(&vault, id, &secret("secret_c"))
        .await
        .expect("save c");
    let c = read().await;
    assert_eq!(c.current.expose_secret(), "secret_c");
    assert!(c.verified_at.is_none());
    assert_eq!(
        c.previous.as_ref().map(|p| p.expose_secret().to_owned()),
        Some("secret_a".into())
    );

    // The new token verifies: the previous one is forgotten.
    store
        .confirm_notion_webhook_token(id, c.received_at)
        .await
        .expect("confirm c");
    let c = read().await;
    assert!(c.verified_at.is_some() && c.previous.is_none());
    assert!(
        store
            .save_notion_webhook_token(&vault, id, &secret("  "))
            .await
            .is_err(),
        "an empty token is refused"
    );
}
