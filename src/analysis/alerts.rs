//! Alerts: a metric past its warning or critical level raises one; it ends once the value is
//! back in the good range by a hysteresis margin, so a value hovering at the level never
//! raises a storm.

use std::time::SystemTime;

use rfm_perf_core::Snapshot;

use crate::base::{Alert, Health, HealthThresholds, Insights};

/// Relative margin past the warning level a value must reach before its alert ends.
pub const ALERT_HYSTERESIS: f64 = 0.05;
/// Raised alerts kept for the alert log.
pub const ALERT_LOG_LEN: usize = 50;

/// What one [`Insights::update_alerts`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertChanges {
    /// Alerts raised by this update.
    pub raised: Vec<Alert>,
    /// Alerts that ended: `(metric, raised_unix_s)`.
    pub cleared: Vec<(String, f64)>,
}

/// What an alert says: the value now and the level it is past now.
fn describe(name: &str, value: f64, unit: &str, status: Health, level: f64) -> String {
    format!(
        "{name} is {value:.2} {unit}, past its {} level {level:.2}",
        status.as_str()
    )
}

fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Insights {
    /// Updates alerts from `snapshot`: raises one when a metric reaches its warning level (and
    /// again when it escalates to critical), ends it only once the value is back past the
    /// level by [`ALERT_HYSTERESIS`] (no storms). An active alert's status, level and message
    /// follow the value (never below warning while it lasts). Returns what was raised and what
    /// ended (the plugin sends them as messages).
    ///
    /// ```
    /// use rfm_perf::{HealthThresholds, Insights};
    /// let t = rfm_perf::PerformanceTracker::new();
    /// let mut ins = Insights::default();
    /// t.track_metric("frame.time_ms", 40.0);
    /// let raised = ins.update_alerts(&t.publish_snapshot(), &HealthThresholds::default()).raised;
    /// assert_eq!((ins.alerts.len(), raised.len()), (1, 1));
    /// t.track_metric("frame.time_ms", 16.5); // below 16.7 but inside the hysteresis band
    /// ins.update_alerts(&t.publish_snapshot(), &HealthThresholds::default());
    /// assert_eq!(ins.alerts.len(), 1);
    /// t.track_metric("frame.time_ms", 10.0);
    /// let cleared = ins.update_alerts(&t.publish_snapshot(), &HealthThresholds::default()).cleared;
    /// assert!(ins.alerts.is_empty());
    /// assert_eq!(cleared[0].0, "frame.time_ms");
    /// assert_eq!(ins.log.len(), 1);
    /// // escalation: the message says the current value and level
    /// t.track_metric("frame.time_ms", 20.0);
    /// ins.update_alerts(&t.publish_snapshot(), &HealthThresholds::default());
    /// t.track_metric("frame.time_ms", 420.0);
    /// let raised = ins.update_alerts(&t.publish_snapshot(), &HealthThresholds::default()).raised;
    /// assert_eq!(raised.len(), 1);
    /// assert_eq!(ins.alerts[0].message, "frame.time_ms is 420.00 ms, past its critical level 33.33");
    /// ```
    pub fn update_alerts(
        &mut self,
        snapshot: &Snapshot,
        thresholds: &HealthThresholds,
    ) -> AlertChanges {
        let mut changes = AlertChanges::default();
        let now = unix_s(SystemTime::now());
        for v in &snapshot.values {
            let name = v.info.name.as_ref();
            let Some(th) = thresholds.get(name) else {
                continue;
            };
            let status = th.status(v.value);
            let unit = v.info.unit.symbol();
            match self.alerts.iter_mut().find(|a| a.metric == name) {
                Some(a) => {
                    if th.recovered(v.value, ALERT_HYSTERESIS) {
                        a.active = false;
                        changes.cleared.push((a.metric.clone(), a.raised_unix_s));
                        continue;
                    }
                    let escalated = status > a.status;
                    a.value = v.value;
                    a.status = status.max(Health::Warning);
                    a.threshold = if a.status == Health::Critical {
                        th.critical
                    } else {
                        th.warning
                    };
                    a.message = describe(name, v.value, unit, a.status, a.threshold);
                    if escalated {
                        changes.raised.push(a.clone());
                        self.log.push_back(a.clone());
                        while self.log.len() > ALERT_LOG_LEN {
                            self.log.pop_front();
                        }
                    }
                }
                None if status >= Health::Warning => {
                    let level = if status == Health::Critical {
                        th.critical
                    } else {
                        th.warning
                    };
                    let alert = Alert {
                        metric: name.to_string(),
                        status,
                        value: v.value,
                        threshold: level,
                        raised_unix_s: now,
                        active: true,
                        message: describe(name, v.value, unit, status, level),
                    };
                    changes.raised.push(alert.clone());
                    self.log.push_back(alert.clone());
                    while self.log.len() > ALERT_LOG_LEN {
                        self.log.pop_front();
                    }
                    self.alerts.push(alert);
                }
                None => {}
            }
        }
        self.alerts.retain(|a| a.active);
        changes
    }
}
