//! The diagnostics bridge ([`DiagnosticsBridgePlugin`]), both ways: Bevy's diagnostics into the
//! tracker, and the tracker's key metrics into Bevy's diagnostics.

mod export;
mod import;

use bevy::diagnostic::EntityCountDiagnosticsPlugin;
use bevy::prelude::*;

pub use export::{EXPORT_PREFIX, EXPORTED_DIAGNOSTICS, ExportedDiagnostic};
pub use import::{SKIPPED_DIAGNOSTICS, unit_from_suffix};

use crate::base::{RfmPerfBasePlugin, RfmPerfSystems};
use import::bridge_diagnostics;

/// Copies every enabled Bevy diagnostic into the tracker under its Bevy path (e.g.
/// `entity_count`, `render/fractal/elapsed_gpu`), each new measurement once, in
/// [`RfmPerfSystems::Bridge`]; and the other way, the key metrics into Bevy diagnostics under
/// `rfm_perf/…` ([`EXPORTED_DIAGNOSTICS`], in [`RfmPerfSystems::Publish`]), which the first
/// direction skips. Adds Bevy's `EntityCountDiagnosticsPlugin` when `entity_count` is on and
/// the app has not added it.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::bridge::DiagnosticsBridgePlugin;
///
/// App::new().add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugins::headless().set(DiagnosticsBridgePlugin { entity_count: false, export: true }),
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
}

impl Default for DiagnosticsBridgePlugin {
    fn default() -> Self {
        Self {
            entity_count: true,
            export: true,
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
        app.add_systems(Last, bridge_diagnostics.in_set(RfmPerfSystems::Bridge));
        if self.export {
            export::register(app);
            app.add_systems(
                Last,
                export::export_diagnostics.in_set(RfmPerfSystems::Publish),
            );
        }
    }
}
