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
use rfm_perf::headless::{headless_app_with, read_results};

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

/// Runs the driver in `mode`; with `app`, keeps updating it (serving the API) until the driver
/// exits. Its output goes straight to ours.
fn drive(args: &[&str], mut app: Option<&mut bevy::app::App>) -> bool {
    let mut child = match Command::new("node")
        .arg(web_dir().join("dashboard.js"))
        .args(args)
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("FAIL cannot start node: {e}");
            return false;
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() > PAGE_TIMEOUT => {
                let _ = child.kill();
                println!("FAIL the browser checks ran past {PAGE_TIMEOUT:?}");
                return false;
            }
            Ok(None) => match app.as_deref_mut() {
                Some(app) => app.update(),
                None => std::thread::sleep(Duration::from_millis(50)),
            },
            Err(e) => {
                println!("FAIL waiting for node: {e}");
                return false;
            }
        }
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
    if let Err(e) = read_results(&mut app, 300) {
        println!("FAIL no GPU result: {e}");
        return ExitCode::FAILURE;
    }
    let Some(addr) = app.world().resource::<rfm_perf::api::ApiStatus>().address() else {
        println!("FAIL the API is not running");
        return ExitCode::FAILURE;
    };
    let base = format!("http://{addr}/");
    let mut ok = check_http(&base);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let live_shot = shots.join("web_dashboard.png");
    let live_shot = live_shot.to_string_lossy();
    let mut args = vec!["live", base.as_str(), TOKEN, live_shot.as_ref()];
    if std::env::var_os("RFM_PERF_WEB_BENCH").is_some() {
        args.push("--bench");
    }
    ok &= drive(&args, Some(&mut app));
    drop(app);

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
