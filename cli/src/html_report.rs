//! `rfm-perf report`: saved headless benchmark reports as one self-contained HTML file — the
//! browser dashboard's charts and tables with the data inlined, for CI artifacts; it opens from
//! `file://` with no server and no network.

use std::path::{Path, PathBuf};

use rfm_perf_core::RunReport;

/// Reads every report (each must be a run report this build reads: a bad file is an error that
/// names it, and nothing is written), and writes the page to `output`. Returns the line to print.
pub(crate) fn write_report(
    files: &[PathBuf],
    output: &Path,
    title: Option<&str>,
) -> Result<String, String> {
    if files.is_empty() {
        return Err("report needs at least one report file".into());
    }
    let mut reports = Vec::with_capacity(files.len());
    let mut metrics = std::collections::BTreeSet::new();
    for file in files {
        // validates the schema; the page shows every field, so the file's own JSON is embedded
        let (run, value) = RunReport::load_with_json(file).map_err(|e| e.to_string())?;
        metrics.extend(run.metrics.keys().cloned());
        reports.push(value);
    }
    let title = title.map_or_else(
        || {
            let names: Vec<String> = files
                .iter()
                .map(|f| {
                    f.file_name()
                        .map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into())
                })
                .collect();
            format!("rfm_perf report: {}", names.join(", "))
        },
        str::to_string,
    );
    let data = serde_json::to_string(&reports).map_err(|e| e.to_string())?;
    let html = rfm_perf_web::report_page(&title, &data);
    std::fs::write(output, html)
        .map_err(|e| format!("could not write {}: {e}", output.display()))?;
    Ok(format!(
        "wrote {} ({} report{}, {} metrics): open it in a browser",
        output.display(),
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        metrics.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_json(scenario: &str) -> String {
        format!(
            r#"{{"schema_version": 1, "scenario": "{scenario}", "frames": 3, "width": 64, "height": 64,
            "metrics": {{"frame.wall_ms": {{"n": 3, "median": 2.0, "p95": 3.0, "p99": 3.0, "mad": 1.0,
            "unit": "ms", "direction": "lower_is_better", "values": [1.0, 2.0, 3.0]}}}}}}"#
        )
    }

    #[test]
    fn writes_one_page_with_every_report_inlined() {
        let dir = std::env::temp_dir().join(format!("rfm_report_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.json"), dir.join("b.json"));
        std::fs::write(&a, report_json("first <run>")).unwrap();
        std::fs::write(&b, report_json("second")).unwrap();
        let out = dir.join("r.html");
        let line = write_report(&[a.clone(), b], &out, None).unwrap();
        assert!(line.contains("2 reports, 1 metrics"), "{line}");
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.contains("frame.wall_ms"));
        assert!(
            html.contains("first \\u003crun>"),
            "escaped in the data block"
        );
        assert!(html.contains("second"));
        assert!(
            !html.contains("src=\"/web/"),
            "no server paths: scripts are inlined"
        );
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no network"
        );
        // a bad file: a clear error naming it, and the earlier output is kept
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{\"not\": \"a report\"}").unwrap();
        let e = write_report(&[a, bad], &out, Some("x")).unwrap_err();
        assert!(e.contains("bad.json"), "{e}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), html);
        std::fs::remove_dir_all(&dir).ok();
    }
}
