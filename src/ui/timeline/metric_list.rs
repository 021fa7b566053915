//! The timeline's list of metrics to tick: recorded names (and selected ones not recorded, so
//! they can be unticked), filtered by the search, selected first — rebuilt only when the names,
//! the selection or the search change, and laid out only for the rows in view.

use egui::{RichText, Ui};

use super::{LIST_HEIGHT, TimelineState};

/// The listed names and what they were built from.
#[derive(Debug, Default)]
pub(super) struct MetricList {
    /// [`SeriesCache::names_version`](super::series::SeriesCache) the list was built for.
    names_version: Option<u64>,
    selected: Vec<String>,
    search: String,
    listed: Vec<String>,
    /// How many times the list was rebuilt.
    pub(super) rebuilt: u64,
}

impl MetricList {
    /// The list for `recorded` (at `names_version`), `selected` and `search`: the last one
    /// built while none of them changed.
    fn update(
        &mut self,
        recorded: &[String],
        names_version: u64,
        selected: &[String],
        search: &str,
    ) -> &[String] {
        if self.names_version != Some(names_version)
            || self.selected != selected
            || self.search != search
        {
            let mut listed = listed_names(recorded, selected, search);
            // selected first, so they stay in view (a stable sort keeps them by name)
            listed.sort_by_key(|n| !selected.contains(n));
            self.listed = listed;
            self.names_version = Some(names_version);
            self.selected = selected.to_vec();
            self.search = search.to_string();
            self.rebuilt += 1;
        }
        &self.listed
    }
}

/// The list: a row with a checkbox per listed metric, in a scroll area that lays out only the
/// visible rows (so thousands of scopes cost nothing); a line saying why it is empty.
pub(super) fn metric_list(ui: &mut Ui, state: &mut TimelineState) {
    let recorded = &state.cache.names;
    let listed = state.list.update(
        recorded,
        state.cache.names_version,
        &state.selected,
        &state.search,
    );
    if recorded.is_empty() {
        ui.label(RichText::new("No metrics recorded yet").weak());
    } else if listed.is_empty() {
        ui.label(RichText::new("No metric matches the search").weak());
    }
    let selected = &state.selected;
    let mut toggled = None;
    let row_height = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical()
        .id_salt("rfm_perf_timeline_metrics")
        .max_height(LIST_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, listed.len(), |ui, rows| {
            for name in &listed[rows] {
                let mut on = selected.contains(name);
                if ui.checkbox(&mut on, name.as_str()).changed() {
                    toggled = Some((name.clone(), on));
                }
            }
        });
    if let Some((name, on)) = toggled {
        state.set_selected(&name, on);
    }
}

/// Recorded names plus selected ones not recorded (so they can be unticked), filtered by
/// `search` (case-insensitive substring), sorted.
pub(super) fn listed_names(recorded: &[String], selected: &[String], search: &str) -> Vec<String> {
    let needle = search.trim().to_lowercase();
    let mut out: Vec<String> = recorded
        .iter()
        .chain(selected.iter().filter(|s| !recorded.contains(s)))
        .filter(|n| needle.is_empty() || n.to_lowercase().contains(&needle))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn search_filters_case_insensitively_and_keeps_selected() {
        let recorded = names(&["frame.time_ms", "system.cpu.core0_pct", "process.memory_mb"]);
        let selected = names(&["io.pressure_pct"]);
        assert_eq!(
            listed_names(&recorded, &selected, "CPU"),
            vec!["system.cpu.core0_pct"]
        );
        assert_eq!(listed_names(&recorded, &selected, "").len(), 4);
        assert_eq!(
            listed_names(&recorded, &selected, "  Pressure "),
            vec!["io.pressure_pct"]
        );
        assert!(listed_names(&recorded, &selected, "nothing").is_empty());
    }

    #[test]
    fn the_list_is_rebuilt_only_when_what_it_shows_changes() {
        let recorded = names(&["b.two", "a.one", "c.three"]);
        let mut list = MetricList::default();
        let selected = names(&["c.three"]);
        assert_eq!(
            list.update(&recorded, 1, &selected, ""),
            names(&["c.three", "a.one", "b.two"]),
            "selected first, then by name"
        );
        for _ in 0..3 {
            list.update(&recorded, 1, &selected, "");
        }
        assert_eq!(list.rebuilt, 1, "nothing changed");
        let both = names(&["c.three", "a.one"]);
        assert_eq!(
            list.update(&recorded, 1, &both, ""),
            names(&["a.one", "c.three", "b.two"])
        );
        assert_eq!(list.update(&recorded, 1, &both, "TW"), names(&["b.two"]));
        let more = names(&["b.two", "a.one", "c.three", "d.four"]);
        assert_eq!(list.update(&more, 2, &both, "").len(), 4, "new names");
        assert_eq!(list.rebuilt, 4);
    }
}
