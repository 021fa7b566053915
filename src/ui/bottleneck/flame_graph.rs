//! The flame graph: a frame's call tree per thread, each child inside its parent.

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Ui, pos2, vec2};
use rfm_perf_core::{FrameProfile, ThreadLane};

use super::positive;
use crate::ui::format_value;

const ROW_HEIGHT: f32 = 18.0;
/// Deeper call-tree levels than this are not drawn.
const MAX_FLAME_DEPTH: usize = 48;

/// One box of a flame graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlameBox {
    /// Index of the node in the lane's `nodes`.
    pub node: usize,
    /// Row (0 = top level).
    pub depth: usize,
    /// Start, in ms from the lane's start (children are laid out left to right in their parent).
    pub start_ms: f64,
    /// Width: the node's total time (ms).
    pub width_ms: f64,
}

/// Lays out a lane's call tree as a flame graph: top-level nodes side by side, each child
/// inside its parent after its earlier siblings. Bad parent links count as top level.
///
/// ```
/// let t = rfm_perf::PerformanceTracker::new();
/// t.start_timer("outer"); t.start_timer("inner"); t.end_timer("inner"); t.end_timer("outer");
/// let frame = t.collect_frame();
/// let boxes = rfm_perf::ui::bottleneck::flame_layout(&frame.threads[0]);
/// assert_eq!((boxes[1].depth, boxes[1].start_ms), (1, 0.0));
/// ```
pub fn flame_layout(lane: &ThreadLane) -> Vec<FlameBox> {
    let n = lane.nodes.len();
    let mut next_child = vec![0.0_f64; n];
    let mut depth = vec![0_usize; n];
    let mut next_top = 0.0;
    let mut out = Vec::with_capacity(n);
    for (i, node) in lane.nodes.iter().enumerate() {
        let width = positive(Some(node.total_ms));
        let parent = node.parent.map(|p| p as usize).filter(|&p| p < i);
        let (start, d) = match parent {
            Some(p) => {
                let start = next_child[p];
                next_child[p] += width;
                (start, depth[p] + 1)
            }
            None => {
                let start = next_top;
                next_top += width;
                (start, 0)
            }
        };
        next_child[i] = start;
        depth[i] = d;
        out.push(FlameBox {
            node: i,
            depth: d,
            start_ms: start,
            width_ms: width,
        });
    }
    out
}

/// Draws every lane of `frame`; true when a box was clicked.
pub(super) fn flame_graph(ui: &mut Ui, frame: &FrameProfile) -> bool {
    if frame.threads.is_empty() {
        ui.label(RichText::new("No scopes ran in this frame").weak());
        return false;
    }
    let scale = flame_scale(frame);
    let width = ui.available_width().max(100.0);
    let px_per_ms = f64::from(width) / scale;
    let mut clicked = false;
    for lane in &frame.threads {
        ui.label(RichText::new(lane.thread.as_ref()).small().weak());
        let boxes = flame_layout(lane);
        let rows = boxes
            .iter()
            .map(|b| b.depth)
            .max()
            .unwrap_or(0)
            .min(MAX_FLAME_DEPTH)
            + 1;
        // one hit-tested widget per lane: the box under the pointer is found by position
        let (rect, response) =
            ui.allocate_exact_size(vec2(width, rows as f32 * ROW_HEIGHT), Sense::click());
        let box_rect = |b: &FlameBox| {
            Rect::from_min_size(
                pos2(
                    rect.left() + (b.start_ms * px_per_ms) as f32,
                    rect.top() + b.depth as f32 * ROW_HEIGHT,
                ),
                vec2((b.width_ms * px_per_ms) as f32, ROW_HEIGHT - 1.0),
            )
        };
        let painter = ui.painter_at(rect);
        for b in boxes.iter().filter(|b| b.depth < rows) {
            let r = box_rect(b);
            if r.width() < 1.0 {
                continue;
            }
            if let Some(node) = lane.nodes.get(b.node) {
                draw_box(&painter, r.intersect(rect), &node.name);
            }
        }
        let under = |p: egui::Pos2| {
            boxes
                .iter()
                .filter(|b| b.depth < rows)
                .find(|b| box_rect(b).contains(p))
                .and_then(|b| lane.nodes.get(b.node))
        };
        let hovered = response.hover_pos().and_then(under);
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::Other,
                true,
                format!("flame graph of {}", lane.thread),
            )
        });
        if let Some(node) = hovered {
            // the tooltip text is built only for the hovered box
            response.clone().on_hover_ui_at_pointer(|ui| {
                ui.label(format!(
                    "{}\ntotal {} · self {} · {} calls",
                    node.name,
                    format_value(node.total_ms, "ms"),
                    format_value(node.self_ms, "ms"),
                    node.calls
                ));
            });
        }
        // a click on a box pins the frame (so does activating the lane from the keyboard or
        // a screen reader, which has no pointer position)
        clicked |= response.clicked()
            && response
                .interact_pointer_pos()
                .is_none_or(|p| under(p).is_some());
    }
    clicked
}

fn draw_box(lane: &egui::Painter, r: Rect, name: &str) {
    let painter = lane.with_clip_rect(r);
    painter.rect_filled(r, 2.0, name_color(name));
    if r.width() > 24.0 {
        painter.text(
            r.left_center() + vec2(3.0, 0.0),
            Align2::LEFT_CENTER,
            name,
            FontId::proportional(11.0),
            Color32::BLACK,
        );
    }
}

/// Milliseconds the full width stands for: the frame, or its longest lane if longer.
fn flame_scale(frame: &FrameProfile) -> f64 {
    let longest = frame
        .threads
        .iter()
        .map(|lane| {
            lane.nodes
                .iter()
                .filter(|n| n.parent.is_none())
                .map(|n| positive(Some(n.total_ms)))
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let scale = positive(Some(frame.duration_ms)).max(longest);
    if scale > 0.0 { scale } else { 1.0 }
}

/// A stable pastel colour per scope name.
fn name_color(name: &str) -> Color32 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let hue = (hash % 360) as f32 / 360.0;
    egui::ecolor::Hsva::new(hue, 0.45, 0.9, 1.0).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfm_perf_core::PerformanceTracker;

    #[test]
    fn flame_layout_nests_children_inside_parents() {
        let t = PerformanceTracker::new();
        t.start_timer("frame");
        t.start_timer("a");
        t.end_timer("a");
        t.start_timer("b");
        t.start_timer("b1");
        t.end_timer("b1");
        t.end_timer("b");
        t.end_timer("frame");
        let frame = t.collect_frame();
        let lane = &frame.threads[0];
        let boxes = flame_layout(lane);
        let by_name = |n: &str| {
            let i = lane
                .nodes
                .iter()
                .position(|x| x.name.as_ref() == n)
                .unwrap();
            boxes[i]
        };
        assert_eq!(by_name("frame").depth, 0);
        assert_eq!(by_name("a").start_ms, 0.0);
        assert_eq!(by_name("b").start_ms, by_name("a").width_ms);
        assert_eq!(by_name("b1").depth, 2);
        assert_eq!(by_name("b1").start_ms, by_name("b").start_ms);
        assert!(by_name("b").start_ms + by_name("b").width_ms <= by_name("frame").width_ms + 1e-9);
    }
}
