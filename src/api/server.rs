//! The server thread: a current-thread tokio runtime, a bounded accept loop on hyper's HTTP/1
//! with header-read timeouts, and a clean shutdown when the handle drops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bevy::prelude::Resource;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rfm_perf_core::PerformanceTracker;
use tokio::sync::{Semaphore, watch};

use super::frame_histogram::FrameHistogram;
use super::publish::PublishedCell;
use super::routes::router;
use super::state::{ApiState, AppLink};
use crate::base::ApiConfig;

/// Open connections at once; further ones are closed right after accept.
const MAX_CONNECTIONS: usize = 256;
/// How long a stopping server lets open connections finish their response.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Handle of the running API server; dropping it shuts the server down and joins its thread.
#[derive(Resource, Debug)]
#[must_use = "the server stops when this handle is dropped"]
pub struct ApiServer {
    address: SocketAddr,
    frames: Arc<FrameHistogram>,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Binds `config.bind` (errors surface here, before the thread starts) and serves on a new thread.
    pub(crate) fn start(
        config: ApiConfig,
        tracker: PerformanceTracker,
        published: PublishedCell,
        update_interval: Duration,
        app: AppLink,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(config.bind)?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let frames = Arc::new(FrameHistogram::default());
        let mut state = ApiState::new(
            tracker,
            published,
            config,
            update_interval,
            address,
            frames.clone(),
            app,
        );
        state.shutdown = Some(rx.clone());
        let state = Arc::new(state);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("rfm_perf-api".into())
            .spawn(move || {
                runtime.block_on(serve(listener, state, rx));
                runtime.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(Self {
            address,
            frames,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on (the real port when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The frame-time histogram this server renders (the app fills it).
    pub(crate) fn frames(&self) -> Arc<FrameHistogram> {
        self.frames.clone()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<ApiState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("rfm_perf API: cannot use the listening socket: {e}");
            return;
        }
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout)
        .max_buf_size(state.config.max_uri_bytes.saturating_add(8 * 1024))
        .keep_alive(true);
    let app = router(state.clone());
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        // e.g. out of file descriptors: back off instead of spinning
                        log::warn!("rfm_perf API: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
                let mut stop = shutdown.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let mut conn = std::pin::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            // finish the response in flight (a live stream ends cleanly)
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
    // let open connections finish (this runtime only runs tasks while this future does)
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connections.acquire_many(all)).await;
}
