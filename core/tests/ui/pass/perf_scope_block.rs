use rfm_perf_core::{get_performance_tracker, perf_scope};

fn work(n: u32) -> u32 {
    perf_scope!("block.work");
    let mut sum = 0;
    for i in 0..n {
        perf_scope!("block.loop_body");
        sum += i;
    }
    sum
}

fn default_named() {
    perf_scope!();
}

fn main() {
    assert_eq!(work(4), 6);
    {
        perf_scope!("block.inner");
    }
    default_named();
    let calls = |n: &str| get_performance_tracker().scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("block.work"), 1);
    assert_eq!(calls("block.loop_body"), 4);
    assert_eq!(calls("block.inner"), 1);
    assert_eq!(calls(module_path!()), 1);
}
