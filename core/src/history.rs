//! Bounded per-metric history: a raw ring of recent samples plus a coarse long-term tier.
//!
//! Raw samples are 16 bytes: a monotonic offset in nanoseconds from the tracker's anchor and
//! the value. Wall-clock times are rebuilt from one anchor on read.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// A gauge sample: 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) t: u64,
    pub(crate) value: f64,
}

/// A scope sample for one collected frame: 16 bytes (total ms as `f32`, call count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ScopeSample {
    pub(crate) t: u64,
    pub(crate) total_ms: f32,
    pub(crate) calls: u32,
}

/// A point a history ring stores.
pub(crate) trait Point: Copy {
    fn t(&self) -> u64;
    fn value(&self) -> f64;
}

impl Point for Sample {
    fn t(&self) -> u64 {
        self.t
    }
    fn value(&self) -> f64 {
        self.value
    }
}

impl Point for ScopeSample {
    fn t(&self) -> u64 {
        self.t
    }
    fn value(&self) -> f64 {
        f64::from(self.total_ms)
    }
}

/// A ring that keeps the newest `capacity` points, in time order.
#[derive(Debug)]
pub(crate) struct Ring<P> {
    points: VecDeque<P>,
    capacity: usize,
}

impl<P: Point> Ring<P> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            points: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Keeps at most `capacity` points from now on, dropping the oldest beyond it and giving
    /// back memory the deque no longer needs.
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.points.len() > self.capacity {
            self.points.pop_front();
        }
        if self.points.capacity() > self.capacity {
            self.points.shrink_to(self.capacity);
        }
    }

    pub(crate) fn push(&mut self, p: P) {
        let len = self.points.len();
        if len == self.capacity {
            self.points.pop_front();
        } else if len == self.points.capacity() {
            // grow by doubling, but never past the ring's capacity
            self.points
                .reserve_exact(len.max(8).min(self.capacity - len));
        }
        self.points.push_back(p);
    }

    pub(crate) fn first(&self) -> Option<&P> {
        self.points.front()
    }

    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    pub(crate) fn last(&self) -> Option<&P> {
        self.points.back()
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &P> + ExactSizeIterator {
        self.points.iter()
    }

    /// Bytes the ring holds allocated (capacity of the deque × point size).
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<P>()
    }

    /// Index range of points with `from <= t < to`. Both ends are found by galloping back from
    /// the newest point: the ranges asked for are recent ones (the last seconds of a ring that
    /// holds many minutes), and this touches only the memory near them instead of a binary
    /// search's cache misses across the whole ring.
    pub(crate) fn range(&self, from: u64, to: u64) -> std::ops::Range<usize> {
        let end = self.first_at_or_after(to, self.points.len());
        // every index past `end` is at or after `to`, so also after `from` when from <= to
        let start = self.first_at_or_after(from, if from <= to { end } else { self.points.len() });
        start..end.max(start)
    }

    /// The first index in `0..hi` whose point is at or after `t` (`hi` when none is), searched
    /// from `hi` backwards in doubling steps, then by bisection.
    fn first_at_or_after(&self, t: u64, hi: usize) -> usize {
        let pts = &self.points;
        // invariant: every index in upper..hi is at or after t
        let mut upper = hi;
        let mut step = 1;
        let lower = loop {
            if upper == 0 {
                return 0;
            }
            let probe = upper.saturating_sub(step);
            if pts[probe].t() < t {
                break probe; // the answer lies in probe + 1 ..= upper
            }
            upper = probe;
            step *= 2;
        };
        let (mut lo, mut hi) = (lower + 1, upper);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pts[mid].t() < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub(crate) fn slice(&self, r: std::ops::Range<usize>) -> impl Iterator<Item = &P> {
        self.points.range(r)
    }

    /// Min–max decimation of the points in `[from, to)` into `buckets` equal time spans.
    /// Empty spans are left out; each returned bucket keeps the exact min and max of its points.
    pub(crate) fn decimate(&self, from: u64, to: u64, buckets: usize) -> Vec<RawBucket> {
        let mut out = Vec::new();
        if buckets == 0 || to <= from {
            return out;
        }
        let span = (to - from).div_ceil(buckets as u64).max(1);
        let mut cur: Option<RawBucket> = None;
        for p in self.slice(self.range(from, to)) {
            let idx = (p.t() - from) / span;
            let v = p.value();
            match &mut cur {
                Some(b) if b.index == idx => b.add(p.t(), v),
                _ => {
                    if let Some(b) = cur.take() {
                        out.push(b);
                    }
                    cur = Some(RawBucket::first(idx, from + idx * span, span, p.t(), v));
                }
            }
        }
        out.extend(cur);
        out
    }
}

/// A decimation bucket in tracker offsets (converted to wall-clock for the public type).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawBucket {
    pub(crate) index: u64,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) min: f64,
    pub(crate) min_t: u64,
    pub(crate) max: f64,
    pub(crate) max_t: u64,
    pub(crate) sum: f64,
    pub(crate) count: u32,
}

impl RawBucket {
    fn first(index: u64, start: u64, span: u64, t: u64, v: f64) -> Self {
        Self {
            index,
            start,
            end: start + span,
            min: v,
            min_t: t,
            max: v,
            max_t: t,
            sum: v,
            count: 1,
        }
    }

    fn add(&mut self, t: u64, v: f64) {
        if v < self.min {
            self.min = v;
            self.min_t = t;
        }
        if v > self.max {
            self.max = v;
            self.max_t = t;
        }
        self.sum += v;
        self.count += 1;
    }
}

/// Bytes of one raw point (a gauge sample or a scope sample).
pub(crate) const RAW_POINT_BYTES: usize = std::mem::size_of::<Sample>();
/// Bytes of one long-term bucket.
pub(crate) const COARSE_POINT_BYTES: usize = std::mem::size_of::<Coarse>();

/// One second of a metric in the long-term tier.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Coarse {
    pub(crate) second: u64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) sum: f64,
    pub(crate) count: u32,
}

impl Point for Coarse {
    fn t(&self) -> u64 {
        self.second * 1_000_000_000
    }
    fn value(&self) -> f64 {
        self.sum / f64::from(self.count.max(1))
    }
}

/// The long-term tier: 1 s buckets of min/mean/max/count.
#[derive(Debug)]
pub(crate) struct CoarseTier {
    pub(crate) ring: Ring<Coarse>,
    open: Option<Coarse>,
}

impl CoarseTier {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            ring: Ring::new(capacity),
            open: None,
        }
    }

    pub(crate) fn add(&mut self, t: u64, v: f64) {
        let second = t / 1_000_000_000;
        match &mut self.open {
            Some(c) if c.second == second => {
                c.min = c.min.min(v);
                c.max = c.max.max(v);
                c.sum += v;
                c.count += 1;
            }
            _ => {
                if let Some(done) = self.open.take() {
                    self.ring.push(done);
                }
                self.open = Some(Coarse {
                    second,
                    min: v,
                    max: v,
                    sum: v,
                    count: 1,
                });
            }
        }
    }

    /// Closed buckets followed by the open one.
    pub(crate) fn all(&self) -> impl Iterator<Item = Coarse> + '_ {
        self.ring.iter().copied().chain(self.open)
    }
}

/// History of one metric: raw tier and long-term tier.
#[derive(Debug)]
pub(crate) enum RawTier {
    Gauge(Ring<Sample>),
    Scope(Ring<ScopeSample>),
}

#[derive(Debug)]
pub(crate) struct MetricHistory {
    pub(crate) raw: RawTier,
    pub(crate) coarse: CoarseTier,
}

impl MetricHistory {
    pub(crate) fn new(scope: bool, raw_capacity: usize, coarse_capacity: usize) -> Self {
        Self {
            raw: if scope {
                RawTier::Scope(Ring::new(raw_capacity))
            } else {
                RawTier::Gauge(Ring::new(raw_capacity))
            },
            coarse: CoarseTier::new(coarse_capacity),
        }
    }

    /// Keeps at most `raw` samples and `coarse` one-second buckets from now on.
    pub(crate) fn set_capacity(&mut self, raw: usize, coarse: usize) {
        match &mut self.raw {
            RawTier::Gauge(r) => r.set_capacity(raw),
            RawTier::Scope(r) => r.set_capacity(raw),
        }
        self.coarse.ring.set_capacity(coarse);
    }

    pub(crate) fn push_gauge(&mut self, t: u64, value: f64) {
        // samples from several threads may arrive out of order: keep both tiers monotonic
        let t = match &mut self.raw {
            RawTier::Gauge(r) => {
                let t = r.last().map_or(t, |l| t.max(l.t));
                r.push(Sample { t, value });
                t
            }
            RawTier::Scope(r) => {
                let t = r.last().map_or(t, |l| t.max(l.t));
                r.push(ScopeSample {
                    t,
                    total_ms: value as f32,
                    calls: 1,
                });
                t
            }
        };
        self.coarse.add(t, value);
    }

    pub(crate) fn push_scope(&mut self, t: u64, total_ms: f64, calls: u32) {
        match &mut self.raw {
            RawTier::Scope(r) => {
                let t = r.last().map_or(t, |l| t.max(l.t));
                r.push(ScopeSample {
                    t,
                    total_ms: total_ms as f32,
                    calls,
                });
            }
            RawTier::Gauge(r) => {
                let t = r.last().map_or(t, |l| t.max(l.t));
                r.push(Sample { t, value: total_ms });
            }
        }
        self.coarse.add(t, total_ms);
    }

    pub(crate) fn latest(&self) -> Option<(u64, f64)> {
        match &self.raw {
            RawTier::Gauge(r) => r.last().map(|p| (p.t, p.value)),
            RawTier::Scope(r) => r.last().map(|p| (p.t, p.value())),
        }
    }

    /// Times of the oldest and newest raw sample.
    pub(crate) fn first_last_t(&self) -> Option<(u64, u64)> {
        match &self.raw {
            RawTier::Gauge(r) => Some((r.first()?.t, r.last()?.t)),
            RawTier::Scope(r) => Some((r.first()?.t, r.last()?.t)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.raw {
            RawTier::Gauge(r) => r.len(),
            RawTier::Scope(r) => r.len(),
        }
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        let raw = match &self.raw {
            RawTier::Gauge(r) => r.allocated_bytes(),
            RawTier::Scope(r) => r.allocated_bytes(),
        };
        raw + self.coarse.ring.allocated_bytes()
    }

    /// Points `(t, value)` with `from <= t < to`, oldest first, at most `limit` (the newest ones).
    pub(crate) fn points(&self, from: u64, to: u64, limit: usize) -> Vec<(u64, f64)> {
        fn take<P: Point>(r: &Ring<P>, from: u64, to: u64, limit: usize) -> Vec<(u64, f64)> {
            let range = r.range(from, to);
            let skip = range.len().saturating_sub(limit);
            r.slice(range)
                .skip(skip)
                .map(|p| (p.t(), p.value()))
                .collect()
        }
        match &self.raw {
            RawTier::Gauge(r) => take(r, from, to, limit),
            RawTier::Scope(r) => take(r, from, to, limit),
        }
    }

    /// Values in `[from, to)` (for statistics).
    pub(crate) fn values(&self, from: u64, to: u64) -> Vec<f64> {
        self.points(from, to, usize::MAX)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    pub(crate) fn decimate(&self, from: u64, to: u64, buckets: usize) -> Vec<RawBucket> {
        match &self.raw {
            RawTier::Gauge(r) => r.decimate(from, to, buckets),
            RawTier::Scope(r) => r.decimate(from, to, buckets),
        }
    }

    /// Call counts per frame for a scope metric in `[from, to)`.
    pub(crate) fn scope_calls(&self, from: u64, to: u64) -> Vec<(u64, u32)> {
        match &self.raw {
            RawTier::Scope(r) => r.slice(r.range(from, to)).map(|p| (p.t, p.calls)).collect(),
            RawTier::Gauge(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Sample>(), 16);
        assert_eq!(std::mem::size_of::<ScopeSample>(), 16);
    }

    #[test]
    fn ring_keeps_newest_in_order() {
        let mut r = Ring::new(3);
        for i in 0..5u64 {
            r.push(Sample {
                t: i,
                value: i as f64,
            });
        }
        let v: Vec<u64> = r.iter().map(|p| p.t).collect();
        assert_eq!(v, vec![2, 3, 4]);
        assert_eq!(r.range(3, 10), 1..3);
    }

    #[test]
    fn ranges_found_from_the_back_equal_a_binary_search() {
        // a wrapped ring with repeated times (clamped out-of-order samples)
        let mut r = Ring::new(200);
        let mut t = 0u64;
        for i in 0..517u64 {
            t += (i * 7919) % 5; // steps of 0..4, so equal times occur
            r.push(Sample { t, value: 0.0 });
        }
        let last = r.last().unwrap().t;
        let first = r.first().unwrap().t;
        let bisect = |from: u64, to: u64| {
            let s = r.points.partition_point(|p| p.t < from);
            let e = r.points.partition_point(|p| p.t < to);
            s..e.max(s)
        };
        for from in (first.saturating_sub(3)..=last + 3).step_by(3) {
            for to in [
                from,
                from + 1,
                from + 5,
                from + 40,
                last,
                last + 1,
                u64::MAX,
            ] {
                assert_eq!(r.range(from, to), bisect(from, to), "{from}..{to}");
            }
        }
        assert_eq!(Ring::<Sample>::new(4).range(0, 10), 0..0);
    }

    #[test]
    fn decimation_keeps_min_and_max_of_each_bucket() {
        let mut r = Ring::new(1000);
        for i in 0..1000u64 {
            let v = if i % 97 == 0 {
                1000.0
            } else if i % 89 == 0 {
                -1000.0
            } else {
                (i % 10) as f64
            };
            r.push(Sample { t: i, value: v });
        }
        let b = r.decimate(0, 1000, 10);
        assert_eq!(b.len(), 10);
        for bucket in &b {
            let pts: Vec<f64> = r
                .iter()
                .filter(|p| p.t >= bucket.start && p.t < bucket.end)
                .map(|p| p.value)
                .collect();
            let min = pts.iter().copied().fold(f64::INFINITY, f64::min);
            let max = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(bucket.min, min);
            assert_eq!(bucket.max, max);
            assert_eq!(bucket.count as usize, pts.len());
        }
    }

    #[test]
    fn coarse_tier_buckets_seconds() {
        let mut c = CoarseTier::new(10);
        for i in 0..30u64 {
            c.add(i * 100_000_000, i as f64);
        }
        let all: Vec<Coarse> = c.all().collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].count, 10);
        assert_eq!(all[0].min, 0.0);
        assert_eq!(all[0].max, 9.0);
        assert_eq!(all[2].max, 29.0);
    }
}
