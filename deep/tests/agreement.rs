//! Perturbation with rebasing against direct fixed-point iteration, on named deep views of the
//! Mandelbrot set (found with `examples/dive.rs` and `Nucleus`), from 1e-14 to 1e-100: at least
//! 99 % of the pixels within ±1 iteration. Each view is checked to be worth comparing: at least 30 % of its
//! pixels escape, with at least 20 distinct counts.

use rfm_perf_deep::{
    BlaTable, DeepView, Fixed, Formula, Nucleus, ReferenceOrbit, bla, direct, perturb,
};

const SIZE: u32 = 64;

struct Compared {
    agreement: f64,
    escaped: f64,
    distinct: usize,
    /// The same with bilinear approximation, at f64's and at f32's rounding.
    skipping: [Skipping; 2],
}

/// How perturbation with a [`BlaTable`] did.
#[derive(Default)]
struct Skipping {
    agreement: f64,
    /// Steps computed per iteration counted.
    steps_per_iteration: f64,
}

/// Which reference orbit a comparison perturbs from.
#[derive(Clone, Copy, PartialEq)]
enum Reference {
    /// The one the renderer picks ([`ReferenceOrbit::for_view`]).
    Picked,
    /// The view centre's.
    Centre,
}

fn compare(
    formula: Formula,
    view: &DeepView,
    max_iter: u32,
    reference: Reference,
    rebase: bool,
) -> Compared {
    let limbs = view.precision_limbs(SIZE);
    // the reference the renderer picks, or the centre's
    let orbit = if reference == Reference::Picked {
        ReferenceOrbit::for_view(formula, view, SIZE, SIZE, limbs, max_iter)
    } else {
        ReferenceOrbit::compute(formula, &view.centre(), limbs, max_iter)
    };
    let offset = (
        (view.re - orbit.point.0).to_f64(),
        (view.im - orbit.point.1).to_f64(),
    );
    // the farthest pixel from a point inside the view: the view's diagonal
    let bound = view.width * std::f64::consts::SQRT_2;
    let tables = [bla::F64_EPSILON, bla::F32_EPSILON].map(|e| BlaTable::build(&orbit, bound, e));
    let (mut same, mut escaped) = (0, 0);
    let mut skipping = [(0usize, 0u64, 0u64); 2];
    let mut counts = Vec::new();
    for py in 0..SIZE {
        for px in 0..SIZE {
            // the pixel's offset from the orbit's point
            let (dx, dy) = view.pixel_delta(px, py, SIZE, SIZE);
            let delta = (dx + offset.0, dy + offset.1);
            let skipped = tables
                .each_ref()
                .map(|t| perturb::iterations_bla(formula, &orbit, t, delta, max_iter));
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
            for (sum, c) in skipping.iter_mut().zip(skipped) {
                sum.0 += usize::from(c.iterations.abs_diff(d) <= 1);
                sum.1 += u64::from(c.steps);
                sum.2 += u64::from(c.iterations);
            }
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
        skipping: skipping.map(|(same, steps, iterations)| Skipping {
            agreement: same as f64 / n,
            steps_per_iteration: steps as f64 / iterations.max(1) as f64,
        }),
    }
}

fn check(name: &str, view: &str, max_iter: u32) {
    let view: DeepView = view.parse().expect("a named view parses");
    let c = compare(
        Formula::Mandelbrot,
        &view,
        max_iter,
        Reference::Picked,
        true,
    );
    let [f64_bla, f32_bla] = &c.skipping;
    println!(
        "{name} (width {:e}): agreement {:.2} %, escaped {:.0} %, {} distinct counts; \
         with BLA at f64's rounding {:.2} % ({:.3} steps an iteration), at f32's {:.2} % \
         ({:.3})",
        view.width,
        c.agreement * 100.0,
        c.escaped * 100.0,
        c.distinct,
        f64_bla.agreement * 100.0,
        f64_bla.steps_per_iteration,
        f32_bla.agreement * 100.0,
        f32_bla.steps_per_iteration,
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
    assert!(
        f64_bla.agreement >= 0.99,
        "{name} with BLA: {:.2} % agree",
        f64_bla.agreement * 100.0
    );
}

/// `c = i` is a Misiurewicz point (its orbit i, −1 + i, −i, −1 + i, … is preperiodic): every
/// depth shows the same spiral, with counts growing as the view narrows.
#[test]
fn perturbation_agrees_with_direct_iteration_around_c_i_to_1e_100() {
    for width in ["1e-14", "1e-30", "1e-60", "1e-100"] {
        check(&format!("c = i at {width}"), &format!("0,1,{width}"), 2000);
    }
}

/// A shallow view on the seahorse valley's edge, and one a dive from it reached.
/// Views that are not near a Misiurewicz point: minibrots, found from c = i by [`Nucleus`] in
/// ever smaller discs (the lowest period in each: 21 … 136), each viewed 3–30 of its sizes
/// wide. c = i lies millions of widths away from each view. The GPU test renders the same views.
#[test]
fn perturbation_agrees_with_direct_iteration_around_minibrots_to_1e_100() {
    let i = (Fixed::ZERO, Fixed::from_f64(1.0).expect("1 is a Fixed"));
    for (disc, period, width) in [
        (1e-7, 21, 1e-14),
        (3e-16, 43, 1e-30),
        (3e-31, 83, 1e-60),
        (3.1e-51, 136, 1e-100),
    ] {
        let limbs = DeepView {
            re: i.0,
            im: i.1,
            width,
        }
        .precision_limbs(SIZE)
            + 1;
        let n = Nucleus::near(&i, disc, limbs, 2000).expect("a nucleus in the disc");
        assert_eq!(
            n.period, period,
            "the lowest period within {disc:e} of c = i"
        );
        assert!(
            (3.0..=30.0).contains(&(width / n.size)),
            "period {period}: size {:e} for a {width:e} view",
            n.size
        );
        let away = (n.centre.0 - i.0)
            .to_f64()
            .hypot((n.centre.1 - i.1).to_f64());
        assert!(away > 1e6 * width, "c = i is {away:e} away");
        let view = DeepView {
            re: n.centre.0,
            im: n.centre.1,
            width,
        };
        check(
            &format!("period-{period} minibrot"),
            &view.to_string(),
            2000,
        );
    }
}

#[test]
fn perturbation_agrees_with_direct_iteration_on_the_seahorse_valley() {
    check("seahorse valley", "-0.75,0.1,0.05", 2000);
    check(
        "seahorse valley at 1e-10",
        "-0.7440443137107649816439235483860523,0.0974394119664793829224577868386249,9.313225746154786e-11",
        2000,
    );
}

/// Without rebasing, a pixel that outlives the reference (here one that escapes quickly, in
/// a view reaching into the set) has nothing left to follow: the classic method needs another
/// reference there, rebasing does not.
#[test]
fn rebasing_renders_what_a_single_reference_cannot() {
    // the centre escapes after a few iterations; most of the view is inside the set
    let view: DeepView = "-0.6,0.62,0.2".parse().expect("view");
    // both from the centre's orbit
    let with = compare(Formula::Mandelbrot, &view, 500, Reference::Centre, true);
    let without = compare(Formula::Mandelbrot, &view, 500, Reference::Centre, false);
    println!(
        "escaping reference: {:.1} % agree with rebasing, {:.1} % without",
        with.agreement * 100.0,
        without.agreement * 100.0
    );
    assert!(with.agreement >= 0.99, "{:.2} %", with.agreement * 100.0);
    assert!(
        without.agreement < 0.9,
        "{:.2} %",
        without.agreement * 100.0
    );
}

/// Burning Ship's own perturbation (the |Re|, |Im| cases): its orbits are chaotic enough that
/// plain f64 iteration of a shallow view already differs from the exact counts on a few % of
/// the pixels; perturbation must do at least as well as f64 does, and 95 %.
#[test]
fn burning_ship_perturbs_as_exactly_as_f64_iterates() {
    const MAX_ITER: u32 = 300;
    let view: DeepView = "-1.762,-0.028,0.05".parse().expect("view");
    let c = compare(
        Formula::BurningShip,
        &view,
        MAX_ITER,
        Reference::Picked,
        true,
    );
    let limbs = view.precision_limbs(SIZE) + 1;
    let mut f64_same = 0;
    for py in 0..SIZE {
        for px in 0..SIZE {
            let p = view.pixel_point(px, py, SIZE, SIZE);
            let exact = direct::iterations(Formula::BurningShip, &p, limbs, MAX_ITER);
            let (cr, ci) = (p.0.to_f64(), p.1.to_f64());
            let (mut x, mut y, mut n) = (0.0f64, 0.0f64, 0);
            while n < MAX_ITER && x * x + y * y <= 65536.0 {
                (x, y) = (x * x - y * y + cr, 2.0 * x.abs() * y.abs() + ci);
                n += 1;
            }
            f64_same += usize::from(n.abs_diff(exact) <= 1);
        }
    }
    let f64_agreement = f64_same as f64 / f64::from(SIZE * SIZE);
    println!(
        "burning ship: perturbation {:.2} %, plain f64 {:.2} % (escaped {:.0} %, {} counts)",
        c.agreement * 100.0,
        f64_agreement * 100.0,
        c.escaped * 100.0,
        c.distinct
    );
    assert!(c.escaped >= 0.3 && c.distinct >= 20);
    assert!(c.agreement >= f64_agreement && c.agreement >= 0.95);
}

/// Julia perturbs around a reference starting point (no δc; rebasing to that point).
#[test]
fn julia_perturbs_too() {
    for (name, view) in [
        ("julia", "0.1,0.1,0.5"),
        ("julia's edge", "-0.42,0.36,0.02"),
    ] {
        let view: DeepView = view.parse().expect("view");
        let c = compare(
            Formula::Julia { k: (-0.8, 0.156) },
            &view,
            1000,
            Reference::Picked,
            true,
        );
        println!(
            "{name}: agreement {:.2} %, escaped {:.0} %, {} distinct counts",
            c.agreement * 100.0,
            c.escaped * 100.0,
            c.distinct
        );
        assert!(
            c.escaped >= 0.3 && c.distinct >= 20,
            "{name}: not worth comparing"
        );
        assert!(c.agreement >= 0.99, "{name}: {:.2} %", c.agreement * 100.0);
    }
}
