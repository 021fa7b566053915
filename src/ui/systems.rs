//! The dashboard's Bevy systems on bevy_egui: gather the data at the update interval, draw the
//! always-on pieces every frame and the windows while the dashboard is visible, and turn the
//! user's **Apply** into [`ApplyTunable`] messages.

use std::time::Instant;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPrimaryContextPass};
use rfm_perf_core::names;

use super::UiAction;
use super::always_on::show_always_on;
use super::state::{DashboardUi, RefreshInputs};
use super::toasts::push_toasts;
use super::visibility::DashboardVisibility;
use super::windows::show_dashboard;
use crate::base::{
    AdaptiveQuality, AlertRaised, ApiStatus, ApplyTunable, GpuPassStatus, GpuSummary, Health,
    HealthThresholds, Insights, PassCost, PerfConfig, PerfTracker, Tunables,
};

/// Adds bevy_egui (unless the app did) and the dashboard's systems.
pub(crate) fn add_egui_dashboard(
    app: &mut App,
    layout_file: Option<&std::path::Path>,
    placement: super::placement::AlwaysOnPlacement,
) {
    if !app.is_plugin_added::<EguiPlugin>() {
        app.add_plugins(EguiPlugin::default());
    }
    let (mut ui, file) = super::layout_file::initial_state(layout_file);
    ui.placement = placement;
    if let Some(file) = file {
        app.insert_resource(file);
    }
    app.insert_resource(ui)
        .add_systems(Startup, absorb_input_over_windows)
        .add_systems(Last, super::layout_file::persist_layout)
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

fn absorb_input_over_windows(settings: Option<ResMut<EguiGlobalSettings>>) {
    if let Some(mut s) = settings {
        s.enable_absorb_bevy_input_system = true;
    }
}

fn dashboard_visible(visibility: Option<Res<DashboardVisibility>>) -> bool {
    visibility.is_some_and(|v| v.visible)
}

/// What [`refresh_data`] reads.
#[derive(SystemParam)]
struct RefreshSources<'w> {
    tracker: Res<'w, PerfTracker>,
    config: Res<'w, PerfConfig>,
    thresholds: Res<'w, HealthThresholds>,
    insights: Res<'w, Insights>,
    tunables: Res<'w, Tunables>,
    visibility: Option<Res<'w, DashboardVisibility>>,
    gpu: Option<Res<'w, GpuSummary>>,
    cost: Option<Res<'w, PassCost>>,
    adaptive: Option<Res<'w, AdaptiveQuality>>,
}

/// Toasts for the alerts raised since the last frame, and the panels' data once per update
/// interval (the heavy parts only while visible).
fn refresh_data(
    mut ui: ResMut<DashboardUi>,
    sources: RefreshSources,
    mut raised: MessageReader<AlertRaised>,
) {
    rfm_perf_core::perf_scope!("ui.refresh");
    let raised: Vec<_> = raised.read().map(|AlertRaised(a)| a.clone()).collect();
    push_toasts(&mut ui, &raised);
    ui.refresh(RefreshInputs {
        tracker: &sources.tracker,
        thresholds: &sources.thresholds,
        metrics_to_show: &sources.config.metrics_to_show,
        insights: &sources.insights,
        tunables: &sources.tunables,
        visible: sources.visibility.is_some_and(|v| v.visible),
        show_bottlenecks: sources.config.show_bottleneck_analysis,
        gpu: sources
            .gpu
            .filter(|g| !g.adapter.is_empty())
            .map(|g| (*g).clone()),
        cost: sources.cost.as_deref(),
        adaptive: sources.adaptive.as_deref(),
        interval: sources.config.update_interval,
    });
}

/// FPS overlay, status bar and toasts: drawn with the dashboard open or closed.
fn draw_always_on(
    mut contexts: EguiContexts,
    ui_state: Res<DashboardUi>,
    tracker: Res<PerfTracker>,
    thresholds: Res<HealthThresholds>,
) {
    rfm_perf_core::perf_scope!("ui.always_on");
    // no egui context (no window or camera yet): nothing to draw on
    if let Ok(ctx) = contexts.ctx_mut() {
        show_always_on(ctx, &ui_state, &tracker, &thresholds);
    }
}

/// What [`draw_dashboard`] reads besides its state.
#[derive(SystemParam)]
struct DashboardSources<'w> {
    tracker: Res<'w, PerfTracker>,
    config: Res<'w, PerfConfig>,
    api: Option<Res<'w, ApiStatus>>,
    gpu_pass: Option<Res<'w, GpuPassStatus>>,
    adaptive: Option<ResMut<'w, AdaptiveQuality>>,
}

/// The dashboard windows (only while the dashboard is visible).
fn draw_dashboard(
    mut contexts: EguiContexts,
    mut ui_state: ResMut<DashboardUi>,
    mut visibility: ResMut<DashboardVisibility>,
    mut sources: DashboardSources,
    mut apply: MessageWriter<ApplyTunable>,
) {
    rfm_perf_core::perf_scope!("ui.dashboard");
    let started = Instant::now();
    let Ok(ctx) = contexts.ctx_mut() else {
        return;
    };
    let mut status_lines: Vec<(String, Health)> = Vec::new();
    if let Some(api) = &sources.api {
        status_lines.push((api.describe(), Health::Unknown));
    }
    if let Some(GpuPassStatus::Failed(e)) = sources.gpu_pass.as_deref() {
        status_lines.push((format!("Fractal pass failed: {e}"), Health::Critical));
    }
    let mut open = visibility.visible;
    let actions = show_dashboard(
        ctx,
        &mut ui_state,
        &sources.tracker,
        sources.config.show_bottleneck_analysis,
        &status_lines,
        &mut open,
    );
    if visibility.visible != open {
        visibility.visible = open;
    }
    for action in actions {
        match action {
            UiAction::SetTunable { name, value } => {
                apply.write(ApplyTunable { name, value });
            }
            UiAction::SetAdaptive {
                enabled,
                target_fps,
            } => {
                if let Some(adaptive) = sources.adaptive.as_mut() {
                    adaptive.enabled = enabled;
                    adaptive.target_fps = target_fps;
                    // shown at once, not at the next refresh
                    ui_state.data.adaptive = Some((**adaptive).clone());
                }
            }
        }
    }
    sources.tracker.track_metric(
        names::UI_DASHBOARD_MS,
        started.elapsed().as_secs_f64() * 1000.0,
    );
}
