//! File uploads: the `file_upload` object (status, sizes, parts, import result).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::EmptyObject;
use super::union::{Extra, Maybe};
use crate::ids::FileUploadId;

string_enum! {
    /// Where an upload is in its life.
    pub enum FileUploadStatus {
        /// Created; content not (completely) sent yet.
        Pending = "pending",
        /// Content received; the upload can be attached.
        Uploaded = "uploaded",
        /// Not attached within its time (about an hour); unusable.
        Expired = "expired",
        /// An `external_url` import failed.
        Failed = "failed",
    }
}

/// Who created an upload: `{id, type: "person" | "bot" | "agent"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadCreator {
    /// The creator's ID.
    pub id: String,
    /// `person`, `bot` or `agent`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub creator_type: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parts of a multi-part upload: `{total, sent}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartCount {
    /// Parts announced at creation.
    pub total: u32,
    /// Parts received so far.
    pub sent: u32,
}

/// Why an `external_url` import failed: `{type, code, message, parameter, status_code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileImportError {
    /// `validation_error`, `internal_system_error`, `download_error` or `upload_error`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// A short error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

notion_union! {
    /// The outcome of an `external_url` import.
    pub enum FileImportOutcome {
        /// `success: {}`
        Success = "success" (EmptyObject),
        /// `error: {…}`
        Error = "error" (FileImportError),
    }
}

/// `file_import_result`: `{type, success | error, imported_time}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileImportResult {
    /// Success or the error.
    #[serde(flatten)]
    pub outcome: FileImportOutcome,
    /// Every other field (`imported_time`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<FileImportOutcome>,
}

/// A file upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileUpload {
    /// The upload's ID, used in `{type: "file_upload", file_upload: {id}}` references.
    pub id: FileUploadId,
    /// When created (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UploadCreator>,
    /// When last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_time: Option<String>,
    /// When it expires unless attached; `null` once attached somewhere.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub expiry_time: Maybe<String>,
    /// Where to send the content (pending uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
    /// Where to complete a multi-part upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_url: Option<String>,
    /// The status.
    pub status: FileUploadStatus,
    /// The file name.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub filename: Maybe<String>,
    /// The MIME type.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub content_type: Maybe<String>,
    /// Bytes received.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub content_length: Maybe<u64>,
    /// Parts of a multi-part upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_parts: Option<PartCount>,
    /// The outcome of an `external_url` import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_import_result: Option<FileImportResult>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, `archived`, `in_trash`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FileUpload {
    /// Whether the content has been received and the upload can be attached.
    pub fn is_uploaded(&self) -> bool {
        self.status == FileUploadStatus::Uploaded
    }
}
