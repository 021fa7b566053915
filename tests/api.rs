//! The HTTP API against a real server on an ephemeral loopback port, inside a headless app.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use rfm_perf::api::ApiStatus;
use rfm_perf::prelude::*;
use rfm_perf::{ApiConfig, ApiConfigError};
use serde_json::Value;

fn loopback0() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn app_with(config: ApiConfig) -> (App, PerformanceTracker, SocketAddr) {
    app_serving(
        RfmPerfPlugin {
            update_interval: Duration::from_millis(50),
            ..RfmPerfPlugin::headless()
        },
        config,
    )
}

/// A headless app with `plugin` (its own tracker, no system sampling) serving the API on
/// `config`.
fn app_serving(plugin: RfmPerfPlugin, config: ApiConfig) -> (App, PerformanceTracker, SocketAddr) {
    let tracker = PerformanceTracker::new();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        ..plugin.with_tracker(tracker.clone()).with_api_config(config)
    });
    let addr = app
        .world()
        .resource::<ApiStatus>()
        .address()
        .expect("API running");
    (app, tracker, addr)
}

/// The group composes like Bevy's `DefaultPlugins`: `.set` configures the API, `.disable` leaves
/// it out, and the rest keeps working either way.
#[test]
fn the_plugin_group_sets_and_disables_the_api() {
    use rfm_perf::RfmPerfPlugins;
    use rfm_perf::api::ApiPlugin;
    use rfm_perf::system::SystemSamplerPlugin;

    let build = |group: bevy::app::PluginGroupBuilder| {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_plugins(
            group
                .set(rfm_perf::RfmPerfBasePlugin {
                    tracker: Some(PerformanceTracker::new()),
                    update_interval: Duration::from_millis(20),
                    ..Default::default()
                })
                .disable::<SystemSamplerPlugin>(),
        );
        app
    };
    let mut on = build(RfmPerfPlugins.build().set(ApiPlugin {
        config: ApiConfig {
            bind: loopback0(),
            ..Default::default()
        },
    }));
    let addr = on
        .world()
        .resource::<ApiStatus>()
        .address()
        .expect("the set API serves");
    settle(&mut on);
    let (status, body) = get_json(addr, "/api/performance/bottlenecks");
    assert_eq!(status, 200);
    assert!(
        body["breakdown"]["shares"]
            .as_array()
            .is_some_and(|s| s.len() == 5),
        "the analysis' breakdown is served: {body}"
    );

    let mut off = build(RfmPerfPlugins.build().disable::<ApiPlugin>());
    off.update();
    off.update();
    assert_eq!(*off.world().resource::<ApiStatus>(), ApiStatus::Disabled);
    assert!(
        off.world()
            .resource::<PerfTracker>()
            .get_metric("frame.time_ms")
            .is_some()
    );
}

/// Updates the app until at least one snapshot was published after now.
fn settle(app: &mut App) {
    let until = Instant::now() + Duration::from_millis(120);
    while Instant::now() < until {
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut r = agent()
        .get(&format!("http://{addr}{path}"))
        .call()
        .expect("request");
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap_or_default())
}

fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (s, b) = get(addr, path);
    (
        s,
        serde_json::from_str(&b).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {b}")),
    )
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn python_clients_get_the_original_shapes() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    for v in [10.0, 12.5, 11.0] {
        tracker.track_metric("mandelbrot.render_ms", v);
        app.update();
    }
    settle(&mut app);
    // the original Python client's get_current_metrics()
    let (status, body) = get_json(addr, "/api/performance/metrics");
    assert_eq!(status, 200);
    assert_eq!(body["metrics"]["mandelbrot.render_ms"], 11.0);
    assert!(body["metrics"]["frame.time_ms"].as_f64().unwrap() > 0.0);
    let ts = body["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() >= 20, "RFC 3339 UTC: {ts}");
    assert_eq!(body["details"]["frame.time_ms"]["unit"], "ms");
    assert!(
        ["ok", "warning", "critical"]
            .contains(&body["details"]["frame.time_ms"]["status"].as_str().unwrap())
    );
    // the original Python client's get_metric_history(name)
    let (status, body) = get_json(addr, "/api/performance/history/mandelbrot.render_ms");
    assert_eq!(status, 200);
    assert_eq!(body["metric"], "mandelbrot.render_ms");
    let values: Vec<f64> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![10.0, 12.5, 11.0]);
    assert!(
        body["history"][0]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // short aliases work as paths too
    let (status, body) = get_json(addr, "/api/performance/history/render_time?limit=2");
    assert_eq!(status, 200);
    assert_eq!(body["canonical_name"], "frame.time_ms");
    assert_eq!(body["history"].as_array().unwrap().len(), 2);
}

#[test]
fn history_queries_names_and_formats() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    for i in 0..100 {
        tracker.track_metric("net/latency ms", f64::from(i % 10));
        tracker.track_metric("größe.π", 3.0);
    }
    app.update();
    settle(&mut app);
    let (s, b) = get_json(addr, "/api/performance/history/net%2Flatency%20ms?points=5");
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["metric"], "net/latency ms");
    assert_eq!(b["decimated"], true);
    let vals: Vec<f64> = b["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert!(
        vals.contains(&0.0) && vals.contains(&9.0),
        "min and max kept: {vals:?}"
    );
    assert!(vals.len() <= 10);
    let (s, b) = get_json(
        addr,
        "/api/performance/history/gr%C3%B6%C3%9Fe.%CF%80?since=-60",
    );
    assert_eq!(s, 200);
    assert_eq!(b["history"].as_array().unwrap().len(), 100);
    let (s, csv) = get(
        addr,
        "/api/performance/history/gr%C3%B6%C3%9Fe.%CF%80?format=csv&limit=3",
    );
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "timestamp,value");
    assert_eq!(lines.len(), 4);
    assert!(lines[1].ends_with("Z,3"), "{csv}");
    let future = "2999-01-01T00:00:00Z";
    let (s, b) = get_json(
        addr,
        &format!("/api/performance/history/gr%C3%B6%C3%9Fe.%CF%80?since={future}"),
    );
    assert_eq!(s, 200);
    assert!(b["history"].as_array().unwrap().is_empty());
}

#[test]
fn bad_input_gets_4xx_and_the_server_keeps_serving() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        header_read_timeout: Duration::from_millis(500),
        ..Default::default()
    });
    tracker.track_metric("frame.cpu_ms", 1.0);
    app.update();
    settle(&mut app);
    let ok = || assert_eq!(get(addr, "/api/performance/metrics").0, 200);

    let (s, b) = get_json(addr, "/api/performance/history/frame.cpu_mss");
    assert_eq!(s, 404);
    assert!(b["error"].as_str().unwrap().contains("frame.cpu_mss"));
    assert!(
        b["known_metrics_hint"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "frame.cpu_ms"),
        "{b}"
    );
    ok();
    for (q, param) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("since=5", "since"),
        ("since=yesterday", "since"),
        ("points=-1", "points"),
        ("format=xml", "format"),
    ] {
        let (s, b) = get_json(addr, &format!("/api/performance/history/frame.cpu_ms?{q}"));
        assert_eq!(s, 400, "{q}: {b}");
        assert_eq!(b["parameter"], param, "{q}: {b}");
    }
    let (s, b) = get_json(addr, "/api/performance/regressions?threshold=-1");
    assert_eq!((s, b["parameter"].as_str()), (400, Some("threshold")));
    ok();
    // non-UTF-8 percent-encoding in the path and in the query
    let (s, _) = get_json(addr, "/api/performance/history/%FF%FE");
    assert_eq!(s, 400);
    let (s, _) = get_json(addr, "/api/performance/history/frame.cpu_ms?since=%FF");
    assert_eq!(s, 400);
    ok();
    // 64 KiB URL
    let long = format!(
        "GET /api/performance/history/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let resp = raw(addr, long.as_bytes());
    assert!(
        resp.is_empty() || resp.starts_with("HTTP/1.1 4"),
        "{}",
        &resp[..resp.len().min(80)]
    );
    ok();
    // raw garbage
    let resp = raw(addr, b"\x00\x01\x02 garbage \xff\xfe\r\n\r\n");
    assert!(resp.is_empty() || resp.starts_with("HTTP/1.1 4"), "{resp}");
    ok();
    // wrong method, unknown route
    let mut r = agent()
        .delete(&format!("http://{addr}/api/performance/metrics"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(
        r.body_mut()
            .read_to_string()
            .unwrap()
            .contains("not allowed")
    );
    assert_eq!(get(addr, "/api/nope").0, 404);
    // slow client: half a request line, then silence; the server closes it after the header timeout
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /api/perf").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(
        n == 0 || buf.starts_with(b"HTTP/1.1 408"),
        "slow client got {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed by the header timeout"
    );
    ok();
}

#[test]
fn security_token_and_remote_binds() {
    // refused at validation: the test never binds or sends to a non-loopback address
    let remote = ApiConfig {
        bind: "0.0.0.0:8501".parse().unwrap(),
        ..Default::default()
    };
    let err = remote.validate().unwrap_err();
    assert!(matches!(err, ApiConfigError::RemoteWithoutToken(_)));
    assert!(err.to_string().contains("token"), "{err}");
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        ..RfmPerfPlugin::headless().with_api_config(remote)
    });
    assert!(matches!(
        app.world().resource::<ApiStatus>(),
        ApiStatus::Invalid(_)
    ));
    app.update();

    let dir = std::env::temp_dir().join(format!("rfm-api-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("baseline.json");
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        token: Some("s3cret".into()),
        baseline_path: Some(path.clone()),
        ..Default::default()
    });
    tracker.track_metric("m", 1.0);
    app.update();
    let url = format!("http://{addr}/api/performance/baseline");
    assert_eq!(
        agent().post(&url).send_empty().unwrap().status().as_u16(),
        401
    );
    assert_eq!(
        agent()
            .post(&url)
            .header("Authorization", "Bearer nope")
            .send_empty()
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert!(!path.exists());
    let mut r = agent()
        .post(&url)
        .header("Authorization", "Bearer s3cret")
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.body_mut().read_json().unwrap();
    assert!(body["captured"].as_u64().unwrap() >= 1);
    assert!(path.exists(), "saved to the configured path");
    assert_eq!(
        rfm_perf::BaselineSet::load(&path).unwrap().metrics["m"].median,
        1.0
    );
    // reads stay open
    assert_eq!(get(addr, "/api/performance/baseline").0, 200);
}

#[test]
fn loopback_without_token_is_open_and_port_taken_is_reported() {
    let (_app, _t, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    let r = agent()
        .post(&format!("http://{addr}/api/performance/baseline"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // the same port again: a clear status, and the app runs on
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
        system_sampling: false,
        ..RfmPerfPlugin::headless().with_api_config(ApiConfig {
            bind: addr,
            ..Default::default()
        })
    });
    assert!(
        matches!(app.world().resource::<ApiStatus>(), ApiStatus::BindFailed(m) if m.contains(&addr.to_string()))
    );
    app.update();
}

fn check_exposition(text: &str) {
    let mut typed = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            assert!(["gauge", "counter", "histogram"].contains(&kind), "{line}");
            assert!(
                typed.insert(name.to_string(), kind.to_string()).is_none(),
                "family typed twice: {name}"
            );
            if kind == "counter" {
                assert!(name.ends_with("_total"), "{name}");
            }
        } else if line.starts_with("# HELP ") || line.is_empty() {
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = series.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
                .unwrap_or(name);
            assert!(typed.contains_key(family), "sample before its TYPE: {line}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.contains(':'),
                "{name}"
            );
            assert!(value.parse::<f64>().is_ok(), "{line}");
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
        }
    }
    assert!(typed.contains_key("rfm_frame_time_seconds"));
    assert!(typed.contains_key("rfm_scope_mean_seconds"));
}

#[test]
fn prometheus_endpoint_is_valid_exposition() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    tracker.track_metric("weird name/with:colon", 2.0);
    tracker.track_metric("weird.name.with.colon", 3.0);
    tracker.track_metric("io.pressure_pct", 50.0); // past the critical level of 30 %
    for (core, v) in [(0, 40.0), (1, 90.0), (10, 5.0), (2, 50.0)] {
        // as the system sampler registers them
        let name = format!("system.cpu.core{core}_pct");
        tracker.register_metric(rfm_perf::MetricInfo::new(
            name.clone(),
            rfm_perf::Unit::Percent,
            "CPU core usage",
            rfm_perf::Direction::LowerIsBetter,
        ));
        tracker.track_metric(&name, v);
    }
    tracker.register_metric(rfm_perf::MetricInfo::new(
        "render/main_opaque_pass_3d/elapsed_gpu",
        rfm_perf::Unit::Milliseconds,
        "",
        rfm_perf::Direction::LowerIsBetter,
    ));
    tracker.track_metric("render/main_opaque_pass_3d/elapsed_gpu", 2.5);
    app.insert_resource(sample_cost());
    for _ in 0..5 {
        tracker.start_timer("api_test.scope \"quoted\"");
        tracker.end_timer("api_test.scope \"quoted\"");
        app.update();
    }
    settle(&mut app);
    let (s, text) = get(addr, "/metrics");
    assert_eq!(s, 200);
    check_exposition(&text);
    assert!(
        text.contains("scope=\"api_test.scope \\\"quoted\\\"\""),
        "{text}"
    );
    // the escape histogram: cumulative buckets, the escaped pixels as its count
    assert!(
        text.contains("# TYPE rfm_fractal_escape_iterations histogram\n"),
        "{text}"
    );
    assert!(text.contains("rfm_fractal_escape_iterations_bucket{le=\"2\"} 3\n"));
    assert!(text.contains("rfm_fractal_escape_iterations_bucket{le=\"+Inf\"} 4\n"));
    assert!(text.contains("rfm_fractal_escape_iterations_count 4\n"));
    // a gauge per alert rule: the critical I/O rule fires, its warning twin hides behind it
    assert!(
        text.contains("rfm_alert_firing{rule=\"io.pressure_pct:above:critical\",metric=\"io.pressure_pct\",severity=\"critical\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("rfm_alert_firing{rule=\"io.pressure_pct:above:warning\",metric=\"io.pressure_pct\",severity=\"warning\"} 0\n"));
    assert!(text.contains("rfm_alert_rule_errors 0\n"));
    // one family per quantity, the item as a label, in natural order
    assert!(
        text.contains(
            "# TYPE rfm_system_cpu_core_ratio gauge\nrfm_system_cpu_core_ratio{core=\"0\"} 0.4\nrfm_system_cpu_core_ratio{core=\"1\"} 0.9\nrfm_system_cpu_core_ratio{core=\"2\"} 0.5\nrfm_system_cpu_core_ratio{core=\"10\"} 0.05\n"
        ),
        "{text}"
    );
    assert!(!text.contains("rfm_system_cpu_core0"), "{text}");
    assert!(
        text.contains("rfm_render_pass_elapsed_gpu_seconds{pass=\"main_opaque_pass_3d\"} 0.0025\n")
    );
    // every collected frame in the histogram; what runs where
    assert!(text.contains("# TYPE rfm_frame_duration_seconds histogram\n"));
    let frames: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("rfm_frame_duration_seconds_count "))
        .and_then(|v| v.parse().ok())
        .expect("a frame count");
    assert!(frames >= 5.0, "{frames} frames counted");
    assert!(text.contains("rfm_frame_duration_seconds_bucket{le=\"0.016667\"} "));
    assert!(text.contains("rfm_build_info{version=\""), "{text}");
    assert!(text.contains("# TYPE rfm_tracker_overflowed_records_total counter\nrfm_tracker_overflowed_records_total 0\n"));
    assert!(text.contains(",scenario=\"default\",rfm_instance=\""));
    let dir = std::env::temp_dir().join(format!("rfm-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("metrics.prom");
    std::fs::write(&file, &text).unwrap();
    match std::process::Command::new("promtool")
        .arg("check")
        .arg("metrics")
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
    {
        Ok(out) => assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool check metrics found problems:\n{}{}\n--- exposition ---\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!(
            "SKIP promtool check: promtool is not installed ({e}); scripts/test installs Debian's prometheus package"
        ),
    }
}

/// The alert rules and their file's problems are served with the alerts: a file that does not
/// parse is an error with its line and column while the last good rules stay.
#[test]
fn alert_rules_and_their_file_errors_are_served() {
    let dir = std::env::temp_dir().join(format!("rfm-api-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alerts.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"io\"\nmetric = \"io.pressure_pct\"\ncondition = \"above\"\nthreshold = 5\nseverity = \"warning\"\nfor = \"0s\"\n",
    )
    .unwrap();
    let (mut app, tracker, addr) = app_serving(
        RfmPerfPlugin {
            update_interval: Duration::from_millis(20),
            ..RfmPerfPlugin::headless().with_alert_rules(&path)
        },
        ApiConfig {
            bind: loopback0(),
            ..Default::default()
        },
    );
    tracker.track_metric("io.pressure_pct", 8.0);
    settle(&mut app);
    let (s, v) = get_json(addr, "/api/performance/alerts");
    assert_eq!(s, 200);
    assert_eq!(v["active"][0]["rule"], "io", "{v}");
    assert_eq!(v["rules"]["rules"][0]["phase"], "firing", "{v}");
    assert_eq!(v["rules"]["source"], path.display().to_string());
    std::fs::write(&path, "[[rule]]\nid = \"io\"\nthreshold = = 5\n").unwrap();
    tracker.track_metric("io.pressure_pct", 8.0);
    settle(&mut app);
    let (_, v) = get_json(addr, "/api/performance/alerts");
    let e = &v["rules"]["file_error"];
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(3), Some(13)),
        "{v}"
    );
    assert_eq!(
        v["active"][0]["rule"], "io",
        "the last good rules stay: {v}"
    );
    let (_, text) = get(addr, "/metrics");
    assert!(text.contains("rfm_alert_rule_errors 1\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The trace: the last seconds of every thread's scopes as Chrome Trace Event JSON, from the
/// API and through the CLI; bad windows are a 400.
#[test]
fn traces_are_served_and_saved_by_the_cli() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    for _ in 0..10 {
        tracker.start_timer("api_test.frame_work");
        tracker.start_timer("api_test.inner");
        tracker.end_timer("api_test.inner");
        tracker.end_timer("api_test.frame_work");
        app.update();
    }
    settle(&mut app);
    let (s, body) = get(addr, "/api/performance/trace?seconds=5");
    assert_eq!(s, 200, "{body}");
    let spans = rfm_perf_core::trace::validate_chrome_json(&body).expect("a valid trace");
    assert!(spans >= 20, "{spans} spans");
    assert!(body.contains("\"name\":\"api_test.inner\""));
    for bad in ["seconds=0", "seconds=abc", "seconds=1000", "seconds=-1"] {
        let (s, b) = get(addr, &format!("/api/performance/trace?{bad}"));
        assert_eq!(s, 400, "{bad}: {b}");
        assert!(b.contains("seconds"), "{b}");
    }
    let dir = std::env::temp_dir().join(format!("rfm-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trace.json");
    let url = format!("http://{addr}");
    let (code, out, err) = cli(&[
        "--url",
        &url,
        "trace",
        "-o",
        file.to_str().unwrap(),
        "--seconds",
        "5",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("scope events written to"), "{out}");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(rfm_perf_core::trace::validate_chrome_json(&saved).unwrap() >= 20);
    let (code, _, err) = cli(&[
        "--url",
        &url,
        "trace",
        "-o",
        file.to_str().unwrap(),
        "--seconds",
        "999",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 400"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a fractal pass publishes for a 64×32 frame with a limit of 100: four pixels escaped
/// (at 1, 2, 2 and 50), the rest interior.
fn sample_cost() -> rfm_perf::PassCost {
    let mut counts = vec![100u32; 64 * 32];
    counts[..4].copy_from_slice(&[1, 2, 2, 50]);
    rfm_perf::PassCost {
        generation: 3,
        max_iter: 100,
        pixels: 64 * 32,
        escaped_iterations: 55,
        iterations_computed: 55 + (64 * 32 - 4) * 100,
        arithmetic: "f32",
        interior_check: false,
        heatmap: false,
        histogram: rfm_perf::EscapeHistogram::from_counts(&counts, 100),
        tiles: rfm_perf::CostTiles {
            tile_size: 32,
            columns: 2,
            rows: 1,
            iterations: vec![1000, 3000],
        },
    }
}

#[test]
fn gpu_cost_is_served_once_a_pass_publishes_it() {
    let (mut app, _tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    settle(&mut app);
    let (s, body) = get_json(addr, "/api/performance/gpu_cost");
    assert_eq!(s, 404);
    assert!(body["error"].as_str().unwrap().contains("no fractal pass"));
    app.insert_resource(sample_cost());
    settle(&mut app);
    let (s, c) = get_json(addr, "/api/performance/gpu_cost");
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["max_iter"], 100);
    let h = &c["escape_histogram"];
    assert_eq!(h["escaped"], 4);
    assert_eq!(h["p50"], 2);
    let buckets = h["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 57); // 32 one-iteration buckets, then 16 per octave up to 99
    assert_eq!(
        buckets
            .iter()
            .map(|b| b["pixels"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    assert_eq!(buckets[2]["pixels"], 2);
    let t = &c["tiles"];
    assert_eq!(
        (t["columns"].as_u64(), t["rows"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(t["total_iterations"], 4000);
    assert_eq!(t["hottest_10pct_share"], 0.75);
}

/// A pass that publishes its cost and timings: frame `i` of a 64×32 view where `escaped` pixels
/// escape at iteration 10 and the rest run the limit of 100; its GPU time is 0.5 ms plus
/// 0.1 ms per thousand iterations.
fn timed_frame(app: &mut App, generation: u32, escaped: u64) -> f64 {
    let pixels = 64 * 32;
    let computed = escaped * 10 + (pixels - escaped) * 100;
    let mut hist = [0u64; rfm_perf::ESCAPE_BUCKETS];
    hist[10] = escaped;
    app.insert_resource(rfm_perf::PassCost {
        generation,
        max_iter: 100,
        pixels,
        escaped_iterations: escaped * 10,
        iterations_computed: computed,
        arithmetic: "f32",
        interior_check: false,
        heatmap: false,
        histogram: rfm_perf::EscapeHistogram::from_buckets(&hist, 100),
        tiles: rfm_perf::CostTiles::default(),
    });
    let gpu_ms = 0.5 + 0.1 * computed as f64 / 1000.0;
    app.world_mut()
        .write_message(rfm_perf::PassTimed { generation, gpu_ms });
    app.update();
    gpu_ms
}

/// `GET /predict` answers what-if questions from the cost model the timed frames taught, and
/// bad questions get a 400 that names the parameter.
#[test]
fn the_cost_model_predicts_tunable_changes() {
    let (mut app, _tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    for name in [
        "fractal.max_iter",
        "fractal.resolution_scale",
        "fractal.heatmap",
    ] {
        let (range, value) = match name {
            "fractal.max_iter" => (16.0..=100_000.0, 100.0),
            "fractal.resolution_scale" => (0.1..=2.0, 1.0),
            _ => (0.0..=1.0, 0.0),
        };
        app.world_mut()
            .resource_mut::<Tunables>()
            .register(Tunable::new(name, "", range, value, |_, _| {}));
    }
    settle(&mut app);
    let (s, body) = get_json(addr, "/api/performance/predict?fractal.max_iter=50");
    assert_eq!(s, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no cost model yet")
    );
    for i in 0..60u32 {
        timed_frame(&mut app, i + 1, 200 + 20 * u64::from(i));
    }
    settle(&mut app);
    // the newest view: 1380 pixels escape at 10, 668 run the limit
    let (s, p) = get_json(
        addr,
        "/api/performance/predict?fractal.max_iter=50&fractal.resolution_scale=0.5",
    );
    assert_eq!(s, 200, "{p}");
    let expected_now = 0.5 + 0.1 * (1380.0 * 10.0 + 668.0 * 100.0) / 1000.0;
    let expected = 0.5 + 0.1 * (1380.0 * 10.0 + 668.0 * 50.0) / 4.0 / 1000.0;
    let current = p["current"]["gpu_ms"].as_f64().unwrap();
    let predicted = p["predicted"]["gpu_ms"].as_f64().unwrap();
    assert!((current - expected_now).abs() < 0.05 * expected_now, "{p}");
    assert!((predicted - expected).abs() < 0.1 * expected, "{p}");
    assert_eq!(p["params"]["pixels"], 64 * 32 / 4);
    assert_eq!(p["params"]["max_iter"], 50);
    assert!(p["predicted"]["gpu_ms_low"].as_f64().unwrap() <= predicted);
    assert!(p["predicted"]["gpu_ms_high"].as_f64().unwrap() >= predicted);
    assert!((p["gpu_gain_ms"].as_f64().unwrap() - (current - predicted)).abs() < 1e-9);
    assert_eq!(p["model"]["observed"], 60);
    // each frame is predicted from the one before, whose view had 20 fewer escaping pixels
    assert!(p["model"]["mape"].as_f64().unwrap() < 0.05, "{p}");
    // no query: the parameters now
    let (s, now) = get_json(addr, "/api/performance/predict");
    assert_eq!(s, 200);
    assert_eq!(now["gpu_gain_ms"], 0.0);
    for (query, parameter, says) in [
        ("fractal.max_iter=abc", "fractal.max_iter", "not a number"),
        (
            "fractal.max_iter=5",
            "fractal.max_iter",
            "outside the allowed range",
        ),
        ("game.nope=1", "game.nope", "no tunable parameter"),
        ("fractal.heatmap=1", "fractal.heatmap", "does not depend on"),
    ] {
        let (s, e) = get_json(addr, &format!("/api/performance/predict?{query}"));
        assert_eq!(s, 400, "{query}: {e}");
        assert_eq!(e["parameter"], parameter, "{query}");
        assert!(e["error"].as_str().unwrap().contains(says), "{query}: {e}");
    }
}

/// `POST /suggestions/{id}/apply` takes a suggestion's change through the app's registry, as
/// the dashboard's Apply does; `GET /config` tells a browser what the dashboard shows.
#[test]
fn a_suggestion_is_applied_over_http_and_the_config_is_published() {
    use rfm_perf::analysis::{RuleContext, SuggestionRule, SuggestionRules};
    use rfm_perf::{ParameterChange, Suggestion};

    #[derive(Resource)]
    struct Quality(f64);
    struct Advice;
    impl SuggestionRule for Advice {
        fn suggest(&self, _: &RuleContext<'_>) -> Vec<Suggestion> {
            vec![
                Suggestion {
                    id: "lower_quality".into(),
                    title: "Lower the quality".into(),
                    parameter: Some(ParameterChange {
                        name: "game.quality".into(),
                        value: 0.5,
                    }),
                    ..Default::default()
                },
                Suggestion {
                    id: "look_at_physics".into(),
                    title: "Look at physics".into(),
                    ..Default::default()
                },
            ]
        }
    }
    let (mut app, _tracker, addr) = app_serving(
        RfmPerfPlugin {
            update_interval: Duration::from_millis(50),
            metrics_to_show: vec!["frame.fps".into(), "frame.time_ms".into()],
            ..RfmPerfPlugin::headless()
        },
        ApiConfig {
            bind: loopback0(),
            ..Default::default()
        },
    );
    app.insert_resource(Quality(1.0))
        .insert_resource(SuggestionRules(vec![Box::new(Advice)]));
    app.world_mut().resource_mut::<Tunables>().register(
        Tunable::new("game.quality", "", 0.25..=1.0, 1.0, |world, v| {
            world.resource_mut::<Quality>().0 = v
        })
        .with_step(0.25),
    );
    settle(&mut app);
    let (s, config) = get_json(addr, "/api/performance/config");
    assert_eq!(s, 200);
    assert_eq!(config["metrics_to_show"][1], "frame.time_ms");
    assert_eq!(config["update_interval_s"], 0.05);
    assert_eq!(config["max_streams"], 16);
    // the POST waits for the app's next frame: pump it meanwhile
    let post = |path: &'static str| {
        std::thread::spawn(move || {
            let mut r = agent()
                .post(&format!("http://{addr}{path}"))
                .send_empty()
                .expect("request");
            let status = r.status().as_u16();
            let body: Value =
                serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
                    .unwrap_or(Value::Null);
            (status, body)
        })
    };
    let pumped = |app: &mut App, request: std::thread::JoinHandle<(u16, Value)>| {
        let until = Instant::now() + Duration::from_secs(5);
        while !request.is_finished() && Instant::now() < until {
            app.update();
            std::thread::sleep(Duration::from_millis(2));
        }
        request.join().unwrap()
    };
    let request = post("/api/performance/suggestions/lower_quality/apply");
    let (s, body) = pumped(&mut app, request);
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["applied"]["value"], 0.5);
    app.update();
    assert_eq!(app.world().resource::<Quality>().0, 0.5);
    for (path, status, says) in [
        (
            "/api/performance/suggestions/nope/apply",
            404,
            "no current suggestion",
        ),
        (
            "/api/performance/suggestions/look_at_physics/apply",
            409,
            "no parameter change",
        ),
    ] {
        let (s, body) = pumped(&mut app, post(path));
        assert_eq!(s, status, "{path}: {body}");
        assert!(body["error"].as_str().unwrap().contains(says), "{body}");
    }
    // a GET is not an apply
    let (s, _) = get(addr, "/api/performance/suggestions/lower_quality/apply");
    assert_eq!(s, 405);
}

#[test]
fn other_endpoints_and_openapi_match_the_routes() {
    let (mut app, _tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    app.insert_resource(sample_cost());
    // one timed frame of it: the cost model can predict
    app.world_mut().write_message(rfm_perf::PassTimed {
        generation: 3,
        gpu_ms: 5.0,
    });
    settle(&mut app);
    let (s, spec) = get_json(addr, "/api/openapi.json");
    assert_eq!(s, 200);
    let paths = spec["paths"].as_object().unwrap();
    for (p, ops) in paths {
        let concrete = p
            .replace("{metric}", "frame.time_ms")
            .replace("{file}", "chart.js");
        // the live stream never ends; POST-only routes have their own tests
        if concrete.ends_with("/stream") || ops.get("get").is_none() {
            continue;
        }
        let (s, _) = get(addr, &concrete);
        assert_eq!(s, 200, "{p}");
    }
    assert_eq!(
        paths.len(),
        rfm_perf::api::Route::ALL.len() - 1,
        "every route but Unmatched is documented"
    );
    let (_, sys) = get_json(addr, "/api/performance/system");
    assert!(sys["cores"].as_u64().unwrap() >= 1);
    assert_eq!(sys["crate_version"], env!("CARGO_PKG_VERSION"));
    let (_, b) = get_json(addr, "/api/performance/bottlenecks");
    assert!(b["scopes"].is_array());
    let (_, r) = get_json(addr, "/api/performance/regressions?threshold=0.5");
    assert_eq!(r["threshold"], 0.5);
}

#[test]
fn regressions_need_enough_samples_and_significance() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    tracker.register_metric(rfm_perf::MetricInfo::new(
        "test.latency_ms",
        rfm_perf::Unit::Milliseconds,
        "Latency under test",
        rfm_perf::Direction::LowerIsBetter,
    ));
    let noisy = |base: f64| (0..40).map(move |i| base * (1.0 + 0.02 * f64::from(i % 7)));
    noisy(10.0).for_each(|v| tracker.track_metric("test.latency_ms", v));
    settle(&mut app);
    let (s, b) = agent()
        .post(&format!("http://{addr}/api/performance/baseline"))
        .send_empty()
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!((s, b), (200, ()));
    // six slow samples: far worse, but too few to test
    tracker.clear_history();
    (0..6).for_each(|_| tracker.track_metric("test.latency_ms", 30.0));
    settle(&mut app);
    let (_, r) = get_json(addr, "/api/performance/regressions");
    assert_eq!(r["alpha"], 0.01);
    assert!(
        r["insufficient_data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "test.latency_ms"),
        "{r}"
    );
    assert!(
        !r["regressions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["metric"] == "test.latency_ms")
    );
    // forty samples 60 % slower: a significant regression with its effect and interval
    tracker.clear_history();
    noisy(16.0).for_each(|v| tracker.track_metric("test.latency_ms", v));
    settle(&mut app);
    let (_, r) = get_json(addr, "/api/performance/regressions");
    let reg = r["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["metric"] == "test.latency_ms")
        .unwrap_or_else(|| panic!("no regression: {r}"))
        .clone();
    assert!(reg["p_value"].as_f64().unwrap() < 1e-6, "{reg}");
    let e = &reg["effect"];
    let (lo, est, hi) = (
        e["low"].as_f64().unwrap(),
        e["estimate"].as_f64().unwrap(),
        e["high"].as_f64().unwrap(),
    );
    assert!(lo <= est && est <= hi && (est - 0.6).abs() < 0.05, "{e}");
    assert_eq!(reg["baseline_samples"], 40);
    // keyed by scenario and machine: like for like here, then labelled once the scenario changes
    assert!(
        r["current_key"]["hardware"]["cores"].as_u64().unwrap() >= 1,
        "{r}"
    );
    assert_eq!(r["key_differences"], serde_json::json!([]));
    app.world_mut()
        .resource_mut::<rfm_perf::PerfConfig>()
        .scenario = "deep zoom".into();
    settle(&mut app);
    let (_, r) = get_json(addr, "/api/performance/regressions");
    assert_eq!(
        r["key_differences"],
        serde_json::json!(["scenario: default → deep zoom"])
    );
}

#[test]
fn anomalies_are_served_and_bad_filters_are_refused() {
    let (mut app, _tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    settle(&mut app);
    let (s, body) = get_json(
        addr,
        "/api/performance/anomalies?since=-60&kind=level_shift",
    );
    assert_eq!(s, 200, "{body}");
    assert!(body["anomalies"].is_array());
    let (s, body) = get_json(addr, "/api/performance/anomalies?kind=blip");
    assert_eq!(s, 400);
    assert_eq!(body["parameter"], "kind");
    let (s, body) = get_json(addr, "/api/performance/anomalies?since=5");
    assert_eq!(s, 400);
    assert_eq!(body["parameter"], "since");
}

#[test]
fn live_stream_pushes_snapshots_and_is_capped() {
    let (mut app, _t, addr) = app_with(ApiConfig {
        bind: loopback0(),
        max_streams: 2,
        ..Default::default()
    });
    settle(&mut app);
    let open = || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /api/performance/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        s
    };
    let mut a = open();
    let mut b = open();
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.contains("event: snapshot") && Instant::now() < deadline {
        app.update();
        let n = a.read(&mut buf).unwrap_or(0);
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(got.contains("text/event-stream"), "{got}");
    assert!(
        got.contains("event: snapshot") && got.contains("\"metrics\""),
        "{got}"
    );
    let n = b.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (s, _) = get(addr, "/api/performance/stream");
    assert_eq!(s, 503, "third stream over the cap of 2");
    drop(a);
    drop(b);
    std::thread::sleep(Duration::from_millis(100));
    let mut c = open();
    let n = c.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "a slot frees when a stream closes"
    );
}

#[test]
fn load_16_clients_x_1000_requests_zero_errors_app_keeps_updating() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        max_concurrent_requests: 64,
        ..Default::default()
    });
    settle(&mut app);
    let frames_before = tracker.stats().frames_collected;
    let clients: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                let agent = agent();
                let mut errors = 0;
                for j in 0..1000 {
                    let path = if (i + j) % 2 == 0 {
                        "/api/performance/metrics"
                    } else {
                        "/api/performance/history/frame.time_ms?points=100"
                    };
                    match agent.get(&format!("http://{addr}{path}")).call() {
                        Ok(r) if r.status().as_u16() == 200 => {}
                        _ => errors += 1,
                    }
                }
                errors
            })
        })
        .collect();
    while !clients.iter().all(|c| c.is_finished()) {
        app.update();
        std::thread::sleep(Duration::from_millis(2));
    }
    let errors: u32 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(errors, 0);
    assert!(
        tracker.stats().frames_collected > frames_before + 5,
        "the app kept updating"
    );
    app.update();
    assert!(
        tracker.get_metric("api.request_ms").is_some(),
        "the server records its own latency"
    );
}

#[test]
fn server_stops_when_the_app_is_dropped() {
    let (app, _t, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    assert_eq!(get(addr, "/api/performance/metrics").0, 200);
    drop(app);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "port closed after shutdown"
    );
}

use rfm_perf_cli::run_captured as cli;

#[test]
fn cli_reads_metrics_history_and_guards_baselines() {
    let (mut app, tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    tracker.set_config(rfm_perf::TrackerConfig {
        baseline_window: Duration::from_millis(300),
        ..Default::default()
    });
    tracker.register_metric(rfm_perf::MetricInfo::new(
        "game.load_ms",
        rfm_perf::Unit::Milliseconds,
        "Level load",
        rfm_perf::Direction::LowerIsBetter,
    ));
    for _ in 0..20 {
        tracker.track_metric("game.load_ms", 10.0);
    }
    settle(&mut app);
    let url = format!("http://{addr}");
    let (code, out, err) = cli(&["--url", &url, "metrics"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("game.load_ms") && out.contains("frame.time_ms"),
        "{out}"
    );
    let (code, out, _) = cli(&["--url", &url, "history", "game.load_ms", "--points", "4"]);
    assert_eq!(code, 0);
    assert!(out.lines().count() >= 1 && out.contains(" 10 ms"), "{out}");
    let (code, _, err) = cli(&["--url", &url, "history", "game.load_mss"]);
    assert_eq!(code, 2);
    assert!(err.contains("404") && err.contains("game.load_ms"), "{err}");
    let (code, out, _) = cli(&["--url", &url, "watch", "--count", "2", "--interval", "0.05"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("metric ").count(), 2, "{out}");

    let dir = std::env::temp_dir().join(format!("rfm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("base.json");
    let f = file.to_str().unwrap();
    let (code, out, err) = cli(&["--url", &url, "baseline", "save", f]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("saved"));
    assert_eq!(
        rfm_perf::BaselineSet::load(&file).unwrap().metrics["game.load_ms"].median,
        10.0
    );
    let (code, out, err) = cli(&["--url", &url, "baseline", "compare", f]);
    assert_eq!(code, 0, "no regression yet: {out}{err}");
    // the level now loads twice as slowly
    std::thread::sleep(Duration::from_millis(350));
    for _ in 0..20 {
        tracker.track_metric("game.load_ms", 20.0);
    }
    settle(&mut app);
    let (code, out, _) = cli(&[
        "--url",
        &url,
        "baseline",
        "compare",
        f,
        "--threshold",
        "0.2",
    ]);
    assert_eq!(code, 1, "a regression fails the pipeline: {out}");
    assert!(
        out.contains("game.load_ms") && out.contains("+100.0%"),
        "{out}"
    );
    // the saved baseline holds the raw values, so the change is tested, with its effect
    assert_eq!(
        rfm_perf::BaselineSet::load(&file).unwrap().samples["game.load_ms"].len(),
        20
    );
    assert!(out.contains("+100.0% [+100.0, +100.0]"), "{out}");
    // three slow samples only: far worse, but too few to call
    std::thread::sleep(Duration::from_millis(350));
    for _ in 0..3 {
        tracker.track_metric("game.load_ms", 50.0);
    }
    settle(&mut app);
    // (the app's own frame metrics may differ by now: only this metric is checked)
    let (_, out, _) = cli(&["--url", &url, "baseline", "compare", f]);
    assert!(
        out.contains("not a regression: game.load_ms") && out.contains("too few samples"),
        "{out}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("game.load_ms")),
        "not in the failing table: {out}"
    );
    let (code, _, err) = cli(&["--url", &url, "baseline", "compare", "/no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn cors_is_off_by_default_and_configurable() {
    let (_a, _t, plain) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    let preflight = |addr: SocketAddr| {
        raw(
            addr,
            b"OPTIONS /api/performance/metrics HTTP/1.1\r\nHost: x\r\nOrigin: http://dash.example\r\n\
              Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n",
        )
        .to_lowercase()
    };
    assert!(!preflight(plain).contains("access-control-allow-origin"));
    let (_b, _t, cors) = app_with(ApiConfig {
        bind: loopback0(),
        cors_origins: vec!["http://dash.example".into()],
        ..Default::default()
    });
    let resp = preflight(cors);
    assert!(
        resp.contains("access-control-allow-origin: http://dash.example"),
        "{resp}"
    );
}

#[test]
fn the_page_is_served_with_a_strict_csp_and_its_own_origin_may_change_state() {
    let (mut app, _tracker, addr) = app_with(ApiConfig {
        bind: loopback0(),
        ..Default::default()
    });
    settle(&mut app);
    let r = agent().get(&format!("http://{addr}/")).call().unwrap();
    assert_eq!(r.status(), 200);
    let header = |r: &ureq::http::Response<ureq::Body>, k: &str| {
        r.headers()
            .get(k)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert!(header(&r, "content-type").starts_with("text/html"));
    let csp = header(&r, "content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let (_, page) = get(addr, "/");
    assert!(page.contains("/web/live.js") && page.contains("/web/dashboard.css"));
    for a in rfm_perf_web::ASSETS {
        let r = agent()
            .get(&format!("http://{addr}/web/{}", a.name))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", a.name);
        assert_eq!(header(&r, "content-type"), a.content_type);
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    }
    // only the embedded files: no path reaches the file system
    let (s, body) = get(addr, "/web/..%2FCargo.toml");
    assert_eq!(s, 404, "{body}");
    assert!(body.contains("chart.js"), "the 404 lists the files: {body}");
    // the page's own writes pass the origin check; another origin's, or a rebound host's, do not
    let post = |origin: &str, host: &str| {
        raw(
            addr,
            format!(
                "POST /api/performance/baseline HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let own = post(&format!("http://{addr}"), &addr.to_string());
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    let local = post(
        &format!("http://localhost:{}", addr.port()),
        &format!("localhost:{}", addr.port()),
    );
    assert!(local.starts_with("HTTP/1.1 200"), "{local}");
    let other = post("http://evil.example", &addr.to_string());
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");
    let rebound = post(
        &format!("http://evil.example:{}", addr.port()),
        &format!("evil.example:{}", addr.port()),
    );
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
}
