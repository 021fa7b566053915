//! Double-single ("df64") arithmetic: a value as the unevaluated sum of two `f32`s, ≈ 48 bits of
//! mantissa. This is the CPU twin of the WGSL arithmetic the GPU uses for deep zooms, so the
//! GPU's error-free transformations can be checked against it, and both against `f64`.
//!
//! Algorithms: Knuth's two-sum, Dekker's split and two-product (no `fma`: on the GPU drivers we
//! target, a `fma`-based two-product was not exact).

/// A double-single number `hi + lo` with `|lo| ≤ ulp(hi) / 2`.
///
/// ```
/// use rfm_perf::fractal::df64::Df64;
/// let a = Df64::from_f64(1.0 + 1e-12);
/// let b = Df64::from_f64(1.0);
/// assert!(((a - b).to_f64() - 1e-12).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Df64 {
    /// Leading part.
    pub hi: f32,
    /// Trailing error part.
    pub lo: f32,
}

/// `a + b` exactly as `s + e` (Knuth).
#[inline(always)]
fn two_sum(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// `a + b` exactly when `|a| ≥ |b|`.
#[inline(always)]
fn quick_two_sum(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    (s, b - (s - a))
}

/// Dekker's split of an `f32` into two halves of 12 bits each.
#[inline(always)]
fn split(a: f32) -> (f32, f32) {
    const SPLITTER: f32 = 4097.0; // 2^12 + 1
    let t = SPLITTER * a;
    let hi = t - (t - a);
    (hi, a - hi)
}

/// `a * b` exactly as `p + e` (Dekker).
#[inline(always)]
fn two_prod(a: f32, b: f32) -> (f32, f32) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    (p, e)
}

impl Df64 {
    /// Zero.
    pub const ZERO: Df64 = Df64 { hi: 0.0, lo: 0.0 };

    /// The nearest df64 to `v`.
    pub fn from_f64(v: f64) -> Self {
        let hi = v as f32;
        let lo = (v - f64::from(hi)) as f32;
        Self { hi, lo }
    }

    /// An `f32` as df64.
    pub fn from_f32(v: f32) -> Self {
        Self { hi: v, lo: 0.0 }
    }

    /// The value as `f64` (exact: both parts fit).
    pub fn to_f64(self) -> f64 {
        f64::from(self.hi) + f64::from(self.lo)
    }

    /// `self * self`.
    #[inline(always)]
    pub fn sqr(self) -> Self {
        let (p, e) = two_prod(self.hi, self.hi);
        let e = e + 2.0 * self.hi * self.lo;
        let (hi, lo) = quick_two_sum(p, e);
        Self { hi, lo }
    }

    /// `|self|`.
    #[inline(always)]
    pub fn abs(self) -> Self {
        if self.hi < 0.0 { -self } else { self }
    }
}

impl std::ops::Add for Df64 {
    type Output = Df64;
    #[inline(always)]
    fn add(self, b: Df64) -> Df64 {
        let (s, e) = two_sum(self.hi, b.hi);
        let (t, f) = two_sum(self.lo, b.lo);
        let (s, e) = quick_two_sum(s, e + t);
        let (hi, lo) = quick_two_sum(s, e + f);
        Df64 { hi, lo }
    }
}

impl std::ops::Neg for Df64 {
    type Output = Df64;
    #[inline(always)]
    fn neg(self) -> Df64 {
        Df64 {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl std::ops::Sub for Df64 {
    type Output = Df64;
    #[inline(always)]
    fn sub(self, b: Df64) -> Df64 {
        self + (-b)
    }
}

impl std::ops::Mul for Df64 {
    type Output = Df64;
    #[inline(always)]
    fn mul(self, b: Df64) -> Df64 {
        let (p, e) = two_prod(self.hi, b.hi);
        let e = e + (self.hi * b.lo + self.lo * b.hi);
        let (hi, lo) = quick_two_sum(p, e);
        Df64 { hi, lo }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dev-dependency needed).
    fn rng(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn add_and_mul_match_f64_to_about_48_bits() {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let mut worst_add = 0.0f64;
        let mut worst_mul = 0.0f64;
        for _ in 0..100_000 {
            let a = (rng(&mut seed) - 0.5) * 4.0;
            let b = (rng(&mut seed) - 0.5) * 4.0;
            let (da, db) = (Df64::from_f64(a), Df64::from_f64(b));
            // compare against the f64 result of the df64 inputs (their own rounding aside)
            let (ea, eb) = (da.to_f64(), db.to_f64());
            let add_err = ((da + db).to_f64() - (ea + eb)).abs() / (ea + eb).abs().max(1e-3);
            let mul_err = ((da * db).to_f64() - ea * eb).abs() / (ea * eb).abs().max(1e-6);
            worst_add = worst_add.max(add_err);
            worst_mul = worst_mul.max(mul_err);
        }
        // 2^-44 ≈ 5.7e-14: a few ulps of a 48-bit mantissa
        assert!(worst_add < 6e-14, "add error {worst_add:e}");
        assert!(worst_mul < 6e-14, "mul error {worst_mul:e}");
    }

    #[test]
    fn resolves_differences_far_below_f32() {
        let c = Df64::from_f64(-1.749_9);
        let d = Df64::from_f64(-1.749_9 + 1e-12);
        let diff = (d - c).to_f64();
        assert!((diff - 1e-12).abs() < 1e-13, "{diff:e}");
        let x = Df64::from_f64(1.0 + 2f64.powi(-40));
        assert!(((x.sqr()).to_f64() - (1.0 + 2f64.powi(-39))).abs() < 1e-13);
    }
}
