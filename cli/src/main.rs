//! The `rfm-perf` binary; see the `rfm_perf_cli` library docs.

fn main() -> std::process::ExitCode {
    let code = rfm_perf_cli::run_with(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
