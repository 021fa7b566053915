//! # rfm_perf
//!
//! A Bevy plugin that makes the performance of a GPU fractal renderer — or any Bevy app —
//! visible, explainable and guarded: a tracker with timers, scopes and metrics
//! ([`rfm_perf_core`]), `#[track_performance]`, a bridge from Bevy diagnostics, system
//! sampling, and (behind features) an in-game dashboard, an HTTP API and a fractal workload.
//!
//! ```
//! use bevy::prelude::*;
//! use rfm_perf::prelude::*;
//!
//! #[track_performance("game.physics")]
//! fn physics_step() -> u32 { 1 + 1 }
//!
//! fn game_system() { physics_step(); }
//!
//! let mut app = App::new();
//! app.add_plugins(MinimalPlugins)
//!     .add_plugins(RfmPerfPlugin::headless())
//!     .add_systems(Update, game_system);
//! for _ in 0..3 { app.update(); }
//! let tracker = app.world().resource::<PerfTracker>();
//! assert!(tracker.scope_stats().iter().any(|s| s.name.as_ref() == "game.physics"));
//! ```

// Lets `#[track_performance]` expand to `::rfm_perf::…` paths inside this crate too.
extern crate self as rfm_perf;

#[cfg(feature = "api")]
pub mod api;
mod api_config;
pub mod diagnostics;
#[cfg(feature = "fractal")]
pub mod fractal;
pub mod insights;
pub mod overlay;
mod plugin;
pub mod status;
pub mod system;
pub mod tunables;
#[cfg(feature = "dashboard")]
pub mod ui;

pub use api_config::{ApiConfig, ApiConfigError};
pub use plugin::{DEFAULT_METRICS_TO_SHOW, PerfConfig, PerfTracker, RfmPerfPlugin, RfmPerfSystems};
pub use rfm_perf_core::*;
pub use system::alloc;

#[doc(inline)]
pub use rfm_perf_core::track_performance;

/// What most apps need: the plugin, its resources, the tracker API and the macros.
pub mod prelude {
    pub use crate::plugin::{PerfConfig, PerfTracker, RfmPerfPlugin, RfmPerfSystems};
    pub use crate::tunables::{Tunable, Tunables};
    pub use rfm_perf_core::{
        PerformanceTracker, get_performance_tracker, names, perf_scope, track_performance,
    };
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
