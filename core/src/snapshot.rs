//! Immutable snapshots of current values, published at the update interval for readers
//! (dashboard, API) that must never hold up the recorders.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::metric::MetricInfo;

/// The newest value of one metric in a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotValue {
    /// The metric's metadata.
    pub info: MetricInfo,
    /// Its newest value.
    pub value: f64,
    /// When that value was recorded.
    pub at: SystemTime,
}

/// Newest values of every metric with samples, as of one moment.
///
/// ```
/// let s = rfm_perf_core::Snapshot::default();
/// assert_eq!(s.value("frame.fps"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When it was taken.
    pub taken_at: SystemTime,
    /// Frames collected when it was taken.
    pub frame: u64,
    /// Values, in metric registration order.
    pub values: Vec<SnapshotValue>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            taken_at: SystemTime::UNIX_EPOCH,
            frame: 0,
            values: Vec::new(),
        }
    }
}

impl Snapshot {
    /// The value of `name` (aliases resolved) in this snapshot.
    pub fn value(&self, name: &str) -> Option<f64> {
        let name = crate::names::resolve_alias(name);
        self.values
            .iter()
            .find(|v| v.info.name.as_ref() == name)
            .map(|v| v.value)
    }
}
