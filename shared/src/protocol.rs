//! The message enums: what a client may send and what the server answers or pushes.

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

/// Server → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on every connection: a fresh identity, the public `user_id` others see
    /// and the secret `token` that proves it (keep it; send it in `hello` next time).
    Welcome {
        protocol_version: u32,
        user_id: String,
        token: String,
        /// The interval at which the server sends WebSocket pings, in milliseconds.
        heartbeat_ms: u64,
    },
    /// Reply to `hello`: the identity now in force, with its token (refreshed when it was
    /// getting old: keep the newest). No token for an app's user (the app's JWT is theirs).
    Hello {
        protocol_version: u32,
        user_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
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
        /// The room's title, for a private room (its `room` is an id).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// The joiner's role in a private room (`owner`, `member`, `viewer`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        /// Only the owner may write (and edit the document) right now.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        read_only: bool,
        /// The invite link's secret, for the owner of a private room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invite: Option<String>,
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
    /// Reply to `create_room`: the new room's id, its title and its invite.
    RoomCreated {
        room: String,
        name: String,
        invite: String,
    },
    /// Reply to `rotate_invite`: the new invite (the old one no longer works).
    Invite {
        room: String,
        invite: String,
    },
    /// To everyone in the room: it became read-only (or writable again).
    RoomUpdated {
        room: String,
        read_only: bool,
    },
    /// To everyone in the room: `user`'s role changed.
    RoleChanged {
        room: String,
        user: String,
        role: Role,
    },
    /// To the connections of a user removed from the room (then they are out of it): for
    /// good with `banned`, else for a while.
    Kicked {
        room: String,
        banned: bool,
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
    /// In a private room: the member's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// What a user may do in a private room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Created the room: moderates it, and writes even when it is read-only.
    Owner,
    /// Came in with the invite: reads, writes, edits the document.
    Member,
    /// Reads, and sees the document change, but cannot write or edit.
    Viewer,
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
    /// Too many messages, or too many joins (`--joins-per-sec`, with `room`); slow down.
    /// Persisting floods of messages close the connection.
    RateLimited,
    /// The client speaks another protocol version: reload to update.
    ProtocolMismatch,
    /// `hello` after the connection already joined rooms.
    HelloTooLate,
    /// The `token` in `hello` is not one this server issued, was tampered with or expired:
    /// the connection keeps the fresh identity of its `welcome` (a `hello` reply follows).
    BadToken,
    /// A `client_id` this user already used with another text: idempotency keys name one
    /// message.
    ClientIdReused,
    /// Not allowed: a private room without its invite, a banned user, writing in a
    /// read-only room, moderating without the right. (Whether a private room exists is not
    /// revealed: a wrong id and a wrong invite get the same answer.)
    Forbidden,
    /// The app JWT is invalid, expired, or does not allow this (see README, "Embedding").
    BadJwt,
    /// The server could not complete the request (storage failure, shutting down).
    Unavailable,
    /// `join` of one room more than a connection may be in at once (`--max-rooms-per-conn`):
    /// leave one first. The connection stays open.
    TooManyRooms,
}
