//! Baselines (median, p95, sample count and a bounded sample of raw values per metric) and
//! regression detection that survives noise: a change must be large enough *and* significant.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BaselineError;
use crate::significance::{Effect, compare_samples, p_value};
use crate::stats::{quantile_sorted, sorted_finite};

/// Format version of baseline files this build writes. Version 2 added the raw samples; it
/// reads version 1 files too (their metrics have no samples: not testable).
pub const BASELINE_FORMAT_VERSION: u32 = 2;
/// Raw values a baseline keeps per metric (evenly spaced over its window).
pub const MAX_BASELINE_SAMPLES: usize = 512;
/// Fewer finite values than this on either side is "insufficient data", never a regression.
pub const MIN_REGRESSION_SAMPLES: usize = 8;

/// Up to `max` values evenly spaced over `values` (all of them when there are fewer).
///
/// ```
/// let v: Vec<f64> = (0..1000).map(f64::from).collect();
/// let s = rfm_perf_core::evenly_spaced(&v, 4);
/// assert_eq!(s, vec![0.0, 250.0, 500.0, 750.0]);
/// ```
pub fn evenly_spaced(values: &[f64], max: usize) -> Vec<f64> {
    if values.len() <= max {
        return values.to_vec();
    }
    (0..max).map(|i| values[i * values.len() / max]).collect()
}

/// One metric's baseline statistics.
///
/// ```
/// let s = rfm_perf_core::BaselineStat::from_values(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
/// assert_eq!(s.median, 3.0);
/// assert_eq!(s.samples, 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineStat {
    /// Median of the window.
    pub median: f64,
    /// 95th percentile of the window.
    pub p95: f64,
    /// Number of samples in the window.
    pub samples: usize,
}

impl BaselineStat {
    /// Median, p95 and count of the finite `values` ([quantiles](crate::stats) interpolated
    /// between closest ranks), `None` when there is none.
    ///
    /// ```
    /// assert!(rfm_perf_core::BaselineStat::from_values(&[]).is_none());
    /// ```
    pub fn from_values(values: &[f64]) -> Option<Self> {
        let v = sorted_finite(values);
        if v.is_empty() {
            return None;
        }
        Some(Self {
            median: quantile_sorted(&v, 0.5),
            p95: quantile_sorted(&v, 0.95),
            samples: v.len(),
        })
    }
}

/// A set of baselines, as saved to and loaded from a file.
///
/// ```
/// let set = rfm_perf_core::BaselineSet::default();
/// assert_eq!(set.version, rfm_perf_core::BASELINE_FORMAT_VERSION);
/// assert!(set.metrics.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineSet {
    /// File format version.
    pub version: u32,
    /// Seconds since the Unix epoch when captured.
    pub captured_unix_s: f64,
    /// Length of the window the statistics cover (s).
    pub window_s: f64,
    /// Statistics per metric name.
    pub metrics: BTreeMap<String, BaselineStat>,
    /// Raw values per metric (at most [`MAX_BASELINE_SAMPLES`], evenly spaced over the window),
    /// what the significance test needs; empty in files of version 1.
    #[serde(default)]
    pub samples: BTreeMap<String, Vec<f64>>,
    /// The scenario and machine it was captured on (default scenario, unknown machine in files
    /// of version 1).
    #[serde(default)]
    pub key: crate::BaselineKey,
}

impl Default for BaselineSet {
    fn default() -> Self {
        Self {
            version: BASELINE_FORMAT_VERSION,
            captured_unix_s: 0.0,
            window_s: 0.0,
            metrics: BTreeMap::new(),
            samples: BTreeMap::new(),
            key: crate::BaselineKey::default(),
        }
    }
}

/// How [`BaselineSet::assess`] decides: a metric regressed when its median got worse by at
/// least `threshold` (relative) **and** the Mann–Whitney test says the difference is real at
/// level `alpha`, with at least `min_samples` values a side.
///
/// ```
/// let t = rfm_perf_core::RegressionTest::new(0.2);
/// assert_eq!((t.alpha, t.min_samples), (0.01, 8));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionTest {
    /// Smallest relative worsening of the median that counts (non-positive or non-finite: 0.2).
    pub threshold: f64,
    /// Significance level of the two-sided test, and `1 − alpha` is the effect's interval.
    pub alpha: f64,
    /// Values each side needs ([`MIN_REGRESSION_SAMPLES`] by default).
    pub min_samples: usize,
}

impl RegressionTest {
    /// The test at `threshold`, α = 0.01 and [`MIN_REGRESSION_SAMPLES`].
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold: if threshold.is_finite() && threshold > 0.0 {
                threshold
            } else {
                0.2
            },
            alpha: 0.01,
            min_samples: MIN_REGRESSION_SAMPLES,
        }
    }

    /// The same test at significance level `alpha`.
    pub fn with_alpha(self, alpha: f64) -> Self {
        Self {
            alpha: if alpha.is_finite() && alpha > 0.0 && alpha < 1.0 {
                alpha
            } else {
                0.01
            },
            ..self
        }
    }
}

/// What the regression check concluded for one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse by at least the threshold, and significant.
    Regression,
    /// Worse by at least the threshold, but within the noise (p ≥ alpha).
    NotSignificant,
    /// Not worse by the threshold (or better).
    WithinThreshold,
    /// Fewer than the minimum of values on a side.
    InsufficientData,
    /// The baseline has no raw values (a version 1 file): only the medians can be compared.
    NoSamples,
}

/// One metric's comparison with its baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Verdict.
    pub verdict: Verdict,
    /// The report (every field filled as far as the data allows).
    pub report: RegressionReport,
}

impl BaselineSet {
    /// Writes the set as JSON atomically: a temporary file in the same folder, then a rename.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("rfm-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("b.json");
    /// rfm_perf_core::BaselineSet::default().save(&path).unwrap();
    /// assert_eq!(rfm_perf_core::BaselineSet::load(&path).unwrap().metrics.len(), 0);
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), BaselineError> {
        let path = path.as_ref();
        let io = |source| BaselineError::Io {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // unique per process and per call, so concurrent saves never share a temporary file
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Every metric of `current` raw values that has a baseline and a direction, assessed with
    /// `test` (see [`RegressionTest`]), worst change first. Neutral or unknown metrics are
    /// skipped.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use rfm_perf_core::{BaselineSet, BaselineStat, Direction, RegressionTest, Verdict};
    /// let base_values: Vec<f64> = (0..40).map(|i| 10.0 + (i % 7) as f64 * 0.3).collect();
    /// let mut base = BaselineSet::default();
    /// base.metrics.insert("ms".into(), BaselineStat::from_values(&base_values).unwrap());
    /// base.samples.insert("ms".into(), base_values.clone());
    /// let slow: BTreeMap<String, Vec<f64>> =
    ///     [("ms".to_string(), base_values.iter().map(|v| v * 1.6).collect())].into();
    /// let a = base.assess(&slow, |_| Some(Direction::LowerIsBetter), RegressionTest::new(0.2));
    /// assert_eq!(a[0].verdict, Verdict::Regression);
    /// let r = &a[0].report;
    /// assert!(r.p_value.unwrap() < 1e-6 && (r.effect.unwrap().estimate - 0.6).abs() < 0.05);
    /// let few: BTreeMap<String, Vec<f64>> = [("ms".to_string(), vec![99.0; 6])].into();
    /// let a = base.assess(&few, |_| Some(Direction::LowerIsBetter), RegressionTest::new(0.2));
    /// assert_eq!(a[0].verdict, Verdict::InsufficientData);
    /// ```
    pub fn assess(
        &self,
        current: &BTreeMap<String, Vec<f64>>,
        direction_of: impl Fn(&str) -> Option<crate::Direction>,
        test: RegressionTest,
    ) -> Vec<Assessment> {
        let mut out: Vec<Assessment> = current
            .iter()
            .filter_map(|(name, values)| {
                let base = self.metrics.get(name)?;
                let direction = direction_of(name)?;
                let cur = BaselineStat::from_values(values)?;
                let change = direction.worse_change(base.median, cur.median)?;
                let mut report = RegressionReport {
                    metric: name.clone(),
                    baseline: *base,
                    current: cur,
                    change,
                    severity: Severity::classify(change.max(0.0), test.threshold),
                    samples: cur.samples,
                    baseline_samples: 0,
                    p_value: None,
                    effect: None,
                };
                let base_values = self.samples.get(name).filter(|s| !s.is_empty());
                let Some(base_values) = base_values else {
                    let verdict = if change >= test.threshold {
                        Verdict::NoSamples
                    } else {
                        Verdict::WithinThreshold
                    };
                    return Some(Assessment { verdict, report });
                };
                let finite = |v: &[f64]| v.iter().filter(|x| x.is_finite()).count();
                report.baseline_samples = finite(base_values);
                let enough = report.baseline_samples >= test.min_samples
                    && finite(values) >= test.min_samples;
                // the effect and its interval only where the median moved by the threshold:
                // the rest needs the p-value alone, which is much cheaper
                if enough && change >= test.threshold {
                    if let Some(c) = compare_samples(base_values, values, test.alpha) {
                        report.p_value = Some(c.p_value);
                        report.effect = Some(c.change.oriented(direction));
                    }
                } else {
                    report.p_value = p_value(base_values, values);
                }
                let verdict = if !enough {
                    Verdict::InsufficientData
                } else if change < test.threshold {
                    Verdict::WithinThreshold
                } else if report.p_value.is_some_and(|p| p < test.alpha) {
                    Verdict::Regression
                } else {
                    Verdict::NotSignificant
                };
                Some(Assessment { verdict, report })
            })
            .collect();
        out.sort_by(|a, b| b.report.change.total_cmp(&a.report.change));
        out
    }

    /// Regressions of `current` statistics against this set by their medians alone (no
    /// significance test: for summaries without raw values): metrics whose median got worse by
    /// at least `threshold` (relative; non-positive or non-finite means 0.2), oriented by
    /// `direction_of(name)`. Neutral or unknown metrics are never flagged. Worst first.
    ///
    /// ```
    /// use rfm_perf_core::{BaselineSet, BaselineStat, Direction};
    /// let mut base = BaselineSet::default();
    /// base.metrics.insert("fps".into(), BaselineStat { median: 60.0, p95: 61.0, samples: 100 });
    /// let cur = [("fps".to_string(), BaselineStat { median: 30.0, p95: 31.0, samples: 100 })];
    /// let r = base.compare(cur, |_| Some(Direction::HigherIsBetter), 0.2);
    /// assert_eq!(r[0].change, 0.5);
    /// ```
    pub fn compare(
        &self,
        current: impl IntoIterator<Item = (String, BaselineStat)>,
        direction_of: impl Fn(&str) -> Option<crate::Direction>,
        threshold: f64,
    ) -> Vec<RegressionReport> {
        let threshold = if threshold.is_finite() && threshold > 0.0 {
            threshold
        } else {
            0.2
        };
        let mut out: Vec<RegressionReport> = current
            .into_iter()
            .filter_map(|(name, cur)| {
                let base = self.metrics.get(&name)?;
                let change = direction_of(&name)?.worse_change(base.median, cur.median)?;
                (change >= threshold).then(|| RegressionReport {
                    metric: name,
                    baseline: *base,
                    current: cur,
                    change,
                    severity: Severity::classify(change, threshold),
                    samples: cur.samples,
                    baseline_samples: 0,
                    p_value: None,
                    effect: None,
                })
            })
            .collect();
        out.sort_by(|a, b| b.change.total_cmp(&a.change));
        out
    }

    /// Reads a set written by [`save`](Self::save), checking its format version.
    ///
    /// ```
    /// let err = rfm_perf_core::BaselineSet::load("/no/such/file.json").unwrap_err();
    /// assert!(err.to_string().contains("does not exist"));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, BaselineError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                BaselineError::Missing(path.to_path_buf())
            } else {
                BaselineError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let corrupt = |reason: String| BaselineError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let found = value
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| corrupt("no \"version\" field".into()))?;
        if found != 1 && found != u64::from(BASELINE_FORMAT_VERSION) {
            return Err(BaselineError::Version {
                path: path.to_path_buf(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                expected: BASELINE_FORMAT_VERSION,
            });
        }
        let mut set: BaselineSet =
            serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        set.version = BASELINE_FORMAT_VERSION;
        for values in set.samples.values_mut() {
            values.retain(|v| v.is_finite());
        }
        if let Some((name, _)) = set
            .metrics
            .iter()
            .find(|(_, s)| !s.median.is_finite() || !s.p95.is_finite())
        {
            return Err(corrupt(format!(
                "metric {name:?} has a non-finite statistic"
            )));
        }
        Ok(set)
    }
}

/// How bad a regression is, relative to the detection threshold `t`:
/// **minor** when `t ≤ change < 2t`, **major** when `2t ≤ change < 5t`, **critical** when `change ≥ 5t`.
///
/// ```
/// use rfm_perf_core::Severity;
/// assert_eq!(Severity::classify(0.3, 0.2), Severity::Minor);
/// assert_eq!(Severity::classify(0.5, 0.2), Severity::Major);
/// assert_eq!(Severity::classify(1.0, 0.2), Severity::Critical);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// `t ≤ change < 2t`.
    Minor,
    /// `2t ≤ change < 5t`.
    Major,
    /// `change ≥ 5t`.
    Critical,
}

impl Severity {
    /// Classifies `change` against `threshold` (see the type's docs).
    pub fn classify(change: f64, threshold: f64) -> Self {
        if change >= 5.0 * threshold {
            Severity::Critical
        } else if change >= 2.0 * threshold {
            Severity::Major
        } else {
            Severity::Minor
        }
    }
}

/// A metric that got worse than its baseline by at least the threshold.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// for _ in 0..20 { t.track_metric("frame.time_ms", 10.0); }
/// t.capture_baseline();
/// t.clear_history();
/// for _ in 0..20 { t.track_metric("frame.time_ms", 15.0); }
/// let r = t.detect_regressions(0.2);
/// assert_eq!(r[0].metric, "frame.time_ms");
/// assert!((r[0].change - 0.5).abs() < 1e-9);
/// assert_eq!(r[0].severity, rfm_perf_core::Severity::Major);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Metric name.
    pub metric: String,
    /// The baseline statistics.
    pub baseline: BaselineStat,
    /// The same statistics over the current window.
    pub current: BaselineStat,
    /// Relative change of the median, positive = worse (by the metric's direction).
    pub change: f64,
    /// How bad.
    pub severity: Severity,
    /// Samples in the current window.
    pub samples: usize,
    /// Raw baseline values the test used (0 when it had none).
    #[serde(default)]
    pub baseline_samples: usize,
    /// Two-sided p-value of the Mann–Whitney test, when both sides had raw values.
    #[serde(default)]
    pub p_value: Option<f64>,
    /// The change as the Hodges–Lehmann estimate with its `1 − alpha` interval, oriented like
    /// `change` (positive = worse), when both sides had enough raw values and the median moved
    /// by at least the threshold.
    #[serde(default)]
    pub effect: Option<Effect>,
}

#[cfg(test)]
mod noise_simulation;
