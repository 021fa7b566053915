//! [`Nucleus`]: the centre of a minibrot (a periodic point `c` of the Mandelbrot set, `z_p(c) = 0`)
//! found to full precision: its period from a ball around a guess, its position by Newton's
//! method, its size from the orbit. Deep views that are not near Misiurewicz points are views
//! around minibrots; this is how to find one at any depth.

use crate::fixed::Fixed;
use crate::orbit::{Formula, ReferenceOrbit};

/// A minibrot's nucleus: `z_period(centre) = 0` for `z → z² + c`, `z₀ = 0`.
///
/// ```
/// use rfm_perf_deep::{Fixed, Nucleus};
/// // near −1.75: the period-3 minibrot on the real axis (nucleus −1.7548776662…)
/// let guess = (Fixed::from_f64(-1.75).unwrap(), Fixed::ZERO);
/// let n = Nucleus::near(&guess, 0.01, 4, 100).expect("a nucleus");
/// assert_eq!(n.period, 3);
/// assert!((n.centre.0.to_f64() + 1.754_877_666_246_693).abs() < 1e-15);
/// assert!(n.size > 1e-3 && n.size < 1e-1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nucleus {
    /// The point, exact to the limbs it was found at.
    pub centre: (Fixed, Fixed),
    /// Its period: the orbit returns to 0 after this many iterations.
    pub period: u32,
    /// The minibrot's approximate size (the distance from its nucleus to its cusp is about a
    /// quarter of it).
    pub size: f64,
}

impl Nucleus {
    /// The lowest-period nucleus near `guess` within about `radius`: its period is the first
    /// iteration at which a disc of that radius around `guess`, mapped by the orbit to first
    /// order, contains 0 (up to `max_period`); Newton's method at `limbs` limbs finds it from
    /// there. `None` when no period is found, Newton does not settle, or the point it settles
    /// on is farther than `4 · radius` from `guess`.
    pub fn near(
        guess: &(Fixed, Fixed),
        radius: f64,
        limbs: usize,
        max_period: u32,
    ) -> Option<Self> {
        let period = ball_period(guess, radius, limbs, max_period)?;
        let (centre, size) = newton(guess, period, limbs)?;
        let moved = ((centre.0 - guess.0).to_f64(), (centre.1 - guess.1).to_f64());
        if moved.0.hypot(moved.1) > 4.0 * radius {
            return None;
        }
        Some(Self {
            centre,
            period,
            size,
        })
    }
}

/// The first `n ≤ max_period` at which |zₙ| < |dzₙ/dc| · radius along `guess`'s orbit: where the
/// disc around `guess` first covers 0 (to first order), the period of the nucleus inside it.
fn ball_period(guess: &(Fixed, Fixed), radius: f64, limbs: usize, max_period: u32) -> Option<u32> {
    let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, guess, limbs, max_period);
    let mut d = (0.0f64, 0.0f64);
    for n in 1..orbit.points.len() {
        d = derivative_step(orbit.points[n - 1], d);
        let z = orbit.points[n];
        if z[0].hypot(z[1]) < d.0.hypot(d.1) * radius {
            return Some(n as u32);
        }
    }
    None
}

/// Newton's method for `z_period(c) = 0` from `guess`: `c ← c − z_p / z_p'` with `z_p` exact in
/// [`Fixed`] and the derivative in f64 (its relative error only slows the convergence: ~50 bits
/// a step). Stops once a step is below 2⁻⁴⁸ of the minibrot's size, or within 16 × the
/// precision's resolution; returns the centre and the size (from the last orbit, which is as
/// close to the centre as the size's estimate needs).
fn newton(guess: &(Fixed, Fixed), period: u32, limbs: usize) -> Option<((Fixed, Fixed), f64)> {
    let resolution = 2f64.powi(-(64 * (limbs as i32 - 1)) + 4);
    let mut c = *guess;
    for _ in 0..64 {
        let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &c, limbs, period);
        if orbit.escaped_at.is_some() {
            return None;
        }
        let d = orbit.points[..period as usize]
            .iter()
            .fold((0.0, 0.0), |d, &z| derivative_step(z, d));
        let z = orbit.points[period as usize];
        let dd = d.0 * d.0 + d.1 * d.1;
        if !(dd.is_finite() && dd > 0.0) {
            return None;
        }
        // z / d = z · conj(d) / |d|²
        let step = (
            (z[0] * d.0 + z[1] * d.1) / dd,
            (z[1] * d.0 - z[0] * d.1) / dd,
        );
        c = (
            c.0 - Fixed::from_f64(step.0)?,
            c.1 - Fixed::from_f64(step.1)?,
        );
        let size = size(&orbit.points, period);
        if step.0.hypot(step.1) <= (size * 2f64.powi(-48)).max(resolution) {
            return Some((c, size));
        }
    }
    None
}

/// dzₙ₊₁/dc = 2 zₙ dzₙ/dc + 1: the derivative `d` after the step from `z`.
fn derivative_step(z: [f64; 2], d: (f64, f64)) -> (f64, f64) {
    (
        2.0 * (z[0] * d.0 - z[1] * d.1) + 1.0,
        2.0 * (z[0] * d.1 + z[1] * d.0),
    )
}

/// A minibrot's size from its nucleus orbit `points` (`z₀ = 0, z₁ = c, …`): 1 / |β λ²| with
/// λ = Π 2zₙ and β = Σ 1/Πₖ≤ₙ 2zₖ over `n = 1..period` (after Heiland-Allen's estimate).
fn size(points: &[[f64; 2]], period: u32) -> f64 {
    let mul = |a: (f64, f64), b: (f64, f64)| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let mut l = (1.0f64, 0.0f64);
    let mut b = (1.0f64, 0.0f64);
    for z in points.iter().take(period as usize).skip(1) {
        l = mul((2.0 * z[0], 2.0 * z[1]), l);
        let ll = l.0 * l.0 + l.1 * l.1;
        b = (b.0 + l.0 / ll, b.1 - l.1 / ll);
    }
    let blb = mul(b, mul(l, l));
    1.0 / blb.0.hypot(blb.1)
}
