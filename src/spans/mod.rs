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
use bevy::log::tracing::{Metadata, Subscriber, callsite, span};
use bevy::log::tracing_subscriber::Layer;
use bevy::log::tracing_subscriber::layer::Context;
use bevy::log::tracing_subscriber::registry::{LookupSpan, SpanRef};
use rfm_perf_core::{MetricId, PerformanceTracker};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

/// A `tracing_subscriber` layer that records each span, from enter to exit, as a scope. The
/// scope is named after the span's `name` field when it has one — Bevy names its spans
/// `system`, `schedule`, … and puts what runs in that field — and after the span otherwise:
/// a `system` span records as its `name` (`"my_game::physics"`), another span with a `name`
/// field as `"<span>: <name>"` (`"schedule: Update"`, `"system_commands: my_game::physics"`).
///
/// The scope is resolved once: a span without a `name` field by its callsite (kept in the
/// layer, so creating such a span again — Bevy's render passes, wgpu's spans, every frame —
/// allocates nothing), a span with one when it is created (kept in the span's extensions; Bevy
/// creates its system spans once per system). Entering and leaving then costs no name lookup.
/// A span with a `name` field created before the layer was installed is not recorded, and a
/// leave without its enter (the layer installed in between) is ignored; nothing is logged.
#[derive(Clone, Debug)]
pub struct SpanLayer {
    tracker: PerformanceTracker,
    /// The scope of each callsite whose spans have no `name` field.
    by_callsite: Arc<RwLock<HashMap<callsite::Identifier, MetricId>>>,
}

impl SpanLayer {
    /// A layer recording into `tracker`.
    pub fn new(tracker: PerformanceTracker) -> Self {
        Self {
            tracker,
            by_callsite: Arc::default(),
        }
    }

    /// The scope of a span without a `name` field, by its callsite.
    fn callsite_scope(&self, metadata: &'static Metadata<'static>) -> MetricId {
        let callsite = metadata.callsite();
        let read = self.by_callsite.read().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = read.get(&callsite) {
            return *id;
        }
        drop(read);
        let id = self.tracker.scope_id(metadata.name());
        self.by_callsite
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(callsite, id);
        id
    }

    /// The scope `span` records into: from its extensions when it has a `name` field, else
    /// from its callsite.
    fn scope_of<S>(&self, span: &SpanRef<'_, S>) -> Option<MetricId>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let metadata = span.metadata();
        if metadata.fields().field("name").is_some() {
            span.extensions().get::<SpanScope>().map(|s| s.0)
        } else {
            Some(self.callsite_scope(metadata))
        }
    }

    /// A layer recording into the process's tracker (the one `perf_scope!` and
    /// `#[track_performance]` record into, and `RfmPerfPlugin` uses unless given another).
    pub fn global() -> Self {
        Self::new(rfm_perf_core::get_performance_tracker().clone())
    }
}

/// The scope a span records into, resolved once when the span is created.
struct SpanScope(MetricId);

thread_local! {
    /// Where a span's `name` field is written when it is recorded with `Debug` (Bevy's schedule
    /// spans), reused so that resolving a name seen before allocates nothing.
    static NAME_BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Span names whose `name` field alone names the scope: what runs is the system. Every other
/// span with a `name` field records as `"<span>: <name>"` (Bevy's `schedule`,
/// `system_commands`, `sub app`, …), so a system's deferred commands stay apart from its run
/// and a schedule reads as one.
const NAMED_BY_FIELD: [&str; 1] = ["system"];

/// Resolves a span's `name` field to its scope.
struct NameField<'a> {
    tracker: &'a PerformanceTracker,
    span: &'static str,
    id: Option<MetricId>,
}

impl NameField<'_> {
    fn resolve(&mut self, value: &dyn std::fmt::Display) {
        let (tracker, span) = (self.tracker, self.span);
        self.id = NAME_BUFFER
            .try_with(|b| {
                let mut b = b.try_borrow_mut().ok()?;
                b.clear();
                write!(b, "{value}").ok()?;
                if b.as_str() != span && !NAMED_BY_FIELD.contains(&span) {
                    b.insert_str(0, ": ");
                    b.insert_str(0, span);
                }
                Some(tracker.scope_id(&b))
            })
            .ok()
            .flatten();
    }
}

impl Visit for NameField<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "name" {
            self.resolve(&value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "name" && self.id.is_none() {
            self.resolve(&format_args!("{value:?}"));
        }
    }
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let metadata = attrs.metadata();
        if metadata.fields().field("name").is_none() {
            // resolved by callsite, on first use
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut name = NameField {
            tracker: &self.tracker,
            span: metadata.name(),
            id: None,
        };
        attrs.record(&mut name);
        let scope = name
            .id
            .unwrap_or_else(|| self.tracker.scope_id(metadata.name()));
        span.extensions_mut().insert(SpanScope(scope));
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(scope) = ctx.span(id).and_then(|span| self.scope_of(&span)) {
            self.tracker.enter_scope_id(scope);
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(scope) = ctx.span(id).and_then(|span| self.scope_of(&span)) {
            self.tracker.exit_scope_id(scope);
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
            let commands = tracing::info_span!("system_commands", name = "game::physics");
            drop(commands.enter());
            let _schedule = tracing::info_span!("schedule", name = ?("Update",)).entered();
        });
        tracker.collect_frame();
        let stats = tracker.scope_stats();
        let calls = |n: &str| stats.iter().find(|s| s.name.as_ref() == n).map(|s| s.calls);
        assert_eq!(calls("game::physics"), Some(3));
        assert_eq!(calls("broad_phase"), Some(3));
        assert_eq!(calls("schedule: (\"Update\",)"), Some(1));
        assert_eq!(calls("system"), None, "the span's own name is not used");
        assert_eq!(
            calls("system_commands: game::physics"),
            Some(1),
            "another span with a name field keeps its own name in front"
        );
        // every exit closed its enter: nothing is left open on this thread
        for name in ["game::physics", "broad_phase", "schedule: (\"Update\",)"] {
            assert_eq!(
                tracker.exit_scope_id(tracker.scope_id(name)),
                None,
                "{name}"
            );
        }
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
            names.iter().any(|n| n == "schedule: Update")
                && names.iter().any(|n| n.ends_with("tick_system")),
            "Bevy's spans are scopes: {names:?}"
        );
    }
}
