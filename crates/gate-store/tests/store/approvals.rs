//! Contract tests: approvals (pending → approved/denied/expired → executing → executed/failed).

use std::time::Duration;

use gate_store::{
    ApprovalDecision, ApprovalFilter, ApprovalId, ApprovalOutcome, ApprovalStatus, NewAgent,
    NewApproval, NewUser, RequesterKind, StoreError,
};

use crate::TestDb;

crate::contract!(
    approval_lifecycle,
    approval_deny_expire_and_errors,
    approval_note_withdraw_and_changes
);

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
    assert_eq!(a.request.requester_kind, RequesterKind::Agent);
    assert_eq!(a.request.request_json, REQUEST);
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
        .decide_approval(
            a.id,
            gate_store::Decided::new(ApprovalDecision::Approve, alice.id, None),
        )
        .await
        .expect("approve");
    assert_eq!(approved.status, ApprovalStatus::Approved);
    assert_eq!(approved.decided_by, Some(alice.id));
    assert!(approved.decided_at.is_some());

    let twice = store
        .decide_approval(
            a.id,
            gate_store::Decided::new(ApprovalDecision::Deny, alice.id, None),
        )
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
        .decide_approval(
            denied.id,
            gate_store::Decided::new(ApprovalDecision::Deny, alice.id, None),
        )
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
        .decide_approval(
            late.id,
            gate_store::Decided::new(ApprovalDecision::Approve, alice.id, None),
        )
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
            .decide_approval(
                unknown,
                gate_store::Decided::new(ApprovalDecision::Approve, alice.id, None)
            )
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

async fn approval_note_withdraw_and_changes(db: &TestDb) {
    use futures::StreamExt as _;
    let store = db.store().await;
    let alice = store
        .create_user(NewUser::new("alice"))
        .await
        .expect("alice");
    let agent = store
        .create_agent(NewAgent::new(alice.id, "a", "supervised"))
        .await
        .expect("agent");
    let new = || NewApproval::for_agent(agent.id, "pages.create", "create", "{}").user(alice.id);

    // Another instance listens (PostgreSQL announces every status change; SQLite cannot).
    let listener = db.store().await;
    let mut changes = listener.approval_changes().await.expect("listen");
    assert_eq!(changes.is_some(), db.kind == crate::Kind::Postgres);

    // The decider's note is kept (trimmed); blank is none; too long or control characters
    // are refused before anything changes.
    let a = store.create_approval(new()).await.expect("create");
    let bad = store
        .decide_approval(
            a.id,
            gate_store::Decided::new(ApprovalDecision::Deny, alice.id, Some("a\u{7}b")),
        )
        .await
        .expect_err("control character");
    assert!(matches!(bad, StoreError::Invalid { .. }), "{bad:?}");
    let long = "x".repeat(gate_store::MAX_APPROVAL_NOTE + 1);
    assert!(
        store
            .decide_approval(
                a.id,
                gate_store::Decided::new(ApprovalDecision::Deny, alice.id, Some(&long))
            )
            .await
            .is_err()
    );
    assert_eq!(
        store.get_approval(a.id).await.expect("get").status,
        ApprovalStatus::Pending
    );
    let denied = store
        .decide_approval(
            a.id,
            gate_store::Decided::new(
                ApprovalDecision::Deny,
                alice.id,
                Some("  not in the team space\nask Bob  "),
            ),
        )
        .await
        .expect("deny");
    assert_eq!(
        denied.decision_note.as_deref(),
        Some("not in the team space\nask Bob")
    );
    assert_eq!(
        store.get_approval(a.id).await.expect("get").decision_note,
        denied.decision_note
    );
    if let Some(changes) = changes.as_mut() {
        let id = tokio::time::timeout(Duration::from_secs(10), changes.next())
            .await
            .expect("announced in time")
            .expect("stream open");
        assert_eq!(id, a.id);
    }
    let b = store.create_approval(new()).await.expect("create");
    let approved = store
        .decide_approval(
            b.id,
            gate_store::Decided::new(ApprovalDecision::Approve, alice.id, Some("   ")),
        )
        .await
        .expect("approve");
    assert_eq!(approved.decision_note, None);

    // Withdrawn: only while pending and unexpired; once.
    let c = store.create_approval(new()).await.expect("create");
    let w = store.withdraw_approval(c.id).await.expect("withdraw");
    assert_eq!(w.status, ApprovalStatus::Withdrawn);
    assert!(w.decided_at.is_some() && w.decided_by.is_none());
    assert!(w.status.is_final());
    let again = store.withdraw_approval(c.id).await.expect_err("twice");
    assert!(
        again.is_conflict() && again.to_string().contains("withdrawn"),
        "{again}"
    );
    assert!(
        store
            .decide_approval(
                c.id,
                gate_store::Decided::new(ApprovalDecision::Approve, alice.id, None)
            )
            .await
            .expect_err("withdrawn")
            .is_conflict()
    );
    assert!(
        store
            .withdraw_approval(b.id)
            .await
            .expect_err("approved")
            .is_conflict()
    );
    let late = store
        .create_approval(new().ttl(Duration::ZERO))
        .await
        .expect("create");
    assert!(
        store
            .withdraw_approval(late.id)
            .await
            .expect_err("expired")
            .to_string()
            .contains("expired")
    );
    assert!(
        store
            .withdraw_approval(ApprovalId::new())
            .await
            .expect_err("unknown")
            .is_not_found()
    );
    let withdrawn = store
        .list_approvals(ApprovalFilter::new().status(ApprovalStatus::Withdrawn))
        .await
        .expect("list");
    assert_eq!(withdrawn.iter().map(|a| a.id).collect::<Vec<_>>(), [c.id]);
}
