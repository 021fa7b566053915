//! Whether two samples really differ: the Mann–Whitney U test (rank-based, so one outlier frame
//! cannot fake a regression) and the Hodges–Lehmann shift with its distribution-free confidence
//! interval — on the log scale when every value is positive, so a shift reads as a ratio.

use serde::{Deserialize, Serialize};

use crate::stats::sorted_finite;

/// A relative change with its confidence interval: `0.25` = 25 % more than the baseline.
///
/// ```
/// let e = rfm_perf_core::significance::Effect { estimate: 0.25, low: 0.1, high: 0.4 };
/// assert!(e.low <= e.estimate && e.estimate <= e.high);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Point estimate (Hodges–Lehmann).
    pub estimate: f64,
    /// Lower end of the confidence interval.
    pub low: f64,
    /// Upper end of the confidence interval.
    pub high: f64,
}

impl Effect {
    /// This change (positive = larger values) oriented by `direction` so that positive =
    /// worse: for higher-is-better metrics a grown value is better, so the sign flips.
    ///
    /// ```
    /// use rfm_perf_core::{Direction, significance::Effect};
    /// let grew = Effect { estimate: 0.2, low: 0.1, high: 0.3 };
    /// let worse = grew.oriented(Direction::HigherIsBetter);
    /// assert_eq!((worse.estimate, worse.low, worse.high), (-0.2, -0.3, -0.1));
    /// assert_eq!(grew.oriented(Direction::LowerIsBetter), grew);
    /// ```
    pub fn oriented(self, direction: crate::Direction) -> Effect {
        match direction {
            crate::Direction::HigherIsBetter => Effect {
                estimate: -self.estimate,
                low: -self.high,
                high: -self.low,
            },
            _ => self,
        }
    }
}

/// How a current sample compares with a baseline sample.
///
/// ```
/// use rfm_perf_core::significance::compare_samples;
/// let base: Vec<f64> = (0..30).map(|i| 10.0 + (i % 5) as f64 * 0.1).collect();
/// let slow: Vec<f64> = base.iter().map(|v| v * 1.5).collect();
/// let c = compare_samples(&base, &slow, 0.01).unwrap();
/// assert!(c.p_value < 1e-6);
/// assert!((c.change.estimate - 0.5).abs() < 0.02);
/// assert!(c.change.low > 0.4 && c.change.high < 0.6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleComparison {
    /// Two-sided p-value of the Mann–Whitney U test (normal approximation with tie and
    /// continuity corrections).
    pub p_value: f64,
    /// Relative change of the current sample against the baseline (not oriented: positive =
    /// larger values), with a `1 − alpha` confidence interval.
    pub change: Effect,
    /// Finite baseline values used.
    pub baseline_samples: usize,
    /// Finite current values used.
    pub current_samples: usize,
}

/// Compares `current` with `baseline` (non-finite values dropped); `None` when either side has
/// fewer than 2 values. The change is `exp(shift) − 1` of the Hodges–Lehmann shift of the log
/// values when every value is positive, else the shift relative to the baseline's |median|.
pub fn compare_samples(baseline: &[f64], current: &[f64], alpha: f64) -> Option<SampleComparison> {
    let a = sorted_finite(baseline);
    let b = sorted_finite(current);
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    Some(compare_sorted(&a, &b, alpha))
}

/// The p-value alone (what deciding needs; the effect's interval costs more), of samples as
/// [`compare_samples`] takes them; `None` when either side has fewer than 2 finite values.
///
/// ```
/// let p = rfm_perf_core::significance::p_value(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5]).unwrap();
/// assert!(p > 0.3);
/// ```
pub fn p_value(baseline: &[f64], current: &[f64]) -> Option<f64> {
    let a = sorted_finite(baseline);
    let b = sorted_finite(current);
    (a.len() >= 2 && b.len() >= 2).then(|| mann_whitney_p(&a, &b))
}

fn compare_sorted(a: &[f64], b: &[f64], alpha: f64) -> SampleComparison {
    let p_value = mann_whitney_p(a, b);
    let alpha = if alpha.is_finite() && alpha > 0.0 && alpha < 1.0 {
        alpha
    } else {
        0.01
    };
    let positive = a[0] > 0.0 && b[0] > 0.0;
    let change = if positive {
        let la: Vec<f64> = a.iter().map(|v| v.ln()).collect();
        let lb: Vec<f64> = b.iter().map(|v| v.ln()).collect();
        let s = hodges_lehmann(&la, &lb, alpha);
        Effect {
            estimate: s.estimate.exp_m1(),
            low: s.low.exp_m1(),
            high: s.high.exp_m1(),
        }
    } else {
        let s = hodges_lehmann(a, b, alpha);
        let scale = crate::stats::quantile_sorted(a, 0.5).abs();
        let scale = if scale > 0.0 { scale } else { 1.0 };
        Effect {
            estimate: s.estimate / scale,
            low: s.low / scale,
            high: s.high / scale,
        }
    };
    SampleComparison {
        p_value,
        change,
        baseline_samples: a.len(),
        current_samples: b.len(),
    }
}

/// Compares paired samples — `current[i]` measured under the same conditions as
/// `baseline[i]` (the same frame of a fixed benchmark path) — by the per-pair differences (of
/// log values when every value is positive): the sign test, and the change as the median
/// difference with the sign test's distribution-free `1 − alpha` interval (so the p-value and
/// the interval always agree). Pairing
/// removes the variation between pairs, so a path whose frames differ tenfold still shows a
/// 5 % slowdown. `None` when the lengths differ or fewer than 2 pairs are finite.
///
/// ```
/// use rfm_perf_core::significance::compare_paired;
/// // a path whose frames cost 1..10 ms, then the same path 5 % slower (± 1 %)
/// let a: Vec<f64> = (0..60).map(|i| 1.0 + (i % 10) as f64).collect();
/// let b: Vec<f64> = a.iter().enumerate().map(|(i, v)| v * (1.05 + 0.01 * ((i % 3) as f64 - 1.0))).collect();
/// let c = compare_paired(&a, &b, 0.01).unwrap();
/// assert!(c.p_value < 1e-6);
/// assert!((c.change.estimate - 0.05).abs() < 0.01 && c.change.low > 0.03);
/// ```
pub fn compare_paired(baseline: &[f64], current: &[f64], alpha: f64) -> Option<SampleComparison> {
    if baseline.len() != current.len() {
        return None;
    }
    let pairs: Vec<(f64, f64)> = baseline
        .iter()
        .zip(current)
        .map(|(&a, &b)| (a, b))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if pairs.len() < 2 {
        return None;
    }
    let positive = pairs.iter().all(|&(a, b)| a > 0.0 && b > 0.0);
    let scale = if positive {
        1.0
    } else {
        let mut a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let m = crate::stats::median_in_place(&mut a).abs();
        if m > 0.0 { m } else { 1.0 }
    };
    let mut d: Vec<f64> = pairs
        .iter()
        .map(|&(a, b)| {
            if positive {
                b.ln() - a.ln()
            } else {
                (b - a) / scale
            }
        })
        .collect();
    let p_value = sign_test_p(&d);
    d.sort_by(f64::total_cmp);
    let n = d.len();
    let z = normal_quantile(1.0 - alpha.clamp(1e-12, 0.5) / 2.0);
    let k = ((n as f64 / 2.0 - z * (n as f64).sqrt() / 2.0)
        .floor()
        .max(0.0) as usize)
        .min(n - 1);
    let as_change = |x: f64| if positive { x.exp_m1() } else { x };
    Some(SampleComparison {
        p_value,
        change: Effect {
            estimate: as_change(crate::stats::quantile_sorted(&d, 0.5)),
            low: as_change(d[k]),
            high: as_change(d[n - 1 - k]),
        },
        baseline_samples: n,
        current_samples: n,
    })
}

/// Two-sided p-value of the sign test of differences `d` (zeros dropped; normal approximation
/// of the binomial with continuity correction): the test that matches the median's interval.
fn sign_test_p(d: &[f64]) -> f64 {
    let positive = d.iter().filter(|x| **x > 0.0).count() as f64;
    let n = d.iter().filter(|x| **x != 0.0).count() as f64;
    if n == 0.0 {
        return 1.0;
    }
    let z = ((positive - n / 2.0).abs() - 0.5).max(0.0) / (n.sqrt() / 2.0);
    (2.0 * normal_upper_tail(z)).min(1.0)
}

/// Two-sided p-value of the Mann–Whitney U test of sorted finite samples `a` and `b`.
///
/// ```
/// use rfm_perf_core::significance::mann_whitney_p;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let b = [11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0];
/// assert!(mann_whitney_p(&a, &b) < 0.001);
/// assert!(mann_whitney_p(&a, &a) > 0.9);
/// ```
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    // ranks of the merged samples, ties averaged; the tie correction's Σ(t³ − t)
    let (mut i, mut j) = (0, 0);
    let mut rank = 1.0;
    let mut rank_sum_a = 0.0;
    let mut ties = 0.0;
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let (mut ca, mut cb) = (0.0, 0.0);
        while a.get(i) == Some(&v) {
            ca += 1.0;
            i += 1;
        }
        while b.get(j) == Some(&v) {
            cb += 1.0;
            j += 1;
        }
        let t = ca + cb;
        let mean_rank = rank + (t - 1.0) / 2.0;
        rank_sum_a += ca * mean_rank;
        ties += t * t * t - t;
        rank += t;
    }
    let u = rank_sum_a - n * (n + 1.0) / 2.0;
    let total = n + m;
    let variance = n * m / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    if variance <= 0.0 {
        // every value equal: no evidence of a difference
        return 1.0;
    }
    let z = ((u - n * m / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * normal_upper_tail(z)).min(1.0)
}

/// The Hodges–Lehmann shift of sorted `b` against sorted `a` — the median of all `b_j − a_i` —
/// with the distribution-free `1 − alpha` interval (Moses): the order statistics of the
/// pairwise differences at the normal approximation of the U distribution's quantiles.
pub fn hodges_lehmann(a: &[f64], b: &[f64], alpha: f64) -> Effect {
    let (n, m) = (a.len() as f64, b.len() as f64);
    let pairs = a.len() * b.len();
    if pairs == 0 {
        return Effect {
            estimate: 0.0,
            low: 0.0,
            high: 0.0,
        };
    }
    let z = normal_quantile(1.0 - alpha / 2.0);
    let k = (n * m / 2.0 - z * (n * m * (n + m + 1.0) / 12.0).sqrt()).floor();
    let k = (k.max(0.0) as usize).min(pairs - 1);
    let median = if pairs % 2 == 1 {
        kth_difference(a, b, pairs / 2)
    } else {
        0.5 * (kth_difference(a, b, pairs / 2 - 1) + kth_difference(a, b, pairs / 2))
    };
    Effect {
        estimate: median,
        low: kth_difference(a, b, k),
        high: kth_difference(a, b, pairs - 1 - k),
    }
}

/// The `k`-th smallest (0-based) of the pairwise differences `b_j − a_i` of sorted samples,
/// without forming them: bisection on the value to 1e-9 of the differences' range, counting
/// differences at or below it with two pointers (O((n + m) · 30)).
fn kth_difference(a: &[f64], b: &[f64], k: usize) -> f64 {
    let (Some(&a0), Some(&a1), Some(&b0), Some(&b1)) = (a.first(), a.last(), b.first(), b.last())
    else {
        return 0.0;
    };
    let count_at_most = |x: f64| -> usize {
        // for each b_j, the a_i with b_j − a_i ≤ x, i.e. a_i ≥ b_j − x
        let mut i = 0;
        let mut count = 0;
        for &bj in b {
            while i < a.len() && a[i] < bj - x {
                i += 1;
            }
            count += a.len() - i;
        }
        count
    };
    let (mut lo, mut hi) = (b0 - a1, b1 - a0);
    let tolerance = 1e-9 * (hi - lo);
    for _ in 0..64 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi || hi - lo <= tolerance {
            break;
        }
        if count_at_most(mid) > k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// P(Z > z) of a standard normal (erfc, Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
///
/// ```
/// let z = rfm_perf_core::significance::normal_quantile(0.995);
/// assert!((z - 2.5758).abs() < 1e-3);
/// ```
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_differences_match_brute_force() {
        let a = [1.0, 2.0, 2.0, 5.0, 9.0];
        let b = [0.5, 3.0, 4.0, 4.0, 7.0, 10.0];
        let mut all: Vec<f64> = b
            .iter()
            .flat_map(|bj| a.iter().map(move |ai| bj - ai))
            .collect();
        all.sort_by(f64::total_cmp);
        for (k, want) in all.iter().enumerate() {
            let got = kth_difference(&a, &b, k);
            assert!((got - want).abs() < 1e-7, "k {k}: {got} vs {want}");
        }
    }

    #[test]
    fn p_values_are_uniform_enough_and_ties_do_not_break_them() {
        assert_eq!(mann_whitney_p(&[3.0; 10], &[3.0; 12]), 1.0);
        // two-sided, n = m = 10, U = 0: exact p = 2 / C(20, 10) ≈ 1.08e-5
        let a: Vec<f64> = (0..10).map(f64::from).collect();
        let b: Vec<f64> = (10..20).map(f64::from).collect();
        let p = mann_whitney_p(&a, &b);
        assert!(p < 1e-3 && p > 1e-6, "{p}");
    }

    #[test]
    fn normal_tails_and_quantiles_agree() {
        for p in [0.001, 0.01, 0.05, 0.3, 0.5, 0.9, 0.995] {
            let z = normal_quantile(p);
            assert!((1.0 - normal_upper_tail(z) - p).abs() < 1e-6, "{p}");
        }
    }
}
