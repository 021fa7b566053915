//! A small software rasterizer of egui's output for tests: what a renderer would put on the
//! screen (premultiplied sRGB blending, as egui's own renderers do), so a test can look at the
//! pixels of a piece of UI over any background — and measure its text contrast.

use std::collections::HashMap;

use egui::epaint::{ImageData, Primitive};
use egui::{Color32, Context, Id, Pos2, RawInput, Rect, TextureId, Vec2};

/// An RGB image, row-major.
pub(crate) struct Raster {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// Premultiplied RGBA in 0..=1 (sRGB-encoded, as egui blends).
    pixels: Vec<[f32; 4]>,
}

impl Raster {
    /// The pixel at `(x, y)` as 8-bit sRGB.
    pub(crate) fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let p = self.pixels[y * self.width + x];
        [0, 1, 2].map(|c| (p[c].clamp(0.0, 1.0) * 255.0).round() as u8)
    }
}

/// Runs `ui` in a fresh context for `frames` frames on a `size` screen over `background` and
/// rasterizes the last frame; also returns the rects of the areas named in `areas`.
pub(crate) fn render(
    size: Vec2,
    background: Color32,
    frames: usize,
    areas: &[&str],
    mut ui: impl FnMut(&Context),
) -> (Raster, Vec<Option<Rect>>) {
    let ctx = Context::default();
    let mut textures: HashMap<TextureId, ([usize; 2], Vec<Color32>)> = HashMap::new();
    let mut last = None;
    for frame in 0..frames.max(1) {
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            // half a second per frame: fade-in animations have finished by the last one
            time: Some(frame as f64 * 0.5),
            predicted_dt: 0.5,
            ..Default::default()
        };
        let mut out = ctx.run_ui(input, |root| ui(root.ctx()));
        for (id, delta) in out
            .textures_delta
            .set
            .iter()
            .flat_map(|(id, deltas)| deltas.iter().map(move |d| (id, d)))
        {
            let ImageData::Color(image) = &delta.image;
            match delta.pos {
                None => {
                    textures.insert(*id, (image.size, image.pixels.clone()));
                }
                Some([x0, y0]) => {
                    if let Some((tex_size, pixels)) = textures.get_mut(id) {
                        for y in 0..image.size[1] {
                            for x in 0..image.size[0] {
                                pixels[(y0 + y) * tex_size[0] + x0 + x] =
                                    image.pixels[y * image.size[0] + x];
                            }
                        }
                    }
                }
            }
        }
        // applied above (the frees need no action here)
        out.textures_delta.clear();
        last = Some(out);
    }
    let out = last.expect("one frame");
    let primitives = ctx.tessellate(out.shapes, out.pixels_per_point);
    let (width, height) = (size.x as usize, size.y as usize);
    let bg = background.to_array().map(|c| f32::from(c) / 255.0);
    let mut raster = Raster {
        width,
        height,
        pixels: vec![[bg[0], bg[1], bg[2], 1.0]; width * height],
    };
    for p in primitives {
        let Primitive::Mesh(mesh) = p.primitive else {
            continue;
        };
        let Some((tex_size, texels)) = textures.get(&mesh.texture_id) else {
            continue;
        };
        let clip = p.clip_rect.intersect(Rect::from_min_size(Pos2::ZERO, size));
        for tri in mesh.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|i| mesh.vertices[tri[i] as usize]);
            let area = edge(a.pos, b.pos, c.pos);
            if area.abs() < 1e-9 {
                continue;
            }
            let min = a.pos.min(b.pos).min(c.pos).max(clip.min);
            let max = a.pos.max(b.pos).max(c.pos).min(clip.max);
            for y in (min.y.floor() as usize)..(max.y.ceil() as usize).min(height) {
                for x in (min.x.floor() as usize)..(max.x.ceil() as usize).min(width) {
                    let q = Pos2::new(x as f32 + 0.5, y as f32 + 0.5);
                    if !clip.contains(q) {
                        continue;
                    }
                    let w = [
                        edge(b.pos, c.pos, q),
                        edge(c.pos, a.pos, q),
                        edge(a.pos, b.pos, q),
                    ]
                    .map(|e| e / area);
                    if w.iter().any(|&w| w < 0.0) {
                        continue;
                    }
                    let mix = |f: &dyn Fn(&egui::epaint::Vertex) -> f32| {
                        w[0] * f(&a) + w[1] * f(&b) + w[2] * f(&c)
                    };
                    let (u, v) = (mix(&|v| v.uv.x), mix(&|v| v.uv.y));
                    let tx = ((u * tex_size[0] as f32) as usize).min(tex_size[0] - 1);
                    let ty = ((v * tex_size[1] as f32) as usize).min(tex_size[1] - 1);
                    let texel = texels[ty * tex_size[0] + tx].to_array();
                    let src: [f32; 4] = std::array::from_fn(|i| {
                        mix(&|v| f32::from(v.color.to_array()[i]) / 255.0) * f32::from(texel[i])
                            / 255.0
                    });
                    let dst = &mut raster.pixels[y * width + x];
                    for i in 0..4 {
                        dst[i] = src[i] + dst[i] * (1.0 - src[3]);
                    }
                }
            }
        }
    }
    let rects = areas
        .iter()
        .map(|name| ctx.memory(|m| m.area_rect(Id::new(*name))))
        .collect();
    (raster, rects)
}

fn edge(a: Pos2, b: Pos2, p: Pos2) -> f32 {
    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
}

/// WCAG relative luminance of an sRGB colour.
pub(crate) fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// WCAG contrast ratio of two colours (1–21).
pub(crate) fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// In `rect` of `raster` less `corner` pixels left and right (a plate's rounded corners let the
/// background through): the plate colour (the most common pixel) and the text's contrast
/// against it — that of the pixel furthest from it (the core of a glyph's stroke, which the
/// text colour covers fully).
pub(crate) fn text_contrast(raster: &Raster, rect: Rect, corner: f32) -> ([u8; 3], [u8; 3], f64) {
    let rect = rect.shrink2(Vec2::new(corner, 0.0));
    let xs = (rect.min.x.max(0.0) as usize)..(rect.max.x as usize).min(raster.width);
    let ys = (rect.min.y.max(0.0) as usize)..(rect.max.y as usize).min(raster.height);
    let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
    for y in ys.clone() {
        for x in xs.clone() {
            *counts.entry(raster.rgb(x, y)).or_default() += 1;
        }
    }
    let plate = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c)
        .unwrap_or([0; 3]);
    let mut best = (plate, 1.0);
    for y in ys {
        for x in xs.clone() {
            let c = raster.rgb(x, y);
            let k = contrast(c, plate);
            if k > best.1 {
                best = (c, k);
            }
        }
    }
    (plate, best.0, best.1)
}
