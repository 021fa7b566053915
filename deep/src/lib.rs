//! Deep-zoom arithmetic for escape-time fractals, without Bevy and without C libraries:
//!
//! - [`Fixed`]: a signed fixed-point number with 1 088 fraction bits (a view's centre to
//!   ~1e-327), `Copy`, no allocation; arithmetic at a chosen number of limbs, so a shallow view
//!   pays for the bits it needs only.
//! - [`DeepView`]: a centre in [`Fixed`] and an `f64` width (f64 reaches 1e-308), parsed from
//!   `RE,IM,WIDTH` text with long decimals and exponents, written back exactly.
//! - [`ReferenceOrbit`]: one point's orbit iterated in [`Fixed`] at the view's precision
//!   (≈ log2(1/width) + 64 bits), kept as `f64`.
//! - [`perturb`]: per-pixel deltas from the reference, δₙ₊₁ = 2Zₙδₙ + δₙ² + δc, with rebasing
//!   (when |Zₘ + δ| < |δ|, or the reference ran out, continue from δ = Zₘ + δ at the orbit's
//!   start: Zhuoran's method, no glitch detection needed); Burning Ship's own formula.
//! - [`bla`]: bilinear approximation, runs of steps where δ is too small for δ² to matter
//!   replaced by one linear map ([`BlaTable`]), so a pixel skips most of its iterations.
//! - [`Nucleus`]: a minibrot's centre found to full precision (period, Newton, size): where
//!   deep views that are not near Misiurewicz points are.
//! - [`direct`]: the same fractals iterated directly in [`Fixed`]: slow, exact to the bits, the
//!   reference the perturbation is checked against.
//!
//! ```
//! use rfm_perf_deep::{DeepView, Formula, ReferenceOrbit, perturb};
//! let view: DeepView = "-1.7490234375,0,1e-40".parse()?;
//! let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &view.centre(), view.precision_limbs(64), 500);
//! let n = perturb::iterations(Formula::Mandelbrot, &orbit, view.pixel_delta(3, 5, 64, 64), 500);
//! assert!(n <= 500);
//! # Ok::<(), rfm_perf_deep::ParseError>(())
//! ```

pub mod bla;
pub mod direct;
mod fixed;
mod nucleus;
mod orbit;
pub mod perturb;
mod view;

pub use bla::BlaTable;
pub use fixed::{EXACT_DIGITS, FRACTION_BITS, Fixed, LIMBS, ParseError};
pub use nucleus::Nucleus;
pub use orbit::{Formula, PROBE_GRID, ReferenceOrbit};
pub use view::DeepView;

/// Escape radius (the same as the renderer's): a point has escaped once |z| > 256.
pub const ESCAPE_RADIUS: f64 = 256.0;
