//! What each room-protocol message does for a `/ws` connection: rate limiting, decoding,
//! validation, then the call into [`Rooms`](crate::rooms::Rooms). Replies go through the connection's outbox, after
//! anything already queued, so they stay in order with the rooms' frames; nothing here touches
//! the socket.

use super::codec::{self, DecodeError};
use super::frames::reason;
use super::ratelimit::RateLimit;
use super::session::Shared;
use crate::broker::{ConnId, Outbox};
use crate::rooms::JoinRequest;
use actix_ws::{CloseCode, CloseReason};
use std::collections::HashSet;
use std::time::Instant;
use tandem_shared::limits::{HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX};
use tandem_shared::{ids, ids::RoomName, ClientMsg, ErrorCode, ServerMsg, PROTOCOL_VERSION};

/// One connection's protocol state.
pub(super) struct Conn {
    pub(super) id: ConnId,
    /// The user id in force (the welcome's fresh one, or the one a `hello` token proved).
    pub(super) user: String,
    /// When `hello` brought an app JWT: its claims (rooms and rights, name, expiry).
    pub(super) app: Option<crate::identity::AppClaims>,
    pub(super) joined: HashSet<RoomName>,
    pub(super) outbox: Outbox,
    pub(super) limit: RateLimit,
    /// Rooms at once and joins per second (`limits.rs`).
    pub(super) joins: super::limits::Joins,
}

/// Whether the session goes on after a message.
pub(super) enum Flow {
    Continue,
    Close(Option<CloseReason>),
}

pub(super) fn error(code: ErrorCode, message: impl Into<String>, room: Option<&str>) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: message.into(),
        room: room.map(str::to_owned),
        client_id: None,
    }
}

/// Handle one text message. Errors go to the client through its outbox, after anything
/// already queued, so replies stay in order.
pub(super) async fn handle_text(shared: &Shared, conn: &mut Conn, text: &str) -> Flow {
    let reply = |conn: &Conn, msg: ServerMsg| conn.outbox.deliver(codec::encode(&msg));
    if let Err(flow) = super::limits::admit(shared, conn) {
        return flow;
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
            token,
            jwt,
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
            match jwt {
                Some(jwt) => super::access::hello_jwt(shared, conn, &jwt),
                None => hello(shared, conn, token.as_deref()),
            }
        }
        ClientMsg::Join {
            room,
            name,
            since,
            invite,
        } => {
            let (room_name, name) = match (RoomName::new(&room), ids::display_name(&name)) {
                (Ok(r), Ok(n)) => (r, n),
                (Err(e), _) | (_, Err(e)) => {
                    reply(conn, error(e.code, e.message, Some(&room)));
                    return Flow::Continue;
                }
            };
            if let Err(e) = conn.joins.admit(&conn.joined, &room_name, Instant::now()) {
                reply(conn, error(e.code, e.message, Some(&room)));
                return Flow::Continue;
            }
            let req = JoinRequest {
                conn: conn.id,
                who: conn.who(&room_name),
                name: conn.display_name(name),
                since,
                invite,
                outbox: conn.outbox.clone(),
            };
            match shared.rooms.join(&room_name, req).await {
                Ok(true) => {
                    shared
                        .conns
                        .joined(conn.id, &conn.user, room_name.as_str(), true);
                    conn.joined.insert(room_name);
                }
                // Refused (the room said why); if it was a room this connection was in (it
                // was kicked from it), it is not any more.
                Ok(false) => {
                    conn.joined.remove(&room_name);
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
                crate::metrics::METRICS.chat(crate::metrics::refusal(e.code), 1);
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
            shared.conns.joined(conn.id, &conn.user, &room, false);
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
        ClientMsg::History {
            room,
            before,
            limit,
        } => history(shared, conn, room, before, limit).await,
        ClientMsg::Ping { nonce } => reply(conn, ServerMsg::Pong { nonce }),
        ClientMsg::Members { room, after, limit } => {
            members(shared, conn, room, after, limit).await
        }
        msg @ (ClientMsg::CreateRoom { .. }
        | ClientMsg::Kick { .. }
        | ClientMsg::SetRole { .. }
        | ClientMsg::SetReadOnly { .. }
        | ClientMsg::RotateInvite { .. }
        | ClientMsg::Refresh { .. }) => return super::access::handle(shared, conn, msg).await,
    }
    Flow::Continue
}

/// `room` as a name this connection has joined; if it is not, the connection is told why
/// (before `doing` what the request asks) and there is no name.
fn joined_room(conn: &Conn, room: &str, doing: &str) -> Option<RoomName> {
    let refusal = match RoomName::new(room) {
        Ok(name) if conn.joined.contains(&name) => return Some(name),
        Ok(_) => error(
            ErrorCode::NotJoined,
            format!("join room {room} before {doing}"),
            Some(room),
        ),
        Err(e) => error(e.code, e.message, Some(room)),
    };
    conn.outbox.deliver(codec::encode(&refusal));
    None
}

/// `history`: a page of a joined room's stored messages, or an error naming the room.
async fn history(
    shared: &Shared,
    conn: &Conn,
    room: String,
    before: Option<u64>,
    limit: Option<u32>,
) {
    let reply = |msg: ServerMsg| conn.outbox.deliver(codec::encode(&msg));
    let Some(room_name) = joined_room(conn, &room, "reading its history") else {
        return;
    };
    if before == Some(0) {
        let msg = "`before` must be a seq (1 or more); leave it out to read from the newest";
        return reply(error(ErrorCode::InvalidMessage, msg, Some(&room)));
    }
    let limit = match limit.unwrap_or(HISTORY_PAGE_DEFAULT) {
        0 => {
            let msg =
                format!("`limit` must be at least 1 (a page holds at most {HISTORY_PAGE_MAX})");
            return reply(error(ErrorCode::InvalidMessage, msg, Some(&room)));
        }
        // Larger pages are clamped, not refused: the reply's `has_more` tells the rest.
        n => n.min(HISTORY_PAGE_MAX) as usize,
    };
    // The room answers: it knows whether the connection is still in it (not kicked).
    let reply_to = conn.outbox.clone();
    if shared
        .rooms
        .history(&room_name, conn.id, (before, limit), reply_to)
        .await
        .is_err()
    {
        reply(unavailable(&room));
    }
}

/// A page of a joined room's members (the room answers).
async fn members(
    shared: &Shared,
    conn: &Conn,
    room: String,
    after: Option<String>,
    limit: Option<u32>,
) {
    let reply = |msg: ServerMsg| conn.outbox.deliver(codec::encode(&msg));
    let Some(room_name) = joined_room(conn, &room, "listing its members") else {
        return;
    };
    let limit = limit.map_or(usize::MAX, |l| l as usize);
    let page = (after, limit);
    if shared
        .rooms
        .members(&room_name, conn.id, page, conn.outbox.clone())
        .await
        .is_err()
    {
        reply(unavailable(&room));
    }
}

/// Be the user `token` proves (refreshing an old token), or stay the fresh user of the
/// `welcome` when there is none or it is refused; either way the reply names the identity
/// in force and carries its token.
pub(super) fn hello(shared: &Shared, conn: &mut Conn, token: Option<&str>) {
    let reply = |conn: &Conn, msg: ServerMsg| conn.outbox.deliver(codec::encode(&msg));
    let mut refreshed = None;
    if let Some(token) = token {
        match shared.identities.verify(token) {
            Ok(verified) => {
                conn.user = verified.user;
                refreshed = (!verified.stale).then(|| token.to_owned());
            }
            Err(err) => {
                tracing::info!(conn = conn.id, %err, "hello with a bad token");
                let msg = "this identity token is not valid here (forged, altered or expired): \
                           you are a new user";
                reply(conn, error(ErrorCode::BadToken, msg, None));
            }
        }
    }
    let token = refreshed.unwrap_or_else(|| shared.identities.issue(&conn.user));
    reply(
        conn,
        ServerMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            user_id: conn.user.clone(),
            token: Some(token),
        },
    );
}

pub(super) fn unavailable(room: &str) -> ServerMsg {
    error(
        ErrorCode::Unavailable,
        "the room is unavailable right now; try again",
        Some(room),
    )
}
