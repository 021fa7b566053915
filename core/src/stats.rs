//! Statistics of raw samples, with one quantile definition for the whole crate.
//!
//! **Quantiles** use linear interpolation between closest ranks (Hyndman & Fan type 7, the
//! default of NumPy, R and spreadsheets' `PERCENTILE.INC`): for `n` sorted values and
//! `q ∈ [0, 1]`, `h = (n − 1)·q`, and the quantile is `v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])`.
//! The median of an even count is the mean of the middle two; `q = 0` is the minimum and
//! `q = 1` the maximum. Baselines, the benchmark report and the dashboard's timeline all use it.
//!
//! Scope statistics ([`ScopeStats`](crate::ScopeStats)) are different: they come from
//! fixed-size log histograms (so recording never stores every call), and their percentiles are
//! bucket approximations (within a few percent), not these exact values.
//!
//! ```
//! use rfm_perf_core::stats::{quantile, median};
//! assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
//! assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
//! assert!((quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap() - 4.8).abs() < 1e-12);
//! assert_eq!(quantile(&[], 0.5), None);
//! ```

use serde::{Deserialize, Serialize};

/// The `q` quantile (`0 ≤ q ≤ 1`, clamped) of values already sorted ascending, by the
/// crate's definition (see the module docs). NaN when `sorted` is empty.
///
/// ```
/// use rfm_perf_core::stats::quantile_sorted;
/// let v = [10.0, 20.0, 30.0, 40.0];
/// assert_eq!(quantile_sorted(&v, 0.0), 10.0);
/// assert_eq!(quantile_sorted(&v, 0.5), 25.0);
/// assert_eq!(quantile_sorted(&v, 1.0), 40.0);
/// ```
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = h - lo as f64;
    if frac == 0.0 {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }
}

/// The `q` quantile of `values` (any order; non-finite values are left out). `None` when no
/// finite value is left.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let sorted = sorted_finite(values);
    (!sorted.is_empty()).then(|| quantile_sorted(&sorted, q))
}

/// The median of `values` (the 0.5 quantile). `None` when no finite value is left.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The finite values of `values`, sorted ascending.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Median in O(n) of finite values; reorders them. NaN when empty.
///
/// ```
/// let mut v = [5.0, 1.0, 4.0, 2.0];
/// assert_eq!(rfm_perf_core::stats::median_in_place(&mut v), 3.0);
/// ```
pub fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (left, mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *mid;
    if n % 2 == 1 {
        return upper;
    }
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

/// p50 / p95 / p99 and mean of a series, by the crate's quantile definition.
///
/// ```
/// let p = rfm_perf_core::stats::Percentiles::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!((p.p50, p.mean), (2.5, 2.5));
/// assert!((p.p99 - 3.97).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// Of `values` (non-finite ones left out); `None` when no finite value is left.
    pub fn of(values: &[f64]) -> Option<Self> {
        let v = sorted_finite(values);
        if v.is_empty() {
            return None;
        }
        Some(Self {
            p50: quantile_sorted(&v, 0.50),
            p95: quantile_sorted(&v, 0.95),
            p99: quantile_sorted(&v, 0.99),
            mean: v.iter().sum::<f64>() / v.len() as f64,
        })
    }
}

/// Indices of `values` whose robust z-score `|x − median| / (1.4826 · MAD)` exceeds
/// `threshold`. When the MAD is 0 (more than half the values equal) the scale falls back to
/// `1.2533 · mean absolute deviation`; when that is 0 too nothing is flagged. Non-finite values
/// are ignored and never flagged; fewer than 3 finite values flag nothing.
///
/// ```
/// use rfm_perf_core::stats::robust_anomalies;
/// let v = [10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 60.0];
/// assert_eq!(robust_anomalies(&v, 3.5), vec![6]);
/// assert!(robust_anomalies(&[], 3.5).is_empty());
/// ```
pub fn robust_anomalies(values: &[f64], threshold: f64) -> Vec<usize> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 3 {
        return Vec::new();
    }
    let median = median_in_place(&mut finite);
    for v in &mut finite {
        *v = (*v - median).abs();
    }
    let mean_deviation = finite.iter().sum::<f64>() / finite.len() as f64;
    let mad = median_in_place(&mut finite);
    let scale = if mad > 0.0 {
        1.4826 * mad
    } else {
        1.2533 * mean_deviation
    };
    if scale.is_nan() || scale <= 0.0 {
        return Vec::new();
    }
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && (*v - median).abs() / scale > threshold)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: Option<f64>, want: f64) {
        let got = got.expect("a value");
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn quantiles_are_pinned_on_small_odd_and_even_samples() {
        let odd = [7.0, 1.0, 3.0, 5.0, 9.0]; // sorted 1 3 5 7 9
        assert_eq!(median(&odd), Some(5.0));
        assert_eq!(quantile(&odd, 0.25), Some(3.0));
        close(quantile(&odd, 0.95), 8.6); // h = 3.8 → 7 + 0.8·2
        assert_eq!(quantile(&odd, 0.0), Some(1.0));
        assert_eq!(quantile(&odd, 1.0), Some(9.0));

        let even = [4.0, 2.0, 8.0, 6.0]; // sorted 2 4 6 8
        assert_eq!(median(&even), Some(5.0));
        close(quantile(&even, 0.95), 7.7); // h = 2.85 → 6 + 0.85·2
        close(quantile(&even, 0.99), 7.94);

        assert_eq!(median(&[42.0]), Some(42.0));
        assert_eq!(quantile(&[42.0], 0.99), Some(42.0));
        assert_eq!(median(&[1.0, 2.0]), Some(1.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, f64::INFINITY]), None);
        assert_eq!(median(&[f64::NAN, 3.0, 1.0]), Some(2.0), "NaN left out");
    }

    #[test]
    fn the_in_place_median_agrees_with_the_quantile() {
        for v in [
            vec![3.0],
            vec![2.0, 1.0],
            vec![5.0, 1.0, 4.0, 2.0, 3.0],
            vec![1.0, 1.0, 1.0, 9.0],
        ] {
            let mut w = v.clone();
            assert_eq!(Some(median_in_place(&mut w)), median(&v), "{v:?}");
        }
    }

    #[test]
    fn percentiles_follow_the_quantile_definition() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&values).unwrap();
        assert_eq!(p.p50, 50.5);
        assert!((p.p95 - 95.05).abs() < 1e-9);
        assert!((p.p99 - 99.01).abs() < 1e-9);
        assert_eq!(p.mean, 50.5);
        assert_eq!(Percentiles::of(&[]), None);
    }

    #[test]
    fn robust_z_flags_spikes_only() {
        let mut v = vec![10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.3, 9.7];
        assert!(robust_anomalies(&v, 3.5).is_empty());
        v.push(25.0);
        assert_eq!(robust_anomalies(&v, 3.5), vec![8]);
        // a low outlier is flagged too
        v.push(-5.0);
        assert_eq!(robust_anomalies(&v, 3.5), vec![8, 9]);
    }

    #[test]
    fn robust_z_handles_flat_empty_and_non_finite_data() {
        assert!(robust_anomalies(&[], 3.5).is_empty());
        assert!(robust_anomalies(&[1.0, 100.0], 3.5).is_empty());
        assert!(robust_anomalies(&[5.0; 50], 3.5).is_empty());
        // MAD = 0: the mean-absolute-deviation fallback still finds the one spike
        let mut flat = vec![10.0; 99];
        flat.push(100.0);
        assert_eq!(robust_anomalies(&flat, 3.5), vec![99]);
        // NaN and infinities are skipped, not flagged, and do not poison the median
        let v = [1.0, f64::NAN, 1.1, 0.9, f64::INFINITY, 1.0, 1.05, 0.95, 9.0];
        assert_eq!(robust_anomalies(&v, 3.5), vec![8]);
    }
}
