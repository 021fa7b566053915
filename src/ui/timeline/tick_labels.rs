//! The timeline's axis tick labels: fixed-point text made with integer formatting, and no text
//! at all for ticks that would sit too close together to be labelled.
//!
//! egui_plot asks for a label for every grid mark (several levels of ten of them, most too
//! dense to show) and formats each with exact float formatting; on a live plot that is redone
//! every frame.

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use egui_plot::GridMark;

/// Labels closer than this many points apart are not drawn on the x axis (egui_plot's own
/// minimum).
pub(super) const X_LABEL_MIN_SPACING: f32 = 60.0;
/// The same for the y axis.
pub(super) const Y_LABEL_MIN_SPACING: f32 = 20.0;

/// The label of `mark` on an axis `length` points long showing `range`, or an empty string
/// (no label) where marks of this step would be closer than `min_spacing` points. `length`
/// unknown (zero): every mark gets its text, egui_plot drops the dense ones itself.
pub(super) fn tick_label(
    mark: GridMark,
    range: &RangeInclusive<f64>,
    length: f32,
    min_spacing: f32,
) -> String {
    let span = range.end() - range.start();
    if length > 0.0 && span > 0.0 {
        let spacing = mark.step_size / span * f64::from(length);
        // a tenth of slack: the axis may have changed size since `length` was measured
        if spacing <= 0.9 * f64::from(min_spacing) {
            return String::new();
        }
    }
    let decimals = (-mark.step_size.log10().round()).max(0.0) as usize;
    fixed(mark.value, decimals)
}

/// `value` with `decimals` digits after the point, as `format!("{value:.decimals$}")` writes
/// it (but "0" rather than "-0"), through integer formatting where the value allows.
fn fixed(value: f64, decimals: usize) -> String {
    const POW10: [u64; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    let Some(&scale) = POW10.get(decimals) else {
        return format!("{value:.decimals$}");
    };
    let scaled = (value * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 1e15 {
        return format!("{value:.decimals$}");
    }
    let n = scaled as i64;
    let a = n.unsigned_abs();
    let mut out = String::with_capacity(24);
    if n < 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", a / scale);
    if decimals > 0 {
        let _ = write!(out, ".{:0decimals$}", a % scale);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(value: f64, step_size: f64) -> GridMark {
        GridMark { value, step_size }
    }

    #[test]
    fn labels_read_as_float_formatting_does() {
        for (value, step) in [
            (-60.0, 10.0),
            (-12.5, 0.1),
            (17.25, 0.01),
            (0.0, 1.0),
            (1234.0, 100.0),
            (-0.003, 0.001),
            (3e-7, 1e-7),
        ] {
            let decimals = (-f64::log10(step).round()).max(0.0) as usize;
            assert_eq!(
                tick_label(mark(value, step), &(-100.0..=100.0), 0.0, 60.0),
                format!("{value:.decimals$}"),
                "{value} by {step}"
            );
        }
        // a value just below zero rounds to a plain zero, and huge ones still read right
        assert_eq!(
            tick_label(mark(-1e-12, 0.1), &(0.0..=1.0), 0.0, 60.0),
            "0.0"
        );
        assert_eq!(
            tick_label(mark(3e20, 1e20), &(0.0..=1e21), 0.0, 60.0),
            "300000000000000000000"
        );
        assert_eq!(
            tick_label(mark(1.5, 1e-12), &(0.0..=1.0), 0.0, 60.0),
            "1.500000000000"
        );
    }

    #[test]
    fn dense_marks_get_no_text() {
        // 60 s over 800 points: a mark every 10 s is 133 points apart, every second 13
        let range = -60.0..=0.0;
        assert_eq!(tick_label(mark(-10.0, 10.0), &range, 800.0, 60.0), "-10");
        assert_eq!(tick_label(mark(-3.0, 1.0), &range, 800.0, 60.0), "");
        // the same marks on a wide axis are far enough apart
        assert_eq!(tick_label(mark(-3.0, 1.0), &range, 8000.0, 60.0), "-3");
    }
}
