//! Integration tests of `rfm_perf_core`: timers, history, decimation, baselines, regressions,
//! bad input, concurrency, memory bounds and `#[track_performance]`.
//!
//! Tests run in parallel in one process. Each test uses its own `PerformanceTracker::new()`
//! where it can; tests of the global tracker (macros, `perf_scope!`) use scope names no other
//! test uses and never clear the global tracker.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use rfm_perf_core::{
    BASELINE_FORMAT_VERSION, BaselineError, Direction, MetricInfo, PerformanceTracker, Severity,
    TimeRange, TrackError, TrackerConfig, get_performance_tracker, names, perf_scope,
    track_performance,
};

// ------------------------------------------------------------------------------------ helpers

/// Completed calls of scope `name` in `tracker`'s scope window (0 when it has none).
fn calls_of(tracker: &PerformanceTracker, name: &str) -> u64 {
    tracker
        .scope_stats()
        .iter()
        .filter(|s| s.name.as_ref() == name)
        .map(|s| s.calls)
        .sum()
}

/// A fresh, empty directory for one test's files.
fn temp_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rfm_perf_core-tests-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Busy-waits `d` (sleeping would make short durations depend on the scheduler's granularity).
fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn assert_send<T: Send>(_: &T) {}

/// Polls a future to completion on this thread with a no-op waker (no runtime needed).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A future that is pending once, then ready: makes an `async fn` span more than one poll.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

// ------------------------------------------------------------------------------------ timers

#[test]
fn nested_timers_build_a_call_tree() {
    let t = PerformanceTracker::new();
    t.start_timer("a");
    spin_for(Duration::from_micros(200));
    t.start_timer("b");
    spin_for(Duration::from_millis(1));
    let b = t.end_timer("b").expect("b was started");
    spin_for(Duration::from_micros(200));
    let a = t.end_timer("a").expect("a was started");
    assert!(b >= Duration::from_millis(1), "{b:?}");
    assert!(a > b, "outer {a:?} must contain inner {b:?}");

    let frame = t.collect_frame();
    assert_eq!(frame.threads.len(), 1, "one thread recorded");
    let nodes = &frame.threads[0].nodes;
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert_eq!(nodes[0].name.as_ref(), "a");
    assert_eq!(nodes[0].parent, None);
    assert_eq!(nodes[0].depth, 0);
    assert_eq!(nodes[1].name.as_ref(), "b");
    assert_eq!(nodes[1].parent, Some(0), "b is a child of a");
    assert_eq!(nodes[1].depth, 1);
    assert_eq!((nodes[0].calls, nodes[1].calls), (1, 1));
    let (ta, tb) = (nodes[0].total_ms, nodes[1].total_ms);
    assert!(
        nodes[0].self_ms <= ta,
        "self {} > total {ta}",
        nodes[0].self_ms
    );
    assert!(ta >= tb);
    assert!(
        (nodes[0].self_ms - (ta - tb)).abs() < 1e-6,
        "self = total - children"
    );
    assert!(
        (ta - a.as_secs_f64() * 1e3).abs() < 1e-3,
        "tree total {ta} ms vs end_timer {a:?}"
    );
    assert!(
        nodes[0].self_ms >= 0.3,
        "a spun ≥ 0.4 ms outside b, self_ms = {}",
        nodes[0].self_ms
    );
}

#[test]
fn end_timer_without_start_is_counted_not_a_panic() {
    let t = PerformanceTracker::new();
    assert_eq!(t.stats().unmatched_end_timers, 0);
    assert_eq!(t.end_timer("never.started"), None);
    assert_eq!(t.stats().unmatched_end_timers, 1);
    // ending twice: the second end has nothing to close
    t.start_timer("once");
    assert!(t.end_timer("once").is_some());
    assert_eq!(t.end_timer("once"), None);
    assert_eq!(t.stats().unmatched_end_timers, 2);
    assert!(
        matches!(t.try_end_timer("never.started"), Err(TrackError::NotStarted(n)) if n == "never.started")
    );
    // a timer started on another thread cannot be ended here
    let t2 = t.clone();
    std::thread::spawn(move || t2.start_timer("other.thread"))
        .join()
        .unwrap();
    assert_eq!(t.end_timer("other.thread"), None);
    assert_eq!(t.stats().unmatched_end_timers, 3);
}

#[test]
fn timers_with_alias_names_can_be_ended() {
    let t = PerformanceTracker::new();
    t.start_timer("render_time"); // the short alias of frame.time_ms
    assert!(t.end_timer("render_time").is_some(), "same alias");
    t.start_timer("render_time");
    assert!(
        t.end_timer(names::FRAME_TIME_MS).is_some(),
        "alias started, canonical ended"
    );
    t.start_timer(names::FRAME_TIME_MS);
    assert!(
        t.end_timer("render_time").is_some(),
        "canonical started, alias ended"
    );
    assert_eq!(t.stats().unmatched_end_timers, 0);
}

#[test]
fn same_timer_name_on_two_threads_does_not_collide() {
    let t = PerformanceTracker::new();
    let both_started = Arc::new(Barrier::new(2));
    let short_done = Arc::new(Barrier::new(2));

    let (t1, s1, d1) = (t.clone(), both_started.clone(), short_done.clone());
    let long = std::thread::spawn(move || {
        t1.start_timer("shared.name");
        s1.wait();
        d1.wait(); // the short thread has ended its timer
        std::thread::sleep(Duration::from_millis(30));
        t1.end_timer("shared.name")
    });
    let (t2, s2, d2) = (t.clone(), both_started, short_done);
    let short = std::thread::spawn(move || {
        s2.wait(); // the long thread's timer is open
        t2.start_timer("shared.name");
        std::thread::sleep(Duration::from_millis(1));
        let d = t2.end_timer("shared.name");
        d2.wait();
        d
    });
    let short = short.join().unwrap().expect("short thread's own timer");
    let long = long.join().unwrap().expect("long thread's own timer");
    assert!(short >= Duration::from_millis(1), "{short:?}");
    assert!(long >= Duration::from_millis(30), "{long:?}");
    assert!(short < long, "short {short:?} vs long {long:?}");
    assert_eq!(t.stats().unmatched_end_timers, 0);
    assert_eq!(t.stats().threads_seen, 2);
    assert_eq!(calls_of(&t, "shared.name"), 2);
}

// ------------------------------------------------------------------------------------ history

#[test]
fn history_keeps_the_newest_samples_in_order() {
    let t = PerformanceTracker::with_config(TrackerConfig {
        history_capacity: 100,
        ..Default::default()
    });
    for i in 0..250 {
        t.track_metric("hist.m", f64::from(i));
    }
    let h = t.get_history("hist.m");
    assert_eq!(h.len(), 100);
    let values: Vec<f64> = h.iter().map(|p| p.1).collect();
    let expected: Vec<f64> = (150..250).map(f64::from).collect();
    assert_eq!(values, expected);
    assert!(
        h.windows(2).all(|w| w[0].0 <= w[1].0),
        "timestamps are non-decreasing"
    );
    assert!(h[0].0 <= SystemTime::now() + Duration::from_secs(1));
    assert_eq!(t.get_metric("hist.m"), Some(249.0));

    let last = t.history_range("hist.m", TimeRange::ALL, 10);
    assert_eq!(
        last.iter().map(|p| p.1).collect::<Vec<_>>(),
        (240..250).map(f64::from).collect::<Vec<_>>()
    );
    assert_eq!(t.history_range("hist.m", TimeRange::ALL, 0), Vec::new());
    assert_eq!(t.history_range("hist.m", TimeRange::ALL, 1000).len(), 100);
    // a time range: [h[10].t, h[20].t) holds samples 10..20 (and any with equal stamps before 20)
    let r = TimeRange {
        since: Some(h[10].0),
        until: Some(h[20].0),
    };
    let in_range = t.history_range("hist.m", r, usize::MAX);
    let brute: Vec<(SystemTime, f64)> = h
        .iter()
        .copied()
        .filter(|p| p.0 >= h[10].0 && p.0 < h[20].0)
        .collect();
    assert_eq!(in_range, brute);
    assert_eq!(
        t.history_range("hist.m", r, 3),
        brute[brute.len().saturating_sub(3)..].to_vec()
    );
    assert_eq!(t.get_history("no.such.metric"), Vec::new());
}

#[test]
fn decimation_keeps_each_buckets_min_and_max() {
    let t = PerformanceTracker::new();
    let n = 5_000u32;
    for i in 0..n {
        let v = if i % 997 == 0 {
            1e6
        } else if i % 991 == 0 {
            -1e6
        } else {
            f64::from((i * 7919) % 1000)
        };
        t.track_metric("dec.m", v);
        if i % 500 == 0 {
            spin_for(Duration::from_micros(50)); // uneven spacing: some buckets dense, some empty
        }
    }
    let h = t.get_history("dec.m");
    assert_eq!(h.len(), n as usize);

    let check = |buckets: &[rfm_perf_core::MinMaxBucket], points: &[(SystemTime, f64)]| {
        let mut covered = 0usize;
        for b in buckets {
            let pts: Vec<(SystemTime, f64)> = points
                .iter()
                .copied()
                .filter(|p| p.0 >= b.start && p.0 < b.end)
                .collect();
            assert!(!pts.is_empty(), "empty buckets are left out");
            let min = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let max = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
            assert_eq!(b.min, min);
            assert_eq!(b.max, max);
            assert_eq!(b.count as usize, pts.len());
            assert!(
                (b.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0),
                "{} vs {mean}",
                b.mean
            );
            assert!(
                pts.contains(&(b.min_at, b.min)),
                "min_at is when the min was recorded"
            );
            assert!(
                pts.contains(&(b.max_at, b.max)),
                "max_at is when the max was recorded"
            );
            assert!(b.start < b.end);
            covered += pts.len();
        }
        assert!(
            buckets.windows(2).all(|w| w[0].end <= w[1].start),
            "buckets are ordered and disjoint"
        );
        covered
    };

    let all = t.decimate("dec.m", TimeRange::ALL, 37);
    assert!(!all.is_empty() && all.len() <= 37, "{}", all.len());
    assert_eq!(
        check(&all, &h),
        h.len(),
        "every sample lies in exactly one bucket"
    );
    let spikes = all.iter().filter(|b| b.max == 1e6).count();
    let dips = all.iter().filter(|b| b.min == -1e6).count();
    assert!(spikes >= 1 && dips >= 1, "spikes survive decimation");
    assert_eq!(all.iter().map(|b| b.count as usize).sum::<usize>(), h.len());

    // a closed range
    let range = TimeRange {
        since: Some(h[1000].0),
        until: Some(h[3000].0),
    };
    let part = t.decimate("dec.m", range, 10);
    let in_range: Vec<(SystemTime, f64)> = h
        .iter()
        .copied()
        .filter(|p| p.0 >= h[1000].0 && p.0 < h[3000].0)
        .collect();
    assert_eq!(check(&part, &in_range), in_range.len());
    assert!(part.first().unwrap().start >= h[1000].0 - Duration::from_nanos(1));

    // more buckets than samples, and degenerate requests
    let fine = t.decimate("dec.m", TimeRange::ALL, 100_000);
    assert_eq!(check(&fine, &h), h.len());
    assert!(t.decimate("dec.m", TimeRange::ALL, 0).is_empty());
    assert!(t.decimate("no.such.metric", TimeRange::ALL, 10).is_empty());
}

// ------------------------------------------------------------------------------------ baselines

#[test]
fn baselines_round_trip_through_a_file() {
    let t = PerformanceTracker::new();
    for i in 0..50 {
        // values that are not short decimals, so a lossy float round trip would show
        t.track_metric(names::FRAME_TIME_MS, 16.0 + f64::from(i) / 7.0);
        t.track_metric("rt.custom", (f64::from(i) * 0.1).sqrt());
    }
    t.start_timer("rt.scope");
    t.end_timer("rt.scope");
    let n = t.capture_baseline();
    assert_eq!(
        n,
        3,
        "{:?}",
        t.baselines().metrics.keys().collect::<Vec<_>>()
    );
    let saved = t.baselines();
    assert_eq!(saved.version, BASELINE_FORMAT_VERSION);
    assert_eq!(saved.metrics[names::FRAME_TIME_MS].samples, 50);
    assert!(saved.captured_unix_s > 0.0);

    let dir = temp_dir("round_trip");
    let path = dir.join("baselines.json");
    t.save_baselines(&path).expect("save");
    let fresh = PerformanceTracker::new();
    assert!(fresh.baselines().metrics.is_empty());
    assert_eq!(fresh.load_baselines(&path).expect("load"), 3);
    assert_eq!(
        fresh.baselines(),
        saved,
        "loaded baselines equal the saved ones bit for bit"
    );
    // saving over an existing file replaces it atomically and leaves no temporary file
    fresh.save_baselines(&path).expect("save again");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("baselines.json")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_baseline_files_are_errors_and_keep_the_current_baselines() {
    let t = PerformanceTracker::new();
    for _ in 0..10 {
        t.track_metric("bad.m", 5.0);
    }
    assert_eq!(t.capture_baseline(), 1);
    let before = t.baselines();
    let dir = temp_dir("bad_files");

    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, [0xff, 0x00, 0x13, b'{', b'x', 0x80]).unwrap();
    match t.load_baselines(&garbage) {
        Err(BaselineError::Corrupt { path, .. }) => assert_eq!(path, garbage),
        other => panic!("garbage: expected Corrupt, got {other:?}"),
    }
    assert_eq!(t.baselines(), before);

    let not_a_set = dir.join("not_a_set.json");
    std::fs::write(&not_a_set, br#"{"version": 1, "metrics": 12}"#).unwrap();
    assert!(matches!(
        t.load_baselines(&not_a_set),
        Err(BaselineError::Corrupt { .. })
    ));
    assert_eq!(t.baselines(), before);

    let no_version = dir.join("no_version.json");
    std::fs::write(&no_version, br#"{"metrics": {}}"#).unwrap();
    assert!(matches!(
        t.load_baselines(&no_version),
        Err(BaselineError::Corrupt { .. })
    ));
    assert_eq!(t.baselines(), before);

    // a well-formed file of another version
    let mut other = before.clone();
    other.version = BASELINE_FORMAT_VERSION + 1;
    other.metrics.clear();
    let wrong_version = dir.join("v2.json");
    std::fs::write(&wrong_version, serde_json::to_vec(&other).unwrap()).unwrap();
    match t.load_baselines(&wrong_version) {
        Err(BaselineError::Version {
            found, expected, ..
        }) => {
            assert_eq!(found, BASELINE_FORMAT_VERSION + 1);
            assert_eq!(expected, BASELINE_FORMAT_VERSION);
        }
        other => panic!("wrong version: expected Version, got {other:?}"),
    }
    assert_eq!(t.baselines(), before);

    let missing = dir.join("missing.json");
    match t.load_baselines(&missing) {
        Err(BaselineError::Missing(p)) => assert_eq!(p, missing),
        other => panic!("missing: expected Missing, got {other:?}"),
    }
    assert_eq!(t.baselines(), before);

    // a directory is an I/O error, not "missing" or "corrupt"
    assert!(matches!(
        t.load_baselines(&dir),
        Err(BaselineError::Io { .. })
    ));
    assert_eq!(t.baselines(), before);

    // baselines loaded from a file (not captured) are kept too
    let good = dir.join("good.json");
    t.save_baselines(&good).unwrap();
    let u = PerformanceTracker::new();
    assert_eq!(u.load_baselines(&good).unwrap(), 1);
    let loaded = u.baselines();
    assert!(u.load_baselines(&garbage).is_err());
    assert!(u.load_baselines(&missing).is_err());
    assert_eq!(u.baselines(), loaded);
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------------------------ regressions

/// Records `base` ×20 for each metric, captures the baseline, clears the history and records
/// `current` ×20; returns the tracker ready for `detect_regressions`.
fn tracker_with_phases(
    metrics: &[(&str, f64, f64)],
    custom: &[(&str, Direction)],
) -> PerformanceTracker {
    let t = PerformanceTracker::new();
    for &(name, dir) in custom {
        t.register_metric(MetricInfo::new(
            name,
            rfm_perf_core::Unit::None,
            "test metric",
            dir,
        ));
    }
    for _ in 0..20 {
        for &(name, base, _) in metrics {
            t.track_metric(name, base);
        }
    }
    assert_eq!(t.capture_baseline(), metrics.len());
    t.clear_history();
    assert!(t.get_history(metrics[0].0).is_empty(), "history cleared");
    assert_eq!(
        t.baselines().metrics.len(),
        metrics.len(),
        "baselines survive clear_history"
    );
    for _ in 0..20 {
        for &(name, _, cur) in metrics {
            t.track_metric(name, cur);
        }
    }
    t
}

#[test]
fn regressions_follow_each_metrics_direction() {
    let t = tracker_with_phases(
        &[
            (names::FRAME_TIME_MS, 10.0, 15.0), // lower is better, +50 %: worse
            (names::FRAME_FPS, 60.0, 30.0),     // higher is better, -50 %: worse
            (names::FRAME_COUNT, 10.0, 100.0),  // neutral, 10×: never
            ("reg.neutral", 1.0, 10.0),         // registered neutral, 10×: never
            ("reg.unregistered", 1.0, 10.0),    // a plain gauge is neutral: never
        ],
        &[("reg.neutral", Direction::Neutral)],
    );
    let r = t.detect_regressions(0.2);
    let flagged: Vec<&str> = r.iter().map(|r| r.metric.as_str()).collect();
    assert_eq!(r.len(), 2, "{flagged:?}");
    let time = r
        .iter()
        .find(|r| r.metric == names::FRAME_TIME_MS)
        .expect("frame time flagged");
    assert!((time.change - 0.5).abs() < 1e-9, "{}", time.change);
    assert_eq!(time.severity, Severity::Major);
    assert_eq!((time.baseline.median, time.current.median), (10.0, 15.0));
    assert_eq!(time.samples, 20);
    let fps = r
        .iter()
        .find(|r| r.metric == names::FRAME_FPS)
        .expect("falling fps flagged");
    assert!((fps.change - 0.5).abs() < 1e-9, "{}", fps.change);
    assert_eq!(fps.severity, Severity::Major);
    assert!(
        r.windows(2).all(|w| w[0].change >= w[1].change),
        "worst first"
    );
}

#[test]
fn improvements_are_not_regressions() {
    let t = tracker_with_phases(
        &[
            (names::FRAME_FPS, 60.0, 120.0),          // higher is better, rising
            (names::FRAME_TIME_MS, 20.0, 10.0),       // lower is better, falling
            (names::PROCESS_MEMORY_MB, 100.0, 110.0), // +10 %: below the threshold
        ],
        &[],
    );
    assert_eq!(t.detect_regressions(0.2), Vec::new());
    // the same numbers with a lower threshold flag the memory growth only
    let r = t.detect_regressions(0.05);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].metric, names::PROCESS_MEMORY_MB);
    assert!((r[0].change - 0.1).abs() < 1e-9);
}

#[test]
fn regression_severity_levels() {
    let lower = Direction::LowerIsBetter;
    let t = tracker_with_phases(
        &[
            ("sev.below", 10.0, 11.0),    // +10 %: not flagged
            ("sev.minor", 10.0, 13.0),    // +30 %: [t, 2t)
            ("sev.major", 10.0, 17.0),    // +70 %: [2t, 5t)
            ("sev.critical", 10.0, 25.0), // +150 %: ≥ 5t
            ("sev.higher", 100.0, 10.0),  // higher is better, -90 %: [2t, 5t)
        ],
        &[
            ("sev.below", lower),
            ("sev.minor", lower),
            ("sev.major", lower),
            ("sev.critical", lower),
            ("sev.higher", Direction::HigherIsBetter),
        ],
    );
    let r = t.detect_regressions(0.2);
    let got: Vec<(&str, Severity)> = r.iter().map(|r| (r.metric.as_str(), r.severity)).collect();
    assert_eq!(
        got,
        vec![
            ("sev.critical", Severity::Critical),
            ("sev.higher", Severity::Major),
            ("sev.major", Severity::Major),
            ("sev.minor", Severity::Minor),
        ]
    );
    assert!((r[0].change - 1.5).abs() < 1e-9);
    assert!((r[1].change - 0.9).abs() < 1e-9);
}

#[test]
fn no_baseline_means_no_regressions() {
    let t = PerformanceTracker::new();
    for _ in 0..10 {
        t.track_metric(names::FRAME_TIME_MS, 100.0);
    }
    assert!(t.detect_regressions(0.2).is_empty());
}

// ------------------------------------------------------------------------------------ bad input

#[test]
fn non_finite_values_and_empty_names_are_rejected() {
    let t = PerformanceTracker::new();
    t.track_metric("bad.v", f64::NAN);
    t.track_metric("bad.v", f64::INFINITY);
    t.track_metric("bad.v", f64::NEG_INFINITY);
    t.track_metric("", 1.0);
    t.start_timer("");
    assert_eq!(t.end_timer(""), None);
    let id = t.metric_id("bad.id").unwrap();
    t.track_id(id, f64::NAN);
    let s = t.stats();
    assert_eq!(s.rejected_values, 4);
    assert_eq!(s.rejected_names, 3);
    assert_eq!(
        s.unmatched_end_timers, 0,
        "an empty name is a bad name, not an unmatched timer"
    );
    assert_eq!(t.get_metric("bad.v"), None);
    assert_eq!(t.get_metric("bad.id"), None);
    assert!(t.get_history("bad.v").is_empty());
    assert!(
        t.recorded_metric_names().is_empty(),
        "{:?}",
        t.recorded_metric_names()
    );
    assert!(t.scope_stats().is_empty());
    assert_eq!(t.metric_id(""), None);

    // a good value after bad ones is stored alone
    t.track_metric("bad.v", 2.5);
    assert_eq!(
        t.get_history("bad.v")
            .iter()
            .map(|p| p.1)
            .collect::<Vec<_>>(),
        vec![2.5]
    );
    assert!(t.get_history("").is_empty());
}

#[test]
fn try_variants_return_the_right_error() {
    let t = PerformanceTracker::new();
    assert_eq!(t.try_track_metric("", 1.0), Err(TrackError::EmptyName));
    match t.try_track_metric("try.v", f64::NAN) {
        Err(TrackError::NonFinite { name, value }) => {
            assert_eq!(name, "try.v");
            assert!(value.is_nan());
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(
        t.try_track_metric("try.v", f64::NEG_INFINITY),
        Err(TrackError::NonFinite {
            name: "try.v".into(),
            value: f64::NEG_INFINITY
        })
    );
    assert_eq!(t.try_start_timer(""), Err(TrackError::EmptyName));
    assert_eq!(t.try_end_timer(""), Err(TrackError::EmptyName));
    assert_eq!(
        t.try_end_timer("try.none"),
        Err(TrackError::NotStarted("try.none".into()))
    );
    assert_eq!(t.get_metric("try.v"), None, "nothing stored");
    assert_eq!(t.try_track_metric("try.v", 1.0), Ok(()));
    assert_eq!(t.try_start_timer("try.t"), Ok(()));
    assert!(t.try_end_timer("try.t").is_ok());
    assert_eq!(t.get_metric("try.v"), Some(1.0));
}

// ------------------------------------------------------------------------------------ concurrency

const THREADS: usize = 8;
const SCOPES_PER_THREAD: u64 = 1_000_000;

#[test]
fn eight_threads_record_exactly_while_frames_are_collected() {
    let tracker = get_performance_tracker();
    let start = Instant::now();
    let frames_before = tracker.stats().frames_collected;
    let go = Arc::new(Barrier::new(THREADS + 1));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let collector = {
        let (go, done) = (go.clone(), done.clone());
        std::thread::spawn(move || {
            go.wait();
            let mut frames = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                get_performance_tracker().collect_frame();
                frames += 1;
                std::thread::yield_now();
            }
            frames
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let go = go.clone();
            std::thread::spawn(move || {
                go.wait();
                for i in 0..SCOPES_PER_THREAD {
                    perf_scope!("core_test.concurrency.scope");
                    std::hint::black_box(i);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let collector_frames = collector.join().expect("collector panicked");
    let elapsed = start.elapsed();

    let calls = calls_of(tracker, "core_test.concurrency.scope");
    let window = tracker.config().scope_window;
    assert!(
        elapsed + Duration::from_secs(1) < window,
        "the test took {elapsed:?}; the scope window ({window:?}) no longer covers all of it"
    );
    assert_eq!(
        calls,
        THREADS as u64 * SCOPES_PER_THREAD,
        "after {elapsed:?} and {collector_frames} collector frames"
    );
    assert!(collector_frames > 0);
    assert!(tracker.stats().frames_collected >= frames_before + collector_frames);
}

#[test]
fn timers_on_a_local_tracker_from_many_threads() {
    let t = PerformanceTracker::new();
    let per_thread = 20_000u64;
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    t.start_timer("mt.outer");
                    t.start_timer("mt.inner");
                    t.end_timer("mt.inner");
                    t.end_timer("mt.outer");
                    t.track_metric("mt.value", i as f64);
                }
            })
        })
        .collect();
    let collector = {
        let t = t.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                t.collect_frame();
            }
        })
    };
    for th in threads {
        th.join().unwrap();
    }
    collector.join().unwrap();
    let n = THREADS as u64 * per_thread;
    assert_eq!(calls_of(&t, "mt.outer"), n);
    assert_eq!(calls_of(&t, "mt.inner"), n);
    assert_eq!(
        t.get_history("mt.value").len() as u64,
        n.min(t.config().history_capacity as u64)
    );
    assert_eq!(
        t.long_term_history("mt.value")
            .iter()
            .map(|b| u64::from(b.count))
            .sum::<u64>(),
        n
    );
    assert_eq!(t.stats().unmatched_end_timers, 0);
    assert_eq!(t.stats().threads_seen, THREADS as u64);
}

// ------------------------------------------------------------------------------------ memory

#[test]
fn history_memory_is_bounded() {
    let t = PerformanceTracker::new();
    let cfg = t.config();
    let id = t.metric_id("mem.m").unwrap();
    for i in 0..10_000_000u32 {
        t.track_id(id, f64::from(i % 1000));
    }
    // raw ring: 16 B per sample, never allocated past its capacity;
    // long-term tier: one 40 B bucket per second
    let bound = cfg.history_capacity * 16 + cfg.long_term_capacity * 40;
    let bytes = t.history_bytes("mem.m");
    assert!(bytes >= cfg.history_capacity * 16, "{bytes}");
    assert!(bytes <= bound, "{bytes} > {bound}");
    let h = t.get_history("mem.m");
    assert_eq!(h.len(), cfg.history_capacity);
    assert_eq!(h.last().unwrap().1, f64::from(9_999_999u32 % 1000));
    let lt = t.long_term_history("mem.m");
    assert!(lt.len() <= cfg.long_term_capacity + 1);
    assert_eq!(
        lt.iter().map(|b| u64::from(b.count)).sum::<u64>(),
        10_000_000
    );
}

#[test]
fn small_capacities_bound_memory_too() {
    let cfg = TrackerConfig {
        history_capacity: 1000,
        long_term_capacity: 10,
        ..Default::default()
    };
    let t = PerformanceTracker::with_config(cfg.clone());
    for i in 0..100_000 {
        t.track_metric("mem.small", f64::from(i));
    }
    assert!(
        t.history_bytes("mem.small") <= cfg.history_capacity * 16 + cfg.long_term_capacity * 40
    );
    assert_eq!(t.get_history("mem.small").len(), 1000);
}

// ------------------------------------------------------------------------------------ macro

#[track_performance]
fn free_fn(x: u32) -> u32 {
    x + 1
}

struct Counter {
    n: u32,
}

impl Counter {
    #[track_performance]
    fn method_by_ref(&self) -> u32 {
        self.n
    }

    #[track_performance("core_test.macro.by_mut")]
    fn bump(&mut self) {
        self.n += 1;
    }

    #[track_performance("core_test.macro.by_value")]
    fn into_inner(self) -> u32 {
        self.n
    }
}

#[track_performance("core_test.macro.generic")]
fn generic_len<T: AsRef<[u8]>>(t: T) -> usize {
    t.as_ref().len()
}

#[track_performance("core_test.macro.async")]
async fn async_fn(x: u32) -> u32 {
    YieldOnce(false).await;
    x * 2
}

#[track_performance("core_test.macro.early_return")]
fn early_return(x: u32) -> u32 {
    if x == 0 {
        return 7;
    }
    x
}

#[track_performance("core_test.macro.question_mark")]
fn question_mark(s: &str) -> Result<u32, std::num::ParseIntError> {
    let v: u32 = s.parse()?;
    Ok(v + 1)
}

#[track_performance("core_test.macro.panics")]
fn panics(x: u32) -> u32 {
    if x > 0 {
        panic!("intentional panic in a tracked function");
    }
    x
}

#[test]
fn macro_on_a_free_fn_uses_the_module_path() {
    let g = get_performance_tracker();
    assert_eq!(free_fn(1), 2);
    assert_eq!(free_fn(2), 3);
    assert_eq!(calls_of(g, "tracker::free_fn"), 2);
}

#[test]
fn macro_on_methods() {
    let g = get_performance_tracker();
    let mut c = Counter { n: 1 };
    c.bump();
    c.bump();
    assert_eq!(c.method_by_ref(), 3);
    assert_eq!(c.into_inner(), 3);
    assert_eq!(calls_of(g, "tracker::method_by_ref"), 1);
    assert_eq!(calls_of(g, "core_test.macro.by_mut"), 2);
    assert_eq!(calls_of(g, "core_test.macro.by_value"), 1);
}

#[test]
fn macro_on_a_generic_fn_shares_one_scope() {
    let g = get_performance_tracker();
    assert_eq!(generic_len("abc"), 3);
    assert_eq!(generic_len(vec![1u8, 2]), 2);
    assert_eq!(generic_len([0u8; 5]), 5);
    assert_eq!(calls_of(g, "core_test.macro.generic"), 3);
}

#[test]
fn macro_on_an_async_fn_is_send_and_timed_across_polls() {
    let g = get_performance_tracker();
    let fut = async_fn(21);
    assert_send(&fut);
    assert_eq!(
        calls_of(g, "core_test.macro.async"),
        0,
        "nothing runs before the first poll"
    );
    assert_eq!(block_on(fut), 42);
    // the future moves to another thread between polls
    let fut = Box::pin(async_fn(1));
    let out = std::thread::spawn(move || block_on(fut)).join().unwrap();
    assert_eq!(out, 2);
    assert_eq!(calls_of(g, "core_test.macro.async"), 2);
    // a future dropped after its first poll still closes its span
    let mut fut = Box::pin(async_fn(3));
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    );
    drop(fut);
    assert_eq!(calls_of(g, "core_test.macro.async"), 3);
}

#[test]
fn macro_scope_closes_on_early_return_question_mark_and_panic() {
    let g = get_performance_tracker();
    assert_eq!(early_return(0), 7);
    assert_eq!(calls_of(g, "core_test.macro.early_return"), 1);

    assert!(question_mark("not a number").is_err());
    assert_eq!(calls_of(g, "core_test.macro.question_mark"), 1);
    assert_eq!(question_mark("41"), Ok(42));
    assert_eq!(calls_of(g, "core_test.macro.question_mark"), 2);

    let r = std::panic::catch_unwind(|| panics(1));
    assert!(r.is_err());
    assert_eq!(calls_of(g, "core_test.macro.panics"), 1);
    // the thread's scope stack is clean after the panic: a new call is a top-level call
    assert_eq!(panics(0), 0);
    assert_eq!(calls_of(g, "core_test.macro.panics"), 2);
}

#[test]
fn nested_tracked_calls_form_a_tree() {
    #[track_performance("core_test.tree.outer")]
    fn outer() -> u32 {
        inner() + inner()
    }
    #[track_performance("core_test.tree.inner")]
    fn inner() -> u32 {
        1
    }
    let g = get_performance_tracker();
    // Other tests collect the global tracker concurrently and may take this thread's calls into
    // their frame; retry (on a fresh thread each time) until our own collect gets them.
    let mut attempts = 0u64;
    let lane = loop {
        attempts += 1;
        assert!(attempts <= 1000, "never collected our own calls");
        let frame = std::thread::spawn(|| {
            assert_eq!(outer(), 2);
            get_performance_tracker().collect_frame()
        })
        .join()
        .unwrap();
        if let Some(lane) = frame.threads.iter().find(|l| {
            l.nodes
                .iter()
                .any(|n| n.name.as_ref() == "core_test.tree.outer")
        }) {
            break lane.clone();
        }
    };
    assert_eq!(lane.nodes.len(), 2, "{lane:?}");
    assert_eq!(lane.nodes[0].name.as_ref(), "core_test.tree.outer");
    assert_eq!(lane.nodes[1].name.as_ref(), "core_test.tree.inner");
    assert_eq!(lane.nodes[1].parent, Some(0));
    assert_eq!((lane.nodes[0].calls, lane.nodes[1].calls), (1, 2));
    assert_eq!(calls_of(g, "core_test.tree.outer"), attempts);
    assert_eq!(calls_of(g, "core_test.tree.inner"), 2 * attempts);
}

#[test]
fn perf_scope_times_the_rest_of_the_block() {
    fn block_scope(n: u32) -> u32 {
        perf_scope!("core_test.perf_scope.block");
        std::hint::black_box(n) + 1
    }
    fn default_name() {
        perf_scope!();
    }
    let g = get_performance_tracker();
    assert_eq!(block_scope(1), 2);
    assert_eq!(block_scope(2), 3);
    assert_eq!(calls_of(g, "core_test.perf_scope.block"), 2);
    // `perf_scope!()` names the scope after the module; other tests may use it too, so only
    // check that it grew
    let before = calls_of(g, "tracker");
    default_name();
    assert!(calls_of(g, "tracker") > before);
}

// ------------------------------------------------------------------------------------ statistics

#[test]
fn scope_stats_percentiles_are_ordered() {
    let t = PerformanceTracker::new();
    // 200 calls from 20 µs to ~2 ms, skewed so the percentiles differ
    for i in 0..200u64 {
        let us = if i % 50 == 0 {
            2_000
        } else {
            20 + (i * 37) % 300
        };
        t.start_timer("stats.varied");
        spin_for(Duration::from_micros(us));
        t.end_timer("stats.varied");
        if i % 40 == 0 {
            t.collect_frame();
        }
    }
    let s = t
        .scope_stats()
        .into_iter()
        .find(|s| s.name.as_ref() == "stats.varied")
        .expect("stats");
    assert_eq!(s.calls, 200);
    assert!(s.min_ms <= s.p50_ms, "{s:?}");
    assert!(s.p50_ms <= s.p95_ms, "{s:?}");
    assert!(s.p95_ms <= s.p99_ms, "{s:?}");
    assert!(s.p99_ms <= s.max_ms, "{s:?}");
    assert!(s.min_ms >= 0.02, "{s:?}");
    assert!(s.max_ms >= 2.0, "{s:?}");
    assert!(
        s.p50_ms < s.p99_ms,
        "varied durations give distinct percentiles: {s:?}"
    );
    assert!(
        s.p50_ms > 0.1 && s.p50_ms < 0.5,
        "median of ~20–320 µs calls: {s:?}"
    );
    assert!(s.mean_ms >= s.min_ms && s.mean_ms <= s.max_ms);
    assert!((s.mean_ms * 200.0 - s.total_ms).abs() < 1e-6 * s.total_ms.max(1.0));
    assert!(s.self_ms <= s.total_ms + 1e-9);
    assert!(s.calls_per_frame > 0.0);
}

#[test]
fn self_time_survives_a_collect_while_the_parent_is_open() {
    let t = PerformanceTracker::new();
    t.set_frame_driver(true);
    t.start_timer("selftime.load");
    t.start_timer("selftime.step");
    std::thread::sleep(Duration::from_millis(20));
    t.end_timer("selftime.step");
    t.collect_frame(); // the parent is still open here
    t.start_timer("selftime.step");
    std::thread::sleep(Duration::from_millis(20));
    t.end_timer("selftime.step");
    let total = t.end_timer("selftime.load").unwrap();
    t.collect_frame();
    let stats = t.scope_stats();
    let load = stats
        .iter()
        .find(|s| s.name.as_ref() == "selftime.load")
        .unwrap();
    // both 20 ms children are subtracted, not only the one in the last frame
    assert!(
        load.self_ms < 10.0,
        "self {} of total {:?}",
        load.self_ms,
        total
    );
    assert!(load.total_ms >= 40.0);
}

fn recurse(t: &PerformanceTracker, depth: u32) {
    t.start_timer("selftime.recursive");
    std::thread::sleep(Duration::from_millis(2));
    if depth > 0 {
        recurse(t, depth - 1);
    }
    t.end_timer("selftime.recursive");
}

#[test]
fn recursion_is_counted_once_in_totals() {
    let t = PerformanceTracker::new();
    t.set_frame_driver(true);
    recurse(&t, 3);
    let frame = t.collect_frame();
    let outer = frame.threads[0].nodes[0].total_ms;
    let s = t
        .scope_stats()
        .into_iter()
        .find(|s| s.name.as_ref() == "selftime.recursive")
        .unwrap();
    assert_eq!(s.calls, 4);
    assert!(
        (s.total_ms - outer).abs() < 1e-6,
        "total {} vs outermost call {outer}",
        s.total_ms
    );
    assert!(s.self_ms <= s.total_ms + 1e-9);
    assert_eq!(
        t.get_metric("selftime.recursive"),
        Some(outer as f32 as f64)
    );
}

/// A user who puts an id in a metric name: 200 000 distinct names. The tracker keeps its name
/// limit, sends the rest to the overflow entry (counted), and keeps working.
#[test]
fn two_hundred_thousand_names_stay_bounded_and_the_tracker_keeps_working() {
    let t = PerformanceTracker::new();
    let before = t.stats().names;
    for i in 0..200_000u32 {
        t.track_metric(&format!("user.{i}.latency_ms"), f64::from(i));
    }
    for i in 0..5_000u32 {
        let name = format!("request.{i}");
        t.start_timer(&name);
        t.end_timer(&name);
    }
    t.track_metric("frame.time_ms", 16.0);
    let s = t.stats();
    let limit = TrackerConfig::default().max_metrics as u64;
    let scopes = TrackerConfig::default().max_scopes as u64;
    assert!(s.names <= limit + scopes, "{} names kept", s.names);
    assert!(s.names > before, "names under the limit are kept");
    assert!(
        s.overflowed_records >= 200_000 - limit + 5_000 - scopes,
        "{} records overflowed",
        s.overflowed_records
    );
    assert_eq!(t.get_metric("frame.time_ms"), Some(16.0));
    assert_eq!(
        t.get_metric(rfm_perf_core::OVERFLOW_METRIC),
        Some(199_999.0)
    );
    assert!(t.get_metric("user.199999.latency_ms").is_none());
    assert!(
        t.get_metric("user.10.latency_ms").is_some(),
        "early names keep their own entry"
    );
    assert!(t.scope_stat(rfm_perf_core::OVERFLOW_SCOPE).is_some());
    assert!(s.history_bytes <= TrackerConfig::default().history_budget_bytes as u64);
    // a name past the limit is not cached per thread, and every record of it is counted
    let n = t.stats().overflowed_records;
    t.track_metric("user.199999.latency_ms", 1.0);
    t.track_metric("user.199999.latency_ms", 2.0);
    assert_eq!(t.stats().overflowed_records, n + 2);
}

/// The histories share one memory budget: more metrics than it fits at full capacity each keep
/// fewer (the newest) samples, and the total stays within it.
#[test]
fn histories_share_the_memory_budget() {
    let budget = 4 << 20;
    let t = PerformanceTracker::with_config(TrackerConfig {
        history_budget_bytes: budget,
        ..Default::default()
    });
    for m in 0..200 {
        let name = format!("m{m}");
        for i in 0..5_000 {
            t.track_metric(&name, f64::from(i));
        }
    }
    let s = t.stats();
    assert!(
        s.history_bytes <= budget as u64,
        "{} bytes for a budget of {budget}",
        s.history_bytes
    );
    let kept = t.get_history("m0").len();
    assert!((16..5_000).contains(&kept), "m0 keeps {kept} samples");
    assert_eq!(t.get_metric("m0"), Some(4_999.0), "the newest samples stay");
    assert_eq!(t.get_history("m199").last().map(|p| p.1), Some(4_999.0));
}

/// The trace of real recording: scopes on two threads, nested and in order, the counters, and
/// what falls outside the window left out.
#[test]
fn a_recorded_trace_exports_nested_ordered_events_per_thread() {
    use rfm_perf_core::trace::validate_chrome_json;
    let t = PerformanceTracker::new();
    for frame in 0..20 {
        t.start_timer("frame");
        t.start_timer("update");
        spin_for(Duration::from_micros(50));
        t.end_timer("update");
        t.start_timer("render");
        t.start_timer("encode");
        t.end_timer("encode");
        t.end_timer("render");
        t.end_timer("frame");
        t.track_metric("frame.fps", 60.0 + f64::from(frame));
        t.collect_frame();
    }
    let t2 = t.clone();
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            t2.start_timer("job");
            t2.end_timer("job");
        })
        .unwrap()
        .join()
        .unwrap();
    t.collect_frame();
    let capture = t.trace(Duration::from_secs(10));
    assert_eq!(capture.span_count(), 20 * 4 + 1);
    let json = capture.chrome_json(&[]);
    assert_eq!(validate_chrome_json(&json), Ok(81));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let threads: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(threads.len(), 2);
    assert!(threads.contains(&"worker"));
    let fps = events
        .iter()
        .filter(|e| e["ph"] == "C" && e["name"] == "frame.fps")
        .count();
    assert_eq!(fps, 20);
    // self time: a frame's self time is its duration less update and render
    let first = events.iter().find(|e| e["name"] == "frame").unwrap();
    assert!(first["args"]["self_us"].as_f64().unwrap() < first["dur"].as_f64().unwrap());
    // a short window leaves old frames out
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(t.trace(Duration::from_millis(10)).span_count(), 0);
}

/// Scope statistics are computed once per frame and window (three views ask each interval):
/// a new frame, or a cleared history, gives new ones.
#[test]
fn scope_statistics_follow_new_frames_and_cleared_history() {
    let t = PerformanceTracker::new();
    t.set_frame_driver(true);
    let frame = |calls: u32| {
        for _ in 0..calls {
            t.start_timer("work");
            t.end_timer("work");
        }
        t.collect_frame();
    };
    frame(2);
    let first = t.scope_stats();
    assert_eq!(first[0].calls, 2);
    // asked again, nothing new: the same
    assert_eq!(t.scope_stats(), first);
    frame(3);
    assert_eq!(t.scope_stats()[0].calls, 5, "a new frame is counted");
    t.clear_history();
    assert!(
        t.scope_stats().is_empty(),
        "cleared history leaves no statistics"
    );
}
