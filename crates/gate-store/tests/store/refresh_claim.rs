//! Single-flight token refresh across instances: `claim_token_refresh` is a conditional
//! update, so of many concurrent claimers on separate store handles exactly one wins; the
//! claim ends with new tokens, a release by its holder, or the end of its lease.

use std::time::Duration;

use gate_store::{ConnectionId, ConnectionKind, NewConnection, NewUser, Vault, VaultKey};
use secrecy::{ExposeSecret as _, SecretString};

use crate::TestDb;

crate::contract!(
    one_claimer_wins_among_concurrent_instances,
    claim_ends_with_new_tokens_release_or_lease,
);

async fn oauth_connection(db: &TestDb, vault: &Vault) -> ConnectionId {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let new = NewConnection::new(
        alice.id,
        ConnectionKind::OAuth,
        "ws-1",
        "bot-1",
        SecretString::from("ntn_old".to_owned()),
    )
    .refresh_token(SecretString::from("nrt_old".to_owned()));
    store
        .upsert_connection(vault, new)
        .await
        .expect("connection")
        .id
}

async fn one_claimer_wins_among_concurrent_instances(db: &TestDb) {
    let vault = Vault::new(vec![VaultKey::generate().1]).expect("vault");
    let id = oauth_connection(db, &vault).await;
    // Four "instances" (own pools), five claimers each, all at once.
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(db.store().await);
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 4].clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim_token_refresh(id, &format!("holder-{i}"), Duration::from_secs(30))
                .await
                .expect("claim")
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += u32::from(t.await.expect("task"));
    }
    assert_eq!(winners, 1, "exactly one claimer refreshes");
}

async fn claim_ends_with_new_tokens_release_or_lease(db: &TestDb) {
    let vault = Vault::new(vec![VaultKey::generate().1]).expect("vault");
    let id = oauth_connection(db, &vault).await;
    let a = db.store().await;
    let b = db.store().await;
    let lease = Duration::from_secs(60);
    let before = a.get_connection(id).await.expect("row");

    // A claims; B cannot; A may renew its own claim.
    assert!(a.claim_token_refresh(id, "a", lease).await.unwrap());
    assert!(!b.claim_token_refresh(id, "b", lease).await.unwrap());
    assert!(a.claim_token_refresh(id, "a", lease).await.unwrap());
    // A claim is not a change of the row: other instances do not reload for it.
    assert_eq!(
        a.get_connection(id).await.unwrap().updated_at,
        before.updated_at
    );

    // B's release does not end A's claim; A's does.
    b.release_token_refresh(id, "b").await.unwrap();
    assert!(!b.claim_token_refresh(id, "b", lease).await.unwrap());
    a.release_token_refresh(id, "a").await.unwrap();
    assert!(b.claim_token_refresh(id, "b", lease).await.unwrap());

    // New tokens end B's claim; A can then claim, and B's readers see B's tokens.
    b.update_connection_tokens(
        &vault,
        id,
        &SecretString::from("ntn_new".to_owned()),
        Some(&SecretString::from("nrt_new".to_owned())),
        None,
    )
    .await
    .unwrap();
    let tokens = a.connection_tokens(&vault, id).await.unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "ntn_new");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
        Some("nrt_new")
    );
    assert!(
        a.claim_token_refresh(id, "a", Duration::ZERO)
            .await
            .unwrap()
    );

    // A zero lease has already run out: a crashed holder does not block others.
    assert!(b.claim_token_refresh(id, "b", lease).await.unwrap());

    // An unknown connection is NotFound, not "someone else holds it".
    let err = a
        .claim_token_refresh(ConnectionId::new(), "a", lease)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
