//! A captured stretch of the timeline ([`TraceCapture`], from
//! [`PerformanceTracker::trace`](crate::PerformanceTracker::trace)) and its export in the Chrome
//! Trace Event JSON format, which `ui.perfetto.dev`, `chrome://tracing` and
//! `tracy-import-chrome` open: `X` events per scope (µs from the capture's start, self time in
//! `args`), `M` events naming the process and threads, `C` counter events for frame rate,
//! frame time, GPU pass time and iterations, `i` instant events (alerts).
//!
//! ```
//! let t = rfm_perf_core::PerformanceTracker::new();
//! t.start_timer("frame");
//! t.start_timer("physics");
//! t.end_timer("physics");
//! t.end_timer("frame");
//! t.collect_frame();
//! let capture = t.trace(std::time::Duration::from_secs(10));
//! let json = capture.chrome_json(&[]);
//! let v: serde_json::Value = serde_json::from_str(&json).unwrap();
//! let names: Vec<&str> = v["traceEvents"].as_array().unwrap().iter()
//!     .filter(|e| e["ph"] == "X").map(|e| e["name"].as_str().unwrap()).collect();
//! assert_eq!(names, ["frame", "physics"]); // parents before their children
//! ```

use std::fmt::Write as _;
use std::sync::Arc;

use rustc_hash::FxHashMap;

/// One scope as it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpan {
    /// The scope's name.
    pub name: Arc<str>,
    /// Start, in nanoseconds from the capture's start.
    pub start_ns: u64,
    /// Duration (ns).
    pub dur_ns: u64,
    /// Nesting depth on its thread (0 = outermost).
    pub depth: u32,
}

/// One thread's scopes, in start order (a parent before its children).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceThread {
    /// Unique within the tracker.
    pub tid: u64,
    /// The thread's name.
    pub name: String,
    /// Its scopes.
    pub spans: Vec<TraceSpan>,
}

/// A metric's values over the capture.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceCounter {
    /// The metric.
    pub name: String,
    /// `(ns from the capture's start, value)`, oldest first.
    pub points: Vec<(u64, f64)>,
}

/// A moment worth marking (an alert).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceInstant {
    /// What happened.
    pub name: String,
    /// When (seconds since the Unix epoch).
    pub at_unix_s: f64,
}

/// What [`PerformanceTracker::trace`](crate::PerformanceTracker::trace) captured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceCapture {
    /// When the capture starts (seconds since the Unix epoch); event times count from here.
    pub start_unix_s: f64,
    /// How long it covers (ns).
    pub span_ns: u64,
    /// Every thread that ran a scope in it.
    pub threads: Vec<TraceThread>,
    /// Frame rate, frame time, GPU pass time and iterations over it.
    pub counters: Vec<TraceCounter>,
    /// Scope events the threads dropped because their buffer was full between two collects.
    pub dropped: u64,
}

/// JSON string literal of `s`.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

/// Nanoseconds as microseconds with three decimals, exactly.
fn micros(out: &mut String, ns: u64) {
    let _ = write!(out, "{}.{:03}", ns / 1000, ns % 1000);
}

impl TraceCapture {
    /// Scope events in the capture.
    pub fn span_count(&self) -> usize {
        self.threads.iter().map(|t| t.spans.len()).sum()
    }

    /// The capture in the Chrome Trace Event JSON format (see the [module docs](self)), with
    /// `instants` as global instant events (those outside the capture are left out).
    pub fn chrome_json(&self, instants: &[TraceInstant]) -> String {
        let mut out = String::with_capacity(128 + self.span_count() * 110);
        out.push_str("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"rfm_perf\",\"start_unix_s\":");
        let _ = write!(out, "{}", self.start_unix_s);
        let _ = write!(
            out,
            ",\"dropped_events\":{}}},\"traceEvents\":[",
            self.dropped
        );
        out.push_str(
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"rfm_perf\"}}",
        );
        let mut names: FxHashMap<*const u8, String> = FxHashMap::default();
        for th in &self.threads {
            let _ = write!(
                out,
                ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":{}}}}}",
                th.tid,
                quoted(&th.name)
            );
            // self time: a span's duration less its direct children's
            let mut child = vec![0u64; th.spans.len()];
            let mut open: Vec<usize> = Vec::new();
            for (i, s) in th.spans.iter().enumerate() {
                // close the open spans that do not contain this one
                while let Some(&p) = open.last() {
                    let ps = &th.spans[p];
                    let inside = s.depth > ps.depth
                        && s.start_ns >= ps.start_ns
                        && s.start_ns + s.dur_ns <= ps.start_ns + ps.dur_ns;
                    if inside {
                        break;
                    }
                    open.pop();
                }
                if let Some(&p) = open.last() {
                    child[p] += s.dur_ns;
                }
                open.push(i);
            }
            for (s, child_ns) in th.spans.iter().zip(child) {
                let name = names
                    .entry(s.name.as_ptr())
                    .or_insert_with(|| quoted(&s.name));
                let _ = write!(
                    out,
                    ",\n{{\"name\":{name},\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":",
                    th.tid
                );
                micros(&mut out, s.start_ns);
                out.push_str(",\"dur\":");
                micros(&mut out, s.dur_ns);
                out.push_str(",\"args\":{\"self_us\":");
                micros(&mut out, s.dur_ns.saturating_sub(child_ns));
                out.push_str("}}");
            }
        }
        for c in &self.counters {
            let name = quoted(&c.name);
            for &(t, v) in &c.points {
                if !v.is_finite() {
                    continue;
                }
                let _ = write!(
                    out,
                    ",\n{{\"name\":{name},\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":"
                );
                micros(&mut out, t);
                let _ = write!(out, ",\"args\":{{\"value\":{v}}}}}");
            }
        }
        for i in instants {
            let offset = i.at_unix_s - self.start_unix_s;
            if !(offset >= 0.0 && offset * 1e9 <= self.span_ns as f64) {
                continue;
            }
            let _ = write!(
                out,
                ",\n{{\"name\":{},\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"ts\":",
                quoted(&i.name)
            );
            micros(&mut out, (offset * 1e9).round() as u64);
            out.push('}');
        }
        out.push_str("\n]}\n");
        out
    }
}

/// Checks `json` as a Chrome Trace Event file the way a viewer relies on it: an object with a
/// `traceEvents` array; every event has `name`, `ph`, `pid` and `tid` (and `ts` unless it is
/// metadata); `X` events have a `dur`; per thread, `X` events come in non-decreasing `ts` and
/// nest strictly (a child inside its parent, no partial overlap). Returns the number of `X`
/// events.
///
/// ```
/// let t = rfm_perf_core::PerformanceTracker::new();
/// t.start_timer("a"); t.start_timer("b"); t.end_timer("b"); t.end_timer("a");
/// t.collect_frame();
/// let json = t.trace(std::time::Duration::from_secs(1)).chrome_json(&[]);
/// assert_eq!(rfm_perf_core::trace::validate_chrome_json(&json), Ok(2));
/// let bad = r#"{"traceEvents":[
///   {"name":"a","ph":"X","pid":1,"tid":1,"ts":0,"dur":10},
///   {"name":"b","ph":"X","pid":1,"tid":1,"ts":5,"dur":10}]}"#;
/// assert!(rfm_perf_core::trace::validate_chrome_json(bad).unwrap_err().contains("overlaps"));
/// ```
pub fn validate_chrome_json(json: &str) -> Result<usize, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let events = v["traceEvents"].as_array().ok_or("no traceEvents array")?;
    /// A thread's last start and its open spans' ends and names, in integer nanoseconds.
    type Lane = (i64, Vec<(i64, String)>);
    let mut threads: FxHashMap<(i64, i64), Lane> = FxHashMap::default();
    let ns = |x: &serde_json::Value| x.as_f64().map(|us| (us * 1000.0).round() as i64);
    let mut spans = 0;
    for (i, e) in events.iter().enumerate() {
        let at = |what: &str| format!("event {i} ({e}): {what}");
        let name = e["name"].as_str().ok_or_else(|| at("no name"))?;
        let ph = e["ph"].as_str().ok_or_else(|| at("no ph"))?;
        let pid = e["pid"].as_i64().ok_or_else(|| at("no pid"))?;
        let tid = e["tid"].as_i64().ok_or_else(|| at("no tid"))?;
        if ph == "M" {
            continue;
        }
        let ts = ns(&e["ts"]).ok_or_else(|| at("no ts"))?;
        if ph != "X" {
            continue;
        }
        let dur = ns(&e["dur"]).ok_or_else(|| at("an X event without dur"))?;
        if dur < 0 {
            return Err(at("negative dur"));
        }
        spans += 1;
        let (last, open) = threads.entry((pid, tid)).or_insert((i64::MIN, Vec::new()));
        if ts < *last {
            return Err(at(&format!(
                "starts before the previous event of its thread ({ts} < {last} ns)"
            )));
        }
        *last = ts;
        while open
            .last()
            .is_some_and(|(end, _)| *end <= ts && !(*end == ts && dur == 0))
        {
            open.pop();
        }
        if let Some((end, parent)) = open.last()
            && ts + dur > *end
        {
            return Err(at(&format!(
                "overlaps its parent {parent} (ends {} ns after it)",
                ts + dur - end
            )));
        }
        open.push((ts + dur, name.to_string()));
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, start_ns: u64, dur_ns: u64, depth: u32) -> TraceSpan {
        TraceSpan {
            name: name.into(),
            start_ns,
            dur_ns,
            depth,
        }
    }

    /// A small tree, exported byte for byte.
    #[test]
    fn a_small_tree_exports_exactly() {
        let capture = TraceCapture {
            start_unix_s: 1000.5,
            span_ns: 2_000_000,
            threads: vec![TraceThread {
                tid: 3,
                name: "Main \"thread\"".into(),
                spans: vec![
                    span("frame", 1_000, 1_500_250, 0),
                    span("physics", 2_000, 500_000, 1),
                    span("render", 600_000, 400_000, 1),
                    span("encode", 700_000, 100_001, 2),
                ],
            }],
            counters: vec![TraceCounter {
                name: "frame.fps".into(),
                points: vec![(1_500_000, 60.0), (1_600_000, f64::NAN)],
            }],
            dropped: 0,
        };
        let instants = [
            TraceInstant {
                name: "frame.time_ms is 40.00 ms".into(),
                at_unix_s: 1000.5015,
            },
            TraceInstant {
                name: "outside".into(),
                at_unix_s: 999.0,
            },
        ];
        let json = capture.chrome_json(&instants);
        let expected = concat!(
            "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"rfm_perf\",\"start_unix_s\":1000.5,\"dropped_events\":0},\"traceEvents\":[",
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"rfm_perf\"}},\n",
            "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":3,\"args\":{\"name\":\"Main \\\"thread\\\"\"}},\n",
            "{\"name\":\"frame\",\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":1.000,\"dur\":1500.250,\"args\":{\"self_us\":600.250}},\n",
            "{\"name\":\"physics\",\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":2.000,\"dur\":500.000,\"args\":{\"self_us\":500.000}},\n",
            "{\"name\":\"render\",\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":600.000,\"dur\":400.000,\"args\":{\"self_us\":299.999}},\n",
            "{\"name\":\"encode\",\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":700.000,\"dur\":100.001,\"args\":{\"self_us\":100.001}},\n",
            "{\"name\":\"frame.fps\",\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":1500.000,\"args\":{\"value\":60}},\n",
            "{\"name\":\"frame.time_ms is 40.00 ms\",\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"ts\":1500.000}\n",
            "]}\n"
        );
        assert_eq!(json, expected);
        assert_eq!(validate_chrome_json(&json), Ok(4));
    }

    #[test]
    fn the_validator_refuses_what_viewers_misdraw() {
        let unordered = r#"{"traceEvents":[
            {"name":"a","ph":"X","pid":1,"tid":1,"ts":10,"dur":1},
            {"name":"b","ph":"X","pid":1,"tid":1,"ts":5,"dur":1}]}"#;
        assert!(
            validate_chrome_json(unordered)
                .unwrap_err()
                .contains("starts before")
        );
        let no_dur = r#"{"traceEvents":[{"name":"a","ph":"X","pid":1,"tid":1,"ts":0}]}"#;
        assert!(
            validate_chrome_json(no_dur)
                .unwrap_err()
                .contains("without dur")
        );
        assert!(validate_chrome_json("{}").is_err());
        // other threads do not nest with each other
        let two = r#"{"traceEvents":[
            {"name":"a","ph":"X","pid":1,"tid":1,"ts":0,"dur":10},
            {"name":"b","ph":"X","pid":1,"tid":2,"ts":5,"dur":10}]}"#;
        assert_eq!(validate_chrome_json(two), Ok(2));
    }
}
