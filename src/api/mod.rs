//! The HTTP API: REST endpoints in the seed's shapes, Prometheus text and a live stream, served
//! by axum on a small tokio runtime on its own thread. Handlers read the published snapshot and
//! the tracker's collected history: they never take the per-thread recording locks, only the
//! history store's mutex (which the frame's collect takes once per frame), and copy out of it
//! before doing any work.

mod prometheus;
mod query;
mod routes;
mod server;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bevy::prelude::*;

pub use prometheus::{prometheus_name, render_prometheus};
pub use server::ApiServer;

use crate::ApiConfig;
use crate::insights::Insights;
use crate::plugin::{PerfConfig, PerfTracker};
use crate::status::Thresholds;

/// State of the API server, for the dashboard and tests.
///
/// ```
/// let s = rfm_perf::api::ApiStatus::Disabled;
/// assert!(s.address().is_none());
/// ```
#[derive(Resource, Clone, Debug, PartialEq)]
pub enum ApiStatus {
    /// Not configured to run.
    Disabled,
    /// Refused: the configuration is invalid (the message says why).
    Invalid(String),
    /// Could not bind (e.g. the port is taken); the app runs on without the API.
    BindFailed(String),
    /// Serving on this address (the real port when port 0 was asked for).
    Running(std::net::SocketAddr),
}

impl ApiStatus {
    /// The bound address while running.
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        match self {
            ApiStatus::Running(a) => Some(*a),
            _ => None,
        }
    }
}

/// What the server shows besides the tracker itself, republished at the update interval.
#[derive(Clone, Debug, Default)]
pub(crate) struct Published {
    pub(crate) insights: Insights,
    pub(crate) thresholds: Thresholds,
    pub(crate) scopes: Vec<rfm_perf_core::ScopeStats>,
    pub(crate) latest_frame: Option<Arc<rfm_perf_core::FrameProfile>>,
    pub(crate) slowest_frame: Option<Arc<rfm_perf_core::FrameProfile>>,
    /// The GPU the fractal pass runs on (JSON), once the render world has reported it.
    pub(crate) gpu: Option<serde_json::Value>,
    /// Status of the fractal pass (JSON), when the fractal plugin is present.
    pub(crate) fractal: Option<serde_json::Value>,
}

/// Shared between the app (writer, once per interval) and the server (readers).
pub(crate) type PublishedCell = Arc<RwLock<Arc<Published>>>;

#[derive(Resource, Clone)]
pub(crate) struct ApiPublished(pub(crate) PublishedCell);

/// Starts the server if the config is valid; records the outcome in [`ApiStatus`].
pub(crate) fn start(
    app: &mut App,
    config: &ApiConfig,
    tracker: PerfTracker,
    update_interval: Duration,
) {
    if let Err(e) = config.validate() {
        error!("rfm_perf API not started: {e}");
        app.insert_resource(ApiStatus::Invalid(e.to_string()));
        return;
    }
    let published: PublishedCell = Arc::new(RwLock::new(Arc::new(Published::default())));
    match ApiServer::start(
        config.clone(),
        tracker.0.clone(),
        published.clone(),
        update_interval,
    ) {
        Ok(server) => {
            info!("rfm_perf API listening on http://{}", server.address());
            app.insert_resource(ApiStatus::Running(server.address()))
                .insert_resource(server)
                .insert_resource(ApiPublished(published))
                .add_systems(
                    Last,
                    publish_for_api
                        .in_set(crate::RfmPerfSystems::Publish)
                        .after(crate::insights::update_insights),
                );
        }
        Err(e) => {
            warn!(
                "rfm_perf API could not listen on {}: {e}; the app runs on without it",
                config.bind
            );
            app.insert_resource(ApiStatus::BindFailed(format!("{}: {e}", config.bind)));
        }
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "a Bevy system's inputs; how many depends on the enabled features"
)]
fn publish_for_api(
    time: Res<'_, Time<Real>>,
    tracker: Res<'_, PerfTracker>,
    config: Res<'_, PerfConfig>,
    insights: Res<'_, Insights>,
    thresholds: Res<'_, Thresholds>,
    cell: Res<'_, ApiPublished>,
    mut last: Local<'_, Option<Duration>>,
    #[cfg(feature = "fractal")] gpu: Option<Res<'_, crate::fractal::gpu::GpuInfo>>,
    #[cfg(feature = "fractal")] fractal: Option<Res<'_, crate::fractal::gpu::FractalStatus>>,
) {
    if !crate::diagnostics::update_due(&time, &mut last, config.update_interval) {
        return;
    }
    let published = Published {
        insights: insights.clone(),
        thresholds: thresholds.clone(),
        scopes: tracker.scope_stats(),
        latest_frame: tracker.latest_frame(),
        slowest_frame: tracker.slowest_frames().into_iter().next(),
        #[cfg(feature = "fractal")]
        gpu: gpu
            .filter(|g| !g.adapter.is_empty())
            .and_then(|g| serde_json::to_value(&*g).ok()),
        #[cfg(not(feature = "fractal"))]
        gpu: None,
        #[cfg(feature = "fractal")]
        fractal: fractal.and_then(|f| serde_json::to_value(&*f).ok()),
        #[cfg(not(feature = "fractal"))]
        fractal: None,
    };
    *cell.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(published);
}
