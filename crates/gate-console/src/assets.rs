//! The console's static files, embedded in the binary and served under a content hash
//! (`/console/assets/console.3f2a9c1b7d.css`) with a year-long `immutable` cache: a new build
//! changes the name, so a browser never runs an old script against a new page. Nothing is
//! fetched from anywhere else (no CDN, no web fonts).

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

/// One embedded file.
pub(crate) struct Asset {
    /// The name it is served under, with its content hash.
    pub(crate) name: String,
    content_type: &'static str,
    body: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let hash = Sha256::digest(body);
        let short = hex::encode(&hash[..5]);
        Self {
            name: format!("{stem}.{short}.{ext}"),
            content_type,
            body,
        }
    }

    /// The path a page links to.
    pub(crate) fn href(&self) -> String {
        format!("/console/assets/{}", self.name)
    }
}

/// The style sheet.
pub(crate) static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "console",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    )
});

/// htmx 2.0.11 (BSD Zero Clause License, `assets/htmx-LICENSE`), unmodified.
pub(crate) static HTMX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "htmx",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx-2.0.11.min.js"),
    )
});

/// The console's own few lines (copy buttons, the live toggle).
pub(crate) static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "console",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console.js"),
    )
});

/// The favicon (an SVG).
pub(crate) static ICON: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "icon",
        "svg",
        "image/svg+xml",
        include_bytes!("../assets/icon.svg"),
    )
});

/// Every asset, for lookups and for the weight test.
pub(crate) fn all() -> [&'static Asset; 4] {
    [&STYLE, &HTMX, &SCRIPT, &ICON]
}

/// `GET /console/assets/{name}`.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = all().into_iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_hash_of_the_content() {
        for a in all() {
            let parts: Vec<&str> = a.name.split('.').collect();
            assert_eq!(parts.len(), 3, "{}", a.name);
            assert_eq!(parts[1].len(), 10, "{}", a.name);
        }
        assert_ne!(STYLE.name, SCRIPT.name);
    }
}
