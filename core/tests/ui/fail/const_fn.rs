use rfm_perf_core::track_performance;

#[track_performance]
const fn square(x: u32) -> u32 {
    x * x
}

fn main() {
    let _ = square(3);
}
