//! The live WebSocket connections, for the admin API: each one's endpoint, peer address,
//! user and rooms, since when; and an operator's order to close one (or all of a user's).
//!
//! One table behind a lock, written when a connection opens, joins, leaves and closes (not
//! per message). A connection's entry goes with the guard its task holds.

use crate::broker::ConnId;
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Cloneable handle to the table.
#[derive(Clone, Default)]
pub(crate) struct Connections {
    table: Arc<Mutex<HashMap<ConnId, Entry>>>,
}

struct Entry {
    endpoint: &'static str,
    peer: String,
    since_ms: u64,
    user: String,
    rooms: BTreeSet<String>,
    /// Cancelled when an operator closes the connection.
    close: CancellationToken,
}

/// A connection as the admin API lists it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct ConnInfo {
    pub(crate) id: ConnId,
    pub(crate) endpoint: String,
    pub(crate) peer: String,
    /// When it opened, ms since the Unix epoch.
    pub(crate) since_ms: u64,
    /// Its user (empty until it joins a room or opens a document).
    pub(crate) user: String,
    pub(crate) rooms: Vec<String>,
}

/// Held by a connection's task: its entry is removed when it is dropped.
pub(crate) struct Open {
    conns: Connections,
    id: ConnId,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.conns.table.lock().remove(&self.id);
    }
}

impl Connections {
    pub(crate) fn open(&self, id: ConnId, endpoint: &'static str, peer: String) -> Open {
        let entry = Entry {
            endpoint,
            peer,
            since_ms: crate::rooms::now_ms(),
            user: String::new(),
            rooms: BTreeSet::new(),
            close: CancellationToken::new(),
        };
        self.table.lock().insert(id, entry);
        Open {
            conns: self.clone(),
            id,
        }
    }

    /// Cancelled when an operator closes connection `id` (never, for one not in the table).
    pub(crate) fn closer(&self, id: ConnId) -> CancellationToken {
        self.table
            .lock()
            .get(&id)
            .map_or_else(CancellationToken::new, |e| e.close.clone())
    }

    /// `id` is in `room` as `user` (`true`) or left it.
    pub(crate) fn joined(&self, id: ConnId, user: &str, room: &str, joined: bool) {
        if let Some(entry) = self.table.lock().get_mut(&id) {
            user.clone_into(&mut entry.user);
            if joined {
                entry.rooms.insert(room.to_owned());
            } else {
                entry.rooms.remove(room);
            }
        }
    }

    /// Every connection, by id.
    pub(crate) fn list(&self) -> Vec<ConnInfo> {
        let table = self.table.lock();
        let mut list: Vec<ConnInfo> = table
            .iter()
            .map(|(id, e)| ConnInfo {
                id: *id,
                endpoint: e.endpoint.to_owned(),
                peer: e.peer.clone(),
                since_ms: e.since_ms,
                user: e.user.clone(),
                rooms: e.rooms.iter().cloned().collect(),
            })
            .collect();
        list.sort_by_key(|c| c.id);
        list
    }

    /// Close connection `id`; whether there was one.
    pub(crate) fn close(&self, id: ConnId) -> bool {
        let table = self.table.lock();
        table.get(&id).inspect(|e| e.close.cancel()).is_some()
    }

    /// Close every connection of `user`; how many there were.
    pub(crate) fn close_user(&self, user: &str) -> usize {
        let table = self.table.lock();
        let of_user = table.values().filter(|e| e.user == user);
        of_user.inspect(|e| e.close.cancel()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_closes_connections() {
        let conns = Connections::default();
        let a = conns.open(1, "ws", "127.0.0.1:1".into());
        let _b = conns.open(2, "yjs", "127.0.0.1:2".into());
        conns.joined(1, "u1", "lobby", true);
        conns.joined(1, "u1", "b", true);
        conns.joined(1, "u1", "b", false);
        conns.joined(2, "u1", "lobby", true);
        let list = conns.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].rooms, vec!["lobby".to_owned()]);
        assert_eq!(list[1].endpoint, "yjs");
        let closer = conns.closer(1);
        assert!(conns.close(1));
        assert!(closer.is_cancelled());
        assert!(!conns.close(9));
        assert_eq!(conns.close_user("u1"), 2);
        assert!(conns.closer(2).is_cancelled());
        drop(a);
        assert_eq!(
            conns.list().len(),
            1,
            "a closed connection leaves the table"
        );
    }
}
