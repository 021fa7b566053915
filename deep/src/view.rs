//! [`DeepView`]: where a deep view looks (a [`Fixed`] centre) and how wide it is.

use std::fmt;
use std::str::FromStr;

use crate::fixed::{FRACTION_BITS, Fixed, LIMBS, ParseError};

/// A view whose centre needs more than f64: `re + i·im` in [`Fixed`], the width (complex units
/// across the image) in `f64`, which reaches 1e-308.
///
/// ```
/// use rfm_perf_deep::DeepView;
/// let v: DeepView = "-1.7499999999999999999999999999999999999999912345,0,1e-40".parse()?;
/// assert_eq!(v.to_string(), "-1.7499999999999999999999999999999999999999912345,0,1e-40");
/// assert!(v.precision_limbs(512) >= 3);
/// # Ok::<(), rfm_perf_deep::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeepView {
    /// Real part of the centre.
    pub re: Fixed,
    /// Imaginary part of the centre.
    pub im: Fixed,
    /// Width in complex units (positive, finite).
    pub width: f64,
}

impl DeepView {
    /// The centre as a pair.
    pub fn centre(&self) -> (Fixed, Fixed) {
        (self.re, self.im)
    }

    /// Bits a pixel at `width_px` pixels across needs below the point: log2(1 / pixel size)
    /// plus 64 guard bits.
    pub fn precision_bits(&self, width_px: u32) -> u32 {
        let pixel = self.width / f64::from(width_px.max(1));
        ((-pixel.log2()).max(0.0).ceil() as u32 + 64).min(FRACTION_BITS)
    }

    /// Limbs of [`Fixed`] arithmetic for [`precision_bits`](Self::precision_bits) (the integer
    /// limb included).
    pub fn precision_limbs(&self, width_px: u32) -> usize {
        (self.precision_bits(width_px).div_ceil(64) as usize + 1).clamp(2, LIMBS)
    }

    /// The offset of pixel `(px, py)`'s centre from the view's centre in a `w × h` image (y up),
    /// as the renderer maps pixels.
    pub fn pixel_delta(&self, px: u32, py: u32, w: u32, h: u32) -> (f64, f64) {
        let s = self.width / f64::from(w.max(1));
        (
            (f64::from(px) + 0.5 - f64::from(w) / 2.0) * s,
            -(f64::from(py) + 0.5 - f64::from(h) / 2.0) * s,
        )
    }

    /// The pixel's point in full precision (centre + [`pixel_delta`](Self::pixel_delta)).
    pub fn pixel_point(&self, px: u32, py: u32, w: u32, h: u32) -> (Fixed, Fixed) {
        let (dx, dy) = self.pixel_delta(px, py, w, h);
        let f = |v: f64| Fixed::from_f64(v).unwrap_or(Fixed::ZERO);
        (self.re + f(dx), self.im + f(dy))
    }

    /// Fraction digits that write the centre exactly enough for this width: the digits of one
    /// 2^-64 of a pixel at 4 096 px, at least 17.
    fn digits(&self) -> usize {
        ((-(self.width / 4096.0).log10()).max(0.0).ceil() as usize + 20).clamp(17, 330)
    }
}

impl fmt::Display for DeepView {
    /// `RE,IM,WIDTH`, what [`FromStr`] reads: the centre to the digits the width needs, the
    /// width as f64's shortest round-trip text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(
            f,
            "{},{},{:e}",
            self.re.to_decimal(d),
            self.im.to_decimal(d),
            self.width
        )
    }
}

impl FromStr for DeepView {
    type Err = ParseError;

    /// `RE,IM,WIDTH`: decimals of any length with optional exponents; the width positive and
    /// finite (down to 1e-308).
    fn from_str(text: &str) -> Result<DeepView, ParseError> {
        let parts: Vec<&str> = text.split(',').collect();
        let [re, im, width] = parts[..] else {
            return Err(ParseError::View(format!(
                "{text:?}: a view is RE,IM,WIDTH (three numbers separated by commas), e.g. -0.75,0.1,1e-20"
            )));
        };
        let width: f64 = width
            .trim()
            .parse()
            .map_err(|_| ParseError::View(format!("width {:?} is not a number", width.trim())))?;
        if !(width.is_finite() && width > 0.0) {
            return Err(ParseError::View(format!(
                "width {width} must be positive and finite (at least 1e-308)"
            )));
        }
        Ok(DeepView {
            re: re.parse()?,
            im: im.parse()?,
            width,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_and_write_back_and_bad_input_says_why() {
        for text in [
            "-0.75,0.1,1e-20",
            "-1.25,0.000000000000000000000000000001,3.5e-100",
            "0,0,3.5e0",
        ] {
            let v: DeepView = text.parse().unwrap();
            let again: DeepView = v.to_string().parse().unwrap();
            assert_eq!(again, v, "{text} → {v}");
        }
        for (bad, says) in [
            ("1,2", "RE,IM,WIDTH"),
            ("1,2,3,4", "RE,IM,WIDTH"),
            ("1,2,-1", "positive"),
            ("1,2,0", "positive"),
            ("1,2,inf", "positive"),
            ("1,2,wide", "not a number"),
            ("x,0,1", "not a decimal number"),
        ] {
            let err = bad.parse::<DeepView>().unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let v: DeepView = "0,0,1e-100".parse().unwrap();
        // a pixel is 1e-100 / 512 ≈ 2^-341.2: 342 bits + 64 guard bits, in 7 fraction limbs
        assert_eq!(v.precision_bits(512), 342 + 64);
        assert_eq!(v.precision_limbs(512), 8);
    }
}
