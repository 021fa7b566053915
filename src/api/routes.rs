//! Routes, handlers and the guard middleware (size limits, auth, concurrency, timeouts,
//! telemetry).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::rejection::PathRejection;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rfm_perf_core::{PerformanceTracker, TimeRange, names};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::query::{self, BadParam};
use super::{Published, PublishedCell};
use crate::ApiConfig;

/// Routes whose requests are counted (index = position).
pub(crate) const ROUTES: [&str; 13] = [
    "/api/performance/metrics",
    "/api/performance/history/{*metric}",
    "/api/performance/regressions",
    "/api/performance/bottlenecks",
    "/api/performance/suggestions",
    "/api/performance/alerts",
    "/api/performance/system",
    "/api/performance/summary",
    "/api/performance/baseline",
    "/api/performance/stream",
    "/api/openapi.json",
    "/metrics",
    "unmatched",
];

const OPENAPI: &str = include_str!("openapi.json");

pub(crate) struct ApiState {
    pub(crate) tracker: PerformanceTracker,
    pub(crate) published: PublishedCell,
    pub(crate) config: ApiConfig,
    pub(crate) update_interval: Duration,
    pub(crate) inflight: Semaphore,
    pub(crate) streams: AtomicUsize,
    pub(crate) counts: [AtomicU64; ROUTES.len()],
    pub(crate) total: AtomicU64,
    /// Serialized metrics document keyed by (snapshot, published) pointers.
    metrics_cache: RwLock<Option<(CacheKey, Arc<str>)>>,
    /// Prometheus gauges keyed the same way.
    prometheus_cache: RwLock<Option<(CacheKey, Arc<str>)>>,
    pub(crate) system: Value,
    pub(crate) started: Instant,
}

impl ApiState {
    pub(crate) fn new(
        tracker: PerformanceTracker,
        published: PublishedCell,
        config: ApiConfig,
        update_interval: Duration,
    ) -> Self {
        Self {
            tracker,
            published,
            inflight: Semaphore::new(config.max_concurrent_requests),
            config,
            update_interval,
            streams: AtomicUsize::new(0),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            total: AtomicU64::new(0),
            metrics_cache: RwLock::new(None),
            prometheus_cache: RwLock::new(None),
            system: system_info(),
            started: Instant::now(),
        }
    }

    fn published(&self) -> Arc<Published> {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn request_counts(&self) -> Vec<(String, u64)> {
        ROUTES
            .iter()
            .zip(&self.counts)
            .map(|(r, c)| (r.to_string(), c.load(Ordering::Relaxed)))
            .collect()
    }
}

fn system_info() -> Value {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    json!({
        "cpu_model": sys.cpus().first().map(|c| c.brand().trim().to_string()),
        "cores": sys.cpus().len(),
        "os": sysinfo::System::long_os_version(),
        "kernel": sysinfo::System::kernel_version(),
        "gpu": Value::Null,
        "gpu_missing_reason": "no GPU adapter reported: the app has no render app or no fractal pass, or the renderer has not started yet",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "bevy_version": "0.19.1",
    })
}

type Shared = Arc<ApiState>;

/// The snapshot and published state a cached body was built from (held, so the pointers stay unique).
#[derive(Clone)]
struct CacheKey(Arc<rfm_perf_core::Snapshot>, Arc<Published>);

impl CacheKey {
    fn current(st: &ApiState) -> Self {
        Self(st.tracker.snapshot(), st.published())
    }

    fn same(&self, other: &CacheKey) -> bool {
        Arc::ptr_eq(&self.0, &other.0) && Arc::ptr_eq(&self.1, &other.1)
    }
}

pub(crate) fn router(state: Shared) -> Router {
    let mut r = Router::new()
        .route(ROUTES[0], get(metrics))
        .route(ROUTES[1], get(history))
        .route(ROUTES[2], get(regressions))
        .route(ROUTES[3], get(bottlenecks))
        .route(ROUTES[4], get(suggestions))
        .route(ROUTES[5], get(alerts))
        .route(ROUTES[6], get(system))
        .route(ROUTES[7], get(summary))
        .route(ROUTES[8], get(baseline_get).post(baseline_post))
        .route(ROUTES[9], get(stream))
        .route(ROUTES[10], get(openapi))
        .route(ROUTES[11], get(prometheus))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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

pub(crate) fn error(status: StatusCode, message: impl Into<String>, extra: Value) -> Response {
    let mut body = json!({ "error": message.into() });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    (status, Json(body)).into_response()
}

fn bad(p: BadParam) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("bad query parameter {:?}: {}", p.parameter, p.reason),
        json!({ "parameter": p.parameter }),
    )
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

async fn guard(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let route_idx = route
        .as_deref()
        .and_then(|r| ROUTES.iter().position(|x| *x == r))
        .unwrap_or(ROUTES.len() - 1);
    st.counts[route_idx].fetch_add(1, Ordering::Relaxed);
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
    } else if route_idx == 9 {
        // the live stream has its own cap and no timeout
        next.run(req).await
    } else {
        match st.inflight.try_acquire() {
            Err(_) => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests in flight; retry shortly",
                json!({}),
            ),
            Ok(_permit) => {
                match tokio::time::timeout(st.config.request_timeout, next.run(req)).await {
                    Ok(r) => r,
                    Err(_) => error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "request timed out",
                        json!({}),
                    ),
                }
            }
        }
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    st.tracker.track_metric(names::API_REQUEST_MS, ms);
    let total = st.total.fetch_add(1, Ordering::Relaxed) + 1;
    st.tracker.track_metric(names::API_REQUESTS, total as f64);
    response
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

async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no route {}", req.uri().path()),
        json!({ "routes": ROUTES[..ROUTES.len() - 1], "openapi": "/api/openapi.json" }),
    )
}

async fn method_not_allowed(req: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
        json!({}),
    )
}

/// The metrics document minus its per-request `timestamp`: rebuilt only when a new snapshot
/// or published state appears (once per update interval), then reused by every request.
fn metrics_rest(st: &ApiState) -> Arc<str> {
    let key = CacheKey::current(st);
    if let Some((k, body)) = &*st.metrics_cache.read().unwrap_or_else(|e| e.into_inner())
        && k.same(&key)
    {
        return body.clone();
    }
    let (snap, published) = (&key.0, &key.1);
    let mut values = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    for v in &snap.values {
        let name = v.info.name.to_string();
        values.insert(name.clone(), json!(v.value));
        details.insert(
            name.clone(),
            json!({
                "unit": v.info.unit.symbol(),
                "status": published.thresholds.status(&name, v.value).as_str(),
                "description": v.info.description,
                "direction": v.info.direction,
                "kind": v.info.kind,
            }),
        );
    }
    let doc = json!({
        "metrics": values,
        "snapshot_timestamp": query::format_rfc3339(snap.taken_at),
        "frame": snap.frame,
        "details": details,
    });
    let text = doc.to_string();
    // `{"metrics":…}` → `"metrics":…}`: the timestamp goes in front per request
    let body: Arc<str> = Arc::from(&text[1..]);
    *st.metrics_cache.write().unwrap_or_else(|e| e.into_inner()) = Some((key, body.clone()));
    body
}

/// `{"timestamp": now, "metrics": {...}, "details": {...}, ...}`: the seed's shape plus details.
fn metrics_body(st: &ApiState) -> String {
    let rest = metrics_rest(st);
    let ts = query::format_rfc3339(SystemTime::now());
    let mut out = String::with_capacity(rest.len() + 48);
    out.push_str("{\"timestamp\":\"");
    out.push_str(&ts);
    out.push_str("\",");
    out.push_str(&rest);
    out
}

async fn metrics(State(st): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        metrics_body(&st),
    )
        .into_response()
}

fn known_hint(st: &ApiState, asked: &str) -> Vec<String> {
    let lower = asked.to_lowercase();
    let mut names: Vec<String> = st
        .tracker
        .snapshot()
        .values
        .iter()
        .map(|v| v.info.name.to_string())
        .collect();
    names.sort_by_key(|n| {
        let nl = n.to_lowercase();
        let shared_prefix = nl
            .chars()
            .zip(lower.chars())
            .take_while(|(a, b)| a == b)
            .count();
        (
            !(nl.contains(&lower) || lower.contains(&nl)),
            usize::MAX - shared_prefix,
            n.clone(),
        )
    });
    names.truncate(10);
    names
}

async fn history(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let metric = match path {
        Ok(Path(m)) => m,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("bad metric name in the path: {e}"),
                json!({ "parameter": "metric" }),
            );
        }
    };
    let q = match query::parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(p) => return bad(p),
    };
    let now = SystemTime::now();
    let parsed = (|| {
        let since = query::instant(&q, "since", now)?;
        let until = query::instant(&q, "until", now)?;
        let limit = query::positive(&q, "limit", 1_000_000)?;
        let points = query::positive(&q, "points", 100_000)?;
        let csv = match q.get("format").map(String::as_str) {
            None | Some("json") => false,
            Some("csv") => true,
            Some(other) => {
                return Err(BadParam::new(
                    "format",
                    format!("{other:?}: use json or csv"),
                ));
            }
        };
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(BadParam::new("until", "is before since"));
        }
        Ok((since, until, limit, points, csv))
    })();
    let (since, until, limit, points, csv) = match parsed {
        Ok(p) => p,
        Err(p) => return bad(p),
    };
    let Some(info) = st.tracker.metric_info(&metric) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("unknown metric {metric:?}"),
            json!({ "known_metrics_hint": known_hint(&st, &metric) }),
        );
    };
    let range = TimeRange { since, until };
    let mut rows: Vec<(SystemTime, f64)> = match points {
        Some(n) => {
            let mut v = Vec::new();
            for b in st.tracker.decimate(&metric, range, n) {
                let (first, second) = if b.min_at <= b.max_at {
                    ((b.min_at, b.min), (b.max_at, b.max))
                } else {
                    ((b.max_at, b.max), (b.min_at, b.min))
                };
                v.push(first);
                if second != first {
                    v.push(second);
                }
            }
            v
        }
        None => st.tracker.history_range(&metric, range, usize::MAX),
    };
    if let Some(l) = limit {
        let skip = rows.len().saturating_sub(l);
        rows.drain(..skip);
    }
    if csv {
        let mut body = String::from("timestamp,value\n");
        for (t, v) in &rows {
            body.push_str(&format!("{},{v}\n", query::format_rfc3339(*t)));
        }
        return ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    }
    let history: Vec<Value> = rows
        .iter()
        .map(|(t, v)| json!({ "timestamp": query::format_rfc3339(*t), "value": v }))
        .collect();
    Json(json!({
        "metric": metric,
        "canonical_name": info.name,
        "unit": info.unit.symbol(),
        "decimated": points.is_some(),
        "history": history,
    }))
    .into_response()
}

async fn regressions(State(st): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = match query::parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(p) => return bad(p),
    };
    let threshold = match q.get("threshold") {
        None => 0.2,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(t) if t.is_finite() && t > 0.0 && t <= 100.0 => t,
            _ => {
                return bad(BadParam::new(
                    "threshold",
                    format!("{v:?} is not a number in (0, 100] (0.2 = 20 % worse)"),
                ));
            }
        },
    };
    let reports = st.tracker.detect_regressions(threshold);
    Json(json!({ "threshold": threshold, "has_baseline": !st.tracker.baselines().metrics.is_empty(), "regressions": reports })).into_response()
}

async fn bottlenecks(State(st): State<Shared>) -> Json<Value> {
    let p = st.published();
    Json(
        json!({ "scopes": p.scopes, "latest_frame": p.latest_frame, "slowest_frame": p.slowest_frame }),
    )
}

async fn suggestions(State(st): State<Shared>) -> Json<Value> {
    Json(json!({ "suggestions": st.published().insights.suggestions }))
}

async fn alerts(State(st): State<Shared>) -> Json<Value> {
    let p = st.published();
    Json(json!({ "active": p.insights.alerts, "log": p.insights.log }))
}

async fn system(State(st): State<Shared>) -> Json<Value> {
    let mut v = st.system.clone();
    let published = st.published();
    if let Value::Object(o) = &mut v {
        o.insert("uptime_s".into(), json!(st.started.elapsed().as_secs_f64()));
        if let Some(gpu) = &published.gpu {
            o.insert("gpu".into(), gpu.clone());
            o.remove("gpu_missing_reason");
        }
        if let Some(f) = &published.fractal {
            o.insert("fractal_pass".into(), f.clone());
        }
    }
    Json(v)
}

async fn summary(State(st): State<Shared>) -> Json<Value> {
    let stats = st.tracker.current_stats();
    let metrics: BTreeMap<String, Value> = stats
        .into_iter()
        .map(|(name, s)| {
            let info = st.tracker.metric_info(&name);
            let v = json!({
                "median": s.median,
                "p95": s.p95,
                "samples": s.samples,
                "unit": info.as_ref().map(|i| i.unit.symbol().to_string()),
                "direction": info.as_ref().map(|i| i.direction),
            });
            (name, v)
        })
        .collect();
    Json(
        json!({ "window_s": st.tracker.config().baseline_window.as_secs_f64(), "metrics": metrics }),
    )
}

async fn baseline_get(State(st): State<Shared>) -> Json<Value> {
    Json(json!(st.tracker.baselines()))
}

async fn baseline_post(State(st): State<Shared>) -> Response {
    let tracker = st.tracker.clone();
    let path = st.config.baseline_path.clone();
    let result = tokio::task::spawn_blocking(move || {
        let n = tracker.capture_baseline();
        let saved = path.map(|p| tracker.save_baselines(&p).map(|()| p));
        (n, saved)
    })
    .await;
    match result {
        Ok((n, None)) => Json(json!({ "captured": n, "saved_to": Value::Null })).into_response(),
        Ok((n, Some(Ok(p)))) => Json(json!({ "captured": n, "saved_to": p })).into_response(),
        Ok((n, Some(Err(e)))) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("captured {n} metrics in memory, but saving failed: {e}"),
            json!({ "captured": n }),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("baseline capture failed: {e}"),
            json!({}),
        ),
    }
}

struct StreamSlot(Shared);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn stream(State(st): State<Shared>) -> Response {
    let open = st.streams.fetch_add(1, Ordering::Relaxed);
    let slot = StreamSlot(st.clone());
    if open >= st.config.max_streams {
        drop(slot);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("at most {} live streams at once", st.config.max_streams),
            json!({}),
        );
    }
    let interval = st.update_interval;
    let s = futures_util::stream::unfold(
        (slot, None::<tokio::time::Interval>),
        move |(slot, tick)| async move {
            let mut tick = tick.unwrap_or_else(|| {
                let mut i = tokio::time::interval(interval);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                i
            });
            tick.tick().await;
            let ev = Event::default()
                .event("snapshot")
                .data(metrics_body(&slot.0));
            Some((Ok::<_, std::convert::Infallible>(ev), (slot, Some(tick))))
        },
    );
    Sse::new(s).keep_alive(KeepAlive::default()).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn prometheus(State(st): State<Shared>) -> Response {
    let key = CacheKey::current(&st);
    let cached = match &*st
        .prometheus_cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
    {
        Some((k, text)) if k.same(&key) => Some(text.clone()),
        _ => None,
    };
    let gauges = cached.unwrap_or_else(|| {
        let text: Arc<str> = super::prometheus::render_gauges(&key.0, &key.1.scopes).into();
        *st.prometheus_cache
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some((key, text.clone()));
        text
    });
    let mut text = String::with_capacity(gauges.len() + 1024);
    text.push_str(&gauges);
    super::prometheus::render_requests(&mut text, &st.request_counts());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
