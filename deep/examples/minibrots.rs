//! Finds deep Mandelbrot views that are not near Misiurewicz points: minibrots nested one in
//! another. From a start point it finds the lowest-period nucleus within a disc, steps off it
//! into its surroundings (where the next, deeper minibrots are), shrinks the disc and repeats;
//! for each nucleus it prints `RE,IM,WIDTH` views a few sizes wide with their share of
//! escaping pixels and distinct iteration counts (64 × 64, perturbation from the nucleus).
//!
//! `cargo run --release -p rfm_perf_deep --example minibrots -- [RE,IM] [DEPTH] [MAX_ITER]`
//! (`STEP=x` in the environment scales how far off each minibrot the next search starts, default
//! 0.6; `SWEEP=1` searches ever smaller discs around the start point instead: the views of
//! `tests/gpu/deep.rs` came from `SWEEP=1 … -- 0,1 1e-52`).

use rfm_perf_deep::{DeepView, Fixed, Formula, Nucleus, ReferenceOrbit, perturb};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let start: DeepView = format!(
        "{},1",
        args.first()
            .map_or("-0.743643887037151,0.131825904205330", |s| s.as_str())
    )
    .parse()?;
    let depth: f64 = args.get(1).map_or(Ok(1e-100), |s| s.parse())?;
    let max_iter: u32 = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let step: f64 = std::env::var("STEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.6);
    if std::env::var("SWEEP").is_ok() {
        return sweep(&start, depth, max_iter);
    }
    let mut radius = 1e-3f64;
    let mut parent: Option<Nucleus> = None;
    // where the next, deeper minibrot is searched for: off the last one by a few of its sizes,
    // in one of four directions, within a disc of an eighth of that distance
    let offsets = [(0.6, 0.8), (-0.8, 0.6), (-0.6, -0.8), (0.8, -0.6)];
    'deeper: while radius > depth {
        let guesses: Vec<((Fixed, Fixed), f64)> = match parent {
            None => (0..20)
                .map(|k| (start.centre(), radius / 2f64.powi(k)))
                .collect(),
            Some(p) => [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
                .iter()
                .flat_map(|k| offsets.iter().map(move |o| (k, o)))
                .map(|(k, o)| {
                    let off = p.size * k * step;
                    let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
                    (
                        (p.centre.0 + f(off * o.0), p.centre.1 + f(off * o.1)),
                        off / 8.0,
                    )
                })
                .collect(),
        };
        for (guess, r) in guesses {
            let Some(n) = Nucleus::near(&guess, r, limbs_for_disc(r), max_iter) else {
                continue;
            };
            // a satellite of the last one (a multiple of its period) is not deeper structure
            let satellite = parent.is_some_and(|p| n.period % p.period == 0);
            if satellite || !n.size.is_finite() || n.size >= r {
                continue;
            }
            for widths in [4.0, 16.0, 64.0] {
                let view = DeepView {
                    re: n.centre.0,
                    im: n.centre.1,
                    width: n.size * widths,
                };
                let (escaped, distinct) = score(&view, max_iter);
                println!(
                    "period {:5} size {:.2e} width ×{widths:<3} escaped {escaped:5.1} % counts {distinct:4}  {}",
                    n.period, n.size, view
                );
            }
            parent = Some(n);
            radius = n.size;
            continue 'deeper;
        }
        println!("no deeper nucleus found");
        break;
    }
    Ok(())
}

/// Limbs that resolve a disc of radius `r` and the minibrots inside it (sizes down to ~r²), with
/// 96 guard bits.
fn limbs_for_disc(r: f64) -> usize {
    let bits = (1.0 / (r * r)).log2() + 96.0;
    ((bits / 64.0).ceil() as usize + 1).min(rfm_perf_deep::LIMBS)
}

/// The share of escaping pixels (in %) and the distinct counts of `view` at 64 × 64.
fn score(view: &DeepView, max_iter: u32) -> (f64, usize) {
    const N: u32 = 64;
    let limbs = view.precision_limbs(N);
    let orbit = ReferenceOrbit::for_view(Formula::Mandelbrot, view, N, N, limbs, max_iter);
    // the reference may be a probe point off the centre
    let off = (
        (view.re - orbit.point.0).to_f64(),
        (view.im - orbit.point.1).to_f64(),
    );
    let mut counts: Vec<u32> = (0..N * N)
        .map(|i| {
            let d = view.pixel_delta(i % N, i / N, N, N);
            perturb::iterations(
                Formula::Mandelbrot,
                &orbit,
                (d.0 + off.0, d.1 + off.1),
                max_iter,
            )
        })
        .collect();
    let escaped = counts.iter().filter(|&&c| c < max_iter).count() as f64 / counts.len() as f64;
    counts.sort_unstable();
    counts.dedup();
    (escaped * 100.0, counts.len())
}

/// `SWEEP=1`: around the start point itself, discs from 1e-3 down to `depth` (a quarter decade a
/// step): the lowest-period nucleus in each, and views around it 4 and 16 sizes wide,
/// and 1e-14, 1e-30, 1e-60 or 1e-100 wide where that is 3 to 30 sizes.
fn sweep(start: &DeepView, depth: f64, max_iter: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut r = 1e-3f64;
    while r > depth {
        if let Some(n) = Nucleus::near(&start.centre(), r, limbs_for_disc(r * 1e-3), max_iter) {
            let away = (n.centre.0 - start.re)
                .to_f64()
                .hypot((n.centre.1 - start.im).to_f64());
            let targets = [1e-14, 1e-30, 1e-60, 1e-100];
            let fits = targets
                .iter()
                .copied()
                .filter(|w| (3.0..=30.0).contains(&(w / n.size)));
            for w in [4.0 * n.size, 16.0 * n.size].into_iter().chain(fits) {
                let view = DeepView {
                    re: n.centre.0,
                    im: n.centre.1,
                    width: w,
                };
                let (escaped, distinct) = score(&view, max_iter);
                println!(
                    "r {r:.0e} period {:5} size {:.2e} away {away:.1e} width {w:.0e} escaped {escaped:5.1} % counts {distinct:4}  {view}",
                    n.period, n.size
                );
            }
        }
        r /= 10f64.powf(0.25);
    }
    Ok(())
}
