//! What rules read: the newest values, the changes against the baselines and the recent
//! anomalies — from the tracker ([`TrackerRuleInputs`]) or from anything else that implements
//! [`RuleInputs`] (tests, replays).

use std::collections::BTreeMap;

use super::{AlertRuleSet, Condition};
use crate::{Anomaly, AnomalyKind, PerformanceTracker, Snapshot};

/// A metric's change against its baseline, as the regression test sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BaselineChange {
    /// Relative change of the median, positive = worse (by the metric's direction).
    pub change: f64,
    /// Whether the difference is significant at the tracker's regression alpha.
    pub significant: bool,
}

/// The strongest recent anomaly of a metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecentAnomaly {
    /// Its score (robust z-score, or CUSUM statistic in standard deviations).
    pub score: f64,
    /// The value (a spike's sample, or the new level).
    pub value: f64,
    /// When (seconds since the Unix epoch).
    pub unix_s: f64,
}

/// What [`AlertEvaluator::evaluate`](super::AlertEvaluator::evaluate) reads.
pub trait RuleInputs {
    /// The newest value of `metric` (canonical name), if it has one.
    fn value(&self, metric: &str) -> Option<f64>;
    /// The change of `metric` against its baseline, if it has a baseline and current values.
    fn baseline_change(&self, metric: &str) -> Option<BaselineChange>;
    /// The strongest anomaly of `metric` (of `kind`, or any when `None`) at or after
    /// `since_unix_s`.
    fn anomaly(
        &self,
        metric: &str,
        kind: Option<AnomalyKind>,
        since_unix_s: f64,
    ) -> Option<RecentAnomaly>;
}

/// [`RuleInputs`] from a tracker and one of its snapshots, gathered once per evaluation: the
/// regression test runs only when some rule compares with the baseline, and anomalies are
/// read only when some rule watches for them.
///
/// ```
/// use rfm_perf_core::alert_rules::{AlertRuleSet, RuleInputs, TrackerRuleInputs};
/// let t = rfm_perf_core::PerformanceTracker::new();
/// t.track_metric("frame.fps", 24.0);
/// let snapshot = t.publish_snapshot();
/// let inputs = TrackerRuleInputs::gather(&t, &snapshot, &AlertRuleSet::default(), 0.0);
/// assert_eq!(inputs.value("frame.fps"), Some(24.0));
/// assert_eq!(inputs.baseline_change("frame.fps"), None);
/// ```
pub struct TrackerRuleInputs<'a> {
    /// The snapshot's values by name (a lookup per rule, not a scan).
    values: rustc_hash::FxHashMap<&'a str, f64>,
    changes: BTreeMap<String, BaselineChange>,
    anomalies: Vec<Anomaly>,
}

impl<'a> TrackerRuleInputs<'a> {
    /// Gathers what `rules` need from `tracker` at `now_unix_s`.
    pub fn gather(
        tracker: &PerformanceTracker,
        snapshot: &'a Snapshot,
        rules: &AlertRuleSet,
        now_unix_s: f64,
    ) -> Self {
        let change_threshold = rules
            .rules
            .iter()
            .filter(|r| r.condition == Condition::ChangeVsBaseline)
            .map(|r| r.threshold * (1.0 - r.hysteresis))
            .reduce(f64::min);
        let changes = match change_threshold {
            Some(threshold) => {
                let alpha = tracker.config().regression_alpha;
                tracker
                    .assess_regressions(threshold.max(f64::MIN_POSITIVE))
                    .into_iter()
                    .map(|a| {
                        let significant = a.report.p_value.is_some_and(|p| p < alpha);
                        let change = BaselineChange {
                            change: a.report.change,
                            significant,
                        };
                        (a.report.metric, change)
                    })
                    .collect()
            }
            None => BTreeMap::new(),
        };
        let window = rules
            .rules
            .iter()
            .filter(|r| r.condition == Condition::Anomaly)
            .map(|r| r.window.as_secs_f64())
            .reduce(f64::max);
        let anomalies = match window {
            Some(w) => tracker.anomalies(now_unix_s - w),
            None => Vec::new(),
        };
        let values = snapshot
            .values
            .iter()
            .map(|v| (v.info.name.as_ref(), v.value))
            .collect();
        Self {
            values,
            changes,
            anomalies,
        }
    }
}

impl RuleInputs for TrackerRuleInputs<'_> {
    fn value(&self, metric: &str) -> Option<f64> {
        self.values
            .get(crate::names::resolve_alias(metric))
            .copied()
    }

    fn baseline_change(&self, metric: &str) -> Option<BaselineChange> {
        self.changes.get(metric).copied()
    }

    fn anomaly(
        &self,
        metric: &str,
        kind: Option<AnomalyKind>,
        since_unix_s: f64,
    ) -> Option<RecentAnomaly> {
        self.anomalies
            .iter()
            .filter(|a| a.metric == metric && a.unix_s >= since_unix_s)
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .max_by(|a, b| a.score.abs().total_cmp(&b.score.abs()))
            .map(|a| RecentAnomaly {
                score: a.score.abs(),
                value: a.value,
                unix_s: a.unix_s,
            })
    }
}
