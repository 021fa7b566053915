//! [`RfmPerfBasePlugin`]: what every other plugin of the crate builds on.

use std::time::Duration;

use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;
use rfm_perf_core::{PerformanceTracker, get_performance_tracker};

use super::adaptive_quality::AdaptiveQuality;
use super::config::{DEFAULT_METRICS_TO_SHOW, PerfConfig};
use super::frame_metrics::{FRAME_METRICS, FrameWindow, collect_frame, publish_snapshot};
use super::health::HealthThresholds;
use super::insights::Insights;
use super::messages::{
    AlertCleared, AlertRaised, ApplyTunable, PassTimed, TunableRequests, receive_tunable_requests,
};
use super::published::ApiStatus;
use super::sets::RfmPerfSystems;
use super::tracker::PerfTracker;
use super::tunables::{Tunables, apply_tunables};

/// The base: the tracker resource ([`PerfTracker`]), [`PerfConfig`], the system sets
/// ([`RfmPerfSystems`]), the tunable-parameter registry ([`Tunables`]), the messages, the
/// frame metrics (`frame.time_ms`, `frame.fps`, `frame.fps_1pct_low`, allocations per frame)
/// and the snapshot at the update interval. It also starts the resources other plugins publish
/// into ([`Insights`], [`HealthThresholds`], [`ApiStatus`]), so readers always find them.
///
/// Every other plugin of the crate adds it when it is missing; [`RfmPerfPlugins`](crate::RfmPerfPlugins)
/// starts with it.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::{PerfTracker, RfmPerfBasePlugin};
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(RfmPerfBasePlugin {
///     tracker: Some(rfm_perf::PerformanceTracker::new()),
///     ..Default::default()
/// });
/// app.update();
/// app.update();
/// assert!(app.world().resource::<PerfTracker>().get_metric("frame.time_ms").is_some());
/// ```
#[derive(Clone, Debug)]
pub struct RfmPerfBasePlugin {
    /// How often the snapshot (and the analysis, the API's state, the dashboard's data, the
    /// system sampler) refreshes. Default 1 s.
    pub update_interval: Duration,
    /// Metrics the real-time panel shows (built-in names or their short aliases).
    /// Default: [`DEFAULT_METRICS_TO_SHOW`].
    pub metrics_to_show: Vec<String>,
    /// Whether the dashboard shows the bottleneck analyzer. Default `true`.
    pub show_bottleneck_analysis: bool,
    /// Key that toggles the dashboard. Default F12.
    pub hotkey: KeyCode,
    /// Window of the 1 % low FPS. Default 10 s.
    pub fps_low_window: Duration,
    /// What runs (a level, a benchmark path): baselines are keyed by it, with the machine's
    /// fingerprint. Default `"default"`.
    pub scenario: String,
    /// Tracker to record into. Default `None`: the global tracker, which
    /// `#[track_performance]` and `perf_scope!` write to.
    pub tracker: Option<PerformanceTracker>,
}

impl Default for RfmPerfBasePlugin {
    fn default() -> Self {
        Self {
            update_interval: Duration::from_secs(1),
            metrics_to_show: DEFAULT_METRICS_TO_SHOW
                .iter()
                .map(|s| s.to_string())
                .collect(),
            show_bottleneck_analysis: true,
            hotkey: KeyCode::F12,
            fps_low_window: Duration::from_secs(10),
            scenario: "default".into(),
            tracker: None,
        }
    }
}

impl RfmPerfBasePlugin {
    /// The runtime config this plugin starts with, with nonsense values corrected (and warned about).
    ///
    /// ```
    /// let base = rfm_perf::RfmPerfBasePlugin { update_interval: std::time::Duration::ZERO, ..Default::default() };
    /// assert_eq!(base.config().update_interval, std::time::Duration::from_secs(1));
    /// ```
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
            fps_low_window,
            scenario: if self.scenario.trim().is_empty() {
                "default".into()
            } else {
                self.scenario.trim().to_string()
            },
        }
    }
}

impl Plugin for RfmPerfBasePlugin {
    fn build(&self, app: &mut App) {
        let tracker = self
            .tracker
            .clone()
            .unwrap_or_else(|| get_performance_tracker().clone());
        tracker.set_frame_driver(true);
        tracker.set_scenario(self.config().scenario);
        tracker.update_hardware(fill_machine);
        for m in FRAME_METRICS {
            tracker.register_metric(m.info());
        }
        app.insert_resource(PerfTracker(tracker))
            .insert_resource(self.config())
            .init_resource::<Tunables>()
            .init_resource::<TunableRequests>()
            .init_resource::<FrameWindow>()
            .init_resource::<HealthThresholds>()
            .init_resource::<Insights>()
            .init_resource::<ApiStatus>()
            .add_message::<AlertRaised>()
            .add_message::<AlertCleared>()
            .add_message::<ApplyTunable>()
            .add_message::<PassTimed>()
            .init_resource::<AdaptiveQuality>()
            .configure_sets(
                Last,
                (
                    RfmPerfSystems::Bridge,
                    RfmPerfSystems::Collect,
                    RfmPerfSystems::Publish,
                    RfmPerfSystems::Analyze,
                    RfmPerfSystems::Serve,
                )
                    .chain(),
            )
            .add_systems(
                PreUpdate,
                (receive_tunable_requests, apply_tunables)
                    .chain()
                    .in_set(RfmPerfSystems::ApplyTunables),
            )
            .add_systems(Last, collect_frame.in_set(RfmPerfSystems::Collect))
            .add_systems(Last, publish_snapshot.in_set(RfmPerfSystems::Publish));
    }
}

/// CPU, cores, memory and OS into the hardware fingerprint (the GPU comes from the renderer).
fn fill_machine(h: &mut rfm_perf_core::HardwareFingerprint) {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    sys.refresh_memory_specifics(sysinfo::MemoryRefreshKind::nothing().with_ram());
    h.cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .unwrap_or_default();
    h.cores = sys.cpus().len();
    h.memory_gib = (sys.total_memory() as f64 / f64::from(1u32 << 30)).round() as u64;
    h.os = sysinfo::System::long_os_version().unwrap_or_default();
}
