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
use bevy::log::tracing::field::{Field, Visit};
use bevy::log::tracing::{Subscriber, span};
use bevy::log::tracing_subscriber::Layer;
use bevy::log::tracing_subscriber::layer::Context;
use bevy::log::tracing_subscriber::registry::LookupSpan;
use rfm_perf_core::PerformanceTracker;

/// A `tracing_subscriber` layer that records each span, from enter to exit, as a scope. The
/// scope is named after the span's `name` field when it has one — Bevy names its spans
/// `system`, `schedule`, … and puts what runs in that field, as Bevy's own Chrome-trace
/// output does — and after the span otherwise. A span left without having been entered here
/// (the layer installed mid-span) is not recorded, and nothing is logged for it.
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

/// The scope name a span records under, when it is not the span's own name.
struct ScopeName(String);

/// Finds a span's `name` field.
#[derive(Default)]
struct NameField(Option<String>);

impl Visit for NameField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "name" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "name" && self.0.is_none() {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if attrs.metadata().fields().field("name").is_none() {
            return;
        }
        let mut name = NameField::default();
        attrs.record(&mut name);
        if let (Some(name), Some(span)) = (name.0, ctx.span(id)) {
            span.extensions_mut().insert(ScopeName(name));
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let _ = match span.extensions().get::<ScopeName>() {
                Some(ScopeName(n)) => self.tracker.try_start_timer(n),
                None => self.tracker.try_start_timer(span.name()),
            };
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let _ = match span.extensions().get::<ScopeName>() {
                Some(ScopeName(n)) => self.tracker.try_end_timer(n),
                None => self.tracker.try_end_timer(span.name()),
            };
        }
    }
}

/// [`SpanLayer::global`] in the shape `LogPlugin::custom_layer` takes.
pub fn log_layer(_app: &mut App) -> Option<BoxedLayer> {
    Some(Box::new(SpanLayer::global()))
}

#[cfg(test)]
mod tests {
    use bevy::log::tracing;
    use bevy::log::tracing_subscriber::{self, prelude::*};

    use super::SpanLayer;

    #[test]
    fn a_name_field_names_the_scope() {
        let tracker = rfm_perf_core::PerformanceTracker::new();
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(tracker.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let system = tracing::info_span!("system", name = "game::physics");
            for _ in 0..3 {
                let _running = system.enter();
                let _inner = tracing::info_span!("broad_phase").entered();
            }
            let _schedule = tracing::info_span!("schedule", name = ?("Update",)).entered();
        });
        tracker.collect_frame();
        let stats = tracker.scope_stats();
        let calls = |n: &str| stats.iter().find(|s| s.name.as_ref() == n).map(|s| s.calls);
        assert_eq!(calls("game::physics"), Some(3));
        assert_eq!(calls("broad_phase"), Some(3));
        assert_eq!(calls("(\"Update\",)"), Some(1));
        assert_eq!(calls("system"), None, "the span's own name is not used");
        assert_eq!(
            tracker.stats().unmatched_end_timers,
            0,
            "every exit matched its enter"
        );
    }

    /// Bevy's own spans (its `trace` feature): every system that runs becomes a scope.
    #[cfg(feature = "bevy-spans")]
    #[test]
    fn bevy_system_spans_become_scopes() {
        use bevy::prelude::*;
        fn tick_system(mut n: Local<u32>) {
            *n += 1;
        }
        let tracker = rfm_perf_core::PerformanceTracker::new();
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(tracker.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let mut app = App::new();
            app.add_systems(Update, tick_system);
            // one thread: the default subscriber is this thread's
            app.edit_schedule(Update, |s| {
                s.set_executor(bevy::ecs::schedule::SingleThreadedExecutor::new());
            });
            for _ in 0..3 {
                app.update();
            }
        });
        tracker.collect_frame();
        let names: Vec<String> = tracker
            .scope_stats()
            .iter()
            .map(|s| s.name.to_string())
            .collect();
        // the schedules and the system, by name (`bevy/debug` keeps system names)
        assert!(
            names.iter().any(|n| n == "Update") && names.iter().any(|n| n.ends_with("tick_system")),
            "Bevy's spans are scopes: {names:?}"
        );
    }
}
