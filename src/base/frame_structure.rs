//! Which scopes are the frame's structure and which are waits, when Bevy's own `tracing` spans
//! are recorded as scopes (the `bevy-spans` feature): the spans around the app update, the
//! sub-apps and the schedules only hold the systems and passes that do the work, so their self
//! time is the executor's overhead and its waiting for worker threads, not work. Waits for the
//! GPU (presenting, the headless runner's readback wait) are measured time the GPU's own
//! timings already account for. The frame breakdown and the span coverage read these.

use rfm_perf_core::TraceCoverage;
use rfm_perf_core::trace::TraceCapture;

/// Scope names of Bevy's structural spans, as `rfm_perf::spans` names them.
const STRUCTURE: [&str; 7] = [
    "bevy_app",
    "update",
    "main app",
    "render thread",
    "main_render_schedule",
    "multithreaded executor",
    "calculate conflicting systems",
];

/// Prefixes of structural scope names (spans with a `name` field: each schedule, each sub-app).
const STRUCTURE_PREFIXES: [&str; 2] = ["schedule: ", "sub app: "];

/// Scope names of measured waits for the GPU: Bevy's presenting of the frame, the headless
/// runner's wait for the frame's GPU work, and wgpu's queue submit (a software adapter such as
/// lavapipe runs the GPU's work inside it, on the submitting thread).
pub const GPU_WAIT_SCOPES: [&str; 3] = ["present_frames", GPU_WAIT_SCOPE, "vkQueueSubmit"];

/// The scope the headless runner times its wait for the GPU under.
pub const GPU_WAIT_SCOPE: &str = "frame.gpu_wait";

/// Whether `scope` is one of Bevy's structural spans (app update, sub-app, schedule, executor):
/// its self time is scheduling and waiting for worker threads.
///
/// ```
/// use rfm_perf::is_frame_structure;
/// assert!(is_frame_structure("schedule: Update"));
/// assert!(is_frame_structure("main app"));
/// assert!(!is_frame_structure("bevy_time::time_system"));
/// ```
pub fn is_frame_structure(scope: &str) -> bool {
    STRUCTURE.contains(&scope) || STRUCTURE_PREFIXES.iter().any(|p| scope.starts_with(p))
}

/// Whether `scope` is a measured wait for the GPU ([`GPU_WAIT_SCOPES`]).
///
/// ```
/// assert!(rfm_perf::is_gpu_wait("present_frames"));
/// ```
pub fn is_gpu_wait(scope: &str) -> bool {
    GPU_WAIT_SCOPES.contains(&scope)
}

/// How much of the frames in `capture` (Bevy's `update` spans) named work and GPU waits
/// explain: the share of their wall time during which some thread runs a scope that is not
/// frame structure ([`TraceCapture::coverage`]). With Bevy's spans recorded (the `bevy-spans`
/// feature) this is how much of the frame the scope table and the flame graph account for.
///
/// ```
/// let t = rfm_perf::PerformanceTracker::new();
/// t.start_timer("update");
/// t.start_timer("schedule: Update");
/// t.start_timer("my_game::physics");
/// std::thread::sleep(std::time::Duration::from_millis(4));
/// t.end_timer("my_game::physics");
/// t.end_timer("schedule: Update");
/// t.end_timer("update");
/// t.collect_frame();
/// let c = rfm_perf::span_coverage(&t.trace(std::time::Duration::from_secs(10)));
/// assert_eq!(c.frames, 1);
/// assert!(c.ratio().unwrap() > 0.5);
/// ```
pub fn span_coverage(capture: &TraceCapture) -> TraceCoverage {
    capture.coverage(FRAME_SPAN, |scope| !is_frame_structure(scope))
}

/// Bevy's span around one `App::update`: a frame.
pub const FRAME_SPAN: &str = "update";
