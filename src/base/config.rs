//! [`PerfConfig`]: the plugins' shared settings as a resource, changeable at run time.

use std::time::Duration;

use bevy::input::keyboard::KeyCode;
use bevy::prelude::Resource;

/// The default metrics of the real-time panel: the original spec's short names for frame time,
/// FPS, process memory, GPU utilisation and fractal complexity.
pub const DEFAULT_METRICS_TO_SHOW: [&str; 5] = [
    "render_time",
    "fps",
    "memory_usage",
    "gpu_utilization",
    "complexity",
];

/// The plugins' settings as a resource, changeable at run time. The base plugin inserts it
/// from its fields (nonsense values corrected and warned about).
///
/// ```
/// use bevy::prelude::*;
/// fn slower_refresh(mut config: ResMut<rfm_perf::PerfConfig>) {
///     config.update_interval = std::time::Duration::from_secs(2);
/// }
/// ```
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct PerfConfig {
    /// Snapshot, analysis and sampling interval.
    pub update_interval: Duration,
    /// Canonical names of the metrics the real-time panel shows.
    pub metrics_to_show: Vec<String>,
    /// Whether the bottleneck analyzer is shown.
    pub show_bottleneck_analysis: bool,
    /// Dashboard hotkey.
    pub hotkey: KeyCode,
    /// Window of the 1 % low FPS.
    pub fps_low_window: Duration,
    /// What runs (a level, a benchmark path): baselines are keyed by it. Changing it takes
    /// effect at the next update interval.
    pub scenario: String,
}
