//! `rfm-perf`: a command-line client of the rfm_perf HTTP API, usable in CI pipelines.
//!
//! ```text
//! rfm-perf metrics                      # current values, units and statuses
//! rfm-perf history frame.time_ms --points 50
//! rfm-perf watch                        # live table, refreshed every second
//! rfm-perf baseline save base.json      # median/p95/count of every metric
//! rfm-perf baseline compare base.json   # exit code 1 when something regressed
//! rfm-perf alerts check assets/alerts.toml  # exit code 1 when a rule has a problem
//! rfm-perf trace -o trace.json --seconds 5   # open it in https://ui.perfetto.dev
//! rfm-perf report run.json more.json -o run.html  # one self-contained HTML page
//! ```
//!
//! Exit codes: 0 success, 1 regression found (`baseline compare`, `compare
//! --fail-on-regression`) or a problem in a rule file (`alerts check`), 2 error.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod alerts;
mod compare;
mod html_report;

macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}
use rfm_perf_core::{
    BaselineKey, BaselineSet, BaselineStat, Direction, MAX_BASELINE_SAMPLES, RegressionTest,
    Verdict, evenly_spaced,
};
use serde_json::Value;

/// Command line of `rfm-perf`.
#[derive(Parser)]
#[command(
    name = "rfm-perf",
    version,
    about = "Client of the rfm_perf performance API"
)]
struct Cli {
    /// Base URL of the API.
    #[arg(
        long,
        global = true,
        env = "RFM_PERF_URL",
        default_value = "http://127.0.0.1:8501"
    )]
    url: String,
    /// Bearer token for mutating endpoints.
    #[arg(long, global = true, env = "RFM_PERF_TOKEN")]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the current value of every metric.
    Metrics {
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the history of one metric.
    History {
        /// Metric name (e.g. frame.time_ms, fps).
        metric: String,
        /// Min–max decimate into this many buckets.
        #[arg(long)]
        points: Option<u32>,
        /// Start: RFC 3339 or negative seconds (e.g. -60).
        #[arg(long, allow_hyphen_values = true)]
        since: Option<String>,
    },
    /// Redraw the metrics table every interval.
    Watch {
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Stop after this many refreshes (default: until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Save or compare baselines (median, p95, samples per metric over the app's window).
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Save the app's last seconds of scopes as a Chrome Trace Event file (for Perfetto,
    /// chrome://tracing or tracy-import-chrome).
    Trace {
        /// Output file.
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// How far back (at most the app's trace window, 10 s by default).
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Check alert rule files.
    Alerts {
        #[command(subcommand)]
        action: AlertsAction,
    },
    /// Compare benchmark reports (`fractal_explorer --headless --report FILE`) side by side: the
    /// first is the reference; no app needed.
    Compare {
        /// Two or more report files.
        #[arg(required = true, num_args = 2..)]
        files: Vec<std::path::PathBuf>,
        /// Relative change that counts as a regression.
        #[arg(long, default_value_t = 0.2)]
        threshold: f64,
        /// Significance level of the test.
        #[arg(long, default_value_t = 0.01)]
        alpha: f64,
        /// Exit 1 when a later run has a significant regression of at least the threshold.
        #[arg(long)]
        fail_on_regression: bool,
        /// Also write the comparison as Markdown, with one SVG chart per metric beside it.
        #[arg(long)]
        markdown: Option<std::path::PathBuf>,
    },
    /// Turn saved benchmark reports into one self-contained HTML page (the browser dashboard's
    /// charts and tables, scripts and data inlined): a CI artifact that opens without a server.
    Report {
        /// One or more report files.
        #[arg(required = true, num_args = 1..)]
        files: Vec<std::path::PathBuf>,
        /// The HTML file to write.
        #[arg(short = 'o', long, default_value = "report.html")]
        output: std::path::PathBuf,
        /// The page's title (default: the file names).
        #[arg(long)]
        title: Option<String>,
    },
}

#[derive(Subcommand)]
enum AlertsAction {
    /// Read a rule file as the app would; list its rules and problems (file:line:column);
    /// exit code 1 on a problem.
    Check {
        /// The rule file (TOML).
        file: std::path::PathBuf,
        /// Also check metric names against those the app at --url records.
        #[arg(long)]
        against_app: bool,
    },
}

#[derive(Subcommand)]
enum BaselineAction {
    /// Write the app's current statistics to FILE.
    Save {
        /// Output file (JSON).
        file: std::path::PathBuf,
    },
    /// Compare the app's current statistics with FILE; exit code 1 on a regression.
    Compare {
        /// Baseline file written by `baseline save`.
        file: std::path::PathBuf,
        /// Relative change that counts as a regression.
        #[arg(long, default_value_t = 0.2)]
        threshold: f64,
    },
}

/// Sends `GET path` (with the token, when one is set); any status comes back.
fn send(
    cli: &Cli,
    path: &str,
    timeout: Duration,
) -> Result<(String, ureq::http::Response<ureq::Body>), String> {
    let url = format!("{}{path}", cli.url.trim_end_matches('/'));
    let mut req = ureq::get(&url)
        .config()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build();
    if let Some(t) = &cli.token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req.call().map_err(|e| format!("GET {url}: {e}"))?;
    Ok((url, resp))
}

fn get(cli: &Cli, path: &str) -> Result<Value, String> {
    let (url, mut resp) = send(cli, path, Duration::from_secs(10))?;
    let status = resp.status();
    let body: Value = resp
        .body_mut()
        .read_json()
        .map_err(|e| format!("GET {url}: HTTP {status}, not JSON: {e}"))?;
    if !status.is_success() {
        let msg = body.get("error").and_then(Value::as_str).unwrap_or("error");
        let hint = body
            .get("known_metrics_hint")
            .map(|h| format!(" (known: {h})"))
            .unwrap_or_default();
        return Err(format!("GET {url}: HTTP {status}: {msg}{hint}"));
    }
    Ok(body)
}

/// `GET path` as text (no size limit below 1 GiB: a trace can be large); an error status is an
/// error with the server's message.
fn get_text(cli: &Cli, path: &str) -> Result<String, String> {
    let (url, mut resp) = send(cli, path, Duration::from_secs(60))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .map_err(|e| format!("GET {url}: HTTP {status}: {e}"))?;
    if !status.is_success() {
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
            .unwrap_or(text);
        return Err(format!("GET {url}: HTTP {status}: {msg}"));
    }
    Ok(text)
}

/// Bytes left as they are in a path segment or query value: RFC 3986's unreserved set.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode_path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

fn metrics_table(body: &Value) -> String {
    let mut out = format!(
        "{:<36} {:>14} {:<6} {}\n",
        "metric", "value", "unit", "status"
    );
    let empty = serde_json::Map::new();
    let metrics = body
        .get("metrics")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let details = body
        .get("details")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, v) in metrics {
        let d = details.get(name);
        let unit = d
            .and_then(|d| d.get("unit"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let status = d
            .and_then(|d| d.get("status"))
            .and_then(Value::as_str)
            .unwrap_or("");
        out.push_str(&format!(
            "{name:<36} {:>14.3} {unit:<6} {status}\n",
            v.as_f64().unwrap_or(f64::NAN)
        ));
    }
    if let Some(t) = body.get("timestamp").and_then(Value::as_str) {
        out.push_str(&format!("({} metrics at {t})\n", metrics.len()));
    }
    out
}

/// Statistics per metric over the app's window, with each metric's direction.
type Summary = BTreeMap<String, (BaselineStat, Option<Direction>)>;

fn summary(cli: &Cli) -> Result<(f64, Summary), String> {
    let body = get(cli, "/api/performance/summary")?;
    let window = body.get("window_s").and_then(Value::as_f64).unwrap_or(0.0);
    let mut out = BTreeMap::new();
    for (name, m) in body
        .get("metrics")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let stat = BaselineStat {
            median: m
                .get("median")
                .and_then(Value::as_f64)
                .ok_or("summary without median")?,
            p95: m
                .get("p95")
                .and_then(Value::as_f64)
                .ok_or("summary without p95")?,
            samples: m.get("samples").and_then(Value::as_u64).unwrap_or(0) as usize,
        };
        let dir = m
            .get("direction")
            .and_then(|d| serde_json::from_value::<Direction>(d.clone()).ok());
        out.insert(name.clone(), (stat, dir));
    }
    Ok((window, out))
}

/// The raw values of `metric` over the app's last `window_s` seconds, at most
/// [`MAX_BASELINE_SAMPLES`] evenly spaced (what the significance test compares).
fn window_values(cli: &Cli, metric: &str, window_s: f64) -> Result<Vec<f64>, String> {
    let path = format!(
        "/api/performance/history/{}?since=-{}",
        encode_path_segment(metric),
        window_s.max(0.001)
    );
    let body = get(cli, &path)?;
    let values: Vec<f64> = body
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("value")?.as_f64())
        .filter(|v| v.is_finite())
        .collect();
    Ok(evenly_spaced(&values, MAX_BASELINE_SAMPLES))
}

/// The scenario and machine the app reports (empty machine when it does not).
fn app_key(cli: &Cli) -> BaselineKey {
    get(cli, "/api/performance/regressions")
        .ok()
        .and_then(|b| serde_json::from_value(b.get("current_key")?.clone()).ok())
        .unwrap_or_default()
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<u8, String> {
    match &cli.command {
        Command::Trace { output, seconds } => {
            let path = match seconds {
                Some(s) if !(s.is_finite() && *s > 0.0) => {
                    return Err(format!("--seconds {s}: use a positive number"));
                }
                Some(s) => format!("/api/performance/trace?seconds={s}"),
                None => "/api/performance/trace".to_string(),
            };
            let text = get_text(cli, &path)?;
            let spans = rfm_perf_core::trace::validate_chrome_json(&text)
                .map_err(|e| format!("the app sent a trace that does not check out: {e}"))?;
            std::fs::write(output, &text)
                .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
            w!(
                out,
                "{spans} scope events written to {} (open it in https://ui.perfetto.dev)",
                output.display()
            );
        }
        Command::Alerts {
            action: AlertsAction::Check { file, against_app },
        } => {
            let known: Option<Vec<String>> = if *against_app {
                let body = get(cli, "/api/performance/metrics")?;
                let names = body
                    .get("metrics")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                Some(names)
            } else {
                None
            };
            let (text, ok) = alerts::check_file(file, known.as_deref())?;
            w!(out, "{}", text.trim_end());
            if !ok {
                return Ok(1);
            }
        }
        Command::Report {
            files,
            output,
            title,
        } => {
            let line = html_report::write_report(files, output, title.as_deref())?;
            w!(out, "{line}");
        }
        Command::Compare {
            files,
            threshold,
            alpha,
            fail_on_regression,
            markdown,
        } => {
            if !(threshold.is_finite() && *threshold > 0.0) {
                return Err(format!(
                    "--threshold {threshold}: use a positive number (0.2 = 20 %)"
                ));
            }
            if !(alpha.is_finite() && *alpha > 0.0 && *alpha < 1.0) {
                return Err(format!("--alpha {alpha}: use a number in (0, 1)"));
            }
            let (text, regression) =
                compare::compare_files(files, *threshold, *alpha, markdown.as_deref())?;
            w!(out, "{}", text.trim_end());
            if regression && *fail_on_regression {
                return Ok(1);
            }
        }
        Command::Metrics { json } => {
            let body = get(cli, "/api/performance/metrics")?;
            if *json {
                w!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&body).unwrap_or_default()
                );
            } else {
                w!(out, "{}", metrics_table(&body).trim_end());
            }
        }
        Command::History {
            metric,
            points,
            since,
        } => {
            let mut path = format!("/api/performance/history/{}", encode_path_segment(metric));
            let mut q = Vec::new();
            if let Some(p) = points {
                q.push(format!("points={p}"));
            }
            if let Some(s) = since {
                q.push(format!("since={}", encode_path_segment(s)));
            }
            if !q.is_empty() {
                path = format!("{path}?{}", q.join("&"));
            }
            let body = get(cli, &path)?;
            let unit = body.get("unit").and_then(Value::as_str).unwrap_or("");
            for p in body
                .get("history")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                w!(
                    out,
                    "{}  {} {unit}",
                    p.get("timestamp").and_then(Value::as_str).unwrap_or("?"),
                    p.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN)
                );
            }
        }
        Command::Watch { interval, count } => {
            let every = Duration::try_from_secs_f64(*interval)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or("--interval must be a positive number of seconds")?;
            let mut n = 0u64;
            loop {
                let table = match get(cli, "/api/performance/metrics") {
                    Ok(body) => metrics_table(&body),
                    Err(e) => format!("{e}\n"),
                };
                w!(out, "\x1b[2J\x1b[H{}", table.trim_end());
                let _ = out.flush();
                n += 1;
                if count.is_some_and(|c| n >= c) {
                    break;
                }
                std::thread::sleep(every);
            }
        }
        Command::Baseline {
            action: BaselineAction::Save { file },
        } => {
            let (window, stats) = summary(cli)?;
            let mut samples = BTreeMap::new();
            for name in stats.keys() {
                let mut v = window_values(cli, name, window)?;
                v.sort_by(f64::total_cmp);
                samples.insert(name.clone(), v);
            }
            let set = BaselineSet {
                captured_unix_s: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
                window_s: window,
                metrics: stats.into_iter().map(|(k, (s, _))| (k, s)).collect(),
                samples,
                key: app_key(cli),
                ..BaselineSet::default()
            };
            set.save(file).map_err(|e| e.to_string())?;
            w!(
                out,
                "saved {} metrics to {}",
                set.metrics.len(),
                file.display()
            );
        }
        Command::Baseline {
            action: BaselineAction::Compare { file, threshold },
        } => {
            let base = BaselineSet::load(file).map_err(|e| e.to_string())?;
            let (window, stats) = summary(cli)?;
            let dirs: BTreeMap<String, Option<Direction>> =
                stats.iter().map(|(k, (_, d))| (k.clone(), *d)).collect();
            let missing: Vec<&String> = base
                .metrics
                .keys()
                .filter(|k| !stats.contains_key(*k))
                .collect();
            if !base.metrics.is_empty() && missing.len() == base.metrics.len() {
                return Err(format!(
                    "none of the {} metrics in {} are in the app's current statistics (is it the same app, and has it run for the baseline window?)",
                    base.metrics.len(),
                    file.display()
                ));
            }
            if !missing.is_empty() {
                let shown: Vec<&str> = missing.iter().take(5).map(|s| s.as_str()).collect();
                w!(
                    out,
                    "warning: {} baseline metrics have no current samples: {}{}",
                    missing.len(),
                    shown.join(", "),
                    if missing.len() > 5 { ", …" } else { "" }
                );
            }
            for line in base.key.differences(&app_key(cli)) {
                w!(out, "note: compared across {line}");
            }
            // the raw values the test needs; metrics of a version 1 file have none
            let mut current = BTreeMap::new();
            for name in base.metrics.keys().filter(|k| stats.contains_key(*k)) {
                current.insert(name.clone(), window_values(cli, name, window)?);
            }
            let test = RegressionTest::new(*threshold);
            let assessed = base.assess(&current, |n| dirs.get(n).copied().flatten(), test);
            // a version 1 baseline has no samples: its medians still gate, labelled as such
            let failing: Vec<_> = assessed
                .iter()
                .filter(|a| {
                    a.verdict == Verdict::Regression
                        || (a.verdict == Verdict::NoSamples && a.report.change >= test.threshold)
                })
                .collect();
            let noted: Vec<_> = assessed
                .iter()
                .filter(|a| {
                    matches!(
                        a.verdict,
                        Verdict::NotSignificant | Verdict::InsufficientData
                    )
                })
                .collect();
            for a in &noted {
                w!(
                    out,
                    "not a regression: {} is {:+.1}% but {}",
                    a.report.metric,
                    a.report.change * 100.0,
                    if a.verdict == Verdict::InsufficientData {
                        format!(
                            "has too few samples ({} / {}, need {} a side)",
                            a.report.baseline_samples, a.report.samples, test.min_samples
                        )
                    } else {
                        format!(
                            "within the noise (p = {:.3})",
                            a.report.p_value.unwrap_or(1.0)
                        )
                    }
                );
            }
            if failing.is_empty() {
                w!(
                    out,
                    "no regressions against {} ({} metrics, threshold {threshold}, alpha {})",
                    file.display(),
                    base.metrics.len(),
                    test.alpha
                );
                return Ok(0);
            }
            w!(
                out,
                "{:<36} {:>12} {:>12} {:>9} {:>9} {:>22} severity",
                "metric",
                "baseline",
                "current",
                "change",
                "p",
                "effect (99 % interval)"
            );
            for a in &failing {
                let r = &a.report;
                let p = r
                    .p_value
                    .map_or("median only".to_string(), |p| format!("{p:.1e}"));
                let effect = r.effect.map_or(String::new(), |e| {
                    format!(
                        "{:+.1}% [{:+.1}, {:+.1}]",
                        e.estimate * 100.0,
                        e.low * 100.0,
                        e.high * 100.0
                    )
                });
                w!(
                    out,
                    "{:<36} {:>12.3} {:>12.3} {:>+8.1}% {:>9} {:>22} {:?}",
                    r.metric,
                    r.baseline.median,
                    r.current.median,
                    r.change * 100.0,
                    p,
                    effect,
                    r.severity
                );
            }
            if failing.iter().any(|a| a.verdict == Verdict::NoSamples) {
                w!(
                    out,
                    "(\"median only\": {} is a version 1 baseline without raw values; save a new one to test significance)",
                    file.display()
                );
            }
            return Ok(1);
        }
    }
    Ok(0)
}

/// [`run_with`] with `rfm-perf` as the program name, the output and errors collected:
/// `(exit code, stdout, stderr)` (for scripts and tests that drive the CLI in-process).
///
/// ```
/// let (code, _out, err) = rfm_perf_cli::run_captured(&["--url", "http://127.0.0.1:9", "metrics"]);
/// assert_eq!(code, 2);
/// assert!(err.contains("rfm-perf:"));
/// ```
pub fn run_captured(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(
        std::iter::once("rfm-perf").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// Runs `rfm-perf` with `args` (the first is the program name), writing its output to `out`.
/// Returns the exit code: 0 success, 1 regression found, 2 error (the message goes to `err`).
///
/// ```
/// let mut out = Vec::new();
/// let mut err = Vec::new();
/// let code = rfm_perf_cli::run_with(["rfm-perf", "--url", "http://127.0.0.1:9", "metrics"], &mut out, &mut err);
/// assert_eq!(code, 2); // nothing listens on port 9
/// assert!(String::from_utf8(err).unwrap().contains("rfm-perf:"));
/// ```
pub fn run_with<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            if e.use_stderr() {
                let _ = write!(err, "{e}");
                return 2;
            }
            let _ = write!(out, "{e}");
            return 0;
        }
    };
    match run(&cli, out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "rfm-perf: {e}");
            2
        }
    }
}
