use rfm_perf_core::track_performance;

#[track_performance(42)]
fn answer() -> u32 {
    42
}

#[track_performance(name = "x")]
fn key_value() {}

#[track_performance("a", "b")]
fn two_names() {}

fn main() {
    let _ = answer();
    key_value();
    two_names();
}
