//! The server's shared state: the tracker, what the app published, the config, the request
//! counters and the cached bodies.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rfm_perf_core::PerformanceTracker;
use serde_json::{Value, json};

use super::frame_histogram::FrameHistogram;
use super::publish::{Published, PublishedCell};
use super::routes::Route;
use crate::base::ApiConfig;

pub(crate) struct ApiState {
    pub(crate) tracker: PerformanceTracker,
    pub(crate) published: PublishedCell,
    pub(crate) config: ApiConfig,
    pub(crate) update_interval: Duration,
    /// Live streams open now.
    pub(crate) streams: AtomicUsize,
    /// Requests per route, indexed by [`Route::index`].
    pub(crate) counts: [AtomicU64; Route::ALL.len()],
    pub(crate) total: AtomicU64,
    /// Serialized metrics document keyed by (snapshot, published) pointers.
    pub(crate) metrics_cache: RwLock<Option<(CacheKey, Arc<str>)>>,
    /// Prometheus gauges keyed the same way.
    pub(crate) prometheus_cache: RwLock<Option<(CacheKey, Arc<str>)>>,
    pub(crate) system: Value,
    pub(crate) started: Instant,
    /// Every collected frame's duration, for `rfm_frame_duration_seconds`.
    pub(crate) frames: Arc<FrameHistogram>,
    /// This instance's name in `rfm_build_info`.
    pub(crate) instance: String,
    /// What the server asks of the app and tells about it.
    pub(crate) app: AppLink,
    /// The address the server listens on (the page's own origin is checked against it).
    pub(crate) address: std::net::SocketAddr,
    /// Turns true when the server stops: live streams end cleanly instead of being cut.
    pub(crate) shutdown: Option<tokio::sync::watch::Receiver<bool>>,
}

/// The app as the server reaches it: a channel for tunable changes (answered next frame) and
/// the dashboard settings clients show (`GET /config`).
#[derive(Clone, Debug)]
pub(crate) struct AppLink {
    pub(crate) tunables: Option<crate::base::TunableSender>,
    pub(crate) config: Value,
}

impl ApiState {
    pub(crate) fn new(
        tracker: PerformanceTracker,
        published: PublishedCell,
        config: ApiConfig,
        update_interval: Duration,
        address: std::net::SocketAddr,
        frames: Arc<FrameHistogram>,
        app: AppLink,
    ) -> Self {
        let instance = config.instance.clone().unwrap_or_else(|| {
            let host = sysinfo::System::host_name().unwrap_or_else(|| "localhost".into());
            format!("{host}:{}", address.port())
        });
        Self {
            tracker,
            published,
            config,
            update_interval,
            streams: AtomicUsize::new(0),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            total: AtomicU64::new(0),
            metrics_cache: RwLock::new(None),
            prometheus_cache: RwLock::new(None),
            system: system_info(),
            started: Instant::now(),
            frames,
            instance,
            app,
            address,
            shutdown: None,
        }
    }

    pub(crate) fn published(&self) -> Arc<Published> {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn request_counts(&self) -> Vec<(String, u64)> {
        Route::ALL
            .iter()
            .zip(&self.counts)
            .map(|(r, c)| (r.path().to_string(), c.load(Ordering::Relaxed)))
            .collect()
    }
}

fn system_info() -> Value {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    json!({
        "cpu_model": sys.cpus().first().map(|c| c.brand().trim().to_string()),
        "cores": sys.cpus().len(),
        "os": sysinfo::System::long_os_version(),
        "kernel": sysinfo::System::kernel_version(),
        "gpu": Value::Null,
        "gpu_missing_reason": "no GPU adapter reported: the app has no render app or no fractal pass, or the renderer has not started yet",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "bevy_version": "0.19.1",
    })
}

/// The snapshot and published state a cached body was built from (held, so the pointers stay unique).
#[derive(Clone)]
pub(crate) struct CacheKey(
    pub(crate) Arc<rfm_perf_core::Snapshot>,
    pub(crate) Arc<Published>,
);

impl CacheKey {
    pub(crate) fn current(st: &ApiState) -> Self {
        Self(st.tracker.snapshot(), st.published())
    }

    pub(crate) fn same(&self, other: &CacheKey) -> bool {
        Arc::ptr_eq(&self.0, &other.0) && Arc::ptr_eq(&self.1, &other.1)
    }
}
