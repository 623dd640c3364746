//! The cost of a cached decision: SHA-256 of the presented key, the auth-cache lookup, and
//! `gate_policy::decide` for the resulting caller (target: under 0.5 µs).
//!
//! Run with `cargo bench -p gate-core --bench decision`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gate_core::{Gate, GateConfig, NewAgentSpec};
use gate_store::{Vault, VaultKey};
use secrecy::ExposeSecret as _;
use serde_json::json;

fn setup(rt: &tokio::runtime::Runtime) -> (Gate, String, tempfile::TempDir) {
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = gate_store::open(&url).await.expect("store");
        let vault = Arc::new(Vault::new(vec![VaultKey::generate().1]).expect("vault"));
        // A long TTL: the benchmark measures the hit path, not expiry.
        let config = GateConfig::new(store, vault).cache_ttl(Duration::from_secs(3600));
        let gate = Gate::new(config).expect("gate");
        let (_, admin_key) = gate.bootstrap_admin("admin").await.expect("admin");
        let admin = gate
            .authenticate(admin_key.key.expose_secret())
            .await
            .expect("admin");
        let agent = gate
            .create_agent(&admin, NewAgentSpec::new("bench", "supervised"))
            .await
            .expect("agent");
        let key = gate
            .issue_agent_key(&admin, agent.id, None)
            .await
            .expect("key")
            .key
            .expose_secret()
            .to_owned();
        gate.authenticate(&key).await.expect("warm the cache");
        (gate, key, dir)
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (gate, key, _dir) = setup(&rt);
    let _guard = rt.enter();
    let body = json!({"icon": {"type": "emoji", "emoji": "x"}});
    let op = gate_policy::classify(
        "PATCH",
        "/v1/pages/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        Some(&body),
    );
    let read = gate_policy::classify("GET", "/v1/pages/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", None);

    c.bench_function("cached decision (hash + cache + decide), update", |b| {
        b.iter(|| {
            let caller = gate.authenticate_cached(black_box(&key)).expect("cached");
            black_box(gate_policy::decide(
                gate.policy(),
                &caller.policy_caller(),
                black_box(&op),
            ))
        })
    });
    c.bench_function("cached decision (hash + cache + decide), read", |b| {
        b.iter(|| {
            let caller = gate.authenticate_cached(black_box(&key)).expect("cached");
            black_box(gate_policy::decide(
                gate.policy(),
                &caller.policy_caller(),
                black_box(&read),
            ))
        })
    });
    c.bench_function("decide only", |b| {
        let caller = gate.authenticate_cached(&key).expect("cached");
        b.iter(|| {
            black_box(gate_policy::decide(
                gate.policy(),
                &caller.policy_caller(),
                black_box(&op),
            ))
        })
    });
    c.bench_function("sha256 of the key", |b| {
        use sha2::Digest as _;
        b.iter(|| black_box(sha2::Sha256::digest(black_box(key.as_bytes()))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
