//! The analysis: alerts (the [`AlertRules`], from a TOML file), optimisation suggestions with
//! the cost model's predicted gains and the measured outcome of those applied, and the
//! frame-time breakdown, refreshed at the update interval from the published snapshot into the
//! base's [`Insights`]; every frame, the [`CostModel`] learns the timed frames of a pass that
//! publishes its cost, and [`AdaptiveQuality`](crate::AdaptiveQuality), when on, steers the
//! tunables. No egui, no HTTP: the dashboard and the API draw and serve what it publishes, and
//! app code reads [`AlertRaised`] / [`AlertCleared`] messages.

mod adaptive_quality;
mod alert_rules;
mod alerts;
mod breakdown;
mod cost_model;
mod outcomes;
mod regression_scan;
mod suggestions;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

pub use alert_rules::{
    AlertRules, BUILT_IN_RULES, default_rules_path, levels_from_rules, rules_from_thresholds,
};
pub use alerts::{ALERT_LOG_LEN, AlertChanges};
pub use breakdown::BreakdownInputs;
pub use cost_model::{CostModel, SCORED_FRAMES_KEPT, ScoredFrame};
pub use suggestions::{
    AllocationChurn, ArithmeticCost, CoreImbalance, DominantScope, FasterBackend, FramePacing,
    GpuBound, IterationHeadroom, Regressed, RuleContext, SuggestionRule, SuggestionRules,
};

use adaptive_quality::adapt_quality;
use cost_model::learn_pass_cost;
use outcomes::OutcomeTracker;
use regression_scan::{RegressionScan, scan_regressions};

use crate::base::{
    AlertCleared, AlertRaised, BackgroundJob, CostModelState, HealthThresholds, Insights, PassCost,
    PerfConfig, PerfTracker, RfmPerfBasePlugin, RfmPerfSystems, TunableValue, Tunables, update_due,
};

/// Adds the analysis: alerts ([`AlertRules`], read from a TOML file), suggestions
/// ([`SuggestionRules`], replaceable) and their outcomes, the cost model ([`CostModel`]),
/// adaptive quality and the frame breakdown into [`Insights`], in [`RfmPerfSystems::Analyze`]
/// (the insights at the update interval, the cost model and adaptive quality every frame).
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::analysis::AnalysisPlugin;
///
/// App::new().add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugins::headless().set(
///     AnalysisPlugin { regression_threshold: 0.1, alert_rules: Some("my_rules.toml".into()) },
/// ));
/// ```
#[derive(Clone, Debug)]
pub struct AnalysisPlugin {
    /// Relative change of a metric's median past its baseline that counts as a regression for
    /// the suggestions (`0.2` = 20 % worse). Default 0.2.
    pub regression_threshold: f64,
    /// The alert rule file, re-read when it changes (format: [`rfm_perf_core::alert_rules`]).
    /// While it does not exist the built-in rules apply, made from the [`HealthThresholds`].
    /// `None`: built-in rules only. Default `assets/alerts.toml` (relative to the working
    /// directory).
    pub alert_rules: Option<PathBuf>,
}

impl Default for AnalysisPlugin {
    fn default() -> Self {
        Self {
            regression_threshold: 0.2,
            alert_rules: Some(default_rules_path()),
        }
    }
}

/// The analysis settings as a resource.
#[derive(Resource, Clone, Debug)]
struct AnalysisSettings {
    regression_threshold: f64,
}

impl Plugin for AnalysisPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        let mut threshold = self.regression_threshold;
        if !(threshold.is_finite() && threshold > 0.0) {
            warn!("rfm_perf: regression_threshold {threshold} is not a positive number; using 0.2");
            threshold = 0.2;
        }
        let thresholds = app
            .world()
            .get_resource::<HealthThresholds>()
            .cloned()
            .unwrap_or_default();
        app.insert_resource(AnalysisSettings {
            regression_threshold: threshold,
        })
        .insert_resource(AlertRules::new(self.alert_rules.clone(), &thresholds))
        .init_resource::<SuggestionRules>()
        .init_resource::<RegressionScan>()
        .init_resource::<CostModel>()
        .add_systems(
            Last,
            (
                learn_pass_cost.before(update_insights),
                adapt_quality.after(learn_pass_cost),
                update_insights,
                // before the suggestions are recomputed: an Apply matches the ones shown
                follow_outcomes.before(update_insights),
                scan_anomalies,
                scan_regressions,
            )
                .in_set(RfmPerfSystems::Analyze),
        );
    }
}

/// What [`update_insights`] reads.
#[derive(SystemParam)]
struct AnalysisInputs<'w> {
    time: Res<'w, Time<Real>>,
    tracker: Res<'w, PerfTracker>,
    config: Res<'w, PerfConfig>,
    settings: Res<'w, AnalysisSettings>,
    rules: Res<'w, SuggestionRules>,
    tunables: Res<'w, Tunables>,
    regressions: Res<'w, RegressionScan>,
    cost_model: Res<'w, CostModel>,
    pass: Option<Res<'w, PassCost>>,
}

/// Spikes and level shifts of every metric, second by second (kept by the tracker), scanned at
/// the update interval on the async compute pool, off the frame (inline in apps without task
/// pools); a scan still running skips the next.
fn scan_anomalies(
    time: Res<'_, Time<Real>>,
    tracker: Res<'_, PerfTracker>,
    config: Res<'_, PerfConfig>,
    mut job: Local<'_, BackgroundJob>,
) {
    if job.due(&time, config.update_interval) {
        let tracker = tracker.0.clone();
        job.start(move || {
            tracker.scan_anomalies();
        });
    }
}

/// Refreshes alerts (re-reading the rule file when it changed), suggestions and the breakdown
/// at the update interval, and sends a message for every alert raised or cleared.
fn update_insights(
    input: AnalysisInputs<'_>,
    mut thresholds: ResMut<'_, HealthThresholds>,
    mut rules: ResMut<'_, AlertRules>,
    mut insights: ResMut<'_, Insights>,
    mut raised: MessageWriter<'_, AlertRaised>,
    mut cleared: MessageWriter<'_, AlertCleared>,
    mut last: Local<'_, Option<Duration>>,
) {
    if !update_due(&input.time, &mut last, input.config.update_interval) {
        return;
    }
    let tracker = &input.tracker;
    let snapshot = tracker.snapshot();
    let now = rfm_perf_core::clock::unix_seconds(SystemTime::now());
    let loaded_before = rules.report().loaded_unix_s;
    let ended = rules.reload(tracker, &thresholds, thresholds.is_changed(), now);
    let reloaded = rules.report().loaded_unix_s != loaded_before;
    if reloaded && rules.from_file() {
        // the file's levels colour the dashboard too (without marking the resource changed
        // when they are the same)
        let mut levels = thresholds.clone();
        if levels_from_rules(rules.evaluator().rules(), &mut levels) {
            *thresholds = levels;
        }
    }
    let mut changes = insights.apply_rule_events(ended, &rules, &snapshot);
    // the regression test ran off the frame (the newest finished result)
    let assessments = input.regressions.latest();
    let evaluated = insights.update_alerts_with(&mut rules, tracker, &snapshot, Some(&assessments));
    changes.raised.extend(evaluated.raised);
    changes.cleared.extend(evaluated.cleared);
    raised.write_batch(changes.raised.into_iter().map(AlertRaised));
    cleared.write_batch(changes.cleared);
    let scopes = tracker.scope_stats();
    let regressions =
        RegressionScan::regressions(&assessments, input.settings.regression_threshold);
    let model = input.cost_model.model();
    insights.cost_model = (model.observations() > 0).then(|| CostModelState {
        model: model.clone(),
        tunables: input.tunables.iter().map(TunableValue::from).collect(),
    });
    let ctx = RuleContext {
        snapshot: &snapshot,
        scopes: &scopes,
        regressions: &regressions,
        tunables: input
            .tunables
            .iter()
            .map(|t| (t.name.clone(), t.value(), *t.range.start(), *t.range.end()))
            .collect(),
        cost: insights.cost_model.as_ref(),
        pass: input.pass.as_deref().filter(|c| c.generation != 0),
    };
    insights.suggestions = input.rules.0.iter().flat_map(|r| r.suggest(&ctx)).collect();
    insights.breakdown = BreakdownInputs::gather(tracker, &scopes).breakdown();
}

/// Follows applied suggestions: notices, in the frame it happens, a tunable set to the value a
/// shown suggestion proposed, and judges the followed ones at the update interval (see
/// `outcomes`).
fn follow_outcomes(
    time: Res<'_, Time<Real>>,
    config: Res<'_, PerfConfig>,
    tracker: Res<'_, PerfTracker>,
    tunables: Res<'_, Tunables>,
    mut insights: ResMut<'_, Insights>,
    mut followed: Local<'_, OutcomeTracker>,
    mut last: Local<'_, Option<Duration>>,
) {
    if tunables.is_changed()
        && followed.notice(&insights.suggestions, &tunables, &tracker, tracker.now())
    {
        insights.outcomes = followed.outcomes();
    }
    if update_due(&time, &mut last, config.update_interval)
        && let Some(outcomes) = followed.judge(&tracker)
    {
        insights.outcomes = outcomes;
    }
}
