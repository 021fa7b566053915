//! The headless benchmark's JSON report: what ran, the per-frame records and the summaries, and
//! its human-readable table.

use serde::{Deserialize, Serialize};

use super::Percentiles;
use crate::base::EscapeHistogram;
use crate::fractal::Precision;
use rfm_perf_core::RunReport;
use rfm_perf_core::adaptive_quality::QualityStep;

/// One frame of the benchmark.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Frame index.
    pub frame: u32,
    /// View width.
    pub view_width: f64,
    /// Arithmetic used.
    pub precision: Precision,
    /// Wall time of the frame (ms).
    pub frame_ms: f64,
    /// Iterations of the latest read-back frame (nominal).
    pub iterations: u64,
    /// Iterations the GPU really ran for it (fewer with the interior checks).
    #[serde(default)]
    pub iterations_computed: u64,
    /// Generation of the frame's parameters.
    #[serde(default)]
    pub generation: u32,
    /// GPU time of the pass for this frame (ms), when timed.
    #[serde(default)]
    pub gpu_ms: Option<f64>,
    /// What the cost model predicted for it from the frames before (ms).
    #[serde(default)]
    pub predicted_gpu_ms: Option<f64>,
    /// Resolution scale the frame ran with.
    #[serde(default = "one")]
    pub resolution_scale: f64,
    /// Iteration limit the frame ran with.
    #[serde(default)]
    pub max_iter: u32,
}

fn one() -> f64 {
    1.0
}

/// What adaptive quality did during the run (`--adaptive-fps N`), judged on the raw frame
/// times: how soon it got under the budget, and how well it held it after the first quarter.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdaptiveReport {
    /// The frame rate held.
    pub target_fps: f64,
    /// Its frame-time budget (ms).
    pub budget_ms: f64,
    /// The first frame at or under the budget, and the run time before it (s).
    pub under_budget_at: Option<(u32, f64)>,
    /// The longest run of consecutive frames over the budget: frames, and seconds (how long
    /// the controller took to recover from the worst jump in cost).
    #[serde(default)]
    pub longest_over_budget: (u32, f64),
    /// Frame times after the first quarter of the run (ms).
    pub after_first_quarter_ms: Option<Percentiles>,
    /// Direction reversals.
    pub reversals: u32,
    /// The most reversals within any 10 s of the run.
    pub max_reversals_per_10s: u32,
    /// Its steps, in order.
    pub steps: Vec<QualityStep>,
}

impl AdaptiveReport {
    /// Under budget within max(1 s, 8 frames); after the first quarter p95 ≤ 1.10× and median
    /// ≥ 0.6× the budget; at most one reversal per 10 s.
    pub fn holds(&self) -> bool {
        let soon = self
            .under_budget_at
            .is_some_and(|(frame, s)| frame <= 8 || s <= 1.0);
        let held = self
            .after_first_quarter_ms
            .is_some_and(|p| p.p95 <= 1.10 * self.budget_ms && p.p50 >= 0.6 * self.budget_ms);
        soon && held && self.max_reversals_per_10s <= 1
    }
}

/// How well the cost model predicted the run's frames before learning each (prequential).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct CostModelReport {
    /// Timed frames learnt.
    pub observed: u64,
    /// Frames scored (after the warm-up).
    pub scored: u64,
    /// Frames not scored at the start.
    pub warmup: u64,
    /// Mean absolute percentage error of the GPU pass time (share: 0.1 = 10 %).
    pub mape: Option<f64>,
    /// Share of measured times inside the 90 % prediction interval.
    pub interval_coverage: Option<f64>,
}

/// The benchmark's JSON report. Its [`RunReport`] part (schema version, scenario, machine,
/// versions, per-metric summaries and raw values) is what `rfm-perf compare` reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchmarkReport {
    /// Schema, scenario, machine, versions and the per-metric series.
    #[serde(flatten)]
    pub run: RunReport,
    /// Adapter name.
    pub adapter: String,
    /// Backend.
    pub backend: String,
    /// Render size.
    pub width: u32,
    /// Render size.
    pub height: u32,
    /// Frames measured.
    pub frames: u32,
    /// Iteration limit.
    pub max_iter: u32,
    /// Frame wall time (ms).
    pub frame_ms: Percentiles,
    /// GPU time of the pass (ms), when the adapter has timestamp queries.
    pub gpu_pass_ms: Option<Percentiles>,
    /// Why `gpu_pass_ms` is absent.
    pub gpu_pass_missing_reason: Option<String>,
    /// CPU time encoding the pass (ms).
    pub cpu_encode_ms: Option<Percentiles>,
    /// Iterations per second of wall time (all frames' iterations / total time).
    pub iterations_per_s: f64,
    /// Iterations per second of GPU pass time, when measured.
    pub gpu_iterations_per_s: Option<f64>,
    /// Megapixels per second of wall time.
    pub mpixels_per_s: f64,
    /// Whether the interior checks were on.
    #[serde(default)]
    pub interior_check: bool,
    /// Iterations the GPU really ran / nominal iterations, over the run (1 without the checks).
    #[serde(default)]
    pub computed_share: Option<f64>,
    /// Whether the pass coloured by cost (the heatmap).
    #[serde(default)]
    pub heatmap: bool,
    /// The escaped pixels of every measured frame by the iteration they escaped at.
    #[serde(default)]
    pub escape_histogram: Option<EscapeHistogram>,
    /// Share of each frame's computed iterations in its costliest 10 % of 32×32 tiles (%).
    #[serde(default)]
    pub cost_hottest_share: Option<Percentiles>,
    /// How much of the last frames (the tracker's trace window) named work and GPU waits
    /// cover ([`span_coverage`](crate::span_coverage)); frames are Bevy's `update` spans, so
    /// only with the `bevy-spans` feature.
    #[serde(default)]
    pub span_coverage: rfm_perf_core::TraceCoverage,
    /// The scopes with the most self time per frame at the end of the run (ms per frame),
    /// Bevy's systems and passes among them with the `bevy-spans` feature.
    #[serde(default)]
    pub top_scopes: Vec<(String, f64)>,
    /// The frame breakdown at the end of the run (the analysis plugin's), when it ran.
    #[serde(default, skip_deserializing)]
    pub breakdown: Option<crate::FrameBreakdown>,
    /// Frames rendered in df64.
    pub df64_frames: u32,
    /// Frames rendered by perturbation (f32 or extended-exponent deltas).
    #[serde(default)]
    pub perturbation_frames: u32,
    /// The narrowest view width of the run.
    #[serde(default)]
    pub deepest_width: f64,
    /// Where the API served during the run (`http://ADDR/`), when it did.
    #[serde(default)]
    pub api_address: Option<String>,
    /// The cost model's prequential accuracy on the run, when the pass was timed.
    #[serde(default)]
    pub cost_model: Option<CostModelReport>,
    /// What adaptive quality did, when it ran.
    #[serde(default)]
    pub adaptive: Option<AdaptiveReport>,
    /// Per frame.
    pub path: Vec<FrameRecord>,
}

impl BenchmarkReport {
    /// A human-readable summary.
    pub fn summary_table(&self) -> String {
        let p = |x: &Option<Percentiles>| {
            x.map_or("n/a".to_string(), |p| {
                format!("{:>8.3} {:>8.3} {:>8.3}", p.p50, p.p95, p.p99)
            })
        };
        let mut s = String::new();
        s += &format!(
            "scenario           {} (crate {}{})\n",
            self.run.scenario,
            self.run.crate_version,
            self.run
                .git_commit
                .as_ref()
                .map_or(String::new(), |c| format!(" at {c}"))
        );
        s += &format!("adapter            {} ({})\n", self.adapter, self.backend);
        s += &format!(
            "view               {}×{}, {} frames ({} in df64, {} by perturbation), max_iter {}, deepest width {:.3e}\n",
            self.width,
            self.height,
            self.frames,
            self.df64_frames,
            self.perturbation_frames,
            self.max_iter,
            self.deepest_width
        );
        s += "                        p50      p95      p99  (ms)\n";
        s += &format!("frame time         {}\n", p(&Some(self.frame_ms)));
        s += &format!(
            "GPU pass           {}{}\n",
            p(&self.gpu_pass_ms),
            self.gpu_pass_missing_reason
                .as_ref()
                .map_or(String::new(), |r| format!("  ({r})"))
        );
        s += &format!("CPU encode         {}\n", p(&self.cpu_encode_ms));
        s += &format!(
            "iterations/s       {:.3e} wall{}\n",
            self.iterations_per_s,
            self.gpu_iterations_per_s
                .map_or(String::new(), |g| format!(", {g:.3e} GPU-pass"))
        );
        s += &format!("Mpixel/s           {:.2}\n", self.mpixels_per_s);
        s += &format!(
            "interior checks    {}{}\n",
            if self.interior_check { "on" } else { "off" },
            self.computed_share.map_or(String::new(), |c| format!(
                ": the GPU ran {:.1} % of the nominal iterations",
                c * 100.0
            ))
        );
        if let Some(h) = &self.escape_histogram
            && let (Some(p50), Some(p99)) = (h.quantile(0.5), h.quantile(0.99))
        {
            s += &format!(
                "escaped pixels     {}: half by iteration {p50}, 99 % by {p99} (limit {})\n",
                h.escaped(),
                h.max_iter
            );
        }
        if let Some(c) = &self.cost_hottest_share {
            s += &format!(
                "cost hot spots     the costliest 10 % of tiles hold {:.0} % of the work (median frame)\n",
                c.p50
            );
        }
        if let Some(c) = self.span_coverage.ratio() {
            s += &format!(
                "span coverage      named work and GPU waits cover {:.1} % of the last {} frames' wall time (any thread)\n",
                c * 100.0,
                self.span_coverage.frames
            );
        }
        if let Some(b) = &self.breakdown
            && let Some(frame) = b.frame_ms
        {
            let parts: Vec<String> = b
                .shares
                .iter()
                .filter(|s| s.ms > 0.0)
                .map(|s| format!("{} {:.0} %", s.label, s.ms / frame * 100.0))
                .collect();
            s += &format!("frame breakdown    {}\n", parts.join(", "));
        }
        if !self.top_scopes.is_empty() {
            s += "top scopes         self time per frame:\n";
            for (name, ms) in &self.top_scopes {
                s += &format!("                   {ms:>9.3} ms  {name}\n");
            }
        }
        if let Some(c) = &self.cost_model
            && let Some(mape) = c.mape
        {
            s += &format!(
                "cost model         GPU pass MAPE {:.1} % over {} frames (each predicted before it was learnt, after the first {}){}\n",
                mape * 100.0,
                c.scored,
                c.warmup,
                c.interval_coverage.map_or(String::new(), |v| format!(
                    "; {:.0} % inside the 90 % interval",
                    v * 100.0
                ))
            );
        }
        if let Some(a) = &self.adaptive {
            s += &format!(
                "adaptive quality   {:.0} FPS ({:.1} ms): {} steps, {} reversals (at most {} per 10 s){}\n",
                a.target_fps,
                a.budget_ms,
                a.steps.len(),
                a.reversals,
                a.max_reversals_per_10s,
                a.under_budget_at
                    .map_or(", never under budget".to_string(), |(f, t)| format!(
                        ", under budget from frame {f} ({t:.2} s)"
                    ))
            );
            s += &format!(
                "                   longest stretch over budget: {} frames ({:.2} s)\n",
                a.longest_over_budget.0, a.longest_over_budget.1
            );
            if let Some(p) = &a.after_first_quarter_ms {
                s += &format!(
                    "                   after the first quarter: median {:.1} ms ({:.2}× budget), p95 {:.1} ms ({:.2}×): {}\n",
                    p.p50,
                    p.p50 / a.budget_ms,
                    p.p95,
                    p.p95 / a.budget_ms,
                    if a.holds() {
                        "holds the budget"
                    } else {
                        "does NOT hold the budget"
                    }
                );
            }
        }
        if let Some(api) = &self.api_address {
            s += &format!("API (while running) {api}\n");
        }
        s
    }
}
