//! The dashboard windows: the main window (controls and real-time metrics) and, in the full
//! layout, the timeline, bottleneck analyzer, system, suggestions and GPU cost windows.

use egui::RichText;
use rfm_perf_core::PerformanceTracker;

use super::UiAction;
use super::bottleneck::bottleneck_panel;
use super::gpu_cost::gpu_cost_panel;
use super::layout::DefaultLayout;
use super::panels::{alerts_panel, metrics_panel, perf_entries, suggestions_panel};
use super::state::{DashboardUi, Layout};
use super::system_panel::system_panel;
use super::theme::status_color;
use super::timeline::timeline_panel;
use super::trace_export::trace_export_row;
use crate::base::Health;

/// The least opacity of the dashboard windows (their text stays legible).
pub const MIN_OPACITY: f32 = 0.3;

/// Draws the dashboard windows into `ctx` (the main window with controls and real-time metrics,
/// and in the full layout the timeline, bottleneck analyzer, system and suggestions windows)
/// from the data last gathered by [`DashboardUi::refresh`]. `open` is the main window's close
/// button; `status_lines` are extra lines under the controls (API address, pass errors).
/// Returns the parameter changes the user asked for.
///
/// ```
/// use rfm_perf::ui::{DashboardUi, show_dashboard};
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
    tracker: &PerformanceTracker,
    show_bottlenecks: bool,
    status_lines: &[(String, Health)],
    open: &mut bool,
) -> Vec<UiAction> {
    let mut actions: Vec<UiAction> = Vec::new();
    let layout = DefaultLayout::for_screen(ctx.content_rect());
    let opacity = state.opacity.clamp(MIN_OPACITY, 1.0);
    let frame = egui::Frame::window(&ctx.global_style()).multiply_with_opacity(opacity);
    let at_main = state.window_rect("main", layout.main);
    let shown = egui::Window::new("rfm_perf")
        .frame(frame)
        .id(egui::Id::new("rfm_perf_main"))
        .open(open)
        .default_rect(at_main)
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
                    ui.toggle_value(&mut state.open.system, "System");
                    ui.toggle_value(&mut state.open.suggestions, "Suggestions");
                    ui.toggle_value(&mut state.open.gpu_cost, "GPU cost");
                }
            });
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut state.show_fps_overlay, "FPS overlay");
                ui.checkbox(&mut state.show_status_bar, "Status bar");
                ui.checkbox(&mut state.show_toasts, "Alert toasts");
                ui.add(
                    egui::Slider::new(&mut state.opacity, MIN_OPACITY..=1.0)
                        .text("Opacity")
                        .fixed_decimals(1),
                );
            });
            for (line, status) in status_lines {
                let text = RichText::new(line).small();
                ui.label(match status {
                    Health::Unknown | Health::Ok => text.weak(),
                    _ => text.color(status_color(*status)),
                });
            }
            ui.separator();
            metrics_panel(ui, &state.data);
            egui::CollapsingHeader::new("Perf entries")
                .id_salt("rfm_perf_entries_header")
                .default_open(false)
                .show(ui, |ui| perf_entries(ui, &state.data));
            if state.layout == Layout::Compact {
                ui.separator();
                alerts_panel(ui, &state.data);
            }
        });
    state.remember_window("main", shown.map(|r| r.response.rect));
    if state.layout == Layout::Full {
        if state.open.timeline {
            let at_timeline = state.window_rect("timeline", layout.timeline);
            let shown = egui::Window::new("Timeline")
                .frame(frame)
                .id(egui::Id::new("rfm_perf_timeline"))
                .open(&mut state.open.timeline)
                .default_rect(at_timeline)
                .max_width(layout.timeline.width())
                .show(ctx, |ui| timeline_panel(ui, &mut state.timeline, tracker));
            state.remember_window("timeline", shown.map(|r| r.response.rect));
        }
        if state.open.bottlenecks && show_bottlenecks {
            let at_bottlenecks = state.window_rect("bottlenecks", layout.bottlenecks);
            let shown = egui::Window::new("Bottleneck analyzer")
                .frame(frame)
                .id(egui::Id::new("rfm_perf_bottlenecks"))
                .open(&mut state.open.bottlenecks)
                .default_rect(at_bottlenecks)
                .max_width(layout.bottlenecks.width())
                .vscroll(true)
                .show(ctx, |ui| {
                    trace_export_row(ui, &state.trace_export, tracker, &state.data.insights);
                    bottleneck_panel(ui, &mut state.bottlenecks, &state.bottleneck_data)
                });
            state.remember_window("bottlenecks", shown.map(|r| r.response.rect));
        }
        if state.open.system {
            let at_system = state.window_rect("system", layout.system);
            let shown = egui::Window::new("System")
                .frame(frame)
                .id(egui::Id::new("rfm_perf_system"))
                .open(&mut state.open.system)
                .default_rect(at_system)
                .max_width(layout.system.width())
                .vscroll(true)
                .show(ctx, |ui| system_panel(ui, &state.system));
            state.remember_window("system", shown.map(|r| r.response.rect));
        }
        if state.open.gpu_cost {
            let at_gpu_cost = state.window_rect("gpu_cost", layout.timeline);
            let shown = egui::Window::new("Where GPU time goes")
                .frame(frame)
                .id(egui::Id::new("rfm_perf_gpu_cost"))
                .open(&mut state.open.gpu_cost)
                .default_rect(at_gpu_cost)
                .max_width(layout.timeline.width())
                .vscroll(true)
                .show(ctx, |ui| match &state.system.cost {
                    Some(cost) => gpu_cost_panel(ui, cost),
                    None => {
                        ui.label(RichText::new("n/a: no GPU fractal pass in this app").weak());
                    }
                });
            state.remember_window("gpu_cost", shown.map(|r| r.response.rect));
        }
        if state.open.suggestions {
            let at_suggestions = state.window_rect("suggestions", layout.suggestions);
            let shown = egui::Window::new("Suggestions & alerts")
                .frame(frame)
                .id(egui::Id::new("rfm_perf_suggestions"))
                .open(&mut state.open.suggestions)
                .default_rect(at_suggestions)
                .max_width(layout.suggestions.width())
                .vscroll(true)
                .show(ctx, |ui| {
                    alerts_panel(ui, &state.data);
                    ui.separator();
                    actions.extend(suggestions_panel(ui, &state.data));
                });
            state.remember_window("suggestions", shown.map(|r| r.response.rect));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 6] = [
        "rfm_perf_main",
        "rfm_perf_timeline",
        "rfm_perf_bottlenecks",
        "rfm_perf_system",
        "rfm_perf_suggestions",
        "rfm_perf_gpu_cost",
    ];

    /// Runs the dashboard a few frames on a 1280×800 screen; the share of the screen its
    /// windows cover and how many there are.
    fn coverage(state: &mut DashboardUi) -> (f32, usize) {
        let ctx = egui::Context::default();
        let tracker = PerformanceTracker::new();
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
        for _ in 0..3 {
            let mut open = true;
            let input = egui::RawInput {
                screen_rect: Some(screen),
                ..Default::default()
            };
            let mut out = ctx.run_ui(input, |ui| {
                show_dashboard(ui.ctx(), state, &tracker, true, &[], &mut open);
            });
            out.textures_delta.clear();
        }
        let rects: Vec<egui::Rect> = IDS
            .iter()
            .filter_map(|id| ctx.memory(|m| m.area_rect(egui::Id::new(*id))))
            .collect();
        let covered: f32 = rects.iter().map(|r| r.intersect(screen).area()).sum();
        (covered / screen.area(), rects.len())
    }

    #[test]
    fn f12_opens_a_compact_dashboard_that_leaves_the_game_visible() {
        let mut state = DashboardUi::default();
        assert_eq!(state.layout, Layout::Compact);
        let (share, windows) = coverage(&mut state);
        assert_eq!(windows, 1);
        assert!(
            share <= 0.30,
            "the compact dashboard covers {:.0} %",
            share * 100.0
        );
        // the full set is one click away
        state.layout = Layout::Full;
        let (full, windows) = coverage(&mut state);
        assert!(windows >= 5, "{windows} windows");
        assert!(full > share, "{full} vs {share}");
        println!(
            "compact covers {:.1} % of 1280x800, full {:.1} %",
            share * 100.0,
            full * 100.0
        );
    }

    #[test]
    fn windows_open_where_they_were_and_the_layout_keeps_it() {
        // a run where the user moved the timeline and the main window
        let mut moved = DashboardUi::default();
        moved.layout = Layout::Full;
        moved
            .window_rects
            .insert("timeline".into(), [300.0, 420.0, 700.0, 330.0]);
        moved
            .window_rects
            .insert("main".into(), [700.0, 40.0, 360.0, 300.0]);
        let saved = crate::ui::layout_file::SavedLayout::of(&moved);
        let text = serde_json::to_string(&saved).unwrap();
        // the next run reads the file
        let mut next = DashboardUi::default();
        serde_json::from_str::<crate::ui::layout_file::SavedLayout>(&text)
            .unwrap()
            .apply(&mut next);
        coverage(&mut next);
        let ctx_rects = &next.window_rects;
        let main = ctx_rects["main"];
        assert_eq!((main[0], main[1]), (700.0, 40.0), "{ctx_rects:?}");
        let timeline = ctx_rects["timeline"];
        assert_eq!((timeline[0], timeline[1]), (300.0, 420.0), "{ctx_rects:?}");
        // every window shown is remembered
        assert!(ctx_rects.len() >= 5, "{ctx_rects:?}");
    }
}
