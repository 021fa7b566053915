//! Errors of the tracker's `try_` methods and of baseline files.

use std::path::PathBuf;

/// Why a value or name was rejected.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// assert!(matches!(t.try_track_metric("", 1.0), Err(rfm_perf_core::TrackError::EmptyName)));
/// assert!(matches!(t.try_track_metric("x", f64::NAN), Err(rfm_perf_core::TrackError::NonFinite { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackError {
    /// Metric and timer names must be non-empty.
    #[error("metric name is empty")]
    EmptyName,
    /// NaN and ±infinity are not stored.
    #[error("metric {name:?}: value {value} is not finite (NaN or infinite values are not stored)")]
    NonFinite {
        /// The metric.
        name: String,
        /// The rejected value.
        value: f64,
    },
    /// `end_timer` for a timer this thread has not started (or already ended).
    #[error("timer {0:?} was not started on this thread")]
    NotStarted(String),
}

/// Why baselines could not be loaded or saved. The in-memory baselines are unchanged.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// let err = t.load_baselines("/nonexistent/baselines.json").unwrap_err();
/// assert!(matches!(err, rfm_perf_core::BaselineError::Missing(_)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file does not exist.
    #[error("baseline file {0} does not exist")]
    Missing(PathBuf),
    /// Reading or writing failed.
    #[error("baseline file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a baseline file (bad JSON or wrong shape).
    #[error("baseline file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The file was written by another format version.
    #[error("baseline file {path} has format version {found}, this build reads version {expected}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        expected: u32,
    },
}
