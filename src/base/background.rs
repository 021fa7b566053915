//! Work a plugin runs off the frame now and then (the analysis' scans, the fractal pass's CPU
//! probe): on Bevy's async compute pool (inline in apps without task pools), one run at a time
//! — a run still going skips the next.

use std::time::Duration;

use bevy::prelude::*;
use bevy::tasks::{AsyncComputeTaskPool, Task};

use super::update_due;

/// One background job's state (a system's `Local`).
#[derive(Default)]
pub(crate) struct BackgroundJob {
    running: Option<Task<()>>,
    last: Option<Duration>,
}

impl BackgroundJob {
    /// Whether a new run is due: the last one finished and the interval has passed.
    pub(crate) fn due(&mut self, time: &Time<Real>, interval: Duration) -> bool {
        if self.running.as_ref().is_some_and(|t| !t.is_finished()) {
            return false;
        }
        update_due(time, &mut self.last, interval)
    }

    /// Starts `job` off the frame.
    pub(crate) fn start(&mut self, job: impl FnOnce() + Send + 'static) {
        match AsyncComputeTaskPool::try_get() {
            Some(pool) => self.running = Some(pool.spawn(async move { job() })),
            None => job(),
        }
    }
}
