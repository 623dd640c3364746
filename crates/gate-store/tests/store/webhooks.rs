//! Contract tests: the webhook-delivery outbox (create → claim under a lease → attempts →
//! delivered or given up; failures listed per user; purge) and the expiry that returns the
//! approvals it expired.

use std::time::Duration;

use gate_store::{
    ApprovalStatus, NewAgent, NewApproval, NewUser, NewWebhookDelivery, WebhookAttempt,
    WebhookDeliveryFilter,
};

use crate::TestDb;

crate::contract!(
    webhook_delivery_lifecycle,
    webhook_claims_are_exclusive_and_leased,
    webhook_failures_are_listed_per_user,
    expire_due_approvals_returns_each_once,
);

const REQUEST: &str = r#"{"method":"POST","path":"/v1/pages","body":{}}"#;

async fn webhook_delivery_lifecycle(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    let a = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            REQUEST,
        ))
        .await
        .expect("approval");
    let created = store
        .create_webhook_deliveries(&[
            NewWebhookDelivery::new("h1", "https://a.example", "approval.created", a.id, "{}"),
            NewWebhookDelivery::new("h2", "https://b.example", "approval.created", a.id, "{}"),
        ])
        .await
        .expect("create");
    assert_eq!(created.len(), 2);
    assert!(
        created
            .iter()
            .all(|d| d.attempts == 0 && d.next_attempt_at.is_some())
    );

    let claimed = store
        .claim_due_webhook_deliveries(10, Duration::from_secs(60))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    // Leased: nothing is due now.
    let again = store
        .claim_due_webhook_deliveries(10, Duration::from_secs(60))
        .await
        .expect("claim");
    assert!(again.is_empty(), "{again:?}");

    let retry_at = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let d = store
        .record_webhook_attempt(
            claimed[0].id,
            WebhookAttempt::Retry {
                status: Some(500),
                error: "hook answered 500".into(),
                retry_at,
            },
        )
        .await
        .expect("retry");
    assert_eq!(d.attempts, 1);
    assert_eq!(d.last_status, Some(500));
    assert_eq!(d.last_error.as_deref(), Some("hook answered 500"));
    let failed = store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().failed())
        .await
        .expect("list");
    assert_eq!(failed.len(), 1);

    // Due again (retry_at is past): claimed, then delivered.
    let due = store
        .claim_due_webhook_deliveries(10, Duration::from_secs(60))
        .await
        .expect("claim");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, claimed[0].id);
    let done = store
        .record_webhook_attempt(due[0].id, WebhookAttempt::Delivered { status: 204 })
        .await
        .expect("delivered");
    assert!(done.is_delivered() && done.next_attempt_at.is_none());
    assert_eq!(done.attempts, 2);
    assert!(done.last_error.is_none());

    let gave = store
        .record_webhook_attempt(
            claimed[1].id,
            WebhookAttempt::GiveUp {
                status: Some(404),
                error: "hook answered 404".into(),
            },
        )
        .await
        .expect("give up");
    assert!(gave.gave_up());
    let twice = store
        .record_webhook_attempt(claimed[1].id, WebhookAttempt::Delivered { status: 200 })
        .await
        .expect_err("finished");
    assert!(twice.is_conflict(), "{twice:?}");
    let failed = store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().failed())
        .await
        .expect("list");
    assert_eq!(
        failed.iter().map(|d| d.id).collect::<Vec<_>>(),
        [claimed[1].id]
    );

    // Purge: finished rows older than the cut-off go; none are left unfinished.
    let future = time::OffsetDateTime::now_utc() + time::Duration::minutes(1);
    assert_eq!(
        store.purge_webhook_deliveries(future).await.expect("purge"),
        2
    );
    assert!(
        store
            .list_webhook_deliveries(WebhookDeliveryFilter::new())
            .await
            .expect("list")
            .is_empty()
    );
}

async fn webhook_claims_are_exclusive_and_leased(db: &TestDb) {
    let one = db.store().await;
    let two = db.store().await;
    let alice = one.create_user(NewUser::new("alice")).await.expect("user");
    let a = one
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            REQUEST,
        ))
        .await
        .expect("approval");
    let new: Vec<_> = (0..20)
        .map(|i| {
            NewWebhookDelivery::new(
                format!("h{i}"),
                "https://a.example",
                "approval.created",
                a.id,
                "{}",
            )
        })
        .collect();
    one.create_webhook_deliveries(&new).await.expect("create");
    let (x, y) = tokio::join!(
        one.claim_due_webhook_deliveries(20, Duration::from_secs(60)),
        two.claim_due_webhook_deliveries(20, Duration::from_secs(60)),
    );
    let (x, y) = (x.expect("claim"), y.expect("claim"));
    assert_eq!(
        x.len() + y.len(),
        20,
        "each delivery is claimed exactly once"
    );
    let mut ids: Vec<_> = x.iter().chain(&y).map(|d| d.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);

    // A zero lease: claimed rows are due again at once (a worker that died).
    let fresh = NewWebhookDelivery::new("z", "https://a.example", "approval.expired", a.id, "{}");
    one.create_webhook_deliveries(&[fresh])
        .await
        .expect("create");
    let first = one
        .claim_due_webhook_deliveries(5, Duration::ZERO)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    let second = two
        .claim_due_webhook_deliveries(5, Duration::ZERO)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1, "an expired lease frees the delivery");
}

async fn webhook_failures_are_listed_per_user(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let bob = store.create_user(NewUser::new("bob")).await.expect("bob");
    let agent = store
        .create_agent(NewAgent::new(bob.id, "w", "supervised"))
        .await
        .expect("agent");
    let mine = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            REQUEST,
        ))
        .await
        .expect("approval");
    let bobs = store
        .create_approval(
            NewApproval::for_agent(agent.id, "pages.create", "create", REQUEST).user(bob.id),
        )
        .await
        .expect("approval");
    let rows = store
        .create_webhook_deliveries(&[
            NewWebhookDelivery::new("h", "https://a.example", "approval.created", mine.id, "{}"),
            NewWebhookDelivery::new("h", "https://a.example", "approval.created", bobs.id, "{}"),
        ])
        .await
        .expect("create");
    for d in &rows {
        store
            .record_webhook_attempt(
                d.id,
                WebhookAttempt::GiveUp {
                    status: None,
                    error: "connection refused".into(),
                },
            )
            .await
            .expect("record");
    }
    let bob_sees = store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().failed().user(bob.id))
        .await
        .expect("list");
    assert_eq!(
        bob_sees.iter().map(|d| d.approval_id).collect::<Vec<_>>(),
        [bobs.id]
    );
    let all = store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().failed().limit(1))
        .await
        .expect("list");
    assert_eq!(all.len(), 1);
    let by_approval = store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(mine.id))
        .await
        .expect("list");
    assert_eq!(by_approval.len(), 1);
}

async fn expire_due_approvals_returns_each_once(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("user");
    let gone = store
        .create_approval(
            NewApproval::for_user(alice.id, "pages.create", "create", REQUEST)
                .ttl(Duration::from_millis(1)),
        )
        .await
        .expect("approval");
    let kept = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            REQUEST,
        ))
        .await
        .expect("approval");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let expired = store.expire_due_approvals().await.expect("expire");
    assert_eq!(expired.iter().map(|a| a.id).collect::<Vec<_>>(), [gone.id]);
    assert_eq!(expired[0].status, ApprovalStatus::Expired);
    assert!(
        store
            .expire_due_approvals()
            .await
            .expect("again")
            .is_empty()
    );
    assert_eq!(
        store.get_approval(kept.id).await.expect("kept").status,
        ApprovalStatus::Pending
    );
}
