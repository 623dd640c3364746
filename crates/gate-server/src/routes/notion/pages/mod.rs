//! Pages: read, create, update (and trash), append content, attach files.
//!
//! - `GET /api/v1/notion/pages/{id}` ([`get`])
//! - `POST /api/v1/notion/pages` ([`create`])
//! - `PATCH /api/v1/notion/pages/{id}` ([`update`])
//! - `POST /api/v1/notion/pages/{id}/blocks` ([`append`])
//! - `POST /api/v1/notion/pages/{id}/files` ([`files`])
//!
//! [`content`] turns Markdown or blocks into a write plan and runs it. Tests: `tests/`,
//! `super::tests` (every endpoint by maturity, bad input) and `routes/tools/tests/endpoint.rs`
//! (uploads).

mod append;
mod content;
mod create;
mod files;
mod get;
mod update;

pub use append::*;
pub(crate) use content::*;
pub use create::*;
pub use files::*;
pub use get::*;
pub use update::*;

use super::*;

/// The routes of this resource, each registered with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_page_handler))
        .routes(routes!(get_page_handler, update_page_handler))
        .routes(routes!(append_blocks_handler))
        .routes(routes!(upload_file_handler))
}

/// A created or updated page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageWritten {
    /// The page id.
    pub id: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// The title.
    pub title: String,
    /// Whether it is in the trash.
    pub in_trash: bool,
    /// Flattened property values.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// Blocks written as content.
    pub blocks_written: usize,
}

impl PageWritten {
    /// The answer for `page` as Notion returned it, with `blocks_written` blocks of content.
    pub(crate) fn from_page(page: &Page, blocks_written: usize) -> Self {
        PageWritten {
            id: page.id.canonical(),
            url: page.url.clone(),
            title: page.title(),
            in_trash: page.is_in_trash(),
            properties: notion_markdown::flatten_page(page),
            blocks_written,
        }
    }
}

/// Types of a data source's properties, by name.
pub(crate) async fn schema_types(
    op: &Op,
    ds: &DataSourceId,
) -> Result<BTreeMap<String, String>, GateError> {
    let ds = op
        .conn()
        .data_sources()
        .retrieve(ds)
        .await
        .map_err(upstream)?;
    Ok(transform::property_types(ds.properties.as_ref()))
}

pub(crate) fn needs_schema(props: Option<&Map<String, Value>>) -> bool {
    props.is_some_and(|p| p.values().any(|v| !v.is_object()))
}

/// A Notion object given in input (an icon, a cover), typed: `None` when absent or `null`,
/// or a 400 naming the field when it is not one. Nothing is sent before it is checked.
pub(crate) fn notion_object<T: serde::de::DeserializeOwned>(
    field: &str,
    given: Option<&Value>,
) -> Result<Option<T>, ApiError> {
    match given {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| {
            ApiError::invalid_field(field, format!("is not a Notion {field} object: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests;
