//! Colour palettes for smooth (continuous) escape-time colouring.

use serde::{Deserialize, Serialize};

/// Smooth iterations per cycle of a palette's gradient (the CPU and the shader both use it).
pub const PERIOD: f32 = 64.0;

/// A cyclic gradient of colour stops.
///
/// ```
/// use rfm_perf::fractal::palette::Palette;
/// let rgb = Palette::Classic.color(Some(10.3));
/// assert_ne!(rgb, [0, 0, 0]);
/// assert_eq!(Palette::Classic.color(None), [0, 0, 0]); // inside the set
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Palette {
    /// Deep blue, white and gold (Ultra Fractal's default gradient).
    Classic,
    /// Black, red, orange, yellow.
    Fire,
    /// Dark navy to cyan and white.
    Ocean,
    /// Grey ramp.
    Grayscale,
}

impl Palette {
    /// Every palette.
    pub const ALL: [Palette; 4] = [
        Palette::Classic,
        Palette::Fire,
        Palette::Ocean,
        Palette::Grayscale,
    ];

    /// The gradient stops (position 0..1, sRGB).
    pub fn stops(self) -> &'static [(f32, [u8; 3])] {
        match self {
            Palette::Classic => &[
                (0.0, [0, 7, 100]),
                (0.16, [32, 107, 203]),
                (0.42, [237, 255, 255]),
                (0.6425, [255, 170, 0]),
                (0.8575, [0, 2, 0]),
                (1.0, [0, 7, 100]),
            ],
            Palette::Fire => &[
                (0.0, [0, 0, 0]),
                (0.3, [180, 20, 0]),
                (0.6, [255, 150, 0]),
                (0.85, [255, 240, 120]),
                (1.0, [0, 0, 0]),
            ],
            Palette::Ocean => &[
                (0.0, [0, 10, 40]),
                (0.4, [0, 110, 160]),
                (0.7, [120, 230, 255]),
                (0.9, [255, 255, 255]),
                (1.0, [0, 10, 40]),
            ],
            Palette::Grayscale => &[(0.0, [0, 0, 0]), (0.5, [255, 255, 255]), (1.0, [0, 0, 0])],
        }
    }

    /// Colour of a smooth iteration value (`None` = inside the set: black). The gradient repeats
    /// every 64 iterations.
    pub fn color(self, smooth: Option<f32>) -> [u8; 3] {
        let Some(mu) = smooth else { return [0, 0, 0] };
        let t = (mu / PERIOD).rem_euclid(1.0);
        let stops = self.stops();
        let i = stops
            .iter()
            .position(|s| s.0 >= t)
            .unwrap_or(stops.len() - 1)
            .max(1);
        let (p0, c0) = stops[i - 1];
        let (p1, c1) = stops[i];
        let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 0.0 };
        let lerp = |a: u8, b: u8| {
            (f32::from(a) + (f32::from(b) - f32::from(a)) * f)
                .round()
                .clamp(0.0, 255.0) as u8
        };
        [lerp(c0[0], c1[0]), lerp(c0[1], c1[1]), lerp(c0[2], c1[2])]
    }
}
