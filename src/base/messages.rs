//! Bevy messages between the plugins and the app: alerts raised and cleared (analysis writes,
//! the dashboard's toasts and app code read), and parameter changes asked for (the dashboard
//! writes, the base applies). Threads outside the app (the API server) ask through a
//! [`TunableRequests`] channel instead.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use bevy::prelude::*;

use super::insights::Alert;
use super::tunables::{TunableError, Tunables};

/// An alert was raised: an alert rule's condition holds (a metric reached its warning or
/// critical level, changed against its baseline, or showed an anomaly).
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::AlertRaised;
///
/// fn on_alert(mut raised: MessageReader<AlertRaised>) {
///     for AlertRaised(alert) in raised.read() {
///         println!("{}", alert.message);
///     }
/// }
/// # App::new().add_plugins(MinimalPlugins).add_plugins(rfm_perf::RfmPerfPlugin::headless())
/// #     .add_systems(Update, on_alert).update();
/// ```
#[derive(Message, Clone, Debug, PartialEq)]
pub struct AlertRaised(pub Alert);

/// An alert ended: its rule's condition no longer holds (past the hysteresis margin), or the
/// rule changed or went away.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct AlertCleared {
    /// The metric whose alert ended.
    pub metric: String,
    /// The id of the rule whose alert ended.
    pub rule: String,
    /// When that alert was raised (seconds since the Unix epoch), to tell it from later ones.
    pub raised_unix_s: f64,
}

/// The GPU time of one frame of a render pass that publishes its [`PassCost`](crate::PassCost),
/// read back with the generation of the parameters it ran with (written by the fractal pass,
/// read by the cost model): pair it with the `PassCost` of the same generation.
///
/// ```
/// let t = rfm_perf::PassTimed { generation: 7, gpu_ms: 12.5 };
/// assert_eq!(t.generation, 7);
/// ```
#[derive(Message, Clone, Copy, Debug, PartialEq)]
pub struct PassTimed {
    /// Generation of the parameters (as in [`PassCost::generation`](crate::PassCost)).
    pub generation: u32,
    /// GPU time of the pass (ms).
    pub gpu_ms: f64,
}

/// Asks for a tunable parameter change (what the dashboard's **Apply** sends). The base checks
/// it with [`Tunables::set`] at the start of the next frame and logs the outcome.
///
/// ```
/// use bevy::prelude::*;
/// use rfm_perf::ApplyTunable;
///
/// fn lower_quality(mut apply: MessageWriter<ApplyTunable>) {
///     apply.write(ApplyTunable { name: "fractal.max_iter".into(), value: 200.0 });
/// }
/// ```
#[derive(Message, Clone, Debug, PartialEq)]
pub struct ApplyTunable {
    /// Tunable name.
    pub name: String,
    /// Requested value (rounded to the parameter's step).
    pub value: f64,
}

/// The outcome of a request sent through [`TunableSender`]: the value that will be applied,
/// or why nothing changed.
pub type TunableReply = Receiver<Result<f64, TunableError>>;

struct TunableRequest {
    change: ApplyTunable,
    reply: Option<SyncSender<Result<f64, TunableError>>>,
}

/// The channel that lets other threads (the API server) ask for parameter changes. A resource
/// of the base; take a [`TunableSender`] with [`sender`](Self::sender).
#[derive(Resource, Clone)]
pub struct TunableRequests {
    tx: Sender<TunableRequest>,
    rx: Arc<Mutex<Receiver<TunableRequest>>>,
}

impl Default for TunableRequests {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        }
    }
}

impl TunableRequests {
    /// A handle for another thread.
    pub fn sender(&self) -> TunableSender {
        TunableSender(self.tx.clone())
    }
}

/// Sends parameter changes into the app from any thread; they are checked and applied at the
/// start of the next frame.
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
///     "game.quality", "", 0.25..=1.0, 1.0, |world, v| world.resource_mut::<Quality>().0 = v,
/// ));
/// let sender = app.world().resource::<rfm_perf::TunableRequests>().sender();
/// let reply = std::thread::spawn(move || sender.request("game.quality", 0.5)).join().unwrap();
/// app.update();
/// assert_eq!(reply.recv().unwrap(), Ok(0.5));
/// assert_eq!(app.world().resource::<Quality>().0, 0.5);
/// ```
#[derive(Clone, Debug)]
pub struct TunableSender(Sender<TunableRequest>);

impl TunableSender {
    /// Asks for `name = value`. The reply arrives once the app has checked it (next frame); a
    /// closed app drops the request, and the reply's `recv` then fails.
    pub fn request(&self, name: impl Into<String>, value: f64) -> TunableReply {
        let (reply, rx) = mpsc::sync_channel(1);
        let _ = self.0.send(TunableRequest {
            change: ApplyTunable {
                name: name.into(),
                value,
            },
            reply: Some(reply),
        });
        rx
    }
}

/// Checks every [`ApplyTunable`] message and channel request against the registry (applied by
/// `apply_tunables` right after).
pub(crate) fn receive_tunable_requests(
    mut messages: MessageReader<'_, '_, ApplyTunable>,
    requests: Res<'_, TunableRequests>,
    mut tunables: ResMut<'_, Tunables>,
) {
    let set = |tunables: &mut Tunables, change: &ApplyTunable| {
        let result = tunables.set(&change.name, change.value);
        match &result {
            Ok(v) => info!("rfm_perf: {} set to {v}", change.name),
            Err(e) => warn!("rfm_perf: could not set {}: {e}", change.name),
        }
        result
    };
    for change in messages.read() {
        // the outcome is logged; a message has no one to answer
        let _ = set(&mut tunables, change);
    }
    let rx = requests.rx.lock().unwrap_or_else(|e| e.into_inner());
    while let Ok(request) = rx.try_recv() {
        let result = set(&mut tunables, &request.change);
        if let Some(reply) = request.reply {
            let _ = reply.try_send(result);
        }
    }
}
