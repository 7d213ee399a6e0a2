//! The message enums: what a client may send and what the server answers or pushes.

use serde::{Deserialize, Serialize};

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Optional first message: the protocol version the client speaks and, optionally, a
    /// stable user id shared by the tabs of one browser (presence counts it once). Without
    /// `hello` the connection is its own user.
    Hello {
        protocol_version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// Join (or re-join) a room under a display name. With `since`, the reply's history is
    /// every message after that `seq` (if still available) instead of the recent tail.
    Join {
        room: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
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
    /// Application-level keep-alive for clients that cannot send WebSocket pings (browsers).
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on every connection.
    Welcome {
        protocol_version: u32,
        /// This connection's user id (as proposed in `hello`, else one the server chose).
        user_id: String,
        /// The interval at which the server sends WebSocket pings, in milliseconds.
        heartbeat_ms: u64,
    },
    /// Sent after `hello` was accepted, with the user id now in force.
    Hello {
        protocol_version: u32,
        user_id: String,
    },
    /// Reply to `join`: who is here and the history (recent tail, or everything after `since`).
    Joined {
        room: String,
        members: Vec<Member>,
        history: Vec<ChatMessage>,
        /// Highest `seq` assigned in this room so far (0 when empty).
        last_seq: u64,
        /// True when `since` was given but older messages were no longer all available:
        /// `history` is then the recent tail and the client should reload rather than merge.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        gap: bool,
    },
    /// A chat message, to every member of the room, the sender included (its ack).
    Chat(ChatMessage),
    MemberJoined {
        room: String,
        member: Member,
    },
    MemberLeft {
        room: String,
        member: Member,
    },
    /// Reply to `leave`.
    Left {
        room: String,
    },
    /// A member is typing (relayed from its `typing`; the sender's own tabs get it too).
    Typing {
        room: String,
        member: Member,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// Reply to `history`: the page, oldest first (empty when nothing precedes `before`).
    History {
        room: String,
        messages: Vec<ChatMessage>,
        /// True iff the room has stored messages older than the first one in `messages`.
        has_more: bool,
    },
    Error {
        code: ErrorCode,
        message: String,
        /// The room the failed request named, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<String>,
        /// The `client_id` of the chat message that failed, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

/// A person present in a room. One entry per user, however many connections it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
}

/// A stored chat message as the server assigned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub room: String,
    /// Per-room, strictly increasing from 1, persistent across restarts.
    pub seq: u64,
    pub sender: Member,
    pub text: String,
    /// Server time when the message was accepted, milliseconds since the Unix epoch.
    pub ts: u64,
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Machine-readable error codes; `message` says the same for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    BadJson,
    /// The JSON has a `type` this server does not know.
    UnknownType,
    /// A field is missing or has the wrong type.
    InvalidMessage,
    InvalidRoom,
    InvalidName,
    NameTooLong,
    InvalidText,
    TextTooLong,
    /// The connection sent to a room it has not joined.
    NotJoined,
    /// Too many messages; slow down. Persisting floods close the connection.
    RateLimited,
    /// The client speaks another protocol version: reload to update.
    ProtocolMismatch,
    /// `hello` after the connection already joined rooms.
    HelloTooLate,
    /// The server could not complete the request (storage failure, shutting down).
    Unavailable,
}
