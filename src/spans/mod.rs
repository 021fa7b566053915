//! `tracing` spans as the tracker's scopes: a [`SpanLayer`] for `tracing_subscriber` that
//! times every span an app enters (its own `info_span!`s, and Bevy's system and schedule spans
//! when Bevy is built with its `trace` feature) into the same per-thread call tree as
//! `perf_scope!` and `#[track_performance]`, under the span's name. So they show in the scope
//! table, the flame graph, the frame breakdown and the trace export.
//!
//! With Bevy's `LogPlugin`, add it as its custom layer (the `RUST_LOG` filter then applies to
//! the spans too):
//!
//! ```no_run
//! use bevy::log::LogPlugin;
//! use bevy::prelude::*;
//! App::new().add_plugins(DefaultPlugins.set(LogPlugin {
//!     custom_layer: rfm_perf::spans::log_layer,
//!     ..default()
//! }));
//! ```
//!
//! Without `LogPlugin` (a headless runner, a test), install it as the global subscriber:
//!
//! ```
//! use bevy::log::{tracing, tracing_subscriber};
//! use bevy::log::tracing_subscriber::prelude::*;
//! let tracker = rfm_perf::PerformanceTracker::new();
//! let subscriber = tracing_subscriber::registry().with(rfm_perf::spans::SpanLayer::new(tracker.clone()));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _outer = tracing::info_span!("physics").entered();
//!     let _inner = tracing::info_span!("broad_phase").entered();
//! });
//! let frame = tracker.collect_frame();
//! let lane = &frame.threads[0];
//! assert_eq!(lane.nodes[0].name.as_ref(), "physics");
//! assert_eq!(lane.nodes[1].name.as_ref(), "broad_phase");
//! assert_eq!(lane.nodes[1].parent, Some(0));
//! ```

use bevy::app::App;
use bevy::log::BoxedLayer;
use bevy::log::tracing::{Subscriber, span};
use bevy::log::tracing_subscriber::Layer;
use bevy::log::tracing_subscriber::layer::Context;
use bevy::log::tracing_subscriber::registry::LookupSpan;
use rfm_perf_core::PerformanceTracker;

/// A `tracing_subscriber` layer that records each span, from enter to exit, as a scope named
/// after it. A span entered on one thread and left on another, or left before it was entered
/// here (the layer installed mid-span), is not recorded: nothing is logged for it.
#[derive(Clone, Debug)]
pub struct SpanLayer {
    tracker: PerformanceTracker,
}

impl SpanLayer {
    /// A layer recording into `tracker`.
    pub fn new(tracker: PerformanceTracker) -> Self {
        Self { tracker }
    }

    /// A layer recording into the process's tracker (the one `perf_scope!` and
    /// `#[track_performance]` record into, and `RfmPerfPlugin` uses unless given another).
    pub fn global() -> Self {
        Self::new(rfm_perf_core::get_performance_tracker().clone())
    }
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let _ = self.tracker.try_start_timer(span.name());
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let _ = self.tracker.try_end_timer(span.name());
        }
    }
}

/// [`SpanLayer::global`] in the shape `LogPlugin::custom_layer` takes.
pub fn log_layer(_app: &mut App) -> Option<BoxedLayer> {
    Some(Box::new(SpanLayer::global()))
}
