//! The background sampler thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bevy::prelude::Resource;
use rfm_perf_core::{Direction, MetricInfo, PerformanceTracker, Unit, names};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::metrics::{self, PROCESS_CPU_PCT, SYSTEM_MEMORY_USED_MB};

/// What the sampler found on this machine (and why a source is missing).
///
/// ```
/// let s = rfm_perf::system::SystemSources::default();
/// assert_eq!(s.cores, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemSources {
    /// CPU model.
    pub cpu_brand: String,
    /// Logical cores.
    pub cores: usize,
    /// Why process metrics are missing, if they are.
    pub process_missing: Option<String>,
    /// Why I/O pressure is missing, if it is.
    pub io_pressure_missing: Option<String>,
}

/// Handle of the sampler thread; stops and joins it when dropped (e.g. when the app exits).
#[derive(Resource, Debug)]
#[must_use = "the sampler thread stops when this handle is dropped"]
pub struct SystemSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    sources: Arc<Mutex<SystemSources>>,
}

impl SystemSampler {
    /// Starts sampling into `tracker` every `interval` (at least sysinfo's minimum CPU interval).
    pub fn start(tracker: PerformanceTracker, interval: Duration) -> std::io::Result<Self> {
        metrics::register(&tracker);
        let stop = Arc::new(AtomicBool::new(false));
        let sources = Arc::new(Mutex::new(SystemSources::default()));
        let interval = interval.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let thread = std::thread::Builder::new()
            .name("rfm_perf-sampler".into())
            .spawn({
                let stop = stop.clone();
                let sources = sources.clone();
                move || run(&tracker, interval, &stop, &sources)
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
            sources,
        })
    }

    /// What was found (filled after the first sample).
    pub fn sources(&self) -> SystemSources {
        self.sources.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SystemSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

fn register(tracker: &PerformanceTracker, cores: usize) {
    for n in 0..cores {
        tracker.register_metric(MetricInfo::new(
            names::cpu_core(n),
            Unit::Percent,
            format!("CPU usage of core {n}"),
            Direction::LowerIsBetter,
        ));
    }
}

fn run(
    tracker: &PerformanceTracker,
    interval: Duration,
    stop: &AtomicBool,
    sources: &Mutex<SystemSources>,
) {
    let mut sys = System::new();
    sys.refresh_cpu_usage();
    let pid: Option<Pid> = sysinfo::get_current_pid().ok();
    let kind = ProcessRefreshKind::nothing()
        .with_memory()
        .with_cpu()
        .with_disk_usage();
    if let Some(pid) = pid {
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
    }
    let cores = sys.cpus().len();
    register(tracker, cores);
    let core_names: Vec<String> = (0..cores).map(names::cpu_core).collect();
    {
        let mut s = sources.lock().unwrap_or_else(|e| e.into_inner());
        s.cpu_brand = sys
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .unwrap_or_default();
        s.cores = cores;
        s.process_missing = pid
            .is_none()
            .then(|| "this platform has no process id for sysinfo".to_string());
        s.io_pressure_missing = super::io_pressure::read_io_pressure()
            .is_none()
            .then(|| "no /proc/pressure/io (not Linux, or PSI disabled in the kernel)".to_string());
    }
    let mut last = std::time::Instant::now();
    // The first sample comes as soon as CPU usage is measurable, then one per interval.
    let mut wait = sysinfo::MINIMUM_CPU_UPDATE_INTERVAL;
    while !stop.load(Ordering::Relaxed) {
        let deadline = std::time::Instant::now() + wait;
        while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
            std::thread::park_timeout(
                deadline.saturating_duration_since(std::time::Instant::now()),
            );
        }
        wait = interval;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let elapsed = last.elapsed().as_secs_f64().max(1e-3);
        last = std::time::Instant::now();
        sys.refresh_cpu_usage();
        sys.refresh_memory();
        for (cpu, name) in sys.cpus().iter().zip(&core_names) {
            tracker.track_metric(name, f64::from(cpu.cpu_usage()));
        }
        tracker.track_metric(names::SYSTEM_CPU_PCT, f64::from(sys.global_cpu_usage()));
        tracker.track_metric(
            SYSTEM_MEMORY_USED_MB,
            sys.used_memory() as f64 / 1_048_576.0,
        );
        if let Some(pid) = pid {
            sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
            if let Some(p) = sys.process(pid) {
                tracker.track_metric(names::PROCESS_MEMORY_MB, p.memory() as f64 / 1_048_576.0);
                tracker.track_metric(PROCESS_CPU_PCT, f64::from(p.cpu_usage()));
                let io = p.disk_usage();
                tracker.track_metric(names::IO_READ_BYTES_PER_S, io.read_bytes as f64 / elapsed);
                tracker.track_metric(
                    names::IO_WRITE_BYTES_PER_S,
                    io.written_bytes as f64 / elapsed,
                );
            }
        }
        if let Some(p) = super::io_pressure::read_io_pressure() {
            tracker.track_metric(names::IO_PRESSURE_PCT, p);
        }
    }
}
