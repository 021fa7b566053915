//! The pieces drawn with the dashboard open or closed: the FPS overlay (top right), the status
//! bar (bottom left), the alert toasts (bottom right) and, while the fractal pass colours by
//! cost, the heatmap's legend (bottom centre).

use egui::{Align2, Color32, RichText};
use rfm_perf_core::names;

use super::panels::status_bar;
use super::state::{DashboardUi, Layout};
use super::theme::status_color;
use crate::base::{Health, HealthThresholds};

pub(crate) fn panel_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(Color32::from_black_alpha(200))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(8, 4))
}

/// Draws the always-on pieces (FPS overlay, status bar, toasts, each as `state` enables them)
/// into `ctx`.
///
/// ```
/// use rfm_perf::ui::{DashboardUi, show_always_on};
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
    thresholds: &HealthThresholds,
) {
    if state.show_fps_overlay {
        let fps = tracker.get_metric(names::FRAME_FPS);
        let ms = tracker.get_metric(names::FRAME_TIME_MS);
        let status = fps.map_or(Health::Unknown, |v| thresholds.status(names::FRAME_FPS, v));
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
                panel_frame().show(ui, |ui| status_bar(ui, &state.data));
            });
    }
    // the GPU cost window shows the legend itself while it is open
    let cost_window = state.was_visible && state.layout == Layout::Full && state.open.gpu_cost;
    if let Some(max_iter) = state.heatmap_max_iter.filter(|_| !cost_window) {
        egui::Area::new(egui::Id::new("rfm_perf_heatmap_legend"))
            // above the status bar
            .anchor(Align2::CENTER_BOTTOM, [0.0, -44.0])
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| super::gpu_cost::heatmap_legend(ui, max_iter));
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
