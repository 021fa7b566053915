//! Whether the dashboard overlay is shown, toggled by the configured hotkey (default F12).
//! The egui overlay (issue [DASHBOARD]) draws only while [`DashboardOverlay::visible`] is set.

use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;

use crate::plugin::PerfConfig;

/// The overlay's state. A resource; set `visible` yourself to open or close it from code.
///
/// ```
/// let o = rfm_perf::overlay::DashboardOverlay::default();
/// assert!(!o.visible);
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct DashboardOverlay {
    /// Shown or hidden.
    pub visible: bool,
    /// How many times the hotkey toggled it (for diagnostics and tests).
    pub toggles: u32,
}

/// Flips the overlay when the hotkey is pressed. Needs Bevy's `InputPlugin`; without it
/// (headless apps) it does nothing.
pub(crate) fn toggle_overlay(
    keys: Option<Res<'_, ButtonInput<KeyCode>>>,
    config: Res<'_, PerfConfig>,
    mut overlay: ResMut<'_, DashboardOverlay>,
) {
    if keys.is_some_and(|k| k.just_pressed(config.hotkey)) {
        overlay.visible = !overlay.visible;
        overlay.toggles += 1;
    }
}
