//! The pure room state machine: members, presence, `seq` assignment, history tail, dedup,
//! and the room's rules applied to them (who may write; moderation's effects, in
//! `moderation.rs`).
//!
//! It never awaits and touches no socket or store: each input returns [`Output`]s that the
//! room task (see `task.rs`) persists and delivers in order. The rules themselves are
//! changed through the [`crate::access::AccessBook`]; the room is handed the result.

mod cluster;
mod moderation;
mod post;
mod presence;

pub(crate) use post::client_id_reused;
pub(crate) use presence::Pending;

use crate::access::{RoomAccess, Who};
use crate::broker::ConnId;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tandem_shared::{
    ids::RoomName, limits::HISTORY_LEN, ChatMessage, ErrorCode, Member, Role, ServerMsg,
};

/// Messages kept in memory per room, for `joined` replies and `since` catch-up.
pub(crate) const TAIL_LEN: usize = 1000;
/// `(user, client_id)` pairs remembered for idempotency, per room (most recent first out).
pub(crate) const DEDUP_LEN: usize = TAIL_LEN;

#[derive(Debug)]
pub(crate) enum Output {
    /// Send to one connection.
    To(ConnId, ServerMsg),
    /// Send to every subscribed connection.
    All(ServerMsg),
    /// A new message: persist it, then send it to everyone (the sender's copy is its ack).
    /// If persisting fails the room is rolled back and `conn` gets an error instead.
    Posted { conn: ConnId, msg: Arc<ChatMessage> },
    /// From here on `conn` receives what is sent to everyone.
    Subscribe(ConnId),
    /// From here on `conn` no longer receives what is sent to everyone.
    Unsubscribe(ConnId),
    /// Send to every subscribed connection, but droppable: presence and typing, which a full
    /// outbox loses (the connection is resynced later) rather than closing for them.
    Coalesced(ServerMsg),
}

struct Present {
    name: String,
    /// Connections to the room through this node.
    conns: usize,
    /// Other nodes that have the user in the room (cluster mode; `cluster.rs`).
    nodes: usize,
}

pub(crate) struct Room {
    name: RoomName,
    last_seq: u64,
    /// Most recent messages, oldest first, at most `TAIL_LEN`.
    tail: VecDeque<Arc<ChatMessage>>,
    /// Present users by id; one entry however many connections (tabs) a user has.
    members: BTreeMap<String, Present>,
    /// Joined connections and who they are.
    conns: HashMap<ConnId, Who>,
    /// The room's rules, as the access book last published them.
    rules: Arc<RoomAccess>,
    /// Presence and typing since the last tick, sent coalesced (`presence.rs`).
    pending: Pending,
    /// Members listed at most in a `joined` reply or a presence frame.
    list_max: usize,
    dedup: HashMap<(String, String), Arc<ChatMessage>>,
    dedup_order: VecDeque<(String, String)>,
    /// Cluster mode: the other nodes' members, and this node's own changes to relay.
    cluster: Option<cluster::Nodes>,
}

impl Room {
    /// A room continuing from its stored state: `recent` oldest first.
    pub(crate) fn new(
        name: RoomName,
        last_seq: u64,
        recent: Vec<Arc<ChatMessage>>,
        rules: Arc<RoomAccess>,
    ) -> Room {
        let mut room = Room {
            name,
            last_seq,
            tail: VecDeque::with_capacity(recent.len().min(TAIL_LEN)),
            members: BTreeMap::new(),
            conns: HashMap::new(),
            rules,
            pending: Pending::default(),
            list_max: presence::LIST_MAX,
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            cluster: None,
        };
        for msg in recent {
            room.remember(msg);
        }
        room
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    fn room(&self) -> String {
        self.name.as_str().to_owned()
    }

    /// The rules in force.
    pub(crate) fn rules(&self) -> &Arc<RoomAccess> {
        &self.rules
    }

    /// New rules (from the access book, after a change was stored).
    pub(crate) fn set_rules(&mut self, rules: Arc<RoomAccess>) {
        self.rules = rules;
    }

    /// Who a joined connection is.
    pub(crate) fn who(&self, conn: ConnId) -> Option<&Who> {
        self.conns.get(&conn)
    }

    fn role_of(&self, user: &str) -> Option<Role> {
        self.rules.roles.get(user).copied()
    }

    /// A present user as the wire shows it.
    fn member(&self, user: &str) -> Member {
        Member {
            id: user.to_owned(),
            name: self
                .members
                .get(user)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            role: self.role_of(user),
        }
    }

    fn error(&self, conn: ConnId, code: ErrorCode, message: &str) -> Output {
        Output::To(
            conn,
            ServerMsg::Error {
                code,
                message: message.to_owned(),
                room: Some(self.room()),
                client_id: None,
            },
        )
    }

    /// Join or re-join. The reply carries the members and either the recent history or, with
    /// `since`, every message after it (or `gap: true` if the tail no longer reaches back).
    /// The rules must already admit `who` (see [`RoomAccess::admit`]).
    pub(crate) fn join(
        &mut self,
        conn: ConnId,
        who: Who,
        name: String,
        since: Option<u64>,
        out: &mut Vec<Output>,
    ) {
        let user = who.user.clone();
        let owner = self.rules.can_moderate(&who);
        let rejoin = self.conns.insert(conn, who).is_some();
        let (announce, first_here) = match self.members.get_mut(&user) {
            Some(p) => {
                let first_here = !rejoin && p.conns == 0;
                if !rejoin {
                    p.conns += 1;
                }
                let renamed = p.name != name;
                p.name = name.clone();
                (renamed, first_here || renamed)
            }
            None => {
                self.members.insert(
                    user.clone(),
                    Present {
                        name: name.clone(),
                        conns: 1,
                        nodes: 0,
                    },
                );
                (true, true)
            }
        };
        if first_here {
            self.came_here(&user);
        }
        let (history, gap) = self.history(since);
        out.push(Output::To(
            conn,
            ServerMsg::Joined {
                room: self.room(),
                members: self.listed(),
                count: self.members.len() as u64,
                history,
                last_seq: self.last_seq,
                gap,
                title: self.rules.title.clone(),
                role: self.role_of(&user),
                read_only: self.rules.read_only,
                invite: owner.then(|| self.rules.invite.clone()).flatten(),
            },
        ));
        // The others learn at the next tick (the joiner may see itself there too).
        if announce {
            let member = Member {
                role: self.role_of(&user),
                id: user,
                name,
            };
            self.pending.joined(member);
        }
        if !rejoin {
            out.push(Output::Subscribe(conn));
        }
    }

    fn history(&self, since: Option<u64>) -> (Vec<ChatMessage>, bool) {
        let after = |since: u64| self.tail.iter().filter(move |m| m.seq > since);
        match since {
            None => (self.recent(HISTORY_LEN), false),
            Some(since) if since >= self.last_seq => (Vec::new(), false),
            Some(since) => {
                // The tail reaches back far enough if it holds `since + 1`.
                let oldest = self.tail.front().map_or(self.last_seq + 1, |m| m.seq);
                if oldest <= since + 1 {
                    (after(since).map(|m| ChatMessage::clone(m)).collect(), false)
                } else {
                    (self.recent(HISTORY_LEN), true)
                }
            }
        }
    }

    fn recent(&self, n: usize) -> Vec<ChatMessage> {
        let skip = self.tail.len().saturating_sub(n);
        self.tail
            .iter()
            .skip(skip)
            .map(|m| ChatMessage::clone(m))
            .collect()
    }

    /// Relay (at the next tick) that a member is typing; ignored from a connection that has
    /// not joined or may not write. Returns who is typing (for the other nodes).
    pub(crate) fn typing(&mut self, conn: ConnId) -> Option<Member> {
        let who = self.conns.get(&conn)?;
        // Someone who may not write is not typing anything anyone will read.
        if self.rules.may_write(who).is_err() {
            return None;
        }
        let member = self.member(&who.user);
        self.pending.typing(member.clone());
        Some(member)
    }

    /// The connection is gone (or left). Returns whether it was a member.
    pub(crate) fn disconnect(&mut self, conn: ConnId, out: &mut Vec<Output>) -> bool {
        let Some(Who { user, .. }) = self.conns.remove(&conn) else {
            return false;
        };
        out.push(Output::Unsubscribe(conn));
        let Some(p) = self.members.get_mut(&user) else {
            return true;
        };
        p.conns -= 1;
        if p.conns == 0 {
            let elsewhere = p.nodes > 0;
            self.left_here(&user);
            if !elsewhere {
                self.members.remove(&user);
                self.pending.left(user);
            }
        }
        true
    }
}

#[cfg(test)]
#[path = "room_tests.rs"]
mod tests;
