//! The fractal workload: parameters, views and precision, the CPU reference renderer and its
//! df64 arithmetic, and the GPU compute pass in Bevy's render graph ([`gpu`]).
//!
//! A view maps pixel `(px, py)` of a `w × h` image to the complex point
//! `c = center + ((px + 0.5 − w/2)·s, −(py + 0.5 − h/2)·s)` with `s = width / w` (y points up).
//! A point escapes when `|z|² > ESCAPE_RADIUS²`; its iteration count is the index of the first
//! iteration that escaped, or `max_iter` for points that never do.

pub mod cpu;
pub mod df64;
pub mod gpu;
mod metrics;
pub mod palette;

use serde::{Deserialize, Serialize};

pub use metrics::{
    FRACTAL_COST_HOTTEST_SHARE, FRACTAL_ESCAPE_P50, FRACTAL_ESCAPE_P99, FRACTAL_MAX_ITER,
    FRACTAL_METRICS, FRACTAL_PIXELS, FRACTAL_ZOOM,
};

/// Escape radius (large, so smooth colouring is accurate).
pub const ESCAPE_RADIUS: f64 = 256.0;

/// Which fractal.
///
/// ```
/// use rfm_perf::fractal::FractalKind;
/// assert_eq!(FractalKind::ALL.len(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FractalKind {
    /// `z → z² + c`, `z₀ = 0`.
    Mandelbrot,
    /// `z → z² + k` with a fixed `k`, `z₀ = c` (the pixel).
    Julia {
        /// Real part of the Julia parameter.
        re: f64,
        /// Imaginary part of the Julia parameter.
        im: f64,
    },
    /// `z → (|Re z| + i·|Im z|)² + c`, `z₀ = 0`.
    BurningShip,
}

impl FractalKind {
    /// One of each, Julia with the classic `k = −0.8 + 0.156i`.
    pub const ALL: [FractalKind; 3] = [
        FractalKind::Mandelbrot,
        FractalKind::Julia {
            re: -0.8,
            im: 0.156,
        },
        FractalKind::BurningShip,
    ];

    /// The deep-zoom arithmetic's formula of this kind (reference orbits, perturbation, direct
    /// fixed-point iteration).
    ///
    /// ```
    /// use rfm_perf::fractal::FractalKind;
    /// assert_eq!(FractalKind::BurningShip.formula(), rfm_perf_deep::Formula::BurningShip);
    /// ```
    pub fn formula(&self) -> rfm_perf_deep::Formula {
        match *self {
            FractalKind::Mandelbrot => rfm_perf_deep::Formula::Mandelbrot,
            FractalKind::Julia { re, im } => rfm_perf_deep::Formula::Julia { k: (re, im) },
            FractalKind::BurningShip => rfm_perf_deep::Formula::BurningShip,
        }
    }

    /// Short name.
    pub fn name(&self) -> &'static str {
        match self {
            FractalKind::Mandelbrot => "mandelbrot",
            FractalKind::Julia { .. } => "julia",
            FractalKind::BurningShip => "burning_ship",
        }
    }
}

/// Arithmetic the renderer uses.
///
/// ```
/// use rfm_perf::fractal::{Precision, View};
/// let shallow = View { center: (-0.5, 0.0), width: 3.0 };
/// assert_eq!(Precision::needed(&shallow, 1920), Precision::F32);
/// let deep = View { center: (-1.7499, 0.0), width: 1e-9 };
/// assert_eq!(Precision::needed(&deep, 256), Precision::Df64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Single precision (fast; pixelates below a pixel size of a few f32 ulps of |center|).
    F32,
    /// Double-single, ≈ 48 bits (deep zoom down to a few df64 ulps of |center|).
    Df64,
    /// Perturbation around a reference orbit computed in full precision on the CPU, with f32
    /// per-pixel deltas (pixel sizes down to [`PERTURBATION_F32_MIN_PIXEL`], widths ~1e-28).
    Perturbation,
    /// Perturbation with extended-exponent deltas (an f32 mantissa pair and an i32 exponent):
    /// any depth the view's f64 width names, to 1e-300 and past.
    PerturbationExp,
}

/// Smallest pixel size (complex units) f32 perturbation deltas handle: 2⁻¹⁰⁰ ≈ 7.9e-31, which
/// keeps a pixel's offset and its products with the orbit clear of f32's smallest normal
/// number (1.2e-38).
pub const PERTURBATION_F32_MIN_PIXEL: f64 = 7.888_609_052_210_118e-31;

/// How many ulps of |center| a pixel must span for a precision to stay sharp.
pub const ULPS_PER_PIXEL: f64 = 4.0;

impl Precision {
    /// Its name, as the report and the cost model know it (`"f32"`, `"df64"`).
    ///
    /// ```
    /// assert_eq!(rfm_perf::fractal::Precision::Df64.name(), "df64");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Df64 => "df64",
            Precision::Perturbation => "perturbation",
            Precision::PerturbationExp => "perturbation_exp",
        }
    }

    /// Whether it iterates per-pixel deltas around a reference orbit.
    pub fn is_perturbation(self) -> bool {
        matches!(self, Precision::Perturbation | Precision::PerturbationExp)
    }

    /// The perturbation delta type a view needs: f32 down to [`PERTURBATION_F32_MIN_PIXEL`],
    /// extended exponent below.
    ///
    /// ```
    /// use rfm_perf::fractal::{Precision, View};
    /// let at = |width| View { center: (-1.75, 0.0), width };
    /// assert_eq!(Precision::perturbation_for(&at(1e-20), 1024), Precision::Perturbation);
    /// assert_eq!(Precision::perturbation_for(&at(1e-100), 1024), Precision::PerturbationExp);
    /// ```
    pub fn perturbation_for(view: &View, width_px: u32) -> Precision {
        if view.pixel_size(width_px) >= PERTURBATION_F32_MIN_PIXEL {
            Precision::Perturbation
        } else {
            Precision::PerturbationExp
        }
    }

    /// The cheapest precision whose spacing near the view's center is at most a quarter pixel.
    pub fn needed(view: &View, width_px: u32) -> Precision {
        let pixel = view.pixel_size(width_px);
        let mag = view.center.0.abs().max(view.center.1.abs()).max(1.0);
        if pixel >= ULPS_PER_PIXEL * mag * f64::from(f32::EPSILON) {
            Precision::F32
        } else {
            Precision::Df64
        }
    }

    /// The smallest view width (complex units) this precision renders sharply at `width_px`
    /// pixels around a center of magnitude `center_mag` (df64 spacing taken as 2⁻⁴⁸).
    ///
    /// ```
    /// use rfm_perf::fractal::Precision;
    /// let w = Precision::Df64.min_width(1.75, 256);
    /// assert!(w < 1e-11 && w > 1e-13, "{w:e}");
    /// ```
    pub fn min_width(self, center_mag: f64, width_px: u32) -> f64 {
        let eps = match self {
            Precision::F32 => f64::from(f32::EPSILON),
            Precision::Df64 => 2f64.powi(-48),
            // the centre is exact: the deltas' own range decides
            Precision::Perturbation => {
                return PERTURBATION_F32_MIN_PIXEL * f64::from(width_px);
            }
            Precision::PerturbationExp => return 1e-300,
        };
        ULPS_PER_PIXEL * center_mag.max(1.0) * eps * f64::from(width_px)
    }
}

/// The visible region: its center and its width in complex units (height follows the aspect).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Center `(re, im)`.
    pub center: (f64, f64),
    /// Width of the view in complex units.
    pub width: f64,
}

impl View {
    /// The whole Mandelbrot set.
    pub const HOME: View = View {
        center: (-0.5, 0.0),
        width: 3.5,
    };

    /// Size of one pixel in complex units at `width_px` pixels across.
    pub fn pixel_size(&self, width_px: u32) -> f64 {
        self.width / f64::from(width_px.max(1))
    }

    /// The complex point at the center of pixel `(px, py)` of a `w × h` image.
    ///
    /// ```
    /// let v = rfm_perf::fractal::View { center: (0.0, 0.0), width: 2.0 };
    /// assert_eq!(v.point(0, 0, 2, 2), (-0.5, 0.5));
    /// ```
    pub fn point(&self, px: u32, py: u32, w: u32, h: u32) -> (f64, f64) {
        let s = self.pixel_size(w);
        (
            self.center.0 + (f64::from(px) + 0.5 - f64::from(w) / 2.0) * s,
            self.center.1 - (f64::from(py) + 0.5 - f64::from(h) / 2.0) * s,
        )
    }
}

/// Everything that decides a fractal image.
///
/// ```
/// let p = rfm_perf::fractal::FractalParams::default();
/// assert_eq!(p.max_iter, 500);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FractalParams {
    /// Which fractal.
    pub kind: FractalKind,
    /// What part of the plane.
    pub view: View,
    /// Iteration limit.
    pub max_iter: u32,
}

impl Default for FractalParams {
    fn default() -> Self {
        Self {
            kind: FractalKind::Mandelbrot,
            view: View::HOME,
            max_iter: 500,
        }
    }
}
