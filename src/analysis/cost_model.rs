//! The cost model in the app: every timed frame of a pass that publishes its
//! [`PassCost`](crate::PassCost) is first predicted from the frames before it, then learnt
//! (see [`rfm_perf_core::cost_model`]); the analysis publishes the model for what-if
//! questions ([`CostModelState`](crate::CostModelState)).

use std::collections::VecDeque;

use bevy::prelude::*;
use rfm_perf_core::cost_model::{PassCostModel, PassObservation, PrequentialScore};
use rfm_perf_core::names;
use serde::Serialize;

use crate::base::{PassCost, PassTimed, PerfTracker};

/// Scored frames kept for reports.
pub const SCORED_FRAMES_KEPT: usize = 4096;

/// One timed frame: what was measured and what the model had predicted for it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScoredFrame {
    /// Generation of the frame's parameters.
    pub generation: u32,
    /// Measured GPU time of the pass (ms).
    pub gpu_ms: f64,
    /// What the model predicted from the frames before (ms), when it could.
    pub predicted_ms: Option<f64>,
    /// The prediction interval's ends (ms).
    pub low_ms: Option<f64>,
    /// The prediction interval's ends (ms).
    pub high_ms: Option<f64>,
}

/// The app's cost model (a resource): the model and its recent scored frames.
///
/// ```
/// let m = rfm_perf::analysis::CostModel::default();
/// assert_eq!(m.score().observed, 0);
/// ```
#[derive(Resource, Clone, Debug, Default)]
pub struct CostModel {
    model: PassCostModel,
    scored: VecDeque<ScoredFrame>,
    unmatched: u64,
}

impl CostModel {
    /// The model.
    pub fn model(&self) -> &PassCostModel {
        &self.model
    }

    /// The prequential score so far.
    pub fn score(&self) -> PrequentialScore {
        self.model.score()
    }

    /// The newest scored frames (at most [`SCORED_FRAMES_KEPT`]), oldest first.
    pub fn scored(&self) -> impl Iterator<Item = &ScoredFrame> {
        self.scored.iter()
    }

    /// The newest scored frame.
    pub fn latest(&self) -> Option<&ScoredFrame> {
        self.scored.back()
    }

    /// Timings that arrived without their frame's [`PassCost`] (not learnt).
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }

    /// Scores and learns one timed frame.
    pub fn observe(&mut self, observation: &PassObservation, generation: u32) {
        let predicted = self.model.observe(observation);
        if self.scored.len() == SCORED_FRAMES_KEPT {
            self.scored.pop_front();
        }
        self.scored.push_back(ScoredFrame {
            generation,
            gpu_ms: observation.gpu_ms,
            predicted_ms: predicted.as_ref().map(|p| p.gpu_ms),
            low_ms: predicted.as_ref().and_then(|p| p.gpu_ms_low),
            high_ms: predicted.as_ref().and_then(|p| p.gpu_ms_high),
        });
    }
}

/// Pairs each [`PassTimed`] with the [`PassCost`] of the same generation and learns it, every
/// frame (a few hundred floating-point operations).
pub(super) fn learn_pass_cost(
    mut timed: MessageReader<'_, '_, PassTimed>,
    cost: Option<Res<'_, PassCost>>,
    tracker: Res<'_, PerfTracker>,
    mut model: ResMut<'_, CostModel>,
) {
    let Some(cost) = cost else {
        timed.clear();
        return;
    };
    for t in timed.read() {
        if t.generation != cost.generation || cost.pixels == 0 {
            model.unmatched += 1;
            continue;
        }
        let observation = PassObservation {
            params: cost.params(),
            work: cost.work_profile(),
            gpu_ms: t.gpu_ms,
            frame_ms: tracker.latest_sample(names::FRAME_TIME_MS).map(|(_, v)| v),
        };
        model.observe(&observation, t.generation);
    }
}
