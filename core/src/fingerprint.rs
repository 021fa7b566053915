//! What a measurement ran on: the hardware fingerprint baselines and reports are keyed by, so a
//! comparison across machines says so instead of passing for a regression.

use serde::{Deserialize, Serialize};

/// The machine a baseline or report was measured on. Fields the app could not learn stay empty
/// (and are not compared).
///
/// ```
/// use rfm_perf_core::HardwareFingerprint;
/// let a = HardwareFingerprint { cpu_model: "Xeon".into(), cores: 2, ..Default::default() };
/// let b = HardwareFingerprint { cpu_model: "EPYC".into(), cores: 2, ..Default::default() };
/// assert_eq!(a.differences(&b), vec!["CPU: Xeon → EPYC".to_string()]);
/// assert!(a.differences(&a).is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareFingerprint {
    /// CPU brand string.
    #[serde(default)]
    pub cpu_model: String,
    /// Logical cores.
    #[serde(default)]
    pub cores: usize,
    /// Total memory, rounded to whole GiB.
    #[serde(default)]
    pub memory_gib: u64,
    /// Operating system and version.
    #[serde(default)]
    pub os: String,
    /// GPU adapter name.
    #[serde(default)]
    pub gpu_adapter: String,
    /// Graphics backend (Vulkan, Metal, …).
    #[serde(default)]
    pub gpu_backend: String,
    /// GPU driver and version.
    #[serde(default)]
    pub gpu_driver: String,
}

impl HardwareFingerprint {
    /// The fields that differ, as `"name: old → new"` lines (fields empty on either side are
    /// not compared).
    pub fn differences(&self, other: &HardwareFingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let mut text = |name: &str, a: &str, b: &str| {
            if !a.is_empty() && !b.is_empty() && a != b {
                out.push(format!("{name}: {a} → {b}"));
            }
        };
        text("CPU", &self.cpu_model, &other.cpu_model);
        text("OS", &self.os, &other.os);
        text("GPU", &self.gpu_adapter, &other.gpu_adapter);
        text("GPU backend", &self.gpu_backend, &other.gpu_backend);
        text("GPU driver", &self.gpu_driver, &other.gpu_driver);
        let mut number = |name: &str, unit: &str, a: u64, b: u64| {
            if a != 0 && b != 0 && a != b {
                out.push(format!("{name}: {a}{unit} → {b}{unit}"));
            }
        };
        number("cores", "", self.cores as u64, other.cores as u64);
        number("memory", " GiB", self.memory_gib, other.memory_gib);
        out
    }
}

/// What a baseline is keyed by: the scenario (what ran: a level, a benchmark path) and the
/// hardware.
///
/// ```
/// let k = rfm_perf_core::BaselineKey::default();
/// assert_eq!(k.scenario, "default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineKey {
    /// Scenario name.
    #[serde(default = "default_scenario")]
    pub scenario: String,
    /// The machine.
    #[serde(default)]
    pub hardware: HardwareFingerprint,
}

pub(crate) fn default_scenario() -> String {
    "default".into()
}

impl Default for BaselineKey {
    fn default() -> Self {
        Self {
            scenario: default_scenario(),
            hardware: HardwareFingerprint::default(),
        }
    }
}

impl BaselineKey {
    /// How `current` differs from this key: a scenario change first, then the hardware's.
    /// Empty when the comparison is like for like.
    ///
    /// ```
    /// use rfm_perf_core::BaselineKey;
    /// let a = BaselineKey::default();
    /// let b = BaselineKey { scenario: "deep zoom".into(), ..Default::default() };
    /// assert_eq!(a.differences(&b), vec!["scenario: default → deep zoom".to_string()]);
    /// ```
    pub fn differences(&self, current: &BaselineKey) -> Vec<String> {
        let mut out = Vec::new();
        if self.scenario != current.scenario {
            out.push(format!(
                "scenario: {} → {}",
                self.scenario, current.scenario
            ));
        }
        out.extend(self.hardware.differences(&current.hardware));
        out
    }
}
