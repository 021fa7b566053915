//! The plugin group ([`RfmPerfPlugins`]) and the one-line entry ([`RfmPerfPlugin`]) that adds it.
//! They name every leaf, so they sit above them.

use std::time::Duration;

use bevy::app::PluginGroupBuilder;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;
use rfm_perf_core::PerformanceTracker;

use crate::analysis::AnalysisPlugin;
use crate::base::{ApiConfig, PerfConfig, RfmPerfBasePlugin};
use crate::bridge::DiagnosticsBridgePlugin;
use crate::system::SystemSamplerPlugin;
use crate::ui::DashboardPlugin;

/// Every plugin of the crate, as Bevy's `DefaultPlugins` groups Bevy's: the base
/// ([`RfmPerfBasePlugin`]), the diagnostics bridge, the system sampler, the analysis, the
/// dashboard and — with their features — the API and the fractal pass. Add it after Bevy's
/// render plugins; change one with `.set(..)`, leave one out with `.disable::<..>()`.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::system::SystemSamplerPlugin;
/// use rfm_perf::ui::{DashboardPlugin, DashboardVisibility};
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugins::headless() // or RfmPerfPlugins.build(): everything
///         .disable::<DashboardPlugin>()
///         .set(SystemSamplerPlugin { interval: Some(std::time::Duration::from_secs(2)) }),
/// );
/// app.update();
/// assert!(app.world().get_resource::<DashboardVisibility>().is_none());
/// assert_eq!(*app.world().resource::<rfm_perf::ApiStatus>(), rfm_perf::ApiStatus::Disabled);
/// ```
pub struct RfmPerfPlugins;

impl PluginGroup for RfmPerfPlugins {
    fn build(self) -> PluginGroupBuilder {
        let group = PluginGroupBuilder::start::<Self>()
            .add(RfmPerfBasePlugin::default())
            .add(DiagnosticsBridgePlugin::default())
            .add(SystemSamplerPlugin::default())
            .add(AnalysisPlugin::default())
            .add(DashboardPlugin::default());
        #[cfg(feature = "api")]
        let group = group.add(crate::api::ApiPlugin::default());
        #[cfg(feature = "fractal")]
        let group = group.add(crate::fractal::gpu::FractalGpuPlugin::default());
        group
    }
}

impl RfmPerfPlugins {
    /// The group without the dashboard, the API and the fractal pass: tracking and analysis
    /// only (tests, servers, CI). `.add(..)` puts one back.
    ///
    /// ```
    /// use bevy::prelude::*;
    /// let mut app = App::new();
    /// app.add_plugins(MinimalPlugins).add_plugins(rfm_perf::RfmPerfPlugins::headless());
    /// app.update();
    /// assert!(app.world().get_resource::<rfm_perf::ui::DashboardVisibility>().is_none());
    /// ```
    pub fn headless() -> PluginGroupBuilder {
        let group = RfmPerfPlugins.build().disable::<DashboardPlugin>();
        #[cfg(feature = "api")]
        let group = group.disable::<crate::api::ApiPlugin>();
        #[cfg(feature = "fractal")]
        let group = group.disable::<crate::fractal::gpu::FractalGpuPlugin>();
        group
    }
}

/// Adds performance tracking to a Bevy app in one line: [`RfmPerfPlugins`] with the settings
/// of its fields (a `false` field leaves that plugin out).
///
/// Mirrors the original spec's `launch_dashboard(update_interval, metrics_to_show,
/// show_bottleneck_analysis)` plus a hotkey. Every field is public; [`Default`] gives the
/// documented defaults.
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
    /// Metrics the real-time panel shows (built-in names or their short aliases).
    /// Default: [`DEFAULT_METRICS_TO_SHOW`](crate::DEFAULT_METRICS_TO_SHOW).
    pub metrics_to_show: Vec<String>,
    /// Whether the dashboard shows the bottleneck analyzer. Default `true`.
    pub show_bottleneck_analysis: bool,
    /// Key that toggles the dashboard ([`DashboardVisibility`](crate::ui::DashboardVisibility)). Default F12.
    pub hotkey: KeyCode,
    /// Add the dashboard ([`DashboardPlugin`]): the hotkey toggle and, with the `dashboard`
    /// feature in an app that renders, the bevy_egui windows. Default `true`.
    pub dashboard: bool,
    /// Serve the REST/Prometheus API (needs the `api` feature). Default `true`.
    pub api: bool,
    /// API settings: address (default `127.0.0.1:8501`, where the original spec's clients
    /// look), token, CORS, limits, baseline path.
    pub api_config: ApiConfig,
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
    /// What runs (a level, a benchmark path): baselines are keyed by it. Default `"default"`.
    pub scenario: String,
    /// The alert rule file ([`AnalysisPlugin::alert_rules`]). Default `assets/alerts.toml`.
    pub alert_rules: Option<std::path::PathBuf>,
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
        let base = RfmPerfBasePlugin::default();
        Self {
            update_interval: base.update_interval,
            metrics_to_show: base.metrics_to_show,
            show_bottleneck_analysis: base.show_bottleneck_analysis,
            hotkey: base.hotkey,
            dashboard: true,
            api: true,
            api_config: ApiConfig::default(),
            fractal: true,
            system_sampling: true,
            bridge_diagnostics: true,
            fps_low_window: base.fps_low_window,
            scenario: base.scenario,
            alert_rules: AnalysisPlugin::default().alert_rules,
            tracker: base.tracker,
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

    /// The original spec's `launch_dashboard(update_interval, metrics_to_show,
    /// show_bottleneck_analysis)`.
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
        // as the original spec's did, show the page in the browser: here when the app has no
        // window (a window has the F12 dashboard)
        if self.api_config.open_browser == crate::base::OpenBrowser::Never {
            self.api_config.open_browser = crate::base::OpenBrowser::WithoutWindow;
        }
        self
    }

    /// Opens the browser dashboard (served by the API at `GET /`) in the default browser once
    /// the server is up — always with `true` (windowed apps too), never with `false`. Never where
    /// `CI` is set or there is no display: the URL is printed instead.
    ///
    /// ```
    /// use rfm_perf::{OpenBrowser, RfmPerfPlugin};
    /// let p = RfmPerfPlugin::new().launch_dashboard(1.0, ["fps"], true);
    /// assert_eq!(p.api_config.open_browser, OpenBrowser::WithoutWindow);
    /// assert_eq!(p.open_browser(true).api_config.open_browser, OpenBrowser::Always);
    /// ```
    pub fn open_browser(mut self, always: bool) -> Self {
        self.api_config.open_browser = if always {
            crate::base::OpenBrowser::Always
        } else {
            crate::base::OpenBrowser::Never
        };
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
    pub fn with_api_config(mut self, config: ApiConfig) -> Self {
        self.api_config = config;
        self.api = true;
        self
    }

    /// Reads the alert rules from `path` (re-read when it changes).
    pub fn with_alert_rules(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.alert_rules = Some(path.into());
        self
    }

    /// Records into `tracker` instead of the global one.
    pub fn with_tracker(mut self, tracker: PerformanceTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// The base plugin these fields configure.
    pub fn base(&self) -> RfmPerfBasePlugin {
        RfmPerfBasePlugin {
            update_interval: self.update_interval,
            metrics_to_show: self.metrics_to_show.clone(),
            show_bottleneck_analysis: self.show_bottleneck_analysis,
            hotkey: self.hotkey,
            fps_low_window: self.fps_low_window,
            scenario: self.scenario.clone(),
            tracker: self.tracker.clone(),
        }
    }

    /// The runtime config this plugin starts with, with nonsense values corrected (and warned about).
    pub fn config(&self) -> PerfConfig {
        self.base().config()
    }

    /// The group these fields describe: [`RfmPerfPlugins`] with each `false` field's plugin
    /// disabled and the settings applied.
    ///
    /// ```
    /// let group = rfm_perf::RfmPerfPlugin::headless().plugins();
    /// assert!(!group.enabled::<rfm_perf::ui::DashboardPlugin>());
    /// assert!(group.enabled::<rfm_perf::analysis::AnalysisPlugin>());
    /// ```
    pub fn plugins(&self) -> PluginGroupBuilder {
        let mut group = RfmPerfPlugins.build().set(self.base()).set(AnalysisPlugin {
            alert_rules: self.alert_rules.clone(),
            ..AnalysisPlugin::default()
        });
        if !self.bridge_diagnostics {
            group = group.disable::<DiagnosticsBridgePlugin>();
        }
        if !self.system_sampling {
            group = group.disable::<SystemSamplerPlugin>();
        }
        if !self.dashboard {
            group = group.disable::<DashboardPlugin>();
        }
        #[cfg(feature = "api")]
        {
            group = if self.api {
                group.set(crate::api::ApiPlugin {
                    config: self.api_config.clone(),
                })
            } else {
                group.disable::<crate::api::ApiPlugin>()
            };
        }
        #[cfg(feature = "fractal")]
        if !self.fractal {
            group = group.disable::<crate::fractal::gpu::FractalGpuPlugin>();
        }
        group
    }
}

impl Plugin for RfmPerfPlugin {
    fn build(&self, app: &mut App) {
        #[cfg(not(feature = "api"))]
        if self.api {
            warn!("rfm_perf: the API is on in the config but this build lacks the `api` feature");
        }
        app.add_plugins(self.plugins());
    }
}
