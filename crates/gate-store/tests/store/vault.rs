//! Vault tests (no database): Python compatibility fixtures, token format, tampering, key
//! files and their permissions, rotation semantics.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use gate_store::{KeySource, StoreError, Vault, VaultKey};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    scheme: String,
    key: String,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    legacy_secret: Option<String>,
    plaintext: String,
    token: String,
}

fn load(name: &str) -> Fixtures {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture file");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Checks the Fernet wire format: URL-safe base64 with padding, version 0x80, 8-byte
/// timestamp, 16-byte IV, whole AES blocks, 32-byte HMAC.
fn assert_fernet_format(token: &str, plaintext_len: usize) {
    assert!(token.starts_with("gAAAA"), "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=')),
        "URL-safe alphabet only: {token}"
    );
    assert_eq!(token.len() % 4, 0, "padded base64");
    let raw = URL_SAFE.decode(token).expect("URL-safe base64");
    assert_eq!(raw[0], 0x80, "version byte");
    let ciphertext_len = raw.len() - 1 - 8 - 16 - 32;
    assert_eq!(ciphertext_len % 16, 0, "whole AES blocks");
    assert_eq!(
        ciphertext_len,
        (plaintext_len / 16 + 1) * 16,
        "PKCS#7 padding"
    );
}

#[test]
fn python_tokens_decrypt_in_rust() {
    let fixtures = load("fernet_python.json");
    assert!(fixtures.cases.len() >= 8);
    for case in &fixtures.cases {
        let vault = if let Some(secret) = &case.legacy_secret {
            // Scheme A: the key is SHA-256 of the secret string.
            let key = VaultKey::from_legacy_secret(&SecretString::from(secret.clone()));
            assert_eq!(key.id(), VaultKey::parse(&case.key).expect("key").id());
            Vault::new(vec![key]).expect("vault")
        } else if !case.keys.is_empty() {
            Vault::from_key_list(&case.keys.join(",")).expect("vault")
        } else {
            Vault::from_key_list(&case.key).expect("vault")
        };
        let got = vault
            .decrypt(&case.token, None)
            .unwrap_or_else(|e| panic!("{}: {e}", case.scheme));
        assert_eq!(got.expose_secret(), case.plaintext, "{}", case.scheme);
        assert_fernet_format(&case.token, case.plaintext.len());
    }
}

#[test]
fn rust_token_verified_by_python_still_decrypts() {
    // `fernet_rust.json` was made by `print_rust_fixture` below and checked with
    // `python3 fernet_fixtures.py verify fernet_rust.json`.
    let fixtures = load("fernet_rust.json");
    assert!(!fixtures.cases.is_empty());
    for case in &fixtures.cases {
        let vault = Vault::from_key_list(&case.key).expect("vault");
        assert_eq!(
            vault
                .decrypt(&case.token, None)
                .expect("decrypts")
                .expose_secret(),
            case.plaintext
        );
        assert_fernet_format(&case.token, case.plaintext.len());
    }
}

#[test]
fn new_rust_tokens_have_the_fernet_format() {
    let vault = Vault::new(vec![VaultKey::generate().1]).expect("vault");
    for plaintext in ["", "ntn_abc", &"y".repeat(16), &"z".repeat(100)] {
        let sealed = vault.encrypt(&SecretString::from(plaintext.to_owned()));
        assert_fernet_format(&sealed.token, plaintext.len());
        assert_eq!(&sealed.key_id, vault.primary_key_id());
    }
}

/// Generates `fernet_rust.json` (run once with `--ignored --nocapture`, then verify with
/// Python).
#[test]
#[ignore = "fixture generator"]
fn print_rust_fixture() {
    let (encoded, key) = VaultKey::generate();
    let vault = Vault::new(vec![key]).expect("vault");
    let plaintext = "ntn_made_by_rust_0123456789abcdefghijklmnopqrstuv";
    let sealed = vault.encrypt(&SecretString::from(plaintext));
    let json = serde_json::json!({
        "generator": "gate-store Vault::encrypt (verified with python cryptography.fernet)",
        "cases": [{"scheme": "rust", "key": encoded.expose_secret(), "plaintext": plaintext, "token": sealed.token}],
    });
    println!("{}", serde_json::to_string_pretty(&json).expect("json"));
}

#[test]
fn tampered_token_is_reconnect_required() {
    let vault = Vault::new(vec![VaultKey::generate().1]).expect("vault");
    let sealed = vault.encrypt(&SecretString::from("ntn_secret"));
    let mut chars: Vec<char> = sealed.token.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        tampered.as_str(),
        "ntn_plaintext_never_passes",
        "",
        "gAAAAA",
    ] {
        let err = vault.decrypt(bad, None).expect_err("must fail");
        assert!(err.is_reconnect_required(), "{err:?}");
        assert!(err.to_string().contains("reconnect required"));
    }
}

#[test]
fn rotation_old_key_still_decrypts() {
    let (old_enc, old) = VaultKey::generate();
    let (new_enc, new) = VaultKey::generate();
    let before = Vault::new(vec![old.clone()]).expect("old");
    let token = before.encrypt(&SecretString::from("ntn_t")).token;
    let rotated = Vault::from_key_list(&format!(
        "{}, {}",
        new_enc.expose_secret(),
        old_enc.expose_secret()
    ))
    .expect("rotated");
    assert_eq!(rotated.key_ids(), vec![new.id().clone(), old.id().clone()]);
    assert_eq!(
        rotated
            .decrypt(&token, None)
            .expect("old key")
            .expose_secret(),
        "ntn_t"
    );
    assert_eq!(rotated.key_for(&token), Some(old.id()));
    assert_eq!(&rotated.encrypt(&SecretString::from("x")).key_id, new.id());
    // A wrong hint still falls back to the other keys.
    assert!(rotated.decrypt(&token, Some(new.id())).is_ok());
    assert!(
        Vault::new(vec![new])
            .expect("new")
            .decrypt(&token, None)
            .is_err()
    );
}

#[test]
fn key_file_is_created_with_mode_0600_and_reused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("nested").join("data");
    let vault = Vault::load_or_create(&data, None).expect("create");
    let path = Vault::key_file_path(&data);
    assert_eq!(vault.source(), &KeySource::CreatedFile(path.clone()));
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let token = vault.encrypt(&SecretString::from("ntn_t")).token;

    // The file holds the key, not a log of it; Debug shows only the id.
    let contents = std::fs::read_to_string(&path).expect("read");
    let key_line = contents
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("key line");
    assert!(!format!("{vault:?}").contains(key_line.trim()));

    let again = Vault::load_or_create(&data, Some("  ")).expect("reuse (blank env ignored)");
    assert_eq!(again.source(), &KeySource::File(path.clone()));
    assert_eq!(again.primary_key_id(), vault.primary_key_id());
    assert_eq!(
        again
            .decrypt(&token, None)
            .expect("same key")
            .expose_secret(),
        "ntn_t"
    );
}

#[test]
fn over_permissive_key_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    Vault::load_or_create(tmp.path(), None).expect("create");
    let path = Vault::key_file_path(tmp.path());
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let err = Vault::load_or_create(tmp.path(), None).expect_err("refused");
        assert!(
            matches!(err, StoreError::KeyFilePermissions { mode: m, .. } if m == mode),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("chmod 600") && msg.contains("encryption.key"),
            "{msg}"
        );
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    Vault::load_or_create(tmp.path(), None).expect("read-only for the owner is fine");
}

#[test]
fn env_keys_win_and_create_no_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (k1, key1) = VaultKey::generate();
    let (k2, _) = VaultKey::generate();
    let env = format!("{},{}", k1.expose_secret(), k2.expose_secret());
    let vault = Vault::load_or_create(tmp.path(), Some(&env)).expect("env");
    assert_eq!(vault.source(), &KeySource::Env);
    assert_eq!(vault.primary_key_id(), key1.id());
    assert_eq!(vault.key_ids().len(), 2);
    assert!(!Vault::key_file_path(tmp.path()).exists());

    let err = Vault::load_or_create(tmp.path(), Some("not-a-key")).expect_err("bad key");
    assert!(matches!(err, StoreError::Crypto { .. }));
    assert!(
        !err.to_string().contains("not-a-key"),
        "never echo key material: {err}"
    );
}
