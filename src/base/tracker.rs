//! [`PerfTracker`]: the tracker handle as a Bevy resource.

use bevy::prelude::{Deref, Resource};
use rfm_perf_core::PerformanceTracker;

/// The tracker handle as a resource (derefs to [`PerformanceTracker`]).
///
/// ```
/// # use bevy::prelude::*;
/// fn my_system(tracker: Res<rfm_perf::PerfTracker>) {
///     tracker.track_metric("game.enemies", 12.0);
/// }
/// ```
#[derive(Resource, Clone, Debug, Deref)]
pub struct PerfTracker(pub PerformanceTracker);
