//! Where the fractal pass spends its work: the escaped pixels' iteration counts in log-spaced
//! buckets, and the iterations really computed per tile of the image. Written by the fractal
//! pass from what the GPU sums each frame, read by the dashboard, the API and the analysis.

use bevy::prelude::Resource;
use rfm_perf_core::cost_model::{PassParams, WorkProfile};
use serde::{Deserialize, Serialize};

/// Buckets of the escape histogram (one per invocation of the pass's 8×8 workgroup).
pub const ESCAPE_BUCKETS: usize = 64;
/// Side of a cost tile in pixels.
pub const COST_TILE_SIZE: u32 = 32;

/// What the GPU pass cost, frame by frame: the escape histogram and the cost grid of the
/// newest frame read back.
///
/// ```
/// use rfm_perf::{EscapeHistogram, PassCost};
/// let cost = PassCost::default();
/// assert!(cost.tiles.iterations.is_empty());
/// assert_eq!(EscapeHistogram::edges_for(1000)[0], 0);
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Serialize)]
pub struct PassCost {
    /// Generation of the parameters the frame was rendered with.
    pub generation: u32,
    /// Iteration limit of the frame.
    pub max_iter: u32,
    /// Pixels rendered.
    pub pixels: u64,
    /// Iterations of the escaped pixels, summed (exact: the nominal total less the interior
    /// pixels' `max_iter` each).
    pub escaped_iterations: u64,
    /// Iterations the pass really ran (fewer than the nominal total with interior checks).
    pub iterations_computed: u64,
    /// The arithmetic the pass used (`"f32"`, `"df64"`, …; empty when unknown).
    pub arithmetic: &'static str,
    /// Whether its interior checks were on.
    pub interior_check: bool,
    /// Whether the pass colours by cost (the heatmap) instead of the palette.
    pub heatmap: bool,
    /// Escaped pixels by the iteration they escaped at.
    pub histogram: EscapeHistogram,
    /// Iterations computed per tile.
    pub tiles: CostTiles,
}

impl PassCost {
    /// The parameters this frame ran with, as the cost model reads them.
    ///
    /// ```
    /// let cost = rfm_perf::PassCost { pixels: 64, max_iter: 100, arithmetic: "f32", ..Default::default() };
    /// assert_eq!(cost.params().arithmetic, "f32");
    /// ```
    pub fn params(&self) -> PassParams {
        PassParams {
            pixels: self.pixels,
            max_iter: self.max_iter,
            arithmetic: self.arithmetic.into(),
            interior_check: self.interior_check,
        }
    }

    /// This frame's work (its totals and escape histogram), as the cost model reads it.
    ///
    /// ```
    /// use rfm_perf::{EscapeHistogram, PassCost};
    /// let cost = PassCost {
    ///     pixels: 3, max_iter: 10, escaped_iterations: 4, iterations_computed: 14,
    ///     histogram: EscapeHistogram::from_counts(&[1, 3, 10], 10), ..Default::default()
    /// };
    /// assert_eq!(cost.work_profile().interior(), 1);
    /// ```
    pub fn work_profile(&self) -> WorkProfile {
        WorkProfile::new(
            self.pixels,
            self.max_iter,
            self.interior_check,
            self.escaped_iterations,
            self.iterations_computed,
            &self.histogram.edges,
            &self.histogram.counts,
        )
    }
}

/// Escaped pixels in up to [`ESCAPE_BUCKETS`] log-spaced buckets of their iteration count,
/// log-linear (as HdrHistogram): one iteration wide up to `2^(s+1)`, then `2^s` buckets per
/// octave, with `s` ([`EscapeHistogram::sub_bits_for`]) the largest that fits the iteration
/// limit in 64 buckets — 8 per octave (≤ 12.5 % wide) at a limit of 1000. The pass computes a
/// bucket with a few integer operations, so the long tail near the limit is resolved as well
/// as the fast-escaping bulk at little cost.
///
/// ```
/// use rfm_perf::EscapeHistogram;
/// let edges = EscapeHistogram::edges_for(1000);
/// assert_eq!(&edges[..4], &[0, 1, 2, 3]);
/// assert!(edges.windows(2).all(|w| w[0] < w[1]));
/// assert!(edges[63] < 1000);
/// assert_eq!(EscapeHistogram::bucket_of(999, EscapeHistogram::sub_bits_for(1000)), 63);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EscapeHistogram {
    /// Lower edge of each bucket in use (strictly increasing; a bucket holds the counts from its
    /// edge up to the next edge, the last one up to `max_iter − 1`).
    pub edges: Vec<u32>,
    /// Escaped pixels per bucket.
    pub counts: Vec<u64>,
    /// Iteration limit (pixels that reach it are interior, not counted).
    pub max_iter: u32,
}

impl EscapeHistogram {
    /// Sub-bucket bits for an iteration limit: the most (at most 5) with which every escape
    /// count below `max_iter` has a bucket under [`ESCAPE_BUCKETS`].
    ///
    /// ```
    /// use rfm_perf::EscapeHistogram;
    /// assert_eq!(EscapeHistogram::sub_bits_for(64), 5); // one bucket per count
    /// assert_eq!(EscapeHistogram::sub_bits_for(1000), 3);
    /// assert_eq!(EscapeHistogram::sub_bits_for(1 << 24), 1); // two per octave
    /// ```
    pub fn sub_bits_for(max_iter: u32) -> u32 {
        let top = max_iter.max(1) - 1;
        (0..=5)
            .rev()
            .find(|&s| Self::bucket_of(top, s) < ESCAPE_BUCKETS)
            .unwrap_or(0)
    }

    /// The bucket of an escape at iteration `n` with `sub_bits` = s: `n` below `2^(s+1)`,
    /// above that the octave and the `s` bits after the leading one (the pass's formula).
    pub fn bucket_of(n: u32, sub_bits: u32) -> usize {
        let s = sub_bits.min(5);
        if n < (2 << s) {
            return n as usize;
        }
        let e = 31 - n.leading_zeros();
        ((e - s) * (1 << s) + (n >> (e - s))) as usize
    }

    /// The lower edges of the 64 buckets for `max_iter` (inverting [`bucket_of`]); buckets that
    /// would start at or beyond `max_iter` are unused and hold `u32::MAX`.
    ///
    /// [`bucket_of`]: EscapeHistogram::bucket_of
    pub fn edges_for(max_iter: u32) -> [u32; ESCAPE_BUCKETS] {
        let s = Self::sub_bits_for(max_iter);
        std::array::from_fn(|b| {
            let b = b as u64;
            let edge = if b < (2 << s) {
                b
            } else {
                let q = b - (2 << s);
                let e = u64::from(s) + 1 + (q >> s);
                let m = (1u64 << s) + (q & ((1 << s) - 1));
                m.checked_shl((e - u64::from(s)) as u32).unwrap_or(u64::MAX)
            };
            if edge < u64::from(max_iter) {
                edge as u32
            } else {
                u32::MAX
            }
        })
    }

    /// A histogram of `counts` (per-pixel iteration counts, `max_iter` meaning interior) as the
    /// pass builds it.
    ///
    /// ```
    /// use rfm_perf::EscapeHistogram;
    /// let h = EscapeHistogram::from_counts(&[1, 1, 5, 100], 100);
    /// assert_eq!(h.escaped(), 3);
    /// assert_eq!(h.counts[1], 2);
    /// ```
    pub fn from_counts(counts: &[u32], max_iter: u32) -> Self {
        let s = Self::sub_bits_for(max_iter);
        let mut buckets = [0u64; ESCAPE_BUCKETS];
        for &n in counts.iter().filter(|&&n| n < max_iter) {
            buckets[Self::bucket_of(n, s)] += 1;
        }
        Self::from_buckets(&buckets, max_iter)
    }

    /// The histogram from the pass's 64 bucket counts (the unused buckets are dropped).
    pub fn from_buckets(buckets: &[u64; ESCAPE_BUCKETS], max_iter: u32) -> Self {
        let edges = Self::edges_for(max_iter);
        let used = edges.iter().take_while(|&&e| e != u32::MAX).count();
        Self {
            edges: edges[..used].to_vec(),
            counts: buckets[..used].to_vec(),
            max_iter,
        }
    }

    /// Escaped pixels counted.
    pub fn escaped(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Buckets as `(first, last, pixels)`: the iteration counts each holds, inclusive.
    ///
    /// ```
    /// use rfm_perf::EscapeHistogram;
    /// let h = EscapeHistogram::from_counts(&[0, 3], 4);
    /// let b: Vec<_> = h.buckets().collect();
    /// assert_eq!(b, vec![(0, 0, 1), (1, 1, 0), (2, 2, 0), (3, 3, 1)]);
    /// ```
    pub fn buckets(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        self.edges.iter().enumerate().map(|(i, &first)| {
            let last = self
                .edges
                .get(i + 1)
                .map_or(self.max_iter.saturating_sub(1), |&next| next - 1);
            (first, last, self.counts[i])
        })
    }

    /// The iteration count by which a share `q` (0..=1) of the escaped pixels had escaped: the
    /// last iteration of the bucket where the running count reaches it (an upper bound, exact
    /// to the bucket). `None` without escaped pixels.
    ///
    /// ```
    /// use rfm_perf::EscapeHistogram;
    /// let h = EscapeHistogram::from_counts(&[2, 2, 2, 40], 1000);
    /// assert_eq!(h.quantile(0.5), Some(2));
    /// assert!(h.quantile(1.0).unwrap() >= 40);
    /// ```
    pub fn quantile(&self, q: f64) -> Option<u32> {
        let total = self.escaped();
        if total == 0 {
            return None;
        }
        let need = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        self.buckets()
            .find(|&(_, _, n)| {
                seen += n;
                seen >= need
            })
            .map(|(_, last, _)| last)
    }
}

/// Iterations computed per [`COST_TILE_SIZE`]² tile of the image, row-major (the tiles of the
/// right and bottom edges may be partly outside it).
///
/// ```
/// use rfm_perf::CostTiles;
/// let t = CostTiles { tile_size: 32, columns: 2, rows: 1, iterations: vec![30, 10] };
/// assert_eq!(t.total(), 40);
/// assert_eq!(t.share_of_hottest(0.5), 0.75);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CostTiles {
    /// Side of a tile in pixels.
    pub tile_size: u32,
    /// Tiles per row.
    pub columns: u32,
    /// Rows of tiles.
    pub rows: u32,
    /// Iterations computed in each tile, row-major.
    pub iterations: Vec<u64>,
}

impl CostTiles {
    /// Tiles per row and rows for an image of `width × height` pixels.
    ///
    /// ```
    /// assert_eq!(rfm_perf::CostTiles::grid(1280, 800), (40, 25));
    /// assert_eq!(rfm_perf::CostTiles::grid(33, 1), (2, 1));
    /// ```
    pub fn grid(width: u32, height: u32) -> (u32, u32) {
        (
            width.div_ceil(COST_TILE_SIZE),
            height.div_ceil(COST_TILE_SIZE),
        )
    }

    /// Iterations computed in all tiles.
    pub fn total(&self) -> u64 {
        self.iterations.iter().sum()
    }

    /// The share of all work done in the hottest `fraction` of the tiles (at least one): 0.1
    /// gives how concentrated the cost is; an even image gives about `fraction`.
    pub fn share_of_hottest(&self, fraction: f64) -> f64 {
        let total = self.total();
        if total == 0 || self.iterations.is_empty() {
            return 0.0;
        }
        let mut sorted = self.iterations.clone();
        let k = ((fraction.clamp(0.0, 1.0) * sorted.len() as f64).round() as usize)
            .clamp(1, sorted.len());
        sorted.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        sorted[..k].iter().sum::<u64>() as f64 / total as f64
    }

    /// The tile at column `x`, row `y`.
    pub fn get(&self, x: u32, y: u32) -> Option<u64> {
        (x < self.columns && y < self.rows)
            .then(|| {
                self.iterations
                    .get((y * self.columns + x) as usize)
                    .copied()
            })
            .flatten()
    }
}

/// The heatmap's colour ramp, dark (cheap) to bright (costly), as `(position, sRGB)` stops:
/// the pass colours pixels with it and the dashboard draws its legend and tile grid with it.
pub const HEAT_STOPS: [(f32, [u8; 3]); 6] = [
    (0.0, [0, 0, 4]),
    (0.2, [40, 11, 84]),
    (0.4, [120, 28, 109]),
    (0.6, [203, 65, 73]),
    (0.8, [248, 148, 32]),
    (1.0, [252, 255, 164]),
];

/// The ramp's colour at `t` in 0..=1 (interpolated in sRGB, as the pass does).
///
/// ```
/// assert_eq!(rfm_perf::heat_color(0.0), [0, 0, 4]);
/// assert_eq!(rfm_perf::heat_color(1.0), [252, 255, 164]);
/// ```
pub fn heat_color(t: f32) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = HEAT_STOPS
        .iter()
        .position(|s| s.0 >= t)
        .unwrap_or(HEAT_STOPS.len() - 1)
        .max(1);
    let (a, b) = (HEAT_STOPS[i - 1], HEAT_STOPS[i]);
    let f = (t - a.0) / (b.0 - a.0);
    std::array::from_fn(|c| {
        (f32::from(a.1[c]) + (f32::from(b.1[c]) - f32::from(a.1[c])) * f).round() as u8
    })
}

/// Where on the heatmap's log scale `iterations` lies for a limit of `max_iter`:
/// `log(1 + iterations) / log(1 + max_iter)`, and back with [`heat_iterations`].
///
/// ```
/// assert_eq!(rfm_perf::heat_position(0, 1000), 0.0);
/// assert_eq!(rfm_perf::heat_position(1000, 1000), 1.0);
/// ```
pub fn heat_position(iterations: u32, max_iter: u32) -> f32 {
    let max = (1.0 + f64::from(max_iter.max(1))).ln();
    ((1.0 + f64::from(iterations)).ln() / max).min(1.0) as f32
}

/// The iteration count at position `t` of the heatmap's scale (the legend's tick labels).
///
/// ```
/// assert_eq!(rfm_perf::heat_iterations(0.5, 99), 9);
/// ```
pub fn heat_iterations(t: f32, max_iter: u32) -> u32 {
    ((1.0 + f64::from(max_iter)).powf(f64::from(t.clamp(0.0, 1.0))) - 1.0).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_start_linear_grow_geometrically_and_stay_below_the_limit() {
        for max_iter in [1u32, 2, 10, 63, 64, 65, 100, 1000, 5000, 1 << 24] {
            let e = EscapeHistogram::edges_for(max_iter);
            let used: Vec<u32> = e.iter().copied().take_while(|&x| x != u32::MAX).collect();
            assert_eq!(used[0], 0, "{max_iter}");
            assert!(used.windows(2).all(|w| w[0] < w[1]), "{max_iter}: {used:?}");
            assert!(used.iter().all(|&x| x < max_iter), "{max_iter}");
            // every count below the limit has a bucket, the last one holds the limit − 1
            let s = EscapeHistogram::sub_bits_for(max_iter);
            assert_eq!(
                used.len(),
                EscapeHistogram::bucket_of(max_iter - 1, s) + 1,
                "{max_iter}"
            );
            assert!(e[used.len()..].iter().all(|&x| x == u32::MAX));
            // and the top bucket starts within an octave of the limit
            assert!(u64::from(*used.last().unwrap()) * 2 >= u64::from(max_iter - 1));
        }
        // 1000 iterations use all 64 buckets
        assert!(EscapeHistogram::edges_for(1000).iter().all(|&x| x < 1000));
    }

    #[test]
    fn every_count_lands_in_the_bucket_that_holds_it() {
        let h = EscapeHistogram::from_counts(&[], 1000);
        for n in 0..1000 {
            let b = EscapeHistogram::bucket_of(n, EscapeHistogram::sub_bits_for(1000));
            let (first, last, _) = h.buckets().nth(b).unwrap();
            assert!(
                first <= n && n <= last,
                "{n} in bucket {b} = {first}..={last}"
            );
        }
    }

    #[test]
    fn interior_pixels_are_not_counted_and_quantiles_bound_the_counts() {
        let counts: Vec<u32> = (0..1000).chain(std::iter::repeat_n(1000, 500)).collect();
        let h = EscapeHistogram::from_counts(&counts, 1000);
        assert_eq!(h.escaped(), 1000);
        for q in [0.1, 0.5, 0.9, 0.99] {
            let v = h.quantile(q).unwrap();
            let exact = (q * 1000.0).ceil() as u32 - 1;
            assert!(v >= exact, "q {q}: {v} < {exact}");
            // a bucket is at most ~11 % of its edge wide at 1000 iterations
            assert!(f64::from(v) <= f64::from(exact) * 1.125 + 1.0, "q {q}: {v}");
        }
        assert_eq!(EscapeHistogram::from_counts(&[5, 5], 5).quantile(0.5), None);
    }

    #[test]
    fn heat_scale_round_trips_and_the_ramp_brightens() {
        for n in [0u32, 1, 9, 99, 500, 1000] {
            let t = heat_position(n, 1000);
            assert!(heat_iterations(t, 1000).abs_diff(n) <= 1, "{n}");
        }
        let luma = |c: [u8; 3]| u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2]);
        let ramp: Vec<u32> = (0..=10)
            .map(|i| luma(heat_color(i as f32 / 10.0)))
            .collect();
        assert!(ramp.windows(2).all(|w| w[0] < w[1]), "{ramp:?}");
    }

    #[test]
    fn tile_concentration() {
        let even = CostTiles {
            tile_size: 32,
            columns: 10,
            rows: 1,
            iterations: vec![5; 10],
        };
        assert!((even.share_of_hottest(0.1) - 0.1).abs() < 1e-12);
        assert_eq!(even.get(9, 0), Some(5));
        assert_eq!(even.get(10, 0), None);
        assert_eq!(CostTiles::default().share_of_hottest(0.1), 0.0);
    }
}
