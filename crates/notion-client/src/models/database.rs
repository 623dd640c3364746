//! Databases (2025-09-03 containers with `data_sources`, or 2022-06-28 schema-bearing databases),
//! data sources, and data-source templates.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::common::{FileObject, Icon, Parent};
use super::page::join_title;
use super::property::PropertyConfig;
use super::rich_text::RichText;
use super::union::Maybe;
use super::user::User;
use crate::ids::{DataSourceId, DatabaseId, PageId};

/// An entry of a database's `data_sources`: `{id, name}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DataSourceRef {
    /// The data source ID.
    pub id: DataSourceId,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(DataSourceRef { id: required, name });

/// A database container (or, on 2022-06-28, a schema-bearing database).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Database {
    /// The database ID.
    pub id: DatabaseId,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Vec<RichText>>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Vec<RichText>>,
    /// The parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// Whether it is inline in its parent page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_inline: Option<bool>,
    /// In the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_trash: Option<bool>,
    /// Archived (absent on 2026-03-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// Whether it is locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    /// When created (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// When last edited (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_time: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// Who last edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_by: Option<User>,
    /// The data sources (2025-09-03+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sources: Option<Vec<DataSourceRef>>,
    /// The schema (2022-06-28 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertyConfig>>,
    /// The icon.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub icon: Maybe<Icon>,
    /// The cover.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub cover: Maybe<FileObject>,
    /// The Notion URL.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub url: Maybe<String>,
    /// The public URL, when published.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub public_url: Maybe<String>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(Database {
    id: required,
    title,
    description,
    parent,
    is_inline,
    in_trash,
    archived,
    is_locked,
    created_time,
    last_edited_time,
    created_by,
    last_edited_by,
    data_sources,
    properties,
    icon,
    cover,
    url,
    public_url,
    request_id
});

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

/// A data source (2025-09-03 and later).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DataSource {
    /// The data source ID.
    pub id: DataSourceId,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Vec<RichText>>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Vec<RichText>>,
    /// The parent (the database container, or a data source for synced ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// The parent of the database container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_parent: Option<Parent>,
    /// Whether the database is inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_inline: Option<bool>,
    /// In the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_trash: Option<bool>,
    /// Archived (absent on 2026-03-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// When created (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// When last edited (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_time: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// Who last edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_by: Option<User>,
    /// The schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertyConfig>>,
    /// The icon.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub icon: Maybe<Icon>,
    /// The cover.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub cover: Maybe<FileObject>,
    /// The Notion URL.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub url: Maybe<String>,
    /// The public URL, when published.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub public_url: Maybe<String>,
    /// The database type (official spec only; `null` or `tasks`, `projects`, …).
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub database_type: Maybe<String>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(DataSource {
    id: required,
    title,
    description,
    parent,
    database_parent,
    is_inline,
    in_trash,
    archived,
    created_time,
    last_edited_time,
    created_by,
    last_edited_by,
    properties,
    icon,
    cover,
    url,
    public_url,
    database_type,
    request_id
});

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

/// A data-source template: `{id, name, is_default}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Template {
    /// The template page ID.
    pub id: PageId,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether it is the default template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(Template {
    id: required,
    name,
    is_default
});
