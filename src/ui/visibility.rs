//! Whether the dashboard is shown, toggled by the configured hotkey (default F12). The egui
//! windows draw only while [`DashboardVisibility::visible`] is set; the always-on pieces (FPS
//! overlay, status bar, toasts) draw either way.

use bevy::input::ButtonInput;
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;

use crate::base::PerfConfig;

/// The dashboard's visibility. A resource; set `visible` yourself to open or close it from code.
///
/// ```
/// let v = rfm_perf::ui::DashboardVisibility::default();
/// assert!(!v.visible);
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct DashboardVisibility {
    /// Shown or hidden.
    pub visible: bool,
    /// How many times the hotkey toggled it (for diagnostics and tests).
    pub toggles: u32,
}

/// Flips the visibility when the hotkey is pressed. Needs Bevy's `InputPlugin`; without it
/// (headless apps) it does nothing.
pub(crate) fn toggle_visibility(
    keys: Option<Res<'_, ButtonInput<KeyCode>>>,
    config: Res<'_, PerfConfig>,
    mut visibility: ResMut<'_, DashboardVisibility>,
) {
    if keys.is_some_and(|k| k.just_pressed(config.hotkey)) {
        visibility.visible = !visibility.visible;
        visibility.toggles += 1;
    }
}
