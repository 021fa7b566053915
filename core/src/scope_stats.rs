//! Per-scope statistics over a sliding window (default the last 10 s), with percentiles.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::histogram::Histogram;

/// Statistics of one scope over the tracker's scope window.
///
/// The percentiles are approximations from a log histogram of call times (each within 6.25 %
/// of the exact value), so recording never keeps every call; min, max, mean and totals are
/// exact. Raw-sample quantiles elsewhere in the crate use [`stats`](crate::stats).
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// for _ in 0..3 { t.start_timer("work"); t.end_timer("work"); }
/// t.collect_frame();
/// let s = t.scope_stats().into_iter().find(|s| s.name.as_ref() == "work").unwrap();
/// assert_eq!(s.calls, 3);
/// assert!(s.p50_ms <= s.p99_ms);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScopeStats {
    /// Scope name.
    pub name: Arc<str>,
    /// Completed calls in the window.
    pub calls: u64,
    /// Mean calls per collected frame.
    pub calls_per_frame: f64,
    /// Total time in the window (ms).
    pub total_ms: f64,
    /// Total minus time in child scopes (ms).
    pub self_ms: f64,
    /// Mean time per call (ms).
    pub mean_ms: f64,
    /// Shortest call (ms).
    pub min_ms: f64,
    /// Longest call (ms).
    pub max_ms: f64,
    /// Median call time (ms, within 6.25 %).
    pub p50_ms: f64,
    /// 95th percentile call time (ms, within 6.25 %).
    pub p95_ms: f64,
    /// 99th percentile call time (ms, within 6.25 %).
    pub p99_ms: f64,
    /// Share of frame time spent in this scope per frame (%; may exceed 100 with several threads).
    pub frame_pct: f64,
}

impl ScopeStats {
    /// A window total of this scope (e.g. [`total_ms`](Self::total_ms) or
    /// [`self_ms`](Self::self_ms)) as a mean per frame; 0 when it made no calls.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.set_frame_driver(true); // reads do not collect frames of their own
    /// for _ in 0..2 { t.start_timer("work"); t.end_timer("work"); }
    /// t.collect_frame();
    /// let s = t.scope_stat("work").unwrap();
    /// assert_eq!((s.calls, s.calls_per_frame), (2, 2.0));
    /// assert!((s.per_frame_ms(s.total_ms) - s.total_ms).abs() < 1e-12); // both calls in one frame
    /// ```
    pub fn per_frame_ms(&self, window_total_ms: f64) -> f64 {
        if self.calls == 0 {
            return 0.0;
        }
        let v = window_total_ms * self.calls_per_frame / self.calls as f64;
        if v.is_finite() { v.max(0.0) } else { 0.0 }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) second: u64,
    pub(crate) calls: u64,
    pub(crate) total_ns: u64,
    pub(crate) self_ns: u64,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) hist: Histogram,
}

/// One slot per second of the window.
#[derive(Debug, Default)]
pub(crate) struct ScopeWindow {
    pub(crate) slots: VecDeque<Slot>,
}

/// The numbers a collect adds for one scope.
pub(crate) struct Contribution<'a> {
    pub(crate) calls: u64,
    pub(crate) total_ns: u64,
    pub(crate) self_ns: u64,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) hist: Option<&'a Histogram>,
    pub(crate) single_ns: Option<u64>,
}

impl ScopeWindow {
    pub(crate) fn add(&mut self, second: u64, window_slots: usize, c: Contribution<'_>) {
        if c.calls == 0 {
            return;
        }
        if self.slots.back().is_none_or(|s| s.second != second) {
            let mut slot = if self.slots.len() >= window_slots.max(1) {
                self.slots.pop_front().unwrap_or_default()
            } else {
                Slot::default()
            };
            slot.hist.clear();
            slot.second = second;
            slot.calls = 0;
            slot.total_ns = 0;
            slot.self_ns = 0;
            slot.min_ns = u64::MAX;
            slot.max_ns = 0;
            self.slots.push_back(slot);
        }
        let Some(s) = self.slots.back_mut() else {
            return;
        };
        s.calls += c.calls;
        s.total_ns += c.total_ns;
        s.self_ns += c.self_ns;
        s.min_ns = s.min_ns.min(c.min_ns);
        s.max_ns = s.max_ns.max(c.max_ns);
        if let Some(h) = c.hist {
            s.hist.merge(h);
        }
        if let Some(v) = c.single_ns {
            s.hist.record(v);
        }
    }

    /// Merged stats of slots with `second >= from_second`, or `None` if none.
    pub(crate) fn summarize(
        &self,
        name: Arc<str>,
        from_second: u64,
        frames: u64,
        frame_ns: u64,
    ) -> Option<ScopeStats> {
        let mut calls = 0;
        let mut total = 0u64;
        let mut self_ns = 0u64;
        let mut min = u64::MAX;
        let mut max = 0u64;
        let mut hist = Histogram::default();
        for s in self.slots.iter().filter(|s| s.second >= from_second) {
            calls += s.calls;
            total += s.total_ns;
            self_ns += s.self_ns;
            min = min.min(s.min_ns);
            max = max.max(s.max_ns);
            hist.merge(&s.hist);
        }
        if calls == 0 {
            return None;
        }
        let ms = |ns: f64| ns / 1e6;
        let q = |p| ms(hist.quantile(p).unwrap_or(0.0)).clamp(ms(min as f64), ms(max as f64));
        Some(ScopeStats {
            name,
            calls,
            calls_per_frame: calls as f64 / frames.max(1) as f64,
            total_ms: ms(total as f64),
            self_ms: ms(self_ns as f64),
            mean_ms: ms(total as f64 / calls as f64),
            min_ms: ms(min as f64),
            max_ms: ms(max as f64),
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            frame_pct: if frame_ns > 0 {
                100.0 * total as f64 / frame_ns as f64
            } else {
                0.0
            },
        })
    }
}
