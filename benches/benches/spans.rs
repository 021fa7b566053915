//! What recording a `tracing` span costs with `rfm_perf::spans::SpanLayer`, against
//! `tracing-chrome`'s layer (what Bevy's `trace_chrome` uses) and no layer at all, each on a plain
//! `tracing_subscriber::Registry`: one span entered and exited per iteration, as Bevy's
//! executor does for every system it runs (the span is created once, as Bevy's system spans
//! are), and the same with a `name` field.

use std::hint::black_box;

use bevy::log::tracing;
use bevy::log::tracing_subscriber::{self, prelude::*};
use criterion::{Criterion, criterion_group, criterion_main};
use rfm_perf::PerformanceTracker;
use rfm_perf::spans::SpanLayer;

fn enter_exit(
    c: &mut Criterion,
    label: &str,
    dispatch: &tracing::Dispatch,
    tracker: Option<&PerformanceTracker>,
) {
    tracing::dispatcher::with_default(dispatch, || {
        let plain = tracing::info_span!("physics");
        let named = tracing::info_span!("system", name = "game::physics");
        let mut g = c.benchmark_group("span_enter_exit");
        g.bench_function(format!("{label}/plain"), |b| {
            b.iter(|| {
                let _e = black_box(&plain).enter();
            });
            if let Some(t) = tracker {
                t.collect_frame();
            }
        });
        g.bench_function(format!("{label}/name_field"), |b| {
            b.iter(|| {
                let _e = black_box(&named).enter();
            });
            if let Some(t) = tracker {
                t.collect_frame();
            }
        });
        // created, entered and closed each time, as Bevy's render passes and wgpu's spans are
        g.bench_function(format!("{label}/created_each_time"), |b| {
            b.iter(|| {
                let _e = tracing::info_span!("main_opaque_pass_2d").entered();
            });
            if let Some(t) = tracker {
                t.collect_frame();
            }
        });
        g.finish();
    });
}

fn spans(c: &mut Criterion) {
    let none = tracing::Dispatch::new(tracing_subscriber::registry());
    enter_exit(c, "registry_only", &none, None);

    let tracker = PerformanceTracker::new();
    let ours = tracing::Dispatch::new(
        tracing_subscriber::registry().with(SpanLayer::new(tracker.clone())),
    );
    enter_exit(c, "rfm_perf_span_layer", &ours, Some(&tracker));

    let file =
        std::env::temp_dir().join(format!("rfm_perf_bench_trace_{}.json", std::process::id()));
    let (chrome, guard) = tracing_chrome::ChromeLayerBuilder::new()
        .file(&file)
        .build();
    let theirs = tracing::Dispatch::new(tracing_subscriber::registry().with(chrome));
    enter_exit(c, "tracing_chrome", &theirs, None);
    drop(guard);
    let _ = std::fs::remove_file(&file);
}

criterion_group!(benches, spans);
criterion_main!(benches);
