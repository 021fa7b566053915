//! The base every plugin builds on, and that builds on no plugin: the tracker resource, the
//! shared config, the system sets, the tunable-parameter registry, the counting allocator, the
//! messages, and the resources one plugin publishes for others to read (health thresholds,
//! insights, the GPU summary and the pass's cost, the API status). Everything here is re-exported at the crate root.

mod adaptive_quality;
pub mod alloc;
mod api_config;
mod background;
mod config;
mod cost_estimate;
mod frame_metrics;
mod frame_structure;
mod health;
pub mod insights;
mod interval;
mod messages;
mod pass_cost;
mod plugin;
mod published;
mod sets;
mod tracker;
pub mod tunables;

pub use adaptive_quality::{AdaptiveQuality, AdaptiveStatus};
pub use api_config::{ApiConfig, ApiConfigError, OpenBrowser};
pub(crate) use background::BackgroundJob;
pub use config::{DEFAULT_METRICS_TO_SHOW, PerfConfig};
pub use cost_estimate::{CostModelState, TunableValue, WhatIf, WhatIfError};
pub use frame_metrics::{FRAME_METRICS, FrameWindow, PROCESS_ALLOC_BYTES_PER_FRAME};
pub use frame_structure::{
    FRAME_SPAN, GPU_WAIT_SCOPE, GPU_WAIT_SCOPES, is_frame_structure, is_gpu_wait, span_coverage,
};
pub use health::{Health, HealthThreshold, HealthThresholds};
pub use insights::{
    Alert, AlertRulesReport, AlertRulesState, FrameBreakdown, FrameShare, Insights, OutcomeVerdict,
    ParameterChange, PredictedGain, Suggestion, SuggestionOutcome,
};
pub(crate) use interval::update_due;
pub use messages::{
    AlertCleared, AlertRaised, ApplyTunable, PassTimed, TunableReply, TunableRequests,
    TunableSender,
};
pub use pass_cost::{
    COST_TILE_SIZE, CostTiles, ESCAPE_BUCKETS, EscapeHistogram, HEAT_STOPS, PassCost, heat_color,
    heat_iterations, heat_position,
};
pub use plugin::RfmPerfBasePlugin;
pub use published::{ApiStatus, GpuPassStatus, GpuSummary};
pub use sets::RfmPerfSystems;
pub use tracker::PerfTracker;
pub use tunables::{Tunable, TunableError, Tunables};
