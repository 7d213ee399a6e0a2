//! The per-connection session loop of the room protocol: the only code that touches an
//! `actix_ws::Session` for `/ws`.
//!
//! One task per connection `select!`s over shutdown, the slow-consumer mark, its outbox (frames
//! from rooms, drained in batches so actix writes them in one flush), incoming frames and the
//! heartbeat tick. What each message does is in `handlers.rs`.

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

/// Frames taken from the outbox per write batch.
const WRITE_BATCH: usize = 64;

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
}

/// Drive one `/ws` connection until it closes.
pub(crate) async fn run(
    shared: Shared,
    mut session: Session,
    stream: MessageStream,
    id: ConnId,
    query_token: Option<String>,
) {
    let config = shared.config.clone();
    let mut stream = stream.max_frame_size(config.max_frame);
    let mut assembler = Assembler::new(config.max_frame);
    let (outbox, mut outbox_rx, slow) = Outbox::new(config.outbox_capacity);
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
    };
    conn.outbox.deliver(codec::encode(&welcome));
    if let Some(token) = query_token {
        super::access::hello_with(&shared, &mut conn, &token);
    }

    let mut heartbeat = tokio::time::interval(config.heartbeat());
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    // Allocated per burst and released after it, so an idle connection holds no batch buffer.
    let mut batch: Vec<Frame> = Vec::new();

    let close = loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break reason(CloseCode::Away, "server shutting down"),
            _ = slow.cancelled() => {
                tracing::info!(conn = id, "closing slow consumer");
                break reason(CloseCode::Again, "slow consumer");
            }
            n = outbox_rx.recv_many(&mut batch, WRITE_BATCH) => {
                if n == 0 || !write(&mut session, &mut batch, &slow).await {
                    break None;
                }
                batch.shrink_to(0);
            }
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
                        if let Flow::Close(close) = handle_text(&shared, &mut conn, &text).await {
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
                    Incoming::Close(reason) => break reason.or(Some(CloseCode::Normal.into())),
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

    for room in conn.joined.drain() {
        shared.rooms.disconnect(&room, id).await;
    }
    if let Some(close) = close {
        tracing::debug!(conn = id, code = ?close.code, "closing");
        // Flush what is already queued (acks, the error that explains the close), unless the
        // peer is the reason the queue is full.
        if !slow.is_cancelled() {
            while let Ok(frame) = outbox_rx.try_recv() {
                batch.push(frame);
            }
            let _ =
                tokio::time::timeout(config.heartbeat(), write(&mut session, &mut batch, &slow))
                    .await;
        }
        // A peer that does not read cannot receive this; do not wait on it for long.
        let _ = tokio::time::timeout(config.heartbeat(), session.close(Some(close))).await;
    }
    tracing::debug!(conn = id, "disconnected");
}

/// Resolves when an app JWT's connection is due to end (never without one).
async fn expiry(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Write a batch of frames; gives up (false) if the socket is gone or the connection was
/// marked slow while a write was stuck on a peer that does not read.
async fn write(session: &mut Session, batch: &mut Vec<Frame>, slow: &CancellationToken) -> bool {
    for frame in batch.drain(..) {
        tokio::select! {
            sent = session.text(frame) => if sent.is_err() { return false },
            _ = slow.cancelled() => return false,
        }
    }
    true
}
