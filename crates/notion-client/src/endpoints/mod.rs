//! One handler per Notion resource, reached from a [`Connection`](crate::Connection):
//! `conn.pages().retrieve(&id)`, `conn.blocks().children_stream(&id, cap)`, and so on.
//! Request bodies are builders with `new(required…)` and optional setters.

/// Declares `$stream`, every item of the one-page method `$page` (called with the same
/// arguments), following cursors, up to `cap` items.
macro_rules! paged_stream {
    (
        $(#[$meta:meta])*
        $stream:ident<$lt:lifetime>($($arg:ident: $ty:ty),*) -> $item:ty = $page:ident
    ) => {
        $(#[$meta])*
        pub fn $stream<$lt>(
            &$lt self,
            $($arg: $ty,)*
            cap: Option<usize>,
        ) -> impl futures::Stream<Item = $crate::error::Result<$item>> + $lt {
            $crate::pagination::paginate(cap, move |paging| async move {
                self.$page($($arg,)* &paging).await
            })
        }
    };
}

pub mod blocks;
pub mod comments;
pub mod data_sources;
pub mod databases;
pub mod file_uploads;
pub mod pages;
pub mod search;
pub mod tasks;
pub mod users;
pub mod values;
pub mod views;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::Connection;
use crate::error::Result;
use crate::ids::{BlockId, DataSourceId, DatabaseId, PageId};

pub use blocks::{AppendChildren, Blocks, Position};
pub use comments::{CommentParent, CommentTarget, Comments, CreateComment, UpdateComment};
pub use data_sources::{CreateDataSource, DataSources, QueryDataSource, UpdateDataSource};
pub use databases::{CreateDatabase, Databases, UpdateDatabase};
pub use file_uploads::{CreateFileUpload, FileUploads, UploadFile, UploadMode};
pub use pages::{CreatePage, MarkdownCommand, MarkdownUpdate, Pages, UpdatePage};
pub use search::{Search, SearchFilter};
pub use tasks::{AsyncTasks, CustomEmojis};
pub use users::Users;
pub use values::{ObjectRef, PropertyRequest};
pub use views::{CreateView, UpdateView, ViewSettings, Views, ViewsOf};

impl Connection {
    /// Pages: retrieve, create, update, move, property items, Markdown.
    pub fn pages(&self) -> Pages<'_> {
        Pages { conn: self }
    }
    /// Blocks: retrieve, update, delete, list and append children.
    pub fn blocks(&self) -> Blocks<'_> {
        Blocks { conn: self }
    }
    /// Databases (containers).
    pub fn databases(&self) -> Databases<'_> {
        Databases { conn: self }
    }
    /// Data sources: schema and queries.
    pub fn data_sources(&self) -> DataSources<'_> {
        DataSources { conn: self }
    }
    /// Comments.
    pub fn comments(&self) -> Comments<'_> {
        Comments { conn: self }
    }
    /// Users and the token's bot.
    pub fn users(&self) -> Users<'_> {
        Users { conn: self }
    }
    /// File uploads, and the upload helper.
    pub fn file_uploads(&self) -> FileUploads<'_> {
        FileUploads { conn: self }
    }
    /// Views and view queries (2025-09-03+).
    pub fn views(&self) -> Views<'_> {
        Views { conn: self }
    }
    /// Async tasks.
    pub fn async_tasks(&self) -> AsyncTasks<'_> {
        AsyncTasks { conn: self }
    }
    /// Custom emojis.
    pub fn custom_emojis(&self) -> CustomEmojis<'_> {
        CustomEmojis { conn: self }
    }
}

/// A parent reference in a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParentRef {
    /// Under a page.
    Page(PageId),
    /// A row of a data source (2025-09-03+).
    DataSource(DataSourceId),
    /// A row of a single-source database, or a data source's container.
    Database(DatabaseId),
    /// Under a block.
    Block(BlockId),
    /// At the workspace level (public connections only).
    Workspace,
}

impl ParentRef {
    /// The JSON form Notion expects: `{"type": "page_id", "page_id": "…"}`.
    pub fn to_value(&self) -> Value {
        let (kind, id) = match self {
            Self::Page(id) => ("page_id", Value::String(id.canonical())),
            Self::DataSource(id) => ("data_source_id", Value::String(id.canonical())),
            Self::Database(id) => ("database_id", Value::String(id.canonical())),
            Self::Block(id) => ("block_id", Value::String(id.canonical())),
            Self::Workspace => ("workspace", Value::Bool(true)),
        };
        let mut m = Map::new();
        m.insert("type".into(), Value::String(kind.into()));
        m.insert(kind.into(), id);
        Value::Object(m)
    }
}

impl Serialize for ParentRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

/// A typed request body as JSON (what its endpoint sends). The builders hold only maps with
/// string keys and JSON values, which always serialise.
pub(crate) fn body_of<T: Serialize + ?Sized>(body: &T) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// Percent-encodes a property ID for a path, leaving an already encoded ID (`%7CyVi`) as is.
/// Dots are encoded too, so that no segment can be `..`.
pub(crate) fn encode_path_segment(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let is_escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if is_escape {
            out.push_str(&raw[i..i + 3]);
            i += 3;
            continue;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_property_ids() {
        assert_eq!(encode_path_segment("title"), "title");
        assert_eq!(encode_path_segment("%7CyVi"), "%7CyVi");
        assert_eq!(encode_path_segment("|yVi"), "%7CyVi");
        assert_eq!(encode_path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_path_segment("../x"), "%2E%2E%2Fx");
        assert_eq!(encode_path_segment("%zz"), "%25zz");
    }

    #[test]
    fn parent_shapes() {
        let id = PageId::parse("598337872cf94fdf8782e53db20768a5").unwrap();
        assert_eq!(
            ParentRef::Page(id).to_value(),
            serde_json::json!({"type": "page_id", "page_id": "59833787-2cf9-4fdf-8782-e53db20768a5"})
        );
        assert_eq!(
            ParentRef::Workspace.to_value(),
            serde_json::json!({"type": "workspace", "workspace": true})
        );
    }
}
