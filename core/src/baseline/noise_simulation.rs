//! Seeded simulations of the regression check on log-normal frame times: false alarms on
//! identical data and on a small drift, detection of real slowdowns, and old baseline files.

use std::collections::BTreeMap;

use super::*;
use crate::Direction;

use crate::test_rng::SeededRng as Rng;

impl Rng {
    /// `n` log-normal frame times with median `median` and log-spread `sigma`.
    fn frame_times(&mut self, n: usize, median: f64, sigma: f64) -> Vec<f64> {
        (0..n)
            .map(|_| median * (sigma * self.normal()).exp())
            .collect()
    }
}

fn baseline_of(values: &[f64]) -> BaselineSet {
    let mut set = BaselineSet::default();
    set.metrics.insert(
        "frame.time_ms".into(),
        BaselineStat::from_values(values).unwrap(),
    );
    set.samples.insert("frame.time_ms".into(), values.to_vec());
    set
}

/// Share of `trials` in which the check flags a regression of `factor` × the baseline (and,
/// printed for comparison, the share the median rule alone flags).
fn flagged_share(seed: u64, trials: usize, n: usize, sigma: f64, factor: f64) -> f64 {
    let mut rng = Rng(seed);
    let mut flagged = 0;
    let mut by_median = 0;
    for _ in 0..trials {
        let base = rng.frame_times(n, 10.0, sigma);
        let current = rng.frame_times(n, 10.0 * factor, sigma);
        let set = baseline_of(&base);
        let cur: BTreeMap<String, Vec<f64>> = [("frame.time_ms".to_string(), current)].into();
        let a = set.assess(
            &cur,
            |_| Some(Direction::LowerIsBetter),
            RegressionTest::new(0.2),
        );
        if a[0].verdict == Verdict::Regression {
            flagged += 1;
        }
        if a[0].report.change >= 0.2 {
            by_median += 1;
        }
    }
    println!(
        "  (median rule alone: {:.2} %)",
        100.0 * by_median as f64 / trials as f64
    );
    flagged as f64 / trials as f64
}

const SPREADS: [f64; 4] = [0.05, 0.1, 0.2, 0.3];
const TRIALS: usize = 400;

#[test]
fn at_most_one_percent_false_alarms_on_identical_data_and_a_3_percent_drift() {
    for (i, sigma) in SPREADS.into_iter().enumerate() {
        for factor in [1.0, 1.03] {
            let share = flagged_share(1 + i as u64, TRIALS, 24, sigma, factor);
            println!(
                "σ {sigma}, × {factor}, 24 a side: {:.2} % flagged",
                share * 100.0
            );
            assert!(
                share <= 0.01,
                "σ {sigma}, × {factor}: {:.2} % false alarms",
                share * 100.0
            );
        }
    }
}

#[test]
fn slowdowns_of_three_times_the_threshold_are_caught_with_20_samples_a_side() {
    for (i, sigma) in SPREADS.into_iter().enumerate() {
        let share = flagged_share(100 + i as u64, TRIALS, 20, sigma, 1.6);
        println!("σ {sigma}, × 1.6, 20 a side: {:.2} % caught", share * 100.0);
        assert!(share >= 0.95, "σ {sigma}: caught {:.1} %", share * 100.0);
    }
}

#[test]
fn the_median_rule_alone_would_false_alarm_where_the_test_does_not() {
    // six samples a side, as the API's own latency had: never a regression
    let mut rng = Rng(7);
    let base = rng.frame_times(6, 0.007, 0.3);
    let cur: BTreeMap<String, Vec<f64>> =
        [("frame.time_ms".to_string(), rng.frame_times(6, 0.181, 0.3))].into();
    let a = baseline_of(&base).assess(
        &cur,
        |_| Some(Direction::LowerIsBetter),
        RegressionTest::new(0.2),
    );
    assert_eq!(a[0].verdict, Verdict::InsufficientData);
    assert!(a[0].report.change > 10.0);
}

#[test]
fn constant_and_one_sample_series_and_effects_are_well_defined() {
    let set = baseline_of(&[5.0; 30]);
    let same: BTreeMap<String, Vec<f64>> = [("frame.time_ms".to_string(), vec![5.0; 30])].into();
    let a = set.assess(
        &same,
        |_| Some(Direction::LowerIsBetter),
        RegressionTest::new(0.2),
    );
    assert_eq!(a[0].verdict, Verdict::WithinThreshold);
    assert_eq!(a[0].report.p_value, Some(1.0));
    let one: BTreeMap<String, Vec<f64>> = [("frame.time_ms".to_string(), vec![50.0])].into();
    let a = set.assess(
        &one,
        |_| Some(Direction::LowerIsBetter),
        RegressionTest::new(0.2),
    );
    assert_eq!(a[0].verdict, Verdict::InsufficientData);
    // higher-is-better metrics: a drop is worse, and the effect is oriented the same way
    let fps = baseline_of(&(0..40).map(|i| 60.0 + f64::from(i % 5)).collect::<Vec<_>>());
    let slow: BTreeMap<String, Vec<f64>> = [(
        "frame.time_ms".to_string(),
        (0..40).map(|i| 30.0 + f64::from(i % 5)).collect(),
    )]
    .into();
    let a = fps.assess(
        &slow,
        |_| Some(Direction::HigherIsBetter),
        RegressionTest::new(0.2),
    );
    assert_eq!(a[0].verdict, Verdict::Regression);
    let e = a[0].report.effect.unwrap();
    assert!(e.low > 0.4 && e.estimate > 0.45 && e.high < 0.55, "{e:?}");
}

#[test]
fn version_1_files_load_without_samples_and_are_not_testable() {
    let dir = std::env::temp_dir().join(format!("rfm-v1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v1.json");
    std::fs::write(
        &path,
        br#"{"version": 1, "captured_unix_s": 1.0, "window_s": 10.0,
            "metrics": {"frame.time_ms": {"median": 10.0, "p95": 12.0, "samples": 600}}}"#,
    )
    .unwrap();
    let set = BaselineSet::load(&path).unwrap();
    assert!(set.samples.is_empty());
    assert_eq!(set.version, BASELINE_FORMAT_VERSION);
    let cur: BTreeMap<String, Vec<f64>> = [("frame.time_ms".to_string(), vec![30.0; 50])].into();
    let a = set.assess(
        &cur,
        |_| Some(Direction::LowerIsBetter),
        RegressionTest::new(0.2),
    );
    assert_eq!(a[0].verdict, Verdict::NoSamples);
    // a future version is still refused
    std::fs::write(&path, br#"{"version": 99, "metrics": {}}"#).unwrap();
    assert!(matches!(
        BaselineSet::load(&path),
        Err(BaselineError::Version { found: 99, .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
