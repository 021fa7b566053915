//! The metrics only the fractal pass records and reads (the ones other plugins read too —
//! iterations, escaped ratio, GPU time — are in `rfm_perf_core::names`).

use rfm_perf_core::names::Builtin;
use rfm_perf_core::{Direction, PerformanceTracker, Unit};

/// Pixels the fractal pass computed this frame.
pub const FRACTAL_PIXELS: &str = "fractal.pixels";
/// The fractal's iteration limit.
pub const FRACTAL_MAX_ITER: &str = "fractal.max_iter";
/// Zoom of the fractal view: the home view's width divided by the current width.
pub const FRACTAL_ZOOM: &str = "fractal.zoom";

/// The pass's own metrics, registered when its plugin is added.
pub const FRACTAL_METRICS: &[Builtin] = &[
    Builtin::new(
        FRACTAL_PIXELS,
        Unit::Count,
        "Pixels the fractal pass computed",
        Direction::Neutral,
    ),
    Builtin::new(
        FRACTAL_MAX_ITER,
        Unit::Count,
        "Fractal iteration limit",
        Direction::Neutral,
    ),
    Builtin::new(
        FRACTAL_ZOOM,
        Unit::None,
        "Fractal zoom (home width / view width)",
        Direction::Neutral,
    ),
];

pub(crate) fn register(tracker: &PerformanceTracker) {
    for m in FRACTAL_METRICS {
        tracker.register_metric(m.info());
    }
}
