//! Databases (2025-09-03 containers with `data_sources`, or 2022-06-28 schema-bearing databases),
//! data sources, and data-source templates.

use std::collections::BTreeMap;

use super::common::{FileObject, Icon, Parent};
use super::page::join_title;
use super::property::PropertyConfig;
use super::rich_text::RichText;
use super::union::Maybe;
use super::user::User;
use crate::ids::{DataSourceId, DatabaseId, PageId};

notion_object! {
    /// An entry of a database's `data_sources`: `{id, name}`.
    pub struct DataSourceRef {
        /// The data source ID.
        pub id: DataSourceId => required,
        /// Its name.
        pub name: Option<String>,
    }
}

notion_object! {
    /// A database container (or, on 2022-06-28, a schema-bearing database).
    ///
    /// `extra`: every other field (`object`, …), kept verbatim.
    pub struct Database {
        /// The database ID.
        pub id: DatabaseId => required,
        /// The title.
        pub title: Option<Vec<RichText>>,
        /// The description.
        pub description: Option<Vec<RichText>>,
        /// The parent.
        pub parent: Option<Parent>,
        /// Whether it is inline in its parent page.
        pub is_inline: Option<bool>,
        /// In the trash.
        pub in_trash: Option<bool>,
        /// Archived (absent on 2026-03-11).
        pub archived: Option<bool>,
        /// Whether it is locked.
        pub is_locked: Option<bool>,
        /// When created (kept as sent).
        pub created_time: Option<String>,
        /// When last edited (kept as sent).
        pub last_edited_time: Option<String>,
        /// Who created it.
        pub created_by: Option<User>,
        /// Who last edited it.
        pub last_edited_by: Option<User>,
        /// The data sources (2025-09-03+).
        pub data_sources: Option<Vec<DataSourceRef>>,
        /// The schema (2022-06-28 only).
        pub properties: Option<BTreeMap<String, PropertyConfig>>,
        /// The icon.
        pub icon: Maybe<Icon>,
        /// The cover.
        pub cover: Maybe<FileObject>,
        /// The Notion URL.
        pub url: Maybe<String>,
        /// The public URL, when published.
        pub public_url: Maybe<String>,
        /// The request ID (top-level responses).
        pub request_id: Option<String>,
    }
}

impl Database {
    /// The plain-text title.
    pub fn title(&self) -> String {
        join_title(self.title.as_ref())
    }

    /// Whether it is in the trash (`in_trash`, or `archived` on older versions).
    pub fn is_in_trash(&self) -> bool {
        self.in_trash.or(self.archived).unwrap_or(false)
    }
}

notion_object! {
    /// A data source (2025-09-03 and later).
    ///
    /// `extra`: every other field (`object`, …), kept verbatim.
    pub struct DataSource {
        /// The data source ID.
        pub id: DataSourceId => required,
        /// The title.
        pub title: Option<Vec<RichText>>,
        /// The description.
        pub description: Option<Vec<RichText>>,
        /// The parent (the database container, or a data source for synced ones).
        pub parent: Option<Parent>,
        /// The parent of the database container.
        pub database_parent: Option<Parent>,
        /// Whether the database is inline.
        pub is_inline: Option<bool>,
        /// In the trash.
        pub in_trash: Option<bool>,
        /// Archived (absent on 2026-03-11).
        pub archived: Option<bool>,
        /// When created (kept as sent).
        pub created_time: Option<String>,
        /// When last edited (kept as sent).
        pub last_edited_time: Option<String>,
        /// Who created it.
        pub created_by: Option<User>,
        /// Who last edited it.
        pub last_edited_by: Option<User>,
        /// The schema.
        pub properties: Option<BTreeMap<String, PropertyConfig>>,
        /// The icon.
        pub icon: Maybe<Icon>,
        /// The cover.
        pub cover: Maybe<FileObject>,
        /// The Notion URL.
        pub url: Maybe<String>,
        /// The public URL, when published.
        pub public_url: Maybe<String>,
        /// The database type (official spec only; `null` or `tasks`, `projects`, …).
        pub database_type: Maybe<String>,
        /// The request ID (top-level responses).
        pub request_id: Option<String>,
    }
}

impl DataSource {
    /// The plain-text title.
    pub fn title(&self) -> String {
        join_title(self.title.as_ref())
    }

    /// Whether it is in the trash (`in_trash`, or `archived` on older versions).
    pub fn is_in_trash(&self) -> bool {
        self.in_trash.or(self.archived).unwrap_or(false)
    }

    /// The ID of the database container, from `parent`.
    pub fn database_id(&self) -> Option<DatabaseId> {
        self.parent.as_ref().and_then(|p| p.database_id())
    }
}

notion_object! {
    /// A data-source template: `{id, name, is_default}`.
    pub struct Template {
        /// The template page ID.
        pub id: PageId => required,
        /// Its name.
        pub name: Option<String>,
        /// Whether it is the default template.
        pub is_default: Option<bool>,
    }
}
