//! The frame-time histogram `rfm_frame_duration_seconds`: every collected frame's duration
//! counted into buckets around the 60 / 30 / 20 / 10 fps budgets, cumulative since the app
//! started, so Prometheus's `histogram_quantile` works across instances and time ranges (a
//! gauge of the newest frame time cannot be aggregated).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bevy::prelude::*;

use crate::base::PerfTracker;

/// Upper bounds of the buckets (seconds): around the 240 / 120 / 60 / 30 / 20 / 10 fps budgets
/// and the hitches past them.
pub const FRAME_BUCKETS_S: [f64; 14] = [
    0.004_167, 0.008_333, 0.0125, 0.016_667, 0.02, 0.025, 0.033_333, 0.04, 0.05, 0.066_667, 0.1,
    0.25, 0.5, 1.0,
];

/// The family's name.
pub(crate) const FRAME_FAMILY: &str = "rfm_frame_duration_seconds";

/// Cumulative counts per bucket (plus `+Inf`), the sum in nanoseconds, and the last frame
/// counted (each frame once).
#[derive(Debug, Default)]
pub(crate) struct FrameHistogram {
    counts: [AtomicU64; FRAME_BUCKETS_S.len() + 1],
    sum_ns: AtomicU64,
    last_frame: AtomicU64,
}

impl FrameHistogram {
    /// Counts one frame of `seconds` (non-finite or negative durations are not frames).
    pub(crate) fn observe(&self, seconds: f64) {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return;
        }
        let i = FRAME_BUCKETS_S
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(FRAME_BUCKETS_S.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add((seconds * 1e9).round() as u64, Ordering::Relaxed);
    }

    /// Appends the family in the text exposition format.
    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP {FRAME_FAMILY} Frame durations collected by the tracker, by bucket"
        );
        let _ = writeln!(out, "# TYPE {FRAME_FAMILY} histogram");
        let mut running = 0;
        for (i, le) in FRAME_BUCKETS_S.iter().enumerate() {
            running += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{FRAME_FAMILY}_bucket{{le=\"{le}\"}} {running}");
        }
        running += self.counts[FRAME_BUCKETS_S.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{FRAME_FAMILY}_bucket{{le=\"+Inf\"}} {running}");
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{FRAME_FAMILY}_sum {sum}");
        let _ = writeln!(out, "{FRAME_FAMILY}_count {running}");
    }
}

/// The histogram the server renders, as a resource of the app that fills it.
#[derive(Resource, Clone)]
pub(crate) struct ApiFrames(pub(crate) Arc<FrameHistogram>);

/// Counts the newest collected frame, once (every frame, after the collect).
pub(crate) fn count_frame(tracker: Res<PerfTracker>, frames: Res<ApiFrames>) {
    let Some(frame) = tracker.latest_frame() else {
        return;
    };
    // frame indices start at 1; 0 means none counted yet
    if frames.0.last_frame.swap(frame.index + 1, Ordering::Relaxed) != frame.index + 1 {
        frames.0.observe(frame.duration_ms * 1e-3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_fall_into_cumulative_buckets() {
        let h = FrameHistogram::default();
        for s in [0.010, 0.016, 0.017, 0.030, 2.0, f64::NAN, -1.0] {
            h.observe(s);
        }
        let mut text = String::new();
        h.render(&mut text);
        assert!(
            text.contains("rfm_frame_duration_seconds_bucket{le=\"0.0125\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("rfm_frame_duration_seconds_bucket{le=\"0.016667\"} 2\n"));
        assert!(text.contains("rfm_frame_duration_seconds_bucket{le=\"0.033333\"} 4\n"));
        assert!(text.contains("rfm_frame_duration_seconds_bucket{le=\"1\"} 4\n"));
        assert!(text.contains("rfm_frame_duration_seconds_bucket{le=\"+Inf\"} 5\n"));
        assert!(text.contains("rfm_frame_duration_seconds_count 5\n"));
        assert!(
            text.contains("rfm_frame_duration_seconds_sum 2.073\n"),
            "{text}"
        );
    }
}
