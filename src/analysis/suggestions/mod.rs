//! Suggestion rules: each reads the snapshot, the scope statistics, the regressions, the
//! tunable parameters and the cost model, and proposes what to change, with the numbers behind
//! it and the gain the cost model predicts. The context and the rule set are here; the rules
//! about a render pass's cost are in `pass_rules`, those about the frame and the process in
//! `frame_rules`.

mod frame_rules;
mod pass_rules;

pub use frame_rules::{AllocationChurn, CoreImbalance, DominantScope, FramePacing, Regressed};
pub use pass_rules::{ArithmeticCost, FasterBackend, GpuBound, IterationHeadroom};

use bevy::prelude::Resource;
use rfm_perf_core::Snapshot;

use crate::base::{CostModelState, PassCost, PredictedGain, Suggestion};

/// Context the suggestion rules read.
#[derive(Debug)]
pub struct RuleContext<'a> {
    /// The published snapshot.
    pub snapshot: &'a Snapshot,
    /// Scope statistics over the scope window, slowest total first.
    pub scopes: &'a [rfm_perf_core::ScopeStats],
    /// Regressions against the baselines (at [`AnalysisPlugin::regression_threshold`](super::AnalysisPlugin)).
    pub regressions: &'a [rfm_perf_core::RegressionReport],
    /// Tunable parameters: `(name, value, min, max)`.
    pub tunables: Vec<(String, f64, f64, f64)>,
    /// The cost model, when a pass publishes its cost (predicted gains come from it).
    pub cost: Option<&'a CostModelState>,
    /// The newest frame's pass cost (its escape histogram), when a pass publishes one.
    pub pass: Option<&'a PassCost>,
}

impl<'a> RuleContext<'a> {
    /// A context with only a snapshot (no scopes, regressions, tunables, cost model or pass).
    ///
    /// ```
    /// let t = rfm_perf::PerformanceTracker::new();
    /// let snapshot = t.publish_snapshot();
    /// let ctx = rfm_perf::analysis::RuleContext::new(&snapshot);
    /// assert!(ctx.tunables.is_empty() && ctx.cost.is_none());
    /// ```
    pub fn new(snapshot: &'a Snapshot) -> Self {
        Self {
            snapshot,
            scopes: &[],
            regressions: &[],
            tunables: Vec::new(),
            cost: None,
            pass: None,
        }
    }

    /// The tunable ending in `.{suffix}`: `(name, value, min, max)`.
    pub fn tunable(&self, suffix: &str) -> Option<&(String, f64, f64, f64)> {
        self.tunables
            .iter()
            .find(|(name, ..)| crate::base::tunables::name_ends_with(name, suffix))
    }

    /// `suggestion` with the cost model's predicted gain for its parameter change (when the
    /// model can predict it), and that gain at the end of its evidence: what a rule of your
    /// own calls on what it proposes.
    pub fn with_gain(&self, mut suggestion: Suggestion) -> Suggestion {
        if let Some(p) = &suggestion.parameter
            && let Some(gain) = self.predicted_gain(&p.name, p.value)
        {
            suggestion.evidence = if suggestion.evidence.is_empty() {
                gain.describe()
            } else {
                format!("{}; {}", suggestion.evidence, gain.describe())
            };
            suggestion.predicted = Some(gain);
        }
        suggestion
    }

    /// What setting `name` to `value` should save, from the cost model (none without one, or
    /// when it cannot predict that change).
    pub fn predicted_gain(&self, name: &str, value: f64) -> Option<PredictedGain> {
        self.cost?
            .what_if(&[(name.to_string(), value)])
            .ok()
            .map(|w| w.gain())
    }
}

/// A set of suggestion rules; replace it with your own by inserting a [`SuggestionRules`] resource.
pub trait SuggestionRule: Send + Sync + 'static {
    /// Suggestions this rule makes for `ctx`.
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion>;
}

/// The rule set in use (a resource).
#[derive(Resource)]
pub struct SuggestionRules(pub Vec<Box<dyn SuggestionRule>>);

impl Default for SuggestionRules {
    fn default() -> Self {
        Self(vec![
            Box::new(IterationHeadroom),
            Box::new(GpuBound),
            Box::new(ArithmeticCost),
            Box::new(FasterBackend),
            Box::new(DominantScope),
            Box::new(CoreImbalance),
            Box::new(AllocationChurn),
            Box::new(FramePacing),
            Box::new(Regressed),
        ])
    }
}

/// A snapshot with `metrics` recorded (the rule tests' input).
#[cfg(test)]
fn snapshot_of(metrics: &[(&str, f64)]) -> std::sync::Arc<Snapshot> {
    let t = rfm_perf_core::PerformanceTracker::new();
    for (name, v) in metrics {
        t.track_metric(name, *v);
    }
    t.publish_snapshot()
}
