//! The routes: a [`Route`] enum (the paths, and the label requests are counted under) and the
//! router that wires them to their handlers behind the limits and the guard.

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;

use super::advice;
use super::guard::guard;
use super::handlers::{self, error};
use super::page;
use super::state::ApiState;

/// A route of the API. Requests are counted per route (`rfm_api_requests_total{route}`), under
/// [`Route::path`]; requests that match none count as [`Route::Unmatched`].
///
/// ```
/// use rfm_perf::api::Route;
/// assert_eq!(Route::Metrics.path(), "/api/performance/metrics");
/// assert_eq!(Route::from_path("/metrics"), Route::Prometheus);
/// assert_eq!(Route::from_path("/nope"), Route::Unmatched);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// Newest value of every metric, with units and health.
    Metrics,
    /// History of one metric.
    History,
    /// Regressions against the baselines.
    Regressions,
    /// Scope statistics, frames and the frame breakdown.
    Bottlenecks,
    /// Optimisation suggestions.
    Suggestions,
    /// Active alerts and the alert log.
    Alerts,
    /// Spikes and level shifts the tracker's scan found.
    Anomalies,
    /// Machine, GPU and pass status.
    System,
    /// Where the GPU pass's work goes: escape histogram and per-tile cost.
    Cost,
    /// Median, p95 and samples of every metric.
    Summary,
    /// The baselines (GET) and capturing them (POST).
    Baseline,
    /// Server-sent events: a snapshot per update interval.
    Stream,
    /// The last seconds of every thread's scopes as a Chrome Trace Event file (Perfetto).
    Trace,
    /// What the cost model predicts for tunable values given in the query.
    Predict,
    /// Applies a suggestion's parameter change (POST), as the dashboard's Apply does.
    ApplySuggestion,
    /// The dashboard settings (metrics shown, update interval) for clients to show the same.
    Config,
    /// The browser dashboard (`GET /`).
    Page,
    /// The dashboard's stylesheet and scripts (`GET /web/{file}`).
    WebAsset,
    /// The OpenAPI document.
    OpenApi,
    /// Prometheus text exposition.
    Prometheus,
    /// Anything else (404).
    Unmatched,
}

impl Route {
    /// Every route, in counting order (`Unmatched` last).
    pub const ALL: [Route; 21] = [
        Route::Metrics,
        Route::History,
        Route::Regressions,
        Route::Bottlenecks,
        Route::Suggestions,
        Route::Alerts,
        Route::Anomalies,
        Route::System,
        Route::Cost,
        Route::Summary,
        Route::Baseline,
        Route::Stream,
        Route::Trace,
        Route::Predict,
        Route::ApplySuggestion,
        Route::Config,
        Route::Page,
        Route::WebAsset,
        Route::OpenApi,
        Route::Prometheus,
        Route::Unmatched,
    ];

    /// The path pattern as the router matches it (`"unmatched"` for [`Route::Unmatched`]).
    pub const fn path(self) -> &'static str {
        match self {
            Route::Metrics => "/api/performance/metrics",
            Route::History => "/api/performance/history/{*metric}",
            Route::Regressions => "/api/performance/regressions",
            Route::Bottlenecks => "/api/performance/bottlenecks",
            Route::Suggestions => "/api/performance/suggestions",
            Route::Alerts => "/api/performance/alerts",
            Route::Anomalies => "/api/performance/anomalies",
            Route::System => "/api/performance/system",
            Route::Cost => "/api/performance/gpu_cost",
            Route::Summary => "/api/performance/summary",
            Route::Baseline => "/api/performance/baseline",
            Route::Stream => "/api/performance/stream",
            Route::Trace => "/api/performance/trace",
            Route::Predict => "/api/performance/predict",
            Route::ApplySuggestion => "/api/performance/suggestions/{id}/apply",
            Route::Config => "/api/performance/config",
            Route::Page => "/",
            Route::WebAsset => "/web/{file}",
            Route::OpenApi => "/api/openapi.json",
            Route::Prometheus => "/metrics",
            Route::Unmatched => "unmatched",
        }
    }

    /// The route whose pattern is `matched` (the router's matched path).
    pub fn from_path(matched: &str) -> Route {
        Route::ALL
            .into_iter()
            .find(|r| *r != Route::Unmatched && r.path() == matched)
            .unwrap_or(Route::Unmatched)
    }

    /// Position in [`Route::ALL`] (the request counter's index).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The router: every route but the live stream behind one shared concurrency limit (503 when
/// full) and the request timeout (503 when it runs out); the guard (size limit, auth,
/// telemetry) in front of everything; CORS when configured.
pub(crate) fn router(state: Arc<ApiState>) -> Router {
    let limits = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded_or_timed_out))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            state.config.max_concurrent_requests,
        ))
        .timeout(state.config.request_timeout);
    let mut r = Router::new()
        .route(Route::Metrics.path(), get(handlers::metrics))
        .route(Route::History.path(), get(handlers::history))
        .route(Route::Regressions.path(), get(handlers::regressions))
        .route(Route::Bottlenecks.path(), get(handlers::bottlenecks))
        .route(Route::Suggestions.path(), get(handlers::suggestions))
        .route(Route::Alerts.path(), get(handlers::alerts))
        .route(Route::Anomalies.path(), get(handlers::anomalies))
        .route(Route::System.path(), get(handlers::system))
        .route(Route::Cost.path(), get(handlers::gpu_cost))
        .route(Route::Summary.path(), get(handlers::summary))
        .route(
            Route::Baseline.path(),
            get(handlers::baseline_get).post(handlers::baseline_post),
        )
        .route(Route::Trace.path(), get(handlers::trace))
        .route(Route::Predict.path(), get(advice::predict))
        .route(
            Route::ApplySuggestion.path(),
            axum::routing::post(advice::apply_suggestion),
        )
        .route(Route::Config.path(), get(advice::config))
        .route(Route::Page.path(), get(page::index))
        .route(Route::WebAsset.path(), get(page::asset))
        .route(Route::OpenApi.path(), get(handlers::openapi))
        .route(Route::Prometheus.path(), get(handlers::prometheus))
        .route_layer(limits)
        // the live stream has its own cap (`max_streams`) and no timeout
        .route(Route::Stream.path(), get(handlers::stream))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    if !state.config.cors_origins.is_empty() {
        use tower_http::cors::{AllowOrigin, CorsLayer};
        let origins = &state.config.cors_origins;
        let allow = if origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        };
        r = r.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    r.with_state(state)
}

/// The limits' errors as the API's JSON bodies: a full server and a request that ran out of
/// time both answer 503, so clients retry.
async fn overloaded_or_timed_out(err: tower::BoxError) -> Response {
    let message = if err.is::<tower::timeout::error::Elapsed>() {
        "request timed out"
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        "too many requests in flight; retry shortly"
    } else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {err}"),
            json!({}),
        );
    };
    error(StatusCode::SERVICE_UNAVAILABLE, message, json!({}))
}
