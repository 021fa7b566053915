//! The regression check off the frame: every metric with a baseline tested against it (the
//! Mann–Whitney test over up to 512 values a side — tens of milliseconds for hundreds of
//! metrics) on Bevy's async compute pool at the update interval. The suggestions and the
//! `change_vs_baseline` alert rules read the newest finished result (one interval old at most).

use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use rfm_perf_core::{Assessment, RegressionReport, Severity, Verdict};

use super::AnalysisSettings;
use super::alert_rules::AlertRules;
use crate::base::BackgroundJob;
use crate::base::{PerfConfig, PerfTracker};

/// The newest finished regression check (a resource).
#[derive(Resource, Clone, Default)]
pub(super) struct RegressionScan {
    latest: Arc<Mutex<Option<Arc<Vec<Assessment>>>>>,
}

impl RegressionScan {
    /// The newest assessments (empty before the first check finishes).
    pub(super) fn latest(&self) -> Arc<Vec<Assessment>> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// The regressions of at least `threshold` in `assessments` (tested at a threshold no
    /// larger), with their severity against `threshold`.
    pub(super) fn regressions(assessments: &[Assessment], threshold: f64) -> Vec<RegressionReport> {
        assessments
            .iter()
            .filter(|a| a.verdict == Verdict::Regression && a.report.change >= threshold)
            .map(|a| RegressionReport {
                severity: Severity::classify(a.report.change, threshold),
                ..a.report.clone()
            })
            .collect()
    }
}

/// Starts the check at the update interval (a check still running skips the next), at the
/// lowest threshold the suggestions and the `change_vs_baseline` rules ask for.
pub(super) fn scan_regressions(
    time: Res<'_, Time<Real>>,
    tracker: Res<'_, PerfTracker>,
    config: Res<'_, PerfConfig>,
    settings: Res<'_, AnalysisSettings>,
    rules: Res<'_, AlertRules>,
    scan: Res<'_, RegressionScan>,
    mut job: Local<'_, BackgroundJob>,
) {
    if !job.due(&time, config.update_interval) {
        return;
    }
    if !tracker.has_baselines() {
        *scan.latest.lock().unwrap_or_else(|e| e.into_inner()) = None;
        return;
    }
    let threshold = rules
        .evaluator()
        .rules()
        .lowest_change_threshold()
        .map_or(settings.regression_threshold, |t| {
            t.min(settings.regression_threshold)
        })
        .max(f64::MIN_POSITIVE);
    let tracker = tracker.0.clone();
    let slot = scan.latest.clone();
    job.start(move || {
        let found = Arc::new(tracker.assess_regressions(threshold));
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(found);
    });
}
