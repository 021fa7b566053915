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

/// Whether `origin` is this server's own page: `http://` + the request's `Host`, where that
/// host names this server — its bound address, `localhost` on the bound port, or (when bound
/// to every interface) an IP literal on the bound port. A host *name* other than localhost is
/// never trusted: a DNS-rebinding page would have one.
pub(crate) fn is_own_origin(origin: &str, host: &str, bound: std::net::SocketAddr) -> bool {
    if origin.strip_prefix("http://") != Some(host) {
        return false;
    }
    let Some((name, port)) = host.rsplit_once(':') else {
        return false;
    };
    if port.parse::<u16>().ok() != Some(bound.port()) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") {
        return bound.ip().is_loopback() || bound.ip().is_unspecified();
    }
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => ip == bound.ip() || bound.ip().is_unspecified(),
        Err(_) => false,
    }
}

/// Mutating requests: refused from browser origins that are not allowed (so a web page cannot
/// forge them through a visitor's browser), and they need the token when one is configured.
fn check_token(st: &ApiState, req: &Request) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let allowed = origin.to_str().is_ok_and(|o| {
            st.config.cors_origins.iter().any(|a| a == "*" || a == o)
                || host.is_some_and(|h| is_own_origin(o, h, st.address))
        });
        if !allowed {
            return Some(error(
                StatusCode::FORBIDDEN,
                "cross-origin requests may not change state (origin is neither this server's own page nor in ApiConfig::cors_origins)",
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

#[cfg(test)]
mod tests {
    use super::is_own_origin;

    #[test]
    fn own_origin_is_the_bound_address_or_localhost() {
        let lo: std::net::SocketAddr = "127.0.0.1:8501".parse().unwrap();
        assert!(is_own_origin("http://127.0.0.1:8501", "127.0.0.1:8501", lo));
        assert!(is_own_origin("http://localhost:8501", "localhost:8501", lo));
        assert!(!is_own_origin(
            "http://localhost:9999",
            "localhost:9999",
            lo
        ));
        assert!(!is_own_origin(
            "http://127.0.0.1:8501",
            "localhost:8501",
            lo
        ));
        assert!(!is_own_origin(
            "http://rebind.example:8501",
            "rebind.example:8501",
            lo
        ));
        assert!(!is_own_origin(
            "https://127.0.0.1:8501",
            "127.0.0.1:8501",
            lo
        ));
        let any: std::net::SocketAddr = "0.0.0.0:8501".parse().unwrap();
        assert!(is_own_origin(
            "http://192.168.1.5:8501",
            "192.168.1.5:8501",
            any
        ));
        assert!(!is_own_origin("http://pc.local:8501", "pc.local:8501", any));
        let v6: std::net::SocketAddr = "[::1]:8501".parse().unwrap();
        assert!(is_own_origin("http://[::1]:8501", "[::1]:8501", v6));
    }
}
