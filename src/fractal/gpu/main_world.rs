//! The pass in the main world: the target follows the render size, the shader parameters are
//! built with a generation number, the GPU's totals and timings are read back, and the render
//! world's findings are copied into [`GpuPassStatus`] and [`GpuSummary`].

use std::collections::VecDeque;

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::gpu_readback::{Readback, ReadbackComplete};
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};
use bevy::render::storage::ShaderBuffer;
use rfm_perf_core::names;

use super::plugin::RenderReport;
use super::reference::{OrbitBindings, ReferenceOrbits};
use super::render_world::PassVariant;
use super::{
    Coloring, CurrentGeneration, FractalFrameStats, FractalSettings, FractalTarget, FractalUniform,
    GpuResults, MAX_ITER_LIMIT, ResultsLayout,
};
use crate::base::{GpuPassStatus, GpuSummary, PassCost, PassTimed, PerfTracker};
use crate::fractal::Precision;
use crate::fractal::metrics::{
    FRACTAL_COST_HOTTEST_SHARE, FRACTAL_ESCAPE_P50, FRACTAL_ESCAPE_P99, FRACTAL_MAX_ITER,
    FRACTAL_PIXELS, FRACTAL_ZOOM,
};

/// Main-world bookkeeping: generations and what each one rendered.
#[derive(Resource, Default)]
pub(super) struct Generations {
    current: u32,
    /// What the current generation renders: settings, size and the reference orbit's serial.
    last: Option<(FractalSettings, UVec2, u64)>,
    recent: VecDeque<Rendered>,
}

/// What one generation rendered.
#[derive(Clone, Copy, Debug)]
struct Rendered {
    generation: u32,
    layout: ResultsLayout,
    max_iter: u32,
    heatmap: bool,
    precision: Precision,
    interior_check: bool,
}

/// What the render world needs for this frame.
#[derive(Resource, Clone)]
pub(super) struct ExtractedFractal {
    pub(super) uniform: FractalUniform,
    pub(super) variant: PassVariant,
    pub(super) image: Handle<Image>,
    pub(super) results: Handle<ShaderBuffer>,
    pub(super) timings: Handle<ShaderBuffer>,
    /// The reference orbit (a placeholder outside perturbation).
    pub(super) orbit: OrbitBindings,
    pub(super) size: UVec2,
}

#[derive(Component)]
pub(super) struct StatsReadback;

pub(super) fn new_target(
    images: &mut Assets<Image>,
    buffers: &mut Assets<ShaderBuffer>,
    size: UVec2,
) -> FractalTarget {
    let mut image = Image::new_uninit(
        Extent3d {
            width: size.x,
            height: size.y,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::RENDER_WORLD,
    );
    image.texture_descriptor.usage =
        TextureUsages::STORAGE_BINDING | TextureUsages::TEXTURE_BINDING | TextureUsages::COPY_SRC;
    image.sampler = ImageSampler::linear();
    let bytes = ResultsLayout::new(size).total_bytes() as usize;
    // zero-filled: the shader reads its opaque zero (word 4) from here
    let buffer = ShaderBuffer::new(&vec![0u8; bytes], RenderAssetUsages::RENDER_WORLD);
    FractalTarget {
        image: images.add(image),
        results: buffers.add(buffer),
        timings: buffers.add(ShaderBuffer::new(
            &[0; TIMINGS_BYTES],
            RenderAssetUsages::RENDER_WORLD,
        )),
        size,
    }
}

/// Keeps [`FractalTarget`] at the settings' render size, and the stats readback on its buffer.
pub(super) fn sync_target(
    mut commands: Commands,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut images: ResMut<Assets<Image>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    readbacks: Query<Entity, With<StatsReadback>>,
) {
    let Some(settings) = settings else {
        if target.is_some() {
            commands.remove_resource::<FractalTarget>();
            readbacks.iter().for_each(|e| commands.entity(e).despawn());
        }
        return;
    };
    let size = settings.render_size();
    if target.as_ref().is_some_and(|t| t.size == size) {
        return;
    }
    if let Some(old) = &target {
        images.remove(&old.image);
        buffers.remove(&old.results);
        buffers.remove(&old.timings);
    }
    readbacks.iter().for_each(|e| commands.entity(e).despawn());
    let new = new_target(&mut images, &mut buffers, size);
    commands
        .spawn((
            Readback::buffer_range(
                new.results.clone(),
                0,
                ResultsLayout::new(size).summary_bytes(),
            ),
            StatsReadback,
        ))
        .observe(on_stats_readback);
    commands
        .spawn((Readback::buffer(new.timings.clone()), StatsReadback))
        .observe(on_timing_readback);
    commands.insert_resource(new);
}

/// Share of the tiles whose cost `fractal.cost_hottest_share` sums.
const HOTTEST_TILES: f64 = 0.1;

pub(super) fn on_stats_readback(
    event: On<ReadbackComplete>,
    generations: Res<Generations>,
    mut stats: ResMut<FractalFrameStats>,
    mut cost: ResMut<PassCost>,
    tracker: Option<Res<PerfTracker>>,
) {
    // frames before the first dispatch read back zeros (generation 0 is never used)
    let Some(generation) = event
        .data
        .get(12..16)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap_or_default()))
    else {
        return;
    };
    let Some(rendered) = generations
        .recent
        .iter()
        .find(|g| g.generation == generation)
        .copied()
    else {
        return;
    };
    let Some(r) = GpuResults::from_bytes(&event.data, rendered.layout) else {
        return;
    };
    let pixels = u64::from(rendered.layout.size.x) * u64::from(rendered.layout.size.y);
    *stats = FractalFrameStats {
        generation: r.generation,
        iterations: r.iterations,
        iterations_computed: r.iterations_computed,
        escaped: r.escaped,
        pixels,
        max_iter: rendered.max_iter,
        frames: stats.frames + 1,
    };
    *cost = PassCost {
        generation: r.generation,
        max_iter: rendered.max_iter,
        pixels,
        escaped_iterations: r
            .iterations
            .saturating_sub(pixels.saturating_sub(r.escaped) * u64::from(rendered.max_iter)),
        iterations_computed: r.iterations_computed,
        arithmetic: rendered.precision.name(),
        interior_check: rendered.interior_check,
        heatmap: rendered.heatmap,
        histogram: r.histogram(rendered.max_iter),
        tiles: r.tiles(rendered.layout),
    };
    if let Some(t) = tracker {
        if let (Some(p50), Some(p99)) =
            (cost.histogram.quantile(0.5), cost.histogram.quantile(0.99))
        {
            t.track_metric(FRACTAL_ESCAPE_P50, f64::from(p50));
            t.track_metric(FRACTAL_ESCAPE_P99, f64::from(p99));
        }
        t.track_metric(
            FRACTAL_COST_HOTTEST_SHARE,
            100.0 * cost.tiles.share_of_hottest(HOTTEST_TILES),
        );
        t.track_metric(names::FRACTAL_ITERATIONS, stats.iterations as f64);
        t.track_metric(
            names::FRACTAL_ITERATIONS_COMPUTED,
            stats.iterations_computed as f64,
        );
        t.track_metric(
            names::FRACTAL_ITERATIONS_PER_PIXEL,
            stats.iterations_per_pixel(),
        );
        t.track_metric(names::FRACTAL_ESCAPED_RATIO, stats.escaped_ratio());
    }
}

/// Bytes of the timings buffer: the begin and end timestamps (u64 each), then the generation
/// of the frame they timed (u32, copied from the results buffer after the pass) and padding.
pub(super) const TIMINGS_BYTES: usize = 32;

/// The pass's GPU time from its two timestamps, with the generation it timed.
pub(super) fn on_timing_readback(
    event: On<ReadbackComplete>,
    info: Res<GpuSummary>,
    tracker: Option<Res<PerfTracker>>,
    mut timed: MessageWriter<PassTimed>,
) {
    let word = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            event.data.get(at..at + 8)?.try_into().ok()?,
        ))
    };
    let (Some(tracker), Some(begin), Some(end), Some(generation)) = (
        tracker,
        word(0),
        word(8),
        event
            .data
            .get(16..20)
            .and_then(|w| Some(u32::from_le_bytes(w.try_into().ok()?))),
    ) else {
        return;
    };
    if begin == 0 || end <= begin || info.timestamp_period_ns <= 0.0 {
        return;
    }
    let ms = (end - begin) as f64 * f64::from(info.timestamp_period_ns) / 1e6;
    // GPU utilization sums every render pass (the bridge, from Bevy's render diagnostics)
    tracker.track_metric(names::RENDER_FRACTAL_GPU_MS, ms);
    if generation != 0 {
        timed.write(PassTimed {
            generation,
            gpu_ms: ms,
        });
    }
}

/// Builds this frame's shader parameters (new generation when anything changed). A
/// perturbation frame whose reference orbit is not ready yet dispatches nothing: the image keeps
/// the previous frame.
#[expect(clippy::too_many_arguments, reason = "a system's inputs")]
pub(super) fn build_frame(
    mut commands: Commands,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut generations: ResMut<Generations>,
    mut current: ResMut<CurrentGeneration>,
    mut orbits: ResMut<ReferenceOrbits>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut images: ResMut<Assets<Image>>,
    tracker: Option<Res<PerfTracker>>,
) {
    rfm_perf_core::perf_scope!("fractal.prepare");
    let (Some(settings), Some(target)) = (settings, target) else {
        commands.remove_resource::<ExtractedFractal>();
        return;
    };
    let precision = settings.precision();
    // per frame: the orbit is looked up only for perturbation
    let active = precision
        .is_perturbation()
        .then(|| orbits.serving(&settings))
        .flatten();
    // a perturbation frame waiting for its orbit still gets its own generation, so nothing
    // takes the previous frame's results for it
    let serial = match (precision.is_perturbation(), active) {
        (false, _) => 0,
        (true, Some(a)) => a.serial,
        (true, None) => u64::MAX,
    };
    let reference = active.map(|a| {
        (
            a.orbit.point,
            a.orbit.points.len() as u32,
            a.bindings.clone(),
        )
    });
    let key = (settings.clone(), target.size, serial);
    if generations.last.as_ref() != Some(&key) {
        generations.current = generations.current.wrapping_add(1).max(1);
        let entry = Rendered {
            generation: generations.current,
            layout: ResultsLayout::new(target.size),
            max_iter: settings.params.max_iter.clamp(1, MAX_ITER_LIMIT),
            heatmap: settings.coloring == Coloring::Cost,
            precision,
            interior_check: settings.interior_check,
        };
        generations.recent.push_back(entry);
        if generations.recent.len() > 16 {
            generations.recent.pop_front();
        }
        generations.last = Some(key);
        current.0 = generations.current;
    }
    let (reference, orbit) = match (precision.is_perturbation(), reference) {
        (false, _) => (None, orbits.placeholder(&mut buffers, &mut images)),
        (true, Some((point, len, buffer))) => (Some((point, len)), buffer),
        (true, None) => {
            commands.remove_resource::<ExtractedFractal>();
            return;
        }
    };
    let uniform = FractalUniform::new(
        &settings,
        target.size,
        generations.current,
        reference.as_ref().map(|(point, len)| (point, *len)),
    );
    if let Some(t) = tracker {
        t.track_metric(
            FRACTAL_PIXELS,
            f64::from(target.size.x) * f64::from(target.size.y),
        );
        t.track_metric(FRACTAL_MAX_ITER, f64::from(uniform.max_iter));
        t.track_metric(FRACTAL_ZOOM, settings.zoom());
    }
    commands.insert_resource(ExtractedFractal {
        uniform,
        variant: PassVariant {
            precision,
            kind: super::kind_index(&settings.params.kind),
            cost_colouring: settings.coloring == Coloring::Cost,
            pixel_counts: settings.pixel_counts,
        },
        image: target.image.clone(),
        results: target.results.clone(),
        timings: target.timings.clone(),
        orbit,
        size: target.size,
    });
}

/// Copies the render world's findings (pipeline state, adapter) into main-world resources.
pub(super) fn sync_status(
    shared: Res<RenderReport>,
    settings: Option<Res<FractalSettings>>,
    target: Option<Res<FractalTarget>>,
    mut status: ResMut<GpuPassStatus>,
    mut info: ResMut<GpuSummary>,
    tracker: Option<Res<PerfTracker>>,
    mut seen_gpu_version: Local<u64>,
) {
    let mut state = shared.lock();
    // per frame: compare first, allocate only when something changed
    let up_to_date = match (&state.pipeline, settings.is_some(), &*status) {
        (Some(Err(e)), _, GpuPassStatus::Failed(shown)) => e == shown,
        (Some(Err(_)), _, _) => false,
        (_, false, GpuPassStatus::Idle)
        | (None, true, GpuPassStatus::Compiling)
        | (Some(Ok(())), true, GpuPassStatus::Running) => true,
        _ => false,
    };
    if !up_to_date {
        *status = match (&state.pipeline, settings.is_some()) {
            (Some(Err(e)), _) => GpuPassStatus::Failed(e.clone()),
            (_, false) => GpuPassStatus::Idle,
            (None, true) => GpuPassStatus::Compiling,
            (Some(Ok(())), true) => GpuPassStatus::Running,
        };
    }
    if let (Some(ms), Some(t)) = (state.encode_ms.take(), &tracker) {
        t.track_metric(names::RENDER_FRACTAL_CPU_MS, ms);
    }
    if state.gpu_version != *seen_gpu_version {
        *seen_gpu_version = state.gpu_version;
        // baselines and reports are keyed by the GPU too
        if let Some(t) = &tracker
            && !state.gpu.adapter.is_empty()
        {
            t.update_hardware(|h| {
                h.gpu_adapter = state.gpu.adapter.clone();
                h.gpu_backend = state.gpu.backend.clone();
                h.gpu_driver = state.gpu.driver.clone();
            });
        }
        let bytes = info.fractal_bytes;
        *info = GpuSummary {
            fractal_bytes: bytes,
            ..state.gpu.clone()
        };
    }
    let bytes = target.map_or(0, |t| {
        let px = u64::from(t.size.x) * u64::from(t.size.y);
        px * 4 + ResultsLayout::new(t.size).total_bytes()
    });
    if info.fractal_bytes != bytes {
        info.fractal_bytes = bytes;
    }
}

/// GPU memory into the tracker: the allocator's report where the backend gives one, else the
/// bytes the pass itself holds.
pub(super) fn publish_gpu_metrics(tracker: Option<Res<PerfTracker>>, info: Res<GpuSummary>) {
    let Some(tracker) = tracker else { return };
    let bytes = info.allocator_bytes.unwrap_or(info.fractal_bytes);
    if bytes > 0 {
        tracker.track_metric(names::GPU_MEMORY_MB, bytes as f64 / (1024.0 * 1024.0));
    }
}
