//! Colours of health statuses (green / yellow / red, grey when unknown).

use egui::Color32;

use crate::status::Status;

/// The colour a status is drawn in.
///
/// ```
/// use rfm_perf::{status::Status, ui::theme::status_color};
/// assert_ne!(status_color(Status::Ok), status_color(Status::Critical));
/// ```
pub fn status_color(status: Status) -> Color32 {
    match status {
        Status::Ok => Color32::from_rgb(80, 200, 120),
        Status::Warning => Color32::from_rgb(240, 190, 60),
        Status::Critical => Color32::from_rgb(235, 80, 70),
        Status::Unknown => Color32::from_gray(150),
    }
}
