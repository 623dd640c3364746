//! Notion object models for API versions 2025-09-03 and 2026-03-11 (and 2022-06-28 shapes).
//!
//! Every model keeps unknown fields in an `extra` map and unknown union variants as raw JSON,
//! so that a response deserializes and re-serializes without loss:
//!
//! - Notion unions (`{"type": "x", "x": <content>}`) are enums with one variant per known type
//!   plus `Unknown { type_name, content }` (see [`NotionUnion`]). They are flattened into a
//!   struct next to an [`Extra`] map, which drops `type` and the content key.
//! - Fields that may be absent or `null` use [`Maybe`] (absent / null / value).
//! - Numbers that may be integers or floats are [`serde_json::Number`]; timestamps stay strings.

#[macro_use]
pub mod union;
#[macro_use]
#[doc(hidden)]
pub mod object;

mod block;
mod comment;
mod common;
mod database;
mod list;
mod page;
mod property;
mod rich_text;
mod task;
mod upload;
mod user;
mod view;

pub use block::{
    Block, BlockKind, CalloutBlock, ChildTitle, CodeBlock, ColumnBlock, ContainerBlock,
    EquationBlock, HeadingBlock, LinkToPageBlock, LinkToPageKind, MeetingNotesBlock,
    MeetingNotesChildren, NewBlock, NumberedListItemBlock, SyncedBlock, SyncedFrom, TableBlock,
    TableOfContentsBlock, TableRowBlock, TextBlock, TimeSpan, ToDoBlock, UnsupportedBlock,
    UrlBlock,
};
pub use comment::{Comment, CommentAttachment, DisplayName};
pub use common::{
    Color, CustomEmoji, DateValue, EmptyObject, ExternalFile, FileObject, FileSource,
    FileUploadRef, HostedFile, Icon, IconKind, NativeIcon, Parent, ParentKind,
};
pub use database::{DataSource, DataSourceRef, Database, Template};
pub use list::{
    ListResponse, PageMarkdown, PropertyItemResponse, RequestStatus, SearchResult, TemplateList,
};
pub use page::Page;
pub use property::{
    DualProperty, FormulaConfig, FormulaKind, FormulaValue, NumberConfig, PlaceValue,
    PropertyConfig, PropertyConfigKind, PropertyItem, PropertyItemKind, PropertyItemListInfo,
    PropertyValue, PropertyValueKind, RelationConfig, RelationKind, RollupConfig, RollupKind,
    RollupValue, SelectConfig, SelectOption, StatusConfig, StatusGroup, UniqueIdConfig,
    UniqueIdValue, VerificationValue,
};
pub use rich_text::{
    Annotations, DatabaseRef, Equation, Link, LinkMention, MAX_TEXT_CHARS, Mention, MentionKind,
    PageRef, RichText, RichTextKind, TemplateMention, TemplateMentionKind, TextContent, UrlObject,
    plain_text, text_runs,
};
pub use task::{AsyncOperation, AsyncTask, AsyncTaskStatus};
pub use union::{Extra, Maybe, NotionUnion, optional_union};
pub use upload::{
    FileImportError, FileImportOutcome, FileImportResult, FileUpload, FileUploadStatus, PartCount,
    UploadCreator,
};
pub use user::{Bot, BotOwner, BotOwnerKind, Person, User, UserKind, WorkspaceLimits};
pub use view::{PageReference, View, ViewQuery, ViewType};
