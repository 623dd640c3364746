//! Contract tests: the batched [`AuditWriter`](gate_store::AuditWriter).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use gate_store::{
    AuditCall, AuditClosed, AuditDecision, AuditDurability, AuditEntry, AuditIntent, AuditQuery,
    AuditRecord, AuditWriter, AuditWriterConfig, CallerKind, Outcome, Store, StoreOptions, Surface,
};
use tokio::task::JoinHandle;

use crate::{AuditLock, Kind, TestDb};

crate::contract!(
    writer_batches_ten_thousand_events,
    writer_shutdown_flushes_everything_accepted,
    writer_retries_failed_batches,
    writer_durable_records_are_committed_before_it_returns,
    writer_durable_records_wait_out_a_locked_database,
    writer_flush_and_shutdown_wait_for_handed_off_records,
    writer_sqlite_wal_stays_bounded_under_steady_commits,
    writer_sqlite_spool_answers_while_the_database_is_locked,
    writer_sqlite_spool_of_a_dead_process_is_imported_once,
    writer_intents_are_durable_and_completed_by_their_record,
    writer_fsync_records_are_in_the_file_before_it_returns,
    intent_claims_hold_across_instances,
);

fn record(i: usize) -> AuditRecord {
    let call = AuditCall::new(
        format!("req-{i}"),
        CallerKind::Agent,
        Surface::Mcp,
        "pages.retrieve",
    )
    .action_class("read")
    .targets([format!("page-{i}")]);
    AuditRecord::new(call, AuditDecision::Allow, Outcome::Ok)
}

async fn all_request_ids(store: &dyn gate_store::Store) -> HashSet<String> {
    let mut out = Vec::new();
    store
        .export_audit_jsonl(&AuditQuery::new(), &mut out)
        .await
        .expect("export");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["request_id"].as_str().expect("request id").to_owned()
        })
        .collect()
}

async fn writer_batches_ten_thousand_events(db: &TestDb) {
    let store = db.store().await;
    // A small channel, so producers really do wait on a full channel.
    let writer = AuditWriter::spawn(
        store.clone(),
        AuditWriterConfig::new().capacity(256).batch_size(500),
    );
    let mut producers = Vec::new();
    for p in 0..8 {
        let w = writer.clone();
        producers.push(tokio::spawn(async move {
            for i in (p..10_000).step_by(8) {
                w.record(record(i)).await.expect("record");
            }
        }));
    }
    for p in producers {
        p.await.expect("producer");
    }
    let stats = writer.shutdown().await;
    assert_eq!(stats.accepted, 10_000);
    assert_eq!(stats.written, 10_000);
    assert_eq!((stats.failed, stats.lost), (0, 0));
    assert!(
        stats.batches >= 20 && stats.batches < 10_000,
        "batched: {stats:?}"
    );
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        10_000
    );
    let ids = all_request_ids(&*store).await;
    assert_eq!(ids.len(), 10_000);
    assert!((0..10_000).all(|i| ids.contains(&format!("req-{i}"))));
}

async fn writer_shutdown_flushes_everything_accepted(db: &TestDb) {
    let store = db.store().await;
    // A batch that would wait a minute to fill: only shutdown can write it.
    let config = AuditWriterConfig::new()
        .batch_size(1000)
        .flush_interval(Duration::from_secs(60));
    let writer = AuditWriter::spawn(store.clone(), config);
    for i in 0..37 {
        writer.record(record(i)).await.expect("record");
    }
    assert_eq!(writer.stats().written, 0, "still batching");
    let stats = tokio::time::timeout(Duration::from_secs(30), writer.shutdown())
        .await
        .expect("shutdown does not wait for the interval");
    assert_eq!((stats.accepted, stats.written), (37, 37));
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        37
    );
    assert!(
        writer.record(record(99)).await.is_err(),
        "closed after shutdown"
    );
    assert_eq!(
        writer.shutdown().await.written,
        37,
        "a second shutdown is harmless"
    );

    // flush() is a barrier while running.
    let writer = AuditWriter::spawn(
        store.clone(),
        AuditWriterConfig::new().flush_interval(Duration::from_secs(60)),
    );
    writer.record(record(100)).await.expect("record");
    writer.flush().await.expect("flush");
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        38
    );
    writer.shutdown().await;
}

async fn writer_retries_failed_batches(db: &TestDb) {
    let (store, writer, lock) = locked_writer(db, AuditWriterConfig::new().batch_size(10)).await;
    for i in 0..25 {
        writer.record(record(i)).await.expect("record");
    }
    wait_for_a_failed_write(&writer).await;
    assert_eq!(writer.stats().written, 0);
    lock.release().await;
    let stats = writer.shutdown().await;
    assert_eq!(stats.written, 25, "{stats:?}");
    assert!(stats.failed > 0);
    assert_eq!(stats.lost, 0);
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        25
    );
}

async fn writer_durable_records_are_committed_before_it_returns(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(
        store.direct_audit().is_some(),
        db.kind == Kind::Sqlite,
        "SQLite on a file commits durable records on the caller's thread"
    );
    // A flush interval far longer than the test: only the durable path can write in time.
    let writer = AuditWriter::spawn(
        store.clone(),
        AuditWriterConfig::new()
            .batch_size(500)
            .flush_interval(Duration::from_secs(3600)),
    );
    let spool = db.sqlite_file.as_ref().map(|f| spool_dir(f));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let w = writer.clone();
        let store = store.clone();
        let spool = spool.clone();
        tasks.push(tokio::spawn(async move {
            w.record_durable(record(i)).await.expect("durable record");
            // Durable when record_durable returns, without a flush or a shutdown: on SQLite
            // a line of this process's spool file (imported into the table a moment later),
            // on PostgreSQL committed to the table.
            let id = format!("\"req-{i}\"");
            match &spool {
                Some(dir) => assert!(
                    spool_text(dir).contains(&id),
                    "req-{i} is in the spool file"
                ),
                None => assert!(
                    all_request_ids(&*store).await.contains(&format!("req-{i}")),
                    "req-{i} is committed"
                ),
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let stats = writer.stats();
    assert_eq!((stats.accepted, stats.written), (64, 64));
    // flush() waits until the spooled records are in the table.
    writer.flush().await.expect("flush");
    let ids = all_request_ids(&*store).await;
    assert!(
        (0..64).all(|i| ids.contains(&format!("req-{i}"))),
        "{ids:?}"
    );
    // A plain record queued behind them still waits for its interval or a flush.
    writer.record(record(1000)).await.expect("record");
    writer.flush().await.expect("flush");
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        65
    );
    writer.shutdown().await;
}

/// Blocks audit writes and starts a writer (`config`, with short retries) on a fail-fast
/// store; returns the plain store, the writer and the lock.
async fn locked_writer(
    db: &TestDb,
    config: AuditWriterConfig,
) -> (Arc<dyn Store>, AuditWriter, AuditLock) {
    let store = db.store().await;
    // Already migrated by `store`; migrating here would wait on PostgreSQL's advisory lock,
    // which the short lock timeout turns into an error while other tests migrate.
    let options = StoreOptions::new()
        .migrate(false)
        .busy_timeout(Duration::from_millis(50));
    let failing = db.store_with(&db.fail_fast_url(), options).await;
    let lock = db.block_audit_writes().await;
    let writer = AuditWriter::spawn(
        failing,
        config.retry(Duration::from_millis(20), Duration::from_millis(100)),
    );
    (store, writer, lock)
}

/// Waits until at least one write has failed while the lock is held.
async fn wait_for_a_failed_write(writer: &AuditWriter) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while writer.stats().failed == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a write should have failed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `flush()` is a barrier: it does not return while the lock is held (nothing accepted can
/// reach the table), and returns once it is released.
async fn flush_outlasts_the_lock(writer: &AuditWriter, lock: AuditLock) {
    let flusher = {
        let w = writer.clone();
        tokio::spawn(async move { w.flush().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!flusher.is_finished(), "flush waits while the lock is held");
    lock.release().await;
    tokio::time::timeout(Duration::from_secs(30), flusher)
        .await
        .expect("flush returns once the lock is gone")
        .expect("task")
        .expect("flush");
}

/// Callers waiting for durable records on a database whose audit writes are blocked.
struct LockedCallers {
    store: Arc<dyn Store>,
    writer: AuditWriter,
    lock: AuditLock,
    tasks: Vec<JoinHandle<Result<(), AuditClosed>>>,
}

/// Blocks audit writes, starts a writer (`config`, plus short retries and no timed flush) on
/// a fail-fast store, starts `n` callers each waiting for a durable record, and returns once
/// a commit has failed on the lock.
async fn durable_callers_on_a_locked_database(
    db: &TestDb,
    config: AuditWriterConfig,
    n: usize,
) -> LockedCallers {
    let (store, writer, lock) =
        locked_writer(db, config.flush_interval(Duration::from_secs(3600))).await;
    if let Some(file) = &db.sqlite_file {
        // A file where the spool folder should be (it is made at the first record): the
        // spool cannot be written, as when the disk is full, so that durable records take
        // the background writer's path.
        std::fs::write(spool_dir(file), b"").expect("block the spool");
    }
    let tasks = (0..n)
        .map(|i| {
            let w = writer.clone();
            tokio::spawn(async move { w.record_durable(record(i)).await })
        })
        .collect();
    wait_for_a_failed_write(&writer).await;
    LockedCallers {
        store,
        writer,
        lock,
        tasks,
    }
}

async fn writer_durable_records_wait_out_a_locked_database(db: &TestDb) {
    // On SQLite (its spool blocked) the direct append fails and hands its records to the
    // background writer; on PostgreSQL the background writer is the only path. Either way
    // the callers wait, and nothing is lost.
    let LockedCallers {
        store,
        writer,
        lock,
        tasks,
    } = durable_callers_on_a_locked_database(db, AuditWriterConfig::new(), 5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tasks.iter().all(|t| !t.is_finished()),
        "no durable record is answered before its commit"
    );
    assert_eq!(writer.stats().written, 0);
    lock.release().await;
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("answered once the lock is gone")
            .expect("task")
            .expect("committed");
    }
    let stats = writer.shutdown().await;
    assert_eq!(
        (stats.accepted, stats.written, stats.lost),
        (5, 5, 0),
        "{stats:?}"
    );
    // SQLite tried the spool on the caller's thread and handed the records over; PostgreSQL
    // has only the background writer.
    if db.kind == Kind::Sqlite {
        assert!(stats.handed_off >= 1, "{stats:?}");
    } else {
        assert_eq!(stats.handed_off, 0, "{stats:?}");
    }
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        5
    );
    assert!(
        writer.record_durable(record(9)).await.is_err(),
        "closed after shutdown"
    );
}

async fn writer_flush_and_shutdown_wait_for_handed_off_records(db: &TestDb) {
    // A channel of one: on SQLite most hand-offs wait for room in a task of their own.
    let LockedCallers {
        store,
        writer,
        lock,
        tasks,
    } = durable_callers_on_a_locked_database(
        db,
        AuditWriterConfig::new().capacity(1).batch_size(4),
        12,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // On SQLite the records queued before the first commit failed were accepted by the
    // direct path and handed over, most from a task waiting for room in the channel; later
    // ones, like every record on PostgreSQL, wait for room before they are accepted. flush()
    // must cover every record accepted so far, wherever it waits.
    let accepted = writer.stats().accepted;
    assert!(accepted >= 1, "{:?}", writer.stats());
    // flush() is a barrier: it returns only once everything accepted is written, which can
    // only happen after the lock is gone.
    flush_outlasts_the_lock(&writer, lock).await;
    let written = store.count_audit(&AuditQuery::new()).await.expect("count");
    assert!(
        written >= accepted,
        "flush returned after every accepted record was written: {written} < {accepted}"
    );
    for t in tasks {
        t.await.expect("task").expect("committed");
    }
    let stats = writer.shutdown().await;
    assert_eq!(
        (stats.accepted, stats.written, stats.lost),
        (12, 12, 0),
        "{stats:?}"
    );
}

async fn writer_sqlite_wal_stays_bounded_under_steady_commits(db: &TestDb) {
    if db.kind != Kind::Sqlite {
        return;
    }
    let store = db.store().await;
    let writer = AuditWriter::spawn(store.clone(), AuditWriterConfig::new());
    // One durable record after the other: one commit each, with no pause for a checkpoint
    // to catch up. Each commit appends a WAL frame per page it touches (the table and its
    // indexes), so without checkpoints that catch up the WAL would pass 80 MB here (91 MB
    // before the locked second pass); the bound leaves room for a slow checkpoint thread.
    for i in 0..3000 {
        writer
            .record_durable(record(i))
            .await
            .expect("durable record");
    }
    writer.shutdown().await;
    let file = db.sqlite_file.as_ref().expect("sqlite file");
    let wal = std::path::PathBuf::from(format!("{}-wal", file.display()));
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        size < 40 * 1024 * 1024,
        "the WAL grew to {size} bytes over 3,000 commits"
    );
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        3000
    );
}

/// The spool folder beside a SQLite database file.
fn spool_dir(file: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}-spool", file.display()))
}

/// Every spool file's text, and the names of the files.
fn spool_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn spool_text(dir: &std::path::Path) -> String {
    spool_files(dir).into_iter().map(|(_, t)| t).collect()
}

async fn writer_sqlite_spool_answers_while_the_database_is_locked(db: &TestDb) {
    let Some(file) = db.sqlite_file.clone() else {
        return;
    };
    let (store, writer, lock) = locked_writer(db, AuditWriterConfig::new()).await;
    // Durable with the database locked: each record is a line of the spool file.
    for i in 0..5 {
        tokio::time::timeout(Duration::from_secs(10), writer.record_durable(record(i)))
            .await
            .expect("answered while the database is locked")
            .expect("durable");
    }
    let text = spool_text(&spool_dir(&file));
    assert_eq!(text.lines().count(), 5, "{text}");
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        0,
        "nothing is imported while the lock is held"
    );
    flush_outlasts_the_lock(&writer, lock).await;
    assert_eq!(all_request_ids(&*store).await.len(), 5);
    let stats = writer.shutdown().await;
    assert_eq!(
        (stats.accepted, stats.written, stats.lost, stats.handed_off),
        (5, 5, 0, 0),
        "{stats:?}"
    );
    // The writer's store (the last handle on its spool) is gone: its file is deleted.
    drop(writer);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !spool_files(&spool_dir(&file)).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "spool files left: {:?}",
            spool_files(&spool_dir(&file))
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.count_audit(&AuditQuery::new()).await.expect("count"),
        5
    );
}

/// One spool line: the audit columns in insert order.
fn spool_line(request_id: &str) -> String {
    serde_json::json!([
        1_790_000_000_000_i64,
        request_id,
        "agent",
        null,
        null,
        null,
        "proxy",
        "read",
        "pages.retrieve",
        "[\"page-1\"]",
        "allow",
        null,
        "ok",
        200,
        3,
        null
    ])
    .to_string()
}

async fn writer_sqlite_spool_of_a_dead_process_is_imported_once(db: &TestDb) {
    let Some(file) = db.sqlite_file.clone() else {
        return;
    };
    let store = db.store().await;
    let dir = spool_dir(&file);
    std::fs::create_dir_all(&dir).expect("spool folder");
    // A process that died: its first line was imported (the progress row says so), the rest
    // not; lines that do not decode, and a last line torn by a crash of the machine.
    let dead = format!(
        "{}\n{}\nnot json\n[1, 2]\n{}\n{}\n[17900000",
        spool_line("req-imported-before"),
        spool_line("req-b"),
        // A required column (the request id) missing: skipped, not a failed import.
        spool_line("req-null").replace("\"req-null\"", "null"),
        spool_line("req-c")
    );
    std::fs::write(dir.join("1-4000001-0.jsonl"), dead).expect("dead spool");
    db.exec("INSERT INTO audit_spool (spool, lines) VALUES ('1-4000001-0.jsonl', 1)")
        .await
        .expect("progress row");
    // A live process's file: locked, so it is left alone.
    let live_path = dir.join("2-4000002-0.jsonl");
    std::fs::write(&live_path, format!("{}\n", spool_line("req-live"))).expect("live spool");
    let live = std::fs::File::open(&live_path).expect("open");
    rustix::fs::flock(&live, rustix::fs::FlockOperation::LockExclusive).expect("lock");
    // A file whose creator died before naming it (it never holds a line).
    let unnamed = dir.join(".3-4000003-0.jsonl.new");
    std::fs::write(&unnamed, b"").expect("unnamed spool");
    std::fs::File::options()
        .write(true)
        .open(&unnamed)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - Duration::from_secs(120)))
        .expect("age the unnamed spool");
    // A fresh one may be a live process's, between its creation and its rename: kept.
    let fresh = dir.join(".4-4000004-0.jsonl.new");
    std::fs::write(&fresh, b"").expect("fresh unnamed spool");
    // A progress row whose file is gone.
    db.exec("INSERT INTO audit_spool (spool, lines) VALUES ('0-4000000-0.jsonl', 7)")
        .await
        .expect("stale progress row");

    // Opening a store (its migrations) imports what the dead process left, exactly once.
    drop(db.store().await);
    let ids = all_request_ids(&*store).await;
    assert_eq!(
        ids,
        HashSet::from(["req-b".to_owned(), "req-c".to_owned()]),
        "only the lines not imported before, and only whole ones"
    );
    let names: Vec<String> = spool_files(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        vec![
            ".4-4000004-0.jsonl.new".to_owned(),
            "2-4000002-0.jsonl".to_owned()
        ],
        "the dead file and the old unnamed one are deleted"
    );
    std::fs::remove_file(&fresh).expect("remove the fresh unnamed spool");
    assert_eq!(
        db.exec("DELETE FROM audit_spool WHERE spool <> '2-4000002-0.jsonl'")
            .await
            .expect("progress rows"),
        0,
        "the dead file's and the stale progress rows are gone"
    );

    // Again: nothing twice. Then the live process dies (its lock goes): its line comes in.
    drop(db.store().await);
    assert_eq!(all_request_ids(&*store).await.len(), 2);
    drop(live);
    drop(db.store().await);
    let ids = all_request_ids(&*store).await;
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains("req-live"));
    assert!(spool_files(&dir).is_empty());
}

fn intent(i: usize) -> AuditIntent {
    let call = AuditCall::new(
        format!("req-w{i}"),
        CallerKind::Agent,
        Surface::Proxy,
        "pages.update",
    )
    .action_class("update")
    .targets([format!("page-{i}")]);
    AuditIntent::new(call, "0".repeat(64), gate_store::intent_owner())
        .markers(serde_json::json!({"method": "PATCH", "path": format!("/v1/pages/page-{i}")}))
}

/// A write's intent is durable when `record_intent_durable` returns (SQLite: a line of the
/// spool; PostgreSQL: committed), open until the record naming it is stored, and a record
/// stored before its intent (a record handed to the background writer) still completes it.
async fn writer_intents_are_durable_and_completed_by_their_record(db: &TestDb) {
    let store = db.store().await;
    let writer = AuditWriter::spawn(store.clone(), AuditWriterConfig::new());
    let spool = db.sqlite_file.as_ref().map(|f| spool_dir(f));
    let intents: Vec<AuditIntent> = (0..8).map(intent).collect();
    for i in &intents {
        writer
            .record_intent_durable(i.clone())
            .await
            .expect("durable intent");
        match &spool {
            Some(dir) => assert!(spool_text(dir).contains(&i.id.to_string())),
            None => assert!(
                store
                    .open_intents(100)
                    .await
                    .expect("open")
                    .iter()
                    .any(|o| o.id == i.id)
            ),
        }
    }
    writer.flush().await.expect("flush");
    let open = store.open_intents(100).await.expect("open");
    assert_eq!(open.len(), 8);
    assert_eq!(open[0].markers, intents[0].markers, "read back whole");
    assert_eq!(open[0].owner, gate_store::intent_owner());
    for i in &intents[..4] {
        writer
            .record_durable(i.settlement(Outcome::Ok, "done"))
            .await
            .expect("record");
    }
    writer.flush().await.expect("flush");
    let open: Vec<_> = store
        .open_intents(100)
        .await
        .expect("open")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open, intents[4..].iter().map(|i| i.id).collect::<Vec<_>>());
    let page = store.query_audit(&AuditQuery::new()).await.expect("query");
    assert!(page.events.iter().all(|e| e.record.intent_id.is_some()));

    // The record first, the intent after: still complete.
    let late = intent(99);
    store
        .append_audit_entries(&[AuditEntry::Record(late.settlement(Outcome::Unknown, "x"))])
        .await
        .expect("record");
    store
        .append_audit_entries(&[AuditEntry::Intent(Box::new(late.clone()))])
        .await
        .expect("intent");
    assert!(
        store
            .open_intents(100)
            .await
            .expect("open")
            .iter()
            .all(|i| i.id != late.id)
    );
    // Unknown outcomes are a filter like any other.
    assert_eq!(
        store
            .count_audit(&AuditQuery::new().outcome(Outcome::Unknown))
            .await
            .expect("count"),
        1
    );
    writer.shutdown().await;
}

/// `--audit-durability fsync`: every durable record is in the spool file, read by a second
/// process, when `record_durable` returns (PostgreSQL: committed, as always).
async fn writer_fsync_records_are_in_the_file_before_it_returns(db: &TestDb) {
    let store = db
        .store_with(
            &db.url,
            StoreOptions::default().audit_durability(AuditDurability::Fsync),
        )
        .await;
    let writer = AuditWriter::spawn(
        store.clone(),
        AuditWriterConfig::new().flush_interval(Duration::from_secs(3600)),
    );
    let spool = db.sqlite_file.as_ref().map(|f| spool_dir(f));
    let mut tasks = Vec::new();
    for i in 0..32 {
        let w = writer.clone();
        let store = store.clone();
        let spool = spool.clone();
        tasks.push(tokio::spawn(async move {
            w.record_durable(record(i)).await.expect("durable record");
            let id = format!("\"req-{i}\"");
            match &spool {
                Some(dir) => {
                    let out = std::process::Command::new("sh")
                        .arg("-c")
                        .arg("cat \"$0\"/*.jsonl")
                        .arg(dir)
                        .output()
                        .expect("cat runs");
                    assert!(
                        String::from_utf8_lossy(&out.stdout).contains(&id),
                        "req-{i} is in the spool file, as another process reads it"
                    );
                }
                None => assert!(all_request_ids(&*store).await.contains(&format!("req-{i}"))),
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    writer.flush().await.expect("flush");
    assert_eq!(all_request_ids(&*store).await.len(), 32);
    writer.shutdown().await;
}

/// Settling an intent is claimed once across instances until the claim's lease ends.
async fn intent_claims_hold_across_instances(db: &TestDb) {
    let a = db.store().await;
    let b = db.store().await;
    let i = intent(1);
    a.append_audit_entries(&[AuditEntry::Intent(Box::new(i.clone()))])
        .await
        .expect("intent");
    let lease = Duration::from_secs(60);
    assert!(a.claim_intent(i.id, "a", lease).await.expect("claim"));
    assert!(!b.claim_intent(i.id, "b", lease).await.expect("claim"));
    assert!(a.claim_intent(i.id, "a", lease).await.expect("renew"));
    // An expired claim can be taken over.
    assert!(
        a.claim_intent(i.id, "a", Duration::ZERO)
            .await
            .expect("claim")
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(b.claim_intent(i.id, "b", lease).await.expect("take over"));
}
