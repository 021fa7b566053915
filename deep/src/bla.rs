//! Bilinear approximation (BLA) of a reference orbit: runs of perturbation steps replaced by one
//! linear map, so a pixel skips the iterations where its delta is too small to matter.
//!
//! While `|δ|` is small against `|Zₘ|`, the step `δ ← 2Zₘδ + δ² + δc` is linear to working
//! precision: `δ ← Aδ + B·δc` with `A = 2Zₘ`, `B = 1` (Julia: `B = 0`, there is no `δc`). It is
//! valid while the dropped `δ²` stays below `ε·|2Zₘδ|`, that is `|δ| < r = ε·|2Zₘ|`, where `ε`
//! is the deltas' own rounding (2⁻²⁴ for f32, 2⁻⁵³ for f64): the approximation then errs no more
//! than the arithmetic does. Two consecutive approximations `x` then `y` compose to
//! `A = A_y·A_x`, `B = A_y·B_x + B_y`, valid for `|δ| < min(r_x, (r_y − |B_x|·|δc|)/|A_x|)`:
//! after `x` the delta must lie inside `y`'s disc. `|δc|` is bounded by the farthest pixel of
//! the view from the reference ([`BlaTable::delta_c_bound`]).
//!
//! Level `ℓ` of the table holds the approximations of `2^ℓ` steps starting at steps
//! `m = 1 + j·2^ℓ` (step 0 from Z₀ is never linear: there δ is as large as the orbit after a
//! rebase). A level's disc is never larger than the disc of the level below it at the same
//! start (its first half is that approximation), so a lookup climbs from level 0 and stops at
//! the first level that is not valid: one failed test where nothing can be skipped.
//!
//! Burning Ship's step folds the plane (`|Re|`, `|Im|`): it is not complex-linear, and the
//! table is empty for it.
//!
//! ```
//! use rfm_perf_deep::{BlaTable, Fixed, Formula, ReferenceOrbit, bla};
//! let c = (Fixed::from_f64(-0.75).unwrap(), Fixed::from_f64(0.1).unwrap());
//! let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &c, 2, 1000);
//! let table = BlaTable::build(&orbit, 1e-30, bla::F64_EPSILON);
//! // a pixel 1e-30 away: many steps in one
//! let (skip, steps) = table.longest(1, 1e-30, 1000).unwrap();
//! assert!(steps > 1);
//! // the map of `steps` steps applied to δ₁ = δc
//! let _ = skip.apply((1e-30, 0.0), (1e-30, 0.0));
//! ```

use crate::orbit::{Formula, ReferenceOrbit};

/// `ε` for f64 deltas: their rounding, 2⁻⁵³.
pub const F64_EPSILON: f64 = 1.0 / 9_007_199_254_740_992.0;
/// `ε` for f32 deltas: their rounding, 2⁻²⁴.
pub const F32_EPSILON: f64 = 1.0 / 16_777_216.0;

/// One approximation: `δ ← A·δ + B·δc`, valid while `|δ| < r`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bla {
    /// `A` (re, im).
    pub a: [f64; 2],
    /// `B` (re, im).
    pub b: [f64; 2],
    /// The radius of the discs of δ it is valid for.
    pub r: f64,
}

impl Bla {
    /// `A·δ + B·δc`.
    pub fn apply(&self, delta: (f64, f64), delta_c: (f64, f64)) -> (f64, f64) {
        let [ax, ay] = self.a;
        let [bx, by] = self.b;
        let (dx, dy) = delta;
        let (cx, cy) = delta_c;
        (
            ax * dx - ay * dy + bx * cx - by * cy,
            ax * dy + ay * dx + bx * cy + by * cx,
        )
    }

    /// `self` then `next`, for pixels with `|δc| ≤ delta_c_bound`.
    fn then(&self, next: &Bla, delta_c_bound: f64) -> Bla {
        let (x, y) = (self, next);
        let a_x = x.a[0].hypot(x.a[1]);
        let b_x = x.b[0].hypot(x.b[1]);
        let inner = (y.r - b_x * delta_c_bound).max(0.0);
        let r = if a_x > 0.0 { x.r.min(inner / a_x) } else { 0.0 };
        Bla {
            a: cmul(y.a, x.a),
            b: add(cmul(y.a, x.b), y.b),
            r: if r.is_finite() { r } else { 0.0 },
        }
    }
}

/// The approximations of an orbit by level (see the module's docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlaTable {
    /// `levels[ℓ][j]`: `2^ℓ` steps from step `1 + j·2^ℓ`; `levels[ℓ].len()` is
    /// `(points − 2) >> ℓ` (no step is taken from the orbit's last point).
    pub levels: Vec<Vec<Bla>>,
    /// The largest `|δc|` the radii allow for.
    pub delta_c_bound: f64,
}

impl BlaTable {
    /// The table of `orbit` for pixels at most `delta_c_bound` from its point, with the
    /// deltas' rounding `epsilon` ([`F32_EPSILON`], [`F64_EPSILON`]). Empty for Burning Ship
    /// and for orbits of fewer than 3 points.
    pub fn build(orbit: &ReferenceOrbit, delta_c_bound: f64, epsilon: f64) -> Self {
        let b = match orbit.formula {
            Formula::Mandelbrot => [1.0, 0.0],
            Formula::Julia { .. } => [0.0, 0.0],
            Formula::BurningShip => return Self::empty(delta_c_bound),
        };
        let z = &orbit.points;
        if z.len() < 3 {
            return Self::empty(delta_c_bound);
        }
        let last = z.len() - 1;
        let single: Vec<Bla> = (1..last)
            .map(|m| {
                let a = [2.0 * z[m][0], 2.0 * z[m][1]];
                Bla {
                    a,
                    b,
                    r: epsilon * a[0].hypot(a[1]),
                }
            })
            .collect();
        let mut levels = vec![single];
        while let Some(below) = levels.last()
            && below.len() >= 2
        {
            let up = below
                .chunks_exact(2)
                .map(|pair| pair[0].then(&pair[1], delta_c_bound))
                .collect();
            levels.push(up);
        }
        Self {
            levels,
            delta_c_bound,
        }
    }

    fn empty(delta_c_bound: f64) -> Self {
        Self {
            levels: Vec::new(),
            delta_c_bound,
        }
    }

    /// The approximation of the most steps (at most `max_steps`) that is valid from step `m`
    /// for a delta of size `delta`, and its number of steps; `None` where not even one step is
    /// linear (or `m` is 0).
    pub fn longest(&self, m: usize, delta: f64, max_steps: u32) -> Option<(&Bla, u32)> {
        let rel = m.checked_sub(1)?;
        let mut found = None;
        for (level, nodes) in self.levels.iter().enumerate() {
            let steps = 1usize << level;
            if rel % steps != 0 || steps > max_steps as usize {
                break;
            }
            match nodes.get(rel >> level) {
                Some(node) if delta < node.r => found = Some((node, steps as u32)),
                _ => break,
            }
        }
        found
    }
}

fn cmul(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]]
}

fn add(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] + b[0], a[1] + b[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fixed;

    fn orbit(c: (f64, f64), max_iter: u32) -> ReferenceOrbit {
        let c = (Fixed::from_f64(c.0).unwrap(), Fixed::from_f64(c.1).unwrap());
        ReferenceOrbit::compute(Formula::Mandelbrot, &c, 2, max_iter)
    }

    #[test]
    fn a_merged_approximation_is_its_steps_composed() {
        let o = orbit((-0.75, 0.1), 64);
        let t = BlaTable::build(&o, 1e-9, F64_EPSILON);
        assert_eq!(t.levels[0].len(), o.points.len() - 2);
        // level 3 from step 9 = the eight single steps 9..17 applied in turn
        let (dc, d0) = ((1e-9, -2e-10), (3e-10, 1e-10));
        let mut d = d0;
        for node in &t.levels[0][8..16] {
            d = node.apply(d, dc);
        }
        let merged = t.levels[3][1].apply(d0, dc);
        assert!((merged.0 - d.0).abs() <= 1e-12 * d.0.abs().max(d.1.abs()));
        assert!((merged.1 - d.1).abs() <= 1e-12 * d.0.abs().max(d.1.abs()));
    }

    #[test]
    fn radii_shrink_up_the_levels_and_the_lookup_respects_them() {
        let o = orbit((-0.75, 0.1), 500);
        let t = BlaTable::build(&o, 1e-12, F32_EPSILON);
        for level in 1..t.levels.len() {
            for (j, node) in t.levels[level].iter().enumerate() {
                assert!(node.r <= t.levels[level - 1][2 * j].r, "{level} {j}");
            }
        }
        let (node, steps) = t.longest(1, 1e-12, 500).expect("linear from step 1");
        assert!(node.r > 1e-12 && steps >= 2);
        // not aligned: only single steps start at step 2
        assert!(t.longest(2, 1e-12, 500).is_none_or(|(_, s)| s == 1));
        // a delta larger than every disc is not skipped
        assert!(t.longest(1, 1.0, 500).is_none());
        assert!(t.longest(0, 0.0, 500).is_none());
        assert!(t.longest(1, 1e-12, 1).is_none_or(|(_, s)| s == 1));
    }

    #[test]
    fn burning_ship_has_no_table() {
        let c = (
            Fixed::from_f64(-1.76).unwrap(),
            Fixed::from_f64(-0.03).unwrap(),
        );
        let o = ReferenceOrbit::compute(Formula::BurningShip, &c, 2, 100);
        assert!(BlaTable::build(&o, 1e-9, F64_EPSILON).levels.is_empty());
    }
}
