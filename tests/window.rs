//! A real window: runs `examples/fractal_explorer` (built by `cargo test` next to this binary)
//! under the current display, or under Xvfb (`xvfb-run`) when there is none, once with the
//! dashboard closed and once open, and compares Bevy's own window screenshots.
//! Winit wants the main thread and one event loop per process, so each run is a child process
//! and this binary has no test harness.
//!
//! Screenshots land in `$CARGO_TARGET_TMPDIR` (`explorer_closed.png`, `explorer_dashboard.png`).
//!
//! It also runs the explorer's headless benchmark as a user would on a machine without a
//! display, checks that its API answers while the run lasts, and has a real Prometheus server
//! (Debian's `prometheus`) scrape it (see `prometheus_check.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[cfg(feature = "api")]
#[path = "window/prometheus_check.rs"]
mod prometheus_check;

fn explorer_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/window-<hash> → target/<profile>/examples/fractal_explorer
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join("examples").join("fractal_explorer");
    bin.exists().then_some(bin)
}

fn has(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn run_explorer(bin: &Path, out: &Path, extra: &[&str], use_xvfb: bool) -> Result<(), String> {
    let _ = std::fs::remove_file(out);
    let mut args: Vec<String> = vec![
        "--exit-after".into(),
        "90".into(),
        "--screenshot".into(),
        out.display().to_string(),
        "--max-iter".into(),
        "300".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let mut cmd = if use_xvfb {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    // keep the API off the shared default port while tests run in parallel
    cmd.args(&args).env("RFM_PERF_API_ADDR", "127.0.0.1:0");
    let output = cmd.output().map_err(|e| format!("spawn: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "explorer exited with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(25)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    if !out.exists() {
        return Err("no screenshot written".into());
    }
    Ok(())
}

/// Kills the child when dropped, so a failed check never leaves an explorer running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fractal_explorer --headless --api-addr 127.0.0.1:0` for `frames` frames and reads the
/// API's address from its first line.
#[cfg(feature = "api")]
fn start_headless(bin: &Path, frames: &str) -> Result<(KillOnDrop, String), String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::Duration;

    let child = Command::new(bin)
        .args([
            "--headless",
            "--api-addr",
            "127.0.0.1:0",
            "--frames",
            frames,
        ])
        .args(["--size", "64x64", "--max-iter", "64"])
        .env_remove("RFM_PERF_API_ADDR")
        .env_remove("DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(120))
        .map_err(|_| "no first line within 120 s".to_string())?;
    let addr = first
        .strip_prefix("rfm_perf API: http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .ok_or_else(|| format!("first line is not the API address: {first:?}"))?
        .to_string();
    Ok((child, addr))
}

#[cfg(feature = "api")]
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// `fractal_explorer --headless --api-addr 127.0.0.1:0`: the first line names the API's address,
/// and `GET /api/performance/metrics` answers while the benchmark still runs.
#[cfg(feature = "api")]
fn headless_run_serves_the_api(bin: &Path) -> Result<String, String> {
    let (mut child, addr) = start_headless(bin, "5000")?;
    let url = format!("http://{addr}/api/performance/metrics");
    let mut response = agent()
        .get(&url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body: serde_json::Value = response
        .body_mut()
        .read_json()
        .map_err(|e| format!("GET {url}: not JSON: {e}"))?;
    if !body["metrics"].is_object() {
        return Err(format!("GET {url}: no metrics object in {body}"));
    }
    if child.0.try_wait().map_err(|e| e.to_string())?.is_some() {
        return Err("the benchmark ended before the check: it must still be running".into());
    }
    Ok(addr)
}

/// A taken API port is a warning: the headless run still succeeds.
#[cfg(feature = "api")]
fn headless_run_survives_a_taken_port(bin: &Path) -> Result<(), String> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = taken.local_addr().map_err(|e| e.to_string())?.to_string();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--api-addr",
            &addr,
            "--frames",
            "3",
            "--size",
            "32x32",
        ])
        .env_remove("DISPLAY")
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap_or("");
    if !out.status.success() {
        return Err(format!(
            "exited with {} on a taken port:\n{stdout}",
            out.status
        ));
    }
    if !(first.starts_with("warning:") && first.contains(&addr)) {
        return Err(format!("first line should warn about {addr}: {first:?}"));
    }
    Ok(())
}

/// RGBA pixels of a PNG.
fn load(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let img = bevy::image::Image::from_buffer(
        &bytes,
        bevy::image::ImageType::Extension("png"),
        bevy::image::CompressedImageFormats::NONE,
        true,
        bevy::image::ImageSampler::Default,
        bevy::asset::RenderAssetUsages::MAIN_WORLD,
    )
    .map_err(|e| e.to_string())?;
    let rgba = img
        .try_into_dynamic()
        .map_err(|e| e.to_string())?
        .to_rgba8();
    Ok((rgba.width(), rgba.height(), rgba.into_raw()))
}

/// The heatmap screenshot is coloured by the heatmap ramp where the palette screenshot shows
/// the fractal: most of the fractal's pixels change, and most of the heatmap's pixels lie near
/// the ramp.
fn heatmap_shows_cost(palette: &Path, heatmap: &Path) -> Result<(), String> {
    let (w, h, a) = load(palette)?;
    let (w2, h2, b) = load(heatmap)?;
    if (w, h) != (w2, h2) {
        return Err("screenshots differ in size".into());
    }
    let ramp: Vec<[u8; 3]> = (0..=200)
        .map(|i| rfm_perf::heat_color(i as f32 / 200.0))
        .collect();
    let near_ramp = |p: &[u8]| {
        ramp.iter()
            .any(|c| (0..3).map(|i| u32::from(p[i].abs_diff(c[i]))).sum::<u32>() <= 24)
    };
    let pixels = (w * h) as usize;
    let changed = a
        .chunks(4)
        .zip(b.chunks(4))
        .filter(|(p, q)| p[..3] != q[..3])
        .count();
    let on_ramp = b.chunks(4).filter(|p| near_ramp(p)).count();
    println!(
        "info heatmap: {:.1} % of pixels changed from the palette, {:.1} % on the heatmap ramp",
        100.0 * changed as f64 / pixels as f64,
        100.0 * on_ramp as f64 / pixels as f64
    );
    if changed * 2 < pixels || on_ramp * 2 < pixels {
        return Err(format!(
            "expected most pixels recoloured onto the ramp: {changed} changed, {on_ramp} on the ramp of {pixels}"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("window: test");
        return ExitCode::SUCCESS;
    }
    let Some(bin) = explorer_binary() else {
        println!("FAIL fractal_explorer binary not found next to this test (cargo test builds it)");
        return ExitCode::FAILURE;
    };
    let mut failures = Vec::new();
    #[cfg(feature = "api")]
    {
        match headless_run_serves_the_api(&bin) {
            Ok(addr) => println!("ok   headless run served GET /api/performance/metrics on {addr}"),
            Err(e) => failures.push(format!("headless API: {e}")),
        }
        match headless_run_survives_a_taken_port(&bin) {
            Ok(()) => println!("ok   headless run on a taken port: a warning, then the benchmark"),
            Err(e) => failures.push(format!("headless, taken port: {e}")),
        }
        match prometheus_check::prometheus_scrapes_a_headless_run(&bin) {
            Ok(report) => println!("{report}"),
            Err(e) => failures.push(format!("prometheus: {e}")),
        }
    }
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    let use_xvfb = !display;
    if use_xvfb && !has("xvfb-run") {
        println!(
            "SKIPPED the window checks: no display and no xvfb-run (scripts/test installs xvfb)"
        );
        return if failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            failures.iter().for_each(|f| println!("FAIL {f}"));
            ExitCode::FAILURE
        };
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let closed = dir.join("explorer_closed.png");
    let open = dir.join("explorer_dashboard.png");
    let heatmap = dir.join("explorer_heatmap.png");
    let runs: [(&PathBuf, &[&str]); 3] = [
        (&closed, &[]),
        (&open, &["--dashboard"]),
        (&heatmap, &["--heatmap"]),
    ];
    for (path, extra) in runs {
        match run_explorer(&bin, path, extra, use_xvfb) {
            Ok(()) => println!("ok   screenshot {}", path.display()),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    if failures.is_empty() {
        match (load(&closed), load(&open)) {
            (Ok((w, h, a)), Ok((w2, h2, b))) => {
                let distinct = |px: &[u8]| {
                    let mut v: Vec<[u8; 3]> = px.chunks(4).map(|p| [p[0], p[1], p[2]]).collect();
                    v.sort_unstable();
                    v.dedup();
                    v.len()
                };
                let (ca, cb) = (distinct(&a), distinct(&b));
                println!("info {w}×{h}: {ca} colours closed, {cb} with the dashboard");
                if ca < 50 || cb < 50 {
                    failures.push(format!("a screenshot is blank-ish ({ca} / {cb} colours)"));
                }
                if (w, h) != (w2, h2) {
                    failures.push("screenshots differ in size".into());
                } else {
                    let changed = a
                        .chunks(4)
                        .zip(b.chunks(4))
                        .filter(|(p, q)| p[..3] != q[..3])
                        .count();
                    let share = changed as f64 / (w * h) as f64;
                    println!(
                        "info the dashboard changes {:.1} % of the pixels",
                        share * 100.0
                    );
                    if share < 0.05 {
                        failures.push(format!(
                            "dashboard-open screenshot barely differs ({:.2} %)",
                            share * 100.0
                        ));
                    }
                }
            }
            (a, b) => failures.push(format!(
                "could not read screenshots: {:?} {:?}",
                a.err(),
                b.err()
            )),
        }
        if let Err(e) = heatmap_shows_cost(&closed, &heatmap) {
            failures.push(format!("heatmap: {e}"));
        }
    }
    if failures.is_empty() {
        println!("window checks passed");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            println!("FAIL {f}");
        }
        ExitCode::FAILURE
    }
}
