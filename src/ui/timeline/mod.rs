//! The timeline panel: any recorded metrics over time, min–max decimated to the plot's pixel
//! width and cached between snapshots, with robust-z anomaly points and baseline bands.
//!
//! x is seconds relative to "now" (negative = the past). "Now" is the moment the tracker's
//! latest published snapshot was first drawn, so the series are only recomputed when a new
//! snapshot arrives (at the plugin's update interval), when the selection changes, or when the
//! user pans or zooms.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use egui::{Color32, RichText, Ui};
use egui_plot::{
    Axis, HLine, Legend, LineStyle, MarkerShape, Plot, PlotPoints, PlotUi, Points, Span,
};
use rfm_perf_core::{BaselineStat, PerformanceTracker, names};

mod mesh_line;
mod metric_list;
mod series;
mod tick_labels;

use mesh_line::MeshLine;
use metric_list::{MetricList, metric_list};
use series::{Series, SeriesCache};
use tick_labels::{X_LABEL_MIN_SPACING, Y_LABEL_MIN_SPACING, tick_label};

/// How much history the timeline shows by default and after **Reset**.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Robust z-score above which a point is drawn as an anomaly.
pub const ANOMALY_Z: f64 = 3.5;

const PLOT_HEIGHT: f32 = 240.0;
const LIST_HEIGHT: f32 = 90.0;
/// Buckets used before the plot's width is known, and the most ever asked for.
const FIRST_BUCKETS: usize = 600;
const MAX_BUCKETS: usize = 4096;
const ANOMALY_COLOR: Color32 = Color32::from_rgb(235, 80, 70);
/// Colour of the level-shift markers.
const LEVEL_SHIFT_COLOR: Color32 = Color32::from_rgb(240, 190, 60);

/// What the timeline shows, and its cache of decimated series. Keep one per timeline across
/// frames.
///
/// ```
/// use rfm_perf::ui::timeline::{DEFAULT_WINDOW, TimelineState};
/// let state = TimelineState::default();
/// assert_eq!(state.selected, vec!["frame.time_ms".to_string()]);
/// assert!(state.follow_live);
/// assert_eq!(state.window, DEFAULT_WINDOW);
/// ```
#[derive(Debug)]
pub struct TimelineState {
    /// Metrics drawn, in the order they were ticked (default: `frame.time_ms`).
    pub selected: Vec<String>,
    /// Filter of the metric list: a case-insensitive substring.
    pub search: String,
    /// Keep the view on the newest [`window`](Self::window) of data (default on). Turned off
    /// when the user drags or zooms the plot.
    pub follow_live: bool,
    /// Length of the live view (default [`DEFAULT_WINDOW`]).
    pub window: Duration,
    /// The x range shown, in seconds relative to `anchor`.
    view: [f64; 2],
    /// The moment x = 0 stands for.
    anchor: Option<SystemTime>,
    cache: SeriesCache,
    list: MetricList,
}

impl Default for TimelineState {
    fn default() -> Self {
        Self {
            selected: vec![names::FRAME_TIME_MS.to_string()],
            search: String::new(),
            follow_live: true,
            window: DEFAULT_WINDOW,
            view: live_view(DEFAULT_WINDOW),
            anchor: None,
            cache: SeriesCache::default(),
            list: MetricList::default(),
        }
    }
}

impl TimelineState {
    /// Back to the default window, following live data.
    ///
    /// ```
    /// let mut state = rfm_perf::ui::timeline::TimelineState::default();
    /// state.follow_live = false;
    /// state.window = std::time::Duration::from_secs(5);
    /// state.reset();
    /// assert!(state.follow_live);
    /// assert_eq!(state.window, rfm_perf::ui::timeline::DEFAULT_WINDOW);
    /// ```
    pub fn reset(&mut self) {
        self.window = DEFAULT_WINDOW;
        self.go_live();
    }

    /// How many series were decimated since this state was made: stays put from frame to frame
    /// while nothing changes (the cache at work).
    ///
    /// ```
    /// assert_eq!(rfm_perf::ui::timeline::TimelineState::default().recomputations(), 0);
    /// ```
    pub fn recomputations(&self) -> u64 {
        self.cache.recomputed
    }

    fn go_live(&mut self) {
        self.follow_live = true;
        self.view = live_view(self.window);
        self.anchor = Some(SystemTime::now());
    }

    /// Picks up a newly published snapshot: fresh names and baselines, series to recompute.
    fn refresh_snapshot(&mut self, tracker: &PerformanceTracker) {
        let snapshot = tracker.snapshot();
        let fresh = self
            .cache
            .snapshot
            .as_ref()
            .is_none_or(|s| !Arc::ptr_eq(s, &snapshot));
        if fresh {
            self.cache.snapshot = Some(snapshot);
            let names = tracker.recorded_metric_names();
            if names != self.cache.names {
                self.cache.names = names;
                self.cache.names_version += 1;
            }
            self.cache.baselines = tracker.baselines().metrics;
            if self.follow_live {
                // the live range moves to now: `update_series` slides the lines there,
                // decimating only their new end
                self.anchor = Some(SystemTime::now());
                self.cache.tail_stale = true;
            } else {
                // a fixed range: its lines may hold samples that were not flushed before
                self.cache.series.clear();
                self.anchor.get_or_insert_with(SystemTime::now);
            }
        }
    }

    fn set_selected(&mut self, name: &str, on: bool) {
        if on {
            if !self.selected.iter().any(|s| s == name) {
                self.selected.push(name.to_string());
            }
        } else {
            self.selected.retain(|s| s != name);
            self.cache.series.remove(name);
        }
    }

    /// The x range to show this frame.
    fn x_range(&self) -> [f64; 2] {
        let [lo, hi] = self.view;
        if self.follow_live || !(lo.is_finite() && hi.is_finite() && lo < hi) {
            live_view(self.window)
        } else {
            self.view
        }
    }
}

/// The timeline: a searchable list of recorded metrics to tick, **Follow live** and **Reset**,
/// and a zoomable plot of the ticked metrics with anomalies (red points) and baselines
/// (dashed median, dotted p95, shaded band between them).
///
/// ```
/// use rfm_perf::ui::timeline::{TimelineState, timeline_panel};
/// let tracker = rfm_perf::PerformanceTracker::new();
/// tracker.track_metric("frame.time_ms", 16.0);
/// let mut state = TimelineState::default();
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| timeline_panel(ui, &mut state, &tracker));
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// assert_eq!(state.recomputations(), 1);
/// ```
pub fn timeline_panel(ui: &mut Ui, state: &mut TimelineState, tracker: &PerformanceTracker) {
    state.refresh_snapshot(tracker);
    controls(ui, state);
    metric_list(ui, state);
    let x = state.x_range();
    state.update_series(tracker, x);
    plot(ui, state, x);
}

fn controls(ui: &mut Ui, state: &mut TimelineState) {
    ui.horizontal(|ui| {
        ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut state.search)
                .hint_text("metric name")
                .desired_width(160.0),
        );
        let was_live = state.follow_live;
        ui.checkbox(&mut state.follow_live, "Follow live")
            .on_hover_text("Keep the view on the newest data");
        if state.follow_live && !was_live {
            state.go_live();
        }
        if ui
            .button("Reset")
            .on_hover_text(format!(
                "Show the last {} s and follow live",
                DEFAULT_WINDOW.as_secs()
            ))
            .clicked()
        {
            state.reset();
        }
        ui.label(RichText::new(format!("{} selected", state.selected.len())).weak());
    });
}

fn plot(ui: &mut Ui, state: &mut TimelineState, x: [f64; 2]) {
    let follow = state.follow_live;
    let cache = &state.cache;
    let selected = &state.selected;
    // the plot area's size last frame: ticks too dense to label get no text
    let size = cache.plot_frame.map_or(egui::Vec2::ZERO, |r| r.size());
    let response = Plot::new("rfm_perf_timeline")
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .x_axis_label("seconds (0 = now)")
        .x_axis_formatter(move |mark, range| tick_label(mark, range, size.x, X_LABEL_MIN_SPACING))
        .y_axis_formatter(move |mark, range| tick_label(mark, range, size.y, Y_LABEL_MIN_SPACING))
        .show(ui, |plot_ui| {
            plot_ui.set_plot_bounds_x(x[0]..=x[1]);
            if follow {
                plot_ui.set_auto_bounds([false, true]);
            }
            for (i, name) in selected.iter().enumerate() {
                let color = series_color(i);
                let series = cache.series.get(name);
                if let Some(b) = cache.baselines.get(name) {
                    // under the line's own name: one legend entry shows and hides both
                    let label = series.map_or(name.as_str(), |s| s.label.as_str());
                    draw_baseline(plot_ui, label, b, color);
                }
                if let Some(s) = series {
                    draw_series(plot_ui, s, color);
                }
            }
        });
    let bounds = response.transform.bounds();
    let shown = [bounds.min()[0], bounds.max()[0]];
    state.cache.plot_frame = Some(*response.transform.frame());
    if follow && (response.response.dragged() || moved(shown, x)) {
        state.follow_live = false;
    }
    state.view = shown;
}

/// Whether the user panned or zoomed away from `asked`.
fn moved(shown: [f64; 2], asked: [f64; 2]) -> bool {
    let eps = 1e-6 * (asked[1] - asked[0]).abs().max(1.0);
    (shown[0] - asked[0]).abs() > eps || (shown[1] - asked[1]).abs() > eps
}

fn draw_series<'a>(plot_ui: &mut PlotUi<'a>, series: &'a Series, color: Color32) {
    plot_ui.add(MeshLine::new(
        &series.label,
        &series.points,
        series.version,
        series.bounds.unwrap_or(egui_plot::PlotBounds::NOTHING),
        color,
        &series.mesh,
    ));
    if !series.anomalies.is_empty() {
        plot_ui.points(
            Points::new("anomalies", PlotPoints::Borrowed(&series.anomalies))
                .color(ANOMALY_COLOR)
                .shape(MarkerShape::Circle)
                .filled(true)
                .radius(3.5),
        );
    }
    if !series.level_shifts.is_empty() {
        plot_ui.points(
            Points::new("level shifts", PlotPoints::Borrowed(&series.level_shifts))
                .color(LEVEL_SHIFT_COLOR)
                .shape(MarkerShape::Diamond)
                .filled(true)
                .radius(6.0),
        );
    }
}

fn draw_baseline(plot_ui: &mut PlotUi<'_>, label: &str, b: &BaselineStat, color: Color32) {
    if !(b.median.is_finite() && b.p95.is_finite()) {
        return;
    }
    let (lo, hi) = (b.median.min(b.p95), b.median.max(b.p95));
    plot_ui.add(
        Span::new(label, lo..=hi)
            .axis(Axis::Y)
            .fill(color.gamma_multiply(0.12)),
    );
    plot_ui.hline(
        HLine::new(label, b.median)
            .color(color)
            .style(LineStyle::dashed_loose()),
    );
    plot_ui.hline(
        HLine::new(label, b.p95)
            .color(color.gamma_multiply(0.7))
            .style(LineStyle::dotted_loose()),
    );
}

fn live_view(window: Duration) -> [f64; 2] {
    let w = window.as_secs_f64();
    [if w > 0.0 { -w } else { -1.0 }, 0.0]
}

/// Distinct colours for the i-th selected metric (golden-ratio hues).
fn series_color(i: usize) -> Color32 {
    let hue = (i as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.75, 0.9, 1.0).into()
}

#[cfg(test)]
mod tests {
    use super::series::{at_offset, compute_series, found_in, seconds_from};
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use rfm_perf_core::BaselineSet;

    fn draw(state: &mut TimelineState, tracker: &PerformanceTracker) {
        let ctx = egui::Context::default();
        let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
            timeline_panel(ui, state, tracker);
        });
        out.textures_delta.clear();
    }

    #[test]
    fn offsets_round_trip_and_never_panic() {
        let anchor = SystemTime::now();
        let t = at_offset(anchor, -12.5);
        assert!((seconds_from(anchor, t) + 12.5).abs() < 1e-6);
        assert_eq!(at_offset(anchor, f64::NAN), anchor);
        assert_eq!(at_offset(anchor, f64::INFINITY), anchor);
        assert!(moved([-50.0, 0.0], [-60.0, 0.0]));
        assert!(!moved([-60.0, 0.0], [-60.0, 0.0]));
    }

    #[test]
    fn empty_tracker_draws_and_says_so() {
        let tracker = PerformanceTracker::new();
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut TimelineState| timeline_panel(ui, state, &tracker),
            TimelineState::default(),
        );
        harness.run();
        harness.get_by_label("No metrics recorded yet");
        harness.get_by_label("Follow live");
        harness.get_by_label("Reset");
        // the default selection is listed so it can be unticked, and drew an empty series
        harness.get_by_label("frame.time_ms");
        assert!(
            harness
                .state()
                .cache
                .series
                .get("frame.time_ms")
                .is_some_and(|s| s.points.is_empty())
        );
    }

    #[test]
    fn decimated_series_are_cached_until_the_snapshot_changes() {
        let tracker = PerformanceTracker::new();
        let names: Vec<String> = (0..20).map(|i| format!("load.m{i:02}")).collect();
        for n in 0..2_000 {
            for name in &names {
                tracker.track_metric(name, f64::from(n % 7));
            }
        }
        tracker.publish_snapshot();
        let mut state = TimelineState {
            selected: names.clone(),
            ..Default::default()
        };
        draw(&mut state, &tracker);
        assert_eq!(state.recomputations(), 20);
        // the second frame knows the plot's pixel width and decimates to it
        draw(&mut state, &tracker);
        assert_eq!(state.recomputations(), 40);
        for _ in 0..5 {
            draw(&mut state, &tracker);
        }
        assert_eq!(state.recomputations(), 40, "nothing changed: no recompute");
        // buckets follow the plot's pixel width, min and max per bucket
        let width = state
            .cache
            .plot_frame
            .map_or(0, |r| r.width().round() as usize);
        assert!(width > 0);
        assert!(state.cache.series["load.m00"].points.len() <= 2 * width);
        // new samples, a new snapshot a few buckets later: the lines slide to the new live
        // range, decimating only its new end — and come out as a full decimation would
        std::thread::sleep(Duration::from_millis(400));
        for n in 0..300 {
            for name in &names {
                tracker.track_metric(name, f64::from(n % 11) + 10.0);
            }
        }
        tracker.publish_snapshot();
        draw(&mut state, &tracker);
        assert_eq!(
            state.recomputations(),
            40,
            "new snapshot: nothing decimated in full"
        );
        assert_eq!(state.cache.slid, 20, "every line slid");
        let key = state.cache.key.expect("a range");
        let anchor = state.anchor.expect("an anchor");
        for name in &names {
            let full = compute_series(&tracker, name, key, anchor, &found_in(&tracker, key));
            let slid = &state.cache.series[name];
            assert_eq!(slid.buckets, full.buckets, "{name}");
            assert_eq!(slid.points, full.points, "{name}");
            assert_eq!(slid.anomalies, full.anomalies, "{name}");
        }
        assert!(
            state.cache.series["load.m00"]
                .points
                .iter()
                .any(|p| p.y >= 10.0),
            "the new samples are on the line"
        );
        draw(&mut state, &tracker);
        assert_eq!(
            (state.recomputations(), state.cache.slid),
            (40, 20),
            "the slid lines are the cache now"
        );
        state.selected.truncate(19);
        state.selected.push("frame.time_ms".into());
        draw(&mut state, &tracker);
        assert_eq!(state.recomputations(), 41, "one new metric: one recompute");
    }

    #[test]
    fn spikes_become_anomaly_points_and_baselines_are_kept() {
        let tracker = PerformanceTracker::new();
        for i in 0..200 {
            let v = if i == 150 {
                80.0
            } else {
                16.0 + f64::from(i % 3) * 0.1
            };
            tracker.track_metric(names::FRAME_TIME_MS, v);
            // spread over more than a few buckets of a 1 s window
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut set = BaselineSet::default();
        set.metrics.insert(
            names::FRAME_TIME_MS.into(),
            BaselineStat {
                median: 16.0,
                p95: 17.0,
                samples: 100,
            },
        );
        tracker.set_baselines(set);
        tracker.publish_snapshot();
        let mut state = TimelineState {
            window: Duration::from_secs(1),
            ..Default::default()
        };
        draw(&mut state, &tracker);
        let series = &state.cache.series[names::FRAME_TIME_MS];
        assert_eq!(series.label, "frame.time_ms (ms)");
        assert_eq!(series.anomalies.len(), 1);
        assert_eq!(series.anomalies[0].y, 80.0);
        assert!(series.points.iter().all(|p| p.x <= 0.0 && p.x > -1.0));
        assert_eq!(state.cache.baselines[names::FRAME_TIME_MS].p95, 17.0);
    }

    #[test]
    fn ticking_a_metric_selects_it_and_dragging_stops_following() {
        let tracker = PerformanceTracker::new();
        for v in [1.0, 2.0, 3.0] {
            tracker.track_metric(names::FRAME_TIME_MS, v);
            tracker.track_metric(names::PROCESS_MEMORY_MB, v * 100.0);
        }
        tracker.publish_snapshot();
        let mut harness = Harness::new_ui_state(
            |ui, state: &mut TimelineState| timeline_panel(ui, state, &tracker),
            TimelineState::default(),
        );
        harness.run();
        harness.get_by_label("process.memory_mb").click();
        harness.run();
        assert_eq!(
            harness.state().selected,
            vec!["frame.time_ms", "process.memory_mb"]
        );
        assert!(
            harness
                .state()
                .cache
                .series
                .contains_key("process.memory_mb")
        );

        // drag the plot sideways: the view pans and follow-live turns off
        let plot = harness.state().cache.plot_frame.unwrap_or(egui::Rect::ZERO);
        let start = plot.center();
        harness.hover_at(start);
        harness.drag_at(start);
        harness.run();
        harness.hover_at(start + egui::vec2(120.0, 0.0));
        harness.run();
        harness.drop_at(start + egui::vec2(120.0, 0.0));
        harness.run();
        assert!(!harness.state().follow_live);
        assert!(harness.state().view[1] < 0.0, "{:?}", harness.state().view);

        harness.get_by_label("Reset").click();
        harness.run();
        assert!(harness.state().follow_live);
        assert_eq!(harness.state().view, [-60.0, 0.0]);
    }
}
