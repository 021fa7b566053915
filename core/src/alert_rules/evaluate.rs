//! Rules over time: each rule is inactive, pending (its condition holds, not yet for its `for`
//! duration), firing, or cooling down after it cleared. A firing rule is inhibited while a more
//! severe rule of the same metric and condition fires (one alert per metric shows its worst
//! level, as Alertmanager's inhibition does).

use serde::Serialize;

use super::inputs::RuleInputs;
use super::{AlertRule, AlertRuleSet, Condition, RuleSeverity};

/// Where a rule stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RulePhase {
    /// Its condition does not hold.
    Inactive,
    /// Its condition holds, not yet for its `for` duration.
    Pending,
    /// Its alert is active.
    Firing,
    /// It cleared less than its cooldown ago; it cannot fire yet.
    CoolingDown,
}

/// A rule and where it stands, as the dashboard and the API show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleStatus {
    /// The rule.
    pub rule: AlertRule,
    /// Where it stands.
    pub phase: RulePhase,
    /// What it saw at the last evaluation: the value, relative change or anomaly score.
    pub value: Option<f64>,
    /// When the current phase began (seconds since the Unix epoch).
    pub since_unix_s: f64,
    /// Firing but hidden behind a more severe rule of the same metric that fires too.
    pub inhibited: bool,
}

/// A change an evaluation made.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleEvent {
    /// The rule's alert became active (or visible: a more severe rule stopped hiding it).
    Fired {
        /// The rule.
        rule: AlertRule,
        /// What it saw.
        value: f64,
        /// When it fired (seconds since the Unix epoch).
        fired_unix_s: f64,
    },
    /// The rule's alert ended.
    Cleared {
        /// The rule.
        rule: AlertRule,
        /// When that alert fired.
        fired_unix_s: f64,
    },
}

#[derive(Clone, Debug)]
struct State {
    phase: RulePhase,
    value: Option<f64>,
    since: f64,
    fired_at: f64,
    announced: bool,
    cooldown_until: f64,
    inhibited: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            phase: RulePhase::Inactive,
            value: None,
            since: 0.0,
            fired_at: 0.0,
            announced: false,
            cooldown_until: f64::NEG_INFINITY,
            inhibited: false,
        }
    }
}

/// Evaluates a rule set again and again, keeping each rule's phase.
///
/// ```
/// use rfm_perf_core::alert_rules::*;
/// use rfm_perf_core::AnomalyKind;
///
/// struct Fps(f64);
/// impl RuleInputs for Fps {
///     fn value(&self, _: &str) -> Option<f64> { Some(self.0) }
///     fn baseline_change(&self, _: &str) -> Option<BaselineChange> { None }
///     fn anomaly(&self, _: &str, _: Option<AnomalyKind>, _: f64) -> Option<RecentAnomaly> { None }
/// }
///
/// let mut rule = AlertRule::new("frame.fps", Condition::Below, 30.0, RuleSeverity::Critical);
/// rule.hold = std::time::Duration::from_secs(2);
/// let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("code", vec![rule]));
/// assert!(e.evaluate(&Fps(20.0), 0.0).is_empty()); // pending
/// assert!(e.evaluate(&Fps(20.0), 1.0).is_empty());
/// assert!(matches!(e.evaluate(&Fps(20.0), 2.0)[..], [RuleEvent::Fired { .. }]));
/// assert!(e.evaluate(&Fps(31.0), 3.0).is_empty()); // within the 5 % hysteresis
/// assert!(matches!(e.evaluate(&Fps(40.0), 4.0)[..], [RuleEvent::Cleared { .. }]));
/// ```
#[derive(Clone, Debug, Default)]
pub struct AlertEvaluator {
    set: AlertRuleSet,
    states: Vec<State>,
}

/// Whether two rules say the same (the line they are on aside).
fn same_rule(a: &AlertRule, b: &AlertRule) -> bool {
    AlertRule {
        line: 0,
        ..a.clone()
    } == AlertRule {
        line: 0,
        ..b.clone()
    }
}

impl AlertEvaluator {
    /// Every rule of `set`, inactive.
    pub fn new(set: AlertRuleSet) -> Self {
        let states = vec![State::default(); set.rules.len()];
        Self { set, states }
    }

    /// The rules evaluated.
    pub fn rules(&self) -> &AlertRuleSet {
        &self.set
    }

    /// Replaces the rules (a reloaded file): a rule that says the same as before under the same
    /// id keeps its phase (saving a file does not re-raise its alerts); the alerts of rules that
    /// were removed or changed end — returned as [`RuleEvent::Cleared`].
    pub fn replace(&mut self, set: AlertRuleSet) -> Vec<RuleEvent> {
        let mut old: Vec<(AlertRule, State)> = std::mem::take(&mut self.set.rules)
            .into_iter()
            .zip(std::mem::take(&mut self.states))
            .collect();
        let mut states = Vec::with_capacity(set.rules.len());
        for rule in &set.rules {
            match old
                .iter()
                .position(|(r, _)| r.id == rule.id && same_rule(r, rule))
            {
                Some(i) => states.push(old.swap_remove(i).1),
                None => states.push(State::default()),
            }
        }
        self.set = set;
        self.states = states;
        old.into_iter()
            .filter(|(_, s)| s.phase == RulePhase::Firing && s.announced)
            .map(|(rule, s)| RuleEvent::Cleared {
                rule,
                fired_unix_s: s.fired_at,
            })
            .collect()
    }

    /// Evaluates every rule against `inputs` at `now_unix_s`; returns the alerts that fired or
    /// ended, in rule order (ended first).
    pub fn evaluate(&mut self, inputs: &impl RuleInputs, now_unix_s: f64) -> Vec<RuleEvent> {
        let now = now_unix_s;
        let mut events = Vec::new();
        for (rule, st) in self.set.rules.iter().zip(&mut self.states) {
            let firing = st.phase == RulePhase::Firing;
            let (value, holds) = observe(rule, inputs, now, firing);
            st.value = value;
            if st.phase == RulePhase::CoolingDown && now >= st.cooldown_until {
                st.phase = RulePhase::Inactive;
                st.since = now;
            }
            match st.phase {
                RulePhase::Firing if !holds => {
                    if st.announced {
                        events.push(RuleEvent::Cleared {
                            rule: rule.clone(),
                            fired_unix_s: st.fired_at,
                        });
                    }
                    st.announced = false;
                    st.inhibited = false;
                    st.cooldown_until = now + rule.cooldown.as_secs_f64();
                    st.phase = if rule.cooldown.is_zero() {
                        RulePhase::Inactive
                    } else {
                        RulePhase::CoolingDown
                    };
                    st.since = now;
                }
                RulePhase::Inactive if holds => {
                    st.since = now;
                    st.phase = RulePhase::Pending;
                }
                RulePhase::Pending if !holds => {
                    st.phase = RulePhase::Inactive;
                    st.since = now;
                }
                _ => {}
            }
            if st.phase == RulePhase::Pending && now - st.since >= rule.hold.as_secs_f64() {
                st.phase = RulePhase::Firing;
                st.since = now;
                st.fired_at = now;
            }
        }
        // inhibition: a firing rule hides behind a more severe firing rule of its metric and
        // condition (the worst severity per pair first: linear in the rules)
        let mut worst: rustc_hash::FxHashMap<(&str, Condition), RuleSeverity> =
            rustc_hash::FxHashMap::default();
        for (rule, st) in self.set.rules.iter().zip(&self.states) {
            if st.phase == RulePhase::Firing {
                let w = worst
                    .entry((rule.metric.as_str(), rule.condition))
                    .or_insert(rule.severity);
                *w = (*w).max(rule.severity);
            }
        }
        for (rule, st) in self.set.rules.iter().zip(&mut self.states) {
            if st.phase != RulePhase::Firing {
                continue;
            }
            let inhibited = worst
                .get(&(rule.metric.as_str(), rule.condition))
                .is_some_and(|w| *w > rule.severity);
            st.inhibited = inhibited;
            if !inhibited && !st.announced {
                st.announced = true;
                events.push(RuleEvent::Fired {
                    rule: rule.clone(),
                    value: st.value.unwrap_or(f64::NAN),
                    fired_unix_s: st.fired_at,
                });
            }
        }
        events
    }

    /// Every rule and where it stands.
    pub fn status(&self) -> Vec<RuleStatus> {
        self.set
            .rules
            .iter()
            .zip(&self.states)
            .map(|(rule, st)| RuleStatus {
                rule: rule.clone(),
                phase: st.phase,
                value: st.value,
                since_unix_s: st.since,
                inhibited: st.inhibited,
            })
            .collect()
    }

    /// The rules whose alerts are active and shown (firing, not inhibited), with what they saw
    /// and when they fired.
    pub fn active(&self) -> impl Iterator<Item = (&AlertRule, f64, f64)> {
        self.set
            .rules
            .iter()
            .zip(&self.states)
            .filter(|(_, st)| st.phase == RulePhase::Firing && !st.inhibited)
            .map(|(r, st)| (r, st.value.unwrap_or(f64::NAN), st.fired_at))
    }
}

/// What `rule` sees in `inputs` and whether its condition holds.
fn observe(
    rule: &AlertRule,
    inputs: &impl RuleInputs,
    now: f64,
    firing: bool,
) -> (Option<f64>, bool) {
    match rule.condition {
        Condition::Above | Condition::Below => {
            let v = inputs.value(&rule.metric).filter(|v| v.is_finite());
            (v, v.is_some_and(|v| rule.holds(v, firing)))
        }
        Condition::ChangeVsBaseline => match inputs.baseline_change(&rule.metric) {
            Some(c) => (
                Some(c.change),
                c.significant && rule.holds(c.change, firing),
            ),
            None => (None, false),
        },
        Condition::Anomaly => {
            let since = now - rule.window.as_secs_f64();
            match inputs.anomaly(&rule.metric, rule.kind, since) {
                Some(a) => (Some(a.score), rule.holds(a.score, firing)),
                None => (None, false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::super::{BaselineChange, RecentAnomaly};
    use super::*;
    use crate::AnomalyKind;

    #[derive(Default)]
    struct Inputs {
        values: HashMap<String, f64>,
        changes: HashMap<String, BaselineChange>,
        anomalies: Vec<(String, AnomalyKind, f64, f64)>,
    }

    impl RuleInputs for Inputs {
        fn value(&self, m: &str) -> Option<f64> {
            self.values.get(m).copied()
        }
        fn baseline_change(&self, m: &str) -> Option<BaselineChange> {
            self.changes.get(m).copied()
        }
        fn anomaly(&self, m: &str, kind: Option<AnomalyKind>, since: f64) -> Option<RecentAnomaly> {
            self.anomalies
                .iter()
                .filter(|(n, k, t, _)| n == m && *t >= since && kind.is_none_or(|x| x == *k))
                .map(|&(_, _, t, score)| RecentAnomaly {
                    score,
                    value: 0.0,
                    unix_s: t,
                })
                .max_by(|a, b| a.score.total_cmp(&b.score))
        }
    }

    fn with(metric: &str, v: f64) -> Inputs {
        let mut i = Inputs::default();
        i.values.insert(metric.into(), v);
        i
    }

    fn fired(events: &[RuleEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                RuleEvent::Fired { rule, .. } => Some(rule.id.clone()),
                RuleEvent::Cleared { .. } => None,
            })
            .collect()
    }

    fn cleared(events: &[RuleEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                RuleEvent::Cleared { rule, .. } => Some(rule.id.clone()),
                RuleEvent::Fired { .. } => None,
            })
            .collect()
    }

    fn frame_rules() -> AlertEvaluator {
        let w = AlertRule::new(
            "frame.time_ms",
            Condition::Above,
            16.7,
            RuleSeverity::Warning,
        );
        let c = AlertRule::new(
            "frame.time_ms",
            Condition::Above,
            33.3,
            RuleSeverity::Critical,
        );
        AlertEvaluator::new(AlertRuleSet::from_rules("t", vec![w, c]))
    }

    #[test]
    fn escalation_shows_the_worst_level_and_de_escalation_the_next() {
        let mut e = frame_rules();
        assert_eq!(
            fired(&e.evaluate(&with("frame.time_ms", 20.0), 0.0)),
            ["frame.time_ms:above:warning"]
        );
        assert_eq!(
            fired(&e.evaluate(&with("frame.time_ms", 420.0), 1.0)),
            ["frame.time_ms:above:critical"]
        );
        let active: Vec<_> = e.active().map(|(r, v, _)| (r.id.clone(), v)).collect();
        assert_eq!(
            active,
            [("frame.time_ms:above:critical".to_string(), 420.0)]
        );
        // back to warning: the critical alert ends, the warning one (already announced) shows again
        let ev = e.evaluate(&with("frame.time_ms", 20.0), 2.0);
        assert_eq!(cleared(&ev), ["frame.time_ms:above:critical"]);
        assert!(fired(&ev).is_empty());
        assert_eq!(e.active().count(), 1);
        // straight to critical from nothing: the warning rule never shows, so never announces
        let mut e = frame_rules();
        assert_eq!(
            fired(&e.evaluate(&with("frame.time_ms", 50.0), 0.0)),
            ["frame.time_ms:above:critical"]
        );
        let ev = e.evaluate(&with("frame.time_ms", 5.0), 1.0);
        assert_eq!(cleared(&ev), ["frame.time_ms:above:critical"]);
    }

    #[test]
    fn for_duration_requires_the_condition_throughout() {
        let mut r = AlertRule::new("m", Condition::Above, 10.0, RuleSeverity::Warning);
        r.hold = Duration::from_secs(3);
        let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("t", vec![r]));
        assert!(e.evaluate(&with("m", 11.0), 0.0).is_empty());
        assert!(e.evaluate(&with("m", 11.0), 2.0).is_empty());
        assert!(e.evaluate(&with("m", 9.0), 2.5).is_empty()); // broke: starts over
        assert!(e.evaluate(&with("m", 11.0), 3.0).is_empty());
        assert_eq!(e.status()[0].phase, RulePhase::Pending);
        assert_eq!(
            fired(&e.evaluate(&with("m", 11.0), 6.0)),
            ["m:above:warning"]
        );
    }

    #[test]
    fn cooldown_blocks_refiring_and_hysteresis_blocks_clearing() {
        let mut r = AlertRule::new("m", Condition::Above, 10.0, RuleSeverity::Warning);
        r.cooldown = Duration::from_secs(30);
        r.hysteresis = 0.1;
        let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("t", vec![r]));
        assert_eq!(fired(&e.evaluate(&with("m", 10.0), 0.0)).len(), 1);
        assert!(e.evaluate(&with("m", 9.1), 1.0).is_empty()); // within 10 %
        assert_eq!(cleared(&e.evaluate(&with("m", 8.9), 2.0)).len(), 1);
        assert_eq!(e.status()[0].phase, RulePhase::CoolingDown);
        assert!(e.evaluate(&with("m", 50.0), 10.0).is_empty());
        assert!(e.evaluate(&with("m", 50.0), 31.0).is_empty()); // still cooling down (until 32 s)
        assert_eq!(fired(&e.evaluate(&with("m", 50.0), 32.0)).len(), 1);
        assert_eq!(e.status()[0].phase, RulePhase::Firing);
        assert!(e.active().count() == 1);
    }

    #[test]
    fn missing_values_clear_and_nan_never_fires() {
        let mut e = frame_rules();
        e.evaluate(&with("frame.time_ms", 20.0), 0.0);
        assert_eq!(cleared(&e.evaluate(&Inputs::default(), 1.0)).len(), 1);
        assert!(e.evaluate(&with("frame.time_ms", f64::NAN), 2.0).is_empty());
        assert_eq!(e.status()[0].value, None);
    }

    #[test]
    fn change_rules_need_significance() {
        let r = AlertRule::new("m", Condition::ChangeVsBaseline, 0.2, RuleSeverity::Warning);
        let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("t", vec![r]));
        let mut i = Inputs::default();
        i.changes.insert(
            "m".into(),
            BaselineChange {
                change: 0.5,
                significant: false,
            },
        );
        assert!(e.evaluate(&i, 0.0).is_empty());
        assert_eq!(e.status()[0].value, Some(0.5));
        i.changes.insert(
            "m".into(),
            BaselineChange {
                change: 0.5,
                significant: true,
            },
        );
        assert_eq!(fired(&e.evaluate(&i, 1.0)).len(), 1);
        i.changes.insert(
            "m".into(),
            BaselineChange {
                change: 0.195,
                significant: true,
            },
        );
        assert!(e.evaluate(&i, 2.0).is_empty());
        i.changes.insert(
            "m".into(),
            BaselineChange {
                change: 0.1,
                significant: true,
            },
        );
        assert_eq!(cleared(&e.evaluate(&i, 3.0)).len(), 1);
    }

    #[test]
    fn anomaly_rules_hold_for_their_window_and_kind() {
        let mut r = AlertRule::new("m", Condition::Anomaly, 4.0, RuleSeverity::Warning);
        r.kind = Some(AnomalyKind::Spike);
        r.window = Duration::from_secs(10);
        let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("t", vec![r]));
        let mut i = Inputs::default();
        i.anomalies
            .push(("m".into(), AnomalyKind::LevelShift, 0.0, 9.0));
        i.anomalies.push(("m".into(), AnomalyKind::Spike, 0.0, 3.0)); // below the threshold
        assert!(e.evaluate(&i, 1.0).is_empty());
        i.anomalies.push(("m".into(), AnomalyKind::Spike, 2.0, 6.0));
        assert_eq!(fired(&e.evaluate(&i, 2.0)).len(), 1);
        assert!(e.evaluate(&i, 11.0).is_empty());
        assert_eq!(cleared(&e.evaluate(&i, 12.5)).len(), 1);
    }

    #[test]
    fn replacing_keeps_unchanged_rules_and_ends_the_others() {
        let mut e = frame_rules();
        e.evaluate(&with("frame.time_ms", 20.0), 0.0);
        let mut set = e.rules().clone();
        set.rules[0].line = 7; // moved in the file, same rule
        assert!(e.replace(set.clone()).is_empty());
        assert_eq!(e.active().count(), 1);
        set.rules[0].threshold = 18.0; // changed: its alert ends, it starts over
        assert_eq!(cleared(&e.replace(set)), ["frame.time_ms:above:warning"]);
        assert_eq!(e.active().count(), 0);
        assert_eq!(
            fired(&e.evaluate(&with("frame.time_ms", 20.0), 1.0)).len(),
            1
        );
    }
}
