//! Finds a deep view with structure: from a start view it zooms in step by step, each time
//! towards a pixel on the edge of the set (an escaping pixel with many iterations), and prints
//! the views it passes as `RE,IM,WIDTH` with the share of escaping pixels and the distinct
//! iteration counts.
//!
//! `cargo run --release -p rfm_perf_deep --example dive -- [START_VIEW] [DEPTH] [MAX_ITER]`

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
    const N: u32 = 24;
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
        // towards the escaping pixel with the most iterations that is nearest the centre half
        let target = (0..N * N)
            .filter(|&i| counts[i as usize] < max_iter)
            .filter(|&i| (i % N).abs_diff(N / 2) < N / 4 && (i / N).abs_diff(N / 2) < N / 4)
            .max_by_key(|&i| counts[i as usize])
            .or_else(|| {
                (0..N * N)
                    .filter(|&i| counts[i as usize] < max_iter)
                    .max_by_key(|&i| counts[i as usize])
            });
        let Some(t) = target else {
            println!("no escaping pixel: stopping");
            break;
        };
        view.re = view.pixel_point(t % N, t / N, N, N).0;
        view.im = view.pixel_point(t % N, t / N, N, N).1;
        view.width /= 4.0;
    }
    println!("{view}");
    Ok(())
}
