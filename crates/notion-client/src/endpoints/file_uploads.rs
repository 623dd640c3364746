//! File uploads: create, send (multipart form data), complete, retrieve, list; and
//! [`FileUploads::upload`], which sends a file from any reader in Notion's parts.
//!
//! Notion's rules, as documented ("Uploading small files", "Uploading larger files", the file
//! upload object): a single-part upload holds at most 20 MiB; a larger file is sent in
//! `multi_part` mode in parts of 5 to 20 MiB (10 MiB recommended; the last part may be
//! smaller), at most 1,000 parts, then completed; the workspace's per-file limit
//! (`workspace_limits.max_file_upload_size_in_bytes` of `GET /v1/users/me`: 5 MiB on a free
//! workspace) applies to the whole file. An upload not attached within an hour expires.

use bytes::{Bytes, BytesMut};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::body_of;
use crate::client::{Connection, FilePart, MultipartBody, RawRequest};
use crate::error::{Error, Result, WriteState};
use crate::ids::FileUploadId;
use crate::models::{FileUpload, FileUploadStatus, ListResponse, UserKind};
use crate::pagination::Paging;
use crate::retry::Idempotency;

const MIB: u64 = 1024 * 1024;
/// The largest single-part upload, and the largest part of a multi-part upload (20 MiB).
pub const MAX_PART_BYTES: u64 = 20 * MIB;
/// The smallest part of a multi-part upload but the last (5 MiB).
pub const MIN_PART_BYTES: u64 = 5 * MIB;
/// The part size [`FileUploads::upload`] uses unless told otherwise (Notion recommends 10 MiB).
pub const DEFAULT_PART_BYTES: u64 = 10 * MIB;
/// The most parts a multi-part upload may have.
pub const MAX_PARTS: u64 = 1_000;
/// How many times [`FileUploads::upload`] sends a part again after Notion said it did not
/// receive it.
const PART_ATTEMPTS: u32 = 3;

/// File upload endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct FileUploads<'a> {
    pub(crate) conn: &'a Connection,
}

/// How a file upload is sent: `single_part` (Notion's default), `multi_part` or
/// `external_url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UploadMode {
    /// One `send` of at most 20 MiB.
    SinglePart,
    /// Several parts, then `complete`.
    MultiPart,
    /// Notion imports a public HTTPS URL.
    ExternalUrl,
}

/// A new file upload: the body of `POST /v1/file_uploads`, typed (reference §4.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateFileUpload {
    /// The mode; absent means `single_part`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<UploadMode>,
    /// The file name (with an extension, or one inferable from the content type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The number of parts (`multi_part`, 1–1,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_parts: Option<u64>,
    /// The URL Notion imports (`external_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateFileUpload {
    /// A single-part upload (at most 20 MiB).
    pub fn single_part() -> Self {
        Self::default()
    }

    /// A multi-part upload of `number_of_parts` parts (1–1,000).
    pub fn multi_part(filename: impl Into<String>, number_of_parts: u64) -> Result<Self> {
        if !(1..=MAX_PARTS).contains(&number_of_parts) {
            return Err(Error::InvalidRequest(format!(
                "`number_of_parts` must be between 1 and {MAX_PARTS}, not {number_of_parts}"
            )));
        }
        Ok(Self {
            mode: Some(UploadMode::MultiPart),
            filename: Some(filename.into()),
            number_of_parts: Some(number_of_parts),
            ..Self::default()
        })
    }

    /// An import of a public HTTPS URL (Notion fetches it).
    pub fn external_url(url: impl Into<String>, filename: impl Into<String>) -> Result<Self> {
        let url = url.into();
        if !url.starts_with("https://") {
            return Err(Error::InvalidRequest(
                "`external_url` must be an https:// URL".into(),
            ));
        }
        Ok(Self {
            mode: Some(UploadMode::ExternalUrl),
            external_url: Some(url),
            filename: Some(filename.into()),
            ..Self::default()
        })
    }

    /// The file name (with an extension, or one inferable from the content type).
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// The MIME type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The request body as JSON (what [`FileUploads::create`] sends).
    pub fn body(&self) -> Value {
        body_of(self)
    }
}

/// A file for [`FileUploads::upload`]: its name, size and type, and how to split it.
#[derive(Debug, Clone)]
pub struct UploadFile {
    filename: String,
    size: u64,
    content_type: Option<String>,
    part_size: u64,
    workspace_limit: Option<u64>,
}

impl UploadFile {
    /// A file of `size` bytes named `filename`.
    pub fn new(filename: impl Into<String>, size: u64) -> Self {
        Self {
            filename: filename.into(),
            size,
            content_type: None,
            part_size: DEFAULT_PART_BYTES,
            workspace_limit: None,
        }
    }

    /// The MIME type (otherwise Notion infers it from the file name).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The part size of a multi-part upload (5–20 MiB; default 10 MiB). It is raised when the
    /// file would otherwise need more than 1,000 parts.
    pub fn part_size(mut self, bytes: u64) -> Result<Self> {
        if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&bytes) {
            return Err(Error::InvalidRequest(format!(
                "`part_size` must be between {MIN_PART_BYTES} and {MAX_PART_BYTES} bytes, not {bytes}"
            )));
        }
        self.part_size = bytes;
        Ok(self)
    }

    /// The workspace's per-file limit, when the caller knows it (otherwise it is read from
    /// `GET /v1/users/me`).
    pub fn workspace_limit(mut self, bytes: u64) -> Self {
        self.workspace_limit = Some(bytes);
        self
    }

    /// How the file is sent: `None` for a single part, or `(parts, part size)`.
    pub fn plan(&self) -> Result<Option<(u64, u64)>> {
        if self.size <= MAX_PART_BYTES {
            return Ok(None);
        }
        let part = self.part_size.max(self.size.div_ceil(MAX_PARTS));
        if part > MAX_PART_BYTES {
            return Err(Error::InvalidRequest(format!(
                "a file of {} bytes needs more than {MAX_PARTS} parts of at most {MAX_PART_BYTES} bytes",
                self.size
            )));
        }
        Ok(Some((self.size.div_ceil(part), part)))
    }
}

impl FileUploads<'_> {
    /// `POST /v1/file_uploads`. Never retried after it may have reached Notion.
    pub async fn create(&self, upload: &CreateFileUpload) -> Result<FileUpload> {
        let req =
            RawRequest::new(Method::POST, "/v1/file_uploads", Idempotency::Unsafe).json(upload)?;
        self.conn.send(req).await
    }

    /// `POST /v1/file_uploads/{id}/send`: one part (`part_number` for multi-part uploads) as
    /// `multipart/form-data`, through the connection's limiter and retry rules. A send is
    /// never repeated after it may have reached Notion ([`FileUploads::upload`] asks Notion
    /// whether it did before sending it again).
    pub async fn send(
        &self,
        id: &FileUploadId,
        file: FilePart,
        part_number: Option<u64>,
    ) -> Result<FileUpload> {
        let id = FileUploadId::parse(id.as_str())?;
        let mut form = MultipartBody {
            fields: Vec::new(),
            file: Some(file),
        };
        if let Some(n) = part_number {
            form.fields.push(("part_number".into(), n.to_string()));
        }
        let req = RawRequest::new(
            Method::POST,
            format!("/v1/file_uploads/{}/send", id.canonical()),
            Idempotency::Unsafe,
        )
        .multipart(form);
        self.conn.send(req).await
    }

    /// `POST /v1/file_uploads/{id}/complete` (multi-part uploads, once every part is sent).
    pub async fn complete(&self, id: &FileUploadId) -> Result<FileUpload> {
        let id = FileUploadId::parse(id.as_str())?;
        let req = RawRequest::new(
            Method::POST,
            format!("/v1/file_uploads/{}/complete", id.canonical()),
            Idempotency::Unsafe,
        );
        self.conn.send(req).await
    }

    /// `GET /v1/file_uploads/{id}`.
    pub async fn retrieve(&self, id: &FileUploadId) -> Result<FileUpload> {
        let id = FileUploadId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                format!("/v1/file_uploads/{}", id.canonical()),
                Idempotency::Safe,
            ))
            .await
    }

    /// One page of `GET /v1/file_uploads`, optionally only those of one status.
    pub async fn list(
        &self,
        status: Option<&FileUploadStatus>,
        paging: &Paging,
    ) -> Result<ListResponse<FileUpload>> {
        let mut req = RawRequest::new(Method::GET, "/v1/file_uploads", Idempotency::Safe);
        if let Some(s) = status {
            req = req.query("status", s.as_str());
        }
        req.query.extend(paging.to_query());
        self.conn.send(req).await
    }

    paged_stream! {
        /// Every upload (of one status), following cursors, up to `cap`.
        list_stream<'a>(status: Option<&'a FileUploadStatus>) -> FileUpload = list
    }

    /// The workspace's per-file limit, from `GET /v1/users/me` (`None` if Notion does not say).
    pub async fn workspace_limit(&self) -> Result<Option<u64>> {
        let me = self.conn.users().me().await?;
        Ok(match me.kind {
            Some(UserKind::Bot(bot)) => bot
                .workspace_limits
                .and_then(|l| l.max_file_upload_size_in_bytes),
            _ => None,
        })
    }

    /// Uploads a file read from `reader` and returns the `uploaded` upload, ready to attach.
    ///
    /// Single part up to 20 MiB, otherwise multi-part (see [`UploadFile::plan`]) and
    /// completed. The file is checked against the workspace's limit first. At most one part
    /// is held in memory. A part whose send may have reached Notion (a 5xx, a timeout, a
    /// connection lost after sending) is sent again only after the upload's state shows that
    /// Notion did not take it. The reader must yield exactly the announced size.
    pub async fn upload<R: AsyncRead + Unpin>(
        &self,
        mut reader: R,
        file: &UploadFile,
    ) -> Result<FileUpload> {
        let limit = match file.workspace_limit {
            Some(l) => Some(l),
            None => self.workspace_limit().await?,
        };
        if let Some(limit) = limit
            && file.size > limit
        {
            return Err(Error::InvalidRequest(format!(
                "the file has {} bytes; the workspace's upload limit is {limit} bytes",
                file.size
            )));
        }
        let plan = file.plan()?;
        let mut create = match plan {
            None => CreateFileUpload::single_part().filename(file.filename.clone()),
            Some((parts, _)) => CreateFileUpload::multi_part(file.filename.clone(), parts)?,
        };
        if let Some(ct) = &file.content_type {
            create = create.content_type(ct.clone());
        }
        let upload = self.create(&create).await?;
        let (parts, part_size) = plan.unwrap_or((1, file.size));
        let mut last = upload;
        let mut remaining = file.size;
        for n in 1..=parts {
            let len = remaining.min(part_size);
            let data = read_part(&mut reader, len, file.size - remaining).await?;
            remaining -= len;
            let part_number = plan.is_some().then_some(n);
            last = self
                .send_part(&last.id, file, data, part_number, n - 1)
                .await?;
        }
        let mut probe = [0u8; 1];
        if reader.read(&mut probe).await.map_err(io_error)? != 0 {
            return Err(Error::InvalidRequest(format!(
                "the reader has more than the announced {} bytes",
                file.size
            )));
        }
        if plan.is_some() {
            last = self.complete(&last.id).await?;
        }
        Ok(last)
    }

    /// Sends one part; after a failure that may have reached Notion, asks Notion whether the
    /// part arrived (`sent_before` parts were there before it) and sends it again only if not.
    async fn send_part(
        &self,
        id: &FileUploadId,
        file: &UploadFile,
        data: Bytes,
        part_number: Option<u64>,
        sent_before: u64,
    ) -> Result<FileUpload> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let part = FilePart::new(
                file.filename.clone(),
                file.content_type.clone(),
                data.clone(),
            );
            let err = match self.send(id, part, part_number).await {
                Ok(u) => return Ok(u),
                Err(e) => e,
            };
            if err.write_state() != WriteState::Unknown || attempt >= PART_ATTEMPTS {
                return Err(err);
            }
            let state = self.retrieve(id).await?;
            let arrived = match (part_number, state.number_of_parts) {
                (Some(_), Some(p)) => u64::from(p.sent) > sent_before,
                _ => state.status == FileUploadStatus::Uploaded,
            };
            if arrived {
                return Ok(state);
            }
            tracing::debug!(upload = %id, ?part_number, "part did not reach Notion; sending it again");
        }
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::InvalidRequest(format!("reading the file failed: {e}"))
}

/// Reads exactly `len` bytes (one part) from the reader.
async fn read_part<R: AsyncRead + Unpin>(reader: &mut R, len: u64, offset: u64) -> Result<Bytes> {
    let cap = usize::try_from(len)
        .map_err(|_| Error::InvalidRequest("part too large for this platform".into()))?;
    let mut buf = BytesMut::zeroed(cap);
    let mut filled = 0;
    while filled < cap {
        let n = reader.read(&mut buf[filled..]).await.map_err(io_error)?;
        if n == 0 {
            return Err(Error::InvalidRequest(format!(
                "the reader ended after {} bytes; the file was announced with more",
                offset + filled as u64
            )));
        }
        filled += n;
    }
    Ok(buf.freeze())
}
