//! Benchmark run reports that compare across runs and machines: a versioned schema with the
//! scenario, the hardware fingerprint, versions, per-metric summaries and the raw values, and
//! the side-by-side comparison of two reports with the same significance test as baselines.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::significance::{Effect, compare_paired, compare_samples};
use crate::stats::{quantile_sorted, sorted_finite};
use crate::{Direction, HardwareFingerprint};

/// Schema version of run reports this build writes and reads.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One metric of a run: its summary and its raw per-frame values.
///
/// ```
/// let m = rfm_perf_core::MetricSeries::of(&[1.0, 2.0, 3.0, 4.0, 100.0], "ms", rfm_perf_core::Direction::LowerIsBetter);
/// assert_eq!((m.n, m.median, m.mad), (5, 3.0, 1.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// Finite values.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Median absolute deviation.
    pub mad: f64,
    /// Unit symbol.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// The raw values, in order.
    pub values: Vec<f64>,
}

impl MetricSeries {
    /// The summary of `values` (non-finite ones dropped).
    pub fn of(values: &[f64], unit: &str, direction: Direction) -> Self {
        let v = sorted_finite(values);
        let median = if v.is_empty() {
            f64::NAN
        } else {
            quantile_sorted(&v, 0.5)
        };
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let q = |s: &[f64], p: f64| {
            if s.is_empty() {
                f64::NAN
            } else {
                quantile_sorted(s, p)
            }
        };
        Self {
            n: v.len(),
            median,
            p95: q(&v, 0.95),
            p99: q(&v, 0.99),
            mad: q(&dev, 0.5),
            unit: unit.to_string(),
            direction,
            values: values.iter().copied().filter(|x| x.is_finite()).collect(),
        }
    }
}

/// What ran, where, with what: the part of a benchmark report that comparisons read.
/// Reports may carry more fields (the headless benchmark's do); they are ignored here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Schema version ([`REPORT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Scenario name.
    #[serde(default = "crate::fingerprint::default_scenario")]
    pub scenario: String,
    /// The machine.
    #[serde(default)]
    pub hardware: HardwareFingerprint,
    /// Version of the crate that measured.
    #[serde(default)]
    pub crate_version: String,
    /// Git commit of the code measured, when known.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Per metric.
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricSeries>,
}

/// A report that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading failed.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a report of this schema.
    #[error("{path} is not a run report: {reason}")]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// Another schema version.
    #[error("{path} has report schema {found}; this build reads schema {expected}")]
    Version {
        /// The file.
        path: std::path::PathBuf,
        /// In the file.
        found: u64,
        /// Read by this build.
        expected: u32,
    },
}

impl RunReport {
    /// Reads a report (any JSON with the schema's fields), checking its schema version.
    ///
    /// ```
    /// let err = rfm_perf_core::RunReport::load("/no/such.json").unwrap_err();
    /// assert!(err.to_string().contains("could not read"));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ReportError> {
        Self::load_with_json(path).map(|(report, _)| report)
    }

    /// [`load`](Self::load), also returning the file's whole JSON (fields this schema does not
    /// name included), read once.
    ///
    /// ```
    /// assert!(rfm_perf_core::RunReport::load_with_json("/no/such.json").is_err());
    /// ```
    pub fn load_with_json(
        path: impl AsRef<Path>,
    ) -> Result<(Self, serde_json::Value), ReportError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |reason: String| ReportError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        let found = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                invalid("no \"schema_version\" (reports before schema 1 cannot be compared)".into())
            })?;
        if found != u64::from(REPORT_SCHEMA_VERSION) {
            return Err(ReportError::Version {
                path: path.to_path_buf(),
                found,
                expected: REPORT_SCHEMA_VERSION,
            });
        }
        let report = Self::deserialize(&value).map_err(|e| invalid(e.to_string()))?;
        Ok((report, value))
    }
}

/// One metric of two runs side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricComparison {
    /// Metric name.
    pub metric: String,
    /// Unit symbol.
    pub unit: String,
    /// Median of the first run.
    pub before: f64,
    /// Median of the second run.
    pub after: f64,
    /// `after / before`.
    pub ratio: f64,
    /// Relative change, positive = worse by the metric's direction (for a neutral metric:
    /// positive = larger).
    pub change: f64,
    /// The change as a Hodges–Lehmann estimate with its `1 − alpha` interval, oriented like
    /// `change`, when both runs have at least 2 values.
    pub effect: Option<Effect>,
    /// Two-sided p-value: the sign test of the per-pair changes when `paired`, else
    /// Mann–Whitney.
    pub p_value: Option<f64>,
    /// Whether the values were compared pair by pair: the same scenario and as many values in
    /// both runs (each frame of a fixed benchmark path against itself).
    pub paired: bool,
    /// Whether `p_value < alpha` (with at least 8 values a side).
    pub significant: bool,
    /// Significant and worse by at least the threshold.
    pub regression: bool,
}

/// Every metric the two runs share, compared at `alpha` with regressions at `threshold`
/// (relative), in name order.
///
/// ```
/// use rfm_perf_core::{Direction, MetricSeries, RunReport, compare_runs};
/// let run = |ms: f64| RunReport {
///     schema_version: 1, scenario: "zoom".into(), hardware: Default::default(),
///     crate_version: "0.1.0".into(), git_commit: None,
///     metrics: [("frame_ms".to_string(), MetricSeries::of(&(0..40).map(|i| ms + (i % 4) as f64 * 0.1).collect::<Vec<_>>(), "ms", Direction::LowerIsBetter))].into(),
/// };
/// let rows = compare_runs(&run(10.0), &run(15.0), 0.01, 0.2);
/// assert!(rows[0].regression && (rows[0].ratio - 1.5).abs() < 0.02);
/// assert!(!compare_runs(&run(10.0), &run(10.0), 0.01, 0.2)[0].significant);
/// ```
pub fn compare_runs(
    before: &RunReport,
    after: &RunReport,
    alpha: f64,
    threshold: f64,
) -> Vec<MetricComparison> {
    before
        .metrics
        .iter()
        .filter_map(|(name, a)| {
            let b = after.metrics.get(name)?;
            let ratio = b.median / a.median;
            let change = a
                .direction
                .worse_change(a.median, b.median)
                .unwrap_or(ratio - 1.0);
            let paired = before.scenario == after.scenario && a.values.len() == b.values.len();
            let compared = if paired {
                compare_paired(&a.values, &b.values, alpha)
            } else {
                compare_samples(&a.values, &b.values, alpha)
            };
            let enough =
                a.n >= crate::MIN_REGRESSION_SAMPLES && b.n >= crate::MIN_REGRESSION_SAMPLES;
            let significant = enough && compared.is_some_and(|c| c.p_value < alpha);
            let effect = compared.map(|c| c.change.oriented(a.direction));
            Some(MetricComparison {
                metric: name.clone(),
                unit: a.unit.clone(),
                before: a.median,
                after: b.median,
                ratio,
                change,
                effect,
                p_value: compared.map(|c| c.p_value),
                paired,
                significant,
                regression: significant && a.direction != Direction::Neutral && change >= threshold,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_schema_versions_and_old_reports_are_refused_clearly() {
        let dir = std::env::temp_dir().join(format!("rfm-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.json");
        std::fs::write(&path, br#"{"schema_version": 2, "metrics": {}}"#).unwrap();
        let e = RunReport::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("schema 2") && e.contains("reads schema 1"),
            "{e}"
        );
        std::fs::write(&path, br#"{"adapter": "llvmpipe", "frames": 60}"#).unwrap();
        let e = RunReport::load(&path).unwrap_err().to_string();
        assert!(e.contains("no \"schema_version\""), "{e}");
        std::fs::write(&path, b"{ not json").unwrap();
        assert!(matches!(
            RunReport::load(&path),
            Err(ReportError::Invalid { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A benchmark path whose frames cost 2..20 ms, with 2 % noise per frame.
    fn path_run(scenario: &str, factor: f64, seed: u64) -> RunReport {
        let mut rng = crate::test_rng::SeededRng(seed);
        let values: Vec<f64> = (0..120)
            .map(|i| (2.0 + f64::from(i % 19)) * factor * (0.02 * rng.normal()).exp())
            .collect();
        RunReport {
            schema_version: 1,
            scenario: scenario.into(),
            hardware: HardwareFingerprint::default(),
            crate_version: String::new(),
            git_commit: None,
            metrics: [(
                "frame_ms".to_string(),
                MetricSeries::of(&values, "ms", Direction::LowerIsBetter),
            )]
            .into(),
        }
    }

    #[test]
    fn the_same_path_is_compared_frame_by_frame() {
        // 5 % slower along a path whose frames differ tenfold: found when paired
        let rows = compare_runs(&path_run("p", 1.0, 1), &path_run("p", 1.05, 2), 0.01, 0.02);
        assert!(rows[0].paired && rows[0].significant, "{:?}", rows[0]);
        let e = rows[0].effect.unwrap();
        assert!(e.low > 0.03 && e.high < 0.07, "{e:?}");
        assert!(rows[0].regression);
        // unpaired (another scenario), the same data is lost in the path's spread
        let rows = compare_runs(&path_run("p", 1.0, 1), &path_run("q", 1.05, 2), 0.01, 0.02);
        assert!(!rows[0].paired && !rows[0].significant, "{:?}", rows[0]);
        // two runs of the same path without a change: noise
        for seed in 3..13 {
            let rows = compare_runs(
                &path_run("p", 1.0, 1),
                &path_run("p", 1.0, seed),
                0.01,
                0.02,
            );
            assert!(!rows[0].regression, "seed {seed}: {:?}", rows[0]);
        }
    }

    #[test]
    fn higher_is_better_drops_are_worse_and_empty_series_are_harmless() {
        let fps = |v: f64| RunReport {
            schema_version: 1,
            scenario: "s".into(),
            hardware: HardwareFingerprint::default(),
            crate_version: String::new(),
            git_commit: None,
            metrics: [(
                "fps".to_string(),
                MetricSeries::of(
                    &(0..30).map(|i| v + f64::from(i % 3)).collect::<Vec<_>>(),
                    "fps",
                    Direction::HigherIsBetter,
                ),
            )]
            .into(),
        };
        let rows = compare_runs(&fps(60.0), &fps(30.0), 0.01, 0.2);
        assert!(rows[0].regression && rows[0].change > 0.45);
        assert!(rows[0].effect.unwrap().estimate > 0.45);
        let empty = MetricSeries::of(&[], "ms", Direction::LowerIsBetter);
        assert_eq!(empty.n, 0);
        assert!(empty.median.is_nan());
    }
}
