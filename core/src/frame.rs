//! Collected frames: the call tree (execution path) of every thread for one frame.

use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::metric::MetricId;

/// One call path of one thread in one frame: a node of the execution-path tree.
///
/// ```
/// # let tracker = rfm_perf_core::PerformanceTracker::new();
/// tracker.start_timer("outer");
/// tracker.start_timer("inner");
/// tracker.end_timer("inner");
/// tracker.end_timer("outer");
/// let frame = tracker.collect_frame();
/// let lane = &frame.threads[0];
/// assert_eq!(lane.nodes[0].name.as_ref(), "outer");
/// assert_eq!(lane.nodes[1].parent, Some(0));
/// assert!(lane.nodes[0].self_ms <= lane.nodes[0].total_ms);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallNode {
    /// Scope name.
    pub name: Arc<str>,
    /// Scope metric id.
    pub metric: MetricId,
    /// Nesting depth (0 = top level on its thread).
    pub depth: u16,
    /// Index of the parent in the lane's `nodes`, `None` at top level.
    pub parent: Option<u32>,
    /// Completed calls in this frame.
    pub calls: u64,
    /// Total time of those calls (ms).
    pub total_ms: f64,
    /// Total minus the time spent in child scopes (ms).
    pub self_ms: f64,
    /// Shortest call (ms).
    pub min_ms: f64,
    /// Longest call (ms).
    pub max_ms: f64,
}

/// The call tree of one thread, nodes in pre-order (parents before children).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadLane {
    /// Thread name (or `ThreadId` debug text).
    pub thread: Arc<str>,
    /// Nodes in pre-order.
    pub nodes: Vec<CallNode>,
}

/// A scope recorded outside the call tree in this frame (async functions, cross-thread timers,
/// scopes past the depth or path limits).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetachedScope {
    /// Scope name.
    pub name: Arc<str>,
    /// Completed spans.
    pub calls: u64,
    /// Their total time (ms).
    pub total_ms: f64,
}

/// Everything recorded between two collects.
///
/// ```
/// let tracker = rfm_perf_core::PerformanceTracker::new();
/// let f = tracker.collect_frame();
/// assert!(f.threads.is_empty());
/// assert_eq!(f.index, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameProfile {
    /// Frame number (0-based, counts collects).
    pub index: u64,
    /// Wall-clock time of the collect that closed the frame.
    pub collected_at: SystemTime,
    /// Frame duration (ms): given by the frame driver, or the time since the previous collect.
    pub duration_ms: f64,
    /// One call tree per thread that completed scopes in this frame.
    pub threads: Vec<ThreadLane>,
    /// Out-of-tree scopes.
    pub detached: Vec<DetachedScope>,
}

impl FrameProfile {
    /// Total time per scope in this frame, counting recursive calls once (ms), sorted by name.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("a"); t.end_timer("a");
    /// let f = t.collect_frame();
    /// assert_eq!(f.scope_totals()[0].0.as_ref(), "a");
    /// ```
    pub fn scope_totals(&self) -> Vec<(Arc<str>, f64, u64)> {
        let mut map: std::collections::BTreeMap<Arc<str>, (f64, u64)> = Default::default();
        for lane in &self.threads {
            for (i, n) in lane.nodes.iter().enumerate() {
                let e = map.entry(n.name.clone()).or_default();
                e.1 += n.calls;
                if !has_ancestor_named(lane, i, n.metric) {
                    e.0 += n.total_ms;
                }
            }
        }
        for d in &self.detached {
            let e = map.entry(d.name.clone()).or_default();
            e.0 += d.total_ms;
            e.1 += d.calls;
        }
        map.into_iter().map(|(k, (t, c))| (k, t, c)).collect()
    }
}

pub(crate) fn has_ancestor_named(lane: &ThreadLane, i: usize, metric: MetricId) -> bool {
    let mut p = lane.nodes[i].parent;
    while let Some(pi) = p {
        let n = &lane.nodes[pi as usize];
        if n.metric == metric {
            return true;
        }
        p = n.parent;
    }
    false
}
