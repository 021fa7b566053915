//! The plugin in a headless Bevy app (`MinimalPlugins`, no window, no render app).

use std::time::{Duration, Instant};

use bevy::diagnostic::{Diagnostic, DiagnosticPath, Diagnostics, RegisterDiagnostic};
use bevy::prelude::*;
use rfm_perf::Unit;
use rfm_perf::prelude::*;
use rfm_perf::tunables::TunableError;

#[global_allocator]
static ALLOC: rfm_perf::alloc::CountingAllocator = rfm_perf::alloc::CountingAllocator;

#[track_performance("plugin_test.physics")]
fn physics(n: u32) -> u64 {
    (0..n).map(u64::from).sum()
}

#[track_performance]
fn ai_think(v: &mut Vec<u32>) {
    v.push(v.len() as u32);
}

fn game(mut v: Local<Vec<u32>>) {
    std::hint::black_box(physics(1000));
    ai_think(&mut v);
    // allocate something every frame so the counting allocator has work
    std::hint::black_box(vec![0u8; 1024]);
}

const LATENCY: DiagnosticPath = DiagnosticPath::const_new("net/latency");

fn measure_latency(mut d: Diagnostics) {
    d.add_measurement(&LATENCY, || 12.5);
}

#[derive(Resource)]
struct Quality(f64);

fn app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(RfmPerfPlugin::headless())
        .register_diagnostic(Diagnostic::new(LATENCY).with_suffix("ms"))
        .add_systems(Update, (game, measure_latency));
    app
}

/// A `MinimalPlugins` app with `plugin` recording into `tracker`, without system sampling.
fn tracked_app(tracker: &PerformanceTracker, plugin: RfmPerfPlugin) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        ..plugin.with_tracker(tracker.clone())
    });
    app
}

#[test]
fn headless_app_records_frames_scopes_diagnostics_and_system() {
    let mut app = app();
    const N: u64 = 30;
    for _ in 0..N {
        app.update();
        std::thread::sleep(Duration::from_millis(2));
    }
    let tracker = app.world().resource::<PerfTracker>().clone();
    // frame metrics computed by the plugin
    let ft = tracker.get_metric("frame.time_ms").expect("frame time");
    assert!((2.0..1000.0).contains(&ft), "{ft}");
    let fps = tracker.get_metric("fps").expect("fps via its short alias");
    assert!((fps - 1000.0 / ft).abs() < 1e-6);
    let low = tracker.get_metric("frame.fps_1pct_low").unwrap();
    let best_fps = tracker
        .get_history("frame.fps")
        .iter()
        .map(|p| p.1)
        .fold(0.0, f64::max);
    assert!(
        low > 0.0 && low <= best_fps + 1e-9,
        "1% low {low} vs best {best_fps}"
    );
    assert!(tracker.get_history("frame.time_ms").len() >= (N - 2) as usize);
    // instrumented functions: one call per frame each
    let stats = tracker.scope_stats();
    let phys = stats
        .iter()
        .find(|s| s.name.as_ref() == "plugin_test.physics")
        .expect("physics scope");
    assert_eq!(phys.calls, N);
    assert!(
        stats.iter().any(|s| s.name.as_ref() == "plugin::ai_think"),
        "default name is module_path::fn_name"
    );
    // every collected frame has a call tree with the physics scope in it
    let frame = tracker.latest_frame().unwrap();
    assert!(
        frame
            .threads
            .iter()
            .flat_map(|l| &l.nodes)
            .any(|n| n.name.as_ref() == "plugin_test.physics")
    );
    // Bevy diagnostics keep their path and get a unit
    assert_eq!(tracker.get_metric("net/latency"), Some(12.5));
    assert_eq!(
        tracker.metric_info("net/latency").unwrap().unit,
        Unit::Milliseconds
    );
    assert!(tracker.get_metric("entity_count").unwrap() >= 1.0);
    // allocations per frame from the counting allocator
    assert!(tracker.get_metric("process.allocs_per_frame").unwrap() >= 1.0);
    assert!(tracker.get_metric("process.alloc_bytes_per_frame").unwrap() >= 1024.0);
    assert!(tracker.get_metric("process.heap_live_mb").unwrap() > 0.0);
    // system sampler: first sample arrives after ~200 ms
    let deadline = Instant::now() + Duration::from_secs(5);
    while tracker.get_metric("process.memory_mb").is_none() && Instant::now() < deadline {
        app.update();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(tracker.get_metric("process.memory_mb").unwrap() > 1.0);
    assert!(
        tracker.get_metric("system.cpu.core0_pct").is_some(),
        "per-core CPU"
    );
    // a published snapshot for readers
    assert!(tracker.snapshot().value("frame.time_ms").is_some());
}

#[test]
fn tunables_change_parameters_through_the_registry() {
    // its own tracker: the other test counts calls in the global one
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(RfmPerfPlugin::headless().with_tracker(PerformanceTracker::new()));
    app.insert_resource(Quality(1.0));
    app.world_mut().resource_mut::<Tunables>().register(
        Tunable::new("test.quality", "quality", 0.0..=1.0, 1.0, |w, v| {
            w.resource_mut::<Quality>().0 = v
        })
        .with_step(0.25),
    );
    let applied = app
        .world_mut()
        .resource_mut::<Tunables>()
        .set("test.quality", 0.3)
        .unwrap();
    assert_eq!(applied, 0.25, "rounded to the step");
    app.update();
    assert_eq!(app.world().resource::<Quality>().0, 0.25);
    let mut t = app.world_mut().resource_mut::<Tunables>();
    assert!(matches!(
        t.set("test.quality", 2.0),
        Err(TunableError::OutOfRange { .. })
    ));
    assert!(matches!(
        t.set("test.quality", f64::NAN),
        Err(TunableError::OutOfRange { .. })
    ));
    assert!(matches!(t.set("nope", 1.0), Err(TunableError::Unknown(_))));
    assert_eq!(
        t.get("test.quality").unwrap().value(),
        0.25,
        "a rejected value changes nothing"
    );
    app.update();
    assert_eq!(app.world().resource::<Quality>().0, 0.25);
}

#[test]
fn config_corrects_nonsense_and_resolves_aliases() {
    let p =
        RfmPerfPlugin::headless().launch_dashboard(0.0, ["render_time", "", "memory_usage"], false);
    let c = p.config();
    assert_eq!(c.update_interval, Duration::from_secs(1));
    assert_eq!(
        c.metrics_to_show,
        vec!["frame.time_ms".to_string(), "process.memory_mb".to_string()]
    );
    assert!(!c.show_bottleneck_analysis);
    assert_eq!(c.hotkey, KeyCode::F12);
    assert_eq!(p.api_config.bind.to_string(), "127.0.0.1:8501");
}

#[test]
fn works_without_diagnostics_or_sampling() {
    let tracker = PerformanceTracker::new();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        bridge_diagnostics: false,
        system_sampling: false,
        ..RfmPerfPlugin::headless().with_tracker(tracker.clone())
    });
    for _ in 0..3 {
        app.update();
    }
    assert!(tracker.get_metric("frame.time_ms").is_some());
    assert_eq!(
        tracker.get_metric("entity_count"),
        None,
        "absent, not an error"
    );
    assert!(!get_performance_tracker().same_as(&tracker));
}

#[test]
fn readme_versions_match_cargo_toml() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let cargo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let bevy = cargo
        .lines()
        .find(|l| l.starts_with("bevy = "))
        .and_then(|l| l.split('"').nth(1))
        .map(|v| v.trim_start_matches('='))
        .expect("bevy version in Cargo.toml");
    assert!(
        readme.contains(&format!("bevy = \"{bevy}\"")),
        "README shows bevy {bevy}"
    );
    assert!(
        readme.contains(&format!("bevy {bevy}")),
        "README names bevy {bevy}"
    );
    let rust = cargo
        .lines()
        .find(|l| l.starts_with("rust-version"))
        .and_then(|l| l.split('"').nth(1))
        .unwrap();
    assert!(
        readme.contains(&format!("Rust {rust}")),
        "README names Rust {rust}"
    );
}

#[test]
fn slow_frames_raise_an_alert_once_and_suggest_the_dominant_scope() {
    let tracker = PerformanceTracker::new();
    let mut app = tracked_app(
        &tracker,
        RfmPerfPlugin {
            update_interval: Duration::from_millis(20),
            ..RfmPerfPlugin::headless()
        },
    );
    // a system whose scope takes most of a slow (≈ 40 ms) frame
    let t2 = tracker.clone();
    app.add_systems(Update, move || {
        t2.start_timer("plugin_test.heavy");
        std::thread::sleep(Duration::from_millis(40));
        t2.end_timer("plugin_test.heavy");
    });
    for _ in 0..8 {
        app.update();
    }
    let insights = app.world().resource::<rfm_perf::Insights>();
    let alert = insights
        .alerts
        .iter()
        .find(|a| a.metric == "frame.time_ms")
        .expect("frame time alert");
    assert_eq!(alert.status, rfm_perf::Health::Critical);
    assert_eq!(
        insights
            .log
            .iter()
            .filter(|a| a.metric == "frame.time_ms")
            .count(),
        1,
        "raised once, not every frame"
    );
    assert!(
        insights
            .suggestions
            .iter()
            .any(|s| s.title.contains("plugin_test.heavy")),
        "{:?}",
        insights.suggestions
    );
}

/// App code hears about alerts through messages, once per alert raised and once when it ends.
#[test]
fn alerts_arrive_as_messages_when_raised_and_when_cleared() {
    #[derive(Resource, Default)]
    struct Heard {
        raised: Vec<String>,
        cleared: Vec<String>,
    }
    fn listen(
        mut heard: ResMut<Heard>,
        mut raised: MessageReader<rfm_perf::AlertRaised>,
        mut cleared: MessageReader<rfm_perf::AlertCleared>,
    ) {
        heard.raised.extend(
            raised
                .read()
                .map(|rfm_perf::AlertRaised(a)| a.metric.clone()),
        );
        heard
            .cleared
            .extend(cleared.read().map(|c| c.metric.clone()));
    }
    // only the I/O rules: frame-time rules would fire on a busy test machine
    let rules = std::env::temp_dir().join(format!("rfm-io-rules-{}.toml", std::process::id()));
    std::fs::write(
        &rules,
        "[[rule]]\nmetric = \"io.pressure_pct\"\ncondition = \"above\"\nthreshold = 30\nseverity = \"critical\"\n",
    )
    .unwrap();
    let tracker = PerformanceTracker::new();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(RfmPerfPlugin {
            system_sampling: false,
            bridge_diagnostics: false,
            update_interval: Duration::from_millis(10),
            ..RfmPerfPlugin::headless()
                .with_tracker(tracker.clone())
                .with_alert_rules(&rules)
        })
        .init_resource::<Heard>()
        .add_systems(Update, listen);
    let step = |app: &mut App, level: f64| {
        for _ in 0..4 {
            tracker.track_metric("io.pressure_pct", level);
            app.update();
            std::thread::sleep(Duration::from_millis(12));
        }
    };
    step(&mut app, 50.0); // past the critical level of 30 %
    step(&mut app, 55.0); // still past it: no second message
    assert_eq!(app.world().resource::<Heard>().raised, ["io.pressure_pct"]);
    assert!(app.world().resource::<Heard>().cleared.is_empty());
    step(&mut app, 1.0); // back in the good range
    assert_eq!(app.world().resource::<Heard>().cleared, ["io.pressure_pct"]);
    assert_eq!(app.world().resource::<Heard>().raised.len(), 1);
    let _ = std::fs::remove_file(&rules);
}

/// Alert rules come from a file that is re-read while the app runs: an edit takes effect, a
/// file that does not parse keeps the last good rules (and says where it broke), a bad rule is
/// skipped alone, and the file's levels colour the dashboard.
#[test]
fn alert_rule_files_are_re_read_and_bad_ones_keep_the_last_good_rules() {
    let dir = std::env::temp_dir().join(format!("rfm-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alerts.toml");
    let rule = |id: &str, threshold: f64, extra: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\nmetric = \"io.pressure_pct\"\ncondition = \"above\"\nthreshold = {threshold}\nseverity = \"critical\"\n{extra}\n"
        )
    };
    std::fs::write(&path, rule("io-high", 20.0, "")).unwrap();
    let tracker = PerformanceTracker::new();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        bridge_diagnostics: false,
        update_interval: Duration::from_millis(10),
        ..RfmPerfPlugin::headless()
            .with_tracker(tracker.clone())
            .with_alert_rules(&path)
    });
    let step = |app: &mut App, level: f64| {
        for _ in 0..3 {
            tracker.track_metric("io.pressure_pct", level);
            app.update();
            std::thread::sleep(Duration::from_millis(12));
        }
    };
    let alerts = |app: &App| -> Vec<String> {
        let ins = app.world().resource::<Insights>();
        ins.alerts.iter().map(|a| a.rule.clone()).collect()
    };
    step(&mut app, 25.0); // 25 ≥ 20: the file's rule fires (the built-in critical level is 30)
    assert_eq!(alerts(&app), ["io-high"]);
    {
        let ins = app.world().resource::<Insights>();
        assert_eq!(ins.rules.report.source, path.display().to_string());
        assert_eq!(ins.rules.rules.len(), 1);
        assert!(
            ins.alerts[0]
                .message
                .contains("above its critical level 20.00"),
            "{}",
            ins.alerts[0].message
        );
    }

    // a syntax error: logged, published with its line and column, the last good rules stay
    std::fs::write(
        &path,
        "[[rule]]\nid = \"io-high\"\nmetric = io.pressure_pct\n",
    )
    .unwrap();
    step(&mut app, 25.0);
    {
        let ins = app.world().resource::<Insights>();
        let e = ins.rules.report.file_error.as_ref().expect("a file error");
        assert_eq!((e.line, e.column), (3, 10), "{e}");
        assert_eq!(e.file, path.display().to_string());
    }
    assert_eq!(
        alerts(&app),
        ["io-high"],
        "the last good rules stay in effect"
    );

    // fixed, with its level raised and a second rule that is wrong: the changed rule's alert
    // ends, the bad rule is skipped alone
    let text = format!(
        "{}{}",
        rule("io-high", 50.0, ""),
        rule("io-bad", 10.0, "for = \"-3s\"")
    );
    std::fs::write(&path, text).unwrap();
    step(&mut app, 25.0);
    {
        let ins = app.world().resource::<Insights>();
        assert!(ins.rules.report.file_error.is_none());
        assert_eq!(ins.rules.report.rule_errors.len(), 1);
        let e = &ins.rules.report.rule_errors[0];
        assert_eq!(e.rule.as_deref(), Some("io-bad"));
        assert_eq!(e.line, 14, "{e}");
        assert!(e.message.contains("negative"), "{e}");
        assert_eq!(ins.rules.rules.len(), 1);
    }
    assert!(alerts(&app).is_empty(), "25 is under the new level of 50");
    step(&mut app, 60.0);
    assert_eq!(alerts(&app), ["io-high"]);

    // a warning and a critical level in the file colour the dashboard the same
    let pair = "[[rule]]\nmetric = \"frame.fps\"\ncondition = \"below\"\nthreshold = 40\nseverity = \"warning\"\n\n[[rule]]\nmetric = \"frame.fps\"\ncondition = \"below\"\nthreshold = 25\nseverity = \"critical\"\n";
    std::fs::write(&path, pair).unwrap();
    step(&mut app, 1.0);
    let th = app.world().resource::<rfm_perf::HealthThresholds>();
    assert_eq!(th.status("frame.fps", 35.0), rfm_perf::Health::Warning);
    assert_eq!(th.status("frame.fps", 50.0), rfm_perf::Health::Ok);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The key metrics come back out as Bevy diagnostics under `rfm_perf/…` (what
/// `LogDiagnosticsPlugin` prints), and the bridge does not copy them back in.
#[test]
fn key_metrics_are_bevy_diagnostics_and_do_not_loop_back() {
    use bevy::diagnostic::DiagnosticsStore;
    use rfm_perf::bridge::EXPORTED_DIAGNOSTICS;
    let tracker = PerformanceTracker::new();
    let mut app = tracked_app(&tracker, RfmPerfPlugin::headless());
    for _ in 0..5 {
        tracker.track_metric("process.memory_mb", 321.0);
        app.update();
    }
    let store = app.world().resource::<DiagnosticsStore>();
    let frame = store
        .get(&EXPORTED_DIAGNOSTICS[0].path)
        .expect("registered");
    assert_eq!(frame.suffix, "ms");
    let latest = frame.measurement().expect("a frame-time measurement").value;
    assert_eq!(Some(latest), tracker.get_metric("frame.time_ms"));
    assert!(
        frame.history_len() >= 3,
        "one measurement per new frame time"
    );
    let memory = store.get(&EXPORTED_DIAGNOSTICS[4].path).unwrap();
    assert_eq!(memory.measurement().unwrap().value, 321.0);
    let gpu = store.get(&EXPORTED_DIAGNOSTICS[2].path).unwrap();
    assert!(
        gpu.measurement().is_none(),
        "no fractal pass: nothing to show"
    );
    assert!(
        tracker
            .metrics()
            .iter()
            .all(|m| !m.name.starts_with("rfm_perf/")),
        "the bridge copied our own diagnostics back"
    );
}

/// A headless app's trace: the systems' scopes, nested and ordered per thread, with the frame
/// counters, as a Chrome Trace Event file a viewer accepts.
#[test]
fn a_headless_apps_trace_is_a_valid_chrome_trace() {
    let tracker = PerformanceTracker::new();
    let mut app = tracked_app(&tracker, RfmPerfPlugin::headless());
    let t2 = tracker.clone();
    app.add_systems(Update, move || {
        t2.start_timer("plugin_test.system");
        t2.start_timer("plugin_test.step");
        std::hint::black_box((0..1000u64).sum::<u64>());
        t2.end_timer("plugin_test.step");
        t2.end_timer("plugin_test.system");
    });
    for _ in 0..20 {
        app.update();
    }
    let capture = tracker.trace(Duration::from_secs(10));
    let json = capture.chrome_json(&[]);
    let spans = rfm_perf_core::trace::validate_chrome_json(&json).expect("a valid trace");
    assert!(spans >= 40, "{spans} spans");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let step = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "plugin_test.step")
        .count();
    assert_eq!(step, 20);
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "C" && e["name"] == "frame.time_ms"),
        "frame time counters"
    );
    for e in events.iter().filter(|e| e["ph"] == "X") {
        for field in ["name", "ts", "dur", "pid", "tid"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
    }
}

/// The regression check runs off the frame: a metric that got significantly slower than its
/// baseline shows up in the suggestions a few intervals later, and an unchanged one never does.
#[test]
fn regressions_are_checked_off_the_frame_and_suggested() {
    let tracker = PerformanceTracker::new();
    for name in ["test.latency_ms", "test.steady_ms"] {
        tracker.register_metric(rfm_perf::MetricInfo::new(
            name,
            Unit::Milliseconds,
            "",
            rfm_perf::Direction::LowerIsBetter,
        ));
    }
    let noisy = |i: u32, level: f64| level * (1.0 + 0.02 * f64::from(i % 7));
    for i in 0..100 {
        tracker.track_metric("test.latency_ms", noisy(i, 10.0));
        tracker.track_metric("test.steady_ms", noisy(i, 5.0));
    }
    tracker.capture_baseline();
    tracker.clear_history();
    for i in 0..100 {
        tracker.track_metric("test.latency_ms", noisy(i, 20.0));
        tracker.track_metric("test.steady_ms", noisy(i, 5.0));
    }
    let mut app = tracked_app(
        &tracker,
        RfmPerfPlugin {
            update_interval: Duration::from_millis(10),
            ..RfmPerfPlugin::headless()
        },
    );
    let until = Instant::now() + Duration::from_secs(10);
    let found = loop {
        app.update();
        let titles: Vec<String> = app
            .world()
            .resource::<Insights>()
            .suggestions
            .iter()
            .map(|s| s.title.clone())
            .collect();
        if titles.iter().any(|t| t.contains("test.latency_ms")) || Instant::now() > until {
            break titles;
        }
        std::thread::sleep(Duration::from_millis(12));
    };
    assert!(
        found
            .iter()
            .any(|t| t.contains("regression of test.latency_ms")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|t| t.contains("test.steady_ms")),
        "{found:?}"
    );
}

/// A parameter change asked for with a message is checked and applied; a bad one changes nothing.
#[test]
fn apply_tunable_messages_go_through_the_registry() {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        ..RfmPerfPlugin::headless().with_tracker(PerformanceTracker::new())
    });
    app.insert_resource(Quality(1.0));
    app.world_mut().resource_mut::<Tunables>().register(
        Tunable::new("test.quality", "", 0.25..=1.0, 1.0, |world, v| {
            world.resource_mut::<Quality>().0 = v
        })
        .with_step(0.25),
    );
    app.world_mut().write_message(rfm_perf::ApplyTunable {
        name: "test.quality".into(),
        value: 7.0,
    });
    app.update();
    assert_eq!(
        app.world().resource::<Quality>().0,
        1.0,
        "out of range: unchanged"
    );
    app.world_mut().write_message(rfm_perf::ApplyTunable {
        name: "test.quality".into(),
        value: 0.6,
    });
    app.update();
    assert_eq!(
        app.world().resource::<Quality>().0,
        0.5,
        "rounded to the step"
    );
    // from another thread, with an answer
    let sender = app.world().resource::<rfm_perf::TunableRequests>().sender();
    let reply = std::thread::spawn(move || sender.request("nope", 1.0))
        .join()
        .unwrap();
    app.update();
    assert!(matches!(
        reply.recv().unwrap(),
        Err(TunableError::Unknown(_))
    ));
}

/// A game whose frame takes 70 ms × its render scale²: adaptive quality, turned on at 30 FPS,
/// steps the scale down until frames fit, within its bounds, and says what it did; turned off,
/// it stops.
#[test]
fn adaptive_quality_steps_a_tunable_to_hold_the_frame_rate() {
    #[derive(Resource)]
    struct RenderScale(f64);
    fn render(scale: Res<RenderScale>) {
        std::thread::sleep(Duration::from_secs_f64(0.070 * scale.0 * scale.0));
    }
    let mut app = tracked_app(&PerformanceTracker::new(), RfmPerfPlugin::headless());
    app.insert_resource(RenderScale(1.0))
        .add_systems(Update, render);
    app.world_mut().resource_mut::<Tunables>().register(
        Tunable::new("game.resolution_scale", "", 0.1..=1.0, 1.0, |world, v| {
            world.resource_mut::<RenderScale>().0 = v
        })
        .with_step(0.05),
    );
    app.insert_resource(rfm_perf::AdaptiveQuality {
        enabled: true,
        target_fps: 30.0,
        min_resolution_scale: 0.3,
        ..Default::default()
    });
    let mut frames = Vec::new();
    for _ in 0..60 {
        let t = Instant::now();
        app.update();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
        let scale = app.world().resource::<RenderScale>().0;
        assert!(
            (0.3 - 1e-9..=1.0).contains(&scale),
            "out of bounds: {scale}"
        );
    }
    let adaptive = app.world().resource::<rfm_perf::AdaptiveQuality>();
    let status = &adaptive.status;
    assert!(status.active, "{status:?}");
    assert!(
        status.message.contains("holding 30 FPS"),
        "{}",
        status.message
    );
    let first = status.steps.first().expect("a step");
    assert_eq!(
        first.direction,
        rfm_perf::adaptive_quality::StepDirection::Down
    );
    assert!(first.measured_ms > 33.3, "{first:?}");
    // 70 ms × s² ≤ 30 ms (the aim) needs s ≤ 0.65; a frame at the final scale fits the budget
    let scale = app.world().resource::<RenderScale>().0;
    assert!(scale <= 0.7 + 1e-9, "still at {scale}");
    assert!(70.0 * scale * scale <= 1000.0 / 30.0, "{scale}");
    // off: no more steps
    app.world_mut()
        .resource_mut::<rfm_perf::AdaptiveQuality>()
        .enabled = false;
    app.world_mut().resource_mut::<RenderScale>().0 = 1.0;
    for _ in 0..12 {
        app.update();
    }
    assert_eq!(app.world().resource::<RenderScale>().0, 1.0);
    assert!(
        !app.world()
            .resource::<rfm_perf::AdaptiveQuality>()
            .status
            .active
    );
}

/// Apply closes the loop: a suggestion to halve the render scale states the gain the cost
/// model predicts (from timed frames of a pass that publishes its cost); after Apply, once 30
/// frames have run at the new scale, the measured gain stands beside it, judged.
#[test]
fn an_applied_suggestion_reports_its_measured_gain_beside_the_predicted_one() {
    use rfm_perf::analysis::{RuleContext, SuggestionRule, SuggestionRules};
    use rfm_perf::{OutcomeVerdict, ParameterChange, Suggestion};

    #[derive(Resource)]
    struct RenderScale(f64);
    /// 512² pixels × scale², each running 100 iterations; GPU time 0.5 ms + 0.4 ms per
    /// million iterations, with a small wobble.
    fn pass(
        scale: Res<RenderScale>,
        tracker: Res<PerfTracker>,
        mut generation: Local<u32>,
        mut commands: Commands,
        mut timed: MessageWriter<rfm_perf::PassTimed>,
    ) {
        *generation += 1;
        let pixels = (262_144.0 * scale.0 * scale.0) as u64;
        let computed = pixels * 100;
        let wobble = 1.0 + 0.02 * (f64::from(*generation % 5) - 2.0);
        let gpu_ms = (0.5 + 0.4 * computed as f64 / 1e6) * wobble;
        commands.insert_resource(rfm_perf::PassCost {
            generation: *generation,
            max_iter: 100,
            pixels,
            iterations_computed: computed,
            arithmetic: "f32",
            ..Default::default()
        });
        timed.write(rfm_perf::PassTimed {
            generation: *generation,
            gpu_ms,
        });
        tracker.track_metric(rfm_perf::names::RENDER_FRACTAL_GPU_MS, gpu_ms);
    }
    struct HalveTheScale;
    impl SuggestionRule for HalveTheScale {
        fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
            let Some((name, value, ..)) = ctx.tunable("resolution_scale") else {
                return Vec::new();
            };
            if *value < 1.0 {
                return Vec::new();
            }
            vec![ctx.with_gain(Suggestion {
                id: "halve_scale".into(),
                title: "Halve the render scale".into(),
                parameter: Some(ParameterChange {
                    name: name.clone(),
                    value: 0.5,
                }),
                ..Default::default()
            })]
        }
    }

    let mut app = tracked_app(
        &PerformanceTracker::new(),
        RfmPerfPlugin {
            update_interval: Duration::from_millis(20),
            ..RfmPerfPlugin::headless()
        },
    );
    app.insert_resource(RenderScale(1.0))
        .insert_resource(SuggestionRules(vec![Box::new(HalveTheScale)]))
        // the pass's cost is paired with its timing in the next frame, as a real pass's is
        .add_systems(PostUpdate, pass);
    app.world_mut().resource_mut::<Tunables>().register(
        Tunable::new("game.resolution_scale", "", 0.1..=1.0, 1.0, |world, v| {
            world.resource_mut::<RenderScale>().0 = v
        })
        .with_step(0.05),
    );
    for _ in 0..60 {
        app.update();
        std::thread::sleep(Duration::from_millis(1));
    }
    let suggestion = app.world().resource::<Insights>().suggestions[0].clone();
    let predicted = suggestion.predicted.expect("a predicted gain");
    // 11.0 ms now; the model saw only one scale: its smallest-change fit puts the cost on the
    // iterations, so it expects a quarter of the time at half the scale
    assert!(
        (predicted.current_gpu_ms - 11.0).abs() < 0.3,
        "{predicted:?}"
    );
    assert!(
        (predicted.gpu_ms - 0.75 * 11.0).abs() < 0.4,
        "{predicted:?}"
    );
    assert!(
        suggestion.evidence.contains("predicted to save"),
        "{}",
        suggestion.evidence
    );
    // Apply, as app code does it (the dashboard's button sends the same change as a message)
    app.world_mut()
        .resource_mut::<Tunables>()
        .set("game.resolution_scale", 0.5)
        .unwrap();
    for _ in 0..50 {
        app.update();
        std::thread::sleep(Duration::from_millis(1));
    }
    let outcome = app.world().resource::<Insights>().outcomes[0].clone();
    assert_eq!(outcome.id, "halve_scale");
    assert_eq!(outcome.predicted, Some(predicted));
    assert!(
        matches!(
            outcome.verdict,
            OutcomeVerdict::AsPredicted | OutcomeVerdict::Missed
        ),
        "{outcome:?}"
    );
    // measured: 11.0 → 3.1 ms (the overhead stays)
    let saved = outcome.measured_gpu_gain_ms().unwrap();
    assert!((saved - 7.9).abs() < 0.3, "{outcome:?}");
    assert!(outcome.p_value.unwrap() < 1e-3, "{outcome:?}");
    assert!(outcome.message.contains("saved 7."), "{}", outcome.message);
}

fn press(app: &mut App, key: KeyCode) {
    use bevy::input::ButtonState;
    use bevy::input::keyboard::{Key, KeyboardInput};
    for state in [ButtonState::Pressed, ButtonState::Released] {
        app.world_mut().write_message(KeyboardInput {
            key_code: key,
            logical_key: Key::F12,
            state,
            text: None,
            repeat: false,
            window: Entity::PLACEHOLDER,
        });
        app.update();
    }
}

#[test]
fn hotkey_toggles_the_dashboard_overlay() {
    use rfm_perf::ui::DashboardVisibility;
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, bevy::input::InputPlugin))
        .add_plugins(RfmPerfPlugin {
            system_sampling: false,
            dashboard: true,
            ..RfmPerfPlugin::headless().with_tracker(PerformanceTracker::new())
        });
    app.update();
    assert!(
        !app.world().resource::<DashboardVisibility>().visible,
        "hidden at start"
    );
    press(&mut app, KeyCode::F12);
    assert!(app.world().resource::<DashboardVisibility>().visible);
    press(&mut app, KeyCode::F11);
    assert!(
        app.world().resource::<DashboardVisibility>().visible,
        "other keys do nothing"
    );
    press(&mut app, KeyCode::F12);
    assert!(!app.world().resource::<DashboardVisibility>().visible);
    assert_eq!(app.world().resource::<DashboardVisibility>().toggles, 2);

    // a configured hotkey
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, bevy::input::InputPlugin))
        .add_plugins(RfmPerfPlugin {
            system_sampling: false,
            dashboard: true,
            ..RfmPerfPlugin::headless()
                .with_tracker(PerformanceTracker::new())
                .with_hotkey(KeyCode::F3)
        });
    press(&mut app, KeyCode::F12);
    assert!(!app.world().resource::<DashboardVisibility>().visible);
    press(&mut app, KeyCode::F3);
    assert!(app.world().resource::<DashboardVisibility>().visible);
}

/// The fractal registers its parameters even without a render app, and a suggestion's Apply
/// (a `Tunables::set`) reaches `FractalSettings` the next frame.
/// What a suggestion rule sees of `app`: `snapshot` and the app's tunables.
#[cfg(feature = "fractal")]
fn rule_context<'a>(
    app: &App,
    snapshot: &'a rfm_perf::Snapshot,
) -> rfm_perf::analysis::RuleContext<'a> {
    let tunables = app
        .world()
        .resource::<Tunables>()
        .iter()
        .map(|t| (t.name.clone(), t.value(), *t.range.start(), *t.range.end()))
        .collect();
    rfm_perf::analysis::RuleContext {
        tunables,
        ..rfm_perf::analysis::RuleContext::new(snapshot)
    }
}

#[cfg(feature = "fractal")]
#[test]
fn fractal_parameters_are_tunable_without_naming_fractal_types() {
    use rfm_perf::GpuPassStatus;
    use rfm_perf::analysis::{IterationHeadroom, SuggestionRule};
    use rfm_perf::fractal::gpu::{FractalSettings, PrecisionMode};
    use rfm_perf::ui::UiAction;

    let tracker = PerformanceTracker::new();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(RfmPerfPlugin {
            fractal: true,
            system_sampling: false,
            ..RfmPerfPlugin::headless().with_tracker(tracker.clone())
        })
        .insert_resource(FractalSettings {
            interior_check: false,
            ..Default::default()
        });
    app.update();
    assert_eq!(
        *app.world().resource::<GpuPassStatus>(),
        GpuPassStatus::NoRenderer
    );
    let names: Vec<String> = app
        .world()
        .resource::<Tunables>()
        .iter()
        .map(|t| t.name.clone())
        .collect();
    for n in [
        "fractal.max_iter",
        "fractal.resolution_scale",
        "fractal.precision",
        "fractal.interior_check",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} registered: {names:?}");
    }

    // the rule sees only metrics and tunables; its change goes through the registry
    tracker.track_metric("fractal.iterations_per_pixel", 120.0); // 20 % inside × 500 + 80 % × 25
    tracker.track_metric("fractal.escaped_ratio", 0.8);
    app.update(); // the plugin collects the frame's samples
    let snapshot = tracker.publish_snapshot();
    let ctx = rule_context(&app, &snapshot);
    // the inside pixels dominate and the interior check is off: turning it on keeps the image,
    // so that is the suggestion, not a lower limit
    let suggestion = IterationHeadroom.suggest(&ctx).pop().expect("a suggestion");
    let change = suggestion.parameter.expect("a parameter change");
    assert_eq!(change.name, "fractal.interior_check");
    let action = UiAction::SetTunable {
        name: change.name,
        value: change.value,
    };
    action.apply(app.world_mut()).expect("in range");
    app.update();
    let settings = app.world().resource::<FractalSettings>();
    assert!(settings.interior_check);
    assert_eq!(settings.params.max_iter, 500, "the limit untouched");
    // with the check on, the inside pixels are cheap: nothing more to suggest here
    let ctx = rule_context(&app, &snapshot);
    assert!(IterationHeadroom.suggest(&ctx).is_empty());

    app.world_mut()
        .resource_mut::<Tunables>()
        .set("fractal.precision", 2.0)
        .unwrap();
    app.update();
    assert_eq!(
        app.world().resource::<FractalSettings>().precision,
        PrecisionMode::Df64
    );
}
