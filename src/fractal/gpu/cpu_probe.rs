//! Where the GPU is a software rasterizer (its adapter is the CPU, as Mesa's lavapipe is), how
//! fast the CPU reference computes the current view: a small render of it every few seconds,
//! off the frame, into [`FRACTAL_CPU_ITERATIONS_PER_S`] — which the analysis sets beside the
//! GPU pass's own rate (on such a machine the CPU reference beats the pass in deep views).

use std::time::{Duration, Instant};

use bevy::prelude::*;
use rfm_perf_core::names::FRACTAL_CPU_ITERATIONS_PER_S;

use super::FractalSettings;
use crate::base::{BackgroundJob, GpuSummary, PerfTracker};
use crate::fractal::{FractalParams, cpu};

/// How often the view is probed.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// Width of the probe render in pixels (its height follows the render's aspect).
const PROBE_WIDTH: u32 = 64;

/// One probe: what the CPU reference computed and how long it took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Probe {
    /// Iterations really computed.
    pub(super) iterations: u64,
    /// Wall time (s).
    pub(super) seconds: f64,
    /// Whether it needed df64 (the view is deeper than f64 stays sharp at this size).
    pub(super) df64: bool,
}

impl Probe {
    /// Iterations per second.
    pub(super) fn rate(&self) -> f64 {
        self.iterations as f64 / self.seconds.max(1e-9)
    }
}

/// The CPU reference on `params` at `width × height`, in f64 while it stays sharp, else in
/// df64 (as the GPU pass switches to df64).
pub(super) fn probe(params: &FractalParams, width: u32, height: u32) -> Probe {
    let mag = params
        .view
        .center
        .0
        .abs()
        .max(params.view.center.1.abs())
        .max(1.0);
    let df64 = params.view.pixel_size(width) < 4.0 * mag * f64::EPSILON;
    let started = Instant::now();
    let image = if df64 {
        cpu::render_df64(params, width, height)
    } else {
        cpu::render(params, width, height)
    };
    Probe {
        iterations: image.computed_iterations,
        seconds: started.elapsed().as_secs_f64(),
        df64,
    }
}

/// Starts a probe every [`PROBE_INTERVAL`] while the adapter is the CPU.
pub(super) fn probe_cpu_reference(
    time: Res<Time<Real>>,
    settings: Res<FractalSettings>,
    info: Res<GpuSummary>,
    tracker: Res<PerfTracker>,
    mut job: Local<BackgroundJob>,
) {
    if info.device_type != "Cpu" || !job.due(&time, PROBE_INTERVAL) {
        return;
    }
    let size = settings.render_size();
    let height = (PROBE_WIDTH * size.y / size.x.max(1)).max(1);
    let params = settings.params;
    let tracker = tracker.0.clone();
    job.start(move || {
        tracker.track_metric(
            FRACTAL_CPU_ITERATIONS_PER_S,
            probe(&params, PROBE_WIDTH, height).rate(),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fractal::View;

    #[test]
    fn a_probe_counts_what_ran_in_the_arithmetic_the_depth_needs() {
        let shallow = FractalParams {
            max_iter: 200,
            ..Default::default()
        };
        let p = probe(&shallow, 32, 32);
        assert!(!p.df64);
        assert_eq!(
            p.iterations,
            cpu::render(&shallow, 32, 32).computed_iterations
        );
        assert!(p.seconds > 0.0 && p.rate().is_finite());
        // deeper than f64 stays sharp at 8 px: df64, counted the same way
        let deep = FractalParams {
            view: View {
                center: (-1.7499, 0.0),
                width: 1e-15,
            },
            max_iter: 100,
            ..Default::default()
        };
        let p = probe(&deep, 8, 8);
        assert!(p.df64);
        assert_eq!(
            p.iterations,
            cpu::render_df64(&deep, 8, 8).computed_iterations
        );
    }
}
