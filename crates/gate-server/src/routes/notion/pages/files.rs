//! `POST /api/v1/notion/pages/{id}/files`: a file from a URL or base64 content, uploaded
//! and attached to a page (a block, a files property, the icon or the cover).

use super::*;

/// The most decoded bytes `upload_file` takes as base64 `content` (1 MiB: its base64 fits the
/// default 2 MiB request body limit); larger files are given by `url`.
pub const MAX_INLINE_UPLOAD_BYTES: usize = 1024 * 1024;
/// How many times an `external_url` import is looked at before giving up on it.
pub(crate) const IMPORT_CHECKS: u32 = 10;

/// How an uploaded file is attached to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachAs {
    /// A file block appended to the page.
    #[default]
    File,
    /// An image block.
    Image,
    /// A video block.
    Video,
    /// An audio block.
    Audio,
    /// A PDF block.
    Pdf,
    /// The value of a files property (named by `property`), replacing its files.
    Property,
    /// The page's icon.
    Icon,
    /// The page's cover.
    Cover,
}

impl AttachAs {
    fn block_kind(self, file: FileObject) -> Option<BlockKind> {
        Some(match self {
            Self::File => BlockKind::File(file),
            Self::Image => BlockKind::Image(file),
            Self::Video => BlockKind::Video(file),
            Self::Audio => BlockKind::Audio(file),
            Self::Pdf => BlockKind::Pdf(file),
            Self::Property | Self::Icon | Self::Cover => return None,
        })
    }
}

/// Where the attached file lives: the URL Notion imports (what a held call shows), or an
/// upload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttachedFile {
    /// An external URL.
    Url(String),
    /// A file upload (`None` before it exists: an empty id, only classified, never sent or
    /// held).
    Upload(Option<FileUploadId>),
}

impl AttachedFile {
    fn upload_id(id: &Option<FileUploadId>) -> FileUploadId {
        id.clone()
            .unwrap_or_else(|| FileUploadId::from(String::new()))
    }

    fn file_object(&self) -> FileObject {
        match self {
            Self::Url(url) => FileObject::external(url.clone()),
            Self::Upload(id) => FileObject::upload(Self::upload_id(id)),
        }
    }

    fn icon(&self) -> Icon {
        match self {
            Self::Url(url) => Icon::external(url.clone()),
            Self::Upload(id) => Icon::upload(Self::upload_id(id)),
        }
    }
}

/// The Notion write that attaches a file to a page, typed: a block appended to it, or a page
/// update (a files property, the icon or the cover).
#[derive(Debug, Clone)]
pub(crate) enum Attach {
    /// `PATCH /v1/blocks/{page}/children`.
    Append(BlockId, AppendChildren),
    /// `PATCH /v1/pages/{page}`.
    Update(PageId, Box<UpdatePage>),
}

impl Attach {
    /// Attaches `file` (named `filename`) to `page` as `attach` says.
    pub(crate) fn new(
        page: &PageId,
        attach: AttachAs,
        property: Option<&str>,
        filename: &str,
        file: &AttachedFile,
    ) -> Self {
        if let Some(kind) = attach.block_kind(file.file_object()) {
            let mut block = NewBlock::new(kind);
            block.extra.0.insert("object".into(), "block".into());
            return Self::Append(page.cast::<BlockId>(), AppendChildren::new([block]));
        }
        let update = match attach {
            AttachAs::Icon => UpdatePage::new().icon(Some(file.icon())),
            AttachAs::Cover => UpdatePage::new().cover(Some(file.file_object())),
            _ => {
                let mut entry = file.file_object();
                entry.name = Some(filename.to_owned());
                UpdatePage::new().property(
                    property.unwrap_or_default(),
                    PropertyRequest::Files(vec![entry]),
                )
            }
        };
        Self::Update(page.clone(), Box::new(update))
    }

    /// The request as classified, held for a human, or sent: what the builder serialises.
    pub(crate) fn request(&self) -> NotionRequest {
        match self {
            Self::Append(id, append) => NotionRequest::patch(
                format!("/v1/blocks/{}/children", id.canonical()),
                append.body(false),
            ),
            Self::Update(id, update) => {
                NotionRequest::patch(format!("/v1/pages/{}", id.canonical()), update.body())
            }
        }
    }

    /// Sends it; answers the new block's id for a block attachment.
    async fn send(&self, conn: &Connection) -> Result<Option<String>, notion_client::Error> {
        match self {
            Self::Append(id, append) => {
                let added = conn.blocks().append(id, append).await?;
                Ok(added.results.last().map(|b| b.id.as_str().to_owned()))
            }
            Self::Update(id, update) => {
                conn.pages().update(id, update).await?;
                Ok(None)
            }
        }
    }
}

/// `POST /notion/pages/{id}/files`: a file from a URL or base64 content, attached to a page.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadInput {
    /// A public `https://` URL that Notion imports (Notion's `external_url` mode). Give this
    /// or `content`.
    pub url: Option<String>,
    /// The file's bytes as base64, at most 1 MiB decoded.
    pub content: Option<String>,
    /// The file name with its extension (default: the URL's last segment).
    pub filename: Option<String>,
    /// The MIME type (default: inferred by Notion from the name).
    pub content_type: Option<String>,
    /// `file` (default), `image`, `video`, `audio`, `pdf` (a block appended to the page),
    /// `property` (a files property), `icon` or `cover`.
    pub attach_as: Option<AttachAs>,
    /// The files property to set (with `attach_as: "property"`).
    pub property: Option<String>,
}

/// An uploaded, attached file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileAttached {
    /// The page it is attached to.
    pub page_id: String,
    /// The file upload.
    pub file_upload_id: String,
    /// Its name.
    pub filename: String,
    /// How it is attached.
    pub attached_as: AttachAs,
    /// The new block (for block attachments).
    pub block_id: Option<String>,
}

/// Uploads a file (from a URL or base64 content) and attaches it to a page (create class).
///
/// A caller whose writes wait for approval has the attach held as one request: a URL is held
/// as an `external` file (what the human sees is the URL itself); base64 content cannot be
/// held in one request and is refused with `approval_requires_single_request`.
pub async fn upload_file(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: UploadInput,
) -> Result<FileAttached, ApiError> {
    use base64::Engine as _;
    let page_id = parse_id("page_id", id, PageId::parse)?;
    let attach = input.attach_as.unwrap_or_default();
    let property = match (attach, input.property.as_deref().map(str::trim)) {
        (AttachAs::Property, Some(p)) if !p.is_empty() => Some(p.to_owned()),
        (AttachAs::Property, _) => {
            return Err(ApiError::invalid_field(
                "property",
                "name the files property to set (with `attach_as: \"property\"`)",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid_field(
                "property",
                "only with `attach_as: \"property\"`",
            ));
        }
        (_, None) => None,
    };
    enum Source {
        Url(String),
        Bytes(Vec<u8>),
    }
    let source = match (input.url, input.content) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "content",
                "give `url` or `content`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "url",
                "give `url` (an https:// URL) or `content` (base64)",
            ));
        }
        (Some(url), None) => {
            let url = url.trim().to_owned();
            if !url.starts_with("https://") || url.len() <= "https://".len() {
                return Err(ApiError::invalid_field("url", "must be an https:// URL"));
            }
            Source::Url(url)
        }
        (None, Some(content)) => {
            // Base64 is 4 characters per 3 bytes: refuse before decoding a huge string.
            if content.len() / 4 * 3 > MAX_INLINE_UPLOAD_BYTES + 3 {
                return Err(ApiError::invalid_field(
                    "content",
                    format!(
                        "at most {MAX_INLINE_UPLOAD_BYTES} bytes decoded; give larger files by `url`"
                    ),
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content.trim())
                .map_err(|_| ApiError::invalid_field("content", "is not valid base64"))?;
            if bytes.is_empty() {
                return Err(ApiError::invalid_field("content", "must not be empty"));
            }
            if bytes.len() > MAX_INLINE_UPLOAD_BYTES {
                return Err(ApiError::invalid_field(
                    "content",
                    format!(
                        "at most {MAX_INLINE_UPLOAD_BYTES} bytes decoded; give larger files by `url`"
                    ),
                ));
            }
            Source::Bytes(bytes)
        }
    };
    let filename = match (input.filename.as_deref().map(str::trim), &source) {
        (Some(f), _) if !f.is_empty() => f.to_owned(),
        (_, Source::Url(url)) => url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .filter(|n| !n.is_empty() && !n.contains(':'))
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid_field("filename", "give a file name"))?,
        _ => return Err(ApiError::invalid_field("filename", "give a file name")),
    };
    let held_file = match &source {
        Source::Url(url) => AttachedFile::Url(url.clone()),
        Source::Bytes(_) => AttachedFile::Upload(None),
    };
    let held = Attach::new(&page_id, attach, property.as_deref(), &filename, &held_file).request();
    let op = Op::open(gate, caller, surface, held.clone(), true).await?;
    if op.session.awaiting_approval() {
        if matches!(source, Source::Bytes(_)) {
            let e = ApiError::from(GateError::Forbidden {
                code: gate_core::Refusal::ApprovalRequiresSingleRequest,
                reason: "an upload of `content` takes several Notion requests and cannot be \
                         held for approval as one; give the file by `url`"
                    .to_owned(),
                needed: None,
            })
            .detail("field", "content");
            return Err(op.fail(e).await);
        }
        return Err(op.session.hold(held).await.into());
    }
    let result = async {
        let uploads = op.conn().file_uploads();
        let mut upload = match source {
            Source::Url(url) => {
                let mut create =
                    CreateFileUpload::external_url(url, filename.clone()).map_err(upstream)?;
                if let Some(ct) = &input.content_type {
                    create = create.content_type(ct.clone());
                }
                uploads.create(&create).await.map_err(upstream)?
            }
            Source::Bytes(bytes) => {
                op.add_requests(2);
                let mut file = UploadFile::new(filename.clone(), bytes.len() as u64);
                if let Some(ct) = &input.content_type {
                    file = file.content_type(ct.clone());
                }
                uploads
                    .upload(bytes.as_slice(), &file)
                    .await
                    .map_err(upstream)?
            }
        };
        let mut checks = 0;
        while upload.status == FileUploadStatus::Pending && checks < IMPORT_CHECKS {
            checks += 1;
            if checks > 1 {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            upload = op
                .conn()
                .file_uploads()
                .retrieve(&upload.id)
                .await
                .map_err(upstream)?;
        }
        if upload.status != FileUploadStatus::Uploaded {
            return Err(GateError::Upstream {
                status: None,
                code: Some("file_upload_not_ready".to_owned()),
                message: format!(
                    "Notion did not finish the upload (status `{}`)",
                    upload.status.as_str()
                ),
                request_id: None,
                write_state: notion_client::WriteState::NotApplied,
            });
        }
        let file = AttachedFile::Upload(Some(upload.id.clone()));
        let block_id = Attach::new(&page_id, attach, property.as_deref(), &filename, &file)
            .send(op.conn())
            .await
            .map_err(upstream)?;
        Ok(FileAttached {
            page_id: page_id.canonical(),
            file_upload_id: upload.id.canonical(),
            filename,
            attached_as: attach,
            block_id,
        })
    }
    .await;
    op.end(result).await
}

/// Upload a file (from a URL or base64 content, at most 1 MiB decoded) and attach it to a
/// page: as a file, image, video, audio or PDF block, a files property, the icon or the cover.
#[utoipa::path(post, path = "/api/v1/notion/pages/{id}/files", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id")),
    request_body = UploadInput,
    responses((status = 200, body = FileAttached), (status = 202, description = "Held for approval (a URL only)"),
              (status = 400, description = "Bad input (the field is named), or content over 1 MiB"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn upload_file_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UploadInput>,
) -> Result<Json<FileAttached>, ApiError> {
    upload_file(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}
