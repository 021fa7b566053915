//! The GPU fractal pass: a WGSL compute shader (`shaders/fractal.wgsl`, embedded in the crate)
//! dispatched every frame from Bevy's render graph while a [`FractalSettings`] resource exists.
//!
//! Flow per frame:
//! - main world (`PostUpdate`): [`FractalTarget`] (the output image and the results buffer) follows
//!   the settings' render size; the shader parameters are built, with a *generation* number that
//!   changes whenever they do;
//! - extract: the parameters and handles go to the render world;
//! - render world: pipelines are queued at `RenderStartup` through the `PipelineCache` (status
//!   [`GpuPassStatus::Compiling`] until ready, [`GpuPassStatus::Failed`] with the compiler's message
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

mod main_world;
mod plugin;
mod render_world;
mod selftest;

use bevy::prelude::*;
use bevy::render::render_resource::ShaderType;
use bevy::render::storage::ShaderBuffer;
use serde::{Deserialize, Serialize};

pub use plugin::FractalGpuPlugin;
pub use selftest::{df64_orbit_selftest, df64_selftest};

use super::df64::Df64;
use super::palette::Palette;
use super::{FractalKind, FractalParams, Precision, View};

/// The WGSL source compiled into the crate.
pub const SHADER_SOURCE: &str = include_str!("../../../shaders/fractal.wgsl");
/// Threads per workgroup along x and y (must match `@workgroup_size` in the shader).
pub const WORKGROUP_SIZE: u32 = 8;
/// Largest render size along either axis.
pub const MAX_RENDER_SIZE: u32 = 8192;
/// Largest iteration limit: 64 pixels × this fits the shader's 32-bit per-workgroup sum.
pub const MAX_ITER_LIMIT: u32 = 1 << 24;
/// Bytes of the totals the stats readback reads, and the pass clears each frame: nominal
/// iterations lo/hi, escaped pixels, generation, a zero word the shader's df64 arithmetic uses
/// as an optimization barrier (see `ZERO_BITS` in the shader; clearing keeps it zero), computed
/// iterations lo/hi, padding.
pub const RESULTS_HEADER_BYTES: u64 = 32;
/// Bytes before the per-pixel counts.
pub const RESULTS_PREFIX_BYTES: u64 = RESULTS_HEADER_BYTES;
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
    /// Skip the work that changes no pixel: pixels in the main cardioid or the period-2 bulb
    /// are interior without iterating, and periodic orbits stop once they repeat exactly.
    /// Escaping pixels keep exactly their counts and colours. Default `true`.
    #[serde(default = "interior_check_default")]
    pub interior_check: bool,
}

fn interior_check_default() -> bool {
    true
}

impl Default for FractalSettings {
    fn default() -> Self {
        Self {
            params: FractalParams::default(),
            palette: Palette::Classic,
            precision: PrecisionMode::Auto,
            resolution_scale: 1.0,
            output_size: UVec2::new(1280, 720),
            interior_check: true,
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
    /// Total iterations (exact, 64-bit), nominal: interior pixels count `max_iter`.
    pub iterations: u64,
    /// Iterations the GPU really ran (fewer than `iterations` when the interior checks skip some).
    pub iterations_computed: u64,
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
    flags: u32,
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
            flags: u32::from(settings.interior_check),
            generation,
            stop_count: src.len().min(8) as u32,
            period: super::palette::PERIOD,
            stops,
        }
    }
}

/// Decodes the results buffer (or its 32-byte totals header) read back from the GPU.
///
/// ```
/// use rfm_perf::fractal::gpu::GpuResults;
/// let mut bytes = Vec::new();
/// for w in [5u32, 1, 2, 7, 0, 3, 0, 0, 9, 9] { bytes.extend_from_slice(&w.to_le_bytes()); }
/// let r = GpuResults::from_bytes(&bytes).unwrap();
/// assert_eq!(r.iterations, (1u64 << 32) + 5);
/// assert_eq!((r.escaped, r.generation, r.iterations_computed), (2, 7, 3));
/// assert_eq!(r.counts, vec![9, 9]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuResults {
    /// Total iterations (nominal).
    pub iterations: u64,
    /// Iterations really run.
    pub iterations_computed: u64,
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
            iterations_computed: u64::from(words[5]) | (u64::from(words[6]) << 32),
            counts: words
                .get(RESULTS_PREFIX_BYTES as usize / 4..)
                .unwrap_or(&[])
                .to_vec(),
        })
    }
}

/// The generation of the parameters the pass renders now (changes with every change of the
/// settings or render size; compare with [`GpuResults::generation`]).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CurrentGeneration(pub u32);
