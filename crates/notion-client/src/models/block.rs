//! Blocks: the common fields, every block type's content, and [`NewBlock`] for requests.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Color, FileObject, Icon, Parent};
use super::rich_text::{RichText, plain_text};
use super::union::{Extra, Maybe};
use super::user::User;
use crate::ids::{BlockId, CommentId, DatabaseId, PageId};

notion_object! {
    /// Content of text blocks (`paragraph`, `bulleted_list_item`, `quote`, `toggle`, `template`).
    #[derive(Default)]
    pub struct TextBlock {
        /// The text (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// The colour.
        pub color: Option<Color>,
        /// An icon (paragraph tab items).
        pub icon: Maybe<Icon>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

impl TextBlock {
    /// Content with the given text.
    pub fn new(rich_text: Vec<RichText>) -> Self {
        Self {
            rich_text: Some(rich_text),
            ..Self::default()
        }
    }
}

notion_object! {
    /// Content of `heading_1` … `heading_4`.
    #[derive(Default)]
    pub struct HeadingBlock {
        /// The text (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// The colour.
        pub color: Option<Color>,
        /// Whether the heading is a toggle.
        pub is_toggleable: Option<bool>,
        /// Nested children (requests only; toggle headings).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `numbered_list_item`.
    #[derive(Default)]
    pub struct NumberedListItemBlock {
        /// The text (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// The colour.
        pub color: Option<Color>,
        /// The first number of the list.
        pub list_start_index: Option<u64>,
        /// `numbers`, `letters` or `roman`.
        pub list_format: Option<String>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `to_do`.
    #[derive(Default)]
    pub struct ToDoBlock {
        /// The text (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// Whether it is checked.
        pub checked: Option<bool>,
        /// The colour.
        pub color: Option<Color>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `callout`.
    #[derive(Default)]
    pub struct CalloutBlock {
        /// The text (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// The icon (may be `null`).
        pub icon: Maybe<Icon>,
        /// The colour.
        pub color: Option<Color>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

/// The `synced_from` of a synced-block copy: `{type: "block_id", block_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncedFrom {
    /// The reference type (`block_id`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ref_type: Option<String>,
    /// The original synced block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_id: Option<BlockId>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

notion_object! {
    /// Content of `synced_block`: `synced_from` is `null` for the original.
    #[derive(Default)]
    pub struct SyncedBlock {
        /// The original, for a copy; `null` for the original.
        pub synced_from: Maybe<SyncedFrom>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `child_page` and `child_database`: `{title}`.
    #[derive(Default)]
    pub struct ChildTitle {
        /// The page or database title.
        pub title: String,
    }
}

notion_object! {
    /// Content of `equation`: `{expression}`.
    #[derive(Default)]
    pub struct EquationBlock {
        /// The KaTeX expression.
        pub expression: String,
    }
}

notion_object! {
    /// Content of `code`: `{rich_text, caption, language}`.
    #[derive(Default)]
    pub struct CodeBlock {
        /// The code (omitted by update requests that leave it unchanged).
        pub rich_text: Option<Vec<RichText>>,
        /// The caption.
        pub caption: Option<Vec<RichText>>,
        /// The language name (`plain text`, `rust`, `json`, `mermaid`, …).
        pub language: Option<String>,
    }
}

notion_object! {
    /// Content of blocks without fields (`divider`, `breadcrumb`, `tab`, `column_list`).
    #[derive(Default)]
    pub struct ContainerBlock {
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `table_of_contents`: `{color}`.
    #[derive(Default)]
    pub struct TableOfContentsBlock {
        /// The colour.
        pub color: Option<Color>,
    }
}

notion_object! {
    /// Content of `column`: `{width_ratio?}`.
    #[derive(Default)]
    pub struct ColumnBlock {
        /// The share of the row's width (0–1).
        pub width_ratio: Option<Number>,
        /// Nested children (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_union! {
    /// The target of a `link_to_page` block.
    pub enum LinkToPageKind {
        /// `page_id`
        PageId = "page_id" (PageId),
        /// `database_id`
        DatabaseId = "database_id" (DatabaseId),
        /// `comment_id`
        CommentId = "comment_id" (CommentId),
    }
}

notion_object! {
    /// Content of `link_to_page`: `{type, <type>: id}`.
    pub struct LinkToPageBlock {
        @required
        /// The target.
        pub target: LinkToPageKind,
    }
}

notion_object! {
    /// Content of `table`: `{table_width, has_column_header, has_row_header}`.
    #[derive(Default)]
    pub struct TableBlock {
        /// The number of columns.
        pub table_width: Option<u64>,
        /// Whether the first row is a header.
        pub has_column_header: Option<bool>,
        /// Whether the first column is a header.
        pub has_row_header: Option<bool>,
        /// The rows (requests only).
        pub children: Option<Vec<NewBlock>>,
    }
}

notion_object! {
    /// Content of `table_row`: `{cells}` (one rich-text array per cell).
    #[derive(Default)]
    pub struct TableRowBlock {
        /// The cells.
        pub cells: Vec<Vec<RichText>>,
    }
}

notion_object! {
    /// Content of `embed` and `bookmark`: `{url, caption}`.
    #[derive(Default)]
    pub struct UrlBlock {
        /// The URL.
        pub url: Option<String>,
        /// The caption.
        pub caption: Option<Vec<RichText>>,
    }
}

notion_object! {
    /// The child blocks of a meeting-notes block.
    #[derive(Default)]
    pub struct MeetingNotesChildren {
        /// The summary block.
        pub summary_block_id: Maybe<BlockId>,
        /// The notes block.
        pub notes_block_id: Maybe<BlockId>,
        /// The transcript block.
        pub transcript_block_id: Maybe<BlockId>,
    }
}

notion_object! {
    /// A time span: `{start_time, end_time, …}` (calendar events, recordings).
    ///
    /// `extra`: every other field (such as `attendees`), kept verbatim.
    #[derive(Default)]
    pub struct TimeSpan {
        /// The start.
        pub start_time: Maybe<String>,
        /// The end.
        pub end_time: Maybe<String>,
    }
}

notion_object! {
    /// Content of `meeting_notes` (2026-03-11) and `transcription` (earlier). Read-mostly.
    #[derive(Default)]
    pub struct MeetingNotesBlock {
        /// The title.
        pub title: Option<Vec<RichText>>,
        /// The processing status, such as `notes_ready`.
        pub status: Maybe<String>,
        /// The summary, notes and transcript blocks.
        pub children: Maybe<MeetingNotesChildren>,
        /// The calendar event.
        pub calendar_event: Maybe<TimeSpan>,
        /// The recording.
        pub recording: Maybe<TimeSpan>,
    }
}

notion_object! {
    /// Content of `unsupported`: `{block_type}`.
    #[derive(Default)]
    pub struct UnsupportedBlock {
        /// The type the API does not expose (e.g. `form`, `button`).
        pub block_type: Option<String>,
    }
}

notion_union! {
    /// The type and content of a block.
    pub enum BlockKind {
        /// `paragraph`
        Paragraph = "paragraph" (TextBlock),
        /// `heading_1`
        Heading1 = "heading_1" (HeadingBlock),
        /// `heading_2`
        Heading2 = "heading_2" (HeadingBlock),
        /// `heading_3`
        Heading3 = "heading_3" (HeadingBlock),
        /// `heading_4`
        Heading4 = "heading_4" (HeadingBlock),
        /// `bulleted_list_item`
        BulletedListItem = "bulleted_list_item" (TextBlock),
        /// `numbered_list_item`
        NumberedListItem = "numbered_list_item" (NumberedListItemBlock),
        /// `quote`
        Quote = "quote" (TextBlock),
        /// `to_do`
        ToDo = "to_do" (ToDoBlock),
        /// `toggle`
        Toggle = "toggle" (TextBlock),
        /// `template` (legacy template button)
        Template = "template" (TextBlock),
        /// `callout`
        Callout = "callout" (CalloutBlock),
        /// `synced_block`
        SyncedBlock = "synced_block" (SyncedBlock),
        /// `child_page`
        ChildPage = "child_page" (ChildTitle),
        /// `child_database`
        ChildDatabase = "child_database" (ChildTitle),
        /// `equation`
        Equation = "equation" (EquationBlock),
        /// `code`
        Code = "code" (CodeBlock),
        /// `divider`
        Divider = "divider" (ContainerBlock),
        /// `breadcrumb`
        Breadcrumb = "breadcrumb" (ContainerBlock),
        /// `table_of_contents`
        TableOfContents = "table_of_contents" (TableOfContentsBlock),
        /// `tab`
        Tab = "tab" (ContainerBlock),
        /// `column_list`
        ColumnList = "column_list" (ContainerBlock),
        /// `column`
        Column = "column" (ColumnBlock),
        /// `link_to_page`
        LinkToPage = "link_to_page" (LinkToPageBlock),
        /// `table`
        Table = "table" (TableBlock),
        /// `table_row`
        TableRow = "table_row" (TableRowBlock),
        /// `embed`
        Embed = "embed" (UrlBlock),
        /// `bookmark`
        Bookmark = "bookmark" (UrlBlock),
        /// `image`
        Image = "image" (FileObject),
        /// `video`
        Video = "video" (FileObject),
        /// `pdf`
        Pdf = "pdf" (FileObject),
        /// `audio`
        Audio = "audio" (FileObject),
        /// `file`
        File = "file" (FileObject),
        /// `link_preview`
        LinkPreview = "link_preview" (UrlBlock),
        /// `meeting_notes` (2026-03-11)
        MeetingNotes = "meeting_notes" (MeetingNotesBlock),
        /// `transcription` (before 2026-03-11; same content as `meeting_notes`)
        Transcription = "transcription" (MeetingNotesBlock),
        /// `unsupported`
        Unsupported = "unsupported" (UnsupportedBlock),
    }
}

impl BlockKind {
    /// The rich text of text-bearing blocks (paragraphs, headings, lists, quote, to-do, toggle,
    /// template, callout, code).
    pub fn rich_text(&self) -> Option<&[RichText]> {
        match self {
            Self::Paragraph(b)
            | Self::BulletedListItem(b)
            | Self::Quote(b)
            | Self::Toggle(b)
            | Self::Template(b) => b.rich_text.as_deref(),
            Self::Heading1(b) | Self::Heading2(b) | Self::Heading3(b) | Self::Heading4(b) => {
                b.rich_text.as_deref()
            }
            Self::NumberedListItem(b) => b.rich_text.as_deref(),
            Self::ToDo(b) => b.rich_text.as_deref(),
            Self::Callout(b) => b.rich_text.as_deref(),
            Self::Code(b) => b.rich_text.as_deref(),
            _ => None,
        }
    }

    /// The meeting-notes content, whichever name (`meeting_notes` or `transcription`) it has.
    pub fn meeting_notes(&self) -> Option<&MeetingNotesBlock> {
        match self {
            Self::MeetingNotes(b) | Self::Transcription(b) => Some(b),
            _ => None,
        }
    }

    /// The request children slot of this content, for types that take children.
    fn children_mut(&mut self) -> Option<&mut Option<Vec<NewBlock>>> {
        match self {
            Self::Paragraph(b)
            | Self::BulletedListItem(b)
            | Self::Quote(b)
            | Self::Toggle(b)
            | Self::Template(b) => Some(&mut b.children),
            Self::Heading1(b) | Self::Heading2(b) | Self::Heading3(b) | Self::Heading4(b) => {
                Some(&mut b.children)
            }
            Self::NumberedListItem(b) => Some(&mut b.children),
            Self::ToDo(b) => Some(&mut b.children),
            Self::Callout(b) => Some(&mut b.children),
            Self::SyncedBlock(b) => Some(&mut b.children),
            Self::Divider(b) | Self::Breadcrumb(b) | Self::Tab(b) | Self::ColumnList(b) => {
                Some(&mut b.children)
            }
            Self::Column(b) => Some(&mut b.children),
            Self::Table(b) => Some(&mut b.children),
            _ => None,
        }
    }
}

notion_object! {
    /// A block: the common fields plus `type` and its content.
    ///
    /// `extra`: every other field (`object`, `request_id`, …), kept verbatim.
    pub struct Block {
        /// The block ID.
        pub id: BlockId => required,
        /// Whether the block has children to fetch.
        pub has_children: bool,
        /// The parent.
        pub parent: Option<Parent>,
        /// When created (kept as sent).
        pub created_time: Option<String>,
        /// When last edited (kept as sent).
        pub last_edited_time: Option<String>,
        /// Who created it.
        pub created_by: Option<User>,
        /// Who last edited it.
        pub last_edited_by: Option<User>,
        /// In the trash.
        pub in_trash: Option<bool>,
        /// Archived (same meaning as `in_trash`; absent on 2026-03-11).
        pub archived: Option<bool>,
        @required
        /// The type and content.
        pub kind: BlockKind,
    }
}

impl Block {
    /// The value of `type`, such as `paragraph`.
    pub fn kind_name(&self) -> &str {
        self.kind.type_name()
    }

    /// Whether the block is in the trash (`in_trash`, or `archived` on older versions).
    pub fn is_in_trash(&self) -> bool {
        self.in_trash.or(self.archived).unwrap_or(false)
    }

    /// The plain text of a text-bearing block.
    pub fn plain_text(&self) -> Option<String> {
        self.kind.rich_text().map(plain_text)
    }
}

/// A block for requests (append children, create page): `{type, <type>: {…, children?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewBlock {
    /// The type and content (children go inside the content).
    #[serde(flatten)]
    pub kind: BlockKind,
    /// Every other field (such as `object: "block"`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<BlockKind>,
}

impl NewBlock {
    /// A request block of the given kind.
    pub fn new(kind: BlockKind) -> Self {
        Self {
            kind,
            extra: Extra::default(),
        }
    }

    /// A paragraph.
    pub fn paragraph(rich_text: Vec<RichText>) -> Self {
        Self::new(BlockKind::Paragraph(TextBlock::new(rich_text)))
    }

    /// A heading of level 1 to 4 (other levels are clamped).
    pub fn heading(level: u8, rich_text: Vec<RichText>) -> Self {
        let content = HeadingBlock {
            rich_text: Some(rich_text),
            ..HeadingBlock::default()
        };
        Self::new(match level {
            0 | 1 => BlockKind::Heading1(content),
            2 => BlockKind::Heading2(content),
            3 => BlockKind::Heading3(content),
            _ => BlockKind::Heading4(content),
        })
    }

    /// A bulleted list item.
    pub fn bulleted_list_item(rich_text: Vec<RichText>) -> Self {
        Self::new(BlockKind::BulletedListItem(TextBlock::new(rich_text)))
    }

    /// A numbered list item.
    pub fn numbered_list_item(rich_text: Vec<RichText>) -> Self {
        Self::new(BlockKind::NumberedListItem(NumberedListItemBlock {
            rich_text: Some(rich_text),
            ..NumberedListItemBlock::default()
        }))
    }

    /// A to-do.
    pub fn to_do(rich_text: Vec<RichText>, checked: bool) -> Self {
        Self::new(BlockKind::ToDo(ToDoBlock {
            rich_text: Some(rich_text),
            checked: Some(checked),
            ..ToDoBlock::default()
        }))
    }

    /// A quote.
    pub fn quote(rich_text: Vec<RichText>) -> Self {
        Self::new(BlockKind::Quote(TextBlock::new(rich_text)))
    }

    /// A toggle.
    pub fn toggle(rich_text: Vec<RichText>) -> Self {
        Self::new(BlockKind::Toggle(TextBlock::new(rich_text)))
    }

    /// A code block.
    pub fn code(code: impl Into<String>, language: impl Into<String>) -> Self {
        Self::new(BlockKind::Code(CodeBlock {
            rich_text: Some(vec![RichText::plain(code)]),
            language: Some(language.into()),
            ..CodeBlock::default()
        }))
    }

    /// A divider.
    pub fn divider() -> Self {
        Self::new(BlockKind::Divider(ContainerBlock::default()))
    }

    /// Sets the children (for types that take them; ignored otherwise). Builder.
    pub fn with_children(mut self, children: Vec<NewBlock>) -> Self {
        if let Some(slot) = self.kind.children_mut() {
            *slot = Some(children);
        }
        self
    }

    /// The value of `type`.
    pub fn kind_name(&self) -> &str {
        self.kind.type_name()
    }
}

impl From<BlockKind> for NewBlock {
    fn from(kind: BlockKind) -> Self {
        Self::new(kind)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::models::RichText;

    fn block_json(kind: &str, content: Value) -> Value {
        json!({
            "object": "block",
            "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
            "parent": {"type": "page_id", "page_id": "c01166c6-13ae-45cb-b968-18b4ef2f5a77"},
            "created_time": "2026-02-24T10:00:00.000Z",
            "last_edited_time": "2026-02-24T10:00:00.000Z",
            "has_children": false,
            "in_trash": false,
            "type": kind,
            kind: content,
            "request_id": "abc"
        })
    }

    #[test]
    fn extra_keeps_every_other_key_in_order_without_the_union() {
        // Notion's order: `type`, then its content, then anything else.
        let b: Block = serde_json::from_value(block_json(
            "paragraph",
            json!({"rich_text": [], "color": "default"}),
        ))
        .unwrap();
        assert!(matches!(b.kind, BlockKind::Paragraph(_)));
        let keys: Vec<&str> = b.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["object", "request_id"]);

        // The content before `type`: still left out, and the order of the rest kept.
        let b: Block = serde_json::from_str(
            r#"{"z": 1, "paragraph": {"rich_text": []}, "object": "block", "a": 2,
                "id": "59833787-2cf9-4fdf-8782-e53db20768a5", "type": "paragraph", "m": 3}"#,
        )
        .unwrap();
        assert!(matches!(b.kind, BlockKind::Paragraph(_)));
        let keys: Vec<&str> = b.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["z", "object", "a", "m"]);
    }

    #[test]
    fn extra_without_a_string_type() {
        // No `type`: the first known variant's key is the union's, not an extra field.
        let e: Extra<BlockKind> =
            serde_json::from_value(json!({"divider": {}, "object": "block"})).unwrap();
        assert_eq!(Value::Object(e.into_inner()), json!({"object": "block"}));
        // A `type` that is not a string names nothing: every key is kept.
        let e: Extra<BlockKind> =
            serde_json::from_value(json!({"type": 5, "divider": {}, "a": 1})).unwrap();
        assert_eq!(
            Value::Object(e.into_inner()),
            json!({"type": 5, "divider": {}, "a": 1})
        );
    }

    #[test]
    fn unknown_block_type_survives_a_round_trip() {
        let original = block_json("hologram", json!({"beam": [1, 2.5], "color": "blue"}));
        let block: Block = serde_json::from_value(original.clone()).unwrap();
        assert!(block.kind.is_unknown());
        assert_eq!(block.kind_name(), "hologram");
        assert_eq!(block.extra.get("request_id"), Some(&json!("abc")));
        assert!(!block.extra.contains_key("type") && !block.extra.contains_key("hologram"));
        assert_eq!(serde_json::to_value(&block).unwrap(), original);
    }

    #[test]
    fn known_block_with_bad_content_is_an_error_naming_the_path() {
        // The content is decoded straight from the input, so the path of an error inside it
        // is tracked like any other (the client's `decode` names it; see `client::tests`).
        let original = block_json("to_do", json!({"rich_text": [], "checked": "yes"}));
        let err = serde_path_to_error::deserialize::<_, Block>(&original).unwrap_err();
        assert_eq!(err.path().to_string(), "to_do.checked");
        assert!(err.inner().to_string().contains("invalid type"), "{err}");
        // The content before `type` is decoded once `type` is known, and still named.
        let body = r#"{"to_do": {"rich_text": [], "checked": "yes"}, "type": "to_do",
                       "id": "59833787-2cf9-4fdf-8782-e53db20768a5"}"#;
        let err = serde_json::from_str::<Block>(body).unwrap_err().to_string();
        assert!(err.contains("to_do.checked"), "{err}");
        let plain = serde_json::from_value::<Block>(original)
            .unwrap_err()
            .to_string();
        assert!(plain.contains("invalid type"), "{plain}");
    }

    #[test]
    fn transcription_and_meeting_notes_share_content() {
        let content = json!({
            "title": [],
            "status": "notes_ready",
            "children": {"summary_block_id": "a1b2c3d4-5678-9abc-def0-1234567890ab"},
            "calendar_event": {"start_time": "2026-02-24T10:00:00.000Z", "end_time": null},
            "recording": null
        });
        for kind in ["meeting_notes", "transcription"] {
            let original = block_json(kind, content.clone());
            let block: Block = serde_json::from_value(original.clone()).unwrap();
            assert_eq!(block.kind_name(), kind);
            let notes = block.kind.meeting_notes().expect("typed meeting notes");
            assert_eq!(
                notes.status.as_ref().map(String::as_str),
                Some("notes_ready")
            );
            assert!(matches!(notes.recording, Maybe::Null));
            assert_eq!(serde_json::to_value(&block).unwrap(), original);
        }
        let old: Block = serde_json::from_value(block_json("transcription", content)).unwrap();
        assert!(matches!(old.kind, BlockKind::Transcription(_)));
    }

    #[test]
    fn trash_flag_reads_in_trash_or_archived() {
        let mut only_archived = block_json("divider", json!({}));
        only_archived.as_object_mut().unwrap().remove("in_trash");
        only_archived["archived"] = json!(true);
        let block: Block = serde_json::from_value(only_archived.clone()).unwrap();
        assert!(block.is_in_trash());
        assert_eq!(serde_json::to_value(&block).unwrap(), only_archived);
    }

    #[test]
    fn new_block_serializes_to_the_request_form() {
        let block = NewBlock::paragraph(vec![RichText::plain("Hello").bold()])
            .with_children(vec![NewBlock::to_do(vec![RichText::plain("x")], true)]);
        assert_eq!(
            serde_json::to_value(&block).unwrap(),
            json!({
                "type": "paragraph",
                "paragraph": {
                    "rich_text": [{
                        "type": "text",
                        "text": {"content": "Hello"},
                        "annotations": {
                            "bold": true, "italic": false, "strikethrough": false,
                            "underline": false, "code": false, "color": "default"
                        }
                    }],
                    "children": [{
                        "type": "to_do",
                        "to_do": {"rich_text": [{"type": "text", "text": {"content": "x"}}], "checked": true}
                    }]
                }
            })
        );
        assert_eq!(NewBlock::heading(4, vec![]).kind_name(), "heading_4");
    }
}
