//! The browser dashboard in headless Chromium (Debian's `chromium`, driven over DevTools by
//! `tests/web/dashboard.js` with `playwright-core`, both installed by `scripts/test`): the live
//! page against a headless app serving the API with a token, then a report made by
//! `rfm-perf report` opened from `file://`. Skips with a printed reason only when node, the
//! driver or chromium cannot be had.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use bevy::math::UVec2;
use rfm_perf::fractal::gpu::{FractalGpuPlugin, FractalSettings};
use rfm_perf::headless::headless_app_with;

const TOKEN: &str = "browser-check-token";
/// The page checks take ~30 s; a stuck browser is killed after this.
const PAGE_TIMEOUT: Duration = Duration::from_secs(180);

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Why the browser checks cannot run here, if they cannot.
fn missing_tools() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("no `node` on PATH (scripts/test installs nodejs and npm)".into());
    }
    if !web_dir().join("node_modules/playwright-core").exists() {
        return Some(format!(
            "no playwright-core in {} (scripts/test runs npm ci there)",
            web_dir().display()
        ));
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no chromium at {chromium} (scripts/test installs Debian's chromium)"
        ));
    }
    None
}

/// Runs the driver with `args`, echoing its output. With `app`, keeps updating it (serving the
/// API) until the driver exits; when the driver says `RESTART`, the app is dropped (its server
/// stops), and once the driver has seen the page go "disconnected" (`DOWN-SEEN`), a plain app
/// serving the API comes up on the same address for the page to reconnect to.
fn drive(args: &[&str], app: Option<bevy::app::App>) -> bool {
    let mut child = match Command::new("node")
        .arg(web_dir().join("dashboard.js"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("FAIL cannot start node: {e}");
            return false;
        }
    };
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)).map_while(Result::ok)
            {
                println!("{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let address = app
        .as_ref()
        .and_then(|a| a.world().resource::<rfm_perf::api::ApiStatus>().address());
    let mut app = app;
    let mut quiet = false;
    let started = Instant::now();
    loop {
        for line in lines.try_iter() {
            match (line.as_str(), address) {
                ("QUIET", _) => quiet = true,
                ("RESTART", _) => app = None,
                ("DOWN-SEEN", Some(addr)) => app = Some(plain_api_app(addr)),
                _ => {}
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() > PAGE_TIMEOUT => {
                let _ = child.kill();
                println!("FAIL the browser checks ran past {PAGE_TIMEOUT:?}");
                return false;
            }
            Ok(None) => match app.as_mut() {
                Some(app) => {
                    app.update();
                    if quiet {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            },
            Err(e) => {
                println!("FAIL waiting for node: {e}");
                return false;
            }
        }
    }
}

/// An app without GPU serving the API at `addr` (the "restarted" app).
fn plain_api_app(addr: std::net::SocketAddr) -> bevy::app::App {
    let mut app = bevy::app::App::new();
    app.add_plugins(bevy::MinimalPlugins)
        .add_plugins(rfm_perf::RfmPerfPlugin {
            update_interval: Duration::from_millis(500),
            ..rfm_perf::RfmPerfPlugin::headless().with_api_config(rfm_perf::ApiConfig {
                bind: addr,
                ..Default::default()
            })
        });
    app.finish();
    app.cleanup();
    let status = app.world().resource::<rfm_perf::api::ApiStatus>();
    println!("     restarted: {}", status.describe());
    app
}

/// `series` metrics `bench.series_NN` of `samples` values each, evenly spread over the `span`
/// up to now (the tracker's whole life: it holds nothing from before it started): seeded random
/// walks, so every pixel column has a real min and max.
fn import_bench_series(
    tracker: &rfm_perf_core::PerformanceTracker,
    series: usize,
    samples: usize,
    span: Duration,
) {
    let now = std::time::SystemTime::now();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for s in 0..series {
        let mut v = 50.0;
        let values: Vec<_> = (0..samples)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                v += (state % 1000) as f64 / 500.0 - 1.0;
                let ago = span.mul_f64((samples - i) as f64 / samples as f64);
                (now - ago, v)
            })
            .collect();
        let stored = tracker
            .import_samples(&format!("bench.series_{s:02}"), &values)
            .unwrap_or(0);
        assert_eq!(stored, samples, "imported");
    }
}

/// The page's headers and the token over plain HTTP: the CSP is there, Apply without the
/// token is refused (401) and changes nothing.
fn check_http(base: &str) -> bool {
    let page = ureq::get(base).call();
    let (csp, nosniff) = match &page {
        Ok(r) => (
            r.headers()
                .get("content-security-policy")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string(),
            r.headers()
                .get("x-content-type-options")
                .and_then(|h| h.to_str().ok())
                == Some("nosniff"),
        ),
        Err(e) => {
            println!("FAIL GET {base}: {e}");
            return false;
        }
    };
    let csp_ok = csp.contains("default-src 'self'") && !csp.contains("unsafe-inline");
    println!(
        "{} GET / has a strict CSP ({csp}) and nosniff: {nosniff}",
        if csp_ok && nosniff { "ok  " } else { "FAIL" }
    );
    let apply = ureq::post(&format!(
        "{base}api/performance/suggestions/interior_check/apply"
    ))
    .config()
    .http_status_as_error(false)
    .build()
    .send_empty();
    let status = apply.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
    println!(
        "{} Apply without the token: {status} (want 401)",
        if status == 401 { "ok  " } else { "FAIL" }
    );
    csp_ok && nosniff && status == 401
}

/// The live page against a 256 × 256 app on the home view with the interior check off (so a
/// suggestion with a parameter change, turning it on, is there to Apply), then the report page.
pub(crate) fn child_browser(report_json: &Path) -> ExitCode {
    if let Some(why) = missing_tools() {
        println!("skip browser checks: {why}");
        return ExitCode::SUCCESS;
    }
    let mut app = headless_app_with(
        FractalSettings {
            output_size: UVec2::splat(256),
            interior_check: false,
            ..Default::default()
        },
        rfm_perf::RfmPerfPlugin {
            update_interval: Duration::from_millis(500),
            dashboard: false,
            // the process's tracker: the pass's `perf_scope!`s record there
            tracker: Some(rfm_perf_core::get_performance_tracker().clone()),
            ..rfm_perf::RfmPerfPlugin::new().with_api_config(rfm_perf::ApiConfig {
                bind: "127.0.0.1:0".parse().expect("address"),
                token: Some(TOKEN.into()),
                ..Default::default()
            })
        },
        FractalGpuPlugin::default(),
    );
    let Some(addr) = super::serving(&mut app) else {
        return ExitCode::FAILURE;
    };
    let base = format!("http://{addr}/");
    let mut ok = check_http(&base);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let live_shot = shots.join("web_dashboard.png");
    let live_shot = live_shot.to_string_lossy();
    let mut args = vec!["live", base.as_str(), TOKEN, live_shot.as_ref()];
    if std::env::var_os("RFM_PERF_WEB_BENCH").is_some() {
        // the page's draw-time benchmark (BENCHMARKS.md): 20 metrics × 36 000 samples, an hour
        let tracker = rfm_perf_core::get_performance_tracker();
        let span = tracker
            .now()
            .duration_since(tracker.started_at())
            .unwrap_or_default();
        import_bench_series(tracker, 20, 36_000, span);
        args.push("--bench");
    }
    ok &= drive(&args, Some(app));

    // the report: `rfm-perf report` on the benchmark child's report, opened from file://
    let html = shots.join("web_report.html");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args: [std::ffi::OsString; 5] = [
        "rfm-perf".into(),
        "report".into(),
        report_json.into(),
        "-o".into(),
        html.clone().into(),
    ];
    let code = rfm_perf_cli::run_with(args, &mut out, &mut err);
    let metrics = match rfm_perf::RunReport::load(report_json) {
        Ok(r) => r.metrics.keys().cloned().collect::<Vec<_>>().join(","),
        Err(e) => {
            println!("FAIL the benchmark report is not readable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let written = code == 0 && html.exists();
    println!(
        "{} rfm-perf report: {}{}",
        if written { "ok  " } else { "FAIL" },
        String::from_utf8_lossy(&out).trim(),
        String::from_utf8_lossy(&err).trim()
    );
    ok &= written;
    let report_shot = shots.join("web_report.png");
    ok &= written
        && drive(
            &[
                "report",
                &html.to_string_lossy(),
                &metrics,
                &report_shot.to_string_lossy(),
            ],
            None,
        );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
