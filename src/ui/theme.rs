//! Colours of health statuses (green / yellow / red, grey when unknown), chosen to keep a
//! contrast of at least 4.5:1 (WCAG AA) on the dashboard's dark plates over any background,
//! and the always-on pieces' plate and text size.

use egui::{Color32, Response, Sense, Ui, Vec2};

use crate::base::Health;

/// The colour a status is drawn in.
///
/// ```
/// use rfm_perf::{Health, ui::theme::status_color};
/// assert_ne!(status_color(Health::Ok), status_color(Health::Critical));
/// ```
pub fn status_color(health: Health) -> Color32 {
    match health {
        Health::Ok => Color32::from_rgb(80, 200, 120),
        Health::Warning => Color32::from_rgb(240, 190, 60),
        // a light red: pure or deep reds fall under 4.5:1 on a dark plate
        Health::Critical => Color32::from_rgb(255, 120, 110),
        Health::Unknown => Color32::from_gray(170),
    }
}

/// Text size of the always-on pieces (FPS counter, status bar, toasts), in points: readable
/// at 1280×720.
pub const ALWAYS_ON_TEXT_PX: f32 = 14.0;

/// The plate behind the always-on pieces: dark and nearly opaque, so their text keeps its
/// contrast over a white, grey or black game.
pub const ALWAYS_ON_PLATE: Color32 = Color32::from_rgba_premultiplied(15, 15, 18, 235);

/// A small filled circle in `color` (a status light), sized to the current text height.
///
/// ```
/// let ctx = egui::Context::default();
/// let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
///     rfm_perf::ui::theme::status_dot(ui, egui::Color32::GREEN);
/// });
/// out.textures_delta.clear(); // a real host uploads these to its renderer
/// ```
pub fn status_dot(ui: &mut Ui, color: Color32) -> Response {
    let size = ui.text_style_height(&egui::TextStyle::Body).max(10.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size * 0.8), Sense::hover());
    ui.painter()
        .circle_filled(rect.center(), rect.width() * 0.38, color);
    response
}

/// The colour at `t` (0–1) of the green → yellow → red gradient of perf entries.
///
/// ```
/// use rfm_perf::ui::theme::gradient_color;
/// assert_eq!(gradient_color(0.0), egui::Color32::from_rgb(80, 200, 120));
/// assert_eq!(gradient_color(1.0), egui::Color32::from_rgb(255, 120, 110));
/// ```
pub fn gradient_color(t: f32) -> Color32 {
    let (a, b, f) = if t <= 0.5 {
        (
            status_color(Health::Ok),
            status_color(Health::Warning),
            t * 2.0,
        )
    } else {
        (
            status_color(Health::Warning),
            status_color(Health::Critical),
            (t - 0.5) * 2.0,
        )
    };
    let f = f.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * f).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}
