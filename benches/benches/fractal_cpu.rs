//! The CPU reference renderer: iterations per second of the lane-interleaved parallel `f64`
//! renderer (one thread and all cores) and of df64, against a plain scalar `f64` loop, in the
//! same run, on the same 256 × 256 views.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfm_perf::fractal::{FractalParams, View, cpu};

const SIZE: u32 = 256;

fn views() -> [(&'static str, FractalParams); 2] {
    [
        (
            "home_max1000",
            FractalParams {
                view: View::HOME,
                max_iter: 1000,
                ..Default::default()
            },
        ),
        (
            "seahorse_max2000",
            FractalParams {
                view: View {
                    center: (-0.743_643_887, 0.131_825_904),
                    width: 0.01,
                },
                max_iter: 2000,
                ..Default::default()
            },
        ),
    ]
}

fn fractal_cpu(c: &mut Criterion) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    for (name, p) in views() {
        let iters = cpu::render_scalar(&p, SIZE, SIZE).total_iterations;
        let mut g = c.benchmark_group(format!("fractal_cpu/{name}"));
        g.throughput(Throughput::Elements(iters));
        g.sample_size(10);
        g.bench_function("scalar_f64_1_thread", |b| {
            b.iter(|| black_box(cpu::render_scalar(&p, SIZE, SIZE)))
        });
        g.bench_function("lanes_f64_1_thread", |b| {
            b.iter(|| one.install(|| black_box(cpu::render(&p, SIZE, SIZE))))
        });
        g.bench_function("lanes_f64_all_cores", |b| {
            b.iter(|| black_box(cpu::render(&p, SIZE, SIZE)))
        });
        g.bench_function("df64_all_cores", |b| {
            b.iter(|| black_box(cpu::render_df64(&p, SIZE, SIZE)))
        });
        g.finish();
    }
}

criterion_group!(benches, fractal_cpu);
criterion_main!(benches);
