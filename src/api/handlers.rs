//! The handlers: one per route, reading the published snapshot and state (never the
//! recording threads), and the JSON error body every refusal uses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use rfm_perf_core::{TimeRange, Verdict};
use serde_json::{Value, json};

use super::prometheus::{render_build_info, render_gauges, render_requests, render_tracker_stats};
use super::query::{self, BadParam};
use super::routes::Route;
use super::state::{ApiState, CacheKey};

const OPENAPI: &str = include_str!("openapi.json");

/// A JSON error body `{"error": message, ...extra}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>, extra: Value) -> Response {
    let mut body = json!({ "error": message.into() });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    (status, Json(body)).into_response()
}

pub(crate) fn bad(p: BadParam) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("bad query parameter {:?}: {}", p.parameter, p.reason),
        json!({ "parameter": p.parameter }),
    )
}

pub(crate) async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no route {}", req.uri().path()),
        json!({ "routes": Route::ALL[..Route::ALL.len() - 1].iter().map(|r| r.path()).collect::<Vec<_>>(), "openapi": "/api/openapi.json" }),
    )
}

pub(crate) async fn method_not_allowed(req: Request) -> Response {
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

/// `{"timestamp": now, "metrics": {...}, "details": {...}, ...}`: the original Python API's shape plus details.
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

pub(crate) async fn metrics(State(st): State<Arc<ApiState>>) -> Response {
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

pub(crate) async fn history(
    State(st): State<Arc<ApiState>>,
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

pub(crate) async fn regressions(
    State(st): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Response {
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
    // one copy of the baselines' key (the set holds every metric's raw values: never clone it twice)
    let (has_baseline, baseline_key) = {
        let set = st.tracker.baselines();
        (!set.metrics.is_empty(), set.key)
    };
    let tracker = st.tracker.clone();
    // the test sorts every metric's window: off the async workers
    let assessed = tokio::task::spawn_blocking(move || tracker.assess_regressions(threshold)).await;
    let Ok(assessed) = assessed else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the regression check failed",
            json!({}),
        );
    };
    let of = |v: Verdict| -> Vec<&str> {
        assessed
            .iter()
            .filter(|a| a.verdict == v)
            .map(|a| a.report.metric.as_str())
            .collect()
    };
    let reports: Vec<&rfm_perf_core::RegressionReport> = assessed
        .iter()
        .filter(|a| a.verdict == Verdict::Regression)
        .map(|a| &a.report)
        .collect();
    Json(json!({
        "threshold": threshold,
        "alpha": st.tracker.config().regression_alpha,
        "has_baseline": has_baseline,
        "baseline_key": baseline_key,
        "current_key": st.tracker.baseline_key(),
        // a comparison across scenarios or machines is allowed, and says so
        "key_differences": st.tracker.baseline_differences(),
        "regressions": reports,
        "not_significant": of(Verdict::NotSignificant),
        "insufficient_data": of(Verdict::InsufficientData),
        "not_testable": of(Verdict::NoSamples),
    }))
    .into_response()
}

pub(crate) async fn bottlenecks(State(st): State<Arc<ApiState>>) -> Json<Value> {
    let p = st.published();
    Json(json!({
        "scopes": p.scopes,
        "latest_frame": p.latest_frame,
        "slowest_frame": p.slowest_frame,
        "breakdown": p.insights.breakdown,
    }))
}

pub(crate) async fn suggestions(State(st): State<Arc<ApiState>>) -> Json<Value> {
    let p = st.published();
    Json(json!({
        "suggestions": p.insights.suggestions,
        "outcomes": p.insights.outcomes,
    }))
}

pub(crate) async fn alerts(State(st): State<Arc<ApiState>>) -> Json<Value> {
    let p = st.published();
    Json(json!({
        "active": p.insights.alerts,
        "log": p.insights.log,
        "rules": p.insights.rules,
    }))
}

pub(crate) async fn system(State(st): State<Arc<ApiState>>) -> Json<Value> {
    let mut v = st.system.clone();
    let published = st.published();
    if let Value::Object(o) = &mut v {
        o.insert("uptime_s".into(), json!(st.started.elapsed().as_secs_f64()));
        if let Some(gpu) = &published.gpu {
            o.insert("gpu".into(), gpu.clone());
            o.remove("gpu_missing_reason");
        }
        if let Some(f) = &published.gpu_pass {
            o.insert("fractal_pass".into(), f.clone());
        }
    }
    Json(v)
}

/// Spikes and level shifts found at or after `since` (RFC 3339 or negative seconds; default:
/// everything kept), oldest first, optionally of one `metric` and one `kind`.
pub(crate) async fn anomalies(
    State(st): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match query::parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(p) => return bad(p),
    };
    let since = match query::instant(&q, "since", SystemTime::now()) {
        Ok(t) => t.map_or(0.0, rfm_perf_core::clock::unix_seconds),
        Err(p) => return bad(p),
    };
    let kind = match q.get("kind").map(|k| k.trim()) {
        None | Some("") => None,
        Some("spike") => Some(rfm_perf_core::AnomalyKind::Spike),
        Some("level_shift") => Some(rfm_perf_core::AnomalyKind::LevelShift),
        Some(other) => {
            return bad(BadParam::new(
                "kind",
                format!("{other:?} is neither \"spike\" nor \"level_shift\""),
            ));
        }
    };
    let metric = q.get("metric").map(|m| m.trim().to_string());
    let list: Vec<Value> = st
        .tracker
        .anomalies(since)
        .into_iter()
        .filter(|a| kind.is_none_or(|k| a.kind == k))
        .filter(|a| metric.as_ref().is_none_or(|m| &a.metric == m))
        .map(|a| {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(a.unix_s.max(0.0));
            json!({
                "metric": a.metric,
                "kind": a.kind,
                "timestamp": query::format_rfc3339(at),
                "value": a.value,
                "score": a.score,
                "change": a.change,
            })
        })
        .collect();
    Json(json!({ "anomalies": list })).into_response()
}

/// The GPU pass's cost in its newest frame: the escape histogram as buckets, its quantiles,
/// and the per-tile cost grid with its concentration.
pub(crate) async fn gpu_cost(State(st): State<Arc<ApiState>>) -> Response {
    let published = st.published();
    let Some(cost) = &published.cost else {
        return error(
            StatusCode::NOT_FOUND,
            "no GPU pass cost: the app has no fractal pass, or no frame has been read back yet",
            json!({}),
        );
    };
    let h = &cost.histogram;
    let buckets: Vec<Value> = h
        .buckets()
        .map(|(first, last, pixels)| json!({ "first": first, "last": last, "pixels": pixels }))
        .collect();
    let t = &cost.tiles;
    Json(json!({
        "generation": cost.generation,
        "max_iter": cost.max_iter,
        "pixels": cost.pixels,
        "heatmap": cost.heatmap,
        "escape_histogram": {
            "escaped": h.escaped(),
            "escaped_iterations": cost.escaped_iterations,
            "p50": h.quantile(0.5),
            "p90": h.quantile(0.9),
            "p99": h.quantile(0.99),
            "buckets": buckets,
        },
        "tiles": {
            "tile_size": t.tile_size,
            "columns": t.columns,
            "rows": t.rows,
            "total_iterations": t.total(),
            "hottest_10pct_share": t.share_of_hottest(0.1),
            "iterations": t.iterations,
        },
    }))
    .into_response()
}

pub(crate) async fn summary(State(st): State<Arc<ApiState>>) -> Json<Value> {
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

pub(crate) async fn baseline_get(State(st): State<Arc<ApiState>>) -> Json<Value> {
    Json(json!(st.tracker.baselines()))
}

pub(crate) async fn baseline_post(State(st): State<Arc<ApiState>>) -> Response {
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

struct StreamSlot(Arc<ApiState>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) async fn stream(State(st): State<Arc<ApiState>>) -> Response {
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
    let stop = st.shutdown.clone();
    let s = futures_util::stream::unfold(
        (slot, None::<tokio::time::Interval>, stop),
        move |(slot, tick, mut stop)| async move {
            let mut tick = tick.unwrap_or_else(|| {
                let mut i = tokio::time::interval(interval);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                i
            });
            // the server stopping ends the stream (a clean end of the body, which clients
            // read as "reconnect") rather than cutting the connection
            match stop.as_mut() {
                Some(stop) => tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|stopped| *stopped) => return None,
                },
                None => {
                    tick.tick().await;
                }
            }
            let ev = Event::default()
                .event("snapshot")
                .data(metrics_body(&slot.0));
            Some((
                Ok::<_, std::convert::Infallible>(ev),
                (slot, Some(tick), stop),
            ))
        },
    );
    Sse::new(s).keep_alive(KeepAlive::default()).into_response()
}

/// `GET /api/performance/trace?seconds=N`: the last `N` seconds (default and most: the
/// tracker's trace window) as Chrome Trace Event JSON, built on a blocking thread (a capture of
/// 10 s can hold hundreds of thousands of events), with the alerts raised in it as instants.
pub(crate) async fn trace(State(st): State<Arc<ApiState>>, RawQuery(raw): RawQuery) -> Response {
    let q = match query::parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(p) => return bad(p),
    };
    let window = st.tracker.config().trace_window;
    if window.is_zero() {
        return error(
            StatusCode::NOT_FOUND,
            "traces are off: TrackerConfig::trace_window is 0",
            json!({}),
        );
    }
    let max = window.as_secs_f64();
    let seconds = match q.get("seconds").map(|v| v.trim()) {
        None | Some("") => max,
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s > 0.0 && s <= max => s,
            _ => {
                return bad(BadParam::new(
                    "seconds",
                    format!("{v:?} is not a number of seconds in (0, {max}] (the trace window)"),
                ));
            }
        },
    };
    let instants: Vec<rfm_perf_core::trace::TraceInstant> = st
        .published()
        .insights
        .log
        .iter()
        .map(|a| rfm_perf_core::trace::TraceInstant {
            name: a.message.clone(),
            at_unix_s: a.raised_unix_s,
        })
        .collect();
    let tracker = st.tracker.clone();
    let built = tokio::task::spawn_blocking(move || {
        tracker
            .trace(Duration::from_secs_f64(seconds))
            .chrome_json(&instants)
    })
    .await;
    match built {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"rfm_perf_trace.json\"",
                ),
            ],
            json,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the trace could not be built: {e}"),
            json!({}),
        ),
    }
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub(crate) async fn prometheus(State(st): State<Arc<ApiState>>) -> Response {
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
        let text: Arc<str> = render_gauges(
            &key.0,
            &key.1.scopes,
            key.1.cost.as_deref(),
            Some(&key.1.insights.rules),
        )
        .into();
        *st.prometheus_cache
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some((key, text.clone()));
        text
    });
    let mut text = String::with_capacity(gauges.len() + 1024);
    text.push_str(&gauges);
    render_requests(&mut text, &st.request_counts());
    st.frames.render(&mut text);
    render_tracker_stats(&mut text, &st.tracker.stats());
    let key = st.tracker.baseline_key();
    render_build_info(
        &mut text,
        &key.hardware.gpu_adapter,
        &key.hardware.gpu_backend,
        &key.scenario,
        &st.instance,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
