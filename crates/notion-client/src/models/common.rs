//! Shared shapes: colours, parents, icons, files and covers, dates, empty objects.

use serde_json::{Map, Value};

use super::union::{Extra, Maybe};
use crate::ids::{BlockId, DataSourceId, DatabaseId, FileUploadId, PageId};

string_enum! {
    /// An API colour: text colours, `*_background` colours, and select/status option colours.
    #[derive(Default)]
    pub enum Color {
        /// `default`
        #[default]
        Default = "default",
        /// `gray`
        Gray = "gray",
        /// `brown`
        Brown = "brown",
        /// `orange`
        Orange = "orange",
        /// `yellow`
        Yellow = "yellow",
        /// `green`
        Green = "green",
        /// `blue`
        Blue = "blue",
        /// `purple`
        Purple = "purple",
        /// `pink`
        Pink = "pink",
        /// `red`
        Red = "red",
        /// `default_background`
        DefaultBackground = "default_background",
        /// `gray_background`
        GrayBackground = "gray_background",
        /// `brown_background`
        BrownBackground = "brown_background",
        /// `orange_background`
        OrangeBackground = "orange_background",
        /// `yellow_background`
        YellowBackground = "yellow_background",
        /// `green_background`
        GreenBackground = "green_background",
        /// `blue_background`
        BlueBackground = "blue_background",
        /// `purple_background`
        PurpleBackground = "purple_background",
        /// `pink_background`
        PinkBackground = "pink_background",
        /// `red_background`
        RedBackground = "red_background",
    }
}

notion_object! {
    /// An object with no modelled fields (`{}`), keeping anything Notion adds.
    ///
    /// `extra`: Every field, kept verbatim.
    #[derive(Default)]
    pub struct EmptyObject {
    }
}

notion_union! {
    /// The kind of a parent, with its ID.
    pub enum ParentKind {
        /// `page_id`
        PageId = "page_id" (PageId),
        /// `block_id`
        BlockId = "block_id" (BlockId),
        /// `database_id`
        DatabaseId = "database_id" (DatabaseId),
        /// `data_source_id` (the `database_id` sibling is in [`Parent::extra`]; see
        /// [`Parent::database_id`]).
        DataSourceId = "data_source_id" (DataSourceId),
        /// `workspace: true`
        Workspace = "workspace" (bool),
        /// `agent_id`
        AgentId = "agent_id" (String),
    }
}

notion_object! {
    /// A parent: `{type, <type>: id, ...}`.
    ///
    /// `extra`: every other field (such as `database_id` next to `data_source_id`), kept verbatim.
    pub struct Parent {
        @required
        /// The kind and ID.
        pub kind: ParentKind,
    }
}

impl Parent {
    /// A parent of the given kind.
    pub fn new(kind: ParentKind) -> Self {
        Self {
            kind,
            extra: Extra::default(),
        }
    }

    /// A page parent.
    pub fn page(id: PageId) -> Self {
        Self::new(ParentKind::PageId(id))
    }

    /// A data-source parent (for rows, 2025-09-03+).
    pub fn data_source(id: DataSourceId) -> Self {
        Self::new(ParentKind::DataSourceId(id))
    }

    /// The page ID, for a `page_id` parent.
    pub fn page_id(&self) -> Option<&PageId> {
        match &self.kind {
            ParentKind::PageId(id) => Some(id),
            _ => None,
        }
    }

    /// The block ID, for a `block_id` parent.
    pub fn block_id(&self) -> Option<&BlockId> {
        match &self.kind {
            ParentKind::BlockId(id) => Some(id),
            _ => None,
        }
    }

    /// The data source ID, for a `data_source_id` parent.
    pub fn data_source_id(&self) -> Option<&DataSourceId> {
        match &self.kind {
            ParentKind::DataSourceId(id) => Some(id),
            _ => None,
        }
    }

    /// The database ID: of a `database_id` parent, or the container of a `data_source_id` parent.
    pub fn database_id(&self) -> Option<DatabaseId> {
        match &self.kind {
            ParentKind::DatabaseId(id) => Some(id.clone()),
            ParentKind::DataSourceId(_) => self
                .extra
                .get("database_id")
                .and_then(Value::as_str)
                .and_then(|s| DatabaseId::parse(s).ok()),
            _ => None,
        }
    }

    /// Whether this is the workspace (top level).
    pub fn is_workspace(&self) -> bool {
        matches!(self.kind, ParentKind::Workspace(_))
    }
}

notion_object! {
    /// A date or date range: `{start, end, time_zone}`. Timestamps are kept as sent.
    pub struct DateValue {
        /// The start (ISO 8601 date or date-time).
        pub start: String => required,
        /// The end, for a range.
        pub end: Maybe<String>,
        /// The IANA time zone.
        pub time_zone: Maybe<String>,
    }
}

impl DateValue {
    /// A date (or date-time) without end or time zone.
    pub fn new(start: impl Into<String>) -> Self {
        Self {
            start: start.into(),
            end: Maybe::Absent,
            time_zone: Maybe::Absent,
            extra: Map::new(),
        }
    }
}

notion_object! {
    /// An external file: `{url}`.
    pub struct ExternalFile {
        /// The URL.
        pub url: String => required,
    }
}

impl ExternalFile {
    /// An external file at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            extra: Map::new(),
        }
    }
}

notion_object! {
    /// A Notion-hosted file: `{url, expiry_time}`. The URL is signed and expires; never store it.
    pub struct HostedFile {
        /// The signed URL.
        pub url: String => required,
        /// When the URL stops working.
        pub expiry_time: Option<String>,
    }
}

notion_object! {
    /// A reference to a file upload: `{id}` (requests).
    pub struct FileUploadRef {
        /// The file upload ID.
        pub id: FileUploadId => required,
    }
}

impl FileUploadRef {
    /// A reference to the given upload.
    pub fn new(id: FileUploadId) -> Self {
        Self {
            id,
            extra: Map::new(),
        }
    }
}

notion_object! {
    /// A custom emoji: `{id, name, url}`.
    pub struct CustomEmoji {
        /// The custom emoji ID.
        pub id: String => required,
        /// Its name.
        pub name: Option<String>,
        /// Its image URL.
        pub url: Option<String>,
    }
}

notion_object! {
    /// A native Notion icon: `{name, color}`.
    pub struct NativeIcon {
        /// The icon name, such as `book-closed`.
        pub name: String => required,
        /// The icon colour (an open set, such as `lightgray`).
        pub color: Option<String>,
    }
}

notion_union! {
    /// Where a file lives: external URL, Notion-hosted, or a file upload (requests).
    pub enum FileSource {
        /// `external`
        External = "external" (ExternalFile),
        /// `file` (Notion-hosted, expiring URL)
        File = "file" (HostedFile),
        /// `file_upload` (requests, and some responses)
        FileUpload = "file_upload" (FileUploadRef),
    }
}

notion_object! {
    /// A file object: media block content, an entry of a `files` property, or a cover.
    ///
    /// `{type, <type>: …, name?, caption?}`.
    pub struct FileObject {
        /// The file name (`files` property entries, `file` blocks).
        pub name: Option<String>,
        /// The caption (media blocks).
        pub caption: Option<Vec<super::RichText>>,
        @optional
        /// Where the file lives; `None` in update requests that only change the caption.
        pub source: FileSource,
    }
}

impl FileObject {
    /// A file object from a source.
    pub fn new(source: FileSource) -> Self {
        Self {
            name: None,
            caption: None,
            source: Some(source),
            extra: Extra::default(),
        }
    }

    /// An external file.
    pub fn external(url: impl Into<String>) -> Self {
        Self::new(FileSource::External(ExternalFile::new(url)))
    }

    /// A file upload reference.
    pub fn upload(id: FileUploadId) -> Self {
        Self::new(FileSource::FileUpload(FileUploadRef::new(id)))
    }

    /// The URL, for external and hosted files.
    pub fn url(&self) -> Option<&str> {
        match self.source.as_ref()? {
            FileSource::External(f) => Some(&f.url),
            FileSource::File(f) => Some(&f.url),
            _ => None,
        }
    }
}

notion_union! {
    /// The kind of an icon.
    pub enum IconKind {
        /// `emoji`
        Emoji = "emoji" (String),
        /// `external`
        External = "external" (ExternalFile),
        /// `file` (Notion-hosted)
        File = "file" (HostedFile),
        /// `file_upload` (requests)
        FileUpload = "file_upload" (FileUploadRef),
        /// `custom_emoji`
        CustomEmoji = "custom_emoji" (CustomEmoji),
        /// `icon` (native Notion icon)
        Icon = "icon" (NativeIcon),
    }
}

notion_object! {
    /// An icon: `{type, <type>: …}`.
    pub struct Icon {
        @required
        /// The kind of icon.
        pub kind: IconKind,
    }
}

impl Icon {
    /// An emoji icon.
    pub fn emoji(emoji: impl Into<String>) -> Self {
        Self::new(IconKind::Emoji(emoji.into()))
    }

    /// An external icon.
    pub fn external(url: impl Into<String>) -> Self {
        Self::new(IconKind::External(ExternalFile::new(url)))
    }

    /// An uploaded file as the icon (requests).
    pub fn upload(id: FileUploadId) -> Self {
        Self::new(IconKind::FileUpload(FileUploadRef::new(id)))
    }

    /// An icon of the given kind.
    pub fn new(kind: IconKind) -> Self {
        Self {
            kind,
            extra: Extra::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::models::{RichText, RichTextKind};

    #[test]
    fn request_shapes_without_type_infer_it() {
        let parent: Parent =
            serde_json::from_value(json!({"page_id": "c01166c6-13ae-45cb-b968-18b4ef2f5a77"}))
                .unwrap();
        assert!(parent.page_id().is_some());
        assert!(parent.extra.is_empty());
        assert_eq!(
            serde_json::to_value(&parent).unwrap(),
            json!({"type": "page_id", "page_id": "c01166c6-13ae-45cb-b968-18b4ef2f5a77"})
        );
        let rt: RichText = serde_json::from_value(json!({"text": {"content": "x"}})).unwrap();
        assert!(matches!(rt.kind, RichTextKind::Text(_)));
        let caption_only: FileObject = serde_json::from_value(json!({"caption": []})).unwrap();
        assert!(caption_only.source.is_none());
        assert_eq!(
            serde_json::to_value(&caption_only).unwrap(),
            json!({"caption": []})
        );
    }

    #[test]
    fn data_source_parent_keeps_database_id() {
        let original = json!({
            "type": "data_source_id",
            "data_source_id": "4f93db51-4e1d-4015-b07f-876e34c3b0b1",
            "database_id": "c37a2c66-e3aa-4a0d-a447-73de3b80c253"
        });
        let parent: Parent = serde_json::from_value(original.clone()).unwrap();
        assert!(parent.database_id().is_some());
        assert_eq!(serde_json::to_value(&parent).unwrap(), original);
    }
}
