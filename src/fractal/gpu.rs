//! The GPU fractal pass: a WGSL compute shader (`shaders/fractal.wgsl`, embedded in the crate)
//! dispatched every frame from Bevy's render graph while a [`FractalSettings`] resource exists.
//!
//! Flow per frame:
//! - main world (`PostUpdate`): [`FractalTarget`] (the output image and the results buffer) follows
//!   the settings' render size; the shader parameters are built, with a *generation* number that
//!   changes whenever they do;
//! - extract: the parameters and handles go to the render world;
//! - render world: pipelines are queued at `RenderStartup` through the `PipelineCache` (status
//!   [`FractalStatus::Compiling`] until ready, [`FractalStatus::Failed`] with the compiler's message
//!   if the shader does not build — never a panic); the bind group is built in
//!   `RenderSystems::PrepareBindGroups`; the pass itself is a system in the `RenderGraph` schedule,
//!   before the camera driver, inside a `RenderDiagnosticsPlugin` pass span named `fractal`;
//! - the shader writes colours to the image, iteration counts to the results buffer and adds
//!   per-workgroup sums into 64-bit totals; Bevy's [`Readback`] brings the 16-byte totals header
//!   back asynchronously (no stall) and [`FractalFrameStats`] / the `fractal.*` metrics follow.
//!
//! ```no_run
//! use bevy::prelude::*;
//! use rfm_perf::fractal::gpu::FractalSettings;
//! use rfm_perf::prelude::*;
//!
//! App::new()
//!     .add_plugins((DefaultPlugins, RfmPerfPlugin::default()))
//!     // the pass runs while this resource exists; show `FractalTarget::image` with a sprite
//!     .insert_resource(FractalSettings::default())
//!     .run();
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bevy::asset::RenderAssetUsages;
use bevy::core_pipeline::schedule::camera_driver;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::diagnostic::{RecordDiagnostics, RenderDiagnosticsPlugin};
use bevy::render::gpu_readback::{Readback, ReadbackComplete};
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::binding_types::{
    storage_buffer_read_only_sized, storage_buffer_sized, texture_storage_2d, uniform_buffer,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::{
    RenderAdapterInfo, RenderContext, RenderDevice, RenderGraph, RenderQueue,
};
use bevy::render::storage::{GpuShaderBuffer, ShaderBuffer};
use bevy::render::texture::GpuImage;
use bevy::render::{Extract, ExtractSchedule, Render, RenderApp, RenderStartup, RenderSystems};
use bevy::shader::{Shader, ShaderCacheError};
use rfm_perf_core::names;
use serde::{Deserialize, Serialize};
use wgpu::{ComputePassTimestampWrites, QuerySet, QuerySetDescriptor, QueryType};

use super::df64::Df64;
use super::palette::Palette;
use super::{FractalKind, FractalParams, Precision, View};
use crate::plugin::{PerfTracker, RfmPerfSystems};
use crate::tunables::{Tunable, Tunables};

/// The WGSL source compiled into the crate.
pub const SHADER_SOURCE: &str = include_str!("../../shaders/fractal.wgsl");
/// Threads per workgroup along x and y (must match `@workgroup_size` in the shader).
pub const WORKGROUP_SIZE: u32 = 8;
/// Largest render size along either axis.
pub const MAX_RENDER_SIZE: u32 = 8192;
/// Largest iteration limit: 64 pixels × this fits the shader's 32-bit per-workgroup sum.
pub const MAX_ITER_LIMIT: u32 = 1 << 24;
/// Bytes of the totals (iterations lo/hi, escaped, generation) the stats readback reads.
pub const RESULTS_HEADER_BYTES: u64 = 16;
/// Bytes before the per-pixel counts: the totals, then a zero word the shader's df64 arithmetic
/// uses as an optimization barrier (see `ZERO_BITS` in the shader), then padding.
pub const RESULTS_PREFIX_BYTES: u64 = 32;
/// The Bevy diagnostic path of the pass's GPU time (from `RenderDiagnosticsPlugin`, on adapters
/// with timestamp queries inside passes; `render.fractal_gpu_ms` comes from the pass's own
/// timestamps and needs only `TIMESTAMP_QUERY`).
pub const GPU_TIME_DIAGNOSTIC: &str = "render/fractal/elapsed_gpu";

/// Which arithmetic the pass uses.
///
/// ```
/// use rfm_perf::fractal::gpu::PrecisionMode;
/// assert_eq!(PrecisionMode::default(), PrecisionMode::Auto);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrecisionMode {
    /// f32 while it is sharp, df64 below that ([`Precision::needed`]).
    #[default]
    Auto,
    /// Always f32.
    F32,
    /// Always df64.
    Df64,
}

/// What the fractal pass renders. Insert it to start the pass, remove it to stop.
///
/// ```
/// use bevy::math::UVec2;
/// use rfm_perf::fractal::gpu::FractalSettings;
/// let s = FractalSettings { output_size: UVec2::new(1000, 500), resolution_scale: 0.5, ..Default::default() };
/// assert_eq!(s.render_size(), UVec2::new(500, 250));
/// ```
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FractalSettings {
    /// Fractal, view and iteration limit.
    pub params: FractalParams,
    /// Colour palette.
    pub palette: Palette,
    /// Arithmetic.
    pub precision: PrecisionMode,
    /// Render size relative to `output_size` (below 1: render smaller and upscale).
    pub resolution_scale: f32,
    /// Size the image is shown at (e.g. the window's physical size).
    pub output_size: UVec2,
}

impl Default for FractalSettings {
    fn default() -> Self {
        Self {
            params: FractalParams::default(),
            palette: Palette::Classic,
            precision: PrecisionMode::Auto,
            resolution_scale: 1.0,
            output_size: UVec2::new(1280, 720),
        }
    }
}

impl FractalSettings {
    /// The size of the rendered texture: `output_size × resolution_scale`, at least 1×1 and at
    /// most [`MAX_RENDER_SIZE`] per axis.
    pub fn render_size(&self) -> UVec2 {
        let scale = if self.resolution_scale.is_finite() {
            self.resolution_scale.clamp(0.05, 4.0)
        } else {
            1.0
        };
        (self.output_size.as_vec2() * scale)
            .round()
            .as_uvec2()
            .clamp(UVec2::ONE, UVec2::splat(MAX_RENDER_SIZE))
    }

    /// The arithmetic the pass will use for this view.
    ///
    /// ```
    /// use rfm_perf::fractal::{gpu::FractalSettings, Precision, View};
    /// let mut s = FractalSettings::default();
    /// assert_eq!(s.precision(), Precision::F32);
    /// s.params.view = View { center: (-1.7499, 0.0), width: 1e-9 };
    /// assert_eq!(s.precision(), Precision::Df64);
    /// ```
    pub fn precision(&self) -> Precision {
        match self.precision {
            PrecisionMode::Auto => Precision::needed(&self.params.view, self.render_size().x),
            PrecisionMode::F32 => Precision::F32,
            PrecisionMode::Df64 => Precision::Df64,
        }
    }

    /// Zoom relative to the home view ([`View::HOME`]).
    pub fn zoom(&self) -> f64 {
        View::HOME.width / self.params.view.width
    }
}

/// The image the pass writes (RGBA8, linear) and the buffer of its results (16-byte totals
/// header, then one `u32` iteration count per pixel, row-major). Created and resized by the
/// plugin; show `image` with a sprite or UI image.
#[derive(Resource, Clone, Debug)]
pub struct FractalTarget {
    /// The output image (`size` pixels).
    pub image: Handle<Image>,
    /// The results buffer.
    pub results: Handle<ShaderBuffer>,
    /// The pass's begin/end GPU timestamps (two `u64`), when the adapter has timestamp queries.
    pub timings: Handle<ShaderBuffer>,
    /// Render size in pixels.
    pub size: UVec2,
}

/// Where the pass is.
///
/// ```
/// use rfm_perf::fractal::gpu::FractalStatus;
/// assert!(FractalStatus::Failed("x".into()).is_error());
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum FractalStatus {
    /// No [`FractalSettings`]: nothing to render.
    #[default]
    Idle,
    /// The shader is being compiled.
    Compiling,
    /// The pass is dispatching.
    Running,
    /// The pipeline could not be built; the compiler's message.
    Failed(String),
    /// No render app (e.g. `MinimalPlugins`): the pass cannot run.
    NoRenderer,
}

impl FractalStatus {
    /// Whether this is [`FractalStatus::Failed`].
    pub fn is_error(&self) -> bool {
        matches!(self, FractalStatus::Failed(_))
    }
}

/// The totals of the latest frame read back from the GPU.
///
/// ```
/// let s = rfm_perf::fractal::gpu::FractalFrameStats { iterations: 600, escaped: 3, pixels: 4, ..Default::default() };
/// assert_eq!(s.iterations_per_pixel(), 150.0);
/// assert_eq!(s.escaped_ratio(), 0.75);
/// ```
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FractalFrameStats {
    /// Generation of the parameters the frame was rendered with.
    pub generation: u32,
    /// Total iterations (exact, 64-bit).
    pub iterations: u64,
    /// Pixels that escaped.
    pub escaped: u64,
    /// Pixels rendered.
    pub pixels: u64,
    /// Iteration limit.
    pub max_iter: u32,
    /// Frames read back so far.
    pub frames: u64,
}

impl FractalFrameStats {
    /// Mean iterations per pixel.
    pub fn iterations_per_pixel(&self) -> f64 {
        self.iterations as f64 / self.pixels.max(1) as f64
    }

    /// Share of pixels that escaped.
    pub fn escaped_ratio(&self) -> f64 {
        self.escaped as f64 / self.pixels.max(1) as f64
    }
}

/// The GPU the render app runs on, and what it can report.
///
/// ```
/// let info = rfm_perf::fractal::gpu::GpuInfo::default();
/// assert!(info.adapter.is_empty());
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Serialize)]
pub struct GpuInfo {
    /// Adapter name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub adapter: String,
    /// Backend (`Vulkan`, `Metal`, …).
    pub backend: String,
    /// Device type (`Cpu`, `DiscreteGpu`, …).
    pub device_type: String,
    /// Driver and its version.
    pub driver: String,
    /// Whether the pass's GPU time can be measured (timestamp queries).
    pub timestamp_queries: bool,
    /// Why `render.fractal_gpu_ms` is absent, when it is.
    pub gpu_time_missing_reason: Option<String>,
    /// Bytes the fractal pass holds on the GPU (its texture and buffers; exact).
    pub fractal_bytes: u64,
    /// Bytes the device's allocator reports in use, where the backend gives a report.
    pub allocator_bytes: Option<u64>,
    /// Nanoseconds per timestamp tick.
    pub timestamp_period_ns: f32,
}

/// The shader parameters (layout must match `Params` in `shaders/fractal.wgsl`).
#[derive(Clone, Copy, Debug, Default, PartialEq, ShaderType)]
pub struct FractalUniform {
    center_re: Vec2,
    center_im: Vec2,
    pixel: Vec2,
    julia_re: Vec2,
    julia_im: Vec2,
    size: UVec2,
    max_iter: u32,
    kind: u32,
    one: f32,
    generation: u32,
    stop_count: u32,
    period: f32,
    stops: [Vec4; 8],
}

fn df(v: f64) -> Vec2 {
    let d = Df64::from_f64(v);
    Vec2::new(d.hi, d.lo)
}

impl FractalUniform {
    /// The parameters for `settings` rendered at `size`, tagged `generation`.
    pub fn new(settings: &FractalSettings, size: UVec2, generation: u32) -> Self {
        let p = &settings.params;
        let (jr, ji) = match p.kind {
            FractalKind::Julia { re, im } => (re, im),
            _ => (0.0, 0.0),
        };
        let mut stops = [Vec4::ZERO; 8];
        let src = settings.palette.stops();
        for (dst, (pos, rgb)) in stops.iter_mut().zip(src) {
            *dst = Vec4::new(
                f32::from(rgb[0]) / 255.0,
                f32::from(rgb[1]) / 255.0,
                f32::from(rgb[2]) / 255.0,
                *pos,
            );
        }
        Self {
            center_re: df(p.view.center.0),
            center_im: df(p.view.center.1),
            pixel: df(p.view.pixel_size(size.x)),
            julia_re: df(jr),
            julia_im: df(ji),
            size,
            max_iter: p.max_iter.clamp(1, MAX_ITER_LIMIT),
            kind: match p.kind {
                FractalKind::Mandelbrot => 0,
                FractalKind::Julia { .. } => 1,
                FractalKind::BurningShip => 2,
            },
            one: 1.0,
            generation,
            stop_count: src.len().min(8) as u32,
            period: super::palette::PERIOD,
            stops,
        }
    }
}

/// Decodes the results buffer (or its 16-byte totals header) read back from the GPU.
///
/// ```
/// use rfm_perf::fractal::gpu::GpuResults;
/// let mut bytes = Vec::new();
/// for w in [5u32, 1, 2, 7, 0, 0, 0, 0, 9, 9] { bytes.extend_from_slice(&w.to_le_bytes()); }
/// let r = GpuResults::from_bytes(&bytes).unwrap();
/// assert_eq!(r.iterations, (1u64 << 32) + 5);
/// assert_eq!((r.escaped, r.generation), (2, 7));
/// assert_eq!(r.counts, vec![9, 9]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuResults {
    /// Total iterations.
    pub iterations: u64,
    /// Escaped pixels.
    pub escaped: u64,
    /// Generation of the parameters.
    pub generation: u32,
    /// Per-pixel iteration counts (empty when only the header was read).
    pub counts: Vec<u32>,
}

impl GpuResults {
    /// Parses little-endian words; `None` when shorter than the header.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < RESULTS_HEADER_BYTES as usize {
            return None;
        }
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Self {
            iterations: u64::from(words[0]) | (u64::from(words[1]) << 32),
            escaped: u64::from(words[2]),
            generation: words[3],
            counts: words
                .get(RESULTS_PREFIX_BYTES as usize / 4..)
                .unwrap_or(&[])
                .to_vec(),
        })
    }
}

/// Registers the pass (added by `RfmPerfPlugin` when its `fractal` field is on).
///
/// ```
/// let plugin = rfm_perf::fractal::gpu::FractalGpuPlugin::default();
/// assert!(plugin.shader_source.contains("fn fractal_f32"));
/// ```
#[derive(Clone, Debug)]
pub struct FractalGpuPlugin {
    /// WGSL source of the pass. Default: [`SHADER_SOURCE`]; tests replace it to check that a
    /// broken shader becomes [`FractalStatus::Failed`].
    pub shader_source: Cow<'static, str>,
}

impl Default for FractalGpuPlugin {
    fn default() -> Self {
        Self {
            shader_source: Cow::Borrowed(SHADER_SOURCE),
        }
    }
}

/// State shared by the main and render worlds.
#[derive(Resource, Clone, Default)]
struct Shared(Arc<Mutex<SharedState>>);

#[derive(Default)]
struct SharedState {
    pipeline: Option<Result<(), String>>,
    gpu: GpuInfo,
    /// CPU time of the latest encode of the pass (ms).
    encode_ms: Option<f64>,
    /// Bumped whenever `gpu` changes, so the main world copies it only then.
    gpu_version: u64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, SharedState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Resource, Clone)]
struct FractalShader(Handle<Shader>);

/// The generation of the parameters the pass renders now (changes with every change of the
/// settings or render size; compare with [`GpuResults::generation`]).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CurrentGeneration(pub u32);

/// Main-world bookkeeping: generations and what each one rendered.
#[derive(Resource, Default)]
struct Generations {
    current: u32,
    last: Option<(FractalSettings, UVec2)>,
    recent: VecDeque<(u32, u64, u32)>,
}

/// What the render world needs for this frame.
#[derive(Resource, Clone)]
struct ExtractedFractal {
    uniform: FractalUniform,
    precision: Precision,
    image: Handle<Image>,
    results: Handle<ShaderBuffer>,
    timings: Handle<ShaderBuffer>,
    size: UVec2,
}

#[derive(Component)]
struct StatsReadback;

impl Plugin for FractalGpuPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FractalStatus>()
            .init_resource::<FractalFrameStats>()
            .init_resource::<GpuInfo>()
            .init_resource::<Generations>()
            .init_resource::<CurrentGeneration>()
            .add_systems(Startup, register_tunables);
        if app.get_sub_app(RenderApp).is_none() {
            app.insert_resource(FractalStatus::NoRenderer);
            return;
        }
        if !app.is_plugin_added::<RenderDiagnosticsPlugin>() {
            app.add_plugins(RenderDiagnosticsPlugin);
        }
        let shared = Shared::default();
        app.insert_resource(shared.clone())
            .add_systems(PostUpdate, (sync_target, build_frame, sync_status).chain())
            .add_systems(
                Last,
                publish_gpu_metrics
                    .after(RfmPerfSystems::Bridge)
                    .before(RfmPerfSystems::Collect),
            );
        let render_app = app.sub_app_mut(RenderApp);
        render_app
            .insert_resource(shared)
            .add_systems(RenderStartup, (init_pipelines, read_adapter))
            .add_systems(ExtractSchedule, extract_fractal)
            .add_systems(
                Render,
                (
                    check_pipelines.in_set(RenderSystems::Prepare),
                    prepare_bind_group.in_set(RenderSystems::PrepareBindGroups),
                ),
            )
            .add_systems(RenderGraph, dispatch_fractal.before(camera_driver));
    }

    fn finish(&self, app: &mut App) {
        let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() else {
            return;
        };
        let handle = shaders.add(Shader::from_wgsl(
            self.shader_source.clone(),
            "rfm_perf/shaders/fractal.wgsl",
        ));
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app.insert_resource(FractalShader(handle));
        }
    }
}

fn register_tunables(mut tunables: ResMut<Tunables>, settings: Option<Res<FractalSettings>>) {
    let s = settings.map(|s| s.clone()).unwrap_or_default();
    let set = |f: fn(&mut FractalSettings, f64)| {
        move |world: &mut World, v: f64| {
            if let Some(mut s) = world.get_resource_mut::<FractalSettings>() {
                f(&mut s, v);
            }
        }
    };
    tunables.register(
        Tunable::new(
            "fractal.max_iter",
            "Iteration limit: detail at the boundary vs. GPU time",
            16.0..=100_000.0,
            f64::from(s.params.max_iter),
            set(|s, v| s.params.max_iter = v as u32),
        )
        .with_step(1.0),
    );
    tunables.register(
        Tunable::new(
            "fractal.resolution_scale",
            "Render size relative to the window (upscaled below 1)",
            0.1..=2.0,
            f64::from(s.resolution_scale),
            set(|s, v| s.resolution_scale = v as f32),
        )
        .with_step(0.05),
    );
    tunables.register(
        Tunable::new(
            "fractal.precision",
            "Arithmetic: 0 = automatic, 1 = f32 (fast, shallow), 2 = df64 (deep zoom)",
            0.0..=2.0,
            match s.precision {
                PrecisionMode::Auto => 0.0,
                PrecisionMode::F32 => 1.0,
                PrecisionMode::Df64 => 2.0,
            },
            set(|s, v| {
                s.precision = match v.round() as u32 {
                    1 => PrecisionMode::F32,
                    2 => PrecisionMode::Df64,
                    _ => PrecisionMode::Auto,
                }
            }),
        )
        .with_step(1.0),
    );
}

fn new_target(
    images: &mut Assets<Image>,
    buffers: &mut Assets<ShaderBuffer>,
    size: UVec2,
) -> FractalTarget {
    let mut image = Image::new_uninit(
        Extent3d {
            width: size.x,
            height: size.y,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.texture_descriptor.usage =
        TextureUsages::STORAGE_BINDING | TextureUsages::TEXTURE_BINDING | TextureUsages::COPY_SRC;
    image.sampler = ImageSampler::linear();
    let bytes = RESULTS_PREFIX_BYTES as usize + 4 * size.x as usize * size.y as usize;
    // zero-filled: the shader reads its opaque zero (word 4) from here
    let buffer = ShaderBuffer::new(&vec![0u8; bytes], RenderAssetUsages::RENDER_WORLD);
    FractalTarget {
        image: images.add(image),
        results: buffers.add(buffer),
        timings: buffers.add(ShaderBuffer::new(&[0; 16], RenderAssetUsages::RENDER_WORLD)),
        size,
    }
}

/// Keeps [`FractalTarget`] at the settings' render size, and the stats readback on its buffer.
fn sync_target(
    mut commands: Commands,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut images: ResMut<Assets<Image>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    readbacks: Query<Entity, With<StatsReadback>>,
) {
    let Some(settings) = settings else {
        if target.is_some() {
            commands.remove_resource::<FractalTarget>();
            readbacks.iter().for_each(|e| commands.entity(e).despawn());
        }
        return;
    };
    let size = settings.render_size();
    if target.as_ref().is_some_and(|t| t.size == size) {
        return;
    }
    if let Some(old) = &target {
        images.remove(&old.image);
        buffers.remove(&old.results);
        buffers.remove(&old.timings);
    }
    readbacks.iter().for_each(|e| commands.entity(e).despawn());
    let new = new_target(&mut images, &mut buffers, size);
    commands
        .spawn((
            Readback::buffer_range(new.results.clone(), 0, RESULTS_HEADER_BYTES),
            StatsReadback,
        ))
        .observe(on_stats_readback);
    commands
        .spawn((Readback::buffer(new.timings.clone()), StatsReadback))
        .observe(on_timing_readback);
    commands.insert_resource(new);
}

fn on_stats_readback(
    event: On<ReadbackComplete>,
    generations: Res<Generations>,
    mut stats: ResMut<FractalFrameStats>,
    tracker: Option<Res<PerfTracker>>,
) {
    let Some(r) = GpuResults::from_bytes(&event.data) else {
        return;
    };
    // frames before the first dispatch read back zeros (generation 0 is never used)
    let Some(&(_, pixels, max_iter)) = generations.recent.iter().find(|g| g.0 == r.generation)
    else {
        return;
    };
    *stats = FractalFrameStats {
        generation: r.generation,
        iterations: r.iterations,
        escaped: r.escaped,
        pixels,
        max_iter,
        frames: stats.frames + 1,
    };
    if let Some(t) = tracker {
        t.track_metric(names::FRACTAL_ITERATIONS, stats.iterations as f64);
        t.track_metric(
            names::FRACTAL_ITERATIONS_PER_PIXEL,
            stats.iterations_per_pixel(),
        );
        t.track_metric(names::FRACTAL_ESCAPED_RATIO, stats.escaped_ratio());
    }
}

/// The pass's GPU time from its two timestamps, and the utilization estimate.
fn on_timing_readback(
    event: On<ReadbackComplete>,
    info: Res<GpuInfo>,
    time: Res<Time<Real>>,
    tracker: Option<Res<PerfTracker>>,
) {
    let (
        Some(tracker),
        [
            b0,
            b1,
            b2,
            b3,
            b4,
            b5,
            b6,
            b7,
            e0,
            e1,
            e2,
            e3,
            e4,
            e5,
            e6,
            e7,
        ],
    ) = (tracker, event.data.as_slice())
    else {
        return;
    };
    let begin = u64::from_le_bytes([*b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7]);
    let end = u64::from_le_bytes([*e0, *e1, *e2, *e3, *e4, *e5, *e6, *e7]);
    if begin == 0 || end <= begin || info.timestamp_period_ns <= 0.0 {
        return;
    }
    let ms = (end - begin) as f64 * f64::from(info.timestamp_period_ns) / 1e6;
    tracker.track_metric(names::RENDER_FRACTAL_GPU_MS, ms);
    let frame_ms = time.delta_secs_f64() * 1000.0;
    if frame_ms > 0.0 {
        tracker.track_metric(
            names::GPU_UTILIZATION_PCT,
            (100.0 * ms / frame_ms).min(100.0),
        );
    }
}

/// Builds this frame's shader parameters (new generation when anything changed).
fn build_frame(
    mut commands: Commands,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut generations: ResMut<Generations>,
    mut current: ResMut<CurrentGeneration>,
    tracker: Option<Res<PerfTracker>>,
) {
    rfm_perf_core::perf_scope!("fractal.prepare");
    let (Some(settings), Some(target)) = (settings, target) else {
        commands.remove_resource::<ExtractedFractal>();
        return;
    };
    let key = (settings.clone(), target.size);
    if generations.last.as_ref() != Some(&key) {
        generations.current = generations.current.wrapping_add(1).max(1);
        let entry = (
            generations.current,
            u64::from(target.size.x) * u64::from(target.size.y),
            settings.params.max_iter.clamp(1, MAX_ITER_LIMIT),
        );
        generations.recent.push_back(entry);
        if generations.recent.len() > 16 {
            generations.recent.pop_front();
        }
        generations.last = Some(key);
        current.0 = generations.current;
    }
    let uniform = FractalUniform::new(&settings, target.size, generations.current);
    if let Some(t) = tracker {
        t.track_metric(
            names::FRACTAL_PIXELS,
            f64::from(target.size.x) * f64::from(target.size.y),
        );
        t.track_metric(names::FRACTAL_MAX_ITER, f64::from(uniform.max_iter));
        t.track_metric(names::FRACTAL_ZOOM, settings.zoom());
    }
    commands.insert_resource(ExtractedFractal {
        uniform,
        precision: settings.precision(),
        image: target.image.clone(),
        results: target.results.clone(),
        timings: target.timings.clone(),
        size: target.size,
    });
}

/// Copies the render world's findings (pipeline state, adapter) into main-world resources.
fn sync_status(
    shared: Res<Shared>,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut status: ResMut<FractalStatus>,
    mut info: ResMut<GpuInfo>,
    tracker: Option<Res<PerfTracker>>,
    mut seen_gpu_version: Local<u64>,
) {
    let mut state = shared.lock();
    // per frame: compare first, allocate only when something changed
    let up_to_date = match (&state.pipeline, settings.is_some(), &*status) {
        (Some(Err(e)), _, FractalStatus::Failed(shown)) => e == shown,
        (Some(Err(_)), _, _) => false,
        (_, false, FractalStatus::Idle)
        | (None, true, FractalStatus::Compiling)
        | (Some(Ok(())), true, FractalStatus::Running) => true,
        _ => false,
    };
    if !up_to_date {
        *status = match (&state.pipeline, settings.is_some()) {
            (Some(Err(e)), _) => FractalStatus::Failed(e.clone()),
            (_, false) => FractalStatus::Idle,
            (None, true) => FractalStatus::Compiling,
            (Some(Ok(())), true) => FractalStatus::Running,
        };
    }
    if let (Some(ms), Some(t)) = (state.encode_ms.take(), tracker) {
        t.track_metric(names::RENDER_FRACTAL_CPU_MS, ms);
    }
    if state.gpu_version != *seen_gpu_version {
        *seen_gpu_version = state.gpu_version;
        let bytes = info.fractal_bytes;
        *info = GpuInfo {
            fractal_bytes: bytes,
            ..state.gpu.clone()
        };
    }
    let bytes = target.map_or(0, |t| {
        let px = u64::from(t.size.x) * u64::from(t.size.y);
        px * 4 + RESULTS_PREFIX_BYTES + px * 4
    });
    if info.fractal_bytes != bytes {
        info.fractal_bytes = bytes;
    }
}

/// GPU memory into the tracker: the allocator's report where the backend gives one, else the
/// bytes the pass itself holds.
fn publish_gpu_metrics(tracker: Option<Res<PerfTracker>>, info: Res<GpuInfo>) {
    let Some(tracker) = tracker else { return };
    let bytes = info.allocator_bytes.unwrap_or(info.fractal_bytes);
    if bytes > 0 {
        tracker.track_metric(names::GPU_MEMORY_MB, bytes as f64 / (1024.0 * 1024.0));
    }
}

// ---------------------------------------------------------------- render world

#[derive(Resource)]
struct FractalPipelines {
    layout: BindGroupLayoutDescriptor,
    f32: CachedComputePipelineId,
    df64: CachedComputePipelineId,
    /// Begin/end timestamps of the pass and the buffer they resolve into (when supported).
    timer: Option<(QuerySet, Buffer)>,
}

#[derive(Resource, Default)]
struct UniformStore(UniformBuffer<FractalUniform>);

#[derive(Resource)]
struct FractalBindGroup {
    bind_group: BindGroup,
    /// What `bind_group` binds: the texture view, the results buffer and the uniform buffer.
    key: (TextureViewId, BufferId, BufferId),
    results: Buffer,
    timings: Option<Buffer>,
    precision: Precision,
    workgroups: UVec2,
}

fn init_pipelines(
    mut commands: Commands,
    pipeline_cache: Res<PipelineCache>,
    device: Res<RenderDevice>,
    shader: Option<Res<FractalShader>>,
) {
    let Some(shader) = shader else { return };
    let layout = BindGroupLayoutDescriptor::new(
        "rfm_perf fractal",
        &BindGroupLayoutEntries::sequential(
            ShaderStages::COMPUTE,
            (
                uniform_buffer::<FractalUniform>(false),
                texture_storage_2d(TextureFormat::Rgba8Unorm, StorageTextureAccess::WriteOnly),
                storage_buffer_sized(false, None),
            ),
        ),
    );
    let queue = |entry: &'static str| {
        pipeline_cache.queue_compute_pipeline(ComputePipelineDescriptor {
            label: Some(format!("rfm_perf {entry}").into()),
            layout: vec![layout.clone()],
            shader: shader.0.clone(),
            entry_point: Some(entry.into()),
            zero_initialize_workgroup_memory: true,
            ..default()
        })
    };
    let (f32, df64) = (queue("fractal_f32"), queue("fractal_df64"));
    let timer = device
        .features()
        .contains(WgpuFeatures::TIMESTAMP_QUERY)
        .then(|| {
            let set = device.wgpu_device().create_query_set(&QuerySetDescriptor {
                label: Some("rfm_perf fractal timestamps"),
                ty: QueryType::Timestamp,
                count: 2,
            });
            let resolve = device.create_buffer(&BufferDescriptor {
                label: Some("rfm_perf fractal timestamps"),
                size: 16,
                usage: BufferUsages::QUERY_RESOLVE | BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
    commands.insert_resource(FractalPipelines {
        layout,
        f32,
        df64,
        timer,
    });
    commands.init_resource::<UniformStore>();
}

fn read_adapter(
    shared: Res<Shared>,
    adapter: Res<RenderAdapterInfo>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    let timestamps = device.features().contains(WgpuFeatures::TIMESTAMP_QUERY);
    let mut state = shared.lock();
    state.gpu = GpuInfo {
        adapter: adapter.name.clone(),
        backend: format!("{:?}", adapter.backend),
        device_type: format!("{:?}", adapter.device_type),
        driver: format!("{} {}", adapter.driver, adapter.driver_info)
            .trim()
            .to_string(),
        timestamp_queries: timestamps,
        gpu_time_missing_reason: (!timestamps)
            .then(|| "no timestamp queries on this adapter: GPU pass time unavailable".into()),
        fractal_bytes: 0,
        allocator_bytes: device
            .wgpu_device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes),
        timestamp_period_ns: queue.get_timestamp_period(),
    };
    state.gpu_version += 1;
}

fn check_pipelines(
    pipelines: Option<Res<FractalPipelines>>,
    pipeline_cache: Res<PipelineCache>,
    shared: Res<Shared>,
    device: Res<RenderDevice>,
    mut frame: Local<u64>,
) {
    let Some(p) = pipelines else { return };
    *frame += 1;
    let mut state = shared.lock();
    if (*frame).is_multiple_of(60) {
        let bytes = device
            .wgpu_device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes);
        if bytes != state.gpu.allocator_bytes {
            state.gpu.allocator_bytes = bytes;
            state.gpu_version += 1;
        }
    }
    if matches!(state.pipeline, Some(Err(_))) {
        return;
    }
    let mut ready = true;
    for id in [p.f32, p.df64] {
        match pipeline_cache.get_compute_pipeline_state(id) {
            CachedPipelineState::Ok(_) => {}
            CachedPipelineState::Err(ShaderCacheError::ShaderNotLoaded(_)) => ready = false,
            CachedPipelineState::Err(e) => {
                let msg = e.to_string();
                error!("rfm_perf: the fractal shader failed to build; the pass is off: {msg}");
                state.pipeline = Some(Err(msg));
                return;
            }
            _ => ready = false,
        }
    }
    if ready {
        state.pipeline = Some(Ok(()));
    }
}

fn extract_fractal(mut commands: Commands, frame: Extract<Option<Res<ExtractedFractal>>>) {
    match &*frame {
        Some(f) => commands.insert_resource(f.as_ref().clone()),
        None => commands.remove_resource::<ExtractedFractal>(),
    }
}

#[expect(clippy::too_many_arguments, reason = "a render system's inputs")]
fn prepare_bind_group(
    mut commands: Commands,
    frame: Option<Res<ExtractedFractal>>,
    pipelines: Option<Res<FractalPipelines>>,
    mut uniforms: Option<ResMut<UniformStore>>,
    current: Option<ResMut<FractalBindGroup>>,
    images: Res<RenderAssets<GpuImage>>,
    buffers: Res<RenderAssets<GpuShaderBuffer>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    pipeline_cache: Res<PipelineCache>,
) {
    rfm_perf_core::perf_scope!("render.fractal_bind_group");
    let ready = frame
        .as_ref()
        .and_then(|f| Some((f, images.get(&f.image)?, buffers.get(&f.results)?)));
    let (Some((frame, image, results)), Some(pipelines), Some(uniforms)) =
        (ready, pipelines, uniforms.as_mut())
    else {
        if current.is_some() {
            commands.remove_resource::<FractalBindGroup>();
        }
        return;
    };
    uniforms.0.set(frame.uniform);
    uniforms.0.write_buffer(&device, &queue);
    let (Some(uniform), Some(uniform_buffer)) = (uniforms.0.binding(), uniforms.0.buffer()) else {
        return;
    };
    let key = (
        image.texture_view.id(),
        results.buffer.id(),
        uniform_buffer.id(),
    );
    let timings = buffers.get(&frame.timings).map(|b| b.buffer.clone());
    let workgroups = UVec2::new(
        frame.size.x.div_ceil(WORKGROUP_SIZE),
        frame.size.y.div_ceil(WORKGROUP_SIZE),
    );
    // the same texture and buffers as last frame: keep the bind group
    if let Some(mut bg) = current
        && bg.key == key
    {
        bg.precision = frame.precision;
        bg.workgroups = workgroups;
        bg.timings = timings;
        return;
    }
    let bind_group = device.create_bind_group(
        "rfm_perf fractal",
        &pipeline_cache.get_bind_group_layout(&pipelines.layout),
        &BindGroupEntries::sequential((
            uniform,
            &image.texture_view,
            results.buffer.as_entire_buffer_binding(),
        )),
    );
    commands.insert_resource(FractalBindGroup {
        bind_group,
        key,
        results: results.buffer.clone(),
        timings,
        precision: frame.precision,
        workgroups,
    });
}

/// The pass: clears the totals, dispatches one invocation per pixel with begin/end timestamps
/// (when supported) inside a `RenderDiagnosticsPlugin` pass span named `fractal`.
fn dispatch_fractal(
    mut render_context: RenderContext,
    bind_group: Option<Res<FractalBindGroup>>,
    pipelines: Option<Res<FractalPipelines>>,
    pipeline_cache: Res<PipelineCache>,
    shared: Res<Shared>,
) {
    rfm_perf_core::perf_scope!("render.fractal_encode");
    let (Some(bg), Some(p)) = (bind_group, pipelines) else {
        return;
    };
    let id = match bg.precision {
        Precision::F32 => p.f32,
        Precision::Df64 => p.df64,
    };
    let Some(pipeline) = pipeline_cache.get_compute_pipeline(id) else {
        return;
    };
    let started = std::time::Instant::now();
    let diagnostics = render_context.diagnostic_recorder();
    let encoder = render_context.command_encoder();
    encoder.clear_buffer(&bg.results, 0, Some(RESULTS_HEADER_BYTES));
    let timer = p.timer.as_ref().zip(bg.timings.as_ref());
    {
        let mut pass = encoder.begin_compute_pass(&ComputePassDescriptor {
            label: Some("rfm_perf fractal"),
            timestamp_writes: timer.map(|((set, _), _)| ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            }),
        });
        let span = diagnostics
            .as_ref()
            .map(|d| d.pass_span(&mut pass, "fractal"));
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bg.bind_group, &[]);
        pass.dispatch_workgroups(bg.workgroups.x, bg.workgroups.y, 1);
        if let Some(span) = span {
            span.end(&mut pass);
        }
    }
    if let Some(((set, resolve), timings)) = timer {
        encoder.resolve_query_set(set, 0..2, resolve, 0);
        encoder.copy_buffer_to_buffer(resolve, 0, timings, 0, Some(16));
    }
    shared.lock().encode_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
}

/// Runs the shader's df64 self-test entry point on `pairs` and returns, per pair, `(a + b, a · b)`
/// as computed on the GPU: the arithmetic checked on its own, before the fractal.
///
/// # Errors
/// A message when the shader module or pipeline cannot be built or the readback fails.
pub fn df64_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    pairs: &[(Df64, Df64)],
) -> Result<Vec<(Df64, Df64)>, String> {
    let input: Vec<[f32; 4]> = pairs
        .iter()
        .map(|(a, b)| [a.hi, a.lo, b.hi, b.lo])
        .collect();
    Ok(run_selftest(device, queue, "df64_selftest", 0, &input)?
        .into_iter()
        .map(|c| (Df64 { hi: c[0], lo: c[1] }, Df64 { hi: c[2], lo: c[3] }))
        .collect())
}

/// Iterates `z → z² + c` from `z = 0` for `steps` steps on the GPU with the fractal pass's own
/// df64 step function, for each `c = (re, im)`; returns the final `z = (re, im)`. Compare with
/// the CPU's [`Df64`] to check the whole iteration, not only single operations.
///
/// # Errors
/// As [`df64_selftest`].
pub fn df64_orbit_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    points: &[(Df64, Df64)],
    steps: u32,
) -> Result<Vec<(Df64, Df64)>, String> {
    let input: Vec<[f32; 4]> = points
        .iter()
        .map(|(a, b)| [a.hi, a.lo, b.hi, b.lo])
        .collect();
    Ok(
        run_selftest(device, queue, "df64_orbit_selftest", steps, &input)?
            .into_iter()
            .map(|c| (Df64 { hi: c[0], lo: c[1] }, Df64 { hi: c[2], lo: c[3] }))
            .collect(),
    )
}

fn run_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    entry: &str,
    steps: u32,
    inputs: &[[f32; 4]],
) -> Result<Vec<[f32; 4]>, String> {
    use bevy::render::render_resource::BufferInitDescriptor;
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let module = device.create_and_validate_shader_module(ShaderModuleDescriptor {
        label: Some("rfm_perf df64 self-test"),
        source: ShaderSource::Wgsl(SHADER_SOURCE.into()),
    });
    let layout = device.create_bind_group_layout(
        "rfm_perf df64 self-test",
        &BindGroupLayoutEntries::with_indices(
            ShaderStages::COMPUTE,
            (
                (0, uniform_buffer::<FractalUniform>(false)),
                (3, storage_buffer_read_only_sized(false, None)),
                (4, storage_buffer_sized(false, None)),
            ),
        ),
    );
    let pipeline_layout = device.create_pipeline_layout(&PipelineLayoutDescriptor {
        label: None,
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&RawComputePipelineDescriptor {
        label: Some("rfm_perf df64 self-test"),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(entry),
        compilation_options: default(),
        cache: None,
    });
    let mut uniform = UniformBuffer::from(FractalUniform {
        one: 1.0,
        max_iter: steps,
        ..default()
    });
    uniform.write_buffer(device, queue);
    let input: Vec<f32> = inputs.iter().flatten().copied().collect();
    let size = (input.len() * 4) as u64;
    let input_buf = device.create_buffer_with_data(&BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&input),
        usage: BufferUsages::STORAGE,
    });
    let ones = vec![1.0f32; input.len()];
    let output = device.create_buffer_with_data(&BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&ones),
        usage: BufferUsages::STORAGE | BufferUsages::COPY_SRC,
    });
    let staging = device.create_buffer(&BufferDescriptor {
        label: None,
        size,
        usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(
        None,
        &layout,
        &BindGroupEntries::with_indices((
            (0, uniform.binding().ok_or("uniform buffer missing")?),
            (3, input_buf.as_entire_binding()),
            (4, output.as_entire_binding()),
        )),
    );
    let mut encoder = device.create_command_encoder(&CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&ComputePassDescriptor::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((inputs.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, size);
    queue.submit([encoder.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(MapMode::Read, move |r| drop(tx.send(r)));
    device
        .poll(PollType::wait_indefinitely())
        .map_err(|e| format!("poll: {e}"))?;
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("map: {e}"))?;
    let out: Vec<f32> = bytemuck::cast_slice(&staging.slice(..).get_mapped_range()).to_vec();
    staging.unmap();
    Ok(out
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect())
}
