//! Status resources one plugin writes and others read: the GPU and its pass (written by the
//! fractal pass, read by the dashboard and the API) and the API server's state (written by the
//! API, read by the dashboard and the headless runner).

use std::net::SocketAddr;

use bevy::prelude::Resource;
use serde::Serialize;

/// The GPU the render app runs on, and what it can report. Written by the fractal pass once
/// the renderer has started; absent in apps without one.
///
/// ```
/// let gpu = rfm_perf::GpuSummary::default();
/// assert!(gpu.adapter.is_empty() && gpu.allocator_bytes.is_none());
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Serialize)]
pub struct GpuSummary {
    /// Adapter name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub adapter: String,
    /// Backend (`Vulkan`, `Metal`, …).
    pub backend: String,
    /// Device type (`Cpu`, `DiscreteGpu`, …).
    pub device_type: String,
    /// Driver and its version.
    pub driver: String,
    /// Whether the pass's GPU time can be measured (timestamp queries).
    pub timestamp_queries: bool,
    /// Why `render.fractal_gpu_ms` is absent, when it is.
    pub gpu_time_missing_reason: Option<String>,
    /// Bytes the fractal pass holds on the GPU (its texture and buffers; exact).
    pub fractal_bytes: u64,
    /// Bytes the device's allocator reports in use, where the backend gives a report.
    pub allocator_bytes: Option<u64>,
    /// Nanoseconds per timestamp tick.
    pub timestamp_period_ns: f32,
}

/// Where the GPU fractal pass is.
///
/// ```
/// use rfm_perf::GpuPassStatus;
/// assert!(GpuPassStatus::Failed("x".into()).is_error());
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum GpuPassStatus {
    /// No fractal settings: nothing to render.
    #[default]
    Idle,
    /// The shader is being compiled.
    Compiling,
    /// The pass is dispatching.
    Running,
    /// The pipeline could not be built; the compiler's message.
    Failed(String),
    /// No render app (e.g. `MinimalPlugins`): the pass cannot run.
    NoRenderer,
}

impl GpuPassStatus {
    /// Whether this is [`GpuPassStatus::Failed`].
    pub fn is_error(&self) -> bool {
        matches!(self, GpuPassStatus::Failed(_))
    }
}

/// State of the API server. The base starts with [`ApiStatus::Disabled`]; the API plugin
/// replaces it.
///
/// ```
/// let s = rfm_perf::ApiStatus::Disabled;
/// assert!(s.address().is_none());
/// ```
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub enum ApiStatus {
    /// Not configured to run.
    #[default]
    Disabled,
    /// Refused: the configuration is invalid (the message says why).
    Invalid(String),
    /// Could not bind (e.g. the port is taken); the app runs on without the API.
    BindFailed(String),
    /// Serving on this address (the real port when port 0 was asked for).
    Running(SocketAddr),
}

impl ApiStatus {
    /// The bound address while running.
    pub fn address(&self) -> Option<SocketAddr> {
        match self {
            ApiStatus::Running(a) => Some(*a),
            _ => None,
        }
    }

    /// One line for people: where the API serves, or why it does not.
    ///
    /// ```
    /// let s = rfm_perf::ApiStatus::Running("127.0.0.1:8501".parse().unwrap());
    /// assert_eq!(s.describe(), "API: http://127.0.0.1:8501/");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            ApiStatus::Running(addr) => format!("API: http://{addr}/"),
            ApiStatus::Disabled => "API: off".into(),
            ApiStatus::Invalid(e) => format!("API refused: {e}"),
            ApiStatus::BindFailed(e) => format!("API not running: {e}"),
        }
    }
}
