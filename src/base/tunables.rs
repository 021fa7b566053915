//! The registry of tunable parameters: what workloads (the fractal, a game) expose so that
//! suggestions, the dashboard and the API can change them without naming their types.

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use bevy::prelude::*;

type Setter = Arc<dyn Fn(&mut World, f64) + Send + Sync>;

/// One tunable parameter: a name, a range, its current value and how to apply a new value.
#[derive(Clone)]
pub struct Tunable {
    /// Unique name, dotted like metric names (e.g. `fractal.max_iter`).
    pub name: String,
    /// What changing it does.
    pub description: String,
    /// Allowed values.
    pub range: RangeInclusive<f64>,
    /// Granularity (e.g. `1.0` for integers); values are rounded to it. `None` = continuous.
    pub step: Option<f64>,
    /// Names of discrete values (`(value, label)`), for a parameter that chooses between modes.
    pub labels: Vec<(f64, String)>,
    value: f64,
    setter: Setter,
}

impl fmt::Debug for Tunable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tunable")
            .field("name", &self.name)
            .field("range", &self.range)
            .field("step", &self.step)
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

impl Tunable {
    /// A tunable parameter whose `setter` applies a new value to the world.
    ///
    /// ```
    /// use rfm_perf::tunables::Tunable;
    /// let t = Tunable::new("game.view_distance", "Chunks drawn", 2.0..=32.0, 8.0, |_world, _v| {}).with_step(1.0);
    /// assert_eq!(t.value(), 8.0);
    /// ```
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        range: RangeInclusive<f64>,
        value: f64,
        setter: impl Fn(&mut World, f64) + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            range,
            step: None,
            labels: Vec::new(),
            value,
            setter: Arc::new(setter),
        }
    }

    /// Sets the granularity (builder style). Default: continuous.
    pub fn with_step(mut self, step: f64) -> Self {
        self.step = (step.is_finite() && step > 0.0).then_some(step);
        self
    }

    /// Names its discrete values (builder style), e.g. the arithmetic a precision mode picks.
    ///
    /// ```
    /// use rfm_perf::tunables::Tunable;
    /// let t = Tunable::new("game.shadows", "Shadow mode", 0.0..=1.0, 0.0, |_, _| {})
    ///     .with_labels([(0.0, "off"), (1.0, "hard")]);
    /// assert_eq!(t.label(1.0), Some("hard"));
    /// ```
    pub fn with_labels<S: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = (f64, S)>,
    ) -> Self {
        self.labels = labels.into_iter().map(|(v, l)| (v, l.into())).collect();
        self
    }

    /// The label of `value` (rounded to the step), when it has one.
    pub fn label(&self, value: f64) -> Option<&str> {
        let v = self.normalize(value);
        self.labels
            .iter()
            .find(|(x, _)| (x - v).abs() < 1e-9)
            .map(|(_, l)| l.as_str())
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    fn normalize(&self, v: f64) -> f64 {
        match self.step {
            Some(s) => (v / s).round() * s,
            None => v,
        }
    }
}

/// Whether a tunable's `name` is `suffix` or ends with `.suffix` — how the analysis finds the
/// parameters it knows by their role (`*.max_iter`, `*.resolution_scale`, …) whatever the
/// workload calls itself.
///
/// ```
/// use rfm_perf::tunables::name_ends_with;
/// assert!(name_ends_with("fractal.max_iter", "max_iter"));
/// assert!(!name_ends_with("fractal.min_max_iter", "max_iter"));
/// ```
pub fn name_ends_with(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// The pixel count a render of `pixels` at resolution scale `from` has at scale `to` (the
/// count goes with the scale's square).
///
/// ```
/// assert_eq!(rfm_perf::tunables::scaled_pixels(1000, 1.0, 0.5), 250);
/// ```
pub fn scaled_pixels(pixels: u64, from: f64, to: f64) -> u64 {
    (pixels as f64 * (to / from.max(1e-6)).powi(2)).round() as u64
}

/// Why a tunable could not be set. Nothing changed.
///
/// ```
/// let e = rfm_perf::tunables::TunableError::Unknown("x".into());
/// assert!(e.to_string().contains("x"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TunableError {
    /// No tunable of that name is registered.
    #[error("no tunable parameter named {0:?}")]
    Unknown(String),
    /// The value is outside the parameter's range or not finite.
    #[error("{name}: {value} is outside the allowed range {min}..={max}")]
    OutOfRange {
        /// The parameter.
        name: String,
        /// The rejected value.
        value: f64,
        /// Lowest allowed.
        min: f64,
        /// Highest allowed.
        max: f64,
    },
}

/// The registry resource. Set values with [`Tunables::set`] (or send an
/// [`ApplyTunable`](crate::ApplyTunable) message); they are applied in
/// [`RfmPerfSystems::ApplyTunables`](crate::RfmPerfSystems) at the start of the next frame.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::tunables::{Tunable, Tunables};
///
/// #[derive(Resource)]
/// struct Quality(f64);
///
/// let mut app = App::new();
/// app.add_plugins(MinimalPlugins).add_plugins(rfm_perf::RfmPerfPlugin::headless());
/// app.insert_resource(Quality(1.0));
/// app.world_mut().resource_mut::<Tunables>().register(Tunable::new(
///     "game.quality", "Render quality", 0.25..=1.0, 1.0, |world, v| world.resource_mut::<Quality>().0 = v,
/// ));
/// app.world_mut().resource_mut::<Tunables>().set("game.quality", 0.5).unwrap();
/// app.update();
/// assert_eq!(app.world().resource::<Quality>().0, 0.5);
/// ```
#[derive(Resource, Default, Debug)]
pub struct Tunables {
    params: Vec<Tunable>,
    pending: Vec<(usize, f64)>,
}

impl Tunables {
    /// Registers a parameter, replacing one of the same name.
    pub fn register(&mut self, tunable: Tunable) {
        match self.params.iter_mut().find(|p| p.name == tunable.name) {
            Some(p) => *p = tunable,
            None => self.params.push(tunable),
        }
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Tunable> {
        self.params.iter().find(|p| p.name == name)
    }

    /// All parameters, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Tunable> {
        self.params.iter()
    }

    /// Requests `value` for `name` (rounded to its step). Checked now, applied next frame.
    /// Returns the value that will be applied.
    pub fn set(&mut self, name: &str, value: f64) -> Result<f64, TunableError> {
        let i = self
            .params
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| TunableError::Unknown(name.into()))?;
        let p = &mut self.params[i];
        let v = p.normalize(value);
        if !v.is_finite() || !p.range.contains(&v) {
            return Err(TunableError::OutOfRange {
                name: name.into(),
                value,
                min: *p.range.start(),
                max: *p.range.end(),
            });
        }
        p.value = v;
        self.pending.retain(|(j, _)| *j != i);
        self.pending.push((i, v));
        Ok(v)
    }

    /// Records a value the workload changed by itself (keeps the registry truthful).
    pub fn sync_value(&mut self, name: &str, value: f64) {
        if let Some(p) = self.params.iter_mut().find(|p| p.name == name) {
            p.value = value;
        }
    }

    /// Whether any change waits to be applied.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// Applies pending tunable changes (exclusive system: setters get `&mut World`).
pub(crate) fn apply_tunables(world: &mut World) {
    let Some(mut tunables) = world.get_resource_mut::<Tunables>() else {
        return;
    };
    if tunables.pending.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut tunables.pending);
    let jobs: Vec<(String, Setter, f64)> = pending
        .into_iter()
        .filter_map(|(i, v)| {
            tunables
                .params
                .get(i)
                .map(|p| (p.name.clone(), p.setter.clone(), v))
        })
        .collect();
    for (name, setter, v) in jobs {
        info!("rfm_perf: tunable {name} = {v}");
        setter(world, v);
    }
}
