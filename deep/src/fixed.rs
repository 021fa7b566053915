//! [`Fixed`]: signed fixed point, one 64-bit integer limb and [`LIMBS`]` − 1` fraction limbs,
//! two's complement, little-endian limbs.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Limbs of a [`Fixed`] (one integer limb, the rest fraction).
pub const LIMBS: usize = 18;
/// Fraction bits of a [`Fixed`]: its resolution is 2^-1088 ≈ 1.6e-328.
pub const FRACTION_BITS: u32 = 64 * (LIMBS as u32 - 1);

/// The longest number text [`Fixed::from_str`] reads.
const MAX_TEXT: usize = 4096;

/// A signed fixed-point number: value = (the 1 152-bit two's-complement integer of its limbs) /
/// 2^[`FRACTION_BITS`]. The integer part holds ±2^63. `Copy`, no allocation.
///
/// Multiplications take the number of limbs to work with (from the top; 2 = one fraction
/// limb, [`LIMBS`] = all): a view at width 1e-30 needs ~3 limbs, 1e-300 ~18.
///
/// ```
/// use rfm_perf_deep::{Fixed, LIMBS};
/// let a: Fixed = "1.5".parse()?;
/// let b: Fixed = "-0.25".parse()?;
/// assert_eq!(a.mul(&b, LIMBS).to_f64(), -0.375);
/// assert_eq!((a + b).to_string(), "1.25");
/// # Ok::<(), rfm_perf_deep::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fixed {
    limbs: [u64; LIMBS],
}

/// Why a text is not a number [`Fixed`] can hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing to read.
    #[error("empty number")]
    Empty,
    /// A character that is not part of a decimal number.
    #[error("{0:?} is not a decimal number (digits, one '.', an optional exponent such as e-80)")]
    Invalid(String),
    /// More text than any view needs.
    #[error("number text longer than {MAX_TEXT} characters")]
    TooLong,
    /// Its magnitude is 2^63 or more.
    #[error("{0:?} is out of range (|x| < 9.2e18)")]
    OutOfRange(String),
    /// A view's text is not `RE,IM,WIDTH`, or its width is not a positive finite number.
    #[error("{0}")]
    View(String),
}

impl Fixed {
    /// Zero.
    pub const ZERO: Fixed = Fixed { limbs: [0; LIMBS] };

    /// Whether it is below zero.
    pub fn is_negative(&self) -> bool {
        self.limbs[LIMBS - 1] >> 63 == 1
    }

    /// Its absolute value (of −2^63 itself: unchanged).
    pub fn abs(&self) -> Fixed {
        if self.is_negative() { -*self } else { *self }
    }

    /// The `f64` next to it (its two highest nonzero limbs, rounded to f64's 53 bits).
    ///
    /// ```
    /// let x: rfm_perf_deep::Fixed = "-1e-300".parse()?;
    /// assert!((x.to_f64() / -1e-300 - 1.0).abs() < 1e-12);
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn to_f64(&self) -> f64 {
        let m = self.abs();
        let Some(top) = m.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        // the two highest nonzero limbs hold more bits than f64 keeps
        let half = FRACTION_BITS as i32 / 2;
        let mut v = 0.0;
        for i in top.saturating_sub(1)..=top {
            // scaled in two steps: 2^-1088 alone is below f64's range
            v += (m.limbs[i] as f64 * 2f64.powi(64 * i as i32 - half)) * 2f64.powi(-half);
        }
        if self.is_negative() { -v } else { v }
    }

    /// `x` exactly (every finite f64 with |x| < 2^63 is a [`Fixed`], down to 2^-1088; smaller
    /// parts are cut). `None` for NaN, ±inf and out-of-range values.
    ///
    /// ```
    /// let x = rfm_perf_deep::Fixed::from_f64(-0.75).unwrap();
    /// assert_eq!(x.to_f64(), -0.75);
    /// ```
    pub fn from_f64(x: f64) -> Option<Fixed> {
        if !x.is_finite() || x.abs() >= 2f64.powi(63) {
            return None;
        }
        if x == 0.0 {
            return Some(Fixed::ZERO);
        }
        let bits = x.abs().to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let (mant, e) = if exp == 0 {
            (bits & ((1 << 52) - 1), -1074)
        } else {
            ((bits & ((1 << 52) - 1)) | (1 << 52), exp - 1075)
        };
        // value = mant · 2^e → the integer mant · 2^(e + FRACTION_BITS)
        let shift = e + FRACTION_BITS as i32;
        let mut out = Fixed::ZERO;
        if shift < 0 {
            let s = (-shift) as u32;
            if s >= 64 {
                return Some(Fixed::ZERO);
            }
            out.limbs[0] = mant >> s;
        } else {
            let (limb, bit) = ((shift / 64) as usize, (shift % 64) as u32);
            out.limbs[limb] |= mant << bit;
            if bit > 0 && limb + 1 < LIMBS {
                out.limbs[limb + 1] |= mant >> (64 - bit);
            }
        }
        Some(if x < 0.0 { -out } else { out })
    }

    /// `self · other` using the top `limbs` limbs of each (2..=[`LIMBS`]; the lower ones count as
    /// zero), truncated to the full width. Cost grows with `limbs²`.
    ///
    /// ```
    /// use rfm_perf_deep::Fixed;
    /// let third: Fixed = "0.333333333333333333333333333333333333333333".parse()?;
    /// let nine = Fixed::from_f64(9.0).unwrap();
    /// let x = third.mul(&nine, 3);
    /// assert!((x.to_f64() - 3.0).abs() < 1e-30);
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn mul(&self, other: &Fixed, limbs: usize) -> Fixed {
        let negative = self.is_negative() != other.is_negative();
        let (a, b) = (self.abs(), other.abs());
        let lo = LIMBS - limbs.clamp(2, LIMBS);
        let mut acc = [0u64; 2 * LIMBS];
        for i in lo..LIMBS {
            let ai = a.limbs[i];
            if ai == 0 {
                continue;
            }
            let mut carry: u128 = 0;
            for j in lo..LIMBS {
                let t = u128::from(ai) * u128::from(b.limbs[j]) + u128::from(acc[i + j]) + carry;
                acc[i + j] = t as u64;
                carry = t >> 64;
            }
            let mut k = i + LIMBS;
            while carry != 0 && k < 2 * LIMBS {
                let t = u128::from(acc[k]) + carry;
                acc[k] = t as u64;
                carry = t >> 64;
                k += 1;
            }
        }
        let mut out = Fixed::ZERO;
        out.limbs.copy_from_slice(&acc[LIMBS - 1..2 * LIMBS - 1]);
        if negative { -out } else { out }
    }

    /// `self²` at `limbs` limbs ([`mul`](Self::mul) with itself).
    pub fn square(&self, limbs: usize) -> Fixed {
        self.mul(self, limbs)
    }

    /// `self · 2`.
    pub fn double(&self) -> Fixed {
        *self + *self
    }

    /// The number as decimal text with at most `digits` fraction digits (rounded to nearest;
    /// trailing zeros dropped). [`EXACT_DIGITS`] digits write any [`Fixed`] so that it reads back
    /// as itself.
    ///
    /// ```
    /// let x: rfm_perf_deep::Fixed = "-0.1000000000000000000000000000000000000001".parse()?;
    /// assert_eq!(x.to_decimal(45), "-0.1000000000000000000000000000000000000001");
    /// # Ok::<(), rfm_perf_deep::ParseError>(())
    /// ```
    pub fn to_decimal(&self, digits: usize) -> String {
        let m = self.abs();
        let mut s = String::new();
        if self.is_negative() {
            s.push('-');
        }
        let mut int = m.limbs[LIMBS - 1];
        let mut frac = m.limbs;
        frac[LIMBS - 1] = 0;
        let mut out: Vec<u8> = Vec::with_capacity(digits);
        for _ in 0..digits {
            if frac.iter().all(|&l| l == 0) {
                break;
            }
            // frac · 10: the carry into the integer limb is the next digit
            let mut carry: u128 = 0;
            for l in frac.iter_mut().take(LIMBS - 1) {
                let t = u128::from(*l) * 10 + carry;
                *l = t as u64;
                carry = t >> 64;
            }
            out.push(b'0' + carry as u8);
        }
        // round half up on what is left
        if frac[LIMBS - 2] >> 63 == 1 {
            let mut i = out.len();
            loop {
                if i == 0 {
                    int += 1;
                    break;
                }
                i -= 1;
                if out[i] == b'9' {
                    out[i] = b'0';
                } else {
                    out[i] += 1;
                    break;
                }
            }
        }
        s += &int.to_string();
        let out = String::from_utf8(out).unwrap_or_default();
        let trimmed = out.trim_end_matches('0');
        if !trimmed.is_empty() {
            s.push('.');
            s += trimmed;
        }
        s
    }

    fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }
}

impl std::ops::Add for Fixed {
    type Output = Fixed;
    fn add(self, rhs: Fixed) -> Fixed {
        let mut out = Fixed::ZERO;
        let mut carry = false;
        for i in 0..LIMBS {
            let (s1, c1) = self.limbs[i].overflowing_add(rhs.limbs[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            out.limbs[i] = s2;
            carry = c1 || c2;
        }
        out
    }
}

impl std::ops::Sub for Fixed {
    type Output = Fixed;
    fn sub(self, rhs: Fixed) -> Fixed {
        self + -rhs
    }
}

impl std::ops::Neg for Fixed {
    type Output = Fixed;
    fn neg(self) -> Fixed {
        let mut out = Fixed::ZERO;
        let mut carry = true;
        for i in 0..LIMBS {
            let (s, c) = (!self.limbs[i]).overflowing_add(u64::from(carry));
            out.limbs[i] = s;
            carry = c;
        }
        out
    }
}

impl PartialOrd for Fixed {
    fn partial_cmp(&self, other: &Fixed) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fixed {
    fn cmp(&self, other: &Fixed) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // same sign: two's complement compares as unsigned
            _ => self.limbs.iter().rev().cmp(other.limbs.iter().rev()),
        }
    }
}

/// Fraction digits that write any [`Fixed`] so that it reads back as itself: half a unit of
/// the last digit (5e-328) is more than the resolution (1.6e-328).
pub const EXACT_DIGITS: usize = 327;

impl fmt::Display for Fixed {
    /// Exact enough to read back ([`EXACT_DIGITS`] digits, trailing zeros dropped): a decimal
    /// that was read in writes out as it was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal(EXACT_DIGITS))
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fixed({})", self.to_decimal(40))
    }
}

impl FromStr for Fixed {
    type Err = ParseError;

    /// Decimal text: an optional sign, digits with at most one `.`, an optional exponent
    /// (`e-80`). Digits below 2^-1088 are cut.
    fn from_str(text: &str) -> Result<Fixed, ParseError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(ParseError::Empty);
        }
        if t.len() > MAX_TEXT {
            return Err(ParseError::TooLong);
        }
        let invalid = || ParseError::Invalid(t.to_string());
        let (negative, rest) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => {
                let e: i64 = rest[i + 1..].parse().map_err(|_| invalid())?;
                (&rest[..i], e)
            }
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((a, b)) => (a, b),
            None => (mantissa, ""),
        };
        let digits = || int_part.bytes().chain(frac_part.bytes());
        if int_part.len() + frac_part.len() == 0 || !digits().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let e10 = exp - frac_part.len() as i64;
        if e10 > 40 || e10 < -(MAX_TEXT as i64) - 400 {
            // |x| ≥ 1e19 once any digit is nonzero; tiny beyond the resolution → 0 or out of range
            if digits().all(|b| b == b'0') || e10 < 0 {
                return Ok(Fixed::ZERO);
            }
            return Err(ParseError::OutOfRange(t.to_string()));
        }
        // the digits as a big integer, little-endian base 2^64, shifted left by the fraction
        // bits (plus 64 guard bits), then scaled by 10^e10
        let mut big: Vec<u64> = vec![0; LIMBS + 1];
        for d in digits() {
            mul_small(&mut big, 10, u64::from(d - b'0'));
        }
        for _ in 0..e10.max(0) {
            mul_small(&mut big, 10, 0);
        }
        big.splice(0..0, std::iter::repeat_n(0, LIMBS));
        for _ in 0..(-e10).max(0) {
            div_small(&mut big, 10);
        }
        // drop the guard limb, rounding to nearest
        let round = big[0] >> 63;
        big.remove(0);
        mul_small(&mut big, 1, round);
        if big[LIMBS - 1..].iter().enumerate().any(
            |(i, &l)| {
                if i == 0 { l >> 63 != 0 } else { l != 0 }
            },
        ) {
            return Err(ParseError::OutOfRange(t.to_string()));
        }
        let mut out = Fixed::ZERO;
        out.limbs.copy_from_slice(&big[..LIMBS]);
        Ok(if negative && !out.is_zero() {
            -out
        } else {
            out
        })
    }
}

/// `big = big · m + add`, growing as needed.
fn mul_small(big: &mut Vec<u64>, m: u64, add: u64) {
    let mut carry = u128::from(add);
    for l in big.iter_mut() {
        let t = u128::from(*l) * u128::from(m) + carry;
        *l = t as u64;
        carry = t >> 64;
    }
    if carry != 0 {
        big.push(carry as u64);
    }
}

/// `big = big / d` (truncated).
fn div_small(big: &mut [u64], d: u64) {
    let mut rem: u128 = 0;
    for l in big.iter_mut().rev() {
        let cur = (rem << 64) | u128::from(*l);
        *l = (cur / u128::from(d)) as u64;
        rem = cur % u128::from(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_writes_back_long_decimals() {
        let long = "-1.749999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999123456789";
        assert_eq!(fx(long).to_string(), long);
        assert_eq!(fx("0").to_string(), "0");
        assert_eq!(fx("-0").to_string(), "0");
        assert_eq!(fx("+2.5").to_string(), "2.5");
        assert_eq!(fx("25e-1").to_string(), "2.5");
        assert_eq!(fx("0.000025E5").to_string(), "2.5");
        assert_eq!(fx(".5").to_f64(), 0.5);
        assert_eq!(fx("3.").to_f64(), 3.0);
        let tiny = fx("1e-300");
        assert!((tiny.to_f64() / 1e-300 - 1.0).abs() < 1e-15);
        assert_eq!(fx("1e-400"), Fixed::ZERO, "below the resolution");
        for bad in [
            "", "  ", "abc", "1.2.3", "1e", "--1", "1,5", "0x10", "e5", ".",
        ] {
            assert!(bad.parse::<Fixed>().is_err(), "{bad:?}");
        }
        assert!(matches!(
            "1e30".parse::<Fixed>(),
            Err(ParseError::OutOfRange(_))
        ));
        assert!(matches!(
            "9223372036854775808".parse::<Fixed>(),
            Err(ParseError::OutOfRange(_))
        ));
        assert_eq!(
            fx("9223372036854775807").to_decimal(5),
            "9223372036854775807"
        );
        assert!(matches!(
            "1".repeat(5000).parse::<Fixed>(),
            Err(ParseError::TooLong)
        ));
    }

    #[test]
    fn arithmetic_matches_f64_where_f64_is_exact_and_keeps_the_deep_digits() {
        let vals = [
            0.0, 1.0, -1.0, 0.5, -0.75, 3.25, -2.0e-5, 1.0e-300, 255.9, -4096.0,
        ];
        for &a in &vals {
            for &b in &vals {
                let (fa, fb) = (Fixed::from_f64(a).unwrap(), Fixed::from_f64(b).unwrap());
                assert_eq!((fa + fb).to_f64(), a + b, "{a} + {b}");
                assert_eq!((fa - fb).to_f64(), a - b, "{a} - {b}");
                let p = fa.mul(&fb, LIMBS).to_f64();
                assert!(
                    (p - a * b).abs() <= (a * b).abs() * 1e-15,
                    "{a} · {b} = {p}"
                );
                assert_eq!(Some(fa.cmp(&fb)), a.partial_cmp(&b), "{a} vs {b}");
            }
        }
        // (1 + 1e-200)² = 1 + 2e-200 + 1e-400: the 1e-200 digits survive at full width
        let x = fx(&format!("1.{}1", "0".repeat(199)));
        let sq = x.square(LIMBS) - fx("1");
        assert!(
            (sq.to_f64() / 2e-200 - 1.0).abs() < 1e-12,
            "{}",
            sq.to_f64()
        );
        // with fewer limbs the small part is cut
        assert_eq!(x.square(2) - fx("1"), Fixed::ZERO);
        assert_eq!(Fixed::from_f64(f64::NAN), None);
        assert_eq!(Fixed::from_f64(1e19), None);
        assert_eq!(Fixed::from_f64(1e-330), Some(Fixed::ZERO));
    }
}
