//! [`RfmPerfSystems`]: the plugins' system sets, so apps can order their systems against them.

use bevy::prelude::SystemSet;

/// The plugins' system sets. `Last` runs `Bridge → Collect → Publish → Analyze → Serve` in
/// that order.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfSystems;
///
/// fn read_fresh_alerts(insights: Res<rfm_perf::Insights>) { let _ = insights.alerts.len(); }
/// App::new()
///     .add_plugins(MinimalPlugins)
///     .add_plugins(rfm_perf::RfmPerfPlugin::headless())
///     .add_systems(Last, read_fresh_alerts.after(RfmPerfSystems::Analyze))
///     .update();
/// ```
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RfmPerfSystems {
    /// `PreUpdate`: applies tunable-parameter changes.
    ApplyTunables,
    /// `Last`: copies Bevy diagnostics (and the GPU pass's metrics) into the tracker.
    Bridge,
    /// `Last`, after `Bridge`: frame metrics and the end of the tracker's frame.
    Collect,
    /// `Last`, after `Collect`: the snapshot, at the update interval.
    Publish,
    /// `Last`, after `Publish`: alerts, suggestions and the frame breakdown, at the update interval.
    Analyze,
    /// `Last`, after `Analyze`: what the views outside the app serve (the API's state).
    Serve,
}
