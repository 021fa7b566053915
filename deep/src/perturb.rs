//! Per-pixel perturbation from a [`ReferenceOrbit`] with rebasing, in `f64` deltas (this is the
//! CPU form; it reaches ~1e-300, where f64 runs out of exponent).
//!
//! For a pixel at `c = C + δc` (or `z₀ = Z₀ + δ₀` for Julia) its orbit is `zₙ = Zₘ + δ`, with
//! `δ ← 2Zₘδ + δ² + δc` (Mandelbrot; Julia without `δc`). When `|zₙ − Z₀| < |δ|` the pixel's
//! orbit has come closer to the orbit's start (0 for Mandelbrot and Burning Ship) than to the
//! reference, and when the reference escaped before the pixel it runs out: in both cases the
//! pixel continues from `δ = zₙ − Z₀` at `m = 0` (rebasing), which keeps δ small against Z and
//! needs no glitch detection. For Julia `Z₀` is the reference point, not the critical point, so
//! rebasing there catches fewer of the orbits that would glitch.

use crate::ESCAPE_RADIUS;
use crate::bla::BlaTable;
use crate::orbit::{Formula, ReferenceOrbit};

/// Iterations until the pixel at `delta` (its offset from the reference point: `δc`, or `δ₀`
/// for Julia) escapes, or `max_iter` — counted as the renderer counts them.
///
/// ```
/// use rfm_perf_deep::{Fixed, Formula, ReferenceOrbit, perturb};
/// let c = (Fixed::from_f64(-0.75).unwrap(), Fixed::from_f64(0.1).unwrap());
/// let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &c, 2, 200);
/// // a pixel 0.001 to the right iterates as c = −0.749 + 0.1i does in f64
/// let direct = {
///     let (cr, ci) = (-0.749f64, 0.1f64);
///     let (mut x, mut y, mut n) = (0.0f64, 0.0f64, 0);
///     while n < 200 && x * x + y * y <= 65536.0 {
///         (x, y) = (x * x - y * y + cr, 2.0 * x * y + ci);
///         n += 1;
///     }
///     n
/// };
/// assert_eq!(perturb::iterations(Formula::Mandelbrot, &orbit, (0.001, 0.0), 200), direct);
/// ```
pub fn iterations(
    formula: Formula,
    orbit: &ReferenceOrbit,
    delta: (f64, f64),
    max_iter: u32,
) -> u32 {
    iterate(formula, orbit, None, delta, max_iter, true).iterations
}

/// What a pixel's perturbation took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// Iterations until it escaped, or `max_iter` (what [`iterations`] returns).
    pub iterations: u32,
    /// Steps really computed: a skip of many iterations by one approximation counts one.
    pub steps: u32,
}

/// [`iterations`], skipping the runs of iterations that `table` (built for `orbit`, with
/// `|delta| ≤ table.delta_c_bound`) approximates linearly.
///
/// ```
/// use rfm_perf_deep::{BlaTable, Fixed, Formula, ReferenceOrbit, bla, perturb};
/// let c = (Fixed::from_f64(-0.75).unwrap(), Fixed::from_f64(0.1).unwrap());
/// let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &c, 2, 2000);
/// let table = BlaTable::build(&orbit, 1e-30, bla::F64_EPSILON);
/// let plain = perturb::iterations(Formula::Mandelbrot, &orbit, (1e-30, 0.0), 2000);
/// let fast = perturb::iterations_bla(Formula::Mandelbrot, &orbit, &table, (1e-30, 0.0), 2000);
/// assert!(fast.iterations.abs_diff(plain) <= 1);
/// assert!(fast.steps < fast.iterations);
/// ```
pub fn iterations_bla(
    formula: Formula,
    orbit: &ReferenceOrbit,
    table: &BlaTable,
    delta: (f64, f64),
    max_iter: u32,
) -> Counted {
    iterate(formula, orbit, Some(table), delta, max_iter, true)
}

/// [`iterations`] without rebasing: the classic perturbation, which glitches where a pixel's
/// orbit passes near 0 away from the reference's (kept to show why rebasing is there).
pub fn iterations_without_rebasing(
    formula: Formula,
    orbit: &ReferenceOrbit,
    delta: (f64, f64),
    max_iter: u32,
) -> u32 {
    iterate(formula, orbit, None, delta, max_iter, false).iterations
}

fn iterate(
    formula: Formula,
    orbit: &ReferenceOrbit,
    table: Option<&BlaTable>,
    delta: (f64, f64),
    max_iter: u32,
    rebase: bool,
) -> Counted {
    let r2 = ESCAPE_RADIUS * ESCAPE_RADIUS;
    let z = &orbit.points;
    let none = Counted {
        iterations: 0,
        steps: 0,
    };
    if z.is_empty() {
        return none;
    }
    let (dcx, dcy) = match formula {
        Formula::Julia { .. } => (0.0, 0.0),
        Formula::Mandelbrot | Formula::BurningShip => delta,
    };
    let (mut dx, mut dy) = match formula {
        Formula::Julia { .. } => delta,
        Formula::Mandelbrot | Formula::BurningShip => (0.0, 0.0),
    };
    // no step is taken from the orbit's last point: there the pixel rebases
    let last = z.len() - 1;
    let mut m = 0usize;
    let mut n = 0u32;
    let mut steps = 0u32;
    // a Julia pixel starts at z₀ = Z₀ + δ₀: it may have escaped already
    let start = [z[0][0] + dx, z[0][1] + dy];
    if start[0] * start[0] + start[1] * start[1] > r2 {
        return none;
    }
    while n < max_iter {
        steps += 1;
        let skip = table.and_then(|t| t.longest(m, dx.hypot(dy), max_iter - n));
        if let Some((bla, len)) = skip {
            (dx, dy) = bla.apply((dx, dy), (dcx, dcy));
            m += len as usize;
            n += len;
        } else {
            let [zx, zy] = z[m];
            (dx, dy) = match formula {
                Formula::BurningShip => burning_ship_step(zx, zy, dx, dy, dcx, dcy),
                _ => (
                    2.0 * (zx * dx - zy * dy) + dx * dx - dy * dy + dcx,
                    2.0 * (zx * dy + zy * dx) + 2.0 * dx * dy + dcy,
                ),
            };
            m += 1;
            n += 1;
        }
        let [zx, zy] = z[m];
        let (x, y) = (zx + dx, zy + dy);
        let mag2 = x * x + y * y;
        if mag2 > r2 {
            break;
        }
        // closer to the orbit's start (0 for Mandelbrot and Burning Ship) than to Zₘ
        let [sx, sy] = orbit.from_start(m);
        let (rx, ry) = (sx + dx, sy + dy);
        if rebase && (rx * rx + ry * ry < dx * dx + dy * dy || m >= last) {
            (dx, dy) = (rx, ry);
            m = 0;
        } else if m >= last {
            // without rebasing a pixel that outlives the reference has nothing left to follow
            break;
        }
    }
    Counted {
        iterations: n,
        steps,
    }
}

/// One Burning Ship step of the delta: `x ← X² − Y² + c`, `y ← 2|XY| + c` perturbed, with
/// `|a + b| − |a|` written out so that no large terms cancel.
fn burning_ship_step(zx: f64, zy: f64, dx: f64, dy: f64, dcx: f64, dcy: f64) -> (f64, f64) {
    let nx = (2.0 * zx + dx) * dx - (2.0 * zy + dy) * dy + dcx;
    let xy = zx * zy;
    let dxy = zx * dy + dx * zy + dx * dy;
    let ny = 2.0 * diff_abs(xy, dxy) + dcy;
    (nx, ny)
}

/// `|a + b| − |a|` without cancellation.
fn diff_abs(a: f64, b: f64) -> f64 {
    let ab = a + b;
    if a >= 0.0 {
        if ab >= 0.0 { b } else { -(2.0 * a + b) }
    } else if ab > 0.0 {
        2.0 * a + b
    } else {
        -b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_abs_is_the_difference_of_absolute_values() {
        for (a, b) in [
            (1.0f64, 0.5f64),
            (1.0, -3.0),
            (-1.0, 0.5),
            (-1.0, 3.0),
            (0.0, -2.0),
            (2.0, -2.0),
        ] {
            let want: f64 = (a + b).abs() - a.abs();
            assert!((diff_abs(a, b) - want).abs() < 1e-15, "{a} {b}");
        }
    }
}
