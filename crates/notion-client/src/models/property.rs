//! Properties: values on a page, property items (`GET /v1/pages/{id}/properties/{id}`), and
//! property configurations (the schema of a data source, or of a 2022-06-28 database).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Color, DateValue, EmptyObject, FileObject};
use super::rich_text::{PageRef, RichText};
use super::union::{Extra, Maybe};
use super::user::User;
use crate::ids::{DataSourceId, DatabaseId, PropertyId};

/// A select, multi-select or status option: `{id, name, color, description?}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct SelectOption {
    /// The option ID (opaque, not a UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The option name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The option colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// The option description.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub description: Maybe<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(SelectOption {
    id,
    name,
    color,
    description
});

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

/// A formula value: `{type, <type>: value}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FormulaValue {
    /// The result.
    #[serde(flatten)]
    pub kind: FormulaKind,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<FormulaKind>,
}

de_object!(FormulaValue {} kind: required FormulaKind);

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

/// A rollup value: `{type, <type>: value, function}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RollupValue {
    /// The result.
    #[serde(flatten)]
    pub kind: RollupKind,
    /// The rollup function, such as `sum` or `show_original`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<RollupKind>,
}

de_object!(RollupValue { function } kind: required RollupKind);

/// A unique ID value: `{prefix, number}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UniqueIdValue {
    /// The prefix, such as `TASK`.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub prefix: Maybe<String>,
    /// The number.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub number: Maybe<Number>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(UniqueIdValue { prefix, number });

/// A verification value: `{state, date, verified_by}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VerificationValue {
    /// `verified`, `expired` or `unverified`.
    pub state: String,
    /// Who verified.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub verified_by: Maybe<User>,
    /// The validity period.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub date: Maybe<DateValue>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(VerificationValue {
    state: required,
    verified_by,
    date
});

/// A place value: `{lat, lon, name?, address?, aws_place_id?, google_place_id?}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlaceValue {
    /// Latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<Number>,
    /// Longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<Number>,
    /// The place name.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub name: Maybe<String>,
    /// The address.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub address: Maybe<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(PlaceValue {
    lat,
    lon,
    name,
    address
});

notion_union! {
    /// The typed value of a page property.
    pub enum PropertyValueKind {
        /// `title`
        Title = "title" (Vec<RichText>),
        /// `rich_text`
        RichText = "rich_text" (Vec<RichText>),
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
        /// `people` (users or groups)
        People = "people" (Vec<User>),
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
        /// `relation` (at most 25 on a page; see `has_more` in [`PropertyValue::extra`])
        Relation = "relation" (Vec<PageRef>),
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

/// A property value on a page: `{id, type, <type>: value}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PropertyValue {
    /// The property ID (absent inside rollup arrays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PropertyId>,
    /// The typed value; `None` when only the ID is sent (as in the answer to page creation).
    #[serde(flatten)]
    pub value: Option<PropertyValueKind>,
    /// Every other field (such as `has_more` on relations), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<PropertyValueKind>,
}

de_object!(PropertyValue { id } value: optional PropertyValueKind);

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

notion_union! {
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

/// A property item: `{object: "property_item", id, type, <type>: value}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PropertyItem {
    /// The property ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PropertyId>,
    /// The typed value.
    #[serde(flatten)]
    pub value: PropertyItemKind,
    /// Every other field (`object`, `request_id`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<PropertyItemKind>,
}

de_object!(PropertyItem { id } value: required PropertyItemKind);

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

/// A number property's configuration: `{format}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct NumberConfig {
    /// The display format (an open set: `number`, `percent`, `dollar`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(NumberConfig { format });

/// A select or multi-select configuration: `{options}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct SelectConfig {
    /// The options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<SelectOption>>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(SelectConfig { options });

/// A status group: `{id, name, color, option_ids}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct StatusGroup {
    /// The group ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The group colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// The options in the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_ids: Option<Vec<String>>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(StatusGroup {
    id,
    name,
    color,
    option_ids
});

/// A status configuration: `{options, groups}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct StatusConfig {
    /// The options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<SelectOption>>,
    /// The groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<StatusGroup>>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(StatusConfig { options, groups });

/// A formula configuration: `{expression}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct FormulaConfig {
    /// The formula expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(FormulaConfig { expression });

/// The dual-property part of a relation: `{synced_property_name, synced_property_id}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct DualProperty {
    /// The name of the synced property on the other side.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub synced_property_name: Maybe<String>,
    /// The ID of the synced property on the other side.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub synced_property_id: Maybe<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(DualProperty {
    synced_property_name,
    synced_property_id
});

notion_union! {
    /// Whether a relation is one-way or two-way.
    pub enum RelationKind {
        /// `single_property`
        SingleProperty = "single_property" (EmptyObject),
        /// `dual_property`
        DualProperty = "dual_property" (DualProperty),
    }
}

/// A relation configuration: `{data_source_id, database_id, type, <type>: …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RelationConfig {
    /// The related data source (2025-09-03+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<DataSourceId>,
    /// The related database (responses; requests on 2022-06-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_id: Option<DatabaseId>,
    /// One-way or two-way; `None` when `type` is absent.
    #[serde(flatten)]
    pub kind: Option<RelationKind>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<RelationKind>,
}

de_object!(RelationConfig { data_source_id, database_id } kind: optional RelationKind);

/// A rollup configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct RollupConfig {
    /// The relation property's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_property_name: Option<String>,
    /// The relation property's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_property_id: Option<String>,
    /// The rolled-up property's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_property_name: Option<String>,
    /// The rolled-up property's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_property_id: Option<String>,
    /// The function, such as `sum` or `show_original`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(RollupConfig {
    relation_property_name,
    relation_property_id,
    rollup_property_name,
    rollup_property_id,
    function
});

/// A unique-ID configuration: `{prefix}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct UniqueIdConfig {
    /// The prefix.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub prefix: Maybe<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(UniqueIdConfig { prefix });

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

/// A property configuration: `{id, name, description, type, <type>: config}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PropertyConfig {
    /// The property ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PropertyId>,
    /// The property name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub description: Maybe<String>,
    /// The typed configuration; `None` in update requests that only rename.
    #[serde(flatten)]
    pub config: Option<PropertyConfigKind>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<PropertyConfigKind>,
}

de_object!(PropertyConfig { id, name, description } config: optional PropertyConfigKind);

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
