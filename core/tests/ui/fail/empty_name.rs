use rfm_perf_core::track_performance;

#[track_performance("")]
fn unnamed() {}

fn main() {
    unnamed();
}
