//! "Where GPU time goes": the fractal pass's cost grid (iterations computed per 32×32 tile,
//! drawn in the heatmap's colours), its escape histogram, and the heatmap legend.

use egui::{Color32, CornerRadius, Rect, RichText, Sense, Stroke, Ui, Vec2, pos2};

use crate::base::{PassCost, heat_color, heat_iterations, heat_position};

const GRID_MAX_WIDTH: f32 = 560.0;
/// Below twice this width the grid and the histogram are stacked.
const SIDE_BY_SIDE_MIN: f32 = 260.0;
const HISTOGRAM_HEIGHT: f32 = 70.0;
const LEGEND_WIDTH: f32 = 220.0;
const LEGEND_HEIGHT: f32 = 10.0;

fn heat(t: f32) -> Color32 {
    let [r, g, b] = heat_color(t);
    Color32::from_rgb(r, g, b)
}

/// Draws where the pass's work went in its newest frame: the tile grid (hover a tile for its
/// iterations and share), the share in the costliest tenth of the tiles, and the escape
/// histogram (hover a bar for its iterations and pixels).
///
/// ```
/// use rfm_perf::{CostTiles, EscapeHistogram, PassCost};
/// let cost = PassCost {
///     max_iter: 100,
///     histogram: EscapeHistogram::from_counts(&[3, 5, 100], 100),
///     tiles: CostTiles { tile_size: 32, columns: 2, rows: 1, iterations: vec![10, 30] },
///     ..Default::default()
/// };
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
///     rfm_perf::ui::gpu_cost::gpu_cost_panel(ui, &cost);
/// });
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn gpu_cost_panel(ui: &mut Ui, cost: &PassCost) {
    if cost.heatmap {
        heatmap_legend(ui, cost.max_iter);
        ui.separator();
    }
    let tiles = &cost.tiles;
    let total = tiles.total();
    if tiles.iterations.is_empty() || total == 0 {
        ui.label(RichText::new("n/a: no frame of the GPU pass read back yet").weak());
        return;
    }
    ui.label(format!(
        "{} × {} tiles of {} px; the costliest 10 % hold {:.0} % of the {} iterations computed",
        tiles.columns,
        tiles.rows,
        tiles.tile_size,
        100.0 * tiles.share_of_hottest(0.1),
        super::format_value(total as f64, ""),
    ));
    let histogram = |ui: &mut Ui| {
        ui.label(RichText::new("Escape iterations (log-spaced buckets)").small());
        escape_histogram(ui, cost);
    };
    // side by side when there is room, the grid above the histogram otherwise
    if ui.available_width() >= 2.0 * SIDE_BY_SIDE_MIN {
        ui.horizontal_top(|ui| {
            let half = ui.available_width() / 2.0 - ui.spacing().item_spacing.x;
            ui.vertical(|ui| {
                ui.set_width(half);
                tile_grid(ui, cost);
            });
            ui.vertical(|ui| {
                ui.set_width(half);
                histogram(ui);
            });
        });
    } else {
        tile_grid(ui, cost);
        ui.add_space(4.0);
        histogram(ui);
    }
}

fn tile_grid(ui: &mut Ui, cost: &PassCost) {
    ui.label(RichText::new("Iterations per tile (log scale, brightest = costliest tile)").small());
    let tiles = &cost.tiles;
    let width = ui.available_width().clamp(80.0, GRID_MAX_WIDTH);
    let cell = width / tiles.columns as f32;
    let size = Vec2::new(width, cell * tiles.rows as f32);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let max = tiles.iterations.iter().copied().max().unwrap_or(1).max(1);
    // the grid's own log scale: the costliest tile is brightest
    let scale = |v: u64| ((1.0 + v as f64).ln() / (1.0 + max as f64).ln()) as f32;
    for (i, &v) in tiles.iterations.iter().enumerate() {
        let (x, y) = (i as u32 % tiles.columns, i as u32 / tiles.columns);
        let min = rect.min + Vec2::new(x as f32 * cell, y as f32 * cell);
        let r = Rect::from_min_size(min, Vec2::splat(cell));
        painter.rect_filled(r, CornerRadius::ZERO, heat(scale(v)));
    }
    if let Some(pos) = response.hover_pos() {
        let x = ((pos.x - rect.min.x) / cell) as u32;
        let y = ((pos.y - rect.min.y) / cell) as u32;
        if let Some(v) = tiles.get(x, y) {
            let r = Rect::from_min_size(
                rect.min + Vec2::new(x as f32 * cell, y as f32 * cell),
                Vec2::splat(cell),
            );
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(1.5, Color32::WHITE),
                egui::StrokeKind::Inside,
            );
            let px = tiles.tile_size * tiles.tile_size;
            response.on_hover_text(format!(
                "tile ({x}, {y}): {v} iterations, {:.1} per pixel, {:.2} % of the frame",
                v as f64 / f64::from(px),
                100.0 * v as f64 / tiles.total().max(1) as f64
            ));
        }
    }
}

fn escape_histogram(ui: &mut Ui, cost: &PassCost) {
    let h = &cost.histogram;
    let width = ui.available_width().clamp(80.0, GRID_MAX_WIDTH);
    let (rect, response) =
        ui.allocate_exact_size(Vec2::new(width, HISTOGRAM_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(2), Color32::from_black_alpha(60));
    let n = h.counts.len().max(1);
    let bar = rect.width() / n as f32;
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1);
    let buckets: Vec<(u32, u32, u64)> = h.buckets().collect();
    for (i, &(first, _, pixels)) in buckets.iter().enumerate() {
        let height = rect.height() * (pixels as f32 / max as f32);
        let r = Rect::from_min_max(
            pos2(rect.min.x + i as f32 * bar, rect.max.y - height),
            pos2(rect.min.x + (i + 1) as f32 * bar - 0.5, rect.max.y),
        );
        // the ramp's bright part, so the bars stand out on a dark background
        painter.rect_filled(
            r,
            CornerRadius::ZERO,
            heat(0.35 + 0.65 * heat_position(first, cost.max_iter)),
        );
    }
    if let Some(pos) = response.hover_pos() {
        let i = ((pos.x - rect.min.x) / bar) as usize;
        if let Some(&(first, last, pixels)) = buckets.get(i) {
            response.on_hover_text(format!(
                "escaped at {first}–{last}: {pixels} pixels ({:.1} %)",
                100.0 * pixels as f64 / h.escaped().max(1) as f64
            ));
        }
    }
    let q = |p: f64| h.quantile(p).map_or("–".into(), |v| v.to_string());
    ui.label(
        RichText::new(format!(
            "{} escaped; half by iteration {}, 99 % by {} (limit {})",
            h.escaped(),
            q(0.5),
            q(0.99),
            cost.max_iter
        ))
        .small(),
    );
}

/// The heatmap's legend: its colour ramp with the iteration counts at five points of its log
/// scale (0 to `max_iter`).
///
/// ```
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
///     rfm_perf::ui::gpu_cost::heatmap_legend(ui, 1000);
/// });
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn heatmap_legend(ui: &mut Ui, max_iter: u32) {
    ui.label(RichText::new("GPU cost per pixel: iterations computed (log scale)").small());
    let (rect, _) = ui.allocate_exact_size(Vec2::new(LEGEND_WIDTH, LEGEND_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    let steps = 48;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let r = Rect::from_min_max(
            pos2(rect.min.x + t0 * rect.width(), rect.min.y),
            pos2(
                rect.min.x + (i + 1) as f32 / steps as f32 * rect.width(),
                rect.max.y,
            ),
        );
        painter.rect_filled(r, CornerRadius::ZERO, heat(t0 + 0.5 / steps as f32));
    }
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        let labels: Vec<String> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&t| heat_iterations(t, max_iter).to_string())
            .collect();
        let slot = LEGEND_WIDTH / (labels.len() - 1) as f32;
        for (i, l) in labels.iter().enumerate() {
            let w = if i == 0 || i == labels.len() - 1 {
                slot / 2.0
            } else {
                slot
            };
            let layout = match i {
                0 => egui::Layout::left_to_right(egui::Align::Center),
                i if i == labels.len() - 1 => egui::Layout::right_to_left(egui::Align::Center),
                _ => egui::Layout::top_down(egui::Align::Center),
            };
            ui.allocate_ui_with_layout(Vec2::new(w, 12.0), layout, |ui| {
                ui.label(RichText::new(l).small().monospace());
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{CostTiles, EscapeHistogram};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn cost(heatmap: bool) -> PassCost {
        let mut counts = vec![1000u32; 40];
        counts[..10].copy_from_slice(&[2, 2, 2, 2, 2, 3, 3, 40, 90, 900]);
        PassCost {
            generation: 1,
            max_iter: 1000,
            pixels: 40,
            escaped_iterations: 1046,
            iterations_computed: 31046,
            arithmetic: "f32",
            interior_check: false,
            heatmap,
            histogram: EscapeHistogram::from_counts(&counts, 1000),
            tiles: CostTiles {
                tile_size: 32,
                columns: 10,
                rows: 1,
                iterations: vec![900, 10, 10, 10, 10, 10, 10, 10, 10, 10],
            },
        }
    }

    #[test]
    fn the_panel_says_where_the_work_went() {
        let c = cost(false);
        let harness = Harness::new_ui(|ui| gpu_cost_panel(ui, &c));
        harness.get_by_label(
            "10 × 1 tiles of 32 px; the costliest 10 % hold 91 % of the 990 iterations computed",
        );
        harness.get_by_label("10 escaped; half by iteration 2, 99 % by 959 (limit 1000)");
        assert!(
            harness
                .query_by_label("GPU cost per pixel: iterations computed (log scale)")
                .is_none()
        );
    }

    #[test]
    fn the_heatmap_legend_spans_zero_to_the_limit() {
        let c = cost(true);
        let harness = Harness::new_ui(|ui| gpu_cost_panel(ui, &c));
        harness.get_by_label("GPU cost per pixel: iterations computed (log scale)");
        for tick in ["0", "5", "31", "177", "1000"] {
            harness.get_by_label(tick);
        }
    }

    #[test]
    fn before_the_first_frame_it_says_so() {
        let harness = Harness::new_ui(|ui| gpu_cost_panel(ui, &PassCost::default()));
        harness.get_by_label("n/a: no frame of the GPU pass read back yet");
    }
}
