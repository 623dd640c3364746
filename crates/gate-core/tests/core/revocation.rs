//! Honest revocation: disconnecting an OAuth connection deletes it only when Notion revoked
//! the token or says it is invalid already (`400 invalid_grant`, `401 unauthorized`); client
//! credentials refused (`401 invalid_client`), a 5xx or no answer keep the connection,
//! disabled and flagged `revocation_failed`, with an error saying so, and disconnecting again
//! retries. A refused code exchange names its reason (redirect URI, code, client).

use gate_core::{Gate, GateError, OAuthCompletion};
use gate_store::ConnectionId;
use notion_emulator::ScriptedFault;
use reqwest::Method;
use secrecy::SecretString;

use crate::{CALLBACK, Opts, TestDb, World, config, seen, world};

const REVOKE: &str = "/v1/oauth/revoke";
const REVOKE_ROUTE: &str = "POST /v1/oauth/revoke";

/// An OAuth connection of Alice's, with a token the emulator issued.
async fn oauth_connection(w: &World) -> ConnectionId {
    let location = consent(w, &w.gate).await;
    let (state, code) = state_and_code(&location);
    match w
        .gate
        .complete_oauth(Some(&state), Some(&code), None, CALLBACK, None)
        .await
        .expect("connected")
    {
        OAuthCompletion::Connected(c) => c.id,
        other => panic!("not connected: {other:?}"),
    }
}

/// Starts a flow for Alice and answers where Notion sends the browser back.
async fn consent(w: &World, gate: &Gate) -> String {
    let start = gate
        .start_oauth(&w.alice.caller, CALLBACK)
        .await
        .expect("start");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let resp = http
        .get(&start.authorization_url)
        .send()
        .await
        .expect("authorize");
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("redirect")
        .to_owned()
}

fn state_and_code(location: &str) -> (String, String) {
    let get = |k: &str| {
        location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix(&format!("{k}=")).map(str::to_owned))
            .expect(k)
    };
    (get("state"), get("code"))
}

async fn row(w: &World, id: ConnectionId) -> Option<gate_store::Connection> {
    match w.gate.store().get_connection(id).await {
        Ok(c) => Some(c),
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("store: {e}"),
    }
}

async fn revoked_at_notion_deletes(db: TestDb) {
    let w = world(db).await;
    let id = oauth_connection(&w).await;
    w.gate
        .disconnect(&w.alice.caller, id)
        .await
        .expect("disconnect");
    assert_eq!(w.emu.counters().route(REVOKE_ROUTE), 1);
    assert!(row(&w, id).await.is_none());
    w.finish().await;
}

/// Notion says the token is invalid already: that is revoked, and the connection goes.
async fn already_invalid_counts_as_revoked(db: TestDb) {
    let w = world(db).await;
    for (status, code) in [(400, "invalid_grant"), (401, "unauthorized")] {
        let id = oauth_connection(&w).await;
        w.emu
            .push_fault(ScriptedFault::new(Method::POST, REVOKE).error(
                status,
                code,
                "Invalid token: this token has been revoked.",
            ));
        w.gate
            .disconnect(&w.alice.caller, id)
            .await
            .unwrap_or_else(|e| panic!("{status} {code}: {e}"));
        assert!(row(&w, id).await.is_none(), "{status} {code}");
    }
    w.finish().await;
}

/// Client credentials refused, Notion failing, no answer: the connection stays, disabled and
/// flagged, the error says so and what to do, and disconnecting again retries.
async fn failed_revocation_keeps_the_connection_flagged(db: TestDb) {
    let w = world(db).await;
    let kinds: [(ScriptedFault, &str, Option<u16>); 4] = [
        (
            ScriptedFault::new(Method::POST, REVOKE).error(
                401,
                "invalid_client",
                "Client authentication failed.",
            ),
            "invalid_client",
            Some(401),
        ),
        (
            // Retried by the client (revoking is idempotent): fail every attempt.
            ScriptedFault::new(Method::POST, REVOKE)
                .status(500)
                .times(20),
            "notion_error",
            Some(500),
        ),
        (
            ScriptedFault::new(Method::POST, REVOKE)
                .status(503)
                .times(20),
            "notion_error",
            Some(503),
        ),
        (
            ScriptedFault::new(Method::POST, REVOKE)
                .drop_connection()
                .times(20),
            "notion_unreachable",
            None,
        ),
    ];
    for (fault, reason, status) in kinds {
        let id = oauth_connection(&w).await;
        w.emu.clear_scripted_faults();
        w.emu.push_fault(fault);
        let before = w.emu.counters().route(REVOKE_ROUTE);
        let e = seen(
            w.gate
                .disconnect(&w.alice.caller, id)
                .await
                .expect_err("a failed revocation never answers success"),
        );
        assert!(w.emu.counters().route(REVOKE_ROUTE) > before, "{reason}");
        match &e {
            GateError::RevocationFailed {
                connection_id,
                reason: r,
                notion_status,
                advice,
                ..
            } => {
                assert_eq!(*connection_id, id);
                assert_eq!(*r, reason);
                assert_eq!(*notion_status, status, "{reason}");
                assert!(advice.contains("disconnect again"), "{advice}");
            }
            other => panic!("{reason}: {other:?}"),
        }
        assert_eq!(e.code(), "revocation_failed");
        let c = row(&w, id).await.expect("the connection is kept");
        assert!(c.revocation_failed, "{reason}");
        assert!(c.revoked, "disabled here meanwhile");
        // Calls through it stop at once.
        let listed = w
            .gate
            .list_connections(&w.alice.caller)
            .await
            .expect("list");
        assert!(listed.iter().any(|c| c.id == id && c.revocation_failed));

        // Disconnecting again retries; Notion now revokes it.
        w.emu.clear_scripted_faults();
        let before = w.emu.counters().route(REVOKE_ROUTE);
        w.gate
            .disconnect(&w.alice.caller, id)
            .await
            .expect("the retry succeeds");
        assert_eq!(w.emu.counters().route(REVOKE_ROUTE), before + 1);
        assert!(row(&w, id).await.is_none());
    }
    w.finish().await;
}

/// Without OAuth client credentials the token cannot be revoked: flagged, not deleted.
async fn unconfigured_oauth_keeps_the_connection(db: TestDb) {
    let w = world(db).await;
    let id = oauth_connection(&w).await;
    let mut cfg = config(
        w.gate.store().clone(),
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    );
    cfg.oauth = None;
    let bare = Gate::new(cfg).expect("gate");
    let e = seen(
        bare.disconnect(&w.alice.caller, id)
            .await
            .expect_err("not revoked"),
    );
    assert!(
        matches!(
            e,
            GateError::RevocationFailed {
                reason: "not_configured",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(row(&w, id).await.expect("kept").revocation_failed);
    assert_eq!(w.emu.counters().route(REVOKE_ROUTE), 0);
    bare.shutdown().await;
    w.finish().await;
}

/// A refused code exchange says why: the redirect URI, the code, or the client.
async fn refused_exchange_names_the_reason(db: TestDb) {
    let w = world(db).await;
    // The redirect URI of the exchange differs from the authorization request's.
    let location = consent(&w, &w.gate).await;
    let (state, code) = state_and_code(&location);
    let e = seen(
        w.gate
            .complete_oauth(
                Some(&state),
                Some(&code),
                None,
                "http://localhost/other",
                None,
            )
            .await
            .expect_err("redirect mismatch"),
    );
    match &e {
        GateError::Invalid { field, message } => {
            assert_eq!(*field, "redirect_uri", "{message}");
            assert!(message.contains("http://localhost/other"), "{message}");
            assert!(!message.contains("expired or already used"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // A code used already.
    let location = consent(&w, &w.gate).await;
    let (state, code) = state_and_code(&location);
    w.gate
        .complete_oauth(Some(&state), Some(&code), None, CALLBACK, None)
        .await
        .expect("first use");
    let location = consent(&w, &w.gate).await;
    let (state2, _) = state_and_code(&location);
    let e = seen(
        w.gate
            .complete_oauth(Some(&state2), Some(&code), None, CALLBACK, None)
            .await
            .expect_err("used code"),
    );
    match &e {
        GateError::Invalid { field, message } => {
            assert_eq!(*field, "code");
            assert!(message.contains("already used"), "{message}");
            assert!(message.contains("revoked"), "Notion's own words: {message}");
        }
        other => panic!("{other:?}"),
    }

    // The client secret is refused.
    let mut cfg = config(
        w.gate.store().clone(),
        w.vault.clone(),
        &w.emu,
        &Opts::default(),
    );
    cfg.oauth = Some(gate_core::OAuthSettings::new(
        crate::CLIENT_ID,
        SecretString::from("a-wrong-client-secret".to_owned()),
    ));
    let wrong = Gate::new(cfg).expect("gate");
    let location = consent(&w, &wrong).await;
    let (state, code) = state_and_code(&location);
    let e = seen(
        wrong
            .complete_oauth(Some(&state), Some(&code), None, CALLBACK, None)
            .await
            .expect_err("client refused"),
    );
    match &e {
        GateError::NotConfigured { what } => assert!(what.contains("client"), "{what}"),
        other => panic!("{other:?}"),
    }
    wrong.shutdown().await;
    w.finish().await;
}

crate::both!(
    revoked_at_notion_deletes,
    already_invalid_counts_as_revoked,
    failed_revocation_keeps_the_connection_flagged,
    unconfigured_oauth_keeps_the_connection,
    refused_exchange_names_the_reason
);
