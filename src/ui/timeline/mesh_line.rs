//! A timeline line as one prebuilt mesh: a quad per segment in screen space, kept between frames
//! while the plot's transform and the line stay the same. egui_plot's own `Line` hands egui a
//! path stroke that is tessellated again every frame (its feathering included), which for 20
//! lines of ~840 points was most of the dashboard's frame.

use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Rect, Shape, Ui, vec2};
use egui_plot::{PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotPoint, PlotTransform};

/// Stroke width of a timeline line (points).
const WIDTH: f32 = 1.5;

/// What a built mesh was built for: the plot's frame and bounds, the colour, the points' version.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MeshKey {
    frame: Rect,
    bounds: ([f64; 2], [f64; 2]),
    color: Color32,
    version: u64,
}

/// A line's mesh, kept with what it was built for.
#[derive(Debug, Default)]
pub(super) struct MeshCache(Mutex<Option<(MeshKey, Arc<Mesh>)>>);

/// A line of `points` drawn through a cached mesh.
pub(super) struct MeshLine<'a> {
    base: PlotItemBase,
    points: &'a [PlotPoint],
    /// Bumped whenever `points` change (the cache's key).
    version: u64,
    bounds: PlotBounds,
    color: Color32,
    cache: &'a MeshCache,
}

impl<'a> MeshLine<'a> {
    pub(super) fn new(
        name: &str,
        points: &'a [PlotPoint],
        version: u64,
        bounds: PlotBounds,
        color: Color32,
        cache: &'a MeshCache,
    ) -> Self {
        Self {
            base: PlotItemBase::new(name.to_string()),
            points,
            version,
            bounds,
            color,
            cache,
        }
    }

    fn build(&self, transform: &PlotTransform) -> Mesh {
        let mut mesh = Mesh::default();
        let screen: Vec<Pos2> = self
            .points
            .iter()
            .map(|p| transform.position_from_point(p))
            .collect();
        mesh.reserve_triangles(2 * screen.len());
        mesh.reserve_vertices(4 * screen.len());
        let half = WIDTH / 2.0;
        for pair in screen.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let d = b - a;
            let len = d.length();
            // a zero-length segment still gets a dot's worth of width
            let n = if len > 1e-6 {
                vec2(-d.y, d.x) / len * half
            } else {
                vec2(0.0, half)
            };
            let i = mesh.vertices.len() as u32;
            for p in [a + n, a - n, b + n, b - n] {
                mesh.vertices.push(Vertex {
                    pos: p,
                    uv: WHITE_UV,
                    color: self.color,
                });
            }
            mesh.add_triangle(i, i + 1, i + 2);
            mesh.add_triangle(i + 1, i + 3, i + 2);
        }
        mesh
    }
}

impl PlotItem for MeshLine<'_> {
    fn shapes(&self, _ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let b = transform.bounds();
        let key = MeshKey {
            frame: *transform.frame(),
            bounds: (b.min(), b.max()),
            color: self.color,
            version: self.version,
        };
        let mut cache = self.cache.0.lock().unwrap_or_else(|e| e.into_inner());
        let mesh = match &*cache {
            Some((k, mesh)) if *k == key => mesh.clone(),
            _ => {
                let mesh = Arc::new(self.build(transform));
                *cache = Some((key, mesh.clone()));
                mesh
            }
        };
        shapes.push(Shape::Mesh(mesh));
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> Color32 {
        self.color
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        PlotGeometry::Points(self.points)
    }

    fn bounds(&self) -> PlotBounds {
        self.bounds
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }
}

/// The bounds of `points` (nothing for none).
pub(super) fn bounds_of(points: &[PlotPoint]) -> PlotBounds {
    let mut b = PlotBounds::NOTHING;
    for p in points {
        b.extend_with(p);
    }
    b
}
