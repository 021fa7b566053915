//! The CPU reference renderer: the same formulas as the GPU pass, in `f64` (lane-interleaved
//! loops that LLVM vectorizes, rows in parallel with rayon, no `unsafe`) and in df64 (the GPU's
//! deep-zoom arithmetic, for checking it). It is the correctness oracle and a second, instrumented
//! workload.

use rayon::prelude::*;
use rfm_perf_core::track_performance;

use super::df64::Df64;
use super::palette::Palette;
use super::{ESCAPE_RADIUS, FractalKind, FractalParams};

/// Pixels iterated together; independent lanes hide the latency of the `z² + c` chain.
const LANES: usize = 8;
/// How often (in iterations) the lanes check whether all of them escaped.
const CHECK_EVERY: u32 = 16;

/// Per-pixel iteration counts and smooth values of one render.
#[derive(Clone, Debug, PartialEq)]
pub struct IterationImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Iterations per pixel (`max_iter` for points that never escaped), row-major.
    pub counts: Vec<u32>,
    /// Smooth iteration value per pixel (`NaN` inside the set).
    pub smooth: Vec<f32>,
    /// Sum of `counts`: the frame's complexity (nominal: interior pixels count `max_iter`).
    pub total_iterations: u64,
    /// Iterations really run: `total_iterations` less what the interior checks skipped.
    pub computed_iterations: u64,
    /// Pixels that escaped.
    pub escaped: u64,
}

impl IterationImage {
    /// RGBA8 pixels in `palette`.
    ///
    /// ```
    /// use rfm_perf::fractal::{cpu, palette::Palette, FractalParams};
    /// let img = cpu::render(&FractalParams::default(), 8, 4);
    /// assert_eq!(img.to_rgba(Palette::Fire).len(), 8 * 4 * 4);
    /// ```
    pub fn to_rgba(&self, palette: Palette) -> Vec<u8> {
        self.smooth
            .iter()
            .flat_map(|&mu| {
                let [r, g, b] = palette.color((!mu.is_nan()).then_some(mu));
                [r, g, b, 255]
            })
            .collect()
    }

    /// Share of pixels whose counts differ from `other`'s by at most `tolerance` iterations.
    pub fn agreement(&self, other: &IterationImage, tolerance: u32) -> f64 {
        let same = self
            .counts
            .iter()
            .zip(&other.counts)
            .filter(|(a, b)| a.abs_diff(**b) <= tolerance)
            .count();
        same as f64 / self.counts.len().max(1) as f64
    }
}

fn smooth_value(n: u32, mag2: f64, max_iter: u32) -> f32 {
    if n >= max_iter {
        return f32::NAN;
    }
    // n + 1 − log2(ln |z|), with ln |z| = ln(|z|²) / 2
    (f64::from(n) + 1.0 - (0.5 * mag2.ln()).log2()) as f32
}

#[inline(always)]
fn select(alive: bool, new: f64, old: f64) -> f64 {
    let m = 0u64.wrapping_sub(u64::from(alive));
    f64::from_bits((new.to_bits() & m) | (old.to_bits() & !m))
}

fn start(kind: FractalKind, p: (f64, f64)) -> ((f64, f64), (f64, f64)) {
    match kind {
        FractalKind::Julia { re, im } => (p, (re, im)),
        FractalKind::Mandelbrot | FractalKind::BurningShip => ((0.0, 0.0), p),
    }
}

/// Relative inward margin of the cardioid and bulb tests (the GPU pass uses the same).
pub const INTERIOR_MARGIN: f64 = 1e-3;
/// Squared distance from the cardioid's cusp below which the cardioid test is not trusted.
const CUSP_GUARD2: f64 = 1e-8;

/// Whether `c` lies in the Mandelbrot set's main cardioid or period-2 bulb, inside by
/// [`INTERIOR_MARGIN`] of its distance to the boundary: such points never escape.
///
/// ```
/// use rfm_perf::fractal::cpu::in_cardioid_or_bulb;
/// assert!(in_cardioid_or_bulb((0.0, 0.0)));
/// assert!(in_cardioid_or_bulb((-1.0, 0.1)));
/// assert!(!in_cardioid_or_bulb((0.3, 0.0)));
/// assert!(!in_cardioid_or_bulb((0.25, 0.00001)), "too close to the cusp to trust");
/// ```
pub fn in_cardioid_or_bulb(c: (f64, f64)) -> bool {
    // the cardioid is star-shaped around its cusp (1/4, 0): scale c − 1/4 outward by the margin
    let (dx, dy) = (
        (c.0 - 0.25) * (1.0 + INTERIOR_MARGIN),
        c.1 * (1.0 + INTERIOR_MARGIN),
    );
    let q = dx * dx + dy * dy;
    let cardioid = q > CUSP_GUARD2 && q * (q + dx) < 0.25 * dy * dy;
    let r = 0.25 * (1.0 - INTERIOR_MARGIN);
    cardioid || (c.0 + 1.0) * (c.0 + 1.0) + c.1 * c.1 < r * r
}

/// The pixels in flight for one row.
struct Lanes {
    zr: [f64; LANES],
    zi: [f64; LANES],
    cr: [f64; LANES],
    ci: [f64; LANES],
    n: [u32; LANES],
    /// Iterations really run (the interior checks end some lanes early).
    done: [u32; LANES],
    /// The orbit saved at iteration `next_save / 2` (periodicity check).
    sr: [f64; LANES],
    si: [f64; LANES],
    next_save: [u32; LANES],
    /// Pixel index in the row, or `IDLE`.
    pixel: [u32; LANES],
}

const IDLE: u32 = u32::MAX;

/// Renders one row with `LANES` pixels in flight: the lanes step together (LLVM vectorizes the
/// fixed-size lane loop), and a lane whose pixel escaped or reached `max_iter` takes the row's
/// next pixel at the next check, so one slow pixel does not hold seven idle lanes. Blocks are
/// cut short so no lane can step past `max_iter`; idle lanes sit outside the escape radius.
/// With `CHECK`, the interior checks run too (cardioid/bulb at load, exact periodicity per step).
/// Returns the iterations really run.
fn render_row_f64<const CHECK: bool>(
    params: &FractalParams,
    w: u32,
    h: u32,
    py: u32,
    counts: &mut [u32],
    smooth: &mut [f32],
) -> u64 {
    let r2 = ESCAPE_RADIUS * ESCAPE_RADIUS;
    let burning = matches!(params.kind, FractalKind::BurningShip);
    let mandelbrot = matches!(params.kind, FractalKind::Mandelbrot);
    let max_iter = params.max_iter;
    let mut next = 0u32;
    let mut load = |lanes: &mut Lanes, l: usize, counts: &mut [u32], smooth: &mut [f32]| {
        // pixels the cardioid/bulb test settles never take a lane
        while CHECK
            && mandelbrot
            && next < w
            && in_cardioid_or_bulb(params.view.point(next, py, w, h))
        {
            counts[next as usize] = max_iter;
            smooth[next as usize] = f32::NAN;
            next += 1;
        }
        if next < w {
            let ((x, y), (a, b)) = start(params.kind, params.view.point(next, py, w, h));
            (lanes.zr[l], lanes.zi[l], lanes.cr[l], lanes.ci[l]) = (x, y, a, b);
            (lanes.n[l], lanes.done[l], lanes.pixel[l]) = (0, 0, next);
            (lanes.sr[l], lanes.si[l], lanes.next_save[l]) = (x, y, 1);
            next += 1;
        } else {
            (lanes.zr[l], lanes.zi[l], lanes.cr[l], lanes.ci[l]) =
                (2.0 * ESCAPE_RADIUS, 0.0, 0.0, 0.0);
            (lanes.n[l], lanes.pixel[l]) = (0, IDLE);
        }
    };
    let mut lanes = Lanes {
        zr: [0.0; LANES],
        zi: [0.0; LANES],
        cr: [0.0; LANES],
        ci: [0.0; LANES],
        n: [0; LANES],
        done: [0; LANES],
        sr: [f64::NAN; LANES],
        si: [f64::NAN; LANES],
        next_save: [1; LANES],
        pixel: [IDLE; LANES],
    };
    for l in 0..LANES {
        load(&mut lanes, l, counts, smooth);
    }
    let mut computed = 0u64;
    loop {
        // the longest block no active lane can overrun
        let budget = (0..LANES)
            .filter(|&l| lanes.pixel[l] != IDLE)
            .map(|l| max_iter - lanes.n[l])
            .min();
        let Some(budget) = budget else { break };
        let Lanes {
            zr,
            zi,
            cr,
            ci,
            n,
            done,
            sr,
            si,
            next_save,
            ..
        } = &mut lanes;
        for _ in 0..CHECK_EVERY.min(budget) {
            for l in 0..LANES {
                let (x, y) = (zr[l], zi[l]);
                let (x2, y2) = (x * x, y * y);
                // a lane whose orbit repeated sits at `max_iter` until the check retires it
                let alive = x2 + y2 <= r2 && (!CHECK || n[l] < max_iter);
                let xy = if burning { x.abs() * y.abs() } else { x * y };
                zr[l] = select(alive, x2 - y2 + cr[l], x);
                zi[l] = select(alive, 2.0 * xy + ci[l], y);
                n[l] += u32::from(alive);
                if CHECK {
                    done[l] += u32::from(alive);
                    // an orbit that repeats exactly never escapes: jump to the limit
                    let repeated = alive && zr[l] == sr[l] && zi[l] == si[l];
                    n[l] = if repeated { max_iter } else { n[l] };
                    let save = alive && n[l] == next_save[l];
                    sr[l] = select(save, zr[l], sr[l]);
                    si[l] = select(save, zi[l], si[l]);
                    next_save[l] = if save { next_save[l] * 2 } else { next_save[l] };
                }
            }
        }
        for l in 0..LANES {
            let mag2 = lanes.zr[l] * lanes.zr[l] + lanes.zi[l] * lanes.zi[l];
            // a NaN orbit (NaN view or constant) never compares `<= r2`: it retires too
            let escaped = mag2 > r2 || mag2.is_nan();
            if lanes.pixel[l] != IDLE && (escaped || lanes.n[l] >= max_iter) {
                let i = lanes.pixel[l] as usize;
                counts[i] = lanes.n[l];
                smooth[i] = smooth_value(lanes.n[l], mag2, max_iter);
                computed += u64::from(if CHECK { lanes.done[l] } else { lanes.n[l] });
                load(&mut lanes, l, counts, smooth);
            }
        }
    }
    computed
}

/// The image of `counts`; `computed` is the iterations really run (`None`: all of them).
fn finish(
    w: u32,
    h: u32,
    counts: Vec<u32>,
    smooth: Vec<f32>,
    max_iter: u32,
    computed: Option<u64>,
) -> IterationImage {
    let total_iterations = counts.iter().map(|&c| u64::from(c)).sum();
    let escaped = counts.iter().filter(|&&c| c < max_iter).count() as u64;
    IterationImage {
        width: w,
        height: h,
        counts,
        smooth,
        total_iterations,
        computed_iterations: computed.unwrap_or(total_iterations),
        escaped,
    }
}

/// Renders in `f64`, rows in parallel on rayon's pool, 8 pixels per lane group.
///
/// ```
/// use rfm_perf::fractal::{cpu, FractalParams};
/// let img = cpu::render(&FractalParams::default(), 64, 48);
/// assert_eq!(img.counts.len(), 64 * 48);
/// assert!(img.escaped > 0 && img.escaped < 64 * 48);
/// ```
#[track_performance("fractal.cpu.render")]
pub fn render(params: &FractalParams, width: u32, height: u32) -> IterationImage {
    render_lanes::<false>(params, width, height)
}

/// [`render`] with the interior checks the GPU pass runs by default: pixels in the main
/// cardioid or period-2 bulb are interior without iterating ([`in_cardioid_or_bulb`]), and an
/// orbit that repeats exactly (saved at iterations 1, 2, 4, 8, …) stops. The counts are the
/// same as [`render`]'s; [`IterationImage::computed_iterations`] says what really ran.
///
/// ```
/// use rfm_perf::fractal::{cpu, FractalParams};
/// let p = FractalParams { max_iter: 1000, ..Default::default() };
/// let (plain, checked) = (cpu::render(&p, 64, 48), cpu::render_checked(&p, 64, 48));
/// assert_eq!(plain.counts, checked.counts);
/// assert!(checked.computed_iterations * 3 < plain.computed_iterations);
/// ```
#[track_performance("fractal.cpu.render_checked")]
pub fn render_checked(params: &FractalParams, width: u32, height: u32) -> IterationImage {
    render_lanes::<true>(params, width, height)
}

fn render_lanes<const CHECK: bool>(
    params: &FractalParams,
    width: u32,
    height: u32,
) -> IterationImage {
    let (w, h) = (width.max(1), height.max(1));
    let mut counts = vec![0u32; w as usize * h as usize];
    let mut smooth = vec![0f32; w as usize * h as usize];
    let computed: u64 = counts
        .par_chunks_mut(w as usize)
        .zip(smooth.par_chunks_mut(w as usize))
        .enumerate()
        .map(|(py, (c, s))| render_row_f64::<CHECK>(params, w, h, py as u32, c, s))
        .sum();
    finish(w, h, counts, smooth, params.max_iter, Some(computed))
}

/// The plain scalar `f64` loop, one pixel at a time on the calling thread: the benchmark baseline.
///
/// ```
/// use rfm_perf::fractal::{cpu, FractalParams};
/// let p = FractalParams::default();
/// assert_eq!(cpu::render_scalar(&p, 40, 30).counts, cpu::render(&p, 40, 30).counts);
/// ```
#[track_performance("fractal.cpu.render_scalar")]
pub fn render_scalar(params: &FractalParams, width: u32, height: u32) -> IterationImage {
    let (w, h) = (width.max(1), height.max(1));
    let r2 = ESCAPE_RADIUS * ESCAPE_RADIUS;
    let mut counts = Vec::with_capacity(w as usize * h as usize);
    let mut smooth = Vec::with_capacity(w as usize * h as usize);
    for py in 0..h {
        for px in 0..w {
            let ((mut x, mut y), (cr, ci)) = start(params.kind, params.view.point(px, py, w, h));
            let mut n = 0;
            while n < params.max_iter && x * x + y * y <= r2 {
                let xy = if matches!(params.kind, FractalKind::BurningShip) {
                    x.abs() * y.abs()
                } else {
                    x * y
                };
                (x, y) = (x * x - y * y + cr, 2.0 * xy + ci);
                n += 1;
            }
            counts.push(n);
            smooth.push(smooth_value(n, x * x + y * y, params.max_iter));
        }
    }
    finish(w, h, counts, smooth, params.max_iter, None)
}

/// Renders in df64 (the GPU's deep-zoom arithmetic): the center in df64, each pixel's offset
/// from it added in df64. Rows in parallel.
///
/// ```
/// use rfm_perf::fractal::{cpu, FractalParams, View};
/// let p = FractalParams { view: View { center: (-1.7499, 0.0), width: 1e-10 }, max_iter: 300, ..Default::default() };
/// let a = cpu::render_df64(&p, 32, 32);
/// let b = cpu::render(&p, 32, 32);
/// assert!(a.agreement(&b, 1) > 0.9);
/// ```
#[track_performance("fractal.cpu.render_df64")]
pub fn render_df64(params: &FractalParams, width: u32, height: u32) -> IterationImage {
    let (w, h) = (width.max(1), height.max(1));
    let mut counts = vec![0u32; w as usize * h as usize];
    let mut smooth = vec![0f32; w as usize * h as usize];
    let center = (
        Df64::from_f64(params.view.center.0),
        Df64::from_f64(params.view.center.1),
    );
    let s = params.view.pixel_size(w);
    let r2 = (ESCAPE_RADIUS * ESCAPE_RADIUS) as f32;
    counts
        .par_chunks_mut(w as usize)
        .zip(smooth.par_chunks_mut(w as usize))
        .enumerate()
        .for_each(|(py, (cs, ss))| {
            let dy = Df64::from_f64(-(py as f64 + 0.5 - f64::from(h) / 2.0) * s);
            for px in 0..w as usize {
                let dx = Df64::from_f64((px as f64 + 0.5 - f64::from(w) / 2.0) * s);
                let p = (center.0 + dx, center.1 + dy);
                let ((mut x, mut y), (cr, ci)) = match params.kind {
                    FractalKind::Julia { re, im } => (p, (Df64::from_f64(re), Df64::from_f64(im))),
                    _ => ((Df64::ZERO, Df64::ZERO), p),
                };
                let mut n = 0;
                loop {
                    let (x2, y2) = (x.sqr(), y.sqr());
                    if n >= params.max_iter || x2.hi + y2.hi > r2 {
                        break;
                    }
                    let xy = if matches!(params.kind, FractalKind::BurningShip) {
                        x.abs() * y.abs()
                    } else {
                        x * y
                    };
                    let nx = x2 - y2 + cr;
                    y = xy + xy + ci;
                    x = nx;
                    n += 1;
                }
                cs[px] = n;
                ss[px] = smooth_value(n, x.to_f64().powi(2) + y.to_f64().powi(2), params.max_iter);
            }
        });
    finish(w, h, counts, smooth, params.max_iter, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fractal::View;

    #[test]
    fn lanes_equal_the_scalar_loop_for_every_kind() {
        for kind in FractalKind::ALL {
            let p = FractalParams {
                kind,
                view: View {
                    center: (-0.5, 0.0),
                    width: 3.0,
                },
                max_iter: 300,
            };
            let (a, b) = (render(&p, 67, 41), render_scalar(&p, 67, 41));
            assert_eq!(a.counts, b.counts, "{kind:?}");
            assert_eq!(a.total_iterations, b.total_iterations);
            for (x, y) in a.smooth.iter().zip(&b.smooth) {
                assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
            }
        }
    }

    #[test]
    fn interior_checks_keep_every_count_and_skip_interior_work() {
        let views = [
            (FractalKind::Mandelbrot, View::HOME, 1000),
            // seahorse valley: boundary-heavy
            (
                FractalKind::Mandelbrot,
                View {
                    center: (-0.7436, 0.1318),
                    width: 0.01,
                },
                2000,
            ),
            // inside the period-3 component on the real axis: all interior, found by periodicity
            (
                FractalKind::Mandelbrot,
                View {
                    center: (-1.7549, 0.0),
                    width: 1e-4,
                },
                2000,
            ),
            (
                FractalKind::ALL[1],
                View {
                    center: (0.0, 0.0),
                    width: 3.2,
                },
                500,
            ),
            (
                FractalKind::BurningShip,
                View {
                    center: (-0.4, -0.6),
                    width: 3.2,
                },
                500,
            ),
        ];
        for (kind, view, max_iter) in views {
            let p = FractalParams {
                kind,
                view,
                max_iter,
            };
            let (plain, checked) = (render(&p, 97, 61), render_checked(&p, 97, 61));
            assert_eq!(plain.counts, checked.counts, "{kind:?} {view:?}");
            assert_eq!(plain.total_iterations, checked.total_iterations);
            for (a, b) in plain.smooth.iter().zip(&checked.smooth) {
                assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
            }
            assert!(checked.computed_iterations <= plain.computed_iterations);
            assert_eq!(plain.computed_iterations, plain.total_iterations);
        }
        let deep_interior = FractalParams {
            view: View {
                center: (-1.7549, 0.0),
                width: 1e-4,
            },
            max_iter: 2000,
            ..Default::default()
        };
        let (plain, checked) = (
            render(&deep_interior, 32, 32),
            render_checked(&deep_interior, 32, 32),
        );
        assert_eq!(plain.escaped, 0);
        assert!(
            checked.computed_iterations * 10 < plain.total_iterations,
            "{} of {}",
            checked.computed_iterations,
            plain.total_iterations
        );
    }

    #[test]
    fn nan_views_finish() {
        let p = FractalParams {
            view: View {
                center: (f64::NAN, 0.0),
                width: 1.0,
            },
            max_iter: 50,
            ..Default::default()
        };
        assert_eq!(render(&p, 9, 3).counts.len(), 27);
        let p = FractalParams {
            kind: FractalKind::Julia {
                re: f64::NAN,
                im: 0.0,
            },
            ..p
        };
        assert_eq!(render(&p, 9, 3).counts.len(), 27);
    }

    #[test]
    fn known_points() {
        // c = 0 never escapes; c = 1 escapes after a few iterations; c = -2 stays bounded
        let p = FractalParams {
            view: View {
                center: (0.0, 0.0),
                width: 1e-9,
            },
            max_iter: 100,
            ..Default::default()
        };
        assert_eq!(render_scalar(&p, 1, 1).counts, vec![100]);
        let p = FractalParams {
            view: View {
                center: (1.0, 0.0),
                width: 1e-9,
            },
            ..p
        };
        let n = render_scalar(&p, 1, 1).counts[0];
        assert!((3..=5).contains(&n), "{n}");
        let p = FractalParams {
            view: View {
                center: (-2.0, 0.0),
                width: 1e-12,
            },
            ..p
        };
        assert_eq!(render_scalar(&p, 1, 1).counts, vec![100]);
    }

    #[test]
    fn df64_matches_f64_on_deep_non_chaotic_view() {
        let p = FractalParams {
            view: View {
                center: (-1.7499, 0.0),
                width: 1e-11,
            },
            max_iter: 300,
            ..Default::default()
        };
        let a = render_df64(&p, 64, 64);
        let b = render(&p, 64, 64);
        assert!(a.agreement(&b, 1) >= 0.98, "{}", a.agreement(&b, 1));
        // and the view is not flat: counts vary across it
        assert!(b.counts.iter().min() != b.counts.iter().max());
    }
}
