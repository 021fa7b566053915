//! The metrics only the system sampler records (the shared ones are in `rfm_perf_core::names`).

use rfm_perf_core::names::Builtin;
use rfm_perf_core::{Direction, PerformanceTracker, Unit};

/// System memory in use (MB).
pub const SYSTEM_MEMORY_USED_MB: &str = "system.memory_used_mb";
/// CPU usage of this process (%, may exceed 100 on several cores).
pub const PROCESS_CPU_PCT: &str = "process.cpu_pct";

/// The sampler's own metrics, registered when it starts.
pub const SAMPLER_METRICS: &[Builtin] = &[
    Builtin::new(
        SYSTEM_MEMORY_USED_MB,
        Unit::Megabytes,
        "System memory in use",
        Direction::LowerIsBetter,
    ),
    Builtin::new(
        PROCESS_CPU_PCT,
        Unit::Percent,
        "CPU usage of this process",
        Direction::LowerIsBetter,
    ),
];

pub(crate) fn register(tracker: &PerformanceTracker) {
    for m in SAMPLER_METRICS {
        tracker.register_metric(m.info());
    }
}
