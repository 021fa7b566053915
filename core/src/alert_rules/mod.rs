//! Alert rules people write: a metric, a condition (above / below a level, a significant change
//! against its baseline, an anomaly), a threshold, how long the condition must hold (`for`), a
//! severity, a cooldown and a hysteresis margin — read from a TOML file ([`AlertRuleSet::parse`])
//! and evaluated against the tracker at each update ([`AlertEvaluator`]).
//!
//! The file format, one `[[rule]]` table per rule:
//!
//! ```toml
//! [[rule]]
//! id = "frame-time-warning"   # optional; default "<metric>:<condition>:<severity>"
//! metric = "frame.time_ms"    # a metric name or its short alias ("render_time")
//! condition = "above"         # above | below | change_vs_baseline | anomaly
//! threshold = 16.667          # level; relative change for change_vs_baseline (0.2 = 20 % worse);
//!                             # minimum score for anomaly (0 = any)
//! severity = "warning"        # warning | critical
//! for = "2s"                  # the condition holds this long before the alert fires (default 0s)
//! cooldown = "30s"            # after it clears, it cannot fire again this soon (default 0s)
//! hysteresis = 0.05           # it clears only 5 % of the threshold past it (default 0.05)
//! # kind = "spike"            # anomaly only: spike | level_shift | any (default any)
//! # window = "10s"            # anomaly only: how recent an anomaly keeps the condition (default 10s)
//! ```
//!
//! Durations are a number of seconds or a number with a unit: `ms`, `s`, `m`, `h`.

mod evaluate;
mod inputs;
mod parse;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::AnomalyKind;

pub use evaluate::{AlertEvaluator, RuleEvent, RulePhase, RuleStatus};
pub use inputs::{BaselineChange, RecentAnomaly, RuleInputs, TrackerRuleInputs};

/// Relative margin past the threshold a value must go back before an alert clears, when a rule
/// does not set `hysteresis`.
pub const DEFAULT_HYSTERESIS: f64 = 0.05;
/// How recent an anomaly keeps an `anomaly` rule's condition, when the rule does not set `window`.
pub const DEFAULT_ANOMALY_WINDOW: Duration = Duration::from_secs(10);

/// How bad an alert is.
///
/// ```
/// assert_eq!(rfm_perf_core::alert_rules::RuleSeverity::Critical.as_str(), "critical");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSeverity {
    /// Worth a look.
    Warning,
    /// Act now.
    Critical,
}

impl RuleSeverity {
    /// Lower-case name, as rule files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Warning => "warning",
            RuleSeverity::Critical => "critical",
        }
    }
}

/// What a rule watches for.
///
/// ```
/// use rfm_perf_core::alert_rules::Condition;
/// assert_eq!(Condition::ChangeVsBaseline.as_str(), "change_vs_baseline");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The newest value is at or above the threshold.
    Above,
    /// The newest value is at or below the threshold.
    Below,
    /// The median over the baseline window is worse than the baseline's by at least the
    /// threshold (relative, oriented by the metric's direction), and the difference is
    /// significant (the tracker's regression test).
    ChangeVsBaseline,
    /// The tracker found an anomaly of the metric (of `kind`, when set) with at least the
    /// threshold's score within the rule's window.
    Anomaly,
}

impl Condition {
    /// The name rule files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Above => "above",
            Condition::Below => "below",
            Condition::ChangeVsBaseline => "change_vs_baseline",
            Condition::Anomaly => "anomaly",
        }
    }
}

/// One alert rule (see the [module docs](self) for the file format).
///
/// ```
/// use rfm_perf_core::alert_rules::{AlertRule, Condition, RuleSeverity};
/// let r = AlertRule::new("frame.time_ms", Condition::Above, 33.3, RuleSeverity::Critical);
/// assert_eq!(r.id, "frame.time_ms:above:critical");
/// assert!(r.holds(40.0, false) && !r.holds(20.0, false));
/// assert!(r.holds(32.0, true)); // firing: clears only 5 % below the level
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRule {
    /// Unique name within its file.
    pub id: String,
    /// The metric (canonical name: aliases resolved).
    pub metric: String,
    /// What it watches for.
    pub condition: Condition,
    /// The level, relative change or minimum score (see [`Condition`]).
    pub threshold: f64,
    /// How bad it is when it fires.
    pub severity: RuleSeverity,
    /// How long the condition must hold before the alert fires (`for` in the file).
    #[serde(rename = "for_s", serialize_with = "as_seconds")]
    pub hold: Duration,
    /// After the alert clears, how long before it can fire again.
    #[serde(rename = "cooldown_s", serialize_with = "as_seconds")]
    pub cooldown: Duration,
    /// Relative margin past the threshold (of its magnitude) before a firing alert clears.
    pub hysteresis: f64,
    /// `anomaly` only: the kind of anomaly (`None` = any).
    pub kind: Option<AnomalyKind>,
    /// `anomaly` only: how recent an anomaly keeps the condition.
    #[serde(rename = "window_s", serialize_with = "as_seconds")]
    pub window: Duration,
    /// Line of its `[[rule]]` header in the file (0 for rules made in code).
    pub line: usize,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl AlertRule {
    /// A rule with the defaults of the file format: fires at once, no cooldown,
    /// [`DEFAULT_HYSTERESIS`], id `"<metric>:<condition>:<severity>"`.
    pub fn new(
        metric: impl Into<String>,
        condition: Condition,
        threshold: f64,
        severity: RuleSeverity,
    ) -> Self {
        let metric = crate::names::resolve_alias(&metric.into()).to_string();
        Self {
            id: default_id(&metric, condition, severity),
            metric,
            condition,
            threshold,
            severity,
            hold: Duration::ZERO,
            cooldown: Duration::ZERO,
            hysteresis: DEFAULT_HYSTERESIS,
            kind: None,
            window: DEFAULT_ANOMALY_WINDOW,
            line: 0,
        }
    }

    /// Whether `value` meets a level condition: reaching the threshold when not `firing`;
    /// staying within the hysteresis margin of it while `firing`. For
    /// [`Condition::ChangeVsBaseline`], `value` is the relative change; for
    /// [`Condition::Anomaly`], the score.
    pub fn holds(&self, value: f64, firing: bool) -> bool {
        if !value.is_finite() {
            return false;
        }
        let margin = if firing {
            self.threshold.abs() * self.hysteresis
        } else {
            0.0
        };
        match self.condition {
            Condition::Above | Condition::ChangeVsBaseline => value >= self.threshold - margin,
            Condition::Below => value <= self.threshold + margin,
            Condition::Anomaly => value >= self.threshold,
        }
    }

    /// What an alert of this rule says about `value` (in `unit`, as the metric's unit symbol):
    /// always the value now and the rule's level.
    ///
    /// ```
    /// use rfm_perf_core::alert_rules::{AlertRule, Condition, RuleSeverity};
    /// let r = AlertRule::new("frame.fps", Condition::Below, 30.0, RuleSeverity::Critical);
    /// assert_eq!(r.describe(21.5, "fps"), "frame.fps is 21.50 fps, below its critical level 30.00");
    /// ```
    pub fn describe(&self, value: f64, unit: &str) -> String {
        let sev = self.severity.as_str();
        let name = &self.metric;
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        match self.condition {
            Condition::Above => format!(
                "{name} is {value:.2}{unit}, above its {sev} level {:.2}",
                self.threshold
            ),
            Condition::Below => format!(
                "{name} is {value:.2}{unit}, below its {sev} level {:.2}",
                self.threshold
            ),
            Condition::ChangeVsBaseline => format!(
                "{name} is {:.1} % worse than its baseline (significant), past its {sev} level {:.1} %",
                value * 100.0,
                self.threshold * 100.0
            ),
            Condition::Anomaly => {
                let kind = match self.kind {
                    Some(AnomalyKind::Spike) => "spike",
                    Some(AnomalyKind::LevelShift) => "level shift",
                    None => "anomaly",
                };
                format!(
                    "{name}: {kind} of score {value:.1} within {:.0} s ({sev})",
                    self.window.as_secs_f64()
                )
            }
        }
    }
}

fn default_id(metric: &str, condition: Condition, severity: RuleSeverity) -> String {
    format!("{metric}:{}:{}", condition.as_str(), severity.as_str())
}

/// A problem in a rule file: where (file, line, column; 1-based), which rule, and what.
///
/// ```
/// use rfm_perf_core::alert_rules::AlertRuleSet;
/// let err = AlertRuleSet::parse("[[rule]\n", "alerts.toml", None).unwrap_err();
/// assert_eq!((err.line, err.column), (1, 8)); // where the second `]` is missing
/// assert!(err.to_string().starts_with("alerts.toml:1:8: "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleError {
    /// The file (as given).
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column (characters), from 1.
    pub column: usize,
    /// The rule's id when the problem is in one rule (that rule alone is skipped).
    pub rule: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// The rules of one file (or made in code), and the problems of the rules that were skipped.
///
/// ```
/// use rfm_perf_core::alert_rules::{AlertRuleSet, Condition};
/// let text = r#"
/// [[rule]]
/// metric = "frame.fps"
/// condition = "below"
/// threshold = 30
/// severity = "critical"
///
/// [[rule]]
/// metric = "frame.time_ms"
/// condition = "above"
/// threshold = 16.7
/// severity = "warning"
/// for = "-1s"
/// "#;
/// let set = AlertRuleSet::parse(text, "alerts.toml", None).unwrap();
/// assert_eq!(set.rules.len(), 1);
/// assert_eq!(set.rules[0].condition, Condition::Below);
/// assert_eq!(set.errors.len(), 1);
/// assert_eq!(set.errors[0].line, 13);
/// assert!(set.errors[0].message.contains("negative"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertRuleSet {
    /// Where the rules came from (a path, or a description).
    pub source: String,
    /// The rules in effect, in file order.
    pub rules: Vec<AlertRule>,
    /// Rules that were skipped, each with its own error.
    pub errors: Vec<RuleError>,
}

impl AlertRuleSet {
    /// A set of rules made in code.
    pub fn from_rules(source: impl Into<String>, rules: Vec<AlertRule>) -> Self {
        Self {
            source: source.into(),
            rules,
            errors: Vec::new(),
        }
    }

    /// Parses a rule file's `text`; `file` names it in errors. A file that is not valid TOML
    /// (or not a list of `[[rule]]` tables) is an `Err` with its line and column; a rule with a
    /// bad value is skipped alone, its error in [`errors`](Self::errors). When
    /// `known_metrics` is given, a rule naming a metric not in it is skipped too (with the
    /// closest known name in the message, when one is close).
    pub fn parse(
        text: &str,
        file: &str,
        known_metrics: Option<&[String]>,
    ) -> Result<Self, RuleError> {
        parse::parse(text, file, known_metrics)
    }

    /// The smallest relative change a `change_vs_baseline` rule still holds at (its threshold
    /// less its hysteresis), when there is such a rule: what the regression test must cover.
    ///
    /// ```
    /// use rfm_perf_core::alert_rules::{AlertRule, AlertRuleSet, Condition, RuleSeverity};
    /// let r = AlertRule::new("m", Condition::ChangeVsBaseline, 0.2, RuleSeverity::Warning);
    /// let set = AlertRuleSet::from_rules("t", vec![r]);
    /// assert!((set.lowest_change_threshold().unwrap() - 0.19).abs() < 1e-12);
    /// assert_eq!(AlertRuleSet::default().lowest_change_threshold(), None);
    /// ```
    pub fn lowest_change_threshold(&self) -> Option<f64> {
        self.rules
            .iter()
            .filter(|r| r.condition == Condition::ChangeVsBaseline)
            .map(|r| r.threshold * (1.0 - r.hysteresis))
            .reduce(f64::min)
    }

    /// Whether some rule's metric is unknown (the set might change once that metric is
    /// recorded).
    pub fn waits_for_metrics(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.message.starts_with(parse::UNKNOWN_METRIC))
    }
}
