//! Typed property values in request form, shared by the page builders
//! ([`CreatePage`](super::CreatePage), [`UpdatePage`](super::UpdatePage)).
//!
//! A request property value is `{<type>: value}` (reference §6.7): unlike a response it needs
//! no `type` or `id`. [`PropertyRequest`] serialises to exactly that shape for the types a
//! caller composes from simple values, and passes any other value through as given
//! ([`PropertyRequest::Raw`]: Notion's own object, or `null` to clear).

use serde::Serialize;
use serde_json::{Number, Value};

use crate::models::{DateValue, FileObject, RichText, SelectOption, text_runs};

/// A reference to an object by its ID: `{id}` (relation pages, people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// The object's ID, sent as given.
    pub id: String,
}

impl ObjectRef {
    /// A reference to `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }
}

/// One property value of a page request, by type. `None` in an optional variant clears the
/// value (`{"number": null}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PropertyRequest {
    /// `{"title": [rich text]}`.
    Title(Vec<RichText>),
    /// `{"rich_text": [rich text]}`.
    RichText(Vec<RichText>),
    /// `{"number": n}`.
    Number(Option<Number>),
    /// `{"checkbox": bool}`.
    Checkbox(bool),
    /// `{"select": {"name": …}}`.
    Select(Option<SelectOption>),
    /// `{"status": {"name": …}}`.
    Status(Option<SelectOption>),
    /// `{"multi_select": [{"name": …}]}`.
    MultiSelect(Vec<SelectOption>),
    /// `{"date": {"start": …}}`.
    Date(Option<DateValue>),
    /// `{"url": …}`.
    Url(Option<String>),
    /// `{"email": …}`.
    Email(Option<String>),
    /// `{"phone_number": …}`.
    PhoneNumber(Option<String>),
    /// `{"relation": [{"id": …}]}`.
    Relation(Vec<ObjectRef>),
    /// `{"people": [{"id": …}]}`.
    People(Vec<ObjectRef>),
    /// `{"files": [file objects]}`.
    Files(Vec<FileObject>),
    /// Any other value, sent as given: Notion's own property-value object, or `null`.
    #[serde(untagged)]
    Raw(Value),
}

impl PropertyRequest {
    /// A title from plain text (split into runs Notion accepts).
    pub fn title(text: &str) -> Self {
        Self::Title(text_runs(text))
    }

    /// A rich-text value from plain text (split into runs Notion accepts).
    pub fn rich_text(text: &str) -> Self {
        Self::RichText(text_runs(text))
    }
}

impl From<Value> for PropertyRequest {
    fn from(value: Value) -> Self {
        Self::Raw(value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::FileUploadId;

    fn ser(v: &PropertyRequest) -> Value {
        serde_json::to_value(v).unwrap()
    }

    /// The request shapes of reference §6.7, key for key.
    #[test]
    fn request_shapes() {
        assert_eq!(
            ser(&PropertyRequest::title("Hi")),
            json!({"title": [{"type": "text", "text": {"content": "Hi"}}]})
        );
        assert_eq!(
            ser(&PropertyRequest::rich_text("")),
            json!({"rich_text": []})
        );
        assert_eq!(
            ser(&PropertyRequest::Number(Some(3.into()))),
            json!({"number": 3})
        );
        assert_eq!(ser(&PropertyRequest::Number(None)), json!({"number": null}));
        assert_eq!(
            ser(&PropertyRequest::Checkbox(true)),
            json!({"checkbox": true})
        );
        assert_eq!(
            ser(&PropertyRequest::Select(Some(SelectOption::named("High")))),
            json!({"select": {"name": "High"}})
        );
        assert_eq!(ser(&PropertyRequest::Status(None)), json!({"status": null}));
        assert_eq!(
            ser(&PropertyRequest::MultiSelect(vec![SelectOption::named(
                "a"
            )])),
            json!({"multi_select": [{"name": "a"}]})
        );
        assert_eq!(
            ser(&PropertyRequest::Date(Some(DateValue::new("2026-01-01")))),
            json!({"date": {"start": "2026-01-01"}})
        );
        assert_eq!(
            ser(&PropertyRequest::PhoneNumber(None)),
            json!({"phone_number": null})
        );
        assert_eq!(
            ser(&PropertyRequest::Relation(vec![ObjectRef::new("x")])),
            json!({"relation": [{"id": "x"}]})
        );
        let upload = FileUploadId::parse("598337872cf94fdf8782e53db20768a5").unwrap();
        let mut file = FileObject::upload(upload);
        file.name = Some("a.pdf".into());
        assert_eq!(
            ser(&PropertyRequest::Files(vec![file])),
            json!({"files": [{"name": "a.pdf", "type": "file_upload",
                              "file_upload": {"id": "59833787-2cf9-4fdf-8782-e53db20768a5"}}]})
        );
        assert_eq!(ser(&PropertyRequest::Raw(Value::Null)), Value::Null);
        assert_eq!(
            ser(&PropertyRequest::from(json!({"number": 1.5}))),
            json!({"number": 1.5})
        );
    }
}
