//! Tandem's server: real-time rooms over WebSocket (`/ws`), each room's shared Yjs document
//! (`/yjs/<room>`, the y-websocket protocol), a conformance echo (`/echo`), and the built
//! client, all from one actix-web server.
//!
//! [`run`] is the one entry point, used by `main` and by the tests. Module map: `config`,
//! `http` (routes), `headers` (security headers), `ws` (sessions and codec), `rooms` (room
//! tasks and their pure core), `docs` (document tasks and their core), `broker` (fan-out),
//! `store` (history, documents).

pub mod access;
mod api;
mod assets;
pub mod broker;
mod cluster;
mod config;
mod connections;
pub mod docs;
mod error;
mod headers;
mod hostcheck;
mod http;
pub mod identity;
mod metrics;
mod registry;
pub mod rooms;
pub mod store;
pub mod wire;
mod ws;

pub use config::{Config, LogFormat};
pub use error::Error;

use broker::{redis::RedisBroker, Broker, LocalBroker, NodeId};
use docs::Docs;
use rooms::Rooms;
use std::sync::Arc;
use store::{MemoryStore, PostgresStore, SqliteStore, Store};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use ws::session::Shared;

/// How long a connection whose response is done but whose request is still open lingers
/// (actix-http reads and discards what the client still sends) before the server closes it:
/// not at all. For a WebSocket that is the time between the close frame (ours, or our echo
/// of the client's) and the end of TCP. RFC 6455 §7.1.1 wants the server to close first,
/// promptly, and clients wait for it, so actix-web's default of 1 s held every closed
/// WebSocket open for 0.5–1 s. A short linger is not possible: actix-http 3.20 computes the
/// deadline from its clock cached every 500 ms, and one that is already past when set is
/// never polled again, so a linger under 500 ms can hang until the client speaks (tested:
/// 50 ms never closed a silent client). Without linger the server closes at once after its
/// close frame; when the server started the close, the client's answering close frame
/// arrives after that and is refused with a reset, after the client has read ours and our
/// FIN. Tandem has no request bodies, so nothing else lingers.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::ZERO;

/// Serve on `listener` until `shutdown` is cancelled, then close every WebSocket with 1001,
/// let the rooms and documents finish what they have queued, and return.
pub async fn run(
    listener: std::net::TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    config.validate()?;
    // A page from one node opens its sockets on the others when its node is gone.
    let mut config = config;
    config
        .allowed_origins
        .extend(config.node_urls.iter().cloned());
    let store: Arc<dyn Store> = match &config.postgres {
        Some(url) => {
            let (url, pool) = (url.clone(), config.postgres_pool);
            let connect = move || PostgresStore::connect(&url, pool);
            let store = tokio::task::spawn_blocking(connect)
                .await
                .map_err(|e| Error::Config(format!("postgres: {e}")))??;
            Arc::new(store)
        }
        None if config.memory_store => Arc::new(MemoryStore::default()),
        None => Arc::new(SqliteStore::open(&config.data_dir)?),
    };
    // The cluster's links and tasks, stopped after the rooms and documents (so that what
    // they relay on the way out still goes).
    let cluster_tasks = TaskTracker::new();
    let cluster_stop = CancellationToken::new();
    let (broker, inbound): (Arc<dyn Broker>, _) = match &config.redis {
        Some(url) => {
            let node: NodeId = rand::random();
            let (broker, inbound) =
                RedisBroker::start(url, node, &cluster_tasks, cluster_stop.clone()).await?;
            tracing::info!(node, "cluster node");
            (Arc::new(broker), Some(inbound))
        }
        None => (Arc::new(LocalBroker::default()), None),
    };
    let key = identity::load_or_create_key(&config.secret_path())?;
    let identities = Arc::new(identity::Identities::new(&key, config.token_ttl()));
    let app_keys = config.app_keys()?.map(Arc::new);
    let api_keys = api::ApiKeys::load(&config)?;
    if api_keys.is_empty() {
        tracing::info!(
            "no API keys (--api-key, --api-key-file): the HTTP API and /admin are locked"
        );
    }
    let book = access::AccessBook::new(store.clone());
    let docs = Docs::new(
        (store.clone(), broker.clone()),
        book.clone(),
        config.room_idle(),
        config.doc_limits(),
    );
    let rooms = Rooms::new(
        store,
        broker.clone(),
        (book, docs.clone()),
        config.room_settings(),
    );
    if let Some(inbound) = inbound {
        let router = cluster::Router {
            broker: broker.clone(),
            rooms: rooms.clone(),
            docs: docs.clone(),
            ttl: config.node_ttl(),
        };
        cluster_tasks.spawn(router.run(inbound, cluster_stop.clone()));
    }
    let workers = match config.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let timeout = config.shutdown_timeout();
    let shared = Shared {
        identities,
        app_keys,
        rooms: rooms.clone(),
        docs: docs.clone(),
        config: Arc::new(config),
        shutdown: shutdown.clone(),
        sessions: TaskTracker::new(),
        peers: Default::default(),
        conns: Default::default(),
        api: Arc::new(api_keys),
    };
    let sessions = shared.sessions.clone();
    let addr = listener.local_addr()?;
    let server = actix_web::HttpServer::new(move || {
        let shared = shared.clone();
        let root = shared.config.static_dir.canonicalize().ok();
        actix_web::App::new()
            // The built client's encodings and caching, innermost: hostcheck and the
            // security headers apply to what it serves.
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                assets::serve(root.clone(), http::leads_out, req, next)
            }))
            // Inside the headers, so that its 403 carries them too.
            .wrap(actix_web::middleware::from_fn(hostcheck::check))
            .wrap(headers::SecurityHeaders::new(
                &shared.config.static_dir,
                shared.config.node_ws_origins(),
            ))
            .configure(move |cfg| http::configure(cfg, shared))
    })
    .workers(workers)
    .client_disconnect_timeout(CLOSE_LINGER)
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
    if broker.node().is_some() {
        // The others forget this node's members now rather than at its silence.
        broker.relay(None, broker::Relay::Gone);
        cluster_stop.cancel();
        cluster_tasks.close();
        if tokio::time::timeout(timeout, cluster_tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("cluster links did not finish in time");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
