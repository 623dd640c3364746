//! `POST /api/v1/notion/pages`: a page under a page, a database or a data source, with
//! optional content (Markdown or blocks).

use super::*;

/// The parent of a new page: exactly one of the three.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentInput {
    /// Under a page.
    pub page_id: Option<String>,
    /// A row of a database (its one data source).
    pub database_id: Option<String>,
    /// A row of a data source.
    pub data_source_id: Option<String>,
}

input_struct! { create_page:
    /// `POST /notion/pages`.
    pub struct CreatePageInput {
        /// Where the page goes.
        #[schema(inline)]
        pub parent: ParentInput,
    }
}

/// Creates a page (under a page, a database or a data source) with optional content.
pub async fn create_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: CreatePageInput,
) -> Result<PageWritten, ApiError> {
    let p = &input.parent;
    let given = [&p.page_id, &p.database_id, &p.data_source_id]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if given != 1 {
        return Err(ApiError::invalid_field(
            "parent",
            "give exactly one of `page_id`, `database_id` and `data_source_id`",
        ));
    }
    let page_parent = p
        .page_id
        .as_deref()
        .map(|id| parse_id("parent.page_id", id, PageId::parse))
        .transpose()?;
    let database = p
        .database_id
        .as_deref()
        .map(|id| parse_id("parent.database_id", id, DatabaseId::parse))
        .transpose()?;
    let source = p
        .data_source_id
        .as_deref()
        .map(|id| parse_id("parent.data_source_id", id, DataSourceId::parse))
        .transpose()?;
    let plan = plan_content(input.markdown.as_deref(), input.blocks.as_deref())?;
    let icon = notion_object::<Icon>("icon", input.icon.as_ref())?;
    let cover = notion_object::<FileObject>("cover", input.cover.as_ref())?;
    // What is classified: the parent as given (a database's one data source is looked up
    // once the session is open).
    let given_parent = match (&page_parent, &database, &source) {
        (Some(id), _, _) => ParentRef::Page(id.clone()),
        (_, Some(id), _) => ParentRef::Database(id.clone()),
        (_, _, Some(id)) => ParentRef::DataSource(id.clone()),
        (None, None, None) => {
            return Err(ApiError::invalid_field("parent", "give a parent"));
        }
    };
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post("/v1/pages", CreatePage::new(given_parent).body()),
        true,
    )
    .await?;

    // Prepare (reads only): the data source and, for simple values, its property types.
    let wants_types = needs_schema(input.properties.as_ref()) || input.title.is_some();
    let prepared = async {
        if let Some(id) = &page_parent {
            return Ok((ParentRef::Page(id.clone()), None));
        }
        let ds = match (&source, &database) {
            (Some(ds), _) => ds.clone(),
            (None, Some(db)) => {
                single_source(&op, db.as_str(), "parent.database_id")
                    .await?
                    .sources
                    .remove(0)
                    .0
            }
            (None, None) => return Err(GateError::NotFound { what: "parent" }),
        };
        let types = if wants_types {
            Some(schema_types(&op, &ds).await?)
        } else {
            None
        };
        Ok::<_, GateError>((ParentRef::DataSource(ds), types))
    };
    let (parent, types) = match prepared.await {
        Ok(x) => x,
        Err(e) => return op.end(Err(e)).await,
    };
    let is_page = matches!(parent, ParentRef::Page(_));
    let mut props = match &input.properties {
        Some(given) => match transform::to_notion_properties(
            given,
            if is_page { None } else { types.as_ref() },
        ) {
            Ok(p) => p,
            Err(e) => return Err(op.fail(e).await),
        },
        None => BTreeMap::new(),
    };
    if let Some(title) = &input.title {
        let name = types
            .as_ref()
            .and_then(|t| t.iter().find(|(_, ty)| ty.as_str() == "title"))
            .map_or("title".to_owned(), |(n, _)| n.clone());
        props.insert(name, PropertyRequest::title(title));
    }
    // The request is what the typed builder serialises: the same bytes are sent now or held
    // for a human.
    let mut create = CreatePage::new(parent);
    create.properties = props;
    create.icon = icon;
    create.cover = cover;
    create.children = plan.steps.first().map(|first| first.children.clone());
    if op.session.awaiting_approval() {
        if plan.steps.len() > 1 {
            return Err(op.session.refuse_multi(plan.steps.len()).await.into());
        }
        let req = NotionRequest::post("/v1/pages", create.body());
        return Err(op.session.hold(req).await.into());
    }
    let result = async {
        let page: Page = op.conn().pages().create(&create).await.map_err(upstream)?;
        let mut written = plan.steps.first().map_or(0, |s| s.block_count());
        if plan.steps.len() > 1 {
            // The create carried the first step; learn its blocks' ids, then append the rest.
            let partial = |error, block_ids, written| WriteFail::Partial {
                error,
                block_ids,
                written,
                page_id: Some(page.id.canonical()),
            };
            let root = BlockId::parse(page.id.as_str()).map_err(|e| upstream(e.into()))?;
            let first = match op
                .conn()
                .blocks()
                .children(&root, &Paging::first().size(100))
                .await
            {
                Ok(f) => f,
                Err(e) => return Err(partial(upstream(e), Vec::new(), written)),
            };
            match run_plan(&op, &plan, root, None, Some(first.results)).await {
                Ok((_, n)) => written = n,
                Err((e, ids, n)) => return Err(partial(e, ids, n)),
            }
        }
        Ok(PageWritten::from_page(&page, written))
    }
    .await;
    op.end_write(result).await
}

/// Create a page under a page, a database or a data source.
#[utoipa::path(post, path = "/api/v1/notion/pages", tag = "notion",
    security(("bearer" = [])), request_body = CreatePageInput,
    responses((status = 200, body = PageWritten), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404), (status = 502)))]
pub async fn create_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<CreatePageInput>,
) -> Result<Json<PageWritten>, ApiError> {
    create_page(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}
