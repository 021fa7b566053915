//! Snapshots: the newest value of every metric, published for readers off the hot path.

use super::*;

impl PerformanceTracker {
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
