//! The cost model as the analysis publishes it, and what-if predictions for tunable changes:
//! the dashboard, the API (`GET /api/performance/predict`) and the suggestion rules ask it what
//! a parameter set would cost.

use rfm_perf_core::cost_model::{CostPrediction, PassCostModel, PassParams, PredictError};
use serde::Serialize;

use super::insights::PredictedGain;
use super::tunables::{Tunable, TunableError, name_ends_with, scaled_pixels};

/// A tunable parameter's state as the cost model reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TunableValue {
    /// Name.
    pub name: String,
    /// Current value.
    pub value: f64,
    /// Allowed values.
    pub min: f64,
    /// Allowed values.
    pub max: f64,
    /// Granularity, when it has one.
    pub step: Option<f64>,
    /// Names of its discrete values.
    pub labels: Vec<(f64, String)>,
}

impl From<&Tunable> for TunableValue {
    fn from(t: &Tunable) -> Self {
        Self {
            name: t.name.clone(),
            value: t.value(),
            min: *t.range.start(),
            max: *t.range.end(),
            step: t.step,
            labels: t.labels.clone(),
        }
    }
}

/// What the cost model says about one parameter set: the prediction, the prediction for the
/// parameters now, and the parameters it read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WhatIf {
    /// The parameters predicted.
    pub params: PassParams,
    /// Their predicted cost.
    pub predicted: CostPrediction,
    /// The predicted cost of the parameters now (the same model on the same view).
    pub current: CostPrediction,
}

impl WhatIf {
    /// GPU time the change would save per frame (ms; negative: it costs more).
    pub fn gpu_gain_ms(&self) -> f64 {
        self.current.gpu_ms - self.predicted.gpu_ms
    }

    /// Frame time it would save (ms), once frame times were observed.
    pub fn frame_gain_ms(&self) -> Option<f64> {
        Some(self.current.frame_ms? - self.predicted.frame_ms?)
    }

    /// The saving as a suggestion states it, with its interval (the current time less the
    /// prediction's interval ends).
    pub fn gain(&self) -> PredictedGain {
        PredictedGain {
            gpu_ms: self.gpu_gain_ms(),
            gpu_ms_low: self.predicted.gpu_ms_high.map(|h| self.current.gpu_ms - h),
            gpu_ms_high: self.predicted.gpu_ms_low.map(|l| self.current.gpu_ms - l),
            frame_ms: self.frame_gain_ms(),
            current_gpu_ms: self.current.gpu_ms,
        }
    }
}

/// Why a what-if has no answer. Nothing changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WhatIfError {
    /// Unknown parameter or a value outside its range.
    #[error(transparent)]
    Tunable(#[from] TunableError),
    /// A parameter the pass's cost does not depend on in the model.
    #[error(
        "the cost model does not depend on {0} (it models *.max_iter, *.resolution_scale, *.interior_check and *.precision)"
    )]
    NotModelled(String),
    /// The model cannot predict yet.
    #[error(transparent)]
    Predict(#[from] PredictError),
}

/// The cost model and the tunables it maps onto a pass's parameters, published by the
/// analysis at the update interval (in [`Insights::cost_model`](crate::Insights)).
///
/// Tunables are matched by the end of their name: `*.max_iter` sets the iteration limit,
/// `*.resolution_scale` scales the pixel count (by its square), `*.interior_check` turns the
/// checks on at ≥ 0.5, `*.precision` picks the arithmetic its value's label names (`"auto"`
/// keeps the current one).
///
/// ```
/// use rfm_perf::CostModelState;
/// let state = CostModelState::default();
/// // nothing measured yet
/// assert!(state.what_if(&[]).is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CostModelState {
    /// The model.
    pub model: PassCostModel,
    /// The tunable parameters now.
    pub tunables: Vec<TunableValue>,
}

impl CostModelState {
    /// The tunable whose name ends with `.{suffix}` (or is `suffix`).
    pub fn tunable(&self, suffix: &str) -> Option<&TunableValue> {
        self.tunables
            .iter()
            .find(|t| name_ends_with(&t.name, suffix))
    }

    /// Predicts the pass's cost after `changes` (tunable name, value), and now.
    ///
    /// # Errors
    /// [`WhatIfError`]: an unknown or out-of-range tunable, one the model does not use, or
    /// no prediction yet.
    pub fn what_if(&self, changes: &[(String, f64)]) -> Result<WhatIf, WhatIfError> {
        let current_params = self
            .model
            .latest_params()
            .ok_or(WhatIfError::Predict(PredictError::NoData))?;
        let mut params = current_params.clone();
        for (name, value) in changes {
            let t = self
                .tunables
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| TunableError::Unknown(name.clone()))?;
            let v = match t.step {
                Some(s) => (value / s).round() * s,
                None => *value,
            };
            if !(v.is_finite() && (t.min..=t.max).contains(&v)) {
                return Err(TunableError::OutOfRange {
                    name: name.clone(),
                    value: *value,
                    min: t.min,
                    max: t.max,
                }
                .into());
            }
            if name_ends_with(name, "max_iter") {
                params.max_iter = v.round().max(1.0) as u32;
            } else if name_ends_with(name, "resolution_scale") {
                params.pixels = scaled_pixels(current_params.pixels, t.value, v);
            } else if name_ends_with(name, "interior_check") {
                params.interior_check = v >= 0.5;
            } else if name_ends_with(name, "precision") {
                match t.labels.iter().find(|(x, _)| (x - v).abs() < 1e-9) {
                    Some((_, label)) if label != "auto" => params.arithmetic = label.clone().into(),
                    _ => params.arithmetic = current_params.arithmetic.clone(),
                }
            } else {
                return Err(WhatIfError::NotModelled(name.clone()));
            }
        }
        Ok(WhatIf {
            predicted: self.model.predict(&params)?,
            current: self.model.predict(current_params)?,
            params,
        })
    }
}
