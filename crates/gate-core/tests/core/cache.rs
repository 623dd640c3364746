//! The authentication cache: changes through this gate take effect on the very next call; a
//! second gate on the same database (another instance) sees them once its entries pass the
//! TTL (simulated with `invalidate_expired_at`, no sleeping); negative results are never
//! cached.

use std::time::{Duration, Instant};

use gate_core::{Gate, GateError, NotionRequest, Surface};
use serde_json::json;

use crate::{Opts, TestDb, config, seen, world};

fn create_req(root: &str) -> NotionRequest {
    NotionRequest::post(
        "/v1/pages",
        json!({"parent": {"page_id": root}, "properties": {"title": {"title": [{"text": {"content": "x"}}]}}}),
    )
}

async fn changes_apply_on_the_next_call(db: TestDb) {
    let w = world(db).await;
    let root = w.emu.demo_ids().root_page.clone();
    let bot = w.agent(&w.alice, "learner", "intern").await;

    let c = w.caller(&bot.key).await;
    let e = seen(
        w.gate
            .call(&c, Surface::Rest, create_req(&root))
            .await
            .expect_err("intern"),
    );
    assert!(matches!(
        e,
        GateError::Forbidden {
            code: gate_core::Refusal::MaturityTooLow,
            ..
        }
    ));
    // Cached now: a second authenticate is a hit with the same answer.
    assert_eq!(
        w.gate.authenticate_cached(&bot.key).map(|c| c.maturity),
        Some(c.maturity)
    );

    // Promote: the very next call sees it.
    w.gate
        .set_agent_maturity(&w.alice.caller, bot.id, "AUTONOMOUS")
        .await
        .expect("promote");
    assert!(
        w.gate.authenticate_cached(&bot.key).is_none(),
        "invalidated"
    );
    let c = w.caller(&bot.key).await;
    assert_eq!(c.maturity, Some(gate_policy::Maturity::Autonomous));
    assert!(
        w.gate
            .call(&c, Surface::Rest, create_req(&root))
            .await
            .expect("allowed")
            .is_success()
    );

    // Demote: the very next call sees it.
    w.gate
        .set_agent_maturity(&w.alice.caller, bot.id, "student")
        .await
        .expect("demote");
    let c = w.caller(&bot.key).await;
    let e = seen(
        w.gate
            .call(
                &c,
                Surface::Rest,
                NotionRequest::get(format!("/v1/pages/{root}")),
            )
            .await
            .expect_err("student"),
    );
    assert!(matches!(e, GateError::Forbidden { .. }));

    // Disable, then revoke the key.
    w.gate
        .disable_agent(&w.alice.caller, bot.id)
        .await
        .expect("disable");
    assert!(w.caller(&bot.key).await.disabled);
    let keys = w
        .gate
        .list_keys(&w.alice.caller, w.alice.id)
        .await
        .expect("keys");
    let key = keys
        .iter()
        .find(|k| k.agent_id == Some(bot.id))
        .expect("agent key");
    w.gate
        .revoke_key(&w.alice.caller, key.id)
        .await
        .expect("revoke");
    let e = seen(w.gate.authenticate(&bot.key).await.expect_err("revoked"));
    assert!(matches!(e, GateError::Unauthenticated));
    w.finish().await;
}

async fn second_instance_within_ttl(db: TestDb) {
    let ttl = Duration::from_secs(30);
    let w = crate::world_with(
        db,
        Opts {
            cache_ttl: ttl,
            ..Opts::default()
        },
    )
    .await;
    let root = w.emu.demo_ids().root_page.clone();
    let bot = w.agent(&w.alice, "shared", "intern").await;
    // A second instance: its own store pool, its own cache, same database.
    let other = Gate::new(config(
        w.db.store().await,
        w.vault.clone(),
        &w.emu,
        &Opts {
            cache_ttl: ttl,
            ..Opts::default()
        },
    ))
    .expect("gate");
    assert_eq!(other.cache_ttl(), ttl);
    let c = other.authenticate(&bot.key).await.expect("auth");
    assert_eq!(c.maturity, Some(gate_policy::Maturity::Intern));

    // The first instance promotes the agent.
    w.gate
        .set_agent_maturity(&w.alice.caller, bot.id, "autonomous")
        .await
        .expect("promote");
    assert_eq!(
        w.caller(&bot.key).await.maturity,
        Some(gate_policy::Maturity::Autonomous),
        "at once on the instance that made the change"
    );
    // Within the TTL the other instance may still use its cached entry (the documented bound).
    let stale = other.authenticate(&bot.key).await.expect("auth");
    assert_eq!(stale.maturity, Some(gate_policy::Maturity::Intern));
    // Entries younger than the TTL survive an expiry sweep at "now".
    assert_eq!(other.invalidate_expired_at(Instant::now()), 0);
    // Once the TTL has passed, the entry is gone and the change is seen.
    assert!(other.invalidate_expired_at(Instant::now() + ttl) >= 1);
    let fresh = other.authenticate(&bot.key).await.expect("auth");
    assert_eq!(fresh.maturity, Some(gate_policy::Maturity::Autonomous));
    assert!(
        other
            .call(&fresh, Surface::Rest, create_req(&root))
            .await
            .expect("allowed")
            .is_success()
    );

    // A key revoked on the first instance stops working on the other within the TTL.
    let key_id = fresh.key_id;
    w.gate
        .revoke_key(&w.alice.caller, key_id)
        .await
        .expect("revoke");
    assert!(
        other.authenticate(&bot.key).await.is_ok(),
        "cached, within the TTL"
    );
    other.invalidate_expired_at(Instant::now() + ttl);
    let e = seen(other.authenticate(&bot.key).await.expect_err("revoked"));
    assert!(matches!(e, GateError::Unauthenticated));
    other.shutdown().await;
    w.finish().await;
}

async fn negative_results_are_not_cached(db: TestDb) {
    let w = world(db).await;
    let store = w.gate.store().clone();
    // Unknown keys: same error for every shape, nothing cached.
    for bad in [
        "",
        "nga_nope",
        "ngu_AAAAAAAA_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        &"x".repeat(600),
    ] {
        let e = seen(w.gate.authenticate(bad).await.expect_err("unknown"));
        assert!(matches!(e, GateError::Unauthenticated));
        assert_eq!(e.to_string(), "missing, unknown or revoked gateway key");
    }
    // A user disabled outside this gate: still cached until the TTL (simulated)...
    store
        .set_user_disabled(w.bob.id, true)
        .await
        .expect("disable");
    assert!(w.gate.authenticate(&w.bob.key).await.is_ok());
    w.gate
        .invalidate_expired_at(Instant::now() + w.gate.cache_ttl());
    let e = seen(w.gate.authenticate(&w.bob.key).await.expect_err("disabled"));
    assert!(matches!(e, GateError::Unauthenticated));
    // ...and re-enabled: works at once, because the refusal was not cached.
    store
        .set_user_disabled(w.bob.id, false)
        .await
        .expect("enable");
    assert!(w.gate.authenticate(&w.bob.key).await.is_ok());
    // A `Bearer ` prefix is accepted.
    assert!(
        w.gate
            .authenticate(&format!("Bearer {}", w.bob.key))
            .await
            .is_ok()
    );
    w.finish().await;
}

crate::both!(
    changes_apply_on_the_next_call,
    second_instance_within_ttl,
    negative_results_are_not_cached
);
