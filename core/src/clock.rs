//! The scope clock: raw ticks read on the hot path, converted to nanoseconds off it.
//!
//! With the default `tsc` feature the clock reads the CPU's time-stamp counter through
//! [`quanta`] (≈ 11 ns per read on the reference machine, against ≈ 30 ns for
//! `std::time::Instant::now()`); without it, ticks are nanoseconds since a process-wide anchor.

use std::sync::OnceLock;
use std::time::Instant;

#[cfg(feature = "tsc")]
fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

fn anchor() -> &'static (Instant, u64) {
    static ANCHOR: OnceLock<(Instant, u64)> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        let raw = read_raw();
        (Instant::now(), raw)
    })
}

#[cfg(feature = "tsc")]
#[inline(always)]
fn read_raw() -> u64 {
    clock().raw()
}

#[cfg(not(feature = "tsc"))]
#[inline(always)]
fn read_raw() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Reads the raw tick counter. Cheap; only differences of two reads are meaningful.
///
/// ```
/// let a = rfm_perf_core::clock::now_ticks();
/// let b = rfm_perf_core::clock::now_ticks();
/// assert!(rfm_perf_core::clock::ticks_to_nanos(a, b) < 1_000_000_000);
/// ```
#[inline(always)]
pub fn now_ticks() -> u64 {
    read_raw()
}

/// Nanoseconds between two tick readings (`0` if `end` precedes `start`).
///
/// ```
/// use rfm_perf_core::clock::{now_ticks, ticks_to_nanos};
/// let t = now_ticks();
/// assert_eq!(ticks_to_nanos(t, t), 0);
/// ```
#[inline]
pub fn ticks_to_nanos(start: u64, end: u64) -> u64 {
    if end <= start {
        return 0;
    }
    #[cfg(feature = "tsc")]
    {
        clock().delta_as_nanos(start, end)
    }
    #[cfg(not(feature = "tsc"))]
    {
        end - start
    }
}

/// The `Instant` that a tick reading corresponds to.
///
/// ```
/// let t = rfm_perf_core::clock::now_ticks();
/// let i = rfm_perf_core::clock::ticks_to_instant(t);
/// assert!(i <= std::time::Instant::now());
/// ```
pub fn ticks_to_instant(ticks: u64) -> Instant {
    let (base, base_raw) = *anchor();
    if ticks >= base_raw {
        base + std::time::Duration::from_nanos(ticks_to_nanos(base_raw, ticks))
    } else {
        base.checked_sub(std::time::Duration::from_nanos(ticks_to_nanos(
            ticks, base_raw,
        )))
        .unwrap_or(base)
    }
}

/// Makes sure the clock is calibrated, so the first scope does not pay for it.
///
/// ```
/// rfm_perf_core::clock::warm_up();
/// ```
pub fn warm_up() {
    let _ = anchor();
}

/// Seconds since the Unix epoch of `t` (0 for times before it): the form alerts, anomalies,
/// baselines and traces carry wall-clock times in.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1500);
/// assert_eq!(rfm_perf_core::clock::unix_seconds(t), 1.5);
/// ```
pub fn unix_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_track_wall_time() {
        warm_up();
        let a = now_ticks();
        let i = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = now_ticks();
        let wall = i.elapsed().as_nanos() as f64;
        let measured = ticks_to_nanos(a, b) as f64;
        assert!((measured / wall - 1.0).abs() < 0.2, "{measured} vs {wall}");
        let ia = ticks_to_instant(a);
        let ib = ticks_to_instant(b);
        assert!(ib > ia);
    }
}
