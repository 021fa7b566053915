//! Alerts: the [`AlertRules`] evaluated against the tracker at each update. An alert is raised
//! when a rule's condition has held for its `for` duration, shows the value now and its rule's
//! level while it lasts, and ends once the value is back past the hysteresis margin (no storms
//! from a value hovering at a level).

use std::time::SystemTime;

use rfm_perf_core::alert_rules::{AlertRule, RuleEvent, RuleSeverity, TrackerRuleInputs};
use rfm_perf_core::{PerformanceTracker, Snapshot};

use super::alert_rules::AlertRules;
use crate::base::{Alert, AlertCleared, AlertRulesState, Health, Insights};

/// Raised alerts kept for the alert log.
pub const ALERT_LOG_LEN: usize = 50;

/// What one [`Insights::update_alerts`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertChanges {
    /// Alerts raised by this update.
    pub raised: Vec<Alert>,
    /// Alerts that ended.
    pub cleared: Vec<AlertCleared>,
}

fn health(severity: RuleSeverity) -> Health {
    match severity {
        RuleSeverity::Warning => Health::Warning,
        RuleSeverity::Critical => Health::Critical,
    }
}

fn alert(rule: &AlertRule, value: f64, fired_unix_s: f64, snapshot: &Snapshot) -> Alert {
    let unit = snapshot
        .values
        .iter()
        .find(|v| v.info.name.as_ref() == rule.metric)
        .map_or("", |v| v.info.unit.symbol());
    Alert {
        metric: rule.metric.clone(),
        rule: rule.id.clone(),
        status: health(rule.severity),
        value,
        threshold: rule.threshold,
        raised_unix_s: fired_unix_s,
        active: true,
        message: rule.describe(value, unit),
    }
}

impl Insights {
    /// Evaluates `rules` against `tracker` (its newest values in `snapshot`, its baselines and
    /// anomalies) now: raises an alert when a rule fires, ends it when the rule clears, and
    /// refreshes the active alerts (value and message follow the value now) and
    /// [`Insights::rules`]. Returns what was raised and what ended (the plugin sends them as
    /// messages).
    ///
    /// ```
    /// use rfm_perf::{HealthThresholds, Insights};
    /// use rfm_perf::analysis::AlertRules;
    /// let t = rfm_perf::PerformanceTracker::new();
    /// let mut rules = AlertRules::new(None, &HealthThresholds::default());
    /// let mut ins = Insights::default();
    /// let mut update = |ins: &mut Insights, v: f64| {
    ///     t.track_metric("frame.time_ms", v);
    ///     ins.update_alerts(&mut rules, &t, &t.publish_snapshot())
    /// };
    /// assert_eq!(update(&mut ins, 20.0).raised.len(), 1);
    /// assert_eq!(ins.alerts[0].message, "frame.time_ms is 20.00 ms, above its warning level 16.67");
    /// // escalation: the critical rule fires and shows; the warning one hides behind it
    /// assert_eq!(update(&mut ins, 420.0).raised[0].rule, "frame.time_ms:above:critical");
    /// assert_eq!(ins.alerts.len(), 1);
    /// assert_eq!(ins.alerts[0].message, "frame.time_ms is 420.00 ms, above its critical level 33.33");
    /// update(&mut ins, 16.5); // below 16.67 but inside the hysteresis band: still warning
    /// assert_eq!(ins.alerts[0].message, "frame.time_ms is 16.50 ms, above its warning level 16.67");
    /// let cleared = update(&mut ins, 10.0).cleared;
    /// assert!(ins.alerts.is_empty());
    /// assert_eq!(cleared[0].rule, "frame.time_ms:above:warning");
    /// assert_eq!(ins.log.len(), 2);
    /// ```
    pub fn update_alerts(
        &mut self,
        rules: &mut AlertRules,
        tracker: &PerformanceTracker,
        snapshot: &Snapshot,
    ) -> AlertChanges {
        self.update_alerts_with(rules, tracker, snapshot, None)
    }

    /// [`update_alerts`](Self::update_alerts) with the regression test's assessments when they
    /// were made off the frame.
    pub(crate) fn update_alerts_with(
        &mut self,
        rules: &mut AlertRules,
        tracker: &PerformanceTracker,
        snapshot: &Snapshot,
        assessments: Option<&[rfm_perf_core::Assessment]>,
    ) -> AlertChanges {
        let now = rfm_perf_core::clock::unix_seconds(SystemTime::now());
        let inputs = TrackerRuleInputs::gather_with(
            tracker,
            snapshot,
            rules.evaluator().rules(),
            now,
            assessments,
        );
        let events = rules.evaluator_mut().evaluate(&inputs, now);
        self.apply_rule_events(events, rules, snapshot)
    }

    /// Records `events` (from an evaluation or a reload of `rules`) and refreshes the active
    /// alerts and [`Insights::rules`] from `rules`.
    pub(crate) fn apply_rule_events(
        &mut self,
        events: Vec<RuleEvent>,
        rules: &AlertRules,
        snapshot: &Snapshot,
    ) -> AlertChanges {
        let mut changes = AlertChanges::default();
        for event in events {
            match event {
                RuleEvent::Fired {
                    rule,
                    value,
                    fired_unix_s,
                } => {
                    let a = alert(&rule, value, fired_unix_s, snapshot);
                    self.log.push_back(a.clone());
                    while self.log.len() > ALERT_LOG_LEN {
                        self.log.pop_front();
                    }
                    changes.raised.push(a);
                }
                RuleEvent::Cleared { rule, fired_unix_s } => changes.cleared.push(AlertCleared {
                    metric: rule.metric,
                    rule: rule.id,
                    raised_unix_s: fired_unix_s,
                }),
            }
        }
        self.alerts = rules
            .evaluator()
            .active()
            .map(|(rule, value, fired)| alert(rule, value, fired, snapshot))
            .collect();
        self.rules = AlertRulesState {
            report: rules.report().clone(),
            rules: rules.evaluator().status(),
        };
        changes
    }
}
