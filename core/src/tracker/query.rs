//! Reads: newest values, raw and decimated history, the long-term tier, scope statistics and
//! kept frames.

use super::*;

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

impl PerformanceTracker {
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

    /// The newest sample of `name` (aliases resolved) with its wall-clock time: what
    /// [`get_metric`](Self::get_metric) returns, and when it was recorded (to tell a new value
    /// from the same one read again).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 4.0);
    /// let (at, v) = t.latest_sample("m").unwrap();
    /// assert_eq!(v, 4.0);
    /// assert!(at <= std::time::SystemTime::now());
    /// ```
    pub fn latest_sample(&self, name: &str) -> Option<(SystemTime, f64)> {
        let id = self.lookup(name)?;
        self.sync_reads();
        let store = lock(&self.inner.store);
        let (t, v) = store.histories.get(id.index())?.as_ref()?.latest()?;
        Some((self.system_time(t), v))
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
        store.scope_stats_cache = None;
        store.frame_slots.clear();
        store.recent.clear();
        store.slowest.clear();
    }

    /// Counters about the tracker itself.
    pub fn stats(&self) -> TrackerStats {
        let c = &self.inner.counters;
        // the registry before the store (the order every other reader takes them in)
        let names = self.metric_count() as u64;
        let store = lock(&self.inner.store);
        TrackerStats {
            rejected_values: c.rejected_values.load(Ordering::Relaxed),
            rejected_names: c.rejected_names.load(Ordering::Relaxed),
            unmatched_end_timers: c.unmatched_end_timers.load(Ordering::Relaxed),
            frames_collected: store.frame_index,
            threads_seen: c.threads_seen.load(Ordering::Relaxed),
            overflowed_records: c.overflowed_records.load(Ordering::Relaxed),
            names,
            history_bytes: store
                .histories
                .iter()
                .flatten()
                .map(|h| h.allocated_bytes() as u64)
                .sum(),
        }
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
        let mut store = lock(&self.inner.store);
        let now_s = self.now_offset() / 1_000_000_000;
        let from = now_s.saturating_sub(cfg.scope_window.as_secs().max(1) - 1);
        // no frame collected and the same window since the last call: the same statistics
        let key = (store.frame_index, from);
        if let Some((k, cached)) = &store.scope_stats_cache
            && *k == key
        {
            return cached.clone();
        }
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
        store.scope_stats_cache = Some((key, out.clone()));
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
}
