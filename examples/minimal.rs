//! Any Bevy app + `RfmPerfPlugin` + two instrumented functions, printing a metrics summary.
//!
//! ```text
//! cargo run --example minimal -- --frames 120
//! ```
//!
//! Runs headless (`MinimalPlugins`, no window), so it works in CI.

use std::process::ExitCode;

use bevy::app::ScheduleRunnerPlugin;
use bevy::prelude::*;
use rfm_perf::prelude::*;

/// Simulated game work: a little arithmetic, timed under its default name
/// `minimal::simulate_physics`.
#[track_performance]
fn simulate_physics(bodies: u32) -> f64 {
    (0..bodies * 1000).map(|i| f64::from(i).sqrt()).sum()
}

/// Timed under an explicit name, with a nested block scope.
#[track_performance("mandelbrot.generation")]
fn generate_mandelbrot(width: u32, height: u32, max_iterations: u32) -> u64 {
    let mut total = 0u64;
    for py in 0..height {
        perf_scope!("mandelbrot.row");
        for px in 0..width {
            let c = (
                f64::from(px) / f64::from(width) * 3.0 - 2.0,
                f64::from(py) / f64::from(height) * 2.0 - 1.0,
            );
            let (mut x, mut y, mut i) = (0.0f64, 0.0f64, 0);
            while i < max_iterations && x * x + y * y <= 4.0 {
                let xt = x * x - y * y + c.0;
                y = 2.0 * x * y + c.1;
                x = xt;
                i += 1;
            }
            total += u64::from(i);
        }
    }
    total
}

#[derive(Resource)]
struct FramesLeft(u64);

fn game(mut left: ResMut<FramesLeft>, mut exit: MessageWriter<AppExit>, tracker: Res<PerfTracker>) {
    let checksum = simulate_physics(20) + generate_mandelbrot(64, 32, 200) as f64;
    tracker.track_metric("game.checksum", checksum);
    left.0 = left.0.saturating_sub(1);
    if left.0 == 0 {
        exit.write(AppExit::Success);
    }
}

fn parse_frames() -> Result<u64, String> {
    let mut args = std::env::args().skip(1);
    let mut frames = 120;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--frames" => {
                let v = args.next().ok_or("--frames needs a number")?;
                frames = v
                    .parse()
                    .map_err(|_| format!("--frames: {v:?} is not a positive whole number"))?;
                if frames == 0 {
                    return Err("--frames must be at least 1".into());
                }
            }
            "-h" | "--help" => {
                println!("usage: minimal [--frames N]   (default 120)");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(frames)
}

fn main() -> ExitCode {
    let frames = match parse_frames() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    App::new()
        .add_plugins(MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(
            std::time::Duration::from_secs_f64(1.0 / 120.0),
        )))
        .add_plugins(RfmPerfPlugin::headless())
        .insert_resource(FramesLeft(frames))
        .add_systems(Update, game)
        .run();

    let tracker = get_performance_tracker();
    println!("rfm_perf minimal example: {frames} frames");
    println!("\n{:<28} {:>12} unit", "metric", "value");
    for name in [
        names::FRAME_TIME_MS,
        names::FRAME_FPS,
        names::FRAME_FPS_1PCT_LOW,
        names::ENTITY_COUNT,
        names::PROCESS_MEMORY_MB,
        names::SYSTEM_CPU_PCT,
    ] {
        let unit = tracker
            .metric_info(name)
            .map(|i| i.unit.to_string())
            .unwrap_or_default();
        match tracker.get_metric(name) {
            Some(v) => println!("{name:<28} {v:>12.2} {unit}"),
            None => println!("{name:<28} {:>12} (not sampled yet)", "-"),
        }
    }
    println!(
        "\n{:<32} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "scope", "calls", "calls/frm", "mean ms", "p95 ms", "self ms"
    );
    for s in tracker.scope_stats() {
        println!(
            "{:<32} {:>8} {:>10.1} {:>10.4} {:>10.4} {:>10.3}",
            s.name, s.calls, s.calls_per_frame, s.mean_ms, s.p95_ms, s.self_ms
        );
    }
    ExitCode::SUCCESS
}
