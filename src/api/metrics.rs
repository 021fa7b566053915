//! The metrics only the API records: its own latency and request count.

use rfm_perf_core::names::Builtin;
use rfm_perf_core::{Direction, PerformanceTracker, Unit};

/// Latency of requests served by the API (ms).
pub const API_REQUEST_MS: &str = "api.request_ms";
/// Requests served by the API since it started (cumulative).
pub const API_REQUESTS: &str = "api.requests";

/// The API's own metrics, registered when it starts.
pub const API_METRICS: &[Builtin] = &[
    Builtin::new(
        API_REQUESTS,
        Unit::Count,
        "Requests served by the API",
        Direction::Neutral,
    ),
    Builtin::new(
        API_REQUEST_MS,
        Unit::Milliseconds,
        "Latency of API requests",
        Direction::LowerIsBetter,
    ),
];

pub(crate) fn register(tracker: &PerformanceTracker) {
    for m in API_METRICS {
        tracker.register_metric(m.info());
    }
}
