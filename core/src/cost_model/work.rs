//! How much work an escape-time pass does: the profile of a measured frame (its escape
//! histogram, its exact totals) and the iterations it predicts for other parameters of the
//! same view — a lower or higher iteration limit, more or fewer pixels, the interior checks on
//! or off.

use serde::{Deserialize, Serialize};

/// Histogram buckets a profile holds (the pass's escape histogram has 64).
pub const WORK_BUCKETS: usize = 64;

/// The parameters of a pass that its cost depends on.
///
/// ```
/// use rfm_perf_core::cost_model::PassParams;
/// let p = PassParams { pixels: 512 * 512, max_iter: 1000, arithmetic: "f32".into(), interior_check: true };
/// assert_eq!(p.megapixels(), 0.262144);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassParams {
    /// Pixels rendered.
    pub pixels: u64,
    /// Iteration limit.
    pub max_iter: u32,
    /// The arithmetic the pass uses (`"f32"`, `"df64"`, …): each has its own cost per
    /// iteration.
    pub arithmetic: std::borrow::Cow<'static, str>,
    /// Whether the interior checks skip the work of pixels that never escape.
    pub interior_check: bool,
}

impl PassParams {
    /// Pixels in millions.
    pub fn megapixels(&self) -> f64 {
        self.pixels as f64 / 1e6
    }
}

/// What one measured frame's work looked like: its parameters' totals and the escaped pixels
/// by escape iteration. Fixed size: copying one allocates nothing.
///
/// ```
/// use rfm_perf_core::cost_model::{PassParams, WorkProfile};
/// // 4 pixels: two escape at iteration 10, two never (limit 100); no interior checks
/// let w = WorkProfile::new(4, 100, false, 20, 220, &[0, 10, 20], &[0, 2, 0]);
/// let same = PassParams { pixels: 4, max_iter: 100, arithmetic: "f32".into(), interior_check: false };
/// assert_eq!(w.estimate(&same, None), 220.0);
/// // twice the pixels of the same view: twice the work
/// assert_eq!(w.estimate(&PassParams { pixels: 8, ..same.clone() }, None), 440.0);
/// // a limit of 50: the two interior pixels run 50 each
/// assert_eq!(w.estimate(&PassParams { max_iter: 50, ..same }, None), 120.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkProfile {
    /// Pixels rendered.
    pub pixels: u64,
    /// Iteration limit.
    pub max_iter: u32,
    /// Whether the interior checks were on.
    pub interior_check: bool,
    /// Iterations of the escaped pixels, summed (exact).
    pub escaped_iterations: u64,
    /// Iterations the pass really ran.
    pub iterations_computed: u64,
    #[serde(with = "super::fixed_array")]
    edges: [u32; WORK_BUCKETS],
    #[serde(with = "super::fixed_array")]
    counts: [u64; WORK_BUCKETS],
    buckets: usize,
}

impl WorkProfile {
    /// A profile from a frame's totals and its escape histogram (`edges`: each bucket's lowest
    /// iteration, increasing; `counts`: escaped pixels per bucket; at most
    /// [`WORK_BUCKETS`], the rest is dropped).
    pub fn new(
        pixels: u64,
        max_iter: u32,
        interior_check: bool,
        escaped_iterations: u64,
        iterations_computed: u64,
        edges: &[u32],
        counts: &[u64],
    ) -> Self {
        let buckets = edges.len().min(counts.len()).min(WORK_BUCKETS);
        let mut e = [0; WORK_BUCKETS];
        let mut c = [0; WORK_BUCKETS];
        e[..buckets].copy_from_slice(&edges[..buckets]);
        c[..buckets].copy_from_slice(&counts[..buckets]);
        Self {
            pixels,
            max_iter,
            interior_check,
            escaped_iterations,
            iterations_computed,
            edges: e,
            counts: c,
            buckets,
        }
    }

    /// Pixels that escaped.
    pub fn escaped(&self) -> u64 {
        self.counts[..self.buckets]
            .iter()
            .sum::<u64>()
            .min(self.pixels)
    }

    /// Pixels that ran to the limit (inside the set, as far as this limit tells).
    pub fn interior(&self) -> u64 {
        self.pixels - self.escaped()
    }

    /// With the interior checks on: the iterations an interior pixel really ran, on average
    /// (`None` with the checks off or no interior pixel).
    pub fn interior_cost(&self) -> Option<f64> {
        let interior = self.interior();
        (self.interior_check && interior > 0).then(|| {
            (self
                .iterations_computed
                .saturating_sub(self.escaped_iterations) as f64
                / interior as f64)
                .min(f64::from(self.max_iter))
        })
    }

    /// The iterations a pass with `params` would really run on this frame's view, from this
    /// frame's escape histogram: escaped pixels keep their escape iteration up to the new
    /// limit (those past it run the whole limit), interior pixels run the whole limit — or,
    /// with the interior checks on, what they cost here with the checks on
    /// ([`interior_cost`](Self::interior_cost)), else `interior_cost_hint` (iterations per
    /// interior pixel seen in another frame; without one the checks are assumed to save
    /// nothing). Scaled by the pixel count.
    pub fn estimate(&self, params: &PassParams, interior_cost_hint: Option<f64>) -> f64 {
        if self.pixels == 0 {
            return 0.0;
        }
        let limit = f64::from(params.max_iter.max(1));
        let (mut escaped_work, mut slow) = (self.escaped_iterations as f64, 0.0);
        if params.max_iter < self.max_iter {
            // the histogram's bucket midpoints, scaled so they sum to the exact total
            let top = self.max_iter.saturating_sub(1);
            let last = |i: usize| {
                self.edges
                    .get(i + 1)
                    .filter(|_| i + 1 < self.buckets)
                    .map_or(top, |&n| n.saturating_sub(1))
            };
            let mid_sum: f64 = (0..self.buckets)
                .map(|i| {
                    self.counts[i] as f64 * (f64::from(self.edges[i]) + f64::from(last(i))) / 2.0
                })
                .sum();
            let k = if mid_sum > 0.0 {
                self.escaped_iterations as f64 / mid_sum
            } else {
                1.0
            };
            escaped_work = 0.0;
            for i in 0..self.buckets {
                let (first, last, n) = (
                    f64::from(self.edges[i]),
                    f64::from(last(i)),
                    self.counts[i] as f64,
                );
                if last < limit {
                    escaped_work += n * k * (first + last) / 2.0;
                } else if first >= limit {
                    slow += n;
                } else {
                    // part of the bucket escapes below the new limit
                    let below = (limit - first) / (last - first + 1.0);
                    escaped_work += n * below * k * (first + limit - 1.0) / 2.0;
                    slow += n * (1.0 - below);
                }
            }
        }
        let interior = self.interior() as f64;
        let per_interior = if params.interior_check {
            self.interior_cost()
                .or(interior_cost_hint)
                .map_or(limit, |c| c.min(limit))
        } else {
            limit
        };
        let total = escaped_work + slow * limit + interior * per_interior;
        total * params.pixels as f64 / self.pixels as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pixels: u64, max_iter: u32, interior_check: bool) -> PassParams {
        PassParams {
            pixels,
            max_iter,
            arithmetic: "f32".into(),
            interior_check,
        }
    }

    /// Per-pixel escape counts (`max_iter` = interior) into a profile with one-wide buckets.
    fn profile(counts: &[u32], max_iter: u32, interior_cost: u64, check: bool) -> WorkProfile {
        let edges: Vec<u32> = (0..max_iter.min(64)).collect();
        let mut hist = vec![0u64; edges.len()];
        let mut escaped_iterations = 0;
        for &n in counts.iter().filter(|&&n| n < max_iter) {
            hist[n as usize] += 1;
            escaped_iterations += u64::from(n);
        }
        let interior = counts.iter().filter(|&&n| n >= max_iter).count() as u64;
        let per = if check {
            interior_cost
        } else {
            u64::from(max_iter)
        };
        WorkProfile::new(
            counts.len() as u64,
            max_iter,
            check,
            escaped_iterations,
            escaped_iterations + interior * per,
            &edges,
            &hist,
        )
    }

    #[test]
    fn a_lower_limit_cuts_the_slow_escapers_and_the_interior_exactly() {
        // one-wide buckets: the estimate is exact
        let counts = [1, 2, 3, 10, 20, 40, 60, 60, 60];
        let w = profile(&counts, 60, 0, false);
        for limit in [5u32, 15, 30, 59, 60] {
            let exact: u64 = counts.iter().map(|&n| u64::from(n.min(limit))).sum();
            let got = w.estimate(&params(9, limit, false), None);
            assert!(
                (got - exact as f64).abs() < 1e-9,
                "limit {limit}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn interior_checks_use_the_measured_cost_or_the_hint() {
        let counts = [5, 5, 100, 100];
        // checks on, interior pixels ran 10 iterations each
        let on = profile(&counts, 100, 10, true);
        assert_eq!(on.interior_cost(), Some(10.0));
        assert_eq!(on.estimate(&params(4, 100, true), None), 30.0);
        // turning them off: the interior runs the whole limit
        assert_eq!(on.estimate(&params(4, 100, false), None), 210.0);
        // measured with them off: turning them on saves what the hint says, nothing without it
        let off = profile(&counts, 100, 0, false);
        assert_eq!(off.interior_cost(), None);
        assert_eq!(off.estimate(&params(4, 100, true), Some(12.0)), 34.0);
        assert_eq!(off.estimate(&params(4, 100, true), None), 210.0);
    }

    #[test]
    fn coarse_buckets_are_rescaled_to_the_exact_total() {
        let w = WorkProfile::new(3, 1000, false, 300, 1300, &[0, 64, 128, 256], &[0, 0, 2, 0]);
        // same parameters: exact
        assert_eq!(w.estimate(&params(3, 1000, false), None), 1300.0);
        // a limit inside the populated bucket: between the two extremes
        let mid = w.estimate(&params(3, 150, false), None);
        assert!(
            mid > 150.0 + 2.0 * 128.0 * 0.9 && mid < 3.0 * 150.0,
            "{mid}"
        );
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<WorkProfile>(&json).unwrap(), w);
    }
}
