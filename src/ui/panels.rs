//! The dashboard's small panels as plain egui code (real-time metrics, perf entries, alerts,
//! suggestions, status bar): they draw into any `egui::Ui` (so a host app can embed them in its
//! own window or side panel) from a [`DashboardData`] gathered once per refresh, and return
//! [`UiAction`]s instead of changing the app themselves.
//!
//! ```
//! use rfm_perf::ui::{DashboardData, show_embedded};
//! let ctx = egui::Context::default();
//! let data = DashboardData::default();
//! let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
//!     let actions = show_embedded(ui, &data);
//!     assert!(actions.is_empty());
//! });
//! output.textures_delta.clear(); // a real host uploads these to its renderer
//! ```

use egui::{RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};
use rfm_perf_core::alert_rules::RulePhase;

use super::data::{DashboardData, TunableView, format_value};
use super::theme::{self, status_color};
use crate::base::Health;

/// Something a panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum UiAction {
    /// Set a tunable parameter (through `Tunables::set`).
    SetTunable {
        /// Tunable name.
        name: String,
        /// New value.
        value: f64,
    },
    /// Turn adaptive quality on or off, or change its target
    /// ([`AdaptiveQuality`](crate::AdaptiveQuality)).
    SetAdaptive {
        /// Whether it steers.
        enabled: bool,
        /// The frame rate it holds.
        target_fps: f64,
    },
}

impl UiAction {
    /// Carries the action out on the app's world: a tunable change through its
    /// [`Tunables`](crate::base::Tunables) registry (checked now, applied at the start of the
    /// next frame), an adaptive-quality change on its
    /// [`AdaptiveQuality`](crate::AdaptiveQuality). The dashboard plugin does this itself (a
    /// tunable change as an [`ApplyTunable`](crate::ApplyTunable) message); this is for hosts
    /// that embed the panels without it.
    ///
    /// ```
    /// use bevy::prelude::*;
    /// use rfm_perf::tunables::{Tunable, Tunables};
    /// use rfm_perf::ui::UiAction;
    /// let mut world = World::new();
    /// let mut t = Tunables::default();
    /// t.register(Tunable::new("fractal.max_iter", "", 16.0..=10_000.0, 2000.0, |_, _| {}).with_step(1.0));
    /// world.insert_resource(t);
    /// world.insert_resource(rfm_perf::AdaptiveQuality::default());
    /// let a = UiAction::SetTunable { name: "fractal.max_iter".into(), value: 500.0 };
    /// assert_eq!(a.apply(&mut world), Ok(()));
    /// assert_eq!(world.resource::<Tunables>().get("fractal.max_iter").unwrap().value(), 500.0);
    /// UiAction::SetAdaptive { enabled: true, target_fps: 30.0 }.apply(&mut world).unwrap();
    /// assert!(world.resource::<rfm_perf::AdaptiveQuality>().enabled);
    /// ```
    ///
    /// # Errors
    /// The registry's [`TunableError`](crate::base::TunableError) (also `Unknown` without a
    /// registry, or without the adaptive-quality resource).
    pub fn apply(&self, world: &mut bevy::prelude::World) -> Result<(), crate::base::TunableError> {
        use crate::base::TunableError;
        match self {
            UiAction::SetTunable { name, value } => world
                .get_resource_mut::<crate::base::Tunables>()
                .ok_or_else(|| TunableError::Unknown(name.clone()))?
                .set(name, *value)
                .map(|_| ()),
            UiAction::SetAdaptive {
                enabled,
                target_fps,
            } => {
                let mut a = world
                    .get_resource_mut::<crate::AdaptiveQuality>()
                    .ok_or_else(|| TunableError::Unknown("adaptive quality".into()))?;
                a.enabled = *enabled;
                a.target_fps = *target_fps;
                Ok(())
            }
        }
    }
}

/// The tunables as the suggestions panel shows them.
///
/// ```
/// let t = rfm_perf::tunables::Tunables::default();
/// assert!(rfm_perf::ui::tunable_views(&t).is_empty());
/// ```
pub fn tunable_views(tunables: &crate::base::Tunables) -> Vec<TunableView> {
    tunables
        .iter()
        .map(|t| TunableView {
            name: t.name.clone(),
            value: t.value(),
            min: *t.range.start(),
            max: *t.range.end(),
        })
        .collect()
}

/// The real-time metrics panel: one row per shown metric with a status dot, the value and a
/// sparkline of its recent history.
pub fn metrics_panel(ui: &mut Ui, data: &DashboardData) {
    egui::Grid::new("rfm_perf_metrics")
        .num_columns(3)
        .spacing([12.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            for row in &data.rows {
                ui.horizontal(|ui| {
                    theme::status_dot(ui, status_color(row.status));
                    ui.label(&row.label).on_hover_text(format!(
                        "{} — {}",
                        row.name,
                        row.status.as_str()
                    ));
                });
                let text = RichText::new(&row.value_text).monospace();
                ui.label(if row.status == Health::Unknown {
                    text.weak()
                } else {
                    text.strong()
                });
                sparkline(ui, &row.name, &row.sparkline, status_color(row.status));
                ui.end_row();
            }
        });
}

fn sparkline(ui: &mut Ui, name: &str, points: &[[f64; 2]], color: egui::Color32) {
    Plot::new(("rfm_perf_spark", name))
        .width(140.0)
        .height(22.0)
        .show_axes(false)
        .show_grid(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_y(false)
        .show_background(false)
        .show(ui, |plot| {
            if !points.is_empty() {
                plot.line(
                    Line::new(name.to_string(), PlotPoints::from(points.to_vec())).color(color),
                );
            }
        });
}

/// The compact perf entry list (as iyes_perf_ui users know it): fps, worst fps, frame time,
/// entities, CPU and memory, each value coloured on a green → yellow → red gradient of its
/// thresholds.
pub fn perf_entries(ui: &mut Ui, data: &DashboardData) {
    egui::Grid::new("rfm_perf_entries")
        .num_columns(2)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            for e in &data.perf_entries {
                ui.label(RichText::new(e.label).small());
                let text = RichText::new(&e.value_text).monospace();
                ui.label(match e.gradient {
                    Some(t) => text.color(theme::gradient_color(t)),
                    None => text,
                });
                ui.end_row();
            }
        });
}

/// Active alerts, worst first.
pub fn alerts_panel(ui: &mut Ui, data: &DashboardData) {
    if data.insights.alerts.is_empty() {
        ui.label(RichText::new("No active alerts").weak());
    }
    let mut alerts: Vec<_> = data.insights.alerts.iter().collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.status));
    for a in alerts {
        ui.horizontal(|ui| {
            theme::status_dot(ui, status_color(a.status));
            ui.label(RichText::new(&a.message).color(status_color(a.status)));
        });
    }
    alert_rules_status(ui, data);
}

/// The alert rule file's errors (a file that does not parse, rules skipped) and, folded, every
/// rule in effect with its phase.
fn alert_rules_status(ui: &mut Ui, data: &DashboardData) {
    let rules = &data.insights.rules;
    if let Some(e) = &rules.report.file_error {
        ui.label(
            RichText::new(format!(
                "Alert rules file not loaded: {e} — the last good rules stay in effect"
            ))
            .color(status_color(Health::Critical)),
        );
    }
    for e in &rules.report.rule_errors {
        ui.label(
            RichText::new(format!("Alert rule skipped: {e}")).color(status_color(Health::Warning)),
        );
    }
    if rules.rules.is_empty() {
        return;
    }
    let n = rules.rules.len();
    egui::CollapsingHeader::new(format!(
        "{n} alert rule{} ({})",
        if n == 1 { "" } else { "s" },
        rules.report.source
    ))
    .id_salt("alert_rules")
    .show(ui, |ui| {
        egui::Grid::new("alert_rules_grid")
            .striped(true)
            .show(ui, |ui| {
                for r in &rules.rules {
                    let phase = match (r.phase, r.inhibited) {
                        (RulePhase::Firing, true) => "firing (shown by a more severe rule)",
                        (RulePhase::Firing, false) => "firing",
                        (RulePhase::Pending, _) => "pending",
                        (RulePhase::CoolingDown, _) => "cooling down",
                        (RulePhase::Inactive, _) => "inactive",
                    };
                    ui.label(RichText::new(&r.rule.id).monospace());
                    ui.label(format!(
                        "{} {} {}",
                        r.rule.condition.as_str(),
                        format_value(r.rule.threshold, ""),
                        r.rule.severity.as_str()
                    ));
                    ui.label(r.value.map_or_else(|| "–".into(), |v| format_value(v, "")));
                    ui.label(phase);
                    ui.end_row();
                }
            });
    });
}

/// Adaptive quality: a switch, the frame rate it holds, and what it did last.
pub fn adaptive_panel(ui: &mut Ui, data: &DashboardData) -> Vec<UiAction> {
    let mut actions = Vec::new();
    let Some(a) = &data.adaptive else {
        return actions;
    };
    ui.horizontal(|ui| {
        let mut enabled = a.enabled;
        let mut fps = a.target_fps;
        let toggled = ui
            .checkbox(&mut enabled, "Adaptive quality, holding")
            .on_hover_text(
                "Changes the resolution scale and the iteration limit (and turns the interior checks on) to hold the frame rate; the highest quality is what they are set to when you turn it on",
            )
            .changed();
        let moved = ui
            .add(egui::DragValue::new(&mut fps).range(1.0..=240.0).suffix(" FPS"))
            .changed();
        if toggled || moved {
            actions.push(UiAction::SetAdaptive {
                enabled,
                target_fps: fps,
            });
        }
    });
    if a.enabled {
        ui.label(RichText::new(&a.status.message).small());
        if let Some(step) = a.status.steps.last() {
            ui.label(
                RichText::new(format!(
                    "last step {:?}: scale {:.2} → {:.2}, iterations {} → {} (median frame {:.1} ms, predicted {:.1} ms); {} steps, {} reversals",
                    step.direction,
                    step.from.resolution_scale,
                    step.to.resolution_scale,
                    step.from.max_iter,
                    step.to.max_iter,
                    step.measured_ms,
                    step.predicted_ms,
                    a.status.steps.len(),
                    a.status.reversals
                ))
                .small()
                .weak(),
            );
        }
    }
    actions
}

/// Suggestions with their evidence; those that change a parameter have an **Apply** button.
/// Returns the parameter changes the user asked for.
pub fn suggestions_panel(ui: &mut Ui, data: &DashboardData) -> Vec<UiAction> {
    let mut actions = adaptive_panel(ui, data);
    if data.adaptive.is_some() {
        ui.separator();
    }
    if data.insights.suggestions.is_empty() {
        ui.label(RichText::new("No suggestions right now").weak());
    }
    for (i, s) in data.insights.suggestions.iter().enumerate() {
        ui.push_id(i, |ui| {
            ui.group(|ui| {
                ui.label(RichText::new(&s.title).strong());
                ui.label(RichText::new(&s.evidence).small());
                if let Some(p) = &s.parameter {
                    let current = data.tunables.iter().find(|t| t.name == p.name);
                    ui.horizontal(|ui| {
                        let from =
                            current.map_or_else(|| "?".to_string(), |t| format_value(t.value, ""));
                        ui.label(format!(
                            "{}: {from} → {}",
                            p.name,
                            format_value(p.value, "")
                        ));
                        if ui
                            .add_enabled(current.is_some(), egui::Button::new("Apply"))
                            .clicked()
                        {
                            actions.push(UiAction::SetTunable {
                                name: p.name.clone(),
                                value: p.value,
                            });
                        }
                    });
                }
            });
        });
    }
    outcomes(ui, data);
    actions
}

/// Applied suggestions: predicted against measured gain, newest first.
fn outcomes(ui: &mut Ui, data: &DashboardData) {
    if data.insights.outcomes.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Applied").strong());
    for o in data.insights.outcomes.iter().rev() {
        let color = match o.verdict {
            crate::base::OutcomeVerdict::AsPredicted => status_color(Health::Ok),
            crate::base::OutcomeVerdict::Missed => status_color(Health::Warning),
            _ => ui.visuals().text_color(),
        };
        ui.label(RichText::new(&o.title).color(color));
        ui.label(RichText::new(&o.message).small());
    }
}

/// The status bar: one coloured indicator per shown metric that has a value (the metrics
/// panel says why the others have none).
pub fn status_bar(ui: &mut Ui, data: &DashboardData) {
    ui.horizontal(|ui| {
        for row in data.rows.iter().filter(|r| r.has_value) {
            theme::status_dot(ui, status_color(row.status));
            ui.label(
                RichText::new(format!("{} {}", row.label, row.value_text))
                    .color(status_color(row.status))
                    .size(theme::ALWAYS_ON_TEXT_PX),
            );
            ui.separator();
        }
    });
}

/// The embeddable view: status bar, metrics, alerts and suggestions stacked in `ui`.
/// Returns what the user asked to change.
pub fn show_embedded(ui: &mut Ui, data: &DashboardData) -> Vec<UiAction> {
    status_bar(ui, data);
    ui.separator();
    ui.heading("Real-time metrics");
    metrics_panel(ui, data);
    ui.separator();
    ui.heading("Alerts");
    alerts_panel(ui, data);
    ui.separator();
    ui.heading("Suggestions");
    suggestions_panel(ui, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{HealthThresholds as Thresholds, Insights, ParameterChange, Suggestion};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use rfm_perf_core::PerformanceTracker;
    use std::time::Duration;

    fn data_with(tracker: &PerformanceTracker, insights: Insights) -> DashboardData {
        tracker.publish_snapshot();
        let show: Vec<String> = [
            "render_time",
            "fps",
            "memory_usage",
            "gpu_utilization",
            "complexity",
        ]
        .map(String::from)
        .to_vec();
        let tunables = vec![TunableView {
            name: "fractal.max_iter".into(),
            value: 2000.0,
            min: 16.0,
            max: 10_000.0,
        }];
        DashboardData::gather(
            tracker,
            &Thresholds::default(),
            &show,
            &insights,
            tunables,
            Duration::from_secs(60),
        )
    }

    #[test]
    fn thresholds_give_the_right_colours_and_missing_sources_say_why() {
        let t = PerformanceTracker::new();
        for v in [10.0, 12.0, 40.0] {
            t.track_metric("frame.time_ms", v);
        }
        t.track_metric("fps", 59.0);
        let data = data_with(&t, Insights::default());
        let row = |n: &str| data.rows.iter().find(|r| r.name == n).unwrap().clone();
        assert_eq!(row("frame.time_ms").status, Health::Critical);
        assert_eq!(row("frame.time_ms").value_text, "40.00 ms");
        assert_eq!(row("frame.fps").status, Health::Ok);
        assert_eq!(
            row("frame.time_ms")
                .sparkline
                .iter()
                .map(|p| p[1])
                .fold(0.0, f64::max),
            40.0
        );
        assert_eq!(row("gpu.utilization_pct").status, Health::Unknown);
        assert!(row("gpu.utilization_pct").value_text.starts_with("n/a"));
        assert_eq!(
            row("gpu.utilization_pct").label,
            "GPU utilization (estimate)"
        );
        assert_ne!(status_color(Health::Critical), status_color(Health::Ok));
    }

    #[test]
    fn pressing_apply_asks_for_the_parameter_change() {
        let t = PerformanceTracker::new();
        let insights = Insights {
            suggestions: vec![
                Suggestion {
                    title: "Lower max iterations".into(),
                    evidence: "pixels use 300".into(),
                    parameter: Some(ParameterChange {
                        name: "fractal.max_iter".into(),
                        value: 500.0,
                    }),
                    ..Default::default()
                },
                Suggestion {
                    title: "Look at physics".into(),
                    evidence: "60 % of the frame".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let data = data_with(&t, insights);
        let mut actions = Vec::new();
        let mut harness = Harness::new_ui(|ui| {
            actions.extend(suggestions_panel(ui, &data));
        });
        harness.run();
        harness.get_by_label("Lower max iterations");
        harness.get_by_label("Apply").click();
        harness.run();
        drop(harness);
        assert_eq!(
            actions,
            vec![UiAction::SetTunable {
                name: "fractal.max_iter".into(),
                value: 500.0
            }]
        );
    }

    #[test]
    fn the_adaptive_quality_switch_asks_to_turn_it_on_and_shows_its_last_step() {
        use rfm_perf_core::adaptive_quality::{QualitySetting, QualityStep, StepDirection};
        let t = PerformanceTracker::new();
        let mut data = data_with(&t, Insights::default());
        data.adaptive = Some(crate::AdaptiveQuality {
            target_fps: 30.0,
            ..Default::default()
        });
        let mut actions = Vec::new();
        let mut harness = Harness::new_ui(|ui| {
            actions.extend(suggestions_panel(ui, &data));
        });
        harness.run();
        harness.get_by_label("Adaptive quality, holding").click();
        harness.run();
        drop(harness);
        assert_eq!(
            actions,
            vec![UiAction::SetAdaptive {
                enabled: true,
                target_fps: 30.0
            }]
        );
        // on: its message and its last step
        let q = |s| QualitySetting {
            resolution_scale: s,
            max_iter: 1000,
            interior_check: true,
        };
        let a = data.adaptive.as_mut().unwrap();
        a.enabled = true;
        a.status.message = "holding 30 FPS".into();
        a.status.steps.push(QualityStep {
            at_s: 1.0,
            direction: StepDirection::Down,
            from: q(1.0),
            to: q(0.7),
            measured_ms: 50.0,
            predicted_ms: 29.0,
        });
        let mut harness = Harness::new_ui(|ui| {
            suggestions_panel(ui, &data);
        });
        harness.run();
        harness.get_by_label("holding 30 FPS");
        harness.get_by_label_contains("scale 1.00 → 0.70");
    }

    #[test]
    fn embedded_view_draws_every_shown_metric() {
        let t = PerformanceTracker::new();
        t.track_metric("frame.time_ms", 16.0);
        let data = data_with(&t, Insights::default());
        let mut harness = Harness::new_ui(|ui| {
            show_embedded(ui, &data);
        });
        harness.run();
        for label in [
            "Render time",
            "FPS",
            "Memory",
            "GPU utilization (estimate)",
            "Complexity (iterations/pixel)",
            "No active alerts",
        ] {
            harness.get_by_label(label);
        }
    }

    #[test]
    fn alert_rule_file_errors_show_where_the_file_broke() {
        let t = PerformanceTracker::new();
        let mut insights = Insights::default();
        insights.rules.report.file_error = Some(rfm_perf_core::alert_rules::RuleError {
            file: "assets/alerts.toml".into(),
            line: 3,
            column: 10,
            rule: None,
            message: "invalid string".into(),
        });
        let set = rfm_perf_core::alert_rules::AlertRuleSet::parse(
            "[[rule]]\nid = \"bad\"\nmetric = \"frame.fps\"\ncondition = \"below\"\nthreshold = 30\nseverity = \"bad\"\n",
            "assets/alerts.toml",
            None,
        )
        .unwrap();
        insights.rules.report.rule_errors = set.errors;
        let data = data_with(&t, insights);
        let mut harness = Harness::new_ui(|ui| alerts_panel(ui, &data));
        harness.run();
        harness.get_by_label(
            "Alert rules file not loaded: assets/alerts.toml:3:10: invalid string — the last good rules stay in effect",
        );
        harness.get_by_label_contains(
            "Alert rule skipped: assets/alerts.toml:6:12: rule bad: unknown severity",
        );
    }

    #[test]
    fn perf_entries_follow_iyes_perf_ui_with_threshold_gradients() {
        let t = PerformanceTracker::new();
        t.track_metric("frame.fps", 20.0);
        t.track_metric("frame.time_ms", 8.0);
        let data = data_with(&t, Insights::default());
        let labels: Vec<_> = data.perf_entries.iter().map(|e| e.label).collect();
        assert_eq!(
            labels,
            [
                "FPS",
                "FPS (worst)",
                "Frame time",
                "Entities",
                "CPU",
                "Memory"
            ]
        );
        let fps = &data.perf_entries[0];
        assert_eq!(fps.gradient, Some(1.0), "20 fps is past critical");
        assert!(data.perf_entries[2].gradient.is_some_and(|g| g < 0.5));
        assert_eq!(data.perf_entries[3].value_text, "–", "not recorded");
        assert_eq!(data.perf_entries[3].gradient, None);
        let mut harness = Harness::new_ui(|ui| perf_entries(ui, &data));
        harness.run();
        harness.get_by_label("FPS (worst)");
        harness.get_by_label(&fps.value_text);
    }
}
