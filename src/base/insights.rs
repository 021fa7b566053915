//! What the analysis publishes and the views draw: alerts, suggestions and the frame-time
//! breakdown, in the [`Insights`] resource. The analysis leaf fills it at the update interval;
//! the dashboard and the API read it (and find it empty when analysis is off).

use std::collections::VecDeque;

use bevy::prelude::Resource;
use serde::{Deserialize, Serialize};

use super::health::Health;

/// A metric past its warning or critical threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Metric name.
    pub metric: String,
    /// Worst health reached while the alert was active.
    pub status: Health,
    /// Latest value.
    pub value: f64,
    /// The level that was crossed.
    pub threshold: f64,
    /// When it was raised (seconds since the Unix epoch).
    pub raised_unix_s: f64,
    /// Whether it is still active.
    pub active: bool,
    /// One line for people.
    pub message: String,
}

/// A parameter change a suggestion proposes (applied through [`Tunables`](crate::tunables::Tunables)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterChange {
    /// Tunable name.
    pub name: String,
    /// Proposed value.
    pub value: f64,
}

/// An optimisation suggestion with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// What to do.
    pub title: String,
    /// Why: the numbers behind it.
    pub evidence: String,
    /// A parameter change that implements it, if there is one.
    pub parameter: Option<ParameterChange>,
}

/// [`FrameShare`] label: GPU time of the fractal compute pass.
pub const GPU_PASS: &str = "GPU fractal pass";
/// [`FrameShare`] label: CPU time encoding render work (`render.*` scopes, `render.fractal_cpu_ms`).
pub const RENDER_ENCODE: &str = "Render encode";
/// [`FrameShare`] label: the dashboard and other `ui.*` scopes.
pub const UI: &str = "UI";
/// [`FrameShare`] label: self time of every other scope.
pub const CPU_SYSTEMS: &str = "CPU systems";
/// [`FrameShare`] label: the rest of the frame (not covered by the others).
pub const OTHER_IDLE: &str = "Other/idle";

/// One part of the mean frame: what it is and how long it takes per frame.
///
/// ```
/// let share = rfm_perf::FrameShare { label: rfm_perf::insights::GPU_PASS, ms: 6.0 };
/// assert_eq!(share.ms, 6.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameShare {
    /// What it is ([`GPU_PASS`], [`RENDER_ENCODE`], [`UI`], [`CPU_SYSTEMS`], [`OTHER_IDLE`]).
    pub label: &'static str,
    /// Mean time per frame (ms), never negative.
    pub ms: f64,
}

/// The mean frame over the scope window split into its parts.
///
/// ```
/// let b = rfm_perf::FrameBreakdown::default();
/// assert!(b.frame_ms.is_none() && b.shares.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FrameBreakdown {
    /// Mean frame time over the window (ms), when frames were measured.
    pub frame_ms: Option<f64>,
    /// The parts, in drawing order; they add up to the frame time (or more, when the measured
    /// work exceeds it).
    pub shares: Vec<FrameShare>,
}

/// Current alerts, the alert log, suggestions and the frame-time breakdown. A resource.
///
/// ```
/// let insights = rfm_perf::Insights::default();
/// assert!(insights.alerts.is_empty() && insights.breakdown.shares.is_empty());
/// ```
#[derive(Resource, Clone, Debug, Default, Serialize)]
pub struct Insights {
    /// Active alerts.
    pub alerts: Vec<Alert>,
    /// Recently raised alerts, newest last (bounded).
    pub log: VecDeque<Alert>,
    /// Current suggestions.
    pub suggestions: Vec<Suggestion>,
    /// The mean frame over the scope window split into its parts.
    pub breakdown: FrameBreakdown,
}
