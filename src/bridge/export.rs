//! Tracker → Bevy: the key metrics registered as Bevy `Diagnostic`s under `rfm_perf/…`, so
//! Bevy's own `LogDiagnosticsPlugin` and overlays show them beside Bevy's.

use bevy::diagnostic::{Diagnostic, DiagnosticPath, Diagnostics, RegisterDiagnostic};
use bevy::prelude::*;
use rfm_perf_core::names;

use crate::base::PerfTracker;

/// Where the exported diagnostics live (the bridge never copies these back into the tracker).
pub const EXPORT_PREFIX: &str = "rfm_perf/";

/// One tracker metric as a Bevy diagnostic.
#[derive(Clone, Debug)]
pub struct ExportedDiagnostic {
    /// The Bevy path.
    pub path: DiagnosticPath,
    /// The tracker metric it shows.
    pub metric: &'static str,
    /// Bevy's unit suffix.
    pub suffix: &'static str,
}

/// The metrics shown as Bevy diagnostics: frame time and 1 % low, the fractal GPU pass time,
/// iterations per pixel, process memory.
///
/// ```
/// use bevy::diagnostic::{DiagnosticsStore, LogDiagnosticsPlugin};
/// use bevy::prelude::*;
/// use rfm_perf::bridge::EXPORTED_DIAGNOSTICS;
///
/// let mut app = App::new();
/// app.add_plugins((MinimalPlugins, LogDiagnosticsPlugin::default()))
///     .add_plugins(rfm_perf::RfmPerfPlugin::headless());
/// app.update();
/// app.update();
/// let store = app.world().resource::<DiagnosticsStore>();
/// assert!(store.get(&EXPORTED_DIAGNOSTICS[0].path).unwrap().measurement().is_some());
/// ```
pub const EXPORTED_DIAGNOSTICS: [ExportedDiagnostic; 5] = [
    ExportedDiagnostic {
        path: DiagnosticPath::const_new("rfm_perf/frame_time"),
        metric: names::FRAME_TIME_MS,
        suffix: "ms",
    },
    ExportedDiagnostic {
        path: DiagnosticPath::const_new("rfm_perf/fps_1pct_low"),
        metric: names::FRAME_FPS_1PCT_LOW,
        suffix: "fps",
    },
    ExportedDiagnostic {
        path: DiagnosticPath::const_new("rfm_perf/gpu_pass"),
        metric: names::RENDER_FRACTAL_GPU_MS,
        suffix: "ms",
    },
    ExportedDiagnostic {
        path: DiagnosticPath::const_new("rfm_perf/iterations_per_pixel"),
        metric: names::FRACTAL_ITERATIONS_PER_PIXEL,
        suffix: "",
    },
    ExportedDiagnostic {
        path: DiagnosticPath::const_new("rfm_perf/process_memory"),
        metric: names::PROCESS_MEMORY_MB,
        suffix: "MB",
    },
];

/// Registers the exported diagnostics in the app's `DiagnosticsStore`.
pub(super) fn register(app: &mut App) {
    for d in &EXPORTED_DIAGNOSTICS {
        app.register_diagnostic(Diagnostic::new(d.path.clone()).with_suffix(d.suffix));
    }
}

/// Adds each exported metric's new value (one measurement per new sample, none while it has
/// none) to its diagnostic.
pub(super) fn export_diagnostics(
    tracker: Res<PerfTracker>,
    mut diagnostics: Diagnostics,
    mut last: Local<[Option<std::time::SystemTime>; 5]>,
) {
    for (d, seen) in EXPORTED_DIAGNOSTICS.iter().zip(last.iter_mut()) {
        let Some((at, value)) = tracker.latest_sample(d.metric) else {
            continue;
        };
        if *seen == Some(at) {
            continue;
        }
        *seen = Some(at);
        diagnostics.add_measurement(&d.path, || value);
    }
}
