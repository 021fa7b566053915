//! System sampling: per-core CPU, memory, disk I/O and I/O pressure on a background thread
//! (so the frame never waits on `/proc`), and allocation counters per frame.

pub mod alloc;
mod io_pressure;
mod sampler;

pub use io_pressure::parse_io_pressure;
pub use sampler::{SystemSampler, SystemSources};
