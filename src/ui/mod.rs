//! The dashboard ([`DashboardPlugin`]): hotkey-toggled egui windows (real-time metrics,
//! timeline, bottleneck analyzer, system, suggestions) and always-on pieces (FPS overlay,
//! status bar, alert toasts) on bevy_egui, and the same panels as plain egui code that a host
//! app can embed in its own windows.
//!
//! Without the `dashboard` feature, or in an app without a renderer, the plugin keeps only the
//! hotkey toggle ([`DashboardVisibility`]).
//!
//! Input: bevy_egui's input absorption is switched on, so the game loses the pointer or keyboard
//! only while they are over (or focused in) a dashboard window. Game code that reads accumulated
//! mouse motion or scroll can also check [`EguiWantsInput`].
//!
//! Data is gathered once per update interval into [`DashboardUi`]; drawing never waits on the
//! tracker's recording threads. The dashboard times itself into `ui.dashboard_ms`.
//!
#![cfg_attr(
    feature = "dashboard",
    doc = r#"
```
use rfm_perf::ui::{DashboardData, show_embedded};
let ctx = egui::Context::default();
let data = DashboardData::default();
let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
    let actions = show_embedded(ui, &data);
    assert!(actions.is_empty());
});
output.textures_delta.clear(); // a real host uploads these to its renderer
```
"#
)]

mod placement;
mod plugin;
mod visibility;

pub use placement::{AlwaysOnPlacement, Anchor};
pub use plugin::DashboardPlugin;
pub use visibility::DashboardVisibility;

#[cfg(feature = "dashboard")]
mod always_on;
#[cfg(feature = "dashboard")]
pub mod bottleneck;
#[cfg(feature = "dashboard")]
mod data;
#[cfg(feature = "dashboard")]
pub mod gpu_cost;
#[cfg(feature = "dashboard")]
mod layout;
#[cfg(feature = "dashboard")]
pub mod layout_file;
#[cfg(feature = "dashboard")]
mod panels;
#[cfg(all(test, feature = "dashboard"))]
mod raster;
#[cfg(feature = "dashboard")]
mod state;
#[cfg(feature = "dashboard")]
pub mod system_panel;
#[cfg(feature = "dashboard")]
mod systems;
#[cfg(feature = "dashboard")]
pub mod theme;
#[cfg(feature = "dashboard")]
pub mod timeline;
#[cfg(feature = "dashboard")]
mod toasts;
#[cfg(feature = "dashboard")]
pub mod trace_export;
#[cfg(feature = "dashboard")]
mod windows;

#[cfg(feature = "dashboard")]
pub use always_on::show_always_on;
#[cfg(feature = "dashboard")]
pub use bevy_egui::input::EguiWantsInput;
#[cfg(feature = "dashboard")]
pub use data::{DashboardData, MetricRow, PERF_ENTRIES, PerfEntry, TunableView, format_value};
#[cfg(feature = "dashboard")]
pub use layout::DefaultLayout;
#[cfg(feature = "dashboard")]
pub use panels::{
    UiAction, alerts_panel, metrics_panel, perf_entries, show_embedded, status_bar,
    suggestions_panel, tunable_views,
};
#[cfg(feature = "dashboard")]
pub use state::{DashboardUi, Layout, OpenPanels, RefreshInputs};
#[cfg(feature = "dashboard")]
pub use toasts::{MAX_TOASTS, TOAST_DURATION};
#[cfg(feature = "dashboard")]
pub use windows::show_dashboard;
