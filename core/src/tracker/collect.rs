//! Collection: once per frame, every thread's buffer moves into the history rings, the frame's
//! call tree and the per-scope statistics.

use super::*;

impl PerformanceTracker {
    // ---------------------------------------------------------------- collection

    /// Without a frame driver every read first collects (so a plain `end_timer` then
    /// `get_metric` sees its value). With one, reads show what the last collected frame holds
    /// and never touch the recording threads' buffers.
    pub(super) fn sync_reads(&self) {
        if !self.has_frame_driver() {
            self.collect_frame();
        }
    }

    pub(super) fn history_mut<'a>(
        &self,
        store: &'a mut Store,
        id: MetricId,
        scope: bool,
    ) -> &'a mut MetricHistory {
        let i = id.index();
        if store.histories.len() <= i {
            store.histories.resize_with(i + 1, || None);
        }
        if store.histories[i].is_none() {
            self.share_history_budget(store);
            let h = MetricHistory::new(scope, store.raw_capacity, store.coarse_capacity);
            store.histories[i] = Some(h);
        }
        store.histories[i]
            .as_mut()
            .expect("the history was just created")
    }

    /// One more history shares the budget: the capacities new histories get shrink, and once
    /// they shrank by a tenth, every history is trimmed to them (its oldest samples go).
    fn share_history_budget(&self, store: &mut Store) {
        store.history_count += 1;
        let cfg = self.inner.config.read().unwrap_or_else(|e| e.into_inner());
        let per_history = cfg.history_budget_bytes / store.history_count;
        // four fifths for the raw samples, the rest for the one-second buckets
        let raw = (per_history * 4 / 5 / crate::history::RAW_POINT_BYTES)
            .clamp(16, cfg.history_capacity.max(16));
        let coarse = (per_history / 5 / crate::history::COARSE_POINT_BYTES)
            .clamp(16, cfg.long_term_capacity.max(16));
        let (raw, coarse) = (
            raw.min(cfg.history_capacity),
            coarse.min(cfg.long_term_capacity),
        );
        if raw * 10 < store.raw_capacity * 9 || coarse * 10 < store.coarse_capacity * 9 {
            for h in store.histories.iter_mut().flatten() {
                h.set_capacity(raw, coarse);
            }
            store.raw_capacity = raw;
            store.coarse_capacity = coarse;
        } else if store.history_count == 1 {
            store.raw_capacity = raw;
            store.coarse_capacity = coarse;
        }
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

        let window = WindowSlot {
            second,
            slots: window_slots,
        };
        let (lanes, detached) = self.drain_threads(&mut store, &threads, window, &name_of);
        self.trim_trace(&mut store, now);
        self.forget_ended_threads();
        let mut profile = FrameProfile {
            index: store.frame_index,
            collected_at: self.system_time(now),
            duration_ms: duration_ns as f64 / 1e6,
            threads: lanes,
            detached: detached
                .iter()
                .map(|(&id, &(calls, ns))| DetachedScope {
                    name: name_of(id),
                    calls,
                    total_ms: ns as f64 / 1e6,
                })
                .collect(),
        };
        profile.detached.sort_by(|a, b| a.name.cmp(&b.name));
        self.push_scope_samples(&mut store, &profile, &detached, now);
        count_frame(&mut store, window, duration_ns);
        store.frame_index += 1;
        let profile = Arc::new(profile);
        keep_frame(&mut store, &profile, &cfg);
        profile
    }

    /// Moves every thread's buffers into `store`: detached spans and call-tree nodes into the
    /// scope statistics, samples into the history rings. Returns the frame's lanes and the
    /// detached spans per scope `(calls, total ns)`.
    fn drain_threads(
        &self,
        store: &mut Store,
        threads: &[Arc<ThreadShared>],
        window: WindowSlot,
        name_of: &impl Fn(MetricId) -> Arc<str>,
    ) -> (Vec<ThreadLane>, FxMap<MetricId, (u64, u64)>) {
        let mut lanes = Vec::new();
        let mut detached: FxMap<MetricId, (u64, u64)> = FxMap::default();
        let mut samples = Vec::new();
        let mut scratch: FxMap<u32, u32> = FxMap::default();
        let mut events = Vec::new();
        let keep_trace = !self.config().trace_window.is_zero();
        for th in threads {
            let mut d = th.lock();
            std::mem::swap(&mut samples, &mut d.samples);
            std::mem::swap(&mut events, &mut d.events);
            let dropped = std::mem::take(&mut d.events_dropped);
            for (id, nanos) in d.detached.drain(..) {
                let e = detached.entry(id).or_default();
                e.0 += 1;
                e.1 += nanos;
                store.scopes.entry(id).or_default().add(
                    window.second,
                    window.slots,
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
                    name_of,
                    &mut scratch,
                    |id, s: &crate::local::NodeStats, nested: bool| {
                        store.scopes.entry(id).or_default().add(
                            window.second,
                            window.slots,
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
            if keep_trace {
                self.keep_trace(store, th.tid, &th.name, &mut events, dropped);
            } else {
                events.clear();
            }
            for (id, ticks, v) in samples.drain(..) {
                let t = self.offset_of(ticks);
                self.history_mut(store, id, false).push_gauge(t, v);
            }
        }
        (lanes, detached)
    }

    /// Forgets threads that ended once drained. A thread may have recorded (scopes, detached
    /// spans, samples) after it was drained and then ended: it is kept for the next collect.
    fn forget_ended_threads(&self) {
        let mut list = lock(&self.inner.threads);
        list.retain(|th| {
            th.alive.load(Ordering::Acquire) || {
                let d = th.lock();
                !d.samples.is_empty()
                    || !d.touched.is_empty()
                    || !d.detached.is_empty()
                    || !d.events.is_empty()
            }
        });
    }

    /// One history sample per scope for this frame: its total ms (a recursive call counted once)
    /// and its calls.
    fn push_scope_samples(
        &self,
        store: &mut Store,
        profile: &FrameProfile,
        detached: &FxMap<MetricId, (u64, u64)>,
        now: u64,
    ) {
        let mut per_scope: FxMap<MetricId, (f64, u64)> = FxMap::default();
        for (&id, &(calls, ns)) in detached {
            let e = per_scope.entry(id).or_default();
            e.0 += ns as f64 / 1e6;
            e.1 += calls;
        }
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
                self.history_mut(store, id, true).push_scope(
                    now,
                    ms,
                    u32::try_from(calls).unwrap_or(u32::MAX),
                );
            }
        }
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

/// The second a collect falls in and how many seconds the scope window keeps.
#[derive(Clone, Copy)]
struct WindowSlot {
    second: u64,
    slots: usize,
}

/// Counts the frame in its second's slot (for calls/frame and % of frame).
fn count_frame(store: &mut Store, window: WindowSlot, duration_ns: u64) {
    if store
        .frame_slots
        .back()
        .is_none_or(|s| s.second != window.second)
    {
        store.frame_slots.push_back(FrameSlot {
            second: window.second,
            frames: 0,
            frame_ns: 0,
        });
        while store.frame_slots.len() > window.slots {
            store.frame_slots.pop_front();
        }
    }
    if let Some(s) = store.frame_slots.back_mut() {
        s.frames += 1;
        s.frame_ns += duration_ns;
    }
}

/// Keeps the frame among the recent ones and, when it is slow enough, the slowest ones.
fn keep_frame(store: &mut Store, profile: &Arc<FrameProfile>, cfg: &TrackerConfig) {
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
}
