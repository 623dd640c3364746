//! Pages: the common page fields and the map of property values.

use std::collections::BTreeMap;

use super::common::{FileObject, Icon, Parent};
use super::property::{PropertyValue, PropertyValueKind};
use super::rich_text::plain_text;
use super::union::Maybe;
use super::user::User;
use crate::ids::PageId;

notion_object! {
    /// A page (also a data-source row).
    ///
    /// `extra`: every other field (`object`, …), kept verbatim.
    pub struct Page {
        /// The page ID.
        pub id: PageId => required,
        /// When created (kept as sent).
        pub created_time: Option<String>,
        /// When last edited (kept as sent).
        pub last_edited_time: Option<String>,
        /// Who created it.
        pub created_by: Option<User>,
        /// Who last edited it.
        pub last_edited_by: Option<User>,
        /// The parent.
        pub parent: Option<Parent>,
        /// In the trash.
        pub in_trash: Option<bool>,
        /// Archived (same meaning as `in_trash`; absent on 2026-03-11).
        pub archived: Option<bool>,
        /// The separate "archived page" state (newer).
        pub is_archived: Option<bool>,
        /// Whether the page is locked (newer).
        pub is_locked: Option<bool>,
        /// The property values by name.
        pub properties: Option<BTreeMap<String, PropertyValue>>,
        /// The icon.
        pub icon: Maybe<Icon>,
        /// The cover.
        pub cover: Maybe<FileObject>,
        /// The Notion URL.
        pub url: Option<String>,
        /// The public URL, when published.
        pub public_url: Maybe<String>,
        /// The request ID (top-level responses).
        pub request_id: Option<String>,
    }
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
                .find(|(_, v)| matches!(v.value, Some(PropertyValueKind::Title(_))))
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn page(flags: Value) -> Value {
        let mut page = json!({
            "object": "page",
            "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
            "parent": {"type": "data_source_id",
                       "data_source_id": "4f93db51-4e1d-4015-b07f-876e34c3b0b1",
                       "database_id": "c37a2c66-e3aa-4a0d-a447-73de3b80c253"},
            "icon": null,
            "properties": {
                "Name": {"id": "title", "type": "title", "title": [
                    {"type": "text", "text": {"content": "Kale", "link": null}, "plain_text": "Kale", "href": null},
                    {"type": "equation", "equation": {"expression": "x"}, "plain_text": "x", "href": null}
                ]},
                "Done": {"id": "a", "type": "checkbox", "checkbox": true}
            }
        });
        if let (Some(obj), Value::Object(extra)) = (page.as_object_mut(), flags) {
            obj.extend(extra);
        }
        page
    }

    #[test]
    fn archived_only_page_is_in_trash() {
        let original = page(json!({"archived": true}));
        let p: Page = serde_json::from_value(original.clone()).unwrap();
        assert!(p.is_in_trash());
        assert_eq!(p.in_trash, None);
        assert_eq!(serde_json::to_value(&p).unwrap(), original);
    }

    #[test]
    fn in_trash_only_page_is_in_trash() {
        let original = page(json!({"in_trash": true}));
        let p: Page = serde_json::from_value(original.clone()).unwrap();
        assert!(p.is_in_trash());
        assert_eq!(p.archived, None);
        assert_eq!(serde_json::to_value(&p).unwrap(), original);
        let p: Page =
            serde_json::from_value(page(json!({"in_trash": false, "archived": false}))).unwrap();
        assert!(!p.is_in_trash());
    }

    #[test]
    fn title_and_parent_accessors() {
        let p: Page = serde_json::from_value(page(json!({}))).unwrap();
        assert_eq!(p.title(), "Kalex");
        let parent = p.parent.as_ref().unwrap();
        assert_eq!(
            parent.database_id().map(|d| d.to_string()).as_deref(),
            Some("c37a2c66-e3aa-4a0d-a447-73de3b80c253")
        );
        assert!(parent.data_source_id().is_some());
        assert!(matches!(p.icon, Maybe::Null));
        assert!(p.cover.is_absent());
    }
}
