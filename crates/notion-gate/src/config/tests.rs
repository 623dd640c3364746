//! Tests of the settings: precedence, aliases, secrets kept out of output.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn write_toml(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("gate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn resolve(flags: &Flags, env: &HashMap<String, String>) -> Result<Settings> {
    Settings::resolve(flags, env, ResolveOptions::default())
}

#[test]
fn precedence_is_flag_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_toml(
        dir.path(),
        "listen = \"127.0.0.1:3000\"\nnotion_url = \"http://file.test\"\n\
         rate = 5.0\ncache_ttl = 7\npublic_url = \"https://file.test\"\n",
    );
    let flags = Flags {
        config: Some(file.clone()),
        listen: Some("127.0.0.1:1000".into()),
        ..Flags::default()
    };
    let vars = env(&[
        (vars::LISTEN, "127.0.0.1:2000"),
        (vars::NOTION_URL, "http://env.test/"),
        (vars::CACHE_TTL, ""),
    ]);
    let s = resolve(&flags, &vars).unwrap();
    // flag beats env and file
    assert_eq!(s.listen, "127.0.0.1:1000".parse().unwrap());
    // env beats file (trailing slash dropped)
    assert_eq!(s.notion_url, "http://env.test");
    assert_eq!(s.notion_url_origin, Origin::Env(vars::NOTION_URL));
    // file beats default; a blank env value counts as unset
    assert_eq!(s.cache_ttl, Duration::from_secs(7));
    assert_eq!(s.public_url.as_deref(), Some("https://file.test"));
    assert_eq!(s.config_file.as_deref(), Some(file.as_path()));
    // defaults
    assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    assert_eq!(
        s.database_url.expose_secret(),
        gate_store::default_sqlite_url(Path::new(DEFAULT_DATA_DIR))
    );
    assert!(!s.local_only);

    // Without the flag the env wins; without both, the file; without all, the default.
    let flags = Flags {
        config: Some(file.clone()),
        ..Flags::default()
    };
    assert_eq!(
        resolve(&flags, &vars).unwrap().listen,
        "127.0.0.1:2000".parse().unwrap()
    );
    assert_eq!(
        resolve(&flags, &env(&[])).unwrap().listen,
        "127.0.0.1:3000".parse().unwrap()
    );
    let s = resolve(&Flags::default(), &env(&[])).unwrap();
    assert_eq!(s.listen, DEFAULT_LISTEN.parse().unwrap());
    assert_eq!(s.notion_url, DEFAULT_NOTION_URL);
    assert_eq!(s.cache_ttl, gate_core::DEFAULT_CACHE_TTL);
    assert!(s.oauth.is_none() && s.config_file.is_none());

    // The file can also come from NOTION_GATE_CONFIG.
    let s = resolve(
        &Flags::default(),
        &env(&[(vars::CONFIG, file.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(s.listen, "127.0.0.1:3000".parse().unwrap());
}

#[test]
fn audit_durability_from_flag_env_and_file() {
    use gate_store::AuditDurability;
    let s = resolve(&Flags::default(), &env(&[])).unwrap();
    assert_eq!(s.audit_durability, AuditDurability::Process, "the default");
    let s = resolve(
        &Flags::default(),
        &env(&[(vars::AUDIT_DURABILITY, "fsync")]),
    )
    .unwrap();
    assert_eq!(s.audit_durability, AuditDurability::Fsync);
    let flags = Flags {
        audit_durability: Some("process".into()),
        ..Flags::default()
    };
    let s = resolve(&flags, &env(&[(vars::AUDIT_DURABILITY, "fsync")])).unwrap();
    assert_eq!(
        s.audit_durability,
        AuditDurability::Process,
        "the flag wins"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gate.toml");
    std::fs::write(&file, "audit_durability = \"fsync\"\n").unwrap();
    let s = resolve(
        &Flags::default(),
        &env(&[(vars::CONFIG, file.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(s.audit_durability, AuditDurability::Fsync);
    let e = resolve(
        &Flags::default(),
        &env(&[(vars::AUDIT_DURABILITY, "always")]),
    )
    .expect_err("a bad level is refused")
    .to_string();
    assert!(e.contains(vars::AUDIT_DURABILITY), "{e}");
}

#[test]
fn approval_webhooks_and_secret() {
    let s = resolve(&Flags::default(), &env(&[])).unwrap();
    assert!(s.approval_webhooks.is_empty() && s.webhook_secret.is_none());

    let dir = tempfile::tempdir().unwrap();
    let file = write_toml(
        dir.path(),
        "approval_webhooks = [\"https://file.example/h\"]\nwebhook_secret = \"file-secret-0123456789\"\n",
    );
    let flags = Flags {
        config: Some(file.clone()),
        ..Flags::default()
    };
    let s = resolve(&flags, &env(&[])).unwrap();
    assert_eq!(s.approval_webhooks.len(), 1);
    assert_eq!(s.approval_webhooks[0].label(), "https://file.example");
    assert_eq!(
        s.webhook_secret
            .as_ref()
            .map(|v| v.expose_secret().to_owned()),
        Some("file-secret-0123456789".to_owned())
    );
    // The environment beats the file: comma-separated, slack+ kept per hook.
    let vars = env(&[
        (
            vars::APPROVAL_WEBHOOKS,
            "https://a.example/x, slack+https://hooks.slack.example/services/T/B/SECRETPATH",
        ),
        (vars::WEBHOOK_SECRET, "env-secret-0123456789"),
    ]);
    let s = resolve(&flags, &vars).unwrap();
    let labels: Vec<_> = s.approval_webhooks.iter().map(|h| h.label()).collect();
    assert_eq!(
        labels,
        ["https://a.example", "slack+https://hooks.slack.example"]
    );
    assert!(s.approval_webhooks[1].is_slack());
    assert!(!format!("{s:?}").contains("SECRETPATH"));
    assert!(!format!("{s:?}").contains("env-secret"));
    // The flag beats both.
    let flags = Flags {
        approval_webhooks: Some("http://127.0.0.1:9/h".into()),
        webhook_secret: Some("flag-secret-0123456789".into()),
        ..flags
    };
    let s = resolve(&flags, &vars).unwrap();
    assert_eq!(s.approval_webhooks[0].label(), "http://127.0.0.1:9");
    assert_eq!(
        s.webhook_secret
            .as_ref()
            .map(|v| v.expose_secret().to_owned()),
        Some("flag-secret-0123456789".to_owned())
    );
    // Errors name the source and never repeat a URL or a secret.
    let e = resolve(
        &Flags::default(),
        &env(&[(vars::APPROVAL_WEBHOOKS, "ftp://x.example/SECRETPATH")]),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains(vars::APPROVAL_WEBHOOKS), "{e}");
    assert!(!e.contains("SECRETPATH"), "{e}");
    let e = resolve(
        &Flags {
            webhook_secret: Some("short".into()),
            ..Flags::default()
        },
        &env(&[]),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("--webhook-secret") && !e.contains("short\""),
        "{e}"
    );
}

#[test]
fn failed_auth_limit_and_cors_origins() {
    let s = resolve(&Flags::default(), &env(&[])).unwrap();
    assert_eq!(s.failed_auth_per_minute, 20);
    assert!(s.cors_origins.is_empty(), "no CORS by default");
    let s = resolve(
        &Flags::default(),
        &env(&[
            (vars::FAILED_AUTH_PER_MINUTE, "0"),
            (
                vars::CORS_ORIGINS,
                "https://a.example, http://127.0.0.1:3000",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(s.failed_auth_per_minute, 0);
    assert_eq!(
        s.cors_origins,
        ["https://a.example", "http://127.0.0.1:3000"]
    );
    let flags = Flags {
        cors_origins: Some("https://flag.example".into()),
        failed_auth_per_minute: Some("5".into()),
        ..Flags::default()
    };
    let s = resolve(&flags, &env(&[(vars::CORS_ORIGINS, "https://env.example")])).unwrap();
    assert_eq!(s.cors_origins, ["https://flag.example"]);
    assert_eq!(s.failed_auth_per_minute, 5);
    for (var, bad) in [
        (vars::CORS_ORIGINS, "*"),
        (vars::CORS_ORIGINS, "https://a.example/path"),
        (vars::FAILED_AUTH_PER_MINUTE, "-1"),
    ] {
        let e = resolve(&Flags::default(), &env(&[(var, bad)]))
            .err()
            .unwrap_or_else(|| panic!("{var}={bad} was accepted"))
            .to_string();
        assert!(e.contains(var), "{e}");
    }
}

#[test]
fn redis_url_from_flag_env_or_file_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_toml(dir.path(), "redis_url = \"redis://file:6379\"\n");
    let flags = Flags {
        config: Some(file.clone()),
        ..Flags::default()
    };
    let s = resolve(&flags, &env(&[])).unwrap();
    assert_eq!(
        s.redis_url.as_ref().unwrap().expose_secret(),
        "redis://file:6379"
    );
    let s = resolve(&flags, &env(&[(vars::REDIS_URL, "redis://env:6379/2")])).unwrap();
    assert_eq!(
        s.redis_url.as_ref().unwrap().expose_secret(),
        "redis://env:6379/2"
    );
    assert!(format!("{s:?}").contains("redis: Some(\"[set]\")"));
    let s = resolve(
        &Flags {
            redis_url: Some("rediss://:pw@flag:6380".into()),
            ..flags.clone()
        },
        &env(&[(vars::REDIS_URL, "redis://env:6379/2")]),
    )
    .unwrap();
    assert_eq!(
        s.redis_url.as_ref().unwrap().expose_secret(),
        "rediss://:pw@flag:6380"
    );
    assert!(!format!("{s:?}").contains("pw@"));
    assert!(
        resolve(&Flags::default(), &env(&[]))
            .unwrap()
            .redis_url
            .is_none()
    );
    let err = resolve(
        &Flags::default(),
        &env(&[(vars::REDIS_URL, "http://:hunter2@cache:6379")]),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("NOTION_GATE_REDIS_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn a_flag_clap_filled_from_the_environment_is_named_as_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_toml(dir.path(), "cache_ttl = 7\n");
    // clap's `env` attribute put NOTION_GATE_LISTEN's value into --listen.
    let flags = Flags {
        listen: Some("nowhere".into()),
        env_sourced: BTreeSet::from(["listen".to_owned()]),
        ..Flags::default()
    };
    let e = resolve(&flags, &env(&[])).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid NOTION_GATE_LISTEN \"nowhere\""),
        "{e}"
    );
    // A blank variable counts as unset: the file's value is used.
    let flags = Flags {
        config: Some(file),
        cache_ttl: Some("  ".into()),
        env_sourced: BTreeSet::from(["cache_ttl".to_owned()]),
        ..Flags::default()
    };
    let s = resolve(&flags, &env(&[])).unwrap();
    assert_eq!(s.cache_ttl, Duration::from_secs(7));
    // The same blank value typed as a flag is an error naming the flag.
    let flags = Flags {
        cache_ttl: Some("  ".into()),
        ..Flags::default()
    };
    let e = resolve(&flags, &env(&[])).unwrap_err().to_string();
    assert!(e.starts_with("invalid --cache-ttl"), "{e}");
}

#[test]
fn the_original_names_are_accepted_and_ours_win() {
    let s = resolve(
        &Flags::default(),
        &env(&[
            (vars::NOTION_CLIENT_ID, "legacy-id"),
            (vars::NOTION_CLIENT_SECRET, "legacy-secret"),
            (vars::NOTION_REDIRECT_URI, "http://localhost:8000/cb"),
            (vars::NOTION_API_KEY, "ntn_legacy"),
            (vars::ATOM_LOCAL_ONLY, "TRUE"),
        ]),
    )
    .unwrap();
    let (id, secret) = s.oauth.as_ref().unwrap();
    assert_eq!(id, "legacy-id");
    assert_eq!(secret.expose_secret(), "legacy-secret");
    assert_eq!(
        s.oauth_redirect_uri.as_deref(),
        Some("http://localhost:8000/cb")
    );
    assert_eq!(
        s.notion_api_key.as_ref().unwrap().expose_secret(),
        "ntn_legacy"
    );
    assert!(s.local_only);
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("legacy-secret") && !debug.contains("ntn_legacy"),
        "{debug}"
    );

    let s = resolve(
        &Flags::default(),
        &env(&[
            (vars::NOTION_CLIENT_ID, "legacy-id"),
            (vars::OAUTH_CLIENT_ID, "new-id"),
            (vars::NOTION_CLIENT_SECRET, "s"),
        ]),
    )
    .unwrap();
    assert_eq!(s.oauth.unwrap().0, "new-id");
}

#[test]
fn export_rate_zero_means_no_client_side_limit() {
    let default = export_limiter(None, None).unwrap().unwrap();
    assert_eq!(
        (default.rate_per_second, default.burst),
        (DEFAULT_RATE, DEFAULT_BURST)
    );
    assert_eq!(export_limiter(Some("0"), Some("5")).unwrap(), None);
    let l = export_limiter(Some(" 12.5 "), Some("20")).unwrap().unwrap();
    assert_eq!((l.rate_per_second, l.burst), (12.5, 20));
    for (rate, burst, named) in [
        (Some("-1"), None, "--rate (or NOTION_GATE_RATE)"),
        (Some("NaN"), None, "--rate"),
        (None, Some("0"), "--burst (or NOTION_GATE_BURST)"),
        (None, Some("1.5"), "--burst"),
    ] {
        let e = export_limiter(rate, burst).unwrap_err().to_string();
        assert!(e.contains(named), "{e}");
    }
}

type Case<'a> = (Flags, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_values_name_their_source() {
    let cases: &[Case<'_>] = &[
        (
            Flags {
                listen: Some("nowhere".into()),
                ..Flags::default()
            },
            &[],
            "invalid --listen \"nowhere\"",
        ),
        (
            Flags::default(),
            &[(vars::LISTEN, "1.2.3.4")],
            "invalid NOTION_GATE_LISTEN",
        ),
        (
            Flags::default(),
            &[(vars::ATOM_LOCAL_ONLY, "maybe")],
            "invalid ATOM_LOCAL_ONLY",
        ),
        (
            Flags::default(),
            &[(vars::LOCAL_ONLY, "sure")],
            "invalid NOTION_GATE_LOCAL_ONLY",
        ),
        (
            Flags::default(),
            &[(vars::RATE, "-1")],
            "invalid NOTION_GATE_RATE",
        ),
        (
            Flags {
                burst: Some("0".into()),
                ..Flags::default()
            },
            &[],
            "invalid --burst",
        ),
        (
            Flags::default(),
            &[(vars::CACHE_TTL, "soon")],
            "invalid NOTION_GATE_CACHE_TTL",
        ),
        (
            Flags {
                notion_url: Some("ftp://x".into()),
                ..Flags::default()
            },
            &[],
            "invalid --notion-url",
        ),
        (
            Flags::default(),
            &[(vars::NOTION_VERSION, "latest")],
            "invalid NOTION_GATE_NOTION_VERSION",
        ),
        (
            Flags::default(),
            &[(vars::DATABASE_URL, "mysql://root:hunter2@db/x")],
            "invalid NOTION_GATE_DATABASE_URL",
        ),
        (
            Flags::default(),
            &[(vars::NOTION_CLIENT_ID, "id")],
            "NOTION_GATE_OAUTH_CLIENT_SECRET",
        ),
    ];
    for (flags, vars, want) in cases {
        let Err(err) = resolve(flags, &env(vars)) else {
            panic!("{want}: expected an error");
        };
        let err = err.to_string();
        assert!(err.contains(want), "{want:?} in {err:?}");
        assert!(!err.contains("hunter2"), "no secret in {err:?}");
    }
}

#[test]
fn a_bad_file_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_toml(dir.path(), "listen = \"127.0.0.1:1\"\nlisten_on = 3\n");
    let flags = Flags {
        config: Some(file),
        ..Flags::default()
    };
    let err = format!("{:#}", resolve(&flags, &env(&[])).err().unwrap());
    assert!(err.contains("gate.toml") && err.contains("line 2"), "{err}");

    let file = write_toml(dir.path(), "burst = 0\n");
    let flags = Flags {
        config: Some(file),
        ..Flags::default()
    };
    let err = resolve(&flags, &env(&[])).err().unwrap().to_string();
    assert!(
        err.contains("`burst` in") && err.contains("gate.toml"),
        "{err}"
    );

    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[min_maturity]\nread = \"intern\"\nwrite = 3\n").unwrap();
    let s = resolve(
        &Flags::default(),
        &env(&[(vars::POLICY_FILE, policy.to_str().unwrap())]),
    )
    .unwrap();
    let err = s.policy().err().unwrap().to_string();
    assert!(
        err.contains("policy.toml") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn the_sandbox_url_file_is_a_default_for_admin_commands_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(SANDBOX_NOTION_URL_FILE),
        "http://127.0.0.1:4567\n",
    )
    .unwrap();
    let flags = Flags {
        data_dir: Some(dir.path().to_owned()),
        ..Flags::default()
    };
    let admin = ResolveOptions {
        sandbox_notion_url: true,
    };
    let s = Settings::resolve(&flags, &env(&[]), admin).unwrap();
    assert_eq!(s.notion_url, "http://127.0.0.1:4567");
    let s = resolve(&flags, &env(&[])).unwrap();
    assert_eq!(s.notion_url, DEFAULT_NOTION_URL);
    let s = Settings::resolve(
        &flags,
        &env(&[(vars::NOTION_URL, "http://explicit.test")]),
        admin,
    )
    .unwrap();
    assert_eq!(s.notion_url, "http://explicit.test");
}
