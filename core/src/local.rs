//! Per-thread recording: the open-scope stack, the thread's call tree and its buffers.
//!
//! The owning thread keeps the tree's structure in a thread-local (no lock); the numbers the
//! collector reads sit behind a per-thread mutex that only the owner and, once per frame, the
//! collector touch. No global lock and no allocation on the hot path once a call path is known.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxHashMap;

use crate::clock;
use crate::histogram::Histogram;
use crate::metric::MetricId;

/// "No node": used for the parent of the virtual root and for scopes recorded outside the tree.
pub(crate) const NONE: u32 = u32::MAX;
/// Index of the virtual root node of every thread tree.
pub(crate) const ROOT: u32 = 0;
/// Deepest nesting kept in the tree; deeper scopes are recorded outside it.
pub(crate) const MAX_DEPTH: usize = 256;
/// Most call paths one thread keeps (each holds a 1.5 KB histogram); further new paths are
/// recorded outside the tree, still counted in the scope statistics.
pub(crate) const MAX_NODES: usize = 4096;
/// Pending metric samples a thread buffers before it flushes them itself.
pub(crate) const SAMPLE_FLUSH: usize = 1 << 14;
/// Pending out-of-tree records a thread buffers before it flushes them itself.
pub(crate) const DETACHED_FLUSH: usize = 1 << 14;
/// Scope events a thread keeps between two collects for the trace; past it they are counted and
/// dropped (the call tree and statistics still see every call).
pub(crate) const EVENT_BUFFER: usize = 1 << 17;

/// One closed scope for the trace: when it ran (ticks), which scope, how deep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SpanEvent {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) scope: MetricId,
    pub(crate) depth: u32,
}

/// Counters of one call path in the current (uncollected) frame.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeStats {
    pub(crate) calls: u64,
    pub(crate) total_ns: u64,
    pub(crate) child_ns: u64,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) hist: Histogram,
}

impl NodeStats {
    pub(crate) fn reset(&mut self) {
        self.calls = 0;
        self.total_ns = 0;
        self.child_ns = 0;
        self.min_ns = 0;
        self.max_ns = 0;
        self.hist.clear();
    }
}

/// What the collector reads of a thread.
#[derive(Debug, Default)]
pub(crate) struct SharedData {
    /// `(scope, parent)` of each node, mirrored from the owner's tree.
    pub(crate) links: Vec<(MetricId, u32)>,
    pub(crate) stats: Vec<NodeStats>,
    /// Nodes whose stats changed since the last collect.
    pub(crate) touched: Vec<u32>,
    pub(crate) touched_flag: Vec<bool>,
    /// Scopes recorded outside the call tree (async functions, cross-thread timers).
    pub(crate) detached: Vec<(MetricId, u64)>,
    /// `track_metric` samples: `(metric, ticks, value)`.
    pub(crate) samples: Vec<(MetricId, u64, f64)>,
    /// Scopes closed since the last collect, for the trace.
    pub(crate) events: Vec<SpanEvent>,
    /// Events dropped because the buffer was full.
    pub(crate) events_dropped: u64,
}

impl SharedData {
    #[inline]
    fn touch(&mut self, node: u32) {
        let i = node as usize;
        if !self.touched_flag[i] {
            self.touched_flag[i] = true;
            self.touched.push(node);
        }
    }
}

/// A thread's buffers as registered with a tracker.
#[derive(Debug)]
pub(crate) struct ThreadShared {
    /// Unique within the tracker (the order threads first recorded in).
    pub(crate) tid: u64,
    pub(crate) name: Arc<str>,
    pub(crate) data: Mutex<SharedData>,
    pub(crate) alive: AtomicBool,
}

impl ThreadShared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SharedData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone, Copy, Debug)]
struct Link {
    scope: MetricId,
    first_child: u32,
    next_sibling: u32,
}

#[derive(Clone, Copy, Debug)]
struct Open {
    node: u32,
    scope: MetricId,
    start: u64,
    token: u32,
    named: bool,
    /// Time of the scopes that closed inside this one (its self time is the rest), kept on
    /// the stack so a frame collected while this scope is open cannot lose it.
    child_ns: u64,
}

/// One thread's state for one tracker.
pub(crate) struct LocalTracker {
    pub(crate) tracker_id: u64,
    pub(crate) shared: Arc<ThreadShared>,
    links: Vec<Link>,
    stack: Vec<Open>,
    current: u32,
    next_token: u32,
    /// Direct-mapped cache `(parent, scope) -> node` in front of the sibling-list walk.
    child_cache: Box<[(u32, u32, u32); CHILD_CACHE]>,
    /// Names this thread has resolved. FxHash: names are short and SipHash would dominate the lookup.
    pub(crate) names: FxHashMap<Box<str>, MetricId>,
}

impl Drop for LocalTracker {
    fn drop(&mut self) {
        self.shared.alive.store(false, Ordering::Release);
    }
}

const CHILD_CACHE: usize = 1024;

#[inline(always)]
fn child_slot(parent: u32, scope: MetricId) -> usize {
    (((parent as u64) << 32 | scope.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
}

/// Result of closing scopes: how long the requested one took.
pub(crate) struct Closed {
    pub(crate) nanos: u64,
}

impl LocalTracker {
    pub(crate) fn new(tracker_id: u64, shared: Arc<ThreadShared>) -> Self {
        {
            let mut d = shared.lock();
            d.links.push((MetricId(u32::MAX), NONE));
            d.stats.push(NodeStats::default());
            d.touched_flag.push(false);
        }
        Self {
            tracker_id,
            shared,
            links: vec![Link {
                scope: MetricId(u32::MAX),
                first_child: NONE,
                next_sibling: NONE,
            }],
            stack: Vec::with_capacity(32),
            current: ROOT,
            next_token: 0,
            child_cache: Box::new([(NONE, u32::MAX, NONE); CHILD_CACHE]),
            names: FxHashMap::default(),
        }
    }

    /// Finds or creates the child of the current node for `scope`. `NONE` when the tree is full.
    #[inline]
    fn child(&mut self, scope: MetricId) -> u32 {
        if self.current == NONE || self.stack.len() >= MAX_DEPTH {
            return NONE;
        }
        let parent = self.current;
        let slot = child_slot(parent, scope);
        let e = self.child_cache[slot];
        if e.0 == parent && e.1 == scope.0 {
            return e.2;
        }
        let mut c = self.links[parent as usize].first_child;
        while c != NONE {
            let l = &self.links[c as usize];
            if l.scope == scope {
                self.child_cache[slot] = (parent, scope.0, c);
                return c;
            }
            c = l.next_sibling;
        }
        if self.links.len() >= MAX_NODES {
            return NONE;
        }
        let node = self.links.len() as u32;
        let first = self.links[parent as usize].first_child;
        self.links.push(Link {
            scope,
            first_child: NONE,
            next_sibling: first,
        });
        self.links[parent as usize].first_child = node;
        self.child_cache[slot] = (parent, scope.0, node);
        let mut d = self.shared.lock();
        d.links.push((scope, parent));
        d.stats.push(NodeStats::default());
        d.touched_flag.push(false);
        node
    }

    /// Opens a scope that started at `start` ticks. Returns `(token, depth)` for its guard.
    #[inline]
    pub(crate) fn enter(&mut self, scope: MetricId, start: u64, named: bool) -> (u32, u32) {
        let node = self.child(scope);
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        let depth = self.stack.len() as u32;
        self.stack.push(Open {
            node,
            scope,
            start,
            token,
            named,
            child_ns: 0,
        });
        if node != NONE {
            self.current = node;
        }
        (token, depth)
    }

    /// Closes the scope opened with `(token, depth)` at `end` ticks, closing any scope still
    /// open inside it first. `None` if it was already closed.
    #[inline]
    pub(crate) fn exit(&mut self, token: u32, depth: u32, end: u64) -> Option<Closed> {
        let depth = depth as usize;
        match self.stack.get(depth) {
            Some(o) if o.token == token => {}
            _ => return None,
        }
        let Self {
            shared,
            stack,
            current,
            ..
        } = self;
        let mut d = shared.lock();
        let mut nanos = 0;
        while stack.len() > depth {
            nanos = close_top(stack, current, &mut d, end);
        }
        Some(Closed { nanos })
    }

    /// Closes the innermost open named timer for `scope` (and anything still open inside it).
    pub(crate) fn exit_named(&mut self, scope: MetricId, end: u64) -> Option<Closed> {
        let pos = self
            .stack
            .iter()
            .rposition(|o| o.named && o.scope == scope)?;
        let token = self.stack[pos].token;
        self.exit(token, pos as u32, end)
    }

    /// Records a span timed outside the tree (async guard, cross-thread timer).
    pub(crate) fn record_detached(&self, scope: MetricId, nanos: u64) -> bool {
        let mut d = self.shared.lock();
        d.detached.push((scope, nanos));
        d.detached.len() >= DETACHED_FLUSH
    }

    /// Buffers a metric sample. Returns `true` when the buffer should be flushed.
    #[inline]
    pub(crate) fn record_sample(&self, metric: MetricId, ticks: u64, value: f64) -> bool {
        let mut d = self.shared.lock();
        d.samples.push((metric, ticks, value));
        d.samples.len() >= SAMPLE_FLUSH
    }
}

#[inline]
fn close_top(stack: &mut Vec<Open>, current: &mut u32, d: &mut SharedData, end: u64) -> u64 {
    let Some(open) = stack.pop() else { return 0 };
    let nanos = clock::ticks_to_nanos(open.start, end);
    if d.events.len() < EVENT_BUFFER {
        d.events.push(SpanEvent {
            start: open.start,
            end,
            scope: open.scope,
            depth: stack.len() as u32,
        });
    } else {
        d.events_dropped += 1;
    }
    if let Some(enclosing) = stack.last_mut() {
        enclosing.child_ns += nanos;
    }
    if open.node == NONE {
        d.detached.push((open.scope, nanos));
        return nanos;
    }
    let node = open.node;
    let s = &mut d.stats[node as usize];
    if s.calls == 0 || nanos < s.min_ns {
        s.min_ns = nanos;
    }
    if nanos > s.max_ns {
        s.max_ns = nanos;
    }
    s.calls += 1;
    s.total_ns += nanos;
    s.child_ns += open.child_ns.min(nanos);
    s.hist.record(nanos);
    d.touch(node);
    *current = if stack.is_empty() {
        ROOT
    } else {
        // the innermost open scope that has a node; scopes outside the tree keep their parent's
        stack
            .iter()
            .rev()
            .find(|o| o.node != NONE)
            .map_or(ROOT, |o| o.node)
    };
    nanos
}

thread_local! {
    /// This thread's state for each tracker it recorded into (the global tracker first).
    pub(crate) static LOCAL: RefCell<Vec<LocalTracker>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Arc<ThreadShared> {
        Arc::new(ThreadShared {
            tid: 1,
            name: "t".into(),
            data: Mutex::new(SharedData::default()),
            alive: AtomicBool::new(true),
        })
    }

    #[test]
    fn nested_scopes_build_a_tree() {
        let sh = shared();
        let mut l = LocalTracker::new(1, sh.clone());
        let a = MetricId(1);
        let b = MetricId(2);
        let (ta, da) = l.enter(a, 0, false);
        let (tb, db) = l.enter(b, 10, false);
        assert!(l.exit(tb, db, 20).is_some());
        let (tb, db) = l.enter(b, 30, false);
        assert!(l.exit(tb, db, 40).is_some());
        assert!(l.exit(ta, da, 100).is_some());
        assert!(l.exit(ta, da, 100).is_none(), "closing twice is a no-op");
        let d = sh.lock();
        assert_eq!(d.links.len(), 3);
        assert_eq!(d.links[2], (b, 1));
        assert_eq!(d.stats[2].calls, 2);
        assert_eq!(d.stats[1].calls, 1);
        assert_eq!(d.stats[1].child_ns, d.stats[2].total_ns);
    }

    #[test]
    fn closing_outer_closes_inner() {
        let sh = shared();
        let mut l = LocalTracker::new(1, sh.clone());
        let (ta, da) = l.enter(MetricId(1), 0, true);
        let (tb, db) = l.enter(MetricId(2), 5, false);
        assert!(l.exit_named(MetricId(1), 50).is_some());
        assert!(l.exit(tb, db, 60).is_none());
        assert!(l.exit(ta, da, 60).is_none());
        assert_eq!(sh.lock().stats[2].calls, 1);
    }
}
