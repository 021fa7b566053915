//! `rfm-perf alerts check FILE`: reads an alert rule file as the app would and lists its rules
//! and problems (for editors and CI), optionally checking metric names against a running app.

use std::fmt::Write as _;
use std::path::Path;

use rfm_perf_core::alert_rules::{AlertRuleSet, Condition};

/// Checks the rule file at `path`; `known` are the metric names to accept (none: any name).
/// Returns the report and whether the file has no problem.
pub(crate) fn check_file(path: &Path, known: Option<&[String]>) -> Result<(String, bool), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let shown = path.display().to_string();
    let mut out = String::new();
    let set = match AlertRuleSet::parse(&text, &shown, known) {
        Ok(set) => set,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            let _ = writeln!(
                out,
                "the file does not parse: an app keeps its last good rules"
            );
            return Ok((out, false));
        }
    };
    for r in &set.rules {
        let level = match r.condition {
            Condition::ChangeVsBaseline => {
                format!("{:.1} % worse than baseline", r.threshold * 100.0)
            }
            Condition::Anomaly => format!("score ≥ {}", r.threshold),
            _ => format!("{}", r.threshold),
        };
        let mut extra = String::new();
        if !r.hold.is_zero() {
            let _ = write!(extra, ", for {} s", r.hold.as_secs_f64());
        }
        if !r.cooldown.is_zero() {
            let _ = write!(extra, ", cooldown {} s", r.cooldown.as_secs_f64());
        }
        let _ = writeln!(
            out,
            "{shown}:{}: {} — {} {} {level} ({}{extra})",
            r.line,
            r.id,
            r.metric,
            r.condition.as_str(),
            r.severity.as_str()
        );
    }
    for e in &set.errors {
        let _ = writeln!(out, "error: {e}");
    }
    let _ = writeln!(
        out,
        "{} rules in effect, {} skipped{}",
        set.rules.len(),
        set.errors.len(),
        if known.is_none() {
            " (metric names not checked: pass --against-app to check them against a running app)"
        } else {
            ""
        }
    );
    Ok((out, set.errors.is_empty()))
}

#[cfg(test)]
mod tests {
    use crate::run_captured as run;

    #[test]
    fn the_shipped_rules_check_clean() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/alerts.toml");
        let (code, out, err) = run(&["alerts", "check", path]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("14 rules in effect, 0 skipped"), "{out}");
        assert!(
            out.contains("frame.time_ms:above:critical — frame.time_ms above 33.333 (critical)"),
            "{out}"
        );
    }

    #[test]
    fn problems_exit_1_with_their_place() {
        let dir = std::env::temp_dir().join(format!("rfm-cli-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad_rule = dir.join("rule.toml");
        std::fs::write(
            &bad_rule,
            "[[rule]]\nmetric = \"frame.fps\"\ncondition = \"beneath\"\nthreshold = 30\nseverity = \"critical\"\n",
        )
        .unwrap();
        let (code, out, _) = run(&["alerts", "check", bad_rule.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("rule.toml:3:13: rule for frame.fps: unknown condition `beneath`"),
            "{out}"
        );
        let bad_file = dir.join("file.toml");
        std::fs::write(&bad_file, "[[rule]\n").unwrap();
        let (code, out, _) = run(&["alerts", "check", bad_file.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("file.toml:1:8:"), "{out}");
        let (code, _, err) = run(&["alerts", "check", "/no/such/rules.toml"]);
        assert_eq!(code, 2);
        assert!(err.contains("cannot read /no/such/rules.toml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
