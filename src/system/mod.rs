//! System sampling: per-core CPU, memory, disk I/O and I/O pressure on a background thread
//! (so the frame never waits on `/proc`), added by [`SystemSamplerPlugin`].

mod io_pressure;
mod metrics;
mod sampler;

use std::time::Duration;

use bevy::prelude::*;

pub use io_pressure::parse_io_pressure;
pub use metrics::{PROCESS_CPU_PCT, SAMPLER_METRICS, SYSTEM_MEMORY_USED_MB};
pub use sampler::{SystemSampler, SystemSources};

use crate::base::{PerfConfig, PerfTracker, RfmPerfBasePlugin};

/// Samples CPU (per core and total), memory, process I/O and I/O pressure into the tracker on a
/// background thread, every `interval` (default: the base's update interval). The thread's
/// handle is the [`SystemSampler`] resource; it stops when the app ends.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::RfmPerfPlugins;
/// use rfm_perf::system::SystemSamplerPlugin;
///
/// App::new().add_plugins(MinimalPlugins).add_plugins(
///     RfmPerfPlugins::headless().set(SystemSamplerPlugin { interval: Some(std::time::Duration::from_secs(5)) }),
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct SystemSamplerPlugin {
    /// Time between samples. Default `None`: [`PerfConfig::update_interval`]. Never shorter
    /// than sysinfo's minimum CPU interval.
    pub interval: Option<Duration>,
}

impl Plugin for SystemSamplerPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        let tracker = app.world().resource::<PerfTracker>().0.clone();
        let interval = self
            .interval
            .unwrap_or_else(|| app.world().resource::<PerfConfig>().update_interval);
        match SystemSampler::start(tracker, interval) {
            Ok(s) => {
                app.insert_resource(s);
            }
            Err(e) => warn!("rfm_perf: could not start the system sampler thread: {e}"),
        }
    }
}
