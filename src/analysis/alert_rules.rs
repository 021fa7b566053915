//! The alert rules in effect ([`AlertRules`], a resource): read from a TOML file
//! (`assets/alerts.toml` by default) and re-read when its modification time or size changes,
//! or — without a file — made from the [`HealthThresholds`] (a warning and a critical rule per
//! metric, following the resource when app code changes it). A file that does not parse keeps
//! the last good rules; its error and every skipped rule's error are logged and published in
//! [`Insights::rules`] for the dashboard and the API.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bevy::prelude::*;
use rfm_perf_core::PerformanceTracker;
use rfm_perf_core::alert_rules::{
    AlertEvaluator, AlertRule, AlertRuleSet, Condition, RuleError, RuleEvent, RuleSeverity,
};

use crate::base::{AlertRulesReport, HealthThreshold, HealthThresholds};

/// Where the built-in rules say they come from.
pub const BUILT_IN_RULES: &str = "built-in (health thresholds)";

/// The alert rules in effect and where they come from. A resource the analysis adds.
///
/// ```
/// use rfm_perf::analysis::AlertRules;
/// let rules = AlertRules::new(None, &rfm_perf::HealthThresholds::default());
/// assert_eq!(rules.evaluator().rules().rules.len(), 14); // a warning and a critical rule per metric
/// ```
#[derive(Resource, Debug)]
pub struct AlertRules {
    path: Option<PathBuf>,
    evaluator: AlertEvaluator,
    from_file: bool,
    /// Modification time and length of the file when it was last read.
    stamp: Option<(SystemTime, u64)>,
    /// Registered metrics when the file was last parsed (a rule waiting for a metric is
    /// re-checked when more are registered).
    known_metrics: usize,
    report: AlertRulesReport,
}

impl AlertRules {
    /// Rules read from `path` when it exists (see [`reload`](Self::reload)), else made from
    /// `thresholds`.
    pub fn new(path: Option<PathBuf>, thresholds: &HealthThresholds) -> Self {
        let set = rules_from_thresholds(thresholds);
        let report = AlertRulesReport {
            source: BUILT_IN_RULES.into(),
            path: path.as_ref().map(|p| p.display().to_string()),
            ..Default::default()
        };
        Self {
            path,
            evaluator: AlertEvaluator::new(set),
            from_file: false,
            stamp: None,
            known_metrics: 0,
            report,
        }
    }

    /// The evaluator (rules and their phases).
    pub fn evaluator(&self) -> &AlertEvaluator {
        &self.evaluator
    }

    /// The evaluator, to evaluate.
    pub fn evaluator_mut(&mut self) -> &mut AlertEvaluator {
        &mut self.evaluator
    }

    /// Where the rules come from and what went wrong reading them (without the rules' phases).
    pub fn report(&self) -> &AlertRulesReport {
        &self.report
    }

    /// Whether the rules come from the file (else they are built in).
    pub fn from_file(&self) -> bool {
        self.from_file
    }

    /// Re-reads the file when it changed (or appeared, or went away), and re-checks rules
    /// waiting for a metric when more metrics are registered; without a file, rebuilds the
    /// built-in rules when `thresholds_changed`. Returns the alerts that ended because their
    /// rules changed or went away. Errors are logged once per change.
    pub fn reload(
        &mut self,
        tracker: &PerformanceTracker,
        thresholds: &HealthThresholds,
        thresholds_changed: bool,
        now_unix_s: f64,
    ) -> Vec<RuleEvent> {
        let Some(path) = self.path.clone() else {
            return self.built_in(thresholds, thresholds_changed, now_unix_s);
        };
        let stamp = std::fs::metadata(&path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let Some(stamp) = stamp else {
            if self.from_file || self.stamp.is_some() {
                info!(
                    "rfm_perf: alert rules file {} is gone; using the built-in rules",
                    path.display()
                );
                self.stamp = None;
                self.report.file_error = None;
            }
            return self.built_in(thresholds, thresholds_changed || self.from_file, now_unix_s);
        };
        // the metadata is copied only to parse: most intervals just compare a count
        let count = tracker.metric_count();
        let waiting = self.from_file
            && self.evaluator.rules().waits_for_metrics()
            && count != self.known_metrics;
        if self.stamp == Some(stamp) && !waiting {
            return Vec::new();
        }
        self.stamp = Some(stamp);
        self.known_metrics = count;
        let known: Vec<String> = tracker
            .metrics()
            .iter()
            .map(|m| m.name.to_string())
            .collect();
        let shown = path.display().to_string();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| RuleError {
                file: shown.clone(),
                line: 1,
                column: 1,
                rule: None,
                message: format!("cannot read the file: {e}"),
            })
            .and_then(|text| AlertRuleSet::parse(&text, &shown, Some(&known)));
        match parsed {
            Ok(set) => {
                let skipped_before = self.report.rule_errors.clone();
                if !waiting || set.errors != skipped_before {
                    info!(
                        "rfm_perf: alert rules from {shown}: {} in effect{}",
                        set.rules.len(),
                        match set.errors.len() {
                            0 => String::new(),
                            n => format!(" ({n} skipped)"),
                        }
                    );
                    for e in set.errors.iter().filter(|e| !skipped_before.contains(e)) {
                        warn!("rfm_perf: alert rule skipped: {e}");
                    }
                }
                self.report = AlertRulesReport {
                    source: shown.clone(),
                    path: Some(shown),
                    loaded_unix_s: Some(now_unix_s),
                    file_error: None,
                    rule_errors: set.errors.clone(),
                };
                self.from_file = true;
                self.evaluator.replace(set)
            }
            Err(e) => {
                error!(
                    "rfm_perf: alert rules file not loaded: {e}; {} stay in effect",
                    if self.from_file {
                        "the last good rules"
                    } else {
                        "the built-in rules"
                    }
                );
                self.report.file_error = Some(e);
                Vec::new()
            }
        }
    }

    fn built_in(
        &mut self,
        thresholds: &HealthThresholds,
        rebuild: bool,
        now_unix_s: f64,
    ) -> Vec<RuleEvent> {
        if !rebuild {
            return Vec::new();
        }
        self.from_file = false;
        self.report.source = BUILT_IN_RULES.into();
        self.report.rule_errors.clear();
        self.report.loaded_unix_s = Some(now_unix_s);
        self.evaluator.replace(rules_from_thresholds(thresholds))
    }
}

/// A warning and a critical rule (above or below, by the threshold's direction) per metric of
/// `thresholds`: the built-in rules, the same as `assets/alerts.toml`.
///
/// ```
/// let set = rfm_perf::analysis::rules_from_thresholds(&rfm_perf::HealthThresholds::default());
/// let fps: Vec<_> = set.rules.iter().filter(|r| r.metric == "frame.fps").map(|r| r.threshold).collect();
/// assert_eq!(fps, [55.0, 30.0]);
/// ```
pub fn rules_from_thresholds(thresholds: &HealthThresholds) -> AlertRuleSet {
    let mut rules = Vec::with_capacity(thresholds.by_metric.len() * 2);
    for (metric, th) in &thresholds.by_metric {
        let condition = if th.higher_is_worse {
            Condition::Above
        } else {
            Condition::Below
        };
        rules.push(AlertRule::new(
            metric.clone(),
            condition,
            th.warning,
            RuleSeverity::Warning,
        ));
        rules.push(AlertRule::new(
            metric.clone(),
            condition,
            th.critical,
            RuleSeverity::Critical,
        ));
    }
    AlertRuleSet::from_rules(BUILT_IN_RULES, rules)
}

/// The dashboard's colour levels from a rule file: a metric with exactly one warning and one
/// critical rule, both above or both below, gets those levels (so the tile turns yellow where
/// the alert fires). Returns whether `thresholds` changed.
///
/// ```
/// use rfm_perf::HealthThresholds;
/// use rfm_perf_core::alert_rules::{AlertRule, AlertRuleSet, Condition, RuleSeverity};
/// let set = AlertRuleSet::from_rules("t", vec![
///     AlertRule::new("frame.time_ms", Condition::Above, 20.0, RuleSeverity::Warning),
///     AlertRule::new("frame.time_ms", Condition::Above, 40.0, RuleSeverity::Critical),
/// ]);
/// let mut th = HealthThresholds::default();
/// assert!(rfm_perf::analysis::levels_from_rules(&set, &mut th));
/// assert_eq!(th.get("frame.time_ms").unwrap().warning, 20.0);
/// ```
pub fn levels_from_rules(set: &AlertRuleSet, thresholds: &mut HealthThresholds) -> bool {
    let mut changed = false;
    let mut metrics: Vec<&str> = set.rules.iter().map(|r| r.metric.as_str()).collect();
    metrics.sort_unstable();
    metrics.dedup();
    for metric in metrics {
        let level: Vec<&AlertRule> = set
            .rules
            .iter()
            .filter(|r| {
                r.metric == metric && matches!(r.condition, Condition::Above | Condition::Below)
            })
            .collect();
        let one = |sev| {
            let mut it = level.iter().filter(|r| r.severity == sev);
            match (it.next(), it.next()) {
                (Some(r), None) => Some(*r),
                _ => None,
            }
        };
        let (Some(w), Some(c)) = (one(RuleSeverity::Warning), one(RuleSeverity::Critical)) else {
            continue;
        };
        if w.condition != c.condition || level.len() != 2 {
            continue;
        }
        let th = HealthThreshold {
            warning: w.threshold,
            critical: c.threshold,
            higher_is_worse: w.condition == Condition::Above,
        };
        if thresholds.get(metric) != Some(&th) {
            thresholds.set(metric, th);
            changed = true;
        }
    }
    changed
}

/// The default rule file, relative to the working directory (where `cargo run` runs).
pub fn default_rules_path() -> PathBuf {
    Path::new("assets").join("alerts.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_is_the_built_in_rules() {
        let text = include_str!("../../assets/alerts.toml");
        let known: Vec<String> = PerformanceTracker::new()
            .metrics()
            .iter()
            .map(|m| m.name.to_string())
            .collect();
        let file = AlertRuleSet::parse(text, "assets/alerts.toml", Some(&known)).unwrap();
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let built_in = rules_from_thresholds(&HealthThresholds::default());
        let key = |r: &AlertRule| (r.id.clone(), r.condition.as_str(), r.severity);
        let mut a: Vec<_> = file.rules.iter().map(key).collect();
        let mut b: Vec<_> = built_in.rules.iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        for r in &file.rules {
            let twin = built_in.rules.iter().find(|b| b.id == r.id).unwrap();
            assert!(
                (r.threshold - twin.threshold).abs() <= 1e-4 * twin.threshold.abs(),
                "{}: {} vs {}",
                r.id,
                r.threshold,
                twin.threshold
            );
            assert_eq!(
                (r.hold, r.cooldown, r.hysteresis),
                (twin.hold, twin.cooldown, twin.hysteresis)
            );
        }
    }

    #[test]
    fn levels_follow_only_unambiguous_rule_pairs() {
        let mut th = HealthThresholds::default();
        let set = AlertRuleSet::from_rules(
            "t",
            vec![
                AlertRule::new("frame.fps", Condition::Below, 50.0, RuleSeverity::Warning),
                AlertRule::new("frame.fps", Condition::Above, 500.0, RuleSeverity::Critical),
            ],
        );
        assert!(!levels_from_rules(&set, &mut th));
        assert_eq!(th, HealthThresholds::default());
    }
}
