//! Online weighted ridge regression with exponential forgetting: the least-squares fit a cost
//! model refits after every observation, in `O(N²)` memory and `O(N³)` time for `N` features
//! (a few), with no allocation.

use serde::{Deserialize, Serialize};

/// Least squares over `N` features, updated one observation at a time: minimises
/// `Σ fᵏ wᵢ (yᵢ − xᵢ·β)² + λ |β − prior|²`, where `f` is the forgetting factor (older
/// observations count `f` times less per newer one, so the fit follows a drifting cost) and
/// `λ` is a small multiple of the data's own scale (it keeps the fit defined while features
/// are collinear, e.g. the pixel count while the resolution never changes, and pulls
/// unexercised coefficients to the prior).
///
/// ```
/// use rfm_perf_core::cost_model::OnlineRidge;
/// let mut fit = OnlineRidge::<2>::new([0.0; 2], 1.0);
/// for x in 0..20 {
///     let x = f64::from(x);
///     fit.update([1.0, x], 3.0 + 2.0 * x, 1.0);
/// }
/// let [a, b] = fit.coefficients();
/// assert!((a - 3.0).abs() < 0.01 && (b - 2.0).abs() < 0.001, "{a} {b}");
/// assert!((fit.predict([1.0, 100.0]) - 203.0).abs() < 0.1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineRidge<const N: usize> {
    #[serde(with = "matrix")]
    xtx: [[f64; N]; N],
    #[serde(with = "super::fixed_array")]
    xty: [f64; N],
    #[serde(with = "super::fixed_array")]
    prior: [f64; N],
    #[serde(with = "super::fixed_array")]
    beta: [f64; N],
    forgetting: f64,
    observations: u64,
    #[serde(default)]
    nonnegative: bool,
}

/// λ as a share of the mean diagonal of `XᵀWX`.
const RIDGE: f64 = 1e-5;

impl<const N: usize> OnlineRidge<N> {
    /// An empty fit whose coefficients start at `prior`; `forgetting` in `(0, 1]` (1 = keep
    /// everything; 0.97 ≈ the last 33 observations).
    pub fn new(prior: [f64; N], forgetting: f64) -> Self {
        Self {
            xtx: [[0.0; N]; N],
            xty: [0.0; N],
            prior,
            beta: prior,
            forgetting: if forgetting.is_finite() {
                forgetting.clamp(0.5, 1.0)
            } else {
                1.0
            },
            observations: 0,
            nonnegative: false,
        }
    }

    /// Keeps every coefficient at or above zero (builder style): for costs, where an overhead,
    /// a cost per pixel and a cost per iteration are never negative, and a fit that trades one
    /// against another (collinear features) must not predict that fewer pixels cost more.
    ///
    /// ```
    /// use rfm_perf_core::cost_model::OnlineRidge;
    /// let mut fit = OnlineRidge::<2>::new([0.0; 2], 1.0).nonnegative();
    /// // y falls with x: the best non-negative fit is flat
    /// for x in 0..10 {
    ///     fit.update([1.0, f64::from(x)], 10.0 - f64::from(x) * 0.5, 1.0);
    /// }
    /// assert!(fit.coefficients()[1] >= 0.0);
    /// ```
    pub fn nonnegative(mut self) -> Self {
        self.nonnegative = true;
        self
    }

    /// Adds an observation `y ≈ x·β` with weight `weight` (e.g. `1/y²` to fit relative error)
    /// and refits. Non-finite inputs or a non-positive weight are ignored.
    pub fn update(&mut self, x: [f64; N], y: f64, weight: f64) {
        if !(y.is_finite() && weight.is_finite() && weight > 0.0 && x.iter().all(|v| v.is_finite()))
        {
            return;
        }
        let f = self.forgetting;
        for i in 0..N {
            for j in 0..N {
                self.xtx[i][j] = f * self.xtx[i][j] + weight * x[i] * x[j];
            }
            self.xty[i] = f * self.xty[i] + weight * x[i] * y;
        }
        self.observations += 1;
        if let Some(beta) = self.solve() {
            self.beta = beta;
        }
    }

    /// The ridge solution; with [`nonnegative`](Self::nonnegative), coefficients that come out
    /// negative are pinned to zero one at a time (the most negative first) and the rest refit.
    fn solve(&self) -> Option<[f64; N]> {
        let mut pinned = [false; N];
        loop {
            let beta = self.solve_with(&pinned)?;
            if !self.nonnegative {
                return Some(beta);
            }
            let worst = (0..N)
                .filter(|&i| !pinned[i] && beta[i] < 0.0)
                .min_by(|&a, &b| beta[a].total_cmp(&beta[b]));
            match worst {
                Some(i) => pinned[i] = true,
                None => return Some(beta),
            }
        }
    }

    /// `(XᵀWX + λI) β = XᵀWy + λ prior` by Cholesky over the coefficients not `pinned` (those
    /// are 0); `None` when not positive definite.
    fn solve_with(&self, pinned: &[bool; N]) -> Option<[f64; N]> {
        let trace: f64 = (0..N).map(|i| self.xtx[i][i]).sum();
        let lambda = RIDGE * trace / N as f64 + 1e-300;
        let mut a = self.xtx;
        let mut b = self.xty;
        for i in 0..N {
            a[i][i] += lambda;
            b[i] += lambda * self.prior[i];
        }
        for i in (0..N).filter(|&i| pinned[i]) {
            a[i] = [0.0; N];
            for row in a.iter_mut() {
                row[i] = 0.0;
            }
            a[i][i] = 1.0;
            b[i] = 0.0;
        }
        // a = L Lᵀ, in place (lower triangle)
        for j in 0..N {
            let d = a[j][j] - a[j][..j].iter().map(|v| v * v).sum::<f64>();
            if !(d > 0.0 && d.is_finite()) {
                return None;
            }
            let d = d.sqrt();
            a[j][j] = d;
            for i in j + 1..N {
                let s = a[i][j]
                    - a[i][..j]
                        .iter()
                        .zip(&a[j][..j])
                        .map(|(x, y)| x * y)
                        .sum::<f64>();
                a[i][j] = s / d;
            }
        }
        // L z = b, then Lᵀ β = z
        for i in 0..N {
            for k in 0..i {
                b[i] -= a[i][k] * b[k];
            }
            b[i] /= a[i][i];
        }
        for i in (0..N).rev() {
            for k in i + 1..N {
                b[i] -= a[k][i] * b[k];
            }
            b[i] /= a[i][i];
        }
        b.iter().all(|v| v.is_finite()).then_some(b)
    }

    /// `x·β` with the current coefficients.
    pub fn predict(&self, x: [f64; N]) -> f64 {
        x.iter().zip(&self.beta).map(|(x, b)| x * b).sum()
    }

    /// The current coefficients (the prior before any observation).
    pub fn coefficients(&self) -> [f64; N] {
        self.beta
    }

    /// Observations added so far.
    pub fn observations(&self) -> u64 {
        self.observations
    }
}

/// serde for the N×N matrix: its rows one after another.
mod matrix {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer, const N: usize>(
        m: &[[f64; N]; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.iter()
            .flatten()
            .copied()
            .collect::<Vec<f64>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[[f64; N]; N], D::Error> {
        let v = Vec::<f64>::deserialize(d)?;
        if v.len() != N * N {
            return Err(serde::de::Error::invalid_length(v.len(), &"N×N numbers"));
        }
        Ok(std::array::from_fn(|i| {
            std::array::from_fn(|j| v[i * N + j])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::SeededRng;

    #[test]
    fn recovers_noisy_coefficients_and_follows_a_drift() {
        let mut rng = SeededRng(7);
        let mut fit = OnlineRidge::<3>::new([0.0; 3], 0.98);
        for i in 0..400 {
            let (p, it) = (rng.uniform() + 0.5, rng.uniform() * 3.0);
            // the cost per iteration doubles half-way
            let slope = if i < 200 { 4.0 } else { 8.0 };
            let y = (1.0 + 2.0 * p + slope * it) * (1.0 + 0.02 * (rng.uniform() - 0.5));
            fit.update([1.0, p, it], y, 1.0 / (y * y));
        }
        let b = fit.coefficients();
        assert!((b[2] - 8.0).abs() < 0.3, "{b:?}");
        assert_eq!(fit.observations(), 400);
    }

    #[test]
    fn collinear_features_stay_defined_and_bad_input_is_ignored() {
        let mut fit = OnlineRidge::<3>::new([0.0; 3], 0.97);
        for it in 0..50 {
            let it = f64::from(it) / 10.0;
            // the pixel count never changes: columns 0 and 1 are proportional
            fit.update([1.0, 0.25, it], 2.0 + 3.0 * it, 1.0);
        }
        fit.update([f64::NAN, 0.0, 0.0], 1.0, 1.0);
        fit.update([1.0, 0.25, 1.0], f64::INFINITY, 1.0);
        fit.update([1.0, 0.25, 1.0], 5.0, 0.0);
        assert_eq!(fit.observations(), 50);
        assert!((fit.predict([1.0, 0.25, 2.0]) - 8.0).abs() < 0.05);
        assert!(fit.coefficients().iter().all(|b| b.is_finite()));
    }

    #[test]
    fn round_trips_through_json() {
        let mut fit = OnlineRidge::<2>::new([1.0, 0.0], 0.9);
        fit.update([1.0, 2.0], 3.0, 1.0);
        let back: OnlineRidge<2> =
            serde_json::from_str(&serde_json::to_string(&fit).unwrap()).unwrap();
        assert_eq!(back, fit);
    }
}
