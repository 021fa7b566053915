//! Recording: timers, scopes and metric samples into the calling thread's buffer.

use super::*;

impl PerformanceTracker {
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
        let tid = self
            .inner
            .counters
            .threads_seen
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        let shared = Arc::new(ThreadShared {
            tid,
            name,
            data: Mutex::new(SharedData::default()),
            alive: AtomicBool::new(true),
        });
        lock(&self.inner.threads).push(shared.clone());
        LocalTracker::new(self.inner.id, shared)
    }

    /// Resolves a name through this thread's cache (no global lock once seen).
    #[inline]
    fn cached_id(&self, local: &mut LocalTracker, name: &str, kind: MetricKind) -> MetricId {
        if let Some(id) = local.names.get(name) {
            return *id;
        }
        let id = self.intern(name, kind);
        // names past the limit are not cached: the thread's cache stays bounded too, and each
        // of their records is counted
        if !self.is_overflow(id) {
            local.names.insert(name.into(), id);
        }
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
                    // a name past the limit was started into the overflow scope
                    None => self
                        .lookup(name)
                        .or_else(|| self.overflow_when_full(MetricKind::Scope))?,
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

    /// The id the scope named `name` records under, for a recorder that resolves each name
    /// once and then opens and closes it by id ([`enter_scope_id`](Self::enter_scope_id),
    /// [`exit_scope_id`](Self::exit_scope_id)) — a `tracing` layer does in `on_new_span`.
    /// Past the scope-name limit this is the overflow scope's id. An id belongs to the tracker
    /// that gave it.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let id = t.scope_id("decode");
    /// assert_eq!(t.scope_id("decode"), id);
    /// ```
    pub fn scope_id(&self, name: &str) -> MetricId {
        self.intern(
            if name.is_empty() { "<unnamed>" } else { name },
            MetricKind::Scope,
        )
    }

    /// Opens the scope `id` (from [`scope_id`](Self::scope_id)) on this thread, like
    /// [`start_timer`](Self::start_timer) without the name lookup; it nests with every other
    /// scope and closes with [`exit_scope_id`](Self::exit_scope_id).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let id = t.scope_id("decode");
    /// t.enter_scope_id(id);
    /// assert!(t.exit_scope_id(id).is_some());
    /// assert_eq!(t.exit_scope_id(id), None, "already closed");
    /// ```
    #[inline]
    pub fn enter_scope_id(&self, id: MetricId) {
        let start = clock::now_ticks();
        self.with_local(|l| l.enter(id, start, true));
    }

    /// Closes the innermost open scope `id` on this thread (and anything still open inside
    /// it) and returns its duration; `None` when it is not open here.
    #[inline]
    pub fn exit_scope_id(&self, id: MetricId) -> Option<Duration> {
        let end = clock::now_ticks();
        self.with_local(|l| l.exit_named(id, end))
            .flatten()
            .map(|c| Duration::from_nanos(c.nanos))
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

    /// Records `samples` of metric `name` with their own times, oldest first: a replay (a saved
    /// run's values, data from another process, a simulation). Non-finite values are skipped; a
    /// time before the metric's newest stored sample is stored at that sample's time (a history
    /// stays in order). Returns how many were stored.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// let start = SystemTime::now();
    /// let samples: Vec<_> = (0..3).map(|i| (start + Duration::from_millis(10 * i), i as f64)).collect();
    /// assert_eq!(t.import_samples("replayed", &samples), Ok(3));
    /// assert_eq!(t.get_history("replayed").len(), 3);
    /// assert!(t.import_samples("", &samples).is_err());
    /// ```
    pub fn import_samples(
        &self,
        name: &str,
        samples: &[(SystemTime, f64)],
    ) -> Result<usize, TrackError> {
        let id = self.metric_id(name).ok_or(TrackError::EmptyName)?;
        self.drain_samples();
        let mut store = lock(&self.inner.store);
        let h = self.history_mut(&mut store, id, false);
        let mut stored = 0;
        for &(at, v) in samples.iter().filter(|s| s.1.is_finite()) {
            h.push_gauge(self.offset_of_system(at), v);
            stored += 1;
        }
        Ok(stored)
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
}
