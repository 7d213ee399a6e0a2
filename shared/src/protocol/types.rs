//! The values messages carry: members and their roles, chat messages, error codes.

use serde::{Deserialize, Serialize};

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
