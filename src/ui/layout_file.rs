//! The dashboard's layout across runs: compact or full, the open windows, the always-on switches
//! and the opacity, in a small JSON file (by default `rfm_perf/dashboard.json` in the user's
//! config directory). A file that cannot be read or parsed is ignored with a warning: the
//! dashboard starts with its defaults.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use super::state::{DashboardUi, Layout, OpenPanels};

/// What the layout file holds.
///
/// ```
/// use rfm_perf::ui::layout_file::SavedLayout;
/// let ui = rfm_perf::ui::DashboardUi::default();
/// let saved = SavedLayout::of(&ui);
/// let text = serde_json::to_string(&saved).unwrap();
/// assert_eq!(serde_json::from_str::<SavedLayout>(&text).unwrap(), saved);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedLayout {
    /// Compact or full.
    pub layout: Layout,
    /// The windows open in the full layout.
    pub open: OpenPanels,
    /// FPS counter shown.
    pub show_fps_overlay: bool,
    /// Status bar shown.
    pub show_status_bar: bool,
    /// Alert toasts shown.
    pub show_toasts: bool,
    /// Opacity of the dashboard windows.
    pub opacity: f32,
    /// Where each window was (`[x, y, width, height]` in points), by window.
    #[serde(default)]
    pub windows: std::collections::BTreeMap<String, [f32; 4]>,
}

impl SavedLayout {
    /// The layout part of `ui`.
    pub fn of(ui: &DashboardUi) -> Self {
        Self {
            layout: ui.layout,
            open: ui.open,
            show_fps_overlay: ui.show_fps_overlay,
            show_status_bar: ui.show_status_bar,
            show_toasts: ui.show_toasts,
            opacity: ui.opacity,
            windows: ui.window_rects.clone(),
        }
    }

    /// Puts this layout into `ui` (an out-of-range opacity is clamped).
    pub fn apply(&self, ui: &mut DashboardUi) {
        ui.layout = self.layout;
        ui.open = self.open;
        ui.show_fps_overlay = self.show_fps_overlay;
        ui.show_status_bar = self.show_status_bar;
        ui.show_toasts = self.show_toasts;
        ui.window_rects = self
            .windows
            .iter()
            .filter(|(_, r)| r.iter().all(|v| v.is_finite()) && r[2] > 0.0 && r[3] > 0.0)
            .map(|(k, r)| (k.clone(), *r))
            .collect();
        ui.opacity = if self.opacity.is_finite() {
            self.opacity.clamp(super::windows::MIN_OPACITY, 1.0)
        } else {
            1.0
        };
    }
}

/// The default layout file: `$RFM_PERF_DASHBOARD_LAYOUT` when set, else
/// `rfm_perf/dashboard.json` under `$XDG_CONFIG_HOME`, `~/.config` or `%APPDATA%`; `None`
/// where none of them is known.
pub fn default_layout_path() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("RFM_PERF_DASHBOARD_LAYOUT") {
        return Some(p);
    }
    let base = env("XDG_CONFIG_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".config")))
        .or_else(|| env("APPDATA"))?;
    Some(base.join("rfm_perf").join("dashboard.json"))
}

/// Reads a layout file: `Ok(None)` when there is none, an error (to warn about) when it cannot
/// be read or parsed.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("rfm-layout-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("dashboard.json");
/// assert_eq!(rfm_perf::ui::layout_file::load(&path), Ok(None));
/// std::fs::write(&path, "{ not json").unwrap();
/// assert!(rfm_perf::ui::layout_file::load(&path).unwrap_err().contains("dashboard.json"));
/// ```
pub fn load(path: &Path) -> Result<Option<SavedLayout>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes a layout file (creating its folder), through a temporary file and a rename.
pub fn save(path: &Path, layout: &SavedLayout) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(layout).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Where the layout is kept, and what was last written there.
#[derive(Resource, Debug)]
pub(crate) struct LayoutFile {
    pub(crate) path: PathBuf,
    saved: Option<SavedLayout>,
    warned: bool,
    /// When it was last written: a window being dragged is written at most once a second.
    written: Option<std::time::Instant>,
}

/// The dashboard state to start with: the defaults, with the layout from `path` when it has a
/// good one (a bad one is warned about).
pub(crate) fn initial_state(path: Option<&Path>) -> (DashboardUi, Option<LayoutFile>) {
    let mut ui = DashboardUi::default();
    let Some(path) = path else {
        return (ui, None);
    };
    let saved = match load(path) {
        Ok(Some(saved)) => {
            saved.apply(&mut ui);
            Some(SavedLayout::of(&ui))
        }
        Ok(None) => None,
        Err(e) => {
            warn!("rfm_perf: dashboard layout not loaded ({e}); using the default layout");
            None
        }
    };
    let file = LayoutFile {
        path: path.to_path_buf(),
        saved,
        warned: false,
        written: None,
    };
    (ui, Some(file))
}

/// Writes the layout when it changed — at most once a second (a window being dragged), and
/// at once when the app exits (a failure is warned about once).
pub(crate) fn persist_layout(
    ui: Res<DashboardUi>,
    file: Option<ResMut<LayoutFile>>,
    mut exit: MessageReader<AppExit>,
) {
    let Some(mut file) = file else { return };
    let exiting = exit.read().next().is_some();
    if !exiting
        && file
            .written
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1))
    {
        return;
    }
    let now = SavedLayout::of(&ui);
    if file.saved.as_ref() == Some(&now) {
        return;
    }
    let default = SavedLayout::of(&DashboardUi::default());
    if file.saved.is_none() && now == default {
        // nothing chosen yet: no file to write
        return;
    }
    file.written = Some(std::time::Instant::now());
    match save(&file.path, &now) {
        Ok(()) => file.saved = Some(now),
        Err(e) if !file.warned => {
            file.warned = true;
            warn!(
                "rfm_perf: dashboard layout not saved to {}: {e}",
                file.path.display()
            );
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_round_trips_and_a_broken_file_falls_back() {
        let dir = std::env::temp_dir().join(format!("rfm-layout-{}", std::process::id()));
        let path = dir.join("nested").join("dashboard.json");
        let mut ui = DashboardUi::default();
        ui.layout = Layout::Full;
        ui.open.gpu_cost = true;
        ui.show_toasts = false;
        ui.opacity = 0.6;
        save(&path, &SavedLayout::of(&ui)).unwrap();
        let (restored, file) = initial_state(Some(&path));
        assert_eq!(SavedLayout::of(&restored), SavedLayout::of(&ui));
        assert!(file.is_some());
        std::fs::write(&path, "{\"layout\": \"Sideways\"}").unwrap();
        let (fallback, _) = initial_state(Some(&path));
        assert_eq!(
            SavedLayout::of(&fallback),
            SavedLayout::of(&DashboardUi::default())
        );
        // an opacity out of range is clamped
        let mut odd = SavedLayout::of(&ui);
        odd.opacity = 7.0;
        save(&path, &odd).unwrap();
        assert_eq!(initial_state(Some(&path)).0.opacity, 1.0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_changed_layout_is_written_and_the_default_never_is() {
        use bevy::ecs::system::RunSystemOnce;
        let dir = std::env::temp_dir().join(format!("rfm-layout-sys-{}", std::process::id()));
        let path = dir.join("dashboard.json");
        let (ui, file) = initial_state(Some(&path));
        let mut world = World::new();
        world.init_resource::<Messages<AppExit>>();
        world.insert_resource(ui);
        world.insert_resource(file.unwrap());
        world.run_system_once(persist_layout).unwrap();
        assert!(!path.exists(), "the untouched default is not written");
        world.resource_mut::<DashboardUi>().layout = Layout::Full;
        world.run_system_once(persist_layout).unwrap();
        assert_eq!(load(&path).unwrap().map(|l| l.layout), Some(Layout::Full));
        // the next run starts from it
        assert_eq!(initial_state(Some(&path)).0.layout, Layout::Full);
        // a window dragged right after: not written again within the second…
        world.resource_mut::<DashboardUi>().remember_window(
            "timeline",
            Some(egui::Rect::from_min_size(
                egui::pos2(50.0, 60.0),
                egui::vec2(400.0, 300.0),
            )),
        );
        world.run_system_once(persist_layout).unwrap();
        assert!(load(&path).unwrap().unwrap().windows.is_empty());
        // …but at once when the app exits
        world.write_message(AppExit::Success);
        world.run_system_once(persist_layout).unwrap();
        assert_eq!(
            load(&path).unwrap().unwrap().windows["timeline"],
            [50.0, 60.0, 400.0, 300.0]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
