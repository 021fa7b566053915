//! Baselines of the tracker's metrics: capture, save, load and the regression check.

use super::*;

impl PerformanceTracker {
    // ---------------------------------------------------------------- baselines

    /// Every metric's values over the last `window`, by name: copied under the store lock;
    /// everything else happens after it is released, so a large window never holds up the
    /// frame's collect.
    fn window_samples(&self, window: Duration) -> Vec<(String, Vec<f64>)> {
        let now = self.now_offset();
        let from = now.saturating_sub(u64::try_from(window.as_nanos()).unwrap_or(u64::MAX));
        let copied: Vec<(MetricId, Vec<f64>)> = {
            let store = lock(&self.inner.store);
            store
                .histories
                .iter()
                .enumerate()
                .filter_map(|(i, h)| Some((MetricId(i as u32), h.as_ref()?.values(from, u64::MAX))))
                .collect()
        };
        let r = self.registry();
        copied
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(id, values)| Some((r.info(id)?.name.to_string(), values)))
            .collect()
    }

    /// The values of every metric over the last `window`, at most [`MAX_BASELINE_SAMPLES`]
    /// each, evenly spaced (which also thins out neighbouring frames' correlation).
    fn window_values(&self, window: Duration) -> BTreeMap<String, Vec<f64>> {
        self.window_samples(window)
            .into_iter()
            .map(|(name, values)| (name, evenly_spaced(&values, MAX_BASELINE_SAMPLES)))
            .collect()
    }

    /// Median, p95 and count of every metric over the last `window`.
    fn window_stats(&self, window: Duration) -> Vec<(String, BaselineStat)> {
        self.window_samples(window)
            .into_iter()
            .filter_map(|(name, values)| Some((name, BaselineStat::from_values(&values)?)))
            .collect()
    }

    /// Captures the current statistics (median, p95, count over the baseline window) and up to
    /// [`MAX_BASELINE_SAMPLES`] raw values of every metric with samples as the baseline,
    /// replacing the previous baselines. Returns how many.
    pub fn capture_baseline(&self) -> usize {
        self.sync_reads();
        let window = self.config().baseline_window;
        let all = self.window_samples(window);
        let stats: Vec<(String, BaselineStat)> = all
            .iter()
            .filter_map(|(name, v)| Some((name.clone(), BaselineStat::from_values(v)?)))
            .collect();
        let samples: BTreeMap<String, Vec<f64>> = all
            .into_iter()
            .map(|(name, v)| (name, evenly_spaced(&v, MAX_BASELINE_SAMPLES)))
            .collect();
        let n = stats.len();
        lock(&self.inner.store).baselines = BaselineSet {
            captured_unix_s: crate::clock::unix_seconds(SystemTime::now()),
            window_s: window.as_secs_f64(),
            metrics: stats.into_iter().collect(),
            // sorted: every later comparison sorts them again, and sorted input is the cheap case
            samples: samples
                .into_iter()
                .map(|(name, mut v)| {
                    v.sort_by(f64::total_cmp);
                    (name, v)
                })
                .collect(),
            key: self.baseline_key(),
            ..BaselineSet::default()
        };
        n
    }

    /// The scenario and machine measured now: captured baselines are keyed by it, and
    /// comparisons say how a baseline's key differs from it.
    pub fn baseline_key(&self) -> crate::BaselineKey {
        lock(&self.inner.store).key.clone()
    }

    /// Sets the scenario (what runs now: a level, a benchmark path), keeping the hardware.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.set_scenario("deep zoom");
    /// t.update_hardware(|h| h.gpu_adapter = "llvmpipe".into());
    /// t.track_metric("m", 1.0);
    /// t.capture_baseline();
    /// assert_eq!(t.baselines().key.scenario, "deep zoom");
    /// assert_eq!(t.baselines().key.hardware.gpu_adapter, "llvmpipe");
    /// t.set_scenario("home");
    /// assert_eq!(t.baseline_differences(), vec!["scenario: deep zoom → home".to_string()]);
    /// ```
    pub fn set_scenario(&self, scenario: impl Into<String>) {
        lock(&self.inner.store).key.scenario = scenario.into();
    }

    /// Updates what is known of the machine (the app fills in CPU and memory at start, the
    /// renderer the GPU once it has one).
    pub fn update_hardware(&self, f: impl FnOnce(&mut crate::HardwareFingerprint)) {
        f(&mut lock(&self.inner.store).key.hardware);
    }

    /// How the baselines' scenario and machine differ from now's (empty: like for like).
    pub fn baseline_differences(&self) -> Vec<String> {
        let store = lock(&self.inner.store);
        store.baselines.key.differences(&store.key)
    }

    /// The current baselines.
    pub fn baselines(&self) -> BaselineSet {
        lock(&self.inner.store).baselines.clone()
    }

    /// Whether any metric has a baseline (without copying the set).
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// assert!(!t.has_baselines());
    /// t.track_metric("m", 1.0);
    /// t.capture_baseline();
    /// assert!(t.has_baselines());
    /// ```
    pub fn has_baselines(&self) -> bool {
        !lock(&self.inner.store).baselines.metrics.is_empty()
    }

    /// Replaces the baselines.
    pub fn set_baselines(&self, set: BaselineSet) {
        lock(&self.inner.store).baselines = set;
    }

    /// Saves the baselines as JSON, atomically (temporary file + rename).
    pub fn save_baselines(&self, path: impl AsRef<Path>) -> Result<(), BaselineError> {
        self.baselines().save(path)
    }

    /// Loads baselines saved by [`save_baselines`](Self::save_baselines). On a missing,
    /// corrupt or other-version file it returns the error and keeps the current baselines.
    /// Returns how many metrics were loaded.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("rfm-doc-lb-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let bad = dir.join("bad.json");
    /// std::fs::write(&bad, b"{ not json").unwrap();
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.track_metric("m", 1.0);
    /// t.capture_baseline();
    /// assert!(t.load_baselines(&bad).is_err());
    /// assert!(t.baselines().metrics.contains_key("m"));
    /// ```
    pub fn load_baselines(&self, path: impl AsRef<Path>) -> Result<usize, BaselineError> {
        let set = BaselineSet::load(path)?;
        let n = set.metrics.len();
        self.set_baselines(set);
        Ok(n)
    }

    /// Metrics that regressed against the baselines over the baseline window: the median got
    /// worse by at least `threshold` (relative, e.g. `0.2` = 20 %, oriented by each metric's
    /// direction) **and** the Mann–Whitney test finds the difference significant at
    /// [`TrackerConfig::regression_alpha`], with at least [`crate::MIN_REGRESSION_SAMPLES`] values a
    /// side. Neutral metrics are never flagged; baselines without raw values (version 1 files)
    /// are not testable and never flagged. Worst first. See [`Severity`] for the levels and
    /// [`assess_regressions`](Self::assess_regressions) for every metric's verdict.
    pub fn detect_regressions(&self, threshold: f64) -> Vec<RegressionReport> {
        self.assess_regressions(threshold)
            .into_iter()
            .filter(|a| a.verdict == Verdict::Regression)
            .map(|a| a.report)
            .collect()
    }

    /// Every metric with a baseline and a direction compared with it (see
    /// [`detect_regressions`](Self::detect_regressions)), each with its [`Verdict`], the
    /// p-value and the effect with its interval. Worst change first.
    ///
    /// ```
    /// use rfm_perf_core::Verdict;
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// for _ in 0..20 { t.track_metric("frame.time_ms", 10.0); }
    /// t.capture_baseline();
    /// t.clear_history();
    /// for _ in 0..5 { t.track_metric("frame.time_ms", 30.0); }
    /// let a = t.assess_regressions(0.2);
    /// assert_eq!(a[0].verdict, Verdict::InsufficientData);
    /// assert!(t.detect_regressions(0.2).is_empty());
    /// ```
    pub fn assess_regressions(&self, threshold: f64) -> Vec<Assessment> {
        self.sync_reads();
        let config = self.config();
        let baselines = self.baselines();
        if baselines.metrics.is_empty() {
            return Vec::new();
        }
        let current = self.window_values(config.baseline_window);
        baselines.assess(
            &current,
            |name| self.metric_info(name).map(|i| i.direction),
            RegressionTest::new(threshold).with_alpha(config.regression_alpha),
        )
    }

    /// Median, p95 and sample count of every metric with samples over the baseline window:
    /// what [`capture_baseline`](Self::capture_baseline) would store, without storing it.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// for v in [1.0, 2.0, 3.0] { t.track_metric("m", v); }
    /// assert_eq!(t.current_stats()["m"].median, 2.0);
    /// ```
    pub fn current_stats(&self) -> std::collections::BTreeMap<String, BaselineStat> {
        self.sync_reads();
        self.window_stats(self.config().baseline_window)
            .into_iter()
            .collect()
    }
}
