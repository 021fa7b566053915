//! The reference orbit: one point iterated in [`Fixed`] precision, kept as `f64` (its values
//! stay within the escape radius, where f64's 53 bits are what the per-pixel deltas need).

use crate::ESCAPE_RADIUS;
use crate::fixed::Fixed;

/// Which escape-time formula.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Formula {
    /// `z → z² + c`, `z₀ = 0`; the pixel is `c`.
    Mandelbrot,
    /// `z → z² + k`, `z₀` = the pixel.
    Julia {
        /// The parameter `k` (re, im).
        k: (f64, f64),
    },
    /// `z → (|Re z| + i·|Im z|)² + c`, `z₀ = 0`; the pixel is `c`.
    BurningShip,
}

/// A point's orbit `Z₀, Z₁, …` up to the iteration limit or its escape.
///
/// ```
/// use rfm_perf_deep::{Fixed, Formula, ReferenceOrbit};
/// let c = (Fixed::from_f64(-1.0).unwrap(), Fixed::ZERO); // the period-2 centre: 0, −1, 0, −1, …
/// let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &c, 3, 10);
/// assert_eq!(orbit.points[..4], [[0.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]);
/// assert_eq!(orbit.escaped_at, None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceOrbit {
    /// The formula iterated.
    pub formula: Formula,
    /// The point (for Mandelbrot and Burning Ship `c`, for Julia `z₀`).
    pub point: (Fixed, Fixed),
    /// Limbs its arithmetic used.
    pub limbs: usize,
    /// `Zₙ` for `n = 0..`: `max_iter + 1` values, or up to the first that escaped (included).
    pub points: Vec<[f64; 2]>,
    /// The iteration at which it escaped, if it did.
    pub escaped_at: Option<u32>,
    /// The iteration limit it was computed for.
    pub max_iter: u32,
}

impl ReferenceOrbit {
    /// Iterates `point` `max_iter` times (or until it escapes) at `limbs` limbs of precision.
    pub fn compute(formula: Formula, point: &(Fixed, Fixed), limbs: usize, max_iter: u32) -> Self {
        let fixed = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
        let (mut x, mut y, cx, cy) = match formula {
            Formula::Julia { k } => (point.0, point.1, fixed(k.0), fixed(k.1)),
            Formula::Mandelbrot | Formula::BurningShip => {
                (Fixed::ZERO, Fixed::ZERO, point.0, point.1)
            }
        };
        let r2 = ESCAPE_RADIUS * ESCAPE_RADIUS;
        let mut points = Vec::with_capacity(max_iter as usize + 1);
        points.push([x.to_f64(), y.to_f64()]);
        let mut escaped_at = None;
        for n in 1..=max_iter {
            let (x2, y2) = (x.square(limbs), y.square(limbs));
            let xy = match formula {
                Formula::BurningShip => x.abs().mul(&y.abs(), limbs),
                _ => x.mul(&y, limbs),
            };
            (x, y) = (x2 - y2 + cx, xy.double() + cy);
            let z = [x.to_f64(), y.to_f64()];
            points.push(z);
            if z[0] * z[0] + z[1] * z[1] > r2 {
                escaped_at = Some(n);
                break;
            }
        }
        Self {
            formula,
            point: *point,
            limbs,
            points,
            escaped_at,
            max_iter,
        }
    }

    /// Whether it serves a view needing `limbs` limbs at `max_iter` iterations for `formula`
    /// around `point`: same formula and point, at least that precision, and computed to that
    /// limit (or it escaped before).
    pub fn serves(
        &self,
        formula: Formula,
        point: &(Fixed, Fixed),
        limbs: usize,
        max_iter: u32,
    ) -> bool {
        self.formula == formula
            && self.point == *point
            && self.limbs >= limbs
            && (self.max_iter >= max_iter || self.escaped_at.is_some())
    }
}
