//! `GET /api/v1/notion/pages/{id}`: a page with its properties and its content as Markdown,
//! text or blocks.

use super::*;

/// How a page's content is returned: one set of names for the REST API, the tool endpoint,
/// MCP and `notion-gate export`. `json` is accepted as another name of `blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// GitHub-flavoured Markdown.
    #[default]
    Markdown,
    /// Plain text.
    Text,
    /// Notion's blocks, nested under `children` (also accepted as `json`).
    #[serde(alias = "json")]
    Blocks,
}

impl Format {
    /// The documented names, in order.
    pub const NAMES: [&'static str; 3] = ["markdown", "text", "blocks"];

    /// The format's documented name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Blocks => "blocks",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// A format by name (ASCII case-insensitive; `json` is `blocks`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" => Ok(Format::Markdown),
            "text" => Ok(Format::Text),
            "blocks" | "json" => Ok(Format::Blocks),
            other => Err(format!(
                "unknown format `{other}`; the formats are: {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_another_name_of_blocks() {
        let f: Format = serde_json::from_value(serde_json::json!("json")).unwrap();
        assert_eq!(f, Format::Blocks);
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Blocks));
        for name in Format::NAMES {
            assert_eq!(name.parse::<Format>().map(Format::as_str), Ok(name));
        }
        assert!(
            "html"
                .parse::<Format>()
                .unwrap_err()
                .contains("markdown, text, blocks")
        );
    }
}

/// `GET /notion/pages/{id}` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `markdown` (default), `text` or `blocks`.
    #[schema(inline)]
    pub format: Option<Format>,
    /// Levels of nested blocks to fetch, 1–64 (default: all).
    pub depth: Option<usize>,
    /// Blocks to fetch at most, 1–10000 (default 1000).
    pub max_blocks: Option<usize>,
}

/// A page with its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageContent {
    /// The page id.
    pub id: String,
    /// The title.
    pub title: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// The parent `{type, id}`.
    #[schema(value_type = Object)]
    pub parent: Value,
    /// Flattened property values.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// The format of `content`.
    pub format: Format,
    /// Markdown or text (a string), or blocks (an array).
    #[schema(value_type = Value)]
    pub content: Value,
    /// Whether `depth` or `max_blocks` cut the content.
    pub truncated: bool,
    /// Blocks whose children are not included.
    pub unexpanded: Vec<String>,
    /// Blocks included.
    pub block_count: usize,
    /// `"mirror"` when answered from the local mirror (local-only mode); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the mirror last fetched this content from Notion (with `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrored_at: Option<String>,
}

/// A page with its properties and its content as Markdown, text or blocks.
pub async fn get_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    query: PageQuery,
) -> Result<PageContent, ApiError> {
    let page_id = parse_id("page_id", id, PageId::parse)?;
    let depth = match query.depth {
        None => None,
        Some(d @ 1..=64) => Some(d),
        Some(_) => return Err(ApiError::invalid_field("depth", "must be between 1 and 64")),
    };
    let max_blocks = match query.max_blocks {
        None => DEFAULT_MAX_BLOCKS,
        Some(n @ 1..=MAX_BLOCKS) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "max_blocks",
                format!("must be between 1 and {MAX_BLOCKS}"),
            ));
        }
    };
    let format = query.format.unwrap_or_default();
    // Local-only mode: answered by the mirror (routes/mirror.rs), governed the same way.
    if let Some(read) = gate
        .mirror_read(
            caller,
            surface,
            NotionRequest::get(format!("/v1/pages/{}", page_id.canonical())),
        )
        .await?
    {
        let options = TreeOptions::new().max_depth(depth).max_blocks(max_blocks);
        return crate::routes::mirror::page_from_mirror(read, &page_id, &options, format).await;
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get(format!("/v1/pages/{}", page_id.canonical())),
        false,
    )
    .await?;
    let result = async {
        let root = BlockId::parse(page_id.as_str()).map_err(|e| upstream(e.into()))?;
        let options = TreeOptions::new()
            .max_depth(depth)
            .max_blocks(max_blocks)
            .concurrency(8);
        // The page object and its block tree do not depend on each other: both are asked at
        // once (each through the connection's limiter), one round trip instead of two. The
        // page's error, if any, is the one answered, as when they ran one after the other.
        let pages = op.conn().pages();
        let (page, tree) = tokio::join!(
            pages.retrieve(&page_id),
            fetch_tree(op.session.connection(), &root, &options),
        );
        op.add_requests(tree.requests);
        let page = page.map_err(upstream)?;
        if let Some(e) = &tree.error {
            return Err(GovernedSession::map_error(e));
        }
        Ok(page_content(&page, &tree, format))
    }
    .await;
    op.end(result).await
}

/// A page read's answer from the page object and its (fetched or mirrored) block tree.
pub(crate) fn page_content(page: &Page, tree: &PageTree, format: Format) -> PageContent {
    let opts = RenderOptions::default();
    let (content, rendered_cut) = match format {
        Format::Markdown => {
            let r = notion_markdown::render_markdown(tree.top_level(), tree, &opts);
            (Value::String(r.markdown), r.truncated)
        }
        Format::Text => (
            Value::String(notion_markdown::render_plain_text(
                tree.top_level(),
                tree,
                &opts,
            )),
            false,
        ),
        Format::Blocks => (transform::blocks_json(tree), false),
    };
    PageContent {
        id: page.id.canonical(),
        title: page.title(),
        url: page.url.clone(),
        parent: transform::parent_json(page.parent.as_ref()),
        properties: notion_markdown::flatten_page(page),
        format,
        content,
        truncated: tree.truncated || rendered_cut || !tree.unexpanded.is_empty(),
        unexpanded: transform::block_ids(&tree.unexpanded),
        block_count: tree.len(),
        source: None,
        mirrored_at: None,
    }
}

/// A page with its properties and content (Markdown, text or blocks).
#[utoipa::path(get, path = "/api/v1/notion/pages/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id"), PageQuery),
    responses((status = 200, body = PageContent), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn get_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageContent>, ApiError> {
    get_page(&st.gate, &caller, Surface::Rest, &id, q)
        .await
        .map(Json)
}
