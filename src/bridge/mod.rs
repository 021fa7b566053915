//! Bevy diagnostics → tracker bridge, and the frame metrics the plugin computes itself
//! (frame time, FPS, 1 % low FPS, allocations per frame).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bevy::diagnostic::{DiagnosticPath, DiagnosticsStore, FrameTimeDiagnosticsPlugin};
use bevy::platform::time::Instant;
use bevy::prelude::*;
use rfm_perf_core::{Direction, MetricId, MetricInfo, Unit, names};

use crate::plugin::{PerfConfig, PerfTracker};

/// Bevy diagnostics the bridge leaves out because the plugin records them itself, exactly,
/// as `frame.time_ms`, `frame.fps` and `frame.count`.
pub const SKIPPED_DIAGNOSTICS: [DiagnosticPath; 3] = [
    FrameTimeDiagnosticsPlugin::FRAME_TIME,
    FrameTimeDiagnosticsPlugin::FPS,
    FrameTimeDiagnosticsPlugin::FRAME_COUNT,
];

/// The unit a Bevy diagnostic's suffix stands for.
///
/// ```
/// use rfm_perf::diagnostics::unit_from_suffix;
/// assert_eq!(unit_from_suffix("ms"), rfm_perf::Unit::Milliseconds);
/// assert_eq!(unit_from_suffix("%"), rfm_perf::Unit::Percent);
/// assert_eq!(unit_from_suffix("GiB"), rfm_perf::Unit::Custom("GiB".into()));
/// ```
pub fn unit_from_suffix(suffix: &str) -> Unit {
    match suffix.trim() {
        "ms" => Unit::Milliseconds,
        "s" => Unit::Seconds,
        "%" => Unit::Percent,
        "fps" => Unit::FramesPerSecond,
        "B" | "bytes" => Unit::Bytes,
        "MB" | "MiB" => Unit::Megabytes,
        "" => Unit::None,
        other => Unit::Custom(other.to_string()),
    }
}

#[derive(Default)]
pub(crate) struct BridgeState {
    seen: HashMap<DiagnosticPath, (MetricId, Option<Instant>)>,
}

/// Copies each new measurement of every enabled diagnostic into the tracker under its Bevy path.
pub(crate) fn bridge_diagnostics(
    store: Option<Res<DiagnosticsStore>>,
    tracker: Res<PerfTracker>,
    mut state: Local<BridgeState>,
) {
    let Some(store) = store else { return };
    for d in store.iter() {
        if !d.is_enabled || SKIPPED_DIAGNOSTICS.contains(d.path()) {
            continue;
        }
        let Some(m) = d.measurement() else { continue };
        let entry = state.seen.entry(d.path().clone()).or_insert_with(|| {
            let unit = unit_from_suffix(&d.suffix);
            let direction = if unit == Unit::Milliseconds {
                Direction::LowerIsBetter
            } else {
                Direction::Neutral
            };
            let path = d.path().as_str();
            let known = tracker.metric_info(path);
            let id = match known {
                // a built-in of the same name (e.g. `entity_count`) keeps its metadata
                Some(info) if info.unit != Unit::None => tracker.metric_id(path),
                _ => Some(tracker.register_metric(MetricInfo::new(
                    path,
                    unit,
                    format!("Bevy diagnostic {path}"),
                    direction,
                ))),
            };
            (
                id.unwrap_or_else(|| {
                    tracker.register_metric(MetricInfo::new(
                        "<empty>",
                        Unit::None,
                        "",
                        Direction::Neutral,
                    ))
                }),
                None,
            )
        });
        if entry.1 == Some(m.time) {
            continue;
        }
        entry.1 = Some(m.time);
        tracker.track_id(entry.0, m.value);
    }
}

/// Frame times of the recent window, for FPS and 1 % low.
#[derive(Resource, Debug, Default)]
pub struct FrameWindow {
    frames: VecDeque<(Duration, f64)>,
    scratch: Vec<f64>,
    last_alloc: Option<crate::system::alloc::AllocCounters>,
}

impl FrameWindow {
    /// 1 % low FPS of frame times (ms): `1000 / mean of the slowest 1 % of frames` (at least
    /// one frame). `None` when empty. Reorders `frame_ms`.
    ///
    /// ```
    /// let mut times = vec![10.0; 99];
    /// times.push(50.0);
    /// assert_eq!(rfm_perf::diagnostics::FrameWindow::one_percent_low(&mut times), Some(20.0));
    /// ```
    pub fn one_percent_low(frame_ms: &mut [f64]) -> Option<f64> {
        if frame_ms.is_empty() {
            return None;
        }
        let k = frame_ms.len().div_ceil(100);
        frame_ms.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        let mean = frame_ms[..k].iter().sum::<f64>() / k as f64;
        (mean > 0.0).then(|| 1000.0 / mean)
    }
}

pub(crate) struct FrameIds {
    time: MetricId,
    fps: MetricId,
    low: MetricId,
    count: MetricId,
    allocs: MetricId,
    alloc_bytes: MetricId,
    heap: MetricId,
}

impl FromWorld for FrameIds {
    fn from_world(world: &mut World) -> Self {
        let t = world.resource::<PerfTracker>();
        let id = |n: &str| t.metric_id(n).expect("built-in names are not empty");
        Self {
            time: id(names::FRAME_TIME_MS),
            fps: id(names::FRAME_FPS),
            low: id(names::FRAME_FPS_1PCT_LOW),
            count: id(names::FRAME_COUNT),
            allocs: id(names::PROCESS_ALLOCS_PER_FRAME),
            alloc_bytes: id(names::PROCESS_ALLOC_BYTES_PER_FRAME),
            heap: id(names::PROCESS_HEAP_LIVE_MB),
        }
    }
}

/// Records frame time, FPS, 1 % low FPS and allocation counts, then ends the tracker's frame.
pub(crate) fn collect_frame(
    time: Res<Time<Real>>,
    tracker: Res<PerfTracker>,
    config: Res<PerfConfig>,
    mut window: ResMut<FrameWindow>,
    ids: Local<FrameIds>,
) {
    let dt = time.delta();
    let now = time.elapsed();
    if !dt.is_zero() {
        let ms = dt.as_secs_f64() * 1000.0;
        tracker.track_id(ids.time, ms);
        tracker.track_id(ids.fps, 1000.0 / ms);
        window.frames.push_back((now, ms));
        let keep = config.fps_low_window;
        while window
            .frames
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > keep)
        {
            window.frames.pop_front();
        }
        let FrameWindow {
            frames, scratch, ..
        } = &mut *window;
        scratch.clear();
        scratch.extend(frames.iter().map(|(_, ms)| *ms));
        if let Some(low) = FrameWindow::one_percent_low(scratch) {
            tracker.track_id(ids.low, low);
        }
    }
    if let Some(c) = crate::system::alloc::counters() {
        if let Some(prev) = window.last_alloc {
            tracker.track_id(ids.allocs, c.allocs.saturating_sub(prev.allocs) as f64);
            tracker.track_id(
                ids.alloc_bytes,
                c.allocated_bytes.saturating_sub(prev.allocated_bytes) as f64,
            );
        }
        tracker.track_id(ids.heap, c.live_bytes as f64 / 1_048_576.0);
        window.last_alloc = Some(c);
    }
    let profile = tracker.collect_frame_with_duration((!dt.is_zero()).then_some(dt));
    tracker.track_id(ids.count, (profile.index + 1) as f64);
}

/// Publishes a snapshot every update interval.
pub(crate) fn publish_snapshot(
    time: Res<Time<Real>>,
    tracker: Res<PerfTracker>,
    config: Res<PerfConfig>,
    mut last: Local<Option<Duration>>,
) {
    if update_due(&time, &mut last, config.update_interval) {
        tracker.publish_snapshot();
    }
}

/// Whether a job that runs every `interval` is due this frame (and marks it done). Never on the
/// first frame, which has no frame time yet. Shared by the snapshot, insights and API publishers.
pub(crate) fn update_due(
    time: &Time<Real>,
    last: &mut Option<Duration>,
    interval: Duration,
) -> bool {
    let now = time.elapsed();
    if time.delta().is_zero() || last.is_some_and(|l| now.saturating_sub(l) < interval) {
        return false;
    }
    *last = Some(now);
    true
}
