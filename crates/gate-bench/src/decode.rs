//! `gate-bench decode`: how fast Notion answers decode into the typed models, against
//! decoding the same bytes into `serde_json::Value`, in one run.
//!
//! Two inputs: every recorded response of the shared fixtures that has a model (chosen by
//! its `object`, as the client's fixture test does), and a generated 5,000-block page as the
//! API lists it (the blocks of `gate-bench render`, fetched from the emulator, one
//! `GET /v1/blocks/{id}/children` answer of at most 100 blocks per request). Each run decodes
//! every body of an input once; typed and `Value` runs alternate, and the median is reported.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use notion_client::ids::BlockId;
use notion_client::models::{
    AsyncTask, Block, Comment, CustomEmoji, DataSource, Database, FileUpload, ListResponse, Page,
    PageMarkdown, PropertyItemResponse, SearchResult, TemplateList, User, View, ViewQuery,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The typed model of a Notion answer.
#[derive(Clone, Copy, Debug)]
enum Model {
    Page,
    Block,
    Database,
    DataSource,
    User,
    Comment,
    PropertyItem,
    PageMarkdown,
    FileUpload,
    View,
    ViewQuery,
    AsyncTask,
    TemplateList,
    Blocks,
    SearchResults,
    Users,
    Comments,
    CustomEmojis,
    FileUploads,
    Views,
}

/// The model of an answer, from its `object` (and a list's `type`), or `None`.
fn model_of(v: &Value) -> Option<Model> {
    let object = v.get("object")?.as_str()?;
    Some(match object {
        "page" => Model::Page,
        "block" => Model::Block,
        "database" => Model::Database,
        "data_source" => Model::DataSource,
        "user" => Model::User,
        "comment" => Model::Comment,
        "property_item" => Model::PropertyItem,
        "page_markdown" => Model::PageMarkdown,
        "file_upload" => Model::FileUpload,
        "view" => Model::View,
        "view_query" => Model::ViewQuery,
        "async_task" => Model::AsyncTask,
        "list" if v.get("templates").is_some() => Model::TemplateList,
        "list" => {
            let list_type = v.get("type").and_then(Value::as_str).or_else(|| {
                v.get("results")?
                    .get(0)?
                    .get("object")
                    .and_then(Value::as_str)
            })?;
            match list_type {
                "block" => Model::Blocks,
                "page_or_data_source" | "page_or_database" | "page" => Model::SearchResults,
                "user" => Model::Users,
                "comment" => Model::Comments,
                "property_item" => Model::PropertyItem,
                "custom_emoji" => Model::CustomEmojis,
                "file_upload" => Model::FileUploads,
                "view" => Model::Views,
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn typed<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<()> {
    serde_json::from_slice::<T>(body)
        .map(std::hint::black_box)
        .map(drop)
}

/// Decodes `body` into `model`, as the client does (`serde_json::from_slice`).
fn decode_typed(model: Model, body: &[u8]) -> serde_json::Result<()> {
    match model {
        Model::Page => typed::<Page>(body),
        Model::Block => typed::<Block>(body),
        Model::Database => typed::<Database>(body),
        Model::DataSource => typed::<DataSource>(body),
        Model::User => typed::<User>(body),
        Model::Comment => typed::<Comment>(body),
        Model::PropertyItem => typed::<PropertyItemResponse>(body),
        Model::PageMarkdown => typed::<PageMarkdown>(body),
        Model::FileUpload => typed::<FileUpload>(body),
        Model::View => typed::<View>(body),
        Model::ViewQuery => typed::<ViewQuery>(body),
        Model::AsyncTask => typed::<AsyncTask>(body),
        Model::TemplateList => typed::<TemplateList>(body),
        Model::Blocks => typed::<ListResponse<Block>>(body),
        Model::SearchResults => typed::<ListResponse<SearchResult>>(body),
        Model::Users => typed::<ListResponse<User>>(body),
        Model::Comments => typed::<ListResponse<Comment>>(body),
        Model::CustomEmojis => typed::<ListResponse<CustomEmoji>>(body),
        Model::FileUploads => typed::<ListResponse<FileUpload>>(body),
        Model::Views => typed::<ListResponse<View>>(body),
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// One input: bodies and their models.
struct Input {
    name: String,
    bodies: Vec<(Model, Vec<u8>)>,
    note: String,
}

impl Input {
    fn bytes(&self) -> usize {
        self.bodies.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Every fixture answer with a model that decodes (documentation samples with placeholder
/// IDs, request bodies and error envelopes are left out, and counted).
fn fixtures(dir: &Path) -> Result<Input> {
    let mut files = Vec::new();
    collect_json(&dir.join("responses"), &mut files)?;
    files.sort();
    let (mut no_model, mut refused) = (0, 0);
    let mut bodies = Vec::new();
    for path in &files {
        let body = std::fs::read(path)?;
        let Some(model) = serde_json::from_slice::<Value>(&body)
            .ok()
            .as_ref()
            .and_then(model_of)
        else {
            no_model += 1;
            continue;
        };
        if decode_typed(model, &body).is_err() {
            refused += 1;
            continue;
        }
        bodies.push((model, body));
    }
    ensure!(
        !bodies.is_empty(),
        "no fixture answers under {}",
        dir.display()
    );
    Ok(Input {
        name: "fixtures (every recorded answer with a model)".into(),
        note: format!(
            "{} answers of {} files; left out: {no_model} without a modelled `object` (fragments, requests, errors), {refused} the models refuse (placeholder IDs, a duplicated key)",
            bodies.len(),
            files.len()
        ),
        bodies,
    })
}

/// The 5,000-block page of `gate-bench render`, as `GET /v1/blocks/{id}/children` answers of
/// at most 100 blocks each.
async fn big_page(units: usize) -> Result<Input> {
    let (emu, _page, tree) = crate::render::emulated_page(units).await?;
    let blocks = tree.len();
    // Raw answers, as the API sends them (the typed tree above is only used for the parents).
    let http = reqwest::Client::new();
    let mut bodies = Vec::new();
    let mut parents: Vec<&BlockId> = tree.children.keys().collect();
    parents.sort();
    for parent in parents {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/v1/blocks/{parent}/children?page_size=100",
                emu.base_url().trim_end_matches('/')
            );
            if let Some(c) = &cursor {
                url.push_str("&start_cursor=");
                url.push_str(c);
            }
            let body = http
                .get(&url)
                .header("Notion-Version", "2025-09-03")
                .bearer_auth("bench")
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?
                .to_vec();
            let v: Value = serde_json::from_slice(&body)?;
            cursor = v
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            bodies.push((Model::Blocks, body));
            if cursor.is_none() {
                break;
            }
        }
    }
    emu.shutdown().await;
    for (model, body) in &bodies {
        decode_typed(*model, body).context("a children answer does not decode")?;
    }
    Ok(Input {
        name: format!("{blocks}-block page (children answers)"),
        note: format!(
            "{} answers of at most 100 blocks; {units} units of `gate-bench render`",
            bodies.len()
        ),
        bodies,
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `iterations` runs of each decoder over every body, alternating.
fn measure(input: &Input, iterations: usize) -> Result<(Duration, Duration)> {
    let (mut typed_t, mut value_t) = (Vec::new(), Vec::new());
    for _ in 0..iterations.max(1) {
        let start = Instant::now();
        for (model, body) in &input.bodies {
            decode_typed(*model, body)?;
        }
        typed_t.push(start.elapsed());
        let start = Instant::now();
        for (_, body) in &input.bodies {
            std::hint::black_box(serde_json::from_slice::<Value>(body)?);
        }
        value_t.push(start.elapsed());
    }
    Ok((median(typed_t), median(value_t)))
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(fixtures_dir: Option<PathBuf>, units: usize, iterations: usize) -> Result<()> {
    let mut inputs = Vec::new();
    match fixtures_dir {
        Some(dir) => inputs.push(fixtures(&dir)?),
        None => println!(
            "(no fixtures: pass --fixtures or set NOTION_FIXTURES_DIR to the shared notion-fixtures folder)"
        ),
    }
    inputs.push(big_page(units).await?);
    println!(
        "bench: decode Notion answers into the typed models (`serde_json::from_slice`, as the client does) and into `serde_json::Value`, same bytes, alternating; median of {iterations} runs"
    );
    println!("| input | bytes | Value MB/s | typed MB/s | typed / Value |");
    println!("|---|---|---|---|---|");
    let mut notes = Vec::new();
    for input in &inputs {
        let (typed, value) = measure(input, iterations)?;
        let mb = input.bytes() as f64 / 1e6;
        let (t, v) = (mb / typed.as_secs_f64(), mb / value.as_secs_f64());
        println!(
            "| {} | {} | {v:.0} | {t:.0} | {:.2} |",
            input.name,
            input.bytes(),
            t / v
        );
        notes.push(format!("{}: {}", input.name, input.note));
    }
    for n in notes {
        println!("- {n}");
    }
    Ok(())
}
