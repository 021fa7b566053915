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
/// Iteration count by which half the escaped pixels had escaped (from the escape histogram).
pub const FRACTAL_ESCAPE_P50: &str = "fractal.escape_p50";
pub use rfm_perf_core::names::FRACTAL_ESCAPE_P99;
/// Share of the computed iterations spent in the costliest 10 % of the image's 32×32 tiles.
pub const FRACTAL_COST_HOTTEST_SHARE: &str = "fractal.cost_hottest_share";

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
    Builtin::new(
        FRACTAL_ESCAPE_P50,
        Unit::Count,
        "Iterations by which half the escaped pixels escaped",
        Direction::Neutral,
    ),
    Builtin::new(
        FRACTAL_ESCAPE_P99,
        Unit::Count,
        "Iterations by which 99 % of the escaped pixels escaped",
        Direction::Neutral,
    ),
    Builtin::new(
        FRACTAL_COST_HOTTEST_SHARE,
        Unit::Percent,
        "Share of the pass's work in its costliest 10 % of tiles",
        Direction::Neutral,
    ),
];

pub(crate) fn register(tracker: &PerformanceTracker) {
    for m in FRACTAL_METRICS {
        tracker.register_metric(m.info());
    }
}
