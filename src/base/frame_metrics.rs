//! The frame metrics the base records itself (frame time, FPS, 1 % low FPS, allocations per
//! frame), the end of the tracker's frame, and the snapshot at the update interval.

use std::collections::VecDeque;
use std::time::Duration;

use bevy::prelude::*;
use rfm_perf_core::names::Builtin;
use rfm_perf_core::{Direction, MetricId, Unit, names};

use super::alloc::{AllocCounters, counters};
use super::config::PerfConfig;
use super::interval::update_due;
use super::tracker::PerfTracker;

/// Bytes allocated per frame (needs the counting allocator).
pub const PROCESS_ALLOC_BYTES_PER_FRAME: &str = "process.alloc_bytes_per_frame";

/// The frame metrics only the base records (the others are in `rfm_perf_core::names`).
pub const FRAME_METRICS: &[Builtin] = &[Builtin::new(
    PROCESS_ALLOC_BYTES_PER_FRAME,
    Unit::Bytes,
    "Bytes allocated per frame",
    Direction::LowerIsBetter,
)];

/// Frame times of the recent window, for FPS and 1 % low.
#[derive(Resource, Debug, Default)]
pub struct FrameWindow {
    frames: VecDeque<(Duration, f64)>,
    scratch: Vec<f64>,
    last_alloc: Option<AllocCounters>,
}

impl FrameWindow {
    /// 1 % low FPS of frame times (ms): `1000 / mean of the slowest 1 % of frames` (at least
    /// one frame). `None` when empty. Reorders `frame_ms`.
    ///
    /// ```
    /// let mut times = vec![10.0; 99];
    /// times.push(50.0);
    /// assert_eq!(rfm_perf::FrameWindow::one_percent_low(&mut times), Some(20.0));
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
            alloc_bytes: id(PROCESS_ALLOC_BYTES_PER_FRAME),
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
    if let Some(c) = counters() {
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
    if config.is_changed() {
        tracker.set_scenario(config.scenario.clone());
    }
    if update_due(&time, &mut last, config.update_interval) {
        tracker.publish_snapshot();
    }
}
