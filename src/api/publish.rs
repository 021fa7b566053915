//! What the server shows besides the tracker itself: the analysis' insights, the health
//! thresholds, scope statistics, frames, the GPU and its pass — copied from the app at the
//! update interval into one `Arc` the server threads read without touching the app.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use crate::base::{
    GpuPassStatus, GpuSummary, HealthThresholds, Insights, PassCost, PerfConfig, PerfTracker,
    update_due,
};

/// The app's published state, as the server reads it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Published {
    pub(crate) insights: Insights,
    pub(crate) thresholds: HealthThresholds,
    pub(crate) scopes: Vec<rfm_perf_core::ScopeStats>,
    pub(crate) latest_frame: Option<Arc<rfm_perf_core::FrameProfile>>,
    pub(crate) slowest_frame: Option<Arc<rfm_perf_core::FrameProfile>>,
    /// The GPU the fractal pass runs on (JSON), once the render world has reported it.
    pub(crate) gpu: Option<serde_json::Value>,
    /// Status of the fractal pass (JSON), when the app has one.
    pub(crate) gpu_pass: Option<serde_json::Value>,
    /// Where the pass's work went in its newest frame read back, when it has one.
    pub(crate) cost: Option<Arc<PassCost>>,
}

/// Shared between the app (writer, once per interval) and the server (readers).
pub(crate) type PublishedCell = Arc<RwLock<Arc<Published>>>;

#[derive(Resource, Clone)]
pub(crate) struct ApiPublished(pub(crate) PublishedCell);

/// What [`publish_for_api`] copies.
#[derive(SystemParam)]
pub(crate) struct PublishSources<'w> {
    time: Res<'w, Time<Real>>,
    tracker: Res<'w, PerfTracker>,
    config: Res<'w, PerfConfig>,
    insights: Res<'w, Insights>,
    thresholds: Res<'w, HealthThresholds>,
    gpu: Option<Res<'w, GpuSummary>>,
    gpu_pass: Option<Res<'w, GpuPassStatus>>,
    cost: Option<Res<'w, PassCost>>,
}

/// Copies the app's published state for the server, at the update interval.
pub(crate) fn publish_for_api(
    sources: PublishSources,
    cell: Res<ApiPublished>,
    mut last: Local<Option<Duration>>,
) {
    if !update_due(&sources.time, &mut last, sources.config.update_interval) {
        return;
    }
    let tracker = &sources.tracker;
    let published = Published {
        insights: sources.insights.clone(),
        thresholds: sources.thresholds.clone(),
        scopes: tracker.scope_stats(),
        latest_frame: tracker.latest_frame(),
        slowest_frame: tracker.slowest_frames().into_iter().next(),
        gpu: sources
            .gpu
            .filter(|g| !g.adapter.is_empty())
            .and_then(|g| serde_json::to_value(&*g).ok()),
        gpu_pass: sources
            .gpu_pass
            .and_then(|f| serde_json::to_value(&*f).ok()),
        cost: sources
            .cost
            .filter(|c| c.generation != 0)
            .map(|c| Arc::new((*c).clone())),
    };
    *cell.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(published);
}
