//! The diagnostics bridge ([`DiagnosticsBridgePlugin`]), both ways: Bevy's diagnostics into the
//! tracker, and the tracker's key metrics into Bevy's diagnostics.

mod export;
mod gpu_time;
mod import;

use bevy::diagnostic::EntityCountDiagnosticsPlugin;
use bevy::prelude::*;

pub use export::{EXPORT_PREFIX, EXPORTED_DIAGNOSTICS, ExportedDiagnostic};
pub use gpu_time::is_pass_gpu_time;
pub use import::{SKIPPED_DIAGNOSTICS, unit_from_suffix};

use crate::base::{RfmPerfBasePlugin, RfmPerfSystems};
use import::bridge_diagnostics;

/// Copies every enabled Bevy diagnostic into the tracker under its Bevy path (e.g.
/// `entity_count`, `render/fractal/elapsed_gpu`), each new measurement once, in
/// [`RfmPerfSystems::Bridge`]; and the other way, the key metrics into Bevy diagnostics under
/// `rfm_perf/…` ([`EXPORTED_DIAGNOSTICS`], in [`RfmPerfSystems::Publish`]), which the first
/// direction skips. Adds Bevy's `EntityCountDiagnosticsPlugin` when `entity_count` is on and
/// the app has not added it, and — in an app that renders — Bevy's `RenderDiagnosticsPlugin`
/// when `render_diagnostics` is on: GPU utilization (`gpu.utilization_pct`) is then the sum of
/// every render pass's GPU time over the frame time, in any Bevy app.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::bridge::DiagnosticsBridgePlugin;
///
/// App::new().add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugins::headless().set(DiagnosticsBridgePlugin {
///         entity_count: false,
///         ..Default::default()
///     }),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct DiagnosticsBridgePlugin {
    /// Add Bevy's entity count diagnostic (`entity_count`). Default `true`.
    pub entity_count: bool,
    /// Also register the key metrics as Bevy diagnostics under `rfm_perf/…`
    /// ([`EXPORTED_DIAGNOSTICS`]), so `LogDiagnosticsPlugin` and Bevy overlays show them.
    /// Default `true`.
    pub export: bool,
    /// Add Bevy's `RenderDiagnosticsPlugin` (GPU and CPU time per render pass) when the app
    /// renders and has not added it. Default `true`.
    pub render_diagnostics: bool,
}

impl Default for DiagnosticsBridgePlugin {
    fn default() -> Self {
        Self {
            entity_count: true,
            export: true,
            render_diagnostics: true,
        }
    }
}

impl Plugin for DiagnosticsBridgePlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        if self.entity_count && !app.is_plugin_added::<EntityCountDiagnosticsPlugin>() {
            app.add_plugins(EntityCountDiagnosticsPlugin::default());
        }
        #[cfg(feature = "render")]
        if self.render_diagnostics
            && app.get_sub_app(bevy::render::RenderApp).is_some()
            && !app.is_plugin_added::<bevy::render::diagnostic::RenderDiagnosticsPlugin>()
        {
            app.add_plugins(bevy::render::diagnostic::RenderDiagnosticsPlugin);
        }
        #[cfg(feature = "render")]
        app.add_systems(Update, gpu_time::report_missing_timestamps);
        app.add_systems(
            Last,
            (bridge_diagnostics, gpu_time::record_gpu_utilization)
                .chain()
                .in_set(RfmPerfSystems::Bridge),
        );
        if self.export {
            export::register(app);
            app.add_systems(
                Last,
                export::export_diagnostics.in_set(RfmPerfSystems::Publish),
            );
        }
    }
}
