//! The perturbation pass's reference orbit: one point of the view iterated on the CPU in full
//! precision ([`rfm_perf_deep`]), off the frame (a task on Bevy's async compute pool), uploaded as
//! a storage buffer of extended-exponent values and a texture of f32 values, and kept while its point stays inside the view
//! and it has the precision and iterations the view needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::math::UVec2;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};
use bevy::render::storage::ShaderBuffer;
use bevy::tasks::{AsyncComputeTaskPool, Task, futures::check_ready};
use rfm_perf_deep::{DeepView, Fixed, Formula, ReferenceOrbit};
use serde::Serialize;

use super::{FractalSettings, MAX_ITER_LIMIT};

/// The exponent of zero in the pass's extended-exponent numbers (`m·2^e`; the shader's
/// `FX_ZERO_EXP`): far below any number a view can hold, so every term it is added to wins.
pub(crate) const FX_ZERO_EXP: i32 = -1_000_000;

/// Bytes per orbit point in the storage buffer: `Zₙ − Z₀` as extended-exponent number (mantissa
/// pair as f32, exponent as i32, a padding word). The passes read `Zₙ` from the orbit textures
/// (one gather on llvmpipe); the buffer serves what Julia's extended-exponent pass needs besides.
pub const ORBIT_POINT_BYTES: usize = 16;

/// Texels per row of the orbit texture: point `m` is texel `(m % W, m / W)`, so the longest
/// orbit ([`MAX_ITER_LIMIT`] + 1 points) needs 4 097 rows, inside every adapter's 8 192 limit.
///
/// The f32 perturbation reads its orbit from this texture, not from the storage buffer: a
/// texel fetch at a different index per pixel is one gather on a SIMD rasterizer such as
/// llvmpipe, where a storage-buffer load at a varying index runs one lane at a time (see
/// BENCHMARKS.md).
pub const ORBIT_TEXTURE_WIDTH: u32 = 4096;

/// An orbit's GPU copies: the storage buffer ([`ORBIT_POINT_BYTES`] per point: the
/// extended-exponent `Zₙ − Z₀` Julia reads), the `Rgba32Float` texture of `(Zₙ, Zₙ − Z₀)`
/// as f32 (what the f32 pass reads) and the `Rgba32Uint` texture of `Zₙ` as extended-exponent
/// number (what the extended-exponent pass reads).
#[derive(Clone, Debug)]
pub(super) struct OrbitBindings {
    pub(super) buffer: Handle<ShaderBuffer>,
    pub(super) texture: Handle<Image>,
    pub(super) exp_texture: Handle<Image>,
}

impl OrbitBindings {
    fn new(
        points: &[[f64; 2]],
        start_offsets: &[[f64; 2]],
        buffers: &mut Assets<ShaderBuffer>,
        images: &mut Assets<Image>,
    ) -> Self {
        Self {
            buffer: buffers.add(ShaderBuffer::new(
                &pack_orbit(points, start_offsets),
                RenderAssetUsages::RENDER_WORLD,
            )),
            texture: images.add(orbit_texture(points, start_offsets)),
            exp_texture: images.add(orbit_exp_texture(points)),
        }
    }

    fn remove(&self, buffers: &mut Assets<ShaderBuffer>, images: &mut Assets<Image>) {
        buffers.remove(&self.buffer);
        images.remove(&self.texture);
        images.remove(&self.exp_texture);
    }
}

/// What the HUD and reports show of the reference orbit.
///
/// ```
/// let s = rfm_perf::fractal::gpu::ReferenceOrbitStatus::default();
/// assert!(!s.ready && !s.pending);
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReferenceOrbitStatus {
    /// An orbit is uploaded and serves the current view.
    pub ready: bool,
    /// A new orbit is being computed.
    pub pending: bool,
    /// Bits of its arithmetic (limbs × 64, the integer limb included).
    pub precision_bits: u32,
    /// Points it holds (its iterations + 1, fewer when it escaped).
    pub points: u32,
    /// The iteration it escaped at, if it did.
    pub escaped_at: Option<u32>,
    /// CPU time its computation took (ms).
    pub compute_ms: f64,
    /// Seconds since it was ready.
    pub age_s: f64,
    /// Changes with every new orbit.
    pub serial: u64,
}

/// An orbit in use: the CPU copy, its GPU copies and when it came.
pub(super) struct ActiveOrbit {
    pub(super) orbit: Arc<ReferenceOrbit>,
    pub(super) bindings: OrbitBindings,
    pub(super) serial: u64,
    ready_at: Instant,
    compute: Duration,
}

struct PendingOrbit {
    task: Task<(ReferenceOrbit, Duration)>,
    wanted: Wanted,
    /// The point it iterates.
    point: (Fixed, Fixed),
}

/// What a view needs of an orbit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Wanted {
    formula: Formula,
    limbs: usize,
    max_iter: u32,
}

impl Wanted {
    fn of(settings: &FractalSettings, view: &DeepView) -> Self {
        Self {
            formula: settings.params.kind.formula(),
            limbs: view.precision_limbs(settings.render_size().x),
            max_iter: settings.params.max_iter.clamp(1, MAX_ITER_LIMIT),
        }
    }

    /// Whether an orbit computed as `offer` around `point` (`escaped`: it escaped before its
    /// limit) serves `view` rendered at `size`: same formula, enough precision and iterations,
    /// and its point inside the view.
    fn served_by(
        &self,
        offer: Wanted,
        escaped: bool,
        point: &(Fixed, Fixed),
        view: &DeepView,
        size: UVec2,
    ) -> bool {
        let (dx, dy) = (
            (point.0 - view.re).to_f64().abs(),
            (point.1 - view.im).to_f64().abs(),
        );
        let half_w = view.width / 2.0;
        let half_h = half_w * f64::from(size.y) / f64::from(size.x.max(1));
        offer.formula == self.formula
            && offer.limbs >= self.limbs
            && (offer.max_iter >= self.max_iter || escaped)
            && dx <= half_w
            && dy <= half_h
    }
}

/// The main world's reference orbits: the one in use and the one being computed.
#[derive(Resource, Default)]
pub(super) struct ReferenceOrbits {
    pub(super) current: Option<ActiveOrbit>,
    pending: Option<PendingOrbit>,
    /// A one-point orbit bound while no orbit is needed (the bind group always has one).
    placeholder: Option<OrbitBindings>,
    serial: u64,
}

impl ReferenceOrbits {
    /// The orbit to render `settings` with, when the one in use serves its view.
    pub(super) fn serving(&self, settings: &FractalSettings) -> Option<&ActiveOrbit> {
        let view = settings.deep_view();
        let wanted = Wanted::of(settings, &view);
        self.current.as_ref().filter(|c| {
            let o = &c.orbit;
            let offer = Wanted {
                formula: o.formula,
                limbs: o.limbs,
                max_iter: o.max_iter,
            };
            wanted.served_by(
                offer,
                o.escaped_at.is_some(),
                &o.point,
                &view,
                settings.render_size(),
            )
        })
    }

    /// The orbit to bind while none is in use.
    pub(super) fn placeholder(
        &mut self,
        buffers: &mut Assets<ShaderBuffer>,
        images: &mut Assets<Image>,
    ) -> OrbitBindings {
        self.placeholder
            .get_or_insert_with(|| OrbitBindings::new(&[[0.0, 0.0]], &[], buffers, images))
            .clone()
    }
}

/// Keeps an orbit that serves the view: installs a finished computation, and starts one (at
/// the view's exact centre) when neither the orbit in use nor the one pending serves.
pub(super) fn update_reference_orbit(
    settings: Option<Res<FractalSettings>>,
    mut orbits: ResMut<ReferenceOrbits>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut images: ResMut<Assets<Image>>,
    mut status: ResMut<ReferenceOrbitStatus>,
) {
    let Some(settings) = settings else { return };
    if let Some(pending) = &mut orbits.pending
        && let Some((orbit, compute)) = check_ready(&mut pending.task)
    {
        orbits.pending = None;
        orbits.serial += 1;
        let bindings = OrbitBindings::new(
            &orbit.points,
            &orbit.start_offsets,
            &mut buffers,
            &mut images,
        );
        if let Some(old) = orbits.current.take() {
            old.bindings.remove(&mut buffers, &mut images);
        }
        orbits.current = Some(ActiveOrbit {
            orbit: Arc::new(orbit),
            bindings,
            serial: orbits.serial,
            ready_at: Instant::now(),
            compute,
        });
    }
    let needed = settings.precision().is_perturbation();
    let ready = needed && orbits.serving(&settings).is_some();
    if needed && !ready {
        let view = settings.deep_view();
        let wanted = Wanted::of(&settings, &view);
        let pending_serves = orbits.pending.as_ref().is_some_and(|p| {
            wanted.served_by(p.wanted, false, &p.point, &view, settings.render_size())
        });
        if !pending_serves {
            // dropping a task cancels it
            let point = view.centre();
            let size = settings.render_size();
            let task = AsyncComputeTaskPool::get().spawn(async move {
                let started = Instant::now();
                let orbit = ReferenceOrbit::for_view(
                    wanted.formula,
                    &view,
                    size.x,
                    size.y,
                    wanted.limbs,
                    wanted.max_iter,
                );
                (orbit, started.elapsed())
            });
            orbits.pending = Some(PendingOrbit {
                task,
                wanted,
                point,
            });
        }
    }
    let new_status = match &orbits.current {
        Some(c) => ReferenceOrbitStatus {
            ready,
            pending: orbits.pending.is_some(),
            precision_bits: c.orbit.limbs as u32 * 64,
            points: c.orbit.points.len() as u32,
            escaped_at: c.orbit.escaped_at,
            compute_ms: c.compute.as_secs_f64() * 1000.0,
            age_s: c.ready_at.elapsed().as_secs_f64(),
            serial: c.serial,
        },
        None => ReferenceOrbitStatus {
            pending: orbits.pending.is_some(),
            ..default()
        },
    };
    if *status != new_status {
        *status = new_status;
    }
}

/// An `f64` pair as an extended-exponent number `m·2^e` with one exponent for both parts and
/// the larger part's mantissa in [1, 2) (how the shader's `fx_norm` keeps them); zero (or a
/// non-finite pair) is `([0, 0], FX_ZERO_EXP)`.
///
/// ```
/// use rfm_perf::fractal::gpu::split_exponent;
/// assert_eq!(split_exponent(3.0, -0.5), ([1.5, -0.25], 1));
/// let (m, e) = split_exponent(1e-300, 0.0);
/// assert!((f64::from(m[0]) * 2f64.powi(e + 1000) * 2f64.powi(-1000) / 1e-300 - 1.0).abs() < 1e-7);
/// ```
pub fn split_exponent(x: f64, y: f64) -> ([f32; 2], i32) {
    let big = x.abs().max(y.abs());
    if big == 0.0 || !big.is_finite() {
        return ([0.0, 0.0], FX_ZERO_EXP);
    }
    let mut e = big.log2().floor() as i32;
    let scaled = |v: f64, e: i32| v * 2f64.powi(-e / 2) * 2f64.powi(-e + e / 2);
    if scaled(big, e) >= 2.0 {
        e += 1;
    } else if scaled(big, e) < 1.0 {
        e -= 1;
    }
    ([scaled(x, e) as f32, scaled(y, e) as f32], e)
}

/// The orbit's storage buffer ([`ORBIT_POINT_BYTES`] per point): `Zₙ − Z₀` (`start_offsets`,
/// or `Zₙ` itself when empty: Z₀ = 0) as extended-exponent number.
pub(super) fn pack_orbit(points: &[[f64; 2]], start_offsets: &[[f64; 2]]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(points.len() * ORBIT_POINT_BYTES);
    for (n, &z) in points.iter().enumerate() {
        let [sx, sy] = start_offsets.get(n).copied().unwrap_or(z);
        let (sm, se) = split_exponent(sx, sy);
        for word in [sm[0].to_bits(), sm[1].to_bits(), se as u32, 0] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
    }
    bytes
}

/// The orbit as the f32 pass reads it: texel `m` ([`ORBIT_TEXTURE_WIDTH`] per row) holds `Zₘ`
/// and `Zₘ − Z₀` (`start_offsets`, or `Zₘ` itself when empty) as f32; the rest of the last row
/// is zero.
pub(super) fn orbit_texture(points: &[[f64; 2]], start_offsets: &[[f64; 2]]) -> Image {
    orbit_image(points.len(), TextureFormat::Rgba32Float, |n| {
        let [x, y] = points[n];
        let [sx, sy] = start_offsets.get(n).copied().unwrap_or([x, y]);
        [x, y, sx, sy].map(|v| (v as f32).to_bits())
    })
}

/// The orbit as the extended-exponent pass reads it: texel `m` (at `(m % W, m / W)`, `W` =
/// [`ORBIT_TEXTURE_WIDTH`]) holds `Zₘ` = mantissa pair · 2^exponent as `(x bits, y bits,
/// exponent, 0)`.
pub(super) fn orbit_exp_texture(points: &[[f64; 2]]) -> Image {
    orbit_image(points.len(), TextureFormat::Rgba32Uint, |n| {
        let [x, y] = points[n];
        let (m, e) = split_exponent(x, y);
        [m[0].to_bits(), m[1].to_bits(), e as u32, 0]
    })
}

/// A texture of `len` points, [`ORBIT_TEXTURE_WIDTH`] a row, point `n` = `texel(n)`'s four
/// words; the texels past the orbit are zero.
fn orbit_image(len: usize, format: TextureFormat, texel: impl Fn(usize) -> [u32; 4]) -> Image {
    let width = ORBIT_TEXTURE_WIDTH;
    let rows = (len as u32).div_ceil(width).max(1);
    let mut data = vec![0u8; (width * rows) as usize * 16];
    for (n, bytes) in data.chunks_exact_mut(16).take(len).enumerate() {
        for (word, v) in bytes.chunks_exact_mut(4).zip(texel(n)) {
            word.copy_from_slice(&v.to_le_bytes());
        }
    }
    let mut image = Image::new(
        Extent3d {
            width,
            height: rows,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        data,
        format,
        RenderAssetUsages::RENDER_WORLD,
    );
    // read as a storage texture: no mip levels to resolve per fetch
    image.texture_descriptor.usage |= TextureUsages::STORAGE_BINDING;
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_exponent_keeps_the_value_and_normalizes_the_larger_part() {
        for (x, y) in [
            (1.0, 0.0),
            (-2.0, 0.75),
            (1e-300, -3e-301),
            (0.0, -5e-20),
            (255.9, 1e5),
        ] {
            let (m, e) = split_exponent(x, y);
            let big = m[0].abs().max(m[1].abs());
            assert!((1.0..2.0).contains(&big), "{x} {y}: {m:?}");
            let back = |v: f32| f64::from(v) * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
            assert!((back(m[0]) - x).abs() <= 1e-7 * x.abs().max(y.abs()), "{x}");
            assert!((back(m[1]) - y).abs() <= 1e-7 * x.abs().max(y.abs()), "{y}");
        }
        assert_eq!(split_exponent(0.0, 0.0), ([0.0, 0.0], FX_ZERO_EXP));
        assert_eq!(
            pack_orbit(&[[0.0, 0.0], [1.0, 1.0]], &[]).len(),
            2 * ORBIT_POINT_BYTES
        );
    }

    #[test]
    fn orbit_texture_puts_point_m_at_its_texel() {
        let width = ORBIT_TEXTURE_WIDTH as usize;
        let points: Vec<[f64; 2]> = (0..width + 3).map(|n| [n as f64, -0.5]).collect();
        let offsets: Vec<[f64; 2]> = points.iter().map(|&[x, y]| [x - 1.0, y + 1.0]).collect();
        let image = orbit_texture(&points, &offsets);
        assert_eq!(image.size(), UVec2::new(ORBIT_TEXTURE_WIDTH, 2));
        let data = image.data.as_ref().unwrap();
        let texel = |m: usize| -> [f32; 4] {
            let b = &data[m * 16..m * 16 + 16];
            std::array::from_fn(|i| f32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap()))
        };
        assert_eq!(
            texel(width + 2),
            [(width + 2) as f32, -0.5, (width + 1) as f32, 0.5]
        );
        // past the orbit: zero
        assert_eq!(texel(width + 3), [0.0; 4]);
        // Mandelbrot (no offsets): Zₘ − Z₀ is Zₘ
        let plain = orbit_texture(&points[..2], &[]);
        assert_eq!(plain.size(), UVec2::new(ORBIT_TEXTURE_WIDTH, 1));
    }

    #[test]
    fn orbit_exp_texture_holds_mantissa_and_exponent() {
        let points = [[0.0, 0.0], [3e-200, -1e-201], [1.5, 0.25]];
        let image = orbit_exp_texture(&points);
        assert_eq!(image.texture_descriptor.format, TextureFormat::Rgba32Uint);
        let data = image.data.as_ref().unwrap();
        let word = |m: usize, i: usize| {
            u32::from_le_bytes(data[m * 16 + i * 4..m * 16 + i * 4 + 4].try_into().unwrap())
        };
        for (n, &[x, y]) in points.iter().enumerate() {
            let (m, e) = split_exponent(x, y);
            assert_eq!(
                [word(n, 0), word(n, 1), word(n, 2), word(n, 3)],
                [m[0].to_bits(), m[1].to_bits(), e as u32, 0]
            );
            // the value comes back from the words
            let back = f64::from(f32::from_bits(word(n, 0))) * 2f64.powi(word(n, 2) as i32);
            assert!(
                (back - x).abs() <= x.abs() * 1e-6,
                "point {n}: {back} vs {x}"
            );
        }
        assert_eq!(word(3, 0), 0);
    }
}
