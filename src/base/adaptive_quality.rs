//! The adaptive-quality switch and its state: the app, the dashboard toggle or
//! `fractal_explorer --adaptive-fps N` turn it on; the analysis steers the tunables with it
//! ([`rfm_perf_core::adaptive_quality`]) and reports what it did here.

use bevy::prelude::Resource;
use rfm_perf_core::adaptive_quality::QualityStep;
use serde::Serialize;

/// Holds a frame rate by changing the `*.resolution_scale`, `*.max_iter` and `*.interior_check`
/// tunables (opt-in: `enabled` is false by default). The highest quality it uses is what those
/// tunables are set to when it is turned on (or the target changes); the lowest is given here.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::AdaptiveQuality;
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(rfm_perf::RfmPerfPlugin::headless());
/// app.insert_resource(AdaptiveQuality { enabled: true, target_fps: 30.0, ..Default::default() });
/// app.update();
/// // no tunable to steer in this app: it says so
/// assert!(app.world().resource::<AdaptiveQuality>().status.message.contains("no tunable"));
/// ```
#[derive(Resource, Clone, Debug, PartialEq, Serialize)]
pub struct AdaptiveQuality {
    /// Whether it steers. Default false.
    pub enabled: bool,
    /// The frame rate to hold. Default 60.
    pub target_fps: f64,
    /// The lowest resolution scale it may use. Default 0.25.
    pub min_resolution_scale: f64,
    /// The lowest iteration limit it may use. Default 100.
    pub min_max_iter: u32,
    /// Whether it may turn the interior checks on (they cost no quality). Default true.
    pub allow_interior_check: bool,
    /// What it did and where it stands (written by the analysis).
    pub status: AdaptiveStatus,
}

impl Default for AdaptiveQuality {
    fn default() -> Self {
        Self {
            enabled: false,
            target_fps: 60.0,
            min_resolution_scale: 0.25,
            min_max_iter: 100,
            allow_interior_check: true,
            status: AdaptiveStatus::default(),
        }
    }
}

/// Where the controller stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AdaptiveStatus {
    /// Whether it is steering now.
    pub active: bool,
    /// The frame-time budget (ms).
    pub budget_ms: f64,
    /// The quality level in use (0 = the highest) and the number of levels.
    pub level: Option<(usize, usize)>,
    /// Reversals of direction so far.
    pub reversals: u32,
    /// Its changes, oldest first (the newest 256).
    pub steps: Vec<QualityStep>,
    /// One line for people: what it does, or why it cannot.
    pub message: String,
}
