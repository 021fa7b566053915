//! Finds a deep view with structure: from a start view it zooms in step by step, each time
//! towards a pixel on the edge of the set (an escaping pixel with many, not the most,
//! iterations), and prints
//! the views it passes as `RE,IM,WIDTH` with the share of escaping pixels and the distinct
//! iteration counts.
//!
//! `cargo run --release -p rfm_perf_deep --example dive -- [START_VIEW] [DEPTH] [MAX_ITER]`
//! (`PCT=N` in the environment: aim at the N-th percentile of the escaping pixels' counts,
//! default 90). It can lose the edge after a few dozen halvings; the views it passes before
//! that are the ones to keep.

use rfm_perf_deep::{DeepView, Formula, ReferenceOrbit, perturb};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut view: DeepView = args
        .first()
        .map_or("-0.75,0.1,0.05", |s| s.as_str())
        .parse()?;
    let depth: f64 = args.get(1).map_or(Ok(1e-100), |s| s.parse())?;
    let max_iter: u32 = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let formula = Formula::Mandelbrot;
    const N: u32 = 32;
    while view.width > depth {
        let limbs = view.precision_limbs(N);
        let orbit = ReferenceOrbit::compute(formula, &view.centre(), limbs, max_iter);
        let counts: Vec<u32> = (0..N * N)
            .map(|i| {
                perturb::iterations(
                    formula,
                    &orbit,
                    view.pixel_delta(i % N, i / N, N, N),
                    max_iter,
                )
            })
            .collect();
        let escaped = counts.iter().filter(|&&c| c < max_iter).count();
        let mut distinct = counts.clone();
        distinct.sort_unstable();
        distinct.dedup();
        println!(
            "{view}  escaped {:.0} %, {} distinct counts",
            escaped as f64 / counts.len() as f64 * 100.0,
            distinct.len()
        );
        // towards an escaping pixel near the centre whose count is high among the escaping
        // ones but well below the limit: the edge of the set, where the next view still has
        // counts of every size (the pixel with the most iterations would lead to the limit)
        let mut escaping: Vec<u32> = counts
            .iter()
            .copied()
            .filter(|&c| c < max_iter / 2)
            .collect();
        escaping.sort_unstable();
        let pct: usize = std::env::var("PCT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(90);
        let goal = escaping
            .get((escaping.len() * pct / 100).min(escaping.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0);
        let central = |i: u32| (i % N).abs_diff(N / 2) < N / 4 && (i / N).abs_diff(N / 2) < N / 4;
        let target = (0..N * N)
            .filter(|&i| counts[i as usize] < max_iter / 2 && central(i))
            .min_by_key(|&i| counts[i as usize].abs_diff(goal));
        let Some(t) = target else {
            println!("no escaping pixel: stopping");
            break;
        };
        view.re = view.pixel_point(t % N, t / N, N, N).0;
        view.im = view.pixel_point(t % N, t / N, N, N).1;
        view.width /= 2.0;
    }
    println!("{view}");
    Ok(())
}
