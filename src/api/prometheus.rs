//! Prometheus text exposition (format 0.0.4) that passes `promtool check metrics`: base units,
//! `# HELP`/`# TYPE` for every family, sanitized names, scopes as a label, collisions resolved.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use rfm_perf_core::{MetricKind, ScopeStats, Snapshot, Unit};

use rfm_perf_core::alert_rules::RulePhase;

use crate::base::{AlertRulesState, PassCost};

/// The escape histogram's family.
const ESCAPE_FAMILY: &str = "rfm_fractal_escape_iterations";

/// Converts a tracker metric to a Prometheus family name in base units and the factor to apply:
/// `frame.time_ms` → `rfm_frame_time_seconds` (× 0.001), `process.memory_mb` →
/// `rfm_process_memory_bytes` (× 2^20), `system.cpu_pct` → `rfm_system_cpu_ratio` (× 0.01).
///
/// ```
/// use rfm_perf::Unit;
/// assert_eq!(rfm_perf::api::prometheus_name("frame.time_ms", &Unit::Milliseconds), ("rfm_frame_time_seconds".into(), 0.001));
/// assert_eq!(rfm_perf::api::prometheus_name("net/latency", &Unit::Milliseconds).0, "rfm_net_latency_seconds");
/// assert_eq!(rfm_perf::api::prometheus_name("io.read_bytes_per_s", &Unit::BytesPerSecond).0, "rfm_io_read_bytes_per_second");
/// ```
pub fn prometheus_name(name: &str, unit: &Unit) -> (String, f64) {
    let mut base = String::from("rfm_");
    let mut last_us = true;
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if c == '_' && last_us {
            continue;
        }
        last_us = c == '_';
        base.push(c);
    }
    while base.ends_with('_') {
        base.pop();
    }
    // drop unit abbreviations the name carries; the base-unit suffix replaces them
    for abbrev in [
        "_ms",
        "_mb",
        "_pct",
        "_bytes_per_s",
        "_per_s",
        "_bytes",
        "_seconds",
        "_s",
        "_fps",
        "_ratio",
    ] {
        if let Some(stripped) = base.strip_suffix(abbrev)
            && stripped.len() > 4
        {
            base = stripped.to_string();
            break;
        }
    }
    let (suffix, factor) = match unit {
        Unit::Milliseconds => ("_seconds", 1e-3),
        Unit::Seconds => ("_seconds", 1.0),
        Unit::Bytes => ("_bytes", 1.0),
        Unit::Megabytes => ("_bytes", 1_048_576.0),
        Unit::BytesPerSecond => ("_bytes_per_second", 1.0),
        Unit::Percent => ("_ratio", 0.01),
        Unit::Ratio => ("_ratio", 1.0),
        Unit::FramesPerSecond => ("_fps", 1.0),
        Unit::Custom(u) if u == "GiB" => ("_bytes", 1_073_741_824.0),
        Unit::Count | Unit::None | Unit::Custom(_) => ("", 1.0),
    };
    // names that would read as another type or a reserved suffix
    for reserved in ["_total", "_count", "_sum", "_bucket", "_created", "_info"] {
        if base.ends_with(reserved) && suffix.is_empty() {
            base.push_str("_value");
            break;
        }
    }
    base.push_str(suffix);
    (base, factor)
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "\\\"")
}

fn fmt_value(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders the exposition: every gauge of the snapshot, per-scope gauges with a `scope` label,
/// and the API's request counters.
///
/// ```
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.time_ms", 16.0);
/// let text = rfm_perf::api::render_prometheus(&t.publish_snapshot(), &[], &[("/metrics".into(), 3)]);
/// assert!(text.contains("# TYPE rfm_frame_time_seconds gauge\nrfm_frame_time_seconds 0.016"));
/// assert!(text.contains("rfm_api_requests_total{route=\"/metrics\"} 3"));
/// ```
pub fn render_prometheus(
    snapshot: &Snapshot,
    scopes: &[ScopeStats],
    requests: &[(String, u64)],
) -> String {
    let mut out = render_gauges(snapshot, scopes, None, None);
    render_requests(&mut out, requests);
    out
}

/// Everything but the request counters: changes only when a new snapshot is published.
pub(crate) fn render_gauges(
    snapshot: &Snapshot,
    scopes: &[ScopeStats],
    cost: Option<&PassCost>,
    rules: Option<&AlertRulesState>,
) -> String {
    let mut out = String::with_capacity(4096);
    let mut used: HashSet<String> = HashSet::new();
    for reserved in [
        "rfm_scope_frame_time_seconds",
        "rfm_scope_calls_per_frame",
        "rfm_scope_mean_seconds",
        "rfm_scope_p95_seconds",
        "rfm_api_requests_total",
        "rfm_frames_total",
        ESCAPE_FAMILY,
        ALERT_FAMILY,
        ALERT_ERRORS_FAMILY,
        super::frame_histogram::FRAME_FAMILY,
        BUILD_INFO_FAMILY,
        "rfm_tracker_overflowed_records_total",
        "rfm_tracker_names",
        "rfm_tracker_history_bytes",
    ] {
        used.insert(reserved.to_string());
    }
    let mut labelled_values: BTreeMap<String, LabelledFamily> = BTreeMap::new();
    for v in &snapshot.values {
        // scopes get labelled families below; request counts are the counter below
        if v.info.kind == MetricKind::Scope || v.info.name.as_ref() == super::metrics::API_REQUESTS
        {
            continue;
        }
        if let Some((family, label, item)) = labelled(&v.info.name) {
            // one family per quantity, the item as a label (per core, per render pass)
            let (name, factor) = prometheus_name(family, &v.info.unit);
            labelled_values
                .entry(name)
                .or_insert_with(|| LabelledFamily {
                    label,
                    family,
                    items: Vec::new(),
                })
                .items
                .push((item, v.value * factor));
            continue;
        }
        let (mut name, factor) = prometheus_name(&v.info.name, &v.info.unit);
        if v.info.name.as_ref() == rfm_perf_core::names::FRAME_COUNT {
            family(
                &mut out,
                "rfm_frames_total",
                "counter",
                "Frames collected by the tracker (frame.count)",
            );
            let _ = writeln!(out, "rfm_frames_total {}", fmt_value(v.value));
            continue;
        }
        if !used.insert(name.clone()) {
            // another metric sanitized to the same name: keep both, distinguished by a hash
            let h = v.info.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            name = format!("{name}_x{:08x}", h as u32);
            used.insert(name.clone());
        }
        let unit = match v.info.unit.symbol() {
            "" => String::new(),
            u => format!(", {u}"),
        };
        let help = if v.info.description.is_empty() {
            format!("rfm_perf metric {}{unit}", v.info.name)
        } else {
            format!(
                "{} (rfm_perf metric {}{unit})",
                v.info.description, v.info.name
            )
        };
        family(&mut out, &name, "gauge", &help);
        let _ = writeln!(out, "{name} {}", fmt_value(v.value * factor));
    }
    for (name, f) in labelled_values {
        let LabelledFamily {
            label,
            family,
            mut items,
        } = f;
        if !used.insert(name.clone()) {
            continue;
        }
        items.sort_by(|a, b| natural_key(&a.0).cmp(&natural_key(&b.0)));
        let pattern = match family {
            "system.cpu.core_pct" => "system.cpu.core<N>_pct",
            "render.pass.elapsed_gpu" => "render/<pass>/elapsed_gpu",
            _ => "render/<pass>/elapsed_cpu",
        };
        let what = match family {
            "system.cpu.core_pct" => "CPU usage of one core",
            "render.pass.elapsed_gpu" => "GPU time of one render pass",
            _ => "CPU time of one render pass",
        };
        let help = format!("{what} (rfm_perf metrics {pattern}, one series per {label})");
        self::family(&mut out, &name, "gauge", &help);
        for (item, value) in items {
            let _ = writeln!(
                out,
                "{name}{{{label}=\"{}\"}} {}",
                escape_label(&item),
                fmt_value(value)
            );
        }
    }
    if !scopes.is_empty() {
        type Getter = fn(&ScopeStats) -> f64;
        let fams: [(&str, &str, Getter); 4] = [
            (
                "rfm_scope_frame_time_seconds",
                "Time per frame spent in the scope over the scope window",
                |s| s.total_ms * 1e-3 / (s.calls as f64 / s.calls_per_frame.max(1e-12)).max(1.0),
            ),
            (
                "rfm_scope_calls_per_frame",
                "Mean calls of the scope per frame over the scope window",
                |s| s.calls_per_frame,
            ),
            (
                "rfm_scope_mean_seconds",
                "Mean duration of one call of the scope",
                |s| s.mean_ms * 1e-3,
            ),
            (
                "rfm_scope_p95_seconds",
                "95th percentile duration of one call of the scope",
                |s| s.p95_ms * 1e-3,
            ),
        ];
        let mut seen = BTreeMap::new();
        for s in scopes {
            seen.entry(s.name.to_string()).or_insert(s);
        }
        for (name, help, get) in fams {
            family(&mut out, name, "gauge", help);
            for (scope, s) in &seen {
                let _ = writeln!(
                    out,
                    "{name}{{scope=\"{}\"}} {}",
                    escape_label(scope),
                    fmt_value(get(s))
                );
            }
        }
    }
    if let Some(cost) = cost {
        render_escape_histogram(&mut out, cost);
    }
    if let Some(rules) = rules {
        render_alert_rules(&mut out, rules);
    }
    out
}

/// The values of one labelled family, before rendering.
struct LabelledFamily {
    label: &'static str,
    family: &'static str,
    /// `(item, value in base units)`.
    items: Vec<(String, f64)>,
}

/// A metric that is one item of a quantity: `(family metric name, label, item)`.
/// `system.cpu.core3_pct` → `("system.cpu.core_pct", "core", "3")`;
/// `render/main_pass_2d/elapsed_gpu` → `("render.pass.elapsed_gpu", "pass", "main_pass_2d")`.
fn labelled(name: &str) -> Option<(&'static str, &'static str, String)> {
    if let Some(n) = name
        .strip_prefix(rfm_perf_core::names::SYSTEM_CPU_CORE_PREFIX)
        .and_then(|r| r.strip_suffix("_pct"))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(("system.cpu.core_pct", "core", n.to_string()));
    }
    let pass = name.strip_prefix("render/")?;
    let (pass, what) = pass.rsplit_once('/')?;
    let family = match what {
        "elapsed_gpu" => "render.pass.elapsed_gpu",
        "elapsed_cpu" => "render.pass.elapsed_cpu",
        _ => return None,
    };
    (!pass.is_empty()).then(|| (family, "pass", pass.to_string()))
}

/// Sorts "2" before "10".
fn natural_key(s: &str) -> (u64, &str) {
    (s.parse().unwrap_or(u64::MAX), s)
}

/// The tracker's own footprint: names kept, history memory, and records past the name limit
/// (sent to the overflow entries).
///
/// ```
/// let t = rfm_perf::PerformanceTracker::new();
/// let mut text = String::new();
/// rfm_perf::api::render_tracker_stats(&mut text, &t.stats());
/// assert!(text.contains("rfm_tracker_overflowed_records_total 0\n"));
/// ```
pub fn render_tracker_stats(out: &mut String, stats: &rfm_perf_core::TrackerStats) {
    family(
        out,
        "rfm_tracker_overflowed_records_total",
        "counter",
        "Records of metric or scope names past the tracker's limits, sent to rfm_perf.overflow",
    );
    let _ = writeln!(
        out,
        "rfm_tracker_overflowed_records_total {}",
        stats.overflowed_records
    );
    family(
        out,
        "rfm_tracker_names",
        "gauge",
        "Metric and scope names the tracker keeps",
    );
    let _ = writeln!(out, "rfm_tracker_names {}", stats.names);
    family(
        out,
        "rfm_tracker_history_bytes",
        "gauge",
        "Bytes the tracker's histories hold allocated",
    );
    let _ = writeln!(out, "rfm_tracker_history_bytes {}", stats.history_bytes);
}

/// The build-info family.
const BUILD_INFO_FAMILY: &str = "rfm_build_info";

/// `rfm_build_info{version, adapter, backend, scenario, rfm_instance} 1`: what runs where, to
/// join with the other series (`instance` is Prometheus's own label, the scraped address).
///
/// ```
/// let mut text = String::new();
/// rfm_perf::api::render_build_info(&mut text, "llvmpipe", "Vulkan", "zoom", "box:8501");
/// assert!(text.ends_with(
///     "rfm_build_info{version=\"0.1.0\",adapter=\"llvmpipe\",backend=\"Vulkan\",scenario=\"zoom\",rfm_instance=\"box:8501\"} 1\n"
/// ));
/// ```
pub fn render_build_info(
    out: &mut String,
    adapter: &str,
    backend: &str,
    scenario: &str,
    instance: &str,
) {
    family(
        out,
        BUILD_INFO_FAMILY,
        "gauge",
        "What runs: crate version, GPU adapter and backend, scenario, instance name (always 1)",
    );
    let _ = writeln!(
        out,
        "{BUILD_INFO_FAMILY}{{version=\"{}\",adapter=\"{}\",backend=\"{}\",scenario=\"{}\",rfm_instance=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        escape_label(adapter),
        escape_label(backend),
        escape_label(scenario),
        escape_label(instance)
    );
}

/// Family of the per-rule alert gauges.
const ALERT_FAMILY: &str = "rfm_alert_firing";
/// Family of the rule file's error count.
const ALERT_ERRORS_FAMILY: &str = "rfm_alert_rule_errors";

/// One gauge per alert rule in effect: 1 while its alert is active (firing and not hidden by a
/// more severe rule of its metric), else 0; and the rule file's errors (a file that does not
/// parse counts 1, plus one per skipped rule).
///
/// ```
/// use rfm_perf::analysis::AlertRules;
/// use rfm_perf::{HealthThresholds, Insights};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.fps", 20.0);
/// let mut rules = AlertRules::new(None, &HealthThresholds::default());
/// let mut ins = Insights::default();
/// ins.update_alerts(&mut rules, &t, &t.publish_snapshot());
/// let mut text = String::new();
/// rfm_perf::api::render_alert_rules(&mut text, &ins.rules);
/// assert!(text.contains(
///     "rfm_alert_firing{rule=\"frame.fps:below:critical\",metric=\"frame.fps\",severity=\"critical\"} 1\n"
/// ));
/// assert!(text.contains(
///     "rfm_alert_firing{rule=\"frame.fps:below:warning\",metric=\"frame.fps\",severity=\"warning\"} 0\n"
/// ));
/// assert!(text.contains("rfm_alert_rule_errors 0\n"));
/// ```
pub fn render_alert_rules(out: &mut String, rules: &AlertRulesState) {
    family(
        out,
        ALERT_FAMILY,
        "gauge",
        "Whether the alert rule's alert is active (1) or not (0), per rule in effect",
    );
    for r in &rules.rules {
        let active = r.phase == RulePhase::Firing && !r.inhibited;
        let _ = writeln!(
            out,
            "{ALERT_FAMILY}{{rule=\"{}\",metric=\"{}\",severity=\"{}\"}} {}",
            escape_label(&r.rule.id),
            escape_label(&r.rule.metric),
            r.rule.severity.as_str(),
            u8::from(active)
        );
    }
    family(
        out,
        ALERT_ERRORS_FAMILY,
        "gauge",
        "Problems in the alert rule file: 1 when it does not parse (the last good rules stay), plus one per skipped rule",
    );
    let errors = rules.report.rule_errors.len() + usize::from(rules.report.file_error.is_some());
    let _ = writeln!(out, "{ALERT_ERRORS_FAMILY} {errors}");
}

/// The escape histogram of the newest frame as a Prometheus histogram: cumulative buckets by
/// the last iteration each holds (`le`), the escaped pixels' iterations as `_sum`, the escaped
/// pixels as `_count`.
///
/// ```
/// use rfm_perf::{EscapeHistogram, PassCost};
/// let cost = PassCost {
///     histogram: EscapeHistogram::from_counts(&[1, 1, 3, 8], 8),
///     escaped_iterations: 5,
///     ..Default::default()
/// };
/// let mut text = String::new();
/// rfm_perf::api::render_escape_histogram(&mut text, &cost);
/// assert!(text.contains("rfm_fractal_escape_iterations_bucket{le=\"1\"} 2\n"));
/// assert!(text.contains("rfm_fractal_escape_iterations_bucket{le=\"+Inf\"} 3\n"));
/// assert!(text.contains("rfm_fractal_escape_iterations_sum 5\nrfm_fractal_escape_iterations_count 3\n"));
/// ```
pub fn render_escape_histogram(out: &mut String, cost: &PassCost) {
    family(
        out,
        ESCAPE_FAMILY,
        "histogram",
        "Escaped pixels of the fractal pass's newest frame by the iteration they escaped at",
    );
    let mut running = 0;
    for (_, last, pixels) in cost.histogram.buckets() {
        running += pixels;
        let _ = writeln!(out, "{ESCAPE_FAMILY}_bucket{{le=\"{last}\"}} {running}");
    }
    let _ = writeln!(out, "{ESCAPE_FAMILY}_bucket{{le=\"+Inf\"}} {running}");
    let _ = writeln!(out, "{ESCAPE_FAMILY}_sum {}", cost.escaped_iterations);
    let _ = writeln!(out, "{ESCAPE_FAMILY}_count {running}");
}

/// Appends the per-route request counters.
pub(crate) fn render_requests(out: &mut String, requests: &[(String, u64)]) {
    family(
        out,
        "rfm_api_requests_total",
        "counter",
        "Requests served by the rfm_perf API, per route",
    );
    for (route, n) in requests {
        let _ = writeln!(
            out,
            "rfm_api_requests_total{{route=\"{}\"}} {n}",
            escape_label(route)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfm_perf_core::{Direction, MetricInfo};

    #[test]
    fn names_are_valid_and_collisions_resolved() {
        let t = rfm_perf_core::PerformanceTracker::new();
        for n in [
            "a.b",
            "a/b",
            "Ünïcode metric!",
            "9starts.with.digit",
            "x_total",
        ] {
            t.register_metric(MetricInfo::new(
                n,
                Unit::Count,
                "d\nline",
                Direction::Neutral,
            ));
            t.track_metric(n, 1.0);
        }
        let text = render_prometheus(&t.publish_snapshot(), &[], &[]);
        let mut families = HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap();
                assert!(
                    families.insert(name.to_string()),
                    "duplicate family {name}\n{text}"
                );
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{name}"
                );
                assert!(!name.starts_with(|c: char| c.is_ascii_digit()));
            }
        }
        assert!(families.contains("rfm_a_b"));
        assert_eq!(
            families.iter().filter(|f| f.starts_with("rfm_a_b")).count(),
            2
        );
        assert!(families.contains("rfm_x_total_value"), "{families:?}");
        assert!(text.contains("d\\nline"));
    }
}
