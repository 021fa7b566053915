//! [`RfmPerfPlugin`]: adds the tracker to a Bevy app, bridges diagnostics, samples the system
//! and hosts the sub-plugins (dashboard, API, fractal pass) and the tunable-parameter registry.

use std::net::SocketAddr;
use std::time::Duration;

use bevy::diagnostic::EntityCountDiagnosticsPlugin;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;
use rfm_perf_core::{PerformanceTracker, get_performance_tracker};

use crate::diagnostics::{self, FrameWindow};
use crate::system::SystemSampler;
use crate::tunables::{self, Tunables};

/// The seed's default `metrics_to_show`.
pub const DEFAULT_METRICS_TO_SHOW: [&str; 5] = [
    "render_time",
    "fps",
    "memory_usage",
    "gpu_utilization",
    "complexity",
];

/// Adds performance tracking to a Bevy app.
///
/// Mirrors the seed's `launch_dashboard(update_interval, metrics_to_show, show_bottleneck_analysis)`
/// plus a hotkey. Every field is public; [`Default`] gives the documented defaults.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::prelude::*;
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugin::default()
///         .launch_dashboard(1.0, ["render_time", "memory_usage", "fps"], true)
///         .with_api(false),
/// );
/// app.update();
/// app.update();
/// let tracker = app.world().resource::<PerfTracker>();
/// assert!(tracker.get_metric("frame.time_ms").is_some());
/// ```
#[derive(Clone, Debug)]
pub struct RfmPerfPlugin {
    /// How often snapshots (dashboard, API, analysis) refresh and the system is sampled. Default 1 s.
    pub update_interval: Duration,
    /// Metrics the real-time panel shows (built-in names or the seed's short names).
    /// Default: [`DEFAULT_METRICS_TO_SHOW`].
    pub metrics_to_show: Vec<String>,
    /// Whether the dashboard shows the bottleneck analyzer. Default `true`.
    pub show_bottleneck_analysis: bool,
    /// Key that toggles the dashboard overlay ([`DashboardOverlay`](crate::overlay::DashboardOverlay)). Default F12.
    pub hotkey: KeyCode,
    /// Add the in-game dashboard (needs the `dashboard` feature and a window). Default `true`.
    /// Adds the hotkey toggle ([`DashboardOverlay`](crate::overlay::DashboardOverlay)) and, when
    /// the app renders, the bevy_egui windows ([`DashboardUiPlugin`](crate::ui::overlay::DashboardUiPlugin)).
    pub dashboard: bool,
    /// Serve the REST/Prometheus API (needs the `api` feature). Default `true`.
    pub api: bool,
    /// API settings: address (default `127.0.0.1:8501`, where the seed's clients look),
    /// token, CORS, limits, baseline path.
    pub api_config: crate::ApiConfig,
    /// Register the fractal compute pass (needs the `fractal` feature; add this plugin after
    /// Bevy's render plugins). It dispatches only while a
    /// [`FractalSettings`](crate::fractal::gpu::FractalSettings) resource exists; without a
    /// render app its status is `NoRenderer`. Default `true`.
    pub fractal: bool,
    /// Sample CPU, memory and I/O on a background thread. Default `true`.
    pub system_sampling: bool,
    /// Copy every Bevy `DiagnosticsStore` diagnostic into the tracker. Default `true`.
    pub bridge_diagnostics: bool,
    /// Window of the 1 % low FPS. Default 10 s.
    pub fps_low_window: Duration,
    /// Tracker to record into. Default `None`: the global tracker, which
    /// `#[track_performance]` and `perf_scope!` write to.
    pub tracker: Option<PerformanceTracker>,
}

impl Default for RfmPerfPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl RfmPerfPlugin {
    /// The plugin with every default (see the fields).
    pub fn new() -> Self {
        Self {
            update_interval: Duration::from_secs(1),
            metrics_to_show: DEFAULT_METRICS_TO_SHOW
                .iter()
                .map(|s| s.to_string())
                .collect(),
            show_bottleneck_analysis: true,
            hotkey: KeyCode::F12,
            dashboard: true,
            api: true,
            api_config: crate::ApiConfig::default(),
            fractal: true,
            system_sampling: true,
            bridge_diagnostics: true,
            fps_low_window: Duration::from_secs(10),
            tracker: None,
        }
    }

    /// Tracking only: no dashboard, no API server, no fractal pass (tests, servers, CI).
    ///
    /// ```
    /// let p = rfm_perf::RfmPerfPlugin::headless();
    /// assert!(!p.dashboard && !p.api && !p.fractal);
    /// ```
    pub fn headless() -> Self {
        Self {
            dashboard: false,
            api: false,
            fractal: false,
            ..Self::new()
        }
    }

    /// The seed's `launch_dashboard(update_interval, metrics_to_show, show_bottleneck_analysis)`.
    pub fn launch_dashboard<S: Into<String>>(
        mut self,
        update_interval: f64,
        metrics_to_show: impl IntoIterator<Item = S>,
        show_bottleneck_analysis: bool,
    ) -> Self {
        self.update_interval =
            Duration::try_from_secs_f64(update_interval).unwrap_or(Duration::ZERO);
        self.metrics_to_show = metrics_to_show.into_iter().map(Into::into).collect();
        self.show_bottleneck_analysis = show_bottleneck_analysis;
        self.dashboard = true;
        self
    }

    /// Sets the dashboard hotkey.
    pub fn with_hotkey(mut self, key: KeyCode) -> Self {
        self.hotkey = key;
        self
    }

    /// Turns the API server on or off.
    pub fn with_api(mut self, on: bool) -> Self {
        self.api = on;
        self
    }

    /// Sets the API settings (and turns the API on).
    pub fn with_api_config(mut self, config: crate::ApiConfig) -> Self {
        self.api_config = config;
        self.api = true;
        self
    }

    /// Records into `tracker` instead of the global one.
    pub fn with_tracker(mut self, tracker: PerformanceTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// The runtime config this plugin starts with, with nonsense values corrected (and warned about).
    pub fn config(&self) -> PerfConfig {
        let mut update_interval = self.update_interval;
        if update_interval < Duration::from_millis(10) {
            warn!("rfm_perf: update_interval {update_interval:?} is too small; using 1 s");
            update_interval = Duration::from_secs(1);
        }
        let mut fps_low_window = self.fps_low_window;
        if fps_low_window.is_zero() {
            warn!("rfm_perf: fps_low_window is zero; using 10 s");
            fps_low_window = Duration::from_secs(10);
        }
        let metrics_to_show = self
            .metrics_to_show
            .iter()
            .filter(|m| {
                let ok = !m.trim().is_empty();
                if !ok {
                    warn!("rfm_perf: ignoring an empty name in metrics_to_show");
                }
                ok
            })
            .map(|m| rfm_perf_core::names::resolve_alias(m.trim()).to_string())
            .collect();
        PerfConfig {
            update_interval,
            metrics_to_show,
            show_bottleneck_analysis: self.show_bottleneck_analysis,
            hotkey: self.hotkey,
            api_bind: self.api_config.bind,
            fps_low_window,
        }
    }
}

/// The plugin's settings as a resource, changeable at run time.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct PerfConfig {
    /// Snapshot and sampling interval.
    pub update_interval: Duration,
    /// Canonical names of the metrics the real-time panel shows.
    pub metrics_to_show: Vec<String>,
    /// Whether the bottleneck analyzer is shown.
    pub show_bottleneck_analysis: bool,
    /// Dashboard hotkey.
    pub hotkey: KeyCode,
    /// Where the API listens.
    pub api_bind: SocketAddr,
    /// Window of the 1 % low FPS.
    pub fps_low_window: Duration,
}

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

/// The plugin's system sets, so apps can order their systems against them.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RfmPerfSystems {
    /// `PreUpdate`: applies tunable-parameter changes.
    ApplyTunables,
    /// `Last`: copies Bevy diagnostics into the tracker.
    Bridge,
    /// `Last`, after `Bridge`: frame metrics and the end of the tracker's frame.
    Collect,
    /// `Last`, after `Collect`: snapshot, alerts, suggestions and API state at the update interval.
    Publish,
}

impl Plugin for RfmPerfPlugin {
    fn build(&self, app: &mut App) {
        let tracker = self
            .tracker
            .clone()
            .unwrap_or_else(|| get_performance_tracker().clone());
        tracker.set_frame_driver(true);
        let config = self.config();
        app.insert_resource(PerfTracker(tracker.clone()))
            .insert_resource(config.clone())
            .init_resource::<Tunables>()
            .init_resource::<FrameWindow>()
            .init_resource::<crate::status::Thresholds>()
            .init_resource::<crate::insights::Insights>()
            .init_resource::<crate::insights::SuggestionRules>()
            .configure_sets(
                Last,
                (
                    RfmPerfSystems::Bridge,
                    RfmPerfSystems::Collect,
                    RfmPerfSystems::Publish,
                )
                    .chain(),
            )
            .add_systems(
                PreUpdate,
                tunables::apply_tunables.in_set(RfmPerfSystems::ApplyTunables),
            )
            .add_systems(
                Last,
                diagnostics::collect_frame.in_set(RfmPerfSystems::Collect),
            )
            .add_systems(
                Last,
                (
                    diagnostics::publish_snapshot,
                    crate::insights::update_insights,
                )
                    .chain()
                    .in_set(RfmPerfSystems::Publish),
            );
        #[cfg(feature = "dashboard")]
        if self.dashboard && app.get_sub_app(bevy::render::RenderApp).is_some() {
            app.add_plugins(crate::ui::overlay::DashboardUiPlugin);
        }
        if self.dashboard {
            app.init_resource::<crate::overlay::DashboardOverlay>()
                .add_systems(
                    PreUpdate,
                    crate::overlay::toggle_overlay.after(bevy::input::InputSystems),
                );
        }
        if self.bridge_diagnostics {
            if !app.is_plugin_added::<EntityCountDiagnosticsPlugin>() {
                app.add_plugins(EntityCountDiagnosticsPlugin::default());
            }
            app.add_systems(
                Last,
                diagnostics::bridge_diagnostics.in_set(RfmPerfSystems::Bridge),
            );
        }
        #[cfg(feature = "api")]
        if self.api {
            crate::api::start(
                app,
                &self.api_config,
                PerfTracker(tracker.clone()),
                config.update_interval,
            );
        } else {
            app.insert_resource(crate::api::ApiStatus::Disabled);
        }
        #[cfg(not(feature = "api"))]
        if self.api {
            warn!("rfm_perf: the API is on in the config but this build lacks the `api` feature");
        }
        if self.system_sampling {
            match SystemSampler::start(tracker, config.update_interval) {
                Ok(s) => {
                    app.insert_resource(s);
                }
                Err(e) => warn!("rfm_perf: could not start the system sampler thread: {e}"),
            }
        }
        #[cfg(feature = "fractal")]
        if self.fractal {
            app.add_plugins(crate::fractal::gpu::FractalGpuPlugin::default());
        }
    }
}
