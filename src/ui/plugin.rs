//! [`DashboardPlugin`]: the hotkey toggle always, the egui windows where they can be drawn.

use bevy::prelude::*;

use super::visibility::{DashboardVisibility, toggle_visibility};
use crate::base::RfmPerfBasePlugin;

/// Adds the dashboard: [`DashboardVisibility`] toggled by [`PerfConfig::hotkey`](crate::PerfConfig)
/// (F12 by default) and, with the `dashboard` feature in an app that renders, the bevy_egui
/// windows and always-on pieces. Add it after Bevy's render plugins; it adds bevy_egui's
/// `EguiPlugin` unless the app already did (add yours first).
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::ui::{DashboardPlugin, DashboardVisibility};
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins)
///     .add_plugins(rfm_perf::RfmPerfPlugins::headless().add(DashboardPlugin {
///         start_visible: true,
///         ..Default::default()
///     }));
/// app.update();
/// assert!(app.world().resource::<DashboardVisibility>().visible);
/// ```
#[derive(Clone, Debug)]
pub struct DashboardPlugin {
    /// Open the dashboard at start. Default `false`.
    pub start_visible: bool,
    /// Where the layout (compact/full, open windows, switches, opacity) is kept across runs.
    /// Default: `rfm_perf/dashboard.json` in the user's config directory
    /// (`$RFM_PERF_DASHBOARD_LAYOUT` overrides it); `None` keeps it for the run only.
    pub layout_file: Option<std::path::PathBuf>,
    /// Where the FPS counter, the status bar and the toasts sit. Default: top right, top
    /// centre, bottom right (away from the bottom edge, where games put their own text).
    pub placement: super::placement::AlwaysOnPlacement,
}

impl Default for DashboardPlugin {
    fn default() -> Self {
        Self {
            start_visible: false,
            layout_file: default_layout_file(),
            placement: Default::default(),
        }
    }
}

/// The layout file's default place (none without the `dashboard` feature: nothing to lay out).
fn default_layout_file() -> Option<std::path::PathBuf> {
    #[cfg(feature = "dashboard")]
    return super::layout_file::default_layout_path();
    #[cfg(not(feature = "dashboard"))]
    None
}

impl Plugin for DashboardPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        app.insert_resource(DashboardVisibility {
            visible: self.start_visible,
            toggles: 0,
        })
        .add_systems(
            PreUpdate,
            toggle_visibility.after(bevy::input::InputSystems),
        );
        #[cfg(feature = "dashboard")]
        if app.get_sub_app(bevy::render::RenderApp).is_some() {
            super::systems::add_egui_dashboard(app, self.layout_file.as_deref(), self.placement);
        }
    }
}
