//! What moderation does to the people in a room once the access book has stored the new
//! rules: a removed user's connections are told and let go, and everyone sees the new roles
//! and whether the room is read-only.

use super::{Output, Room};
use crate::broker::ConnId;
use tandem_shared::{Role, ServerMsg};

impl Room {
    /// `user` is out of the room now: each of their connections gets `kicked` and no more
    /// of the room; the others see them leave. Returns whether they were in it.
    pub(crate) fn remove_user(&mut self, user: &str, banned: bool, out: &mut Vec<Output>) -> bool {
        let conns: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, who)| who.user == user)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in &conns {
            out.push(Output::To(
                *conn,
                ServerMsg::Kicked {
                    room: self.room(),
                    banned,
                },
            ));
            self.disconnect(*conn, out);
        }
        !conns.is_empty()
    }

    /// The room is closed: every user in it (through any node) is out, as if kicked.
    /// Returns who was.
    pub(crate) fn remove_everyone(&mut self, out: &mut Vec<Output>) -> Vec<String> {
        let users: Vec<String> = self.members.keys().cloned().collect();
        for user in &users {
            self.remove_user(user, false, out);
        }
        users
    }

    /// People in the room (through every node), and connections to it through this one.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.members.len(), self.conns.len())
    }

    /// Everyone learns `user`'s new role.
    pub(crate) fn role_changed(&self, user: &str, role: Role, out: &mut Vec<Output>) {
        out.push(Output::All(ServerMsg::RoleChanged {
            room: self.room(),
            user: user.to_owned(),
            role,
        }));
    }

    /// Everyone learns whether the room is read-only now.
    pub(crate) fn read_only_changed(&self, out: &mut Vec<Output>) {
        out.push(Output::All(ServerMsg::RoomUpdated {
            room: self.room(),
            read_only: self.rules.read_only,
        }));
    }
}
