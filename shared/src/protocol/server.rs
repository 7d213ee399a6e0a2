//! What the server answers or pushes: [`ServerMsg`].

use super::{ChatMessage, ErrorCode, Member, Role};
use serde::{Deserialize, Serialize};

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
        /// A cluster's nodes, as WebSocket origins (`wss://host[:port]`): where to reconnect
        /// when this one stops answering. Empty (absent) for a single server.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        nodes: Vec<String>,
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
    /// In a big room `members` is bounded (the first by id, and whoever is typing): `count` is
    /// how many are here; `members` pages the rest.
    Joined {
        room: String,
        members: Vec<Member>,
        /// How many members are here (the joiner included).
        #[serde(default)]
        count: u64,
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
    /// Who came and went since the last one, at most one per room per tick (100 ms): apply
    /// `leaves` (user ids), then `joins` (new members, or a new name). `count` is how many are
    /// here now. With `full`, `joins` is the whole list as far as it goes (a resync after
    /// presence frames had to be dropped): replace the list with it. In a big room the lists
    /// are bounded; `count` is always right.
    Presence {
        room: String,
        joins: Vec<Member>,
        leaves: Vec<String>,
        count: u64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        full: bool,
    },
    /// Reply to `members`: a page of who is here, by user id, and where the next page starts.
    Members {
        room: String,
        members: Vec<Member>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Reply to `leave`.
    Left { room: String },
    /// Who is typing (relayed from their `typing`, coalesced per tick and capped; the senders'
    /// own tabs get it too).
    Typing { room: String, members: Vec<Member> },
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
    Invite { room: String, invite: String },
    /// To everyone in the room: it became read-only (or writable again).
    RoomUpdated { room: String, read_only: bool },
    /// To everyone in the room: `user`'s role changed.
    RoleChanged {
        room: String,
        user: String,
        role: Role,
    },
    /// To the connections of a user removed from the room (then they are out of it): for
    /// good with `banned`, else for a while.
    Kicked { room: String, banned: bool },
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
