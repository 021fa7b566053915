//! The timeline's series cache: the ticked metrics min–max decimated for the visible range at
//! the plot's width, with their anomalies, recomputed only when the snapshot, the selection,
//! the range or the width changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use egui_plot::{PlotBounds, PlotPoint};
use rfm_perf_core::stats::robust_anomalies;
use rfm_perf_core::{
    Anomaly, AnomalyKind, BaselineStat, MinMaxBucket, PerformanceTracker, Snapshot, TimeRange,
};

use super::mesh_line::{MeshCache, bounds_of};
use super::{ANOMALY_Z, FIRST_BUCKETS, MAX_BUCKETS, TimelineState};

/// Decimated series and what they were computed from.
#[derive(Debug, Default)]
pub(super) struct SeriesCache {
    /// The snapshot the cache belongs to (compared by pointer).
    pub(super) snapshot: Option<Arc<Snapshot>>,
    /// Recorded metric names as of `snapshot`.
    pub(super) names: Vec<String>,
    /// Bumped whenever `names` change.
    pub(super) names_version: u64,
    /// Baselines as of `snapshot`.
    pub(super) baselines: BTreeMap<String, BaselineStat>,
    /// Range and bucket count of `series`.
    pub(super) key: Option<RangeKey>,
    pub(super) series: BTreeMap<String, Series>,
    /// The plot area last frame; half its width in points is the bucket count.
    pub(super) plot_frame: Option<egui::Rect>,
    /// How many series were decimated in full so far.
    pub(super) recomputed: u64,
    /// How many series were brought up to a new live range by decimating its new end only.
    pub(super) slid: u64,
    /// A new snapshot came while following live: the newest buckets are decimated again even
    /// where the range did not move.
    pub(super) tail_stale: bool,
    /// When the series were last decimated (in full or slid).
    pub(super) decimated_at: Option<SystemTime>,
}

impl SeriesCache {
    /// Brings every cached series from its live range to `key`, the same bucket width moved
    /// later: buckets that left the range are dropped, the last two of the old range (the
    /// newest samples may have reached them after they were decimated) and the new ones are
    /// decimated, the rest kept. Points, anomalies and level shifts follow from the buckets.
    pub(super) fn slide(
        &mut self,
        tracker: &PerformanceTracker,
        key: RangeKey,
        anchor: SystemTime,
    ) {
        let now = SystemTime::now();
        // from two buckets before the last decimation: samples recorded since then (and
        // those flushed late into its newest bucket) are all after this edge
        let resume = key.edge_before(
            self.decimated_at
                .and_then(|t| t.checked_sub(2 * key.width()))
                .unwrap_or(key.since),
        );
        let slots = key.slots_from(resume);
        // the tracker's anomalies, read once for every line
        let found = found_in(tracker, key);
        for (name, series) in &mut self.series {
            series
                .buckets
                .retain(|b| b.start >= key.since && b.start < resume);
            let tail = TimeRange {
                since: Some(resume),
                until: Some(key.until),
            };
            series.buckets.extend(tracker.decimate(name, tail, slots));
            series.derive(tracker, name, anchor, &found);
            self.slid += 1;
        }
        self.key = Some(key);
        self.decimated_at = Some(now);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RangeKey {
    pub(super) since: SystemTime,
    pub(super) until: SystemTime,
    pub(super) buckets: usize,
}

impl RangeKey {
    /// The live range of `window` ending at `anchor` in `buckets` buckets of equal width whose
    /// edges lie on multiples of that width from `start` (the tracker's start): a later live
    /// range keeps the same edges, so its older buckets are the same buckets.
    pub(super) fn live(
        start: SystemTime,
        anchor: SystemTime,
        window: Duration,
        buckets: usize,
    ) -> Self {
        let buckets = buckets.max(1);
        let width = (window.as_nanos() / buckets as u128).max(1);
        let since = anchor.checked_sub(window).unwrap_or(start).max(start);
        let from_start = since.duration_since(start).unwrap_or_default().as_nanos();
        let aligned = start + nanos(from_start / width * width);
        // one more bucket: the aligned start lies up to a width before the window's
        Self {
            since: aligned,
            until: aligned + nanos(width * (buckets as u128 + 1)),
            buckets: buckets + 1,
        }
    }

    /// The width of one bucket.
    pub(super) fn width(&self) -> Duration {
        let span = self.until.duration_since(self.since).unwrap_or_default();
        nanos(span.as_nanos() / self.buckets.max(1) as u128)
    }

    /// Whether `later` is this range moved later by whole buckets of the same width.
    pub(super) fn slides_to(&self, later: &RangeKey) -> bool {
        self.width() == later.width()
            && later.since >= self.since
            && later.since < self.until
            && later
                .since
                .duration_since(self.since)
                .is_ok_and(|d| d.as_nanos() % self.width().as_nanos().max(1) == 0)
    }

    /// The bucket edge at or before `t` (the range's start at the latest).
    fn edge_before(&self, t: SystemTime) -> SystemTime {
        let w = self.width().as_nanos().max(1);
        let from_start = t.duration_since(self.since).unwrap_or_default().as_nanos();
        (self.since + nanos(from_start / w * w)).min(self.until)
    }

    /// Buckets from `t` (a bucket edge) to the range's end.
    fn slots_from(&self, t: SystemTime) -> usize {
        let span = self.until.duration_since(t).unwrap_or_default().as_nanos();
        (span / self.width().as_nanos().max(1)) as usize
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

/// One metric's line, ready to draw.
#[derive(Debug, Default)]
pub(super) struct Series {
    pub(super) label: String,
    pub(super) points: Vec<PlotPoint>,
    pub(super) anomalies: Vec<PlotPoint>,
    /// Level shifts the tracker's anomaly scan found in the range (the new level).
    pub(super) level_shifts: Vec<PlotPoint>,
    /// The min–max buckets the points come from.
    pub(super) buckets: Vec<MinMaxBucket>,
    /// The points' bounds.
    pub(super) bounds: Option<PlotBounds>,
    /// Bumped whenever the points change.
    pub(super) version: u64,
    /// The line's mesh as last drawn.
    pub(super) mesh: MeshCache,
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
        let key = if self.follow_live {
            RangeKey::live(tracker.started_at(), anchor, self.window, buckets)
        } else {
            RangeKey {
                since: at_offset(anchor, x[0]),
                until: at_offset(anchor, x[1]),
                buckets,
            }
        };
        match self.cache.key {
            Some(old) if old == key && !self.cache.tail_stale => {}
            Some(old) if self.follow_live && old.slides_to(&key) => {
                self.cache.slide(tracker, key, anchor);
            }
            _ => {
                self.cache.series.clear();
                self.cache.key = Some(key);
            }
        }
        self.cache.tail_stale = false;
        let selected = &self.selected;
        self.cache.series.retain(|name, _| selected.contains(name));
        let mut found = None;
        for name in selected {
            if !self.cache.series.contains_key(name) {
                if self.cache.series.is_empty() {
                    self.cache.decimated_at = Some(SystemTime::now());
                }
                let found = found.get_or_insert_with(|| found_in(tracker, key));
                let series = compute_series(tracker, name, key, anchor, found);
                self.cache.series.insert(name.clone(), series);
                self.cache.recomputed += 1;
            }
        }
    }
}

/// The anomalies the tracker's online scan found in `key`'s range (every metric's).
pub(super) fn found_in(tracker: &PerformanceTracker, key: RangeKey) -> Vec<Anomaly> {
    let unix = rfm_perf_core::clock::unix_seconds;
    let to = unix(key.until);
    let mut found = tracker.anomalies(unix(key.since));
    found.retain(|a| a.unix_s <= to);
    found
}

/// Decimates one metric over `key`'s range and finds its anomalies (`found`: the tracker's, from
/// [`found_in`]).
pub(super) fn compute_series(
    tracker: &PerformanceTracker,
    name: &str,
    key: RangeKey,
    anchor: SystemTime,
    found: &[Anomaly],
) -> Series {
    let range = TimeRange {
        since: Some(key.since),
        until: Some(key.until),
    };
    let mut series = Series {
        buckets: tracker.decimate(name, range, key.buckets),
        ..Default::default()
    };
    series.derive(tracker, name, anchor, found);
    series
}

impl Series {
    /// Points (x in seconds from `anchor`), anomalies, level shifts and the label, from the
    /// buckets.
    fn derive(
        &mut self,
        tracker: &PerformanceTracker,
        name: &str,
        anchor: SystemTime,
        found: &[Anomaly],
    ) {
        self.points = bucket_points(&self.buckets, anchor);
        self.bounds = Some(bounds_of(&self.points));
        self.version += 1;
        let ys: Vec<f64> = self.points.iter().map(|p| p.y).collect();
        self.anomalies = robust_anomalies(&ys, ANOMALY_Z)
            .into_iter()
            .filter_map(|i| self.points.get(i).copied())
            .collect();
        // what the tracker's online scan found: its spikes join the window's, its level shifts
        // get their own markers
        self.level_shifts.clear();
        for a in found.iter().filter(|a| a.metric == name) {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(a.unix_s.max(0.0));
            let p = PlotPoint::new(seconds_from(anchor, at), a.value);
            match a.kind {
                AnomalyKind::Spike => self.anomalies.push(p),
                AnomalyKind::LevelShift => self.level_shifts.push(p),
            }
        }
        if self.label.is_empty() {
            let unit = tracker
                .metric_info(name)
                .map(|i| i.unit.symbol().to_string())
                .unwrap_or_default();
            self.label = if unit.is_empty() || unit == "count" {
                name.to_string()
            } else {
                format!("{name} ({unit})")
            };
        }
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
