//! The scope table: one row per scope, sortable by every column.

use egui::{Align, Align2, Layout, Rect, RichText, Sense, Ui, Vec2, pos2};
use rfm_perf_core::ScopeStats;

use super::{BottleneckData, BottleneckState};
use crate::ui::format_value;

const TABLE_HEIGHT: f32 = 220.0;

/// A column of the scope table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortColumn {
    /// Scope name.
    Scope,
    /// Mean calls per frame.
    CallsPerFrame,
    /// Total time per frame (the default).
    #[default]
    TotalMs,
    /// Self time (total minus children) per frame.
    SelfMs,
    /// Mean time per call.
    MeanMs,
    /// 95th percentile time per call.
    P95Ms,
    /// Share of the frame.
    FramePct,
}

impl SortColumn {
    /// Every column, in table order.
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Scope,
        SortColumn::CallsPerFrame,
        SortColumn::TotalMs,
        SortColumn::SelfMs,
        SortColumn::MeanMs,
        SortColumn::P95Ms,
        SortColumn::FramePct,
    ];

    /// The header text.
    ///
    /// ```
    /// assert_eq!(rfm_perf::ui::bottleneck::SortColumn::P95Ms.title(), "p95 ms");
    /// ```
    pub fn title(self) -> &'static str {
        match self {
            SortColumn::Scope => "Scope",
            SortColumn::CallsPerFrame => "Calls/frame",
            SortColumn::TotalMs => "Total ms",
            SortColumn::SelfMs => "Self ms",
            SortColumn::MeanMs => "Mean ms",
            SortColumn::P95Ms => "p95 ms",
            SortColumn::FramePct => "% of frame",
        }
    }

    fn help(self) -> &'static str {
        match self {
            SortColumn::Scope => "Scope name",
            SortColumn::CallsPerFrame => "Mean calls per frame",
            SortColumn::TotalMs => "Time in the scope per frame, children included",
            SortColumn::SelfMs => "Time in the scope per frame, children excluded",
            SortColumn::MeanMs => "Mean time per call",
            SortColumn::P95Ms => "95th percentile time per call",
            SortColumn::FramePct => "Share of the frame time (can exceed 100 % with threads)",
        }
    }

    fn key(self, s: &ScopeStats) -> f64 {
        match self {
            SortColumn::Scope => 0.0,
            SortColumn::CallsPerFrame => s.calls_per_frame,
            SortColumn::TotalMs => s.total_ms,
            SortColumn::SelfMs => s.self_ms,
            SortColumn::MeanMs => s.mean_ms,
            SortColumn::P95Ms => s.p95_ms,
            SortColumn::FramePct => s.frame_pct,
        }
    }
}

/// Sorts scope rows by `column`; ties (and the name column) go by name.
///
/// ```
/// use rfm_perf::ui::bottleneck::{SortColumn, sort_rows};
/// let t = rfm_perf::PerformanceTracker::new();
/// for name in ["b", "a"] { t.start_timer(name); t.end_timer(name); }
/// let mut rows = t.scope_stats();
/// sort_rows(&mut rows, SortColumn::Scope, true);
/// assert_eq!(rows[0].name.as_ref(), "a");
/// ```
pub fn sort_rows(rows: &mut [ScopeStats], column: SortColumn, ascending: bool) {
    rows.sort_by(|a, b| compare(a, b, column, ascending));
}

fn compare(
    a: &ScopeStats,
    b: &ScopeStats,
    column: SortColumn,
    ascending: bool,
) -> std::cmp::Ordering {
    let by_name = a.name.cmp(&b.name);
    let ord = column.key(a).total_cmp(&column.key(b)).then(by_name);
    if ascending { ord } else { ord.reverse() }
}

pub(super) fn scope_table(ui: &mut Ui, state: &mut BottleneckState, data: &BottleneckData) {
    if data.scopes.is_empty() {
        ui.label(
            RichText::new("No scopes recorded yet: add #[track_performance] or perf_scope!").weak(),
        );
        return;
    }
    // sorted once per refresh and order, not every frame
    let key = (data.version, state.sort, state.ascending);
    if state.table_order.as_ref().is_none_or(|(k, _)| *k != key) {
        let mut order: Vec<usize> = (0..data.scopes.len()).collect();
        order.sort_by(|&a, &b| {
            compare(
                &data.scopes[a],
                &data.scopes[b],
                state.sort,
                state.ascending,
            )
        });
        state.table_order = Some((key, order));
    }
    ui.horizontal(|ui| {
        for column in SortColumn::ALL {
            cell(ui, column, |ui| header(ui, state, column));
        }
    });
    if state
        .row_text
        .as_ref()
        .is_none_or(|(v, _)| *v != data.version)
    {
        state.row_text = Some((data.version, data.scopes.iter().map(RowText::of).collect()));
    }
    let (Some((_, order)), Some((_, texts))) = (&state.table_order, &state.row_text) else {
        return;
    };
    // only the visible rows are laid out: every scope can be scrolled to
    egui::ScrollArea::vertical()
        .id_salt("rfm_perf_scope_table")
        .max_height(TABLE_HEIGHT)
        .show_rows(ui, ROW_HEIGHT, order.len(), |ui, rows| {
            for &i in &order[rows] {
                if let (Some(s), Some(text)) = (data.scopes.get(i), texts.get(i)) {
                    scope_row(ui, s, text);
                }
            }
        });
}

/// A scope's number cells as text (calls/frame, total, self, mean, p95, % of frame).
#[derive(Clone, Debug)]
pub(super) struct RowText([String; 6]);

impl RowText {
    fn of(s: &ScopeStats) -> Self {
        Self([
            format!("{:.1}", s.calls_per_frame),
            format_value(s.per_frame_ms(s.total_ms), ""),
            format_value(s.per_frame_ms(s.self_ms), ""),
            format_value(s.mean_ms, ""),
            format_value(s.p95_ms, ""),
            format!("{:.1} %", s.frame_pct),
        ])
    }
}

/// Height of a table row.
const ROW_HEIGHT: f32 = 18.0;

/// Width of a column: the scope name wide, the numbers narrow.
fn column_width(column: SortColumn) -> f32 {
    // wide enough for each header with its sort arrow: a cell that overflows would push the
    // columns after it out of line with the rows
    match column {
        SortColumn::Scope => 200.0,
        _ => 96.0,
    }
}

fn header(ui: &mut Ui, state: &mut BottleneckState, column: SortColumn) {
    let active = state.sort == column;
    let arrow = match (active, state.ascending) {
        (false, _) => "",
        (true, true) => " ⬆",
        (true, false) => " ⬇",
    };
    let text = RichText::new(format!("{}{arrow}", column.title())).strong();
    if ui
        .selectable_label(active, text)
        .on_hover_text(column.help())
        .clicked()
    {
        state.click_header(column);
    }
}

/// One row as one widget: the cells painted in their columns (the name clipped to its column,
/// the numbers right-aligned), the scope's full name and calls on hover.
fn scope_row(ui: &mut Ui, s: &ScopeStats, text: &RowText) {
    let spacing = ui.spacing().item_spacing.x;
    let width: f32 = SortColumn::ALL
        .iter()
        .map(|&c| column_width(c) + spacing)
        .sum();
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, ROW_HEIGHT), Sense::hover());
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let visuals = ui.visuals();
        let (body, mono) = (
            egui::TextStyle::Body.resolve(ui.style()),
            egui::TextStyle::Monospace.resolve(ui.style()),
        );
        let color = visuals.text_color();
        let mut x = rect.left();
        let y = rect.center().y;
        for (k, &column) in SortColumn::ALL.iter().enumerate() {
            let w = column_width(column);
            if k == 0 {
                painter
                    .with_clip_rect(Rect::from_min_max(
                        pos2(x, rect.top()),
                        pos2(x + w, rect.bottom()),
                    ))
                    .text(
                        pos2(x, y),
                        Align2::LEFT_CENTER,
                        s.name.as_ref(),
                        body.clone(),
                        color,
                    );
            } else {
                painter.text(
                    pos2(x + w, y),
                    Align2::RIGHT_CENTER,
                    &text.0[k - 1],
                    mono.clone(),
                    color,
                );
            }
            x += w + spacing;
        }
    }
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Label, true, s.name.as_ref()));
    if response.hovered() {
        response.on_hover_text(format!("{} — {} calls in the window", s.name, s.calls));
    }
}

/// One header cell of `column`'s width (numbers' headers right-aligned, over their column).
fn cell(ui: &mut Ui, column: SortColumn, add: impl FnOnce(&mut Ui)) {
    let layout = match column {
        SortColumn::Scope => Layout::left_to_right(Align::Center),
        _ => Layout::right_to_left(Align::Center),
    };
    let size = Vec2::new(column_width(column), ROW_HEIGHT);
    ui.allocate_ui_with_layout(size, layout, |ui| {
        // the whole width, however short the text: the next column starts in line
        ui.set_min_size(size);
        ui.set_max_width(size.x);
        add(ui);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::bottleneck::bottleneck_panel;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    fn stat(name: &str, calls: u64, cpf: f64, total: f64, self_ms: f64, p95: f64) -> ScopeStats {
        ScopeStats {
            name: name.into(),
            calls,
            calls_per_frame: cpf,
            total_ms: total,
            self_ms,
            mean_ms: total / calls.max(1) as f64,
            min_ms: 0.0,
            max_ms: p95,
            p50_ms: p95 / 2.0,
            p95_ms: p95,
            p99_ms: p95,
            frame_pct: total / 10.0,
        }
    }

    fn rows() -> Vec<ScopeStats> {
        vec![
            stat("physics", 10, 1.0, 50.0, 40.0, 6.0),
            stat("render.encode", 10, 1.0, 20.0, 20.0, 3.0),
            stat("ai", 400, 40.0, 30.0, 30.0, 0.2),
            stat("ui.dashboard", 10, 1.0, 10.0, 10.0, 1.5),
        ]
    }

    fn names_of(rows: &[ScopeStats]) -> Vec<&str> {
        rows.iter().map(|s| s.name.as_ref()).collect()
    }

    #[test]
    fn sort_rows_orders_every_column_both_ways() {
        let mut r = rows();
        sort_rows(&mut r, SortColumn::Scope, true);
        assert_eq!(
            names_of(&r),
            ["ai", "physics", "render.encode", "ui.dashboard"]
        );
        sort_rows(&mut r, SortColumn::Scope, false);
        assert_eq!(
            names_of(&r),
            ["ui.dashboard", "render.encode", "physics", "ai"]
        );
        sort_rows(&mut r, SortColumn::TotalMs, false);
        assert_eq!(
            names_of(&r),
            ["physics", "ai", "render.encode", "ui.dashboard"]
        );
        sort_rows(&mut r, SortColumn::CallsPerFrame, false);
        assert_eq!(r[0].name.as_ref(), "ai");
        // ties go by name
        assert_eq!(
            names_of(&r)[1..],
            ["ui.dashboard", "render.encode", "physics"]
        );
        sort_rows(&mut r, SortColumn::CallsPerFrame, true);
        assert_eq!(
            names_of(&r)[..3],
            ["physics", "render.encode", "ui.dashboard"]
        );
        sort_rows(&mut r, SortColumn::MeanMs, true);
        assert_eq!(r[0].name.as_ref(), "ai");
        sort_rows(&mut r, SortColumn::P95Ms, false);
        assert_eq!(r[0].name.as_ref(), "physics");
        sort_rows(&mut r, SortColumn::SelfMs, true);
        assert_eq!(r[0].name.as_ref(), "ui.dashboard");
        sort_rows(&mut r, SortColumn::FramePct, false);
        assert_eq!(r[0].name.as_ref(), "physics");
        sort_rows(&mut [], SortColumn::FramePct, false);
    }

    #[test]
    fn clicking_a_header_sorts_by_it_and_again_flips_the_order() {
        let data = BottleneckData {
            scopes: rows(),
            ..Default::default()
        };
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut BottleneckState| bottleneck_panel(ui, state, &data),
            BottleneckState::default(),
        );
        harness.run();
        // each row is one widget named by its scope; hovering shows its calls
        harness.get_by_label("physics").hover();
        harness.run();
        harness.get_by_label_contains("physics — 10 calls in the window");
        harness.get_by_label("Total ms ⬇");
        harness.get_by_label("Calls/frame").click();
        harness.run();
        assert_eq!(harness.state().sort, SortColumn::CallsPerFrame);
        assert!(!harness.state().ascending);
        harness.get_by_label("Calls/frame ⬇").click();
        harness.run();
        assert!(harness.state().ascending);
        harness.get_by_label("Scope").click();
        harness.run();
        assert_eq!(
            (harness.state().sort, harness.state().ascending),
            (SortColumn::Scope, true)
        );
    }
}
