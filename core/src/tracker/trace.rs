//! The tracker's side of the trace: each thread's closed scopes, moved out of its buffer at the
//! collect and kept for the last [`TrackerConfig::trace_window`], and their capture.

use super::*;
use crate::local::SpanEvent;
use crate::trace::{TraceCapture, TraceCounter, TraceSpan, TraceThread};

/// Most scope events one thread keeps, whatever the window (24 MiB).
pub(crate) const MAX_TRACE_EVENTS_PER_THREAD: usize = 1 << 20;

/// The metrics a trace carries as counters.
pub const TRACE_COUNTERS: [&str; 4] = [
    crate::names::FRAME_FPS,
    crate::names::FRAME_TIME_MS,
    crate::names::RENDER_FRACTAL_GPU_MS,
    crate::names::FRACTAL_ITERATIONS,
];

#[derive(Clone, Copy, Debug)]
pub(crate) struct KeptSpan {
    /// Tracker time (ns since the anchor).
    start: u64,
    dur: u64,
    scope: MetricId,
    depth: u32,
}

#[derive(Default)]
pub(crate) struct ThreadTrace {
    name: Arc<str>,
    spans: VecDeque<KeptSpan>,
}

#[derive(Default)]
pub(crate) struct TraceStore {
    threads: FxMap<u64, ThreadTrace>,
    dropped: u64,
}

impl PerformanceTracker {
    /// Keeps a thread's closed scopes (moved out of its buffer) for the trace window.
    pub(super) fn keep_trace(
        &self,
        store: &mut Store,
        tid: u64,
        name: &Arc<str>,
        events: &mut Vec<SpanEvent>,
        dropped: u64,
    ) {
        store.trace.dropped += dropped;
        if events.is_empty() {
            return;
        }
        let t = store
            .trace
            .threads
            .entry(tid)
            .or_insert_with(|| ThreadTrace {
                name: name.clone(),
                spans: VecDeque::new(),
            });
        for e in events.drain(..) {
            let start = self.offset_of(e.start);
            t.spans.push_back(KeptSpan {
                start,
                dur: self.offset_of(e.end).saturating_sub(start),
                scope: e.scope,
                depth: e.depth,
            });
        }
        while t.spans.len() > MAX_TRACE_EVENTS_PER_THREAD {
            t.spans.pop_front();
            store.trace.dropped += 1;
        }
    }

    /// Forgets scopes that ended before the trace window.
    pub(super) fn trim_trace(&self, store: &mut Store, now: u64) {
        let window = self.config().trace_window.as_nanos() as u64;
        let from = now.saturating_sub(window);
        store.trace.threads.retain(|_, t| {
            while t.spans.front().is_some_and(|s| s.start + s.dur < from) {
                t.spans.pop_front();
            }
            !t.spans.is_empty()
        });
    }

    /// The last `window` of the timeline (at most [`TrackerConfig::trace_window`]): every
    /// thread's scopes that ended in it, with their start times and nesting, and the
    /// [`TRACE_COUNTERS`] metrics over it. Export it with
    /// [`TraceCapture::chrome_json`](crate::trace::TraceCapture::chrome_json).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("load");
    /// t.end_timer("load");
    /// t.collect_frame();
    /// let c = t.trace(std::time::Duration::from_secs(5));
    /// assert_eq!(c.span_count(), 1);
    /// assert_eq!(&*c.threads[0].spans[0].name, "load");
    /// ```
    pub fn trace(&self, window: Duration) -> TraceCapture {
        self.sync_reads();
        // the registry before the store (the order every reader takes them in)
        let (names, counter_ids): (Vec<Arc<str>>, Vec<(&str, MetricId)>) = {
            let r = self.registry();
            (
                r.iter().map(|(_, i)| i.name.clone()).collect(),
                TRACE_COUNTERS
                    .iter()
                    .filter_map(|n| Some((*n, r.get(n)?)))
                    .collect(),
            )
        };
        let now = self.now_offset();
        let from = now.saturating_sub(window.as_nanos() as u64);
        let store = lock(&self.inner.store);
        let mut threads: Vec<TraceThread> = store
            .trace
            .threads
            .iter()
            .map(|(&tid, t)| {
                let mut spans: Vec<TraceSpan> = t
                    .spans
                    .iter()
                    .filter(|s| s.start + s.dur >= from)
                    .map(|s| TraceSpan {
                        name: names
                            .get(s.scope.index())
                            .cloned()
                            .unwrap_or_else(|| Arc::from("?")),
                        start_ns: s.start.saturating_sub(from),
                        dur_ns: s.dur,
                        depth: s.depth,
                    })
                    .collect();
                // a parent before its children: by start, then the longer first, then depth
                spans.sort_by(|a, b| {
                    a.start_ns
                        .cmp(&b.start_ns)
                        .then(b.dur_ns.cmp(&a.dur_ns))
                        .then(a.depth.cmp(&b.depth))
                });
                TraceThread {
                    tid,
                    name: t.name.to_string(),
                    spans,
                }
            })
            .filter(|t| !t.spans.is_empty())
            .collect();
        threads.sort_by_key(|t| t.tid);
        let counters = counter_ids
            .iter()
            .filter_map(|&(name, id)| {
                let h = store.histories.get(id.index())?.as_ref()?;
                let points: Vec<(u64, f64)> = h
                    .points(from, now + 1, usize::MAX)
                    .into_iter()
                    .map(|(t, v)| (t.saturating_sub(from), v))
                    .collect();
                (!points.is_empty()).then(|| TraceCounter {
                    name: name.to_string(),
                    points,
                })
            })
            .collect();
        let start = self.system_time(from);
        TraceCapture {
            start_unix_s: crate::clock::unix_seconds(start),
            span_ns: now - from,
            threads,
            counters,
            dropped: store.trace.dropped,
        }
    }
}
