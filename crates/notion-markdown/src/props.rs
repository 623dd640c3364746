//! Property flattening: every page property value becomes a plain JSON value and a short text;
//! data-source schemas become a summary with options, groups and relation targets.
//!
//! | type | value | text |
//! |---|---|---|
//! | `title`, `rich_text` | string (all segments joined) | same |
//! | `number` | number or `null` | the number |
//! | `select`, `status` | option name or `null` | name |
//! | `multi_select` | array of names | names joined by `, ` |
//! | `date` | `{start, end, time_zone}` or `null` | `start → end (zone)` |
//! | `people`, `created_by`, `last_edited_by` | names (the id when the name is unknown) | joined |
//! | `files` | `[{name, url}]` | names joined |
//! | `checkbox` | boolean | `true` / `false` |
//! | `url`, `email`, `phone_number` | string or `null` | the string |
//! | `formula` | the result (string, number, boolean or date) | its text |
//! | `relation` | array of page ids; `{ids, truncated: true}` when Notion cut the list (`has_more`) | ids joined |
//! | `rollup` | number, date, or array of flattened values; `null` when unsupported or incomplete | its text |
//! | `created_time`, `last_edited_time` | timestamp string | same |
//! | `unique_id` | `"PREFIX-12"` (a number when there is no prefix) | `PREFIX-12` |
//! | `verification` | `{state, date, verified_by}` | the state |
//! | `place` | `{lat, lon, name, address}` or `null` | name, address or coordinates |
//! | `button` | `null` | empty |
//! | unknown types | the raw JSON | empty |

use std::collections::BTreeMap;

use notion_client::models::{
    DataSource, DateValue, FileObject, FormulaKind, Page, PropertyConfig, PropertyConfigKind,
    PropertyValue, PropertyValueKind, RelationKind, RollupKind, SelectOption, User,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::inline::push_plain;

/// A flattened property value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FlatProperty {
    /// The property type (`title`, `number`, …); empty when the value carries only an id.
    #[serde(rename = "type")]
    pub kind: String,
    /// The plain JSON value.
    pub value: Value,
    /// A short text form.
    pub text: String,
}

fn flat(kind: &str, value: Value, text: String) -> FlatProperty {
    FlatProperty {
        kind: kind.to_string(),
        value,
        text,
    }
}

fn opt_str(s: Option<&String>) -> (Value, String) {
    match s {
        Some(s) => (Value::String(s.clone()), s.clone()),
        None => (Value::Null, String::new()),
    }
}

fn date_flat(d: Option<&DateValue>) -> (Value, String) {
    let Some(d) = d else {
        return (Value::Null, String::new());
    };
    let end = d.end.as_ref();
    let tz = d.time_zone.as_ref();
    let mut text = d.start.clone();
    if let Some(e) = end {
        text.push_str(" → ");
        text.push_str(e);
    }
    if let Some(z) = tz {
        text.push_str(" (");
        text.push_str(z);
        text.push(')');
    }
    (json!({"start": d.start, "end": end, "time_zone": tz}), text)
}

fn user_name(u: &User) -> String {
    u.name.as_ref().cloned().unwrap_or_else(|| u.id.to_string())
}

fn option_name(o: Option<&SelectOption>) -> (Value, String) {
    match o.and_then(|o| o.name.as_ref()) {
        Some(n) => (Value::String(n.clone()), n.clone()),
        None => (Value::Null, String::new()),
    }
}

fn file_flat(f: &FileObject) -> Value {
    json!({"name": f.name, "url": f.url()})
}

fn number_text(n: &serde_json::Number) -> String {
    n.to_string()
}

/// Flattens one property value.
pub fn flatten_property(p: &PropertyValue) -> FlatProperty {
    let Some(kind) = &p.value else {
        return flat("", Value::Null, String::new());
    };
    let ty = kind.type_name();
    match kind {
        PropertyValueKind::Title(rt) | PropertyValueKind::RichText(rt) => {
            let mut s = String::new();
            push_plain(&mut s, rt);
            flat(ty, Value::String(s.clone()), s)
        }
        PropertyValueKind::Number(Some(n)) => flat(ty, Value::Number(n.clone()), number_text(n)),
        PropertyValueKind::Number(None) => flat(ty, Value::Null, String::new()),
        PropertyValueKind::Select(o) | PropertyValueKind::Status(o) => {
            let (v, t) = option_name(o.as_ref());
            flat(ty, v, t)
        }
        PropertyValueKind::MultiSelect(opts) => {
            let names: Vec<String> = opts.iter().filter_map(|o| o.name.clone()).collect();
            let text = names.join(", ");
            flat(ty, json!(names), text)
        }
        PropertyValueKind::Date(d) => {
            let (v, t) = date_flat(d.as_ref());
            flat(ty, v, t)
        }
        PropertyValueKind::People(users) => {
            let names: Vec<String> = users.iter().map(user_name).collect();
            let text = names.join(", ");
            flat(ty, json!(names), text)
        }
        PropertyValueKind::Files(files) => {
            let names: Vec<String> = files
                .iter()
                .map(|f| {
                    f.name
                        .clone()
                        .or_else(|| f.url().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect();
            flat(
                ty,
                Value::Array(files.iter().map(file_flat).collect()),
                names.join(", "),
            )
        }
        PropertyValueKind::Checkbox(b) => flat(ty, Value::Bool(*b), b.to_string()),
        PropertyValueKind::Url(s)
        | PropertyValueKind::Email(s)
        | PropertyValueKind::PhoneNumber(s) => {
            let (v, t) = opt_str(s.as_ref());
            flat(ty, v, t)
        }
        PropertyValueKind::Relation(refs) => {
            let ids: Vec<String> = refs.iter().map(|r| r.id.to_string()).collect();
            let text = ids.join(", ");
            let value = if p.has_more() {
                json!({"ids": ids, "truncated": true})
            } else {
                json!(ids)
            };
            flat(ty, value, text)
        }
        PropertyValueKind::Formula(f) => {
            let (v, t) = match &f.kind {
                FormulaKind::String(s) => opt_str(s.as_ref()),
                FormulaKind::Number(Some(n)) => (Value::Number(n.clone()), number_text(n)),
                FormulaKind::Boolean(Some(b)) => (Value::Bool(*b), b.to_string()),
                FormulaKind::Number(None) | FormulaKind::Boolean(None) => {
                    (Value::Null, String::new())
                }
                FormulaKind::Date(d) => date_flat(d.as_ref()),
                FormulaKind::Unknown { content, .. } => {
                    (content.clone().unwrap_or(Value::Null), String::new())
                }
                _ => (Value::Null, String::new()),
            };
            flat(ty, v, t)
        }
        PropertyValueKind::Rollup(r) => {
            let (v, t) = match &r.kind {
                RollupKind::Number(Some(n)) => (Value::Number(n.clone()), number_text(n)),
                RollupKind::Number(None) => (Value::Null, String::new()),
                RollupKind::Date(d) => date_flat(d.as_ref()),
                RollupKind::Array(items) => {
                    let flats: Vec<FlatProperty> = items.iter().map(flatten_property).collect();
                    let texts: Vec<&str> = flats
                        .iter()
                        .map(|f| f.text.as_str())
                        .filter(|t| !t.is_empty())
                        .collect();
                    let text = texts.join(", ");
                    (
                        Value::Array(flats.into_iter().map(|f| f.value).collect()),
                        text,
                    )
                }
                _ => (Value::Null, String::new()),
            };
            flat(ty, v, t)
        }
        PropertyValueKind::CreatedTime(s) | PropertyValueKind::LastEditedTime(s) => {
            flat(ty, Value::String(s.clone()), s.clone())
        }
        PropertyValueKind::CreatedBy(u) | PropertyValueKind::LastEditedBy(u) => {
            let name = user_name(u);
            flat(ty, Value::String(name.clone()), name)
        }
        PropertyValueKind::UniqueId(u) => {
            let number = u.number.as_ref().map(number_text);
            match (u.prefix.as_ref().filter(|p| !p.is_empty()), number) {
                (Some(prefix), Some(n)) => {
                    let s = format!("{prefix}-{n}");
                    flat(ty, Value::String(s.clone()), s)
                }
                (None, Some(n)) => flat(
                    ty,
                    u.number
                        .as_ref()
                        .map_or(Value::Null, |n| Value::Number(n.clone())),
                    n,
                ),
                _ => flat(ty, Value::Null, String::new()),
            }
        }
        PropertyValueKind::Verification(v) => {
            let (date, _) = date_flat(v.date.as_ref());
            let by = v.verified_by.as_ref().map(user_name);
            flat(
                ty,
                json!({"state": v.state, "date": date, "verified_by": by}),
                v.state.clone(),
            )
        }
        PropertyValueKind::Place(None) => flat(ty, Value::Null, String::new()),
        PropertyValueKind::Place(Some(p)) => {
            let name = p.name.as_ref().cloned();
            let address = p.address.as_ref().cloned();
            let text = name
                .clone()
                .or(address.clone())
                .unwrap_or_else(|| match (&p.lat, &p.lon) {
                    (Some(a), Some(b)) => format!("{a},{b}"),
                    _ => String::new(),
                });
            flat(
                ty,
                json!({"lat": p.lat, "lon": p.lon, "name": name, "address": address}),
                text,
            )
        }
        PropertyValueKind::Button(_) => flat(ty, Value::Null, String::new()),
        PropertyValueKind::Unknown { content, .. } => {
            flat(ty, content.clone().unwrap_or(Value::Null), String::new())
        }
        _ => flat(ty, Value::Null, String::new()),
    }
}

/// The flattened values of a page's properties, by property name.
pub fn flatten_page(page: &Page) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(props) = &page.properties {
        for (name, p) in props {
            out.insert(name.clone(), flatten_property(p).value);
        }
    }
    out
}

/// The short text of a page's properties, by property name.
pub fn flatten_page_text(page: &Page) -> BTreeMap<String, String> {
    page.properties
        .iter()
        .flatten()
        .map(|(name, p)| (name.clone(), flatten_property(p).text))
        .collect()
}

fn options_json(options: Option<&Vec<SelectOption>>) -> Value {
    Value::Array(
        options
            .map(|o| o.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|o| {
                json!({
                    "id": o.id,
                    "name": o.name,
                    "color": o.color.as_ref().map(|c| c.as_str()),
                    "description": o.description.as_ref().filter(|d| !d.is_empty()),
                })
            })
            .collect(),
    )
}

fn config_json(c: &PropertyConfig) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id.as_ref().map(|i| i.as_str())));
    m.insert(
        "type".into(),
        json!(c.config.as_ref().map(|k| k.type_name())),
    );
    m.insert(
        "description".into(),
        json!(c.description.as_ref().filter(|d| !d.trim().is_empty())),
    );
    match &c.config {
        Some(PropertyConfigKind::Select(s) | PropertyConfigKind::MultiSelect(s)) => {
            m.insert("options".into(), options_json(s.options.as_ref()));
        }
        Some(PropertyConfigKind::Status(s)) => {
            m.insert("options".into(), options_json(s.options.as_ref()));
            let names: BTreeMap<&str, &str> = s
                .options
                .iter()
                .flatten()
                .filter_map(|o| Some((o.id.as_deref()?, o.name.as_deref()?)))
                .collect();
            let groups: Vec<Value> = s
                .groups
                .iter()
                .flatten()
                .map(|g| {
                    let opts: Vec<&str> = g
                        .option_ids
                        .iter()
                        .flatten()
                        .map(|id| names.get(id.as_str()).copied().unwrap_or(id.as_str()))
                        .collect();
                    json!({"name": g.name, "color": g.color.as_ref().map(|c| c.as_str()), "options": opts})
                })
                .collect();
            m.insert("groups".into(), Value::Array(groups));
        }
        Some(PropertyConfigKind::Number(n)) => {
            m.insert("format".into(), json!(n.format));
        }
        Some(PropertyConfigKind::Formula(f)) => {
            m.insert("expression".into(), json!(f.expression));
        }
        Some(PropertyConfigKind::Relation(r)) => {
            let (kind, synced) = match &r.kind {
                Some(RelationKind::DualProperty(d)) => {
                    ("dual_property", d.synced_property_name.as_ref().cloned())
                }
                Some(RelationKind::SingleProperty(_)) => ("single_property", None),
                _ => ("single_property", None),
            };
            m.insert(
                "relation".into(),
                json!({
                    "data_source_id": r.data_source_id.as_ref().map(|i| i.to_string()),
                    "database_id": r.database_id.as_ref().map(|i| i.to_string()),
                    "type": kind,
                    "synced_property_name": synced,
                }),
            );
        }
        Some(PropertyConfigKind::Rollup(r)) => {
            m.insert(
                "rollup".into(),
                json!({
                    "relation_property_name": r.relation_property_name,
                    "rollup_property_name": r.rollup_property_name,
                    "function": r.function,
                }),
            );
        }
        Some(PropertyConfigKind::UniqueId(u)) => {
            m.insert("prefix".into(), json!(u.prefix.as_ref()));
        }
        _ => {}
    }
    Value::Object(m)
}

/// A summary of a schema: property name → `{id, type, description, …}` with select,
/// multi-select and status options (and status groups), relation targets, rollup, number
/// format, formula expression and unique-id prefix. Empty descriptions become `null`.
pub fn flatten_property_configs(props: &BTreeMap<String, PropertyConfig>) -> Map<String, Value> {
    props
        .iter()
        .map(|(name, c)| (name.clone(), config_json(c)))
        .collect()
}

/// The schema summary of a data source ([`flatten_property_configs`] of its properties).
pub fn flatten_schema(ds: &DataSource) -> Map<String, Value> {
    ds.properties
        .as_ref()
        .map(flatten_property_configs)
        .unwrap_or_default()
}
