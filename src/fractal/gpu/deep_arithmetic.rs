//! [`DeepArithmetic`]: which of df64 and perturbation [`PrecisionMode::Auto`] uses between
//! f32's limit and df64's, chosen from the last frame's interior share.

use bevy::prelude::*;

use super::{FractalFrameStats, FractalSettings, PrecisionMode};

/// How many times the f32-delta perturbation pass runs the df64 pass's iterations per second
/// (lavapipe, 1e-10 seahorse valley, 256², checks off: 897 vs 214 M it/s; BENCHMARKS.md).
/// GPUs with fast f32 and slow emulated doubles widen the gap, so the rule below errs towards
/// df64 there.
pub const PERTURBATION_SPEEDUP: f64 = 4.2;

/// Which arithmetic [`PrecisionMode::Auto`] uses where f32 blurs and df64 is still sharp.
///
/// Perturbation with f32 deltas is [`PERTURBATION_SPEEDUP`]× faster per iteration, but its
/// interior check is the cardioid/bulb test alone: a pixel inside a minibrot or a component off
/// the main cardioid runs to the limit, where df64's periodicity check stops it after a few
/// periods. So with the interior checks on, the pass weighs the last frame's work (its share of
/// non-escaping pixels does not depend on the arithmetic) and keeps perturbation while
/// `work with every interior pixel at the limit / work of the escaping pixels` stays below
/// the speedup; it returns from df64 once that ratio falls under half the speedup, so a view near
/// the boundary does not flip between the two.
///
/// ```
/// use rfm_perf::fractal::gpu::{DeepArithmetic, FractalFrameStats};
/// // 1000 escaping pixels at 100 iterations, 10 interior at a limit of 2000: ratio 1.2
/// let stats = FractalFrameStats { iterations: 120_000, escaped: 1000, pixels: 1010, max_iter: 2000, ..Default::default() };
/// assert_eq!(DeepArithmetic::Perturbation.next(&stats, true), DeepArithmetic::Perturbation);
/// // 1000 interior pixels instead: ratio 21, df64's periodicity check wins
/// let inside = FractalFrameStats { iterations: 2_100_000, escaped: 1000, pixels: 2000, max_iter: 2000, ..Default::default() };
/// assert_eq!(DeepArithmetic::Perturbation.next(&inside, true), DeepArithmetic::Df64);
/// // without the interior checks df64 iterates the interior too: perturbation always
/// assert_eq!(DeepArithmetic::Df64.next(&inside, false), DeepArithmetic::Perturbation);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeepArithmetic {
    /// Perturbation with f32 deltas (the default: most deep views are mostly escaping).
    #[default]
    Perturbation,
    /// df64, for views where much of the frame is interior.
    Df64,
}

impl DeepArithmetic {
    /// The choice after a frame with these totals, from `self` (the current choice).
    pub fn next(self, stats: &FractalFrameStats, interior_check: bool) -> Self {
        if !interior_check {
            return Self::Perturbation;
        }
        if stats.pixels == 0 {
            return self;
        }
        let interior = stats.pixels.saturating_sub(stats.escaped);
        let interior_work = interior as f64 * f64::from(stats.max_iter);
        let escaping_work = (stats.iterations as f64 - interior_work).max(1.0);
        let ratio = (escaping_work + interior_work) / escaping_work;
        match self {
            Self::Perturbation if ratio > PERTURBATION_SPEEDUP => Self::Df64,
            Self::Df64 if ratio < PERTURBATION_SPEEDUP / 2.0 => Self::Perturbation,
            same => same,
        }
    }
}

/// After each frame read back, updates [`FractalSettings::deep_arithmetic`] (only when the
/// choice changes, so an unchanged choice starts no new generation).
pub(super) fn choose_deep_arithmetic(
    stats: Res<FractalFrameStats>,
    mut settings: ResMut<FractalSettings>,
) {
    if !stats.is_changed() || settings.precision != PrecisionMode::Auto {
        return;
    }
    let next = settings
        .deep_arithmetic
        .next(&stats, settings.interior_check);
    if next != settings.deep_arithmetic {
        settings.deep_arithmetic = next;
    }
}
