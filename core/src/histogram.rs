//! Log-linear histogram of durations (8 sub-buckets per power of two: ≤ 6.25 % bucket width).

/// Values below this are their own bucket.
const LINEAR: u64 = 16;
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// Largest power of two tracked; larger values land in the last bucket (2^44 ns ≈ 4.9 h).
const MAX_EXP: u32 = 44;
/// Number of buckets.
pub(crate) const BUCKETS: usize = LINEAR as usize + ((MAX_EXP - 4 + 1) as usize) * SUB as usize;

/// Bucket index of `v`.
#[inline(always)]
pub(crate) fn bucket_of(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = (63 - v.leading_zeros()).min(MAX_EXP);
    let v = v.min((1u64 << (MAX_EXP + 1)) - 1);
    let mant = (v >> (e - SUB_BITS)) & (SUB - 1);
    LINEAR as usize + ((e - 4) as usize) * SUB as usize + mant as usize
}

/// Lower bound of bucket `i`.
pub(crate) fn bucket_low(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let j = i as u64 - LINEAR;
    let e = 4 + j / SUB;
    let mant = j % SUB;
    (1u64 << e) + (mant << (e - u64::from(SUB_BITS)))
}

/// Representative value of bucket `i` (its midpoint).
pub(crate) fn bucket_mid(i: usize) -> f64 {
    let lo = bucket_low(i) as f64;
    let hi = if i + 1 < BUCKETS {
        bucket_low(i + 1) as f64
    } else {
        lo * 1.0625
    };
    if (i as u64) < LINEAR {
        lo
    } else {
        (lo + hi) / 2.0
    }
}

/// A histogram of nanosecond durations with a touched-range so merges skip empty buckets.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: Box<[u32; BUCKETS]>,
    lo: usize,
    hi: usize,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            lo: BUCKETS,
            hi: 0,
        }
    }
}

impl Histogram {
    #[inline(always)]
    pub(crate) fn record(&mut self, nanos: u64) {
        let b = bucket_of(nanos);
        self.counts[b] = self.counts[b].saturating_add(1);
        if b < self.lo {
            self.lo = b;
        }
        if b >= self.hi {
            self.hi = b + 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lo >= self.hi
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        if other.is_empty() {
            return;
        }
        for i in other.lo..other.hi {
            self.counts[i] = self.counts[i].saturating_add(other.counts[i]);
        }
        self.lo = self.lo.min(other.lo);
        self.hi = self.hi.max(other.hi);
    }

    pub(crate) fn clear(&mut self) {
        if !self.is_empty() {
            self.counts[self.lo..self.hi].fill(0);
        }
        self.lo = BUCKETS;
        self.hi = 0;
    }

    pub(crate) fn count(&self) -> u64 {
        if self.is_empty() {
            return 0;
        }
        self.counts[self.lo..self.hi]
            .iter()
            .map(|&c| u64::from(c))
            .sum()
    }

    /// The `q`-quantile (0..=1) in nanoseconds, or `None` when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for i in self.lo..self.hi {
            seen += u64::from(self.counts[i]);
            if seen >= rank {
                return Some(bucket_mid(i));
            }
        }
        Some(bucket_mid(self.hi - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut prev = 0;
        for v in (0..100_000u64).chain([1 << 20, 1 << 30, 1 << 40, u64::MAX]) {
            let b = bucket_of(v);
            assert!(b >= prev || v >= 100_000, "{v}");
            assert!(b < BUCKETS);
            prev = b;
            if v < 1 << 44 {
                let lo = bucket_low(b);
                assert!(lo <= v, "{v} {lo}");
                if b + 1 < BUCKETS {
                    assert!(bucket_low(b + 1) > v);
                }
            }
        }
    }

    #[test]
    fn quantiles_within_bucket_width() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5).unwrap();
        let p99 = h.quantile(0.99).unwrap();
        assert!((p50 / 5_000_000.0 - 1.0).abs() < 0.07, "{p50}");
        assert!((p99 / 9_900_000.0 - 1.0).abs() < 0.07, "{p99}");
        let mut g = Histogram::default();
        g.merge(&h);
        assert_eq!(g.count(), 10_000);
        g.clear();
        assert!(g.is_empty());
        assert_eq!(g.quantile(0.5), None);
    }
}
