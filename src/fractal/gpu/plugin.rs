//! [`FractalGpuPlugin`]: registers the pass in the main and render worlds, and the fractal's
//! tunable parameters.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use bevy::core_pipeline::schedule::camera_driver;
use bevy::prelude::*;
use bevy::render::diagnostic::RenderDiagnosticsPlugin;
use bevy::render::renderer::RenderGraph;
use bevy::render::{ExtractSchedule, Render, RenderApp, RenderStartup, RenderSystems};
use bevy::shader::Shader;

use super::cpu_probe::probe_cpu_reference;
use super::deep_arithmetic::choose_deep_arithmetic;
use super::main_world::{
    ExtractedFractal, Generations, build_frame, publish_gpu_metrics, sync_status, sync_target,
};
use super::reference::{ReferenceOrbitStatus, ReferenceOrbits, update_reference_orbit};
use super::render_world::{
    FractalBindGroup, check_pipelines, dispatch_fractal, extract_fractal, init_pipelines,
    prepare_bind_group, read_adapter,
};
use super::{
    Coloring, CurrentGeneration, FractalFrameStats, FractalSettings, PrecisionMode, SHADER_SOURCE,
};
use crate::base::{
    GpuPassStatus, GpuSummary, PassCost, PerfTracker, RfmPerfBasePlugin, RfmPerfSystems, Tunable,
    Tunables,
};
use crate::fractal::Precision;

/// Registers the pass (part of [`RfmPerfPlugins`](crate::RfmPerfPlugins); add it after Bevy's
/// render plugins). It dispatches only while a [`FractalSettings`] resource exists; without a
/// render app its status is [`GpuPassStatus::NoRenderer`].
///
/// ```
/// let plugin = rfm_perf::fractal::gpu::FractalGpuPlugin::default();
/// assert!(plugin.shader_source.contains("fn fractal_f32"));
/// ```
#[derive(Clone, Debug)]
pub struct FractalGpuPlugin {
    /// WGSL source of the pass. Default: [`SHADER_SOURCE`]; tests replace it to check that a
    /// broken shader becomes [`GpuPassStatus::Failed`].
    pub shader_source: Cow<'static, str>,
}

impl Default for FractalGpuPlugin {
    fn default() -> Self {
        Self {
            shader_source: Cow::Borrowed(SHADER_SOURCE),
        }
    }
}

/// What the render world reports to the main world (pipeline state, adapter, encode time), in a
/// mutex both hold.
#[derive(Resource, Clone, Default)]
pub(super) struct RenderReport(Arc<Mutex<RenderReportState>>);

#[derive(Default)]
pub(super) struct RenderReportState {
    pub(super) pipeline: Option<Result<(), String>>,
    pub(super) gpu: GpuSummary,
    /// CPU time of the latest encode of the pass (ms).
    pub(super) encode_ms: Option<f64>,
    /// Bumped whenever `gpu` changes, so the main world copies it only then.
    pub(super) gpu_version: u64,
}

impl RenderReport {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, RenderReportState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Resource, Clone)]
pub(super) struct FractalShader(pub(super) Handle<Shader>);

impl Plugin for FractalGpuPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<RfmPerfBasePlugin>() {
            app.add_plugins(RfmPerfBasePlugin::default());
        }
        crate::fractal::metrics::register(&app.world().resource::<PerfTracker>().0);
        app.init_resource::<GpuPassStatus>()
            .init_resource::<FractalFrameStats>()
            .init_resource::<GpuSummary>()
            .init_resource::<PassCost>()
            .init_resource::<Generations>()
            .init_resource::<CurrentGeneration>()
            .init_resource::<ReferenceOrbits>()
            .init_resource::<ReferenceOrbitStatus>()
            .add_systems(Startup, register_tunables)
            .add_systems(
                PostUpdate,
                sync_tunables.run_if(resource_exists_and_changed::<FractalSettings>),
            );
        if app.get_sub_app(RenderApp).is_none() {
            app.insert_resource(GpuPassStatus::NoRenderer);
            return;
        }
        if !app.is_plugin_added::<RenderDiagnosticsPlugin>() {
            app.add_plugins(RenderDiagnosticsPlugin);
        }
        let shared = RenderReport::default();
        app.insert_resource(shared.clone())
            // the pass's systems run only while there is a fractal to draw (or to clean up
            // after), so an app without one never sees their scopes
            .add_systems(
                PostUpdate,
                (
                    sync_target,
                    choose_deep_arithmetic.run_if(resource_exists::<FractalSettings>),
                    update_reference_orbit.run_if(resource_exists::<FractalSettings>),
                    build_frame.run_if(
                        resource_exists::<FractalSettings>
                            .or_else(resource_exists::<ExtractedFractal>),
                    ),
                    sync_status,
                )
                    .chain(),
            )
            .add_systems(
                Update,
                probe_cpu_reference.run_if(resource_exists::<FractalSettings>),
            )
            .add_systems(
                Last,
                publish_gpu_metrics
                    .after(RfmPerfSystems::Bridge)
                    .before(RfmPerfSystems::Collect),
            );
        let render_app = app.sub_app_mut(RenderApp);
        render_app
            .insert_resource(shared)
            .add_systems(RenderStartup, (init_pipelines, read_adapter))
            .add_systems(ExtractSchedule, extract_fractal)
            .add_systems(
                Render,
                (
                    check_pipelines.in_set(RenderSystems::Prepare),
                    prepare_bind_group
                        .run_if(
                            resource_exists::<ExtractedFractal>
                                .or_else(resource_exists::<FractalBindGroup>),
                        )
                        .in_set(RenderSystems::PrepareBindGroups),
                ),
            )
            .add_systems(
                RenderGraph,
                dispatch_fractal
                    .run_if(resource_exists::<FractalBindGroup>)
                    .before(camera_driver),
            );
    }

    fn finish(&self, app: &mut App) {
        let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() else {
            return;
        };
        let handle = shaders.add(Shader::from_wgsl(
            self.shader_source.clone(),
            "rfm_perf/shaders/fractal.wgsl",
        ));
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app.insert_resource(FractalShader(handle));
        }
    }
}

/// The tunables' values for `s`, in registration order.
fn tunable_values(s: &FractalSettings) -> [(&'static str, f64); 5] {
    [
        ("fractal.max_iter", f64::from(s.params.max_iter)),
        ("fractal.resolution_scale", f64::from(s.resolution_scale)),
        (
            "fractal.precision",
            match s.precision {
                PrecisionMode::Auto => 0.0,
                PrecisionMode::F32 => 1.0,
                PrecisionMode::Df64 => 2.0,
                PrecisionMode::Perturbation | PrecisionMode::PerturbationExp => 3.0,
            },
        ),
        (
            "fractal.interior_check",
            if s.interior_check { 1.0 } else { 0.0 },
        ),
        (
            "fractal.heatmap",
            if s.coloring == Coloring::Cost {
                1.0
            } else {
                0.0
            },
        ),
    ]
}

/// Keeps the registry truthful when the settings change by other means than a tunable (the
/// explorer's keys, app code).
fn sync_tunables(settings: Res<FractalSettings>, mut tunables: ResMut<Tunables>) {
    for (name, value) in tunable_values(&settings) {
        if tunables.get(name).is_some_and(|t| t.value() != value) {
            tunables.sync_value(name, value);
        }
    }
}

fn register_tunables(mut tunables: ResMut<Tunables>, settings: Option<Res<FractalSettings>>) {
    let s = settings.map(|s| s.clone()).unwrap_or_default();
    let [
        (max_iter_name, max_iter),
        (scale_name, scale),
        (precision_name, precision),
        (check_name, check),
        (heatmap_name, heatmap),
    ] = tunable_values(&s);
    let set = |f: fn(&mut FractalSettings, f64)| {
        move |world: &mut World, v: f64| {
            if let Some(mut s) = world.get_resource_mut::<FractalSettings>() {
                f(&mut s, v);
            }
        }
    };
    tunables.register(
        Tunable::new(
            max_iter_name,
            "Iteration limit: detail at the boundary vs. GPU time",
            16.0..=100_000.0,
            max_iter,
            set(|s, v| s.params.max_iter = v as u32),
        )
        .with_step(1.0),
    );
    tunables.register(
        Tunable::new(
            scale_name,
            "Render size relative to the window (upscaled below 1)",
            0.1..=2.0,
            scale,
            set(|s, v| s.resolution_scale = v as f32),
        )
        .with_step(0.05),
    );
    tunables.register(
        Tunable::new(
            precision_name,
            "Arithmetic: 0 = automatic, 1 = f32 (fast, shallow), 2 = df64 (deep zoom), 3 = perturbation (deep zoom to 1e-300)",
            0.0..=3.0,
            precision,
            set(|s, v| {
                s.precision = match v.round() as u32 {
                    1 => PrecisionMode::F32,
                    2 => PrecisionMode::Df64,
                    3 => PrecisionMode::Perturbation,
                    _ => PrecisionMode::Auto,
                }
            }),
        )
        .with_step(1.0)
        .with_labels([
            (0.0, "auto"),
            (1.0, Precision::F32.name()),
            (2.0, Precision::Df64.name()),
            (3.0, "perturbation"),
        ]),
    );
    tunables.register(
        Tunable::new(
            check_name,
            "Interior checks: 1 = skip pixels a cardioid/bulb test or a repeating orbit settles, 0 = iterate every pixel to the limit",
            0.0..=1.0,
            check,
            set(|s, v| s.interior_check = v >= 0.5),
        )
        .with_step(1.0),
    );
    tunables.register(
        Tunable::new(
            heatmap_name,
            "Colouring: 0 = palette, 1 = cost heatmap (iterations each pixel really ran, log scale)",
            0.0..=1.0,
            heatmap,
            set(|s, v| {
                s.coloring = if v >= 0.5 {
                    Coloring::Cost
                } else {
                    Coloring::Palette
                }
            }),
        )
        .with_step(1.0),
    );
}
