//! File uploads: create (`single_part`, `multi_part`, `external_url`), send (multipart form
//! data, one part per request), complete, retrieve and list, with Notion's limits: a single
//! part of at most 20 MiB, multi-part parts of 5–20 MiB (the last may be smaller), at most
//! 1,000 parts, the workspace's per-file limit (5 MiB on a free workspace), and an expiry one
//! hour after creation for an upload that is not attached.
//!
//! An upload that is `uploaded` can be attached (blocks, `files` properties, icons, covers) as
//! `{type: "file_upload", file_upload: {id}}`, as often as wanted (Notion: "upload once, attach
//! many times"); once attached its `expiry_time` is `null` and it no longer expires. A pending,
//! failed or expired upload is refused. The emulator counts the bytes of each part and keeps
//! none of them.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Call, lock, q_get, query_pairs, respond};
use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::pipeline::{JsonBody, ReqCtx};
use crate::state::EmulatorHandle;
use crate::store::Store;
use crate::util::{hosted_file, minute_after, new_id, now_minute, parse_id, path_id};

/// One MiB.
const MIB: u64 = 1024 * 1024;
/// The largest single-part upload and the largest part of a multi-part upload (20 MiB).
pub const MAX_PART_BYTES: u64 = 20 * MIB;
/// The smallest part of a multi-part upload but the last (5 MiB).
pub const MIN_PART_BYTES: u64 = 5 * MIB;
/// The most parts a multi-part upload may have.
pub const MAX_PARTS: u64 = 1_000;
/// How long an upload that is not attached stays usable.
pub const UPLOAD_TTL: Duration = Duration::from_secs(3600);
/// A free workspace's per-file limit (as recorded: 5,242,880 bytes).
pub const FREE_WORKSPACE_UPLOAD_LIMIT: u64 = 5 * MIB;
/// A paid workspace's per-file limit (as recorded: 5,368,709,120 bytes).
pub const PAID_WORKSPACE_UPLOAD_LIMIT: u64 = 5 * 1024 * MIB;

/// An upload as the emulator keeps it.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The object as answered (before expiry is applied).
    pub object: Value,
    /// `single_part`, `multi_part` or `external_url`.
    pub mode: String,
    /// When it expires unless attached.
    pub expires: Instant,
    /// Bytes received per part number (single-part uploads use part 1).
    pub parts: BTreeMap<u64, u64>,
    /// Whether it has been attached somewhere (it then never expires).
    pub attached: bool,
    /// Creation sequence (listing order).
    pub seq: u64,
}

impl Upload {
    fn status(&self) -> &str {
        self.object["status"].as_str().unwrap_or("pending")
    }

    /// Marks the upload expired when its time has passed and it is not attached.
    fn settle(&mut self, now: Instant) {
        if !self.attached && now >= self.expires && matches!(self.status(), "pending" | "uploaded")
        {
            self.object["status"] = json!("expired");
            if let Some(o) = self.object.as_object_mut() {
                o.shift_remove("upload_url");
                o.shift_remove("complete_url");
            }
        }
    }

    fn render(&self, v: ApiVersion) -> Value {
        let mut o = self.object.clone();
        if let Some(m) = o.as_object_mut() {
            if v.has_archived() {
                m.shift_remove("in_trash");
            } else {
                m.shift_remove("archived");
            }
        }
        o
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("file_upload", id)
}

/// Checks that the upload named by `raw` can be attached, for a body path `path`; returns its
/// id and the hosted `file` object (`{url, expiry_time}`) that replaces the reference.
pub fn attachable(s: &Store, raw: &str, path: &str) -> ApiResult<(String, Value)> {
    let id = parse_id(raw).ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be a valid uuid, instead was `\"{raw}\"`."
        ))
    })?;
    let up = s.file_uploads.get(&id).ok_or_else(|| not_found(&id))?;
    let mut up = up.clone();
    up.settle(Instant::now());
    match up.status() {
        "uploaded" => {}
        "expired" => {
            return Err(ApiError::validation(format!(
                "File upload with ID: {id} has expired and can no longer be attached."
            )));
        }
        other => {
            return Err(ApiError::validation(format!(
                "File upload with ID: {id} is in status `{other}` and cannot be attached; only an uploaded file upload can be attached."
            )));
        }
    }
    let name = up.object["filename"].as_str().unwrap_or("file").to_string();
    Ok((id.clone(), hosted_file(&id, &name)))
}

impl Store {
    /// Settles the uploads attached by the request that just ended: kept (their expiry is
    /// lifted) when it succeeded, forgotten when it failed.
    pub fn settle_attachments(&mut self, succeeded: bool) {
        let ids: Vec<String> = self.attached_uploads.get_mut().drain(..).collect();
        if !succeeded {
            return;
        }
        for id in ids {
            if let Some(u) = self.file_uploads.get_mut(&id) {
                u.attached = true;
                u.object["expiry_time"] = Value::Null;
            }
        }
    }
}

fn str_field<'a>(b: &'a Value, key: &str) -> ApiResult<Option<&'a str>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(ApiError::validation(format!(
            "body failed validation: body.{key} should be a string, instead was `{v}`."
        ))),
    }
}

/// `POST /v1/file_uploads`.
pub async fn create(c: Call, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        let mode = str_field(&b, "mode")?.unwrap_or("single_part").to_string();
        if !matches!(mode.as_str(), "single_part" | "multi_part" | "external_url") {
            return Err(ApiError::validation(format!(
                "body failed validation: body.mode should be `\"single_part\"`, `\"multi_part\"`, or `\"external_url\"`, instead was `\"{mode}\"`."
            )));
        }
        let filename = str_field(&b, "filename")?.map(str::to_string);
        let content_type = str_field(&b, "content_type")?.map(str::to_string);
        if let Some(f) = &filename
            && f.chars().count() > 900
        {
            return Err(ApiError::body_le(
                "body.filename.length",
                900,
                f.chars().count(),
            ));
        }
        let parts = match b.get("number_of_parts") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_PARTS).contains(&n) => Some(n),
                Some(n) if n < 1 => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: body.number_of_parts should be ≥ `1`, instead was `{n}`."
                    )));
                }
                Some(n) => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: body.number_of_parts should be ≤ `{MAX_PARTS}`, instead was `{n}`."
                    )));
                }
                None => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: body.number_of_parts should be an integer, instead was `{v}`."
                    )));
                }
            },
        };
        let external = str_field(&b, "external_url")?.map(str::to_string);
        match mode.as_str() {
            "multi_part" => {
                if parts.is_none() {
                    return Err(ApiError::validation(
                        "body failed validation: body.number_of_parts should be defined, instead was `undefined`.",
                    ));
                }
                if filename.is_none() {
                    return Err(ApiError::validation(
                        "body failed validation: body.filename should be defined, instead was `undefined`.",
                    ));
                }
            }
            "external_url" => {
                let Some(url) = &external else {
                    return Err(ApiError::body_undefined("body.external_url"));
                };
                if !url.starts_with("https://") {
                    return Err(ApiError::validation(format!(
                        "The external URL `{url}` is not a valid HTTPS URL."
                    )));
                }
                if filename.is_none() {
                    return Err(ApiError::body_undefined("body.filename"));
                }
            }
            _ => {
                if parts.is_some() {
                    return Err(ApiError::validation(
                        "body failed validation: body.number_of_parts should be not present when body.mode is `\"single_part\"`.",
                    ));
                }
            }
        }
        let id = new_id();
        let now = now_minute();
        let mut o = json!({
            "object": "file_upload",
            "id": id,
            "created_time": now,
            "created_by": { "id": ctx.bot_id, "type": "bot" },
            "last_edited_time": now,
            "expiry_time": minute_after(UPLOAD_TTL.as_secs()),
            "upload_url": format!("{}/v1/file_uploads/{id}/send", ctx.origin),
            "archived": false,
            "in_trash": false,
            "status": "pending",
            "filename": filename,
            "content_type": content_type,
            "content_length": null,
        });
        if let Some(n) = parts {
            o["number_of_parts"] = json!({ "total": n, "sent": 0 });
        }
        // Notion looks at the external file with a `HEAD` request before accepting the
        // import: larger than the workspace's per-file limit is a 400 `validation_error`
        // ("Importing external files", step 1).
        let served = external
            .as_ref()
            .and_then(|u| s.external_files.get(u).cloned());
        if mode == "external_url"
            && let Some((len, _)) = &served
            && *len > s.max_file_upload_size
        {
            return Err(too_large(
                s.max_file_upload_size,
                "file at the external URL (the workspace's upload limit)",
            ));
        }
        let seq = s.next_seq();
        let mut up = Upload {
            object: o,
            mode: mode.clone(),
            expires: Instant::now() + UPLOAD_TTL,
            parts: BTreeMap::new(),
            attached: false,
            seq,
        };
        let answer = up.render(ctx.version);
        if mode == "external_url" {
            // The emulator fetches nothing: the import "succeeds" at once, seen on retrieve,
            // with the size declared by `serve_external_file` (else an empty file).
            if let Some(m) = up.object.as_object_mut() {
                m.shift_remove("upload_url");
            }
            up.object["status"] = json!("uploaded");
            up.object["content_length"] = json!(served.as_ref().map_or(0, |f| f.0));
            if up.object["content_type"].is_null()
                && let Some((_, ct)) = &served
            {
                up.object["content_type"] = json!(ct);
            }
            up.object["file_import_result"] = json!({
                "type": "success", "success": {}, "imported_time": now_minute()
            });
        }
        s.file_uploads.insert(id, up);
        Ok(answer)
    })
}

/// `GET /v1/file_uploads/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "file_upload_id", |s, id, ctx| {
        let up = s.file_uploads.get_mut(&id).ok_or_else(|| not_found(&id))?;
        up.settle(Instant::now());
        Ok(up.render(ctx.version))
    })
}

/// `GET /v1/file_uploads?status=…`: newest first.
pub async fn list(c: Call, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, ctx| {
        let pairs = query_pairs(q.as_deref());
        let status = q_get(&pairs, "status");
        if let Some(st) = status
            && !matches!(st, "pending" | "uploaded" | "expired" | "failed")
        {
            return Err(ApiError::validation(format!(
                "query failed validation: query.status should be `\"pending\"`, `\"uploaded\"`, `\"expired\"`, or `\"failed\"`, instead was `\"{st}\"`."
            )));
        }
        let size = super::page_size_query(&pairs)?;
        let now = Instant::now();
        let mut ups: Vec<&mut Upload> = s.file_uploads.values_mut().collect();
        ups.sort_by_key(|u| std::cmp::Reverse(u.seq));
        for u in ups.iter_mut() {
            u.settle(now);
        }
        let items: Vec<Value> = ups
            .into_iter()
            .filter(|u| status.is_none_or(|st| u.status() == st))
            .map(|u| u.render(ctx.version))
            .collect();
        super::list_page(items, &pairs, size, "file_upload")
    })
}

/// One received form: the file's size, name and type, and the part number.
struct Received {
    bytes: u64,
    filename: Option<String>,
    content_type: Option<String>,
    part_number: Option<String>,
    has_file: bool,
}

async fn read_form(req: Request, h: &EmulatorHandle) -> ApiResult<Received> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::validation(
            "Content-Type header failed validation: a file upload is sent as `multipart/form-data` with the file under the `file` key.",
        ));
    }
    let mut form = Multipart::from_request(req, h)
        .await
        .map_err(|e| ApiError::validation(format!("Could not parse the multipart body: {e}")))?;
    let mut got = Received {
        bytes: 0,
        filename: None,
        content_type: None,
        part_number: None,
        has_file: false,
    };
    loop {
        let field = form.next_field().await.map_err(|e| {
            ApiError::validation(format!("Could not parse the multipart body: {e}"))
        })?;
        let Some(mut field) = field else { break };
        match field.name() {
            Some("file") => {
                got.has_file = true;
                got.filename = field.file_name().map(str::to_string);
                got.content_type = field.content_type().map(str::to_string);
                // Counted chunk by chunk: the emulator keeps no file content.
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    ApiError::validation(format!("Could not parse the multipart body: {e}"))
                })? {
                    got.bytes += chunk.len() as u64;
                }
            }
            Some("part_number") => {
                got.part_number = Some(field.text().await.map_err(|e| {
                    ApiError::validation(format!("Could not parse the multipart body: {e}"))
                })?);
            }
            _ => {}
        }
    }
    Ok(got)
}

fn too_large(limit: u64, what: &str) -> ApiError {
    ApiError::validation(format!(
        "The {what} is larger than the limit of {limit} bytes."
    ))
}

/// `POST /v1/file_uploads/{id}/send` (multipart form data: `file`, and `part_number` for
/// multi-part uploads).
pub async fn send(
    State(h): State<EmulatorHandle>,
    Extension(ctx): Extension<ReqCtx>,
    Path(raw): Path<String>,
    req: Request,
) -> Response {
    let id = match path_id(&raw, "file_upload_id") {
        Ok(id) => id,
        Err(e) => return respond(Err(e)),
    };
    {
        // Unknown or unusable uploads are refused before the body is read.
        let mut s = lock(&h.0.store);
        if let Err(e) = sendable(&mut s, &id) {
            return respond(Err(e));
        }
    }
    let got = match read_form(req, &h).await {
        Ok(g) => g,
        Err(e) => return respond(Err(e)),
    };
    respond((|| {
        if !got.has_file {
            return Err(ApiError::body_undefined("body.file"));
        }
        let mut s = lock(&h.0.store);
        sendable(&mut s, &id)?;
        let limit = s.max_file_upload_size;
        let up = s.file_uploads.get_mut(&id).ok_or_else(|| not_found(&id))?;
        if up.object["filename"].is_null() {
            up.object["filename"] = json!(got.filename.clone().unwrap_or_else(|| "file".into()));
        }
        if up.object["content_type"].is_null() {
            up.object["content_type"] = json!(
                got.content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into())
            );
        }
        up.object["last_edited_time"] = json!(now_minute());
        if up.mode == "multi_part" {
            let total = up.object["number_of_parts"]["total"].as_u64().unwrap_or(1);
            let raw_n = got.part_number.as_deref().ok_or_else(|| {
                ApiError::validation(
                    "body failed validation: body.part_number should be defined, instead was `undefined`.",
                )
            })?;
            let n: u64 = raw_n.trim().parse().map_err(|_| {
                ApiError::validation(format!(
                    "body failed validation: body.part_number should be an integer, instead was `\"{raw_n}\"`."
                ))
            })?;
            if n < 1 || n > total {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.part_number should be between 1 and {total} (the upload's number_of_parts), instead was `{n}`."
                )));
            }
            if got.bytes > MAX_PART_BYTES {
                return Err(too_large(MAX_PART_BYTES, "part"));
            }
            if n < total && got.bytes < MIN_PART_BYTES {
                return Err(ApiError::validation(format!(
                    "Part {n} has {} bytes; every part but the last must be at least {MIN_PART_BYTES} bytes.",
                    got.bytes
                )));
            }
            let others: u64 = up
                .parts
                .iter()
                .filter(|(k, _)| **k != n)
                .map(|(_, v)| v)
                .sum();
            if others + got.bytes > limit {
                return Err(too_large(limit, "file (the workspace's upload limit)"));
            }
            up.parts.insert(n, got.bytes);
            up.object["number_of_parts"]["sent"] = json!(up.parts.len());
            up.object["content_length"] = json!(others + got.bytes);
            up.object["complete_url"] =
                json!(format!("{}/v1/file_uploads/{id}/complete", ctx.origin));
        } else {
            if got.part_number.is_some() {
                return Err(ApiError::validation(
                    "body failed validation: body.part_number should be not present when the file upload's mode is `\"single_part\"`.",
                ));
            }
            let cap = limit.min(MAX_PART_BYTES);
            if got.bytes > cap {
                return Err(too_large(
                    cap,
                    if cap == limit {
                        "file (the workspace's upload limit)"
                    } else {
                        "file (a single-part upload; use mode `multi_part`)"
                    },
                ));
            }
            up.parts.insert(1, got.bytes);
            up.object["status"] = json!("uploaded");
            up.object["content_length"] = json!(got.bytes);
            if let Some(m) = up.object.as_object_mut() {
                m.shift_remove("upload_url");
            }
        }
        Ok(up.render(ctx.version))
    })())
}

/// Whether an upload may receive content now.
fn sendable(s: &mut Store, id: &str) -> ApiResult<()> {
    let up = s.file_uploads.get_mut(id).ok_or_else(|| not_found(id))?;
    up.settle(Instant::now());
    if up.mode == "external_url" {
        return Err(ApiError::validation(
            "This file upload was created with mode `external_url`; its content is imported by Notion and cannot be sent.",
        ));
    }
    match up.status() {
        "pending" => Ok(()),
        "expired" => Err(ApiError::validation(format!(
            "File upload with ID: {id} has expired."
        ))),
        other => Err(ApiError::validation(format!(
            "File upload with ID: {id} is in status `{other}`; content can only be sent to a pending file upload."
        ))),
    }
}

/// `POST /v1/file_uploads/{id}/complete` (multi-part uploads, once every part is sent).
pub async fn complete(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "file_upload_id", |s, id, ctx| {
        let up = s.file_uploads.get_mut(&id).ok_or_else(|| not_found(&id))?;
        up.settle(Instant::now());
        if up.mode != "multi_part" {
            return Err(ApiError::validation(
                "Only a file upload created with mode `multi_part` can be completed.",
            ));
        }
        match up.status() {
            "pending" => {}
            "expired" => {
                return Err(ApiError::validation(format!(
                    "File upload with ID: {id} has expired."
                )));
            }
            other => {
                return Err(ApiError::validation(format!(
                    "File upload with ID: {id} is in status `{other}` and cannot be completed."
                )));
            }
        }
        let total = up.object["number_of_parts"]["total"].as_u64().unwrap_or(1);
        let sent = up.parts.len() as u64;
        if sent != total {
            return Err(ApiError::validation(format!(
                "Expected {total} parts to be sent before completing, but received {sent}."
            )));
        }
        up.object["status"] = json!("uploaded");
        up.object["last_edited_time"] = json!(now_minute());
        if let Some(m) = up.object.as_object_mut() {
            m.shift_remove("upload_url");
            m.shift_remove("complete_url");
        }
        Ok(up.render(ctx.version))
    })
}
