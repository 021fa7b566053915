//! What the analysis publishes and the views draw: alerts, suggestions and the frame-time
//! breakdown, in the [`Insights`] resource. The analysis leaf fills it at the update interval;
//! the dashboard and the API read it (and find it empty when analysis is off).

use std::collections::VecDeque;

use bevy::prelude::Resource;
use rfm_perf_core::alert_rules::{RuleError, RuleStatus};
use serde::{Deserialize, Serialize};

use super::cost_estimate::CostModelState;
use super::health::Health;

/// An active alert: an alert rule whose condition holds (see
/// [`AlertRules`](crate::analysis::AlertRules)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Metric name.
    pub metric: String,
    /// The id of the rule that fired.
    #[serde(default)]
    pub rule: String,
    /// The rule's severity ([`Health::Warning`] or [`Health::Critical`]).
    pub status: Health,
    /// What the rule sees now: the latest value (a relative change for a baseline rule, a
    /// score for an anomaly rule).
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// When it was raised (seconds since the Unix epoch).
    pub raised_unix_s: f64,
    /// Whether it is still active.
    pub active: bool,
    /// One line for people.
    pub message: String,
}

/// A parameter change a suggestion proposes (applied through [`Tunables`](crate::tunables::Tunables)).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParameterChange {
    /// Tunable name.
    pub name: String,
    /// Proposed value.
    pub value: f64,
}

/// An optimisation suggestion with its evidence.
///
/// ```
/// let s = rfm_perf::Suggestion { id: "frame_pacing".into(), title: "Even out frame pacing".into(), ..Default::default() };
/// assert!(s.predicted.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Stable id: the same advice keeps it from one update to the next (`interior_check`,
    /// `gpu_bound`, `dominant_scope:physics`, …), so a client can follow it and apply it.
    #[serde(default)]
    pub id: String,
    /// What to do.
    pub title: String,
    /// Why: the numbers behind it.
    pub evidence: String,
    /// A parameter change that implements it, if there is one.
    pub parameter: Option<ParameterChange>,
    /// What the change should save, from the cost model, when it can say.
    #[serde(default)]
    pub predicted: Option<PredictedGain>,
}

/// Time a change should save per frame, predicted by the cost model.
///
/// ```
/// let g = rfm_perf::PredictedGain { gpu_ms: 4.0, gpu_ms_low: Some(3.0), gpu_ms_high: Some(5.0), frame_ms: None, current_gpu_ms: 10.0 };
/// assert_eq!(g.share(), 0.4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictedGain {
    /// GPU time of the pass saved per frame (ms; negative: it costs more).
    pub gpu_ms: f64,
    /// Low end of the saving's interval (ms).
    pub gpu_ms_low: Option<f64>,
    /// High end of the saving's interval (ms).
    pub gpu_ms_high: Option<f64>,
    /// Frame time saved (ms), once the model has seen frame times.
    pub frame_ms: Option<f64>,
    /// The pass's GPU time now, as the model predicts it (ms).
    pub current_gpu_ms: f64,
}

impl PredictedGain {
    /// The saving as a share of the pass's time now.
    pub fn share(&self) -> f64 {
        if self.current_gpu_ms > 0.0 {
            self.gpu_ms / self.current_gpu_ms
        } else {
            0.0
        }
    }

    /// One phrase for people: "saves 4.0 ms of GPU time per frame (3.0–5.0, 40 %)".
    pub fn describe(&self) -> String {
        let range = match (self.gpu_ms_low, self.gpu_ms_high) {
            (Some(lo), Some(hi)) => format!("{lo:.1}–{hi:.1}, "),
            _ => String::new(),
        };
        if self.gpu_ms >= 0.0 {
            format!(
                "predicted to save {:.1} ms of GPU time per frame ({range}{:.0} %)",
                self.gpu_ms,
                self.share() * 100.0
            )
        } else {
            format!(
                "predicted to cost {:.1} ms more GPU time per frame ({range}{:.0} %)",
                -self.gpu_ms,
                -self.share() * 100.0
            )
        }
    }
}

/// What an applied suggestion did: the prediction it was applied with, the frames before and
/// after, and whether the gain came.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuggestionOutcome {
    /// The suggestion's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The change applied.
    pub parameter: ParameterChange,
    /// When it was applied (seconds since the Unix epoch).
    pub applied_unix_s: f64,
    /// What it was predicted to save.
    pub predicted: Option<PredictedGain>,
    /// Frames measured after it so far, and needed before judging.
    pub frames: (usize, usize),
    /// Median GPU time of the pass before and after (ms), when the pass is timed.
    pub gpu_ms: Option<(f64, f64)>,
    /// Median frame time before and after (ms).
    pub frame_ms: Option<(f64, f64)>,
    /// Mann–Whitney p-value of the change in GPU time (frame time without it).
    pub p_value: Option<f64>,
    /// Where it stands.
    pub verdict: OutcomeVerdict,
    /// One line for people.
    pub message: String,
}

impl SuggestionOutcome {
    /// The GPU time it saved (ms; median before − median after), once measured.
    pub fn measured_gpu_gain_ms(&self) -> Option<f64> {
        self.gpu_ms.map(|(before, after)| before - after)
    }
}

/// Where an applied suggestion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeVerdict {
    /// Still collecting frames after the change.
    Measuring,
    /// The measured gain lies within the prediction's interval.
    AsPredicted,
    /// The measured gain missed the prediction by more than its interval.
    Missed,
    /// No significant change in the frames measured.
    NoSignificantChange,
    /// Measured, with no prediction to hold it against.
    Measured,
}

/// [`FrameShare`] label: GPU time of the fractal compute pass.
pub const GPU_PASS: &str = "GPU fractal pass";
/// [`FrameShare`] label prefix: GPU time of another render pass (`"GPU main_opaque_pass_3d"`).
pub const GPU_PASS_PREFIX: &str = "GPU ";
/// [`FrameShare`] label: CPU time encoding render work (`render.*` scopes, `render.fractal_cpu_ms`).
pub const RENDER_ENCODE: &str = "Render encode";
/// [`FrameShare`] label: the dashboard and other `ui.*` scopes.
pub const UI: &str = "UI";
/// [`FrameShare`] label: self time of every other scope.
pub const CPU_SYSTEMS: &str = "CPU systems";
/// [`FrameShare`] label: the rest of the frame (not covered by the others).
pub const OTHER_IDLE: &str = "Other/idle";

/// One part of the mean frame: what it is and how long it takes per frame.
///
/// ```
/// let share = rfm_perf::FrameShare { label: rfm_perf::insights::GPU_PASS.into(), ms: 6.0 };
/// assert_eq!(share.ms, 6.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameShare {
    /// What it is ([`GPU_PASS`], `GPU <pass>` for each other render pass Bevy times,
    /// [`RENDER_ENCODE`], [`UI`], [`CPU_SYSTEMS`], [`OTHER_IDLE`]).
    pub label: std::borrow::Cow<'static, str>,
    /// Mean time per frame (ms), never negative.
    pub ms: f64,
}

/// The mean frame over the scope window split into its parts.
///
/// ```
/// let b = rfm_perf::FrameBreakdown::default();
/// assert!(b.frame_ms.is_none() && b.shares.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FrameBreakdown {
    /// Mean frame time over the window (ms), when frames were measured.
    pub frame_ms: Option<f64>,
    /// The parts, in drawing order; they add up to the frame time (or more, when the measured
    /// work exceeds it).
    pub shares: Vec<FrameShare>,
}

/// Where the alert rules come from, when they were read and what went wrong.
///
/// ```
/// let r = rfm_perf::AlertRulesReport::default();
/// assert!(r.file_error.is_none() && r.rule_errors.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertRulesReport {
    /// The file the rules were read from, or that they are built in.
    pub source: String,
    /// The rule file the app watches, when it has one.
    pub path: Option<String>,
    /// When the rules in effect were read (seconds since the Unix epoch).
    pub loaded_unix_s: Option<f64>,
    /// The file changed but does not parse: the last good rules stay in effect.
    pub file_error: Option<RuleError>,
    /// Rules of the file that were skipped, each with its error.
    pub rule_errors: Vec<RuleError>,
}

/// The alert rules in effect, where they stand, and where they come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertRulesState {
    /// Where they come from and what went wrong.
    #[serde(flatten)]
    pub report: AlertRulesReport,
    /// Every rule in effect and its phase.
    pub rules: Vec<RuleStatus>,
}

/// Current alerts, the alert log, suggestions and the frame-time breakdown. A resource.
///
/// ```
/// let insights = rfm_perf::Insights::default();
/// assert!(insights.alerts.is_empty() && insights.breakdown.shares.is_empty());
/// ```
#[derive(Resource, Clone, Debug, Default, Serialize)]
pub struct Insights {
    /// Active alerts.
    pub alerts: Vec<Alert>,
    /// Recently raised alerts, newest last (bounded).
    pub log: VecDeque<Alert>,
    /// Current suggestions.
    pub suggestions: Vec<Suggestion>,
    /// Suggestions applied and what they did, newest last (bounded).
    pub outcomes: Vec<SuggestionOutcome>,
    /// The mean frame over the scope window split into its parts.
    pub breakdown: FrameBreakdown,
    /// The alert rules: where they come from, errors, and each rule's phase.
    pub rules: AlertRulesState,
    /// The cost model and the tunables it reads, once the analysis has one (what-if
    /// predictions: [`CostModelState::what_if`]).
    #[serde(skip)]
    pub cost_model: Option<CostModelState>,
}
