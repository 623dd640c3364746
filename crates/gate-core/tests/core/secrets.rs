//! No secret in logs or errors: every test registers the keys and tokens it creates, records
//! every error's `Display` and `Debug`, and ends by scanning the whole captured log (a global
//! `tracing` subscriber at TRACE for the gate's crates) against all of them. This test adds a
//! scenario rich in error paths and checks that the capture really sees the gate's logs.

use gate_core::{GateError, NotionRequest, Surface};
use secrecy::SecretString;

use crate::{TestDb, assert_no_secrets_leaked, errors_seen, log_len, secret, seen, world};

async fn no_secrets_in_logs_or_errors(db: TestDb) {
    let w = world(db).await;
    let start_log = log_len();
    let start_errors = errors_seen();
    let page = w.emu.demo_ids().root_page.clone();
    let path = format!("/v1/pages/{page}");

    // Logs of interest: local-only switching, refusals, refreshes.
    w.gate.set_local_only(true);
    seen(
        w.gate
            .call(
                &w.alice.caller,
                Surface::Rest,
                NotionRequest::get(path.clone()),
            )
            .await
            .expect_err("local only"),
    );
    w.gate.set_local_only(false);

    // A bad token connection: the token must not appear in the error.
    let bad = format!("ntn_refused_{}", uuid::Uuid::new_v4().simple());
    secret(&bad);
    w.emu.revoke_token(&bad);
    let e = seen(
        w.gate
            .add_token_connection(&w.bob.caller, None, SecretString::from(bad.clone()))
            .await
            .expect_err("refused"),
    );
    assert!(
        matches!(e, GateError::Invalid { field: "token", .. }),
        "{e:?}"
    );

    // Notion refuses Alice's token: reconnect required, logged and flagged.
    w.emu.revoke_token(&w.alice.notion_token);
    seen(
        w.gate
            .call(
                &w.alice.caller,
                Surface::Rest,
                NotionRequest::get(path.clone()),
            )
            .await
            .expect_err("reconnect"),
    );

    // Unknown keys that look like real ones.
    for k in [format!("{}x", w.bob.key), w.bob.key.replace("ngu_", "nga_")] {
        secret(&k);
        seen(w.gate.authenticate(&k).await.expect_err("unknown"));
    }

    // Debug output of the main types.
    let debug = format!("{:?} {:?} {:?}", w.gate, w.alice.caller, w.admin);
    for s in [&w.alice.key, &w.alice.notion_token, &w.bob.key] {
        assert!(!debug.contains(s.as_str()));
    }

    // The audit trail holds no secret either.
    let audit = serde_json::to_string(
        &w.audit()
            .await
            .iter()
            .map(|e| &e.record)
            .collect::<Vec<_>>(),
    )
    .expect("json");
    for s in [
        &w.alice.key,
        &w.alice.notion_token,
        &w.bob.key,
        &w.bob.notion_token,
        &bad,
    ] {
        assert!(!audit.contains(s.as_str()), "audit contains a secret");
    }
    assert!(
        log_len() > start_log,
        "the subscriber captures the gate's logs"
    );
    assert!(errors_seen() >= start_errors + 4);
    w.finish().await;
    assert_no_secrets_leaked();
}

crate::both!(no_secrets_in_logs_or_errors);
