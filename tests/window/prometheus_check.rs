//! A real Prometheus server (Debian's `prometheus`, which `scripts/test` installs) scrapes a
//! headless explorer on loopback every second: the target is up, the frame-time histogram has
//! samples and `histogram_quantile` answers, the shipped rules load, and every Grafana panel
//! query names only series the scrape has.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{KillOnDrop, agent, has, start_headless};

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /api/v1/<path>` of the Prometheus at `base`, its `data` on success.
fn api(base: &str, path: &str) -> Result<Value, String> {
    let url = format!("{base}/api/v1/{path}");
    let mut r = agent()
        .get(&url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let v: Value = r
        .body_mut()
        .read_json()
        .map_err(|e| format!("GET {url}: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("GET {url}: {v}"));
    }
    Ok(v["data"].clone())
}

/// Instant query: the values of its result vector.
fn query(base: &str, q: &str) -> Result<Vec<f64>, String> {
    let data = api(base, &format!("query?query={}", encode(q)))?;
    Ok(data["result"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|s| s["value"][1].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default())
}

/// Polls `check` every 500 ms until it gives `Some` or `limit` passes.
fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The `rfm_…` series names a PromQL expression reads.
fn series_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("rfm_") {
        let start = i + at;
        let boundary = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b':');
        let end = start
            + expr[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len() - start);
        // a label such as rfm_instance is followed by `=`, `,` or `)` inside braces; a
        // series by `{`, `[`, a space or the end
        let next = expr[end..].chars().next();
        if boundary && !matches!(next, Some('=' | '!' | '~')) && !expr[..start].ends_with(", ") {
            out.push(expr[start..end].to_string());
        }
        i = end;
    }
    out
}

pub(super) fn prometheus_scrapes_a_headless_run(bin: &Path) -> Result<String, String> {
    if !has("prometheus") {
        return Ok("SKIP the Prometheus check: `prometheus` is not installed (scripts/test installs Debian's prometheus package)".into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = root.join("assets/prometheus/prometheus.yml");
    let rules = root.join("assets/prometheus/rules.yml");
    let dashboard = root.join("assets/grafana/rfm_perf.json");
    if has("promtool") {
        for (what, file) in [("config", &config), ("rules", &rules)] {
            let out = Command::new("promtool")
                .args(["check", what])
                .arg(file)
                .output()
                .map_err(|e| format!("promtool: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "promtool check {what} {}:\n{}{}",
                    file.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    let (_app, addr) = start_headless(bin, "1000000")?;
    let dir = std::env::temp_dir().join(format!("rfm-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let scrape = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: rfm_perf\n    static_configs:\n      - targets: [\"{addr}\"]\n",
        rules.display()
    );
    let scrape_file = dir.join("prometheus.yml");
    std::fs::write(&scrape_file, scrape).map_err(|e| e.to_string())?;
    let server = Command::new("prometheus")
        .arg(format!("--config.file={}", scrape_file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("prometheus: {e}"))?;
    let _server = KillOnDrop(server);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(Duration::from_secs(60), || {
        let q = query(&base, "up{job=\"rfm_perf\"}").ok()?;
        (q.first() == Some(&1.0)).then_some(())
    })
    .ok_or("the scrape target never came up within 60 s")?;
    let frames = wait_for(Duration::from_secs(30), || {
        let v = query(&base, "rfm_frame_duration_seconds_count").ok()?;
        v.first().copied().filter(|n| *n > 0.0)
    })
    .ok_or("no frame-time histogram samples within 30 s")?;
    let p95 = wait_for(Duration::from_secs(30), || {
        let v = query(
            &base,
            "histogram_quantile(0.95, sum by (le) (rate(rfm_frame_duration_seconds_bucket[10s])))",
        )
        .ok()?;
        v.first().copied().filter(|x| x.is_finite() && *x > 0.0)
    })
    .ok_or("histogram_quantile(0.95, …) gave no finite answer within 30 s")?;
    let groups = api(&base, "rules")?["groups"]
        .as_array()
        .map_or(0, Vec::len);
    if groups != 2 {
        return Err(format!(
            "the shipped rules file loaded {groups} groups, not 2"
        ));
    }
    // every series a Grafana panel reads is in the scrape
    let names: Vec<String> = api(&base, "label/__name__/values")?
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(&dashboard)
            .map_err(|e| format!("{}: {e}", dashboard.display()))?,
    )
    .map_err(|e| format!("{}: not JSON: {e}", dashboard.display()))?;
    let mut exprs: Vec<String> = dash["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(String::from))
        .collect();
    exprs.extend(
        dash["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["definition"].as_str().map(String::from)),
    );
    let mut missing = Vec::new();
    let mut read = 0;
    for e in &exprs {
        for s in series_in(e) {
            read += 1;
            if !names.contains(&s) {
                missing.push(format!("{s} (in `{e}`)"));
            }
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "Grafana panels read series the scrape lacks: {}",
            missing.join("; ")
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!(
        "ok   Prometheus scraped {addr}: up, {frames} frames in the histogram, p95 {:.1} ms, 2 rule groups; {} Grafana queries read {read} series, all present",
        p95 * 1e3,
        exprs.len()
    ))
}
