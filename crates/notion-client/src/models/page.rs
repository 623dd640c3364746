//! Pages: the common page fields and the map of property values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{FileObject, Icon, Parent};
use super::property::{PropertyValue, PropertyValueKind};
use super::rich_text::plain_text;
use super::union::Maybe;
use super::user::User;
use crate::ids::PageId;

/// A page (also a data-source row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page {
    /// The page ID.
    pub id: PageId,
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
    /// The parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// In the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_trash: Option<bool>,
    /// Archived (same meaning as `in_trash`; absent on 2026-03-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// The separate "archived page" state (newer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    /// Whether the page is locked (newer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    /// The property values by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertyValue>>,
    /// The icon.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub icon: Maybe<Icon>,
    /// The cover.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub cover: Maybe<FileObject>,
    /// The Notion URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
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

impl Page {
    /// The plain text of the property whose type is `title` (empty if none).
    pub fn title(&self) -> String {
        self.title_property()
            .and_then(|(_, value)| value.plain_text())
            .unwrap_or_default()
    }

    /// The name and value of the title property.
    pub fn title_property(&self) -> Option<(&str, &PropertyValue)> {
        self.properties.as_ref().and_then(|props| {
            props
                .iter()
                .find(|(_, v)| matches!(v.value, PropertyValueKind::Title(_)))
                .map(|(k, v)| (k.as_str(), v))
        })
    }

    /// A property value by name.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        self.properties.as_ref().and_then(|props| props.get(name))
    }

    /// Whether the page is in the trash (`in_trash`, or `archived` on older versions).
    pub fn is_in_trash(&self) -> bool {
        self.in_trash.or(self.archived).unwrap_or(false)
    }
}

/// Joins a rich-text title (used by databases and data sources).
pub(crate) fn join_title(title: Option<&Vec<super::RichText>>) -> String {
    title.map(|t| plain_text(t)).unwrap_or_default()
}
