//! When interval jobs (snapshot, analysis, the API's state) are due.

use std::time::Duration;

use bevy::prelude::{Real, Time};

/// Whether a job that runs every `interval` is due this frame (and marks it done). Never on the
/// first frame, which has no frame time yet.
pub(crate) fn update_due(
    time: &Time<Real>,
    last: &mut Option<Duration>,
    interval: Duration,
) -> bool {
    let now = time.elapsed();
    if time.delta().is_zero() || last.is_some_and(|l| now.saturating_sub(l) < interval) {
        return false;
    }
    *last = Some(now);
    true
}
