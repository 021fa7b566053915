//! Perturbation with rebasing against direct fixed-point iteration, on named deep views of the
//! Mandelbrot set (found with `examples/dive.rs`), from 1e-14 to 1e-100: at least 99 % of the
//! pixels within ±1 iteration. Each view is checked to be worth comparing: at least 30 % of its
//! pixels escape, with at least 20 distinct counts.

use rfm_perf_deep::{DeepView, Formula, ReferenceOrbit, direct, perturb};

const SIZE: u32 = 64;

struct Compared {
    agreement: f64,
    escaped: f64,
    distinct: usize,
}

fn compare(formula: Formula, view: &DeepView, max_iter: u32, rebase: bool) -> Compared {
    let limbs = view.precision_limbs(SIZE);
    let orbit = ReferenceOrbit::compute(formula, &view.centre(), limbs, max_iter);
    let (mut same, mut escaped) = (0, 0);
    let mut counts = Vec::new();
    for py in 0..SIZE {
        for px in 0..SIZE {
            let delta = view.pixel_delta(px, py, SIZE, SIZE);
            let p = if rebase {
                perturb::iterations(formula, &orbit, delta, max_iter)
            } else {
                perturb::iterations_without_rebasing(formula, &orbit, delta, max_iter)
            };
            let d = direct::iterations(
                formula,
                &view.pixel_point(px, py, SIZE, SIZE),
                limbs,
                max_iter,
            );
            same += usize::from(p.abs_diff(d) <= 1);
            escaped += usize::from(d < max_iter);
            counts.push(d);
        }
    }
    counts.sort_unstable();
    counts.dedup();
    let n = f64::from(SIZE * SIZE);
    Compared {
        agreement: same as f64 / n,
        escaped: escaped as f64 / n,
        distinct: counts.len(),
    }
}

fn check(name: &str, view: &str, max_iter: u32) {
    let view: DeepView = view.parse().expect("a named view parses");
    let c = compare(Formula::Mandelbrot, &view, max_iter, true);
    println!(
        "{name} (width {:e}): agreement {:.2} %, escaped {:.0} %, {} distinct counts",
        view.width,
        c.agreement * 100.0,
        c.escaped * 100.0,
        c.distinct
    );
    assert!(
        c.escaped >= 0.3 && c.distinct >= 20,
        "{name} is not a view worth comparing: {:.0} % escaped, {} counts",
        c.escaped * 100.0,
        c.distinct
    );
    assert!(
        c.agreement >= 0.99,
        "{name}: {:.2} % agree",
        c.agreement * 100.0
    );
}
