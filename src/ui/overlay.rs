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

/// Gathers the panels' data once per update interval (the heavy parts only while visible).
#[expect(clippy::too_many_arguments, reason = "a Bevy system's inputs")]
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
    let visible = overlay.is_some_and(|o| o.visible);
    let due = ui
        .refreshed
        .is_none_or(|t| t.elapsed() >= config.update_interval);
    let just_opened = visible && !ui.was_visible;
    ui.was_visible = visible;
    if !due && !just_opened {
        return;
    }
    ui.refreshed = Some(Instant::now());
    ui.data = DashboardData::gather(
        &tracker,
        &thresholds,
        &config.metrics_to_show,
        &insights,
        tunable_views(&tunables),
        Duration::from_secs(60),
    );
    new_toasts(&mut ui, &insights);
    if visible {
        #[cfg(feature = "fractal")]
        let summary = gpu_summary(gpu.as_deref());
        #[cfg(not(feature = "fractal"))]
        let summary = None;
        ui.resources = ResourcesData::gather(&tracker, summary);
        if config.show_bottleneck_analysis {
            ui.bottleneck_data = BottleneckData::gather(&tracker);
        }
    }
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
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if ui_state.show_fps_overlay {
        let fps = tracker.get_metric(names::FRAME_FPS);
        let ms = tracker.get_metric(names::FRAME_TIME_MS);
        let status = fps.map_or(Status::Unknown, |v| thresholds.status(names::FRAME_FPS, v));
        egui::Area::new(egui::Id::new("rfm_perf_fps"))
            .anchor(Align2::RIGHT_TOP, [-8.0, 8.0])
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| {
                    ui.label(
                        RichText::new(format!(
                            "{} FPS  {}",
                            fps.map_or("–".into(), |v| format!("{v:.0}")),
                            ms.map_or(String::new(), |v| format!("{v:.2} ms"))
                        ))
                        .monospace()
                        .color(status_color(status)),
                    );
                });
            });
    }
    if ui_state.show_status_bar && !ui_state.data.rows.is_empty() {
        egui::Area::new(egui::Id::new("rfm_perf_status_bar"))
            .anchor(Align2::LEFT_BOTTOM, [8.0, -8.0])
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| super::status_bar(ui, &ui_state.data));
            });
    }
    if !ui_state.toasts.is_empty() {
        egui::Area::new(egui::Id::new("rfm_perf_toasts"))
            .anchor(Align2::RIGHT_TOP, [-8.0, 44.0])
            .interactable(false)
            .show(ctx, |ui| {
                for t in &ui_state.toasts {
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
    Ok(())
}

/// The dashboard windows (only while the overlay is visible).
#[expect(clippy::too_many_arguments, reason = "a Bevy system's inputs")]
fn draw_dashboard(
    mut contexts: EguiContexts,
    mut ui_state: ResMut<DashboardUi>,
    tracker: Res<PerfTracker>,
    config: Res<PerfConfig>,
    mut tunables: ResMut<Tunables>,
    mut overlay: ResMut<DashboardOverlay>,
    #[cfg(feature = "api")] api: Option<Res<crate::api::ApiStatus>>,
    #[cfg(feature = "fractal")] fractal: Option<Res<crate::fractal::gpu::FractalStatus>>,
) -> Result {
    let started = Instant::now();
    let ctx = contexts.ctx_mut()?;
    let state = &mut *ui_state;
    let mut actions: Vec<UiAction> = Vec::new();
    let mut open = overlay.visible;
    egui::Window::new("rfm_perf")
        .id(egui::Id::new("rfm_perf_main"))
        .open(&mut open)
        .default_pos([12.0, 12.0])
        .default_width(420.0)
        .resizable(true)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut state.layout, Layout::Compact, "Compact");
                ui.selectable_value(&mut state.layout, Layout::Full, "Full");
                ui.separator();
                if state.layout == Layout::Full {
                    ui.toggle_value(&mut state.open.timeline, "Timeline");
                    if config.show_bottleneck_analysis {
                        ui.toggle_value(&mut state.open.bottlenecks, "Bottlenecks");
                    }
                    ui.toggle_value(&mut state.open.resources, "Resources");
                    ui.toggle_value(&mut state.open.suggestions, "Suggestions");
                }
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut state.show_fps_overlay, "FPS overlay");
                ui.checkbox(&mut state.show_status_bar, "Status bar");
                ui.checkbox(&mut state.show_toasts, "Alert toasts");
            });
            #[cfg(feature = "api")]
            if let Some(api) = &api {
                ui.label(RichText::new(api_line(api)).small().weak());
            }
            #[cfg(feature = "fractal")]
            if let Some(f) = &fractal
                && let crate::fractal::gpu::FractalStatus::Failed(e) = &**f
            {
                ui.label(
                    RichText::new(format!("Fractal pass failed: {e}"))
                        .color(status_color(Status::Critical)),
                );
            }
            ui.separator();
            metrics_panel(ui, &state.data);
            if state.layout == Layout::Compact {
                ui.separator();
                alerts_panel(ui, &state.data);
            }
        });
    if state.layout == Layout::Full {
        let screen = ctx.content_rect();
        if state.open.timeline {
            egui::Window::new("Timeline")
                .id(egui::Id::new("rfm_perf_timeline"))
                .open(&mut state.open.timeline)
                .default_pos([screen.width() * 0.36, 12.0])
                .default_size([screen.width() * 0.6, 300.0])
                .show(ctx, |ui| timeline_panel(ui, &mut state.timeline, &tracker));
        }
        if state.open.bottlenecks && config.show_bottleneck_analysis {
            egui::Window::new("Bottleneck analyzer")
                .id(egui::Id::new("rfm_perf_bottlenecks"))
                .open(&mut state.open.bottlenecks)
                .default_pos([screen.width() * 0.36, 360.0])
                .default_size([screen.width() * 0.6, 320.0])
                .show(ctx, |ui| {
                    bottleneck_panel(ui, &mut state.bottlenecks, &state.bottleneck_data)
                });
        }
        if state.open.resources {
            egui::Window::new("Resources")
                .id(egui::Id::new("rfm_perf_resources"))
                .open(&mut state.open.resources)
                .default_pos([12.0, 330.0])
                .default_width(400.0)
                .show(ctx, |ui| resources_panel(ui, &state.resources));
        }
        if state.open.suggestions {
            egui::Window::new("Suggestions & alerts")
                .id(egui::Id::new("rfm_perf_suggestions"))
                .open(&mut state.open.suggestions)
                .default_pos([12.0, 600.0])
                .default_width(400.0)
                .show(ctx, |ui| {
                    alerts_panel(ui, &state.data);
                    ui.separator();
                    actions.extend(suggestions_panel(ui, &state.data));
                });
        }
    }
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
    Ok(())
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
