//! The fractal benchmark that `fractal_explorer --headless` runs: a deterministic zoom path, the
//! options, and the run that measures it into a [`BenchmarkReport`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use rfm_perf_core::{Direction, MetricSeries, REPORT_SCHEMA_VERSION, RunReport, names};

use super::{
    AdaptiveReport, BenchmarkReport, CostModelReport, FrameRecord, HeadlessError, Percentiles,
    headless_app, headless_app_with, read_image, read_results, save_png,
};
use crate::RfmPerfPlugin;
use crate::analysis::CostModel;
use crate::base::{
    AdaptiveQuality, ApiConfig, ApiStatus, EscapeHistogram, GpuPassStatus, GpuSummary, PassCost,
};
use crate::fractal::FRACTAL_COST_HOTTEST_SHARE;
use crate::fractal::gpu::{
    Coloring, CurrentGeneration, FractalFrameStats, FractalGpuPlugin, FractalSettings,
};
use crate::fractal::palette::Palette;
use crate::fractal::{FractalParams, Precision, View};
use rfm_perf_deep::{DeepView, Fixed};

/// The benchmark's deterministic zoom path: centred on −1.7499 + 0i (a non-chaotic region on the
/// real axis), from width 3.5 down to `deepest` geometrically, so the later part runs in df64.
///
/// ```
/// use rfm_perf::headless::zoom_path;
/// assert_eq!(zoom_path(0, 60, 1e-12).width, 3.5);
/// assert!((zoom_path(59, 60, 1e-12).width - 1e-12).abs() < 1e-24);
/// ```
pub fn zoom_path(frame: u32, frames: u32, deepest: f64) -> View {
    let t = f64::from(frame) / f64::from(frames.saturating_sub(1).max(1));
    View {
        center: (-1.7499, 0.0),
        width: 3.5 * (deepest / 3.5).powf(t.clamp(0.0, 1.0)),
    }
}

/// Width the deep flythrough ([`BenchmarkPath::Deep`]) ends at.
pub const DEEP_PATH_WIDTH: f64 = 1e-100;

/// What the benchmark flies through.
///
/// ```
/// use rfm_perf::headless::BenchmarkPath;
/// let end = BenchmarkPath::Deep.view(99, 100, 1e-12);
/// assert_eq!(end.to_string(), "0,1,1e-100");
/// assert_eq!(BenchmarkPath::Zoom.view(99, 100, 1e-12).width, 1e-12);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BenchmarkPath {
    /// [`zoom_path`]: −1.7499 + 0i from 3.5 to the options' `deepest` (f32, then df64).
    #[default]
    Zoom,
    /// c = i (a Misiurewicz point: a spiral at every depth) from 3.5 to
    /// [`DEEP_PATH_WIDTH`]: f32, df64, then perturbation with f32 and extended-exponent deltas.
    Deep,
    /// One view, every frame.
    Fixed(Box<DeepView>),
}

impl BenchmarkPath {
    /// The view of `frame` of `frames`.
    pub fn view(&self, frame: u32, frames: u32, deepest: f64) -> DeepView {
        let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
        match self {
            BenchmarkPath::Zoom => {
                let v = zoom_path(frame, frames, deepest);
                DeepView {
                    re: f(v.center.0),
                    im: f(v.center.1),
                    width: v.width,
                }
            }
            BenchmarkPath::Deep => {
                let t = f64::from(frame) / f64::from(frames.saturating_sub(1).max(1));
                // in log space: the width's f64 stays exact at the end
                let log_w = 3.5f64.log10() * (1.0 - t) + DEEP_PATH_WIDTH.log10() * t;
                DeepView {
                    re: Fixed::ZERO,
                    im: f(1.0),
                    width: if frame + 1 >= frames {
                        DEEP_PATH_WIDTH
                    } else {
                        10f64.powf(log_w)
                    },
                }
            }
            BenchmarkPath::Fixed(v) => **v,
        }
    }

    /// The narrowest width the path reaches.
    pub fn deepest(&self, deepest: f64) -> f64 {
        match self {
            BenchmarkPath::Zoom => deepest,
            BenchmarkPath::Deep => DEEP_PATH_WIDTH,
            BenchmarkPath::Fixed(v) => v.width,
        }
    }
}

/// Settings of a headless benchmark run.
#[derive(Clone, Debug)]
pub struct BenchmarkOptions {
    /// Frames along the zoom path.
    pub frames: u32,
    /// Render width.
    pub width: u32,
    /// Render height.
    pub height: u32,
    /// Iteration limit.
    pub max_iter: u32,
    /// Deepest view width of [`BenchmarkPath::Zoom`].
    pub deepest: f64,
    /// The views flown through. Default [`BenchmarkPath::Zoom`].
    pub path: BenchmarkPath,
    /// Where to write the JSON report.
    pub report: Option<PathBuf>,
    /// Where to save a PNG of the last frame.
    pub screenshot: Option<PathBuf>,
    /// Run the pass with its interior checks ([`FractalSettings::interior_check`]). Default `true`.
    pub interior_check: bool,
    /// Colour by cost (the heatmap) instead of the palette. Default `false`.
    pub heatmap: bool,
    /// The scenario the report is keyed by. Default `None`: one named after the options
    /// (`zoom 512x512 max1000 300f to 1e-12, checks on`), so runs of the same options compare.
    pub scenario: Option<String>,
    /// Serve the API (and sample the system) while the run lasts, so it can be watched from
    /// elsewhere. Default `None`: no server.
    pub api: Option<ApiConfig>,
    /// Hold this frame rate with [`AdaptiveQuality`] (resolution scale down to 0.25, iteration
    /// limit down to 100, interior checks on). Default `None`: fixed quality.
    pub adaptive_fps: Option<f64>,
}

impl BenchmarkOptions {
    /// The scenario named after the options: runs with the same options compare like for like.
    ///
    /// ```
    /// let o = rfm_perf::headless::BenchmarkOptions::default();
    /// assert_eq!(o.scenario_name(), "zoom 512x512 max1000 300f to 1e-12, checks on");
    /// ```
    pub fn scenario_name(&self) -> String {
        let path = match &self.path {
            BenchmarkPath::Zoom => "zoom".to_string(),
            BenchmarkPath::Deep => "deep".to_string(),
            BenchmarkPath::Fixed(v) => format!("view {v}"),
        };
        format!(
            "{path} {}x{} max{} {}f to {:e}, checks {}{}",
            self.width,
            self.height,
            self.max_iter,
            self.frames,
            self.path.deepest(self.deepest),
            if self.interior_check { "on" } else { "off" },
            if self.heatmap { ", heatmap" } else { "" }
        ) + &self
            .adaptive_fps
            .map_or(String::new(), |f| format!(", adaptive {f} FPS"))
    }
}

/// The commit of the code measured: `RFM_PERF_GIT_COMMIT`, else `git rev-parse HEAD` in the
/// working directory, else none.
fn git_commit() -> Option<String> {
    if let Ok(c) = std::env::var("RFM_PERF_GIT_COMMIT")
        && !c.trim().is_empty()
    {
        return Some(c.trim().to_string());
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let c = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !c.trim().is_empty()).then(|| c.trim().to_string())
}

impl Default for BenchmarkOptions {
    fn default() -> Self {
        Self {
            frames: 300,
            width: 512,
            height: 512,
            max_iter: 1000,
            deepest: 1e-12,
            path: BenchmarkPath::Zoom,
            report: None,
            screenshot: None,
            interior_check: true,
            heatmap: false,
            scenario: None,
            api: None,
            adaptive_fps: None,
        }
    }
}

/// report (written as JSON when `report` is set).
///
/// # Errors
/// [`HeadlessError`] when the pass fails, produces nothing, or the report cannot be written.
/// Runs the benchmark: `frames` frames along [`zoom_path`], one progress line per 10 %, then the
pub fn run_benchmark(
    options: &BenchmarkOptions,
    mut progress: impl FnMut(&str),
) -> Result<BenchmarkReport, HeadlessError> {
    // the process's tracker: `perf_scope!` and `#[track_performance]` record into it, so the
    // served API and the report see the app's scopes
    let tracker = rfm_perf_core::get_performance_tracker().clone();
    let mut settings = FractalSettings {
        params: FractalParams {
            max_iter: options.max_iter,
            ..Default::default()
        },
        palette: Palette::Classic,
        output_size: UVec2::new(options.width, options.height),
        interior_check: options.interior_check,
        coloring: if options.heatmap {
            Coloring::Cost
        } else {
            Coloring::Palette
        },
        ..Default::default()
    };
    settings.set_deep_view(options.path.view(0, options.frames, options.deepest));
    let mut app = match &options.api {
        None => headless_app(settings, tracker.clone()),
        Some(api) => headless_app_with(
            settings,
            RfmPerfPlugin {
                dashboard: false,
                tracker: Some(tracker.clone()),
                ..RfmPerfPlugin::new().with_api_config(api.clone())
            },
            FractalGpuPlugin::default(),
        ),
    };
    let api_address = match app.world().resource::<ApiStatus>() {
        ApiStatus::Running(addr) => {
            progress(&format!("rfm_perf API: http://{addr}/"));
            Some(format!("http://{addr}/"))
        }
        ApiStatus::Disabled => None,
        other => {
            progress(&format!(
                "warning: {}; the benchmark runs without it",
                other.describe()
            ));
            None
        }
    };
    progress(&format!(
        "rfm_perf headless benchmark: {} frames at {}×{}, zooming to width {:e}",
        options.frames,
        options.width,
        options.height,
        options.path.deepest(options.deepest)
    ));
    // warm up: compile the pipelines and get a first result
    read_results(&mut app, 600)?;
    // (the controller starts with the measured run, at the quality the options ask for)
    if let Some(fps) = options.adaptive_fps {
        app.insert_resource(AdaptiveQuality {
            enabled: true,
            target_fps: fps,
            ..Default::default()
        });
    }
    let mut path = Vec::with_capacity(options.frames as usize);
    let mut frame_ms = Vec::new();
    let gpu_before = tracker.get_history(names::RENDER_FRACTAL_GPU_MS).len();
    let cpu_before = tracker.get_history(names::RENDER_FRACTAL_CPU_MS).len();
    let it_before = tracker.get_history(names::FRACTAL_ITERATIONS).len();
    let computed_before = tracker
        .get_history(names::FRACTAL_ITERATIONS_COMPUTED)
        .len();
    let hottest_before = tracker.get_history(FRACTAL_COST_HOTTEST_SHARE).len();
    let mut escapes = EscapeSum::default();
    let start = Instant::now();
    for frame in 0..options.frames {
        let view = options.path.view(frame, options.frames, options.deepest);
        app.world_mut()
            .resource_mut::<FractalSettings>()
            .set_deep_view(view);
        let t = Instant::now();
        app.update();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        // after the update: `auto` may have changed its deep arithmetic during it
        let precision = app.world().resource::<FractalSettings>().precision();
        frame_ms.push(ms);
        path.push(FrameRecord {
            frame,
            view_width: view.width,
            precision,
            frame_ms: ms,
            iterations: app.world().resource::<FractalFrameStats>().iterations,
            iterations_computed: app
                .world()
                .resource::<FractalFrameStats>()
                .iterations_computed,
            generation: app.world().resource::<CurrentGeneration>().0,
            gpu_ms: None,
            predicted_gpu_ms: None,
            resolution_scale: f64::from(app.world().resource::<FractalSettings>().resolution_scale),
            max_iter: app.world().resource::<FractalSettings>().params.max_iter,
        });
        escapes.add(app.world().resource::<PassCost>());
        let step = (options.frames / 10).max(1);
        if (frame + 1) % step == 0 || frame + 1 == options.frames {
            progress(&format!(
                "frame {:>5}/{}  width {:.3e}  {:?}  {:.2} ms",
                frame + 1,
                options.frames,
                view.width,
                precision,
                ms
            ));
        }
    }
    let wall = start.elapsed().max(Duration::from_nanos(1)).as_secs_f64();
    // let the last frames' timings and readbacks arrive
    for _ in 0..3 {
        app.update();
        escapes.add(app.world().resource::<PassCost>());
    }
    if let GpuPassStatus::Failed(e) = app.world().resource::<GpuPassStatus>() {
        return Err(HeadlessError::PassFailed(e.clone()));
    }
    let cost_model = app.world().resource::<CostModel>();
    for frame in &mut path {
        if let Some(s) = cost_model
            .scored()
            .find(|s| s.generation == frame.generation)
        {
            frame.gpu_ms = Some(s.gpu_ms);
            frame.predicted_gpu_ms = s.predicted_ms;
        }
    }
    let adaptive = options
        .adaptive_fps
        .map(|fps| adaptive_report(fps, app.world().resource::<AdaptiveQuality>(), &path));
    let score = cost_model.score();
    let cost_model = (score.observed > 0).then(|| CostModelReport {
        observed: score.observed,
        scored: score.scored,
        warmup: score.observed - score.scored,
        mape: score.mape(),
        interval_coverage: score.interval_coverage(),
    });
    let values = |name: &str, skip: usize| -> Vec<f64> {
        tracker
            .get_history(name)
            .into_iter()
            .skip(skip)
            .map(|(_, v)| v)
            .collect()
    };
    let gpu_ms = values(names::RENDER_FRACTAL_GPU_MS, gpu_before);
    let cpu_ms = values(names::RENDER_FRACTAL_CPU_MS, cpu_before);
    let iterations = values(names::FRACTAL_ITERATIONS, it_before);
    let total_iterations: f64 = iterations.iter().sum();
    let computed: f64 = values(names::FRACTAL_ITERATIONS_COMPUTED, computed_before)
        .iter()
        .sum();
    let info = app.world().resource::<GpuSummary>().clone();
    let gpu_pass_ms = Percentiles::of(&gpu_ms);
    let series = |values: &[f64], unit: &str, direction: Direction| {
        MetricSeries::of(values, unit, direction)
    };
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "frame.wall_ms".to_string(),
        series(&frame_ms, "ms", Direction::LowerIsBetter),
    );
    if !gpu_ms.is_empty() {
        metrics.insert(
            names::RENDER_FRACTAL_GPU_MS.to_string(),
            series(&gpu_ms, "ms", Direction::LowerIsBetter),
        );
    }
    metrics.insert(
        names::RENDER_FRACTAL_CPU_MS.to_string(),
        series(&cpu_ms, "ms", Direction::LowerIsBetter),
    );
    let computed_per_frame: Vec<f64> = path.iter().map(|f| f.iterations_computed as f64).collect();
    metrics.insert(
        names::FRACTAL_ITERATIONS_COMPUTED.to_string(),
        series(&computed_per_frame, "count", Direction::Neutral),
    );
    let run = RunReport {
        schema_version: REPORT_SCHEMA_VERSION,
        scenario: options
            .scenario
            .clone()
            .unwrap_or_else(|| options.scenario_name()),
        hardware: tracker.baseline_key().hardware,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
        metrics,
    };
    let report = BenchmarkReport {
        run,
        adapter: info.adapter.clone(),
        backend: info.backend.clone(),
        width: options.width,
        height: options.height,
        frames: options.frames,
        max_iter: options.max_iter,
        frame_ms: Percentiles::of(&frame_ms).unwrap_or_default(),
        gpu_pass_missing_reason: if gpu_pass_ms.is_none() {
            Some(
                info.gpu_time_missing_reason
                    .clone()
                    .unwrap_or_else(|| "no GPU timings arrived".into()),
            )
        } else {
            None
        },
        gpu_iterations_per_s: gpu_pass_ms.map(|_| {
            let n = gpu_ms.len().min(iterations.len()).max(1);
            let it: f64 = iterations[iterations.len() - n..].iter().sum();
            let ms: f64 = gpu_ms[gpu_ms.len() - n..].iter().sum();
            it / (ms / 1000.0).max(1e-9)
        }),
        gpu_pass_ms,
        cpu_encode_ms: Percentiles::of(&cpu_ms),
        iterations_per_s: total_iterations / wall,
        interior_check: options.interior_check,
        heatmap: options.heatmap,
        escape_histogram: escapes.histogram,
        cost_hottest_share: Percentiles::of(&values(FRACTAL_COST_HOTTEST_SHARE, hottest_before)),
        span_coverage: crate::span_coverage(&tracker.trace(tracker.config().trace_window)),
        top_scopes: top_scopes(&tracker.scope_stats(), 10),
        breakdown: app
            .world()
            .get_resource::<crate::Insights>()
            .map(|i| i.breakdown.clone())
            .filter(|b| !b.shares.is_empty()),
        computed_share: (total_iterations > 0.0).then(|| computed / total_iterations),
        mpixels_per_s: f64::from(options.width)
            * f64::from(options.height)
            * f64::from(options.frames)
            / wall
            / 1e6,
        df64_frames: path
            .iter()
            .filter(|f| f.precision == Precision::Df64)
            .count() as u32,
        perturbation_frames: path
            .iter()
            .filter(|f| f.precision.is_perturbation())
            .count() as u32,
        deepest_width: path
            .iter()
            .map(|f| f.view_width)
            .fold(f64::INFINITY, f64::min),
        api_address,
        cost_model,
        adaptive,
        path,
    };
    if let Some(png) = &options.screenshot {
        match read_image(&mut app, 120) {
            Ok(img) => {
                if let Err(e) = save_png(img, png) {
                    progress(&format!("could not save {}: {e}", png.display()));
                }
            }
            Err(e) => progress(&format!("no screenshot: {e}")),
        }
    }
    if let Some(path) = &options.report {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        std::fs::write(path, json).map_err(|source| HeadlessError::Report {
            path: path.clone(),
            source,
        })?;
    }
    Ok(report)
}

/// Adaptive quality's run judged on the raw frame times.
fn adaptive_report(fps: f64, adaptive: &AdaptiveQuality, path: &[FrameRecord]) -> AdaptiveReport {
    let budget_ms = 1000.0 / fps;
    let mut elapsed = 0.0;
    let mut under_budget_at = None;
    for f in path {
        if f.frame_ms <= budget_ms {
            under_budget_at = Some((f.frame, elapsed / 1000.0));
            break;
        }
        elapsed += f.frame_ms;
    }
    let (mut run, mut longest) = ((0u32, 0.0), (0u32, 0.0));
    for f in path {
        run = if f.frame_ms > budget_ms {
            (run.0 + 1, run.1 + f.frame_ms / 1000.0)
        } else {
            (0, 0.0)
        };
        if run.0 > longest.0 {
            longest = run;
        }
    }
    let late: Vec<f64> = path[path.len() / 4..].iter().map(|f| f.frame_ms).collect();
    let steps = adaptive.status.steps.clone();
    let reversal_times: Vec<f64> = steps
        .windows(2)
        .filter(|w| w[0].direction != w[1].direction)
        .map(|w| w[1].at_s)
        .collect();
    let max_reversals_per_10s = reversal_times
        .iter()
        .map(|&t| {
            reversal_times
                .iter()
                .filter(|&&u| u >= t && u < t + 10.0)
                .count() as u32
        })
        .max()
        .unwrap_or(0);
    AdaptiveReport {
        target_fps: fps,
        budget_ms,
        under_budget_at,
        longest_over_budget: longest,
        after_first_quarter_ms: Percentiles::of(&late),
        reversals: adaptive.status.reversals,
        max_reversals_per_10s,
        steps,
    }
}

/// The escape histograms of the frames read back during a run, each frame once.
#[derive(Default)]
struct EscapeSum {
    last_generation: Option<u32>,
    histogram: Option<EscapeHistogram>,
}

impl EscapeSum {
    fn add(&mut self, cost: &PassCost) {
        if cost.generation == 0 || self.last_generation == Some(cost.generation) {
            return;
        }
        self.last_generation = Some(cost.generation);
        match &mut self.histogram {
            Some(sum) if sum.max_iter == cost.histogram.max_iter => {
                for (a, b) in sum.counts.iter_mut().zip(&cost.histogram.counts) {
                    *a += b;
                }
            }
            _ => self.histogram = Some(cost.histogram.clone()),
        }
    }
}

/// The `n` scopes with the most self time per frame (Bevy's structural spans left out: their
/// self time is scheduling), as `(name, ms per frame)`.
fn top_scopes(stats: &[rfm_perf_core::ScopeStats], n: usize) -> Vec<(String, f64)> {
    let mut top: Vec<(String, f64)> = stats
        .iter()
        .filter(|s| !crate::is_frame_structure(&s.name))
        .map(|s| (s.name.to_string(), s.per_frame_ms(s.self_ms)))
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(n);
    top
}
