//! Contract tests: users and API keys.

use gate_store::{ApiKeyKind, NewAgent, NewApiKey, NewUser, StoreError, UserId};
use secrecy::ExposeSecret as _;

use crate::TestDb;

crate::contract!(
    users_crud,
    api_keys_lifecycle,
    agent_keys_follow_their_agent
);

async fn users_crud(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice").admin(true))
        .await
        .expect("create");
    assert!(alice.is_admin && !alice.disabled);
    assert_eq!(alice.name, "alice");

    let dup = store
        .create_user(NewUser::new(" alice "))
        .await
        .expect_err("duplicate");
    assert!(dup.is_conflict(), "{dup:?}");
    assert!(matches!(
        store.create_user(NewUser::new("   ")).await,
        Err(StoreError::Invalid { .. })
    ));

    let bob = store.create_user(NewUser::new("bob")).await.expect("bob");
    assert_eq!(store.get_user(alice.id).await.expect("get"), alice);
    assert_eq!(store.get_user_by_name("bob").await.expect("by name"), bob);
    let names: Vec<_> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);

    let bob2 = store
        .set_user_disabled(bob.id, true)
        .await
        .expect("disable");
    assert!(bob2.disabled);
    let bob3 = store.set_user_admin(bob.id, true).await.expect("admin");
    assert!(bob3.is_admin && bob3.disabled);

    assert!(
        store
            .get_user(UserId::new())
            .await
            .expect_err("missing")
            .is_not_found()
    );
    assert!(
        store
            .set_user_disabled(UserId::new(), true)
            .await
            .expect_err("missing")
            .is_not_found()
    );
    assert!(
        store
            .get_user_by_name("carol")
            .await
            .expect_err("missing")
            .is_not_found()
    );
}

async fn api_keys_lifecycle(db: &TestDb) {
    let store = db.store().await;
    let user = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    let created = store
        .create_api_key(NewApiKey::for_user(user.id).label("laptop"))
        .await
        .expect("key");
    let key = created.key.expose_secret().to_owned();

    // The prefix shows the kind; the public id is the start of the key.
    assert!(key.starts_with("ngu_"), "{}", created.info.public_id);
    assert_eq!(created.info.kind, ApiKeyKind::User);
    assert!(key.starts_with(&created.info.public_id));
    assert_eq!(gate_store::key_kind(&key), Some(ApiKeyKind::User));
    assert_eq!(created.info.label.as_deref(), Some("laptop"));
    // 256 random bits after the public part.
    assert!(key.len() >= created.info.public_id.len() + 1 + 43);

    // Debug output never shows the key.
    assert!(!format!("{created:?}").contains(&key));

    // Look-up by the full key; a wrong key (one character off) is not found.
    let found = store
        .find_api_key(&key)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.id, created.info.id);
    assert_eq!(found.user_id, user.id);
    let mut wrong = key.clone();
    let last = wrong.pop().expect("non-empty");
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert!(store.find_api_key(&wrong).await.expect("find").is_none());
    assert!(
        store
            .find_api_key(&created.info.public_id)
            .await
            .expect("find")
            .is_none()
    );

    // Best-effort last use.
    assert!(found.last_used_at.is_none());
    store.touch_api_key(found.id).await.expect("touch");
    let touched = store
        .find_api_key(&key)
        .await
        .expect("find")
        .expect("present");
    assert!(touched.last_used_at.is_some());

    // The plaintext key is nowhere in the database; its hash is.
    assert!(!db.contains(&key).await, "plaintext key stored");
    assert!(
        !db.contains(&key[created.info.public_id.len() + 1..]).await,
        "secret part stored"
    );
    assert!(
        db.contains(&created.info.public_id).await,
        "the scan must see the table"
    );
    assert!(db.contains(gate_store::TokenHash::of(&key).as_str()).await);

    // Revoke: idempotent, keeps the row, and the key stops working.
    let revoked = store.revoke_api_key(found.id).await.expect("revoke");
    assert!(revoked.revoked_at.is_some());
    let again = store.revoke_api_key(found.id).await.expect("revoke again");
    assert_eq!(again.revoked_at, revoked.revoked_at);
    assert!(store.find_api_key(&key).await.expect("find").is_none());
    let listed = store.list_api_keys(user.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());

    assert!(
        store
            .revoke_api_key(gate_store::ApiKeyId::new())
            .await
            .expect_err("x")
            .is_not_found()
    );
    assert!(
        store
            .create_api_key(NewApiKey::for_user(UserId::new()))
            .await
            .expect_err("no such user")
            .is_not_found()
    );
}

async fn agent_keys_follow_their_agent(db: &TestDb) {
    let store = db.store().await;
    let owner = store
        .create_user(NewUser::new("owner"))
        .await
        .expect("user");
    let agent = store
        .create_agent(NewAgent::new(owner.id, "bot", "intern"))
        .await
        .expect("agent");
    let created = store
        .create_api_key(NewApiKey::for_agent(agent.id))
        .await
        .expect("key");
    let key = created.key.expose_secret().to_owned();
    assert!(key.starts_with("nga_"));
    assert_eq!(created.info.kind, ApiKeyKind::Agent);
    assert_eq!(created.info.agent_id, Some(agent.id));
    assert_eq!(
        created.info.user_id, owner.id,
        "an agent key belongs to the agent's owner"
    );
    assert_eq!(
        gate_store::public_id_of(&key),
        Some(created.info.public_id.as_str())
    );

    let user_key = store
        .create_api_key(NewApiKey::for_user(owner.id))
        .await
        .expect("user key");
    let mine = store.list_api_keys(owner.id).await.expect("list");
    assert_eq!(mine.len(), 2);
    assert!(!db.contains(&key).await);
    assert!(!db.contains(user_key.key.expose_secret()).await);

    // Deleting the agent deletes its keys.
    store.delete_agent(agent.id).await.expect("delete");
    assert!(store.find_api_key(&key).await.expect("find").is_none());
    assert_eq!(store.list_api_keys(owner.id).await.expect("list").len(), 1);
    assert!(
        store
            .create_api_key(NewApiKey::for_agent(agent.id))
            .await
            .expect_err("gone")
            .is_not_found()
    );
}
