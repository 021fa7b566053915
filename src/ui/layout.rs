//! Where the dashboard windows open first.

/// Where the windows open first (egui remembers moves and resizes for the rest of the run): a
/// left column (metrics, suggestions, system) and a right column (timeline, bottlenecks),
/// clear of the FPS overlay (top right) and the status bar (bottom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefaultLayout {
    /// The main window (controls and real-time metrics).
    pub main: egui::Rect,
    /// Suggestions and alerts.
    pub suggestions: egui::Rect,
    /// System (CPU, memory, GPU, I/O).
    pub system: egui::Rect,
    /// Timeline.
    pub timeline: egui::Rect,
    /// Bottleneck analyzer.
    pub bottlenecks: egui::Rect,
}

impl DefaultLayout {
    /// The layout for a screen.
    ///
    /// ```
    /// use rfm_perf::ui::DefaultLayout;
    /// let l = DefaultLayout::for_screen(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0)));
    /// assert!(!l.main.intersects(l.timeline) && !l.timeline.intersects(l.bottlenecks));
    /// ```
    pub fn for_screen(screen: egui::Rect) -> Self {
        use egui::{Rect, pos2};
        let (m, top, bottom) = (8.0, 8.0, 44.0);
        let (w, h) = (screen.width().max(640.0), screen.height().max(480.0));
        let left_w = (w * 0.33).clamp(330.0, 470.0);
        let x1 = m + left_w + m;
        let usable = h - top - bottom;
        let col = |x0: f32, x1: f32, y0: f32, y1: f32| {
            Rect::from_min_max(pos2(x0, top + usable * y0), pos2(x1, top + usable * y1 - m))
        };
        Self {
            main: col(m, m + left_w, 0.0, 0.42),
            suggestions: col(m, m + left_w, 0.42, 0.64),
            system: col(m, m + left_w, 0.64, 1.0),
            timeline: Rect::from_min_max(
                pos2(x1, top + 36.0),
                pos2(w - m, top + 36.0 + (usable - 36.0) * 0.5 - m),
            ),
            bottlenecks: Rect::from_min_max(
                pos2(x1, top + 36.0 + (usable - 36.0) * 0.5),
                pos2(w - m, h - bottom),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_keeps_windows_apart_on_common_screens() {
        for (w, h) in [(1280.0, 800.0), (1920.0, 1080.0), (800.0, 600.0)] {
            let l = DefaultLayout::for_screen(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(w, h),
            ));
            let all = [l.main, l.suggestions, l.system, l.timeline, l.bottlenecks];
            for (i, a) in all.iter().enumerate() {
                assert!(a.width() > 100.0 && a.height() > 80.0, "{w}x{h} #{i} {a:?}");
                for b in &all[i + 1..] {
                    assert!(!a.intersects(*b), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
        }
    }
}
