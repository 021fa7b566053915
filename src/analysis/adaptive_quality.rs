//! Adaptive quality in the app: while [`AdaptiveQuality`] is enabled, every frame's time goes
//! to a [`QualityController`] that steps the `*.resolution_scale`, `*.max_iter` and
//! `*.interior_check` tunables, choosing each step with the cost model.

use bevy::prelude::*;
use rfm_perf_core::adaptive_quality::{
    ControllerConfig, QualityBounds, QualityController, QualitySetting,
};
use rfm_perf_core::cost_model::PassParams;

use super::cost_model::CostModel;
use crate::base::tunables::{name_ends_with, scaled_pixels};
use crate::base::{AdaptiveQuality, Tunables};

/// The tunables the controller steers, by the end of their names.
const SCALE: &str = "resolution_scale";
const MAX_ITER: &str = "max_iter";
const CHECK: &str = "interior_check";

/// The controller and what it was built for (rebuilt when the target or bounds change).
#[derive(Default)]
pub(super) struct Steering {
    controller: Option<(ControllerKey, QualityController)>,
    /// Timed frames the cost model had learnt at the previous frame.
    timed_frames: u64,
}

#[derive(Clone, Copy, PartialEq, Debug)]
struct ControllerKey {
    target_fps: f64,
    min_scale: f64,
    min_iter: u32,
    checks: bool,
}

/// The tunable ending in `.{suffix}`: its position in the registry, value and range.
fn find(tunables: &Tunables, suffix: &str) -> Option<(usize, f64, f64, f64)> {
    tunables
        .iter()
        .enumerate()
        .find(|(_, t)| name_ends_with(&t.name, suffix))
        .map(|(i, t)| (i, t.value(), *t.range.start(), *t.range.end()))
}

/// One frame of steering (see the module documentation).
pub(super) fn adapt_quality(
    time: Res<'_, Time<Real>>,
    mut adaptive: ResMut<'_, AdaptiveQuality>,
    mut tunables: ResMut<'_, Tunables>,
    cost: Res<'_, CostModel>,
    mut steering: Local<'_, Steering>,
) {
    if !adaptive.enabled {
        if adaptive.status.active || steering.controller.is_some() {
            steering.controller = None;
            adaptive.status.active = false;
            adaptive.status.message = "off".into();
        }
        return;
    }
    let scale = find(&tunables, SCALE);
    let iters = find(&tunables, MAX_ITER);
    let check = find(&tunables, CHECK);
    if scale.is_none() && iters.is_none() {
        let message = "no tunable to steer: the app registers no *.resolution_scale or *.max_iter";
        if adaptive.status.message != message {
            adaptive.status.active = false;
            adaptive.status.message = message.into();
        }
        return;
    }
    let current = QualitySetting {
        resolution_scale: scale.map_or(1.0, |s| s.1),
        max_iter: iters.map_or(1, |i| i.1.round().max(1.0) as u32),
        interior_check: check.is_some_and(|c| c.1 >= 0.5),
    };
    let key = ControllerKey {
        target_fps: adaptive.target_fps,
        min_scale: adaptive.min_resolution_scale,
        min_iter: adaptive.min_max_iter,
        checks: adaptive.allow_interior_check && check.is_some(),
    };
    if steering.controller.as_ref().is_none_or(|(k, _)| *k != key) {
        // the highest quality is what the tunables are set to now; the lowest, the settings'
        // bounds within each tunable's own range
        let bounds = QualityBounds {
            resolution_scale: scale.map_or((1.0, 1.0), |(_, v, lo, _)| {
                (key.min_scale.max(lo).min(v), v)
            }),
            max_iter: iters.map_or((1, 1), |(_, v, lo, _)| {
                let v = v.round().max(1.0);
                (f64::from(key.min_iter).max(lo).min(v) as u32, v as u32)
            }),
            interior_check: key.checks,
        };
        let controller =
            QualityController::new(ControllerConfig::for_fps(key.target_fps.max(1.0), bounds));
        adaptive.status.active = true;
        adaptive.status.budget_ms = controller.config().budget_ms;
        adaptive.status.steps.clear();
        adaptive.status.reversals = 0;
        adaptive.status.message = holding(&controller);
        steering.controller = Some((key, controller));
    }
    let model = cost.model();
    // while the pass renders nothing (a pipeline compiling: no GPU timing arrives), frames are
    // cheap for a reason no setting changes: they do not count (where the pass is timed)
    let timed = model.observations();
    let stalled = timed > 0 && timed == steering.timed_frames;
    steering.timed_frames = timed;
    if stalled {
        return;
    }
    let Some((_, controller)) = steering.controller.as_mut() else {
        return;
    };
    let frame_ms = time.delta_secs_f64() * 1000.0;
    let latest = model.latest_params();
    let predict = |q: &QualitySetting| -> Option<f64> {
        let latest = latest?;
        let params = PassParams {
            pixels: scaled_pixels(latest.pixels, current.resolution_scale, q.resolution_scale),
            max_iter: q.max_iter,
            arithmetic: latest.arithmetic.clone(),
            interior_check: q.interior_check,
        };
        // the pass's GPU time: the controller scales the measured frame by its ratio between
        // two settings (a frame the GPU does not dominate moves less: steps err cautious)
        model.predict(&params).ok().map(|p| p.gpu_ms)
    };
    let now = time.elapsed_secs_f64();
    let pass_ms = cost.latest().map(|s| s.gpu_ms);
    let next = controller.on_frame(now, frame_ms, pass_ms, &current, predict);
    let out_of_reach = adaptive.status.message.starts_with("out of reach");
    match controller.unreachable_ms() {
        Some(lowest) if !out_of_reach => {
            adaptive.status.message = format!(
                "out of reach: even at {} a frame would take {lowest:.1} ms of the {:.1} ms budget — the frame's other work is the bottleneck, so the image is kept",
                describe(controller.ladder().last().unwrap_or(&current)),
                controller.config().budget_ms
            );
        }
        None if out_of_reach => adaptive.status.message = holding(controller),
        _ => {}
    }
    let Some(next) = next else {
        return;
    };
    for (t, value, was) in [
        (scale, next.resolution_scale, current.resolution_scale),
        (iters, f64::from(next.max_iter), f64::from(current.max_iter)),
        (
            check,
            if next.interior_check { 1.0 } else { 0.0 },
            if current.interior_check { 1.0 } else { 0.0 },
        ),
    ] {
        let Some((i, ..)) = t.filter(|_| (value - was).abs() > 1e-9) else {
            continue;
        };
        let name = tunables.iter().nth(i).map(|t| t.name.clone());
        if let Some(name) = name
            && let Err(e) = tunables.set(&name, value)
        {
            warn!("rfm_perf: adaptive quality could not set {name}: {e}");
        }
    }
    let status = &mut adaptive.status;
    status.steps = controller.steps().to_vec();
    status.reversals = controller.reversals();
    status.level = controller.level().map(|l| (l, controller.ladder().len()));
    if let Some(step) = controller.steps().last() {
        info!(
            "rfm_perf: adaptive quality {:?}: {} -> {} (median frame {:.1} ms, predicted {:.1} ms, budget {:.1} ms)",
            step.direction,
            describe(&step.from),
            describe(&step.to),
            step.measured_ms,
            step.predicted_ms,
            status.budget_ms
        );
    }
}

/// What the controller does, for people.
fn holding(controller: &QualityController) -> String {
    let config = controller.config();
    let ladder = controller.ladder();
    format!(
        "holding {:.0} FPS ({:.1} ms, aiming at {:.1} ms) between {} and {}",
        1000.0 / config.budget_ms,
        config.budget_ms,
        config.aim_ms(),
        ladder.first().map_or(String::new(), describe),
        ladder.last().map_or(String::new(), describe),
    )
}

fn describe(q: &QualitySetting) -> String {
    format!(
        "scale {:.2}, {} iterations{}",
        q.resolution_scale,
        q.max_iter,
        if q.interior_check { ", checks on" } else { "" }
    )
}
