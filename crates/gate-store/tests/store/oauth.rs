//! Contract tests: OAuth states (single use, bound to a user, short-lived, stored by hash).

use std::time::Duration;

use gate_store::{NewOAuthState, NewUser, StoreError, TokenHash};
use secrecy::ExposeSecret as _;

use crate::TestDb;

crate::contract!(oauth_state_single_use, oauth_state_expiry_and_purge);

async fn oauth_state_single_use(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let created = store
        .create_oauth_state(NewOAuthState::new(alice.id).redirect_to("/settings"))
        .await
        .expect("state");
    let state = created.state.expose_secret().to_owned();
    assert!(state.len() >= 43, "256-bit state");
    assert_eq!(created.info.state_hash, TokenHash::of(&state));
    let ttl = created.info.expires_at - created.info.created_at;
    assert_eq!(ttl, time::Duration::minutes(10));
    assert!(
        !db.contains(&state).await,
        "the state itself is never stored"
    );

    let consumed = store
        .consume_oauth_state(&TokenHash::of(&state))
        .await
        .expect("consume")
        .expect("first use wins");
    assert_eq!(consumed.user_id, alice.id);
    assert_eq!(consumed.redirect_to.as_deref(), Some("/settings"));
    assert!(consumed.used_at.is_some());

    assert!(
        store
            .consume_oauth_state(&TokenHash::of(&state))
            .await
            .expect("again")
            .is_none()
    );
    assert!(
        store
            .consume_oauth_state(&TokenHash::of("unknown"))
            .await
            .expect("unknown")
            .is_none()
    );

    let too_long = store
        .create_oauth_state(NewOAuthState::new(alice.id).ttl(Duration::from_secs(601)))
        .await
        .expect_err("over 10 minutes");
    assert!(matches!(too_long, StoreError::Invalid { .. }));
    assert!(
        store
            .create_oauth_state(NewOAuthState::new(gate_store::UserId::new()))
            .await
            .expect_err("no such user")
            .is_not_found()
    );
}

async fn oauth_state_expiry_and_purge(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let expired = store
        .create_oauth_state(NewOAuthState::new(alice.id).ttl(Duration::ZERO))
        .await
        .expect("state");
    let used = store
        .create_oauth_state(NewOAuthState::new(alice.id))
        .await
        .expect("state");
    let live = store
        .create_oauth_state(NewOAuthState::new(alice.id))
        .await
        .expect("state");

    assert!(
        store
            .consume_oauth_state(&expired.info.state_hash)
            .await
            .expect("expired")
            .is_none(),
        "an expired state is refused"
    );
    assert!(
        store
            .consume_oauth_state(&used.info.state_hash)
            .await
            .expect("use")
            .is_some()
    );

    assert_eq!(store.purge_oauth_states().await.expect("purge"), 2);
    assert!(
        store
            .consume_oauth_state(&live.info.state_hash)
            .await
            .expect("live")
            .is_some()
    );
}
