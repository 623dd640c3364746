//! Contract tests: the audit trail (append-only, filters, cursor pagination, JSON lines).

use std::collections::HashSet;

use gate_store::{
    AgentId, AuditCall, AuditCursor, AuditDecision, AuditOrder, AuditQuery, AuditRecord,
    CallerKind, Outcome, Surface, UserId,
};
use time::OffsetDateTime;

use crate::TestDb;

crate::contract!(
    audit_filters_and_cursor_pagination,
    audit_export_json_lines,
    audit_is_append_only,
);

const CLASSES: [&str; 5] = ["read", "create", "update", "delete", "schema"];
const OUTCOMES: [Outcome; 4] = [
    Outcome::Ok,
    Outcome::Error,
    Outcome::Denied,
    Outcome::Pending,
];

struct Fixture {
    records: Vec<AuditRecord>,
    agents: [AgentId; 3],
    user: UserId,
    t0: OffsetDateTime,
}

fn fixture(n: usize) -> Fixture {
    let agents = [AgentId::new(), AgentId::new(), AgentId::new()];
    let user = UserId::new();
    let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time");
    let records = (0..n)
        .map(|i| {
            let kind = if i % 7 == 0 {
                CallerKind::User
            } else {
                CallerKind::Agent
            };
            let mut call = AuditCall::new(
                format!("req-{i}"),
                kind,
                Surface::ALL[i % Surface::ALL.len()],
                format!("op.{}", i % 11),
            )
            .at(t0 + time::Duration::seconds(i as i64))
            .action_class(CLASSES[i % CLASSES.len()])
            .targets([format!("page-{i}"), "db-1".to_owned()]);
            if i % 7 != 0 {
                call = call.agent(agents[i % 3]);
            }
            if i % 2 == 0 {
                call = call.user(user);
            }
            let decision = if i % 4 == 2 {
                AuditDecision::Deny
            } else {
                AuditDecision::Allow
            };
            let mut r = AuditRecord::new(call, decision, OUTCOMES[i % OUTCOMES.len()])
                .upstream_status(200)
                .duration_ms(i as u64)
                .args_summary(serde_json::json!({"children": i % 3}));
            if i % 5 == 0 {
                r = r.reason("maturity_too_low");
            }
            r
        })
        .collect();
    Fixture {
        records,
        agents,
        user,
        t0,
    }
}

/// Walks a query page by page; returns the request ids in order.
async fn walk(store: &dyn gate_store::Store, query: AuditQuery) -> Vec<String> {
    let mut q = query;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query_audit(&q).await.expect("page");
        pages += 1;
        assert!(pages < 10_000, "pagination must end");
        seen.extend(page.events.iter().map(|e| e.record.call.request_id.clone()));
        match page.next_cursor {
            // The cursor survives a round trip through its string form.
            Some(c) => q.cursor = Some(c.to_string().parse::<AuditCursor>().expect("cursor")),
            None => break,
        }
    }
    seen
}

async fn audit_filters_and_cursor_pagination(db: &TestDb) {
    let store = db.store().await;
    let f = fixture(313);
    // Several transactions, as the writer would do.
    for chunk in f.records.chunks(100) {
        store.append_audit(chunk).await.expect("append");
    }
    store.append_audit(&[]).await.expect("empty append is fine");

    // Every event exactly once, in both orders, with an awkward page size.
    let newest = walk(&*store, AuditQuery::new().limit(17)).await;
    assert_eq!(newest.len(), 313);
    assert_eq!(
        newest.iter().collect::<HashSet<_>>().len(),
        313,
        "no duplicates"
    );
    assert_eq!(newest.first().map(String::as_str), Some("req-312"));
    let oldest = walk(
        &*store,
        AuditQuery::new().order(AuditOrder::OldestFirst).limit(50),
    )
    .await;
    let mut reversed = newest.clone();
    reversed.reverse();
    assert_eq!(oldest, reversed);

    // A page that ends exactly at the last event has no next cursor.
    let exact = store
        .query_audit(&AuditQuery::new().limit(313))
        .await
        .expect("exact");
    assert_eq!(exact.events.len(), 313);
    assert!(exact.next_cursor.is_none());

    // Stored fields come back intact.
    let first = &store
        .query_audit(&AuditQuery::new().order(AuditOrder::OldestFirst).limit(1))
        .await
        .expect("first")
        .events[0];
    assert_eq!(first.record, f.records[0]);

    // Filters, each compared with the same filter applied in memory, walked with cursors.
    let expect = |pred: &dyn Fn(&AuditRecord) -> bool| -> Vec<String> {
        let mut v: Vec<_> = f
            .records
            .iter()
            .filter(|r| pred(r))
            .map(|r| r.call.request_id.clone())
            .collect();
        v.reverse();
        v
    };
    let agent = f.agents[1];
    let cases: Vec<(AuditQuery, Vec<String>)> = vec![
        (
            AuditQuery::new().agent(agent),
            expect(&|r| r.call.agent_id == Some(agent)),
        ),
        (
            AuditQuery::new().user(f.user),
            expect(&|r| r.call.user_id == Some(f.user)),
        ),
        (
            AuditQuery::new().action_class("delete"),
            expect(&|r| r.call.action_class.as_deref() == Some("delete")),
        ),
        (
            AuditQuery::new().outcome(Outcome::Denied),
            expect(&|r| r.outcome == Outcome::Denied),
        ),
        (
            AuditQuery::new()
                .since(f.t0 + time::Duration::seconds(100))
                .until(f.t0 + time::Duration::seconds(200)),
            expect(&|r| {
                r.call.at >= f.t0 + time::Duration::seconds(100)
                    && r.call.at < f.t0 + time::Duration::seconds(200)
            }),
        ),
        (
            AuditQuery::new()
                .agent(agent)
                .action_class("read")
                .outcome(Outcome::Ok),
            expect(&|r| {
                r.call.agent_id == Some(agent)
                    && r.call.action_class.as_deref() == Some("read")
                    && r.outcome == Outcome::Ok
            }),
        ),
    ];
    for (i, (query, want)) in cases.into_iter().enumerate() {
        assert!(
            !want.is_empty() || i == 5,
            "case {i} should match something"
        );
        let got = walk(&*store, query.clone().limit(7)).await;
        assert_eq!(got, want, "filter case {i}");
        assert_eq!(
            store.count_audit(&query).await.expect("count") as usize,
            want.len(),
            "count {i}"
        );
    }
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        313
    );
    assert!("garbage".parse::<AuditCursor>().is_err());
}

async fn audit_export_json_lines(db: &TestDb) {
    let store = db.store().await;
    let f = fixture(2345);
    store.append_audit(&f.records).await.expect("append");
    let mut out: Vec<u8> = Vec::new();
    let n = store
        .export_audit_jsonl(&AuditQuery::new(), &mut out)
        .await
        .expect("export");
    assert_eq!(n, 2345);
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2345);
    let first: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    assert_eq!(first["request_id"], "req-0", "oldest first");
    assert_eq!(first["timestamp"], "2026-05-28T20:26:40Z");
    assert_eq!(first["caller_kind"], "user");
    assert_eq!(first["surface"], "rest");
    assert_eq!(first["decision"], "allow");
    assert_eq!(first["outcome"], "ok");
    assert_eq!(first["target_ids"], serde_json::json!(["page-0", "db-1"]));
    assert!(first["id"].is_i64());
    let mut last_id = 0;
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        let id = v["id"].as_i64().expect("id");
        assert!(id > last_id, "ids increase");
        last_id = id;
    }

    // Export with a filter.
    let mut out = Vec::new();
    let n = store
        .export_audit_jsonl(&AuditQuery::new().outcome(Outcome::Error), &mut out)
        .await
        .expect("export");
    assert_eq!(
        n as usize,
        f.records
            .iter()
            .filter(|r| r.outcome == Outcome::Error)
            .count()
    );
    assert_eq!(
        String::from_utf8(out).expect("utf-8").lines().count() as u64,
        n
    );
}

async fn audit_is_append_only(db: &TestDb) {
    let store = db.store().await;
    store
        .append_audit(&fixture(3).records)
        .await
        .expect("append");
    let update = db.exec("UPDATE audit_events SET outcome = 'ok'").await;
    assert!(
        update.is_err_and(|e| e.contains("append-only")),
        "updates are refused"
    );
    let delete = db.exec("DELETE FROM audit_events").await;
    assert!(
        delete.is_err_and(|e| e.contains("append-only")),
        "deletes are refused"
    );
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        3
    );
}
