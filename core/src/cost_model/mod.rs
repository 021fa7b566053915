//! A cost model of an escape-time render pass: what a parameter set will cost on this machine,
//! learnt online from the frames it measures.
//!
//! Two steps. The **work** a parameter set means on the current view comes from the newest
//! measured frame's [`WorkProfile`] (its escape histogram and exact totals). The **time** that
//! work takes comes from a weighted ridge fit per arithmetic ([`OnlineRidge`], relative error,
//! forgetting old frames): `gpu_ms ≈ a + b·megapixels + c·mega-iterations`, and
//! `frame_ms ≈ d + e·gpu_ms`. Each observation is first predicted from the frames before it
//! (prequential scoring: the [`PrequentialScore`] and the prediction interval come from these
//! honest out-of-sample errors), then learnt.
//!
//! ```
//! use rfm_perf_core::cost_model::{PassCostModel, PassObservation, PassParams, WorkProfile};
//! let mut model = PassCostModel::default();
//! let params = PassParams { pixels: 100_000, max_iter: 500, arithmetic: "f32".into(), interior_check: false };
//! for frame in 0..60 {
//!     // 100 000 pixels along a zoom: some escape after 20 iterations, the rest run the limit
//!     let escaped = 40_000 + 500 * frame;
//!     let computed = 20 * escaped + 500 * (100_000 - escaped);
//!     let work = WorkProfile::new(100_000, 500, false, 20 * escaped, computed, &[0, 16, 32], &[0, escaped, 0]);
//!     let gpu_ms = 0.5 + 0.2 * computed as f64 / 1e6; // 0.2 ms per million iterations
//!     model.observe(&PassObservation { params: params.clone(), work, gpu_ms, frame_ms: Some(gpu_ms + 2.0) });
//! }
//! // what half the iteration limit would cost on the newest view (69 500 pixels escaped)
//! let p = model.predict(&PassParams { max_iter: 250, ..params }).unwrap();
//! let expected = 0.5 + 0.2 * (20.0 * 69_500.0 + 250.0 * 30_500.0) / 1e6;
//! assert!((p.gpu_ms - expected).abs() < 0.05 * expected, "{p:?} vs {expected}");
//! assert!(p.frame_ms.unwrap() > p.gpu_ms);
//! assert!(model.score().mape().unwrap() < 0.01);
//! ```

mod fixed_array;
mod ridge;
mod work;

pub use ridge::OnlineRidge;
pub use work::{PassParams, WORK_BUCKETS, WorkProfile};

use serde::{Deserialize, Serialize};

/// Observations before prequential scoring starts (the fit is still settling).
pub const DEFAULT_WARMUP: u64 = 30;
/// Recent prequential errors the prediction interval is taken from.
const RESIDUALS: usize = 128;
/// Errors needed before an interval is given.
const MIN_RESIDUALS: usize = 8;

/// One measured frame: the parameters it ran with, the work it did, its times.
#[derive(Clone, Debug, PartialEq)]
pub struct PassObservation {
    /// The parameters of the frame.
    pub params: PassParams,
    /// The work it did (its own escape histogram and totals).
    pub work: WorkProfile,
    /// GPU time of the pass (ms).
    pub gpu_ms: f64,
    /// The app's frame time around it (ms), when known.
    pub frame_ms: Option<f64>,
}

/// A prediction with its interval (the central [`PassCostModel::coverage`] share of recent
/// prequential errors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostPrediction {
    /// Predicted GPU time of the pass (ms).
    pub gpu_ms: f64,
    /// Lower end of the interval (ms), when enough frames were scored.
    pub gpu_ms_low: Option<f64>,
    /// Upper end of the interval (ms).
    pub gpu_ms_high: Option<f64>,
    /// Predicted frame time (ms), once frame times were observed.
    pub frame_ms: Option<f64>,
    /// Lower end of the frame-time interval (ms).
    pub frame_ms_low: Option<f64>,
    /// Upper end of the frame-time interval (ms).
    pub frame_ms_high: Option<f64>,
    /// Iterations the pass would really run.
    pub iterations: f64,
    /// Frames the fit for this arithmetic has learnt from.
    pub observations: u64,
}

/// Why no prediction can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PredictError {
    /// No frame measured yet.
    #[error("no frame of the pass has been measured yet")]
    NoData,
    /// No frame measured in this arithmetic yet.
    #[error("no frame has been measured in {0} arithmetic yet")]
    UnmeasuredArithmetic(String),
}

/// How well the model predicted frames it had not seen (prequential: each predicted before it
/// was learnt), after the warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PrequentialScore {
    /// Observations seen.
    pub observed: u64,
    /// Observations scored (after the warm-up, with a prediction available).
    pub scored: u64,
    /// Sum of |predicted − measured| / measured over the scored ones.
    pub abs_pct_error_sum: f64,
    /// Scored observations whose measured time lay inside the prediction interval.
    pub within_interval: u64,
    /// Scored observations that had an interval.
    pub with_interval: u64,
}

impl PrequentialScore {
    /// Mean absolute percentage error as a share (0.1 = 10 %), once something was scored.
    pub fn mape(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.abs_pct_error_sum / self.scored as f64)
    }

    /// Share of measured times inside their prediction interval.
    pub fn interval_coverage(&self) -> Option<f64> {
        (self.with_interval > 0).then(|| self.within_interval as f64 / self.with_interval as f64)
    }
}

/// The fit for one arithmetic: GPU ms from `[1, megapixels, mega-iterations]`. Iterations in
/// millions are the largest feature by far, so while frames repeat (a still view) the ridge's
/// smallest-change solution puts the cost on the iterations, where the physics puts it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ArithmeticFit {
    name: String,
    fit: OnlineRidge<3>,
}

/// The GPU-time fit's features.
fn features(params: &PassParams, iterations: f64) -> [f64; 3] {
    [1.0, params.megapixels(), iterations / 1e6]
}

/// The cost model: see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassCostModel {
    fits: Vec<ArithmeticFit>,
    frame: OnlineRidge<2>,
    /// The newest frame's work: what candidates are estimated from.
    latest: Option<(PassParams, WorkProfile)>,
    /// Iterations per interior pixel with the checks on, newest seen (for candidates that turn
    /// them on while the newest frame had them off).
    interior_cost: Option<f64>,
    /// Recent prequential errors as measured / predicted − 1, a ring.
    residuals: Vec<f64>,
    next_residual: usize,
    score: PrequentialScore,
    warmup: u64,
    forgetting: f64,
    coverage: f64,
}

impl Default for PassCostModel {
    fn default() -> Self {
        Self::new(0.95, DEFAULT_WARMUP)
    }
}

impl PassCostModel {
    /// A model forgetting `forgetting` per frame (0.95 ≈ the last 20 frames weigh most) that
    /// starts scoring after `warmup` observations. Interval coverage 90 %.
    pub fn new(forgetting: f64, warmup: u64) -> Self {
        Self {
            fits: Vec::new(),
            frame: OnlineRidge::new([0.0, 1.0], forgetting).nonnegative(),
            latest: None,
            interior_cost: None,
            residuals: Vec::with_capacity(RESIDUALS),
            next_residual: 0,
            score: PrequentialScore::default(),
            warmup,
            forgetting,
            coverage: 0.9,
        }
    }

    /// The share of measured times the prediction interval aims to hold.
    pub fn coverage(&self) -> f64 {
        self.coverage
    }

    /// The prequential score so far.
    pub fn score(&self) -> PrequentialScore {
        self.score
    }

    /// The newest frame's parameters, the base for what-if predictions.
    pub fn latest_params(&self) -> Option<&PassParams> {
        self.latest.as_ref().map(|(p, _)| p)
    }

    /// The learnt GPU time per iteration (ns) of each arithmetic measured, with the frames
    /// behind it: how much dearer one arithmetic is than another on this machine.
    pub fn cost_per_iteration(&self) -> impl Iterator<Item = (&str, f64, u64)> {
        // the fit's coefficient is in ms per million iterations: the same number in ns each
        self.fits.iter().map(|f| {
            (
                f.name.as_str(),
                f.fit.coefficients()[2],
                f.fit.observations(),
            )
        })
    }

    /// Frames learnt from.
    pub fn observations(&self) -> u64 {
        self.score.observed
    }

    /// Predicts the cost of `params` on the newest frame's view.
    ///
    /// # Errors
    /// [`PredictError::NoData`] before any frame, [`PredictError::UnmeasuredArithmetic`] for an
    /// arithmetic never measured.
    pub fn predict(&self, params: &PassParams) -> Result<CostPrediction, PredictError> {
        if self.latest.is_none() {
            return Err(PredictError::NoData);
        }
        let fit = self
            .fits
            .iter()
            .find(|f| f.name == params.arithmetic)
            .ok_or_else(|| PredictError::UnmeasuredArithmetic(params.arithmetic.to_string()));
        self.predict_with(params, fit?)
    }

    /// The fit measured most: where a new arithmetic's fit starts.
    fn most_measured(&self) -> Option<&ArithmeticFit> {
        self.fits.iter().max_by_key(|f| f.fit.observations())
    }

    fn predict_with(
        &self,
        params: &PassParams,
        fit: &ArithmeticFit,
    ) -> Result<CostPrediction, PredictError> {
        let (_, work) = self.latest.as_ref().ok_or(PredictError::NoData)?;
        let iterations = work.estimate(params, self.interior_cost);
        let floor = 1e-3;
        let gpu_ms = fit.fit.predict(features(params, iterations)).max(floor);
        let (low, high) = self.interval();
        let frame_ms = (self.frame.observations() > 0)
            .then(|| self.frame.predict([1.0, gpu_ms]).max(gpu_ms.min(floor)));
        let scale =
            |v: Option<f64>, r: Option<f64>| v.zip(r).map(|(v, r)| (v * (1.0 + r)).max(0.0));
        Ok(CostPrediction {
            gpu_ms,
            gpu_ms_low: scale(Some(gpu_ms), low),
            gpu_ms_high: scale(Some(gpu_ms), high),
            frame_ms,
            frame_ms_low: scale(frame_ms, low),
            frame_ms_high: scale(frame_ms, high),
            iterations,
            observations: fit.fit.observations(),
        })
    }

    /// The interval's ends as relative errors (measured / predicted − 1): the central
    /// `coverage` of recent prequential errors.
    fn interval(&self) -> (Option<f64>, Option<f64>) {
        let n = self.residuals.len();
        if n < MIN_RESIDUALS {
            return (None, None);
        }
        let mut sorted = [0.0; RESIDUALS];
        sorted[..n].copy_from_slice(&self.residuals);
        let sorted = &mut sorted[..n];
        sorted.sort_unstable_by(f64::total_cmp);
        let tail = (1.0 - self.coverage) / 2.0;
        let at = |q: f64| sorted[((q * (n - 1) as f64).round() as usize).min(n - 1)];
        // the interval holds the prediction itself, however one-sided the recent errors
        (Some(at(tail).min(0.0)), Some(at(1.0 - tail).max(0.0)))
    }

    /// Scores `obs` against what the model predicted for it from the frames before, then learns
    /// it. Returns the prediction it was scored against (before the warm-up too).
    pub fn observe(&mut self, obs: &PassObservation) -> Option<CostPrediction> {
        if !(obs.gpu_ms.is_finite() && obs.gpu_ms > 0.0) {
            return None;
        }
        // a frame in an arithmetic not measured before is scored too, against what its new
        // fit starts from
        let prediction = match self.predict(&obs.params) {
            Err(PredictError::UnmeasuredArithmetic(_)) => self
                .most_measured()
                .and_then(|f| self.predict_with(&obs.params, f).ok()),
            other => other.ok(),
        };
        self.score.observed += 1;
        if let Some(p) = &prediction {
            let ratio = obs.gpu_ms / p.gpu_ms - 1.0;
            if self.score.observed > self.warmup {
                self.score.scored += 1;
                self.score.abs_pct_error_sum += (p.gpu_ms - obs.gpu_ms).abs() / obs.gpu_ms;
                if let (Some(lo), Some(hi)) = (p.gpu_ms_low, p.gpu_ms_high) {
                    self.score.with_interval += 1;
                    if (lo..=hi).contains(&obs.gpu_ms) {
                        self.score.within_interval += 1;
                    }
                }
            }
            if self.residuals.len() < RESIDUALS {
                self.residuals.push(ratio);
            } else {
                self.residuals[self.next_residual] = ratio;
            }
            self.next_residual = (self.next_residual + 1) % RESIDUALS;
        }
        let x = features(&obs.params, obs.work.iterations_computed as f64);
        let weight = 1.0 / (obs.gpu_ms * obs.gpu_ms);
        match self
            .fits
            .iter_mut()
            .find(|f| f.name == obs.params.arithmetic)
        {
            Some(f) => f.fit.update(x, obs.gpu_ms, weight),
            None => {
                // a new arithmetic starts from the fit measured most (its cost per iteration
                // is learnt within a few frames)
                let prior = self
                    .most_measured()
                    .map_or([0.0; 3], |f| f.fit.coefficients());
                let mut fit = OnlineRidge::new(prior, self.forgetting).nonnegative();
                fit.update(x, obs.gpu_ms, weight);
                self.fits.push(ArithmeticFit {
                    name: obs.params.arithmetic.to_string(),
                    fit,
                });
            }
        }
        if let Some(frame_ms) = obs.frame_ms.filter(|v| v.is_finite() && *v > 0.0) {
            self.frame
                .update([1.0, obs.gpu_ms], frame_ms, 1.0 / (frame_ms * frame_ms));
        }
        if let Some(c) = obs.work.interior_cost() {
            self.interior_cost = Some(c);
        }
        self.latest = Some((obs.params.clone(), obs.work));
        prediction
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::SeededRng;

    fn params(max_iter: u32, arithmetic: &'static str) -> PassParams {
        PassParams {
            pixels: 250_000,
            max_iter,
            arithmetic: arithmetic.into(),
            interior_check: false,
        }
    }

    /// A synthetic pass: `share` of the pixels escape uniformly over 1..=64, the rest run the
    /// limit; cost 0.3 ms + 0.2 ms/M iterations in f32, 1.2 ms/M in df64, ±3 % noise.
    fn frame(rng: &mut SeededRng, share: f64, p: &PassParams) -> PassObservation {
        let escaped = (share * p.pixels as f64) as u64;
        let edges: Vec<u32> = (0..64).collect();
        let counts: Vec<u64> = (0..64)
            .map(|i| if i == 0 { 0 } else { escaped / 63 })
            .collect();
        let escaped = escaped / 63 * 63;
        let escaped_iterations = escaped / 63 * (1..64).sum::<u64>();
        let computed = escaped_iterations + (p.pixels - escaped) * u64::from(p.max_iter);
        let per_m = if p.arithmetic == "df64" { 1.2 } else { 0.2 };
        let gpu_ms =
            (0.3 + per_m * computed as f64 / 1e6) * (1.0 + 0.03 * (2.0 * rng.uniform() - 1.0));
        PassObservation {
            params: p.clone(),
            work: WorkProfile::new(
                p.pixels,
                p.max_iter,
                false,
                escaped_iterations,
                computed,
                &edges,
                &counts,
            ),
            gpu_ms,
            frame_ms: Some(gpu_ms + 4.0),
        }
    }

    #[test]
    fn prequential_error_on_a_drifting_synthetic_flythrough() {
        let mut rng = SeededRng(11);
        let mut model = PassCostModel::default();
        // the escaped share drifts like a zoom; the limit changes now and then; df64 late
        for i in 0..300u32 {
            let share = 0.5 + 0.4 * (f64::from(i) / 40.0).sin();
            let max_iter = [300, 600, 1000][(i / 50 % 3) as usize];
            let arithmetic = if i < 200 { "f32" } else { "df64" };
            model.observe(&frame(&mut rng, share, &params(max_iter, arithmetic)));
        }
        let score = model.score();
        assert_eq!(score.observed, 300);
        assert_eq!(score.scored, 270);
        let mape = score.mape().unwrap();
        assert!(mape < 0.10, "MAPE {mape}");
        let coverage = score.interval_coverage().unwrap();
        assert!(coverage > 0.7, "coverage {coverage}");
        // what-if: the learnt df64 cost per iteration
        let p = model.predict(&params(1000, "df64")).unwrap();
        let f32 = model.predict(&params(1000, "f32")).unwrap();
        assert!(p.gpu_ms > 4.0 * f32.gpu_ms, "{p:?} {f32:?}");
        assert!(p.gpu_ms_low.unwrap() < p.gpu_ms && p.gpu_ms < p.gpu_ms_high.unwrap());
    }

    #[test]
    fn no_prediction_without_data_or_for_an_unmeasured_arithmetic() {
        let mut model = PassCostModel::default();
        assert_eq!(
            model.predict(&params(100, "f32")),
            Err(PredictError::NoData)
        );
        let mut rng = SeededRng(3);
        assert!(
            model
                .observe(&frame(&mut rng, 0.5, &params(100, "f32")))
                .is_none()
        );
        assert!(matches!(
            model.predict(&params(100, "df64")),
            Err(PredictError::UnmeasuredArithmetic(a)) if a == "df64"
        ));
        // bad measurements are not learnt
        let mut bad = frame(&mut rng, 0.5, &params(100, "f32"));
        bad.gpu_ms = f64::NAN;
        assert!(model.observe(&bad).is_none());
        assert_eq!(model.observations(), 1);
    }
}
