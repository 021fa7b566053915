//! The timeline's series cache: the ticked metrics min–max decimated for the visible range at
//! the plot's width, with their anomalies, recomputed only when the snapshot, the selection,
//! the range or the width changes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use egui_plot::PlotPoint;
use rfm_perf_core::stats::robust_anomalies;
use rfm_perf_core::{
    AnomalyKind, BaselineStat, MinMaxBucket, PerformanceTracker, Snapshot, TimeRange,
};

use super::{ANOMALY_Z, FIRST_BUCKETS, MAX_BUCKETS, TimelineState};

/// Decimated series and what they were computed from.
#[derive(Debug, Default)]
pub(super) struct SeriesCache {
    /// The snapshot the cache belongs to (compared by pointer).
    pub(super) snapshot: Option<Arc<Snapshot>>,
    /// Recorded metric names as of `snapshot`.
    pub(super) names: Vec<String>,
    /// Baselines as of `snapshot`.
    pub(super) baselines: BTreeMap<String, BaselineStat>,
    /// Range and bucket count of `series`.
    pub(super) key: Option<RangeKey>,
    pub(super) series: BTreeMap<String, Series>,
    /// The plot area last frame; half its width in points is the bucket count.
    pub(super) plot_frame: Option<egui::Rect>,
    /// How many series were decimated so far.
    pub(super) recomputed: u64,
    /// A refresh decimating off the frame, when one runs.
    pub(super) refreshing: Option<Refresh>,
}

/// Series being decimated on another thread for a newer snapshot.
#[derive(Debug)]
pub(super) struct Refresh {
    anchor: SystemTime,
    key: RangeKey,
    done: Arc<Mutex<Option<BTreeMap<String, Series>>>>,
}

impl SeriesCache {
    /// Starts decimating `selected` for the live window ending now, on another thread (one at
    /// a time: a refresh still running is left to finish, and the next snapshot catches up).
    pub(super) fn start_refresh(
        &mut self,
        tracker: &PerformanceTracker,
        selected: &[String],
        old: RangeKey,
        window: Duration,
    ) {
        if self.refreshing.is_some() {
            return;
        }
        let anchor = SystemTime::now();
        // as `update_series` computes it for the live view, so the key matches
        let live = super::live_view(window);
        let key = RangeKey {
            since: at_offset(anchor, live[0]),
            until: at_offset(anchor, live[1]),
            buckets: old.buckets,
        };
        let done: Arc<Mutex<Option<BTreeMap<String, Series>>>> = Arc::default();
        let (slot, tracker, names) = (done.clone(), tracker.clone(), selected.to_vec());
        let spawned = std::thread::Builder::new()
            .name("rfm_perf timeline".into())
            .spawn(move || {
                let series = names
                    .into_iter()
                    .map(|name| {
                        let s = compute_series(&tracker, &name, key, anchor);
                        (name, s)
                    })
                    .collect();
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(series);
            });
        match spawned {
            Ok(_) => self.refreshing = Some(Refresh { anchor, key, done }),
            // no thread: decimate on the frame as before
            Err(_) => self.series.clear(),
        }
    }

    /// The finished refresh's anchor, once its series replaced the old ones.
    pub(super) fn take_refreshed(&mut self) -> Option<SystemTime> {
        let r = self.refreshing.as_ref()?;
        let series = r.done.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        let r = self.refreshing.take()?;
        self.recomputed += series.len() as u64;
        self.series = series;
        self.key = Some(r.key);
        Some(r.anchor)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RangeKey {
    pub(super) since: SystemTime,
    pub(super) until: SystemTime,
    pub(super) buckets: usize,
}

/// One metric's line, ready to draw.
#[derive(Debug, Default)]
pub(super) struct Series {
    pub(super) label: String,
    pub(super) points: Vec<PlotPoint>,
    pub(super) anomalies: Vec<PlotPoint>,
    /// Level shifts the tracker's anomaly scan found in the range (the new level).
    pub(super) level_shifts: Vec<PlotPoint>,
}

impl TimelineState {
    /// Decimates the selected metrics that are not cached for `x` yet.
    pub(super) fn update_series(&mut self, tracker: &PerformanceTracker, x: [f64; 2]) {
        let anchor = *self.anchor.get_or_insert_with(SystemTime::now);
        let buckets = self
            .cache
            .plot_frame
            // a min and a max per bucket: one bucket per two points of width is one vertex per
            // point, as fine as the line can show
            .map_or(FIRST_BUCKETS, |r| (r.width() / 2.0).round() as usize)
            .clamp(1, MAX_BUCKETS);
        let key = RangeKey {
            since: at_offset(anchor, x[0]),
            until: at_offset(anchor, x[1]),
            buckets,
        };
        if self.cache.refreshing.is_some() && self.follow_live {
            // the old lines stay, with their anchor, until the refresh has finished
            return;
        }
        if self.cache.key != Some(key) {
            self.cache.series.clear();
            self.cache.key = Some(key);
        }
        let selected = &self.selected;
        self.cache.series.retain(|name, _| selected.contains(name));
        for name in selected {
            if !self.cache.series.contains_key(name) {
                let series = compute_series(tracker, name, key, anchor);
                self.cache.series.insert(name.clone(), series);
                self.cache.recomputed += 1;
            }
        }
    }
}

/// Decimates one metric over `key`'s range and finds its anomalies.
fn compute_series(
    tracker: &PerformanceTracker,
    name: &str,
    key: RangeKey,
    anchor: SystemTime,
) -> Series {
    let range = TimeRange {
        since: Some(key.since),
        until: Some(key.until),
    };
    let points = bucket_points(&tracker.decimate(name, range, key.buckets), anchor);
    let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
    let mut anomalies: Vec<PlotPoint> = robust_anomalies(&ys, ANOMALY_Z)
        .into_iter()
        .filter_map(|i| points.get(i).copied())
        .collect();
    // what the tracker's online scan found: its spikes join the window's, its level shifts
    // get their own markers
    let unix = rfm_perf_core::clock::unix_seconds;
    let (from, to) = (unix(key.since), unix(key.until));
    let mut level_shifts = Vec::new();
    for a in tracker
        .anomalies(from)
        .into_iter()
        .filter(|a| a.metric == name && a.unix_s <= to)
    {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(a.unix_s.max(0.0));
        let p = PlotPoint::new(seconds_from(anchor, at), a.value);
        match a.kind {
            AnomalyKind::Spike => anomalies.push(p),
            AnomalyKind::LevelShift => level_shifts.push(p),
        }
    }
    let unit = tracker
        .metric_info(name)
        .map(|i| i.unit.symbol().to_string())
        .unwrap_or_default();
    let label = if unit.is_empty() || unit == "count" {
        name.to_string()
    } else {
        format!("{name} ({unit})")
    };
    Series {
        label,
        points,
        anomalies,
        level_shifts,
    }
}

/// Each bucket's min and max, in time order, x in seconds relative to `anchor`.
fn bucket_points(buckets: &[MinMaxBucket], anchor: SystemTime) -> Vec<PlotPoint> {
    let mut out = Vec::with_capacity(buckets.len() * 2);
    for b in buckets {
        let lo = (b.min_at, b.min);
        let hi = (b.max_at, b.max);
        let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        out.push(PlotPoint::new(seconds_from(anchor, first.0), first.1));
        if second != first {
            out.push(PlotPoint::new(seconds_from(anchor, second.0), second.1));
        }
    }
    out
}

/// Signed seconds from `anchor` to `t`.
pub(super) fn seconds_from(anchor: SystemTime, t: SystemTime) -> f64 {
    match t.duration_since(anchor) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// `anchor` moved by `secs` (negative = earlier); `anchor` itself when that is not representable.
pub(super) fn at_offset(anchor: SystemTime, secs: f64) -> SystemTime {
    let Ok(d) = Duration::try_from_secs_f64(secs.abs()) else {
        return anchor;
    };
    let t = if secs < 0.0 {
        anchor.checked_sub(d)
    } else {
        anchor.checked_add(d)
    };
    t.unwrap_or(anchor)
}
