//! Reading a rule file: TOML syntax first (an error there rejects the file), then each
//! `[[rule]]` table on its own (an error there skips that rule alone), every error with the
//! line and column of the value at fault.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{
    AlertRule, AlertRuleSet, Condition, DEFAULT_ANOMALY_WINDOW, DEFAULT_HYSTERESIS, RuleError,
    RuleSeverity, default_id,
};
use crate::AnomalyKind;

/// How an unknown metric's message starts ([`AlertRuleSet::waits_for_metrics`] looks for it).
pub(super) const UNKNOWN_METRIC: &str = "unknown metric";

const FIELDS: &[&str] = &[
    "id",
    "metric",
    "condition",
    "threshold",
    "severity",
    "for",
    "cooldown",
    "hysteresis",
    "kind",
    "window",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

/// Line and column (1-based, columns in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn error(&self, span: Range<usize>, rule: Option<&str>, message: String) -> RuleError {
        let (line, column) = line_column(self.text, span.start);
        RuleError {
            file: self.file.to_string(),
            line,
            column,
            rule: rule.map(str::to_string),
            message,
        }
    }
}

pub(super) fn parse(
    text: &str,
    file: &str,
    known: Option<&[String]>,
) -> Result<AlertRuleSet, RuleError> {
    let cx = Ctx { text, file };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let mut message = e.message().trim().to_string();
        // a bare word where a value goes (`metric = frame.time_ms`): say what is missing
        let word: String = text
            .get(span.start..)
            .unwrap_or("")
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
            .collect();
        let value_position = text[..text.floor_char_boundary(span.start)]
            .trim_end_matches([' ', '\t'])
            .ends_with('=');
        if value_position
            && word.starts_with(|c: char| c.is_alphabetic())
            && !matches!(word.as_str(), "true" | "false" | "inf" | "nan")
        {
            message.push_str(&format!("; a text value needs quotes: \"{word}\""));
        }
        cx.error(span, None, message)
    })?;
    let mut set = AlertRuleSet {
        source: file.to_string(),
        ..Default::default()
    };
    let mut ids = HashSet::new();
    for table in raw.rule {
        let header = table.span();
        let fields = table.into_inner();
        match rule(&cx, header.clone(), &fields, known) {
            Ok(r) if !ids.insert(r.id.clone()) => {
                let span = fields.get("id").map_or(header, |v| v.span());
                set.errors.push(cx.error(
                    span,
                    Some(&r.id),
                    "duplicate id: an earlier rule has it (give each rule its own `id`)".into(),
                ));
            }
            Ok(r) => set.rules.push(r),
            Err(e) => set.errors.push(e),
        }
    }
    Ok(set)
}

type Fields = BTreeMap<String, Spanned<toml::Value>>;

fn rule(
    cx: &Ctx<'_>,
    header: Range<usize>,
    fields: &Fields,
    known: Option<&[String]>,
) -> Result<AlertRule, RuleError> {
    // the id first, so every later error names its rule
    let explicit_id = match fields.get("id") {
        Some(v) => Some(string(cx, v, None, "id")?),
        None => None,
    };
    let label = explicit_id.clone().or_else(|| {
        fields
            .get("metric")
            .and_then(|m| m.get_ref().as_str())
            .map(|m| format!("for {m}"))
    });
    let label = label.as_deref();
    let err = |span: Range<usize>, message: String| cx.error(span, label, message);
    if let Some((k, v)) = fields.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
        return Err(err(
            v.span(),
            format!(
                "unknown field `{k}` (expected one of: {})",
                FIELDS.join(", ")
            ),
        ));
    }
    let required = |key: &str| {
        fields
            .get(key)
            .ok_or_else(|| err(header.clone(), format!("missing `{key}`")))
    };
    let metric_value = required("metric")?;
    let metric = string(cx, metric_value, label, "metric")?;
    let metric = crate::names::resolve_alias(&metric).to_string();
    if let Some(known) = known
        && !known.contains(&metric)
    {
        let hint = closest(&metric, known)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        return Err(err(
            metric_value.span(),
            format!("{UNKNOWN_METRIC} `{metric}`{hint}; the rule starts once the app records it"),
        ));
    }
    let cond_value = required("condition")?;
    let condition = match string(cx, cond_value, label, "condition")?.as_str() {
        "above" => Condition::Above,
        "below" => Condition::Below,
        "change_vs_baseline" => Condition::ChangeVsBaseline,
        "anomaly" => Condition::Anomaly,
        other => {
            return Err(err(
                cond_value.span(),
                format!(
                    "unknown condition `{other}` (expected above, below, change_vs_baseline or anomaly)"
                ),
            ));
        }
    };
    let threshold = match fields.get("threshold") {
        Some(v) => number(cx, v, label, "threshold")?,
        None if condition == Condition::Anomaly => 0.0,
        None => return Err(err(header.clone(), "missing `threshold`".into())),
    };
    if matches!(condition, Condition::ChangeVsBaseline | Condition::Anomaly) && threshold < 0.0 {
        return Err(err(
            fields["threshold"].span(),
            format!(
                "`threshold` of a {} rule must not be negative (got {threshold})",
                condition.as_str()
            ),
        ));
    }
    let sev_value = required("severity")?;
    let severity = match string(cx, sev_value, label, "severity")?.as_str() {
        "warning" => RuleSeverity::Warning,
        "critical" => RuleSeverity::Critical,
        other => {
            return Err(err(
                sev_value.span(),
                format!("unknown severity `{other}` (expected warning or critical)"),
            ));
        }
    };
    let duration_or = |key: &str, default: Duration| match fields.get(key) {
        Some(v) => duration(cx, v, label, key),
        None => Ok(default),
    };
    let hold = duration_or("for", Duration::ZERO)?;
    let cooldown = duration_or("cooldown", Duration::ZERO)?;
    let window = duration_or("window", DEFAULT_ANOMALY_WINDOW)?;
    let hysteresis = match fields.get("hysteresis") {
        Some(v) => {
            let h = number(cx, v, label, "hysteresis")?;
            if !(0.0..1.0).contains(&h) {
                return Err(err(
                    v.span(),
                    format!("`hysteresis` is a fraction of the threshold in [0, 1) (got {h})"),
                ));
            }
            h
        }
        None => DEFAULT_HYSTERESIS,
    };
    let kind = match fields.get("kind") {
        Some(v) if condition != Condition::Anomaly => {
            return Err(err(v.span(), "`kind` applies to anomaly rules only".into()));
        }
        Some(v) => match string(cx, v, label, "kind")?.as_str() {
            "any" => None,
            "spike" => Some(AnomalyKind::Spike),
            "level_shift" => Some(AnomalyKind::LevelShift),
            other => {
                return Err(err(
                    v.span(),
                    format!("unknown anomaly kind `{other}` (expected spike, level_shift or any)"),
                ));
            }
        },
        None => None,
    };
    if condition == Condition::Anomaly && window.is_zero() {
        return Err(err(
            fields["window"].span(),
            "`window` of an anomaly rule must be longer than 0 s".into(),
        ));
    }
    let (line, _) = line_column(cx.text, header.start);
    Ok(AlertRule {
        id: explicit_id.unwrap_or_else(|| default_id(&metric, condition, severity)),
        metric,
        condition,
        threshold,
        severity,
        hold,
        cooldown,
        hysteresis,
        kind,
        window,
        line,
    })
}

fn type_name(v: &toml::Value) -> &'static str {
    v.type_str()
}

fn string(
    cx: &Ctx<'_>,
    v: &Spanned<toml::Value>,
    rule: Option<&str>,
    key: &str,
) -> Result<String, RuleError> {
    match v.get_ref() {
        toml::Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        toml::Value::String(_) => Err(cx.error(v.span(), rule, format!("`{key}` is empty"))),
        other => Err(cx.error(
            v.span(),
            rule,
            format!("`{key}` must be a string, not {}", type_name(other)),
        )),
    }
}

fn number(
    cx: &Ctx<'_>,
    v: &Spanned<toml::Value>,
    rule: Option<&str>,
    key: &str,
) -> Result<f64, RuleError> {
    let x = match v.get_ref() {
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64,
        other => {
            return Err(cx.error(
                v.span(),
                rule,
                format!("`{key}` must be a number, not {}", type_name(other)),
            ));
        }
    };
    if !x.is_finite() {
        return Err(cx.error(v.span(), rule, format!("`{key}` must be finite (got {x})")));
    }
    Ok(x)
}

/// `"500ms"`, `"2s"`, `"1.5m"`, `"1h"`, or a number of seconds.
fn duration(
    cx: &Ctx<'_>,
    v: &Spanned<toml::Value>,
    rule: Option<&str>,
    key: &str,
) -> Result<Duration, RuleError> {
    let bad = |msg: String| cx.error(v.span(), rule, msg);
    let seconds = match v.get_ref() {
        toml::Value::String(s) => parse_duration(s).map_err(|m| bad(format!("`{key}`: {m}")))?,
        toml::Value::Integer(_) | toml::Value::Float(_) => number(cx, v, rule, key)?,
        other => {
            return Err(bad(format!(
                "`{key}` must be a duration such as \"30s\" or a number of seconds, not {}",
                type_name(other)
            )));
        }
    };
    if seconds < 0.0 {
        return Err(bad(format!(
            "`{key}` is negative ({seconds} s); durations are ≥ 0"
        )));
    }
    if seconds > 1e9 {
        return Err(bad(format!("`{key}` is too long ({seconds} s)")));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Seconds in a duration string.
fn parse_duration(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(s.len());
    // an exponent 'e' is not a unit; units are ms, s, m, h
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\"")
    })?;
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use ms, s, m or h)"
            ));
        }
    };
    if !value.is_finite() {
        return Err(format!("`{s}` is not finite"));
    }
    Ok(value * scale)
}

/// The known name closest to `name` by edit distance, when it is close (≤ 3 edits).
fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (up + 1).min(row[j] + 1).min(diag + usize::from(ca != *cb));
            diag = up;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["frame.time_ms", "frame.fps", "memory.process_mb"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn durations_take_units_and_plain_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(0.5));
        assert_eq!(parse_duration("2s"), Ok(2.0));
        assert_eq!(parse_duration("1.5m"), Ok(90.0));
        assert_eq!(parse_duration("1h"), Ok(3600.0));
        assert_eq!(parse_duration("3"), Ok(3.0));
        assert!(
            parse_duration("3 days")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        let text = "[[rule]]\nmetric = \"frame.fps\"\ncondition = below\n";
        let e = AlertRuleSet::parse(text, "a.toml", None).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.column, 13, "{e}");
        assert!(e.rule.is_none());
        assert!(
            e.message.ends_with("a text value needs quotes: \"below\""),
            "{e}"
        );
        let e =
            AlertRuleSet::parse("[[rule]]\nmetric = frame.time_ms\n", "a.toml", None).unwrap_err();
        assert!(
            e.message.ends_with("needs quotes: \"frame.time_ms\""),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_top_level_table_is_a_file_error() {
        let e = AlertRuleSet::parse("[[rules]]\nmetric = \"x\"\n", "a.toml", None).unwrap_err();
        assert!(e.message.contains("rules"), "{e}");
    }

    #[test]
    fn bad_values_skip_their_rule_alone() {
        let text = r#"
[[rule]]
id = "ok"
metric = "frame.fps"
condition = "below"
threshold = 30
severity = "critical"

[[rule]]
id = "typo"
metric = "frame.tme_ms"
condition = "above"
threshold = 16.7
severity = "warning"

[[rule]]
id = "negative"
metric = "frame.time_ms"
condition = "above"
threshold = 16.7
severity = "warning"
cooldown = -5

[[rule]]
id = "word"
metric = "frame.time_ms"
condition = "above"
threshold = "high"
severity = "warning"

[[rule]]
id = "ok"
metric = "frame.time_ms"
condition = "above"
threshold = 1
severity = "bad"

[[rule]]
metric = "frame.time_ms"
condition = "above"
threshold = 1
severity = "warning"
colour = "red"
"#;
        let set = AlertRuleSet::parse(text, "a.toml", Some(&known())).unwrap();
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.rules[0].id, "ok");
        let by_rule: Vec<_> = set
            .errors
            .iter()
            .map(|e| (e.rule.clone().unwrap_or_default(), e.line, e.column))
            .collect();
        assert_eq!(
            by_rule,
            vec![
                ("typo".into(), 11, 10),
                ("negative".into(), 22, 12),
                ("word".into(), 28, 13),
                ("ok".into(), 36, 12),
                ("for frame.time_ms".into(), 43, 10),
            ],
            "{:#?}",
            set.errors
        );
        assert!(
            set.errors[0]
                .message
                .contains("did you mean `frame.time_ms`")
        );
        assert!(set.errors[1].message.contains("negative"));
        assert!(set.errors[2].message.contains("must be a number"));
        assert!(set.errors[3].message.contains("unknown severity"));
        assert!(set.errors[4].message.contains("unknown field `colour`"));
        assert!(set.waits_for_metrics());
    }

    #[test]
    fn aliases_resolve_and_defaults_fill_in() {
        let text = "[[rule]]\nmetric = \"render_time\"\ncondition = \"anomaly\"\nseverity = \"warning\"\nkind = \"level_shift\"\n";
        let set = AlertRuleSet::parse(text, "a.toml", Some(&known())).unwrap();
        let r = &set.rules[0];
        assert_eq!(r.metric, "frame.time_ms");
        assert_eq!(r.id, "frame.time_ms:anomaly:warning");
        assert_eq!(r.kind, Some(AnomalyKind::LevelShift));
        assert_eq!(
            (r.threshold, r.window, r.line),
            (0.0, DEFAULT_ANOMALY_WINDOW, 1)
        );
    }

    #[test]
    fn duplicate_ids_keep_the_first() {
        let one = "[[rule]]\nmetric = \"frame.fps\"\ncondition = \"below\"\nthreshold = 30\nseverity = \"critical\"\n";
        let text = format!("{one}{one}");
        let set = AlertRuleSet::parse(&text, "a.toml", None).unwrap();
        assert_eq!(set.rules.len(), 1);
        assert!(set.errors[0].message.contains("duplicate id"));
        assert_eq!(set.errors[0].line, 6);
    }

    #[test]
    fn an_empty_file_has_no_rules() {
        let set = AlertRuleSet::parse("# nothing yet\n", "a.toml", None).unwrap();
        assert!(set.rules.is_empty() && set.errors.is_empty());
    }

    #[test]
    fn closest_names_are_suggested() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("frame.fsp", &known()), Some("frame.fps"));
        assert_eq!(closest("totally.else", &known()), None);
    }
}
