//! The frame-time breakdown: the mean frame over the scope window split into the GPU time of
//! each render pass, render encoding, the UI, other CPU systems and the rest.

use std::time::Duration;

use rfm_perf_core::{PerformanceTracker, ScopeStats, TimeRange, names};

use crate::base::insights::{
    CPU_SYSTEMS, GPU_PASS, GPU_PASS_PREFIX, OTHER_IDLE, RENDER_ENCODE, UI,
};
use crate::base::{FrameBreakdown, FrameShare, is_frame_structure, is_gpu_wait};

/// What the breakdown is computed from: scope statistics and the means of a few metrics over
/// the tracker's scope window.
///
/// ```
/// use rfm_perf::analysis::BreakdownInputs;
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.time_ms", 16.0);
/// let scopes = t.scope_stats();
/// let inputs = BreakdownInputs::gather(&t, &scopes);
/// assert_eq!(inputs.frame_ms, Some(16.0));
/// ```
#[derive(Clone, Debug, Default)]
pub struct BreakdownInputs<'a> {
    /// Statistics of every scope in the scope window.
    pub scopes: &'a [ScopeStats],
    /// Mean frame time (ms).
    pub frame_ms: Option<f64>,
    /// Mean GPU time of the fractal pass (ms).
    pub gpu_ms: Option<f64>,
    /// Mean CPU time encoding the fractal pass (ms).
    pub render_cpu_ms: Option<f64>,
    /// Mean dashboard build time (ms).
    pub ui_ms: Option<f64>,
    /// Mean GPU time of each top-level render pass Bevy's `RenderDiagnosticsPlugin` times
    /// (`render/<pass>/elapsed_gpu`; the fractal pass is `fractal`), when it does.
    pub gpu_passes: Vec<(String, f64)>,
}

impl<'a> BreakdownInputs<'a> {
    /// Reads the metric means over the tracker's scope window; `scopes` are its scope
    /// statistics (read once by the caller).
    pub fn gather(tracker: &PerformanceTracker, scopes: &'a [ScopeStats]) -> Self {
        let window = tracker.config().scope_window;
        Self {
            scopes,
            frame_ms: window_mean(tracker, names::FRAME_TIME_MS, window),
            gpu_ms: window_mean(tracker, names::RENDER_FRACTAL_GPU_MS, window),
            render_cpu_ms: window_mean(tracker, names::RENDER_FRACTAL_CPU_MS, window),
            ui_ms: window_mean(tracker, names::UI_DASHBOARD_MS, window),
            gpu_passes: tracker
                .metrics()
                .iter()
                .filter_map(|m| {
                    let pass = names::render_pass_of_gpu_time(&m.name)?;
                    let ms = window_mean(tracker, &m.name, window)?;
                    Some((pass.to_string(), ms))
                })
                .collect(),
        }
    }

    /// The mean frame split into its parts, in drawing order: the GPU time of each render pass
    /// (largest first; the fractal pass as [`GPU_PASS`], the others as `GPU <pass>`), or the
    /// fractal pass's own timing when Bevy times no pass; then the CPU. Scopes count with
    /// their self time per frame, by name: `render.*` → [`RENDER_ENCODE`], `ui.*` → [`UI`], others →
    /// [`CPU_SYSTEMS`] — except Bevy's structural spans (app update, schedules, sub-apps:
    /// [`is_frame_structure`]) and the waits for the GPU ([`is_gpu_wait`]), whose time is
    /// scheduling or the GPU's; the `render.fractal_cpu_ms` and `ui.dashboard_ms` metrics are added
    /// unless a scope of that name already counted them. [`OTHER_IDLE`] is the frame time
    /// minus the rest, at least 0.
    ///
    /// ```
    /// use rfm_perf::analysis::BreakdownInputs;
    /// use rfm_perf::insights::{GPU_PASS, OTHER_IDLE};
    /// let inputs = BreakdownInputs { frame_ms: Some(16.0), gpu_ms: Some(6.0), ..Default::default() };
    /// let parts = inputs.breakdown().shares;
    /// assert_eq!(parts[0].label, GPU_PASS);
    /// assert_eq!(parts.iter().find(|c| c.label == OTHER_IDLE).unwrap().ms, 10.0);
    /// ```
    pub fn breakdown(&self) -> FrameBreakdown {
        let (mut render, mut ui, mut cpu) = (0.0, 0.0, 0.0);
        let (mut render_scope, mut ui_scope) = (false, false);
        for s in self.scopes {
            let name = s.name.as_ref();
            let ms = s.per_frame_ms(s.self_ms);
            // Bevy's structural spans hold the work (their self time is scheduling and
            // waiting for worker threads); a wait for the GPU is the GPU's time, in its shares
            if name == names::RENDER_FRACTAL_GPU_MS || is_frame_structure(name) || is_gpu_wait(name)
            {
                continue;
            } else if name.starts_with("render.") {
                render += ms;
                render_scope |= name == names::RENDER_FRACTAL_CPU_MS;
            } else if name.starts_with("ui.") {
                ui += ms;
                ui_scope |= name == names::UI_DASHBOARD_MS;
            } else {
                cpu += ms;
            }
        }
        if !render_scope {
            render += positive(self.render_cpu_ms);
        }
        if !ui_scope {
            ui += positive(self.ui_ms);
        }
        let mut gpu: Vec<(std::borrow::Cow<'static, str>, f64)> = if self.gpu_passes.is_empty() {
            vec![(GPU_PASS.into(), positive(self.gpu_ms))]
        } else {
            let mut passes: Vec<_> = self
                .gpu_passes
                .iter()
                .map(|(pass, ms)| {
                    let label = if pass == "fractal" {
                        GPU_PASS.into()
                    } else {
                        format!("{GPU_PASS_PREFIX}{pass}").into()
                    };
                    (label, positive(Some(*ms)))
                })
                .collect();
            // the fractal pass times itself when Bevy's diagnostics have no span for it
            let own = positive(self.gpu_ms);
            if own > 0.0 && !self.gpu_passes.iter().any(|(pass, _)| pass == "fractal") {
                passes.push((GPU_PASS.into(), own));
            }
            passes.sort_by(|a, b| b.1.total_cmp(&a.1));
            passes
        };
        let known = gpu.iter().map(|g| g.1).sum::<f64>() + render + ui + cpu;
        let frame_ms = self.frame_ms.filter(|f| f.is_finite());
        let frame = frame_ms.unwrap_or(known);
        gpu.extend([
            (RENDER_ENCODE.into(), render),
            (UI.into(), ui),
            (CPU_SYSTEMS.into(), cpu),
            (OTHER_IDLE.into(), (frame - known).max(0.0)),
        ]);
        let shares = gpu
            .into_iter()
            .map(|(label, ms)| FrameShare { label, ms })
            .collect();
        FrameBreakdown { frame_ms, shares }
    }
}

/// Mean of `name` over the last `window`, if it has samples there.
fn window_mean(tracker: &PerformanceTracker, name: &str, window: Duration) -> Option<f64> {
    tracker
        .decimate(name, TimeRange::last(window), 1)
        .first()
        .map(|b| b.mean)
        .filter(|m| m.is_finite())
}

fn positive(v: Option<f64>) -> f64 {
    v.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(name: &str, calls: u64, cpf: f64, total: f64, self_ms: f64) -> ScopeStats {
        ScopeStats {
            name: name.into(),
            calls,
            calls_per_frame: cpf,
            total_ms: total,
            self_ms,
            mean_ms: total / calls.max(1) as f64,
            min_ms: 0.0,
            max_ms: 1.0,
            p50_ms: 0.5,
            p95_ms: 1.0,
            p99_ms: 1.0,
            frame_pct: total / 10.0,
        }
    }

    #[test]
    fn breakdown_splits_the_frame_by_scope_prefix_and_metric() {
        // 10 frames in the window: per frame physics self 4, render 2, ai 3, ui 1
        let scopes = vec![
            stat("physics", 10, 1.0, 50.0, 40.0),
            stat("render.encode", 10, 1.0, 20.0, 20.0),
            stat("ai", 400, 40.0, 30.0, 30.0),
            stat("ui.dashboard", 10, 1.0, 10.0, 10.0),
            // Bevy's frame structure and the wait for the GPU are not CPU work
            stat("schedule: Update", 10, 1.0, 60.0, 9.0),
            stat("update", 10, 1.0, 150.0, 2.0),
            stat(crate::base::GPU_WAIT_SCOPE, 10, 1.0, 30.0, 30.0),
        ];
        let inputs = BreakdownInputs {
            scopes: &scopes,
            frame_ms: Some(16.0),
            gpu_ms: Some(3.0),
            render_cpu_ms: Some(0.5),
            ui_ms: Some(0.25),
            gpu_passes: Vec::new(),
        };
        let parts = inputs.breakdown().shares;
        let ms = |label: &str| parts.iter().find(|c| c.label == label).map(|c| c.ms);
        assert_eq!(ms(GPU_PASS), Some(3.0));
        assert_eq!(ms(RENDER_ENCODE), Some(2.5));
        assert_eq!(ms(UI), Some(1.25));
        assert_eq!(ms(CPU_SYSTEMS), Some(4.0 + 3.0));
        assert_eq!(ms(OTHER_IDLE), Some(16.0 - 3.0 - 2.5 - 1.25 - 7.0));
        // more work than frame: other/idle is clamped at zero
        let busy = BreakdownInputs {
            frame_ms: Some(5.0),
            ..inputs.clone()
        };
        assert_eq!(busy.breakdown().shares[4].ms, 0.0);
        // a scope named like the metric is not counted twice
        let mut with_metric_scope = scopes.clone();
        with_metric_scope.push(stat(names::UI_DASHBOARD_MS, 10, 1.0, 5.0, 5.0));
        let scoped = BreakdownInputs {
            scopes: &with_metric_scope,
            ..inputs.clone()
        };
        assert_eq!(scoped.breakdown().shares[2].ms, 1.5);
        // Bevy times the passes: one share each, largest first, the fractal's own timing not
        // counted twice
        let timed = BreakdownInputs {
            gpu_passes: vec![
                ("main_transparent_pass_2d".into(), 1.0),
                ("fractal".into(), 3.0),
                ("upscaling".into(), 0.5),
            ],
            ..inputs.clone()
        };
        let parts = timed.breakdown().shares;
        let labels: Vec<&str> = parts.iter().map(|c| c.label.as_ref()).collect();
        assert_eq!(
            labels[..3],
            [GPU_PASS, "GPU main_transparent_pass_2d", "GPU upscaling"]
        );
        assert_eq!(parts.last().unwrap().ms, 16.0 - 4.5 - 2.5 - 1.25 - 7.0);
        // no span for the fractal pass: its own timing (3 ms) joins Bevy's passes
        let own = BreakdownInputs {
            gpu_passes: vec![("main_transparent_pass_2d".into(), 1.0)],
            ..inputs.clone()
        };
        let parts = own.breakdown().shares;
        assert_eq!(parts[0].label, GPU_PASS);
        assert_eq!(parts[0].ms, 3.0);
        assert_eq!(parts[1].label, "GPU main_transparent_pass_2d");
        // nothing known: all zero, no NaN
        assert!(
            BreakdownInputs::default()
                .breakdown()
                .shares
                .iter()
                .all(|c| c.ms == 0.0)
        );
    }
}
