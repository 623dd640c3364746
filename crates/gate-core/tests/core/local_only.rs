//! Local-only mode: checked on every call (never cached), for every caller and class, right
//! after an allowed cached call; toggling it off lets calls through again; the error suggests
//! the local mirror; token connections cannot be validated while it is on.

use gate_core::{GateError, NotionRequest, Surface, parse_local_only};
use gate_store::{AuditDecision, Outcome};
use secrecy::SecretString;
use serde_json::json;

use crate::{Opts, TestDb, seen, world, world_with};

async fn blocks_every_call_even_after_a_cached_allow(db: TestDb) {
    let w = world(db).await;
    let ids = w.emu.demo_ids().clone();
    let bot = w.agent(&w.alice, "auto", "autonomous").await;
    let read = || NotionRequest::get(format!("/v1/pages/{}", ids.root_page));
    let write = || {
        NotionRequest::patch(
            format!("/v1/pages/{}", ids.child_page),
            json!({"icon": {"type": "emoji", "emoji": "📌"}}),
        )
    };

    // An allowed call first, so the caller is cached.
    let agent = w.caller(&bot.key).await;
    assert!(
        w.gate
            .call(&agent, Surface::Mcp, read())
            .await
            .expect("allowed")
            .is_success()
    );
    let sent = w.emu.counters().total;

    w.gate.set_local_only(true);
    let agent = w.caller(&bot.key).await; // from the cache
    for (caller, req) in [
        (&agent, read()),
        (&agent, write()),
        (&w.alice.caller, read()),
        (&w.admin, read()),
    ] {
        let e = seen(
            w.gate
                .call(caller, Surface::Rest, req)
                .await
                .expect_err("blocked"),
        );
        assert!(matches!(e, GateError::LocalOnly), "{e:?}");
        assert_eq!(e.code(), "local_only");
        assert!(e.to_string().contains("local mirror"), "{e}");
    }
    assert_eq!(w.emu.counters().total, sent, "nothing reached Notion");
    let events = w.audit().await;
    let blocked: Vec<_> = events
        .iter()
        .filter(|e| e.record.reason.as_deref() == Some("local_only"))
        .collect();
    assert_eq!(blocked.len(), 4, "every block is audited");
    for e in blocked {
        assert_eq!(e.record.decision, AuditDecision::Deny);
        assert_eq!(e.record.outcome, Outcome::Denied);
    }

    // Adding a token connection is a call to Notion as well.
    let e = seen(
        w.gate
            .add_token_connection(
                &w.bob.caller,
                None,
                SecretString::from("ntn_local_only_token_123456".to_owned()),
            )
            .await
            .expect_err("blocked"),
    );
    assert!(matches!(e, GateError::LocalOnly));

    w.gate.set_local_only(false);
    assert!(
        w.gate
            .call(&agent, Surface::Mcp, read())
            .await
            .expect("allowed again")
            .is_success()
    );
    assert!(
        w.gate
            .call(&agent, Surface::Mcp, write())
            .await
            .expect("allowed again")
            .is_success()
    );
    w.finish().await;
}

async fn configured_at_start(db: TestDb) {
    let w = world_with(
        db,
        Opts {
            local_only: true,
            ..Opts::default()
        },
    )
    .await;
    assert!(w.gate.is_local_only());
    let ids = w.emu.demo_ids().clone();
    let before = w.emu.counters().total;
    let e = seen(
        w.gate
            .call(
                &w.alice.caller,
                Surface::Cli,
                NotionRequest::get(format!("/v1/blocks/{}/children", ids.root_page)),
            )
            .await
            .expect_err("blocked"),
    );
    assert!(matches!(e, GateError::LocalOnly));
    assert_eq!(w.emu.counters().total, before);
    w.finish().await;
}

#[test]
fn switch_values() {
    for on in ["true", "TRUE", "True", "1", "yes", "on"] {
        assert!(parse_local_only("X", on).expect("valid"), "{on}");
    }
    for off in ["false", "FALSE", "0", "no", "off", "", "  "] {
        assert!(!parse_local_only("X", off).expect("valid"), "{off}");
    }
    for bad in ["ture", "2", "enabled"] {
        assert!(parse_local_only("X", bad).is_err(), "{bad}");
    }
}

crate::both!(
    blocks_every_call_even_after_a_cached_allow,
    configured_at_start
);
