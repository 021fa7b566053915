//! The bottleneck analyzer: a sortable table of scope statistics ([`scope_table`]), the frame
//! split into its parts (from the analysis), call frequencies, and a flame graph of the latest,
//! slowest or pinned frame ([`flame_graph`]).

mod flame_graph;
mod scope_table;

use std::sync::Arc;

use egui::{Color32, Rect, RichText, Sense, Ui, pos2, vec2};
use rfm_perf_core::{FrameProfile, PerformanceTracker, ScopeStats};

pub use flame_graph::{FlameBox, flame_layout};
pub use scope_table::{SortColumn, sort_rows};

use super::format_value;
use crate::base::FrameBreakdown;
use crate::base::insights::{CPU_SYSTEMS, GPU_PASS, RENDER_ENCODE, UI};

const BAR_HEIGHT: f32 = 22.0;
const TOP_CALLED: usize = 10;

/// What the analyzer draws, gathered once per refresh.
///
/// ```
/// let data = rfm_perf::ui::bottleneck::BottleneckData::default();
/// assert!(data.scopes.is_empty() && data.latest.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct BottleneckData {
    /// Statistics of every scope in the tracker's scope window, slowest total first.
    pub scopes: Vec<ScopeStats>,
    /// The most recently collected frame.
    pub latest: Option<Arc<FrameProfile>>,
    /// The slowest frame kept by the tracker.
    pub slowest: Option<Arc<FrameProfile>>,
    /// The frame split into its parts, as the analysis last published it.
    pub breakdown: FrameBreakdown,
    /// Which gathering this is (each [`gather`](Self::gather) takes a new one): what the
    /// table's sorted order is cached by.
    pub version: u64,
    /// The most called scopes (indices into `scopes`, most calls per frame first; at most 10).
    pub most_called: Vec<usize>,
}

impl BottleneckData {
    /// Reads scope statistics and the latest and slowest frames from `tracker`; `breakdown` is
    /// what the analysis published ([`Insights::breakdown`](crate::Insights)).
    ///
    /// ```
    /// let t = rfm_perf::PerformanceTracker::new();
    /// t.start_timer("physics"); t.end_timer("physics");
    /// t.collect_frame();
    /// let data = rfm_perf::ui::bottleneck::BottleneckData::gather(&t, Default::default());
    /// assert_eq!(data.scopes[0].name.as_ref(), "physics");
    /// assert!(data.latest.is_some());
    /// ```
    pub fn gather(tracker: &PerformanceTracker, breakdown: FrameBreakdown) -> Self {
        let scopes = tracker.scope_stats();
        let mut most_called: Vec<usize> = (0..scopes.len())
            .filter(|&i| scopes[i].calls_per_frame.is_finite() && scopes[i].calls_per_frame > 0.0)
            .collect();
        most_called.sort_by(|&a, &b| {
            scopes[b]
                .calls_per_frame
                .total_cmp(&scopes[a].calls_per_frame)
        });
        most_called.truncate(TOP_CALLED);
        Self {
            most_called,
            scopes,
            latest: tracker.latest_frame(),
            slowest: tracker.slowest_frames().into_iter().next(),
            breakdown,
            version: {
                static GATHERED: std::sync::atomic::AtomicU64 =
                    std::sync::atomic::AtomicU64::new(1);
                GATHERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        }
    }
}

fn positive(v: Option<f64>) -> f64 {
    v.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0)
}

/// Which frame the flame graph shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FlameView {
    /// The most recently collected frame (the default).
    #[default]
    Latest,
    /// The slowest frame kept.
    Slowest,
    /// The frame the user pinned by clicking the graph.
    Pinned,
}

/// The analyzer's state across frames: table sort, flame-graph view, pinned frame.
///
/// ```
/// use rfm_perf::ui::bottleneck::{BottleneckState, FlameView, SortColumn};
/// let s = BottleneckState::default();
/// assert_eq!((s.sort, s.ascending, s.flame), (SortColumn::TotalMs, false, FlameView::Latest));
/// ```
#[derive(Clone, Debug, Default)]
pub struct BottleneckState {
    /// Column the table is sorted by.
    pub sort: SortColumn,
    /// Smallest first (default: largest first).
    pub ascending: bool,
    /// The frame pinned by clicking the flame graph, kept until unpinned.
    pub pinned: Option<Arc<FrameProfile>>,
    /// Which frame the flame graph shows.
    pub flame: FlameView,
    /// The table's row order for (data version, sort column, ascending).
    table_order: Option<((u64, SortColumn, bool), Vec<usize>)>,
    /// Each scope's number cells as text, for a data version (formatted once per refresh).
    row_text: Option<(u64, Vec<scope_table::RowText>)>,
}

impl BottleneckState {
    /// What clicking a header does: the same column flips the order, another column sorts by
    /// it (names A→Z, numbers largest first).
    ///
    /// ```
    /// use rfm_perf::ui::bottleneck::{BottleneckState, SortColumn};
    /// let mut s = BottleneckState::default();
    /// s.click_header(SortColumn::Scope);
    /// assert_eq!((s.sort, s.ascending), (SortColumn::Scope, true));
    /// s.click_header(SortColumn::Scope);
    /// assert!(!s.ascending);
    /// ```
    pub fn click_header(&mut self, column: SortColumn) {
        if self.sort == column {
            self.ascending = !self.ascending;
        } else {
            self.sort = column;
            self.ascending = column == SortColumn::Scope;
        }
    }

    /// Pins `frame` and shows it.
    pub fn pin(&mut self, frame: Arc<FrameProfile>) {
        self.pinned = Some(frame);
        self.flame = FlameView::Pinned;
    }

    /// Forgets the pinned frame and shows the latest one.
    pub fn unpin(&mut self) {
        self.pinned = None;
        self.flame = FlameView::Latest;
    }

    /// The frame the flame graph shows: the chosen one, or the latest when that is missing.
    ///
    /// ```
    /// use rfm_perf::ui::bottleneck::{BottleneckData, BottleneckState};
    /// assert!(BottleneckState::default().shown_frame(&BottleneckData::default()).is_none());
    /// ```
    pub fn shown_frame(&self, data: &BottleneckData) -> Option<Arc<FrameProfile>> {
        let chosen = match self.flame {
            FlameView::Latest => None,
            FlameView::Slowest => data.slowest.clone(),
            FlameView::Pinned => self.pinned.clone(),
        };
        chosen.or_else(|| data.latest.clone())
    }
}

/// The analyzer: sortable scope table, frame breakdown bar, call frequencies and the flame
/// graph of the latest / slowest / pinned frame (hover a box for its times, click to pin).
///
/// ```
/// use rfm_perf::ui::bottleneck::{BottleneckData, BottleneckState, bottleneck_panel};
/// let data = BottleneckData::gather(&rfm_perf::PerformanceTracker::new(), Default::default());
/// let mut state = BottleneckState::default();
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| bottleneck_panel(ui, &mut state, &data));
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn bottleneck_panel(ui: &mut Ui, state: &mut BottleneckState, data: &BottleneckData) {
    section(ui, "Scopes", |ui| scope_table::scope_table(ui, state, data));
    section(ui, "Frame breakdown", |ui| breakdown_bar(ui, data));
    section(ui, "Call frequency", |ui| call_frequency(ui, data));
    section(ui, "Execution path", |ui| flame_section(ui, state, data));
}

fn section(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt(("rfm_perf_bottleneck", title))
        .default_open(true)
        .show(ui, add);
}

fn share_color(label: &str) -> Color32 {
    match label {
        GPU_PASS => Color32::from_rgb(170, 110, 230),
        // the other render passes: shades of the GPU colour
        l if l.starts_with(crate::base::insights::GPU_PASS_PREFIX) => {
            let h = l
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let k = (h % 5) as u8 * 12;
            Color32::from_rgb(130 + k, 90 + k / 2, 200 + k / 2)
        }
        RENDER_ENCODE => Color32::from_rgb(80, 160, 235),
        UI => Color32::from_rgb(240, 190, 60),
        CPU_SYSTEMS => Color32::from_rgb(80, 200, 120),
        _ => Color32::from_gray(110),
    }
}

fn breakdown_bar(ui: &mut Ui, data: &BottleneckData) {
    let parts = &data.breakdown.shares;
    let total: f64 = parts.iter().map(|c| c.ms).sum();
    if total <= 0.0 {
        ui.label(RichText::new("No frame data yet").weak());
        return;
    }
    let frame = data
        .breakdown
        .frame_ms
        .filter(|f| f.is_finite() && *f > 0.0);
    let scale = frame.unwrap_or(total).max(total);
    let width = ui.available_width().max(50.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, BAR_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    let mut x = rect.left();
    for c in parts {
        let w = (c.ms / scale) as f32 * width;
        let r = Rect::from_min_size(pos2(x, rect.top()), vec2(w, BAR_HEIGHT));
        painter.rect_filled(r, 0.0, share_color(&c.label));
        x += w;
    }
    ui.horizontal_wrapped(|ui| {
        for c in parts {
            ui.label(RichText::new("■").color(share_color(&c.label)));
            let share = frame.map_or(String::new(), |f| format!(" ({:.0} %)", 100.0 * c.ms / f));
            ui.label(format!("{} {}{share}", c.label, format_value(c.ms, "ms")));
        }
    });
}

fn call_frequency(ui: &mut Ui, data: &BottleneckData) {
    // ranked once per refresh
    let top: Vec<&ScopeStats> = data
        .most_called
        .iter()
        .filter_map(|&i| data.scopes.get(i))
        .collect();
    if top.is_empty() {
        ui.label(RichText::new("No calls recorded yet").weak());
        return;
    }
    let max = top.first().map_or(1.0, |s| s.calls_per_frame);
    let width = ui.available_width().min(480.0);
    for s in top {
        ui.add(
            egui::ProgressBar::new((s.calls_per_frame / max) as f32)
                .desired_width(width)
                .text(format!("{}  {:.1}/frame", s.name, s.calls_per_frame)),
        );
    }
}

fn flame_section(ui: &mut Ui, state: &mut BottleneckState, data: &BottleneckData) {
    ui.horizontal(|ui| {
        ui.selectable_value(&mut state.flame, FlameView::Latest, "Latest frame");
        ui.selectable_value(&mut state.flame, FlameView::Slowest, "Slowest frame");
        if state.pinned.is_some() {
            ui.selectable_value(&mut state.flame, FlameView::Pinned, "Pinned frame");
            if ui.button("Unpin").clicked() {
                state.unpin();
            }
        }
    });
    let Some(frame) = state.shown_frame(data) else {
        ui.label(RichText::new("No frame collected yet").weak());
        return;
    };
    ui.label(
        RichText::new(format!(
            "Frame #{} — {} — click a box to pin this frame",
            frame.index,
            format_value(frame.duration_ms, "ms")
        ))
        .small(),
    );
    if flame_graph::flame_graph(ui, &frame) {
        state.pin(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    #[test]
    fn empty_tracker_draws_every_section() {
        let data = BottleneckData::gather(&PerformanceTracker::new(), Default::default());
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut BottleneckState| bottleneck_panel(ui, state, &data),
            BottleneckState::default(),
        );
        harness.run();
        harness.get_by_label("No frame data yet");
        harness.get_by_label("No calls recorded yet");
        harness.get_by_label("Slowest frame").click();
        harness.run();
        assert_eq!(harness.state().flame, FlameView::Slowest);
    }

    #[test]
    fn clicking_the_flame_graph_pins_the_frame_until_unpinned() {
        let t = PerformanceTracker::new();
        // reads must not collect frames of their own, as under the plugin
        t.set_frame_driver(true);
        t.start_timer("outer");
        t.start_timer("inner");
        std::thread::sleep(std::time::Duration::from_millis(2));
        t.end_timer("inner");
        t.end_timer("outer");
        t.collect_frame();
        let data = BottleneckData::gather(&t, Default::default());
        let shown = data.latest.clone().map(|f| f.index);
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut BottleneckState| bottleneck_panel(ui, state, &data),
            BottleneckState::default(),
        );
        harness.run();
        // one widget for the lane; hovering it names the box under the pointer
        harness.get_by_label_contains("flame graph of").hover();
        harness.run();
        harness.get_by_label_contains("inner\ntotal");
        harness.get_by_label_contains("flame graph of").click();
        harness.run();
        assert_eq!(harness.state().flame, FlameView::Pinned);
        assert_eq!(harness.state().pinned.as_ref().map(|f| f.index), shown);
        harness.get_by_label("Unpin").click();
        harness.run();
        assert!(harness.state().pinned.is_none());
        assert_eq!(harness.state().flame, FlameView::Latest);
    }
}
