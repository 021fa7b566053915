//! The browser dashboard: `GET /` and its files under `/web/`, embedded in the binary
//! (`rfm_perf_web`), sent with a strict Content-Security-Policy.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bevy::prelude::{Res, Resource};
use serde_json::json;

use super::handlers::error;

/// Headers of every page file: the CSP (own files and API only, nothing inline), no MIME
/// sniffing, no framing, revalidated on each load (a rebuilt app serves new files).
fn page_headers(content_type: &'static str) -> [(header::HeaderName, HeaderValue); 5] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(rfm_perf_web::CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

pub(crate) async fn index() -> Response {
    (
        page_headers("text/html; charset=utf-8"),
        rfm_perf_web::INDEX_HTML,
    )
        .into_response()
}

pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match rfm_perf_web::asset(&file) {
        Some(a) => (page_headers(a.content_type), a.body).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no page file {file:?}"),
            json!({ "files": rfm_perf_web::ASSETS.iter().map(|a| a.name).collect::<Vec<_>>() }),
        ),
    }
}

/// Where the page is, and whether to open it (`ApiConfig::open_browser`).
#[derive(Resource, Debug, Clone)]
pub(crate) struct PageLink {
    pub(crate) url: String,
    pub(crate) open: crate::base::OpenBrowser,
}

/// Once, after startup (windows exist by then): opens the page in the default browser when
/// asked and possible, else prints where it is.
#[cfg(feature = "render")]
pub(crate) fn open_page(
    link: Res<PageLink>,
    windows: bevy::prelude::Query<(), bevy::prelude::With<bevy::window::Window>>,
) {
    open_or_print(&link, !windows.is_empty());
}

/// Once, after startup: a build without windows opens the page when asked and possible.
#[cfg(not(feature = "render"))]
pub(crate) fn open_page(link: Res<PageLink>) {
    open_or_print(&link, false);
}

fn open_or_print(link: &PageLink, has_window: bool) {
    if !link.open.wanted(has_window) {
        return;
    }
    match crate::base::OpenBrowser::blocked_by(|k| std::env::var(k).ok()) {
        Some(why) => println!(
            "rfm_perf dashboard: {} (not opening a browser: {why})",
            link.url
        ),
        None => match webbrowser::open(&link.url) {
            Ok(()) => println!("rfm_perf dashboard: {} (opened in the browser)", link.url),
            Err(e) => println!(
                "rfm_perf dashboard: {} (could not open a browser: {e})",
                link.url
            ),
        },
    }
}
