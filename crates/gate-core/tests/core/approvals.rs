//! Approvals: the exact canonical request is stored and hashed; approving (or running) twice
//! concurrently, even from two instances, executes once; denial; expiry; who may see the
//! result.

use std::time::Duration;

use gate_core::{Gate, GateError, NotionRequest, Surface};
use gate_store::{ApprovalDecision, ApprovalId, ApprovalStatus, AuditDecision, Outcome};
use serde_json::{Value, json};

use crate::{Opts, TestDb, World, config, seen, world, world_with};

async fn held(w: &World, key: &str, title: &str) -> ApprovalId {
    let root = w.emu.demo_ids().root_page.clone();
    let caller = w.caller(key).await;
    let req = NotionRequest::post(
        "/v1/pages?z=1&a=2",
        json!({"properties": {"title": {"title": [{"text": {"content": title}}]}}, "parent": {"page_id": root}}),
    );
    match w.gate.call(&caller, Surface::Tool, req).await {
        Err(GateError::ApprovalRequired { id, .. }) => id,
        other => panic!("expected an approval, got {other:?}"),
    }
}

async fn stores_canonical_request_and_runs_once(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "held page").await;
    assert_eq!(
        w.emu.counters().route("POST /v1/pages"),
        0,
        "nothing sent while held"
    );

    let a = w.gate.store().get_approval(id).await.expect("approval");
    assert_eq!(a.status, ApprovalStatus::Pending);
    assert_eq!(a.request.action_class, "create");
    assert_eq!(a.request.agent_id, Some(bot.id));
    assert_eq!(a.request.requester_user_id, Some(w.alice.id));
    assert!(a.request.connection_id.is_some());
    let root = w.emu.demo_ids().root_page.clone();
    let expected = format!(
        r#"{{"body":{{"parent":{{"page_id":"{root}"}},"properties":{{"title":{{"title":[{{"text":{{"content":"held page"}}}}]}}}}}},"method":"POST","notion_version":null,"path":"/v1/pages","query":[["a","2"],["z","1"]]}}"#
    );
    assert_eq!(
        a.request.request_json, expected,
        "canonical: sorted keys and query"
    );
    assert_eq!(a.request_hash, gate_store::sha256_hex(expected.as_bytes()));
    let last = w.audit().await.pop().expect("record").record;
    assert_eq!(last.decision, AuditDecision::NeedsApproval);
    assert_eq!(last.outcome, Outcome::Pending);

    // Two approvals at once: one runs it, the other is a conflict.
    let (r1, r2) = tokio::join!(
        w.gate.approve(&w.alice.caller, id, None),
        w.gate.approve(&w.alice.caller, id, None)
    );
    let (ok, err) = match (r1, r2) {
        (Ok(a), Err(e)) | (Err(e), Ok(a)) => (a, e),
        other => panic!("one approve must win: {other:?}"),
    };
    assert!(matches!(seen(err), GateError::Conflict { .. }));
    assert_eq!(ok.status, ApprovalStatus::Executed);
    assert_eq!(ok.result_status, Some(200));
    assert_eq!(
        w.emu.counters().route("POST /v1/pages"),
        1,
        "executed exactly once"
    );

    // Running it again returns the stored result, never a second execution.
    let again = w.gate.run_approved(id).await.expect("stored result");
    assert_eq!(again.status, ApprovalStatus::Executed);
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 1);

    // The requester fetches the result.
    let agent = w.caller(&bot.key).await;
    let r = w.gate.approval_result(&agent, id).await.expect("result");
    let body: Value = serde_json::from_str(r.result_json.as_deref().expect("json")).expect("json");
    assert_eq!(body["object"], "page");
    // The execution has its own audit record.
    let last = w.audit().await.pop().expect("record").record;
    assert_eq!(last.call.caller_kind, gate_store::CallerKind::System);
    assert_eq!(last.reason.as_deref(), Some("approved"));
    assert_eq!(last.outcome, Outcome::Ok);
    assert_eq!(last.upstream_status, Some(200));
    w.finish().await;
}

async fn concurrent_runs_across_instances(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "raced page").await;
    w.gate
        .store()
        .decide_approval(
            id,
            gate_store::Decided::new(ApprovalDecision::Approve, w.alice.id, None),
        )
        .await
        .expect("approve");
    let other = Gate::new(config(
        w.db.store().await,
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    ))
    .expect("gate");
    let (a, b, c) = tokio::join!(
        w.gate.run_approved(id),
        other.run_approved(id),
        w.gate.run_approved(id)
    );
    let mut executed = 0;
    for r in [a, b, c] {
        match r {
            Ok(a) => {
                assert_eq!(a.status, ApprovalStatus::Executed);
                executed += 1;
            }
            Err(e) => assert!(matches!(seen(e), GateError::Conflict { .. })),
        }
    }
    assert!(executed >= 1);
    assert_eq!(
        w.emu.counters().route("POST /v1/pages"),
        1,
        "exactly one execution"
    );
    other.shutdown().await;
    w.finish().await;
}

async fn denial_and_expiry(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "denied page").await;
    let denied = w.gate.deny(&w.alice.caller, id, None).await.expect("deny");
    assert_eq!(denied.status, ApprovalStatus::Denied);
    assert!(matches!(
        seen(
            w.gate
                .approve(&w.alice.caller, id, None)
                .await
                .expect_err("decided")
        ),
        GateError::Conflict { .. }
    ));
    assert!(matches!(
        seen(w.gate.run_approved(id).await.expect_err("not approved")),
        GateError::Conflict { .. }
    ));
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 0);
    w.finish().await;
}

async fn expired_approvals_cannot_run(db: TestDb) {
    let w = world_with(
        db,
        Opts {
            approval_ttl: Duration::ZERO,
            ..Opts::default()
        },
    )
    .await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "late page").await;
    assert!(matches!(
        seen(
            w.gate
                .approve(&w.alice.caller, id, None)
                .await
                .expect_err("expired")
        ),
        GateError::Conflict { .. }
    ));
    assert!(w.gate.expire_approvals().await.expect("expire") >= 1);
    let a = w
        .gate
        .approval_result(&w.alice.caller, id)
        .await
        .expect("visible");
    assert_eq!(a.status, ApprovalStatus::Expired);
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 0);
    w.finish().await;
}

async fn result_visibility(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let sibling = w.agent(&w.alice, "sibling", "autonomous").await;
    let stranger = w.agent(&w.bob, "stranger", "autonomous").await;
    let id = held(&w, &bot.key, "private page").await;
    w.gate
        .approve(&w.alice.caller, id, None)
        .await
        .expect("approve");

    let requester = w.caller(&bot.key).await;
    assert!(w.gate.approval_result(&requester, id).await.is_ok());
    assert!(
        w.gate.approval_result(&w.alice.caller, id).await.is_ok(),
        "owner"
    );
    assert!(w.gate.approval_result(&w.admin, id).await.is_ok(), "admin");
    for key in [&sibling.key, &stranger.key] {
        let c = w.caller(key).await;
        let e = seen(w.gate.approval_result(&c, id).await.expect_err("hidden"));
        assert!(
            matches!(e, GateError::NotFound { what: "approval" }),
            "{e:?}"
        );
    }
    let e = seen(
        w.gate
            .approval_result(&w.bob.caller, id)
            .await
            .expect_err("hidden"),
    );
    assert!(matches!(e, GateError::NotFound { .. }));
    // Listing follows the same rule.
    let filter = gate_store::ApprovalFilter::new;
    assert_eq!(
        w.gate
            .list_approvals(&requester, filter())
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(
        w.gate
            .list_approvals(&w.bob.caller, filter())
            .await
            .expect("list")
            .is_empty()
    );
    let c = w.caller(&sibling.key).await;
    assert!(
        w.gate
            .list_approvals(&c, filter())
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        w.gate
            .list_approvals(&w.admin, filter())
            .await
            .expect("list")
            .len(),
        1
    );
    w.finish().await;
}

/// An agent disabled between the request and the approval is refused at run time.
async fn recheck_at_run_time(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "stale page").await;
    w.gate
        .disable_agent(&w.alice.caller, bot.id)
        .await
        .expect("disable");
    let a = w
        .gate
        .approve(&w.alice.caller, id, None)
        .await
        .expect("decided and refused");
    assert_eq!(a.status, ApprovalStatus::Failed);
    assert!(
        a.result_json
            .as_deref()
            .unwrap_or("")
            .contains("agent_disabled")
    );
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 0);
    w.finish().await;
}

crate::both!(
    stores_canonical_request_and_runs_once,
    concurrent_runs_across_instances,
    denial_and_expiry,
    expired_approvals_cannot_run,
    result_visibility,
    recheck_at_run_time
);
