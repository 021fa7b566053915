//! Direct iteration in [`Fixed`]: every pixel's own orbit at full precision — the slow,
//! exact reference that [`perturb`](crate::perturb) is checked against.

use crate::ESCAPE_RADIUS;
use crate::fixed::Fixed;
use crate::orbit::Formula;

/// Iterations until `point` (`c`, or `z₀` for Julia) escapes, or `max_iter`, iterated at
/// `limbs` limbs — counted as the renderer counts them.
///
/// ```
/// use rfm_perf_deep::{Fixed, Formula, direct};
/// let c = (Fixed::from_f64(0.5).unwrap(), Fixed::ZERO); // 0, 0.5, 0.75, 1.0625, 1.63, 3.16, 10.5, 110.9, 12 302
/// assert_eq!(direct::iterations(Formula::Mandelbrot, &c, 2, 100), 8);
/// ```
pub fn iterations(formula: Formula, point: &(Fixed, Fixed), limbs: usize, max_iter: u32) -> u32 {
    let fixed = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
    let (mut x, mut y, cx, cy) = match formula {
        Formula::Julia { k } => (point.0, point.1, fixed(k.0), fixed(k.1)),
        Formula::Mandelbrot | Formula::BurningShip => (Fixed::ZERO, Fixed::ZERO, point.0, point.1),
    };
    let r2 = ESCAPE_RADIUS * ESCAPE_RADIUS;
    let mut n = 0;
    while n < max_iter {
        let (fx, fy) = (x.to_f64(), y.to_f64());
        if fx * fx + fy * fy > r2 {
            break;
        }
        let (x2, y2) = (x.square(limbs), y.square(limbs));
        let xy = match formula {
            Formula::BurningShip => x.abs().mul(&y.abs(), limbs),
            _ => x.mul(&y, limbs),
        };
        (x, y) = (x2 - y2 + cx, xy.double() + cy);
        n += 1;
    }
    n
}
