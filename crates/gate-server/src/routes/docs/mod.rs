//! `/openapi.json` (generated from the handlers' `utoipa` annotations) and `/docs` (Swagger UI,
//! vendored from the `swagger-ui-dist` npm package: nothing is downloaded at build or run time);
//! `/docs/` redirects to `/docs`.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa::OpenApi;

const BUNDLE: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui.css");

/// The OpenAPI document of the routes every deployment has; the API routes merge theirs in.
#[derive(OpenApi)]
#[openapi(
    info(title = "notion-gate", description = "A governed gateway between AI agents and Notion."),
    paths(super::health::healthz, super::health::readyz, super::metrics::render),
    tags((name = "health", description = "Liveness, readiness and metrics"))
)]
pub struct CommonApi;

/// The full document: common routes plus whatever the application adds.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = CommonApi::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The docs routes.
pub fn routes() -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(swagger_page))
        .route("/docs/", get(|| async { Redirect::permanent("/docs") }))
        .route("/docs/swagger-ui-bundle.js", get(bundle))
        .route("/docs/swagger-ui.css", get(css))
}

/// The document is the same for the life of the process: built once, served as bytes.
async fn openapi_json() -> Response {
    static JSON: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body = JSON.get_or_init(|| serde_json::to_vec(&crate::api::document()).unwrap_or_default());
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.as_slice(),
    )
        .into_response()
}

async fn swagger_page() -> Html<&'static str> {
    Html(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>notion-gate API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"##,
    )
}

async fn bundle() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        BUNDLE,
    )
        .into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CSS,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
