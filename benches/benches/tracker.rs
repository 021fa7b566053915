//! Tracker operations: recording metrics, collecting a frame of many scopes, and the history
//! reads the dashboard and API make (decimation, full history).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rfm_perf_core::{PerformanceTracker, ScopeSite, TimeRange, get_performance_tracker};

/// Distinct scopes recorded per frame in the collect benchmark.
const SCOPES: usize = 200;
/// Calls of each scope per frame.
const CALLS: usize = 10;
/// Samples in the history benchmarks (the default raw capacity: 10 min at 60 Hz).
const HISTORY: usize = 36_000;

fn metrics(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics");
    let t = PerformanceTracker::new();
    g.bench_function("track_metric", |b| {
        b.iter(|| t.track_metric("bench.metric", black_box(1.5)))
    });
    let id = t.metric_id("bench.by_id").expect("non-empty name");
    g.bench_function("track_id", |b| b.iter(|| t.track_id(id, black_box(1.5))));
    g.finish();
}

fn collect(c: &mut Criterion) {
    // 200 call sites, as 200 `#[track_performance]` functions would create (one static each)
    let sites: Vec<&'static ScopeSite> = (0..SCOPES)
        .map(|i| {
            let name: &'static str = Box::leak(format!("bench.scope{i:03}").into_boxed_str());
            &*Box::leak(Box::new(ScopeSite::new(name)))
        })
        .collect();
    let tracker = get_performance_tracker();
    let record = || {
        for site in &sites {
            for _ in 0..CALLS {
                let _g = site.enter();
                black_box(());
            }
        }
    };
    // warm: every call path exists, history rings and scope windows are allocated
    for _ in 0..200 {
        record();
        tracker.collect_frame();
    }
    let mut g = c.benchmark_group("collect");
    g.bench_function("collect_frame_200_scopes_x10", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                record();
                let start = Instant::now();
                black_box(tracker.collect_frame());
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("record_200_scopes_x10", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                record();
                total += start.elapsed();
                tracker.collect_frame();
            }
            total
        })
    });
    g.bench_function("collect_frame_empty", |b| {
        b.iter(|| black_box(tracker.collect_frame()))
    });
    g.finish();
}

fn history(c: &mut Criterion) {
    let t = PerformanceTracker::new();
    // as with the Bevy plugin attached: reads never collect; the frame's collect moves the
    // recorded samples into the history (here one drain after recording)
    t.set_frame_driver(true);
    for i in 0..HISTORY {
        t.track_metric("bench.history", (i % 977) as f64);
    }
    t.drain_samples();
    assert_eq!(t.get_history("bench.history").len(), HISTORY);
    let mut g = c.benchmark_group("history");
    g.bench_function("decimate_36000_into_1000", |b| {
        b.iter(|| black_box(t.decimate("bench.history", TimeRange::ALL, 1000)))
    });
    g.bench_function("get_history_36000", |b| {
        b.iter(|| black_box(t.get_history("bench.history")))
    });
    g.finish();
}

/// The regression check with 500 metrics × 512 values a side: every metric assessed (the
/// median gate, the Mann–Whitney test, the Hodges–Lehmann interval), half of them slower.
fn regressions(c: &mut Criterion) {
    use rfm_perf_core::{BaselineSet, BaselineStat, Direction, RegressionTest};
    use std::collections::BTreeMap;
    let mut base = BaselineSet::default();
    let mut current: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        1.0 + 0.3 * ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
    };
    for m in 0..500 {
        let name = format!("bench.metric_{m}");
        let values: Vec<f64> = (0..512).map(|_| 10.0 * noise()).collect();
        let factor = if m % 2 == 0 { 1.5 } else { 1.0 };
        base.metrics
            .insert(name.clone(), BaselineStat::from_values(&values).unwrap());
        base.samples.insert(name.clone(), values);
        current.insert(name, (0..512).map(|_| 10.0 * factor * noise()).collect());
    }
    let mut g = c.benchmark_group("regressions");
    g.sample_size(20);
    g.bench_function("assess_500_metrics_x512_a_side", |b| {
        b.iter(|| {
            black_box(base.assess(
                &current,
                |_| Some(Direction::LowerIsBetter),
                RegressionTest::new(0.2),
            ))
        })
    });
    let unchanged: BTreeMap<String, Vec<f64>> = base.samples.clone();
    g.bench_function("assess_500_metrics_x512_none_changed", |b| {
        b.iter(|| {
            black_box(base.assess(
                &unchanged,
                |_| Some(Direction::LowerIsBetter),
                RegressionTest::new(0.2),
            ))
        })
    });
    g.finish();
}

/// One second of the anomaly scan for 500 metrics: each detector judges 60 samples (a second at
/// 60 fps) against its 30-second reference and learns from them. The samples are generated
/// before the measurement (64 seconds of noise, reused in turn).
fn anomalies(c: &mut Criterion) {
    use rfm_perf_core::AnomalyDetector;
    let mut detectors: Vec<AnomalyDetector> = vec![AnomalyDetector::default(); 500];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let pool: Vec<Vec<(f64, f64)>> = (0..64)
        .map(|s| {
            (0..60)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
                    (
                        f64::from(s) + f64::from(i) / 60.0,
                        16.0 * (1.0 + 0.1 * noise),
                    )
                })
                .collect()
        })
        .collect();
    let mut second = 0usize;
    let mut g = c.benchmark_group("anomalies");
    g.bench_function("push_second_500_metrics_x60", |b| {
        b.iter(|| {
            second += 1;
            for (m, d) in detectors.iter_mut().enumerate() {
                black_box(d.push_second(&pool[(second + m) % pool.len()]));
            }
        })
    });
    g.finish();
}

/// A warning and a critical level on each of the seven metrics the built-in rules watch.
fn builtin_like_rules() -> Vec<rfm_perf_core::alert_rules::AlertRule> {
    use rfm_perf_core::alert_rules::{AlertRule, Condition, RuleSeverity};
    [
        "frame.time_ms",
        "frame.fps",
        "frame.fps_1pct_low",
        "process.memory_mb",
        "system.cpu_pct",
        "gpu.utilization_pct",
        "io.pressure_pct",
    ]
    .iter()
    .flat_map(|m| {
        let c = if m.contains("fps") {
            Condition::Below
        } else {
            Condition::Above
        };
        [
            AlertRule::new(*m, c, 10.0, RuleSeverity::Warning),
            AlertRule::new(*m, c, 30.0, RuleSeverity::Critical),
        ]
    })
    .collect()
}

/// The trace export: 180 000 scope events (10 s of 18 000 a second on four threads, nested
/// three deep) captured and written as Chrome Trace Event JSON. Goal < 200 ms.
fn trace_export(c: &mut Criterion) {
    let t = PerformanceTracker::with_config(rfm_perf_core::TrackerConfig {
        trace_window: Duration::from_secs(3600),
        ..Default::default()
    });
    let per_thread = 180_000 / 4;
    std::thread::scope(|s| {
        for w in 0..4 {
            let t = t.clone();
            s.spawn(move || {
                let names = [
                    format!("system.{w}"),
                    format!("system.{w}.inner"),
                    format!("system.{w}.leaf"),
                ];
                for _ in 0..per_thread / 3 {
                    t.start_timer(&names[0]);
                    t.start_timer(&names[1]);
                    t.start_timer(&names[2]);
                    t.end_timer(&names[2]);
                    t.end_timer(&names[1]);
                    t.end_timer(&names[0]);
                }
            });
        }
    });
    // one collect per 3 000 events, as frames would
    t.collect_frame();
    let window = Duration::from_secs(3600);
    let events = t.trace(window).span_count();
    assert_eq!(events, 180_000, "events kept");
    let mut g = c.benchmark_group("trace");
    g.sample_size(20);
    g.bench_function("capture_and_export_180k_events", |b| {
        b.iter(|| black_box(t.trace(window).chrome_json(&[]).len()))
    });
    g.finish();
}

/// One update interval of the analysis as the app runs it, end to end: the tracker's anomaly
/// scan of 500 metrics (copying each metric's newest second of 60 samples out of its history and
/// through its detector) plus the evaluation of the 14 built-in alert rules. Each iteration
/// first records the next simulated second (not timed).
fn analysis_interval(c: &mut Criterion) {
    use rfm_perf_core::alert_rules::{AlertEvaluator, AlertRuleSet, TrackerRuleInputs};
    use std::time::SystemTime;
    let t = PerformanceTracker::new();
    // as in the app: the plugin's frame driver collects frames, reads do not
    t.set_frame_driver(true);
    let names: Vec<String> = (0..500).map(|i| format!("bench.metric_{i:03}")).collect();
    let start = SystemTime::now() + Duration::from_secs(1);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut second = 0u64;
    let mut record_second = |t: &PerformanceTracker, second: u64| {
        for n in &names {
            let samples: Vec<(SystemTime, f64)> = (0..60u64)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
                    let at = start + Duration::from_millis(second * 1000 + i * 16);
                    (at, 16.0 * (1.0 + 0.1 * noise))
                })
                .collect();
            t.import_samples(n, &samples).expect("a name");
        }
    };
    for _ in 0..35 {
        record_second(&t, second);
        second += 1;
        t.scan_anomalies_at(start + Duration::from_secs(second));
    }
    let rules = builtin_like_rules();
    let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("bench", rules));
    let snapshot = t.publish_snapshot();
    let mut g = c.benchmark_group("analysis_interval");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("anomaly_scan_and_builtin_rules_500_metrics", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                record_second(&t, second);
                second += 1;
                let now = start + Duration::from_secs(second);
                let began = Instant::now();
                black_box(t.scan_anomalies_at(now));
                let now_s = now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_secs_f64();
                let inputs = TrackerRuleInputs::gather(&t, &snapshot, e.rules(), now_s);
                black_box(e.evaluate(&inputs, now_s));
                timed += began.elapsed();
            }
            timed
        })
    });
    g.finish();
}

/// One update interval of alert evaluation: gathering the inputs from a tracker with 500
/// metrics and evaluating the rules — the 14 built-in rules, and 1000 rules (a warning and a
/// critical level on every metric).
fn alerts(c: &mut Criterion) {
    use rfm_perf_core::alert_rules::{
        AlertEvaluator, AlertRule, AlertRuleSet, Condition, RuleSeverity, TrackerRuleInputs,
    };
    let t = PerformanceTracker::new();
    let names: Vec<String> = (0..500).map(|i| format!("bench.metric_{i:03}")).collect();
    for (i, n) in names.iter().enumerate() {
        t.track_metric(n, i as f64);
    }
    for n in ["frame.time_ms", "frame.fps", "io.pressure_pct"] {
        t.track_metric(n, 20.0);
    }
    let snapshot = t.publish_snapshot();
    let built_in = builtin_like_rules();
    let every: Vec<AlertRule> = names
        .iter()
        .flat_map(|m| {
            [
                AlertRule::new(m.clone(), Condition::Above, 250.0, RuleSeverity::Warning),
                AlertRule::new(m.clone(), Condition::Above, 400.0, RuleSeverity::Critical),
            ]
        })
        .collect();
    let mut g = c.benchmark_group("alerts");
    for (label, rules) in [("builtin_14_rules", built_in), ("1000_rules", every)] {
        let mut e = AlertEvaluator::new(AlertRuleSet::from_rules("bench", rules));
        let mut now = 0.0;
        g.bench_function(format!("evaluate_500_metrics_{label}"), |b| {
            b.iter(|| {
                now += 1.0;
                let inputs = TrackerRuleInputs::gather(&t, &snapshot, e.rules(), now);
                black_box(e.evaluate(&inputs, now))
            })
        });
    }
    g.finish();
}

/// The cost model's per-frame work (score, learn) and one what-if prediction, on a 64-bucket
/// escape histogram like the fractal pass's.
fn cost_model(c: &mut Criterion) {
    use rfm_perf_core::cost_model::{PassCostModel, PassObservation, PassParams, WorkProfile};
    let edges: Vec<u32> = (0..64).map(|i| i * 15).collect();
    let frame = |i: u64| {
        let counts: Vec<u64> = (0..64).map(|b| 1000 + (b * 37 + i * 11) % 500).collect();
        let escaped: u64 = counts.iter().sum();
        let escaped_iterations: u64 = counts
            .iter()
            .zip(&edges)
            .map(|(n, e)| n * u64::from(*e))
            .sum();
        let computed = escaped_iterations + (262_144 - escaped) * 1000;
        PassObservation {
            params: PassParams {
                pixels: 262_144,
                max_iter: 1000,
                arithmetic: "f32".into(),
                interior_check: false,
            },
            work: WorkProfile::new(
                262_144,
                1000,
                false,
                escaped_iterations,
                computed,
                &edges,
                &counts,
            ),
            gpu_ms: 1.0 + computed as f64 / 1e7,
            frame_ms: Some(3.0 + computed as f64 / 1e7),
        }
    };
    let frames: Vec<PassObservation> = (0..256).map(frame).collect();
    let mut model = PassCostModel::default();
    for f in &frames {
        model.observe(f);
    }
    let mut g = c.benchmark_group("cost_model");
    let mut i = 0;
    g.bench_function("observe_frame", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            model.observe(black_box(&frames[i]))
        })
    });
    let what_if = PassParams {
        pixels: 65_536,
        max_iter: 400,
        arithmetic: "f32".into(),
        interior_check: false,
    };
    g.bench_function("predict_what_if", |b| {
        b.iter(|| model.predict(black_box(&what_if)))
    });
    g.finish();
}

criterion_group!(
    benches,
    cost_model,
    metrics,
    collect,
    history,
    regressions,
    anomalies,
    alerts,
    analysis_interval,
    trace_export
);
criterion_main!(benches);
