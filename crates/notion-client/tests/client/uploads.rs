//! File uploads, views, comment edits, custom emojis and async tasks against the emulator:
//! the upload helper (single and multi-part, the workspace limit, one part at a time, a part
//! sent again only when Notion did not take it), and every new endpoint.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::TryStreamExt;
use notion_client::endpoints::file_uploads::MAX_PART_BYTES;
use notion_client::endpoints::{
    AppendChildren, CreateFileUpload, CreateView, MarkdownCommand, MarkdownUpdate, UpdateComment,
    UpdateView, UploadFile, ViewsOf,
};
use notion_client::ids::{
    AsyncTaskId, BlockId, CommentId, DataSourceId, DatabaseId, FileUploadId, PageId, ViewId,
};
use notion_client::models::{
    AsyncTaskStatus, FileUploadStatus, Maybe, NewBlock, PageMarkdown, ViewType,
};
use notion_client::{Error, FilePart, Paging};
use notion_emulator::{Emulator, ScriptedFault};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};

use crate::support::{demo, demo_with};

const MIB: u64 = 1024 * 1024;

/// A reader of `len` bytes that counts what has been read, so that a test can see how far
/// ahead of the sends the helper reads.
struct CountingReader {
    left: u64,
    read: Arc<AtomicU64>,
}

impl CountingReader {
    fn new(len: u64) -> (Self, Arc<AtomicU64>) {
        let read = Arc::new(AtomicU64::new(0));
        (
            Self {
                left: len,
                read: read.clone(),
            },
            read,
        )
    }
}

impl AsyncRead for CountingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.left).min(64 * 1024) as usize;
        buf.put_slice(&vec![b'z'; n]);
        self.left -= n as u64;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_small_file_goes_in_one_part_and_attaches_to_a_page() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let (reader, _) = CountingReader::new(3000);
    let file = UploadFile::new("chart.png", 3000).content_type("image/png");
    let up = conn.file_uploads().upload(reader, &file).await.unwrap();
    assert_eq!(up.status, FileUploadStatus::Uploaded);
    assert_eq!(up.content_length, Maybe::Value(3000));
    assert!(up.number_of_parts.is_none());
    assert_eq!(emu.counters().route("POST /v1/file_uploads/{id}/send"), 1);

    let page = PageId::parse(&ids.child_page).unwrap();
    let block: NewBlock = serde_json::from_value(json!({
        "type": "image", "image": { "type": "file_upload", "file_upload": { "id": up.id.as_str() } }
    }))
    .unwrap();
    let added = conn
        .blocks()
        .append(
            &BlockId::parse(page.as_str()).unwrap(),
            &AppendChildren::new([block]),
        )
        .await
        .unwrap();
    assert_eq!(added.results[0].kind_name(), "image");
    let again = conn.file_uploads().retrieve(&up.id).await.unwrap();
    assert_eq!(
        again.expiry_time,
        Maybe::Null,
        "attached uploads no longer expire"
    );
    let listed: Vec<_> = conn
        .file_uploads()
        .list_stream(Some(&FileUploadStatus::Uploaded), None)
        .try_collect()
        .await
        .unwrap();
    assert!(listed.iter().any(|u| u.id == up.id));
}

/// A limiter that lets everything through and notes how much of the file had been read each
/// time a request was about to be sent.
#[derive(Debug)]
struct Watch {
    read: Arc<AtomicU64>,
    seen: std::sync::Mutex<Vec<u64>>,
}

#[async_trait::async_trait]
impl notion_client::RateLimiter for Watch {
    async fn acquire(&self) -> std::time::Duration {
        self.seen
            .lock()
            .unwrap()
            .push(self.read.load(Ordering::Relaxed));
        std::time::Duration::ZERO
    }
    async fn pause(&self, _: std::time::Duration) {}
}

#[tokio::test]
async fn a_30_mb_file_goes_in_parts_holding_one_part_at_a_time() {
    let (emu, _) = demo().await;
    let size = 30 * MIB;
    let (reader, read) = CountingReader::new(size);
    let watch = Arc::new(Watch {
        read: read.clone(),
        seen: Default::default(),
    });
    let conn = crate::support::client(&emu, crate::support::fast())
        .connection_with_limiter("secret_test".to_owned().into(), watch.clone());
    let file = UploadFile::new("video.mp4", size);
    assert_eq!(file.plan().unwrap(), Some((3, 10 * MIB)));
    let up = conn.file_uploads().upload(reader, &file).await.unwrap();
    // users/me, create, then each send with exactly its own part read, then complete: never
    // more than one part read ahead of what was sent.
    let seen = watch.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [0, 0, 10 * MIB, 20 * MIB, 30 * MIB, 30 * MIB],
        "bytes read when each request was sent"
    );
    assert_eq!(up.status, FileUploadStatus::Uploaded);
    assert_eq!(up.content_length, Maybe::Value(size));
    let parts = up.number_of_parts.expect("parts");
    assert_eq!((parts.total, parts.sent), (3, 3));
    assert_eq!(read.load(Ordering::Relaxed), size);
    let c = emu.counters();
    assert_eq!(c.route("POST /v1/file_uploads/{id}/send"), 3);
    assert_eq!(c.route("POST /v1/file_uploads/{id}/complete"), 1);
    assert_eq!(c.route("GET /v1/users/me"), 1, "the limit is read once");
}

#[tokio::test]
async fn a_free_workspace_refuses_a_30_mb_file_before_anything_is_created() {
    let (emu, conn) = demo_with(Emulator::builder().free_workspace()).await;
    let (reader, read) = CountingReader::new(30 * MIB);
    let err = conn
        .file_uploads()
        .upload(reader, &UploadFile::new("video.mp4", 30 * MIB))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("5242880")),
        "{err}"
    );
    assert_eq!(read.load(Ordering::Relaxed), 0);
    assert_eq!(emu.counters().route("POST /v1/file_uploads"), 0);
    // Sent part by part anyway, Notion's own refusal comes back.
    let up = conn
        .file_uploads()
        .create(&CreateFileUpload::single_part())
        .await
        .unwrap();
    let part = FilePart::new(
        "big.bin",
        None,
        bytes::Bytes::from(vec![0u8; 6 * MIB as usize]),
    );
    let err = conn
        .file_uploads()
        .send(&up.id, part, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn a_reader_shorter_than_announced_is_an_error() {
    let (_emu, conn) = demo().await;
    let (reader, _) = CountingReader::new(100);
    let err = conn
        .file_uploads()
        .upload(
            reader,
            &UploadFile::new("a.txt", 200).workspace_limit(1 << 30),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("ended after 100")),
        "{err}"
    );
    let (reader, _) = CountingReader::new(300);
    let err = conn
        .file_uploads()
        .upload(
            reader,
            &UploadFile::new("a.txt", 200).workspace_limit(1 << 30),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("more than")),
        "{err}"
    );
}

#[tokio::test]
async fn a_part_is_sent_again_only_when_notion_did_not_take_it() {
    let (emu, conn) = demo().await;
    let size = 25 * MIB;
    // Part 1: a 500 *after* the effect: Notion has the part; the helper must not send it again.
    emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/file_uploads/{id}/send")
            .status(500)
            .after_effect()
            .times(1),
    );
    let (reader, _) = CountingReader::new(size);
    let file = UploadFile::new("a.bin", size)
        .part_size(10 * MIB)
        .unwrap()
        .workspace_limit(1 << 30);
    let up = conn.file_uploads().upload(reader, &file).await.unwrap();
    assert_eq!(up.status, FileUploadStatus::Uploaded);
    let c = emu.counters();
    assert_eq!(
        c.route("POST /v1/file_uploads/{id}/send"),
        3,
        "one send per part: {c:?}"
    );
    assert_eq!(c.applied("POST /v1/file_uploads/{id}/send"), 3);
    assert_eq!(c.route("GET /v1/file_uploads/{id}"), 1, "asked once");

    // A 503 *before* the effect: Notion did not take it; the helper sends it again.
    emu.reset_counters();
    emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/file_uploads/{id}/send")
            .status(503)
            .times(1),
    );
    let (reader, _) = CountingReader::new(size);
    let up = conn.file_uploads().upload(reader, &file).await.unwrap();
    assert_eq!(up.status, FileUploadStatus::Uploaded);
    let c = emu.counters();
    assert_eq!(c.route("POST /v1/file_uploads/{id}/send"), 4);
    assert_eq!(c.applied("POST /v1/file_uploads/{id}/send"), 3);
    assert_eq!(c.route("GET /v1/file_uploads/{id}"), 1, "asked once");

    // A 429 is retried by the send loop itself (Notion did nothing).
    emu.reset_counters();
    emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/file_uploads/{id}/send")
            .status(429)
            .retry_after(0)
            .times(1),
    );
    let (reader, _) = CountingReader::new(1000);
    let up = conn
        .file_uploads()
        .upload(
            reader,
            &UploadFile::new("b.bin", 1000).workspace_limit(1 << 30),
        )
        .await
        .unwrap();
    assert_eq!(up.status, FileUploadStatus::Uploaded);
    assert_eq!(emu.counters().route("GET /v1/file_uploads/{id}"), 0);
    assert!(conn.stats().rate_limited >= 1);
}

#[test]
fn the_plan_follows_notions_part_rules() {
    assert_eq!(UploadFile::new("a", MAX_PART_BYTES).plan().unwrap(), None);
    assert_eq!(
        UploadFile::new("a", MAX_PART_BYTES + 1).plan().unwrap(),
        Some((3, 10 * MIB))
    );
    // Past 1,000 parts of 10 MiB the part grows, up to 20 MiB.
    let big = 15_000 * MIB;
    let (parts, part) = UploadFile::new("a", big).plan().unwrap().unwrap();
    assert!(parts <= 1000 && part <= MAX_PART_BYTES && parts * part >= big);
    assert!(UploadFile::new("a", 21_000 * MIB).plan().is_err());
    assert!(UploadFile::new("a", 1).part_size(4 * MIB).is_err());
    assert!(CreateFileUpload::multi_part("a", 1001).is_err());
    assert!(CreateFileUpload::external_url("http://x/a.pdf", "a.pdf").is_err());
    assert!(FileUploadId::parse("not-an-id").is_err());
}

#[tokio::test]
async fn views_and_view_queries() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let db = DatabaseId::parse(&ids.simple_database).unwrap();
    let ds = DataSourceId::parse(&ids.simple_data_source).unwrap();
    let of = ViewsOf::Database(db.clone());
    let views: Vec<_> = conn
        .views()
        .list_stream(&of, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(views.len(), 2);
    let to_read = conn.views().retrieve(&views[1].id).await.unwrap();
    assert_eq!(to_read.name, Maybe::Value("To read".into()));
    assert_eq!(to_read.view_type, Some(ViewType::List));

    let created = conn
        .views()
        .create(
            &CreateView::new(&db, &ds, "Read books", ViewType::Board)
                .filter(json!({ "property": "Read", "checkbox": { "equals": true } })),
        )
        .await
        .unwrap();
    let q = conn
        .views()
        .create_query(&created.id, Some(1))
        .await
        .unwrap();
    assert_eq!(q.total_count, Some(2));
    assert_eq!(q.results.as_ref().map(Vec::len), Some(1));
    let all: Vec<_> = conn
        .views()
        .query_results_stream(&created.id, &q.id, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let gone = conn.views().delete_query(&created.id, &q.id).await.unwrap();
    assert_eq!(gone.deleted, Some(true));

    let updated = conn
        .views()
        .update(
            &created.id,
            &UpdateView::new().name("All").filter(json!(null)),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, Maybe::Value("All".into()));
    assert_eq!(updated.filter, Maybe::Null);
    let partial = conn.views().delete(&created.id).await.unwrap();
    assert_eq!(partial.id, created.id);
    let err = conn.views().retrieve(&created.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    // Another database's data source.
    let other = DataSourceId::parse(&ids.data_source).unwrap();
    let err = conn
        .views()
        .create(&CreateView::new(&db, &other, "x", ViewType::Table))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(ViewId::parse("nope").is_err());
}

#[tokio::test]
async fn comments_are_edited_and_deleted_emojis_listed_and_async_updates_polled() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let page = PageId::parse(&ids.root_page).unwrap();
    let c = conn
        .comments()
        .create(
            &notion_client::endpoints::CreateComment::on(
                notion_client::ParentRef::Page(page.clone()),
                "draft",
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let c2 = conn
        .comments()
        .update(&c.id, &UpdateComment::markdown("final"))
        .await
        .unwrap();
    assert_eq!(c2.plain_text(), "final");
    let again = conn.comments().retrieve(&c.id).await.unwrap();
    assert_eq!(again.plain_text(), "final");
    conn.comments().delete(&c.id).await.unwrap();
    let err = conn.comments().retrieve(&c.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(CommentId::parse("x").is_err());

    let emojis: Vec<_> = conn
        .custom_emojis()
        .list_stream(None, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(emojis.len(), 2);
    let bufo = conn
        .custom_emojis()
        .list(Some("bufo"), &Paging::first())
        .await
        .unwrap();
    assert_eq!(bufo.results.len(), 1);

    let target = PageId::parse(&ids.grandchild_page).unwrap();
    let cmd = MarkdownCommand::InsertContent {
        content: "Queued line.".into(),
        after: None,
    };
    let MarkdownUpdate::Accepted(task) = conn
        .pages()
        .update_markdown_async(&target, &cmd)
        .await
        .unwrap()
    else {
        panic!("expected a task");
    };
    assert_eq!(task.status, AsyncTaskStatus::Queued);
    let done = conn.async_tasks().wait(&task, 5).await.unwrap();
    assert_eq!(done.status, AsyncTaskStatus::Succeeded);
    let md: PageMarkdown = done.result_as().unwrap().expect("result");
    assert!(md.markdown.contains("Queued line."));
    assert!(AsyncTaskId::parse("task/../x").is_err());
}
