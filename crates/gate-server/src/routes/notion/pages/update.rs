//! `PATCH /api/v1/notion/pages/{id}`: a page's properties, icon, cover or trash state
//! (`in_trash: true` is delete class).

use super::*;

input_struct! { update_page:
    /// `PATCH /notion/pages/{id}`.
    #[derive(Default)]
    pub struct UpdatePageInput {}
}

/// Updates a page's properties, icon, cover or trash state (`in_trash: true` is
/// delete-class).
pub async fn update_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: UpdatePageInput,
) -> Result<PageWritten, ApiError> {
    let page_id = parse_id("page_id", id, PageId::parse)?;
    if input.properties.is_none()
        && input.icon.is_none()
        && input.cover.is_none()
        && input.in_trash.is_none()
    {
        return Err(ApiError::invalid_field(
            "properties",
            "nothing to update: give `properties`, `icon`, `cover` or `in_trash`",
        ));
    }
    // An `icon` or `cover` given as `null` removes it.
    let icon = input
        .icon
        .as_ref()
        .map(|v| notion_object::<Icon>("icon", Some(v)))
        .transpose()?;
    let cover = input
        .cover
        .as_ref()
        .map(|v| notion_object::<FileObject>("cover", Some(v)))
        .transpose()?;
    let path = format!("/v1/pages/{}", page_id.canonical());
    // What is classified: the trash flag (the properties are converted once the session is
    // open, with the data source's schema).
    let mut update = UpdatePage::new();
    update.in_trash = input.in_trash;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::patch(&path, update.body()),
        true,
    )
    .await?;
    let types = if needs_schema(input.properties.as_ref()) {
        let read = async {
            let page = op
                .conn()
                .pages()
                .retrieve(&page_id)
                .await
                .map_err(upstream)?;
            match page.parent.as_ref().and_then(|p| p.data_source_id()) {
                Some(ds) => Ok(Some(schema_types(&op, ds).await?)),
                None => Ok::<_, GateError>(None),
            }
        };
        match read.await {
            Ok(t) => t,
            Err(e) => return op.end(Err(e)).await,
        }
    } else {
        None
    };
    // The request is what the typed builder serialises: the same bytes are sent now or held
    // for a human.
    if let Some(given) = &input.properties {
        match transform::to_notion_properties(given, types.as_ref()) {
            Ok(p) => update.properties = p,
            Err(e) => return Err(op.fail(e).await),
        }
    }
    update.icon = icon;
    update.cover = cover;
    if op.session.awaiting_approval() {
        let req = NotionRequest::patch(&path, update.body());
        return Err(op.session.hold(req).await.into());
    }
    let result = async {
        let page: Page = op
            .conn()
            .pages()
            .update(&page_id, &update)
            .await
            .map_err(upstream)?;
        Ok(PageWritten::from_page(&page, 0))
    }
    .await;
    op.end(result).await
}

/// Update a page's properties, icon, cover or trash state.
#[utoipa::path(patch, path = "/api/v1/notion/pages/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id")),
    request_body = UpdatePageInput,
    responses((status = 200, body = PageWritten), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdatePageInput>,
) -> Result<Json<PageWritten>, ApiError> {
    update_page(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}
