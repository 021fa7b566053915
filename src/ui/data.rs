//! What the panels draw, gathered once per refresh so drawing never touches the tracker.

use std::sync::Arc;
use std::time::Duration;

use rfm_perf_core::{PerformanceTracker, Snapshot, TimeRange, names};

use crate::base::{Health, HealthThresholds, Insights};

/// A tunable parameter as the suggestions panel shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TunableView {
    /// Name in the registry.
    pub name: String,
    /// Current value.
    pub value: f64,
    /// Lowest allowed.
    pub min: f64,
    /// Highest allowed.
    pub max: f64,
}

/// One row of the real-time metrics panel.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// Canonical metric name.
    pub name: String,
    /// What people call it ("Render time").
    pub label: String,
    /// Formatted value with unit, or "n/a" with the reason.
    pub value_text: String,
    /// Whether the metric has a value (the status bar leaves out those without).
    pub has_value: bool,
    /// Health.
    pub status: Health,
    /// Recent values `[seconds ago (negative), value]` for the sparkline.
    pub sparkline: Vec<[f64; 2]>,
}

/// One entry of the compact, iyes_perf_ui-style list (fps, worst fps, frame time, entities, CPU,
/// memory).
#[derive(Clone, Debug, PartialEq)]
pub struct PerfEntry {
    /// Short label ("FPS", "FPS (worst)").
    pub label: &'static str,
    /// Formatted value, or "–" when not recorded yet.
    pub value_text: String,
    /// Position on the green → yellow → red gradient; `None` = neutral (no threshold).
    pub gradient: Option<f32>,
}

/// The perf entries, in iyes_perf_ui's order.
pub const PERF_ENTRIES: [(&str, &str); 6] = [
    ("FPS", names::FRAME_FPS),
    ("FPS (worst)", names::FRAME_FPS_1PCT_LOW),
    ("Frame time", names::FRAME_TIME_MS),
    ("Entities", names::ENTITY_COUNT),
    ("CPU", names::SYSTEM_CPU_PCT),
    ("Memory", names::PROCESS_MEMORY_MB),
];

/// Everything the dashboard draws.
#[derive(Clone, Debug, Default)]
pub struct DashboardData {
    /// The published snapshot.
    pub snapshot: Arc<Snapshot>,
    /// Rows of the real-time metrics panel, in `metrics_to_show` order.
    pub rows: Vec<MetricRow>,
    /// Alerts and suggestions.
    pub insights: Insights,
    /// Tunable parameters.
    pub tunables: Vec<TunableView>,
    /// The compact perf entry list.
    pub perf_entries: Vec<PerfEntry>,
    /// Adaptive quality's switch and state, when the app has the base plugin.
    pub adaptive: Option<crate::base::AdaptiveQuality>,
}

fn label_of(name: &str) -> String {
    match name {
        names::FRAME_TIME_MS => "Render time".into(),
        names::FRAME_FPS => "FPS".into(),
        names::FRAME_FPS_1PCT_LOW => "FPS 1 % low".into(),
        names::PROCESS_MEMORY_MB => "Memory".into(),
        names::GPU_UTILIZATION_PCT => "GPU utilization (estimate)".into(),
        names::FRACTAL_ITERATIONS_PER_PIXEL => "Complexity (iterations/pixel)".into(),
        other => other.to_string(),
    }
}

fn why_missing(name: &str) -> &'static str {
    match name {
        names::GPU_UTILIZATION_PCT => {
            "n/a: no render pass GPU times (no renderer, or an adapter without timestamp queries)"
        }
        names::RENDER_FRACTAL_GPU_MS | names::GPU_MEMORY_MB => {
            "n/a: no GPU fractal pass in this app"
        }
        names::FRACTAL_ITERATIONS_PER_PIXEL | names::FRACTAL_ITERATIONS => "n/a: no fractal view",
        names::PROCESS_MEMORY_MB => "n/a: waiting for the first system sample",
        _ => "n/a: not recorded yet",
    }
}

/// Formats a value with its unit symbol, with sensible precision.
///
/// ```
/// assert_eq!(rfm_perf::ui::format_value(16.6667, "ms"), "16.67 ms");
/// assert_eq!(rfm_perf::ui::format_value(1234.0, "MB"), "1234 MB");
/// ```
pub fn format_value(v: f64, unit: &str) -> String {
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 1.0 {
        2
    } else {
        3
    };
    if unit.is_empty() || unit == "count" {
        format!("{v:.digits$}")
    } else {
        format!("{v:.digits$} {unit}")
    }
}

impl DashboardData {
    /// Gathers the data for `metrics_to_show` (names or their short aliases): values and statuses from
    /// the published snapshot, sparklines from the last `sparkline_window` of history, min–max
    /// decimated to 60 buckets.
    pub fn gather(
        tracker: &PerformanceTracker,
        thresholds: &HealthThresholds,
        metrics_to_show: &[String],
        insights: &Insights,
        tunables: Vec<TunableView>,
        sparkline_window: Duration,
    ) -> Self {
        let snapshot = tracker.snapshot();
        let now = std::time::SystemTime::now();
        let rows = metrics_to_show
            .iter()
            .map(|asked| {
                let name = names::resolve_alias(asked).to_string();
                let unit = tracker
                    .metric_info(&name)
                    .map(|i| i.unit.symbol().to_string())
                    .unwrap_or_default();
                let value = snapshot.value(&name);
                let sparkline = tracker
                    .decimate(&name, TimeRange::last(sparkline_window), 60)
                    .iter()
                    .flat_map(|b| [(b.min_at, b.min), (b.max_at, b.max)])
                    .map(|(t, v)| [-now.duration_since(t).unwrap_or_default().as_secs_f64(), v])
                    .collect();
                MetricRow {
                    has_value: value.is_some(),
                    label: label_of(&name),
                    value_text: value.map_or_else(
                        || why_missing(&name).to_string(),
                        |v| format_value(v, &unit),
                    ),
                    status: value.map_or(Health::Unknown, |v| thresholds.status(&name, v)),
                    sparkline,
                    name,
                }
            })
            .collect();
        let perf_entries = PERF_ENTRIES
            .iter()
            .map(|&(label, name)| {
                let unit = tracker
                    .metric_info(name)
                    .map(|i| i.unit.symbol().to_string())
                    .unwrap_or_default();
                let value = snapshot.value(name);
                PerfEntry {
                    label,
                    value_text: value.map_or_else(|| "–".to_string(), |v| format_value(v, &unit)),
                    gradient: value.and_then(|v| thresholds.get(name).map(|th| th.gradient(v))),
                }
            })
            .collect();
        Self {
            snapshot,
            rows,
            insights: insights.clone(),
            tunables,
            perf_entries,
            adaptive: None,
        }
    }
}
