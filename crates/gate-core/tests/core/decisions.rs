//! Decisions through the full path: a user and agents of every maturity × every action class,
//! with the audit record of each call checked (class, decision, outcome) and exactly one
//! record per call.

use gate_core::{GateError, NotionRequest, Surface};
use gate_store::{AuditDecision, Outcome};
use serde_json::json;

use crate::{TestDb, World, seen, world};

/// One request of each class against the demo workspace.
fn request(w: &World, class: &str) -> NotionRequest {
    let ids = w.emu.demo_ids();
    match class {
        "read" => NotionRequest::get(format!("/v1/pages/{}", ids.root_page)),
        "create" => NotionRequest::post(
            "/v1/pages",
            json!({
                "parent": {"page_id": ids.root_page},
                "properties": {"title": {"title": [{"text": {"content": "made by the gate"}}]}}
            }),
        ),
        "update" => NotionRequest::patch(
            format!("/v1/pages/{}", ids.child_page),
            json!({"icon": {"type": "emoji", "emoji": "🚀"}}),
        ),
        "delete" => {
            let page = w
                .emu
                .create_page(&ids.root_page, "to delete")
                .expect("page");
            NotionRequest::delete(format!("/v1/blocks/{page}"))
        }
        "schema" => NotionRequest::patch(
            format!("/v1/data_sources/{}", ids.data_source),
            json!({"title": [{"type": "text", "text": {"content": "Tasks"}}]}),
        ),
        other => panic!("unknown class {other}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Allow,
    Deny,
    Approval,
}

const CLASSES: [&str; 5] = ["read", "create", "update", "delete", "schema"];

/// Expected decisions under the built-in policy.
fn table() -> Vec<(&'static str, [Want; 5])> {
    use Want::*;
    vec![
        ("user", [Allow, Allow, Allow, Allow, Allow]),
        ("student", [Deny, Deny, Deny, Deny, Deny]),
        ("INTERN", [Allow, Deny, Deny, Deny, Deny]),
        ("Supervised", [Allow, Approval, Approval, Deny, Deny]),
        ("autonomous", [Allow, Allow, Allow, Allow, Allow]),
    ]
}

async fn decision_table(db: TestDb) {
    let w = world(db).await;
    for (who, wants) in table() {
        let caller = if who == "user" {
            w.alice.caller.clone()
        } else {
            let bot = w
                .agent(&w.alice, &format!("bot-{}", who.to_lowercase()), who)
                .await;
            w.caller(&bot.key).await
        };
        for (class, want) in CLASSES.iter().zip(wants) {
            let before = w.audit_count().await;
            let result = w
                .gate
                .call(&caller, Surface::Proxy, request(&w, class))
                .await;
            let what = format!("{who} × {class}");
            match (want, &result) {
                (Want::Allow, Ok(resp)) => {
                    assert!(resp.is_success(), "{what}: status {}", resp.status);
                    assert!(resp.notion_request_id.is_some(), "{what}");
                    assert!(resp.header("content-type").is_some(), "{what}");
                }
                (Want::Deny, Err(GateError::Forbidden { code, needed, .. })) => {
                    assert_eq!(*code, gate_core::Refusal::MaturityTooLow, "{what}");
                    assert!(needed.is_some(), "{what}");
                }
                (Want::Approval, Err(GateError::ApprovalRequired { .. })) => {}
                _ => panic!("{what}: wanted {want:?}, got {result:?}"),
            }
            if let Err(e) = result {
                seen(e);
            }
            let events = w.audit().await;
            assert_eq!(
                events.len() as u64,
                before + 1,
                "{what}: exactly one audit record per call"
            );
            let r = &events.last().expect("record").record;
            assert_eq!(r.call.action_class.as_deref(), Some(*class), "{what}");
            assert_eq!(r.call.surface, Surface::Proxy, "{what}");
            assert_eq!(r.call.user_id, Some(w.alice.id), "{what}");
            assert_eq!(r.call.agent_id, caller.agent_id, "{what}");
            let (decision, outcome) = match want {
                Want::Allow => (AuditDecision::Allow, Outcome::Ok),
                Want::Deny => (AuditDecision::Deny, Outcome::Denied),
                Want::Approval => (AuditDecision::NeedsApproval, Outcome::Pending),
            };
            assert_eq!(r.decision, decision, "{what}");
            assert_eq!(r.outcome, outcome, "{what}");
            assert!(!r.call.target_ids.is_empty(), "{what}: targets recorded");
            if want == Want::Allow {
                assert_eq!(r.upstream_status, Some(200), "{what}");
                assert!(r.call.connection_id.is_some(), "{what}");
                assert!(r.duration_ms.is_some(), "{what}");
                let summary = r.args_summary.as_ref().expect("summary");
                assert!(summary.get("notion_request_id").is_some(), "{what}");
                // The summary has keys and sizes, never content.
                let text = summary.to_string();
                assert!(!text.contains("made by the gate"), "{what}: {text}");
                assert!(!text.contains("🚀"), "{what}: {text}");
            } else {
                assert_eq!(r.upstream_status, None, "{what}");
            }
        }
    }
    w.finish().await;
}

/// A disabled agent is denied everything, audited as `agent_disabled`; unknown and
/// not-proxied operations are denied for agents and users alike.
async fn disabled_unknown_and_not_proxied(db: TestDb) {
    let w = world(db).await;
    let bot = w.agent(&w.alice, "soon-disabled", "autonomous").await;
    w.gate
        .disable_agent(&w.alice.caller, bot.id)
        .await
        .expect("disable");
    let caller = w.caller(&bot.key).await;
    let e = seen(
        w.gate
            .call(&caller, Surface::Rest, request(&w, "read"))
            .await
            .expect_err("disabled"),
    );
    assert!(
        matches!(
            e,
            GateError::Forbidden {
                code: gate_core::Refusal::AgentDisabled,
                ..
            }
        ),
        "{e:?}"
    );
    let last = w.audit().await.pop().expect("record").record;
    assert_eq!(last.reason.as_deref(), Some("agent_disabled"));

    // OAuth endpoints are never forwarded, whoever asks.
    let e = seen(
        w.gate
            .call(
                &w.alice.caller,
                Surface::Proxy,
                NotionRequest::post("/v1/oauth/token", json!({"grant_type": "refresh_token"})),
            )
            .await
            .expect_err("not proxied"),
    );
    assert!(
        matches!(
            e,
            GateError::Forbidden {
                code: gate_core::Refusal::NotProxied,
                ..
            }
        ),
        "{e:?}"
    );

    // Path tricks are refused before classification, and still audited.
    let before = w.audit_count().await;
    let e = seen(
        w.gate
            .call(
                &w.alice.caller,
                Surface::Proxy,
                NotionRequest::get("/v1/../oauth/token"),
            )
            .await
            .expect_err("invalid"),
    );
    assert!(
        matches!(e, GateError::Invalid { field: "path", .. }),
        "{e:?}"
    );
    assert_eq!(w.audit_count().await, before + 1);
    assert_eq!(w.emu.counters().route("POST /v1/oauth/token"), 0);
    w.finish().await;
}

/// Root-page limits: the gate walks parents through the connection to decide.
async fn roots_resolve_ancestry(db: TestDb) {
    let emu_ids_probe = world(db).await;
    let ids = emu_ids_probe.emu.demo_ids().clone();
    let policy = gate_policy::Policy::from_toml_str(&format!(
        "[[agents]]\nname = \"rooted\"\nroots = [\"{}\"]\n",
        ids.child_page
    ))
    .expect("policy");
    // Rebuild the world's gate with the rooted policy on the same database and emulator.
    let w = emu_ids_probe;
    let gate = gate_core::Gate::new(crate::config(
        w.gate.store().clone(),
        w.vault.clone(),
        &w.emu,
        &crate::Opts {
            policy,
            ..crate::Opts::default()
        },
    ))
    .expect("gate");
    let bot = w.agent(&w.alice, "rooted", "autonomous").await;
    let caller = gate.authenticate(&bot.key).await.expect("auth");
    // The grandchild is under the root: allowed after an ancestry walk.
    let resp = gate
        .call(
            &caller,
            Surface::Rest,
            NotionRequest::get(format!("/v1/pages/{}", ids.grandchild_page)),
        )
        .await
        .expect("inside the roots");
    assert!(resp.is_success());
    // The root page is above the allowed page: denied.
    let e = seen(
        gate.call(
            &caller,
            Surface::Rest,
            NotionRequest::get(format!("/v1/pages/{}", ids.root_page)),
        )
        .await
        .expect_err("outside"),
    );
    assert!(
        matches!(
            e,
            GateError::Forbidden {
                code: gate_core::Refusal::OutsideRoots,
                ..
            }
        ),
        "{e:?}"
    );
    gate.shutdown().await;
    w.finish().await;
}

crate::both!(
    decision_table,
    disabled_unknown_and_not_proxied,
    roots_resolve_ancestry,
    coalesced_reads_are_each_decided_and_audited
);

/// Identical reads of several agents on one connection share one Notion request, and every
/// call is still decided and audited on its own: the records of the calls that joined say
/// `shared`, and a caller the policy refuses is refused (and sends nothing) as ever.
async fn coalesced_reads_are_each_decided_and_audited(db: TestDb) {
    let w = world(db).await;
    let ids = w.emu.demo_ids().clone();
    let mut callers = Vec::new();
    for i in 0..4 {
        let bot = w.agent(&w.alice, &format!("reader-{i}"), "intern").await;
        callers.push(w.caller(&bot.key).await);
    }
    let student = w.agent(&w.alice, "learner", "student").await;
    let student = w.caller(&student.key).await;
    // Slow answers, so that the reads are in flight together.
    w.emu
        .handle()
        .set_latency(std::time::Duration::from_millis(800));
    let before = w.audit_count().await;
    let page = format!("/v1/pages/{}", ids.root_page);
    let calls: Vec<_> = callers
        .iter()
        .chain(std::iter::once(&student))
        .map(|c| {
            let (gate, c, page) = (w.gate.clone(), c.clone(), page.clone());
            tokio::spawn(async move {
                gate.call(&c, Surface::Proxy, NotionRequest::get(page))
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in calls {
        results.push(t.await.expect("task"));
    }
    w.emu.handle().set_latency(std::time::Duration::ZERO);
    let (student_result, agent_results) = results.split_last().expect("results");
    let answers: Vec<_> = agent_results
        .iter()
        .map(|r| r.as_ref().expect("interns read"))
        .collect();
    assert!(matches!(
        student_result,
        Err(GateError::Forbidden {
            code: gate_core::Refusal::MaturityTooLow,
            ..
        })
    ));
    let upstream = w.emu.counters().route("GET /v1/pages/{id}");
    let shared = answers.iter().filter(|a| a.shared).count() as u64;
    assert!(upstream < 4, "the reads shared requests ({upstream} sent)");
    assert_eq!(upstream + shared, 4);
    for a in &answers {
        assert_eq!(a.status, 200);
        assert_eq!(a.body, answers[0].body);
    }
    // One record per call, each with its own caller; the joiners' say `shared`.
    let events = w.audit().await;
    assert_eq!(events.len() as u64, before + 5);
    let records: Vec<_> = events[events.len() - 5..]
        .iter()
        .map(|e| &e.record)
        .collect();
    let agents: std::collections::HashSet<_> = records.iter().map(|r| r.call.agent_id).collect();
    assert_eq!(agents.len(), 5, "each call audited for its own caller");
    let marked = records
        .iter()
        .filter(|r| {
            r.args_summary
                .as_ref()
                .and_then(|s| s.get("shared"))
                .is_some_and(|v| v == &json!(true))
        })
        .count() as u64;
    assert_eq!(marked, shared);
    assert_eq!(
        records
            .iter()
            .filter(|r| r.decision == AuditDecision::Deny)
            .count(),
        1
    );
    w.finish().await;
}
