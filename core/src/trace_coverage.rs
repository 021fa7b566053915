//! How much of the frames in a [`TraceCapture`] its scopes explain: the share of the frames'
//! wall time during which some thread's innermost open scope is one that does work (not one
//! that only holds others, such as a scheduler's span that waits for worker threads).

use serde::{Deserialize, Serialize};

use crate::trace::{TraceCapture, TraceSpan};

/// What [`TraceCapture::coverage`] measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceCoverage {
    /// Frames (scopes named as the frame) in the capture.
    pub frames: usize,
    /// Their wall time (ns).
    pub frame_ns: u64,
    /// The part of it during which some thread's innermost scope explains the time (ns).
    pub explained_ns: u64,
}

impl TraceCoverage {
    /// `explained_ns / frame_ns` (0–1), `None` without frames.
    pub fn ratio(&self) -> Option<f64> {
        (self.frame_ns > 0).then(|| self.explained_ns as f64 / self.frame_ns as f64)
    }
}

impl TraceCapture {
    /// The share of the frames' time (scopes named `frame`, on whichever thread) during which
    /// at least one thread's innermost open scope is one `explains` accepts. A thread inside a
    /// scope that `explains` rejects (a scheduler waiting for its workers) is explained by what
    /// the other threads run meanwhile; a moment when no thread runs an explaining scope is not.
    ///
    /// ```
    /// let t = rfm_perf_core::PerformanceTracker::new();
    /// t.start_timer("frame");
    /// t.start_timer("physics");
    /// std::thread::sleep(std::time::Duration::from_millis(4));
    /// t.end_timer("physics");
    /// t.end_timer("frame");
    /// t.collect_frame();
    /// let c = t.trace(std::time::Duration::from_secs(10)).coverage("frame", |n| n != "frame");
    /// assert_eq!(c.frames, 1);
    /// assert!(c.ratio().unwrap() > 0.5);
    /// ```
    pub fn coverage(&self, frame: &str, explains: impl Fn(&str) -> bool) -> TraceCoverage {
        let mut frames: Vec<(u64, u64)> = self
            .threads
            .iter()
            .flat_map(|t| &t.spans)
            .filter(|s| s.name.as_ref() == frame)
            .map(|s| (s.start_ns, s.start_ns + s.dur_ns))
            .collect();
        let count = frames.len();
        let frames = merge(&mut frames);
        let mut explained: Vec<(u64, u64)> = self
            .threads
            .iter()
            .flat_map(|t| innermost_segments(&t.spans, &explains))
            .collect();
        let explained = merge(&mut explained);
        TraceCoverage {
            frames: count,
            frame_ns: frames.iter().map(|(a, b)| b - a).sum(),
            explained_ns: overlap(&frames, &explained),
        }
    }
}

/// The stretches of one thread's time whose innermost open span `explains` accepts. `spans`
/// are in start order, parents before children; a child reaching past its parent is cut at the
/// parent's end.
fn innermost_segments(spans: &[TraceSpan], explains: &impl Fn(&str) -> bool) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut push = |a: u64, b: u64| {
        if b <= a {
            return;
        }
        match out.last_mut() {
            Some(last) if last.1 >= a => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    };
    // open spans: (end, explains); the top is the innermost
    let mut stack: Vec<(u64, bool)> = Vec::new();
    let mut cursor = 0;
    for s in spans {
        while let Some(&(end, ex)) = stack.last() {
            if end > s.start_ns {
                break;
            }
            if ex {
                push(cursor, end);
            }
            cursor = cursor.max(end);
            stack.pop();
        }
        if let Some(&(_, ex)) = stack.last()
            && ex
        {
            push(cursor, s.start_ns);
        }
        cursor = cursor.max(s.start_ns);
        let end = s.start_ns + s.dur_ns;
        let end = stack.last().map_or(end, |&(parent, _)| end.min(parent));
        stack.push((end, explains(&s.name)));
    }
    while let Some((end, ex)) = stack.pop() {
        if ex {
            push(cursor, end);
        }
        cursor = cursor.max(end);
    }
    out
}

/// Sorts and merges intervals into disjoint ones.
fn merge(v: &mut [(u64, u64)]) -> Vec<(u64, u64)> {
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for &(a, b) in v.iter() {
        match out.last_mut() {
            Some(last) if last.1 >= a => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Total length of the intersection of two sorted disjoint interval lists.
fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> u64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        total += hi.saturating_sub(lo);
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceThread;

    fn span(name: &str, start: u64, end: u64, depth: u32) -> TraceSpan {
        TraceSpan {
            name: name.into(),
            start_ns: start,
            dur_ns: end - start,
            depth,
        }
    }

    fn thread(tid: u64, spans: Vec<TraceSpan>) -> TraceThread {
        TraceThread {
            tid,
            name: format!("t{tid}"),
            spans,
        }
    }

    #[test]
    fn the_innermost_span_decides_and_other_threads_explain_waits() {
        let structure = |n: &str| n.starts_with("schedule") || n == "update";
        // main thread: frame 0–100; a schedule 0–90 that runs physics 10–30 itself and waits
        // 30–90 (a worker runs ai 30–70 meanwhile); a GPU wait 90–100
        let capture = TraceCapture {
            span_ns: 100,
            threads: vec![
                thread(
                    1,
                    vec![
                        span("update", 0, 100, 0),
                        span("schedule: Update", 0, 90, 1),
                        span("physics", 10, 30, 2),
                        span("frame.gpu_wait", 90, 100, 1),
                    ],
                ),
                thread(2, vec![span("ai", 30, 70, 0)]),
            ],
            ..Default::default()
        };
        let c = capture.coverage("update", |n| !structure(n));
        assert_eq!(c.frames, 1);
        assert_eq!(c.frame_ns, 100);
        // explained: physics 10–30, ai 30–70, the wait 90–100 → 70 of 100
        assert_eq!(c.explained_ns, 70);
        assert_eq!(c.ratio(), Some(0.7));
        // nothing explained where no frame runs, and no frames: no ratio
        assert_eq!(capture.coverage("no such frame", |_| true).ratio(), None);
    }

    #[test]
    fn a_child_past_its_parent_is_cut_and_siblings_do_not_leak() {
        let spans = vec![
            span("work", 0, 50, 0),
            span("wait", 10, 60, 1), // reaches past its parent
            span("work2", 70, 80, 0),
        ];
        let seg = innermost_segments(&spans, &|n: &str| n != "wait");
        assert_eq!(seg, vec![(0, 10), (70, 80)]);
        assert_eq!(merge(&mut [(5, 9), (0, 3), (2, 4)]), vec![(0, 4), (5, 9)]);
        assert_eq!(overlap(&[(0, 10), (20, 30)], &[(5, 25)]), 10);
    }
}
