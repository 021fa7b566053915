//! Health of metric values from configurable thresholds (green / yellow / red): the dashboard's
//! colours, the API's `details.status` and the alerts all read the same [`HealthThresholds`].

use std::collections::BTreeMap;

use bevy::prelude::Resource;
use rfm_perf_core::names;
use serde::{Deserialize, Serialize};

/// Health of one value.
///
/// ```
/// assert_eq!(rfm_perf::Health::Warning.as_str(), "warning");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// No threshold is configured for the metric.
    Unknown,
    /// Within the good range.
    Ok,
    /// Past the warning threshold.
    Warning,
    /// Past the critical threshold.
    Critical,
}

impl Health {
    /// Lower-case name, as the API reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Warning => "warning",
            Health::Critical => "critical",
        }
    }
}

/// Warning and critical levels of one metric. When `higher_is_worse`, a value at or above a
/// level reaches it; otherwise a value at or below it does (e.g. FPS).
///
/// ```
/// use rfm_perf::{HealthThreshold, Health};
/// let fps = HealthThreshold { warning: 55.0, critical: 30.0, higher_is_worse: false };
/// assert_eq!(fps.status(60.0), Health::Ok);
/// assert_eq!(fps.status(40.0), Health::Warning);
/// assert_eq!(fps.status(20.0), Health::Critical);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthThreshold {
    /// Warning level.
    pub warning: f64,
    /// Critical level.
    pub critical: f64,
    /// Whether larger values are worse.
    pub higher_is_worse: bool,
}

impl HealthThreshold {
    /// A threshold where larger values are worse (times, memory).
    pub const fn above(warning: f64, critical: f64) -> Self {
        Self {
            warning,
            critical,
            higher_is_worse: true,
        }
    }

    /// A threshold where smaller values are worse (FPS).
    pub const fn below(warning: f64, critical: f64) -> Self {
        Self {
            warning,
            critical,
            higher_is_worse: false,
        }
    }

    /// The status of `value`.
    pub fn status(&self, value: f64) -> Health {
        if !value.is_finite() {
            return Health::Unknown;
        }
        let reached = |level: f64| {
            if self.higher_is_worse {
                value >= level
            } else {
                value <= level
            }
        };
        if reached(self.critical) {
            Health::Critical
        } else if reached(self.warning) {
            Health::Warning
        } else {
            Health::Ok
        }
    }

    /// Where `value` sits on a green → yellow → red gradient (0 = comfortably good, 0.5 = at the
    /// warning level, 1 = at or past the critical level), as iyes_perf_ui colours its entries.
    ///
    /// ```
    /// use rfm_perf::HealthThreshold;
    /// let fps = HealthThreshold::below(55.0, 30.0);
    /// assert_eq!(fps.gradient(120.0), 0.0);
    /// assert_eq!(fps.gradient(55.0), 0.5);
    /// assert_eq!(fps.gradient(10.0), 1.0);
    /// ```
    pub fn gradient(&self, value: f64) -> f32 {
        if !value.is_finite() {
            return 0.5;
        }
        // the good end sits as far from the warning level as the critical level does
        let good = 2.0 * self.warning - self.critical;
        let t = (value - good) / (self.critical - good);
        t.clamp(0.0, 1.0) as f32
    }

    /// Whether `value` is back in the good range by at least `margin` (relative) of the
    /// warning level — the hysteresis that ends an alert.
    pub fn recovered(&self, value: f64, margin: f64) -> bool {
        let m = self.warning.abs() * margin;
        if self.higher_is_worse {
            value < self.warning - m
        } else {
            value > self.warning + m
        }
    }
}

/// HealthThresholds per metric (canonical names). A resource; change it at run time.
///
/// ```
/// use rfm_perf::{HealthThresholds, HealthThreshold, Health};
/// let mut t = HealthThresholds::default();
/// assert_eq!(t.status("frame.time_ms", 40.0), Health::Critical);
/// t.set("render_time", HealthThreshold::above(50.0, 100.0)); // the short alias of frame.time_ms
/// assert_eq!(t.status("frame.time_ms", 40.0), Health::Ok);
/// assert_eq!(t.status("no.threshold", 1.0), Health::Unknown);
/// ```
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthThresholds {
    /// HealthThreshold per metric name.
    pub by_metric: BTreeMap<String, HealthThreshold>,
}

impl Default for HealthThresholds {
    /// 60 FPS targets: frame time 16.7 / 33.3 ms, FPS 55 / 30, 1 % low 45 / 20, process memory
    /// 2 / 4 GiB, CPU 85 / 95 %, GPU utilisation 90 / 98 %, I/O pressure 10 / 30 %.
    fn default() -> Self {
        let mut t = BTreeMap::new();
        t.insert(
            names::FRAME_TIME_MS.into(),
            HealthThreshold::above(1000.0 / 60.0, 1000.0 / 30.0),
        );
        t.insert(names::FRAME_FPS.into(), HealthThreshold::below(55.0, 30.0));
        t.insert(
            names::FRAME_FPS_1PCT_LOW.into(),
            HealthThreshold::below(45.0, 20.0),
        );
        t.insert(
            names::PROCESS_MEMORY_MB.into(),
            HealthThreshold::above(2048.0, 4096.0),
        );
        t.insert(
            names::SYSTEM_CPU_PCT.into(),
            HealthThreshold::above(85.0, 95.0),
        );
        t.insert(
            names::GPU_UTILIZATION_PCT.into(),
            HealthThreshold::above(90.0, 98.0),
        );
        t.insert(
            names::IO_PRESSURE_PCT.into(),
            HealthThreshold::above(10.0, 30.0),
        );
        Self { by_metric: t }
    }
}

impl HealthThresholds {
    /// Sets the threshold of `name` (aliases resolved).
    pub fn set(&mut self, name: &str, threshold: HealthThreshold) {
        self.by_metric
            .insert(names::resolve_alias(name).to_string(), threshold);
    }

    /// The threshold of `name` (aliases resolved).
    pub fn get(&self, name: &str) -> Option<&HealthThreshold> {
        self.by_metric.get(names::resolve_alias(name))
    }

    /// The status of `value` for metric `name`.
    pub fn status(&self, name: &str, value: f64) -> Health {
        self.get(name).map_or(Health::Unknown, |t| t.status(value))
    }
}
