//! What a room task is asked to do: [`Command`], and the moderation and operator actions
//! and figures it carries.

use crate::access::Who;
use crate::broker::{ConnId, NodeId, Outbox, Relay};
use tandem_shared::{Member, Role, ServerMsg};
use tokio::sync::oneshot;

#[derive(Debug)]
pub(crate) enum Command {
    Join {
        conn: ConnId,
        who: Who,
        name: String,
        since: Option<u64>,
        invite: Option<String>,
        outbox: Outbox,
        /// Fires with whether the connection is in the room now.
        done: oneshot::Sender<bool>,
    },
    /// A page of stored history for a joined connection. (Answered on `reply`, which works
    /// whether or not the connection is still in the room.)
    History {
        conn: ConnId,
        before: Option<u64>,
        limit: usize,
        reply: Outbox,
    },
    Moderate {
        conn: ConnId,
        action: Moderation,
        reply: Outbox,
    },
    /// A page of the room's members for a joined connection.
    Members {
        conn: ConnId,
        after: Option<String>,
        limit: usize,
        reply: Outbox,
    },
    Chat {
        conn: ConnId,
        text: String,
        client_id: Option<String>,
    },
    Typing {
        conn: ConnId,
    },
    /// Leave on request (`done` fires once the connection is out) or because it closed.
    Leave {
        conn: ConnId,
        done: Option<oneshot::Sender<()>>,
    },
    /// Cluster: an event from another node about this room.
    Remote {
        node: NodeId,
        relay: Relay,
    },
    /// Cluster: a node is dead or gone; its members leave.
    NodeGone(NodeId),
    /// Cluster: a node is heard from (again): ask it who it has here.
    NodeSeen,
    /// Cluster: the backplane link is back; read what was missed from the store and
    /// restate presence.
    Resync,
    /// The publish API: a backend's message, sent as `sender` (a bot); `reply` gets the
    /// stored message (`chat`) or the refusal (`error`).
    Publish {
        conn: ConnId,
        sender: Member,
        text: String,
        client_id: Option<String>,
        reply: oneshot::Sender<ServerMsg>,
    },
    /// The admin API: the room's figures.
    Stats {
        reply: oneshot::Sender<RoomStats>,
    },
    /// The admin API: an operator's moderation (nobody's rights are checked), or closing
    /// the room; `reply` gets the refusal (`error`) if there is one.
    Operate {
        action: Operation,
        reply: oneshot::Sender<Result<(), ServerMsg>>,
    },
}

/// What an operator does to a room through the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Moderate(Moderation),
    /// Everyone out of the chat, presence and the document (not kept out: make the room
    /// read-only, or ban, for that).
    Close,
}

/// A live room's figures, for the admin API.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RoomStats {
    pub(crate) room: String,
    /// People in the room (through every node).
    pub(crate) members: usize,
    /// Connections to it through this node.
    pub(crate) connections: usize,
    pub(crate) last_seq: u64,
    /// Messages posted in the last 60 s.
    pub(crate) messages_last_minute: u64,
    pub(crate) read_only: bool,
    pub(crate) private: bool,
}

/// What a moderator asks of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Moderation {
    Kick { user: String, ban: bool },
    SetRole { user: String, role: Role },
    SetReadOnly(bool),
    RotateInvite,
}

impl Moderation {
    /// What it does to the people in the room, as the other nodes are told it (rotating the
    /// invite does nothing to anyone).
    pub(crate) fn effect(&self) -> Option<crate::broker::relay::Action> {
        use crate::broker::relay::Action;
        match self {
            Moderation::Kick { user, ban } => Some(Action::Kick {
                user: user.clone(),
                ban: *ban,
            }),
            Moderation::SetRole { user, role } => Some(Action::SetRole {
                user: user.clone(),
                role: *role,
            }),
            Moderation::SetReadOnly(read_only) => Some(Action::SetReadOnly {
                read_only: *read_only,
            }),
            Moderation::RotateInvite => None,
        }
    }
}
