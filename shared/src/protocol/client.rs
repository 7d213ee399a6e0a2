//! What a client may send: [`ClientMsg`].

use super::Role;
use serde::{Deserialize, Serialize};

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First message on every (re)connection: the protocol version the client speaks and,
    /// to be the same user again, the `token` a `welcome` or `hello` gave it. Without a token
    /// (or with one the server refuses: `error {code: "bad_token"}`) the connection is the
    /// fresh user its `welcome` named. Tabs with the same token are one user.
    Hello {
        protocol_version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// Instead of `token`: a JWT from the app embedding Tandem (its user, name, expiry
        /// and rooms with rights). See README, "Embedding".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jwt: Option<String>,
    },
    /// Join (or re-join) a room under a display name. With `since`, the reply's history is
    /// every message after that `seq` (if still available) instead of the recent tail. A
    /// private room needs its `invite` the first time (after that the user is a member).
    Join {
        room: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invite: Option<String>,
    },
    /// Create a room. Only private rooms are created this way (public ones exist by being
    /// joined): the server names it (an unguessable id) and answers `room_created` with the
    /// invite that lets others in. The creator is its owner.
    CreateRoom {
        private: bool,
        name: String,
    },
    /// Post to a joined room. `client_id` is an idempotency key: a repeat from the same user
    /// is acknowledged with the original message and not stored or broadcast again.
    Chat {
        room: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Leave {
        room: String,
    },
    /// The user is typing in a joined room. Ephemeral: relayed to the room, never stored.
    /// Clients send it at most every couple of seconds while typing.
    Typing {
        room: String,
    },
    /// Scrollback: a page of a joined room's stored messages, answered with
    /// [`ServerMsg::History`]. The page is the newest `limit` messages with `seq < before`
    /// (without `before`: the newest of the room), oldest first. `limit` defaults to
    /// [`HISTORY_PAGE_DEFAULT`](crate::limits::HISTORY_PAGE_DEFAULT) and is clamped to
    /// [`HISTORY_PAGE_MAX`](crate::limits::HISTORY_PAGE_MAX); `before` and `limit` must be at
    /// least 1. To page back, send the `seq` of the oldest message held as the next `before`.
    History {
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// A page of who is in a joined room, by user id from after `after` (the `next` of the
    /// previous page); `limit` defaults to and is clamped at the server's list bound.
    Members {
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Owner (or `moderate` right): remove `user` from the room now (chat, presence,
    /// document); with `ban`, for good.
    Kick {
        room: String,
        user: String,
        #[serde(default)]
        ban: bool,
    },
    /// Owner: make `user` a member (may write) or a viewer (read-only).
    SetRole {
        room: String,
        user: String,
        role: Role,
    },
    /// Owner: make the whole room read-only for everyone but its owner, or writable again.
    SetReadOnly {
        room: String,
        read_only: bool,
    },
    /// Owner: a new invite for a private room; the old one stops working (members stay).
    RotateInvite {
        room: String,
    },
    /// A fresh app JWT for a connection that said `hello {jwt}`, before the old one expires
    /// (same `sub`); otherwise the connection is closed with 4401 when it expires.
    Refresh {
        jwt: String,
    },
    /// Application-level keep-alive for clients that cannot send WebSocket pings (browsers).
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
}
