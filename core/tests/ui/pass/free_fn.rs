use rfm_perf_core::{get_performance_tracker, track_performance};

#[track_performance]
fn compute(n: u32) -> u32 {
    n * 2
}

fn main() {
    assert_eq!(compute(21), 42);
    assert_eq!(compute(1), 2);
    let name = concat!(module_path!(), "::compute");
    let stats = get_performance_tracker().scope_stats();
    let s = stats
        .iter()
        .find(|s| s.name.as_ref() == name)
        .expect("default name is module_path::fn_name");
    assert_eq!(s.calls, 2);
}
