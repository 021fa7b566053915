//! The pieces drawn with the dashboard open or closed: the FPS overlay (top right), the status
//! bar (top centre: games put their own text at the bottom), the alert toasts (bottom right)
//! — each where [`AlwaysOnPlacement`] puts it — and, while the fractal pass colours by cost,
//! the heatmap's legend (bottom centre). All on a dark, nearly opaque plate with text of at
//! least 4.5:1 contrast ([`theme`](super::theme)).

use egui::{Align2, RichText};
use rfm_perf_core::names;

use super::panels::status_bar;
use super::placement::Anchor;
use super::state::{DashboardUi, Layout};
use super::theme::{ALWAYS_ON_PLATE, ALWAYS_ON_TEXT_PX, status_color};
use crate::base::{Health, HealthThresholds};

pub(crate) fn panel_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(ALWAYS_ON_PLATE)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(8, 4))
}

/// Where an anchor is in egui's terms, and its offset.
trait AnchorPlacement {
    fn align(self) -> Align2;
    fn offset(self, slot: usize) -> [f32; 2];
}

impl AnchorPlacement for Anchor {
    fn align(self) -> Align2 {
        match self {
            Anchor::TopLeft => Align2::LEFT_TOP,
            Anchor::Top => Align2::CENTER_TOP,
            Anchor::TopRight => Align2::RIGHT_TOP,
            Anchor::BottomLeft => Align2::LEFT_BOTTOM,
            Anchor::Bottom => Align2::CENTER_BOTTOM,
            Anchor::BottomRight => Align2::RIGHT_BOTTOM,
        }
    }

    /// The offset from the corner or edge of the `slot`-th piece at this anchor (pieces that
    /// share one stack away from the edge).
    fn offset(self, slot: usize) -> [f32; 2] {
        let x = match self.align().x() {
            egui::Align::Min => 8.0,
            egui::Align::Center => 0.0,
            egui::Align::Max => -8.0,
        };
        let y = 8.0 + 40.0 * slot as f32;
        match self.align().y() {
            egui::Align::Max => [x, -y],
            _ => [x, y],
        }
    }
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
        let at = state.placement.fps;
        egui::Area::new(egui::Id::new("rfm_perf_fps"))
            // under the dashboard's windows, over the game
            .order(egui::Order::Background)
            .anchor(at.align(), at.offset(0))
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
                            .size(ALWAYS_ON_TEXT_PX)
                            .color(status_color(status)),
                        )
                        .extend(),
                    );
                });
            });
    }
    if state.show_status_bar && state.data.rows.iter().any(|r| r.has_value) {
        let at = state.placement.status_bar;
        let slot = usize::from(state.show_fps_overlay && state.placement.fps == at);
        egui::Area::new(egui::Id::new("rfm_perf_status_bar"))
            // under the dashboard's windows, over the game
            .order(egui::Order::Background)
            .anchor(at.align(), at.offset(slot))
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| status_bar(ui, &state.data));
            });
    }
    // the GPU cost window shows the legend itself while it is open
    let cost_window = state.was_visible && state.layout == Layout::Full && state.open.gpu_cost;
    if let Some(max_iter) = state.heatmap_max_iter.filter(|_| !cost_window) {
        // above the status bar when that is at the bottom edge too
        let bar_below = state.show_status_bar
            && matches!(
                state.placement.status_bar,
                Anchor::Bottom | Anchor::BottomLeft | Anchor::BottomRight
            );
        egui::Area::new(egui::Id::new("rfm_perf_heatmap_legend"))
            // under the dashboard's windows, over the game
            .order(egui::Order::Background)
            .anchor(
                Align2::CENTER_BOTTOM,
                [0.0, if bar_below { -44.0 } else { -8.0 }],
            )
            .interactable(false)
            .show(ctx, |ui| {
                panel_frame().show(ui, |ui| super::gpu_cost::heatmap_legend(ui, max_iter));
            });
    }
    if !state.toasts.is_empty() {
        let at = state.placement.toasts;
        let p = &state.placement;
        let slot = usize::from(state.show_fps_overlay && p.fps == at)
            + usize::from(state.show_status_bar && p.status_bar == at);
        egui::Area::new(egui::Id::new("rfm_perf_toasts"))
            .anchor(at.align(), at.offset(slot))
            .interactable(false)
            .show(ctx, |ui| {
                for t in &state.toasts {
                    panel_frame()
                        .stroke(egui::Stroke::new(1.5, status_color(t.status)))
                        .show(ui, |ui| {
                            ui.set_max_width(320.0);
                            ui.label(
                                RichText::new(&t.text)
                                    .size(ALWAYS_ON_TEXT_PX)
                                    .color(status_color(t.status)),
                            );
                        });
                    ui.add_space(4.0);
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use egui::{Color32, Vec2};
    use rfm_perf_core::PerformanceTracker;

    use super::*;
    use crate::ui::data::MetricRow;
    use crate::ui::placement::AlwaysOnPlacement;
    use crate::ui::raster::{render, text_contrast};
    use crate::ui::toasts::Toast;

    const BACKGROUNDS: [(&str, Color32); 3] = [
        ("white", Color32::WHITE),
        ("mid-grey", Color32::from_gray(128)),
        ("black", Color32::BLACK),
    ];
    const STATUSES: [Health; 4] = [
        Health::Ok,
        Health::Warning,
        Health::Critical,
        Health::Unknown,
    ];

    /// A 1280×720 screen with only the piece of `status` switched on.
    fn state(piece: &str, status: Health) -> DashboardUi {
        let mut s = DashboardUi::default();
        s.show_fps_overlay = piece == "fps";
        s.show_status_bar = piece == "status_bar";
        s.data.rows = vec![MetricRow {
            name: names::FRAME_TIME_MS.into(),
            label: "Render time".into(),
            value_text: "16.7 ms".into(),
            has_value: true,
            status,
            sparkline: Vec::new(),
        }];
        if piece == "toasts" {
            s.toasts = vec![Toast {
                text: "frame.time_ms is 42.00 ms, above its critical level 33.33".into(),
                status,
                until: Instant::now() + Duration::from_secs(60),
            }];
        }
        s
    }

    /// FPS counter, status bar and toasts, in every status colour, over white, mid-grey and
    /// black: the text keeps at least 4.5:1 (WCAG AA) against its plate, in the pixels a
    /// renderer would draw.
    #[test]
    fn always_on_text_keeps_its_contrast_on_any_background() {
        let thresholds = HealthThresholds::default();
        let mut failures = Vec::new();
        for (piece, area) in [
            ("fps", "rfm_perf_fps"),
            ("status_bar", "rfm_perf_status_bar"),
            ("toasts", "rfm_perf_toasts"),
        ] {
            for status in STATUSES {
                // the FPS counter's colour comes from the thresholds: 30, 45, 75 FPS and none
                let tracker = PerformanceTracker::new();
                let fps = match status {
                    Health::Critical => Some(12.0),
                    Health::Warning => Some(40.0),
                    Health::Ok => Some(75.0),
                    Health::Unknown => None,
                };
                if let Some(fps) = fps {
                    tracker.track_metric(names::FRAME_FPS, fps);
                    tracker.track_metric(names::FRAME_TIME_MS, 1000.0 / fps);
                }
                let s = state(piece, status);
                for (bg_name, bg) in BACKGROUNDS {
                    let (raster, rects) = render(Vec2::new(1280.0, 720.0), bg, 3, &[area], |ctx| {
                        show_always_on(ctx, &s, &tracker, &thresholds)
                    });
                    let rect = rects[0].unwrap_or_else(|| panic!("{piece} was not drawn"));
                    let (plate, text, ratio) = text_contrast(&raster, rect, 7.0);
                    if ratio < 4.5 {
                        failures.push(format!(
                            "{piece} {status:?} over {bg_name}: text {text:?} on plate {plate:?} = {ratio:.2}:1"
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn the_status_bar_stays_off_the_bottom_edge_unless_asked() {
        let tracker = PerformanceTracker::new();
        let thresholds = HealthThresholds::default();
        let bar = |placement: AlwaysOnPlacement| {
            let mut s = state("status_bar", Health::Ok);
            s.show_fps_overlay = true;
            s.placement = placement;
            let (_, rects) = render(
                Vec2::new(1280.0, 720.0),
                Color32::WHITE,
                3,
                &["rfm_perf_status_bar", "rfm_perf_fps"],
                |ctx| show_always_on(ctx, &s, &tracker, &thresholds),
            );
            (rects[0].unwrap(), rects[1].unwrap())
        };
        let (status, fps) = bar(AlwaysOnPlacement::default());
        assert!(status.min.y <= 10.0, "{status:?}");
        assert!((status.center().x - 640.0).abs() < 2.0, "{status:?}");
        assert!(!status.intersects(fps), "{status:?} {fps:?}");
        // at the FPS counter's corner it stacks below it
        let (status, fps) = bar(AlwaysOnPlacement {
            status_bar: Anchor::TopRight,
            ..Default::default()
        });
        assert!(status.min.y >= fps.max.y, "{status:?} {fps:?}");
        let (status, _) = bar(AlwaysOnPlacement {
            status_bar: Anchor::BottomLeft,
            ..Default::default()
        });
        assert!(status.max.y >= 705.0 && status.min.x <= 10.0, "{status:?}");
        // text readable at 1280×720: a line of at least 13 px inside the plate's margins
        let (status, fps) = bar(AlwaysOnPlacement::default());
        assert!(status.height() >= 13.0 + 8.0, "{status:?}");
        assert!(fps.height() >= 13.0 + 8.0, "{fps:?}");
    }
}
