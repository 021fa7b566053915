//! Names of the built-in metrics (stable, dotted, lowercase) and their short aliases (the names of the original Python spec).
//!
//! Any non-empty UTF-8 string is a valid metric name; these constants are the ones the plugin,
//! dashboard, API and analysis agree on, like Bevy's `DiagnosticPath` constants.
//!
//! ```
//! use rfm_perf_core::names;
//! assert_eq!(names::resolve_alias("render_time"), names::FRAME_TIME_MS);
//! assert_eq!(names::resolve_alias("my.own"), "my.own");
//! ```

use crate::metric::{Direction, MetricInfo, Unit};

/// Frame time of the app (ms), from Bevy's frame time or measured between collected frames.
pub const FRAME_TIME_MS: &str = "frame.time_ms";
/// Frames per second.
pub const FRAME_FPS: &str = "frame.fps";
/// 1 % low FPS: 1000 / mean frame time of the slowest 1 % of frames in the recent window (10 s).
pub const FRAME_FPS_1PCT_LOW: &str = "frame.fps_1pct_low";
/// Frames collected so far.
pub const FRAME_COUNT: &str = "frame.count";
/// Number of ECS entities: Bevy's own diagnostic path (`EntityCountDiagnosticsPlugin`), kept as is.
pub const ENTITY_COUNT: &str = "entity_count";
/// GPU time of the fractal compute pass (ms).
pub const RENDER_FRACTAL_GPU_MS: &str = "render.fractal_gpu_ms";
/// CPU time spent encoding the fractal pass (ms).
pub const RENDER_FRACTAL_CPU_MS: &str = "render.fractal_cpu_ms";
/// Estimated GPU utilisation (% of frame time the GPU was busy with measured passes).
pub const GPU_UTILIZATION_PCT: &str = "gpu.utilization_pct";
/// GPU memory in use where the backend reports it (MB).
pub const GPU_MEMORY_MB: &str = "gpu.memory_mb";
/// Total iterations computed for the fractal this frame.
pub const FRACTAL_ITERATIONS: &str = "fractal.iterations";
/// Iterations the fractal pass really ran this frame: `fractal.iterations` minus what its
/// interior checks skipped.
pub const FRACTAL_ITERATIONS_COMPUTED: &str = "fractal.iterations_computed";
/// Mean iterations per pixel this frame: the computation complexity.
pub const FRACTAL_ITERATIONS_PER_PIXEL: &str = "fractal.iterations_per_pixel";
/// Process-wide CPU usage averaged over all cores (%).
pub const SYSTEM_CPU_PCT: &str = "system.cpu_pct";
/// Prefix of per-core CPU usage metrics: `system.cpu.core{N}_pct`.
pub const SYSTEM_CPU_CORE_PREFIX: &str = "system.cpu.core";
/// Resident memory of this process (MB).
pub const PROCESS_MEMORY_MB: &str = "process.memory_mb";
/// Heap allocations per frame (needs the counting allocator).
pub const PROCESS_ALLOCS_PER_FRAME: &str = "process.allocs_per_frame";
/// Live heap bytes (needs the counting allocator), in MB.
pub const PROCESS_HEAP_LIVE_MB: &str = "process.heap_live_mb";
/// Bytes per second this process read from storage.
pub const IO_READ_BYTES_PER_S: &str = "io.read_bytes_per_s";
/// Bytes per second this process wrote to storage.
pub const IO_WRITE_BYTES_PER_S: &str = "io.write_bytes_per_s";
/// Share of the last 10 s in which some task waited on I/O (`/proc/pressure/io`, "some avg10").
pub const IO_PRESSURE_PCT: &str = "io.pressure_pct";
/// Iteration count by which 99 % of the escaped pixels had escaped (the fractal pass's escape
/// histogram; the analysis weighs the iteration limit against it).
pub const FRACTAL_ESCAPE_P99: &str = "fractal.escape_p99";
/// Iterations per second the CPU reference computes on the current view (measured now and
/// then where the GPU is a software rasterizer, so the analysis can compare the two backends).
pub const FRACTAL_CPU_ITERATIONS_PER_S: &str = "fractal.cpu_iterations_per_s";
/// Share of the fractal's pixels that escaped this frame (0–1).
pub const FRACTAL_ESCAPED_RATIO: &str = "fractal.escaped_ratio";
/// Time the dashboard took to build its UI this frame (ms).
pub const UI_DASHBOARD_MS: &str = "ui.dashboard_ms";

/// The metric name for CPU core `n`.
///
/// ```
/// assert_eq!(rfm_perf_core::names::cpu_core(3), "system.cpu.core3_pct");
/// ```
pub fn cpu_core(n: usize) -> String {
    format!("{SYSTEM_CPU_CORE_PREFIX}{n}_pct")
}

/// The render pass a top-level GPU-time diagnostic of Bevy's `RenderDiagnosticsPlugin` is
/// for: `render/<pass>/elapsed_gpu` → `<pass>` (nested spans, with more segments, are inside
/// their parent's time already, and are `None`).
///
/// ```
/// use rfm_perf_core::names::render_pass_of_gpu_time;
/// assert_eq!(render_pass_of_gpu_time("render/main_transparent_pass_2d/elapsed_gpu"), Some("main_transparent_pass_2d"));
/// assert_eq!(render_pass_of_gpu_time("render/bloom/downsample/elapsed_gpu"), None);
/// assert_eq!(render_pass_of_gpu_time("render/upscaling/elapsed_cpu"), None);
/// ```
pub fn render_pass_of_gpu_time(path: &str) -> Option<&str> {
    path.strip_prefix("render/")
        .and_then(|rest| rest.strip_suffix("/elapsed_gpu"))
        .filter(|pass| !pass.is_empty() && !pass.contains('/'))
}

/// The original spec's short names and the built-ins they stand for.
pub const ALIASES: &[(&str, &str)] = &[
    ("render_time", FRAME_TIME_MS),
    ("fps", FRAME_FPS),
    ("memory_usage", PROCESS_MEMORY_MB),
    ("gpu_utilization", GPU_UTILIZATION_PCT),
    ("complexity", FRACTAL_ITERATIONS_PER_PIXEL),
];

/// Resolves a short alias to its built-in; any other name is returned unchanged.
///
/// ```
/// assert_eq!(rfm_perf_core::names::resolve_alias("fps"), "frame.fps");
/// ```
pub fn resolve_alias(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical)
}

/// A built-in metric's metadata.
#[derive(Debug)]
pub struct Builtin {
    /// Canonical name.
    pub name: &'static str,
    /// Unit.
    pub unit: Unit,
    /// What it measures.
    pub description: &'static str,
    /// Which way is better.
    pub direction: Direction,
}

impl Builtin {
    /// A built-in's metadata (a `const`, so plugins can list theirs in a `const` slice).
    ///
    /// ```
    /// use rfm_perf_core::names::Builtin;
    /// use rfm_perf_core::{Direction, Unit};
    /// const LOAD: Builtin = Builtin::new("game.load_ms", Unit::Milliseconds, "Level load", Direction::LowerIsBetter);
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.register_metric(LOAD.info());
    /// assert_eq!(t.metric_info("game.load_ms").unwrap().unit, Unit::Milliseconds);
    /// ```
    pub const fn new(
        name: &'static str,
        unit: Unit,
        description: &'static str,
        direction: Direction,
    ) -> Self {
        Self {
            name,
            unit,
            description,
            direction,
        }
    }

    /// The metadata to register with [`PerformanceTracker::register_metric`](crate::PerformanceTracker::register_metric).
    pub fn info(&self) -> MetricInfo {
        MetricInfo::new(
            self.name,
            self.unit.clone(),
            self.description,
            self.direction,
        )
    }
}

const fn b(
    name: &'static str,
    unit: Unit,
    description: &'static str,
    direction: Direction,
) -> Builtin {
    Builtin::new(name, unit, description, direction)
}

use Direction::{HigherIsBetter as Higher, LowerIsBetter as Lower, Neutral};

/// The built-in metrics that several plugins read, with unit, description and direction;
/// registered in each new tracker. Metrics only one plugin records and reads are that plugin's
/// own constants, registered when it is added.
pub const BUILTINS: &[Builtin] = &[
    b(FRAME_TIME_MS, Unit::Milliseconds, "Frame time", Lower),
    b(
        FRAME_FPS,
        Unit::FramesPerSecond,
        "Frames per second",
        Higher,
    ),
    b(
        FRAME_FPS_1PCT_LOW,
        Unit::FramesPerSecond,
        "FPS of the slowest 1 % of recent frames",
        Higher,
    ),
    b(FRAME_COUNT, Unit::Count, "Frames collected", Neutral),
    b(ENTITY_COUNT, Unit::Count, "ECS entities", Neutral),
    b(
        RENDER_FRACTAL_GPU_MS,
        Unit::Milliseconds,
        "GPU time of the fractal compute pass",
        Lower,
    ),
    b(
        RENDER_FRACTAL_CPU_MS,
        Unit::Milliseconds,
        "CPU time encoding the fractal pass",
        Lower,
    ),
    b(
        GPU_UTILIZATION_PCT,
        Unit::Percent,
        "GPU busy time / frame time (estimate)",
        Neutral,
    ),
    b(GPU_MEMORY_MB, Unit::Megabytes, "GPU memory in use", Lower),
    b(
        FRACTAL_ITERATIONS,
        Unit::Count,
        "Fractal iterations computed this frame",
        Neutral,
    ),
    b(
        FRACTAL_ITERATIONS_COMPUTED,
        Unit::Count,
        "Fractal iterations really run this frame (interior checks skip some)",
        Neutral,
    ),
    b(
        FRACTAL_ITERATIONS_PER_PIXEL,
        Unit::Count,
        "Mean fractal iterations per pixel (complexity)",
        Neutral,
    ),
    b(
        FRACTAL_ESCAPED_RATIO,
        Unit::Ratio,
        "Share of fractal pixels that escaped",
        Neutral,
    ),
    b(
        FRACTAL_CPU_ITERATIONS_PER_S,
        Unit::Count,
        "Iterations per second of the CPU reference on the current view (per second)",
        Neutral,
    ),
    b(
        SYSTEM_CPU_PCT,
        Unit::Percent,
        "CPU usage over all cores",
        Lower,
    ),
    b(
        PROCESS_MEMORY_MB,
        Unit::Megabytes,
        "Resident memory of this process",
        Lower,
    ),
    b(
        PROCESS_ALLOCS_PER_FRAME,
        Unit::Count,
        "Heap allocations per frame",
        Lower,
    ),
    b(PROCESS_HEAP_LIVE_MB, Unit::Megabytes, "Live heap", Lower),
    b(
        IO_READ_BYTES_PER_S,
        Unit::BytesPerSecond,
        "Storage reads of this process",
        Neutral,
    ),
    b(
        IO_WRITE_BYTES_PER_S,
        Unit::BytesPerSecond,
        "Storage writes of this process",
        Neutral,
    ),
    b(
        IO_PRESSURE_PCT,
        Unit::Percent,
        "Time some task waited on I/O (avg10)",
        Lower,
    ),
    b(
        UI_DASHBOARD_MS,
        Unit::Milliseconds,
        "Dashboard UI build time",
        Lower,
    ),
];
