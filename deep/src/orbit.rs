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
    /// `Zₙ − Z₀`, exact before rounding to f64, for Julia (whose `Z₀` is not 0); empty for
    /// the others, where it equals `Zₙ`. A rebasing pixel continues from `(Zₙ − Z₀) + δ`:
    /// computed as `(Zₙ + δ) − Z₀` it would lose δ below f64's spacing at |Z₀|.
    pub start_offsets: Vec<[f64; 2]>,
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
        let julia = matches!(formula, Formula::Julia { .. });
        let mut start_offsets = Vec::new();
        if julia {
            start_offsets.reserve(max_iter as usize + 1);
            start_offsets.push([0.0, 0.0]);
        }
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
            if julia {
                start_offsets.push([(x - point.0).to_f64(), (y - point.1).to_f64()]);
            }
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
            start_offsets,
            escaped_at,
            max_iter,
        }
    }

    /// `Zₙ − Z₀` (see [`start_offsets`](Self::start_offsets)).
    pub fn from_start(&self, n: usize) -> [f64; 2] {
        match self.start_offsets.get(n) {
            Some(&d) => d,
            None => self.points[n],
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

/// Candidates per axis [`ReferenceOrbit::for_view`] probes when the centre's orbit escapes.
pub const PROBE_GRID: u32 = 16;

impl ReferenceOrbit {
    /// A reference orbit for `view` rendered `w × h`: the centre's, unless it escapes before
    /// `max_iter`; then the point of a [`PROBE_GRID`]² grid over the view (iterated by
    /// perturbation from the centre's orbit) that lasts longest, when it lasts longer. Pixels
    /// that outlive their reference continue from the orbit's start with deltas as large as
    /// the orbit itself (rebasing), where low-precision deltas lose the pixel's offset: a
    /// reference that does not escape keeps every delta small.
    ///
    /// ```
    /// use rfm_perf_deep::{DeepView, Formula, ReferenceOrbit};
    /// // the centre escapes at once; part of the view is inside the set
    /// let view: DeepView = "-0.6,0.62,0.2".parse()?;
    /// let centre = ReferenceOrbit::compute(Formula::Mandelbrot, &view.centre(), 2, 500);
    /// let best = ReferenceOrbit::for_view(Formula::Mandelbrot, &view, 64, 64, 2, 500);
    /// assert!(centre.escaped_at.is_some() && best.escaped_at.is_none());
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn for_view(
        formula: Formula,
        view: &crate::DeepView,
        w: u32,
        h: u32,
        limbs: usize,
        max_iter: u32,
    ) -> Self {
        let centre = Self::compute(formula, &view.centre(), limbs, max_iter);
        let Some(escaped) = centre.escaped_at else {
            return centre;
        };
        let mut best: Option<((f64, f64), u32)> = None;
        for gy in 0..PROBE_GRID {
            for gx in 0..PROBE_GRID {
                let px = (2 * gx + 1) * w / (2 * PROBE_GRID);
                let py = (2 * gy + 1) * h / (2 * PROBE_GRID);
                let delta = view.pixel_delta(px, py, w, h);
                let n = crate::perturb::iterations(formula, &centre, delta, max_iter);
                if n > escaped && best.is_none_or(|(_, b)| n > b) {
                    best = Some((delta, n));
                }
            }
        }
        let Some((delta, _)) = best else {
            return centre;
        };
        let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
        let point = (view.re + f(delta.0), view.im + f(delta.1));
        let candidate = Self::compute(formula, &point, limbs, max_iter);
        if candidate.points.len() > centre.points.len() {
            candidate
        } else {
            centre
        }
    }

    /// The orbit of the lowest-period Mandelbrot nucleus inside `view` rendered `w × h`
    /// ([`Nucleus`](crate::Nucleus), period up to `max_iter`), when there is one that does not
    /// escape within `max_iter`: the reference deep-zoom explorers pick, whose orbit returns to
    /// 0 every period, so pixels rebase there with small deltas.
    ///
    /// ```
    /// use rfm_perf_deep::{DeepView, ReferenceOrbit};
    /// // around the period-3 minibrot on the real axis
    /// let view: DeepView = "-1.7549,0,0.001".parse()?;
    /// let orbit = ReferenceOrbit::nucleus_in(&view, 64, 64, 2, 500).expect("a nucleus");
    /// assert!(orbit.escaped_at.is_none() && orbit.points[3][0].abs() < 1e-12);
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn nucleus_in(
        view: &crate::DeepView,
        w: u32,
        h: u32,
        limbs: usize,
        max_iter: u32,
    ) -> Option<Self> {
        let half_w = view.width / 2.0;
        let half_h = half_w * f64::from(h) / f64::from(w.max(1));
        let nucleus = crate::Nucleus::near(&view.centre(), half_w.hypot(half_h), limbs, max_iter)?;
        let inside = (nucleus.centre.0 - view.re).to_f64().abs() <= half_w
            && (nucleus.centre.1 - view.im).to_f64().abs() <= half_h;
        let orbit =
            inside.then(|| Self::compute(Formula::Mandelbrot, &nucleus.centre, limbs, max_iter))?;
        orbit.escaped_at.is_none().then_some(orbit)
    }
}
