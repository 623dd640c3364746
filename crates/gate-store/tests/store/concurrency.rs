//! Contract tests: two store handles (two pools, like two gateway instances) racing on the
//! transitions that must happen exactly once.

use std::sync::Arc;

use gate_store::{ApprovalDecision, NewApproval, NewOAuthState, NewUser, Store};
use tokio::sync::Barrier;

use crate::TestDb;

crate::contract!(
    race_consume_oauth_state,
    race_claim_approval,
    race_decide_approval
);

const ROUNDS: usize = 20;

/// Runs `f` on two contenders per instance at once (released by a barrier); returns results.
async fn race<T, F, Fut>(instances: &[Arc<dyn Store>; 2], f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let contenders = 4;
    let barrier = Arc::new(Barrier::new(contenders));
    let mut tasks = Vec::new();
    for i in 0..contenders {
        let store = Arc::clone(&instances[i % 2]);
        let fut = f(store, i);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            fut.await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

async fn two_instances(db: &TestDb) -> [Arc<dyn Store>; 2] {
    [db.store().await, db.store().await]
}

async fn race_consume_oauth_state(db: &TestDb) {
    let instances = two_instances(db).await;
    let user = instances[0]
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    for round in 0..ROUNDS {
        let state = instances[round % 2]
            .create_oauth_state(NewOAuthState::new(user.id))
            .await
            .expect("state");
        let hash = state.info.state_hash.clone();
        let results = race(&instances, |store, _| {
            let hash = hash.clone();
            async move { store.consume_oauth_state(&hash).await.expect("consume") }
        })
        .await;
        let winners = results.iter().filter(|r| r.is_some()).count();
        assert_eq!(winners, 1, "round {round}: exactly one consumer must win");
    }
}

async fn race_claim_approval(db: &TestDb) {
    let instances = two_instances(db).await;
    let user = instances[0]
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    for round in 0..ROUNDS {
        let a = instances[0]
            .create_approval(NewApproval::for_user(
                user.id,
                "pages.update",
                "update",
                "{}",
            ))
            .await
            .expect("approval");
        instances[1]
            .decide_approval(
                a.id,
                gate_store::Decided::new(ApprovalDecision::Approve, user.id, None),
            )
            .await
            .expect("approve");
        let results = race(&instances, |store, _| async move {
            store
                .claim_approval_for_execution(a.id)
                .await
                .expect("claim")
        })
        .await;
        let winners = results.iter().filter(|won| **won).count();
        assert_eq!(
            winners, 1,
            "round {round}: exactly one instance may execute"
        );
    }
}

async fn race_decide_approval(db: &TestDb) {
    let instances = two_instances(db).await;
    let user = instances[0]
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    for round in 0..ROUNDS {
        let a = instances[0]
            .create_approval(NewApproval::for_user(
                user.id,
                "pages.update",
                "update",
                "{}",
            ))
            .await
            .expect("approval");
        let results = race(&instances, |store, i| async move {
            let decision = if i % 2 == 0 {
                ApprovalDecision::Approve
            } else {
                ApprovalDecision::Deny
            };
            store
                .decide_approval(a.id, gate_store::Decided::new(decision, user.id, None))
                .await
        })
        .await;
        let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(
            ok.len(),
            1,
            "round {round}: exactly one decision must stick"
        );
        for r in &results {
            if let Err(e) = r {
                assert!(
                    e.is_conflict(),
                    "round {round}: the loser gets a conflict, got {e:?}"
                );
            }
        }
        let stored = instances[1].get_approval(a.id).await.expect("get");
        assert_eq!(
            stored.status, ok[0].status,
            "the stored decision is the winner's"
        );
    }
}
