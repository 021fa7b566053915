//! Metric identity and metadata: names, units, directions, and the registry that maps names to ids.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Dense id of a metric inside one [`PerformanceTracker`](crate::PerformanceTracker).
///
/// Ids are resolved once per call site or per thread and then used on the hot path instead of
/// hashing the name on every call. An id is only meaningful for the tracker that issued it.
///
/// ```
/// let tracker = rfm_perf_core::PerformanceTracker::new();
/// let id = tracker.metric_id("frame.time_ms").unwrap();
/// assert_eq!(tracker.metric_info(id.name_in(&tracker).as_deref().unwrap()).unwrap().name.as_ref(), "frame.time_ms");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricId(pub(crate) u32);

impl MetricId {
    /// The index of this id (dense, starting at 0).
    ///
    /// ```
    /// let tracker = rfm_perf_core::PerformanceTracker::new();
    /// let id = tracker.metric_id("my.metric").unwrap();
    /// assert!(id.index() > 0);
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The name this id stands for in `tracker`, if the tracker issued it.
    ///
    /// ```
    /// let tracker = rfm_perf_core::PerformanceTracker::new();
    /// let id = tracker.metric_id("fps").unwrap(); // alias of frame.fps
    /// assert_eq!(id.name_in(&tracker).as_deref(), Some("frame.fps"));
    /// ```
    pub fn name_in(self, tracker: &crate::PerformanceTracker) -> Option<Arc<str>> {
        tracker.metric_name(self)
    }
}

/// The unit a metric is measured in, so the UI, API and Prometheus output never guess.
///
/// ```
/// use rfm_perf_core::Unit;
/// assert_eq!(Unit::Milliseconds.symbol(), "ms");
/// assert_eq!(Unit::Custom("frames".into()).symbol(), "frames");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds (all timers and scopes are stored in ms).
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Frames per second.
    FramesPerSecond,
    /// Bytes.
    Bytes,
    /// Mebibytes (2^20 bytes), what the original spec calls "MB".
    Megabytes,
    /// Bytes per second.
    BytesPerSecond,
    /// Percent, 0–100 (per core values can reach 100 each).
    Percent,
    /// A ratio, 0–1.
    Ratio,
    /// A plain count (entities, iterations, calls).
    Count,
    /// Dimensionless value.
    #[default]
    None,
    /// Anything else, by its symbol.
    Custom(String),
}

impl Unit {
    /// The short symbol shown next to values.
    ///
    /// ```
    /// assert_eq!(rfm_perf_core::Unit::Megabytes.symbol(), "MB");
    /// ```
    pub fn symbol(&self) -> &str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::FramesPerSecond => "fps",
            Unit::Bytes => "B",
            Unit::Megabytes => "MB",
            Unit::BytesPerSecond => "B/s",
            Unit::Percent => "%",
            Unit::Ratio => "ratio",
            Unit::Count => "count",
            Unit::None => "",
            Unit::Custom(s) => s,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Which way is better for a metric; regressions are oriented by it.
///
/// ```
/// use rfm_perf_core::Direction;
/// assert_eq!(Direction::LowerIsBetter.worse_change(10.0, 12.0), Some(0.2));
/// assert_eq!(Direction::HigherIsBetter.worse_change(60.0, 30.0), Some(0.5));
/// assert_eq!(Direction::Neutral.worse_change(1.0, 2.0), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smaller values are better (times, memory).
    #[default]
    LowerIsBetter,
    /// Larger values are better (FPS, throughput).
    HigherIsBetter,
    /// Neither; never flagged as a regression.
    Neutral,
}

impl Direction {
    /// Relative change from `baseline` to `current`, positive when it got worse.
    /// `None` for neutral metrics or a zero/non-finite baseline.
    ///
    /// ```
    /// assert_eq!(rfm_perf_core::Direction::LowerIsBetter.worse_change(0.0, 1.0), None);
    /// ```
    pub fn worse_change(self, baseline: f64, current: f64) -> Option<f64> {
        if !baseline.is_finite() || !current.is_finite() || baseline == 0.0 {
            return None;
        }
        let rel = (current - baseline) / baseline.abs();
        match self {
            Direction::LowerIsBetter => Some(rel),
            Direction::HigherIsBetter => Some(-rel),
            Direction::Neutral => None,
        }
    }
}

/// What kind of values a metric holds.
///
/// ```
/// assert_ne!(rfm_perf_core::MetricKind::Scope, rfm_perf_core::MetricKind::Gauge);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A sampled value (`track_metric`).
    #[default]
    Gauge,
    /// A timed scope or timer: one sample per collected frame (total ms and call count).
    Scope,
}

/// Metadata of one metric.
///
/// ```
/// use rfm_perf_core::{MetricInfo, Unit, Direction};
/// let info = MetricInfo::new("net.latency_ms", Unit::Milliseconds, "Round trip to the server", Direction::LowerIsBetter);
/// assert_eq!(info.unit.symbol(), "ms");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    /// The canonical name.
    pub name: Arc<str>,
    /// Unit of the values.
    pub unit: Unit,
    /// One line saying what it measures.
    pub description: String,
    /// Which way is better.
    pub direction: Direction,
    /// Gauge or scope.
    pub kind: MetricKind,
}

impl MetricInfo {
    /// A gauge's metadata.
    ///
    /// ```
    /// let i = rfm_perf_core::MetricInfo::new("a", rfm_perf_core::Unit::Count, "", rfm_perf_core::Direction::Neutral);
    /// assert_eq!(i.kind, rfm_perf_core::MetricKind::Gauge);
    /// ```
    pub fn new(
        name: impl Into<Arc<str>>,
        unit: Unit,
        description: impl Into<String>,
        direction: Direction,
    ) -> Self {
        Self {
            name: name.into(),
            unit,
            description: description.into(),
            direction,
            kind: MetricKind::Gauge,
        }
    }
}

/// Where the values of gauges past [`TrackerConfig::max_metrics`](crate::TrackerConfig) go.
pub const OVERFLOW_METRIC: &str = "rfm_perf.overflow";
/// Where the timings of scopes past [`TrackerConfig::max_scopes`](crate::TrackerConfig) go.
pub const OVERFLOW_SCOPE: &str = "rfm_perf.overflow_scope";

/// Name ↔ id registry of one tracker.
#[derive(Default)]
pub(crate) struct Registry {
    by_name: HashMap<Arc<str>, MetricId>,
    infos: Vec<MetricInfo>,
    /// Names of each kind: gauges, scopes.
    counts: [usize; 2],
}

fn kind_index(kind: MetricKind) -> usize {
    usize::from(kind == MetricKind::Scope)
}

impl Registry {
    pub(crate) fn with_builtins() -> Self {
        let mut r = Registry::default();
        for b in crate::names::BUILTINS {
            r.upsert(b.info(), true);
        }
        r.upsert(
            MetricInfo::new(
                OVERFLOW_METRIC,
                Unit::None,
                "Values of metrics past the tracker's name limit (TrackerConfig::max_metrics)",
                Direction::Neutral,
            ),
            true,
        );
        let mut scope = MetricInfo::new(
            OVERFLOW_SCOPE,
            Unit::Milliseconds,
            "Timings of scopes past the tracker's name limit (TrackerConfig::max_scopes)",
            Direction::LowerIsBetter,
        );
        scope.kind = MetricKind::Scope;
        r.upsert(scope, true);
        r
    }

    /// Names of `kind` registered.
    pub(crate) fn count(&self, kind: MetricKind) -> usize {
        self.counts[kind_index(kind)]
    }

    /// The entry that takes the values of new names of `kind` past their limit.
    pub(crate) fn overflow(&self, kind: MetricKind) -> MetricId {
        let name = if kind == MetricKind::Scope {
            OVERFLOW_SCOPE
        } else {
            OVERFLOW_METRIC
        };
        self.by_name[name]
    }

    /// Whether `id` is one of the overflow entries.
    pub(crate) fn is_overflow(&self, id: MetricId) -> bool {
        self.infos
            .get(id.index())
            .is_some_and(|i| matches!(i.name.as_ref(), OVERFLOW_METRIC | OVERFLOW_SCOPE))
    }

    pub(crate) fn get(&self, name: &str) -> Option<MetricId> {
        self.by_name.get(crate::names::resolve_alias(name)).copied()
    }

    pub(crate) fn info(&self, id: MetricId) -> Option<&MetricInfo> {
        self.infos.get(id.index())
    }

    /// Metrics registered.
    pub(crate) fn len(&self) -> usize {
        self.infos.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (MetricId, &MetricInfo)> {
        self.infos
            .iter()
            .enumerate()
            .map(|(i, info)| (MetricId(i as u32), info))
    }

    /// Returns the id of `name`, creating a metric with default metadata of `kind` if new.
    pub(crate) fn intern(&mut self, name: &str, kind: MetricKind) -> MetricId {
        let name = crate::names::resolve_alias(name);
        if let Some(id) = self.by_name.get(name) {
            return *id;
        }
        let mut info = MetricInfo::new(name, Unit::None, String::new(), Direction::Neutral);
        if kind == MetricKind::Scope {
            info.unit = Unit::Milliseconds;
            info.direction = Direction::LowerIsBetter;
            info.kind = MetricKind::Scope;
        }
        self.upsert(info, true)
    }

    /// Inserts or replaces metadata. With `replace_kind == false` an existing kind is kept.
    pub(crate) fn upsert(&mut self, mut info: MetricInfo, replace_kind: bool) -> MetricId {
        let canonical: Arc<str> = Arc::from(crate::names::resolve_alias(&info.name));
        info.name = canonical.clone();
        if let Some(&id) = self.by_name.get(&canonical) {
            let slot = &mut self.infos[id.index()];
            if !replace_kind {
                info.kind = slot.kind;
            }
            *slot = info;
            id
        } else {
            let id = MetricId(self.infos.len() as u32);
            self.counts[kind_index(info.kind)] += 1;
            self.infos.push(info);
            self.by_name.insert(canonical, id);
            id
        }
    }
}
