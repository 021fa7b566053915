//! Baselines (median, p95 and sample count of a window per metric) and regression detection.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BaselineError;
use crate::stats::{quantile_sorted, sorted_finite};

/// Format version of baseline files this build reads and writes.
pub const BASELINE_FORMAT_VERSION: u32 = 1;

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
}

impl Default for BaselineSet {
    fn default() -> Self {
        Self {
            version: BASELINE_FORMAT_VERSION,
            captured_unix_s: 0.0,
            window_s: 0.0,
            metrics: BTreeMap::new(),
        }
    }
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

    /// Regressions of `current` statistics against this set: metrics whose median got worse by
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
        if found != u64::from(BASELINE_FORMAT_VERSION) {
            return Err(BaselineError::Version {
                path: path.to_path_buf(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                expected: BASELINE_FORMAT_VERSION,
            });
        }
        let set: BaselineSet = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
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
}
