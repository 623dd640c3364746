//! Authorisation (IDOR): a user cannot see or use another user's agents, connections, keys,
//! approvals or audit by id (answered `NotFound`, like a missing object); agents cannot use
//! admin operations; only admins manage users.

use gate_core::{GateError, NewAgentSpec, NotionRequest, Surface};
use gate_store::{AuditQuery, ConnectionId};
use secrecy::SecretString;
use serde_json::json;

use crate::{TestDb, seen, world};

fn not_found(e: GateError) {
    let e = seen(e);
    assert!(matches!(e, GateError::NotFound { .. }), "{e:?}");
}

fn not_permitted(e: GateError) {
    let e = seen(e);
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
}

async fn users_cannot_reach_each_other(db: TestDb) {
    let w = world(db).await;
    let g = &w.gate;
    let (alice, bob) = (&w.alice.caller, &w.bob.caller);
    let alice_bot = w.agent(&w.alice, "alice-bot", "supervised").await;
    let alice_conn: ConnectionId = alice.connection_id.expect("conn");

    // Agents.
    not_found(g.get_agent(bob, alice_bot.id).await.expect_err("hidden"));
    not_found(
        g.set_agent_maturity(bob, alice_bot.id, "autonomous")
            .await
            .expect_err("hidden"),
    );
    not_found(
        g.disable_agent(bob, alice_bot.id)
            .await
            .expect_err("hidden"),
    );
    not_found(
        g.issue_agent_key(bob, alice_bot.id, None)
            .await
            .expect_err("hidden"),
    );
    not_found(
        g.set_agent_connection(bob, alice_bot.id, None)
            .await
            .expect_err("hidden"),
    );
    assert!(g.list_agents(bob).await.expect("list").is_empty());
    assert_eq!(g.list_agents(alice).await.expect("list").len(), 1);
    assert_eq!(g.list_agents(&w.admin).await.expect("list").len(), 1);

    // Connections.
    not_found(g.get_connection(bob, alice_conn).await.expect_err("hidden"));
    not_found(
        g.set_connection_revoked(bob, alice_conn, true)
            .await
            .expect_err("hidden"),
    );
    let bobs = g.list_connections(bob).await.expect("list");
    assert!(bobs.iter().all(|c| c.owner_id == w.bob.id) && bobs.len() == 1);
    assert_eq!(g.list_connections(&w.admin).await.expect("list").len(), 2);
    // Bob cannot bind his agent to Alice's connection, nor create agents for Alice.
    not_found(
        g.create_agent(
            bob,
            NewAgentSpec::new("thief", "intern").connection(alice_conn),
        )
        .await
        .expect_err("hidden"),
    );
    not_found(
        g.create_agent(bob, NewAgentSpec::new("puppet", "intern").owner(w.alice.id))
            .await
            .expect_err("hidden"),
    );
    not_found(
        g.add_token_connection(
            bob,
            Some(w.alice.id),
            SecretString::from("ntn_planted_123456789".to_owned()),
        )
        .await
        .expect_err("hidden"),
    );

    // Keys.
    let alice_keys = g.list_keys(alice, w.alice.id).await.expect("keys");
    assert!(!alice_keys.is_empty());
    not_found(g.list_keys(bob, w.alice.id).await.expect_err("hidden"));
    not_found(
        g.issue_user_key(bob, w.alice.id, None)
            .await
            .expect_err("hidden"),
    );
    not_found(
        g.revoke_key(bob, alice_keys[0].id)
            .await
            .expect_err("hidden"),
    );
    assert!(g.authenticate(&w.alice.key).await.is_ok(), "still valid");

    // Approvals.
    let agent = w.caller(&alice_bot.key).await;
    let root = w.emu.demo_ids().root_page.clone();
    let id = match g
        .call(
            &agent,
            Surface::Rest,
            NotionRequest::post(
                "/v1/pages",
                json!({"parent": {"page_id": root}, "properties": {"title": {"title": [{"text": {"content": "t"}}]}}}),
            ),
        )
        .await
    {
        Err(GateError::ApprovalRequired { id, .. }) => id,
        other => panic!("{other:?}"),
    };
    not_found(g.approve(bob, id, None).await.expect_err("hidden"));
    not_found(g.deny(bob, id, None).await.expect_err("hidden"));
    not_found(g.approval_result(bob, id).await.expect_err("hidden"));
    assert!(
        g.list_approvals(bob, gate_store::ApprovalFilter::new())
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(w.emu.counters().route("POST /v1/pages"), 0);

    // Audit: Bob sees only his own, even when asking for Alice's.
    g.flush_audit().await.expect("flush");
    let page = g
        .query_audit(bob, AuditQuery::new().user(w.alice.id))
        .await
        .expect("audit");
    assert!(
        page.events
            .iter()
            .all(|e| e.record.call.user_id == Some(w.bob.id))
    );
    let page = g
        .query_audit(bob, AuditQuery::new().agent(alice_bot.id))
        .await
        .expect("audit");
    assert!(page.events.is_empty());
    let page = g
        .query_audit(alice, AuditQuery::new())
        .await
        .expect("audit");
    assert!(!page.events.is_empty());
    assert!(
        page.events
            .iter()
            .all(|e| e.record.call.user_id == Some(w.alice.id))
    );
    w.finish().await;
}

async fn agents_cannot_administer(db: TestDb) {
    let w = world(db).await;
    let g = &w.gate;
    let bot = w.agent(&w.alice, "root-wannabe", "autonomous").await;
    let a = w.caller(&bot.key).await;
    not_permitted(g.create_user(&a, "mallory", true).await.expect_err("agent"));
    not_permitted(g.list_users(&a).await.expect_err("agent"));
    not_permitted(
        g.create_agent(&a, NewAgentSpec::new("child", "autonomous"))
            .await
            .expect_err("agent"),
    );
    not_permitted(g.list_agents(&a).await.expect_err("agent"));
    not_permitted(
        g.set_agent_maturity(&a, bot.id, "autonomous")
            .await
            .expect_err("agent"),
    );
    not_permitted(
        g.issue_agent_key(&a, bot.id, None)
            .await
            .expect_err("agent"),
    );
    not_permitted(
        g.issue_user_key(&a, w.alice.id, None)
            .await
            .expect_err("agent"),
    );
    not_permitted(g.list_connections(&a).await.expect_err("agent"));
    not_permitted(
        g.query_audit(&a, AuditQuery::new())
            .await
            .expect_err("agent"),
    );
    not_permitted(
        g.add_token_connection(
            &a,
            None,
            SecretString::from("ntn_agent_token_123456789".to_owned()),
        )
        .await
        .expect_err("agent"),
    );
    let some_id = gate_store::ApprovalId::new();
    not_permitted(g.approve(&a, some_id, None).await.expect_err("agent"));
    not_permitted(g.deny(&a, some_id, None).await.expect_err("agent"));
    // Users are not admins either.
    not_permitted(
        g.create_user(&w.alice.caller, "eve", false)
            .await
            .expect_err("user"),
    );
    not_permitted(g.list_users(&w.alice.caller).await.expect_err("user"));
    // The first-admin bootstrap works only once.
    assert!(matches!(
        seen(g.bootstrap_admin("second").await.expect_err("once")),
        GateError::Conflict { .. }
    ));
    // Maturity is parsed case-insensitively; garbage is refused.
    let created = g
        .create_agent(&w.alice.caller, NewAgentSpec::new("mixed", " SuperVised "))
        .await
        .expect("agent");
    assert_eq!(created.maturity, "supervised");
    assert_eq!(
        created.connection_id, w.alice.caller.connection_id,
        "default connection"
    );
    assert!(matches!(
        seen(
            g.create_agent(&w.alice.caller, NewAgentSpec::new("bad", "expert"))
                .await
                .expect_err("bad")
        ),
        GateError::Invalid {
            field: "maturity",
            ..
        }
    ));
    w.finish().await;
}

crate::both!(users_cannot_reach_each_other, agents_cannot_administer);
