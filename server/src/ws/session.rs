//! The per-connection session loop of the room protocol: the only code that touches an
//! `actix_ws::Session` for `/ws`.
//!
//! One task per connection `select!`s over shutdown, the slow-consumer mark, its outbox (frames
//! from rooms, drained in batches so actix writes them in one flush), incoming frames and the
//! heartbeat tick.

use super::codec::{self, DecodeError};
use super::frames::{self, reason, Assembler, Incoming};
use super::ratelimit::{RateLimit, Verdict};
use crate::broker::{ConnId, Frame, Outbox};
use crate::docs::Docs;
use crate::rooms::Rooms;
use crate::Config;
use actix_ws::{CloseCode, CloseReason, MessageStream, Session};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tandem_shared::{ids, ids::RoomName, ClientMsg, ErrorCode, ServerMsg, PROTOCOL_VERSION};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Frames taken from the outbox per write batch.
const WRITE_BATCH: usize = 64;

/// What the session needs from the server, shared by all connections.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) rooms: Rooms,
    pub(crate) docs: Docs,
    pub(crate) config: Arc<Config>,
    pub(crate) shutdown: CancellationToken,
    /// Every session task, so shutdown can wait for them to say goodbye.
    pub(crate) sessions: TaskTracker,
}

struct Conn {
    id: ConnId,
    user: String,
    joined: HashSet<RoomName>,
    outbox: Outbox,
    limit: RateLimit,
}

enum Flow {
    Continue,
    Close(Option<CloseReason>),
}

fn error(code: ErrorCode, message: impl Into<String>, room: Option<&str>) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: message.into(),
        room: room.map(str::to_owned),
        client_id: None,
    }
}

/// Drive one `/ws` connection until it closes.
pub(crate) async fn run(shared: Shared, mut session: Session, stream: MessageStream, id: ConnId) {
    let config = shared.config.clone();
    let mut stream = stream.max_frame_size(config.max_frame);
    let mut assembler = Assembler::new(config.max_frame);
    let (outbox, mut outbox_rx, slow) = Outbox::new(config.outbox_capacity);
    let mut conn = Conn {
        id,
        user: format!("u{:016x}", rand::random::<u64>()),
        joined: HashSet::new(),
        outbox,
        limit: RateLimit::new(config.rate_burst, config.rate_per_sec, Instant::now()),
    };
    tracing::debug!(conn = id, user = %conn.user, "connected");
    let welcome = ServerMsg::Welcome {
        protocol_version: PROTOCOL_VERSION,
        user_id: conn.user.clone(),
        heartbeat_ms: config.heartbeat_ms,
    };
    conn.outbox.deliver(codec::encode(&welcome));

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
                    Incoming::Binary(_) => {
                        let err = error(ErrorCode::InvalidMessage, "binary frames are not part of the room protocol; send JSON text", None);
                        conn.outbox.deliver(codec::encode(&err));
                    }
                    Incoming::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Incoming::Pong => {}
                    Incoming::Close(reason) => break reason.or(Some(CloseCode::Normal.into())),
                }
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

/// Handle one text message. Errors go to the client through its outbox, after anything
/// already queued, so replies stay in order.
async fn handle_text(shared: &Shared, conn: &mut Conn, text: &str) -> Flow {
    let reply = |conn: &Conn, msg: ServerMsg| conn.outbox.deliver(codec::encode(&msg));
    match conn.limit.check(Instant::now()) {
        Verdict::Allow => {}
        Verdict::Refuse { notify } => {
            if notify {
                let msg = format!(
                    "too many messages: at most {} at once and {} per second; this one was dropped",
                    shared.config.rate_burst, shared.config.rate_per_sec
                );
                reply(conn, error(ErrorCode::RateLimited, msg, None));
            }
            return Flow::Continue;
        }
        Verdict::Close => {
            tracing::info!(conn = conn.id, "closing flooding client");
            return Flow::Close(reason(CloseCode::Policy, "rate limit exceeded"));
        }
    }
    let msg = match codec::decode(text) {
        Ok(msg) => msg,
        Err(DecodeError { code, message }) => {
            reply(conn, error(code, message, None));
            return Flow::Continue;
        }
    };
    match msg {
        ClientMsg::Hello {
            protocol_version,
            user_id,
        } => {
            if protocol_version != PROTOCOL_VERSION {
                let msg = format!(
                    "this page speaks protocol {protocol_version} but the server speaks {PROTOCOL_VERSION}: reload the page to update"
                );
                reply(conn, error(ErrorCode::ProtocolMismatch, msg, None));
                return Flow::Close(reason(CloseCode::Policy, "protocol version mismatch"));
            }
            if !conn.joined.is_empty() {
                let msg = "hello must come before joining rooms";
                reply(conn, error(ErrorCode::HelloTooLate, msg, None));
                return Flow::Continue;
            }
            if let Some(user) = user_id {
                if let Err(e) = ids::user_id(&user) {
                    reply(conn, error(e.code, e.message, None));
                    return Flow::Continue;
                }
                conn.user = user;
            }
            let user_id = conn.user.clone();
            reply(
                conn,
                ServerMsg::Hello {
                    protocol_version,
                    user_id,
                },
            );
        }
        ClientMsg::Join { room, name, since } => {
            let (room_name, name) = match (RoomName::new(&room), ids::display_name(&name)) {
                (Ok(r), Ok(n)) => (r, n),
                (Err(e), _) | (_, Err(e)) => {
                    reply(conn, error(e.code, e.message, Some(&room)));
                    return Flow::Continue;
                }
            };
            let joined = shared.rooms.join(
                &room_name,
                conn.id,
                conn.user.clone(),
                name,
                since,
                conn.outbox.clone(),
            );
            match joined.await {
                Ok(()) => {
                    conn.joined.insert(room_name);
                }
                Err(_) => reply(conn, unavailable(&room)),
            }
        }
        ClientMsg::Chat {
            room,
            text,
            client_id,
        } => {
            let fail = |conn: &Conn, e: ids::Invalid| {
                let msg = ServerMsg::Error {
                    code: e.code,
                    message: e.message,
                    room: Some(room.clone()),
                    client_id: client_id.clone(),
                };
                reply(conn, msg);
                Flow::Continue
            };
            let room_name = match RoomName::new(&room) {
                Ok(r) => r,
                Err(e) => return fail(conn, e),
            };
            if !conn.joined.contains(&room_name) {
                let e = ids::Invalid {
                    code: ErrorCode::NotJoined,
                    message: format!("join room {room} before sending to it"),
                };
                return fail(conn, e);
            }
            if let Err(e) = ids::chat_text(&text)
                .and_then(|()| client_id.as_deref().map_or(Ok(()), ids::client_id))
            {
                return fail(conn, e);
            }
            if shared
                .rooms
                .chat(&room_name, conn.id, text, client_id.clone())
                .await
                .is_err()
            {
                reply(conn, unavailable(&room));
            }
        }
        ClientMsg::Leave { room } => {
            let left = match RoomName::new(&room) {
                Ok(r) => conn.joined.take(&r),
                Err(e) => {
                    reply(conn, error(e.code, e.message, Some(&room)));
                    return Flow::Continue;
                }
            };
            let Some(room_name) = left else {
                reply(
                    conn,
                    error(
                        ErrorCode::NotJoined,
                        format!("you are not in room {room}"),
                        Some(&room),
                    ),
                );
                return Flow::Continue;
            };
            // If the room is unavailable the connection is out of it anyway.
            let _ = shared.rooms.leave(&room_name, conn.id).await;
            reply(conn, ServerMsg::Left { room });
        }
        ClientMsg::Typing { room } => match RoomName::new(&room) {
            Ok(r) if conn.joined.contains(&r) => {
                if shared.rooms.typing(&r, conn.id).await.is_err() {
                    reply(conn, unavailable(&room));
                }
            }
            Ok(_) => {
                let msg = format!("join room {room} before typing in it");
                reply(conn, error(ErrorCode::NotJoined, msg, Some(&room)));
            }
            Err(e) => reply(conn, error(e.code, e.message, Some(&room))),
        },
        ClientMsg::Ping { nonce } => reply(conn, ServerMsg::Pong { nonce }),
    }
    Flow::Continue
}

fn unavailable(room: &str) -> ServerMsg {
    error(
        ErrorCode::Unavailable,
        "the room is unavailable right now; try again",
        Some(room),
    )
}
