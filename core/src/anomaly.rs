//! Online anomalies of one metric, second by second: **spikes** (a value whose robust z-score
//! against the recent seconds exceeds 3.5) and **level shifts** (CUSUM on per-second medians,
//! of log values when every value is positive). Per-second medians, not frames: at 60 fps a
//! per-frame CUSUM would false-alarm every few seconds.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::stats::median_in_place;

/// Robust z-score past which a value is a spike: `|0.6745 (x − median) / MAD|`.
pub const SPIKE_Z: f64 = 3.5;
/// CUSUM slack, in standard deviations of the per-second median.
pub const CUSUM_K: f64 = 0.5;
/// CUSUM decision level, in standard deviations (≤ 1 false shift in 30 min of stationary
/// noise at one point a second, tested).
pub const CUSUM_H: f64 = 8.0;
/// Seconds of reference the detector keeps.
pub const REFERENCE_SECONDS: usize = 30;
/// Seconds of reference before the detector judges (after a start or a level shift).
pub const WARM_UP_SECONDS: usize = 20;
/// Smallest noise scale of the per-second median, relative (0.5 %): a metric steadier than
/// this is not alarmed on by tiny moves.
pub const MIN_RELATIVE_SIGMA: f64 = 0.005;

/// Spike or level shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// One value far from the recent ones.
    Spike,
    /// The level moved and stayed.
    LevelShift,
}

/// One anomaly found in a metric.
///
/// ```
/// use rfm_perf_core::{Anomaly, AnomalyKind};
/// let a = Anomaly { metric: "frame.time_ms".into(), kind: AnomalyKind::Spike, unix_s: 1.0, value: 90.0, score: 12.0, change: 4.0 };
/// assert_eq!(serde_json::to_value(&a).unwrap()["kind"], "spike");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Metric name.
    pub metric: String,
    /// Kind.
    pub kind: AnomalyKind,
    /// When (seconds since the Unix epoch): the sample's time, or the second the shift was
    /// decided in.
    pub unix_s: f64,
    /// The value (a spike's sample, or the new level's per-second median).
    pub value: f64,
    /// How strong: the robust z-score, or the CUSUM statistic (in standard deviations).
    pub score: f64,
    /// Relative change against the reference level (`0.2` = 20 % above).
    pub change: f64,
}

#[derive(Clone, Copy, Debug)]
struct Second {
    /// Median of the second (log scale when `log`).
    median: f64,
    /// MAD of the second's values (same scale).
    mad: f64,
    /// Mean absolute deviation (the fallback scale when the MAD is 0).
    mean_abs_dev: f64,
    /// Values in the second.
    count: usize,
}

/// The detector of one metric: feed it each whole second of samples, in order.
///
/// ```
/// use rfm_perf_core::{AnomalyDetector, AnomalyKind};
/// let mut d = AnomalyDetector::default();
/// let mut found = Vec::new();
/// for s in 0..60 {
///     let level = if s < 30 { 10.0 } else { 13.0 }; // +30 % from second 30
///     let values: Vec<(f64, f64)> = (0..60).map(|i| (s as f64 + i as f64 / 60.0, level * (1.0 + 0.01 * ((i * 7) % 5) as f64))).collect();
///     found.extend(d.push_second(&values));
/// }
/// let shift = found.iter().find(|a| a.0 == AnomalyKind::LevelShift).unwrap();
/// assert!(shift.1 >= 30.0 && shift.1 < 33.0);
/// assert!((shift.4 - 0.3).abs() < 0.05);
/// ```
#[derive(Clone, Debug, Default)]
pub struct AnomalyDetector {
    reference: VecDeque<Second>,
    /// The reference's statistics kept sorted, so its medians cost no selection per second.
    sorted: SortedReference,
    /// Whether the metric is judged on the log scale (every value so far positive).
    linear: bool,
    up: f64,
    down: f64,
    /// Reused for the second's statistics (bit patterns of non-negative values).
    scratch: Vec<u64>,
    /// Consecutive seconds in which the values only rose (a running count such as
    /// `frame.count`): past the warm-up the metric is a counter, with no level to judge.
    rising_seconds: usize,
    last_value: Option<f64>,
}

/// What [`AnomalyDetector::push_second`] found: kind, time, value, score, change.
pub type Finding = (AnomalyKind, f64, f64, f64, f64);

impl AnomalyDetector {
    /// Judges one second of `(unix_s, value)` samples against the reference and then learns
    /// from it. Non-finite values are ignored.
    pub fn push_second(&mut self, samples: &[(f64, f64)]) -> Vec<Finding> {
        let finite: std::borrow::Cow<'_, [(f64, f64)]> = if samples.iter().all(|p| p.1.is_finite())
        {
            std::borrow::Cow::Borrowed(samples)
        } else {
            samples
                .iter()
                .copied()
                .filter(|(_, v)| v.is_finite())
                .collect()
        };
        let mut out = Vec::new();
        if finite.is_empty() {
            return out;
        }
        if !self.linear && finite.iter().any(|&(_, v)| v <= 0.0) {
            // a value at or below zero: judge this metric on the linear scale from now on
            self.linear = true;
            self.reset();
        }
        let rising = finite
            .iter()
            .map(|p| p.1)
            .try_fold(self.last_value.unwrap_or(f64::NEG_INFINITY), |prev, v| {
                (v >= prev).then_some(v)
            })
            .is_some_and(|last| Some(last) != self.last_value);
        self.last_value = finite.last().map(|p| p.1);
        self.rising_seconds = if rising { self.rising_seconds + 1 } else { 0 };
        if self.rising_seconds >= WARM_UP_SECONDS {
            // a counter: nothing to judge, and no reference to keep
            self.reset();
            return out;
        }
        let unscale = |v: f64| if self.linear { v } else { v.exp() };
        let second = summarize(&finite, &mut self.scratch, !self.linear);
        let ready = self.reference.len() >= WARM_UP_SECONDS;
        let mut shifting = false;
        if ready {
            let level = self.sorted.level();
            let mut within = median_of_sorted(&self.sorted.mads);
            if within <= 0.0 {
                // mean absolute deviation → MAD units (normal: MAD ≈ 0.8453 · MeanAD)
                within = 0.8453 * median_of_sorted(&self.sorted.mean_abs_devs);
            }
            let spread = self.sorted.spread(level);
            let relative = |x: f64| {
                if self.linear {
                    if level != 0.0 {
                        (x - level) / level.abs()
                    } else {
                        0.0
                    }
                } else {
                    (x - level).exp_m1()
                }
            };
            // spikes: each value against the reference level and the within-second spread,
            // as bounds on the raw values (no logarithm per sample)
            if within > 0.0 {
                let reach = SPIKE_Z * within / 0.6745;
                let (low, high) = (unscale(level - reach), unscale(level + reach));
                for &(t, v) in finite.iter() {
                    if v > high || v < low {
                        let x = if self.linear { v } else { v.ln() };
                        let z = 0.6745 * (x - level) / within;
                        out.push((AnomalyKind::Spike, t, v, z.abs(), relative(x)));
                    }
                }
            }
            // level shifts: two-sided CUSUM of the second's median
            let floor = if self.linear {
                MIN_RELATIVE_SIGMA * level.abs()
            } else {
                MIN_RELATIVE_SIGMA
            };
            // the noise of a second's median, estimated twice — from the spread of the
            // reference medians, and from the spread within seconds (SE of a median ≈
            // 1.2533 σ / √n) — the larger wins, so an unlucky reference never shrinks it
            let between = 1.4826 * spread;
            let n = self.sorted.counts as f64 / self.reference.len().max(1) as f64;
            let within_se = 1.2533 * 1.4826 * within / n.max(1.0).sqrt();
            let sigma = between.max(within_se).max(floor);
            if sigma > 0.0 {
                let z = (second.median - level) / sigma;
                self.up = (self.up + z - CUSUM_K).max(0.0);
                self.down = (self.down - z - CUSUM_K).max(0.0);
                let score = self.up.max(self.down);
                shifting = score > CUSUM_H / 2.0;
                if score > CUSUM_H {
                    let t = finite.last().map_or(0.0, |p| p.0);
                    out.push((
                        AnomalyKind::LevelShift,
                        t,
                        unscale(second.median),
                        score,
                        relative(second.median),
                    ));
                    // a new level: learn it from this second on
                    self.reset();
                    self.learn(second);
                    return out;
                }
            }
        }
        // learn only from seconds that do not look like a shift in progress
        if !shifting {
            self.learn(second);
            while self.reference.len() > REFERENCE_SECONDS {
                if let Some(old) = self.reference.pop_front() {
                    self.sorted.remove(&old);
                }
            }
        }
        out
    }

    fn learn(&mut self, second: Second) {
        self.sorted.insert(&second);
        self.reference.push_back(second);
    }

    fn reset(&mut self) {
        self.reference.clear();
        self.sorted = SortedReference::default();
        self.up = 0.0;
        self.down = 0.0;
    }
}

/// The reference seconds' medians and spreads, each kept sorted (30 values: an insertion or a
/// removal moves a few words), and their sample counts summed.
#[derive(Clone, Debug, Default)]
struct SortedReference {
    medians: Vec<f64>,
    mads: Vec<f64>,
    mean_abs_devs: Vec<f64>,
    counts: usize,
}

fn insert_sorted(v: &mut Vec<f64>, x: f64) {
    let at = v.partition_point(|y| y.total_cmp(&x).is_lt());
    v.insert(at, x);
}

fn remove_sorted(v: &mut Vec<f64>, x: f64) {
    if let Ok(at) = v.binary_search_by(|y| y.total_cmp(&x)) {
        v.remove(at);
    }
}

/// The median of a sorted slice (the mean of the middle two of an even count), as
/// [`median_in_place`] computes it.
fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl SortedReference {
    fn insert(&mut self, s: &Second) {
        insert_sorted(&mut self.medians, s.median);
        insert_sorted(&mut self.mads, s.mad);
        insert_sorted(&mut self.mean_abs_devs, s.mean_abs_dev);
        self.counts += s.count;
    }

    fn remove(&mut self, s: &Second) {
        remove_sorted(&mut self.medians, s.median);
        remove_sorted(&mut self.mads, s.mad);
        remove_sorted(&mut self.mean_abs_devs, s.mean_abs_dev);
        self.counts -= s.count;
    }

    /// The median of the seconds' medians.
    fn level(&self) -> f64 {
        median_of_sorted(&self.medians)
    }

    /// The median distance of the seconds' medians from `level`: the distances come in
    /// increasing order from two cursors walking outward from `level` (no sort, no selection).
    fn spread(&self, level: f64) -> f64 {
        median_distance_sorted(self.medians.len(), |i| self.medians[i], level)
    }
}

/// The second's median and spreads, on the log scale when `log` (the median's logarithm and
/// the spreads relative to the median: their first-order log-scale values, without a
/// logarithm per sample).
fn summarize(samples: &[(f64, f64)], scratch: &mut Vec<u64>, log: bool) -> Second {
    let n = samples.len();
    let mean_of_deviations =
        |median: f64| samples.iter().map(|p| (p.1 - median).abs()).sum::<f64>() / n.max(1) as f64;
    let (median, mad, mean_abs_dev) = if log {
        // every value is positive: positive finite values order like their bit patterns, so
        // one integer sort gives the median, and the MAD comes from walking out from it
        scratch.clear();
        scratch.extend(samples.iter().map(|p| p.1.to_bits()));
        scratch.sort_unstable();
        let sorted = |i: usize| f64::from_bits(scratch[i]);
        let median = if n % 2 == 1 {
            sorted(n / 2)
        } else {
            (sorted(n / 2 - 1) + sorted(n / 2)) / 2.0
        };
        let mad = median_distance_sorted(n, sorted, median);
        (median, mad, mean_of_deviations(median))
    } else {
        let mut values: Vec<f64> = samples.iter().map(|p| p.1).collect();
        let median = median_in_place(&mut values);
        for v in values.iter_mut() {
            *v = (*v - median).abs();
        }
        let mad = median_in_place(&mut values);
        (median, mad, mean_of_deviations(median))
    };
    let (median, scale) = if log {
        (median.ln(), median)
    } else {
        (median, 1.0)
    };
    Second {
        median,
        mad: mad / scale,
        mean_abs_dev: mean_abs_dev / scale,
        count: n,
    }
}

/// The median distance from `center` of `n` values in ascending order (`at(i)` the i-th): the
/// distances come in increasing order from two cursors walking outward from `center` (no sort,
/// no selection), as [`median_in_place`] of the distances computes it.
fn median_distance_sorted(n: usize, at: impl Fn(usize) -> f64, center: f64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    // first index at or above the center
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid) < center {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let (mut left, mut right) = (lo, lo);
    let (mut prev, mut cur) = (f64::NAN, f64::NAN);
    for _ in 0..=n / 2 {
        let below = (left > 0).then(|| (at(left - 1) - center).abs());
        let above = (right < n).then(|| (at(right) - center).abs());
        let next = match (below, above) {
            (Some(b), Some(a)) if b <= a => {
                left -= 1;
                b
            }
            (_, Some(a)) => {
                right += 1;
                a
            }
            (Some(b), None) => {
                left -= 1;
                b
            }
            (None, None) => break,
        };
        prev = cur;
        cur = next;
    }
    if n % 2 == 1 { cur } else { (prev + cur) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_rng::SeededRng as Rng;

    /// One second of 60 log-normal frame times around `level` (spread `sigma`).
    fn second(rng: &mut Rng, s: usize, level: f64, sigma: f64) -> Vec<(f64, f64)> {
        (0..60)
            .map(|i| {
                (
                    s as f64 + i as f64 / 60.0,
                    level * (sigma * rng.normal()).exp(),
                )
            })
            .collect()
    }

    #[test]
    fn a_seconds_summary_equals_selections_over_its_values() {
        let mut rng = Rng(78);
        for n in 1..80 {
            let samples: Vec<(f64, f64)> = (0..n)
                .map(|i| (i as f64, (rng.normal() * 3.0).exp().max(f64::MIN_POSITIVE)))
                .collect();
            let mut values: Vec<f64> = samples.iter().map(|p| p.1).collect();
            let median = median_in_place(&mut values);
            let mut dev: Vec<f64> = samples.iter().map(|p| (p.1 - median).abs()).collect();
            let mad = median_in_place(&mut dev);
            let s = summarize(&samples, &mut Vec::new(), true);
            assert_eq!(s.median, median.ln(), "n {n}");
            assert_eq!(s.mad, mad / median, "n {n}");
            let lin = summarize(&samples, &mut Vec::new(), false);
            assert_eq!((lin.median, lin.mad), (median, mad), "n {n}");
        }
    }

    #[test]
    fn the_sorted_reference_gives_the_medians_a_selection_gives() {
        let mut rng = Rng(77);
        let mut r = SortedReference::default();
        let mut live: VecDeque<Second> = VecDeque::new();
        for step in 0..400 {
            // values on a coarse grid, so ties and equal distances occur
            let s = Second {
                median: (rng.normal() * 4.0).round() / 4.0,
                mad: (rng.normal().abs() * 8.0).round() / 8.0,
                mean_abs_dev: rng.normal().abs(),
                count: 50 + step % 20,
            };
            r.insert(&s);
            live.push_back(s);
            if live.len() > 1 + step % 31 {
                let old = live.pop_front().unwrap();
                r.remove(&old);
            }
            let mut scratch: Vec<f64> = live.iter().map(|s| s.median).collect();
            let level = median_in_place(&mut scratch);
            assert_eq!(r.level().to_bits(), level.to_bits(), "step {step}");
            let mut d: Vec<f64> = live.iter().map(|s| (s.median - level).abs()).collect();
            assert_eq!(
                r.spread(level).to_bits(),
                median_in_place(&mut d).to_bits(),
                "step {step}"
            );
            let mut m: Vec<f64> = live.iter().map(|s| s.mad).collect();
            assert_eq!(
                median_of_sorted(&r.mads),
                median_in_place(&mut m),
                "step {step}"
            );
            assert_eq!(r.counts, live.iter().map(|s| s.count).sum::<usize>());
        }
    }

    #[test]
    fn at_most_one_false_level_shift_in_30_minutes_of_stationary_noise() {
        for (seed, sigma) in [(1u64, 0.05), (2, 0.1), (3, 0.3)] {
            let mut rng = Rng(seed);
            let mut d = AnomalyDetector::default();
            let shifts: usize = (0..1800)
                .map(|s| {
                    let v = second(&mut rng, s, 16.0, sigma);
                    d.push_second(&v)
                        .iter()
                        .filter(|f| f.0 == AnomalyKind::LevelShift)
                        .count()
                })
                .sum();
            assert!(shifts <= 1, "σ {sigma}: {shifts} false level shifts");
        }
    }

    #[test]
    fn a_20_percent_step_is_found_within_10_seconds() {
        for (seed, sigma) in [(4u64, 0.05), (5, 0.1), (6, 0.3)] {
            let mut rng = Rng(seed);
            let mut d = AnomalyDetector::default();
            let mut found_at = None;
            for s in 0..120 {
                let level = if s < 60 { 16.0 } else { 16.0 * 1.2 };
                let v = second(&mut rng, s, level, sigma);
                let hit = d.push_second(&v);
                if s < 60 {
                    assert!(
                        hit.iter().all(|f| f.0 != AnomalyKind::LevelShift),
                        "σ {sigma}: shift before the step at {s}"
                    );
                } else if found_at.is_none()
                    && let Some(f) = hit.iter().find(|f| f.0 == AnomalyKind::LevelShift)
                {
                    found_at = Some(s);
                    assert!((f.4 - 0.2).abs() < 0.1, "σ {sigma}: change {}", f.4);
                }
            }
            let at = found_at.unwrap_or(usize::MAX);
            assert!(at < 70, "σ {sigma}: found at second {at}");
        }
    }

    #[test]
    fn injected_5_sigma_spikes_are_recalled_at_90_percent() {
        let sigma = 0.1;
        let mut rng = Rng(9);
        let mut d = AnomalyDetector::default();
        let (mut injected, mut recalled, mut false_spikes) = (0, 0, 0);
        for s in 0..600 {
            let mut v = second(&mut rng, s, 16.0, sigma);
            let spike_at = (s % 3 == 0 && s >= WARM_UP_SECONDS).then(|| (s * 17) % 60);
            if let Some(i) = spike_at {
                // 5 σ above, in log units
                v[i].1 = 16.0 * (5.0 * sigma).exp() * (sigma * rng.normal()).exp().max(1.0);
                injected += 1;
            }
            for f in d.push_second(&v) {
                if f.0 != AnomalyKind::Spike {
                    continue;
                }
                match spike_at {
                    Some(i) if (f.1 - v[i].0).abs() < 1e-9 => recalled += 1,
                    _ => false_spikes += 1,
                }
            }
        }
        let recall = recalled as f64 / injected as f64;
        assert!(recall >= 0.9, "recall {recall}");
        // |z| > 3.5 on normal noise flags about 0.05 % of samples
        assert!(false_spikes < 600 * 60 / 500, "{false_spikes} false spikes");
    }

    #[test]
    fn constant_and_non_positive_series_are_handled() {
        let mut d = AnomalyDetector::default();
        for s in 0..40 {
            let v: Vec<(f64, f64)> = (0..60).map(|i| (s as f64 + i as f64 / 60.0, 5.0)).collect();
            assert!(d.push_second(&v).is_empty(), "constant series: nothing");
        }
        // zeros and negatives: linear scale, no NaN
        let mut d = AnomalyDetector::default();
        for s in 0..40 {
            let v: Vec<(f64, f64)> = (0..60)
                .map(|i| (s as f64 + i as f64 / 60.0, f64::from(i % 3) - 1.0))
                .collect();
            for f in d.push_second(&v) {
                assert!(f.2.is_finite() && f.3.is_finite() && f.4.is_finite());
            }
        }
        assert!(d.push_second(&[(0.0, f64::NAN)]).is_empty());
    }

    #[test]
    fn running_counts_are_not_level_shifts() {
        let mut d = AnomalyDetector::default();
        let mut count = 0.0;
        for s in 0..600 {
            let v: Vec<(f64, f64)> = (0..60)
                .map(|i| {
                    count += 1.0;
                    (s as f64 + f64::from(i) / 60.0, count)
                })
                .collect();
            assert!(d.push_second(&v).is_empty(), "second {s}");
        }
    }
}
