//! The GPU fractal pass against the CPU reference on the same 256 × 256 views, in one run:
//! a shallow f32 view and a deep df64 view (the prototype views).
//!
//! - `gpu_frame`: one headless Bevy frame that renders the view and waits for the GPU
//!   (wall time: Bevy's frame overhead + upload + pass + readback);
//! - `gpu_pass`: the pass alone, from its own GPU timestamps (criterion's `iter_custom`);
//! - `cpu_lanes_all_cores` / `cpu_scalar_1_thread`: the CPU reference (f64; df64 for the deep view
//!   as `cpu_df64_all_cores`).
//!
//! Both sides iterate every pixel (interior checks off) so they do the same work. The
//! `fractal_interior` groups then measure the interior checks on vs off, GPU pass and CPU
//! reference, on the home view at 1280 × 800 and on an interior-heavy deep df64 view.
//!
//! Throughput is in iterations (criterion's "elem/s" = iterations per second; nominal
//! iterations, so a faster run of the same view shows as more iterations per second).
//! Run: `WGPU_BACKEND=vulkan WGPU_ADAPTER_NAME=llvmpipe cargo bench -p rfm_perf_benches --bench fractal_gpu`

use std::hint::black_box;
use std::time::Duration;

use bevy::math::UVec2;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfm_perf::fractal::gpu::{Coloring, FractalSettings, PrecisionMode};
use rfm_perf::fractal::{FractalParams, View, cpu};
use rfm_perf::headless::{headless_app, read_results};
use rfm_perf::{PerformanceTracker, names};

const SIZE: u32 = 256;

fn views() -> [(&'static str, FractalParams); 2] {
    [
        (
            "shallow_f32_home_max2000",
            FractalParams {
                view: View::HOME,
                max_iter: 2000,
                ..Default::default()
            },
        ),
        (
            "deep_df64_1e-12_max300",
            FractalParams {
                view: View {
                    center: (-1.7499, 0.0),
                    width: 1e-12,
                },
                max_iter: 300,
                ..Default::default()
            },
        ),
    ]
}

/// Mean GPU time of the pass over `iters` frames, from its own timestamps.
fn gpu_pass_time(app: &mut bevy::app::App, tracker: &PerformanceTracker, iters: u64) -> Duration {
    let before = tracker.get_history(names::RENDER_FRACTAL_GPU_MS).len();
    for _ in 0..iters {
        app.update();
    }
    // the last frames' timestamps arrive one or two frames later
    for _ in 0..3 {
        app.update();
    }
    let ms: Vec<f64> = tracker
        .get_history(names::RENDER_FRACTAL_GPU_MS)
        .into_iter()
        .skip(before)
        .map(|(_, v)| v)
        .collect();
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    Duration::from_secs_f64(mean / 1000.0 * iters as f64)
}

fn fractal_gpu(c: &mut Criterion) {
    let tracker = PerformanceTracker::new();
    let mut app = headless_app(
        FractalSettings {
            output_size: UVec2::splat(SIZE),
            precision: PrecisionMode::Auto,
            interior_check: false,
            ..Default::default()
        },
        tracker.clone(),
    );
    for (name, params) in views() {
        app.world_mut().resource_mut::<FractalSettings>().params = params;
        let gpu = read_results(&mut app, 600).expect("GPU result");
        let mut g = c.benchmark_group(format!("fractal_gpu/{name}"));
        g.throughput(Throughput::Elements(gpu.iterations));
        g.sample_size(20);
        g.measurement_time(Duration::from_secs(8));
        g.bench_function("gpu_frame", |b| b.iter(|| app.update()));
        g.bench_function("gpu_pass", |b| {
            b.iter_custom(|iters| gpu_pass_time(&mut app, &tracker, iters))
        });
        if params.view.width < 1e-6 {
            g.bench_function("cpu_df64_all_cores", |b| {
                b.iter(|| black_box(cpu::render_df64(&params, SIZE, SIZE)))
            });
        }
        g.bench_function("cpu_lanes_all_cores", |b| {
            b.iter(|| black_box(cpu::render(&params, SIZE, SIZE)))
        });
        g.bench_function("cpu_scalar_1_thread", |b| {
            b.iter(|| black_box(cpu::render_scalar(&params, SIZE, SIZE)))
        });
        g.finish();
    }
}

/// The interior checks on vs off, in the same run: GPU pass and CPU reference.
fn fractal_interior(c: &mut Criterion) {
    let cases = [
        (
            "home_1280x800_max1000",
            UVec2::new(1280, 800),
            FractalParams {
                view: View::HOME,
                max_iter: 1000,
                ..Default::default()
            },
        ),
        (
            "deep_df64_period3_interior_256_max2000",
            UVec2::splat(SIZE),
            FractalParams {
                view: View {
                    center: (-1.7549, 0.0),
                    width: 1e-7,
                },
                max_iter: 2000,
                ..Default::default()
            },
        ),
    ];
    for (name, size, params) in cases {
        let tracker = PerformanceTracker::new();
        let mut app = headless_app(
            FractalSettings {
                params,
                output_size: size,
                ..Default::default()
            },
            tracker.clone(),
        );
        let mut g = c.benchmark_group(format!("fractal_interior/{name}"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(8));
        for on in [false, true] {
            app.world_mut()
                .resource_mut::<FractalSettings>()
                .interior_check = on;
            let gpu = read_results(&mut app, 600).expect("GPU result");
            println!(
                "{name}, checks {}: GPU computed {} of {} nominal iterations",
                if on { "on" } else { "off" },
                gpu.iterations_computed,
                gpu.iterations
            );
            g.throughput(Throughput::Elements(gpu.iterations));
            let label = if on { "on" } else { "off" };
            g.bench_function(format!("gpu_pass_checks_{label}"), |b| {
                b.iter_custom(|iters| gpu_pass_time(&mut app, &tracker, iters))
            });
            g.bench_function(format!("cpu_lanes_checks_{label}"), |b| {
                b.iter(|| {
                    black_box(if on {
                        cpu::render_checked(&params, size.x, size.y)
                    } else {
                        cpu::render(&params, size.x, size.y)
                    })
                })
            });
        }
        g.finish();
    }
}

/// The cost heatmap's colouring vs the palette, same view, same run (the escape histogram and
/// the cost tiles are summed in both; compare `fractal_interior/home…/gpu_pass_checks_on`
/// across commits for their cost).
fn fractal_cost(c: &mut Criterion) {
    let tracker = PerformanceTracker::new();
    let mut app = headless_app(
        FractalSettings {
            params: FractalParams {
                view: View::HOME,
                max_iter: 1000,
                ..Default::default()
            },
            output_size: UVec2::new(1280, 800),
            ..Default::default()
        },
        tracker.clone(),
    );
    let mut g = c.benchmark_group("fractal_cost/home_1280x800_max1000");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for coloring in [Coloring::Palette, Coloring::Cost] {
        app.world_mut().resource_mut::<FractalSettings>().coloring = coloring;
        read_results(&mut app, 600).expect("GPU result");
        let label = match coloring {
            Coloring::Palette => "palette",
            Coloring::Cost => "heatmap",
        };
        g.bench_function(format!("gpu_pass_{label}"), |b| {
            b.iter_custom(|iters| gpu_pass_time(&mut app, &tracker, iters))
        });
    }
    g.finish();
}

/// Deep zoom: perturbation (f32 and extended-exponent deltas) against the df64 pass on the same
/// view at width ~1e-10 (the seahorse valley view the GPU test checks), then perturbation alone
/// at 1e-50 and 1e-100 (c = i), all 256 × 256, interior checks off. The reference orbit is
/// computed off the frame; its CPU time is printed.
fn fractal_deep(c: &mut Criterion) {
    let cases: [(&str, &str, u32, &[PrecisionMode]); 3] = [
        (
            "seahorse_9.3e-11_max2000",
            "-0.7440443137107649816439235483860523,0.0974394119664793829224577868386249,9.313225746154786e-11",
            2000,
            &[
                PrecisionMode::Df64,
                PrecisionMode::Perturbation,
                PrecisionMode::PerturbationExp,
            ],
        ),
        (
            "c_i_1e-50_max2000",
            "0,1,1e-50",
            2000,
            &[PrecisionMode::Perturbation],
        ),
        (
            "c_i_1e-100_max2000",
            "0,1,1e-100",
            2000,
            &[PrecisionMode::Perturbation],
        ),
    ];
    let tracker = PerformanceTracker::new();
    let mut app = headless_app(
        FractalSettings {
            output_size: UVec2::splat(SIZE),
            interior_check: false,
            ..Default::default()
        },
        tracker.clone(),
    );
    for (name, view, max_iter, modes) in cases {
        let view: rfm_perf_deep::DeepView = view.parse().expect("view");
        let mut g = c.benchmark_group(format!("fractal_deep/{name}"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(6));
        for &mode in modes {
            {
                let mut s = app.world_mut().resource_mut::<FractalSettings>();
                s.set_deep_view(view);
                s.params.max_iter = max_iter;
                s.precision = mode;
            }
            let gpu = read_results(&mut app, 600).expect("GPU result");
            let orbit = app
                .world()
                .resource::<rfm_perf::fractal::gpu::ReferenceOrbitStatus>()
                .clone();
            let precision = app.world().resource::<FractalSettings>().precision();
            if precision.is_perturbation() {
                println!(
                    "{name} {}: reference orbit {} points at {} bits in {:.2} ms",
                    precision.name(),
                    orbit.points,
                    orbit.precision_bits,
                    orbit.compute_ms
                );
            }
            g.throughput(Throughput::Elements(gpu.iterations));
            g.bench_function(format!("gpu_pass_{}", precision.name()), |b| {
                b.iter_custom(|iters| gpu_pass_time(&mut app, &tracker, iters))
            });
        }
        g.finish();
    }
}

criterion_group!(
    benches,
    fractal_gpu,
    fractal_interior,
    fractal_cost,
    fractal_deep
);
criterion_main!(benches);
