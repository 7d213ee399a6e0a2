//! The room in a cluster: who is present through the other nodes (one member however many
//! nodes and connections a user has), this node's own presence changes to relay, and the
//! messages the shared store numbered, taken in `seq` order.

use super::{Output, Present, Room};
use crate::broker::NodeId;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tandem_shared::{ChatMessage, Member, ServerMsg};

/// What a room knows of the other nodes.
#[derive(Debug, Default)]
pub(crate) struct Nodes {
    /// The users each other node has in the room.
    remote: HashMap<NodeId, BTreeSet<String>>,
    /// Users who got their first connection here since the last tick (or a new name).
    came: BTreeSet<String>,
    /// Users whose last connection here went since the last tick.
    went: BTreeSet<String>,
}

impl Nodes {
    pub(super) fn changed(&self) -> bool {
        !self.came.is_empty() || !self.went.is_empty()
    }
}

impl Room {
    /// Cluster mode: the shared store numbers messages, and the other nodes' members count.
    pub(crate) fn in_cluster(mut self) -> Room {
        self.cluster = Some(Nodes::default());
        self
    }

    pub(crate) fn in_cluster_mode(&self) -> bool {
        self.cluster.is_some()
    }

    pub(super) fn came_here(&mut self, user: &str) {
        if let Some(c) = &mut self.cluster {
            c.went.remove(user);
            c.came.insert(user.to_owned());
        }
    }

    pub(super) fn left_here(&mut self, user: &str) {
        if let Some(c) = &mut self.cluster {
            c.came.remove(user);
            c.went.insert(user.to_owned());
        }
    }

    /// This node's presence changes since the last call, to relay: who came, who went.
    pub(crate) fn take_changes_here(&mut self) -> Option<(Vec<Member>, Vec<String>)> {
        let c = self.cluster.as_mut()?;
        if !c.changed() {
            return None;
        }
        let (came, went) = (std::mem::take(&mut c.came), std::mem::take(&mut c.went));
        let joined = came
            .iter()
            .filter(|u| self.members.get(*u).is_some_and(|p| p.conns > 0))
            .map(|u| self.member(u))
            .collect();
        Some((joined, went.into_iter().collect()))
    }

    /// Everyone present through this node.
    pub(crate) fn members_here(&self) -> Vec<Member> {
        self.members
            .iter()
            .filter(|(_, p)| p.conns > 0)
            .map(|(id, _)| self.member(id))
            .collect()
    }

    fn add_remote(&mut self, node: NodeId, member: Member) {
        let Some(c) = &mut self.cluster else { return };
        let new_here = c.remote.entry(node).or_default().insert(member.id.clone());
        match self.members.get_mut(&member.id) {
            Some(p) => {
                if new_here {
                    p.nodes += 1;
                }
                // The newest name wins (a rename through another node).
                if p.name != member.name {
                    p.name = member.name;
                    let shown = self.member(&member.id);
                    self.pending.joined(shown);
                }
            }
            None => {
                let id = member.id.clone();
                self.members.insert(
                    id.clone(),
                    Present {
                        name: member.name,
                        conns: 0,
                        nodes: 1,
                    },
                );
                let shown = self.member(&id);
                self.pending.joined(shown);
            }
        }
    }

    fn remove_remote(&mut self, node: NodeId, user: &str) {
        let Some(c) = &mut self.cluster else { return };
        if !c.remote.get_mut(&node).is_some_and(|s| s.remove(user)) {
            return;
        }
        if let Some(p) = self.members.get_mut(user) {
            p.nodes -= 1;
            if p.nodes == 0 && p.conns == 0 {
                self.members.remove(user);
                self.pending.left(user.to_owned());
            }
        }
    }

    /// Another node's presence changes.
    pub(crate) fn remote_presence(&mut self, node: NodeId, joined: Vec<Member>, left: Vec<String>) {
        for user in left {
            self.remove_remote(node, &user);
        }
        for member in joined {
            self.add_remote(node, member);
        }
    }

    /// Everyone another node has in the room, replacing what was known of it.
    pub(crate) fn remote_full(&mut self, node: NodeId, members: Vec<Member>) {
        let now: BTreeSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let gone: Vec<String> = self
            .cluster
            .as_ref()
            .and_then(|c| c.remote.get(&node))
            .map(|s| {
                s.iter()
                    .filter(|u| !now.contains(u.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for user in gone {
            self.remove_remote(node, &user);
        }
        for member in members {
            self.add_remote(node, member);
        }
    }

    /// A node is dead or gone: its members leave (those with no connection elsewhere).
    pub(crate) fn node_gone(&mut self, node: NodeId) {
        let users: Vec<String> = self
            .cluster
            .as_ref()
            .and_then(|c| c.remote.get(&node))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for user in users {
            self.remove_remote(node, &user);
        }
        if let Some(c) = &mut self.cluster {
            c.remote.remove(&node);
        }
    }

    /// Someone typing through another node.
    pub(crate) fn remote_typing(&mut self, member: Member) {
        if self.members.contains_key(&member.id) {
            self.pending.typing(member);
        }
    }

    /// The seq of the last message taken.
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// A message the shared store numbered (stored here or on another node): taken, and
    /// sent to everyone, if it is the next one. Returns whether it was.
    pub(crate) fn accept(&mut self, msg: Arc<ChatMessage>, out: &mut Vec<Output>) -> bool {
        if msg.seq != self.last_seq + 1 {
            return false;
        }
        out.push(Output::All(ServerMsg::Chat(ChatMessage::clone(&msg))));
        self.remember(msg);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{RoomAccess, Who};
    use tandem_shared::ids::RoomName;

    fn room() -> Room {
        let name = RoomName::new("lobby").unwrap();
        Room::new(
            name,
            0,
            Vec::new(),
            Arc::new(RoomAccess::unrecorded("lobby")),
        )
        .in_cluster()
    }

    fn member(id: &str) -> Member {
        Member {
            id: id.into(),
            name: id.to_uppercase(),
            role: None,
        }
    }

    fn who(user: &str) -> Who {
        Who {
            user: user.into(),
            app: None,
        }
    }

    fn ids(room: &Room) -> Vec<&str> {
        room.members.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_user_through_several_nodes_is_one_member_until_the_last_goes() {
        let mut r = room();
        let mut out = Vec::new();
        r.join(1, who("ada"), "ADA".into(), None, &mut out);
        r.remote_presence(7, vec![member("ada"), member("bob")], vec![]);
        r.remote_full(8, vec![member("bob"), member("cy")]);
        assert_eq!(ids(&r), ["ada", "bob", "cy"]);
        // Only this node's own connections are relayed as ours.
        let (came, went) = r.take_changes_here().unwrap();
        assert_eq!((came.len(), came[0].id.as_str(), went.len()), (1, "ada", 0));
        assert_eq!(r.members_here().len(), 1);
        // Ada's connection here closes: she is still present through node 7.
        r.disconnect(1, &mut out);
        assert_eq!(ids(&r), ["ada", "bob", "cy"]);
        assert_eq!(r.take_changes_here().unwrap().1, ["ada"]);
        // Node 8 restates its members without cy; node 7 dies.
        r.remote_full(8, vec![member("bob")]);
        assert_eq!(ids(&r), ["ada", "bob"]);
        r.node_gone(7);
        assert_eq!(ids(&r), ["bob"], "bob is still there through node 8");
        r.node_gone(8);
        assert!(r.members.is_empty());
    }

    #[test]
    fn messages_are_taken_in_seq_order_only() {
        let mut r = room();
        let mut out = Vec::new();
        let msg = |seq| {
            Arc::new(ChatMessage {
                room: "lobby".into(),
                seq,
                sender: member("ada"),
                text: format!("m{seq}"),
                ts: 0,
                client_id: None,
            })
        };
        assert!(!r.accept(msg(2), &mut out), "1 is missing");
        assert!(r.accept(msg(1), &mut out));
        assert!(!r.accept(msg(1), &mut out), "once");
        assert!(r.accept(msg(2), &mut out));
        assert_eq!((r.last_seq(), out.len()), (2, 2));
        // A chat here is not numbered by the room in a cluster: the store does it.
        r.join(1, who("ada"), "ADA".into(), None, &mut out);
        out.clear();
        r.chat(1, "hi".into(), None, 5, &mut out);
        assert!(matches!(&out[..], [Output::Posted { msg, .. }] if msg.seq == 0));
        assert_eq!(r.last_seq(), 2);
    }
}
