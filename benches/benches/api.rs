//! The HTTP API under load, against a running headless app with 50 metrics: request throughput
//! of `/api/performance/metrics` and `/metrics` (loopback, keep-alive clients in this process),
//! the cost of publishing a snapshot, and the app's frame time with and without the load — and
//! with ten live-stream viewers (`/api/performance/stream`, as ten browser dashboards).
//!
//! Besides criterion's numbers it prints request latency percentiles and frame-time p95.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use criterion::{Criterion, Throughput};
use rfm_perf::api::ApiStatus;
use rfm_perf::prelude::*;
use rfm_perf::{ApiConfig, PerformanceTracker};

const METRICS: usize = 50;
const CLIENTS: usize = 4;

struct RunningApp {
    tracker: PerformanceTracker,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A headless app at 60 Hz doing ~2 ms of "game" work per frame and updating 50 metrics.
fn start_app() -> RunningApp {
    let tracker = PerformanceTracker::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn({
        let tracker = tracker.clone();
        let stop = stop.clone();
        move || {
            let mut app = App::new();
            app.add_plugins(MinimalPlugins).add_plugins(RfmPerfPlugin {
                system_sampling: false,
                ..RfmPerfPlugin::headless()
                    .with_tracker(tracker.clone())
                    .with_api_config(ApiConfig {
                        bind: "127.0.0.1:0".parse().unwrap(),
                        max_concurrent_requests: 256,
                        ..Default::default()
                    })
            });
            let t = tracker.clone();
            let names: Vec<String> = (0..METRICS)
                .map(|i| format!("bench.metric{i:02}"))
                .collect();
            app.add_systems(Update, move |mut n: Local<u64>| {
                *n += 1;
                for (i, name) in names.iter().enumerate() {
                    t.track_metric(name, (*n as f64 * 0.1 + i as f64).sin());
                }
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_millis(2) {
                    black_box(spin);
                }
            });
            let addr = app
                .world()
                .resource::<ApiStatus>()
                .address()
                .expect("API running");
            tx.send(addr).unwrap();
            let frame = Duration::from_secs_f64(1.0 / 60.0);
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                app.update();
                if let Some(rest) = frame.checked_sub(start.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
        }
    });
    let addr = rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(1500)); // a few snapshots published
    RunningApp {
        tracker,
        addr,
        stop,
        thread: Some(thread),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Runs `total` requests from `CLIENTS` threads; returns wall time and per-request latencies.
fn load(addr: SocketAddr, path: &str, total: u64) -> (Duration, Vec<Duration>) {
    let url = format!("http://{addr}{path}");
    let start = Instant::now();
    let handles: Vec<_> = (0..CLIENTS as u64)
        .map(|c| {
            let url = url.clone();
            let n = total / CLIENTS as u64 + u64::from(c < total % CLIENTS as u64);
            std::thread::spawn(move || {
                let a = agent();
                let mut lat = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let t = Instant::now();
                    let mut r = a.get(&url).call().expect("request");
                    black_box(r.body_mut().read_to_vec().expect("body"));
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let lat = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    (start.elapsed(), lat)
}

/// `clients` viewers of the live stream for `duration`, each reading every event (as a browser
/// dashboard does); returns the snapshot events they received in all.
fn stream_viewers(addr: SocketAddr, clients: usize, duration: Duration) -> usize {
    let url = format!("http://{addr}/api/performance/stream");
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(duration + Duration::from_secs(5)))
                    .build()
                    .into();
                let Ok(mut r) = agent.get(&url).call() else {
                    return 0;
                };
                let reader = std::io::BufReader::new(r.body_mut().as_reader());
                let until = Instant::now() + duration;
                let mut events = 0;
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    events += usize::from(line.starts_with("event: snapshot"));
                    if Instant::now() >= until {
                        break;
                    }
                }
                events
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn frame_p95(tracker: &PerformanceTracker, since: std::time::SystemTime) -> (f64, usize) {
    let mut v: Vec<f64> = tracker
        .history_range(
            "frame.time_ms",
            rfm_perf::TimeRange {
                since: Some(since),
                until: None,
            },
            usize::MAX,
        )
        .into_iter()
        .map(|p| p.1)
        .collect();
    v.sort_by(f64::total_cmp);
    (pct(&v, 0.95), v.len())
}

fn main() {
    // `RFM_BENCH_SERVE=SECONDS cargo bench -p rfm_perf_benches --bench api` only serves, for an
    // external load generator such as wrk
    if let Some(secs) = std::env::var("RFM_BENCH_SERVE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let app = start_app();
        println!("serving on http://{}", app.addr);
        std::thread::sleep(Duration::from_secs(secs));
        let (p95, n) = frame_p95(
            &app.tracker,
            std::time::SystemTime::now() - Duration::from_secs(secs),
        );
        println!("frame time p95 over the last {secs} s: {p95:.3} ms ({n} frames)");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let app = start_app();
    {
        let mut g = c.benchmark_group("api");
        g.throughput(Throughput::Elements(1));
        for path in ["/api/performance/metrics", "/metrics"] {
            g.bench_function(format!("GET {path} ({CLIENTS} clients)"), |b| {
                b.iter_custom(|iters| load(app.addr, path, iters.max(CLIENTS as u64)).0)
            });
        }
        g.finish();
    }
    c.bench_function("publish_snapshot (50+ metrics)", |b| {
        b.iter(|| black_box(app.tracker.publish_snapshot()))
    });

    // the app's frame time without and with load, and request latency, in the same run;
    // the load comes from wrk (Debian's package) when installed: a client in this process
    // competes with the server for the same two cores
    let quiet_from = std::time::SystemTime::now();
    std::thread::sleep(Duration::from_secs(5));
    let (quiet_p95, quiet_n) = frame_p95(&app.tracker, quiet_from);
    println!(
        "\n== api load report ({METRICS} app metrics, app at 60 Hz with 2 ms of work per frame) =="
    );
    println!("frame time p95 without load: {quiet_p95:.3} ms ({quiet_n} frames)");
    for path in ["/api/performance/metrics", "/metrics"] {
        let busy_from = std::time::SystemTime::now();
        let url = format!("http://{}{path}", app.addr);
        let wrk = std::process::Command::new("wrk")
            .args(["-t1", "-c8", "-d10s", "--latency", &url])
            .output();
        let line = match wrk {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let field = |key: &str| {
                    text.lines()
                        .find(|l| l.trim_start().starts_with(key))
                        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
                        .unwrap_or_default()
                };
                format!(
                    "wrk 1 thread 8 connections 10 s: {} req/s, latency p50 {}, p99 {}",
                    field("Requests/sec:"),
                    field("50%"),
                    field("99%")
                )
            }
            _ => {
                let (wall, lat) = load(app.addr, path, 20_000);
                let mut ms: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
                ms.sort_by(f64::total_cmp);
                format!(
                    "wrk not installed; {CLIENTS} in-process clients: {:.0} req/s, latency p50 {:.3} ms, p99 {:.3} ms",
                    lat.len() as f64 / wall.as_secs_f64(),
                    pct(&ms, 0.5),
                    pct(&ms, 0.99)
                )
            }
        };
        let (busy_p95, busy_n) = frame_p95(&app.tracker, busy_from);
        println!("GET {path}: {line}");
        println!(
            "  frame time p95 under that load: {busy_p95:.3} ms ({busy_n} frames), {:+.1} % vs without",
            (busy_p95 / quiet_p95 - 1.0) * 100.0
        );
    }
    // ten browser dashboards: each holds the live stream open and reads every snapshot
    let viewers_from = std::time::SystemTime::now();
    let events = stream_viewers(app.addr, 10, Duration::from_secs(10));
    let (viewers_p95, viewers_n) = frame_p95(&app.tracker, viewers_from);
    println!(
        "10 stream viewers for 10 s ({events} snapshots received): frame time p95 {viewers_p95:.3} ms ({viewers_n} frames), {:+.1} % vs without",
        (viewers_p95 / quiet_p95 - 1.0) * 100.0
    );
    drop(app);
    c.final_summary();
}
