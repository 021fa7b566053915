//! The dashboard's "Export trace" button: the tracker's trace window written as a Chrome Trace
//! Event file (for Perfetto) on a thread of its own, so the game never waits for it; the path
//! (or the error) shows beside the button.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use egui::{RichText, Ui};
use rfm_perf_core::PerformanceTracker;
use rfm_perf_core::trace::TraceInstant;

use crate::base::{Health, Insights};

/// Where the last export stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum TraceExportStatus {
    /// None asked for yet.
    #[default]
    Idle,
    /// Writing.
    Running,
    /// Written: the file and its scope events.
    Written(PathBuf, usize),
    /// Failed, and why.
    Failed(String),
}

/// The export's state, shared with its thread.
#[derive(Clone, Debug, Default)]
pub struct TraceExport(Arc<Mutex<TraceExportStatus>>);

impl TraceExport {
    /// Where the last export stands.
    pub fn status(&self) -> TraceExportStatus {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Writes the tracker's whole trace window (with the logged alerts as instants) to a new
    /// file in `dir`, on a new thread. Does nothing while an export runs.
    pub fn start(&self, tracker: &PerformanceTracker, insights: &Insights, dir: PathBuf) {
        {
            let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if *s == TraceExportStatus::Running {
                return;
            }
            *s = TraceExportStatus::Running;
        }
        let tracker = tracker.clone();
        let instants: Vec<TraceInstant> = insights
            .log
            .iter()
            .map(|a| TraceInstant {
                name: a.message.clone(),
                at_unix_s: a.raised_unix_s,
            })
            .collect();
        let status = self.0.clone();
        let spawned = std::thread::Builder::new()
            .name("rfm_perf-trace-export".into())
            .spawn(move || {
                let capture = tracker.trace(tracker.config().trace_window);
                let unix = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let path = dir.join(format!("rfm_perf_trace_{unix}.json"));
                let done = match std::fs::write(&path, capture.chrome_json(&instants)) {
                    Ok(()) => TraceExportStatus::Written(path, capture.span_count()),
                    Err(e) => TraceExportStatus::Failed(format!("{}: {e}", path.display())),
                };
                *status.lock().unwrap_or_else(|e| e.into_inner()) = done;
            });
        if let Err(e) = spawned {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
                TraceExportStatus::Failed(format!("no thread for the export: {e}"));
        }
    }
}

/// The button and the last export's outcome.
pub(crate) fn trace_export_row(
    ui: &mut Ui,
    export: &TraceExport,
    tracker: &PerformanceTracker,
    insights: &Insights,
) {
    ui.horizontal_wrapped(|ui| {
        let status = export.status();
        let running = status == TraceExportStatus::Running;
        let window = tracker.config().trace_window;
        let button = ui
            .add_enabled(
                !running && !window.is_zero(),
                egui::Button::new("Export trace"),
            )
            .on_hover_text(format!(
                "Writes the last {} s of every thread's scopes as a Chrome Trace Event file: open it in ui.perfetto.dev",
                window.as_secs_f64()
            ));
        if button.clicked() {
            export.start(tracker, insights, std::env::temp_dir());
        }
        match status {
            TraceExportStatus::Idle => {}
            TraceExportStatus::Running => {
                ui.label(RichText::new("writing…").weak());
            }
            TraceExportStatus::Written(path, spans) => {
                ui.label(RichText::new(format!("{spans} events → {}", path.display())).small());
            }
            TraceExportStatus::Failed(e) => {
                ui.label(
                    RichText::new(format!("export failed: {e}"))
                        .color(super::theme::status_color(Health::Critical)),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_writes_a_valid_trace_and_says_where() {
        let t = PerformanceTracker::new();
        t.start_timer("ui_test.work");
        t.end_timer("ui_test.work");
        t.collect_frame();
        let dir = std::env::temp_dir().join(format!("rfm-ui-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let export = TraceExport::default();
        export.start(&t, &Insights::default(), dir.clone());
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while export.status() == TraceExportStatus::Running && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let TraceExportStatus::Written(path, spans) = export.status() else {
            panic!("{:?}", export.status());
        };
        assert_eq!(spans, 1);
        let json = std::fs::read_to_string(&path).unwrap();
        assert_eq!(rfm_perf_core::trace::validate_chrome_json(&json), Ok(1));
        // into a folder that does not exist: the error names the file
        export.start(&t, &Insights::default(), dir.join("missing"));
        while export.status() == TraceExportStatus::Running {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(matches!(export.status(), TraceExportStatus::Failed(e) if e.contains("missing")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
