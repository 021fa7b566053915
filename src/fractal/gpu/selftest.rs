//! Self-tests of the shader's df64 arithmetic on the GPU, apart from the fractal pass.

use bevy::prelude::*;
use bevy::render::render_resource::binding_types::{
    storage_buffer_read_only_sized, storage_buffer_sized, uniform_buffer,
};
use bevy::render::render_resource::*;
use bevy::render::renderer::{RenderDevice, RenderQueue};

use super::{FractalUniform, SHADER_SOURCE};
use crate::fractal::df64::Df64;

/// Runs the shader's df64 self-test entry point on `pairs` and returns, per pair, `(a + b, a · b)`
/// as computed on the GPU: the arithmetic checked on its own, before the fractal.
///
/// # Errors
/// A message when the shader module or pipeline cannot be built or the readback fails.
pub fn df64_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    pairs: &[(Df64, Df64)],
) -> Result<Vec<(Df64, Df64)>, String> {
    let input: Vec<[f32; 4]> = pairs
        .iter()
        .map(|(a, b)| [a.hi, a.lo, b.hi, b.lo])
        .collect();
    Ok(run_selftest(device, queue, "df64_selftest", 0, &input)?
        .into_iter()
        .map(|c| (Df64 { hi: c[0], lo: c[1] }, Df64 { hi: c[2], lo: c[3] }))
        .collect())
}

/// Iterates `z → z² + c` from `z = 0` for `steps` steps on the GPU with the fractal pass's own
/// df64 step function, for each `c = (re, im)`; returns the final `z = (re, im)`. Compare with
/// the CPU's [`Df64`] to check the whole iteration, not only single operations.
///
/// # Errors
/// As [`df64_selftest`].
pub fn df64_orbit_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    points: &[(Df64, Df64)],
    steps: u32,
) -> Result<Vec<(Df64, Df64)>, String> {
    let input: Vec<[f32; 4]> = points
        .iter()
        .map(|(a, b)| [a.hi, a.lo, b.hi, b.lo])
        .collect();
    Ok(
        run_selftest(device, queue, "df64_orbit_selftest", steps, &input)?
            .into_iter()
            .map(|c| (Df64 { hi: c[0], lo: c[1] }, Df64 { hi: c[2], lo: c[3] }))
            .collect(),
    )
}

/// The shader as the pipeline cache compiles it without shader defs: the `#ifdef` sides
/// dropped, the `#else` sides kept (the self-tests create their module directly).
fn without_shader_defs(source: &str) -> String {
    // one flag per open #ifdef: whether its current side is kept
    let mut kept: Vec<bool> = Vec::new();
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let directive = line.trim_start();
        if directive.starts_with("#ifdef") {
            kept.push(false);
        } else if directive.starts_with("#else") {
            if let Some(k) = kept.last_mut() {
                *k = !*k;
            }
        } else if directive.starts_with("#endif") {
            kept.pop();
        } else if kept.iter().all(|&k| k) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn run_selftest(
    device: &RenderDevice,
    queue: &RenderQueue,
    entry: &str,
    steps: u32,
    inputs: &[[f32; 4]],
) -> Result<Vec<[f32; 4]>, String> {
    use bevy::render::render_resource::BufferInitDescriptor;
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let module = device.create_and_validate_shader_module(ShaderModuleDescriptor {
        label: Some("rfm_perf df64 self-test"),
        source: ShaderSource::Wgsl(without_shader_defs(SHADER_SOURCE).into()),
    });
    let layout = device.create_bind_group_layout(
        "rfm_perf df64 self-test",
        &BindGroupLayoutEntries::with_indices(
            ShaderStages::COMPUTE,
            (
                (0, uniform_buffer::<FractalUniform>(false)),
                (3, storage_buffer_read_only_sized(false, None)),
                (4, storage_buffer_sized(false, None)),
            ),
        ),
    );
    let pipeline_layout = device.create_pipeline_layout(&PipelineLayoutDescriptor {
        label: None,
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&RawComputePipelineDescriptor {
        label: Some("rfm_perf df64 self-test"),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(entry),
        compilation_options: default(),
        cache: None,
    });
    let mut uniform = UniformBuffer::from(FractalUniform {
        max_iter: steps,
        ..default()
    });
    uniform.write_buffer(device, queue);
    let input: Vec<f32> = inputs.iter().flatten().copied().collect();
    let size = (input.len() * 4) as u64;
    let input_buf = device.create_buffer_with_data(&BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&input),
        usage: BufferUsages::STORAGE,
    });
    let ones = vec![1.0f32; input.len()];
    let output = device.create_buffer_with_data(&BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&ones),
        usage: BufferUsages::STORAGE | BufferUsages::COPY_SRC,
    });
    let staging = device.create_buffer(&BufferDescriptor {
        label: None,
        size,
        usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(
        None,
        &layout,
        &BindGroupEntries::with_indices((
            (0, uniform.binding().ok_or("uniform buffer missing")?),
            (3, input_buf.as_entire_binding()),
            (4, output.as_entire_binding()),
        )),
    );
    let mut encoder = device.create_command_encoder(&CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&ComputePassDescriptor::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((inputs.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, size);
    queue.submit([encoder.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(MapMode::Read, move |r| drop(tx.send(r)));
    device
        .poll(PollType::wait_indefinitely())
        .map_err(|e| format!("poll: {e}"))?;
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("map: {e}"))?;
    let out: Vec<f32> = bytemuck::cast_slice(&staging.slice(..).get_mapped_range()).to_vec();
    staging.unmap();
    Ok(out
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn shader_defs_are_dropped_and_else_sides_kept() {
        let src = "a\n#ifdef X\nb\n#else\nc\n#endif\n#ifdef Y\nd\n#endif\ne\n";
        assert_eq!(super::without_shader_defs(src), "a\nc\ne\n");
        let shader = super::without_shader_defs(super::SHADER_SOURCE);
        assert!(!shader.lines().any(|l| l.trim_start().starts_with('#')));
        assert!(!shader.contains("log2(1.0 + f32(computed))"));
        assert!(shader.contains("fn df64_selftest"));
    }
}
