//! GPU tests of the fractal pass, on whatever adapter wgpu finds (lavapipe on CI:
//! `WGPU_BACKEND=vulkan WGPU_ADAPTER_NAME=llvmpipe`). A render app per process and no test
//! harness (`harness = false`): `main` runs the checks in order and fails with a non-zero exit.
//! Sub-runs that need a fresh render app (broken shader, headless benchmark) re-execute this
//! binary with `--child <name>`.
//!
//! PNGs of the shallow and deep views land in `$CARGO_TARGET_TMPDIR` for a human to look at.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use bevy::math::UVec2;
use rfm_perf::fractal::df64::Df64;
use rfm_perf::fractal::gpu::{
    Coloring, FractalFrameStats, FractalGpuPlugin, FractalSettings, PrecisionMode, ResultsLayout,
    df64_orbit_selftest, df64_selftest,
};
use rfm_perf::fractal::{FractalKind, FractalParams, Precision, View, cpu};
use rfm_perf::headless::{
    BenchmarkOptions, BenchmarkReport, HeadlessError, headless_app, headless_app_with, read_image,
    read_results, render_device, run_benchmark, save_png,
};
use rfm_perf::{
    COST_TILE_SIZE, EscapeHistogram, GpuPassStatus, PassCost, PerformanceTracker, heat_color,
    heat_position,
};

const SIZE: u32 = 256;

#[cfg(feature = "api")]
#[path = "gpu/browser.rs"]
mod browser;
#[path = "gpu/deep.rs"]
mod deep;

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Whether wgpu finds any adapter at all; the reason when it does not.
fn probe_adapter() -> Result<String, String> {
    let instance = wgpu_instance();
    let adapter =
        bevy::tasks::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .map_err(|e| format!("no GPU adapter: {e}"))?;
    let info = adapter.get_info();
    Ok(format!("{} ({:?})", info.name, info.backend))
}

fn wgpu_instance() -> wgpu::Instance {
    use wgpu::{Backends, Instance, InstanceDescriptor};
    let mut desc = InstanceDescriptor::new_without_display_handle_from_env();
    if std::env::var_os("WGPU_BACKEND").is_none() {
        desc.backends = Backends::all();
    }
    Instance::new(desc)
}

struct Check {
    failures: Vec<String>,
}

impl Check {
    fn expect(&mut self, ok: bool, what: String) {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            self.failures.push(what);
        }
    }
}

fn settings(
    kind: FractalKind,
    view: View,
    max_iter: u32,
    precision: PrecisionMode,
) -> FractalSettings {
    FractalSettings {
        params: FractalParams {
            kind,
            view,
            max_iter,
        },
        precision,
        output_size: UVec2::splat(SIZE),
        ..Default::default()
    }
}

fn compare(
    app: &mut bevy::app::App,
    check: &mut Check,
    name: &str,
    s: FractalSettings,
    required: Option<f64>,
) -> Option<(cpu::IterationImage, Vec<u32>)> {
    *app.world_mut().resource_mut::<FractalSettings>() = s.clone();
    let gpu = match read_results(app, 600) {
        Ok(r) => r,
        Err(e) => {
            check.expect(false, format!("{name}: GPU result: {e}"));
            return None;
        }
    };
    let reference = cpu::render(&s.params, SIZE, SIZE);
    let same = gpu
        .counts
        .iter()
        .zip(&reference.counts)
        .filter(|(a, b)| a.abs_diff(**b) <= 1)
        .count() as f64
        / reference.counts.len() as f64;
    let gpu_sum: u64 = gpu.counts.iter().map(|&c| u64::from(c)).sum();
    let msg = format!(
        "{name}: {:.2} % of pixels within ±1 iteration of the f64 CPU reference ({:?}; mean {:.1} vs {:.1} iterations/pixel)",
        same * 100.0,
        s.precision(),
        gpu_sum as f64 / gpu.counts.len().max(1) as f64,
        reference.total_iterations as f64 / reference.counts.len().max(1) as f64,
    );
    match required {
        Some(min) => check.expect(same >= min, format!("{msg}, need ≥ {:.1} %", min * 100.0)),
        None => println!("info {msg} (chaotic region: reported, not asserted)"),
    }
    // the exact 64-bit counter equals the sum of the GPU's own per-pixel counts
    check.expect(
        gpu.iterations == gpu_sum,
        format!(
            "{name}: complexity counter {} equals the sum of per-pixel counts {gpu_sum}",
            gpu.iterations
        ),
    );
    if required.is_some() {
        let rel = (gpu.iterations as f64 - reference.total_iterations as f64).abs()
            / reference.total_iterations.max(1) as f64;
        check.expect(
            rel <= 0.005,
            format!(
                "{name}: complexity {} vs CPU reference {} (differ by {:.3} %, need ≤ 0.5 %)",
                gpu.iterations,
                reference.total_iterations,
                rel * 100.0
            ),
        );
        let escaped = gpu
            .counts
            .iter()
            .filter(|&&c| c < s.params.max_iter)
            .count() as u64;
        check.expect(
            gpu.escaped == escaped,
            format!("{name}: escaped counter {} = {escaped}", gpu.escaped),
        );
    }
    // the histogram holds exactly the escaped pixels' counts; the tiles, all computed work
    let histogram = gpu.histogram(s.params.max_iter);
    check.expect(
        histogram == EscapeHistogram::from_counts(&gpu.counts, s.params.max_iter),
        format!("{name}: the escape histogram buckets the per-pixel counts exactly"),
    );
    let tiles = gpu.tiles(ResultsLayout::new(UVec2::splat(SIZE)));
    check.expect(
        tiles.total() == gpu.iterations_computed,
        format!(
            "{name}: the cost tiles add up to the computed iterations ({} = {})",
            tiles.total(),
            gpu.iterations_computed
        ),
    );
    Some((reference, gpu.counts))
}

fn run_parent() -> ExitCode {
    match probe_adapter() {
        Ok(adapter) => println!("adapter: {adapter}"),
        Err(reason) => {
            println!("SKIPPED: {reason}");
            return ExitCode::SUCCESS;
        }
    }
    let mut check = Check {
        failures: Vec::new(),
    };
    let tracker = PerformanceTracker::new();
    let mut app = headless_app(
        settings(
            FractalKind::Mandelbrot,
            View::HOME,
            2000,
            PrecisionMode::Auto,
        ),
        tracker.clone(),
    );

    // 1. df64 arithmetic on its own: random add/mul vs f64
    let (device, queue) = render_device(&app).expect("render device");
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let pairs: Vec<(Df64, Df64)> = (0..4096)
        .map(|_| {
            let a = (rnd() - 0.5) * 4.0;
            let b = (rnd() - 0.5) * 4.0;
            (Df64::from_f64(a), Df64::from_f64(b))
        })
        .collect();
    match df64_selftest(&device, &queue, &pairs) {
        Ok(out) => {
            let (mut worst_add, mut worst_mul, mut same_as_cpu) = (0f64, 0f64, 0usize);
            for ((a, b), (sum, prod)) in pairs.iter().zip(&out) {
                let (x, y) = (a.to_f64(), b.to_f64());
                worst_add = worst_add.max((sum.to_f64() - (x + y)).abs() / (x + y).abs().max(1e-3));
                worst_mul = worst_mul.max((prod.to_f64() - x * y).abs() / (x * y).abs().max(1e-6));
                same_as_cpu += usize::from(*sum == *a + *b && *prod == *a * *b);
            }
            check.expect(
                worst_add < 6e-14 && worst_mul < 6e-14,
                format!(
                    "df64 on the GPU: worst relative error add {worst_add:.2e}, mul {worst_mul:.2e} (need < 6e-14); {same_as_cpu}/{} bit-identical to the CPU df64",
                    pairs.len()
                ),
            );
        }
        Err(e) => check.expect(false, format!("df64 self-test: {e}")),
    }

    // 1b. the whole df64 iteration, not only single operations: 12 steps of z² + c vs the CPU
    let points: Vec<(Df64, Df64)> = (0..1024)
        .map(|_| {
            let (r, t) = (rnd().sqrt() * 0.6, rnd() * std::f64::consts::TAU);
            (
                Df64::from_f64(-0.25 + r * t.cos()),
                Df64::from_f64(r * t.sin()),
            )
        })
        .collect();
    match df64_orbit_selftest(&device, &queue, &points, 12) {
        Ok(out) => {
            let mut worst = 0f64;
            for ((cr, ci), (x, y)) in points.iter().zip(&out) {
                let (mut a, mut b) = (Df64::ZERO, Df64::ZERO);
                for _ in 0..12 {
                    let ab = a * b;
                    let na = a.sqr() - b.sqr() + *cr;
                    b = ab + ab + *ci;
                    a = na;
                }
                // escaped orbits blow up: compare bounded ones, relative to |z|
                let mag = a.to_f64().hypot(b.to_f64());
                if mag < 2.0 {
                    let d = (x.to_f64() - a.to_f64()).hypot(y.to_f64() - b.to_f64());
                    worst = worst.max(d / mag.max(0.25));
                }
            }
            check.expect(
                worst < 1e-11,
                format!("df64 orbit on the GPU (12 steps, bounded points of 1024): worst relative deviation from the CPU df64 {worst:.2e} (need < 1e-11; an optimizer-broken df64 drifts ~1e-7)"),
            );
        }
        Err(e) => check.expect(false, format!("df64 orbit self-test: {e}")),
    }

    // 2. shallow f32 view, the whole set
    let shallow = settings(
        FractalKind::Mandelbrot,
        View::HOME,
        2000,
        PrecisionMode::Auto,
    );
    compare(
        &mut app,
        &mut check,
        "shallow mandelbrot",
        shallow.clone(),
        Some(0.995),
    );
    match read_image(&mut app, 120) {
        Ok(img) => {
            let dark = img
                .data
                .as_ref()
                .map_or(0, |d| d.chunks(4).filter(|p| p[..3] == [0, 0, 0]).count());
            check.expect(
                dark > 0 && dark < (SIZE * SIZE) as usize,
                format!("shallow image has both set (black) and coloured pixels ({dark} black)"),
            );
            let path = out_dir().join("fractal_shallow.png");
            check.expect(
                save_png(img, &path).is_ok(),
                format!("saved {}", path.display()),
            );
        }
        Err(e) => check.expect(false, format!("shallow image: {e}")),
    }

    // 3. other fractals, f32
    // f32 against f64 differs where orbits are sensitive (Julia dust, the ship's filaments):
    // these kinds are held to 95 %; the Mandelbrot view above carries the 99.5 % requirement
    for kind in [FractalKind::ALL[1], FractalKind::BurningShip] {
        let view = View {
            center: if kind == FractalKind::BurningShip {
                (-0.4, -0.6)
            } else {
                (0.0, 0.0)
            },
            width: 3.2,
        };
        compare(
            &mut app,
            &mut check,
            kind.name(),
            settings(kind, view, 500, PrecisionMode::Auto),
            Some(0.95),
        );
    }

    // 4. deep views in a non-chaotic region: df64 (sharp to ~6.4e-12 at 256 px around 1.75)
    // and perturbation, which `auto` takes for a mostly escaping view like this one
    for (width, mode, expected) in [
        (1e-10, PrecisionMode::Df64, Precision::Df64),
        (1e-10, PrecisionMode::Auto, Precision::Perturbation),
        (1e-12, PrecisionMode::Auto, Precision::Perturbation),
    ] {
        let s = settings(
            FractalKind::Mandelbrot,
            View {
                center: (-1.7499, 0.0),
                width,
            },
            300,
            mode,
        );
        check.expect(
            s.precision() == expected,
            format!("width {width:e}, {mode:?}: {}", expected.name()),
        );
        compare(
            &mut app,
            &mut check,
            &format!("deep {width:e} {}", expected.name()),
            s,
            Some(0.98),
        );
        check.expect(
            app.world().resource::<FractalSettings>().precision() == expected,
            format!(
                "width {width:e}, {mode:?}: still {} after its frames",
                expected.name()
            ),
        );
    }
    match read_image(&mut app, 120) {
        Ok(img) => {
            let path = out_dir().join("fractal_deep.png");
            check.expect(
                save_png(img, &path).is_ok(),
                format!("saved {}", path.display()),
            );
        }
        Err(e) => check.expect(false, format!("deep image: {e}")),
    }
    // the same deep view forced to f32 pixelates: far fewer distinct counts
    let forced = settings(
        FractalKind::Mandelbrot,
        View {
            center: (-1.7499, 0.0),
            width: 1e-10,
        },
        300,
        PrecisionMode::F32,
    );
    if let Some((_, counts)) = compare(&mut app, &mut check, "deep 1e-10 forced f32", forced, None)
    {
        let mut distinct = counts.clone();
        distinct.sort_unstable();
        distinct.dedup();
        println!(
            "info forced f32 at 1e-10: {} distinct counts",
            distinct.len()
        );
    }

    // 5. chaotic region near a Misiurewicz point: report only
    let chaotic = settings(
        FractalKind::Mandelbrot,
        View {
            center: (-0.10109636384562, 0.95628651080914),
            width: 1e-10,
        },
        1000,
        PrecisionMode::Auto,
    );
    compare(&mut app, &mut check, "Misiurewicz 1e-10", chaotic, None);

    // 6. metrics reached the tracker
    let stats = *app.world().resource::<FractalFrameStats>();
    check.expect(
        stats.frames > 0 && stats.pixels == u64::from(SIZE * SIZE),
        format!("frame stats arrive by readback: {stats:?}"),
    );
    for name in [
        "fractal.iterations",
        "fractal.iterations_computed",
        "fractal.iterations_per_pixel",
        "fractal.escaped_ratio",
        "fractal.pixels",
        "fractal.max_iter",
        "fractal.zoom",
    ] {
        check.expect(
            tracker.get_metric(name).is_some(),
            format!("metric {name} recorded"),
        );
    }
    interior_checks(&mut app, &mut check);
    pass_cost(&mut app, &tracker, &mut check);
    let info = app.world().resource::<rfm_perf::GpuSummary>().clone();
    println!("info GPU: {info:?}");
    if let Some(store) = app
        .world()
        .get_resource::<bevy::diagnostic::DiagnosticsStore>()
    {
        let render: Vec<String> = store
            .iter()
            .map(|d| format!("{}={:?}", d.path(), d.value()))
            .filter(|p| p.starts_with("render"))
            .collect();
        println!("info render diagnostics: {render:?}");
    }
    if info.timestamp_queries {
        check.expect(
            tracker
                .get_metric("render.fractal_gpu_ms")
                .is_some_and(|v| v > 0.0),
            "render.fractal_gpu_ms recorded (adapter has timestamp queries)".into(),
        );
    } else {
        check.expect(
            info.gpu_time_missing_reason.is_some()
                && tracker.get_metric("render.fractal_gpu_ms").is_none(),
            "no timestamp queries: GPU time absent, with a reason".into(),
        );
    }
    drop(app);

    // 7. a shader that does not compile → error status, not a panic (fresh process)
    // 8. headless benchmark: 60 frames, report parses with timings (fresh process)
    let me = std::env::current_exe().expect("current exe");
    let children: &[&str] = if cfg!(feature = "api") {
        &[
            "broken-shader",
            "deep",
            "benchmark",
            "api-gpu",
            "no-fractal",
            "adaptive",
            // after "benchmark": opens its report
            "browser",
        ]
    } else {
        &[
            "broken-shader",
            "deep",
            "benchmark",
            "no-fractal",
            "adaptive",
        ]
    };
    for &child in children {
        let status = Command::new(&me).args(["--child", child]).status();
        check.expect(
            status.as_ref().is_ok_and(|s| s.success()),
            format!("child check `{child}`: {status:?}"),
        );
    }

    if check.failures.is_empty() {
        println!("all GPU checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{} GPU check(s) failed:", check.failures.len());
        for f in &check.failures {
            println!("  {f}");
        }
        ExitCode::FAILURE
    }
}

/// The interior checks change no pixel: counts (and the image of the home view) equal those
/// with the checks off, pixel by pixel, in f32 and df64; and they skip work where the view has
/// interior.
fn interior_checks(app: &mut bevy::app::App, check: &mut Check) {
    let views = [
        ("home f32", FractalKind::Mandelbrot, View::HOME, 1000, true),
        (
            "seahorse f32",
            FractalKind::Mandelbrot,
            View {
                center: (-0.7436, 0.1318),
                width: 0.01,
            },
            2000,
            false,
        ),
        (
            "julia f32 (dust: no interior)",
            FractalKind::ALL[1],
            View {
                center: (0.0, 0.0),
                width: 3.2,
            },
            500,
            false,
        ),
        (
            "julia f32 (Douady rabbit: interior found by periodicity)",
            FractalKind::Julia {
                re: -0.123,
                im: 0.745,
            },
            View {
                center: (0.0, 0.0),
                width: 3.2,
            },
            1000,
            true,
        ),
        (
            "deep df64, inside the period-3 component",
            FractalKind::Mandelbrot,
            View {
                center: (-1.7549, 0.0),
                width: 1e-7,
            },
            2000,
            true,
        ),
        (
            "deep df64, boundary",
            FractalKind::Mandelbrot,
            View {
                center: (-1.7499, 0.0),
                width: 1e-10,
            },
            300,
            false,
        ),
    ];
    for (name, kind, view, max_iter, interior_heavy) in views {
        // the df64 views name their arithmetic: `auto` may take perturbation there
        let mode = if name.starts_with("deep df64") {
            PrecisionMode::Df64
        } else {
            PrecisionMode::Auto
        };
        let mut s = settings(kind, view, max_iter, mode);
        let run = |app: &mut bevy::app::App, s: &FractalSettings| {
            *app.world_mut().resource_mut::<FractalSettings>() = s.clone();
            read_results(app, 600)
        };
        s.interior_check = false;
        let off = run(app, &s);
        let off_image = (name == "home f32").then(|| read_image(app, 120));
        s.interior_check = true;
        let on = run(app, &s);
        let (Ok(off), Ok(on)) = (off, on) else {
            check.expect(false, format!("interior checks, {name}: no GPU result"));
            continue;
        };
        let differ = off
            .counts
            .iter()
            .zip(&on.counts)
            .filter(|(a, b)| a != b)
            .count();
        check.expect(
            differ == 0 && off.iterations == on.iterations && off.escaped == on.escaped,
            format!(
                "interior checks, {name} ({:?}): {differ} pixels differ from the checks off (need 0); computed {} of {} nominal iterations ({:.1} %)",
                s.precision(),
                on.iterations_computed,
                on.iterations,
                100.0 * on.iterations_computed as f64 / on.iterations.max(1) as f64
            ),
        );
        check.expect(
            off.iterations_computed == off.iterations,
            format!("interior checks off, {name}: every nominal iteration is computed"),
        );
        if interior_heavy {
            check.expect(
                on.iterations_computed * 2 < on.iterations,
                format!("interior checks, {name}: skip more than half the work"),
            );
        }
        if mode == PrecisionMode::Df64 && interior_heavy {
            // `auto` starts deep views in perturbation, whose interior check is the
            // cardioid/bulb test alone; a frame that is mostly interior sends it to df64
            s.precision = PrecisionMode::Auto;
            let first = run(app, &s).map(|_| app.world().resource::<FractalSettings>().precision());
            // the choice follows the frame totals read back, a frame or two later
            let mut settled = read_results(app, 600);
            for _ in 0..4 {
                if app.world().resource::<FractalSettings>().precision() == Precision::Df64 {
                    break;
                }
                settled = read_results(app, 600);
            }
            let now = app.world().resource::<FractalSettings>().precision();
            check.expect(
                first.is_ok()
                    && now == Precision::Df64
                    && settled.is_ok_and(|r| r.iterations_computed * 2 < r.iterations),
                format!(
                    "auto, {name}: after its first frame ({:?}) it uses {now:?} and skips more than half the work",
                    first.ok()
                ),
            );
        }
        if let Some(Ok(a)) = off_image {
            match read_image(app, 120) {
                Ok(b) => check.expect(
                    a.data == b.data,
                    format!("interior checks, {name}: the image is the same, pixel by pixel"),
                ),
                Err(e) => check.expect(false, format!("interior checks, {name}: image: {e}")),
            }
        }
    }
}

/// The escape histogram and cost tiles at a size that is no multiple of a tile (partial tiles
/// and workgroups at the right and bottom), published as [`PassCost`] and metrics; the heatmap
/// colours each pixel by its cost.
fn pass_cost(app: &mut bevy::app::App, tracker: &PerformanceTracker, check: &mut Check) {
    let size = UVec2::new(200, 120);
    let layout = ResultsLayout::new(size);
    let mut s = FractalSettings {
        output_size: size,
        interior_check: false,
        ..settings(
            FractalKind::Mandelbrot,
            View::HOME,
            500,
            PrecisionMode::Auto,
        )
    };
    *app.world_mut().resource_mut::<FractalSettings>() = s.clone();
    let off = match read_results(app, 600) {
        Ok(r) => r,
        Err(e) => return check.expect(false, format!("pass cost: GPU result: {e}")),
    };
    // without the checks every pixel computes its count: each tile is the sum of its pixels
    let mut expected = vec![0u64; (layout.tiles.x * layout.tiles.y) as usize];
    for (i, &n) in off.counts.iter().enumerate() {
        let (x, y) = (i as u32 % size.x, i as u32 / size.x);
        expected[((y / COST_TILE_SIZE) * layout.tiles.x + x / COST_TILE_SIZE) as usize] +=
            u64::from(n);
    }
    let tiles = off.tiles(layout);
    check.expect(
        (tiles.columns, tiles.rows) == (7, 4) && tiles.iterations == expected,
        format!(
            "pass cost: {}×{} tiles of 200×120, each the sum of its pixels' iterations (partial edge tiles included)",
            tiles.columns, tiles.rows
        ),
    );
    check.expect(
        off.histogram(500) == EscapeHistogram::from_counts(&off.counts, 500)
            && off.histogram(500).escaped() == off.escaped,
        "pass cost: the histogram counts every escaped pixel in its bucket".into(),
    );
    // the heatmap: log(1 + cost) / log(1 + limit) through the ramp, here cost = count
    s.coloring = Coloring::Cost;
    *app.world_mut().resource_mut::<FractalSettings>() = s.clone();
    match read_image(app, 120) {
        Ok(image) => {
            let close = image
                .data
                .as_deref()
                .unwrap_or(&[])
                .chunks_exact(4)
                .zip(&off.counts)
                .filter(|(px, n)| {
                    // the texture holds linear 8-bit values: within 1.5 of its steps (the dark
                    // end's step is several sRGB levels) or 2 sRGB levels (the bright end's)
                    let want = heat_color(heat_position(**n, 500));
                    (0..3).all(|c| {
                        px[c].abs_diff(want[c]) <= 2
                            || (linear_255(px[c]) - linear_255(want[c])).abs() <= 1.5
                    })
                })
                .count();
            check.expect(
                close == off.counts.len(),
                format!(
                    "heatmap: {close} of {} pixels show the ramp colour of their cost",
                    off.counts.len()
                ),
            );
        }
        Err(e) => check.expect(false, format!("heatmap image: {e}")),
    }
    let cost = app.world().resource::<PassCost>().clone();
    check.expect(
        cost.heatmap && cost.tiles.total() == off.iterations_computed && cost.max_iter == 500,
        format!(
            "PassCost follows the readback (heatmap {}, {} tiles, total {})",
            cost.heatmap,
            cost.tiles.iterations.len(),
            cost.tiles.total()
        ),
    );
    for name in [
        rfm_perf::fractal::FRACTAL_ESCAPE_P50,
        rfm_perf::fractal::FRACTAL_ESCAPE_P99,
        rfm_perf::fractal::FRACTAL_COST_HOTTEST_SHARE,
    ] {
        check.expect(
            tracker.get_metric(name).is_some(),
            format!("metric {name} recorded"),
        );
    }
    let mut back = app.world_mut().resource_mut::<FractalSettings>();
    back.output_size = UVec2::splat(SIZE);
    back.coloring = Coloring::Palette;
}

/// An sRGB 8-bit level as a linear value on a 0..=255 scale.
fn linear_255(srgb: u8) -> f64 {
    let c = f64::from(srgb) / 255.0;
    255.0
        * if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
}

/// A 64 × 64 headless app for a child check: no dashboard, no sampling, its own tracker.
fn child_app(perf: rfm_perf::RfmPerfPlugin, pass: FractalGpuPlugin) -> bevy::app::App {
    headless_app_with(
        FractalSettings {
            output_size: UVec2::splat(64),
            ..Default::default()
        },
        rfm_perf::RfmPerfPlugin {
            dashboard: false,
            system_sampling: false,
            ..perf.with_tracker(PerformanceTracker::new())
        },
        pass,
    )
}

fn child_broken_shader() -> ExitCode {
    let mut app = child_app(
        rfm_perf::RfmPerfPlugin::new().with_api(false),
        FractalGpuPlugin {
            shader_source:
                "@compute @workgroup_size(8, 8, 1) fn fractal_f32() { let x: u32 = oops; }".into(),
        },
    );
    match read_results(&mut app, 300) {
        Err(HeadlessError::PassFailed(msg)) => {
            let status = app.world().resource::<GpuPassStatus>().clone();
            println!("ok   broken shader → {status:?}");
            if status.is_error() && !msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        other => {
            println!("FAIL broken shader gave {other:?}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `app` to its first GPU result and returns the address its API serves on; `None` (with
/// a FAIL line saying why) when there is no result or no server.
#[cfg(feature = "api")]
fn serving(app: &mut bevy::app::App) -> Option<std::net::SocketAddr> {
    if let Err(e) = read_results(app, 300) {
        println!("FAIL no GPU result: {e}");
        return None;
    }
    let status = app.world().resource::<rfm_perf::api::ApiStatus>();
    let addr = status.address();
    if addr.is_none() {
        println!("FAIL API not running: {status:?}");
    }
    addr
}

/// The API's `/api/performance/system` names the adapter the pass runs on, and its status.
#[cfg(feature = "api")]
fn child_api_gpu() -> ExitCode {
    let mut app = child_app(
        rfm_perf::RfmPerfPlugin {
            update_interval: std::time::Duration::from_millis(50),
            ..rfm_perf::RfmPerfPlugin::new().with_api_config(rfm_perf::ApiConfig {
                bind: "127.0.0.1:0".parse().expect("addr"),
                ..Default::default()
            })
        },
        FractalGpuPlugin::default(),
    );
    let Some(addr) = serving(&mut app) else {
        return ExitCode::FAILURE;
    };
    // let a publish interval pass
    let until = std::time::Instant::now() + std::time::Duration::from_millis(200);
    while std::time::Instant::now() < until {
        app.update();
    }
    let url = format!("http://{addr}/api/performance/system");
    let body: serde_json::Value = match ureq::get(&url).call() {
        Ok(mut r) => r.body_mut().read_json().unwrap_or_default(),
        Err(e) => {
            println!("FAIL GET {url}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let adapter = body["gpu"]["adapter"].as_str().unwrap_or("");
    let state = body["fractal_pass"]["state"].as_str().unwrap_or("");
    let ok =
        !adapter.is_empty() && state == "running" && body["gpu"]["timestamp_queries"].is_boolean();
    println!(
        "{} /system gpu: adapter {adapter:?}, pass {state:?}",
        if ok { "ok  " } else { "FAIL" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn child_benchmark() -> ExitCode {
    let report_path = out_dir().join("headless_report.json");
    let _ = std::fs::remove_file(&report_path);
    let options = BenchmarkOptions {
        frames: 60,
        width: 128,
        height: 128,
        max_iter: 300,
        report: Some(report_path.clone()),
        ..Default::default()
    };
    if let Err(e) = run_benchmark(&options, |line| println!("     {line}")) {
        println!("FAIL benchmark: {e}");
        return ExitCode::FAILURE;
    }
    let parsed: Result<BenchmarkReport, _> = std::fs::read_to_string(&report_path)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()));
    match parsed {
        Ok(r) => {
            let timed = r.frame_ms.p50 > 0.0 || r.gpu_pass_ms.is_some_and(|g| g.p50 > 0.0);
            let paired = r.path.iter().filter(|f| f.gpu_ms.is_some()).count();
            // Bevy's spans (bevy-spans): its systems are scopes, each update is a frame of the
            // coverage; without them there are no `update` spans to measure
            let scopes = rfm_perf::get_performance_tracker().scope_stats();
            let bevy_system = scopes.iter().any(|s| s.name.starts_with("bevy_time::"))
                && scopes.iter().any(|s| s.name.as_ref() == "schedule: Update");
            let spans_ok = if cfg!(feature = "bevy-spans") {
                r.span_coverage.frames >= 30
                    && r.span_coverage.ratio().is_some_and(|c| c > 0.0 && c <= 1.0)
                    && bevy_system
            } else {
                r.span_coverage.frames == 0 && !bevy_system
            };
            let ok = spans_ok
                && r.frames == 60
                && r.path.len() == 60
                && timed
                && r.df64_frames + r.perturbation_frames > 0
                && r.iterations_per_s > 0.0
                // every measured frame's escaped pixels, at most 128² each
                && r.escape_histogram.as_ref().is_some_and(|h| {
                    h.counts.len() == h.edges.len()
                        && h.edges.len() > 32
                        && h.escaped() > 0
                        && h.escaped() <= 63 * 128 * 128
                })
                && r.cost_hottest_share.is_some_and(|c| c.p50 >= 10.0 && c.p50 <= 100.0)
                // what `rfm-perf compare` reads: schema, scenario, machine, per-metric series
                && r.run.schema_version == rfm_perf::REPORT_SCHEMA_VERSION
                && r.run.hardware.cores >= 1
                && !r.run.hardware.gpu_adapter.is_empty()
                && r.run.metrics["frame.wall_ms"].values.len() == 60
                && rfm_perf::RunReport::load(&report_path).is_ok()
                // with GPU timestamps, the cost model learnt most frames (each timing paired
                // with its own frame's cost by generation; a loaded machine delivers some
                // readbacks together, and those are not paired) and predicted them
                && (r.gpu_pass_ms.is_none()
                    || (paired >= 40
                        && r.cost_model.is_some_and(|c| {
                            c.scored >= 25 && c.mape.is_some_and(|m| m < 0.5)
                        })));
            println!(
                "{} benchmark report: {} frames, {} df64, {} perturbation, frame p50 {:.2} ms, GPU {:?}, {paired} frames paired with their timing, cost model {:?}, hottest tiles {:?}, histogram {:?}, span coverage {:?} (spans ok: {spans_ok})",
                if ok { "ok  " } else { "FAIL" },
                r.frames,
                r.df64_frames,
                r.perturbation_frames,
                r.frame_ms.p50,
                r.gpu_pass_ms,
                r.cost_model,
                r.cost_hottest_share.map(|c| c.p50),
                r.escape_histogram
                    .as_ref()
                    .map(|h| (h.edges.len(), h.escaped())),
                r.span_coverage
            );
            print!("{}", r.summary_table());
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("FAIL report does not parse: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Adaptive quality on the real pass: a 256×256 run along the zoom path at a frame rate its
/// default quality cannot hold. It steps down first, never leaves its bounds, records every
/// step and frame; how well it holds the budget is printed (the benchmark in BENCHMARKS.md
/// measures it — a shared machine's timing is no test).
fn child_adaptive() -> ExitCode {
    let options = BenchmarkOptions {
        frames: 150,
        width: 256,
        height: 256,
        max_iter: 1000,
        adaptive_fps: Some(40.0),
        ..Default::default()
    };
    let r = match run_benchmark(&options, |_| {}) {
        Ok(r) => r,
        Err(e) => {
            println!("FAIL adaptive benchmark: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(a) = &r.adaptive else {
        println!("FAIL no adaptive report");
        return ExitCode::FAILURE;
    };
    let fixed_over = r
        .path
        .iter()
        .filter(|f| f.resolution_scale == 1.0 && f.frame_ms > a.budget_ms)
        .count();
    let ok = a.steps.first().is_some_and(|s| {
        s.direction == rfm_perf::adaptive_quality::StepDirection::Down
            && s.measured_ms > a.budget_ms * 0.9
    }) && r.path.iter().all(|f| {
        (0.25 - 1e-9..=1.0 + 1e-9).contains(&f.resolution_scale)
            && (100..=1000).contains(&f.max_iter)
    }) && r.path.iter().any(|f| f.resolution_scale < 1.0)
        && a.steps.iter().all(|s| s.to != s.from)
        && r.run.scenario.contains("adaptive 40 FPS");
    println!(
        "{} adaptive: {} steps, {} reversals, {fixed_over} frames over budget at full scale; {}",
        if ok { "ok  " } else { "FAIL" },
        a.steps.len(),
        a.reversals,
        r.summary_table()
            .lines()
            .filter(|l| l.contains("adaptive") || l.contains("after the first"))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A render app with the pass but no fractal view (a plain 2D scene): none of the pass's
/// systems runs, so none of their scopes shows in the bottleneck table, and GPU utilization
/// comes from Bevy's own passes; once a view exists the pass's scopes all show.
fn child_no_fractal() -> ExitCode {
    const PASS_SCOPES: [&str; 3] = [
        "fractal.prepare",
        "render.fractal_bind_group",
        "render.fractal_encode",
    ];
    // the pass's scopes record into the global tracker (as `perf_scope!` does in any app)
    let tracker = rfm_perf::get_performance_tracker().clone();
    let mut app = headless_app(FractalSettings::default(), tracker.clone());
    app.world_mut().remove_resource::<FractalSettings>();
    // a plain 2D scene drawn into an image: Bevy's own passes, no fractal
    let target = {
        use bevy::render::render_resource::TextureFormat;
        let image =
            bevy::image::Image::new_target_texture(128, 128, TextureFormat::Rgba8UnormSrgb, None);
        app.world_mut()
            .resource_mut::<bevy::asset::Assets<bevy::image::Image>>()
            .add(image)
    };
    app.world_mut().spawn((
        bevy::camera::Camera2d,
        bevy::camera::RenderTarget::Image(target.into()),
    ));
    app.world_mut().spawn(bevy::sprite::Sprite::from_color(
        bevy::color::Color::WHITE,
        bevy::math::Vec2::splat(40.0),
    ));
    for _ in 0..30 {
        app.update();
    }
    let passes: Vec<String> = tracker
        .metrics()
        .iter()
        .map(|m| m.name.to_string())
        .filter(|n| rfm_perf::bridge::is_pass_gpu_time(n) && tracker.get_metric(n).is_some())
        .collect();
    let utilization = tracker.get_metric("gpu.utilization_pct");
    let scopes = tracker.scope_stats();
    let breakdown = rfm_perf::analysis::BreakdownInputs::gather(&tracker, &scopes).breakdown();
    let gpu_shares: Vec<String> = breakdown
        .shares
        .iter()
        .filter(|s| s.label.starts_with("GPU ") && s.ms > 0.0)
        .map(|s| format!("{} {:.3} ms", s.label, s.ms))
        .collect();
    let gpu_ok = !passes.is_empty()
        && utilization.is_some_and(|u| u > 0.0 && u <= 100.0)
        && gpu_shares
            .iter()
            .any(|s| s.starts_with("GPU main_transparent_pass_2d"));
    println!(
        "{} GPU utilization without a fractal: {utilization:?} % from {passes:?}; breakdown {gpu_shares:?}",
        if gpu_ok { "ok  " } else { "FAIL" }
    );
    let seen = |tracker: &PerformanceTracker| -> Vec<String> {
        tracker
            .scope_stats()
            .iter()
            .map(|s| s.name.to_string())
            .filter(|n| PASS_SCOPES.contains(&n.as_str()))
            .collect()
    };
    let without = seen(&tracker);
    app.insert_resource(FractalSettings {
        output_size: UVec2::new(64, 64),
        ..Default::default()
    });
    for _ in 0..10 {
        app.update();
    }
    let mut with = seen(&tracker);
    with.sort();
    let ok = gpu_ok && without.is_empty() && with.len() == PASS_SCOPES.len();
    println!(
        "{} no fractal view: pass scopes {without:?}; with one: {with:?}",
        if ok { "ok  " } else { "FAIL" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args
        .iter()
        .position(|a| a == "--child")
        .and_then(|i| args.get(i + 1))
    {
        Some(c) if c == "broken-shader" => child_broken_shader(),
        Some(c) if c == "benchmark" => child_benchmark(),
        Some(c) if c == "no-fractal" => child_no_fractal(),
        Some(c) if c == "adaptive" => child_adaptive(),
        Some(c) if c == "deep" => {
            let mut app = child_app(
                rfm_perf::RfmPerfPlugin::default(),
                FractalGpuPlugin::default(),
            );
            let mut check = Check { failures: vec![] };
            deep::perturbation_agrees_with_direct_iteration(&mut app, &mut check);
            if check.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        #[cfg(feature = "api")]
        Some(c) if c == "api-gpu" => child_api_gpu(),
        #[cfg(feature = "api")]
        Some(c) if c == "browser" => {
            browser::child_browser(&out_dir().join("headless_report.json"))
        }
        Some(other) => {
            println!("unknown child {other}");
            ExitCode::FAILURE
        }
        None => {
            // `cargo test -- --list` and filters: this binary has one test, "gpu"
            if args.iter().any(|a| a == "--list") {
                println!("gpu: test");
                return ExitCode::SUCCESS;
            }
            run_parent()
        }
    }
}
