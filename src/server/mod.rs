//! The axum HTTP API (`/api/v1`), authentication and roles.
//!
//! A tour:
//! - [`AppState`] is the one cheap-clone handle every handler gets: the [`Store`], the
//!   questionnaire [`Engine`] (`engine.rs`, the single place validation plugs in) and the
//!   [`Config`].
//! - Each resource module owns its routes (`users.rs`, `questionnaires.rs`,
//!   `assignments.rs`, `sync.rs`, `submissions.rs`, `review.rs`, `progress.rs`,
//!   `exports.rs`, `admin.rs`, `surveys.rs`); [`app`] merges them and adds the layers in one visible place.
//! - `assets.rs` serves the browser client (`web/`) compiled into the binary.
//! - `routes.rs` is the table of every endpoint with its roles; the OpenAPI document at
//!   `/api/openapi.json` is generated from it, and the tests walk it for the role matrix.
//! - Every handler returns `Result<_, ApiError>` (`error.rs`); a write answers only after
//!   its group commit (the store's `Durable::wait`).
//!
//! Deliberately not here: answer validation (the engine's), storage details (the store's),
//! TLS (put a reverse proxy in front for anything beyond a LAN).

mod admin;
pub mod assets;
mod assignments;
mod auth;
mod body;
pub mod credentials;
pub mod engine;
mod error;
mod exports;
mod openapi;
mod progress;
mod questionnaires;
mod review;
pub mod routes;
pub mod seed;
mod submissions;
mod surveys;
mod sync;
mod users;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde::Deserialize;

pub use crate::server::engine::{
    Clock, Engine, EngineError, Finding, LintedDraft, QuestionnaireEngine, UtcOffset, Validated,
};
pub use crate::server::error::ApiError;

use crate::store::Store;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted request body for ordinary endpoints (submissions, drafts).
    pub max_body_bytes: usize,
    /// Largest accepted body for bulk assignment uploads.
    pub max_bulk_bytes: usize,
    /// Largest page a list or sync returns.
    pub max_page: usize,
}

impl Config {
    /// The settings `chainsurvey serve` uses.
    pub fn standard() -> Config {
        Config {
            max_body_bytes: 1024 * 1024,
            max_bulk_bytes: 32 * 1024 * 1024,
            max_page: 1000,
        }
    }
}

/// What every handler shares. Cloning is cheap (three `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub engine: Arc<dyn Engine>,
    pub config: Arc<Config>,
}

/// The whole application, buildable without a socket (tests can `oneshot` it).
pub fn app(state: AppState) -> Router {
    let bulk_limit = state.config.max_bulk_bytes;
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .merge(users::router())
        .merge(questionnaires::router())
        .merge(assignments::router().layer(DefaultBodyLimit::max(bulk_limit)))
        .merge(sync::router())
        .merge(submissions::router())
        .merge(review::router())
        .merge(progress::router())
        .merge(admin::router())
        .merge(exports::router())
        .merge(surveys::router().layer(DefaultBodyLimit::max(bulk_limit)))
        .merge(openapi::router())
        .merge(assets::router())
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see /api/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, lets in-flight requests finish,
/// then flushes the store and stops its committer.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    tokio::task::spawn_blocking(move || store.close())
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)
}

/// A server on 127.0.0.1 (a port the system picks), serving `state` on a runtime thread
/// of its own with `worker_threads` workers (`None`: one per core): for tests and benches.
#[doc(hidden)]
pub struct LoopbackServer {
    pub addr: std::net::SocketAddr,
    /// Send (or drop) to stop the server cleanly: in-flight requests finish, the store is
    /// flushed and closed.
    pub shutdown: tokio::sync::oneshot::Sender<()>,
    /// The runtime thread; join it after shutting down.
    pub thread: std::thread::JoinHandle<()>,
}

/// Starts a [`LoopbackServer`]. The socket is bound before this returns, so requests may
/// be sent at once.
#[doc(hidden)]
pub fn spawn_on_loopback(
    state: AppState,
    worker_threads: Option<usize>,
) -> std::io::Result<LoopbackServer> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = worker_threads {
        builder.worker_threads(n);
    }
    let runtime = builder.enable_all().build()?;
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("chainsurvey-loopback".into())
        .spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        serve(listener, state, async {
                            let _ = stop.await;
                        })
                        .await
                    }
                    Err(err) => Err(err),
                };
                if let Err(err) = served {
                    tracing::error!(error = %err, "the loopback server stopped with an error");
                }
            });
        })?;
    Ok(LoopbackServer {
        addr,
        shutdown,
        thread,
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Clamps a requested page size to `1..=max_page` (default 100).
pub(crate) fn page_size(requested: Option<usize>, config: &Config) -> usize {
    requested.unwrap_or(100).clamp(1, config.max_page)
}

/// The query of a paged list: `?after=KEY&limit=N`.
#[derive(Deserialize)]
pub(crate) struct Page {
    pub after: Option<String>,
    pub limit: Option<usize>,
}

/// The `next` cursor of a paged list: the key of the page's last item when the store says
/// there is more, none otherwise.
pub(crate) fn next_cursor<T>(
    items: &[T],
    more: bool,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    if more { items.last().map(key) } else { None }
}
