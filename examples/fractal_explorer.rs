//! Fractal explorer: the GPU fractal pass filling a window, with rfm_perf watching it.
//!
//! Mouse: drag to pan, wheel to zoom around the cursor. Keys: `1` Mandelbrot, `2` Julia,
//! `3` Burning Ship, `P` next palette, `+`/`-` max iterations, `[`/`]` resolution scale,
//! `F` precision (auto → f32 → df64 → perturbation), `I` interior checks on/off, `H` cost heatmap (the
//! iterations each pixel really ran, with a legend; the dashboard's System window shows the
//! per-tile cost), `R` reset, `S` save a PNG screenshot and the exact view beside it
//! (`fractal-….view`, for `--view`), `F12` dashboard. Pan and zoom work in full precision: with
//! perturbation (`auto` past df64's reach) the wheel goes to widths of 1e-300.
//! The window title shows zoom, precision, iterations and FPS.
//!
//! Headless benchmark (no window or display needed; lavapipe works):
//! `cargo run --release --example fractal_explorer -- --headless --frames 300 --report out.json`
//! serves the API while it runs (first line: `rfm_perf API: http://ADDR/`), so `rfm-perf watch`,
//! a Prometheus scrape or a browser can follow it from elsewhere; `--no-api` turns it off.
//! `--path deep` flies to 1e-100 instead; `--view RE,IM,WIDTH` renders one view every frame.

use std::path::PathBuf;
use std::time::Duration;

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::render::view::window::screenshot::{Screenshot, save_to_disk};
use bevy::window::{PrimaryWindow, WindowResized};
use clap::Parser;
use rfm_perf::GpuPassStatus;
use rfm_perf::fractal::gpu::{
    Coloring, FractalFrameStats, FractalSettings, FractalTarget, PrecisionMode,
    ReferenceOrbitStatus,
};
use rfm_perf::fractal::palette::Palette;
use rfm_perf::fractal::{FractalKind, View};
use rfm_perf::headless::{BenchmarkOptions, BenchmarkPath, run_benchmark};
use rfm_perf::prelude::*;
use rfm_perf_deep::DeepView;

#[path = "shared/screenshot.rs"]
mod screenshot;

// Counts heap allocations per frame for the dashboard's resources panel.
#[global_allocator]
static ALLOC: rfm_perf::alloc::CountingAllocator = rfm_perf::alloc::CountingAllocator;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "GPU fractal explorer watched by rfm_perf")]
struct Args {
    /// Render offscreen along a fixed zoom path, print a summary and exit.
    #[arg(long)]
    headless: bool,
    /// Frames of the headless benchmark.
    #[arg(long, default_value_t = 300)]
    frames: u32,
    /// Where the headless benchmark writes its JSON report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Render size of the headless benchmark, WIDTHxHEIGHT.
    #[arg(long, default_value = "512x512")]
    size: String,
    /// Iteration limit.
    #[arg(long, default_value_t = 1000)]
    max_iter: u32,
    /// Window mode: save a screenshot here after `--exit-after` frames and exit.
    /// Headless mode: save the last frame here.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Window mode: frames to run before the screenshot/exit (0 = run until closed).
    #[arg(long, default_value_t = 0)]
    exit_after: u32,
    /// Window mode: open the dashboard at start.
    #[arg(long)]
    dashboard: bool,
    /// Start at this view, `RE,IM,WIDTH` (decimals of any length, exponent widths:
    /// `--view=-1.74999…,0,1e-80`). Headless mode: render it every frame instead of a path.
    #[arg(long)]
    view: Option<String>,
    /// Headless mode: the views flown through: `zoom` (−1.7499 to 1e-12, f32 then df64) or
    /// `deep` (c = i to 1e-100: f32, df64, then perturbation).
    #[arg(long, default_value = "zoom")]
    path: String,
    /// Address of the REST/Prometheus API (loopback by default; port 0 picks a free one).
    #[arg(long, env = "RFM_PERF_API_ADDR", default_value = "127.0.0.1:8501")]
    api_addr: std::net::SocketAddr,
    /// Do not serve the API.
    #[arg(long)]
    no_api: bool,
    /// Iterate every pixel to the limit (no cardioid/bulb test, no periodicity check).
    #[arg(long)]
    no_interior_check: bool,
    /// Colour by cost (the heatmap) instead of the palette.
    #[arg(long)]
    heatmap: bool,
    /// Window mode: the alert rule file (re-read when it changes; the built-in rules while it
    /// does not exist).
    #[arg(long, default_value = "assets/alerts.toml")]
    alert_rules: std::path::PathBuf,
    /// Hold this frame rate by changing the resolution scale and the iteration limit (down to
    /// 0.25 and 100; the interior checks on); the dashboard's Suggestions window toggles it too.
    #[arg(long)]
    adaptive_fps: Option<f64>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT")?;
    let w: u32 = w.parse().map_err(|e| format!("width: {e}"))?;
    let h: u32 = h.parse().map_err(|e| format!("height: {e}"))?;
    if w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err("sizes must be 1..=8192".into());
    }
    Ok((w, h))
}

fn parse_view(s: &str) -> Result<DeepView, String> {
    s.parse::<DeepView>().map_err(|e| e.to_string())
}

fn main() -> AppExit {
    let args = Args::parse();
    if let Some(fps) = args.adaptive_fps
        && !(fps.is_finite() && fps > 0.0 && fps <= 1000.0)
    {
        eprintln!("--adaptive-fps: {fps} is not a frame rate in (0, 1000]");
        return AppExit::error();
    }
    if args.headless {
        return headless(&args);
    }
    let view = match args.view.as_deref().map(parse_view).transpose() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("--view: {e}");
            return AppExit::error();
        }
    };
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "rfm_perf fractal explorer".into(),
                    resolution: (1280, 800).into(),
                    ..default()
                }),
                ..default()
            })
            // tracing spans (the app's, and Bevy's with its `trace` feature) as scopes
            .set(bevy::log::LogPlugin {
                custom_layer: rfm_perf::spans::log_layer,
                ..default()
            }),
    )
    .add_plugins(
        RfmPerfPlugin::default()
            .with_api_config(rfm_perf::ApiConfig {
                bind: args.api_addr,
                ..Default::default()
            })
            .with_api(!args.no_api)
            .with_alert_rules(&args.alert_rules),
    )
    .insert_resource(ClearColor(Color::BLACK))
    .insert_resource({
        let mut s = FractalSettings {
            params: rfm_perf::fractal::FractalParams {
                max_iter: args.max_iter,
                ..Default::default()
            },
            interior_check: !args.no_interior_check,
            coloring: if args.heatmap {
                Coloring::Cost
            } else {
                Coloring::Palette
            },
            ..Default::default()
        };
        if let Some(v) = view {
            s.set_deep_view(v);
        }
        s
    })
    .insert_resource(rfm_perf::AdaptiveQuality {
        enabled: args.adaptive_fps.is_some(),
        target_fps: args.adaptive_fps.unwrap_or(60.0),
        ..Default::default()
    })
    .insert_resource(Script {
        exit_after: args.exit_after,
        screenshot: args.screenshot.clone(),
        open_dashboard: args.dashboard,
        heatmap: args.heatmap,
        frame: 0,
    })
    .add_systems(Startup, setup)
    .add_systems(
        Update,
        (
            fit_to_window,
            show_target,
            navigate,
            keys,
            update_title,
            script,
        ),
    );
    app.run()
}

fn headless(args: &Args) -> AppExit {
    let (width, height) = match parse_size(&args.size) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("--size: {e}");
            return AppExit::error();
        }
    };
    let path = match (args.view.as_deref().map(parse_view), args.path.as_str()) {
        (Some(Ok(v)), _) => BenchmarkPath::Fixed(Box::new(v)),
        (Some(Err(e)), _) => {
            eprintln!("--view: {e}");
            return AppExit::error();
        }
        (None, "zoom") => BenchmarkPath::Zoom,
        (None, "deep") => BenchmarkPath::Deep,
        (None, other) => {
            eprintln!("--path: `{other}` is not a path (zoom or deep)");
            return AppExit::error();
        }
    };
    let options = BenchmarkOptions {
        path,
        frames: args.frames.max(1),
        width,
        height,
        max_iter: args.max_iter,
        report: args.report.clone(),
        screenshot: args.screenshot.clone(),
        interior_check: !args.no_interior_check,
        heatmap: args.heatmap,
        adaptive_fps: args.adaptive_fps,
        api: (!args.no_api).then(|| rfm_perf::ApiConfig {
            bind: args.api_addr,
            ..Default::default()
        }),
        ..Default::default()
    };
    match run_benchmark(&options, |line| println!("{line}")) {
        Ok(report) => {
            print!("{}", report.summary_table());
            if let Some(p) = &options.report {
                println!("report written to {}", p.display());
            }
            AppExit::Success
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            AppExit::error()
        }
    }
}

/// Test/screenshot automation from the command line.
#[derive(Resource)]
struct Script {
    exit_after: u32,
    screenshot: Option<PathBuf>,
    open_dashboard: bool,
    heatmap: bool,
    frame: u32,
}

#[derive(Component)]
struct FractalSprite;

fn setup(mut commands: Commands) {
    commands.spawn(Camera2d);
    commands.spawn((Sprite::default(), FractalSprite));
}

/// Renders at the window's physical size (times the resolution scale) and shows the image at its
/// logical size.
fn fit_to_window(
    window: Single<&Window, With<PrimaryWindow>>,
    mut resized: MessageReader<WindowResized>,
    mut settings: ResMut<FractalSettings>,
    mut sprite: Single<&mut Sprite, With<FractalSprite>>,
    mut first: Local<bool>,
) {
    perf_scope!("explorer.fit");
    if resized.read().count() == 0 && *first {
        return;
    }
    *first = true;
    let physical = window.physical_size().max(UVec2::ONE);
    if settings.output_size != physical {
        settings.output_size = physical;
    }
    sprite.custom_size = Some(window.size());
}

fn show_target(
    target: Option<Res<FractalTarget>>,
    mut sprite: Single<&mut Sprite, With<FractalSprite>>,
) {
    if let Some(t) = target
        && sprite.image != t.image
    {
        sprite.image = t.image.clone();
    }
}

/// A logical window position's offset from the view's centre, in complex units.
fn offset_at(view: &View, window: &Window, pos: Vec2) -> (f64, f64) {
    let size = window.size().max(Vec2::ONE);
    let s = view.width / f64::from(size.x);
    (
        f64::from(pos.x - size.x / 2.0) * s,
        -f64::from(pos.y - size.y / 2.0) * s,
    )
}

/// Narrowest width the wheel zooms to (the perturbation pass's extended exponent reaches it).
const MIN_WIDTH: f64 = 1e-300;

fn navigate(
    window: Single<&Window, With<PrimaryWindow>>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    mut settings: ResMut<FractalSettings>,
    #[cfg(feature = "dashboard")] egui_wants: Option<Res<rfm_perf::ui::EguiWantsInput>>,
) {
    perf_scope!("explorer.navigate");
    #[cfg(feature = "dashboard")]
    if egui_wants.is_some_and(|w| w.wants_any_pointer_input()) {
        return;
    }
    let size = window.size().max(Vec2::ONE);
    // in full precision: at depth the f64 centre cannot move by less than its spacing
    if buttons.pressed(MouseButton::Left) && motion.delta != Vec2::ZERO {
        let s = settings.params.view.width / f64::from(size.x);
        settings.pan(
            -f64::from(motion.delta.x) * s,
            f64::from(motion.delta.y) * s,
        );
    }
    let lines = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
    };
    if lines != 0.0 {
        let cursor = window.cursor_position().unwrap_or(size / 2.0);
        let view = settings.params.view;
        let offset = offset_at(&view, &window, cursor);
        let width = (view.width * 0.8f64.powf(f64::from(lines))).clamp(MIN_WIDTH, 16.0);
        settings.zoom_at(offset, width / view.width);
    }
}

fn keys(
    mut commands: Commands,
    input: Res<ButtonInput<KeyCode>>,
    mut settings: ResMut<FractalSettings>,
) {
    perf_scope!("explorer.keys");
    let s = &mut *settings;
    for key in input.get_just_pressed() {
        match key {
            KeyCode::Digit1 => s.params.kind = FractalKind::Mandelbrot,
            KeyCode::Digit2 => s.params.kind = FractalKind::ALL[1],
            KeyCode::Digit3 => s.params.kind = FractalKind::BurningShip,
            KeyCode::KeyP => {
                let i = Palette::ALL
                    .iter()
                    .position(|p| *p == s.palette)
                    .unwrap_or(0);
                s.palette = Palette::ALL[(i + 1) % Palette::ALL.len()];
            }
            KeyCode::Equal | KeyCode::NumpadAdd => {
                s.params.max_iter = (s.params.max_iter * 5 / 4).clamp(16, 100_000)
            }
            KeyCode::Minus | KeyCode::NumpadSubtract => {
                s.params.max_iter = (s.params.max_iter * 4 / 5).clamp(16, 100_000)
            }
            KeyCode::BracketLeft => s.resolution_scale = (s.resolution_scale - 0.1).max(0.1),
            KeyCode::BracketRight => s.resolution_scale = (s.resolution_scale + 0.1).min(2.0),
            KeyCode::KeyI => s.interior_check = !s.interior_check,
            KeyCode::KeyH => s.coloring = s.coloring.toggled(),
            KeyCode::KeyF => {
                s.precision = match s.precision {
                    PrecisionMode::Auto => PrecisionMode::F32,
                    PrecisionMode::F32 => PrecisionMode::Df64,
                    PrecisionMode::Df64 => PrecisionMode::Perturbation,
                    PrecisionMode::Perturbation | PrecisionMode::PerturbationExp => {
                        PrecisionMode::Auto
                    }
                }
            }
            KeyCode::KeyR => {
                s.exact_center = None;
                s.params.view = if matches!(s.params.kind, FractalKind::Mandelbrot) {
                    View::HOME
                } else {
                    View {
                        center: (0.0, 0.0),
                        width: 3.5,
                    }
                };
                s.resolution_scale = 1.0;
            }
            KeyCode::KeyS => {
                let stem = format!(
                    "fractal-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_secs()
                );
                let path = format!("{stem}.png");
                // the exact view beside it: `--view "$(cat fractal-….view)"` returns there
                let view = s.deep_view().to_string();
                match std::fs::write(format!("{stem}.view"), format!("{view}\n")) {
                    Ok(()) => info!("saving screenshot to {path}, view {view} to {stem}.view"),
                    Err(e) => warn!("could not save the view to {stem}.view: {e}"),
                }
                commands
                    .spawn(Screenshot::primary_window())
                    .observe(save_to_disk(path));
            }
            _ => {}
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "a system's inputs")]
fn update_title(
    mut window: Single<&mut Window, With<PrimaryWindow>>,
    settings: Res<FractalSettings>,
    stats: Res<FractalFrameStats>,
    status: Res<GpuPassStatus>,
    orbit: Res<ReferenceOrbitStatus>,
    tracker: Res<PerfTracker>,
    time: Res<Time<Real>>,
    mut next: Local<Duration>,
) {
    perf_scope!("explorer.title");
    if time.elapsed() < *next {
        return;
    }
    *next = time.elapsed() + Duration::from_millis(250);
    let size = settings.render_size();
    let precision = settings.precision();
    let limit = precision.min_width(settings.center_magnitude(), size.x);
    let depth = if settings.params.view.width < limit {
        format!(" — beyond the {} limit", precision.name())
    } else {
        String::new()
    };
    let reference = match (precision.is_perturbation(), orbit.ready) {
        (false, _) => String::new(),
        (true, true) => format!(
            ", orbit {} bits {:.0} s old",
            orbit.precision_bits, orbit.age_s
        ),
        (true, false) => ", computing the reference orbit…".into(),
    };
    let title = match &*status {
        GpuPassStatus::Failed(e) => format!("rfm_perf fractal explorer — shader error: {e}"),
        GpuPassStatus::Compiling => "rfm_perf fractal explorer — compiling shader…".into(),
        _ => format!(
            "{}{} — zoom {:.2e} ({}{reference}, limit {:.0e}{depth}) — {} iter max, {:.1} it/px ({:.1} run, interior checks {}) — {}×{} — {:.0} FPS — F12 dashboard",
            settings.params.kind.name(),
            if settings.coloring == Coloring::Cost {
                " cost heatmap"
            } else {
                ""
            },
            settings.zoom(),
            precision.name(),
            limit,
            settings.params.max_iter,
            stats.iterations_per_pixel(),
            stats.iterations_computed as f64 / stats.pixels.max(1) as f64,
            if settings.interior_check { "on" } else { "off" },
            size.x,
            size.y,
            tracker.get_metric(names::FRAME_FPS).unwrap_or(0.0),
        ),
    };
    if window.title != title {
        window.title = title;
    }
}

fn script(
    mut commands: Commands,
    mut script: ResMut<Script>,
    status: Res<GpuPassStatus>,
    mut exit: MessageWriter<AppExit>,
    visibility: Option<ResMut<rfm_perf::ui::DashboardVisibility>>,
    #[cfg(feature = "dashboard")] dashboard: Option<ResMut<rfm_perf::ui::DashboardUi>>,
) {
    script.frame += 1;
    // `--dashboard --heatmap`: the GPU cost window where the timeline would be
    #[cfg(feature = "dashboard")]
    if script.frame == 1
        && script.open_dashboard
        && script.heatmap
        && let Some(mut ui) = dashboard
    {
        ui.open.gpu_cost = true;
        ui.open.timeline = false;
    }
    #[cfg(not(feature = "dashboard"))]
    if script.frame == 1 && script.open_dashboard {
        warn!("--dashboard: this build has no `dashboard` feature");
    }
    if script.frame == 1
        && script.open_dashboard
        && let Some(mut v) = visibility
    {
        v.visible = true;
    }
    if script.exit_after == 0 {
        return;
    }
    if script.frame == script.exit_after {
        if status.is_error() {
            error!("fractal pass failed: {status:?}");
            exit.write(AppExit::error());
            return;
        }
        screenshot::finish(&mut commands, &mut exit, script.screenshot.clone());
    }
    // a screenshot that never arrives must not hang a test
    if script.frame > script.exit_after + 600 {
        exit.write(AppExit::error());
    }
}
