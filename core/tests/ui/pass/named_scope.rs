use rfm_perf_core::{get_performance_tracker, track_performance};

#[track_performance("mandelbrot.generation")]
fn generate(w: u32, h: u32) -> Result<u64, String> {
    if w == 0 || h == 0 {
        return Err("empty image".into());
    }
    let area = u64::from(w).checked_mul(u64::from(h)).ok_or("too large")?;
    Ok(area)
}

#[track_performance("unicode – ok ✓")]
fn unicode_name() {}

fn main() {
    assert_eq!(generate(3, 4), Ok(12));
    assert!(generate(0, 4).is_err());
    unicode_name();
    let t = get_performance_tracker();
    let calls = |n: &str| t.scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("mandelbrot.generation"), 2);
    assert_eq!(calls("unicode – ok ✓"), 1);
    assert!(t.get_metric("mandelbrot.generation").is_some());
}
