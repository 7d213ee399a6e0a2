//! Tandem's server: real-time rooms over WebSocket (`/ws`), each room's shared Yjs document
//! (`/yjs/<room>`, the y-websocket protocol), a conformance echo (`/echo`), and the built
//! client, all from one actix-web server.
//!
//! [`run`] is the one entry point, used by `main` and by the tests. Module map: `config`,
//! `http` (routes), `ws` (sessions and codec), `rooms` (room tasks and their pure core),
//! `docs` (document tasks and their core), `broker` (fan-out), `store` (history, documents).

pub mod broker;
mod config;
pub mod docs;
mod error;
mod http;
mod registry;
pub mod rooms;
pub mod store;
mod ws;

pub use config::Config;
pub use error::Error;

use broker::LocalBroker;
use docs::Docs;
use rooms::Rooms;
use std::sync::Arc;
use store::{MemoryStore, SqliteStore, Store};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use ws::session::Shared;

/// Serve on `listener` until `shutdown` is cancelled, then close every WebSocket with 1001,
/// let the rooms and documents finish what they have queued, and return.
pub async fn run(
    listener: std::net::TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    config.validate()?;
    let store: Arc<dyn Store> = if config.memory_store {
        Arc::new(MemoryStore::default())
    } else {
        Arc::new(SqliteStore::open(&config.data_dir)?)
    };
    let docs = Docs::new(store.clone(), config.room_idle(), config.doc_limits());
    let rooms = Rooms::new(store, Arc::new(LocalBroker::default()), config.room_idle());
    let workers = match config.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let timeout = config.shutdown_timeout();
    let shared = Shared {
        rooms: rooms.clone(),
        docs: docs.clone(),
        config: Arc::new(config),
        shutdown: shutdown.clone(),
        sessions: TaskTracker::new(),
    };
    let sessions = shared.sessions.clone();
    let addr = listener.local_addr()?;
    let server = actix_web::HttpServer::new(move || {
        let shared = shared.clone();
        actix_web::App::new().configure(move |cfg| http::configure(cfg, shared))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(timeout.as_secs().max(1))
    .listen(listener)?
    .run();
    let handle = server.handle();
    tracing::info!(%addr, workers, "listening");

    let mut server = std::pin::pin!(server);
    tokio::select! {
        res = &mut server => {
            // The server stopped on its own: an IO failure.
            res?;
            return Ok(());
        }
        _ = shutdown.cancelled() => {}
    }
    tracing::info!("shutting down");
    // Sessions watch the same token: they flush, close with 1001 and end.
    sessions.close();
    if tokio::time::timeout(timeout, sessions.wait())
        .await
        .is_err()
    {
        tracing::warn!(open = sessions.len(), "sessions did not finish in time");
    }
    let stop = handle.stop(true);
    let (res, ()) = tokio::join!(server, stop);
    res?;
    let (rooms_done, docs_done) = tokio::join!(rooms.close(timeout), docs.close(timeout));
    if !rooms_done {
        tracing::warn!("rooms did not finish in time");
    }
    if !docs_done {
        tracing::warn!("documents did not finish in time");
    }
    tracing::info!("stopped");
    Ok(())
}
