//! The HTTP API ([`ApiPlugin`]): REST endpoints in the shapes the original Python clients
//! expect, Prometheus text and a live stream, served by axum on a small tokio runtime on its
//! own thread. Handlers read the published snapshot and the tracker's collected history: they
//! never take the per-thread recording locks, only the history store's mutex (which the
//! frame's collect takes once per frame), and copy out of it before doing any work.

mod advice;
mod frame_histogram;
mod guard;
mod handlers;
mod metrics;
mod page;
mod prometheus;
mod publish;
mod query;
mod routes;
mod server;
mod state;

use std::sync::{Arc, RwLock};

use bevy::prelude::*;

pub use crate::base::ApiStatus;
pub use frame_histogram::FRAME_BUCKETS_S;
pub use metrics::{API_METRICS, API_REQUEST_MS, API_REQUESTS};
pub use prometheus::{
    prometheus_name, render_alert_rules, render_build_info, render_escape_histogram,
    render_prometheus, render_tracker_stats,
};
pub use routes::Route;
pub use server::ApiServer;

use crate::base::{
    ApiConfig, PerfConfig, PerfTracker, RfmPerfBasePlugin, RfmPerfSystems, TunableRequests,
};
use frame_histogram::{ApiFrames, count_frame};
use publish::{ApiPublished, Published, PublishedCell, publish_for_api};
use state::AppLink;

/// Serves the API on its own thread (see the module docs). The outcome is in [`ApiStatus`]:
/// an invalid config is refused (nothing binds) and a port that cannot be bound is a warning —
/// the app runs on without the API either way.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::{ApiConfig, ApiStatus, RfmPerfPlugins};
/// use rfm_perf::api::ApiPlugin;
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugins::headless().add(ApiPlugin {
///     config: ApiConfig { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() },
/// }));
/// let addr = app.world().resource::<ApiStatus>().address().expect("serving");
/// assert!(addr.ip().is_loopback() && addr.port() != 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ApiPlugin {
    /// Address, token, CORS, limits, baseline path. Default: `127.0.0.1:8501`, where the
    /// original spec's clients look.
    pub config: ApiConfig,
}

impl Plugin for ApiPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        let config = &self.config;
        if let Err(e) = config.validate() {
            error!("rfm_perf API not started: {e}");
            app.insert_resource(ApiStatus::Invalid(e.to_string()));
            return;
        }
        let tracker = app.world().resource::<PerfTracker>().0.clone();
        metrics::register(&tracker);
        let update_interval = app.world().resource::<PerfConfig>().update_interval;
        let published: PublishedCell = Arc::new(RwLock::new(Arc::new(Published::default())));
        let perf = app.world().resource::<PerfConfig>();
        let link = AppLink {
            tunables: app
                .world()
                .get_resource::<TunableRequests>()
                .map(TunableRequests::sender),
            config: serde_json::json!({
                "update_interval_s": perf.update_interval.as_secs_f64(),
                "metrics_to_show": perf.metrics_to_show,
                "show_bottleneck_analysis": perf.show_bottleneck_analysis,
                "hotkey": format!("{:?}", perf.hotkey),
                "scenario": perf.scenario,
                "max_streams": config.max_streams,
                "token_required": config.token.is_some(),
                "crate_version": env!("CARGO_PKG_VERSION"),
            }),
        };
        match ApiServer::start(
            config.clone(),
            tracker,
            published.clone(),
            update_interval,
            link,
        ) {
            Ok(server) => {
                let address = server.address();
                info!("rfm_perf API listening on http://{}", server.address());
                app.insert_resource(ApiStatus::Running(server.address()))
                    .insert_resource(ApiFrames(server.frames()))
                    .insert_resource(server)
                    .insert_resource(ApiPublished(published))
                    .insert_resource(page::PageLink {
                        url: format!("http://{address}/"),
                        open: config.open_browser,
                    })
                    .add_systems(PostStartup, page::open_page)
                    .add_systems(
                        Last,
                        (count_frame, publish_for_api).in_set(RfmPerfSystems::Serve),
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
}
