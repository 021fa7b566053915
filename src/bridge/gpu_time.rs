//! GPU utilization in any Bevy app: the GPU time of every top-level render pass that Bevy's
//! `RenderDiagnosticsPlugin` measures (`render/<pass>/elapsed_gpu`), summed, over the frame
//! time — the main pass, UI, post-processing — plus the fractal compute pass's own timestamps
//! (`render.fractal_gpu_ms`) when Bevy has no span for it.

use bevy::diagnostic::DiagnosticsStore;
use bevy::platform::time::Instant;
use bevy::prelude::*;
use rfm_perf_core::names;

use crate::base::PerfTracker;

/// Whether `path` is a top-level render pass's GPU time (`render/<pass>/elapsed_gpu`; nested
/// spans have more segments and are inside their parent's time already).
///
/// ```
/// use rfm_perf::bridge::is_pass_gpu_time;
/// assert!(is_pass_gpu_time("render/main_transparent_pass_2d/elapsed_gpu"));
/// assert!(!is_pass_gpu_time("render/bloom/downsample/elapsed_gpu"));
/// ```
pub fn is_pass_gpu_time(path: &str) -> bool {
    names::render_pass_of_gpu_time(path).is_some()
}

/// How recent a pass's measurement must be to count in this frame's sum (passes that stopped
/// running drop out).
const RECENT: std::time::Duration = std::time::Duration::from_millis(500);

/// Records `gpu.utilization_pct` whenever a pass has a new GPU time: the sum of the passes'
/// newest GPU times over the newest frame time.
pub(super) fn record_gpu_utilization(
    store: Option<Res<DiagnosticsStore>>,
    tracker: Res<PerfTracker>,
    mut last: Local<Option<Instant>>,
) {
    let Some(store) = store else { return };
    let now = Instant::now();
    let mut newest = None;
    let mut busy_ms = 0.0;
    let mut fractal_timed = false;
    for d in store.iter() {
        if !d.is_enabled || !is_pass_gpu_time(d.path().as_str()) {
            continue;
        }
        let Some(m) = d.measurement() else { continue };
        if now.saturating_duration_since(m.time) > RECENT || !m.value.is_finite() {
            continue;
        }
        fractal_timed |= names::render_pass_of_gpu_time(d.path().as_str()) == Some("fractal");
        busy_ms += m.value.max(0.0);
        newest = newest.max(Some(m.time));
    }
    let Some(newest) = newest else { return };
    if *last == Some(newest) {
        return;
    }
    *last = Some(newest);
    // a compute pass that times itself (the fractal pass's own timestamps), when Bevy's
    // diagnostics have no span for it
    if !fractal_timed
        && let Some((at, ms)) = tracker.latest_sample(names::RENDER_FRACTAL_GPU_MS)
        && std::time::SystemTime::now()
            .duration_since(at)
            .is_ok_and(|age| age <= RECENT)
    {
        busy_ms += ms.max(0.0);
    }
    let Some(frame_ms) = tracker
        .get_metric(names::FRAME_TIME_MS)
        .filter(|f| *f > 0.0)
    else {
        return;
    };
    tracker.track_metric(
        names::GPU_UTILIZATION_PCT,
        (100.0 * busy_ms / frame_ms).min(100.0),
    );
}

/// Says once when the adapter cannot time passes (no timestamp queries): GPU utilization and
/// per-pass GPU times stay empty then.
#[cfg(feature = "render")]
pub(super) fn report_missing_timestamps(
    device: Option<Res<bevy::render::renderer::RenderDevice>>,
    mut said: Local<bool>,
) {
    let Some(device) = device else { return };
    if *said {
        return;
    }
    *said = true;
    if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
        warn!(
            "rfm_perf: the GPU adapter has no timestamp queries: GPU utilization and the render passes' GPU times are not available"
        );
    }
}
