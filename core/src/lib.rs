//! # rfm_perf_core
//!
//! The tracker of [rfm_perf](https://docs.rs/rfm_perf): timers, scopes, metrics with units,
//! bounded history with decimation, per-frame call trees, baselines and regression detection.
//! std + serde only — no Bevy, egui, wgpu or HTTP — so it builds in seconds and works from
//! any Rust code.
//!
//! ```
//! use rfm_perf_core::{get_performance_tracker, track_performance};
//!
//! #[track_performance("mandelbrot.generation")]
//! fn generate(w: u32, h: u32) -> u64 {
//!     u64::from(w) * u64::from(h)
//! }
//!
//! assert_eq!(generate(4, 4), 16);
//! let tracker = get_performance_tracker();
//! assert!(tracker.get_metric("mandelbrot.generation").is_some());
//! let stats = tracker.scope_stats();
//! assert!(stats.iter().any(|s| s.name.as_ref() == "mandelbrot.generation"));
//! ```
//!
//! Recording goes to a per-thread buffer (no global lock, no allocation per call once a call
//! path is known); once per frame [`PerformanceTracker::collect_frame`] moves it into history.
//! Outside a frame loop every read collects first.

// Lets `#[track_performance]` expand to `::rfm_perf_core::…` inside this crate too.
extern crate self as rfm_perf_core;

pub mod adaptive_quality;
pub mod alert_rules;
pub mod anomaly;
mod baseline;
pub mod clock;
pub mod cost_model;
mod error;
mod fingerprint;
mod frame;
mod histogram;
mod history;
mod local;
mod metric;
pub mod names;
mod report;
mod scope;
mod scope_stats;
pub mod significance;
mod snapshot;
pub mod stats;
#[cfg(test)]
mod test_rng;
pub mod trace;
mod trace_coverage;
mod tracker;

pub use anomaly::{Anomaly, AnomalyDetector, AnomalyKind};
pub use baseline::{
    Assessment, BASELINE_FORMAT_VERSION, BaselineSet, BaselineStat, MAX_BASELINE_SAMPLES,
    MIN_REGRESSION_SAMPLES, RegressionReport, RegressionTest, Severity, Verdict, evenly_spaced,
};
pub use error::{BaselineError, TrackError};
pub use fingerprint::{BaselineKey, HardwareFingerprint};
pub use frame::{CallNode, DetachedScope, FrameProfile, ThreadLane};
pub use metric::{
    Direction, MetricId, MetricInfo, MetricKind, OVERFLOW_METRIC, OVERFLOW_SCOPE, Unit,
};
pub use report::{
    MetricComparison, MetricSeries, REPORT_SCHEMA_VERSION, ReportError, RunReport, compare_runs,
};
pub use scope::{
    AsyncScopeGuard, ScopeGuard, ScopeSite, Timer, scopes_enabled, set_scopes_enabled,
};
pub use scope_stats::ScopeStats;
pub use snapshot::{Snapshot, SnapshotValue};
pub use trace_coverage::TraceCoverage;
pub use tracker::{
    LongTermBucket, MinMaxBucket, PerformanceTracker, TRACE_COUNTERS, TimeRange, TrackerConfig,
    TrackerStats, get_performance_tracker,
};

/// ```
/// use rfm_perf_core::track_performance;
///
/// #[track_performance]
/// fn compute_fractal(n: u32) -> u32 { n * 2 }
///
/// #[track_performance("mandelbrot.generation")]
/// fn generate_mandelbrot(w: u32, h: u32) -> Result<u32, String> {
///     if w == 0 { return Err("empty".into()); }
///     Ok(w * h)
/// }
///
/// assert_eq!(compute_fractal(2), 4);
/// assert_eq!(generate_mandelbrot(2, 3), Ok(6));
/// let t = rfm_perf_core::get_performance_tracker();
/// assert!(t.get_metric("mandelbrot.generation").is_some());
/// ```
#[doc(inline)]
pub use rfm_perf_macros::track_performance;

/// What `#[track_performance]` expands to. Not a public API.
#[doc(hidden)]
pub mod __macro_support {
    pub use crate::scope::{AsyncScopeGuard, ScopeGuard, ScopeSite};
}
