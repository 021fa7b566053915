//! Deep-zoom arithmetic on the CPU (`rfm_perf_deep`): the reference orbit's cost at 1e-50 and
//! 1e-100 (2 000 iterations of c = i, which never escapes), and per-pixel perturbation against
//! its peer, direct fixed-point iteration of every pixel, on a 32 × 32 view of c = i at 1e-100
//! (iterations per second of each).
//!
//! Run: `cargo bench -p rfm_perf_benches --bench deep`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfm_perf_deep::{DeepView, Formula, ReferenceOrbit, direct, perturb};

const MAX_ITER: u32 = 2000;
const SIZE: u32 = 32;

fn deep(c: &mut Criterion) {
    let mut g = c.benchmark_group("deep");
    g.sample_size(10);
    for width in ["1e-50", "1e-100"] {
        let view: DeepView = format!("0,1,{width}").parse().expect("view");
        let limbs = view.precision_limbs(512);
        g.throughput(Throughput::Elements(u64::from(MAX_ITER)));
        g.bench_function(
            format!("reference_orbit_{width}_512px_{limbs}_limbs"),
            |b| {
                b.iter(|| {
                    black_box(ReferenceOrbit::compute(
                        Formula::Mandelbrot,
                        &view.centre(),
                        limbs,
                        MAX_ITER,
                    ))
                })
            },
        );
    }
    let view: DeepView = "0,1,1e-100".parse().expect("view");
    let limbs = view.precision_limbs(SIZE);
    let orbit = ReferenceOrbit::compute(Formula::Mandelbrot, &view.centre(), limbs, MAX_ITER);
    let pixels: Vec<(u32, u32)> = (0..SIZE * SIZE).map(|i| (i % SIZE, i / SIZE)).collect();
    let total: u64 = pixels
        .iter()
        .map(|&(x, y)| {
            u64::from(perturb::iterations(
                Formula::Mandelbrot,
                &orbit,
                view.pixel_delta(x, y, SIZE, SIZE),
                MAX_ITER,
            ))
        })
        .sum();
    g.throughput(Throughput::Elements(total));
    g.bench_function("perturbation_f64_1e-100_32x32", |b| {
        b.iter(|| {
            pixels
                .iter()
                .map(|&(x, y)| {
                    perturb::iterations(
                        Formula::Mandelbrot,
                        &orbit,
                        view.pixel_delta(x, y, SIZE, SIZE),
                        MAX_ITER,
                    )
                })
                .sum::<u32>()
        })
    });
    g.bench_function("peer_direct_fixed_point_1e-100_32x32", |b| {
        b.iter(|| {
            pixels
                .iter()
                .map(|&(x, y)| {
                    direct::iterations(
                        Formula::Mandelbrot,
                        &view.pixel_point(x, y, SIZE, SIZE),
                        limbs,
                        MAX_ITER,
                    )
                })
                .sum::<u32>()
        })
    });
    g.finish();
}

criterion_group!(benches, deep);
criterion_main!(benches);
