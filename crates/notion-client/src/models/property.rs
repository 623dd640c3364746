//! Properties: values on a page, property items (`GET /v1/pages/{id}/properties/{id}`), and
//! property configurations (the schema of a data source, or of a 2022-06-28 database).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Color, DateValue, EmptyObject, FileObject};
use super::rich_text::{PageRef, RichText};
use super::union::{Extra, Maybe};
use super::user::User;
use crate::ids::{DataSourceId, DatabaseId, PropertyId};

notion_object! {
    /// A select, multi-select or status option: `{id, name, color, description?}`.
    #[derive(Default)]
    pub struct SelectOption {
        /// The option ID (opaque, not a UUID).
        pub id: Option<String>,
        /// The option name.
        pub name: Option<String>,
        /// The option colour.
        pub color: Option<Color>,
        /// The option description.
        pub description: Maybe<String>,
    }
}

impl SelectOption {
    /// An option selected by name (requests).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }
}

notion_union! {
    /// The value of a formula.
    pub enum FormulaKind {
        /// `string`
        String = "string" (Option<String>),
        /// `number`
        Number = "number" (Option<Number>),
        /// `boolean`
        Boolean = "boolean" (Option<bool>),
        /// `date`
        Date = "date" (Option<DateValue>),
    }
}

notion_object! {
    /// A formula value: `{type, <type>: value}`.
    pub struct FormulaValue {
        @required
        /// The result.
        pub kind: FormulaKind,
    }
}

notion_union! {
    /// The value of a rollup.
    pub enum RollupKind {
        /// `number`
        Number = "number" (Option<Number>),
        /// `date`
        Date = "date" (Option<DateValue>),
        /// `array`: one property value (without `id`) per related page.
        Array = "array" (Vec<PropertyValue>),
        /// `unsupported`
        Unsupported = "unsupported" (Value),
        /// `incomplete`
        Incomplete = "incomplete" (Value),
    }
}

notion_object! {
    /// A rollup value: `{type, <type>: value, function}`.
    pub struct RollupValue {
        @required
        /// The result.
        pub kind: RollupKind,
        /// The rollup function, such as `sum` or `show_original`.
        pub function: Option<String>,
    }
}

notion_object! {
    /// A unique ID value: `{prefix, number}`.
    pub struct UniqueIdValue {
        /// The prefix, such as `TASK`.
        pub prefix: Maybe<String>,
        /// The number.
        pub number: Maybe<Number>,
    }
}

notion_object! {
    /// A verification value: `{state, date, verified_by}`.
    pub struct VerificationValue {
        /// `verified`, `expired` or `unverified`.
        pub state: String => required,
        /// Who verified.
        pub verified_by: Maybe<User>,
        /// The validity period.
        pub date: Maybe<DateValue>,
    }
}

notion_object! {
    /// A place value: `{lat, lon, name?, address?, aws_place_id?, google_place_id?}`.
    pub struct PlaceValue {
        /// Latitude.
        pub lat: Option<Number>,
        /// Longitude.
        pub lon: Option<Number>,
        /// The place name.
        pub name: Maybe<String>,
        /// The address.
        pub address: Maybe<String>,
    }
}

/// Declares a property union: its own variants, then the types whose value and item have the
/// same content (`number` … `button`).
macro_rules! property_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $tag:literal ($content:ty),)*
        }
    ) => {
        notion_union! {
            $(#[$meta])*
            pub enum $name {
                $($(#[$vmeta])* $variant = $tag ($content),)*
                /// `number`
                Number = "number" (Option<Number>),
                /// `select`
                Select = "select" (Option<SelectOption>),
                /// `multi_select`
                MultiSelect = "multi_select" (Vec<SelectOption>),
                /// `status`
                Status = "status" (Option<SelectOption>),
                /// `date`
                Date = "date" (Option<DateValue>),
                /// `files`
                Files = "files" (Vec<FileObject>),
                /// `checkbox`
                Checkbox = "checkbox" (bool),
                /// `url`
                Url = "url" (Option<String>),
                /// `email`
                Email = "email" (Option<String>),
                /// `phone_number`
                PhoneNumber = "phone_number" (Option<String>),
                /// `formula`
                Formula = "formula" (FormulaValue),
                /// `rollup`
                Rollup = "rollup" (RollupValue),
                /// `created_time`
                CreatedTime = "created_time" (String),
                /// `last_edited_time`
                LastEditedTime = "last_edited_time" (String),
                /// `created_by`
                CreatedBy = "created_by" (User),
                /// `last_edited_by`
                LastEditedBy = "last_edited_by" (User),
                /// `unique_id`
                UniqueId = "unique_id" (UniqueIdValue),
                /// `verification`
                Verification = "verification" (VerificationValue),
                /// `place`
                Place = "place" (Option<PlaceValue>),
                /// `button`
                Button = "button" (EmptyObject),
            }
        }
    };
}

property_union! {
    /// The typed value of a page property.
    pub enum PropertyValueKind {
        /// `title`
        Title = "title" (Vec<RichText>),
        /// `rich_text`
        RichText = "rich_text" (Vec<RichText>),
        /// `people` (users or groups)
        People = "people" (Vec<User>),
        /// `relation` (at most 25 on a page; see `has_more` in [`PropertyValue::extra`])
        Relation = "relation" (Vec<PageRef>),
    }
}

notion_object! {
    /// A property value on a page: `{id, type, <type>: value}`.
    ///
    /// `extra`: every other field (such as `has_more` on relations), kept verbatim.
    pub struct PropertyValue {
        /// The property ID (absent inside rollup arrays).
        pub id: Option<PropertyId>,
        @optional
        /// The typed value; `None` when only the ID is sent (as in the answer to page creation).
        pub value: PropertyValueKind,
    }
}

impl PropertyValue {
    /// A property value for requests (no ID).
    pub fn new(value: PropertyValueKind) -> Self {
        Self {
            id: None,
            value: Some(value),
            extra: Extra::default(),
        }
    }

    /// The plain text of a title or rich-text value.
    pub fn plain_text(&self) -> Option<String> {
        match self.value.as_ref()? {
            PropertyValueKind::Title(rt) | PropertyValueKind::RichText(rt) => {
                Some(super::rich_text::plain_text(rt))
            }
            _ => None,
        }
    }

    /// The value of `type`, if the value is present.
    pub fn type_name(&self) -> Option<&str> {
        self.value.as_ref().map(PropertyValueKind::type_name)
    }

    /// `has_more` of a relation truncated at 25 items.
    pub fn has_more(&self) -> bool {
        self.extra
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

property_union! {
    /// The typed value of a property item. List types (`title`, `rich_text`, `people`,
    /// `relation`) deliver one element per item.
    pub enum PropertyItemKind {
        /// `title`: one rich-text run.
        Title = "title" (RichText),
        /// `rich_text`: one rich-text run.
        RichText = "rich_text" (RichText),
        /// `people`: one user.
        People = "people" (User),
        /// `relation`: one related page.
        Relation = "relation" (PageRef),
    }
}

notion_object! {
    /// A property item: `{object: "property_item", id, type, <type>: value}`.
    ///
    /// `extra`: every other field (`object`, `request_id`, …), kept verbatim.
    pub struct PropertyItem {
        /// The property ID.
        pub id: Option<PropertyId>,
        @required
        /// The typed value.
        pub value: PropertyItemKind,
    }
}

/// The `property_item` member of a paginated property-item list:
/// `{id, type, next_url, <type>: {}}` (for rollups, `rollup` holds the summary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PropertyItemListInfo {
    /// The property ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PropertyId>,
    /// The property type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub property_type: Option<String>,
    /// The URL of the next page of items.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub next_url: Maybe<String>,
    /// The rollup summary, for rollup properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup: Option<RollupValue>,
    /// Every other field (the empty `<type>` object), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

notion_object! {
    /// A number property's configuration: `{format}`.
    #[derive(Default)]
    pub struct NumberConfig {
        /// The display format (an open set: `number`, `percent`, `dollar`, …).
        pub format: Option<String>,
    }
}

notion_object! {
    /// A select or multi-select configuration: `{options}`.
    #[derive(Default)]
    pub struct SelectConfig {
        /// The options.
        pub options: Option<Vec<SelectOption>>,
    }
}

notion_object! {
    /// A status group: `{id, name, color, option_ids}`.
    #[derive(Default)]
    pub struct StatusGroup {
        /// The group ID.
        pub id: Option<String>,
        /// The group name.
        pub name: Option<String>,
        /// The group colour.
        pub color: Option<Color>,
        /// The options in the group.
        pub option_ids: Option<Vec<String>>,
    }
}

notion_object! {
    /// A status configuration: `{options, groups}`.
    #[derive(Default)]
    pub struct StatusConfig {
        /// The options.
        pub options: Option<Vec<SelectOption>>,
        /// The groups.
        pub groups: Option<Vec<StatusGroup>>,
    }
}

notion_object! {
    /// A formula configuration: `{expression}`.
    #[derive(Default)]
    pub struct FormulaConfig {
        /// The formula expression.
        pub expression: Option<String>,
    }
}

notion_object! {
    /// The dual-property part of a relation: `{synced_property_name, synced_property_id}`.
    #[derive(Default)]
    pub struct DualProperty {
        /// The name of the synced property on the other side.
        pub synced_property_name: Maybe<String>,
        /// The ID of the synced property on the other side.
        pub synced_property_id: Maybe<String>,
    }
}

notion_union! {
    /// Whether a relation is one-way or two-way.
    pub enum RelationKind {
        /// `single_property`
        SingleProperty = "single_property" (EmptyObject),
        /// `dual_property`
        DualProperty = "dual_property" (DualProperty),
    }
}

notion_object! {
    /// A relation configuration: `{data_source_id, database_id, type, <type>: …}`.
    pub struct RelationConfig {
        /// The related data source (2025-09-03+).
        pub data_source_id: Option<DataSourceId>,
        /// The related database (responses; requests on 2022-06-28).
        pub database_id: Option<DatabaseId>,
        @optional
        /// One-way or two-way; `None` when `type` is absent.
        pub kind: RelationKind,
    }
}

notion_object! {
    /// A rollup configuration.
    #[derive(Default)]
    pub struct RollupConfig {
        /// The relation property's name.
        pub relation_property_name: Option<String>,
        /// The relation property's ID.
        pub relation_property_id: Option<String>,
        /// The rolled-up property's name.
        pub rollup_property_name: Option<String>,
        /// The rolled-up property's ID.
        pub rollup_property_id: Option<String>,
        /// The function, such as `sum` or `show_original`.
        pub function: Option<String>,
    }
}

notion_object! {
    /// A unique-ID configuration: `{prefix}`.
    #[derive(Default)]
    pub struct UniqueIdConfig {
        /// The prefix.
        pub prefix: Maybe<String>,
    }
}

notion_union! {
    /// The typed configuration of a property.
    pub enum PropertyConfigKind {
        /// `title`
        Title = "title" (EmptyObject),
        /// `rich_text`
        RichText = "rich_text" (EmptyObject),
        /// `number`
        Number = "number" (NumberConfig),
        /// `select`
        Select = "select" (SelectConfig),
        /// `multi_select`
        MultiSelect = "multi_select" (SelectConfig),
        /// `status`
        Status = "status" (StatusConfig),
        /// `date`
        Date = "date" (EmptyObject),
        /// `people`
        People = "people" (EmptyObject),
        /// `files`
        Files = "files" (EmptyObject),
        /// `checkbox`
        Checkbox = "checkbox" (EmptyObject),
        /// `url`
        Url = "url" (EmptyObject),
        /// `email`
        Email = "email" (EmptyObject),
        /// `phone_number`
        PhoneNumber = "phone_number" (EmptyObject),
        /// `formula`
        Formula = "formula" (FormulaConfig),
        /// `relation`
        Relation = "relation" (RelationConfig),
        /// `rollup`
        Rollup = "rollup" (RollupConfig),
        /// `created_time`
        CreatedTime = "created_time" (EmptyObject),
        /// `created_by`
        CreatedBy = "created_by" (EmptyObject),
        /// `last_edited_time`
        LastEditedTime = "last_edited_time" (EmptyObject),
        /// `last_edited_by`
        LastEditedBy = "last_edited_by" (EmptyObject),
        /// `unique_id`
        UniqueId = "unique_id" (UniqueIdConfig),
        /// `button`
        Button = "button" (EmptyObject),
        /// `place`
        Place = "place" (EmptyObject),
        /// `location`
        Location = "location" (EmptyObject),
        /// `verification`
        Verification = "verification" (EmptyObject),
        /// `last_visited_time`
        LastVisitedTime = "last_visited_time" (EmptyObject),
    }
}

notion_object! {
    /// A property configuration: `{id, name, description, type, <type>: config}`.
    pub struct PropertyConfig {
        /// The property ID.
        pub id: Option<PropertyId>,
        /// The property name.
        pub name: Option<String>,
        /// The description.
        pub description: Maybe<String>,
        @optional
        /// The typed configuration; `None` in update requests that only rename.
        pub config: PropertyConfigKind,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_property_value_type_survives() {
        let original = json!({"id": "a%3Db", "type": "teleport", "teleport": {"to": "mars"}, "has_more": false});
        let value: PropertyValue = serde_json::from_value(original.clone()).unwrap();
        assert!(
            value
                .value
                .as_ref()
                .is_some_and(PropertyValueKind::is_unknown)
        );
        assert_eq!(value.type_name(), Some("teleport"));
        assert_eq!(serde_json::to_value(&value).unwrap(), original);
    }

    #[test]
    fn id_only_property_value_has_no_kind() {
        let original = json!({"id": "title"});
        let value: PropertyValue = serde_json::from_value(original.clone()).unwrap();
        assert!(value.value.is_none());
        assert_eq!(serde_json::to_value(&value).unwrap(), original);
    }

    #[test]
    fn unknown_property_config_type_survives() {
        let original = json!({"id": "x", "name": "X", "description": null, "type": "ai_summary", "ai_summary": {}});
        let config: PropertyConfig = serde_json::from_value(original.clone()).unwrap();
        assert!(
            config
                .config
                .as_ref()
                .is_some_and(PropertyConfigKind::is_unknown)
        );
        assert_eq!(serde_json::to_value(&config).unwrap(), original);
    }

    #[test]
    fn numbers_keep_their_form() {
        for n in [json!(1), json!(1.0), json!(0.125), json!(-3)] {
            let original = json!({"id": "n", "type": "number", "number": n});
            let value: PropertyValue = serde_json::from_value(original.clone()).unwrap();
            assert_eq!(serde_json::to_value(&value).unwrap(), original);
        }
    }

    #[test]
    fn relation_config_kinds() {
        let original = json!({
            "data_source_id": "4f93db51-4e1d-4015-b07f-876e34c3b0b1",
            "type": "dual_property",
            "dual_property": {"synced_property_name": "R", "synced_property_id": "%3CnJT"}
        });
        let config: RelationConfig = serde_json::from_value(original.clone()).unwrap();
        assert!(matches!(config.kind, Some(RelationKind::DualProperty(_))));
        assert_eq!(serde_json::to_value(&config).unwrap(), original);
        let legacy = json!({"database_id": "4f93db51-4e1d-4015-b07f-876e34c3b0b1", "synced_property_name": null});
        let config: RelationConfig = serde_json::from_value(legacy.clone()).unwrap();
        assert!(config.kind.is_none());
        assert_eq!(serde_json::to_value(&config).unwrap(), legacy);
    }
}
