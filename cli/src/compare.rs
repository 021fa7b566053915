//! `rfm-perf compare`: benchmark reports side by side — each metric's median per run, the change
//! of every later run against the first with its interval and significance, what differs in the
//! machines, where a frame-time difference lies — as a table, and optionally as Markdown with
//! SVG charts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rfm_perf_core::{MetricComparison, RunReport, compare_runs};

/// Frame, GPU-pass and CPU-encode metrics of the headless benchmark, for the attribution line.
const FRAME: &str = "frame.wall_ms";
const GPU: &str = "render.fractal_gpu_ms";
const CPU: &str = "render.fractal_cpu_ms";

/// The comparison of `files` (the first is the reference): the text to print, and whether any
/// later run has a significant regression of at least `threshold`.
pub(crate) fn compare_files(
    files: &[PathBuf],
    threshold: f64,
    alpha: f64,
    markdown: Option<&Path>,
) -> Result<(String, bool), String> {
    if files.len() < 2 {
        return Err("compare needs at least two reports".into());
    }
    let runs: Vec<RunReport> = files
        .iter()
        .map(|f| RunReport::load(f).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let base = &runs[0];
    let mut out = String::new();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark comparison\n");
    for (i, (run, file)) in runs.iter().zip(files).enumerate() {
        let line = format!(
            "run {}: {} — scenario \"{}\", {} on {} ({} cores), crate {}{}",
            i + 1,
            file.display(),
            run.scenario,
            if run.hardware.gpu_adapter.is_empty() {
                "unknown GPU"
            } else {
                &run.hardware.gpu_adapter
            },
            if run.hardware.cpu_model.is_empty() {
                "unknown CPU"
            } else {
                &run.hardware.cpu_model
            },
            run.hardware.cores,
            run.crate_version,
            run.git_commit
                .as_ref()
                .map_or(String::new(), |c| format!(" at {c}"))
        );
        let _ = writeln!(out, "{line}");
        let _ = writeln!(md, "- {line}");
    }
    for (i, run) in runs.iter().enumerate().skip(1) {
        let mut diffs = base.hardware.differences(&run.hardware);
        if base.scenario != run.scenario {
            diffs.insert(0, format!("scenario: {} → {}", base.scenario, run.scenario));
        }
        for d in diffs {
            let _ = writeln!(out, "run {} differs: {d}", i + 1);
            let _ = writeln!(md, "- run {} differs: {d}", i + 1);
        }
    }
    let mut any_regression = false;
    let _ = writeln!(out);
    let header = format!(
        "{:<30} {}  {:>8}  {:>26}  {:>8}  verdict",
        "metric",
        runs.iter()
            .enumerate()
            .map(|(i, _)| format!("{:>12}", format!("run {}", i + 1)))
            .collect::<Vec<_>>()
            .join(" "),
        "ratio",
        "change (interval)",
        "p"
    );
    let _ = writeln!(out, "{header}");
    let _ = writeln!(
        md,
        "\n| metric | {} | ratio | change (interval) | p | verdict |\n|---|{}---:|---:|---:|---|",
        (1..=runs.len())
            .map(|i| format!("run {i}"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(runs.len())
    );
    let comparisons: Vec<Vec<MetricComparison>> = runs[1..]
        .iter()
        .map(|r| compare_runs(base, r, alpha, threshold))
        .collect();
    for (name, series) in &base.metrics {
        let medians: Vec<String> = runs
            .iter()
            .map(|r| {
                r.metrics
                    .get(name)
                    .map_or("–".to_string(), |m| format!("{:.3}", m.median))
            })
            .collect();
        // the last run against the first
        let Some(c) = comparisons
            .last()
            .and_then(|rows| rows.iter().find(|c| &c.metric == name))
        else {
            continue;
        };
        any_regression |= comparisons
            .iter()
            .flatten()
            .any(|c| &c.metric == name && c.regression);
        // the estimate with its interval (the verdict's threshold applies to the medians' ratio)
        let change = c.effect.map_or(format!("{:+.1}%", c.change * 100.0), |e| {
            format!(
                "{:+.1}% [{:+.1}, {:+.1}]",
                e.estimate * 100.0,
                e.low * 100.0,
                e.high * 100.0
            )
        });
        let verdict = verdict(c);
        let p = c.p_value.map_or("–".to_string(), |p| format!("{p:.1e}"));
        let unit = if series.unit.is_empty() || series.unit == "count" {
            String::new()
        } else {
            format!(" ({})", series.unit)
        };
        let label = format!("{name}{unit}");
        let _ = writeln!(
            out,
            "{label:<30} {}  {:>8.3}  {change:>26}  {p:>8}  {verdict}",
            medians
                .iter()
                .map(|m| format!("{m:>12}"))
                .collect::<Vec<_>>()
                .join(" "),
            c.ratio
        );
        let _ = writeln!(
            md,
            "| {label} | {} | {:.3} | {change} | {p} | {verdict} |",
            medians.join(" | "),
            c.ratio
        );
    }
    if runs.len() > 2 {
        // the table holds the last run against the first; every run in between as well
        let _ = writeln!(out, "\neach run against run 1 (ratio of medians, verdict):");
        let _ = writeln!(
            md,
            "\nEach run against run 1 (ratio of medians, verdict):\n"
        );
        for name in base.metrics.keys() {
            let cells: Vec<String> = comparisons
                .iter()
                .enumerate()
                .filter_map(|(i, rows)| {
                    let c = rows.iter().find(|c| &c.metric == name)?;
                    Some(format!("run {} ×{:.3} {}", i + 2, c.ratio, verdict(c)))
                })
                .collect();
            if cells.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{name:<30} {}", cells.join(" · "));
            let _ = writeln!(md, "- {name}: {}", cells.join(" · "));
        }
    }
    let paired = comparisons
        .last()
        .is_some_and(|rows| rows.iter().any(|c| c.paired));
    let method = if paired {
        "changes and p: frame by frame (same scenario, as many frames: the sign test and the median of the per-frame changes)"
    } else {
        "changes and p: the runs' distributions (Mann–Whitney, Hodges–Lehmann)"
    };
    let _ = writeln!(out, "\n{method}");
    let _ = writeln!(md, "\n{method}");
    if let Some(line) = attribution(base, runs.last().unwrap_or(base)) {
        let _ = writeln!(out, "\n{line}");
        let _ = writeln!(md, "\n{line}");
    }
    if let Some(path) = markdown {
        write_markdown(path, &mut md, &runs)?;
        let _ = writeln!(out, "\nwrote {}", path.display());
    }
    Ok((out, any_regression))
}

/// One word for a comparison: a regression, better, changed, or the same within the noise.
fn verdict(c: &MetricComparison) -> &'static str {
    if c.regression {
        "REGRESSION"
    } else if c.significant && c.change < 0.0 {
        "better"
    } else if c.significant {
        "changed"
    } else {
        "same (noise)"
    }
}

/// Where the frame-time difference lies: the GPU pass, the CPU encode, or the rest.
fn attribution(a: &RunReport, b: &RunReport) -> Option<String> {
    let m = |r: &RunReport, n: &str| r.metrics.get(n).map(|s| s.median).filter(|v| v.is_finite());
    let frame = m(b, FRAME)? - m(a, FRAME)?;
    let gpu = m(b, GPU).zip(m(a, GPU)).map(|(x, y)| x - y);
    let cpu = m(b, CPU).zip(m(a, CPU)).map(|(x, y)| x - y).unwrap_or(0.0);
    let rest = frame - gpu.unwrap_or(0.0) - cpu;
    Some(format!(
        "frame time {frame:+.3} ms: GPU pass {}, CPU encode {cpu:+.3} ms, the rest (CPU work and frame overhead) {rest:+.3} ms",
        gpu.map_or("n/a (no GPU timings)".to_string(), |g| format!(
            "{g:+.3} ms"
        ))
    ))
}

/// The Markdown file with one SVG bar chart per metric (median and p95 of each run) beside it.
fn write_markdown(path: &Path, md: &mut String, runs: &[RunReport]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map_or("compare".to_string(), |s| s.to_string_lossy().into_owned());
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let _ = writeln!(md, "\n## Charts (median, p95 as the lighter bar)\n");
    for (i, name) in runs[0].metrics.keys().enumerate() {
        let bars: Vec<(f64, f64)> = runs
            .iter()
            .filter_map(|r| r.metrics.get(name).map(|m| (m.median, m.p95)))
            .collect();
        let svg = bar_chart(name, &bars);
        let file = format!("{stem}_{i}.svg");
        std::fs::write(dir.join(&file), svg)
            .map_err(|e| format!("could not write {}: {e}", dir.join(&file).display()))?;
        let _ = writeln!(md, "![{name}]({file})\n");
    }
    std::fs::write(path, md.as_bytes())
        .map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// A horizontal bar chart: per run a p95 bar with the median bar over it.
fn bar_chart(title: &str, bars: &[(f64, f64)]) -> String {
    let (w, row, left) = (480.0, 22.0, 60.0);
    let h = 30.0 + row * bars.len() as f64;
    let max = bars
        .iter()
        .map(|b| b.1.max(b.0))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-12);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\
         <text x=\"4\" y=\"16\">{}</text>",
        xml_escape(title)
    );
    for (i, (median, p95)) in bars.iter().enumerate() {
        let y = 24.0 + row * i as f64;
        let scale = |v: f64| {
            if v.is_finite() {
                (w - left - 70.0) * v.max(0.0) / max
            } else {
                0.0
            }
        };
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{}\">run {}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" fill=\"#9ecae1\"/>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" fill=\"#3182bd\"/>\
             <text x=\"{:.1}\" y=\"{}\">{median:.3}</text>",
            y + 12.0,
            i + 1,
            scale(*p95),
            scale(*median),
            left + scale(p95.max(*median)) + 4.0,
            y + 12.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use rfm_perf_core::{Direction, HardwareFingerprint, MetricSeries, RunReport};

    fn report(frame: f64, gpu: f64, adapter: &str) -> RunReport {
        let noisy = |v: f64| -> Vec<f64> {
            (0..40)
                .map(|i| v * (1.0 + 0.01 * f64::from(i % 5)))
                .collect()
        };
        RunReport {
            schema_version: 1,
            scenario: "zoom 128x128".into(),
            hardware: HardwareFingerprint {
                cpu_model: "Xeon".into(),
                cores: 2,
                gpu_adapter: adapter.into(),
                ..Default::default()
            },
            crate_version: "0.1.0".into(),
            git_commit: Some("abc123".into()),
            metrics: [
                (
                    "frame.wall_ms".to_string(),
                    MetricSeries::of(&noisy(frame), "ms", Direction::LowerIsBetter),
                ),
                (
                    "render.fractal_gpu_ms".to_string(),
                    MetricSeries::of(&noisy(gpu), "ms", Direction::LowerIsBetter),
                ),
                (
                    "render.fractal_cpu_ms".to_string(),
                    MetricSeries::of(&noisy(0.05), "ms", Direction::LowerIsBetter),
                ),
            ]
            .into(),
        }
    }

    use crate::run_captured as run;

    #[test]
    fn three_runs_show_each_against_the_first() {
        let dir = std::env::temp_dir().join(format!("rfm-compare3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<_> = [(20.0, 15.0), (30.0, 25.0), (20.0, 15.0)]
            .iter()
            .enumerate()
            .map(|(i, (frame, gpu))| {
                let f = dir.join(format!("r{i}.json"));
                std::fs::write(
                    &f,
                    serde_json::to_vec(&report(*frame, *gpu, "llvmpipe")).unwrap(),
                )
                .unwrap();
                f
            })
            .collect();
        let args: Vec<&str> = std::iter::once("compare")
            .chain(files.iter().map(|f| f.to_str().unwrap()))
            .chain(["--fail-on-regression"])
            .collect();
        let (code, out, err) = run(&args);
        // run 2 regressed even though the last run is back to the first's level
        assert_eq!(code, 1, "{out}{err}");
        let line = out
            .lines()
            .find(|l| l.starts_with("frame.wall_ms") && l.contains("run 2 ×"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            line.contains("run 2 ×1.500 REGRESSION") && line.contains("run 3 ×1.000 same (noise)"),
            "{line}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_machines_compared_with_the_difference_located_and_charts_written() {
        let dir = std::env::temp_dir().join(format!("rfm-compare-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.json"), dir.join("b.json"));
        std::fs::write(
            &a,
            serde_json::to_vec(&report(20.0, 15.0, "llvmpipe")).unwrap(),
        )
        .unwrap();
        std::fs::write(&b, serde_json::to_vec(&report(30.0, 25.0, "RTX")).unwrap()).unwrap();
        let md = dir.join("cmp.md");
        let (code, out, err) = run(&[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--fail-on-regression",
            "--markdown",
            md.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("run 2 differs: GPU: llvmpipe → RTX"), "{out}");
        assert!(
            out.contains("REGRESSION") && out.contains("+50.0%"),
            "{out}"
        );
        // the frame got 10 ms slower, all of it in the GPU pass
        assert!(
            out.contains("frame time +10.") && out.contains("GPU pass +10."),
            "{out}"
        );
        let text = std::fs::read_to_string(&md).unwrap();
        assert!(
            text.contains("| frame.wall_ms (ms) |") && text.contains("cmp_0.svg"),
            "{text}"
        );
        assert!(
            std::fs::read_to_string(dir.join("cmp_0.svg"))
                .unwrap()
                .starts_with("<svg")
        );
        // the same run twice: noise, exit 0 even with --fail-on-regression
        let (code, out, _) = run(&[
            "compare",
            a.to_str().unwrap(),
            a.to_str().unwrap(),
            "--fail-on-regression",
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("same (noise)") && !out.contains("REGRESSION"),
            "{out}"
        );
        // another schema version: a clear error
        let c = dir.join("c.json");
        std::fs::write(&c, br#"{"schema_version": 7}"#).unwrap();
        let (code, _, err) = run(&["compare", a.to_str().unwrap(), c.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(err.contains("schema 7"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
