//! The analysis: alerts (threshold crossings with hysteresis), optimisation suggestions and the
//! frame-time breakdown, refreshed at the update interval from the published snapshot into the
//! base's [`Insights`]. No egui, no HTTP: the dashboard and the API draw and serve what it
//! publishes, and app code reads [`AlertRaised`] / [`AlertCleared`] messages.

mod alerts;
mod breakdown;
mod suggestions;

use std::time::Duration;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

pub use alerts::{ALERT_HYSTERESIS, ALERT_LOG_LEN, AlertChanges};
pub use breakdown::BreakdownInputs;
pub use suggestions::{
    DominantScope, GpuBound, IterationHeadroom, Regressed, RuleContext, SuggestionRule,
    SuggestionRules,
};

use crate::base::{
    AlertCleared, AlertRaised, HealthThresholds, Insights, PerfConfig, PerfTracker,
    RfmPerfBasePlugin, RfmPerfSystems, Tunables, update_due,
};

/// Adds the analysis: alerts, suggestions ([`SuggestionRules`], replaceable) and the frame
/// breakdown into [`Insights`], in [`RfmPerfSystems::Analyze`] at the update interval.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::analysis::AnalysisPlugin;
///
/// App::new().add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugins::headless().set(AnalysisPlugin { regression_threshold: 0.1 }),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct AnalysisPlugin {
    /// Relative change of a metric's median past its baseline that counts as a regression for
    /// the suggestions (`0.2` = 20 % worse). Default 0.2.
    pub regression_threshold: f64,
}

impl Default for AnalysisPlugin {
    fn default() -> Self {
        Self {
            regression_threshold: 0.2,
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
        app.insert_resource(AnalysisSettings {
            regression_threshold: threshold,
        })
        .init_resource::<SuggestionRules>()
        .add_systems(
            Last,
            (update_insights, scan_anomalies).in_set(RfmPerfSystems::Analyze),
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
    thresholds: Res<'w, HealthThresholds>,
    rules: Res<'w, SuggestionRules>,
    tunables: Res<'w, Tunables>,
}

/// Spikes and level shifts of every metric, second by second (kept by the tracker), scanned at
/// the update interval on the async compute pool, off the frame (inline in apps without task
/// pools); a scan still running skips the next.
fn scan_anomalies(
    time: Res<'_, Time<Real>>,
    tracker: Res<'_, PerfTracker>,
    config: Res<'_, PerfConfig>,
    mut running: Local<'_, Option<bevy::tasks::Task<()>>>,
    mut last: Local<'_, Option<Duration>>,
) {
    if running.as_ref().is_some_and(|t| !t.is_finished()) {
        return;
    }
    if !update_due(&time, &mut last, config.update_interval) {
        return;
    }
    let tracker = tracker.0.clone();
    match bevy::tasks::AsyncComputeTaskPool::try_get() {
        Some(pool) => {
            *running = Some(pool.spawn(async move {
                tracker.scan_anomalies();
            }));
        }
        None => {
            tracker.scan_anomalies();
        }
    }
}

/// Refreshes alerts, suggestions and the breakdown at the update interval, and sends a message
/// for every alert raised or cleared.
fn update_insights(
    input: AnalysisInputs<'_>,
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
    let changes = insights.update_alerts(&snapshot, &input.thresholds);
    raised.write_batch(changes.raised.into_iter().map(AlertRaised));
    cleared.write_batch(
        changes
            .cleared
            .into_iter()
            .map(|(metric, raised_unix_s)| AlertCleared {
                metric,
                raised_unix_s,
            }),
    );
    let scopes = tracker.scope_stats();
    let regressions = tracker.detect_regressions(input.settings.regression_threshold);
    let ctx = RuleContext {
        snapshot: &snapshot,
        scopes: &scopes,
        regressions: &regressions,
        tunables: input
            .tunables
            .iter()
            .map(|t| (t.name.clone(), t.value(), *t.range.start(), *t.range.end()))
            .collect(),
    };
    insights.suggestions = input.rules.0.iter().flat_map(|r| r.suggest(&ctx)).collect();
    insights.breakdown = BreakdownInputs::gather(tracker, &scopes).breakdown();
}
