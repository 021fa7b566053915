//! The in-game dashboard on bevy_egui: the hotkey-toggled panels (metrics, timeline, bottleneck
//! analyzer, resources, suggestions) and the always-on pieces (FPS overlay, status bar, alert
//! toasts). Added by `RfmPerfPlugin` when its `dashboard` field is on and the app renders; it adds
//! bevy_egui's `EguiPlugin` unless the app already did (add yours *before* `RfmPerfPlugin`).
//!
//! Input: bevy_egui's input absorption is switched on, so the game loses the pointer or keyboard
//! only while they are over (or focused in) a dashboard window. Game code that reads accumulated
//! mouse motion or scroll can also check [`EguiWantsInput`].
//!
//! Data is gathered once per update interval (`RfmPerfPlugin::update_interval`) into
//! [`DashboardUi`]; drawing never waits on the tracker's recording threads. The dashboard times
//! itself into `ui.dashboard_ms`.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPrimaryContextPass};
use egui::{Align2, Color32, RichText};
use rfm_perf_core::names;

pub use bevy_egui::input::EguiWantsInput;

use super::bottleneck::{BottleneckData, BottleneckState, bottleneck_panel};
use super::resources::{GpuSummary, ResourcesData, resources_panel};
use super::theme::status_color;
use super::timeline::{TimelineState, timeline_panel};
use super::{
    DashboardData, UiAction, alerts_panel, metrics_panel, suggestions_panel, tunable_views,
};
use crate::insights::Insights;
use crate::overlay::DashboardOverlay;
use crate::plugin::{PerfConfig, PerfTracker};
use crate::status::{Status, Thresholds};
use crate::tunables::Tunables;

/// How much the dashboard shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// The metrics window only.
    Compact,
    /// Every open panel in its own window.
    #[default]
    Full,
}

/// Which panel windows are open (remembered while the app runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPanels {
    /// Timeline.
    pub timeline: bool,
    /// Bottleneck analyzer.
    pub bottlenecks: bool,
    /// Resources.
    pub resources: bool,
    /// Suggestions and alerts.
    pub suggestions: bool,
}

impl Default for OpenPanels {
    fn default() -> Self {
        Self {
            timeline: true,
            bottlenecks: true,
            resources: true,
            suggestions: true,
        }
    }
}

/// A toast on screen.
#[derive(Clone, Debug)]
struct Toast {
    text: String,
    status: Status,
    until: Instant,
}

/// The dashboard's UI state and the data it draws (a resource).
///
/// ```
/// let ui = rfm_perf::ui::overlay::DashboardUi::default();
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
    data: DashboardData,
    bottleneck_data: BottleneckData,
    resources: ResourcesData,
    refreshed: Option<Instant>,
    toasts: Vec<Toast>,
    seen_alerts: Vec<(String, f64)>,
    was_visible: bool,
}

impl Default for DashboardUi {
    fn default() -> Self {
        Self {
            layout: Layout::Full,
            open: OpenPanels::default(),
            show_fps_overlay: true,
            show_status_bar: true,
            show_toasts: true,
            timeline: TimelineState::default(),
            bottlenecks: BottleneckState::default(),
            data: DashboardData::default(),
            bottleneck_data: BottleneckData::default(),
            resources: ResourcesData::default(),
            refreshed: None,
            toasts: Vec::new(),
            seen_alerts: Vec::new(),
            was_visible: false,
        }
    }
}

/// Most toasts on screen at once; more alerts in one refresh collapse into a summary toast.
pub const MAX_TOASTS: usize = 3;
/// How long a toast stays.
pub const TOAST_DURATION: Duration = Duration::from_secs(6);

/// Where the windows open first (egui remembers moves and resizes for the rest of the run): a
/// left column (metrics, suggestions, resources) and a right column (timeline, bottlenecks),
/// clear of the FPS overlay (top right) and the status bar (bottom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefaultLayout {
    /// The main window (controls and real-time metrics).
    pub main: egui::Rect,
    /// Suggestions and alerts.
    pub suggestions: egui::Rect,
    /// Resources.
    pub resources: egui::Rect,
    /// Timeline.
    pub timeline: egui::Rect,
    /// Bottleneck analyzer.
    pub bottlenecks: egui::Rect,
}

impl DefaultLayout {
    /// The layout for a screen.
    ///
    /// ```
    /// use rfm_perf::ui::overlay::DefaultLayout;
    /// let l = DefaultLayout::for_screen(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0)));
    /// assert!(!l.main.intersects(l.timeline) && !l.timeline.intersects(l.bottlenecks));
    /// ```
    pub fn for_screen(screen: egui::Rect) -> Self {
        use egui::{Rect, pos2};
        let (m, top, bottom) = (8.0, 8.0, 44.0);
        let (w, h) = (screen.width().max(640.0), screen.height().max(480.0));
        let left_w = (w * 0.33).clamp(330.0, 470.0);
        let x1 = m + left_w + m;
        let usable = h - top - bottom;
        let col = |x0: f32, x1: f32, y0: f32, y1: f32| {
            Rect::from_min_max(pos2(x0, top + usable * y0), pos2(x1, top + usable * y1 - m))
        };
        Self {
            main: col(m, m + left_w, 0.0, 0.42),
            suggestions: col(m, m + left_w, 0.42, 0.64),
            resources: col(m, m + left_w, 0.64, 1.0),
            timeline: Rect::from_min_max(
                pos2(x1, top + 36.0),
                pos2(w - m, top + 36.0 + (usable - 36.0) * 0.5 - m),
            ),
            bottlenecks: Rect::from_min_max(
                pos2(x1, top + 36.0 + (usable - 36.0) * 0.5),
                pos2(w - m, h - bottom),
            ),
        }
    }
}

/// Adds the dashboard windows (see the module docs).
#[derive(Default)]
pub struct DashboardUiPlugin;

impl Plugin for DashboardUiPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<EguiPlugin>() {
            app.add_plugins(EguiPlugin::default());
        }
        app.init_resource::<DashboardUi>()
            .add_systems(Startup, absorb_input_over_windows)
            .add_systems(
                EguiPrimaryContextPass,
                (
                    refresh_data,
                    draw_always_on,
                    draw_dashboard.run_if(dashboard_visible),
                )
                    .chain(),
            );
    }
}

fn absorb_input_over_windows(settings: Option<ResMut<EguiGlobalSettings>>) {
    if let Some(mut s) = settings {
        s.enable_absorb_bevy_input_system = true;
    }
}

fn dashboard_visible(overlay: Option<Res<DashboardOverlay>>) -> bool {
    overlay.is_some_and(|o| o.visible)
}

#[cfg(feature = "fractal")]
fn gpu_summary(world_gpu: Option<&crate::fractal::gpu::GpuInfo>) -> Option<GpuSummary> {
    world_gpu
        .filter(|g| !g.adapter.is_empty())
        .map(|g| GpuSummary {
            adapter: g.adapter.clone(),
            backend: g.backend.clone(),
            timestamp_queries: g.timestamp_queries,
            missing_reason: g.gpu_time_missing_reason.clone(),
            fractal_bytes: g.fractal_bytes,
            allocator_bytes: g.allocator_bytes,
        })
}

/// What [`DashboardUi::refresh`] reads.
pub struct RefreshInputs<'a> {
    /// The tracker.
    pub tracker: &'a rfm_perf_core::PerformanceTracker,
    /// Status thresholds.
    pub thresholds: &'a Thresholds,
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
    /// The GPU, when known.
    pub gpu: Option<GpuSummary>,
    /// How often to refresh.
    pub interval: Duration,
}

impl DashboardUi {
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
        self.data = DashboardData::gather(
            input.tracker,
            input.thresholds,
            input.metrics_to_show,
            input.insights,
            tunable_views(input.tunables),
            Duration::from_secs(60),
        );
        new_toasts(self, input.insights);
        if input.visible {
            self.resources = ResourcesData::gather(input.tracker, input.gpu);
            if input.show_bottlenecks {
                self.bottleneck_data = BottleneckData::gather(input.tracker);
            }
        }
        true
    }
}

/// Gathers the panels' data once per update interval (the heavy parts only while visible).
#[allow(
    clippy::too_many_arguments,
    reason = "a Bevy system's inputs; how many depends on the enabled features"
)]
fn refresh_data(
    mut ui: ResMut<DashboardUi>,
    tracker: Res<PerfTracker>,
    config: Res<PerfConfig>,
    thresholds: Res<Thresholds>,
    insights: Res<Insights>,
    tunables: Res<Tunables>,
    overlay: Option<Res<DashboardOverlay>>,
    #[cfg(feature = "fractal")] gpu: Option<Res<crate::fractal::gpu::GpuInfo>>,
) {
    rfm_perf_core::perf_scope!("ui.refresh");
    #[cfg(feature = "fractal")]
    let gpu = gpu_summary(gpu.as_deref());
    #[cfg(not(feature = "fractal"))]
    let gpu = None;
    ui.refresh(RefreshInputs {
        tracker: &tracker,
        thresholds: &thresholds,
        metrics_to_show: &config.metrics_to_show,
        insights: &insights,
        tunables: &tunables,
        visible: overlay.is_some_and(|o| o.visible),
        show_bottlenecks: config.show_bottleneck_analysis,
        gpu,
        interval: config.update_interval,
    });
}

/// One toast per newly raised alert; a burst beyond [`MAX_TOASTS`] collapses into one summary.
fn new_toasts(ui: &mut DashboardUi, insights: &Insights) {
    let now = Instant::now();
    ui.toasts.retain(|t| t.until > now);
    let fresh: Vec<_> = insights
        .alerts
        .iter()
        .filter(|a| {
            !ui.seen_alerts
                .iter()
                .any(|(m, raised)| *m == a.metric && *raised == a.raised_unix_s)
        })
        .cloned()
        .collect();
    ui.seen_alerts = insights
        .alerts
        .iter()
        .map(|a| (a.metric.clone(), a.raised_unix_s))
        .collect();
    if !ui.show_toasts || fresh.is_empty() {
        return;
    }
    let room = MAX_TOASTS.saturating_sub(ui.toasts.len());
    if fresh.len() > room {
        let worst = fresh
            .iter()
            .map(|a| a.status)
            .max()
            .unwrap_or(Status::Warning);
        ui.toasts.truncate(MAX_TOASTS.saturating_sub(1));
        ui.toasts.push(Toast {
            text: format!("{} new alerts — open the dashboard (F12)", fresh.len()),
            status: worst,
            until: now + TOAST_DURATION,
        });
    } else {
        ui.toasts.extend(fresh.into_iter().map(|a| Toast {
            text: a.message,
            status: a.status,
            until: now + TOAST_DURATION,
        }));
    }
}

fn panel_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(Color32::from_black_alpha(200))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(8, 4))
}

/// FPS overlay, status bar and toasts: drawn with the dashboard open or closed.
fn draw_always_on(
    mut contexts: EguiContexts,
    ui_state: Res<DashboardUi>,
    tracker: Res<PerfTracker>,
    thresholds: Res<Thresholds>,
) {
    rfm_perf_core::perf_scope!("ui.always_on");
    // no egui context (no window or camera yet): nothing to draw on
    if let Ok(ctx) = contexts.ctx_mut() {
        show_always_on(ctx, &ui_state, &tracker, &thresholds);
    }
}

/// Draws the always-on pieces (FPS overlay, status bar, toasts, each as `state` enables them)
/// into `ctx`.
///
/// ```
/// use rfm_perf::ui::overlay::{DashboardUi, show_always_on};
/// let ctx = egui::Context::default();
/// let tracker = rfm_perf::PerformanceTracker::new();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
///     show_always_on(ui.ctx(), &DashboardUi::default(), &tracker, &Default::default());
/// });
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn show_always_on(
    ctx: &egui::Context,
    state: &DashboardUi,
    tracker: &rfm_perf_core::PerformanceTracker,
    thresholds: &Thresholds,
) {
    if state.show_fps_overlay {
        let fps = tracker.get_metric(names::FRAME_FPS);
        let ms = tracker.get_metric(names::FRAME_TIME_MS);
        let status = fps.map_or(Status::Unknown, |v| thresholds.status(names::FRAME_FPS, v));
        egui::Area::new(egui::Id::new("rfm_perf_fps"))
            .anchor(Align2::RIGHT_TOP, [-8.0, 8.0])
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!(
                                "{} FPS  {}",
                                fps.map_or("–".into(), |v| format!("{v:.0}")),
                                ms.map_or(String::new(), |v| format!("{v:.2} ms"))
                            ))
                            .monospace()
                            .color(status_color(status)),
                        )
                        .extend(),
                    );
                });
            });
    }
    if state.show_status_bar && !state.data.rows.is_empty() {
        egui::Area::new(egui::Id::new("rfm_perf_status_bar"))
            .anchor(Align2::LEFT_BOTTOM, [8.0, -8.0])
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| super::status_bar(ui, &state.data));
            });
    }
    if !state.toasts.is_empty() {
        egui::Area::new(egui::Id::new("rfm_perf_toasts"))
            .anchor(Align2::RIGHT_BOTTOM, [-8.0, -48.0])
            .interactable(false)
            .show(ctx, |ui| {
                for t in &state.toasts {
                    panel_frame()
                        .stroke(egui::Stroke::new(1.5, status_color(t.status)))
                        .show(ui, |ui| {
                            ui.set_max_width(320.0);
                            ui.label(RichText::new(&t.text).color(status_color(t.status)));
                        });
                    ui.add_space(4.0);
                }
            });
    }
}

/// The dashboard windows (only while the overlay is visible).
#[allow(
    clippy::too_many_arguments,
    reason = "a Bevy system's inputs; how many depends on the enabled features"
)]
fn draw_dashboard(
    mut contexts: EguiContexts,
    mut ui_state: ResMut<DashboardUi>,
    tracker: Res<PerfTracker>,
    config: Res<PerfConfig>,
    mut tunables: ResMut<Tunables>,
    mut overlay: ResMut<DashboardOverlay>,
    #[cfg(feature = "api")] api: Option<Res<crate::api::ApiStatus>>,
    #[cfg(feature = "fractal")] fractal: Option<Res<crate::fractal::gpu::FractalStatus>>,
) {
    rfm_perf_core::perf_scope!("ui.dashboard");
    let started = Instant::now();
    let Ok(ctx) = contexts.ctx_mut() else {
        return;
    };
    let mut status_lines: Vec<(String, Status)> = Vec::new();
    #[cfg(feature = "api")]
    if let Some(api) = &api {
        status_lines.push((api_line(api), Status::Unknown));
    }
    #[cfg(feature = "fractal")]
    if let Some(f) = &fractal
        && let crate::fractal::gpu::FractalStatus::Failed(e) = &**f
    {
        status_lines.push((format!("Fractal pass failed: {e}"), Status::Critical));
    }
    let mut open = overlay.visible;
    let actions = show_dashboard(
        ctx,
        &mut ui_state,
        &tracker,
        config.show_bottleneck_analysis,
        &status_lines,
        &mut open,
    );
    if overlay.visible != open {
        overlay.visible = open;
    }
    for action in actions {
        match action.apply(&mut tunables) {
            Ok(v) => info!("rfm_perf: applied {action:?} → {v}"),
            Err(e) => warn!("rfm_perf: could not apply {action:?}: {e}"),
        }
    }
    tracker.track_metric(
        names::UI_DASHBOARD_MS,
        started.elapsed().as_secs_f64() * 1000.0,
    );
}

/// Draws the dashboard windows into `ctx` (the main window with controls and real-time metrics,
/// and in the full layout the timeline, bottleneck analyzer, resources and suggestions windows)
/// from the data last gathered by [`DashboardUi::refresh`]. `open` is the main window's close
/// button; `status_lines` are extra lines under the controls (API address, pass errors).
/// Returns the parameter changes the user asked for.
///
/// ```
/// use rfm_perf::ui::overlay::{DashboardUi, show_dashboard};
/// let ctx = egui::Context::default();
/// let tracker = rfm_perf::PerformanceTracker::new();
/// let mut state = DashboardUi::default();
/// let mut open = true;
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
///     let actions = show_dashboard(ui.ctx(), &mut state, &tracker, true, &[], &mut open);
///     assert!(actions.is_empty());
/// });
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn show_dashboard(
    ctx: &egui::Context,
    state: &mut DashboardUi,
    tracker: &rfm_perf_core::PerformanceTracker,
    show_bottlenecks: bool,
    status_lines: &[(String, Status)],
    open: &mut bool,
) -> Vec<UiAction> {
    let mut actions: Vec<UiAction> = Vec::new();
    let layout = DefaultLayout::for_screen(ctx.content_rect());
    egui::Window::new("rfm_perf")
        .id(egui::Id::new("rfm_perf_main"))
        .open(open)
        .default_rect(layout.main)
        .max_width(layout.main.width())
        .resizable(true)
        .show(ctx, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.selectable_value(&mut state.layout, Layout::Compact, "Compact");
                ui.selectable_value(&mut state.layout, Layout::Full, "Full");
                ui.separator();
                if state.layout == Layout::Full {
                    ui.toggle_value(&mut state.open.timeline, "Timeline");
                    if show_bottlenecks {
                        ui.toggle_value(&mut state.open.bottlenecks, "Bottlenecks");
                    }
                    ui.toggle_value(&mut state.open.resources, "Resources");
                    ui.toggle_value(&mut state.open.suggestions, "Suggestions");
                }
            });
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut state.show_fps_overlay, "FPS overlay");
                ui.checkbox(&mut state.show_status_bar, "Status bar");
                ui.checkbox(&mut state.show_toasts, "Alert toasts");
            });
            for (line, status) in status_lines {
                let text = RichText::new(line).small();
                ui.label(match status {
                    Status::Unknown | Status::Ok => text.weak(),
                    _ => text.color(status_color(*status)),
                });
            }
            ui.separator();
            metrics_panel(ui, &state.data);
            egui::CollapsingHeader::new("Perf entries")
                .id_salt("rfm_perf_entries_header")
                .default_open(false)
                .show(ui, |ui| super::perf_entries(ui, &state.data));
            if state.layout == Layout::Compact {
                ui.separator();
                alerts_panel(ui, &state.data);
            }
        });
    if state.layout == Layout::Full {
        if state.open.timeline {
            egui::Window::new("Timeline")
                .id(egui::Id::new("rfm_perf_timeline"))
                .open(&mut state.open.timeline)
                .default_rect(layout.timeline)
                .max_width(layout.timeline.width())
                .show(ctx, |ui| timeline_panel(ui, &mut state.timeline, tracker));
        }
        if state.open.bottlenecks && show_bottlenecks {
            egui::Window::new("Bottleneck analyzer")
                .id(egui::Id::new("rfm_perf_bottlenecks"))
                .open(&mut state.open.bottlenecks)
                .default_rect(layout.bottlenecks)
                .max_width(layout.bottlenecks.width())
                .vscroll(true)
                .show(ctx, |ui| {
                    bottleneck_panel(ui, &mut state.bottlenecks, &state.bottleneck_data)
                });
        }
        if state.open.resources {
            egui::Window::new("Resources")
                .id(egui::Id::new("rfm_perf_resources"))
                .open(&mut state.open.resources)
                .default_rect(layout.resources)
                .max_width(layout.resources.width())
                .vscroll(true)
                .show(ctx, |ui| resources_panel(ui, &state.resources));
        }
        if state.open.suggestions {
            egui::Window::new("Suggestions & alerts")
                .id(egui::Id::new("rfm_perf_suggestions"))
                .open(&mut state.open.suggestions)
                .default_rect(layout.suggestions)
                .max_width(layout.suggestions.width())
                .vscroll(true)
                .show(ctx, |ui| {
                    alerts_panel(ui, &state.data);
                    ui.separator();
                    actions.extend(suggestions_panel(ui, &state.data));
                });
        }
    }
    actions
}

#[cfg(feature = "api")]
fn api_line(api: &crate::api::ApiStatus) -> String {
    use crate::api::ApiStatus;
    match api {
        ApiStatus::Running(addr) => format!("API: http://{addr}/api/performance/metrics"),
        ApiStatus::Disabled => "API: off".into(),
        ApiStatus::Invalid(e) => format!("API refused: {e}"),
        ApiStatus::BindFailed(e) => format!("API not running: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::Alert;

    fn alert(metric: &str, raised: f64) -> Alert {
        Alert {
            metric: metric.into(),
            status: Status::Warning,
            value: 1.0,
            threshold: 0.5,
            raised_unix_s: raised,
            active: true,
            message: format!("{metric} is high"),
        }
    }

    #[test]
    fn toasts_once_per_raised_alert_and_never_a_storm() {
        let mut ui = DashboardUi::default();
        let one = Insights {
            alerts: vec![alert("a", 1.0)],
            ..Default::default()
        };
        new_toasts(&mut ui, &one);
        assert_eq!(ui.toasts.len(), 1);
        assert_eq!(ui.toasts[0].text, "a is high");
        // the same alert still active at the next refresh: no second toast
        new_toasts(&mut ui, &one);
        assert_eq!(ui.toasts.len(), 1);
        // a burst of five new alerts collapses into one summary toast
        let burst = Insights {
            alerts: (0..6).map(|i| alert(&format!("m{i}"), 2.0)).collect(),
            ..Default::default()
        };
        new_toasts(&mut ui, &burst);
        assert!(ui.toasts.len() <= MAX_TOASTS);
        assert!(ui.toasts.iter().any(|t| t.text.starts_with("6 new alerts")));
        // raised again later (after recovering): a new toast
        let again = Insights {
            alerts: vec![alert("a", 9.0)],
            ..Default::default()
        };
        ui.toasts.clear();
        new_toasts(&mut ui, &again);
        assert_eq!(ui.toasts.len(), 1);
        // toasts switched off: nothing
        ui.show_toasts = false;
        ui.toasts.clear();
        new_toasts(
            &mut ui,
            &Insights {
                alerts: vec![alert("z", 10.0)],
                ..Default::default()
            },
        );
        assert!(ui.toasts.is_empty());
    }

    #[test]
    fn refresh_gathers_heavy_data_only_while_visible_and_when_due() {
        let tracker = rfm_perf_core::PerformanceTracker::new();
        tracker.track_metric("frame.time_ms", 16.0);
        tracker.publish_snapshot();
        let mut ui = DashboardUi::default();
        let show = vec!["frame.time_ms".to_string()];
        let (th, ins, tun) = (
            Thresholds::default(),
            Insights::default(),
            Tunables::default(),
        );
        let input = |visible| RefreshInputs {
            tracker: &tracker,
            thresholds: &th,
            metrics_to_show: &show,
            insights: &ins,
            tunables: &tun,
            visible,
            show_bottlenecks: true,
            gpu: None,
            interval: Duration::from_secs(3600),
        };
        assert!(ui.refresh(input(false)), "first refresh gathers");
        assert_eq!(ui.data.rows.len(), 1);
        assert!(
            !ui.refresh(input(false)),
            "hidden and not due: returns at once"
        );
        assert!(ui.refresh(input(true)), "just opened: gathers now");
        assert!(!ui.refresh(input(true)), "open and not due");
    }

    #[test]
    fn default_layout_keeps_windows_apart_on_common_screens() {
        for (w, h) in [(1280.0, 800.0), (1920.0, 1080.0), (800.0, 600.0)] {
            let l = DefaultLayout::for_screen(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(w, h),
            ));
            let all = [
                l.main,
                l.suggestions,
                l.resources,
                l.timeline,
                l.bottlenecks,
            ];
            for (i, a) in all.iter().enumerate() {
                assert!(a.width() > 100.0 && a.height() > 80.0, "{w}x{h} #{i} {a:?}");
                for b in &all[i + 1..] {
                    assert!(!a.intersects(*b), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
        }
    }
}
