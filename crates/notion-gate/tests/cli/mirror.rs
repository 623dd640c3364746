//! `notion-gate mirror sync` and `mirror status` end to end: the first sync mirrors every page
//! of the emulator's demo workspace into `<data dir>/mirror/<connection>/` (one `.md` per
//! page), a second sync with nothing changed fetches nothing, and `status --json` reports it.

use notion_emulator::{Emulator, Seed};
use serde_json::Value;

use crate::TOKEN;
use crate::support::{admin_and_connection, ok, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_sync_writes_markdown_files_and_status_reports_them() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .start()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("state");
    let d = d.to_str().unwrap();
    let url = emu.base_url();
    let conn = ok(&admin_and_connection(tmp.path(), d, TOKEN, &url).await);
    let conn = conn.trim().to_owned();
    let pages = emu.with_store(|s| s.pages.len());

    let sync = [
        "mirror",
        "sync",
        "--notion-url",
        &url,
        "--data-dir",
        d,
        "--rate",
        "1000",
    ];
    let out = ok(&run(tmp.path(), &sync, &[]).await);
    assert!(out.contains("(full)"), "{out}");
    assert!(out.contains(&format!("{pages} fetched")), "{out}");
    let files = std::fs::read_dir(tmp.path().join("state/mirror").join(&conn).join("pages"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "md"))
        })
        .count();
    assert_eq!(files, pages);

    let status = ok(&run(
        tmp.path(),
        &["mirror", "status", "--json", "--data-dir", d],
        &[],
    )
    .await);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status[&conn]["pages"], pages, "{status}");
    assert_eq!(status[&conn]["pending"], 0, "{status}");

    let human = ok(&run(tmp.path(), &["mirror", "status", "--data-dir", d], &[]).await);
    assert!(human.contains(&format!("connection {conn}")), "{human}");
}
