//! The bottleneck analyzer: a sortable table of scope statistics, the frame split into
//! components, call frequencies, and a flame graph of the latest or slowest frame.

use std::sync::Arc;
use std::time::Duration;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Ui, pos2, vec2};
use rfm_perf_core::{FrameProfile, PerformanceTracker, ScopeStats, ThreadLane, TimeRange, names};

use super::format_value;

/// Component label: GPU time of the fractal compute pass.
pub const GPU_PASS: &str = "GPU fractal pass";
/// Component label: CPU time encoding render work (`render.*` scopes, `render.fractal_cpu_ms`).
pub const RENDER_ENCODE: &str = "Render encode";
/// Component label: the dashboard and other `ui.*` scopes.
pub const UI: &str = "UI";
/// Component label: self time of every other scope.
pub const CPU_SYSTEMS: &str = "CPU systems";
/// Component label: the rest of the frame (not covered by the others).
pub const OTHER_IDLE: &str = "Other/idle";

const TABLE_HEIGHT: f32 = 220.0;
const BAR_HEIGHT: f32 = 22.0;
const TOP_CALLED: usize = 10;
const ROW_HEIGHT: f32 = 18.0;
/// Deeper call-tree levels than this are not drawn.
const MAX_FLAME_DEPTH: usize = 48;

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
    /// Mean frame time over the scope window (ms).
    pub frame_ms: Option<f64>,
    /// Mean GPU time of the fractal pass over the scope window (ms).
    pub gpu_ms: Option<f64>,
    /// Mean CPU time encoding the fractal pass over the scope window (ms).
    pub render_cpu_ms: Option<f64>,
    /// Mean dashboard build time over the scope window (ms).
    pub ui_ms: Option<f64>,
}

/// One part of the frame-time breakdown.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// What it is ([`GPU_PASS`], [`RENDER_ENCODE`], [`UI`], [`CPU_SYSTEMS`], [`OTHER_IDLE`]).
    pub label: &'static str,
    /// Mean time per frame (ms), never negative.
    pub ms: f64,
}

impl BottleneckData {
    /// Reads scope statistics, the latest and slowest frames and the component metrics (means
    /// over the tracker's scope window) from `tracker`.
    ///
    /// ```
    /// let t = rfm_perf::PerformanceTracker::new();
    /// t.start_timer("physics"); t.end_timer("physics");
    /// t.collect_frame();
    /// let data = rfm_perf::ui::bottleneck::BottleneckData::gather(&t);
    /// assert_eq!(data.scopes[0].name.as_ref(), "physics");
    /// assert!(data.latest.is_some());
    /// ```
    pub fn gather(tracker: &PerformanceTracker) -> Self {
        let window = tracker.config().scope_window;
        let scopes = tracker.scope_stats();
        Self {
            scopes,
            latest: tracker.latest_frame(),
            slowest: tracker.slowest_frames().into_iter().next(),
            frame_ms: window_mean(tracker, names::FRAME_TIME_MS, window),
            gpu_ms: window_mean(tracker, names::RENDER_FRACTAL_GPU_MS, window),
            render_cpu_ms: window_mean(tracker, names::RENDER_FRACTAL_CPU_MS, window),
            ui_ms: window_mean(tracker, names::UI_DASHBOARD_MS, window),
        }
    }

    /// The mean frame split into components, in drawing order. Scopes count with their self
    /// time per frame, by name: `render.*` → [`RENDER_ENCODE`], `ui.*` → [`UI`], others →
    /// [`CPU_SYSTEMS`]; the `render.fractal_cpu_ms` and `ui.dashboard_ms` metrics are added
    /// unless a scope of that name already counted them. [`OTHER_IDLE`] is the frame time
    /// minus the rest, at least 0.
    ///
    /// ```
    /// use rfm_perf::ui::bottleneck::{BottleneckData, OTHER_IDLE, GPU_PASS};
    /// let data = BottleneckData { frame_ms: Some(16.0), gpu_ms: Some(6.0), ..Default::default() };
    /// let parts = data.breakdown();
    /// assert_eq!(parts[0].label, GPU_PASS);
    /// assert_eq!(parts.iter().find(|c| c.label == OTHER_IDLE).unwrap().ms, 10.0);
    /// ```
    pub fn breakdown(&self) -> Vec<Component> {
        let (mut render, mut ui, mut cpu) = (0.0, 0.0, 0.0);
        let (mut render_scope, mut ui_scope) = (false, false);
        for s in &self.scopes {
            let name = s.name.as_ref();
            let ms = per_frame(s.self_ms, s);
            if name == names::RENDER_FRACTAL_GPU_MS {
                continue;
            } else if name.starts_with("render.") {
                render += ms;
                render_scope |= name == names::RENDER_FRACTAL_CPU_MS;
            } else if name.starts_with("ui.") {
                ui += ms;
                ui_scope |= name == names::UI_DASHBOARD_MS;
            } else {
                cpu += ms;
            }
        }
        if !render_scope {
            render += positive(self.render_cpu_ms);
        }
        if !ui_scope {
            ui += positive(self.ui_ms);
        }
        let gpu = positive(self.gpu_ms);
        let known = gpu + render + ui + cpu;
        let frame = self.frame_ms.filter(|f| f.is_finite()).unwrap_or(known);
        [
            (GPU_PASS, gpu),
            (RENDER_ENCODE, render),
            (UI, ui),
            (CPU_SYSTEMS, cpu),
            (OTHER_IDLE, (frame - known).max(0.0)),
        ]
        .into_iter()
        .map(|(label, ms)| Component { label, ms })
        .collect()
    }
}

/// Mean of `name` over the last `window`, if it has samples there.
fn window_mean(tracker: &PerformanceTracker, name: &str, window: Duration) -> Option<f64> {
    tracker
        .decimate(name, TimeRange::last(window), 1)
        .first()
        .map(|b| b.mean)
        .filter(|m| m.is_finite())
}

/// `window_total` of scope `s` as a mean per frame.
fn per_frame(window_total: f64, s: &ScopeStats) -> f64 {
    if s.calls == 0 {
        return 0.0;
    }
    let v = window_total * s.calls_per_frame / s.calls as f64;
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

fn positive(v: Option<f64>) -> f64 {
    v.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0)
}

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

/// One box of a flame graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlameBox {
    /// Index of the node in the lane's `nodes`.
    pub node: usize,
    /// Row (0 = top level).
    pub depth: usize,
    /// Start, in ms from the lane's start (children are laid out left to right in their parent).
    pub start_ms: f64,
    /// Width: the node's total time (ms).
    pub width_ms: f64,
}

/// Lays out a lane's call tree as a flame graph: top-level nodes side by side, each child
/// inside its parent after its earlier siblings. Bad parent links count as top level.
///
/// ```
/// let t = rfm_perf::PerformanceTracker::new();
/// t.start_timer("outer"); t.start_timer("inner"); t.end_timer("inner"); t.end_timer("outer");
/// let frame = t.collect_frame();
/// let boxes = rfm_perf::ui::bottleneck::flame_layout(&frame.threads[0]);
/// assert_eq!((boxes[1].depth, boxes[1].start_ms), (1, 0.0));
/// ```
pub fn flame_layout(lane: &ThreadLane) -> Vec<FlameBox> {
    let n = lane.nodes.len();
    let mut next_child = vec![0.0_f64; n];
    let mut depth = vec![0_usize; n];
    let mut next_top = 0.0;
    let mut out = Vec::with_capacity(n);
    for (i, node) in lane.nodes.iter().enumerate() {
        let width = positive(Some(node.total_ms));
        let parent = node.parent.map(|p| p as usize).filter(|&p| p < i);
        let (start, d) = match parent {
            Some(p) => {
                let start = next_child[p];
                next_child[p] += width;
                (start, depth[p] + 1)
            }
            None => {
                let start = next_top;
                next_top += width;
                (start, 0)
            }
        };
        next_child[i] = start;
        depth[i] = d;
        out.push(FlameBox {
            node: i,
            depth: d,
            start_ms: start,
            width_ms: width,
        });
    }
    out
}

/// The analyzer: sortable scope table, frame breakdown bar, call frequencies and the flame
/// graph of the latest / slowest / pinned frame (hover a box for its times, click to pin).
///
/// ```
/// use rfm_perf::ui::bottleneck::{BottleneckData, BottleneckState, bottleneck_panel};
/// let data = BottleneckData::gather(&rfm_perf::PerformanceTracker::new());
/// let mut state = BottleneckState::default();
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| bottleneck_panel(ui, &mut state, &data));
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn bottleneck_panel(ui: &mut Ui, state: &mut BottleneckState, data: &BottleneckData) {
    section(ui, "Scopes", |ui| scope_table(ui, state, data));
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

fn scope_table(ui: &mut Ui, state: &mut BottleneckState, data: &BottleneckData) {
    if data.scopes.is_empty() {
        ui.label(
            RichText::new("No scopes recorded yet: add #[track_performance] or perf_scope!").weak(),
        );
        return;
    }
    let mut order: Vec<usize> = (0..data.scopes.len()).collect();
    order.sort_by(|&a, &b| {
        compare(
            &data.scopes[a],
            &data.scopes[b],
            state.sort,
            state.ascending,
        )
    });
    egui::ScrollArea::vertical()
        .id_salt("rfm_perf_scope_table")
        .max_height(TABLE_HEIGHT)
        .show(ui, |ui| {
            egui::Grid::new("rfm_perf_scope_table")
                .num_columns(SortColumn::ALL.len())
                .spacing([12.0, 4.0])
                .striped(true)
                .show(ui, |ui| {
                    for column in SortColumn::ALL {
                        header(ui, state, column);
                    }
                    ui.end_row();
                    for s in order
                        .iter()
                        .take(MAX_TABLE_ROWS)
                        .filter_map(|&i| data.scopes.get(i))
                    {
                        scope_row(ui, s);
                        ui.end_row();
                    }
                });
        });
    if order.len() > MAX_TABLE_ROWS {
        ui.label(
            RichText::new(format!(
                "first {MAX_TABLE_ROWS} of {} scopes in this order (click a header to re-sort)",
                order.len()
            ))
            .small()
            .weak(),
        );
    }
}

/// Rows the scope table lays out (egui lays out every row of a grid, visible or not).
pub const MAX_TABLE_ROWS: usize = 40;

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

fn scope_row(ui: &mut Ui, s: &ScopeStats) {
    let mono = |v: String| RichText::new(v).monospace();
    ui.label(s.name.as_ref())
        .on_hover_text(format!("{} calls in the window", s.calls));
    ui.label(mono(format!("{:.1}", s.calls_per_frame)));
    ui.label(mono(format_value(per_frame(s.total_ms, s), "")));
    ui.label(mono(format_value(per_frame(s.self_ms, s), "")));
    ui.label(mono(format_value(s.mean_ms, "")));
    ui.label(mono(format_value(s.p95_ms, "")));
    ui.label(mono(format!("{:.1} %", s.frame_pct)));
}

fn component_color(label: &str) -> Color32 {
    match label {
        GPU_PASS => Color32::from_rgb(170, 110, 230),
        RENDER_ENCODE => Color32::from_rgb(80, 160, 235),
        UI => Color32::from_rgb(240, 190, 60),
        CPU_SYSTEMS => Color32::from_rgb(80, 200, 120),
        _ => Color32::from_gray(110),
    }
}

fn breakdown_bar(ui: &mut Ui, data: &BottleneckData) {
    let parts = data.breakdown();
    let total: f64 = parts.iter().map(|c| c.ms).sum();
    if total <= 0.0 {
        ui.label(RichText::new("No frame data yet").weak());
        return;
    }
    let frame = data.frame_ms.filter(|f| f.is_finite() && *f > 0.0);
    let scale = frame.unwrap_or(total).max(total);
    let width = ui.available_width().max(50.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, BAR_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    let mut x = rect.left();
    for c in &parts {
        let w = (c.ms / scale) as f32 * width;
        let r = Rect::from_min_size(pos2(x, rect.top()), vec2(w, BAR_HEIGHT));
        painter.rect_filled(r, 0.0, component_color(c.label));
        x += w;
    }
    ui.horizontal_wrapped(|ui| {
        for c in &parts {
            ui.label(RichText::new("■").color(component_color(c.label)));
            let share = frame.map_or(String::new(), |f| format!(" ({:.0} %)", 100.0 * c.ms / f));
            ui.label(format!("{} {}{share}", c.label, format_value(c.ms, "ms")));
        }
    });
}

fn call_frequency(ui: &mut Ui, data: &BottleneckData) {
    let mut top: Vec<&ScopeStats> = data
        .scopes
        .iter()
        .filter(|s| s.calls_per_frame.is_finite() && s.calls_per_frame > 0.0)
        .collect();
    if top.is_empty() {
        ui.label(RichText::new("No calls recorded yet").weak());
        return;
    }
    top.sort_by(|a, b| b.calls_per_frame.total_cmp(&a.calls_per_frame));
    top.truncate(TOP_CALLED);
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
    if flame_graph(ui, &frame) {
        state.pin(frame);
    }
}

/// Draws every lane of `frame`; true when a box was clicked.
fn flame_graph(ui: &mut Ui, frame: &FrameProfile) -> bool {
    if frame.threads.is_empty() {
        ui.label(RichText::new("No scopes ran in this frame").weak());
        return false;
    }
    let scale = flame_scale(frame);
    let width = ui.available_width().max(100.0);
    let px_per_ms = f64::from(width) / scale;
    let mut clicked = false;
    for (li, lane) in frame.threads.iter().enumerate() {
        ui.label(RichText::new(lane.thread.as_ref()).small().weak());
        let boxes = flame_layout(lane);
        let rows = boxes
            .iter()
            .map(|b| b.depth)
            .max()
            .unwrap_or(0)
            .min(MAX_FLAME_DEPTH)
            + 1;
        let (rect, _) =
            ui.allocate_exact_size(vec2(width, rows as f32 * ROW_HEIGHT), Sense::hover());
        for b in boxes.iter().filter(|b| b.depth < rows) {
            let Some(node) = lane.nodes.get(b.node) else {
                continue;
            };
            let r = Rect::from_min_size(
                pos2(
                    rect.left() + (b.start_ms * px_per_ms) as f32,
                    rect.top() + b.depth as f32 * ROW_HEIGHT,
                ),
                vec2((b.width_ms * px_per_ms) as f32, ROW_HEIGHT - 1.0),
            );
            if r.width() < 1.0 {
                continue;
            }
            draw_box(ui, r.intersect(rect), &node.name);
            let id = ui.id().with(("rfm_perf_flame", frame.index, li, b.node));
            let response = ui.interact(r.intersect(rect), id, Sense::click());
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::Button, true, node.name.as_ref())
            });
            // the tooltip text is built only for the hovered box
            let response = response.on_hover_ui(|ui| {
                ui.label(format!(
                    "{}\ntotal {} · self {} · {} calls",
                    node.name,
                    format_value(node.total_ms, "ms"),
                    format_value(node.self_ms, "ms"),
                    node.calls
                ));
            });
            clicked |= response.clicked();
        }
    }
    clicked
}

fn draw_box(ui: &Ui, r: Rect, name: &str) {
    let painter = ui.painter_at(r);
    painter.rect_filled(r, 2.0, name_color(name));
    if r.width() > 24.0 {
        painter.text(
            r.left_center() + vec2(3.0, 0.0),
            Align2::LEFT_CENTER,
            name,
            FontId::proportional(11.0),
            Color32::BLACK,
        );
    }
}

/// Milliseconds the full width stands for: the frame, or its longest lane if longer.
fn flame_scale(frame: &FrameProfile) -> f64 {
    let longest = frame
        .threads
        .iter()
        .map(|lane| {
            lane.nodes
                .iter()
                .filter(|n| n.parent.is_none())
                .map(|n| positive(Some(n.total_ms)))
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let scale = positive(Some(frame.duration_ms)).max(longest);
    if scale > 0.0 { scale } else { 1.0 }
}

/// A stable pastel colour per scope name.
fn name_color(name: &str) -> Color32 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let hue = (hash % 360) as f32 / 360.0;
    egui::ecolor::Hsva::new(hue, 0.45, 0.9, 1.0).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::accesskit::Role;
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

    #[test]
    fn breakdown_splits_the_frame_by_scope_prefix_and_metric() {
        // 10 frames in the window: per frame physics self 4, render 2, ai 3, ui 1
        let data = BottleneckData {
            scopes: rows(),
            frame_ms: Some(16.0),
            gpu_ms: Some(3.0),
            render_cpu_ms: Some(0.5),
            ui_ms: Some(0.25),
            ..Default::default()
        };
        let parts = data.breakdown();
        let ms = |label: &str| parts.iter().find(|c| c.label == label).map(|c| c.ms);
        assert_eq!(ms(GPU_PASS), Some(3.0));
        assert_eq!(ms(RENDER_ENCODE), Some(2.5));
        assert_eq!(ms(UI), Some(1.25));
        assert_eq!(ms(CPU_SYSTEMS), Some(4.0 + 3.0));
        assert_eq!(ms(OTHER_IDLE), Some(16.0 - 3.0 - 2.5 - 1.25 - 7.0));
        // more work than frame: other/idle is clamped at zero
        let busy = BottleneckData {
            frame_ms: Some(5.0),
            ..data.clone()
        };
        assert_eq!(busy.breakdown()[4].ms, 0.0);
        // a scope named like the metric is not counted twice
        let mut scoped = data;
        scoped
            .scopes
            .push(stat(names::UI_DASHBOARD_MS, 10, 1.0, 5.0, 5.0, 0.5));
        assert_eq!(scoped.breakdown()[2].ms, 1.5);
        // nothing known: all zero, no NaN
        assert!(
            BottleneckData::default()
                .breakdown()
                .iter()
                .all(|c| c.ms == 0.0)
        );
    }

    #[test]
    fn flame_layout_nests_children_inside_parents() {
        let t = PerformanceTracker::new();
        t.start_timer("frame");
        t.start_timer("a");
        t.end_timer("a");
        t.start_timer("b");
        t.start_timer("b1");
        t.end_timer("b1");
        t.end_timer("b");
        t.end_timer("frame");
        let frame = t.collect_frame();
        let lane = &frame.threads[0];
        let boxes = flame_layout(lane);
        let by_name = |n: &str| {
            let i = lane
                .nodes
                .iter()
                .position(|x| x.name.as_ref() == n)
                .unwrap();
            boxes[i]
        };
        assert_eq!(by_name("frame").depth, 0);
        assert_eq!(by_name("a").start_ms, 0.0);
        assert_eq!(by_name("b").start_ms, by_name("a").width_ms);
        assert_eq!(by_name("b1").depth, 2);
        assert_eq!(by_name("b1").start_ms, by_name("b").start_ms);
        assert!(by_name("b").start_ms + by_name("b").width_ms <= by_name("frame").width_ms + 1e-9);
    }

    #[test]
    fn empty_tracker_draws_every_section() {
        let data = BottleneckData::gather(&PerformanceTracker::new());
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
        let data = BottleneckData::gather(&t);
        let shown = data.latest.clone().map(|f| f.index);
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut BottleneckState| bottleneck_panel(ui, state, &data),
            BottleneckState::default(),
        );
        harness.run();
        harness.get_by_role_and_label(Role::Button, "inner").click();
        harness.run();
        assert_eq!(harness.state().flame, FlameView::Pinned);
        assert_eq!(harness.state().pinned.as_ref().map(|f| f.index), shown);
        harness.get_by_label("Unpin").click();
        harness.run();
        assert!(harness.state().pinned.is_none());
        assert_eq!(harness.state().flame, FlameView::Latest);
    }
}
