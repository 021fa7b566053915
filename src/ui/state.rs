//! The dashboard's state: layout, open windows, the always-on switches, and the data the
//! panels draw, gathered once per update interval ([`DashboardUi::refresh`]).

use std::time::{Duration, Instant};

use bevy::prelude::Resource;

use super::bottleneck::{BottleneckData, BottleneckState};
use super::data::DashboardData;
use super::panels::tunable_views;
use super::system_panel::SystemData;
use super::timeline::TimelineState;
use super::toasts::Toast;
use crate::base::{AdaptiveQuality, GpuSummary, HealthThresholds, Insights, PassCost, Tunables};

/// How much the dashboard shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// The metrics window only (with the alerts): the game stays visible. What F12 opens
    /// first.
    #[default]
    Compact,
    /// Every open panel in its own window (one click on "Full").
    Full,
}

/// Which panel windows are open (remembered across runs in the layout file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct OpenPanels {
    /// Timeline.
    pub timeline: bool,
    /// Bottleneck analyzer.
    pub bottlenecks: bool,
    /// System (CPU, memory, GPU, I/O).
    pub system: bool,
    /// Suggestions and alerts.
    pub suggestions: bool,
    /// Where GPU time goes: the fractal pass's cost per tile and escape histogram (closed at
    /// first; opens where the timeline does).
    pub gpu_cost: bool,
}

impl Default for OpenPanels {
    fn default() -> Self {
        Self {
            timeline: true,
            bottlenecks: true,
            system: true,
            suggestions: true,
            gpu_cost: false,
        }
    }
}

/// The dashboard's UI state and the data it draws (a resource).
///
/// ```
/// let ui = rfm_perf::ui::DashboardUi::default();
/// assert!(ui.show_fps_overlay && ui.show_status_bar && ui.show_toasts);
/// ```
#[derive(Resource)]
pub struct DashboardUi {
    /// Compact or full.
    pub layout: Layout,
    /// Open panel windows.
    pub open: OpenPanels,
    /// The small FPS counter in the top-right corner, shown even with the dashboard closed.
    pub show_fps_overlay: bool,
    /// The health bar at the bottom, shown even with the dashboard closed.
    pub show_status_bar: bool,
    /// Toasts when an alert is raised.
    pub show_toasts: bool,
    /// Timeline panel state.
    pub timeline: TimelineState,
    /// Bottleneck panel state.
    pub bottlenecks: BottleneckState,
    pub(crate) data: DashboardData,
    pub(crate) bottleneck_data: BottleneckData,
    pub(crate) system: SystemData,
    /// The iteration limit of the frame on screen while the pass colours by cost (the
    /// always-on heatmap legend shows then).
    pub(crate) heatmap_max_iter: Option<u32>,
    refreshed: Option<Instant>,
    pub(crate) toasts: Vec<Toast>,
    pub(crate) was_visible: bool,
    /// Opacity of the dashboard windows (1 = opaque; down to 0.3 so the game shows through).
    pub opacity: f32,
    /// Where the always-on pieces sit.
    pub placement: super::placement::AlwaysOnPlacement,
    /// Where each dashboard window was last (`[x, y, width, height]` in points), by window.
    pub(crate) window_rects: std::collections::BTreeMap<String, [f32; 4]>,
    /// The bottleneck analyzer's "Export trace".
    pub(crate) trace_export: super::trace_export::TraceExport,
}

impl Default for DashboardUi {
    fn default() -> Self {
        Self {
            layout: Layout::Compact,
            open: OpenPanels::default(),
            show_fps_overlay: true,
            show_status_bar: true,
            show_toasts: true,
            timeline: TimelineState::default(),
            bottlenecks: BottleneckState::default(),
            data: DashboardData::default(),
            bottleneck_data: BottleneckData::default(),
            system: SystemData::default(),
            heatmap_max_iter: None,
            refreshed: None,
            toasts: Vec::new(),
            was_visible: false,
            opacity: 1.0,
            placement: Default::default(),
            window_rects: Default::default(),
            trace_export: Default::default(),
        }
    }
}

/// What [`DashboardUi::refresh`] reads.
pub struct RefreshInputs<'a> {
    /// The tracker.
    pub tracker: &'a rfm_perf_core::PerformanceTracker,
    /// Status thresholds.
    pub thresholds: &'a HealthThresholds,
    /// Metrics of the real-time panel.
    pub metrics_to_show: &'a [String],
    /// Alerts and suggestions.
    pub insights: &'a Insights,
    /// Tunable parameters.
    pub tunables: &'a Tunables,
    /// Whether the dashboard windows are shown (the heavy data is gathered only then).
    pub visible: bool,
    /// Whether the bottleneck analyzer is on.
    pub show_bottlenecks: bool,
    /// The GPU, when the app has a GPU pass.
    pub gpu: Option<GpuSummary>,
    /// Where the GPU pass's work went, when the app has a GPU pass.
    pub cost: Option<&'a PassCost>,
    /// Adaptive quality's switch and state.
    pub adaptive: Option<&'a AdaptiveQuality>,
    /// How often to refresh.
    pub interval: Duration,
}

impl DashboardUi {
    /// Where window `key` opens: where it was last (kept across runs in the layout file), else
    /// `default`.
    pub(crate) fn window_rect(&self, key: &str, default: egui::Rect) -> egui::Rect {
        self.window_rects.get(key).map_or(default, |&[x, y, w, h]| {
            egui::Rect::from_min_size(egui::pos2(x, y), egui::vec2(w, h))
        })
    }

    /// Records where window `key` is now (whole points; nothing allocated while it stays).
    pub(crate) fn remember_window(&mut self, key: &str, rect: Option<egui::Rect>) {
        let Some(r) = rect else { return };
        let now = [r.min.x, r.min.y, r.width(), r.height()].map(f32::round);
        match self.window_rects.get_mut(key) {
            Some(saved) if *saved == now => {}
            Some(saved) => *saved = now,
            None => {
                self.window_rects.insert(key.to_string(), now);
            }
        }
    }

    /// Gathers the panels' data when the update interval has passed (or the dashboard was just
    /// opened); otherwise returns at once. Returns whether it gathered.
    pub fn refresh(&mut self, input: RefreshInputs<'_>) -> bool {
        let due = self.refreshed.is_none_or(|t| t.elapsed() >= input.interval);
        let just_opened = input.visible && !self.was_visible;
        self.was_visible = input.visible;
        if !due && !just_opened {
            return false;
        }
        self.refreshed = Some(Instant::now());
        self.heatmap_max_iter = input.cost.filter(|c| c.heatmap).map(|c| c.max_iter);
        self.data = DashboardData::gather(
            input.tracker,
            input.thresholds,
            input.metrics_to_show,
            input.insights,
            tunable_views(input.tunables),
            Duration::from_secs(60),
        );
        self.data.adaptive = input.adaptive.cloned();
        if input.visible {
            self.system = SystemData::gather(input.tracker, input.gpu);
            self.system.cost = input.cost.filter(|c| c.generation != 0).cloned();
            if input.show_bottlenecks {
                self.bottleneck_data =
                    BottleneckData::gather(input.tracker, input.insights.breakdown.clone());
            }
        }
        true
    }
}
