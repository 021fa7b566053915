//! # rfm_perf
//!
//! Bevy plugins that make the performance of a GPU fractal renderer — or any Bevy app —
//! visible, explainable and guarded: a tracker with timers, scopes and metrics
//! ([`rfm_perf_core`]), `#[track_performance]`, a bridge from Bevy diagnostics, system
//! sampling, analysis (alerts, suggestions, the frame breakdown) and, behind features, an
//! in-game dashboard, an HTTP API and a fractal workload.
//!
//! [`RfmPerfPlugins`] groups the plugins as `DefaultPlugins` groups Bevy's; [`RfmPerfPlugin`]
//! adds the group in one line.
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
//!
//! Layers (each depends only on those below it; the leaves never on each other):
//! - [`plugins`](RfmPerfPlugins) and [`headless`]: assemble apps from the leaves;
//! - leaves: [`bridge`], [`system`], [`analysis`], [`ui`], `api`, `fractal`;
//! - the base ([`RfmPerfBasePlugin`] and what it holds, re-exported here);
//! - [`rfm_perf_core`]: the tracker, without Bevy.

// Lets `#[track_performance]` expand to `::rfm_perf::…` paths inside this crate too.
extern crate self as rfm_perf;

mod base;
mod plugins;

pub mod analysis;
#[cfg(feature = "api")]
pub mod api;
pub mod bridge;
#[cfg(feature = "fractal")]
pub mod fractal;
#[cfg(feature = "fractal")]
pub mod headless;
pub mod spans;
pub mod system;
pub mod ui;

pub use base::*;
pub use plugins::{RfmPerfPlugin, RfmPerfPlugins};
pub use rfm_perf_core::*;

#[doc(inline)]
pub use rfm_perf_core::track_performance;

/// What most apps need: the plugins, their resources, the tracker API and the macros.
pub mod prelude {
    pub use crate::base::{
        AlertRaised, ApplyTunable, Insights, PerfConfig, PerfTracker, RfmPerfSystems, Tunable,
        Tunables,
    };
    pub use crate::plugins::{RfmPerfPlugin, RfmPerfPlugins};
    pub use rfm_perf_core::{
        PerformanceTracker, get_performance_tracker, names, perf_scope, track_performance,
    };
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "api", feature = "fractal", feature = "dashboard"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod layering;
