//! The per-connection session loop of the room protocol: the only code that touches an
//! `actix_ws::Session` for `/ws`.
//!
//! One task per connection `select!`s over shutdown, the slow-consumer mark, incoming frames
//! and the heartbeat tick; what each message does is in `handlers.rs`. Its outbox (frames
//! from rooms, and the session's own replies) goes to the socket without it (`body.rs`).

use super::body::{self, Ends};
use super::codec;
use super::frames::{self, reason, Assembler, Incoming};
use super::handlers::{error, handle_text, Conn, Flow};
use super::limits::{self, Joins};
use super::ratelimit::RateLimit;
use crate::broker::{ConnId, Frame, Outbox};
use crate::docs::Docs;
use crate::rooms::Rooms;
use crate::Config;
use actix_ws::{CloseCode, MessageStream, Session};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tandem_shared::{ErrorCode, ServerMsg, PROTOCOL_VERSION};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// What the session needs from the server, shared by all connections.
#[derive(Clone)]
pub(crate) struct Shared {
    /// Issues and checks the tokens that prove who a connection is.
    pub(crate) identities: Arc<crate::identity::Identities>,
    /// The app's key for its users' JWTs, if it embeds Tandem.
    pub(crate) app_keys: Option<Arc<crate::identity::AppKeys>>,
    pub(crate) rooms: Rooms,
    pub(crate) docs: Docs,
    pub(crate) config: Arc<Config>,
    pub(crate) shutdown: CancellationToken,
    /// Every session task, so shutdown can wait for them to say goodbye.
    pub(crate) sessions: TaskTracker,
    /// WebSocket connections per client address (`--max-conns-per-addr`).
    pub(crate) peers: Arc<super::peers::Peers>,
    /// The live connections, for the admin API.
    pub(crate) conns: crate::connections::Connections,
    /// The keys of the HTTP API.
    pub(crate) api: Arc<crate::api::ApiKeys>,
}

/// Drive one `/ws` connection until it closes.
pub(crate) async fn run(
    shared: Shared,
    (mut session, stream): (Session, MessageStream),
    (outbox, ends): (Outbox<Frame>, Ends<std::convert::Infallible>),
    id: ConnId,
    query_token: Option<String>,
) {
    let config = shared.config.clone();
    let mut stream = stream.max_frame_size(config.max_frame);
    let mut assembler = Assembler::new(config.max_frame);
    let Ends {
        close: mut gone,
        done,
        slow,
    } = ends;
    let mut conn = Conn {
        id,
        user: String::new(),
        app: None,
        joined: HashSet::new(),
        outbox,
        limit: RateLimit::new(config.rate_burst, config.rate_per_sec, Instant::now()),
        joins: Joins::new(&config, Instant::now()),
    };
    // A fresh identity until `hello` proves another.
    let (user, token) = shared.identities.fresh();
    conn.user = user;
    tracing::debug!(conn = id, user = %conn.user, "connected");
    let welcome = ServerMsg::Welcome {
        protocol_version: PROTOCOL_VERSION,
        user_id: conn.user.clone(),
        token,
        heartbeat_ms: config.heartbeat_ms,
        nodes: config.node_ws_origins(),
    };
    conn.outbox.deliver(codec::encode(&welcome));
    if let Some(token) = query_token {
        super::access::hello_with(&shared, &mut conn, &token);
    }

    let mut heartbeat = tokio::time::interval(config.heartbeat());
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    // Whether the close we send answers the client's.
    let mut answering = false;

    let closed = shared.conns.closer(id);
    let close = loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break reason(CloseCode::Away, "server shutting down"),
            _ = closed.cancelled() => break super::closed_by_operator(id),
            _ = slow.cancelled() => {
                tracing::info!(conn = id, "closing slow consumer");
                break reason(CloseCode::Again, "slow consumer");
            }
            // The body is gone: so is the connection.
            _ = &mut gone => break None,
            msg = stream.recv() => {
                let msg = match msg {
                    None => break None,
                    Some(Err(err)) => {
                        tracing::debug!(conn = id, %err, "protocol error");
                        break Some(frames::close_for(&err));
                    }
                    Some(Ok(msg)) => msg,
                };
                last_seen = Instant::now();
                let incoming = match assembler.push(msg) {
                    Ok(Some(incoming)) => incoming,
                    Ok(None) => continue,
                    Err(close) => break Some(close),
                };
                match incoming {
                    Incoming::Text(text) => {
                        // Boxed: most of the time a session waits, and its future (kept
                        // for the connection's life) should not hold a message's state.
                        if let Flow::Close(close) = Box::pin(handle_text(&shared, &mut conn, &text)).await {
                            break close;
                        }
                    }
                    // Binary frames and pings count against the rate limit like messages.
                    Incoming::Binary(_) => match limits::admit(&shared, &mut conn) {
                        Err(Flow::Close(close)) => break close,
                        Err(Flow::Continue) => {}
                        Ok(()) => {
                            let err = error(ErrorCode::InvalidMessage, "binary frames are not part of the room protocol; send JSON text", None);
                            conn.outbox.deliver(codec::encode(&err));
                        }
                    },
                    Incoming::Ping(bytes) => match limits::admit(&shared, &mut conn) {
                        Err(Flow::Close(close)) => break close,
                        Err(Flow::Continue) => {}
                        Ok(()) => {
                            if session.pong(&bytes).await.is_err() {
                                break None;
                            }
                        }
                    },
                    Incoming::Pong => {}
                    Incoming::Close(reason) => {
                        answering = true;
                        break reason.or(Some(CloseCode::Normal.into()));
                    }
                }
            }
            _ = expiry(conn.expires_at()) => {
                tracing::info!(conn = id, user = %conn.user, "app JWT expired");
                break reason(CloseCode::Other(4401), "app token expired: sign in again");
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > config.client_timeout() {
                    tracing::info!(conn = id, "heartbeat timeout");
                    break reason(CloseCode::Policy, "heartbeat timeout");
                }
                if session.ping(b"").await.is_err() {
                    break None;
                }
            }
        }
    };

    // Boxed, like `handle_text`: the goodbye's state is not kept for the connection's life.
    Box::pin(async move {
        for room in conn.joined.drain() {
            shared.rooms.disconnect(&room, id).await;
        }
        if let Some(close) = &close {
            tracing::debug!(conn = id, code = ?close.code, "closing");
        }
        // What is queued (acks, the error that explains the close) goes out before the
        // close frame, unless the peer is why the queue is full (`body.rs`).
        body::finish(
            session,
            &mut stream,
            close,
            answering,
            done,
            config.heartbeat(),
        )
        .await;
        tracing::debug!(conn = id, "disconnected");
    })
    .await;
}

/// Resolves when an app JWT's connection is due to end (never without one).
async fn expiry(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
