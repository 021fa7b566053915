//! Cost of one instrumented call: `#[track_performance]` (enabled, disabled) against puffin's
//! `profile_scope!` and a bare `Instant::now()` + `elapsed()` pair.
//!
//! Every variant runs the same loop: chunks of [`FRAME`] calls of a trivial `#[inline(never)]`
//! function; variants "with frames" end a frame after each chunk, inside the timed region, as
//! a game would. Criterion reports time per call.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rfm_perf_core::{get_performance_tracker, set_scopes_enabled, track_performance};

/// Calls per frame.
const FRAME: u64 = 10_000;

#[inline(never)]
fn trivial_bare(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

#[track_performance("bench.trivial")]
#[inline(never)]
fn trivial_tracked(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

#[inline(never)]
fn trivial_puffin(x: u64) -> u64 {
    puffin::profile_scope!("trivial");
    black_box(x).wrapping_add(1)
}

#[inline(never)]
fn trivial_instant(x: u64) -> u64 {
    let start = Instant::now();
    let r = black_box(x).wrapping_add(1);
    black_box(start.elapsed());
    r
}

/// Runs `iters` calls of `f` in chunks of [`FRAME`], calling `end_frame` after each chunk
/// (timed), and returns the elapsed time.
#[inline(always)]
fn run_frames(iters: u64, f: impl Fn(u64) -> u64, end_frame: impl Fn()) -> Duration {
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(FRAME);
        for i in 0..n {
            black_box(f(i));
        }
        end_frame();
        left -= n;
    }
    start.elapsed()
}

fn scope_overhead(c: &mut Criterion) {
    let tracker = get_performance_tracker();
    tracker.collect_frame();
    let mut g = c.benchmark_group("scope_overhead");

    g.bench_function("bare_call", |b| {
        b.iter_custom(|iters| run_frames(iters, trivial_bare, || {}))
    });

    // (a) enabled, with a collect_frame every FRAME calls
    set_scopes_enabled(true);
    g.bench_function("rfm_enabled_with_frames", |b| {
        b.iter_custom(|iters| {
            run_frames(iters, trivial_tracked, || {
                tracker.collect_frame();
            })
        })
    });

    // (a') enabled, no collect (the per-call cost alone; the thread's buffers do not grow)
    g.bench_function("rfm_enabled_no_frames", |b| {
        b.iter_custom(|iters| {
            let d = run_frames(iters, trivial_tracked, || {});
            tracker.collect_frame();
            d
        })
    });

    // (b) disabled: one relaxed load
    set_scopes_enabled(false);
    g.bench_function("rfm_disabled", |b| {
        b.iter_custom(|iters| run_frames(iters, trivial_tracked, || {}))
    });
    set_scopes_enabled(true);

    // (c) puffin with a new_frame every FRAME calls
    puffin::set_scopes_on(true);
    g.bench_function("puffin_with_frames", |b| {
        b.iter_custom(|iters| {
            run_frames(iters, trivial_puffin, || {
                puffin::GlobalProfiler::lock().new_frame()
            })
        })
    });

    // (d) puffin without frames. Puffin keeps every scope of the current frame in memory, so a
    // frame is still ended every 100 chunks (1 M calls) to bound memory, outside the timed region.
    g.bench_function("puffin_no_frames", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(100 * FRAME);
                total += run_frames(n, trivial_puffin, || {});
                puffin::GlobalProfiler::lock().new_frame();
                left -= n;
            }
            total
        })
    });
    puffin::set_scopes_on(false);

    // (e) a bare Instant pair
    g.bench_function("instant_pair", |b| {
        b.iter_custom(|iters| run_frames(iters, trivial_instant, || {}))
    });

    g.finish();
}

criterion_group!(benches, scope_overhead);
criterion_main!(benches);
