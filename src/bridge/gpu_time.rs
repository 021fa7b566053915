//! GPU utilization in any Bevy app: the GPU time of every top-level render pass that Bevy's
//! `RenderDiagnosticsPlugin` measures (`render/<pass>/elapsed_gpu`), summed, over the frame
//! time — the main pass, UI, post-processing and the fractal pass alike.

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
/// assert!(!is_pass_gpu_time("render/upscaling/elapsed_cpu"));
/// ```
pub fn is_pass_gpu_time(path: &str) -> bool {
    path.strip_prefix("render/")
        .and_then(|rest| rest.strip_suffix("/elapsed_gpu"))
        .is_some_and(|pass| !pass.is_empty() && !pass.contains('/'))
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
    for d in store.iter() {
        if !d.is_enabled || !is_pass_gpu_time(d.path().as_str()) {
            continue;
        }
        let Some(m) = d.measurement() else { continue };
        if now.saturating_duration_since(m.time) > RECENT || !m.value.is_finite() {
            continue;
        }
        busy_ms += m.value.max(0.0);
        newest = newest.max(Some(m.time));
    }
    let Some(newest) = newest else { return };
    if *last == Some(newest) {
        return;
    }
    *last = Some(newest);
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
