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
//!   per-workgroup sums into 64-bit totals, a 64-bucket escape histogram and a grid of 32×32-pixel
//!   cost tiles ([`ResultsLayout`]); Bevy's [`Readback`] brings all but the counts back
//!   asynchronously (no stall) and [`FractalFrameStats`], [`PassCost`](crate::PassCost) and the
//!   `fractal.*` metrics follow.
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

mod cpu_probe;
mod deep_arithmetic;
mod main_world;
mod plugin;
mod reference;
mod render_world;
mod selftest;

use bevy::prelude::*;
use bevy::render::render_resource::ShaderType;
use bevy::render::storage::ShaderBuffer;
use serde::{Deserialize, Serialize};

pub use deep_arithmetic::{DeepArithmetic, PERTURBATION_SPEEDUP};
pub use plugin::FractalGpuPlugin;
pub use reference::{ORBIT_POINT_BYTES, ReferenceOrbitStatus, split_exponent};
pub use selftest::{df64_orbit_selftest, df64_selftest};

use super::df64::Df64;
use super::palette::Palette;
use super::{FractalKind, FractalParams, Precision, View};
use crate::base::{COST_TILE_SIZE, CostTiles, ESCAPE_BUCKETS, EscapeHistogram, HEAT_STOPS};
use rfm_perf_deep::{DeepView, EXACT_DIGITS, Fixed};

/// The WGSL source compiled into the crate.
pub const SHADER_SOURCE: &str = include_str!("../../../shaders/fractal.wgsl");
/// Threads per workgroup along x and y (must match `@workgroup_size` in the shader).
pub const WORKGROUP_SIZE: u32 = 8;
/// Largest render size along either axis.
pub const MAX_RENDER_SIZE: u32 = 8192;
/// Largest iteration limit: 64 pixels × this fits the shader's 32-bit per-workgroup sum.
pub const MAX_ITER_LIMIT: u32 = 1 << 24;
/// Bytes of the totals at the start of the results buffer: nominal iterations lo/hi, an unused
/// word (the escaped pixels are the histogram's sum), generation, a zero word the shader's df64 arithmetic uses as an optimization barrier
/// (see `ZERO_BITS` in the shader; clearing keeps it zero), computed iterations lo/hi, padding.
pub const RESULTS_HEADER_BYTES: u64 = 32;
/// Bytes of the escape histogram after the header (64 `u32` buckets).
pub const HISTOGRAM_BYTES: u64 = 4 * ESCAPE_BUCKETS as u64;

// the shader gives each of a workgroup's invocations one histogram bucket, and adds whole
// workgroups to a tile
const _: () = assert!(ESCAPE_BUCKETS as u32 == WORKGROUP_SIZE * WORKGROUP_SIZE);
const _: () = assert!(COST_TILE_SIZE.is_multiple_of(WORKGROUP_SIZE));
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
    /// f32 while it is sharp ([`Precision::needed`]); below that perturbation, or df64 while
    /// it is sharp and the view is interior-heavy ([`DeepArithmetic`]).
    #[default]
    Auto,
    /// Always f32.
    F32,
    /// Always df64.
    Df64,
    /// Perturbation around a reference orbit: f32 deltas while they reach
    /// ([`Precision::perturbation_for`]), extended-exponent deltas below.
    Perturbation,
    /// Perturbation with extended-exponent deltas at any depth (slower than f32 deltas where
    /// those reach; for comparisons).
    PerturbationExp,
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
    /// What the colours show: the palette, or the cost heatmap.
    #[serde(default)]
    pub coloring: Coloring,
    /// Also write each pixel's iteration count into the results buffer (what
    /// [`read_results`](crate::headless::read_results) returns; comparisons and tests). Off by
    /// default: a store per pixel costs about a tenth of the home view's pass on lavapipe.
    #[serde(default)]
    pub pixel_counts: bool,
    /// The view's centre in full precision, when it needs more than `params.view.center`'s
    /// f64 (deep zoom); `params.view.center` is then its rounding. Set it through
    /// [`set_deep_view`](Self::set_deep_view) and move with [`pan`](Self::pan) /
    /// [`zoom_at`](Self::zoom_at), which keep both in step. Serialized as `"RE,IM"` decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact_center: Option<ExactCenter>,
    /// What [`PrecisionMode::Auto`] uses where f32 blurs and df64 is still sharp. The pass
    /// sets it from each frame's interior share ([`DeepArithmetic`]); not serialized.
    #[serde(skip)]
    pub deep_arithmetic: DeepArithmetic,
}

/// What the pass's colours show.
///
/// ```
/// use rfm_perf::fractal::gpu::Coloring;
/// assert_eq!(Coloring::default(), Coloring::Palette);
/// assert_eq!(Coloring::Palette.toggled(), Coloring::Cost);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coloring {
    /// The smooth iteration count through the palette; interior pixels black.
    #[default]
    Palette,
    /// The iterations each pixel really ran, on a log scale from 0 to the limit, through the
    /// heatmap ramp ([`HEAT_STOPS`]): where the GPU time goes.
    Cost,
}

impl Coloring {
    /// The other mode.
    pub fn toggled(self) -> Self {
        match self {
            Coloring::Palette => Coloring::Cost,
            Coloring::Cost => Coloring::Palette,
        }
    }
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
            coloring: Coloring::Palette,
            pixel_counts: false,
            exact_center: None,
            deep_arithmetic: DeepArithmetic::Perturbation,
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
    /// assert_eq!(s.precision(), Precision::Perturbation);
    /// s.deep_arithmetic = rfm_perf::fractal::gpu::DeepArithmetic::Df64; // an interior-heavy view
    /// assert_eq!(s.precision(), Precision::Df64);
    /// ```
    pub fn precision(&self) -> Precision {
        let px = self.render_size().x;
        let view = &self.params.view;
        match self.precision {
            PrecisionMode::Auto => match Precision::needed(view, px) {
                Precision::F32 => Precision::F32,
                // df64 where it is sharp and the interior is too large for perturbation
                _ if self.deep_arithmetic == DeepArithmetic::Df64
                    && view.width >= Precision::Df64.min_width(self.center_magnitude(), px) =>
                {
                    Precision::Df64
                }
                _ => Precision::perturbation_for(view, px),
            },
            PrecisionMode::F32 => Precision::F32,
            PrecisionMode::Df64 => Precision::Df64,
            PrecisionMode::Perturbation => Precision::perturbation_for(view, px),
            PrecisionMode::PerturbationExp => Precision::PerturbationExp,
        }
    }

    /// `max(|re|, |im|)` of the view's centre: what a precision's spacing near it scales with
    /// ([`Precision::min_width`]).
    ///
    /// ```
    /// let s = rfm_perf::fractal::gpu::FractalSettings::default();
    /// assert_eq!(s.center_magnitude(), 0.5);
    /// ```
    pub fn center_magnitude(&self) -> f64 {
        let (re, im) = self.params.view.center;
        re.abs().max(im.abs())
    }

    /// The view with its centre in full precision (the f64 centre when no exact one is set).
    ///
    /// ```
    /// use rfm_perf::fractal::gpu::FractalSettings;
    /// let mut s = FractalSettings::default();
    /// s.set_deep_view("-1.74999999999999999999999999999999999999991,0,1e-38".parse()?);
    /// assert_eq!(s.params.view.center, (-1.75, 0.0));
    /// assert_eq!(s.deep_view().to_string(), "-1.74999999999999999999999999999999999999991,0,1e-38");
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn deep_view(&self) -> DeepView {
        let (re, im) = match self.exact_center {
            Some(c) => (c.re, c.im),
            None => {
                let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
                (f(self.params.view.center.0), f(self.params.view.center.1))
            }
        };
        DeepView {
            re,
            im,
            width: self.params.view.width,
        }
    }

    /// Shows `view`: its exact centre, its f64 rounding and its width.
    pub fn set_deep_view(&mut self, view: DeepView) {
        self.params.view = View {
            center: (view.re.to_f64(), view.im.to_f64()),
            width: view.width,
        };
        self.exact_center = Some(ExactCenter {
            re: view.re,
            im: view.im,
        });
    }

    /// Moves the centre by `(dx, dy)` complex units, in full precision.
    ///
    /// ```
    /// use rfm_perf::fractal::gpu::FractalSettings;
    /// let mut s = FractalSettings::default();
    /// s.set_deep_view("0.25,0,1e-60".parse()?);
    /// s.pan(3e-61, 0.0);
    /// // the f64 centre cannot hold the move; the exact one does
    /// assert_eq!(s.params.view.center, (0.25, 0.0));
    /// let moved = (s.deep_view().re - "0.25".parse::<rfm_perf_deep::Fixed>()?).to_f64();
    /// assert!((moved / 3e-61 - 1.0).abs() < 1e-12, "{moved:e}");
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn pan(&mut self, dx: f64, dy: f64) {
        let v = self.deep_view();
        let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
        self.set_deep_view(DeepView {
            re: v.re + f(dx),
            im: v.im + f(dy),
            width: v.width,
        });
    }

    /// Scales the width by `factor` keeping the point `offset` (complex units from the centre)
    /// where it is on screen, e.g. under the cursor; in full precision.
    pub fn zoom_at(&mut self, offset: (f64, f64), factor: f64) {
        self.pan(offset.0 * (1.0 - factor), offset.1 * (1.0 - factor));
        self.params.view.width *= factor;
    }

    /// Zoom relative to the home view ([`View::HOME`]).
    pub fn zoom(&self) -> f64 {
        View::HOME.width / self.params.view.width
    }
}

/// A view centre in full precision ([`Fixed`]), written and read as `"RE,IM"` decimals.
///
/// ```
/// use rfm_perf::fractal::gpu::ExactCenter;
/// let c: ExactCenter = serde_json::from_str("\"-1.5,0.25\"").unwrap();
/// assert_eq!(c.re.to_f64(), -1.5);
/// assert!(serde_json::from_str::<ExactCenter>("\"-1.5\"").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactCenter {
    /// Real part.
    pub re: Fixed,
    /// Imaginary part.
    pub im: Fixed,
}

impl Serialize for ExactCenter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = EXACT_DIGITS;
        s.collect_str(&format_args!(
            "{},{}",
            self.re.to_decimal(d),
            self.im.to_decimal(d)
        ))
    }
}

impl<'de> Deserialize<'de> for ExactCenter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (re, im) = text
            .split_once(',')
            .ok_or_else(|| serde::de::Error::custom("expected \"RE,IM\""))?;
        let parse = |v: &str| v.trim().parse::<Fixed>().map_err(serde::de::Error::custom);
        Ok(ExactCenter {
            re: parse(re)?,
            im: parse(im)?,
        })
    }
}

/// The image the pass writes (RGBA8, linear) and the buffer of its results (laid out as
/// [`ResultsLayout`] says: totals, escape histogram, cost tiles, then one `u32` iteration count
/// per pixel, row-major). Created and resized by the plugin; show `image` with a sprite or UI
/// image.
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
    tiles_x: u32,
    counts_offset: u32,
    sub_bits: u32,
    orbit_len: u32,
    offset_mant: Vec2,
    pixel_mant: f32,
    pixel_exp: i32,
    offset_exp: i32,
    stops: [Vec4; 8],
}

/// The shader's number for a kind (`P.kind`, and the `KIND` shader def a pipeline is built for).
pub(super) fn kind_index(kind: &FractalKind) -> u32 {
    match kind {
        FractalKind::Mandelbrot => 0,
        FractalKind::Julia { .. } => 1,
        FractalKind::BurningShip => 2,
    }
}

fn df(v: f64) -> Vec2 {
    let d = Df64::from_f64(v);
    Vec2::new(d.hi, d.lo)
}

impl FractalUniform {
    /// The parameters for `settings` rendered at `size`, tagged `generation`; for the
    /// perturbation pass also the reference orbit's point and its number of points.
    pub fn new(
        settings: &FractalSettings,
        size: UVec2,
        generation: u32,
        reference: Option<(&(Fixed, Fixed), u32)>,
    ) -> Self {
        let p = &settings.params;
        let (jr, ji) = match p.kind {
            FractalKind::Julia { re, im } => (re, im),
            _ => (0.0, 0.0),
        };
        let mut stops = [Vec4::ZERO; 8];
        let src = match settings.coloring {
            Coloring::Palette => settings.palette.stops(),
            Coloring::Cost => &HEAT_STOPS[..],
        };
        for (dst, (pos, rgb)) in stops.iter_mut().zip(src) {
            *dst = Vec4::new(
                f32::from(rgb[0]) / 255.0,
                f32::from(rgb[1]) / 255.0,
                f32::from(rgb[2]) / 255.0,
                *pos,
            );
        }
        let max_iter = p.max_iter.clamp(1, MAX_ITER_LIMIT);
        let layout = ResultsLayout::new(size);
        let pixel = split_exponent(p.view.pixel_size(size.x), 0.0);
        let (offset, orbit_len) = match reference {
            Some((point, len)) => {
                // the view's centre relative to the orbit's point, exact before the rounding
                let view = settings.deep_view();
                let d = (view.re - point.0, view.im - point.1);
                (split_exponent(d.0.to_f64(), d.1.to_f64()), len)
            }
            None => (split_exponent(0.0, 0.0), 0),
        };
        Self {
            center_re: df(p.view.center.0),
            center_im: df(p.view.center.1),
            pixel: df(p.view.pixel_size(size.x)),
            julia_re: df(jr),
            julia_im: df(ji),
            size,
            max_iter,
            kind: kind_index(&p.kind),
            flags: u32::from(settings.interior_check),
            generation,
            stop_count: src.len().min(8) as u32,
            period: super::palette::PERIOD,
            tiles_x: layout.tiles.x,
            counts_offset: ((layout.counts_offset() - ResultsLayout::tiles_offset()) / 4) as u32,
            sub_bits: EscapeHistogram::sub_bits_for(max_iter),
            orbit_len,
            offset_mant: Vec2::from(offset.0),
            pixel_mant: pixel.0[0],
            pixel_exp: pixel.1,
            offset_exp: offset.1,
            stops,
        }
    }
}

/// Where each part of the results buffer sits for a render size: the 32-byte totals, the
/// 64-bucket escape histogram, the cost tiles (two `u32` words each: computed iterations lo, hi)
/// and the per-pixel counts. The pass clears and the stats readback reads everything before the
/// counts ([`ResultsLayout::summary_bytes`]).
///
/// ```
/// use bevy::math::UVec2;
/// use rfm_perf::fractal::gpu::ResultsLayout;
/// let l = ResultsLayout::new(UVec2::new(1280, 800));
/// assert_eq!(l.tiles, UVec2::new(40, 25));
/// assert_eq!(l.summary_bytes(), 32 + 256 + 8 * 1000);
/// assert_eq!(l.total_bytes(), l.summary_bytes() + 4 * 1280 * 800);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultsLayout {
    /// Render size in pixels.
    pub size: UVec2,
    /// Cost tiles per row and rows.
    pub tiles: UVec2,
}

impl ResultsLayout {
    /// The layout for `size`.
    pub fn new(size: UVec2) -> Self {
        let (x, y) = CostTiles::grid(size.x, size.y);
        Self {
            size,
            tiles: UVec2::new(x, y),
        }
    }

    /// Byte offset of the cost tiles.
    pub const fn tiles_offset() -> u64 {
        RESULTS_HEADER_BYTES + HISTOGRAM_BYTES
    }

    /// Byte offset of the per-pixel counts.
    pub fn counts_offset(&self) -> u64 {
        Self::tiles_offset() + 8 * u64::from(self.tiles.x) * u64::from(self.tiles.y)
    }

    /// Bytes the pass clears and the stats readback reads each frame (all but the counts).
    pub fn summary_bytes(&self) -> u64 {
        self.counts_offset()
    }

    /// Size of the whole buffer.
    pub fn total_bytes(&self) -> u64 {
        self.counts_offset() + 4 * u64::from(self.size.x) * u64::from(self.size.y)
    }
}

/// Decodes the results buffer (or its summary: everything before the counts) read back from
/// the GPU.
///
/// ```
/// use bevy::math::UVec2;
/// use rfm_perf::fractal::gpu::{GpuResults, ResultsLayout};
/// let layout = ResultsLayout::new(UVec2::new(2, 1));
/// let mut words = vec![5u32, 1, 0, 7, 0, 3, 0, 0];
/// words.extend([0; 64]);
/// words[8 + 1] = 2; // two pixels escaped at iteration 1
/// words.extend([3, 0]); // one tile: 3 iterations computed
/// words.extend([1, 1]); // the counts
/// let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
/// let r = GpuResults::from_bytes(&bytes, layout).unwrap();
/// assert_eq!(r.iterations, (1u64 << 32) + 5);
/// assert_eq!((r.escaped, r.generation, r.iterations_computed), (2, 7, 3));
/// assert_eq!(r.escape_buckets[1], 2);
/// assert_eq!(r.tile_iterations, vec![3]);
/// assert_eq!(r.counts, vec![1, 1]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GpuResults {
    /// Total iterations (nominal).
    pub iterations: u64,
    /// Iterations really run.
    pub iterations_computed: u64,
    /// Escaped pixels (the escape histogram's sum).
    pub escaped: u64,
    /// Generation of the parameters.
    pub generation: u32,
    /// Escaped pixels per escape-histogram bucket (edges: [`EscapeHistogram::edges_for`]).
    pub escape_buckets: [u64; ESCAPE_BUCKETS],
    /// Iterations computed per cost tile, row-major.
    pub tile_iterations: Vec<u64>,
    /// Per-pixel iteration counts (empty when only the summary was read).
    pub counts: Vec<u32>,
}

impl GpuResults {
    /// Parses little-endian words laid out as `layout`; `None` when shorter than the summary.
    pub fn from_bytes(bytes: &[u8], layout: ResultsLayout) -> Option<Self> {
        if (bytes.len() as u64) < layout.summary_bytes() {
            return None;
        }
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let wide = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        let histogram = RESULTS_HEADER_BYTES as usize / 4;
        let tiles = ResultsLayout::tiles_offset() as usize / 4;
        let counts = layout.counts_offset() as usize / 4;
        let escape_buckets: [u64; ESCAPE_BUCKETS] =
            std::array::from_fn(|i| u64::from(words[histogram + i]));
        Some(Self {
            iterations: wide(words[0], words[1]),
            // word 2 is unused: every escaped pixel is in the histogram
            escaped: escape_buckets.iter().sum(),
            generation: words[3],
            iterations_computed: wide(words[5], words[6]),
            escape_buckets,
            tile_iterations: words[tiles..counts]
                .chunks_exact(2)
                .map(|w| wide(w[0], w[1]))
                .collect(),
            counts: words.get(counts..).unwrap_or(&[]).to_vec(),
        })
    }

    /// The escape histogram for an iteration limit of `max_iter`.
    pub fn histogram(&self, max_iter: u32) -> EscapeHistogram {
        EscapeHistogram::from_buckets(&self.escape_buckets, max_iter)
    }

    /// The cost tiles of an image laid out as `layout`.
    pub fn tiles(&self, layout: ResultsLayout) -> CostTiles {
        CostTiles {
            tile_size: COST_TILE_SIZE,
            columns: layout.tiles.x,
            rows: layout.tiles.y,
            iterations: self.tile_iterations.clone(),
        }
    }
}

/// The generation of the parameters the pass renders now (changes with every change of the
/// settings or render size; compare with [`GpuResults::generation`]).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CurrentGeneration(pub u32);
