//! Settings of the HTTP API and their validation (checked before anything binds).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the REST/Prometheus server.
///
/// ```
/// let c = rfm_perf::ApiConfig::default();
/// assert_eq!(c.bind.to_string(), "127.0.0.1:8501");
/// assert!(c.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ApiConfig {
    /// Address to listen on. Default `127.0.0.1:8501`; port 0 picks a free port (see `ApiStatus`).
    pub bind: SocketAddr,
    /// Bearer token. When set, every mutating endpoint requires it (401 without, 403 wrong).
    /// Required to bind a non-loopback address unless `allow_unauthenticated_remote`.
    pub token: Option<String>,
    /// Allows a non-loopback bind without a token. Default `false`.
    pub allow_unauthenticated_remote: bool,
    /// Origins allowed by CORS (`"*"` for any, which needs a token). Default empty: CORS off.
    /// A mutating request whose `Origin` is not listed is refused (403), so a web page cannot
    /// change anything through the visitor's browser.
    pub cors_origins: Vec<String>,
    /// Where `POST /api/performance/baseline` saves the captured baseline; a client never
    /// chooses a path. Default `None`: captured in memory only.
    pub baseline_path: Option<PathBuf>,
    /// Longest time one request may take (the live stream excepted). Default 10 s.
    pub request_timeout: Duration,
    /// Longest time a client may take to send its request headers. Default 5 s.
    pub header_read_timeout: Duration,
    /// Requests served at once; more get 503. Default 64.
    pub max_concurrent_requests: usize,
    /// Live streams (`/api/performance/stream`) open at once; more get 503. Default 16 (ten
    /// browser dashboards fit).
    pub max_streams: usize,
    /// Longest request URI (path + query) in bytes; longer gets 414. Default 8 KiB.
    pub max_uri_bytes: usize,
    /// This instance's name in Prometheus (`rfm_build_info{rfm_instance=…}`), to tell apart
    /// instances a scrape relabels. Default `None`: `<host name>:<port>`.
    pub instance: Option<String>,
    /// Whether the browser dashboard (`GET /`) opens in the default browser once the server is
    /// up. Default [`OpenBrowser::Never`]; `launch_dashboard` asks for
    /// [`OpenBrowser::WithoutWindow`].
    pub open_browser: OpenBrowser,
}

/// When the API opens its browser dashboard in the default browser. Never where `CI` is set or
/// no display exists (no `DISPLAY`/`WAYLAND_DISPLAY` on Linux and the BSDs): then the URL is
/// printed instead.
///
/// ```
/// use rfm_perf::OpenBrowser;
/// assert_eq!(OpenBrowser::default(), OpenBrowser::Never);
/// assert!(OpenBrowser::Always.wanted(true));
/// assert!(OpenBrowser::WithoutWindow.wanted(false));
/// assert!(!OpenBrowser::WithoutWindow.wanted(true)); // the app has a window: the F12 dashboard
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OpenBrowser {
    /// Only print the URL.
    #[default]
    Never,
    /// Open it when the app has no window (headless and server runs).
    WithoutWindow,
    /// Open it always.
    Always,
}

impl OpenBrowser {
    /// Whether to open the page, given whether the app has a window (the environment aside).
    pub fn wanted(self, has_window: bool) -> bool {
        match self {
            OpenBrowser::Never => false,
            OpenBrowser::WithoutWindow => !has_window,
            OpenBrowser::Always => true,
        }
    }

    /// Why a browser cannot be opened here, if it cannot: `CI` is set, or there is no display.
    ///
    /// ```
    /// use rfm_perf::OpenBrowser;
    /// let env = |k: &str| (k == "CI").then(|| "true".to_string());
    /// assert!(OpenBrowser::blocked_by(env).unwrap().contains("CI"));
    /// ```
    pub fn blocked_by(env: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
        if env("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0") {
            return Some("CI is set");
        }
        let needs_display = cfg!(any(
            target_os = "linux",
            target_os = "freebsd",
            target_os = "openbsd",
            target_os = "netbsd"
        ));
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|k| env(k).is_some_and(|v| !v.is_empty()));
        if needs_display && !display {
            return Some("no display (DISPLAY and WAYLAND_DISPLAY are unset)");
        }
        None
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 8501)),
            token: None,
            allow_unauthenticated_remote: false,
            cors_origins: Vec::new(),
            baseline_path: None,
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(5),
            max_concurrent_requests: 64,
            max_streams: 16,
            max_uri_bytes: 8 * 1024,
            instance: None,
            open_browser: OpenBrowser::Never,
        }
    }
}

/// Why an [`ApiConfig`] was refused. Nothing was bound.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiConfigError {
    /// A non-loopback address needs a token (or an explicit opt-out).
    #[error(
        "refusing to serve the API on non-loopback address {0} without a token: set ApiConfig::token \
         (clients then send `Authorization: Bearer <token>`), or set allow_unauthenticated_remote = true \
         if anyone on that network may read and change your app's performance data"
    )]
    RemoteWithoutToken(SocketAddr),
    /// An empty token would accept anyone.
    #[error("ApiConfig::token is empty: use None for no token, or a non-empty secret")]
    EmptyToken,
    /// A limit of zero would refuse every request.
    #[error("ApiConfig::{0} must be greater than zero")]
    ZeroLimit(&'static str),
    /// A limit too large to be a limit.
    #[error("ApiConfig::{0} is too large (at most {1})")]
    TooLarge(&'static str, usize),
    /// Whitespace around a token can never match what clients send.
    #[error("ApiConfig::token has leading or trailing whitespace")]
    TokenWhitespace,
    /// `cors_origins = ["*"]` lets any web page read (and, without a token, change) the data.
    #[error(
        "ApiConfig::cors_origins contains \"*\" but no token is set: any web page could read and change your app's performance data; list the origins or set a token"
    )]
    AnyOriginWithoutToken,
}

impl ApiConfig {
    /// Checks the settings before anything binds.
    ///
    /// ```
    /// use rfm_perf::{ApiConfig, ApiConfigError};
    /// let remote = ApiConfig { bind: "0.0.0.0:8501".parse().unwrap(), ..Default::default() };
    /// assert!(matches!(remote.validate(), Err(ApiConfigError::RemoteWithoutToken(_))));
    /// let with_token = ApiConfig { token: Some("s3cret".into()), ..remote };
    /// assert!(with_token.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ApiConfigError> {
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ApiConfigError::EmptyToken);
        }
        if self.token.as_deref().is_some_and(|t| t.trim() != t) {
            return Err(ApiConfigError::TokenWhitespace);
        }
        if self.token.is_none() && self.cors_origins.iter().any(|o| o == "*") {
            return Err(ApiConfigError::AnyOriginWithoutToken);
        }
        if !self.bind.ip().is_loopback()
            && self.token.is_none()
            && !self.allow_unauthenticated_remote
        {
            return Err(ApiConfigError::RemoteWithoutToken(self.bind));
        }
        for (name, v) in [
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("max_streams", self.max_streams),
            ("max_uri_bytes", self.max_uri_bytes),
        ] {
            if v == 0 {
                return Err(ApiConfigError::ZeroLimit(name));
            }
        }
        for (name, v, max) in [
            (
                "max_concurrent_requests",
                self.max_concurrent_requests,
                1 << 20,
            ),
            ("max_streams", self.max_streams, 1 << 16),
            ("max_uri_bytes", self.max_uri_bytes, 1 << 20),
        ] {
            if v > max {
                return Err(ApiConfigError::TooLarge(name, max));
            }
        }
        if self.request_timeout.is_zero() {
            return Err(ApiConfigError::ZeroLimit("request_timeout"));
        }
        if self.header_read_timeout.is_zero() {
            return Err(ApiConfigError::ZeroLimit("header_read_timeout"));
        }
        Ok(())
    }
}
