//! Rules about a render pass's cost, read from its metrics, its escape histogram and the cost
//! model: GPU- vs CPU-bound, the interior check and the iteration limit, the dear arithmetic,
//! the faster backend. They speak of tunables and metrics, never of the workload's types.

use rfm_perf_core::names;

use super::{RuleContext, SuggestionRule};
use crate::base::{ParameterChange, Suggestion};

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
/// let mut ctx = RuleContext::new(&snapshot);
/// ctx.tunables = vec![("fractal.resolution_scale".into(), 1.0, 0.1, 2.0)];
/// let s = GpuBound.suggest(&ctx);
/// assert_eq!(s[0].id, "gpu_bound");
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
            let scale = ctx.tunable("resolution_scale");
            let parameter = scale.and_then(|(name, value, min, _)| {
                let target = ((value * 0.75) / 0.05).round() * 0.05;
                (target >= *min && target < *value).then(|| ParameterChange {
                    name: name.clone(),
                    value: target,
                })
            });
            let cost = parameter.as_ref().map_or(String::new(), |p| {
                format!(
                    ". Quality cost: {:.0} % of the pixels, upscaled",
                    100.0 - 100.0 * (p.value / scale.map_or(1.0, |s| s.1)).powi(2)
                )
            });
            vec![ctx.with_gain(
                Suggestion {
                    id: "gpu_bound".into(),
                    title: "GPU-bound: render fewer pixels".into(),
                    evidence: format!(
                        "the GPU is busy {gpu_pct:.0} % of a {frame_ms:.1} ms frame (estimate: GPU pass time / frame time){cost}"
                    ),
                    parameter,
                    ..Default::default()
                },
            )]
        } else if gpu_pct <= 30.0 {
            vec![Suggestion {
                id: "cpu_bound".into(),
                title: "CPU-bound: the GPU waits on the CPU".into(),
                evidence: format!(
                    "frames take {frame_ms:.1} ms while the GPU is busy only {gpu_pct:.0} % of it; see the bottleneck analyzer for the slowest scopes"
                ),
                ..Default::default()
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
/// 99.9 % of them escape (the pass's escape histogram; `fractal.escape_p99` without one, 4 ×
/// their mean without either), at least 64 — and says what it costs (the escaping pixels past
/// the new limit turn to the inside colour). With a cost model, each states its predicted gain.
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
/// let mut ctx = RuleContext::new(&snapshot);
/// ctx.tunables = vec![limit.clone(), check];
/// let s = IterationHeadroom.suggest(&ctx);
/// assert_eq!(s.len(), 1);
/// assert_eq!(s[0].id, "interior_check");
/// assert_eq!(s[0].parameter.as_ref().unwrap().name, "fractal.interior_check");
/// assert!(s[0].evidence.contains("93 % of the work"));
/// // no interior check to turn on: a lower limit, from the escape histogram
/// let mut ctx = RuleContext::new(&snapshot);
/// ctx.tunables = vec![limit];
/// let s = IterationHeadroom.suggest(&ctx);
/// assert_eq!(s[0].id, "iteration_limit");
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
        let Some((name, max_iter, min, _)) = ctx.tunable("max_iter") else {
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
        match ctx.tunable("interior_check") {
            // keeps the image: prefer it to any change that alters it
            Some((check, value, ..)) if *value < 0.5 => {
                return vec![ctx.with_gain(
                    Suggestion {
                        id: "interior_check".into(),
                        title: "Turn on the interior check".into(),
                        evidence: format!(
                            "{inside}; the interior check recognises them early, and the image stays the same"
                        ),
                        parameter: Some(ParameterChange {
                            name: check.clone(),
                            value: 1.0,
                        }),
                        ..Default::default()
                    },
                )];
            }
            // already on: the inside pixels are cheap, the limit is not what costs
            Some(_) => return Vec::new(),
            None => {}
        }
        // the histogram of the newest frame, when it is of this limit
        let p999 = ctx
            .pass
            .filter(|c| f64::from(c.histogram.max_iter) == *max_iter)
            .and_then(|c| c.histogram.quantile(0.999))
            .map(|q| (f64::from(q), "99.9"));
        let p99 = ctx
            .snapshot
            .value(names::FRACTAL_ESCAPE_P99)
            .filter(|p| p.is_finite() && *p > 0.0)
            .map(|q| (q, "99"));
        let (target, why) = match p999.or(p99) {
            Some((q, share)) => (
                (1.25 * q).ceil(),
                format!("{share} % of the escaping pixels escape within {q:.0} iterations"),
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
        let share = if p999.is_some() { "0.1" } else { "1" };
        vec![ctx.with_gain(
            Suggestion {
                id: "iteration_limit".into(),
                title: "Lower the iteration limit".into(),
                evidence: format!(
                    "{why}, but {inside}. Quality cost: escaping pixels that need more than {target:.0} iterations (under {share} %) turn to the inside colour"
                ),
                parameter: Some(ParameterChange {
                    name: name.clone(),
                    value: target,
                }),
                ..Default::default()
            },
        )]
    }
}

/// The arithmetic in use costs several times another one measured on this machine, per
/// iteration (the cost model's fits): says so with both rates, and when a `*.precision`
/// tunable forces the dear one, suggests its `auto` value (which picks the cheapest arithmetic
/// that keeps the image sharp).
///
/// ```
/// use rfm_perf::analysis::{ArithmeticCost, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// let snapshot = t.publish_snapshot();
/// // no cost model: nothing to compare
/// assert!(ArithmeticCost.suggest(&RuleContext::new(&snapshot)).is_empty());
/// ```
pub struct ArithmeticCost;

/// How many times dearer per iteration an arithmetic must be for [`ArithmeticCost`] to speak.
const DEAR_ARITHMETIC: f64 = 2.0;

impl SuggestionRule for ArithmeticCost {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let Some(cost) = ctx.cost else {
            return Vec::new();
        };
        let Some(current) = cost.model.latest_params() else {
            return Vec::new();
        };
        let rates: Vec<(&str, f64, u64)> = cost
            .model
            .cost_per_iteration()
            .filter(|(_, ns, n)| *ns > 0.0 && *n >= 10)
            .collect();
        let Some(&(_, now_ns, _)) = rates.iter().find(|(a, ..)| *a == current.arithmetic) else {
            return Vec::new();
        };
        let Some(&(cheap, cheap_ns, _)) = rates
            .iter()
            .filter(|(a, ..)| *a != current.arithmetic)
            .min_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return Vec::new();
        };
        let ratio = now_ns / cheap_ns;
        if ratio < DEAR_ARITHMETIC {
            return Vec::new();
        }
        let evidence = format!(
            "{} costs {ratio:.1}× {cheap} per iteration here ({now_ns:.2} vs {cheap_ns:.2} ns per iteration, measured on this GPU)",
            current.arithmetic
        );
        // a forced arithmetic: `auto` keeps the image sharp at the cheapest cost
        let forced = ctx.tunable("precision").and_then(|(name, value, ..)| {
            let t = cost.tunable(name)?;
            let label = t.labels.iter().find(|(v, _)| (v - value).abs() < 1e-9)?;
            let auto = t.labels.iter().find(|(_, l)| l == "auto")?;
            // what it saves where the cheap arithmetic is chosen (auto picks it only where
            // the image stays sharp: "there")
            let gain = t
                .labels
                .iter()
                .find(|(_, l)| l == cheap)
                .and_then(|(v, _)| cost.what_if(&[(name.clone(), *v)]).ok())
                .map(|w| w.gain());
            (label.1 == current.arithmetic).then(|| {
                (
                    ParameterChange {
                        name: name.clone(),
                        value: auto.0,
                    },
                    gain,
                )
            })
        });
        match forced {
            Some((change, gain)) => vec![Suggestion {
                id: "arithmetic_cost".into(),
                title: format!(
                    "Let the precision follow the zoom instead of forcing {}",
                    current.arithmetic
                ),
                evidence: format!(
                    "{evidence}; automatic precision uses {cheap} wherever it stays sharp{}",
                    gain.map_or(String::new(), |g| format!(" — there, {}", g.describe()))
                ),
                parameter: Some(change),
                predicted: gain,
            }],
            None => vec![Suggestion {
                id: "arithmetic_cost".into(),
                title: format!(
                    "At this depth every iteration runs in {}",
                    current.arithmetic
                ),
                evidence: format!(
                    "{evidence}; the view needs it to stay sharp, so fewer pixels or iterations are what saves time here"
                ),
                ..Default::default()
            }],
        }
    }
}

/// The CPU computes the view faster than the GPU pass (a software rasterizer, in deep views):
/// says so with the two measured rates — the CPU reference's
/// (`fractal.cpu_iterations_per_s`, probed where the adapter is the CPU) and the pass's own,
/// from the cost model's cost per iteration in the arithmetic in use.
///
/// ```
/// use rfm_perf::analysis::{FasterBackend, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("fractal.cpu_iterations_per_s", 1.4e9);
/// let snapshot = t.publish_snapshot();
/// // no GPU rate to compare with (no cost model): nothing said
/// assert!(FasterBackend.suggest(&RuleContext::new(&snapshot)).is_empty());
/// ```
pub struct FasterBackend;

impl SuggestionRule for FasterBackend {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let (Some(cpu), Some(cost)) = (
            ctx.snapshot
                .value(names::FRACTAL_CPU_ITERATIONS_PER_S)
                .filter(|r| *r > 0.0),
            ctx.cost,
        ) else {
            return Vec::new();
        };
        let Some(current) = cost.model.latest_params() else {
            return Vec::new();
        };
        let Some(gpu) = cost
            .model
            .cost_per_iteration()
            .find(|(a, ns, n)| *a == current.arithmetic && *ns > 0.0 && *n >= 10)
            .map(|(_, ns, _)| 1e9 / ns)
        else {
            return Vec::new();
        };
        if cpu < 1.5 * gpu {
            return Vec::new();
        }
        vec![Suggestion {
            id: "faster_backend".into(),
            title: "The CPU renders this view faster than the GPU pass".into(),
            evidence: format!(
                "the CPU reference computes {:.2} G iterations/s here against the GPU pass's {:.2} G/s in {} ({:.1}×, both measured on this machine: the GPU is a software rasterizer on the same cores)",
                cpu / 1e9,
                gpu / 1e9,
                current.arithmetic,
                cpu / gpu
            ),
            ..Default::default()
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::suggestions::snapshot_of as snapshot;
    use crate::base::{CostModelState, EscapeHistogram, PassCost, TunableValue};
    use rfm_perf_core::cost_model::{PassCostModel, PassObservation, PassParams, WorkProfile};

    /// A cost model that measured `f32` at 0.2 ns and `df64` at 1.2 ns per iteration, the
    /// newest frames in `latest`.
    fn model(latest: &'static str) -> PassCostModel {
        let mut m = PassCostModel::default();
        for arithmetic in ["f32", "df64"].into_iter().cycle().take(80).chain([latest]) {
            let per = if arithmetic == "df64" { 1.2 } else { 0.2 };
            for i in 0..2u64 {
                let computed = 20_000_000 + 1_000_000 * i;
                m.observe(&PassObservation {
                    params: PassParams {
                        pixels: 100_000,
                        max_iter: 1000,
                        arithmetic: arithmetic.into(),
                        interior_check: true,
                    },
                    work: WorkProfile::new(
                        100_000,
                        1000,
                        true,
                        computed,
                        computed,
                        &[0],
                        &[100_000],
                    ),
                    gpu_ms: 0.3 + per * computed as f64 / 1e6,
                    frame_ms: None,
                });
            }
        }
        m
    }

    fn precision(value: f64) -> TunableValue {
        TunableValue {
            name: "fractal.precision".into(),
            value,
            min: 0.0,
            max: 2.0,
            step: Some(1.0),
            labels: vec![
                (0.0, "auto".into()),
                (1.0, "f32".into()),
                (2.0, "df64".into()),
            ],
        }
    }

    #[test]
    fn the_dear_arithmetic_is_named_and_a_forced_one_gets_auto() {
        let s = snapshot(&[]);
        let forced = CostModelState {
            model: model("df64"),
            tunables: vec![precision(2.0)],
        };
        let mut ctx = RuleContext::new(&s);
        ctx.cost = Some(&forced);
        ctx.tunables = vec![("fractal.precision".into(), 2.0, 0.0, 2.0)];
        let out = ArithmeticCost.suggest(&ctx);
        assert_eq!(out.len(), 1, "{out:?}");
        // 1.2 vs 0.2 ns per iteration, less what the ridge keeps of the overhead
        let ratio: f64 = out[0].evidence["df64 costs ".len()..]
            .split('×')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((5.0..=6.5).contains(&ratio), "{}", out[0].evidence);
        assert_eq!(out[0].parameter.as_ref().unwrap().value, 0.0);
        // where f32 is chosen it saves most of the time
        let gain = out[0].predicted.expect("a predicted gain");
        assert!(gain.share() > 0.7, "{gain:?}");
        assert!(
            out[0].evidence.contains("there, predicted to save"),
            "{}",
            out[0].evidence
        );
        // automatic already: no change to offer, the advice stands
        let auto = CostModelState {
            model: model("df64"),
            tunables: vec![precision(0.0)],
        };
        ctx.cost = Some(&auto);
        ctx.tunables = vec![("fractal.precision".into(), 0.0, 0.0, 2.0)];
        let out = ArithmeticCost.suggest(&ctx);
        assert!(out[0].parameter.is_none() && out[0].title.contains("df64"));
        // in the cheap arithmetic: nothing to say
        let cheap = CostModelState {
            model: model("f32"),
            tunables: vec![precision(0.0)],
        };
        ctx.cost = Some(&cheap);
        assert!(ArithmeticCost.suggest(&ctx).is_empty());
    }

    #[test]
    fn the_faster_backend_is_named_with_both_rates() {
        let s = snapshot(&[(names::FRACTAL_CPU_ITERATIONS_PER_S, 1.4e9)]);
        let state = CostModelState {
            model: model("df64"),
            tunables: Vec::new(),
        };
        let mut ctx = RuleContext::new(&s);
        ctx.cost = Some(&state);
        let out = FasterBackend.suggest(&ctx);
        assert_eq!(out[0].id, "faster_backend");
        assert!(
            out[0].evidence.contains("1.40 G iterations/s"),
            "{}",
            out[0].evidence
        );
        assert!(out[0].evidence.contains("in df64"), "{}", out[0].evidence);
        // in f32 the pass keeps up: nothing said
        let f32 = CostModelState {
            model: model("f32"),
            tunables: Vec::new(),
        };
        let slow_cpu = snapshot(&[(names::FRACTAL_CPU_ITERATIONS_PER_S, 4e9)]);
        let mut ctx = RuleContext::new(&slow_cpu);
        ctx.cost = Some(&f32);
        assert!(FasterBackend.suggest(&ctx).is_empty());
    }

    #[test]
    fn the_iteration_limit_follows_the_histograms_999th_percentile_and_states_its_gain() {
        // 90 % escape early (10..=59), 10 % inside; limit 5000
        let mut counts: Vec<u32> = (0..900).map(|i| 10 + i % 50).collect();
        counts.extend(std::iter::repeat_n(5000, 100));
        let pass = PassCost {
            generation: 1,
            max_iter: 5000,
            pixels: 1000,
            histogram: EscapeHistogram::from_counts(&counts, 5000),
            ..Default::default()
        };
        let s = snapshot(&[
            (
                names::FRACTAL_ITERATIONS_PER_PIXEL,
                0.1 * 5000.0 + 0.9 * 34.5,
            ),
            (names::FRACTAL_ESCAPED_RATIO, 0.9),
        ]);
        let mut ctx = RuleContext::new(&s);
        ctx.pass = Some(&pass);
        ctx.tunables = vec![("fractal.max_iter".into(), 5000.0, 16.0, 100_000.0)];
        let out = IterationHeadroom.suggest(&ctx);
        assert!(
            out[0]
                .evidence
                .contains("99.9 % of the escaping pixels escape within"),
            "{}",
            out[0].evidence
        );
        assert!(
            out[0].evidence.contains("under 0.1 %"),
            "{}",
            out[0].evidence
        );
        let q = f64::from(pass.histogram.quantile(0.999).unwrap());
        assert_eq!(
            out[0].parameter.as_ref().unwrap().value,
            (1.25 * q).ceil().max(64.0)
        );
        // no cost model: no predicted gain
        assert!(out[0].predicted.is_none());
    }

    #[test]
    fn gpu_bound_states_the_models_gain_and_the_quality_cost() {
        let s = snapshot(&[
            (names::FRAME_TIME_MS, 40.0),
            (names::GPU_UTILIZATION_PCT, 90.0),
        ]);
        let state = CostModelState {
            model: model("f32"),
            tunables: vec![TunableValue {
                name: "fractal.resolution_scale".into(),
                value: 1.0,
                min: 0.1,
                max: 2.0,
                step: Some(0.05),
                labels: Vec::new(),
            }],
        };
        let mut ctx = RuleContext::new(&s);
        ctx.cost = Some(&state);
        ctx.tunables = vec![("fractal.resolution_scale".into(), 1.0, 0.1, 2.0)];
        let out = GpuBound.suggest(&ctx);
        let gain = out[0].predicted.expect("a predicted gain");
        // 0.75² of the pixels: the time scales with the work
        assert!(gain.gpu_ms > 0.3 * gain.current_gpu_ms, "{gain:?}");
        assert!(
            out[0].evidence.contains("predicted to save"),
            "{}",
            out[0].evidence
        );
        assert!(
            out[0].evidence.contains("Quality cost: 44 % of the pixels"),
            "{}",
            out[0].evidence
        );
    }
}
