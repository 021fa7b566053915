//! [`PerformanceTracker`]: the seed's API over thread-local recording, history rings and baselines.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::baseline::{BaselineSet, BaselineStat, RegressionReport};
use crate::clock;
use crate::error::{BaselineError, TrackError};
use crate::frame::{CallNode, DetachedScope, FrameProfile, ThreadLane};
use crate::history::MetricHistory;
use crate::local::{FxHasher, LOCAL, LocalTracker, NONE, ROOT, SharedData, ThreadShared};
type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;
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
}

#[derive(Default)]
struct Counters {
    rejected_values: AtomicU64,
    rejected_names: AtomicU64,
    unmatched_end_timers: AtomicU64,
    threads_seen: AtomicU64,
}

struct FrameSlot {
    second: u64,
    frames: u64,
    frame_ns: u64,
}

struct Store {
    histories: Vec<Option<MetricHistory>>,
    scopes: FxMap<MetricId, ScopeWindow>,
    frame_slots: VecDeque<FrameSlot>,
    recent: VecDeque<Arc<FrameProfile>>,
    slowest: Vec<Arc<FrameProfile>>,
    frame_index: u64,
    last_collect_t: Option<u64>,
    baselines: BaselineSet,
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
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The performance tracker: timers, scopes, metrics, history, baselines and regressions.
///
/// It is a cheap handle (`Clone` shares the same tracker). Recording writes to a per-thread
/// buffer; [`collect_frame`](Self::collect_frame) (called once per frame by the Bevy plugin)
/// moves it into the history; reads then show the last collected frame and never lock the
/// recording threads. Outside Bevy there is no frame: every read collects first, so the seed's
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
/// tracker.track_metric("fps", 60.0); // the seed's short name for frame.fps
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

/// A time range for history queries, in wall-clock time. `None` ends are open.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let r = rfm_perf_core::TimeRange::last(Duration::from_secs(60));
/// assert!(r.since.unwrap() < SystemTime::now());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub since: Option<SystemTime>,
    /// Exclusive end.
    pub until: Option<SystemTime>,
}

impl TimeRange {
    /// Everything.
    pub const ALL: TimeRange = TimeRange {
        since: None,
        until: None,
    };

    /// The last `d` up to now.
    pub fn last(d: Duration) -> Self {
        Self {
            since: SystemTime::now().checked_sub(d),
            until: None,
        }
    }
}

/// One bucket of a min–max decimation: the exact min and max of the samples in `[start, end)`.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// for v in [1.0, 5.0, 3.0] { t.track_metric("m", v); }
/// let b = t.decimate("m", rfm_perf_core::TimeRange::ALL, 1);
/// assert_eq!((b[0].min, b[0].max, b[0].count), (1.0, 5.0, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMaxBucket {
    /// Start of the bucket.
    pub start: SystemTime,
    /// End of the bucket (exclusive).
    pub end: SystemTime,
    /// Smallest value and when it was recorded.
    pub min: f64,
    /// When the minimum was recorded.
    pub min_at: SystemTime,
    /// Largest value.
    pub max: f64,
    /// When the maximum was recorded.
    pub max_at: SystemTime,
    /// Mean of the bucket.
    pub mean: f64,
    /// Samples in the bucket.
    pub count: u32,
}

/// One second of the long-term tier.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// t.track_metric("m", 2.0);
/// assert_eq!(t.long_term_history("m")[0].max, 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LongTermBucket {
    /// Start of the second.
    pub start: SystemTime,
    /// Minimum.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Maximum.
    pub max: f64,
    /// Samples.
    pub count: u32,
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
                scopes: FxMap::default(),
                frame_slots: VecDeque::new(),
                recent: VecDeque::new(),
                slowest: Vec::new(),
                frame_index: 0,
                last_collect_t: None,
                baselines: BaselineSet::default(),
            }),
            config: RwLock::new(config),
            frame_driver: AtomicBool::new(false),
            counters: Counters::default(),
            logged: Mutex::new(HashSet::new()),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
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
        if let Some(id) = self.registry().get(name) {
            return id;
        }
        self.registry_mut().intern(name, kind)
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

    // ---------------------------------------------------------------- thread-local access

    /// Runs `f` on this thread's state for this tracker, registering the thread on first use.
    #[inline]
    pub(crate) fn with_local<R>(&self, f: impl FnOnce(&mut LocalTracker) -> R) -> Option<R> {
        LOCAL
            .try_with(|cell| {
                let mut v = cell.try_borrow_mut().ok()?;
                let id = self.inner.id;
                let pos = match v.iter().position(|l| l.tracker_id == id) {
                    Some(p) => p,
                    None => {
                        v.retain(|l| Arc::strong_count(&l.shared) > 1);
                        v.push(self.register_thread());
                        v.len() - 1
                    }
                };
                Some(f(&mut v[pos]))
            })
            .ok()
            .flatten()
    }

    fn register_thread(&self) -> LocalTracker {
        let t = std::thread::current();
        let name: Arc<str> = match t.name() {
            Some(n) => n.into(),
            None => format!("{:?}", t.id()).into(),
        };
        let shared = Arc::new(ThreadShared {
            name,
            data: Mutex::new(SharedData::default()),
            alive: AtomicBool::new(true),
        });
        lock(&self.inner.threads).push(shared.clone());
        self.inner
            .counters
            .threads_seen
            .fetch_add(1, Ordering::Relaxed);
        LocalTracker::new(self.inner.id, shared)
    }

    /// Resolves a name through this thread's cache (no global lock once seen).
    #[inline]
    fn cached_id(&self, local: &mut LocalTracker, name: &str, kind: MetricKind) -> MetricId {
        if let Some(id) = local.names.get(name) {
            return *id;
        }
        let id = self.intern(name, kind);
        local.names.insert(name.into(), id);
        id
    }

    fn reject(&self, err: &TrackError) {
        match err {
            TrackError::EmptyName => {
                self.inner
                    .counters
                    .rejected_names
                    .fetch_add(1, Ordering::Relaxed);
            }
            TrackError::NonFinite { .. } => {
                self.inner
                    .counters
                    .rejected_values
                    .fetch_add(1, Ordering::Relaxed);
            }
            TrackError::NotStarted(_) => {
                self.inner
                    .counters
                    .unmatched_end_timers
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let key = match err {
            TrackError::EmptyName => String::from("\u{0}empty"),
            TrackError::NonFinite { name, .. } => format!("v:{name}"),
            TrackError::NotStarted(name) => format!("t:{name}"),
        };
        if lock(&self.inner.logged).insert(key) {
            log::warn!("rfm_perf: {err} (further reports for this name are counted, not logged)");
        }
    }

    // ---------------------------------------------------------------- timers and scopes

    /// Starts a timer named `name` on this thread. Timers nest; the same name on two threads
    /// does not collide. An empty name is rejected (counted and logged once), never a panic.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("load");
    /// assert!(t.end_timer("load").is_some());
    /// ```
    pub fn start_timer(&self, name: &str) {
        if let Err(e) = self.try_start_timer(name) {
            self.reject(&e);
        }
    }

    /// [`start_timer`](Self::start_timer) that reports bad input as an error.
    pub fn try_start_timer(&self, name: &str) -> Result<(), TrackError> {
        if name.is_empty() {
            return Err(TrackError::EmptyName);
        }
        self.with_local(|l| {
            let id = self.cached_id(l, name, MetricKind::Scope);
            l.enter(id, clock::now_ticks(), true);
        });
        Ok(())
    }

    /// Ends the innermost open timer `name` on this thread and returns its duration.
    /// Timers still open inside it are ended at the same moment. Returns `None` — never panics —
    /// when no such timer was started on this thread.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert_eq!(t.end_timer("never started"), None);
    /// ```
    pub fn end_timer(&self, name: &str) -> Option<Duration> {
        match self.try_end_timer(name) {
            Ok(d) => Some(d),
            Err(e) => {
                self.reject(&e);
                None
            }
        }
    }

    /// [`end_timer`](Self::end_timer) that reports bad input as an error.
    pub fn try_end_timer(&self, name: &str) -> Result<Duration, TrackError> {
        let end = clock::now_ticks();
        if name.is_empty() {
            return Err(TrackError::EmptyName);
        }
        let closed = self
            .with_local(|l| {
                // the cache is keyed by the name as started (an alias stays an alias); on a miss
                // the registry resolves aliases both ways
                let id = match l.names.get(name) {
                    Some(id) => *id,
                    None => self.lookup(name)?,
                };
                l.exit_named(id, end)
            })
            .flatten();
        closed
            .map(|c| Duration::from_nanos(c.nanos))
            .ok_or_else(|| TrackError::NotStarted(name.to_string()))
    }

    /// A timer for a span that may end on another thread (e.g. two Bevy systems). It records
    /// outside the per-thread call tree when stopped or dropped.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let timer = t.timer("upload");
    /// let d = std::thread::spawn(move || timer.stop()).join().unwrap();
    /// assert!(d.as_secs() < 10);
    /// t.collect_frame();
    /// assert_eq!(t.scope_stats().iter().find(|s| s.name.as_ref() == "upload").unwrap().calls, 1);
    /// ```
    pub fn timer(&self, name: &str) -> crate::scope::Timer {
        let id = if name.is_empty() {
            self.reject(&TrackError::EmptyName);
            None
        } else {
            Some(self.intern(name, MetricKind::Scope))
        };
        crate::scope::Timer::new(self.clone(), id)
    }

    /// Opens a scope for the call-site metric `id` (used by `#[track_performance]`).
    #[inline]
    pub(crate) fn enter_scope(&self, id: MetricId) -> Option<(u32, u32)> {
        let start = clock::now_ticks();
        self.with_local(|l| l.enter(id, start, false))
    }

    #[inline]
    pub(crate) fn exit_scope(&self, token: u32, depth: u32) {
        let end = clock::now_ticks();
        self.with_local(|l| l.exit(token, depth, end));
    }

    /// Interns a scope name (call sites resolve it once).
    pub(crate) fn scope_id(&self, name: &str) -> MetricId {
        self.intern(name, MetricKind::Scope)
    }

    pub(crate) fn record_detached(&self, id: MetricId, nanos: u64) {
        let flush = self
            .with_local(|l| l.record_detached(id, nanos))
            .unwrap_or(false);
        // without a frame driver nothing else empties the out-of-tree buffer; with one, the
        // next frame does
        if flush && !self.has_frame_driver() {
            self.collect_frame();
        }
    }

    // ---------------------------------------------------------------- metrics

    /// Records `value` for metric `name` (aliases such as `"fps"` resolve to built-ins).
    /// NaN, ±inf and empty names are rejected: not stored, counted in [`stats`](Self::stats),
    /// logged once per name.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("memory_usage", 512.0);
    /// assert_eq!(t.get_metric("process.memory_mb"), Some(512.0));
    /// t.track_metric("memory_usage", f64::INFINITY);
    /// assert_eq!(t.get_metric("memory_usage"), Some(512.0));
    /// ```
    #[inline]
    pub fn track_metric(&self, name: &str, value: f64) {
        if let Err(e) = self.try_track_metric(name, value) {
            self.reject(&e);
        }
    }

    /// [`track_metric`](Self::track_metric) that reports bad input as an error.
    #[inline]
    pub fn try_track_metric(&self, name: &str, value: f64) -> Result<(), TrackError> {
        if name.is_empty() {
            return Err(TrackError::EmptyName);
        }
        if !value.is_finite() {
            return Err(TrackError::NonFinite {
                name: name.to_string(),
                value,
            });
        }
        let t = clock::now_ticks();
        let flush = self
            .with_local(|l| {
                let id = self.cached_id(l, name, MetricKind::Gauge);
                l.record_sample(id, t, value)
            })
            .unwrap_or(false);
        if flush {
            self.drain_samples();
        }
        Ok(())
    }

    /// Records a value for an already-resolved metric id (skips the name lookup).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let id = t.metric_id("m").unwrap();
    /// t.track_id(id, 3.0);
    /// assert_eq!(t.get_metric("m"), Some(3.0));
    /// ```
    #[inline]
    pub fn track_id(&self, id: MetricId, value: f64) {
        if !value.is_finite() {
            let name = self
                .metric_name(id)
                .map(|n| n.to_string())
                .unwrap_or_default();
            self.reject(&TrackError::NonFinite { name, value });
            return;
        }
        let t = clock::now_ticks();
        let flush = self
            .with_local(|l| l.record_sample(id, t, value))
            .unwrap_or(false);
        if flush {
            self.drain_samples();
        }
    }

    /// The newest value of `name`: the last sample of a gauge, or a scope's total time (ms) in
    /// the last collected frame in which it ran. `None` if nothing was recorded.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert_eq!(t.get_metric("nothing"), None);
    /// ```
    pub fn get_metric(&self, name: &str) -> Option<f64> {
        let id = self.lookup(name)?;
        self.sync_reads();
        let store = lock(&self.inner.store);
        store
            .histories
            .get(id.index())?
            .as_ref()?
            .latest()
            .map(|(_, v)| v)
    }

    /// Every stored raw sample of `name`, oldest first, with wall-clock timestamps.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// t.track_metric("m", 2.0);
    /// let h = t.get_history("m");
    /// assert_eq!(h.iter().map(|p| p.1).collect::<Vec<_>>(), vec![1.0, 2.0]);
    /// assert!(h[0].0 <= h[1].0);
    /// ```
    pub fn get_history(&self, name: &str) -> Vec<(SystemTime, f64)> {
        self.history_range(name, TimeRange::ALL, usize::MAX)
    }

    /// Raw samples of `name` in `range`, oldest first, at most `limit` (the newest ones).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// for i in 0..10 { t.track_metric("m", i as f64); }
    /// let h = t.history_range("m", rfm_perf_core::TimeRange::last(Duration::from_secs(60)), 3);
    /// assert_eq!(h.iter().map(|p| p.1).collect::<Vec<_>>(), vec![7.0, 8.0, 9.0]);
    /// ```
    pub fn history_range(
        &self,
        name: &str,
        range: TimeRange,
        limit: usize,
    ) -> Vec<(SystemTime, f64)> {
        let Some(id) = self.lookup(name) else {
            return Vec::new();
        };
        self.sync_reads();
        let (from, to) = self.offsets(range);
        let store = lock(&self.inner.store);
        let Some(Some(h)) = store.histories.get(id.index()) else {
            return Vec::new();
        };
        h.points(from, to, limit)
            .into_iter()
            .map(|(t, v)| (self.system_time(t), v))
            .collect()
    }

    /// Call counts per collected frame of scope `name` in `range`, oldest first.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("s"); t.end_timer("s");
    /// t.start_timer("s"); t.end_timer("s");
    /// t.collect_frame();
    /// assert_eq!(t.scope_call_history("s", rfm_perf_core::TimeRange::ALL)[0].1, 2);
    /// ```
    pub fn scope_call_history(&self, name: &str, range: TimeRange) -> Vec<(SystemTime, u32)> {
        let Some(id) = self.lookup(name) else {
            return Vec::new();
        };
        self.sync_reads();
        let (from, to) = self.offsets(range);
        let store = lock(&self.inner.store);
        let Some(Some(h)) = store.histories.get(id.index()) else {
            return Vec::new();
        };
        h.scope_calls(from, to)
            .into_iter()
            .map(|(t, c)| (self.system_time(t), c))
            .collect()
    }

    /// Min–max decimation of `name` over `range` into `buckets` equal time spans (for plots:
    /// draw each bucket's min and max and the line keeps every spike). Empty spans are left out.
    /// With an open range the span is that of the stored samples.
    pub fn decimate(&self, name: &str, range: TimeRange, buckets: usize) -> Vec<MinMaxBucket> {
        let Some(id) = self.lookup(name) else {
            return Vec::new();
        };
        self.sync_reads();
        let (mut from, mut to) = self.offsets(range);
        let store = lock(&self.inner.store);
        let Some(Some(h)) = store.histories.get(id.index()) else {
            return Vec::new();
        };
        if range.since.is_none() || range.until.is_none() {
            let Some((first, last)) = h.first_last_t() else {
                return Vec::new();
            };
            if range.since.is_none() {
                from = first;
            }
            if range.until.is_none() {
                to = last + 1;
            }
        }
        h.decimate(from, to, buckets)
            .into_iter()
            .map(|b| MinMaxBucket {
                start: self.system_time(b.start),
                end: self.system_time(b.end),
                min: b.min,
                min_at: self.system_time(b.min_t),
                max: b.max,
                max_at: self.system_time(b.max_t),
                mean: b.sum / f64::from(b.count.max(1)),
                count: b.count,
            })
            .collect()
    }

    /// The long-term tier of `name`: 1 s buckets, oldest first.
    pub fn long_term_history(&self, name: &str) -> Vec<LongTermBucket> {
        let Some(id) = self.lookup(name) else {
            return Vec::new();
        };
        self.sync_reads();
        let store = lock(&self.inner.store);
        let Some(Some(h)) = store.histories.get(id.index()) else {
            return Vec::new();
        };
        h.coarse
            .all()
            .map(|c| LongTermBucket {
                start: self.system_time(c.second * 1_000_000_000),
                min: c.min,
                mean: c.sum / f64::from(c.count.max(1)),
                max: c.max,
                count: c.count,
            })
            .collect()
    }

    /// Bytes allocated by the history of `name` (raw and long-term tiers).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// assert!(t.history_bytes("m") >= 16);
    /// ```
    pub fn history_bytes(&self, name: &str) -> usize {
        let Some(id) = self.lookup(name) else {
            return 0;
        };
        self.sync_reads();
        let store = lock(&self.inner.store);
        store
            .histories
            .get(id.index())
            .and_then(|h| h.as_ref())
            .map_or(0, |h| h.allocated_bytes())
    }

    /// Drops all stored history, scope statistics and frames (baselines and metadata stay).
    pub fn clear_history(&self) {
        self.drain_samples();
        let mut store = lock(&self.inner.store);
        store.histories.clear();
        store.scopes.clear();
        store.frame_slots.clear();
        store.recent.clear();
        store.slowest.clear();
    }

    /// Counters about the tracker itself.
    pub fn stats(&self) -> TrackerStats {
        let c = &self.inner.counters;
        TrackerStats {
            rejected_values: c.rejected_values.load(Ordering::Relaxed),
            rejected_names: c.rejected_names.load(Ordering::Relaxed),
            unmatched_end_timers: c.unmatched_end_timers.load(Ordering::Relaxed),
            frames_collected: lock(&self.inner.store).frame_index,
            threads_seen: c.threads_seen.load(Ordering::Relaxed),
        }
    }

    // ---------------------------------------------------------------- time

    fn offset_of(&self, ticks: u64) -> u64 {
        clock::ticks_to_nanos(self.inner.anchor_ticks, ticks)
    }

    fn now_offset(&self) -> u64 {
        self.offset_of(clock::now_ticks())
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

    // ---------------------------------------------------------------- collection

    /// Without a frame driver every read first collects (so the seed's `end_timer` then
    /// `get_metric` sees its value). With one, reads show what the last collected frame holds
    /// and never touch the recording threads' buffers.
    fn sync_reads(&self) {
        if !self.has_frame_driver() {
            self.collect_frame();
        }
    }

    fn history_mut<'a>(
        &self,
        store: &'a mut Store,
        id: MetricId,
        scope: bool,
    ) -> &'a mut MetricHistory {
        let i = id.index();
        if store.histories.len() <= i {
            store.histories.resize_with(i + 1, || None);
        }
        store.histories[i].get_or_insert_with(|| {
            let cfg = self.inner.config.read().unwrap_or_else(|e| e.into_inner());
            MetricHistory::new(scope, cfg.history_capacity, cfg.long_term_capacity)
        })
    }

    /// Moves buffered `track_metric` samples of every thread into the history (no frame ends).
    pub fn drain_samples(&self) {
        let threads = lock(&self.inner.threads).clone();
        let mut store = lock(&self.inner.store);
        let mut buf = Vec::new();
        for th in &threads {
            {
                let mut d = th.lock();
                std::mem::swap(&mut buf, &mut d.samples);
            }
            for (id, ticks, v) in buf.drain(..) {
                let t = self.offset_of(ticks);
                self.history_mut(&mut store, id, false).push_gauge(t, v);
            }
        }
    }

    /// Ends the current frame: moves every thread's recorded scopes and samples into the
    /// history, one sample per scope (total ms and call count), builds the frame's call tree and
    /// updates per-scope statistics. Frame duration is the time since the previous collect.
    pub fn collect_frame(&self) -> Arc<FrameProfile> {
        self.collect_frame_with_duration(None)
    }

    /// [`collect_frame`](Self::collect_frame) with the frame duration given by the caller
    /// (Bevy's frame time).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let f = t.collect_frame_with_duration(Some(std::time::Duration::from_millis(16)));
    /// assert_eq!(f.duration_ms, 16.0);
    /// ```
    pub fn collect_frame_with_duration(&self, frame: Option<Duration>) -> Arc<FrameProfile> {
        let threads = lock(&self.inner.threads).clone();
        let cfg = self.config();
        let window_slots = cfg.scope_window.as_secs().max(1) as usize;
        let registry = self
            .registry()
            .iter()
            .map(|(_, i)| i.name.clone())
            .collect::<Vec<_>>();
        let name_of = |id: MetricId| {
            registry
                .get(id.index())
                .cloned()
                .unwrap_or_else(|| Arc::from("?"))
        };

        let mut store = lock(&self.inner.store);
        let now = self.now_offset();
        let second = now / 1_000_000_000;
        let duration_ns = match frame {
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            None => store.last_collect_t.map_or(0, |l| now.saturating_sub(l)),
        };
        store.last_collect_t = Some(now);

        let mut lanes = Vec::new();
        let mut detached: FxMap<MetricId, (u64, u64)> = FxMap::default();
        let mut samples = Vec::new();
        let mut scratch: FxMap<u32, u32> = FxMap::default();
        for th in &threads {
            let mut d = th.lock();
            std::mem::swap(&mut samples, &mut d.samples);
            for (id, nanos) in d.detached.drain(..) {
                let e = detached.entry(id).or_default();
                e.0 += 1;
                e.1 += nanos;
                let w = store.scopes.entry(id).or_default();
                w.add(
                    second,
                    window_slots,
                    Contribution {
                        calls: 1,
                        total_ns: nanos,
                        self_ns: nanos,
                        min_ns: nanos,
                        max_ns: nanos,
                        hist: None,
                        single_ns: Some(nanos),
                    },
                );
            }
            if !d.touched.is_empty() {
                let lane = build_lane(
                    &mut d,
                    &th.name,
                    &name_of,
                    &mut scratch,
                    |id, s: &crate::local::NodeStats, nested: bool| {
                        let w = store.scopes.entry(id).or_default();
                        w.add(
                            second,
                            window_slots,
                            Contribution {
                                calls: s.calls,
                                // a recursive call's time is already inside its outer call's
                                total_ns: if nested { 0 } else { s.total_ns },
                                self_ns: s.total_ns.saturating_sub(s.child_ns),
                                min_ns: s.min_ns,
                                max_ns: s.max_ns,
                                hist: Some(&s.hist),
                                single_ns: None,
                            },
                        );
                    },
                );
                lanes.push(lane);
            }
            drop(d);
            for (id, ticks, v) in samples.drain(..) {
                let t = self.offset_of(ticks);
                self.history_mut(&mut store, id, false).push_gauge(t, v);
            }
        }
        // forget threads that ended once drained; a thread may have recorded (scopes, detached
        // spans, samples) after it was drained above and then ended: keep it for the next collect
        {
            let mut list = lock(&self.inner.threads);
            list.retain(|th| {
                th.alive.load(Ordering::Acquire) || {
                    let d = th.lock();
                    !d.samples.is_empty() || !d.touched.is_empty() || !d.detached.is_empty()
                }
            });
        }

        let mut per_scope: FxMap<MetricId, (f64, u64)> = FxMap::default();
        for (&id, &(calls, ns)) in &detached {
            let e = per_scope.entry(id).or_default();
            e.0 += ns as f64 / 1e6;
            e.1 += calls;
        }
        let mut profile = FrameProfile {
            index: store.frame_index,
            collected_at: self.system_time(now),
            duration_ms: duration_ns as f64 / 1e6,
            threads: lanes,
            detached: detached
                .into_iter()
                .map(|(id, (calls, ns))| DetachedScope {
                    name: name_of(id),
                    calls,
                    total_ms: ns as f64 / 1e6,
                })
                .collect(),
        };
        profile.detached.sort_by(|a, b| a.name.cmp(&b.name));
        // one history sample per scope for this frame
        for lane in &profile.threads {
            for (i, n) in lane.nodes.iter().enumerate() {
                let e = per_scope.entry(n.metric).or_default();
                e.1 += n.calls;
                if !crate::frame::has_ancestor_named(lane, i, n.metric) {
                    e.0 += n.total_ms;
                }
            }
        }
        for (id, (ms, calls)) in per_scope {
            if calls > 0 {
                self.history_mut(&mut store, id, true).push_scope(
                    now,
                    ms,
                    u32::try_from(calls).unwrap_or(u32::MAX),
                );
            }
        }
        // frame slots for calls/frame and % of frame
        if store.frame_slots.back().is_none_or(|s| s.second != second) {
            store.frame_slots.push_back(FrameSlot {
                second,
                frames: 0,
                frame_ns: 0,
            });
            while store.frame_slots.len() > window_slots {
                store.frame_slots.pop_front();
            }
        }
        if let Some(s) = store.frame_slots.back_mut() {
            s.frames += 1;
            s.frame_ns += duration_ns;
        }
        store.frame_index += 1;
        let profile = Arc::new(profile);
        store.recent.push_back(profile.clone());
        while store.recent.len() > cfg.recent_frames {
            store.recent.pop_front();
        }
        if cfg.slowest_frames > 0 {
            let min_slowest = store
                .slowest
                .last()
                .map_or(f64::NEG_INFINITY, |f| f.duration_ms);
            if store.slowest.len() < cfg.slowest_frames || profile.duration_ms > min_slowest {
                store.slowest.push(profile.clone());
                store
                    .slowest
                    .sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
                store.slowest.truncate(cfg.slowest_frames);
            }
        }
        profile
    }

    /// Statistics of scope `name` (aliases resolved) over the scope window, if it ran in it.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("load"); t.end_timer("load");
    /// assert_eq!(t.scope_stat("load").map(|s| s.calls), Some(1));
    /// assert!(t.scope_stat("never").is_none());
    /// ```
    pub fn scope_stat(&self, name: &str) -> Option<ScopeStats> {
        let name = crate::names::resolve_alias(name);
        self.scope_stats()
            .into_iter()
            .find(|s| s.name.as_ref() == name)
    }

    /// Statistics of every scope active in the scope window, slowest total first.
    pub fn scope_stats(&self) -> Vec<ScopeStats> {
        if !self.has_frame_driver() {
            self.collect_frame();
        }
        let cfg = self.config();
        let store = lock(&self.inner.store);
        let now_s = self.now_offset() / 1_000_000_000;
        let from = now_s.saturating_sub(cfg.scope_window.as_secs().max(1) - 1);
        let frames: u64 = store
            .frame_slots
            .iter()
            .filter(|s| s.second >= from)
            .map(|s| s.frames)
            .sum();
        let frame_ns: u64 = store
            .frame_slots
            .iter()
            .filter(|s| s.second >= from)
            .map(|s| s.frame_ns)
            .sum();
        let r = self.registry();
        let mut out: Vec<ScopeStats> = store
            .scopes
            .iter()
            .filter_map(|(id, w)| {
                let name = r.info(*id)?.name.clone();
                w.summarize(name, from, frames, frame_ns)
            })
            .collect();
        out.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
        out
    }

    /// The most recently collected frame.
    pub fn latest_frame(&self) -> Option<Arc<FrameProfile>> {
        lock(&self.inner.store).recent.back().cloned()
    }

    /// The kept recent frames, oldest first.
    pub fn recent_frames(&self) -> Vec<Arc<FrameProfile>> {
        lock(&self.inner.store).recent.iter().cloned().collect()
    }

    /// The slowest frames collected so far (slowest first).
    pub fn slowest_frames(&self) -> Vec<Arc<FrameProfile>> {
        lock(&self.inner.store).slowest.clone()
    }

    // ---------------------------------------------------------------- baselines

    /// Median, p95 and count of every metric over the last `window`. The samples are copied
    /// under the store lock; sorting happens after it is released, so a large window never
    /// holds up the frame's collect.
    fn window_stats(&self, window: Duration) -> Vec<(String, BaselineStat)> {
        let now = self.now_offset();
        let from = now.saturating_sub(u64::try_from(window.as_nanos()).unwrap_or(u64::MAX));
        let copied: Vec<(MetricId, Vec<f64>)> = {
            let store = lock(&self.inner.store);
            store
                .histories
                .iter()
                .enumerate()
                .filter_map(|(i, h)| Some((MetricId(i as u32), h.as_ref()?.values(from, u64::MAX))))
                .collect()
        };
        let r = self.registry();
        copied
            .into_iter()
            .filter_map(|(id, values)| {
                let info = r.info(id)?;
                Some((info.name.to_string(), BaselineStat::from_values(&values)?))
            })
            .collect()
    }

    /// Captures the current statistics (median, p95, count over the baseline window) of every
    /// metric with samples as the baseline, replacing the previous baselines. Returns how many.
    pub fn capture_baseline(&self) -> usize {
        self.sync_reads();
        let window = self.config().baseline_window;
        let stats = self.window_stats(window);
        let n = stats.len();
        lock(&self.inner.store).baselines = BaselineSet {
            captured_unix_s: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            window_s: window.as_secs_f64(),
            metrics: stats.into_iter().collect(),
            ..BaselineSet::default()
        };
        n
    }

    /// The current baselines.
    pub fn baselines(&self) -> BaselineSet {
        lock(&self.inner.store).baselines.clone()
    }

    /// Replaces the baselines.
    pub fn set_baselines(&self, set: BaselineSet) {
        lock(&self.inner.store).baselines = set;
    }

    /// Saves the baselines as JSON, atomically (temporary file + rename).
    pub fn save_baselines(&self, path: impl AsRef<Path>) -> Result<(), BaselineError> {
        self.baselines().save(path)
    }

    /// Loads baselines saved by [`save_baselines`](Self::save_baselines). On a missing,
    /// corrupt or other-version file it returns the error and keeps the current baselines.
    /// Returns how many metrics were loaded.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("rfm-doc-lb-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let bad = dir.join("bad.json");
    /// std::fs::write(&bad, b"{ not json").unwrap();
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// t.capture_baseline();
    /// assert!(t.load_baselines(&bad).is_err());
    /// assert!(t.baselines().metrics.contains_key("m"));
    /// ```
    pub fn load_baselines(&self, path: impl AsRef<Path>) -> Result<usize, BaselineError> {
        let set = BaselineSet::load(path)?;
        let n = set.metrics.len();
        self.set_baselines(set);
        Ok(n)
    }

    /// Metrics whose median over the baseline window got worse than the baseline median by at
    /// least `threshold` (relative, e.g. `0.2` = 20 %), oriented by each metric's direction.
    /// Neutral metrics are never flagged. Worst first. See [`Severity`] for the levels.
    pub fn detect_regressions(&self, threshold: f64) -> Vec<RegressionReport> {
        self.sync_reads();
        let window = self.config().baseline_window;
        let baselines = self.baselines();
        if baselines.metrics.is_empty() {
            return Vec::new();
        }
        let current = self.window_stats(window);
        baselines.compare(
            current,
            |name| self.metric_info(name).map(|i| i.direction),
            threshold,
        )
    }

    /// Median, p95 and sample count of every metric with samples over the baseline window:
    /// what [`capture_baseline`](Self::capture_baseline) would store, without storing it.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// for v in [1.0, 2.0, 3.0] { t.track_metric("m", v); }
    /// assert_eq!(t.current_stats()["m"].median, 2.0);
    /// ```
    pub fn current_stats(&self) -> std::collections::BTreeMap<String, BaselineStat> {
        self.sync_reads();
        self.window_stats(self.config().baseline_window)
            .into_iter()
            .collect()
    }

    // ---------------------------------------------------------------- snapshots

    /// Builds a snapshot of the newest value of every metric with samples and publishes it;
    /// readers of [`snapshot`](Self::snapshot) get it without touching the recorders.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("fps", 30.0);
    /// let s = t.publish_snapshot();
    /// assert_eq!(s.value("frame.fps"), Some(30.0));
    /// assert!(std::sync::Arc::ptr_eq(&s, &t.snapshot()));
    /// ```
    pub fn publish_snapshot(&self) -> Arc<Snapshot> {
        self.sync_reads();
        let store = lock(&self.inner.store);
        let r = self.registry();
        let values = store
            .histories
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let (t, value) = h.as_ref()?.latest()?;
                let info = r.info(MetricId(i as u32))?;
                Some(SnapshotValue {
                    info: info.clone(),
                    value,
                    at: self.system_time(t),
                })
            })
            .collect();
        let snap = Arc::new(Snapshot {
            taken_at: SystemTime::now(),
            frame: store.frame_index,
            values,
        });
        drop(r);
        drop(store);
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(|e| e.into_inner()) = snap.clone();
        snap
    }

    /// The latest published snapshot (empty until the first [`publish_snapshot`](Self::publish_snapshot)).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Builds one thread's call-tree lane from its touched nodes and resets their counters.
fn build_lane(
    d: &mut SharedData,
    thread: &Arc<str>,
    name_of: &impl Fn(MetricId) -> Arc<str>,
    scratch: &mut FxMap<u32, u32>,
    mut on_node: impl FnMut(MetricId, &crate::local::NodeStats, bool),
) -> ThreadLane {
    // nodes to show: touched ones and their ancestors (an open parent has no calls yet)
    let mut include: Vec<u32> = Vec::with_capacity(d.touched.len());
    scratch.clear();
    let touched = std::mem::take(&mut d.touched);
    for &n in &touched {
        let mut cur = n;
        while cur != ROOT && cur != NONE && !scratch.contains_key(&cur) {
            scratch.insert(cur, u32::MAX);
            include.push(cur);
            cur = d.links[cur as usize].1;
        }
    }
    // children lists, then pre-order
    let mut children: FxMap<u32, Vec<u32>> = FxMap::default();
    for &n in &include {
        children.entry(d.links[n as usize].1).or_default().push(n);
    }
    for v in children.values_mut() {
        v.sort_unstable();
    }
    let mut nodes = Vec::with_capacity(include.len());
    let mut stack: Vec<(u32, Option<u32>, u16)> = children.get(&ROOT).map_or_else(Vec::new, |c| {
        c.iter().rev().map(|&n| (n, None, 0)).collect()
    });
    while let Some((n, parent, depth)) = stack.pop() {
        let (scope, _) = d.links[n as usize];
        let s = &d.stats[n as usize];
        let ms = |ns: u64| ns as f64 / 1e6;
        let idx = nodes.len() as u32;
        nodes.push(CallNode {
            name: name_of(scope),
            metric: scope,
            depth,
            parent,
            calls: s.calls,
            total_ms: ms(s.total_ns),
            self_ms: ms(s.total_ns.saturating_sub(s.child_ns)),
            min_ms: ms(s.min_ns),
            max_ms: ms(s.max_ns),
        });
        if s.calls > 0 {
            let mut nested = false;
            let mut p = parent;
            while let Some(pi) = p {
                let n: &CallNode = &nodes[pi as usize];
                if n.metric == scope {
                    nested = true;
                    break;
                }
                p = n.parent;
            }
            on_node(scope, s, nested);
        }
        if let Some(c) = children.get(&n) {
            stack.extend(
                c.iter()
                    .rev()
                    .map(|&ch| (ch, Some(idx), depth.saturating_add(1))),
            );
        }
    }
    for &n in &touched {
        d.stats[n as usize].reset();
        d.touched_flag[n as usize] = false;
    }
    d.touched = touched;
    d.touched.clear();
    ThreadLane {
        thread: thread.clone(),
        nodes,
    }
}
