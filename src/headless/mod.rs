//! Rendering without a window: a render [`App`] with no winit and no surface (lavapipe works)
//! assembled from several plugins (Bevy's, the base, the fractal pass, optionally the API),
//! reading GPU results back, and the fractal benchmark that `fractal_explorer --headless` runs
//! along a fixed, deterministic zoom path.
//!
//! ```no_run
//! use rfm_perf::headless::{BenchmarkOptions, run_benchmark};
//! let report = run_benchmark(&BenchmarkOptions { frames: 60, ..Default::default() }, |line| println!("{line}"))?;
//! println!("{}", report.summary_table());
//! # Ok::<(), rfm_perf::headless::HeadlessError>(())
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::app::PluginsState;
use bevy::prelude::*;
use bevy::render::gpu_readback::{Readback, ReadbackComplete};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use rfm_perf_core::PerformanceTracker;

pub use rfm_perf_core::stats::Percentiles;

use crate::RfmPerfPlugin;
use crate::base::GpuPassStatus;
use crate::fractal::gpu::{
    CurrentGeneration, FractalGpuPlugin, FractalSettings, FractalTarget, GpuResults, ResultsLayout,
};

/// What went wrong in a headless run.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The fractal shader did not build.
    #[error("the fractal pass failed: {0}")]
    PassFailed(String),
    /// No result within the frame budget.
    #[error("no GPU result after {0} frames")]
    Timeout(u32),
    /// Writing the report failed.
    #[error("could not write the report to {path}: {source}")]
    Report {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes render work finish inside the frame that submitted it, so a frame's wall time includes
/// its GPU time (there is no swapchain to pace a windowless app).
#[derive(Resource, Clone, Copy)]
struct WaitForGpu;

fn wait_for_gpu(device: Res<RenderDevice>) {
    rfm_perf_core::perf_scope!(crate::base::GPU_WAIT_SCOPE);
    let _ = device.poll(bevy::render::render_resource::PollType::wait_indefinitely());
}

/// A windowless render app with `RfmPerfPlugin` (no dashboard, no API) and `settings`, ready to
/// update (renderer initialised, plugins finished). `tracker` is the tracker to record into.
///
/// ```no_run
/// use rfm_perf::fractal::gpu::FractalSettings;
/// let mut app = rfm_perf::headless::headless_app(FractalSettings::default(), rfm_perf::PerformanceTracker::new());
/// app.update();
/// ```
pub fn headless_app(settings: FractalSettings, tracker: PerformanceTracker) -> App {
    headless_app_with(
        settings,
        RfmPerfPlugin {
            dashboard: false,
            api: false,
            system_sampling: false,
            tracker: Some(tracker),
            ..RfmPerfPlugin::new()
        },
        FractalGpuPlugin::default(),
    )
}

/// [`headless_app`] with a given `RfmPerfPlugin` (its `fractal` field is ignored: `pass` is the
/// pass; tests install a broken shader this way) — e.g. with the API on.
pub fn headless_app_with(
    settings: FractalSettings,
    perf: RfmPerfPlugin,
    pass: FractalGpuPlugin,
) -> App {
    // no LogPlugin here: the process's subscriber is the span layer (the first app in a
    // process installs it; later ones find it there)
    let _ = bevy::log::tracing::subscriber::set_global_default(
        bevy::log::tracing_subscriber::layer::SubscriberExt::with(
            bevy::log::tracing_subscriber::registry(),
            crate::spans::SpanLayer::global(),
        ),
    );
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .disable::<WinitPlugin>()
            // render in step with `app.update()`, so readbacks belong to the frame just run
            .disable::<bevy::render::pipelined_rendering::PipelinedRenderingPlugin>()
            .disable::<bevy::log::LogPlugin>(),
    )
    .add_plugins(RfmPerfPlugin {
        fractal: false,
        ..perf
    })
    .add_plugins(pass)
    .insert_resource(settings);
    app.insert_resource(WaitForGpu);
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app.add_systems(Render, wait_for_gpu.in_set(RenderSystems::Cleanup));
    }
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
    app
}

/// The render device and queue of a headless app (for direct GPU work such as
/// [`df64_selftest`](crate::fractal::gpu::df64_selftest)).
pub fn render_device(app: &App) -> Option<(RenderDevice, RenderQueue)> {
    let main = app.world();
    if let (Some(d), Some(q)) = (
        main.get_resource::<RenderDevice>(),
        main.get_resource::<RenderQueue>(),
    ) {
        return Some((d.clone(), q.clone()));
    }
    let world = app.get_sub_app(RenderApp)?.world();
    Some((
        world.get_resource::<RenderDevice>()?.clone(),
        world.get_resource::<RenderQueue>()?.clone(),
    ))
}

/// Updates `app` until the pass has produced the full results (counts included) for the current
/// settings, at most `max_frames` frames. Switches on [`FractalSettings::pixel_counts`] (and
/// leaves it on) when it is off.
///
/// # Errors
/// [`HeadlessError::PassFailed`] when the shader failed, [`HeadlessError::Timeout`] otherwise.
pub fn read_results(app: &mut App, max_frames: u32) -> Result<GpuResults, HeadlessError> {
    let slot: Arc<Mutex<Option<GpuResults>>> = Arc::default();
    let mut reader = None;
    if let Some(mut s) = app.world_mut().get_resource_mut::<FractalSettings>()
        && !s.pixel_counts
    {
        s.pixel_counts = true;
    }
    for _ in 0..max_frames {
        app.update();
        if let GpuPassStatus::Failed(e) = app.world().resource::<GpuPassStatus>() {
            return Err(HeadlessError::PassFailed(e.clone()));
        }
        let Some(target) = app.world().get_resource::<FractalTarget>().cloned() else {
            continue;
        };
        if reader.is_none() {
            let slot = slot.clone();
            let layout = ResultsLayout::new(target.size);
            let e = app
                .world_mut()
                .spawn(Readback::buffer(target.results.clone()))
                .observe(move |ev: On<ReadbackComplete>| {
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) =
                        GpuResults::from_bytes(&ev.data, layout);
                })
                .id();
            reader = Some(e);
        }
        let current = app.world().resource::<CurrentGeneration>().0;
        let got = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(r) = got
            && current != 0
            && r.generation == current
            && r.counts.len() == (target.size.x * target.size.y) as usize
        {
            if let Some(e) = reader {
                app.world_mut().despawn(e);
            }
            return Ok(r);
        }
    }
    if let Some(e) = reader {
        app.world_mut().despawn(e);
    }
    Err(HeadlessError::Timeout(max_frames))
}

/// Updates `app` until the pass has rendered the current settings and returns the output image
/// as sRGB RGBA8 (what the screen shows), at most `max_frames` frames.
///
/// # Errors
/// As [`read_results`].
pub fn read_image(app: &mut App, max_frames: u32) -> Result<Image, HeadlessError> {
    read_results(app, max_frames)?;
    let target = app.world().resource::<FractalTarget>().clone();
    let slot: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let s = slot.clone();
    let e = app
        .world_mut()
        .spawn(Readback::texture(target.image.clone()))
        .observe(move |ev: On<ReadbackComplete>| {
            *s.lock().unwrap_or_else(|e| e.into_inner()) = Some(ev.data.clone());
        })
        .id();
    for _ in 0..max_frames {
        app.update();
        if let Some(bytes) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            app.world_mut().despawn(e);
            // texture readbacks pad each row to a multiple of 256 bytes
            let row = 4 * target.size.x as usize;
            let padded = bytes.len() / (target.size.y as usize).max(1);
            let pixels: Vec<u8> = bytes
                .chunks_exact(padded.max(row))
                .flat_map(|r| r[..row].iter().copied())
                .collect();
            let srgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    [
                        linear_to_srgb(p[0]),
                        linear_to_srgb(p[1]),
                        linear_to_srgb(p[2]),
                        p[3],
                    ]
                })
                .collect();
            return Ok(Image::new(
                bevy::render::render_resource::Extent3d {
                    width: target.size.x,
                    height: target.size.y,
                    depth_or_array_layers: 1,
                },
                bevy::render::render_resource::TextureDimension::D2,
                srgb,
                bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb,
                bevy::asset::RenderAssetUsages::MAIN_WORLD,
            ));
        }
    }
    app.world_mut().despawn(e);
    Err(HeadlessError::Timeout(max_frames))
}

fn linear_to_srgb(v: u8) -> u8 {
    let c = f32::from(v) / 255.0;
    let s = if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Saves an RGBA8 image as PNG.
///
/// # Errors
/// The encoder's or file system's message.
pub fn save_png(image: Image, path: &std::path::Path) -> Result<(), String> {
    image
        .try_into_dynamic()
        .map_err(|e| e.to_string())?
        .to_rgba8()
        .save(path)
        .map_err(|e| e.to_string())
}

mod benchmark;
mod report;

pub use benchmark::{BenchmarkOptions, BenchmarkPath, DEEP_PATH_WIDTH, run_benchmark, zoom_path};
pub use report::{AdaptiveReport, BenchmarkReport, CostModelReport, FrameRecord};
