//! Instrumentation: call-site scopes (`#[track_performance]`, [`perf_scope!`](crate::perf_scope)),
//! the async guard, the cross-thread [`Timer`] and the global on/off switch.

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::clock;
use crate::metric::MetricId;
use crate::tracker::{PerformanceTracker, get_performance_tracker};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns scope recording (`#[track_performance]`, `perf_scope!`) on or off process-wide.
/// A disabled scope costs one relaxed atomic load. Explicit timers and metrics keep working.
///
/// ```
/// rfm_perf_core::set_scopes_enabled(false);
/// assert!(!rfm_perf_core::scopes_enabled());
/// rfm_perf_core::set_scopes_enabled(true);
/// ```
pub fn set_scopes_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether scope recording is on.
pub fn scopes_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A call site: its name and its metric id, resolved once (per process) on first use.
///
/// Normally created by the macros as a `static`.
///
/// ```
/// use rfm_perf_core::ScopeSite;
/// static SITE: ScopeSite = ScopeSite::new("my.scope");
/// {
///     let _g = SITE.enter();
/// }
/// assert!(rfm_perf_core::get_performance_tracker().get_metric("my.scope").is_some());
/// ```
#[derive(Debug)]
pub struct ScopeSite {
    name: &'static str,
    id: OnceLock<MetricId>,
}

impl ScopeSite {
    /// A call site named `name` (any non-empty UTF-8 string).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            id: OnceLock::new(),
        }
    }

    /// The site's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    #[inline(always)]
    fn id(&self) -> MetricId {
        *self
            .id
            .get_or_init(|| get_performance_tracker().scope_id(self.name))
    }

    /// Opens the scope on this thread; it closes when the guard drops (also on early return,
    /// `?` and panics).
    #[inline(always)]
    pub fn enter(&'static self) -> ScopeGuard {
        if !ENABLED.load(Ordering::Relaxed) {
            return ScopeGuard::DISABLED;
        }
        self.enter_enabled()
    }

    #[inline(never)]
    fn enter_enabled(&'static self) -> ScopeGuard {
        let id = self.id();
        match get_performance_tracker().enter_scope(id) {
            Some((token, depth)) => ScopeGuard {
                token,
                depth,
                _not_send: PhantomData,
            },
            None => ScopeGuard::DISABLED,
        }
    }

    /// Starts timing an `async` call: a `Send` guard, recorded outside the per-thread call tree
    /// (the future may move between threads).
    #[inline]
    pub fn enter_async(&'static self) -> AsyncScopeGuard {
        if !ENABLED.load(Ordering::Relaxed) {
            return AsyncScopeGuard { id: None, start: 0 };
        }
        AsyncScopeGuard {
            id: Some(self.id()),
            start: clock::now_ticks(),
        }
    }
}

/// Closes a scope on drop. Not `Send`: a scope begins and ends on one thread.
#[must_use = "the scope closes when this guard is dropped"]
#[derive(Debug)]
pub struct ScopeGuard {
    token: u32,
    depth: u32,
    _not_send: PhantomData<*const ()>,
}

impl ScopeGuard {
    const DISABLED: ScopeGuard = ScopeGuard {
        token: u32::MAX,
        depth: u32::MAX,
        _not_send: PhantomData,
    };
}

impl Drop for ScopeGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if self.depth != u32::MAX {
            exit_enabled(self.token, self.depth);
        }
    }
}

#[inline(never)]
fn exit_enabled(token: u32, depth: u32) {
    get_performance_tracker().exit_scope(token, depth);
}

/// Times an `async` call from first poll to completion (or drop). `Send`, outside the call tree.
#[must_use = "the span ends when this guard is dropped"]
#[derive(Debug)]
pub struct AsyncScopeGuard {
    id: Option<MetricId>,
    start: u64,
}

impl Drop for AsyncScopeGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let nanos = clock::ticks_to_nanos(self.start, clock::now_ticks());
            get_performance_tracker().record_detached(id, nanos);
        }
    }
}

/// A timer that can stop on another thread; made by [`PerformanceTracker::timer`].
/// Dropping it records like [`stop`](Self::stop); [`cancel`](Self::cancel) records nothing.
#[must_use = "the timer records when stopped or dropped"]
#[derive(Debug)]
pub struct Timer {
    tracker: Option<PerformanceTracker>,
    id: Option<MetricId>,
    start: u64,
}

impl Timer {
    pub(crate) fn new(tracker: PerformanceTracker, id: Option<MetricId>) -> Self {
        Self {
            tracker: Some(tracker),
            id,
            start: clock::now_ticks(),
        }
    }

    /// Stops the timer, records the span and returns its duration.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(t.timer("x").stop() < std::time::Duration::from_secs(1));
    /// ```
    pub fn stop(mut self) -> Duration {
        self.finish(true)
    }

    /// Drops the timer without recording.
    pub fn cancel(mut self) {
        self.finish(false);
    }

    /// Time since the timer started.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(clock::ticks_to_nanos(self.start, clock::now_ticks()))
    }

    fn finish(&mut self, record: bool) -> Duration {
        let nanos = clock::ticks_to_nanos(self.start, clock::now_ticks());
        if let (Some(t), Some(id), true) = (self.tracker.take(), self.id, record) {
            t.record_detached(id, nanos);
        }
        Duration::from_nanos(nanos)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.tracker.is_some() {
            self.finish(true);
        }
    }
}

/// Times the rest of the enclosing block as a scope named by a string literal (default: the
/// enclosing module path).
///
/// ```
/// fn work() -> u32 {
///     rfm_perf_core::perf_scope!("doc.block");
///     40 + 2
/// }
/// assert_eq!(work(), 42);
/// assert!(rfm_perf_core::get_performance_tracker().get_metric("doc.block").is_some());
/// ```
#[macro_export]
macro_rules! perf_scope {
    () => {
        $crate::perf_scope!(::core::module_path!())
    };
    ($name:expr) => {
        let _rfm_perf_scope_guard = {
            static SITE: $crate::ScopeSite = $crate::ScopeSite::new($name);
            SITE.enter()
        };
    };
}
