//! What nodes of a cluster tell each other through the backplane: [`Relay`] events of a room
//! or a document, and the nodes' own liveness, each in an [`Envelope`] naming its node.
//!
//! Everything relayed is either already stored (a chat message, a document update, new
//! rules) or soft state that a node restates in full when asked (presence, awareness), so a
//! lost event is healed: by the next one of the room (a `seq` or update id that skips shows
//! the gap, and the receiver reads what it missed from the store), by a resync when the link
//! comes back, or by the sender's next full statement.

use serde::{Deserialize, Serialize};
use tandem_shared::{ChatMessage, Member, Role};

/// A node of the cluster: random per process, so a restarted node is a new one.
pub type NodeId = u64;

/// One event on the backplane.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The node it comes from (a node ignores its own).
    pub node: NodeId,
    /// The room (chat events) or document (document events) it is about; none for a node's
    /// own liveness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(flatten)]
    pub relay: Relay,
}

/// What happened, as the other nodes need to know it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Relay {
    /// A chat message, committed to the shared store.
    Chat { msg: ChatMessage },
    /// The sending node's own presence changes in the room since its last tick: users who
    /// now have a connection through it, and users who no longer have one.
    Presence {
        joined: Vec<Member>,
        left: Vec<String>,
    },
    /// Everyone with a connection to the room through the sending node (it replaces what
    /// the receiver knew of that node).
    PresenceFull { members: Vec<Member> },
    /// "Tell me who you have in this room": every node with the room live answers with its
    /// `PresenceFull`.
    PresenceAsk,
    /// A member is typing.
    Typing { member: Member },
    /// The room's rules changed and were stored (an invite used, a role, read-only, a ban):
    /// reload them, and apply what the action does to the people here.
    Rules {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
    /// A document update, stored under `id` (ids of a document are consecutive).
    DocUpdate {
        id: u64,
        #[serde(with = "b64")]
        update: Vec<u8>,
    },
    /// An awareness update (y-protocols) from a connection of the sending node.
    Awareness {
        #[serde(with = "b64")]
        update: Vec<u8>,
    },
    /// The sending node is alive (sent every heartbeat interval).
    Heartbeat,
    /// The sending node is shutting down: forget its members now.
    Gone,
}

/// A moderation action whose effects other nodes apply to their own connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    Kick { user: String, ban: bool },
    SetRole { user: String, role: Role },
    SetReadOnly { read_only: bool },
}

impl Envelope {
    pub fn encode(&self) -> Vec<u8> {
        // Only strings, numbers and vectors of them: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Envelope, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The backplane channel it goes on: one per room, one for the nodes.
    pub fn channel(&self) -> String {
        match &self.room {
            Some(room)
                if matches!(
                    self.relay,
                    Relay::DocUpdate { .. } | Relay::Awareness { .. }
                ) =>
            {
                format!("{CHANNEL_PREFIX}doc:{room}")
            }
            Some(room) => format!("{CHANNEL_PREFIX}room:{room}"),
            None => format!("{CHANNEL_PREFIX}nodes"),
        }
    }
}

/// Every channel Tandem uses starts with this (a node subscribes to `tandem:*`).
pub const CHANNEL_PREFIX: &str = "tandem:";

/// Binary payloads as base64 strings inside the JSON.
mod b64 {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_pick_their_channel() {
        let doc = Envelope {
            node: 7,
            room: Some("lobby".into()),
            relay: Relay::DocUpdate {
                id: 3,
                update: vec![0, 1, 255],
            },
        };
        let json = String::from_utf8(doc.encode()).unwrap();
        assert_eq!(
            json,
            r#"{"node":7,"room":"lobby","t":"doc_update","id":3,"update":"AAH/"}"#
        );
        let back = Envelope::decode(json.as_bytes()).unwrap();
        assert_eq!(back.relay, doc.relay);
        assert_eq!(back.channel(), "tandem:doc:lobby");
        let beat = Envelope {
            node: 7,
            room: None,
            relay: Relay::Heartbeat,
        };
        assert_eq!(beat.channel(), "tandem:nodes");
        let rules = Envelope {
            node: 1,
            room: Some("p-x".into()),
            relay: Relay::Rules {
                action: Some(Action::Kick {
                    user: "u".into(),
                    ban: true,
                }),
            },
        };
        let back = Envelope::decode(&rules.encode()).unwrap();
        assert_eq!(back.channel(), "tandem:room:p-x");
        assert_eq!(back.relay, rules.relay);
    }
}
