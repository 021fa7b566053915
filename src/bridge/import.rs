//! Bevy → tracker: every Bevy `DiagnosticsStore` diagnostic copied into the tracker under its
//! Bevy path, each new measurement once (our own `rfm_perf/…` diagnostics excepted).

use std::collections::HashMap;

use bevy::diagnostic::{DiagnosticPath, DiagnosticsStore, FrameTimeDiagnosticsPlugin};
use bevy::platform::time::Instant;
use bevy::prelude::*;
use rfm_perf_core::{Direction, MetricId, MetricInfo, Unit};

use super::export::EXPORT_PREFIX;
use crate::base::PerfTracker;

/// Bevy diagnostics the bridge leaves out because the base records them itself, exactly,
/// as `frame.time_ms`, `frame.fps` and `frame.count`.
pub const SKIPPED_DIAGNOSTICS: [DiagnosticPath; 3] = [
    FrameTimeDiagnosticsPlugin::FRAME_TIME,
    FrameTimeDiagnosticsPlugin::FPS,
    FrameTimeDiagnosticsPlugin::FRAME_COUNT,
];

/// The unit a Bevy diagnostic's suffix stands for.
///
/// ```
/// use rfm_perf::bridge::unit_from_suffix;
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
pub(super) struct BridgeState {
    seen: HashMap<DiagnosticPath, (MetricId, Option<Instant>)>,
}

/// Copies each new measurement of every enabled diagnostic into the tracker under its Bevy path.
pub(super) fn bridge_diagnostics(
    store: Option<Res<DiagnosticsStore>>,
    tracker: Res<PerfTracker>,
    mut state: Local<BridgeState>,
) {
    let Some(store) = store else { return };
    for d in store.iter() {
        if !d.is_enabled
            || SKIPPED_DIAGNOSTICS.contains(d.path())
            || d.path().as_str().starts_with(EXPORT_PREFIX)
        {
            // ours (`rfm_perf/…`) came from the tracker: copying them back would loop
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
