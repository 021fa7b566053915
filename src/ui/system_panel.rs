//! The system panel: CPU per core, process memory and allocations, the GPU and disk I/O,
//! each saying why when its source is missing.

use std::time::{Duration, SystemTime};

use egui::{RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};
use rfm_perf_core::{PerformanceTracker, TimeRange, names};

use super::format_value;
use crate::base::{GpuSummary, PassCost};

/// How much CPU history the small per-core plot shows.
pub const CPU_HISTORY: Duration = Duration::from_secs(30);

const CPU_HISTORY_BUCKETS: usize = 60;
/// Per-core metrics are looked up until the first missing core, at most this many.
const MAX_CORES: usize = 1024;
const CORE_BAR_WIDTH: f32 = 150.0;

const NO_SAMPLE: &str = "n/a: waiting for the first system sample";
const NO_CPU_SAMPLE: &str = "n/a: waiting for the first CPU sample";
const NO_ALLOCATOR: &str = "n/a: no CountingAllocator";
const NO_GPU_PASS: &str = "n/a: no GPU pass in this app";
const NO_TIMESTAMPS: &str = "n/a: no timestamp queries on this adapter";
const NO_GPU_MEMORY: &str = "n/a: not reported by this backend";
const NO_IO: &str = "n/a: process I/O not available on this platform";
const NO_PSI: &str = "n/a: /proc/pressure/io not available";

/// One CPU core's usage.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreUsage {
    /// Core number.
    pub index: usize,
    /// Newest usage (%).
    pub pct: f64,
    /// Mean usage over [`CPU_HISTORY`]: `[seconds ago (negative), %]`, oldest first.
    pub history: Vec<[f64; 2]>,
}

/// Everything the system panel draws, gathered once per refresh.
///
/// ```
/// let d = rfm_perf::ui::system_panel::SystemData::default();
/// assert!(d.cores.is_empty() && d.gpu.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemData {
    /// Per-core CPU usage (`system.cpu.core{n}_pct`), in core order.
    pub cores: Vec<CoreUsage>,
    /// Resident memory of the process (MB).
    pub process_memory_mb: Option<f64>,
    /// Heap allocations per frame.
    pub allocs_per_frame: Option<f64>,
    /// Live heap (MB).
    pub heap_live_mb: Option<f64>,
    /// GPU time of the fractal pass (ms).
    pub gpu_pass_ms: Option<f64>,
    /// GPU memory in use (MB).
    pub gpu_memory_mb: Option<f64>,
    /// Storage reads of the process (bytes/s).
    pub io_read_bytes_per_s: Option<f64>,
    /// Storage writes of the process (bytes/s).
    pub io_write_bytes_per_s: Option<f64>,
    /// Share of time some task waited on I/O (%).
    pub io_pressure_pct: Option<f64>,
    /// The GPU, when the app has a GPU pass.
    pub gpu: Option<GpuSummary>,
    /// Where the GPU pass's work went in its newest frame (set by the dashboard's refresh; the
    /// GPU cost window draws it).
    pub cost: Option<PassCost>,
    /// The tracker's own counters: names kept, history memory, records past the name limit.
    pub tracker: rfm_perf_core::TrackerStats,
    /// The tracker's name limits (metrics, scopes) and history budget (bytes).
    pub limits: (usize, usize, usize),
}

impl SystemData {
    /// Reads the newest values (and the per-core history) from `tracker`; `gpu` comes from
    /// the render world (`None` when the app has no GPU pass).
    ///
    /// ```
    /// use rfm_perf::ui::system_panel::SystemData;
    /// let t = rfm_perf::PerformanceTracker::new();
    /// t.track_metric("system.cpu.core0_pct", 25.0);
    /// t.track_metric("process.memory_mb", 300.0);
    /// let d = SystemData::gather(&t, None);
    /// assert_eq!(d.cores.len(), 1);
    /// assert_eq!(d.cores[0].pct, 25.0);
    /// assert_eq!(d.process_memory_mb, Some(300.0));
    /// assert_eq!(d.io_pressure_pct, None);
    /// ```
    pub fn gather(tracker: &PerformanceTracker, gpu: Option<GpuSummary>) -> Self {
        let value = |name: &str| tracker.get_metric(name).filter(|v| v.is_finite());
        Self {
            cores: gather_cores(tracker),
            process_memory_mb: value(names::PROCESS_MEMORY_MB),
            allocs_per_frame: value(names::PROCESS_ALLOCS_PER_FRAME),
            heap_live_mb: value(names::PROCESS_HEAP_LIVE_MB),
            gpu_pass_ms: value(names::RENDER_FRACTAL_GPU_MS),
            gpu_memory_mb: value(names::GPU_MEMORY_MB),
            io_read_bytes_per_s: value(names::IO_READ_BYTES_PER_S),
            io_write_bytes_per_s: value(names::IO_WRITE_BYTES_PER_S),
            io_pressure_pct: value(names::IO_PRESSURE_PCT),
            gpu,
            cost: None,
            tracker: tracker.stats(),
            limits: {
                let c = tracker.config();
                (c.max_metrics, c.max_scopes, c.history_budget_bytes)
            },
        }
    }
}

fn gather_cores(tracker: &PerformanceTracker) -> Vec<CoreUsage> {
    let now = SystemTime::now();
    let mut cores = Vec::new();
    for index in 0..MAX_CORES {
        let name = names::cpu_core(index);
        let Some(pct) = tracker.get_metric(&name) else {
            break;
        };
        let history = tracker
            .decimate(&name, TimeRange::last(CPU_HISTORY), CPU_HISTORY_BUCKETS)
            .iter()
            .map(|b| {
                let mid = b.start + b.end.duration_since(b.start).unwrap_or_default() / 2;
                let ago = now.duration_since(mid).unwrap_or_default().as_secs_f64();
                [-ago, b.mean]
            })
            .collect();
        cores.push(CoreUsage {
            index,
            pct,
            history,
        });
    }
    cores
}

/// Formats a byte count or rate with a binary prefix.
///
/// ```
/// use rfm_perf::ui::system_panel::format_bytes;
/// assert_eq!(format_bytes(512.0), "512 B");
/// assert_eq!(format_bytes(1536.0), "1.5 KiB");
/// assert_eq!(format_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
/// ```
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if !bytes.is_finite() || bytes.abs() < 1024.0 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = next;
    }
    format!("{v:.1} {unit}")
}

/// The system panel: per-core CPU bars and history, memory, GPU and I/O rows. A missing
/// source reads "n/a: why" instead of a value.
///
/// ```
/// use rfm_perf::ui::system_panel::{SystemData, system_panel};
/// let data = SystemData::default();
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| system_panel(ui, &data));
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn system_panel(ui: &mut Ui, data: &SystemData) {
    ui.label(RichText::new("CPU").strong());
    cpu_section(ui, data);
    ui.separator();
    ui.label(RichText::new("Memory").strong());
    rows(
        ui,
        "rfm_perf_res_memory",
        &[
            (
                "Process RSS",
                shown(data.process_memory_mb, NO_SAMPLE, |v| format_value(v, "MB")),
            ),
            (
                "Live heap",
                shown(data.heap_live_mb, NO_ALLOCATOR, |v| format_value(v, "MB")),
            ),
            (
                "Allocations/frame",
                shown(data.allocs_per_frame, NO_ALLOCATOR, |v| format!("{v:.0}")),
            ),
        ],
    );
    ui.separator();
    ui.label(RichText::new("GPU").strong());
    rows(ui, "rfm_perf_res_gpu", &gpu_rows(data));
    ui.separator();
    ui.label(RichText::new("Disk I/O").strong());
    let rate = |v: f64| format!("{}/s", format_bytes(v));
    rows(
        ui,
        "rfm_perf_res_io",
        &[
            ("Read", shown(data.io_read_bytes_per_s, NO_IO, rate)),
            ("Write", shown(data.io_write_bytes_per_s, NO_IO, rate)),
            (
                "I/O pressure",
                shown(data.io_pressure_pct, NO_PSI, |v| format!("{v:.1} %")),
            ),
        ],
    );
    ui.separator();
    tracker_section(ui, data);
}

/// The tracker's own footprint, and a warning once names went past the limit.
fn tracker_section(ui: &mut Ui, data: &SystemData) {
    let (max_metrics, max_scopes, budget) = data.limits;
    let t = &data.tracker;
    ui.label(RichText::new("Tracker").strong());
    rows(
        ui,
        "rfm_perf_res_tracker",
        &[
            (
                "Names",
                (
                    format!(
                        "{} (limits {max_metrics} metrics, {max_scopes} scopes)",
                        t.names
                    ),
                    false,
                ),
            ),
            (
                "History",
                (
                    format!(
                        "{} of {}",
                        format_bytes(t.history_bytes as f64),
                        format_bytes(budget as f64)
                    ),
                    false,
                ),
            ),
        ],
    );
    if t.overflowed_records > 0 {
        ui.label(
            RichText::new(format!(
                "{} records went to {} / {}: more names than the limits (an id in a name makes a metric per id)",
                t.overflowed_records,
                rfm_perf_core::OVERFLOW_METRIC,
                rfm_perf_core::OVERFLOW_SCOPE
            ))
            .color(super::theme::status_color(crate::base::Health::Warning)),
        );
    }
}

/// A value's text, or `missing` (a reason) and whether it is missing.
fn shown(v: Option<f64>, missing: &str, format: impl Fn(f64) -> String) -> (String, bool) {
    v.map_or_else(|| (missing.to_string(), true), |v| (format(v), false))
}

fn rows(ui: &mut Ui, id: &str, items: &[(&str, (String, bool))]) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for (label, (text, missing)) in items {
                ui.label(*label);
                let text = RichText::new(text.as_str()).monospace();
                ui.label(if *missing { text.weak() } else { text });
                ui.end_row();
            }
        });
}

fn gpu_rows(data: &SystemData) -> Vec<(&'static str, (String, bool))> {
    let Some(gpu) = &data.gpu else {
        return vec![(
            "Fractal pass",
            shown(data.gpu_pass_ms, NO_GPU_PASS, |v| format_value(v, "ms")),
        )];
    };
    let no_timing = gpu.gpu_time_missing_reason.clone().unwrap_or_else(|| {
        if gpu.timestamp_queries {
            "n/a: no GPU pass timed yet".to_string()
        } else {
            NO_TIMESTAMPS.to_string()
        }
    });
    let text = |s: &str, fallback: &str| {
        if s.is_empty() {
            (fallback.to_string(), true)
        } else {
            (s.to_string(), false)
        }
    };
    vec![
        ("Adapter", text(&gpu.adapter, "n/a: unknown")),
        ("Backend", text(&gpu.backend, "n/a: unknown")),
        (
            "Timestamp queries",
            (
                if gpu.timestamp_queries { "yes" } else { "no" }.to_string(),
                false,
            ),
        ),
        (
            "Fractal pass",
            shown(data.gpu_pass_ms, &no_timing, |v| format_value(v, "ms")),
        ),
        (
            "Fractal buffers",
            (format_bytes(gpu.fractal_bytes as f64), false),
        ),
        (
            "GPU memory",
            shown(
                data.gpu_memory_mb
                    .or(gpu.allocator_bytes.map(|b| b as f64 / (1024.0 * 1024.0))),
                NO_GPU_MEMORY,
                |v| format_value(v, "MB"),
            ),
        ),
    ]
}

fn cpu_section(ui: &mut Ui, data: &SystemData) {
    if data.cores.is_empty() {
        ui.label(RichText::new(NO_CPU_SAMPLE).weak());
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for core in &data.cores {
            let fraction = (core.pct / 100.0).clamp(0.0, 1.0) as f32;
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(CORE_BAR_WIDTH)
                    .text(format!("core {} {:.0} %", core.index, core.pct)),
            );
        }
    });
    Plot::new("rfm_perf_cpu_history")
        .height(90.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .include_y(100.0)
        .x_axis_label(format!("last {} s", CPU_HISTORY.as_secs()))
        .show(ui, |plot| {
            for core in data.cores.iter().filter(|c| !c.history.is_empty()) {
                plot.line(Line::new(
                    format!("core {}", core.index),
                    PlotPoints::from(core.history.clone()),
                ));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn harness(data: &SystemData) -> Harness<'_> {
        let mut h = Harness::new_ui(move |ui| system_panel(ui, data));
        h.run();
        h
    }

    #[test]
    fn names_past_the_limit_are_reported() {
        let t = PerformanceTracker::with_config(rfm_perf_core::TrackerConfig {
            max_metrics: 40,
            ..Default::default()
        });
        for i in 0..100 {
            t.track_metric(&format!("user.{i}"), 1.0);
        }
        let data = SystemData::gather(&t, None);
        assert!(data.tracker.overflowed_records > 0);
        let h = harness(&data);
        h.get_by_label_contains("records went to rfm_perf.overflow");
    }

    #[test]
    fn empty_tracker_says_why_each_source_is_missing() {
        let data = SystemData::gather(&PerformanceTracker::new(), None);
        assert_eq!(
            SystemData {
                tracker: Default::default(),
                limits: (0, 0, 0),
                ..data.clone()
            },
            SystemData::default()
        );
        assert_eq!(data.limits.0, 2_000);
        let h = harness(&data);
        h.get_by_label_contains("(limits 2000 metrics, 2000 scopes)");
        assert!(h.query_by_label_contains("records went to").is_none());
        h.get_by_label(NO_GPU_PASS);
        h.get_by_label(NO_PSI);
        h.get_by_label(NO_SAMPLE);
        h.get_by_label(NO_CPU_SAMPLE);
        assert_eq!(h.get_all_by_label(NO_ALLOCATOR).count(), 2);
    }

    #[test]
    fn cores_are_read_until_the_first_missing_one() {
        let t = PerformanceTracker::new();
        for n in 0..4 {
            for v in [10.0, 20.0] {
                t.track_metric(&names::cpu_core(n), v + n as f64);
            }
        }
        t.track_metric(&names::cpu_core(6), 99.0);
        t.track_metric(names::IO_PRESSURE_PCT, 2.5);
        t.track_metric(names::IO_READ_BYTES_PER_S, 2048.0);
        let data = SystemData::gather(&t, None);
        assert_eq!(data.cores.len(), 4);
        assert_eq!(data.cores[3].index, 3);
        assert_eq!(data.cores[3].pct, 23.0);
        assert!(!data.cores[0].history.is_empty());
        assert!(data.cores[0].history.iter().all(|p| p[0] <= 0.0));
        let h = harness(&data);
        h.get_by_label("core 3 23 %");
        h.get_by_label("2.5 %");
        h.get_by_label("2.0 KiB/s");
        h.get_by_label(NO_IO);
    }

    #[test]
    fn gpu_section_explains_missing_timing() {
        let t = PerformanceTracker::new();
        let gpu = GpuSummary {
            adapter: "llvmpipe".into(),
            backend: "Vulkan".into(),
            fractal_bytes: 8 * 1024 * 1024,
            ..Default::default()
        };
        let data = SystemData::gather(&t, Some(gpu.clone()));
        let h = harness(&data);
        h.get_by_label("llvmpipe");
        h.get_by_label(NO_TIMESTAMPS);
        h.get_by_label("8.0 MiB");
        h.get_by_label(NO_GPU_MEMORY);
        drop(h);

        t.track_metric(names::RENDER_FRACTAL_GPU_MS, 4.25);
        let with_timing = GpuSummary {
            timestamp_queries: true,
            allocator_bytes: Some(64 * 1024 * 1024),
            ..gpu
        };
        let data = SystemData::gather(&t, Some(with_timing));
        let h = harness(&data);
        h.get_by_label("4.25 ms");
        h.get_by_label("64.00 MB");
        h.get_by_label("yes");
    }

    #[test]
    fn bytes_format_with_binary_prefixes() {
        assert_eq!(format_bytes(0.0), "0 B");
        assert_eq!(format_bytes(1023.0), "1023 B");
        assert_eq!(format_bytes(1024.0 * 1024.0), "1.0 MiB");
        assert_eq!(format_bytes(f64::NAN), "NaN B");
    }
}
