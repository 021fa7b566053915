//! The tracker's anomaly scan: every metric's whole seconds since the last scan through its
//! [`AnomalyDetector`], the findings kept in a bounded log.

use super::*;
use crate::anomaly::{Anomaly, AnomalyDetector};

/// Anomalies the tracker keeps (the oldest go first).
pub(crate) const MAX_ANOMALIES: usize = 1000;

const SECOND_NS: u64 = 1_000_000_000;

#[derive(Default)]
pub(crate) struct AnomalyState {
    /// Per metric: its detector and the start of the first second not scanned yet.
    detectors: FxMap<MetricId, (AnomalyDetector, u64)>,
    found: VecDeque<Anomaly>,
}

impl PerformanceTracker {
    /// Runs every metric's whole seconds since the last scan through its anomaly detector
    /// (spikes: robust z-score > 3.5; level shifts: CUSUM on per-second medians) and returns
    /// what it found, also kept for [`anomalies`](Self::anomalies). Call it about once a
    /// second (the analysis plugin does, at the update interval); the second in progress
    /// waits for the next call.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// assert!(t.scan_anomalies().is_empty()); // the first second is still running
    /// ```
    pub fn scan_anomalies(&self) -> Vec<Anomaly> {
        self.sync_reads();
        self.scan_anomalies_until(self.now_offset())
    }

    /// [`scan_anomalies`](Self::scan_anomalies) of the whole seconds before `now` (for samples
    /// recorded with their own times by [`import_samples`](Self::import_samples)).
    pub fn scan_anomalies_at(&self, now: SystemTime) -> Vec<Anomaly> {
        self.sync_reads();
        self.scan_anomalies_until(self.offset_of_system(now))
    }

    /// [`scan_anomalies`](Self::scan_anomalies) up to tracker time `now` (ns since the anchor).
    fn scan_anomalies_until(&self, now: u64) -> Vec<Anomaly> {
        // whole seconds of tracker time end here
        let end = now / SECOND_NS * SECOND_NS;
        let starts: FxMap<MetricId, u64> = lock(&self.inner.anomalies)
            .detectors
            .iter()
            .map(|(id, (_, from))| (*id, *from))
            .collect();
        let copied: Vec<(MetricId, Vec<(u64, f64)>)> = {
            let store = lock(&self.inner.store);
            store
                .histories
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    let id = MetricId(i as u32);
                    let from = starts.get(&id).copied().unwrap_or(0);
                    let h = h.as_ref().filter(|_| from < end)?;
                    Some((id, h.points(from, end, usize::MAX)))
                })
                .collect()
        };
        let registry = self.registry();
        let mut new = Vec::new();
        let mut state = lock(&self.inner.anomalies);
        // tracker time → Unix seconds by one addition (no `SystemTime` per sample)
        let anchor_unix_s = unix_s(self.system_time(0));
        let mut samples: Vec<(f64, f64)> = Vec::with_capacity(64);
        for (id, points) in copied {
            let Some(info) = registry.info(id) else {
                continue;
            };
            let (detector, from) = state.detectors.entry(id).or_default();
            *from = end;
            let mut i = 0;
            while i < points.len() {
                let second = points[i].0 / SECOND_NS;
                let j = i + points[i..]
                    .iter()
                    .take_while(|p| p.0 / SECOND_NS == second)
                    .count();
                samples.clear();
                samples.extend(
                    points[i..j]
                        .iter()
                        .map(|&(t, v)| (anchor_unix_s + t as f64 * 1e-9, v)),
                );
                for (kind, unix_s, value, score, change) in detector.push_second(&samples) {
                    new.push(Anomaly {
                        metric: info.name.to_string(),
                        kind,
                        unix_s,
                        value,
                        score,
                        change,
                    });
                }
                i = j;
            }
        }
        state.found.extend(new.iter().cloned());
        while state.found.len() > MAX_ANOMALIES {
            state.found.pop_front();
        }
        new
    }

    /// The anomalies found at or after `since` (seconds since the Unix epoch), oldest first.
    pub fn anomalies(&self, since_unix_s: f64) -> Vec<Anomaly> {
        lock(&self.inner.anomalies)
            .found
            .iter()
            .filter(|a| a.unix_s >= since_unix_s)
            .cloned()
            .collect()
    }
}

use crate::clock::unix_seconds as unix_s;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::AnomalyKind;

    #[test]
    fn a_level_shift_recorded_into_the_tracker_is_found_and_kept() {
        let t = PerformanceTracker::new();
        let id = t.metric_id("frame.time_ms").unwrap();
        // 40 seconds at 10 ms, then 10 seconds at 14 ms, 60 samples a second (tracker time)
        {
            let mut store = lock(&t.inner.store);
            let h = t.history_mut(&mut store, id, false);
            for s in 0..50u64 {
                let level = if s < 40 { 10.0 } else { 14.0 };
                for i in 0..60u64 {
                    let v = level * (1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0));
                    h.push_gauge(s * SECOND_NS + i * 16_000_000, v);
                }
            }
        }
        let end = 50 * SECOND_NS + 500_000_000;
        let found = t.scan_anomalies_until(end);
        let shift = found
            .iter()
            .find(|a| a.kind == AnomalyKind::LevelShift)
            .expect("a level shift");
        assert_eq!(shift.metric, "frame.time_ms");
        assert!((shift.change - 0.4).abs() < 0.1, "{shift:?}");
        // a second scan finds nothing new; the log keeps what was found
        assert!(t.scan_anomalies_until(end).is_empty());
        assert_eq!(t.anomalies(0.0).len(), found.len());
        assert!(t.anomalies(shift.unix_s + 1.0).len() < found.len());
    }
}
