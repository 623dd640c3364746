//! Contract tests: approvals (pending → approved/denied/expired → executing → executed/failed).

use std::time::Duration;

use gate_store::{
    ApprovalDecision, ApprovalFilter, ApprovalId, ApprovalOutcome, ApprovalStatus, NewAgent,
    NewApproval, NewUser, RequesterKind, StoreError,
};

use crate::TestDb;

crate::contract!(approval_lifecycle, approval_deny_expire_and_errors);

const REQUEST: &str = r#"{"method":"PATCH","path":"/v1/pages/abc","body":{"in_trash":true}}"#;

async fn approval_lifecycle(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let agent = store
        .create_agent(NewAgent::new(alice.id, "a", "supervised"))
        .await
        .expect("agent");

    let a = store
        .create_approval(
            NewApproval::for_agent(agent.id, "pages.update", "delete", REQUEST).user(alice.id),
        )
        .await
        .expect("create");
    assert_eq!(a.status, ApprovalStatus::Pending);
    assert_eq!(a.requester_kind, RequesterKind::Agent);
    assert_eq!(a.request_json, REQUEST);
    assert_eq!(a.request_hash, gate_store::sha256_hex(REQUEST.as_bytes()));
    assert_eq!(a.expires_at - a.created_at, time::Duration::hours(24));
    assert!(a.decided_by.is_none() && a.result_json.is_none());

    // Not approved yet: nobody can claim it.
    assert!(
        !store
            .claim_approval_for_execution(a.id)
            .await
            .expect("claim")
    );

    let approved = store
        .decide_approval(a.id, ApprovalDecision::Approve, alice.id)
        .await
        .expect("approve");
    assert_eq!(approved.status, ApprovalStatus::Approved);
    assert_eq!(approved.decided_by, Some(alice.id));
    assert!(approved.decided_at.is_some());

    let twice = store
        .decide_approval(a.id, ApprovalDecision::Deny, alice.id)
        .await
        .expect_err("already decided");
    assert!(twice.is_conflict(), "{twice:?}");
    assert!(twice.to_string().contains("approved"), "{twice}");

    assert!(
        store
            .claim_approval_for_execution(a.id)
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_approval_for_execution(a.id)
            .await
            .expect("claim again")
    );
    assert_eq!(
        store.get_approval(a.id).await.expect("get").status,
        ApprovalStatus::Executing
    );

    let done = store
        .finish_approval(a.id, ApprovalOutcome::ok(r#"{"object":"page"}"#, Some(200)))
        .await
        .expect("finish");
    assert_eq!(done.status, ApprovalStatus::Executed);
    assert_eq!(done.result_json.as_deref(), Some(r#"{"object":"page"}"#));
    assert_eq!(done.result_status, Some(200));
    assert!(done.finished_at.is_some());
    assert!(
        store
            .finish_approval(a.id, ApprovalOutcome::failed("{}", None))
            .await
            .expect_err("finished")
            .is_conflict()
    );

    // Listing and filters.
    let other = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "blocks.delete",
            "delete",
            "{}",
        ))
        .await
        .expect("second");
    let all = store
        .list_approvals(ApprovalFilter::new())
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    let pending = store
        .list_approvals(ApprovalFilter::new().status(ApprovalStatus::Pending))
        .await
        .expect("pending");
    assert_eq!(pending.iter().map(|a| a.id).collect::<Vec<_>>(), [other.id]);
    let by_agent = store
        .list_approvals(ApprovalFilter::new().agent(agent.id))
        .await
        .expect("agent");
    assert_eq!(by_agent.iter().map(|a| a.id).collect::<Vec<_>>(), [a.id]);
    let by_user = store
        .list_approvals(ApprovalFilter::new().user(alice.id).limit(1))
        .await
        .expect("user");
    assert_eq!(by_user.len(), 1);
}

async fn approval_deny_expire_and_errors(db: &TestDb) {
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let denied = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            "{}",
        ))
        .await
        .expect("create");
    let d = store
        .decide_approval(denied.id, ApprovalDecision::Deny, alice.id)
        .await
        .expect("deny");
    assert_eq!(d.status, ApprovalStatus::Denied);
    assert!(
        !store
            .claim_approval_for_execution(denied.id)
            .await
            .expect("claim denied")
    );

    // Expired before anyone decided.
    let late = store
        .create_approval(
            NewApproval::for_user(alice.id, "pages.create", "create", "{}").ttl(Duration::ZERO),
        )
        .await
        .expect("create");
    let err = store
        .decide_approval(late.id, ApprovalDecision::Approve, alice.id)
        .await
        .expect_err("expired");
    assert!(
        err.is_conflict() && err.to_string().contains("expired"),
        "{err}"
    );
    let live = store
        .create_approval(NewApproval::for_user(
            alice.id,
            "pages.create",
            "create",
            "{}",
        ))
        .await
        .expect("create");
    assert_eq!(store.expire_approvals().await.expect("expire"), 1);
    assert_eq!(
        store.get_approval(late.id).await.expect("get").status,
        ApprovalStatus::Expired
    );
    assert_eq!(
        store.get_approval(live.id).await.expect("get").status,
        ApprovalStatus::Pending
    );

    // Unknown ids and bad input.
    let unknown = ApprovalId::new();
    assert!(
        store
            .get_approval(unknown)
            .await
            .expect_err("x")
            .is_not_found()
    );
    assert!(
        store
            .decide_approval(unknown, ApprovalDecision::Approve, alice.id)
            .await
            .expect_err("x")
            .is_not_found()
    );
    assert!(
        store
            .claim_approval_for_execution(unknown)
            .await
            .expect_err("x")
            .is_not_found()
    );
    assert!(matches!(
        store
            .create_approval(NewApproval::for_user(alice.id, "op", "create", "not json"))
            .await,
        Err(StoreError::Invalid { .. })
    ));
    // Finishing something that is not executing.
    assert!(
        store
            .finish_approval(live.id, ApprovalOutcome::ok("{}", None))
            .await
            .expect_err("pending")
            .is_conflict()
    );
}
