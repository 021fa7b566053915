//! Adaptive quality: a controller that holds a frame-time budget by stepping a render's
//! resolution scale and iteration limit along a quality ladder, with a cost predictor choosing
//! the step.
//!
//! As dynamic-resolution systems do (Unreal's, Unity's): aim 10 % under the budget, ignore
//! errors inside a 2 % dead band, wait at least 8 frames between changes, go down fast (the
//! first step jumps straight to the level the predictor says fits) and up slowly (after a longer
//! wait, one level — up to three while they are predicted 25 % under the aim —, only when the
//! predictor says it fits 10 % under the aim — 25 % when the step turns round from going down,
//! 15 % within 10 s of such a turn —, not while frame times rise, and not as a second reversal
//! of direction within 10 s). The
//! frame's other work, which no setting changes, is not expected to shrink; where even the
//! lowest quality cannot reach the budget it holds the image instead of giving it away.
//!
//! ```
//! use rfm_perf_core::adaptive_quality::{ControllerConfig, QualityBounds, QualityController, QualitySetting};
//! let bounds = QualityBounds { resolution_scale: (0.25, 1.0), max_iter: (100, 1000), interior_check: true };
//! let mut c = QualityController::new(ControllerConfig::for_fps(30.0, bounds));
//! // a frame costs 100 ms per unit of resolution scale squared: 1.0 is far over 33 ms
//! let cost = |q: &QualitySetting| Some(100.0 * q.resolution_scale * q.resolution_scale);
//! let mut q = QualitySetting { resolution_scale: 1.0, max_iter: 1000, interior_check: true };
//! for frame in 0..40 {
//!     if let Some(next) = c.on_frame(frame as f64 / 30.0, cost(&q).unwrap(), None, &q, cost) {
//!         q = next;
//!     }
//! }
//! assert!(cost(&q).unwrap() <= 33.4, "{q:?}");
//! assert!(cost(&q).unwrap() >= 0.6 * 33.3, "{q:?}");
//! assert_eq!(c.steps()[0].measured_ms, 100.0);
//! ```

use serde::{Deserialize, Serialize};

/// What the controller changes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualitySetting {
    /// Render size relative to the output.
    pub resolution_scale: f64,
    /// Iteration limit.
    pub max_iter: u32,
    /// Interior checks (no quality cost: the controller turns them on when allowed).
    pub interior_check: bool,
}

/// The range the controller may use: the user's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityBounds {
    /// Lowest and highest resolution scale.
    pub resolution_scale: (f64, f64),
    /// Lowest and highest iteration limit.
    pub max_iter: (u32, u32),
    /// Whether it may turn the interior checks on.
    pub interior_check: bool,
}

/// The controller's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControllerConfig {
    /// The frame-time budget (ms).
    pub budget_ms: f64,
    /// Share of the budget kept free (0.1: aim at 90 %).
    pub headroom: f64,
    /// Relative error around the aim that causes no change (0.02).
    pub dead_band: f64,
    /// Frames between any two changes (8).
    pub min_frames_between: u32,
    /// Frames after a change before a step up (24).
    pub up_wait_frames: u32,
    /// Seconds a reversal of direction blocks a step up that would reverse again (10).
    pub reversal_gap_s: f64,
    /// Resolution-scale step of the ladder (0.05).
    pub scale_step: f64,
    /// Iteration-limit factor per ladder level (0.85).
    pub iter_factor: f64,
    /// The bounds.
    pub bounds: QualityBounds,
}

impl ControllerConfig {
    /// The defaults for a target frame rate.
    pub fn for_fps(fps: f64, bounds: QualityBounds) -> Self {
        Self {
            budget_ms: 1000.0 / fps.max(1e-3),
            headroom: 0.1,
            dead_band: 0.02,
            min_frames_between: 8,
            up_wait_frames: 24,
            reversal_gap_s: 10.0,
            scale_step: 0.05,
            iter_factor: 0.85,
            bounds,
        }
    }

    /// The frame time the controller steers to: the budget less the headroom.
    pub fn aim_ms(&self) -> f64 {
        self.budget_ms * (1.0 - self.headroom)
    }
}

/// Which way a step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepDirection {
    /// Lower quality (over budget).
    Down,
    /// Higher quality (room to spare).
    Up,
}

/// One change the controller made.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityStep {
    /// When (the clock the caller passes, seconds).
    pub at_s: f64,
    /// Which way.
    pub direction: StepDirection,
    /// From.
    pub from: QualitySetting,
    /// To.
    pub to: QualitySetting,
    /// The median frame time of the newest five frames that caused it (ms).
    pub measured_ms: f64,
    /// The frame time predicted for the new setting (ms).
    pub predicted_ms: f64,
}

/// A step up goes to the next level only when it is predicted under this share of the aim.
const UP_NEXT: f64 = 0.9;
/// Within the reversal gap after turning round, a step up needs its level predicted under this
/// share of the aim.
const UP_AFTER_TURN: f64 = 0.85;
/// A step up that turns round from going down, or goes past the next level, only to levels
/// predicted under this share of the aim.
const UP_REACH: f64 = 0.75;

/// Levels one step up climbs at most.
const UP_LEVELS: usize = 3;

/// Steps kept in [`QualityController::steps`].
const STEPS_KEPT: usize = 256;
/// Frame times kept since the last change.
const RECENT: usize = 16;

/// The controller: see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct QualityController {
    config: ControllerConfig,
    ladder: Vec<QualitySetting>,
    level: Option<usize>,
    frames_since_change: u32,
    recent: Vec<f64>,
    last_direction: Option<StepDirection>,
    last_reversal_s: Option<f64>,
    reversals: u32,
    steps: Vec<QualityStep>,
    /// The pass times beside `recent` (NaN where not measured).
    recent_pass: Vec<f64>,
    /// Set while the budget is out of reach: the frame time predicted at the lowest quality.
    unreachable_ms: Option<f64>,
}

impl QualityController {
    /// A controller for `config` (its quality ladder: the resolution scale from the highest
    /// bound down in steps, then the iteration limit down by a factor per level).
    pub fn new(config: ControllerConfig) -> Self {
        let b = config.bounds;
        let (lo_s, hi_s) = (
            b.resolution_scale.0.min(b.resolution_scale.1),
            b.resolution_scale.0.max(b.resolution_scale.1),
        );
        let (lo_i, hi_i) = (
            b.max_iter.0.min(b.max_iter.1).max(1),
            b.max_iter.0.max(b.max_iter.1).max(1),
        );
        let step = config.scale_step.max(1e-3);
        let mut ladder = Vec::new();
        let mut s = hi_s;
        while s > lo_s + 1e-9 {
            ladder.push((s, hi_i));
            s = ((s - step) / step).round() * step;
        }
        ladder.push((lo_s, hi_i));
        let mut it = f64::from(hi_i);
        let factor = config.iter_factor.clamp(0.1, 0.99);
        while (it * factor).round() > f64::from(lo_i) {
            it = (it * factor).round();
            ladder.push((lo_s, it as u32));
        }
        if lo_i < hi_i {
            ladder.push((lo_s, lo_i));
        }
        let ladder = ladder
            .into_iter()
            .map(|(resolution_scale, max_iter)| QualitySetting {
                resolution_scale,
                max_iter,
                interior_check: b.interior_check,
            })
            .collect();
        Self {
            config,
            ladder,
            level: None,
            frames_since_change: 0,
            recent: Vec::with_capacity(RECENT),
            last_direction: None,
            last_reversal_s: None,
            reversals: 0,
            steps: Vec::new(),
            recent_pass: Vec::with_capacity(RECENT),
            unreachable_ms: None,
        }
    }

    /// While the budget is out of reach even at the lowest quality (the frame's other work
    /// alone exceeds it): the frame time predicted there. The controller then holds instead of
    /// giving the image away for nothing.
    pub fn unreachable_ms(&self) -> Option<f64> {
        self.unreachable_ms
    }

    /// Its settings.
    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// The quality ladder, highest first.
    pub fn ladder(&self) -> &[QualitySetting] {
        &self.ladder
    }

    /// The ladder level in use (0 = highest), once known.
    pub fn level(&self) -> Option<usize> {
        self.level
    }

    /// The steps so far (the newest 256), oldest first.
    pub fn steps(&self) -> &[QualityStep] {
        &self.steps
    }

    /// Reversals of direction so far.
    pub fn reversals(&self) -> u32 {
        self.reversals
    }

    /// The highest level no better than `q` in both resolution and iterations.
    fn level_of(&self, q: &QualitySetting) -> usize {
        self.ladder
            .iter()
            .position(|l| {
                l.resolution_scale <= q.resolution_scale + 1e-6 && l.max_iter <= q.max_iter
            })
            .unwrap_or(self.ladder.len() - 1)
    }

    /// One frame: its time `frame_ms`, the time of the render pass the settings drive within
    /// it (`pass_ms`, when measured), the setting it ran with, and a predictor of a setting's
    /// pass time (ms; e.g. a cost model). Returns the setting to apply, when it changes.
    ///
    /// A setting's frame time is estimated as the frame less the pass plus the pass scaled by
    /// the predictor's ratio between the two settings — so a biased predictor still steps
    /// right, and the frame's other work (which no setting changes) is not expected to shrink.
    /// Without `pass_ms` the whole frame scales; without a prediction, time is taken as
    /// proportional to pixels × iterations.
    pub fn on_frame(
        &mut self,
        now_s: f64,
        frame_ms: f64,
        pass_ms: Option<f64>,
        current: &QualitySetting,
        predict: impl Fn(&QualitySetting) -> Option<f64>,
    ) -> Option<QualitySetting> {
        if !(frame_ms.is_finite() && frame_ms > 0.0) {
            return None;
        }
        self.frames_since_change = self.frames_since_change.saturating_add(1);
        // the first frame after a change may still hold the old setting's work
        if self.frames_since_change > 1 || self.steps.is_empty() {
            if self.recent.len() == RECENT {
                self.recent.remove(0);
                self.recent_pass.remove(0);
            }
            self.recent.push(frame_ms);
            self.recent_pass.push(
                pass_ms
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .unwrap_or(f64::NAN),
            );
        }
        let level = match self.level {
            Some(l) => l,
            None => {
                let l = self.level_of(current);
                self.level = Some(l);
                l
            }
        };
        let first = self.steps.is_empty();
        let needed = if first { 2 } else { 3 };
        if self.recent.len() < needed
            || (!first && self.frames_since_change < self.config.min_frames_between)
        {
            return None;
        }
        // steps follow the newest frames (the median of five shrugs off one spike); a step up
        // also needs everything since the last change under the aim
        let newest = median(&self.recent[self.recent.len().saturating_sub(5)..]);
        let settled = median(&self.recent);
        let trend = rising(&self.recent).max(0.0);
        let aim = self.config.aim_ms();
        let band = self.config.dead_band;
        let now_cost = predict(current);
        // the pass's share of the newest frames, where it is measured
        let (mut newest_pass, mut measured_passes) = ([0.0; 5], 0);
        for &p in &self.recent_pass[self.recent_pass.len().saturating_sub(5)..] {
            if p.is_finite() {
                newest_pass[measured_passes] = p;
                measured_passes += 1;
            }
        }
        let pass_share = if measured_passes == 0 {
            1.0
        } else {
            (median(&newest_pass[..measured_passes]) / newest).clamp(0.0, 1.0)
        };
        // a setting's frame time: the frame's other work as measured, plus the pass scaled by
        // the predicted ratio, all scaled by the rise of the recent frames (a cost that climbs
        // now will climb on)
        let estimate = |q: &QualitySetting, measured: f64| -> f64 {
            let ratio = match (predict(q), now_cost) {
                (Some(p), Some(c)) if p > 0.0 && c > 0.0 => p / c,
                _ => {
                    let work = |q: &QualitySetting| {
                        q.resolution_scale * q.resolution_scale * f64::from(q.max_iter)
                    };
                    work(q) / work(current).max(1e-12)
                }
            };
            measured * (1.0 - pass_share + pass_share * ratio) * (1.0 + trend)
        };
        let with_checks = |mut q: QualitySetting| {
            q.interior_check = self.config.bounds.interior_check || current.interior_check;
            q
        };
        // within the reversal gap, turning round again waits longer: a step down that would
        // reverse a step up waits until the frame passes the budget itself (the headroom is
        // spent first), and a step up that would reverse a step down waits out the gap
        let recently_reversed = self
            .last_reversal_s
            .is_some_and(|t| now_s - t < self.config.reversal_gap_s);
        let down_at = if recently_reversed && self.last_direction == Some(StepDirection::Up) {
            self.config.budget_ms
        } else {
            aim * (1.0 + band)
        };
        let (direction, target) = if newest > down_at {
            if level + 1 >= self.ladder.len() && current.interior_check {
                return None; // the lowest quality the bounds allow
            }
            // the highest level the predictor says fits (fast down)
            let fits = (level + 1..self.ladder.len())
                .find(|&l| estimate(&with_checks(self.ladder[l]), newest) <= aim);
            let lowest = estimate(&with_checks(self.ladder[self.ladder.len() - 1]), newest);
            let target = match fits {
                Some(l) => l,
                // even the lowest quality would not fit the budget: the frame's other work is
                // the problem, and giving the image away would not solve it
                None if lowest > self.config.budget_ms => {
                    self.unreachable_ms = Some(lowest);
                    return None;
                }
                None => self.ladder.len() - 1,
            };
            self.unreachable_ms = None;
            (StepDirection::Down, target)
        } else if settled.max(newest) < aim * (1.0 - band) && level > 0 {
            let blocked = recently_reversed && self.last_direction == Some(StepDirection::Down);
            if self.frames_since_change < self.config.up_wait_frames || blocked || trend > band {
                return None;
            }
            // slow up: the next level only when it is predicted well under the aim — further
            // under when the step turns round from going down, or follows such a turn within
            // the reversal gap (a step down soon after would be a second reversal) — more
            // levels (a climb out of a deep cut) while they stay further under
            let next_at = if self.last_direction == Some(StepDirection::Down) {
                UP_REACH
            } else if recently_reversed {
                UP_AFTER_TURN
            } else {
                UP_NEXT
            };
            if estimate(&with_checks(self.ladder[level - 1]), newest) > next_at * aim {
                return None;
            }
            let mut target = level - 1;
            while target > 0
                && level - target < UP_LEVELS
                && estimate(&with_checks(self.ladder[target - 1]), newest) <= UP_REACH * aim
            {
                target -= 1;
            }
            (StepDirection::Up, target)
        } else {
            return None;
        };
        let measured = newest;
        let to = with_checks(self.ladder[target]);
        if to == *current {
            self.level = Some(target);
            return None;
        }
        if self.last_direction.is_some_and(|d| d != direction) {
            self.reversals += 1;
            self.last_reversal_s = Some(now_s);
        }
        self.last_direction = Some(direction);
        if self.steps.len() == STEPS_KEPT {
            self.steps.remove(0);
        }
        self.steps.push(QualityStep {
            at_s: now_s,
            direction,
            from: *current,
            to,
            measured_ms: measured,
            predicted_ms: estimate(&to, measured),
        });
        self.level = Some(target);
        self.frames_since_change = 0;
        self.recent.clear();
        self.recent_pass.clear();
        Some(to)
    }
}

/// Largest rise [`rising`] reports: a jump (a frame that did no work, then one that did) is not
/// a trend to extrapolate.
const MAX_RISE: f64 = 0.25;

/// How much the newer half of `v` exceeds the older half, median to median (relative, at most
/// [`MAX_RISE`]; 0 when too short): a step up waits while frame times rise, a step down aims
/// lower.
fn rising(v: &[f64]) -> f64 {
    let half = v.len() / 2;
    if half < 2 {
        return 0.0;
    }
    (median(&v[v.len() - half..]) / median(&v[..half]).max(1e-12) - 1.0).min(MAX_RISE)
}

fn median(v: &[f64]) -> f64 {
    let mut s = [0.0; RECENT];
    let n = v.len().min(RECENT);
    s[..n].copy_from_slice(&v[..n]);
    let s = &mut s[..n];
    s.sort_unstable_by(f64::total_cmp);
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::SeededRng;

    fn bounds() -> QualityBounds {
        QualityBounds {
            resolution_scale: (0.25, 1.0),
            max_iter: (100, 1000),
            interior_check: true,
        }
    }

    fn full() -> QualitySetting {
        QualitySetting {
            resolution_scale: 1.0,
            max_iter: 1000,
            interior_check: true,
        }
    }

    /// A simulated render: cost ∝ pixels × (0.3 + 0.7 × iterations / 1000) × `load`, with
    /// ±`noise` relative noise; runs the controller for `seconds` of simulated time and returns
    /// the frame times and the controller.
    fn simulate(
        fps: f64,
        seconds: f64,
        noise: f64,
        load: impl Fn(f64) -> f64,
        predictor_bias: f64,
    ) -> (Vec<(f64, f64)>, QualityController) {
        let mut rng = SeededRng(42);
        let mut c = QualityController::new(ControllerConfig::for_fps(fps, bounds()));
        let model = |q: &QualitySetting, load: f64| {
            200.0
                * load
                * q.resolution_scale
                * q.resolution_scale
                * (0.3 + 0.7 * f64::from(q.max_iter) / 1000.0)
        };
        let mut q = full();
        let mut t = 0.0;
        let mut frames = Vec::new();
        while t < seconds {
            let l = load(t);
            let ms = model(&q, l) * (1.0 + noise * (2.0 * rng.uniform() - 1.0));
            frames.push((t, ms));
            let predict = |s: &QualitySetting| Some(model(s, l) * predictor_bias);
            if let Some(next) = c.on_frame(t, ms, None, &q, predict) {
                q = next;
            }
            t += ms / 1000.0;
        }
        (frames, c)
    }

    fn check_holds(frames: &[(f64, f64)], budget: f64, c: &QualityController, seconds: f64) {
        let first_under = frames.iter().position(|&(_, ms)| ms <= budget).unwrap();
        let limit = frames
            .iter()
            .position(|&(t, _)| t >= 1.0)
            .unwrap_or(frames.len())
            .max(8);
        assert!(first_under <= limit, "under budget at frame {first_under}");
        let start = frames
            .iter()
            .position(|&(t, _)| t >= seconds / 4.0)
            .unwrap();
        let mut late: Vec<f64> = frames[start..].iter().map(|f| f.1).collect();
        late.sort_by(f64::total_cmp);
        let p95 = late[(0.95 * (late.len() - 1) as f64).round() as usize];
        let median = late[late.len() / 2];
        assert!(p95 <= 1.10 * budget, "p95 {p95} vs budget {budget}");
        assert!(median >= 0.6 * budget, "median {median} vs budget {budget}");
        assert!(
            f64::from(c.reversals()) <= (seconds / 10.0).ceil(),
            "{} reversals in {seconds} s",
            c.reversals()
        );
    }

    #[test]
    fn holds_the_budget_with_noise_and_a_biased_predictor() {
        let (frames, c) = simulate(30.0, 30.0, 0.05, |_| 1.0, 1.6);
        check_holds(&frames, 1000.0 / 30.0, &c, 30.0);
        assert_eq!(c.steps()[0].direction, StepDirection::Down);
    }

    #[test]
    fn follows_step_changes_of_the_load() {
        // the scene gets twice as heavy at 10 s and light again at 20 s
        let load = |t: f64| if (10.0..20.0).contains(&t) { 2.0 } else { 1.0 };
        let (frames, c) = simulate(30.0, 30.0, 0.03, load, 1.0);
        check_holds(&frames, 1000.0 / 30.0, &c, 30.0);
        let downs = c
            .steps()
            .iter()
            .filter(|s| s.direction == StepDirection::Down && s.at_s >= 10.0)
            .count();
        assert!(downs >= 1, "{:?}", c.steps());
        // after the load drops it climbs back (slowly) to use the budget
        let up_after_20 = c
            .steps()
            .iter()
            .any(|s| s.direction == StepDirection::Up && s.at_s >= 20.0);
        assert!(up_after_20, "{:?}", c.steps());
    }

    #[test]
    fn the_frames_other_work_is_not_expected_to_shrink() {
        // 30 ms of other work + a pass of 40 ms × scale²: a 60 ms budget (aim 54) needs
        // scale ≤ 0.77; a 25 ms budget cannot be reached at all
        let frame = |q: &QualitySetting| {
            (
                30.0 + 40.0 * q.resolution_scale.powi(2),
                40.0 * q.resolution_scale.powi(2),
            )
        };
        let predict = |q: &QualitySetting| Some(40.0 * q.resolution_scale.powi(2));
        let run = |fps: f64| {
            let mut c = QualityController::new(ControllerConfig::for_fps(fps, bounds()));
            let mut q = full();
            for i in 0..200 {
                let (ms, pass) = frame(&q);
                if let Some(next) =
                    c.on_frame(f64::from(i) * ms / 1000.0, ms, Some(pass), &q, predict)
                {
                    q = next;
                }
            }
            (q, c)
        };
        let (q, c) = run(1000.0 / 60.0);
        assert!((0.7..=0.76).contains(&q.resolution_scale), "{q:?}");
        assert!(frame(&q).0 <= 60.0 * 0.9 * 1.02, "{q:?}");
        assert!(c.unreachable_ms().is_none());
        // out of reach: it holds the image and says what the lowest quality would give
        let (q, c) = run(40.0);
        assert_eq!(q, full());
        let at_lowest = c.unreachable_ms().expect("unreachable");
        assert!((at_lowest - 32.5).abs() < 1.0, "{at_lowest}");
    }

    #[test]
    fn without_a_predictor_it_still_converges_and_never_leaves_the_bounds() {
        let mut c = QualityController::new(ControllerConfig::for_fps(60.0, bounds()));
        let mut q = full();
        for i in 0..600 {
            let ms = 120.0 * q.resolution_scale * q.resolution_scale;
            if let Some(next) = c.on_frame(f64::from(i) / 60.0, ms, None, &q, |_| None) {
                assert!((0.25..=1.0).contains(&next.resolution_scale), "{next:?}");
                assert!((100..=1000).contains(&next.max_iter), "{next:?}");
                q = next;
            }
        }
        assert!(120.0 * q.resolution_scale * q.resolution_scale <= 1000.0 / 60.0 * 1.02);
        // an impossible budget ends at the bottom of the ladder and stays
        let mut c = QualityController::new(ControllerConfig::for_fps(1000.0, bounds()));
        let mut q = full();
        for i in 0..400 {
            if let Some(next) = c.on_frame(f64::from(i) / 100.0, 10.0, None, &q, |_| None) {
                q = next;
            }
        }
        assert_eq!(q, *c.ladder().last().unwrap());
        assert_eq!(c.ladder()[0], full());
    }
}
