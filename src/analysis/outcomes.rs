//! Closing the loop: when a tunable changes to the value a suggestion proposed (its Apply, from
//! the dashboard, the API or app code), the frames before are held against the frames after;
//! once enough have run the measured gain is set beside the predicted one, with its
//! significance, and a gain that missed its prediction by more than its interval says so.

use std::time::SystemTime;

use rfm_perf_core::significance::compare_samples;
use rfm_perf_core::{PerformanceTracker, TimeRange, names};

use crate::base::{OutcomeVerdict, Suggestion, SuggestionOutcome, Tunables};

/// Frames measured on each side before an outcome is judged.
pub const OUTCOME_FRAMES: usize = 30;
/// Frames skipped right after the change (it applies next frame; GPU timings arrive later).
const SETTLE_FRAMES: usize = 3;
/// Outcomes kept.
const OUTCOMES_KEPT: usize = 16;
/// Significance level of the before/after test.
const ALPHA: f64 = 0.05;

/// One applied suggestion being followed.
#[derive(Debug)]
struct Followed {
    outcome: SuggestionOutcome,
    applied: SystemTime,
    before_gpu: Vec<f64>,
    before_frame: Vec<f64>,
}

/// The tunables' values last seen and the applied suggestions followed.
#[derive(Debug, Default)]
pub(super) struct OutcomeTracker {
    seen: Vec<(String, f64)>,
    followed: Vec<Followed>,
}

fn values(samples: Vec<(SystemTime, f64)>) -> Vec<f64> {
    samples.into_iter().map(|(_, v)| v).collect()
}

fn median(v: &[f64]) -> Option<f64> {
    rfm_perf_core::stats::Percentiles::of(v).map(|p| p.p50)
}

impl OutcomeTracker {
    /// Notices tunables that changed to a value one of `suggestions` (those shown now)
    /// proposed, and starts following them (the frames before are taken now: call it in the
    /// frame the registry changed, with `now` on the tracker's clock). Returns whether it started
    /// following one.
    pub(super) fn notice(
        &mut self,
        suggestions: &[Suggestion],
        tunables: &Tunables,
        tracker: &PerformanceTracker,
        now: SystemTime,
    ) -> bool {
        let mut started = false;
        for t in tunables.iter() {
            let value = t.value();
            let changed = match self.seen.iter_mut().find(|(n, _)| *n == t.name) {
                Some((_, v)) if *v != value => {
                    *v = value;
                    true
                }
                Some(_) => false,
                None => {
                    self.seen.push((t.name.clone(), value));
                    false
                }
            };
            if !changed {
                continue;
            }
            let tolerance = t.step.map_or(1e-9, |s| s / 2.0);
            let Some(s) = suggestions.iter().find(|s| {
                s.parameter
                    .as_ref()
                    .is_some_and(|p| p.name == t.name && (p.value - value).abs() <= tolerance)
            }) else {
                continue;
            };
            let before = |name: &str| {
                values(tracker.history_range(
                    name,
                    TimeRange {
                        since: None,
                        until: Some(now),
                    },
                    OUTCOME_FRAMES,
                ))
            };
            if self.followed.len() == OUTCOMES_KEPT {
                self.followed.remove(0);
            }
            self.followed.push(Followed {
                outcome: SuggestionOutcome {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    parameter: s.parameter.clone().unwrap_or_default(),
                    applied_unix_s: rfm_perf_core::clock::unix_seconds(now),
                    predicted: s.predicted,
                    frames: (0, OUTCOME_FRAMES),
                    gpu_ms: None,
                    frame_ms: None,
                    p_value: None,
                    verdict: OutcomeVerdict::Measuring,
                    message: format!("measuring: {OUTCOME_FRAMES} frames after the change"),
                },
                applied: now,
                before_gpu: before(names::RENDER_FRACTAL_GPU_MS),
                before_frame: before(names::FRAME_TIME_MS),
            });
            started = true;
        }
        started
    }

    /// Judges the followed suggestions that have run enough frames; returns every outcome,
    /// oldest first, when something changed.
    pub(super) fn judge(&mut self, tracker: &PerformanceTracker) -> Option<Vec<SuggestionOutcome>> {
        let mut changed = false;
        for f in &mut self.followed {
            if f.outcome.verdict == OutcomeVerdict::Measuring {
                let before = f.outcome.clone();
                judge(f, tracker);
                changed |= f.outcome != before;
            }
        }
        changed.then(|| self.outcomes())
    }

    /// Every outcome, oldest first.
    pub(super) fn outcomes(&self) -> Vec<SuggestionOutcome> {
        self.followed.iter().map(|f| f.outcome.clone()).collect()
    }
}

/// The frames of `name` since `applied`, after the settling ones, at most [`OUTCOME_FRAMES`].
fn after(tracker: &PerformanceTracker, name: &str, applied: SystemTime) -> Vec<f64> {
    let mut v = values(tracker.history_range(
        name,
        TimeRange {
            since: Some(applied),
            until: None,
        },
        usize::MAX,
    ));
    v.drain(..SETTLE_FRAMES.min(v.len()));
    v.truncate(OUTCOME_FRAMES);
    v
}

fn judge(f: &mut Followed, tracker: &PerformanceTracker) {
    let after_gpu = after(tracker, names::RENDER_FRACTAL_GPU_MS, f.applied);
    let after_frame = after(tracker, names::FRAME_TIME_MS, f.applied);
    // the pass's own time where it is timed: what the prediction is about
    let timed = f.before_gpu.len() >= 10;
    let (before, after) = if timed {
        (&f.before_gpu, &after_gpu)
    } else {
        (&f.before_frame, &after_frame)
    };
    let o = &mut f.outcome;
    o.frames = (after.len(), OUTCOME_FRAMES);
    if after.len() < OUTCOME_FRAMES {
        o.message = format!(
            "measuring: {} of {OUTCOME_FRAMES} frames after the change",
            after.len()
        );
        return;
    }
    let pair = |b: &[f64], a: &[f64]| Some((median(b)?, median(a)?));
    o.gpu_ms = pair(&f.before_gpu, &after_gpu).filter(|_| timed);
    o.frame_ms = pair(&f.before_frame, &after_frame);
    let Some((b, a)) = (if timed { o.gpu_ms } else { o.frame_ms }) else {
        o.verdict = OutcomeVerdict::Measured;
        o.message = "measured, but no frames before the change to compare with".into();
        return;
    };
    let what = if timed { "GPU time" } else { "frame time" };
    let p = compare_samples(before, after, ALPHA).map(|c| c.p_value);
    o.p_value = p;
    let saved = b - a;
    let measured = format!(
        "saved {saved:.1} ms ({what} {b:.1} → {a:.1} ms, median of {OUTCOME_FRAMES} frames each side{})",
        p.map_or(String::new(), |p| if p < 0.001 {
            ", p < 0.001".to_string()
        } else {
            format!(", p = {p:.3}")
        })
    );
    let predicted = o.predicted.filter(|_| timed);
    (o.verdict, o.message) = if p.is_none_or(|p| p > ALPHA) {
        (
            OutcomeVerdict::NoSignificantChange,
            format!("no significant change: {measured}"),
        )
    } else if let Some(g) = predicted {
        let (lo, hi) = match (g.gpu_ms_low, g.gpu_ms_high) {
            (Some(lo), Some(hi)) => (lo, hi),
            // no interval yet: ±25 %
            _ => (g.gpu_ms * 0.75, g.gpu_ms * 1.25),
        };
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        if (lo..=hi).contains(&saved) {
            (
                OutcomeVerdict::AsPredicted,
                format!(
                    "as predicted ({:.1} ms, {lo:.1}–{hi:.1}): {measured}",
                    g.gpu_ms
                ),
            )
        } else {
            (
                OutcomeVerdict::Missed,
                format!(
                    "missed its prediction by more than its interval (predicted {:.1} ms, {lo:.1}–{hi:.1}): {measured}; the cost model has learnt the frames since",
                    g.gpu_ms
                ),
            )
        }
    } else {
        (OutcomeVerdict::Measured, measured)
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{ParameterChange, PredictedGain, Tunable};

    fn setup(predicted: Option<PredictedGain>) -> (PerformanceTracker, Tunables, Vec<Suggestion>) {
        let tracker = PerformanceTracker::new();
        let mut tunables = Tunables::default();
        tunables.register(
            Tunable::new("game.max_iter", "", 16.0..=5000.0, 1000.0, |_, _| {}).with_step(1.0),
        );
        let suggestions = vec![Suggestion {
            id: "iteration_limit".into(),
            title: "Lower the iteration limit".into(),
            parameter: Some(ParameterChange {
                name: "game.max_iter".into(),
                value: 250.0,
            }),
            predicted,
            ..Default::default()
        }];
        (tracker, tunables, suggestions)
    }

    /// Frames at `gpu_ms` (with a small deterministic wobble) and 2 ms more of frame time.
    fn frames(t: &PerformanceTracker, n: usize, gpu_ms: f64) {
        for i in 0..n {
            let v = gpu_ms * (1.0 + 0.01 * ((i % 7) as f64 - 3.0));
            t.track_metric(names::RENDER_FRACTAL_GPU_MS, v);
            t.track_metric(names::FRAME_TIME_MS, v + 2.0);
        }
    }

    fn gain(gpu_ms: f64, low: f64, high: f64) -> PredictedGain {
        PredictedGain {
            gpu_ms,
            gpu_ms_low: Some(low),
            gpu_ms_high: Some(high),
            frame_ms: None,
            current_gpu_ms: 20.0,
        }
    }

    /// Runs an apply from 20 ms to `after_ms` with `predicted`, and judges it.
    fn outcome(predicted: Option<PredictedGain>, after_ms: f64) -> SuggestionOutcome {
        let (tracker, mut tunables, suggestions) = setup(predicted);
        let mut followed = OutcomeTracker::default();
        frames(&tracker, 40, 20.0);
        // the first look records the values; nothing changed yet
        assert!(!followed.notice(&suggestions, &tunables, &tracker, tracker.now()));
        tunables.set("game.max_iter", 250.0).unwrap();
        assert!(followed.notice(&suggestions, &tunables, &tracker, tracker.now()));
        assert_eq!(followed.outcomes()[0].verdict, OutcomeVerdict::Measuring);
        // not enough frames yet
        frames(&tracker, 10, after_ms);
        followed.judge(&tracker);
        assert_eq!(followed.outcomes()[0].frames.0, 7);
        frames(&tracker, 30, after_ms);
        followed.judge(&tracker).expect("judged");
        followed.outcomes().remove(0)
    }

    #[test]
    fn a_gain_inside_its_interval_is_as_predicted() {
        let o = outcome(Some(gain(12.0, 10.0, 14.0)), 8.5);
        assert_eq!(o.verdict, OutcomeVerdict::AsPredicted, "{}", o.message);
        assert!(
            (o.measured_gpu_gain_ms().unwrap() - 11.5).abs() < 0.3,
            "{o:?}"
        );
        assert!(o.p_value.unwrap() < 1e-6);
        assert_eq!(o.frame_ms.map(|(b, a)| (b - a).round()), Some(12.0));
        assert!(o.message.starts_with("as predicted"), "{}", o.message);
    }

    #[test]
    fn a_gain_outside_its_interval_says_it_missed() {
        let o = outcome(Some(gain(12.0, 10.0, 14.0)), 17.0);
        assert_eq!(o.verdict, OutcomeVerdict::Missed, "{}", o.message);
        assert!(o.message.contains("missed its prediction"), "{}", o.message);
    }

    #[test]
    fn no_change_and_no_prediction_are_told_apart() {
        let o = outcome(Some(gain(12.0, 10.0, 14.0)), 20.0);
        assert_eq!(
            o.verdict,
            OutcomeVerdict::NoSignificantChange,
            "{}",
            o.message
        );
        let o = outcome(None, 10.0);
        assert_eq!(o.verdict, OutcomeVerdict::Measured, "{}", o.message);
    }

    #[test]
    fn a_change_no_suggestion_proposed_is_not_followed() {
        let (tracker, mut tunables, suggestions) = setup(None);
        let mut followed = OutcomeTracker::default();
        followed.notice(&suggestions, &tunables, &tracker, tracker.now());
        tunables.set("game.max_iter", 300.0).unwrap();
        assert!(!followed.notice(&suggestions, &tunables, &tracker, tracker.now()));
        assert!(followed.outcomes().is_empty());
    }
}
