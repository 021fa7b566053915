// The on/off switch is process-wide, so it is tested here, in a process of its own.
use rfm_perf_core::{
    get_performance_tracker, perf_scope, scopes_enabled, set_scopes_enabled, track_performance,
};

#[track_performance("switch.fn")]
fn tracked() -> u32 {
    1
}

#[track_performance("switch.async")]
async fn tracked_async() {}

fn main() {
    set_scopes_enabled(false);
    assert!(!scopes_enabled());
    for _ in 0..10 {
        tracked();
        perf_scope!("switch.block");
    }
    drop(tracked_async()); // never polled: never recorded either way
    let t = get_performance_tracker();
    assert!(t.scope_stats().is_empty(), "disabled scopes record nothing");
    // explicit timers keep working
    t.start_timer("switch.timer");
    assert!(t.end_timer("switch.timer").is_some());

    set_scopes_enabled(true);
    tracked();
    let calls = |n: &str| t.scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("switch.fn"), 1);
    assert_eq!(calls("switch.block"), 0);
    assert_eq!(calls("switch.timer"), 1);
}
