//! [`PerformanceTracker`]: the handle, its configuration and its metric registry. The rest of
//! its methods live by concern: [`record`] (timers, scopes, samples), [`collect`] (the frame's
//! collect), [`query`] (reads), [`baselines`] and [`publish`] (snapshots).

mod anomalies;
mod baselines;
mod collect;
mod publish;
mod query;
mod record;
mod trace;

pub use trace::TRACE_COUNTERS;

pub use query::{LongTermBucket, MinMaxBucket, TimeRange};

use std::collections::{BTreeMap, HashSet, VecDeque};

use rustc_hash::FxHashMap as FxMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::baseline::{
    Assessment, BaselineSet, BaselineStat, MAX_BASELINE_SAMPLES, RegressionReport, RegressionTest,
    Verdict, evenly_spaced,
};
use crate::clock;
use crate::error::{BaselineError, TrackError};
use crate::frame::{CallNode, DetachedScope, FrameProfile, ThreadLane};
use crate::history::MetricHistory;
use crate::local::{LOCAL, LocalTracker, NONE, ROOT, SharedData, ThreadShared};
use crate::metric::{MetricId, MetricInfo, MetricKind, Registry};
use crate::scope_stats::{Contribution, ScopeStats, ScopeWindow};
use crate::snapshot::{Snapshot, SnapshotValue};

/// Sizes and windows of a tracker. Every field has a documented default.
///
/// ```
/// let cfg = rfm_perf_core::TrackerConfig { history_capacity: 1000, ..Default::default() };
/// let t = rfm_perf_core::PerformanceTracker::with_config(cfg);
/// assert_eq!(t.config().history_capacity, 1000);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// Raw samples kept per metric. Default 36 000 (10 min at 60 Hz); 16 bytes each.
    pub history_capacity: usize,
    /// 1 s buckets kept per metric in the long-term tier. Default 3 600 (1 h).
    pub long_term_capacity: usize,
    /// Window of the per-scope statistics (calls, percentiles). Default 10 s.
    pub scope_window: Duration,
    /// Collected frames whose call trees are kept. Default 120.
    pub recent_frames: usize,
    /// Slowest frames whose call trees are kept apart. Default 10.
    pub slowest_frames: usize,
    /// Window a baseline and the regression check summarize. Default 10 s.
    pub baseline_window: Duration,
    /// Significance level of the regression check's test. Default 0.01.
    #[serde(default = "default_regression_alpha")]
    pub regression_alpha: f64,
    /// Distinct gauge names the tracker keeps (the built-ins count). The values of new names
    /// past it go to [`OVERFLOW_METRIC`](crate::OVERFLOW_METRIC), counted in
    /// [`TrackerStats::overflowed_records`] and logged once. Default 2 000 (of the order of
    /// OpenTelemetry SDKs' cardinality limit per instrument).
    #[serde(default = "default_max_names")]
    pub max_metrics: usize,
    /// Distinct scope names the tracker keeps; past it timings go to
    /// [`OVERFLOW_SCOPE`](crate::OVERFLOW_SCOPE). Default 2 000.
    #[serde(default = "default_max_names")]
    pub max_scopes: usize,
    /// Memory all histories together may hold (raw and long-term tiers). When more metrics
    /// share it than `history_capacity` fits, every history keeps fewer samples (the newest).
    /// Default 256 MiB: the whole tracker then stays under about 300 MiB with 4 000 names.
    #[serde(default = "default_history_budget")]
    pub history_budget_bytes: usize,
    /// How far back [`PerformanceTracker::trace`] reaches: each thread's scopes with their start
    /// times are kept this long (24 bytes each). Default 10 s; zero keeps none.
    #[serde(default = "default_trace_window")]
    pub trace_window: Duration,
}

fn default_trace_window() -> Duration {
    Duration::from_secs(10)
}

fn default_regression_alpha() -> f64 {
    0.01
}

fn default_max_names() -> usize {
    2_000
}

fn default_history_budget() -> usize {
    256 << 20
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            history_capacity: 36_000,
            long_term_capacity: 3_600,
            scope_window: Duration::from_secs(10),
            recent_frames: 120,
            slowest_frames: 10,
            baseline_window: Duration::from_secs(10),
            regression_alpha: default_regression_alpha(),
            max_metrics: default_max_names(),
            max_scopes: default_max_names(),
            history_budget_bytes: default_history_budget(),
            trace_window: default_trace_window(),
        }
    }
}

/// Counters about the tracker itself.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// t.track_metric("x", f64::NAN);
/// assert_eq!(t.stats().rejected_values, 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerStats {
    /// Values rejected because they were NaN or infinite.
    pub rejected_values: u64,
    /// Calls rejected because the name was empty.
    pub rejected_names: u64,
    /// `end_timer` calls without a matching `start_timer` on that thread.
    pub unmatched_end_timers: u64,
    /// Frames collected.
    pub frames_collected: u64,
    /// Threads that have recorded into this tracker (alive or not).
    pub threads_seen: u64,
    /// Values and timings of names past [`TrackerConfig::max_metrics`] /
    /// [`TrackerConfig::max_scopes`], recorded into the overflow entries instead.
    #[serde(default)]
    pub overflowed_records: u64,
    /// Metric and scope names the tracker keeps (built-ins and overflow entries included).
    #[serde(default)]
    pub names: u64,
    /// Bytes the histories hold allocated, all together.
    #[serde(default)]
    pub history_bytes: u64,
}

#[derive(Default)]
struct Counters {
    rejected_values: AtomicU64,
    rejected_names: AtomicU64,
    unmatched_end_timers: AtomicU64,
    threads_seen: AtomicU64,
    overflowed_records: AtomicU64,
    overflow_logged: AtomicBool,
}

struct FrameSlot {
    second: u64,
    frames: u64,
    frame_ns: u64,
}

struct Store {
    histories: Vec<Option<MetricHistory>>,
    /// Each thread's recent scopes, for the trace.
    trace: trace::TraceStore,
    /// Histories created, and the capacities new ones get (the budget shared among them).
    history_count: usize,
    raw_capacity: usize,
    coarse_capacity: usize,
    scopes: FxMap<MetricId, ScopeWindow>,
    frame_slots: VecDeque<FrameSlot>,
    recent: VecDeque<Arc<FrameProfile>>,
    slowest: Vec<Arc<FrameProfile>>,
    frame_index: u64,
    last_collect_t: Option<u64>,
    baselines: BaselineSet,
    /// The scenario and machine measured now (baselines captured get it).
    key: crate::BaselineKey,
    /// The last scope statistics and what they were computed for (frame index, first second
    /// of the window): the analysis, the dashboard and the API all ask once per interval.
    scope_stats_cache: Option<((u64, u64), Vec<ScopeStats>)>,
}

pub(crate) struct Inner {
    id: u64,
    anchor_ticks: u64,
    anchor_system: SystemTime,
    registry: RwLock<Registry>,
    threads: Mutex<Vec<Arc<ThreadShared>>>,
    store: Mutex<Store>,
    config: RwLock<TrackerConfig>,
    frame_driver: AtomicBool,
    counters: Counters,
    logged: Mutex<HashSet<String>>,
    snapshot: RwLock<Arc<Snapshot>>,
    anomalies: Mutex<anomalies::AnomalyState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The performance tracker: timers, scopes, metrics, history, baselines and regressions.
///
/// It is a cheap handle (`Clone` shares the same tracker). Recording writes to a per-thread
/// buffer; [`collect_frame`](Self::collect_frame) (called once per frame by the Bevy plugin)
/// moves it into the history; reads then show the last collected frame and never lock the
/// recording threads. Outside Bevy there is no frame: every read collects first, so the original
/// usage works as written:
///
/// ```
/// use rfm_perf_core::get_performance_tracker;
/// let tracker = get_performance_tracker();
/// tracker.start_timer("complex_operation");
/// tracker.start_timer("preparation");
/// tracker.end_timer("preparation");
/// let total = tracker.end_timer("complex_operation").unwrap();
/// assert!(tracker.get_metric("complex_operation").unwrap() >= 0.0);
/// assert!(total.as_secs_f64() < 10.0);
/// tracker.track_metric("fps", 60.0); // the short alias of frame.fps
/// assert_eq!(tracker.get_metric("frame.fps"), Some(60.0));
/// ```
#[derive(Clone)]
pub struct PerformanceTracker {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for PerformanceTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceTracker")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl Default for PerformanceTracker {
    fn default() -> Self {
        Self::new()
    }
}

/// The process-wide tracker that `#[track_performance]` and `perf_scope!` record into.
///
/// ```
/// let a = rfm_perf_core::get_performance_tracker();
/// let b = rfm_perf_core::get_performance_tracker();
/// assert!(a.same_as(b));
/// ```
pub fn get_performance_tracker() -> &'static PerformanceTracker {
    static GLOBAL: OnceLock<PerformanceTracker> = OnceLock::new();
    GLOBAL.get_or_init(PerformanceTracker::new)
}

static NEXT_TRACKER_ID: AtomicU64 = AtomicU64::new(1);

impl PerformanceTracker {
    /// A new, empty tracker with the built-in metrics registered and default config.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(t.metric_info("frame.time_ms").is_some());
    /// ```
    pub fn new() -> Self {
        Self::with_config(TrackerConfig::default())
    }

    /// A new tracker with `config`.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::with_config(Default::default());
    /// assert_eq!(t.config().history_capacity, 36_000);
    /// ```
    pub fn with_config(config: TrackerConfig) -> Self {
        clock::warm_up();
        let inner = Inner {
            id: NEXT_TRACKER_ID.fetch_add(1, Ordering::Relaxed),
            anchor_ticks: clock::now_ticks(),
            anchor_system: SystemTime::now(),
            registry: RwLock::new(Registry::with_builtins()),
            threads: Mutex::new(Vec::new()),
            store: Mutex::new(Store {
                histories: Vec::new(),
                trace: trace::TraceStore::default(),
                history_count: 0,
                raw_capacity: config.history_capacity,
                coarse_capacity: config.long_term_capacity,
                scopes: FxMap::default(),
                frame_slots: VecDeque::new(),
                recent: VecDeque::new(),
                slowest: Vec::new(),
                frame_index: 0,
                last_collect_t: None,
                scope_stats_cache: None,
                baselines: BaselineSet::default(),
                key: crate::BaselineKey::default(),
            }),
            config: RwLock::new(config),
            frame_driver: AtomicBool::new(false),
            counters: Counters::default(),
            logged: Mutex::new(HashSet::new()),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            anomalies: Mutex::new(anomalies::AnomalyState::default()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Whether two handles share one tracker.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(t.same_as(&t.clone()));
    /// assert!(!t.same_as(&rfm_perf_core::PerformanceTracker::new()));
    /// ```
    pub fn same_as(&self, other: &PerformanceTracker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The current configuration.
    pub fn config(&self) -> TrackerConfig {
        self.inner
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the configuration. History rings created from now on use the new capacities;
    /// existing ones keep theirs until [`clear_history`](Self::clear_history).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.set_config(rfm_perf_core::TrackerConfig { recent_frames: 5, ..Default::default() });
    /// assert_eq!(t.config().recent_frames, 5);
    /// ```
    pub fn set_config(&self, config: TrackerConfig) {
        *self.inner.config.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// Declares that something (the Bevy plugin) calls [`collect_frame`](Self::collect_frame)
    /// once per frame, so reads stop collecting by themselves.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.set_frame_driver(true);
    /// t.start_timer("a"); t.end_timer("a");
    /// assert_eq!(t.get_metric("a"), None); // not collected yet
    /// t.collect_frame();
    /// assert!(t.get_metric("a").is_some());
    /// ```
    pub fn set_frame_driver(&self, attached: bool) {
        self.inner.frame_driver.store(attached, Ordering::Relaxed);
    }

    /// Whether a frame driver is attached.
    pub fn has_frame_driver(&self) -> bool {
        self.inner.frame_driver.load(Ordering::Relaxed)
    }

    // ---------------------------------------------------------------- registry

    /// Registers or updates a metric's unit, description and direction.
    ///
    /// ```
    /// use rfm_perf_core::{MetricInfo, Unit, Direction};
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.register_metric(MetricInfo::new("net.latency_ms", Unit::Milliseconds, "RTT", Direction::LowerIsBetter));
    /// assert_eq!(t.metric_info("net.latency_ms").unwrap().unit, Unit::Milliseconds);
    /// ```
    pub fn register_metric(&self, info: MetricInfo) -> MetricId {
        let mut r = self.registry_mut();
        let kind = info.kind;
        if r.get(&info.name).is_none() && r.count(kind) >= self.name_limit(kind) {
            let name = info.name.clone();
            return self.overflowed(&r, &name, kind);
        }
        r.upsert(info, kind == MetricKind::Scope)
    }

    /// The id of `name` (aliases resolved), creating a gauge if it is new. `None` for an empty name.
    pub fn metric_id(&self, name: &str) -> Option<MetricId> {
        if name.is_empty() {
            return None;
        }
        Some(self.intern(name, MetricKind::Gauge))
    }

    fn intern(&self, name: &str, kind: MetricKind) -> MetricId {
        {
            let r = self.registry();
            if let Some(id) = r.get(name) {
                return id;
            }
            if r.count(kind) >= self.name_limit(kind) {
                return self.overflowed(&r, name, kind);
            }
        }
        let mut r = self.registry_mut();
        if r.get(name).is_none() && r.count(kind) >= self.name_limit(kind) {
            return self.overflowed(&r, name, kind);
        }
        r.intern(name, kind)
    }

    fn name_limit(&self, kind: MetricKind) -> usize {
        let cfg = self.inner.config.read().unwrap_or_else(|e| e.into_inner());
        if kind == MetricKind::Scope {
            cfg.max_scopes
        } else {
            cfg.max_metrics
        }
    }

    /// Counts a record of `name` past the name limit (logged once) and returns the overflow
    /// entry that takes it.
    fn overflowed(&self, r: &Registry, name: &str, kind: MetricKind) -> MetricId {
        let c = &self.inner.counters;
        c.overflowed_records.fetch_add(1, Ordering::Relaxed);
        if !c.overflow_logged.swap(true, Ordering::Relaxed) {
            log::warn!(
                "rfm_perf: more than {} {} names (e.g. {name:?}): the values of new names go to {:?}; a name with an id in it makes a metric per id",
                self.name_limit(kind),
                if kind == MetricKind::Scope {
                    "scope"
                } else {
                    "metric"
                },
                if kind == MetricKind::Scope {
                    crate::OVERFLOW_SCOPE
                } else {
                    crate::OVERFLOW_METRIC
                }
            );
        }
        r.overflow(kind)
    }

    /// The overflow entry of `kind` when its names are at the limit (a name not registered
    /// went there), else `None`.
    pub(crate) fn overflow_when_full(&self, kind: MetricKind) -> Option<MetricId> {
        let r = self.registry();
        (r.count(kind) >= self.name_limit(kind)).then(|| r.overflow(kind))
    }

    /// Whether `id` is an overflow entry (its names are never cached per thread).
    pub(crate) fn is_overflow(&self, id: MetricId) -> bool {
        self.registry().is_overflow(id)
    }

    fn lookup(&self, name: &str) -> Option<MetricId> {
        self.registry().get(name)
    }

    /// Metadata of `name` (aliases resolved).
    pub fn metric_info(&self, name: &str) -> Option<MetricInfo> {
        let r = self.registry();
        r.get(name).and_then(|id| r.info(id).cloned())
    }

    pub(crate) fn metric_name(&self, id: MetricId) -> Option<Arc<str>> {
        let r = self.registry();
        r.info(id).map(|i| i.name.clone())
    }

    /// Every registered metric's metadata, in registration order.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(t.metrics().iter().any(|m| m.name.as_ref() == "frame.fps"));
    /// ```
    pub fn metrics(&self) -> Vec<MetricInfo> {
        let r = self.registry();
        r.iter().map(|(_, i)| i.clone()).collect()
    }

    /// How many metrics are registered (without copying their metadata).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let n = t.metric_count();
    /// t.track_metric("new.one", 1.0);
    /// assert_eq!(t.metric_count(), n + 1);
    /// ```
    pub fn metric_count(&self) -> usize {
        self.registry().len()
    }

    /// Names of metrics that have at least one sample.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// assert_eq!(t.recorded_metric_names(), vec!["m".to_string()]);
    /// ```
    pub fn recorded_metric_names(&self) -> Vec<String> {
        self.sync_reads();
        let store = lock(&self.inner.store);
        let r = self.registry();
        let mut names: Vec<String> = store
            .histories
            .iter()
            .enumerate()
            .filter(|(_, h)| h.as_ref().is_some_and(|h| h.len() > 0))
            .filter_map(|(i, _)| r.info(MetricId(i as u32)).map(|info| info.name.to_string()))
            .collect();
        names.sort();
        names
    }

    // ---------------------------------------------------------------- time

    fn offset_of(&self, ticks: u64) -> u64 {
        clock::ticks_to_nanos(self.inner.anchor_ticks, ticks)
    }

    fn now_offset(&self) -> u64 {
        self.offset_of(clock::now_ticks())
    }

    /// Now on the tracker's own clock, the one its samples are stamped with: a time range that
    /// splits samples at "now" (before a change, after it) splits them where they were taken.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// let now = t.now();
    /// assert!(t.latest_sample("m").unwrap().0 <= now);
    /// ```
    pub fn now(&self) -> SystemTime {
        self.system_time(self.now_offset())
    }

    /// When this tracker started, on its clock: the earliest time a sample can carry (an
    /// [`import_samples`](Self::import_samples) time before it is stored at it).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(t.started_at() <= t.now());
    /// ```
    pub fn started_at(&self) -> SystemTime {
        self.inner.anchor_system
    }

    fn system_time(&self, offset: u64) -> SystemTime {
        self.inner.anchor_system + Duration::from_nanos(offset)
    }

    fn offset_of_system(&self, t: SystemTime) -> u64 {
        t.duration_since(self.inner.anchor_system)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    fn offsets(&self, range: TimeRange) -> (u64, u64) {
        (
            range.since.map_or(0, |s| self.offset_of_system(s)),
            range.until.map_or(u64::MAX, |u| self.offset_of_system(u)),
        )
    }
}
