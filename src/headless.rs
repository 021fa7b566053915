//! Rendering without a window: a render [`App`] with no winit and no surface (lavapipe works)
//! assembled from several plugins (Bevy's, the base, the fractal pass, optionally the API),
//! reading GPU results back, and the fractal benchmark that `fractal_explorer --headless` runs
//! along a fixed, deterministic zoom path.
//!
//! ```no_run
//! use rfm_perf::headless::{BenchmarkOptions, run_benchmark};
//! let report = run_benchmark(&BenchmarkOptions { frames: 60, ..Default::default() }, |line| println!("{line}"))?;
//! println!("{}", report.summary_table());
//! # Ok::<(), rfm_perf::headless::HeadlessError>(())
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::app::PluginsState;
use bevy::prelude::*;
use bevy::render::gpu_readback::{Readback, ReadbackComplete};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use std::collections::BTreeMap;

use rfm_perf_core::{
    Direction, MetricSeries, PerformanceTracker, REPORT_SCHEMA_VERSION, RunReport, names,
};
use serde::{Deserialize, Serialize};

pub use rfm_perf_core::stats::Percentiles;

use crate::RfmPerfPlugin;
use crate::base::{ApiConfig, ApiStatus, EscapeHistogram, GpuPassStatus, GpuSummary, PassCost};
use crate::fractal::FRACTAL_COST_HOTTEST_SHARE;
use crate::fractal::gpu::{
    Coloring, CurrentGeneration, FractalFrameStats, FractalGpuPlugin, FractalSettings,
    FractalTarget, GpuResults, ResultsLayout,
};
use crate::fractal::palette::Palette;
use crate::fractal::{FractalParams, Precision, View};

/// What went wrong in a headless run.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The fractal shader did not build.
    #[error("the fractal pass failed: {0}")]
    PassFailed(String),
    /// No result within the frame budget.
    #[error("no GPU result after {0} frames")]
    Timeout(u32),
    /// Writing the report failed.
    #[error("could not write the report to {path}: {source}")]
    Report {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes render work finish inside the frame that submitted it, so a frame's wall time includes
/// its GPU time (there is no swapchain to pace a windowless app).
#[derive(Resource, Clone, Copy)]
struct WaitForGpu;

fn wait_for_gpu(device: Res<RenderDevice>) {
    let _ = device.poll(bevy::render::render_resource::PollType::wait_indefinitely());
}

/// A windowless render app with `RfmPerfPlugin` (no dashboard, no API) and `settings`, ready to
/// update (renderer initialised, plugins finished). `tracker` is the tracker to record into.
///
/// ```no_run
/// use rfm_perf::fractal::gpu::FractalSettings;
/// let mut app = rfm_perf::headless::headless_app(FractalSettings::default(), rfm_perf::PerformanceTracker::new());
/// app.update();
/// ```
pub fn headless_app(settings: FractalSettings, tracker: PerformanceTracker) -> App {
    headless_app_with(
        settings,
        RfmPerfPlugin {
            dashboard: false,
            api: false,
            system_sampling: false,
            tracker: Some(tracker),
            ..RfmPerfPlugin::new()
        },
        FractalGpuPlugin::default(),
    )
}

/// [`headless_app`] with a given `RfmPerfPlugin` (its `fractal` field is ignored: `pass` is the
/// pass; tests install a broken shader this way) — e.g. with the API on.
pub fn headless_app_with(
    settings: FractalSettings,
    perf: RfmPerfPlugin,
    pass: FractalGpuPlugin,
) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<WinitPlugin>()
            // render in step with `app.update()`, so readbacks belong to the frame just run
            .disable::<bevy::render::pipelined_rendering::PipelinedRenderingPlugin>()
            .disable::<bevy::log::LogPlugin>(),
    )
    .add_plugins(RfmPerfPlugin {
        fractal: false,
        ..perf
    })
    .add_plugins(pass)
    .insert_resource(settings);
    app.insert_resource(WaitForGpu);
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app.add_systems(Render, wait_for_gpu.in_set(RenderSystems::Cleanup));
    }
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
    app
}

/// The render device and queue of a headless app (for direct GPU work such as
/// [`df64_selftest`](crate::fractal::gpu::df64_selftest)).
pub fn render_device(app: &App) -> Option<(RenderDevice, RenderQueue)> {
    let main = app.world();
    if let (Some(d), Some(q)) = (
        main.get_resource::<RenderDevice>(),
        main.get_resource::<RenderQueue>(),
    ) {
        return Some((d.clone(), q.clone()));
    }
    let world = app.get_sub_app(RenderApp)?.world();
    Some((
        world.get_resource::<RenderDevice>()?.clone(),
        world.get_resource::<RenderQueue>()?.clone(),
    ))
}

/// Updates `app` until the pass has produced the full results (counts included) for the current
/// settings, at most `max_frames` frames. Switches on [`FractalSettings::pixel_counts`] (and
/// leaves it on) when it is off.
///
/// # Errors
/// [`HeadlessError::PassFailed`] when the shader failed, [`HeadlessError::Timeout`] otherwise.
pub fn read_results(app: &mut App, max_frames: u32) -> Result<GpuResults, HeadlessError> {
    let slot: Arc<Mutex<Option<GpuResults>>> = Arc::default();
    let mut reader = None;
    if let Some(mut s) = app.world_mut().get_resource_mut::<FractalSettings>()
        && !s.pixel_counts
    {
        s.pixel_counts = true;
    }
    for _ in 0..max_frames {
        app.update();
        if let GpuPassStatus::Failed(e) = app.world().resource::<GpuPassStatus>() {
            return Err(HeadlessError::PassFailed(e.clone()));
        }
        let Some(target) = app.world().get_resource::<FractalTarget>().cloned() else {
            continue;
        };
        if reader.is_none() {
            let slot = slot.clone();
            let layout = ResultsLayout::new(target.size);
            let e = app
                .world_mut()
                .spawn(Readback::buffer(target.results.clone()))
                .observe(move |ev: On<ReadbackComplete>| {
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) =
                        GpuResults::from_bytes(&ev.data, layout);
                })
                .id();
            reader = Some(e);
        }
        let current = app.world().resource::<CurrentGeneration>().0;
        let got = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(r) = got
            && current != 0
            && r.generation == current
            && r.counts.len() == (target.size.x * target.size.y) as usize
        {
            if let Some(e) = reader {
                app.world_mut().despawn(e);
            }
            return Ok(r);
        }
    }
    if let Some(e) = reader {
        app.world_mut().despawn(e);
    }
    Err(HeadlessError::Timeout(max_frames))
}

/// Updates `app` until the pass has rendered the current settings and returns the output image
/// as sRGB RGBA8 (what the screen shows), at most `max_frames` frames.
///
/// # Errors
/// As [`read_results`].
pub fn read_image(app: &mut App, max_frames: u32) -> Result<Image, HeadlessError> {
    read_results(app, max_frames)?;
    let target = app.world().resource::<FractalTarget>().clone();
    let slot: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let s = slot.clone();
    let e = app
        .world_mut()
        .spawn(Readback::texture(target.image.clone()))
        .observe(move |ev: On<ReadbackComplete>| {
            *s.lock().unwrap_or_else(|e| e.into_inner()) = Some(ev.data.clone());
        })
        .id();
    for _ in 0..max_frames {
        app.update();
        if let Some(bytes) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            app.world_mut().despawn(e);
            // texture readbacks pad each row to a multiple of 256 bytes
            let row = 4 * target.size.x as usize;
            let padded = bytes.len() / (target.size.y as usize).max(1);
            let pixels: Vec<u8> = bytes
                .chunks_exact(padded.max(row))
                .flat_map(|r| r[..row].iter().copied())
                .collect();
            let srgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    [
                        linear_to_srgb(p[0]),
                        linear_to_srgb(p[1]),
                        linear_to_srgb(p[2]),
                        p[3],
                    ]
                })
                .collect();
            return Ok(Image::new(
                bevy::render::render_resource::Extent3d {
                    width: target.size.x,
                    height: target.size.y,
                    depth_or_array_layers: 1,
                },
                bevy::render::render_resource::TextureDimension::D2,
                srgb,
                bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb,
                bevy::asset::RenderAssetUsages::MAIN_WORLD,
            ));
        }
    }
    app.world_mut().despawn(e);
    Err(HeadlessError::Timeout(max_frames))
}

fn linear_to_srgb(v: u8) -> u8 {
    let c = f32::from(v) / 255.0;
    let s = if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Saves an RGBA8 image as PNG.
///
/// # Errors
/// The encoder's or file system's message.
pub fn save_png(image: Image, path: &std::path::Path) -> Result<(), String> {
    image
        .try_into_dynamic()
        .map_err(|e| e.to_string())?
        .to_rgba8()
        .save(path)
        .map_err(|e| e.to_string())
}

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
    /// Deepest view width.
    pub deepest: f64,
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
}

impl BenchmarkOptions {
    /// The scenario named after the options: runs with the same options compare like for like.
    ///
    /// ```
    /// let o = rfm_perf::headless::BenchmarkOptions::default();
    /// assert_eq!(o.scenario_name(), "zoom 512x512 max1000 300f to 1e-12, checks on");
    /// ```
    pub fn scenario_name(&self) -> String {
        format!(
            "zoom {}x{} max{} {}f to {:e}, checks {}{}",
            self.width,
            self.height,
            self.max_iter,
            self.frames,
            self.deepest,
            if self.interior_check { "on" } else { "off" },
            if self.heatmap { ", heatmap" } else { "" }
        )
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
            report: None,
            screenshot: None,
            interior_check: true,
            heatmap: false,
            scenario: None,
            api: None,
        }
    }
}

/// One frame of the benchmark.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Frame index.
    pub frame: u32,
    /// View width.
    pub view_width: f64,
    /// Arithmetic used.
    pub precision: Precision,
    /// Wall time of the frame (ms).
    pub frame_ms: f64,
    /// Iterations of the latest read-back frame (nominal).
    pub iterations: u64,
    /// Iterations the GPU really ran for it (fewer with the interior checks).
    #[serde(default)]
    pub iterations_computed: u64,
}

/// The benchmark's JSON report. Its [`RunReport`] part (schema version, scenario, machine,
/// versions, per-metric summaries and raw values) is what `rfm-perf compare` reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchmarkReport {
    /// Schema, scenario, machine, versions and the per-metric series.
    #[serde(flatten)]
    pub run: RunReport,
    /// Adapter name.
    pub adapter: String,
    /// Backend.
    pub backend: String,
    /// Render size.
    pub width: u32,
    /// Render size.
    pub height: u32,
    /// Frames measured.
    pub frames: u32,
    /// Iteration limit.
    pub max_iter: u32,
    /// Frame wall time (ms).
    pub frame_ms: Percentiles,
    /// GPU time of the pass (ms), when the adapter has timestamp queries.
    pub gpu_pass_ms: Option<Percentiles>,
    /// Why `gpu_pass_ms` is absent.
    pub gpu_pass_missing_reason: Option<String>,
    /// CPU time encoding the pass (ms).
    pub cpu_encode_ms: Option<Percentiles>,
    /// Iterations per second of wall time (all frames' iterations / total time).
    pub iterations_per_s: f64,
    /// Iterations per second of GPU pass time, when measured.
    pub gpu_iterations_per_s: Option<f64>,
    /// Megapixels per second of wall time.
    pub mpixels_per_s: f64,
    /// Whether the interior checks were on.
    #[serde(default)]
    pub interior_check: bool,
    /// Iterations the GPU really ran / nominal iterations, over the run (1 without the checks).
    #[serde(default)]
    pub computed_share: Option<f64>,
    /// Whether the pass coloured by cost (the heatmap).
    #[serde(default)]
    pub heatmap: bool,
    /// The escaped pixels of every measured frame by the iteration they escaped at.
    #[serde(default)]
    pub escape_histogram: Option<EscapeHistogram>,
    /// Share of each frame's computed iterations in its costliest 10 % of 32×32 tiles (%).
    #[serde(default)]
    pub cost_hottest_share: Option<Percentiles>,
    /// Frames rendered in df64.
    pub df64_frames: u32,
    /// Where the API served during the run (`http://ADDR/`), when it did.
    #[serde(default)]
    pub api_address: Option<String>,
    /// Per frame.
    pub path: Vec<FrameRecord>,
}

impl BenchmarkReport {
    /// A human-readable summary.
    pub fn summary_table(&self) -> String {
        let p = |x: &Option<Percentiles>| {
            x.map_or("n/a".to_string(), |p| {
                format!("{:>8.3} {:>8.3} {:>8.3}", p.p50, p.p95, p.p99)
            })
        };
        let mut s = String::new();
        s += &format!(
            "scenario           {} (crate {}{})\n",
            self.run.scenario,
            self.run.crate_version,
            self.run
                .git_commit
                .as_ref()
                .map_or(String::new(), |c| format!(" at {c}"))
        );
        s += &format!("adapter            {} ({})\n", self.adapter, self.backend);
        s += &format!(
            "view               {}×{}, {} frames ({} in df64), max_iter {}\n",
            self.width, self.height, self.frames, self.df64_frames, self.max_iter
        );
        s += "                        p50      p95      p99  (ms)\n";
        s += &format!("frame time         {}\n", p(&Some(self.frame_ms)));
        s += &format!(
            "GPU pass           {}{}\n",
            p(&self.gpu_pass_ms),
            self.gpu_pass_missing_reason
                .as_ref()
                .map_or(String::new(), |r| format!("  ({r})"))
        );
        s += &format!("CPU encode         {}\n", p(&self.cpu_encode_ms));
        s += &format!(
            "iterations/s       {:.3e} wall{}\n",
            self.iterations_per_s,
            self.gpu_iterations_per_s
                .map_or(String::new(), |g| format!(", {g:.3e} GPU-pass"))
        );
        s += &format!("Mpixel/s           {:.2}\n", self.mpixels_per_s);
        s += &format!(
            "interior checks    {}{}\n",
            if self.interior_check { "on" } else { "off" },
            self.computed_share.map_or(String::new(), |c| format!(
                ": the GPU ran {:.1} % of the nominal iterations",
                c * 100.0
            ))
        );
        if let Some(h) = &self.escape_histogram
            && let (Some(p50), Some(p99)) = (h.quantile(0.5), h.quantile(0.99))
        {
            s += &format!(
                "escaped pixels     {}: half by iteration {p50}, 99 % by {p99} (limit {})\n",
                h.escaped(),
                h.max_iter
            );
        }
        if let Some(c) = &self.cost_hottest_share {
            s += &format!(
                "cost hot spots     the costliest 10 % of tiles hold {:.0} % of the work (median frame)\n",
                c.p50
            );
        }
        if let Some(api) = &self.api_address {
            s += &format!("API (while running) {api}\n");
        }
        s
    }
}

/// Runs the benchmark: `frames` frames along [`zoom_path`], one progress line per 10 %, then the
/// report (written as JSON when `report` is set).
///
/// # Errors
/// [`HeadlessError`] when the pass fails, produces nothing, or the report cannot be written.
pub fn run_benchmark(
    options: &BenchmarkOptions,
    mut progress: impl FnMut(&str),
) -> Result<BenchmarkReport, HeadlessError> {
    let tracker = PerformanceTracker::new();
    let settings = FractalSettings {
        params: FractalParams {
            view: zoom_path(0, options.frames, options.deepest),
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
        options.frames, options.width, options.height, options.deepest
    ));
    // warm up: compile the pipelines and get a first result
    read_results(&mut app, 600)?;
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
        let view = zoom_path(frame, options.frames, options.deepest);
        let precision = {
            let mut s = app.world_mut().resource_mut::<FractalSettings>();
            s.params.view = view;
            s.precision()
        };
        let t = Instant::now();
        app.update();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
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
        api_address,
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
