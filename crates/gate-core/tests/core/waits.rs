//! The approval view for requesters: status, the decider's note, the result; withdrawing;
//! waits that answer as soon as an approval is final (in this process, from another
//! instance, at expiry) and their bound per key. No test measures wall-clock time: each
//! checks that a long wait returned the final state well inside a shorter test timeout.

use std::time::Duration;

use gate_core::{Caller, Gate, GateError, NotionRequest, Surface};
use gate_store::{ApprovalId, ApprovalStatus};
use serde_json::json;

use crate::{Opts, TestDb, World, config, seen, world, world_with};

/// Longest a test lets a wait of 30 s take: a wait that only ended at its deadline fails.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

async fn held(w: &World, caller: &Caller, title: &str) -> ApprovalId {
    let root = w.emu.demo_ids().root_page.clone();
    let req = NotionRequest::post(
        "/v1/pages",
        json!({"properties": {"title": {"title": [{"text": {"content": title}}]}}, "parent": {"page_id": root}}),
    );
    match w.gate.call(caller, Surface::Mcp, req).await {
        Err(GateError::ApprovalRequired { id, .. }) => id,
        other => panic!("expected an approval, got {other:?}"),
    }
}

fn not_found(e: GateError) {
    assert!(matches!(seen(e), GateError::NotFound { what: "approval" }));
}

async fn view_note_withdraw_and_visibility(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let sibling = w.agent(&w.alice, "sibling", "supervised").await;
    let stranger = w.agent(&w.bob, "stranger", "supervised").await;
    let agent = w.caller(&bot.key).await;

    let first = held(&w, &agent, "approved page").await;
    let second = held(&w, &agent, "denied page").await;
    let third = held(&w, &agent, "withdrawn page").await;

    let v = w.gate.approval_view(&agent, first).await.expect("view");
    assert_eq!(v.status, ApprovalStatus::Pending);
    assert_eq!((v.note.as_deref(), v.result.as_ref()), (None, None));
    assert_eq!(v.approval.request.operation, "pages.create");

    // Nobody else's agent and no other user sees it, on any of the calls.
    for key in [&sibling.key, &stranger.key] {
        let other = w.caller(key).await;
        not_found(
            w.gate
                .approval_view(&other, first)
                .await
                .expect_err("hidden"),
        );
        not_found(
            w.gate
                .wait_approval(&other, first, Duration::from_secs(5))
                .await
                .expect_err("hidden"),
        );
        not_found(w.gate.withdraw(&other, first).await.expect_err("hidden"));
        assert!(
            w.gate
                .approval_views(&other, None, 100)
                .await
                .expect("list")
                .is_empty()
        );
    }
    not_found(
        w.gate
            .approval_view(&w.bob.caller, first)
            .await
            .expect_err("bob"),
    );

    // A note that is too long names the field; nothing changes.
    let long = "x".repeat(gate_store::MAX_APPROVAL_NOTE + 1);
    let e = seen(
        w.gate
            .deny(&w.alice.caller, second, Some(&long))
            .await
            .expect_err("too long"),
    );
    assert!(
        matches!(e, GateError::Invalid { field: "note", .. }),
        "{e:?}"
    );

    // Approved with a note: executed, Notion's answer and the note for the agent.
    let done = w
        .gate
        .approve(&w.alice.caller, first, Some("fine, go ahead"))
        .await
        .expect("approve");
    assert_eq!(done.status, ApprovalStatus::Executed);
    let v = w.gate.approval_view(&agent, first).await.expect("view");
    assert_eq!(v.status, ApprovalStatus::Executed);
    assert_eq!(v.note.as_deref(), Some("fine, go ahead"));
    let page = v.result.expect("result");
    assert_eq!(page["object"], "page");
    assert!(page["id"].is_string() && page["url"].is_string());
    assert!(v.error.is_none());

    // Denied with a note.
    w.gate
        .deny(&w.alice.caller, second, Some("not in the team space"))
        .await
        .expect("deny");
    let v = w.gate.approval_view(&agent, second).await.expect("view");
    assert_eq!(v.status, ApprovalStatus::Denied);
    assert_eq!(v.note.as_deref(), Some("not in the team space"));
    assert!(v.result.is_none() && v.is_final());

    // Only the requester withdraws; once; nothing runs afterwards.
    let e = seen(
        w.gate
            .withdraw(&w.alice.caller, third)
            .await
            .expect_err("owner"),
    );
    assert!(
        matches!(
            e,
            GateError::Forbidden {
                code: gate_core::Refusal::NotPermitted,
                ..
            }
        ),
        "{e:?}"
    );
    let v = w.gate.withdraw(&agent, third).await.expect("withdraw");
    assert_eq!(v.status, ApprovalStatus::Withdrawn);
    assert!(matches!(
        seen(w.gate.withdraw(&agent, third).await.expect_err("twice")),
        GateError::Conflict { .. }
    ));
    assert!(matches!(
        seen(
            w.gate
                .approve(&w.alice.caller, third, None)
                .await
                .expect_err("withdrawn")
        ),
        GateError::Conflict { .. }
    ));
    assert!(matches!(
        seen(w.gate.withdraw(&agent, first).await.expect_err("executed")),
        GateError::Conflict { .. }
    ));
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 1);

    // The agent's list: newest first, by status.
    let all = w.gate.approval_views(&agent, None, 100).await.expect("all");
    let ids: Vec<_> = all.iter().map(|v| v.id()).collect();
    assert_eq!(ids, [third, second, first]);
    let withdrawn = w
        .gate
        .approval_views(&agent, Some(ApprovalStatus::Withdrawn), 100)
        .await
        .expect("withdrawn");
    assert_eq!(
        withdrawn.iter().map(|v| v.id()).collect::<Vec<_>>(),
        [third]
    );
    w.finish().await;
}

async fn wait_answers_when_decided_here(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let agent = w.caller(&bot.key).await;
    let id = held(&w, &agent, "awaited page").await;

    // Without a wait, and with a wait of zero: at once, pending.
    let v = w
        .gate
        .wait_approval(&agent, id, Duration::ZERO)
        .await
        .expect("no wait");
    assert_eq!(v.status, ApprovalStatus::Pending);
    let e = seen(
        w.gate
            .wait_approval(&agent, id, Duration::from_secs(61))
            .await
            .expect_err("too long"),
    );
    assert!(
        matches!(e, GateError::Invalid { field: "wait", .. }),
        "{e:?}"
    );

    let gate = w.gate.clone();
    let waiter = agent.clone();
    let wait = tokio::spawn(async move {
        gate.wait_approval(&waiter, id, Duration::from_secs(30))
            .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.gate
        .approve(&w.alice.caller, id, Some("ok"))
        .await
        .expect("approve");
    let v = tokio::time::timeout(TEST_TIMEOUT, wait)
        .await
        .expect("the wait answered before its end")
        .expect("task")
        .expect("wait");
    assert_eq!(v.status, ApprovalStatus::Executed);
    assert_eq!(v.note.as_deref(), Some("ok"));
    assert_eq!(v.result.expect("result")["object"], "page");
    assert_eq!(
        w.gate.approval_waits_held(agent.key_id),
        0,
        "slot given back"
    );

    // When the server begins to stop, waits answer at once with the approval as it stands.
    let id = held(&w, &agent, "awaited at shutdown").await;
    let gate = w.gate.clone();
    let waiter = agent.clone();
    let wait = tokio::spawn(async move {
        gate.wait_approval(&waiter, id, Duration::from_secs(60))
            .await
    });
    let started = async {
        while w.gate.approval_waits_held(agent.key_id) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, started)
        .await
        .expect("waiting");
    w.gate.end_waits();
    let v = tokio::time::timeout(TEST_TIMEOUT, wait)
        .await
        .expect("ended at once")
        .expect("task")
        .expect("wait");
    assert_eq!(v.status, ApprovalStatus::Pending);
    w.finish().await;
}

/// Decided through a second gate on the same database: PostgreSQL's announcement wakes the
/// wait (re-reads are set to once a minute, so nothing else could answer in time); SQLite
/// has no announcement and re-reads every second.
async fn wait_answers_when_decided_on_another_instance(db: TestDb) {
    let w = world(db).await;
    let postgres = w.gate.store().backend() == gate_store::Backend::Postgres;
    let polls = if postgres {
        (Duration::from_secs(60), Duration::from_secs(60))
    } else {
        (Duration::from_secs(1), Duration::from_secs(60))
    };
    let here = Gate::new(
        config(
            w.db.store().await,
            w.vault.clone(),
            &w.emu,
            &Opts::default(),
        )
        .approval_polls(polls.0, polls.1),
    )
    .expect("gate");
    let there = Gate::new(config(
        w.db.store().await,
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    ))
    .expect("gate");
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let agent = here.authenticate(&bot.key).await.expect("agent");
    let denied = held(&w, &agent, "denied elsewhere").await;
    let approved = held(&w, &agent, "approved elsewhere").await;

    for (id, approve) in [(denied, false), (approved, true)] {
        let gate = here.clone();
        let waiter = agent.clone();
        let wait = tokio::spawn(async move {
            gate.wait_approval(&waiter, id, Duration::from_secs(30))
                .await
        });
        // Let the wait subscribe (and, on PostgreSQL, the listener connect) first.
        let subscribed = async {
            while here.approval_waits_held(agent.key_id) == 0
                || (postgres && !here.approval_changes_connected())
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(TEST_TIMEOUT, subscribed)
            .await
            .expect("the wait started");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let owner = there.authenticate(&w.alice.key).await.expect("alice");
        if approve {
            there.approve(&owner, id, None).await.expect("approve");
        } else {
            there
                .deny(&owner, id, Some("elsewhere"))
                .await
                .expect("deny");
        }
        let v = tokio::time::timeout(TEST_TIMEOUT, wait)
            .await
            .expect("the wait answered before its end")
            .expect("task")
            .expect("wait");
        if approve {
            assert_eq!(v.status, ApprovalStatus::Executed);
            assert!(v.result.is_some());
        } else {
            assert_eq!(v.status, ApprovalStatus::Denied);
            assert_eq!(v.note.as_deref(), Some("elsewhere"));
        }
    }
    here.shutdown().await;
    there.shutdown().await;
    w.finish().await;
}

async fn wait_ends_at_expiry_and_is_bounded_per_key(db: TestDb) {
    let w = world_with(
        db,
        Opts {
            approval_ttl: Duration::from_secs(2),
            ..Opts::default()
        },
    )
    .await;
    let bounded = Gate::new(
        config(
            w.db.store().await,
            w.vault.clone(),
            &w.emu,
            &Opts {
                approval_ttl: Duration::from_secs(2),
                ..Opts::default()
            },
        )
        .max_waits_per_key(2)
        .approval_polls(Duration::from_secs(60), Duration::from_secs(60)),
    )
    .expect("gate");
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let agent = bounded.authenticate(&bot.key).await.expect("agent");
    let id = held(&w, &agent, "late page").await;

    let mut waits = Vec::new();
    for _ in 0..2 {
        let gate = bounded.clone();
        let waiter = agent.clone();
        waits.push(tokio::spawn(async move {
            gate.wait_approval(&waiter, id, Duration::from_secs(30))
                .await
        }));
    }
    let both = async {
        while bounded.approval_waits_held(agent.key_id) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, both)
        .await
        .expect("both waits started");
    let e = seen(
        bounded
            .wait_approval(&agent, id, Duration::from_secs(30))
            .await
            .expect_err("a third"),
    );
    assert!(matches!(e, GateError::TooManyWaits { limit: 2 }), "{e:?}");
    // Another key is not affected (the owner may wait too).
    assert_eq!(bounded.approval_waits_held(w.alice.caller.key_id), 0);

    // Nobody decides: the waits answer `expired` at the approval's expiry, not at their end
    // (re-reads are once a minute here).
    for wait in waits {
        let v = tokio::time::timeout(TEST_TIMEOUT, wait)
            .await
            .expect("answered at expiry")
            .expect("task")
            .expect("wait");
        assert_eq!(v.status, ApprovalStatus::Expired);
    }
    assert_eq!(bounded.approval_waits_held(agent.key_id), 0);
    bounded.shutdown().await;
    w.finish().await;
}

/// An in-memory [`ApprovalBus`] shared by two gates (what Redis pub/sub does between
/// processes).
#[derive(Debug, Clone)]
struct MemoryBus(tokio::sync::broadcast::Sender<ApprovalId>);

#[async_trait::async_trait]
impl gate_core::ApprovalBus for MemoryBus {
    async fn publish(&self, id: ApprovalId) {
        let _ = self.0.send(id);
    }

    async fn subscribe(
        &self,
    ) -> Result<futures::stream::BoxStream<'static, ApprovalId>, gate_core::BusError> {
        use futures::StreamExt as _;
        let rx = self.0.subscribe();
        let ids = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(id) => return Some((id, rx)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return None,
                }
            }
        });
        Ok(ids.boxed())
    }
}

/// With a bus, a decision on another instance wakes the wait (re-reads are once a minute,
/// so nothing else could answer in time), on SQLite too.
async fn wait_answers_through_the_approval_bus(db: TestDb) {
    let w = world(db).await;
    let bus = std::sync::Arc::new(MemoryBus(tokio::sync::broadcast::channel(16).0));
    let gate = |bus: std::sync::Arc<MemoryBus>| {
        let w = &w;
        async move {
            Gate::new(
                config(
                    w.db.store().await,
                    w.vault.clone(),
                    &w.emu,
                    &Opts::default(),
                )
                .approval_polls(Duration::from_secs(60), Duration::from_secs(60))
                .approval_bus(bus),
            )
            .expect("gate")
        }
    };
    let here = gate(bus.clone()).await;
    let there = gate(bus).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let agent = here.authenticate(&bot.key).await.expect("agent");
    let id = held(&w, &agent, "bus page").await;
    let waiter = {
        let (gate, agent) = (here.clone(), agent.clone());
        tokio::spawn(async move {
            gate.wait_approval(&agent, id, Duration::from_secs(30))
                .await
        })
    };
    let connected = async {
        while here.approval_waits_held(agent.key_id) == 0 || !here.approval_changes_connected() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, connected)
        .await
        .expect("listening");
    let owner = there.authenticate(&w.alice.key).await.expect("alice");
    there
        .deny(&owner, id, Some("through the bus"))
        .await
        .expect("deny");
    let v = tokio::time::timeout(TEST_TIMEOUT, waiter)
        .await
        .expect("the wait answered before its end")
        .expect("task")
        .expect("wait");
    assert_eq!(v.status, ApprovalStatus::Denied);
    assert_eq!(v.note.as_deref(), Some("through the bus"));
    here.shutdown().await;
    there.shutdown().await;
    w.finish().await;
}

crate::both!(
    wait_answers_through_the_approval_bus,
    view_note_withdraw_and_visibility,
    wait_answers_when_decided_here,
    wait_answers_when_decided_on_another_instance,
    wait_ends_at_expiry_and_is_bounded_per_key
);
