//! The guard in front of every route: the URI size limit, the token and origin checks of
//! mutating requests, and the API's own telemetry (requests per route, latency).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::handlers::error;
use super::metrics::{API_REQUEST_MS, API_REQUESTS};
use super::routes::Route;
use super::state::ApiState;

pub(crate) async fn guard(State(st): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(Route::Unmatched, |m| Route::from_path(m.as_str()));
    st.counts[route.index()].fetch_add(1, Ordering::Relaxed);
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let response = if uri_len > st.config.max_uri_bytes {
        error(
            StatusCode::URI_TOO_LONG,
            format!(
                "request URI is {uri_len} bytes; the limit is {}",
                st.config.max_uri_bytes
            ),
            json!({}),
        )
    } else if let Some(denied) = check_token(&st, &req) {
        denied
    } else {
        next.run(req).await
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    st.tracker.track_metric(API_REQUEST_MS, ms);
    let total = st.total.fetch_add(1, Ordering::Relaxed) + 1;
    st.tracker.track_metric(API_REQUESTS, total as f64);
    response
}

fn token_matches(given: &str, expected: &str) -> bool {
    // length leaks nothing useful; the byte comparison is constant-time
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Mutating requests: refused from browser origins that are not allowed (so a web page cannot
/// forge them through a visitor's browser), and they need the token when one is configured.
fn check_token(st: &ApiState, req: &Request) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .is_ok_and(|o| st.config.cors_origins.iter().any(|a| a == "*" || a == o));
        if !allowed {
            return Some(error(
                StatusCode::FORBIDDEN,
                "cross-origin requests may not change state (origin not in ApiConfig::cors_origins)",
                json!({}),
            ));
        }
    }
    let expected = st.config.token.as_deref()?;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    match given {
        None => Some(error(
            StatusCode::UNAUTHORIZED,
            "this endpoint changes state and needs `Authorization: Bearer <token>`",
            json!({}),
        )),
        Some(t) if !token_matches(t.trim(), expected) => {
            Some(error(StatusCode::FORBIDDEN, "wrong token", json!({})))
        }
        Some(_) => None,
    }
}
