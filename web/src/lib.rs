//! The browser dashboard's files, embedded in the binary: no CDN, no framework, no build step.
//!
//! The same plain scripts (not ES modules) run in two places: served by the API at `GET /`
//! (live data from the REST endpoints and the server-sent event stream), and inlined into a
//! single self-contained HTML file by `rfm-perf report` (data from saved benchmark reports,
//! opened from `file://` without a server). [`report_page`] builds the latter.
//!
//! ```
//! use rfm_perf_web::{asset, ASSETS};
//! let js = asset("chart.js").expect("embedded");
//! assert_eq!(js.content_type, "text/javascript; charset=utf-8");
//! assert!(ASSETS.iter().any(|a| a.name == "dashboard.css"));
//! assert!(asset("../secret").is_none());
//! ```

/// One embedded file of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asset {
    /// File name, as the page links it (`/web/<name>`).
    pub name: &'static str,
    /// MIME type with charset, for `Content-Type`.
    pub content_type: &'static str,
    /// The file's text.
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The live page (`GET /`): links the stylesheet and scripts below, no inline script or style
/// (the server sends a strict Content-Security-Policy).
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// Every file under `/web/`, in the order the page loads the scripts.
pub const ASSETS: [Asset; 5] = [
    Asset {
        name: "dashboard.css",
        content_type: CSS,
        body: include_str!("../assets/dashboard.css"),
    },
    Asset {
        name: "chart.js",
        content_type: JS,
        body: include_str!("../assets/chart.js"),
    },
    Asset {
        name: "panels.js",
        content_type: JS,
        body: include_str!("../assets/panels.js"),
    },
    Asset {
        name: "live.js",
        content_type: JS,
        body: include_str!("../assets/live.js"),
    },
    Asset {
        name: "report.js",
        content_type: JS,
        body: include_str!("../assets/report.js"),
    },
];

/// The embedded file called `name`, if there is one (only the names in [`ASSETS`]: a path
/// never reaches the file system).
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The Content-Security-Policy the live page is served with: only this server's own files and
/// API, nothing inline, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// A self-contained HTML report: the stylesheet and the chart, panel and report scripts
/// inlined, and `reports_json` (a JSON array of benchmark reports) as an inert data block the
/// report script reads. Opens from `file://` with no server and no network.
///
/// `title` is HTML-escaped; `reports_json` has every `<` escaped as `\u003c`, so no string in
/// a report can close the data block.
///
/// ```
/// let html = rfm_perf_web::report_page("run </title>", r#"[{"label":"</script>"}]"#);
/// assert!(html.starts_with("<!doctype html>"));
/// assert!(html.contains("run &lt;/title&gt;"));
/// assert!(!html.contains(r#""</script>""#));
/// assert!(html.contains("renderReport"));
/// ```
pub fn report_page(title: &str, reports_json: &str) -> String {
    let css = asset("dashboard.css").map_or("", |a| a.body);
    let mut out = String::with_capacity(reports_json.len() + 64 * 1024);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>");
    out.push_str(&escape_html(title));
    out.push_str("</title>\n<style>\n");
    out.push_str(css);
    out.push_str("\n</style>\n</head>\n<body class=\"report\">\n");
    out.push_str("<header class=\"top\"><h1>");
    out.push_str(&escape_html(title));
    out.push_str("</h1><span id=\"status\" class=\"status\"></span></header>\n");
    out.push_str("<main id=\"report\"></main>\n");
    out.push_str("<script type=\"application/json\" id=\"report-data\">");
    out.push_str(&reports_json.replace('<', "\\u003c"));
    out.push_str("</script>\n");
    for name in ["chart.js", "panels.js", "report.js"] {
        out.push_str("<script>\n");
        if let Some(a) = asset(name) {
            // a script never contains its own closing tag; guard anyway
            out.push_str(&a.body.replace("</script", "<\\/script"));
        }
        out.push_str("\n</script>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_every_script_and_the_stylesheet() {
        for a in &ASSETS {
            if a.name == "report.js" {
                assert!(
                    !INDEX_HTML.contains("report.js"),
                    "the live page does not load report.js"
                );
                continue;
            }
            assert!(
                INDEX_HTML.contains(&format!("/web/{}", a.name)),
                "index.html does not link {}",
                a.name
            );
        }
    }

    #[test]
    fn the_live_page_has_no_inline_script_or_style() {
        // the CSP forbids them: they would silently not run
        assert!(!INDEX_HTML.contains("<style"));
        assert!(!INDEX_HTML.contains(" style="));
        assert!(!INDEX_HTML.contains(" onclick="));
        for part in INDEX_HTML.split("<script").skip(1) {
            let tag = part.split('>').next().unwrap_or("");
            assert!(tag.contains("src="), "inline script: <script{tag}>");
        }
    }

    #[test]
    fn scripts_are_plain_scripts_not_modules() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for line in a.body.lines() {
                let l = line.trim_start();
                assert!(
                    !(l.starts_with("import ") || l.starts_with("export ")),
                    "{} uses ES module syntax ({l}); it must also run from file://",
                    a.name
                );
            }
        }
    }

    #[test]
    fn report_data_cannot_close_its_block() {
        let html = report_page(
            "r",
            r#"[{"scenario":"</script><script>alert(1)</script>"}]"#,
        );
        let data = html
            .split("id=\"report-data\">")
            .nth(1)
            .and_then(|s| s.split("</script>").next())
            .unwrap();
        assert!(data.contains("\\u003c/script>\\u003cscript>alert(1)"));
    }
}
