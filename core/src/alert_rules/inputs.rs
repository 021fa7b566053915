//! What rules read: the newest values, the changes against the baselines and the recent
//! anomalies — from the tracker ([`TrackerRuleInputs`]) or from anything else that implements
//! [`RuleInputs`] (tests, replays).

use std::collections::BTreeMap;

use super::{AlertRuleSet, Condition};
use crate::{Anomaly, AnomalyKind, Assessment, PerformanceTracker, Snapshot};

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
    /// Gathers what `rules` need from `tracker` at `now_unix_s` (running the regression test
    /// when some rule compares with the baseline).
    pub fn gather(
        tracker: &PerformanceTracker,
        snapshot: &'a Snapshot,
        rules: &AlertRuleSet,
        now_unix_s: f64,
    ) -> Self {
        Self::gather_with(tracker, snapshot, rules, now_unix_s, None)
    }

    /// [`gather`](Self::gather) with the regression test's `assessments` when they were made
    /// already (off the frame); `None` runs the test here when a rule needs it.
    pub fn gather_with(
        tracker: &PerformanceTracker,
        snapshot: &'a Snapshot,
        rules: &AlertRuleSet,
        now_unix_s: f64,
        assessments: Option<&[Assessment]>,
    ) -> Self {
        let changes = match (rules.lowest_change_threshold(), assessments) {
            (None, _) => BTreeMap::new(),
            (Some(threshold), given) => {
                let alpha = tracker.config().regression_alpha;
                let made;
                let list = match given {
                    Some(list) => list,
                    None => {
                        made = tracker.assess_regressions(threshold.max(f64::MIN_POSITIVE));
                        &made[..]
                    }
                };
                list.iter()
                    .map(|a| {
                        let significant = a.report.p_value.is_some_and(|p| p < alpha);
                        let change = BaselineChange {
                            change: a.report.change,
                            significant,
                        };
                        (a.report.metric.clone(), change)
                    })
                    .collect()
            }
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::super::{AlertEvaluator, AlertRule, RuleEvent, RuleSeverity};
    use super::*;

    use crate::clock::unix_seconds as unix;

    #[test]
    fn a_change_rule_fires_on_a_significant_regression_only() {
        let t = PerformanceTracker::new();
        let mut x = 1u64;
        let mut noisy = |level: f64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            level * (1.0 + 0.05 * ((x >> 33) as f64 / (1u64 << 31) as f64 - 0.5))
        };
        for _ in 0..100 {
            t.track_metric("frame.time_ms", noisy(10.0));
        }
        t.capture_baseline();
        t.clear_history();
        let rule = AlertRule::new(
            "frame.time_ms",
            Condition::ChangeVsBaseline,
            0.2,
            RuleSeverity::Warning,
        );
        let set = AlertRuleSet::from_rules("t", vec![rule]);
        let mut e = AlertEvaluator::new(set.clone());
        // 5 % slower: significant, but under the threshold
        for _ in 0..100 {
            t.track_metric("frame.time_ms", noisy(10.5));
        }
        let s = t.publish_snapshot();
        let inputs = TrackerRuleInputs::gather(&t, &s, &set, 0.0);
        let c = inputs.baseline_change("frame.time_ms").unwrap();
        assert!((c.change - 0.05).abs() < 0.02, "{c:?}");
        assert!(e.evaluate(&inputs, 0.0).is_empty());
        // 50 % slower
        t.clear_history();
        for _ in 0..100 {
            t.track_metric("frame.time_ms", noisy(15.0));
        }
        let s = t.publish_snapshot();
        let inputs = TrackerRuleInputs::gather(&t, &s, &set, 1.0);
        assert!(inputs.baseline_change("frame.time_ms").unwrap().significant);
        let ev = e.evaluate(&inputs, 1.0);
        assert!(
            matches!(&ev[..], [RuleEvent::Fired { value, .. }] if (*value - 0.5).abs() < 0.05),
            "{ev:?}"
        );
    }

    #[test]
    fn an_anomaly_rule_fires_on_a_level_shift_the_tracker_finds() {
        let t = PerformanceTracker::new();
        let start = SystemTime::now() + Duration::from_secs(1);
        for s in 0..50u64 {
            let level = if s < 40 { 10.0 } else { 14.0 };
            let samples: Vec<_> = (0..60u64)
                .map(|i| {
                    let v = level * (1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0));
                    (start + Duration::from_millis(s * 1000 + i * 16), v)
                })
                .collect();
            t.import_samples("frame.time_ms", &samples).unwrap();
        }
        let now = start + Duration::from_secs(50);
        assert!(!t.scan_anomalies_at(now).is_empty());
        let mut rule = AlertRule::new(
            "frame.time_ms",
            Condition::Anomaly,
            0.0,
            RuleSeverity::Warning,
        );
        rule.kind = Some(AnomalyKind::LevelShift);
        let set = AlertRuleSet::from_rules("t", vec![rule]);
        let mut e = AlertEvaluator::new(set.clone());
        let s = t.publish_snapshot();
        let inputs = TrackerRuleInputs::gather(&t, &s, &set, unix(now));
        assert_eq!(e.evaluate(&inputs, unix(now)).len(), 1);
        // 20 s later the shift is outside the 10 s window: the alert ends
        let later = unix(now) + 20.0;
        let inputs = TrackerRuleInputs::gather(&t, &s, &set, later);
        assert!(matches!(
            e.evaluate(&inputs, later)[..],
            [RuleEvent::Cleared { .. }]
        ));
    }
}
