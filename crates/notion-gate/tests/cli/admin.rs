//! The administration commands on a scratch data folder (no server running): keys on stdout
//! and nothing else, JSON lists, `connect` against an in-process emulator, `keys rotate`,
//! `migrate` twice, and clear errors for bad values.

use notion_emulator::{Emulator, Seed};
use serde_json::Value;

use crate::support::{admin_and_connection, fails, ok, run, stderr};

const TOKEN: &str = "ntn_admin_test_token_0123456789";
/// A second Fernet key (base64 of 32 bytes).
const NEW_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_agents_print_only_their_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("state");
    let d = d.to_str().unwrap();

    // No users yet: the first must be an admin.
    let e = fails(&run(tmp.path(), &["user", "add", "bob", "--data-dir", d], &[]).await);
    assert!(e.contains("--admin"), "{e}");
    let e = fails(&run(tmp.path(), &["agent", "list", "--data-dir", d], &[]).await);
    assert!(e.contains("no administrator"), "{e}");

    let root = ok(&run(
        tmp.path(),
        &["user", "add", "root", "--admin", "--data-dir", d],
        &[],
    )
    .await);
    assert_eq!(root.lines().count(), 1);
    assert!(root.starts_with("ngu_"), "{root}");
    let bob = ok(&run(tmp.path(), &["user", "add", "bob", "--data-dir", d], &[]).await);
    assert!(bob.starts_with("ngu_") && bob.lines().count() == 1, "{bob}");

    let out = run(
        tmp.path(),
        &[
            "agent",
            "add",
            "bot",
            "--maturity",
            "Supervised",
            "--user",
            "bob",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await;
    let key = ok(&out);
    assert_eq!(key.lines().count(), 1, "{key:?}");
    assert!(key.starts_with("nga_"), "{key}");
    assert!(
        stderr(&out).contains("no Notion connection"),
        "{}",
        stderr(&out)
    );

    let agents: Value = serde_json::from_str(&ok(&run(
        tmp.path(),
        &["agent", "list", "--json", "--data-dir", d],
        &[],
    )
    .await))
    .unwrap();
    let agents = agents.as_array().unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0]["name"], "bot");
    assert_eq!(agents[0]["maturity"], "supervised");
    let users: Value = serde_json::from_str(&ok(&run(
        tmp.path(),
        &["user", "list", "--json", "--data-dir", d],
        &[],
    )
    .await))
    .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    let table = ok(&run(tmp.path(), &["agent", "list", "--data-dir", d], &[]).await);
    assert!(
        table.starts_with("NAME") && table.contains("bob"),
        "{table}"
    );

    let e = fails(
        &run(
            tmp.path(),
            &["agent", "add", "x", "--maturity", "guru", "--data-dir", d],
            &[],
        )
        .await,
    );
    assert!(e.contains("invalid --maturity"), "{e}");
    let e = fails(
        &run(
            tmp.path(),
            &[
                "agent",
                "add",
                "y",
                "--maturity",
                "intern",
                "--user",
                "nobody",
                "--data-dir",
                d,
            ],
            &[],
        )
        .await,
    );
    assert!(e.contains("no user named \"nobody\""), "{e}");
    let e = fails(
        &run(
            tmp.path(),
            &["approvals", "approve", "nope", "--data-dir", d],
            &[],
        )
        .await,
    );
    assert!(e.contains("invalid approval ID"), "{e}");
    let e = fails(&run(tmp.path(), &["mcp", "--data-dir", d], &[]).await);
    assert!(e.contains("NOTION_GATE_AGENT_KEY"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_checks_the_token_with_notion_and_keys_rotate_reencrypts_it() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .workspace_name("Acme Admin")
        .start()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("state");
    let d = d.to_str().unwrap();
    let url = emu.base_url();
    let out = admin_and_connection(tmp.path(), d, TOKEN, &url).await;
    let id = ok(&out);
    assert!(
        id.trim().parse::<uuid_like::Id>().is_ok(),
        "a connection id: {id:?}"
    );
    assert!(stderr(&out).contains("Acme Admin"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TOKEN) && !id.contains(TOKEN));

    // The URL can come from the environment too; a wrong token is refused.
    let out = run(
        tmp.path(),
        &["connect", "--token", "ntn_wrong", "--data-dir", d],
        &[("NOTION_GATE_NOTION_URL", &url)],
    )
    .await;
    assert!(
        fails(&out).contains("refused the token"),
        "{}",
        stderr(&out)
    );

    // An agent added now uses the admin's connection.
    ok(&run(
        tmp.path(),
        &[
            "agent",
            "add",
            "bot",
            "--maturity",
            "intern",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await);
    let agents: Value = serde_json::from_str(&ok(&run(
        tmp.path(),
        &["agent", "list", "--json", "--data-dir", d],
        &[],
    )
    .await))
    .unwrap();
    assert_eq!(agents[0]["connection_id"].as_str(), Some(id.trim()));

    // Rotation: with the file's key only, nothing to do.
    let out = ok(&run(tmp.path(), &["keys", "rotate", "--data-dir", d], &[]).await);
    assert!(
        out.contains("re-encrypted 0 token(s)") && out.contains("1 already"),
        "{out}"
    );
    // A new first key, the old one still listed to decrypt: one token rewritten.
    let file = std::fs::read_to_string(tmp.path().join("state/encryption.key")).unwrap();
    let old: Vec<&str> = file
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let both = format!("{NEW_KEY},{}", old.join(","));
    let out = ok(&run(
        tmp.path(),
        &["keys", "rotate", "--data-dir", d],
        &[("NOTION_GATE_ENCRYPTION_KEY", &both)],
    )
    .await);
    assert!(out.contains("re-encrypted 1 token(s)"), "{out}");
    // Now the new key alone decrypts it, and the connection still works.
    let out = ok(&run(
        tmp.path(),
        &["keys", "rotate", "--data-dir", d],
        &[("NOTION_GATE_ENCRYPTION_KEY", NEW_KEY)],
    )
    .await);
    assert!(
        out.contains("re-encrypted 0 token(s)") && out.contains("1 already"),
        "{out}"
    );
    // With only the old key it cannot be read: a non-zero exit naming the connection.
    let out = run(tmp.path(), &["keys", "rotate", "--data-dir", d], &[]).await;
    assert!(fails(&out).contains(id.trim()), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_and_bad_values_name_their_source() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("m");
    let d = d.to_str().unwrap();
    for _ in 0..2 {
        let out = run(tmp.path(), &["migrate", "--data-dir", d], &[]).await;
        ok(&out);
        assert!(stderr(&out).contains("up to date"), "{}", stderr(&out));
    }
    // The default data folder is ./data.
    ok(&run(tmp.path(), &["migrate"], &[]).await);
    assert!(tmp.path().join("data/notion-gate.db").exists());

    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            &["serve", "--listen", "nowhere"],
            &[],
            "invalid --listen \"nowhere\"",
        ),
        (
            &["sandbox"],
            &[("NOTION_GATE_LISTEN", "10.0.0.1")],
            "invalid NOTION_GATE_LISTEN",
        ),
        (
            &["serve"],
            &[("ATOM_LOCAL_ONLY", "perhaps")],
            "invalid ATOM_LOCAL_ONLY",
        ),
        (&["serve", "--rate", "fast"], &[], "invalid --rate"),
        (
            &["serve"],
            &[("NOTION_GATE_CACHE_TTL", "-3")],
            "invalid NOTION_GATE_CACHE_TTL",
        ),
        (
            &["migrate"],
            &[("NOTION_GATE_DATABASE_URL", "mysql://root:hunter2@db/x")],
            "invalid NOTION_GATE_DATABASE_URL",
        ),
        (
            &["serve", "--notion-url", "notion"],
            &[],
            "invalid --notion-url",
        ),
        (
            &["serve", "--log-level", "notion_gate=loud"],
            &[],
            "invalid --log-level",
        ),
        (
            &["connect", "--token", "t", "--config", "missing.toml"],
            &[],
            "--config",
        ),
    ];
    for (args, env, want) in cases {
        let out = run(tmp.path(), args, env).await;
        let e = fails(&out);
        assert!(e.contains(want), "{args:?}: {want:?} in {e:?}");
        assert!(!e.contains("hunter2"), "no secret in {e}");
    }

    // A bad TOML file and a bad policy file: the file and the line.
    std::fs::write(
        tmp.path().join("gate.toml"),
        "listen = \"127.0.0.1:0\"\nport = 1\n",
    )
    .unwrap();
    let e = fails(&run(tmp.path(), &["serve", "--config", "gate.toml"], &[]).await);
    assert!(e.contains("gate.toml") && e.contains("line 2"), "{e}");
    std::fs::write(
        tmp.path().join("policy.toml"),
        "[min_maturity]\nread = \"wizard\"\n",
    )
    .unwrap();
    let e = fails(
        &run(
            tmp.path(),
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--policy-file",
                "policy.toml",
                "--data-dir",
                d,
            ],
            &[],
        )
        .await,
    );
    assert!(e.contains("policy.toml") && e.contains("line 2"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_is_grouped_and_names_the_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let help = ok(&run(tmp.path(), &["--help"], &[]).await);
    for needle in [
        "Run the gateway:",
        "Administer",
        "serve ",
        "sandbox ",
        "approvals ",
        "Examples:",
        "agent add bot --maturity intern",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
    let help = ok(&run(tmp.path(), &["serve", "--help"], &[]).await);
    for needle in [
        "NOTION_GATE_LISTEN",
        "NOTION_GATE_DATA_DIR",
        "NOTION_GATE_DATABASE_URL",
        "NOTION_GATE_NOTION_URL",
        "ATOM_LOCAL_ONLY",
        "--config",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
}

/// A tiny UUID shape check (no uuid dependency in this test binary).
mod uuid_like {
    pub struct Id;

    impl std::str::FromStr for Id {
        type Err = ();

        fn from_str(s: &str) -> Result<Self, ()> {
            let parts: Vec<&str> = s.split('-').collect();
            let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let hex = s.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
            if hex && lens == [8, 4, 4, 4, 12] {
                Ok(Id)
            } else {
                Err(())
            }
        }
    }
}
