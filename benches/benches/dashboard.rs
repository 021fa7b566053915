//! The in-game dashboard's CPU cost at 1280 × 800: our UI code plus egui's layout and
//! tessellation, with every panel open, a timeline of 20 metrics × 36 000 samples (recorded over
//! the 60 s it shows, 600 a second, in a minute of setup, so every line is decimated from all of
//! them), a bottleneck
//! table and a flame graph of 500 scopes. Also the cost while the dashboard is hidden (our code
//! only, and the empty egui pass bevy_egui runs anyway), and the peer: the same 20 × 36 000
//! samples plotted raw through egui_plot.
//!
//! Run: `cargo bench -p rfm_perf_benches --bench dashboard`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Pos2, RawInput, Rect, vec2};
use egui_plot::{Line, Plot, PlotPoints};
use rfm_perf::analysis::BreakdownInputs;
use rfm_perf::tunables::Tunables;
use rfm_perf::ui::{DashboardUi, RefreshInputs, show_always_on, show_dashboard};
use rfm_perf::{HealthThresholds, Insights, PerformanceTracker};

const METRICS: usize = 20;
const SAMPLES: usize = 36_000;
/// The timeline's window (its default): the samples are recorded over it, 600 a second.
const WINDOW: Duration = Duration::from_secs(60);

fn input() -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1280.0, 800.0))),
        ..Default::default()
    }
}

fn metric_names() -> Vec<String> {
    (0..METRICS)
        .map(|i| format!("bench.metric_{i:02}"))
        .collect()
}

/// A tracker with 20 full histories and a frame of 500 scopes (20 × 25, two levels).
fn loaded_tracker() -> PerformanceTracker {
    let t = PerformanceTracker::new();
    // spread over the timeline's window (a tracker holds no sample older than itself): 60
    // bursts a second apart (a minute of setup)
    let mut fed = Feed::default();
    for _ in 0..60 {
        std::thread::sleep(Duration::from_secs(1));
        fed.top_up(&t);
    }
    for frame in 0..3 {
        for a in 0..20 {
            let outer = format!("system_{a:02}");
            t.start_timer(&outer);
            for b in 0..24 {
                let inner = format!("system_{a:02}.part_{b:02}");
                t.start_timer(&inner);
                t.end_timer(&inner);
            }
            t.end_timer(&outer);
        }
        t.collect_frame_with_duration(Some(Duration::from_micros(16_600 + frame)));
    }
    // as under the plugin: frames are collected by the app, reads do not collect
    t.set_frame_driver(true);
    t.publish_snapshot();
    t
}

/// Keeps the timeline's window full as an app would: `SAMPLES` per metric per `WINDOW`,
/// recorded for the time since the last top-up.
struct Feed {
    last: std::time::Instant,
    next: usize,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            last: std::time::Instant::now(),
            next: 0,
        }
    }
}

impl Feed {
    fn top_up(&mut self, t: &PerformanceTracker) {
        let due = self.last.elapsed().as_secs_f64() / WINDOW.as_secs_f64() * SAMPLES as f64;
        let n = (due as usize).min(SAMPLES);
        self.last = std::time::Instant::now();
        for name in metric_names() {
            for s in self.next..self.next + n {
                t.track_metric(&name, 16.0 + ((s * 7919) % 97) as f64 * 0.05);
            }
        }
        self.next += n;
    }
}

/// What the analysis would publish for `tracker` (the bottleneck panel draws its breakdown).
fn insights_of(tracker: &PerformanceTracker) -> Insights {
    Insights {
        breakdown: BreakdownInputs::gather(tracker, &tracker.scope_stats()).breakdown(),
        ..Default::default()
    }
}

/// The dashboard's data gathered now (`interval` zero: whatever the last refresh).
fn refresh(
    state: &mut DashboardUi,
    tracker: &PerformanceTracker,
    visible: bool,
    interval: Duration,
) {
    state.refresh(RefreshInputs {
        tracker,
        thresholds: &HealthThresholds::default(),
        metrics_to_show: &rfm_perf::DEFAULT_METRICS_TO_SHOW
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        insights: &insights_of(tracker),
        tunables: &Tunables::default(),
        visible,
        show_bottlenecks: true,
        gpu: None,
        cost: None,
        adaptive: None,
        interval,
    });
}

/// The full layout (every panel window open), its data gathered.
fn refreshed_state(tracker: &PerformanceTracker, visible: bool) -> DashboardUi {
    let mut state = DashboardUi::default();
    state.layout = rfm_perf::ui::Layout::Full;
    state.timeline.selected = metric_names();
    state.timeline.window = WINDOW;
    refresh(&mut state, tracker, visible, Duration::from_secs(3600));
    state
}

fn frame(ctx: &egui::Context, mut draw: impl FnMut(&egui::Context)) -> usize {
    let mut out = ctx.run_ui(input(), |ui| draw(ui.ctx()));
    out.textures_delta.clear(); // bevy_egui uploads these; nothing to upload here
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

/// The frame after a new snapshot, as the plugin has it once per update interval: the samples
/// since the last one recorded (not timed), a snapshot published (which moves the timeline's
/// live range), then — timed — the panels' data gathered and the full frame drawn. Returns the
/// two times: the data, the frame.
fn snapshot_frame(
    feed: &mut Feed,
    tracker: &PerformanceTracker,
    state: &mut DashboardUi,
    ctx: &egui::Context,
    open: &mut bool,
) -> (Duration, Duration) {
    feed.top_up(tracker);
    tracker.publish_snapshot();
    let started = std::time::Instant::now();
    refresh(state, tracker, true, Duration::ZERO);
    let refreshed = started.elapsed();
    black_box(frame(ctx, |ctx| {
        show_always_on(ctx, state, tracker, &HealthThresholds::default());
        show_dashboard(ctx, state, tracker, true, &[], open);
    }));
    (refreshed, started.elapsed() - refreshed)
}

fn dashboard(c: &mut Criterion) {
    let tracker = loaded_tracker();
    let mut feed = Feed::default();
    let thresholds = HealthThresholds::default();
    let mut g = c.benchmark_group("dashboard_1280x800");
    g.sample_size(30);

    let ctx = egui::Context::default();
    let mut state = refreshed_state(&tracker, true);
    let mut open = true;
    // warm up: fonts, window layout, the timeline's decimation cache at the plot's width
    for _ in 0..3 {
        frame(&ctx, |ctx| {
            show_always_on(ctx, &state, &tracker, &thresholds);
            show_dashboard(ctx, &mut state, &tracker, true, &[], &mut open);
        });
    }
    // `DASHBOARD_SNAPSHOT_FRAMES=N`: where a new snapshot's frame goes, N frames each, a second
    // apart: the whole snapshot frame; a new snapshot without the panels' data gathered (the
    // timeline slides, the texts stay); a plain frame. Then stop.
    if let Some(n) = std::env::var("DASHBOARD_SNAPSHOT_FRAMES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        let draw = |state: &mut DashboardUi, open: &mut bool| {
            let started = std::time::Instant::now();
            black_box(frame(&ctx, |ctx| {
                show_always_on(ctx, state, &tracker, &thresholds);
                show_dashboard(ctx, state, &tracker, true, &[], open);
            }));
            started.elapsed().as_secs_f64() * 1000.0
        };
        let (mut whole, mut slide_only, mut plain) = (Vec::new(), Vec::new(), Vec::new());
        let (mut plain_busy, mut plain_evicted) = (Vec::new(), Vec::new());
        let mut scratch = vec![0u8; 32 << 20];
        for _ in 0..n {
            std::thread::sleep(Duration::from_millis(500));
            draw(&mut state, &mut open);
            std::thread::sleep(Duration::from_millis(500));
            let (data, drawn) = snapshot_frame(&mut feed, &tracker, &mut state, &ctx, &mut open);
            whole.push((data + drawn).as_secs_f64() * 1000.0);
            std::thread::sleep(Duration::from_millis(500));
            draw(&mut state, &mut open);
            std::thread::sleep(Duration::from_millis(500));
            feed.top_up(&tracker);
            tracker.publish_snapshot();
            slide_only.push(draw(&mut state, &mut open));
            std::thread::sleep(Duration::from_millis(16));
            plain.push(draw(&mut state, &mut open));
            // the same 16 ms spent busy instead of asleep: on the CPU but touching little
            // memory (what is left is the frame's own cache footprint, not the idle wake-up)
            // (arithmetic, not `spin_loop`: a hypervisor may deschedule a vCPU that pauses)
            let busy_until = std::time::Instant::now() + Duration::from_millis(16);
            let mut x = 1u64;
            while std::time::Instant::now() < busy_until {
                for _ in 0..1000 {
                    x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            black_box(x);
            plain_busy.push(draw(&mut state, &mut open));
            // and busy writing 32 MiB (an app's own frame evicting the caches)
            for (i, b) in scratch.iter_mut().enumerate() {
                *b = b.wrapping_add(i as u8);
            }
            black_box(&scratch);
            plain_evicted.push(draw(&mut state, &mut open));
        }
        for (what, ms) in [
            ("whole", &whole),
            ("slide only", &slide_only),
            ("plain", &plain),
            ("plain after 16 ms busy", &plain_busy),
            ("plain after writing 32 MiB", &plain_evicted),
        ] {
            let p = rfm_perf_core::stats::Percentiles::of(ms).expect("frames");
            println!(
                "snapshot frame, {what}: p50 {:.3} ms, p95 {:.3} ms",
                p.p50, p.p95
            );
        }
        return;
    }
    g.bench_function("full_frame_all_panels", |b| {
        b.iter(|| {
            black_box(frame(&ctx, |ctx| {
                show_always_on(ctx, &state, &tracker, &thresholds);
                show_dashboard(ctx, &mut state, &tracker, true, &[], &mut open);
            }))
        })
    });
    {
        use rfm_perf::ui::bottleneck::bottleneck_panel;
        use rfm_perf::ui::timeline::timeline_panel;
        let solo = egui::Context::default();
        feed.top_up(&tracker);
        let mut st = refreshed_state(&tracker, true);
        let bdata = rfm_perf::ui::bottleneck::BottleneckData::gather(
            &tracker,
            insights_of(&tracker).breakdown,
        );
        let mut bstate = rfm_perf::ui::bottleneck::BottleneckState::default();
        for _ in 0..3 {
            frame(&solo, |ctx| {
                egui::Window::new("t")
                    .default_size([840.0, 380.0])
                    .show(ctx, |ui| timeline_panel(ui, &mut st.timeline, &tracker));
            });
        }
        g.bench_function("part_timeline_20_metrics", |b| {
            b.iter(|| {
                black_box(frame(&solo, |ctx| {
                    egui::Window::new("t")
                        .default_size([840.0, 380.0])
                        .show(ctx, |ui| timeline_panel(ui, &mut st.timeline, &tracker));
                }))
            })
        });
        let one = egui::Context::default();
        feed.top_up(&tracker);
        let mut st1 = refreshed_state(&tracker, true);
        st1.timeline.selected.truncate(1);
        g.bench_function("part_timeline_1_metric", |b| {
            b.iter(|| {
                black_box(frame(&one, |ctx| {
                    egui::Window::new("t")
                        .default_size([840.0, 380.0])
                        .show(ctx, |ui| timeline_panel(ui, &mut st1.timeline, &tracker));
                }))
            })
        });
        let sys_ctx = egui::Context::default();
        let sys = rfm_perf::ui::system_panel::SystemData::gather(&tracker, None);
        g.bench_function("part_system", |b| {
            b.iter(|| {
                black_box(frame(&sys_ctx, |ctx| {
                    egui::Window::new("s")
                        .default_size([400.0, 380.0])
                        .show(ctx, |ui| rfm_perf::ui::system_panel::system_panel(ui, &sys));
                }))
            })
        });
        let main_ctx = egui::Context::default();
        let metrics = rfm_perf::ui::DashboardData::gather(
            &tracker,
            &HealthThresholds::default(),
            &rfm_perf::DEFAULT_METRICS_TO_SHOW
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            &Insights::default(),
            Vec::new(),
            Duration::from_secs(60),
        );
        g.bench_function("part_metrics", |b| {
            b.iter(|| {
                black_box(frame(&main_ctx, |ctx| {
                    egui::Window::new("m")
                        .default_size([480.0, 380.0])
                        .show(ctx, |ui| rfm_perf::ui::metrics_panel(ui, &metrics));
                }))
            })
        });
        let solo2 = egui::Context::default();
        g.bench_function("part_bottlenecks_500_scopes", |b| {
            b.iter(|| {
                black_box(frame(&solo2, |ctx| {
                    egui::Window::new("b")
                        .default_size([840.0, 380.0])
                        .vscroll(true)
                        .show(ctx, |ui| bottleneck_panel(ui, &mut bstate, &bdata));
                }))
            })
        });
    }
    g.bench_function("refresh_data_only", |b| {
        b.iter(|| {
            tracker.publish_snapshot();
            refresh(&mut state, &tracker, true, Duration::ZERO);
        })
    });
    g.bench_function("full_frame_after_new_snapshot", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let (data, drawn) =
                    snapshot_frame(&mut feed, &tracker, &mut state, &ctx, &mut open);
                timed += data + drawn;
                // as in an app, a plain frame before the next snapshot (not timed)
                std::thread::sleep(Duration::from_millis(8));
                black_box(frame(&ctx, |ctx| {
                    show_dashboard(ctx, &mut state, &tracker, true, &[], &mut open);
                }));
            }
            timed
        })
    });

    // the goals name p95s: each frame timed on its own (criterion's samples are means)
    // (and where each goes: egui's pass with our UI code, then tessellation)
    let (mut full, mut full_ui, mut full_tessellate) = (Vec::new(), Vec::new(), Vec::new());
    let mut vertices = 0;
    for _ in 0..400 {
        let started = std::time::Instant::now();
        let mut out = ctx.run_ui(input(), |ui| {
            show_always_on(ui.ctx(), &state, &tracker, &thresholds);
            show_dashboard(ui.ctx(), &mut state, &tracker, true, &[], &mut open);
        });
        out.textures_delta.clear();
        let laid_out = started.elapsed();
        let primitives = ctx.tessellate(out.shapes, out.pixels_per_point);
        let total = started.elapsed();
        vertices = primitives
            .iter()
            .map(|p| match &p.primitive {
                egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
                egui::epaint::Primitive::Callback(_) => 0,
            })
            .sum::<usize>();
        black_box(primitives);
        full.push(total.as_secs_f64() * 1000.0);
        full_ui.push(laid_out.as_secs_f64() * 1000.0);
        full_tessellate.push((total - laid_out).as_secs_f64() * 1000.0);
    }
    println!("dashboard_1280x800 full frame: {vertices} vertices tessellated");
    // once a second, as the plugin's update interval: a second of plain frames at ~60 fps (not
    // timed), then a second of new samples, a snapshot, the panels' data gathered and the frame
    // (30 s)
    let (mut after_snapshot, mut snapshot_data, mut snapshot_draw) =
        (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..30 {
        let second = std::time::Instant::now();
        while second.elapsed() < Duration::from_millis(980) {
            black_box(frame(&ctx, |ctx| {
                show_always_on(ctx, &state, &tracker, &thresholds);
                show_dashboard(ctx, &mut state, &tracker, true, &[], &mut open);
            }));
            std::thread::sleep(Duration::from_millis(16));
        }
        let (data, drawn) = snapshot_frame(&mut feed, &tracker, &mut state, &ctx, &mut open);
        after_snapshot.push((data + drawn).as_secs_f64() * 1000.0);
        snapshot_data.push(data.as_secs_f64() * 1000.0);
        snapshot_draw.push(drawn.as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(8));
        black_box(frame(&ctx, |ctx| {
            show_dashboard(ctx, &mut state, &tracker, true, &[], &mut open);
        }));
    }
    for (what, ms) in [
        ("full frame, every window (400 frames)", &full),
        ("of which egui's pass with our UI code", &full_ui),
        ("of which tessellation", &full_tessellate),
        (
            "frame after a new snapshot, one a second (30 frames)",
            &after_snapshot,
        ),
        ("of which the panels' data", &snapshot_data),
        ("of which the frame drawn", &snapshot_draw),
    ] {
        if let Some(p) = rfm_perf_core::stats::Percentiles::of(ms) {
            println!(
                "dashboard_1280x800 per-frame {what}: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms",
                p.p50, p.p95, p.p99
            );
        }
    }

    let hidden_ctx = egui::Context::default();
    let mut hidden = refreshed_state(&tracker, false);
    let insights = insights_of(&tracker);
    let show: Vec<String> = rfm_perf::DEFAULT_METRICS_TO_SHOW
        .iter()
        .map(|s| s.to_string())
        .collect();
    g.bench_function("hidden_our_refresh_check", |b| {
        b.iter(|| {
            black_box(hidden.refresh(RefreshInputs {
                tracker: &tracker,
                thresholds: &thresholds,
                metrics_to_show: &show,
                insights: &insights,
                tunables: &Tunables::default(),
                visible: false,
                show_bottlenecks: true,
                gpu: None,
                cost: None,
                adaptive: None,
                interval: Duration::from_secs(3600),
            }))
        })
    });
    g.bench_function("hidden_always_on_frame", |b| {
        b.iter(|| {
            black_box(frame(&hidden_ctx, |ctx| {
                show_always_on(ctx, &hidden, &tracker, &thresholds)
            }))
        })
    });
    let empty_ctx = egui::Context::default();
    g.bench_function("egui_empty_frame", |b| {
        b.iter(|| black_box(frame(&empty_ctx, |_| {})))
    });

    // the peer: every raw sample through egui_plot
    let series: Vec<(String, Vec<[f64; 2]>)> = metric_names()
        .into_iter()
        .map(|name| {
            let pts = tracker
                .get_history(&name)
                .into_iter()
                .enumerate()
                .map(|(i, (_, v))| [i as f64, v])
                .collect();
            (name, pts)
        })
        .collect();
    let raw_ctx = egui::Context::default();
    g.sample_size(10);
    g.bench_function("peer_raw_egui_plot_20x36000", |b| {
        b.iter(|| {
            black_box(frame(&raw_ctx, |ctx| {
                egui::Window::new("raw")
                    .default_size([840.0, 380.0])
                    .show(ctx, |ui| {
                        Plot::new("raw").show(ui, |plot| {
                            for (name, pts) in &series {
                                plot.line(Line::new(name.clone(), PlotPoints::from(pts.clone())));
                            }
                        });
                    });
            }))
        })
    });
    g.finish();
}

criterion_group!(benches, dashboard);
criterion_main!(benches);
