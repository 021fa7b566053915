//! I/O pressure from Linux PSI (`/proc/pressure/io`), where the kernel provides it.

/// Parses the `some avg10=` value (percent of the last 10 s in which some task waited on I/O).
///
/// ```
/// let text = "some avg10=1.50 avg60=0.20 avg300=0.05 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
/// assert_eq!(rfm_perf::system::parse_io_pressure(text), Some(1.5));
/// assert_eq!(rfm_perf::system::parse_io_pressure("garbage"), None);
/// ```
pub fn parse_io_pressure(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    let field = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("avg10="))?;
    field.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads `/proc/pressure/io`; `None` where it does not exist (not Linux, or PSI disabled).
pub(crate) fn read_io_pressure() -> Option<f64> {
    std::fs::read_to_string("/proc/pressure/io")
        .ok()
        .as_deref()
        .and_then(parse_io_pressure)
}
