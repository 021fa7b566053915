//! Rules about the frame and the process: a dominant scope, regressions against the baseline,
//! one core far busier than the others, allocation churn, uneven frame pacing.

use rfm_perf_core::names;

use super::{RuleContext, SuggestionRule};
use crate::base::Suggestion;

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
            id: format!("dominant_scope:{}", top.name),
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
            ..Default::default()
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
                id: format!("regression:{}", r.metric),
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
                ..Default::default()
            })
            .collect()
    }
}

/// One core far busier than the others while the frame is slow: the work that runs on a
/// single thread is the parallelisation opportunity (the slowest scope by self time is named).
///
/// ```
/// use rfm_perf::analysis::{CoreImbalance, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.time_ms", 30.0);
/// for (core, pct) in [95.0, 10.0, 12.0, 8.0].into_iter().enumerate() {
///     t.track_metric(&rfm_perf::names::cpu_core(core), pct);
/// }
/// let snapshot = t.publish_snapshot();
/// let s = CoreImbalance.suggest(&RuleContext::new(&snapshot));
/// assert_eq!(s[0].id, "single_threaded");
/// assert!(s[0].evidence.contains("core 0 is 95 % busy"));
/// ```
pub struct CoreImbalance;

impl SuggestionRule for CoreImbalance {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        if ctx
            .snapshot
            .value(names::FRAME_TIME_MS)
            .is_none_or(|ms| ms <= 1000.0 / 60.0)
        {
            return Vec::new();
        }
        let cores: Vec<f64> = (0..1024)
            .map_while(|n| ctx.snapshot.value(&names::cpu_core(n)))
            .collect();
        if cores.len() < 2 {
            return Vec::new();
        }
        let (busiest, top) = cores
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        let others = (cores.iter().sum::<f64>() - top) / (cores.len() - 1) as f64;
        if top < 85.0 || others > 40.0 {
            return Vec::new();
        }
        let scope = ctx
            .scopes
            .iter()
            .max_by(|a, b| a.self_ms.total_cmp(&b.self_ms))
            .map_or(String::new(), |s| {
                format!(
                    "; the slowest scope by self time is {} ({:.0} % of the frame)",
                    s.name, s.frame_pct
                )
            });
        vec![Suggestion {
            id: "single_threaded".into(),
            title: "Spread the work over the idle cores".into(),
            evidence: format!(
                "core {busiest} is {top:.0} % busy while the other {} average {others:.0} %: the frame waits on one thread{scope}",
                cores.len() - 1
            ),
            ..Default::default()
        }]
    }
}

/// Many heap allocations per frame (with the counting allocator): reuse buffers.
///
/// ```
/// use rfm_perf::analysis::{AllocationChurn, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("process.allocs_per_frame", 12_000.0);
/// t.track_metric("process.alloc_bytes_per_frame", 3.0e6);
/// let snapshot = t.publish_snapshot();
/// let s = AllocationChurn.suggest(&RuleContext::new(&snapshot));
/// assert_eq!(s[0].id, "allocation_churn");
/// assert!(s[0].evidence.contains("12000 heap allocations per frame"));
/// ```
pub struct AllocationChurn;

/// Allocations per frame from which [`AllocationChurn`] speaks.
const CHURN_ALLOCS: f64 = 5_000.0;

impl SuggestionRule for AllocationChurn {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let Some(allocs) = ctx
            .snapshot
            .value(names::PROCESS_ALLOCS_PER_FRAME)
            .filter(|a| *a >= CHURN_ALLOCS)
        else {
            return Vec::new();
        };
        let bytes = ctx
            .snapshot
            .value(crate::base::PROCESS_ALLOC_BYTES_PER_FRAME)
            .map_or(String::new(), |b| format!(" ({:.1} MB)", b / 1e6));
        vec![Suggestion {
            id: "allocation_churn".into(),
            title: "Allocate less per frame".into(),
            evidence: format!(
                "{allocs:.0} heap allocations per frame{bytes}: reuse buffers (clear and refill a Vec, a Local<Vec<_>> in a system) instead of building new ones each frame"
            ),
            ..Default::default()
        }]
    }
}

/// Uneven frames: the slowest 1 % far slower than the mean, so the game stutters at an average
/// that looks fine.
///
/// ```
/// use rfm_perf::analysis::{FramePacing, RuleContext, SuggestionRule};
/// let t = rfm_perf::PerformanceTracker::new();
/// t.track_metric("frame.fps", 60.0);
/// t.track_metric("frame.fps_1pct_low", 18.0);
/// let snapshot = t.publish_snapshot();
/// let s = FramePacing.suggest(&RuleContext::new(&snapshot));
/// assert_eq!(s[0].id, "frame_pacing");
/// ```
pub struct FramePacing;

impl SuggestionRule for FramePacing {
    fn suggest(&self, ctx: &RuleContext<'_>) -> Vec<Suggestion> {
        let (Some(fps), Some(low)) = (
            ctx.snapshot.value(names::FRAME_FPS),
            ctx.snapshot.value(names::FRAME_FPS_1PCT_LOW),
        ) else {
            return Vec::new();
        };
        if !(fps > 0.0 && low > 0.0) || low >= 0.5 * fps {
            return Vec::new();
        }
        vec![Suggestion {
            id: "frame_pacing".into(),
            title: "Even out the frame pacing".into(),
            evidence: format!(
                "{fps:.0} FPS on average but {low:.0} FPS in the slowest 1 % of frames ({:.1} ms vs {:.1} ms): look for the spikes in the timeline and for work done every few frames (loading, allocation bursts, regression checks)",
                1000.0 / low,
                1000.0 / fps
            ),
            ..Default::default()
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::suggestions::snapshot_of as snapshot;

    #[test]
    fn quiet_cases_make_no_suggestion() {
        // balanced cores, a fast frame, few allocations, even pacing
        let s = snapshot(&[
            (names::FRAME_TIME_MS, 30.0),
            (&names::cpu_core(0), 90.0),
            (&names::cpu_core(1), 85.0),
            (names::PROCESS_ALLOCS_PER_FRAME, 200.0),
            (names::FRAME_FPS, 33.0),
            (names::FRAME_FPS_1PCT_LOW, 25.0),
        ]);
        let ctx = RuleContext::new(&s);
        assert!(CoreImbalance.suggest(&ctx).is_empty());
        assert!(AllocationChurn.suggest(&ctx).is_empty());
        assert!(FramePacing.suggest(&ctx).is_empty());
        let fast = snapshot(&[
            (names::FRAME_TIME_MS, 10.0),
            (&names::cpu_core(0), 99.0),
            (&names::cpu_core(1), 1.0),
        ]);
        assert!(CoreImbalance.suggest(&RuleContext::new(&fast)).is_empty());
        // one core only: nothing to balance
        let one = snapshot(&[(names::FRAME_TIME_MS, 30.0), (&names::cpu_core(0), 99.0)]);
        assert!(CoreImbalance.suggest(&RuleContext::new(&one)).is_empty());
    }
}
