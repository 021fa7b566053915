//! Where the always-on pieces (FPS counter, status bar, toasts) sit on the screen: a setting of
//! the dashboard plugin, compiled without egui so an app can set it whatever its features.

use serde::{Deserialize, Serialize};

/// Where an always-on piece sits on the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// Top left corner.
    TopLeft,
    /// Top edge, centred.
    Top,
    /// Top right corner.
    TopRight,
    /// Bottom left corner.
    BottomLeft,
    /// Bottom edge, centred.
    Bottom,
    /// Bottom right corner.
    BottomRight,
}

/// Where the always-on pieces go (`DashboardPlugin::placement`; kept in the layout file).
/// Default: the FPS counter top right, the status bar top centre — away from the bottom edge,
/// where games put their own text — and the toasts bottom right.
///
/// ```
/// use rfm_perf::ui::{AlwaysOnPlacement, Anchor};
/// let p = AlwaysOnPlacement { status_bar: Anchor::BottomLeft, ..Default::default() };
/// assert_eq!(p.fps, Anchor::TopRight);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlwaysOnPlacement {
    /// The FPS counter.
    pub fps: Anchor,
    /// The status bar.
    pub status_bar: Anchor,
    /// The alert toasts.
    pub toasts: Anchor,
}

impl Default for AlwaysOnPlacement {
    fn default() -> Self {
        Self {
            fps: Anchor::TopRight,
            status_bar: Anchor::Top,
            toasts: Anchor::BottomRight,
        }
    }
}
