//! The pass in the render world: pipelines queued at `RenderStartup`, the adapter read, the
//! bind group kept while its resources are unchanged, and the dispatch in the `RenderGraph`
//! schedule with its own timestamp queries.

use bevy::platform::collections::HashMap;
use bevy::prelude::*;
use bevy::render::Extract;
use bevy::render::diagnostic::RecordDiagnostics;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::binding_types::{
    storage_buffer_read_only_sized, storage_buffer_sized, texture_storage_2d, uniform_buffer,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::{RenderAdapterInfo, RenderContext, RenderDevice, RenderQueue};
use bevy::render::storage::GpuShaderBuffer;
use bevy::render::texture::GpuImage;
use bevy::shader::{Shader, ShaderCacheError, ShaderDefVal};
use wgpu::{ComputePassTimestampWrites, QuerySet, QuerySetDescriptor, QueryType};

use super::main_world::ExtractedFractal;
use super::plugin::{FractalShader, RenderReport};
use super::{FractalUniform, ResultsLayout, WORKGROUP_SIZE};
use crate::base::GpuSummary;
use crate::fractal::Precision;

/// Which compiled form of the pass a frame needs: its arithmetic, and the shader defs of its
/// outputs (variants that are not chosen cost nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct PassVariant {
    pub(super) precision: Precision,
    /// `KIND`: the fractal kind's number (`kind_index`); the other kinds' code compiles away.
    pub(super) kind: u32,
    /// `COST_COLOURING`: the heatmap instead of the palette.
    pub(super) cost_colouring: bool,
    /// `PIXEL_COUNTS`: write each pixel's count.
    pub(super) pixel_counts: bool,
}

impl PassVariant {
    fn entry_point(self) -> &'static str {
        match self.precision {
            Precision::F32 => "fractal_f32",
            Precision::Df64 => "fractal_df64",
            Precision::Perturbation => "fractal_perturbation",
            Precision::PerturbationExp => "fractal_perturbation_exp",
        }
    }

    fn shader_defs(self) -> Vec<ShaderDefVal> {
        let mut defs = vec![ShaderDefVal::UInt("KIND".into(), self.kind)];
        if self.cost_colouring {
            defs.push("COST_COLOURING".into());
        }
        if self.pixel_counts {
            defs.push("PIXEL_COUNTS".into());
        }
        defs
    }
}

#[derive(Resource)]
pub(super) struct FractalPipelines {
    layout: BindGroupLayoutDescriptor,
    shader: Handle<Shader>,
    /// The variants queued so far (each is compiled the first time a frame needs it).
    variants: HashMap<PassVariant, CachedComputePipelineId>,
    /// Begin/end timestamps of the pass and the buffer they resolve into (when supported).
    timer: Option<(QuerySet, Buffer)>,
}

impl FractalPipelines {
    /// The pipeline of `variant`, queued with the pipeline cache the first time it is asked for.
    fn id(&mut self, variant: PassVariant, cache: &PipelineCache) -> CachedComputePipelineId {
        *self.variants.entry(variant).or_insert_with(|| {
            cache.queue_compute_pipeline(ComputePipelineDescriptor {
                label: Some(format!("rfm_perf {} {:?}", variant.entry_point(), variant).into()),
                layout: vec![self.layout.clone()],
                shader: self.shader.clone(),
                shader_defs: variant.shader_defs(),
                entry_point: Some(variant.entry_point().into()),
                zero_initialize_workgroup_memory: true,
                ..default()
            })
        })
    }
}

#[derive(Resource, Default)]
pub(super) struct UniformStore(UniformBuffer<FractalUniform>);

#[derive(Resource)]
pub(super) struct FractalBindGroup {
    bind_group: BindGroup,
    /// What `bind_group` binds: the texture view, the results, uniform and orbit buffers, the
    /// orbit textures' views.
    key: (
        TextureViewId,
        BufferId,
        BufferId,
        BufferId,
        TextureViewId,
        TextureViewId,
    ),
    results: Buffer,
    timings: Option<Buffer>,
    /// The pipeline of this frame's variant.
    pipeline: CachedComputePipelineId,
    workgroups: UVec2,
    /// Bytes the pass clears each frame: all but the per-pixel counts.
    summary_bytes: u64,
}

pub(super) fn init_pipelines(
    mut commands: Commands,
    pipeline_cache: Res<PipelineCache>,
    device: Res<RenderDevice>,
    shader: Option<Res<FractalShader>>,
) {
    let Some(shader) = shader else { return };
    let layout = BindGroupLayoutDescriptor::new(
        "rfm_perf fractal",
        &BindGroupLayoutEntries::with_indices(
            ShaderStages::COMPUTE,
            (
                (0, uniform_buffer::<FractalUniform>(false)),
                (
                    1,
                    texture_storage_2d(TextureFormat::Rgba8Unorm, StorageTextureAccess::WriteOnly),
                ),
                (2, storage_buffer_sized(false, None)),
                // the reference orbit (3 and 4 are the arithmetic self-tests' bindings)
                (5, storage_buffer_read_only_sized(false, None)),
                (
                    6,
                    texture_storage_2d(TextureFormat::Rgba32Float, StorageTextureAccess::ReadOnly),
                ),
                (
                    7,
                    texture_storage_2d(TextureFormat::Rgba32Uint, StorageTextureAccess::ReadOnly),
                ),
            ),
        ),
    );
    let timer = device
        .features()
        .contains(WgpuFeatures::TIMESTAMP_QUERY)
        .then(|| {
            let set = device.wgpu_device().create_query_set(&QuerySetDescriptor {
                label: Some("rfm_perf fractal timestamps"),
                ty: QueryType::Timestamp,
                count: 2,
            });
            let resolve = device.create_buffer(&BufferDescriptor {
                label: Some("rfm_perf fractal timestamps"),
                size: 16,
                usage: BufferUsages::QUERY_RESOLVE | BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
    let mut pipelines = FractalPipelines {
        layout,
        shader: shader.0.clone(),
        variants: HashMap::new(),
        timer,
    };
    // the Mandelbrot palette variants compile ahead, the others when first used
    for precision in [Precision::F32, Precision::Df64] {
        pipelines.id(
            PassVariant {
                precision,
                kind: 0,
                cost_colouring: false,
                pixel_counts: false,
            },
            &pipeline_cache,
        );
    }
    commands.insert_resource(pipelines);
    commands.init_resource::<UniformStore>();
}

pub(super) fn read_adapter(
    shared: Res<RenderReport>,
    adapter: Res<RenderAdapterInfo>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    let timestamps = device.features().contains(WgpuFeatures::TIMESTAMP_QUERY);
    let mut state = shared.lock();
    state.gpu = GpuSummary {
        adapter: adapter.name.clone(),
        backend: format!("{:?}", adapter.backend),
        device_type: format!("{:?}", adapter.device_type),
        driver: format!("{} {}", adapter.driver, adapter.driver_info)
            .trim()
            .to_string(),
        timestamp_queries: timestamps,
        gpu_time_missing_reason: (!timestamps)
            .then(|| "no timestamp queries on this adapter: GPU pass time unavailable".into()),
        fractal_bytes: 0,
        allocator_bytes: device
            .wgpu_device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes),
        timestamp_period_ns: queue.get_timestamp_period(),
    };
    state.gpu_version += 1;
}

pub(super) fn check_pipelines(
    pipelines: Option<Res<FractalPipelines>>,
    pipeline_cache: Res<PipelineCache>,
    shared: Res<RenderReport>,
    device: Res<RenderDevice>,
    mut frame: Local<u64>,
) {
    let Some(p) = pipelines else { return };
    *frame += 1;
    let mut state = shared.lock();
    if (*frame).is_multiple_of(60) {
        let bytes = device
            .wgpu_device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes);
        if bytes != state.gpu.allocator_bytes {
            state.gpu.allocator_bytes = bytes;
            state.gpu_version += 1;
        }
    }
    if matches!(state.pipeline, Some(Err(_))) {
        return;
    }
    let mut ready = true;
    for &id in p.variants.values() {
        match pipeline_cache.get_compute_pipeline_state(id) {
            CachedPipelineState::Ok(_) => {}
            CachedPipelineState::Err(ShaderCacheError::ShaderNotLoaded(_)) => ready = false,
            CachedPipelineState::Err(e) => {
                let msg = e.to_string();
                error!("rfm_perf: the fractal shader failed to build; the pass is off: {msg}");
                state.pipeline = Some(Err(msg));
                return;
            }
            _ => ready = false,
        }
    }
    if ready {
        state.pipeline = Some(Ok(()));
    }
}

pub(super) fn extract_fractal(
    mut commands: Commands,
    frame: Extract<Option<Res<ExtractedFractal>>>,
) {
    match &*frame {
        Some(f) => commands.insert_resource(f.as_ref().clone()),
        None => commands.remove_resource::<ExtractedFractal>(),
    }
}

#[expect(clippy::too_many_arguments, reason = "a render system's inputs")]
pub(super) fn prepare_bind_group(
    mut commands: Commands,
    frame: Option<Res<ExtractedFractal>>,
    pipelines: Option<ResMut<FractalPipelines>>,
    mut uniforms: Option<ResMut<UniformStore>>,
    current: Option<ResMut<FractalBindGroup>>,
    images: Res<RenderAssets<GpuImage>>,
    buffers: Res<RenderAssets<GpuShaderBuffer>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    pipeline_cache: Res<PipelineCache>,
) {
    rfm_perf_core::perf_scope!("render.fractal_bind_group");
    let ready = frame.as_ref().and_then(|f| {
        Some((
            f,
            images.get(&f.image)?,
            buffers.get(&f.results)?,
            buffers.get(&f.orbit.buffer)?,
            images.get(&f.orbit.texture)?,
            images.get(&f.orbit.exp_texture)?,
        ))
    });
    let (
        Some((frame, image, results, orbit, orbit_texture, orbit_exp_texture)),
        Some(mut pipelines),
        Some(uniforms),
    ) = (ready, pipelines, uniforms.as_mut())
    else {
        if current.is_some() {
            commands.remove_resource::<FractalBindGroup>();
        }
        return;
    };
    uniforms.0.set(frame.uniform);
    uniforms.0.write_buffer(&device, &queue);
    let (Some(uniform), Some(uniform_buffer)) = (uniforms.0.binding(), uniforms.0.buffer()) else {
        return;
    };
    let key = (
        image.texture_view.id(),
        results.buffer.id(),
        uniform_buffer.id(),
        orbit.buffer.id(),
        orbit_texture.texture_view.id(),
        orbit_exp_texture.texture_view.id(),
    );
    let timings = buffers.get(&frame.timings).map(|b| b.buffer.clone());
    let workgroups = UVec2::new(
        frame.size.x.div_ceil(WORKGROUP_SIZE),
        frame.size.y.div_ceil(WORKGROUP_SIZE),
    );
    let pipeline = pipelines.id(frame.variant, &pipeline_cache);
    // the same texture and buffers as last frame: keep the bind group
    if let Some(mut bg) = current
        && bg.key == key
    {
        bg.pipeline = pipeline;
        bg.workgroups = workgroups;
        bg.timings = timings;
        bg.summary_bytes = ResultsLayout::new(frame.size).summary_bytes();
        return;
    }
    let bind_group = device.create_bind_group(
        "rfm_perf fractal",
        &pipeline_cache.get_bind_group_layout(&pipelines.layout),
        &BindGroupEntries::with_indices((
            (0, uniform),
            (1, &image.texture_view),
            (2, results.buffer.as_entire_buffer_binding()),
            (5, orbit.buffer.as_entire_buffer_binding()),
            (6, &orbit_texture.texture_view),
            (7, &orbit_exp_texture.texture_view),
        )),
    );
    commands.insert_resource(FractalBindGroup {
        bind_group,
        key,
        results: results.buffer.clone(),
        timings,
        pipeline,
        workgroups,
        summary_bytes: ResultsLayout::new(frame.size).summary_bytes(),
    });
}

/// The pass: clears the totals, histogram and cost tiles, dispatches one invocation per pixel with begin/end timestamps
/// (when supported) inside a `RenderDiagnosticsPlugin` pass span named `fractal`.
pub(super) fn dispatch_fractal(
    mut render_context: RenderContext,
    bind_group: Option<Res<FractalBindGroup>>,
    pipelines: Option<Res<FractalPipelines>>,
    pipeline_cache: Res<PipelineCache>,
    shared: Res<RenderReport>,
) {
    rfm_perf_core::perf_scope!("render.fractal_encode");
    let (Some(bg), Some(p)) = (bind_group, pipelines) else {
        return;
    };
    // a variant still compiling: the image keeps the previous frame
    let Some(pipeline) = pipeline_cache.get_compute_pipeline(bg.pipeline) else {
        return;
    };
    let started = std::time::Instant::now();
    let diagnostics = render_context.diagnostic_recorder();
    let encoder = render_context.command_encoder();
    encoder.clear_buffer(&bg.results, 0, Some(bg.summary_bytes));
    let timer = p.timer.as_ref().zip(bg.timings.as_ref());
    {
        let mut pass = encoder.begin_compute_pass(&ComputePassDescriptor {
            label: Some("rfm_perf fractal"),
            timestamp_writes: timer.map(|((set, _), _)| ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            }),
        });
        let span = diagnostics
            .as_ref()
            .map(|d| d.pass_span(&mut pass, "fractal"));
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bg.bind_group, &[]);
        pass.dispatch_workgroups(bg.workgroups.x, bg.workgroups.y, 1);
        if let Some(span) = span {
            span.end(&mut pass);
        }
    }
    if let Some(((set, resolve), timings)) = timer {
        encoder.resolve_query_set(set, 0..2, resolve, 0);
        encoder.copy_buffer_to_buffer(resolve, 0, timings, 0, Some(16));
        // the generation the shader wrote (results word 3) goes with them
        encoder.copy_buffer_to_buffer(&bg.results, 12, timings, 16, Some(4));
    }
    shared.lock().encode_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
}
