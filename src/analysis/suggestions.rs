//! Suggestion rules: each reads the snapshot, the scope statistics, the regressions and the
//! tunable parameters, and proposes what to change, with the numbers behind it.

use bevy::prelude::Resource;
use rfm_perf_core::{Snapshot, names};

use crate::base::{ParameterChange, Suggestion};

/// Context the suggestion rules read.
#[derive(Debug)]
pub struct RuleContext<'a> {
    /// The published snapshot.
    pub snapshot: &'a Snapshot,
    /// Scope statistics over the scope window, slowest total first.
    pub scopes: &'a [rfm_perf_core::ScopeStats],
    /// Regressions against the baselines (at [`AnalysisPlugin::regression_threshold`](super::AnalysisPlugin)).
    pub regressions: &'a [rfm_perf_core::RegressionReport],
    /// Tunable parameters: `(name, value, min, max)`.
    pub tunables: Vec<(String, f64, f64, f64)>,
}

/// A set of suggestion rules; replace it with your own by inserting a [`SuggestionRules`] resource.
pub trait SuggestionRule: Send + Sync + 'static {
    /// Suggestions this rule makes for `ctx`.
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion>;
}

/// The rule set in use (a resource).
#[derive(Resource)]
pub struct SuggestionRules(pub Vec<Box<dyn SuggestionRule>>);

impl Default for SuggestionRules {
    fn default() -> Self {
        Self(vec![
            Box::new(DominantScope),
            Box::new(Regressed),
            Box::new(GpuBound),
            Box::new(IterationHeadroom),
        ])
    }
}

/// A scope that takes most of the frame while the frame is slow.
pub struct DominantScope;

impl SuggestionRule for DominantScope {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let slow = ctx
            .snapshot
            .value(names::FRAME_TIME_MS)
            .is_some_and(|ms| ms > 1000.0 / 60.0);
        let Some(top) = ctx.scopes.first() else {
            return Vec::new();
        };
        if !slow || top.frame_pct < 50.0 {
            return Vec::new();
        }
        vec![Suggestion {
            title: format!("Optimise or parallelise {}", top.name),
            evidence: format!(
                "{} takes {:.0} % of the frame ({:.1} calls/frame, mean {:.3} ms, p95 {:.3} ms) while frames take {:.1} ms",
                top.name,
                top.frame_pct,
                top.calls_per_frame,
                top.mean_ms,
                top.p95_ms,
                ctx.snapshot.value(names::FRAME_TIME_MS).unwrap_or(0.0)
            ),
            parameter: None,
        }]
    }
}

/// Metrics that regressed against the baseline.
pub struct Regressed;

impl SuggestionRule for Regressed {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        ctx.regressions
            .iter()
            .take(3)
            .map(|r| Suggestion {
                title: format!(
                    "Investigate the {:?} regression of {}",
                    r.severity, r.metric
                ),
                evidence: format!(
                    "median {:.3} vs baseline {:.3} ({:+.0} % worse, {} samples)",
                    r.current.median,
                    r.baseline.median,
                    r.change * 100.0,
                    r.samples
                ),
                parameter: None,
            })
            .collect()
    }
}

/// A frame slower than 60 FPS where the GPU is busy most of it: suggests rendering fewer pixels
/// through a `*.resolution_scale` tunable when one is registered; a frame that is slow while the GPU
/// idles is reported as CPU-bound.
///
/// ```
/// use rfm_perf::analysis::{GpuBound, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.time_ms", 40.0);
/// t.track_metric("gpu.utilization_pct", 90.0);
/// let snapshot = t.publish_snapshot();
/// let ctx = RuleContext { snapshot: &snapshot, scopes: &[], regressions: &[],
///     tunables: vec![("fractal.resolution_scale".into(), 1.0, 0.1, 2.0)] };
/// let s = GpuBound.suggest(&ctx);
/// assert!((s[0].parameter.as_ref().unwrap().value - 0.75).abs() < 1e-9);
/// ```
pub struct GpuBound;

impl SuggestionRule for GpuBound {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let (Some(frame_ms), Some(gpu_pct)) = (
            ctx.snapshot.value(names::FRAME_TIME_MS),
            ctx.snapshot.value(names::GPU_UTILIZATION_PCT),
        ) else {
            return Vec::new();
        };
        if frame_ms <= 1000.0 / 60.0 {
            return Vec::new();
        }
        if gpu_pct >= 70.0 {
            let scale = ctx
                .tunables
                .iter()
                .find(|(name, ..)| name.ends_with("resolution_scale"));
            let parameter = scale.and_then(|(name, value, min, _)| {
                let target = ((value * 0.75) / 0.05).round() * 0.05;
                (target >= *min && target < *value).then(|| ParameterChange {
                    name: name.clone(),
                    value: target,
                })
            });
            vec![Suggestion {
                title: "GPU-bound: render fewer pixels".into(),
                evidence: format!(
                    "the GPU is busy {gpu_pct:.0} % of a {frame_ms:.1} ms frame (estimate: GPU pass time / frame time)"
                ),
                parameter,
            }]
        } else if gpu_pct <= 30.0 {
            vec![Suggestion {
                title: "CPU-bound: the GPU waits on the CPU".into(),
                evidence: format!(
                    "frames take {frame_ms:.1} ms while the GPU is busy only {gpu_pct:.0} % of it; see the bottleneck analyzer for the slowest scopes"
                ),
                parameter: None,
            }]
        } else {
            Vec::new()
        }
    }
}

/// When the pixels inside the set (which run the whole iteration limit) make up most of the
/// work. Never a change that alters the image when one that keeps it exists: with an
/// `*interior_check` tunable that is off, it suggests turning it on (the check finds those
/// pixels early; the picture stays the same). Otherwise, when the escaping pixels need far fewer
/// iterations than the limit, it suggests a lower `*.max_iter`: 1.25 × the iteration by which
/// 99 % of them escape (`fractal.escape_p99`; 4 × their mean without it), at least 64 — and says
/// what it costs (the escaping pixels past the new limit turn to the inside colour).
///
/// ```
/// use rfm_perf::analysis::{IterationHeadroom, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("fractal.iterations_per_pixel", 540.0); // 10 % inside × 5000 + 90 % × 44
/// t.track_metric("fractal.escaped_ratio", 0.9);
/// t.track_metric("fractal.escape_p99", 180.0);
/// let snapshot = t.publish_snapshot();
/// let limit = ("fractal.max_iter".to_string(), 5000.0, 16.0, 100_000.0);
/// // the interior check is off: turn it on, the image stays the same
/// let check = ("fractal.interior_check".to_string(), 0.0, 0.0, 1.0);
/// let ctx = RuleContext { snapshot: &snapshot, scopes: &[], regressions: &[],
///     tunables: vec![limit.clone(), check] };
/// let s = IterationHeadroom.suggest(&ctx);
/// assert_eq!(s.len(), 1);
/// assert_eq!(s[0].parameter.as_ref().unwrap().name, "fractal.interior_check");
/// assert!(s[0].evidence.contains("93 % of the work"));
/// // no interior check to turn on: a lower limit, from the escape histogram
/// let ctx = RuleContext { snapshot: &snapshot, scopes: &[], regressions: &[], tunables: vec![limit] };
/// let s = IterationHeadroom.suggest(&ctx);
/// assert_eq!(s[0].parameter.as_ref().unwrap().value, 225.0); // 1.25 × 180
/// assert!(s[0].evidence.contains("99 % of the escaping pixels escape within 180 iterations"));
/// ```
pub struct IterationHeadroom;

impl SuggestionRule for IterationHeadroom {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let (Some(per_pixel), Some(escaped)) = (
            ctx.snapshot.value(names::FRACTAL_ITERATIONS_PER_PIXEL),
            ctx.snapshot.value(names::FRACTAL_ESCAPED_RATIO),
        ) else {
            return Vec::new();
        };
        let tunable = |suffix: &str| {
            ctx.tunables
                .iter()
                .find(|(name, ..)| name.ends_with(suffix))
        };
        let Some((name, max_iter, min, _)) = tunable("max_iter") else {
            return Vec::new();
        };
        if per_pixel <= 0.0 || escaped <= 0.0 {
            return Vec::new();
        }
        let inside_work = (1.0 - escaped) * max_iter;
        let escaped_mean = ((per_pixel - inside_work) / escaped).max(0.0);
        let inside_share = inside_work / per_pixel;
        if inside_share < 0.5 {
            return Vec::new();
        }
        let inside = format!(
            "the {:.0} % of pixels inside the set each run all {max_iter:.0} iterations: {:.0} % of the work",
            (1.0 - escaped) * 100.0,
            inside_share * 100.0
        );
        match tunable("interior_check") {
            // keeps the image: prefer it to any change that alters it
            Some((check, value, ..)) if *value < 0.5 => {
                return vec![Suggestion {
                    title: "Turn on the interior check".into(),
                    evidence: format!(
                        "{inside}; the interior check recognises them early, and the image stays the same"
                    ),
                    parameter: Some(ParameterChange {
                        name: check.clone(),
                        value: 1.0,
                    }),
                }];
            }
            // already on: the inside pixels are cheap, the limit is not what costs
            Some(_) => return Vec::new(),
            None => {}
        }
        let p99 = ctx
            .snapshot
            .value(names::FRACTAL_ESCAPE_P99)
            .filter(|p| p.is_finite() && *p > 0.0);
        let (target, why) = match p99 {
            Some(p99) => (
                (1.25 * p99).ceil(),
                format!("99 % of the escaping pixels escape within {p99:.0} iterations"),
            ),
            None => (
                (4.0 * escaped_mean).round(),
                format!("escaping pixels need {escaped_mean:.0} iterations on average"),
            ),
        };
        let target = target.max(64.0).max(*min);
        if escaped_mean * 10.0 > *max_iter || target >= *max_iter {
            return Vec::new();
        }
        vec![Suggestion {
            title: "Lower the iteration limit".into(),
            evidence: format!(
                "{why}, but {inside}. Quality cost: escaping pixels that need more than {target:.0} iterations (under 1 %) turn to the inside colour"
            ),
            parameter: Some(ParameterChange {
                name: name.clone(),
                value: target,
            }),
        }]
    }
}
