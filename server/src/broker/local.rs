//! The in-process [`Broker`]: a map from room to its subscribers' outboxes.

use super::{Broker, ConnId, Frame, Outbox};
use parking_lot::RwLock;
use std::{collections::HashMap, sync::Arc};
use tandem_shared::ids::RoomName;

/// A room's subscribers, shared immutably between `publish` calls.
type Subscribers = Arc<[(ConnId, Outbox)]>;

#[derive(Default)]
pub struct LocalBroker {
    /// Copy-on-write subscriber lists: `publish` clones the `Arc` under a brief read lock and
    /// delivers without holding it; (un)subscribe rebuild the list. Joins are rare next to
    /// broadcasts, so this trades O(members) per join for lock-free delivery.
    rooms: RwLock<HashMap<RoomName, Subscribers>>,
}

impl Broker for LocalBroker {
    fn subscribe(&self, room: &RoomName, conn: ConnId, outbox: Outbox) {
        let mut rooms = self.rooms.write();
        let subs = rooms.entry(room.clone()).or_insert_with(|| Arc::new([]));
        let mut list: Vec<_> = subs.iter().filter(|(c, _)| *c != conn).cloned().collect();
        list.push((conn, outbox));
        *subs = list.into();
    }

    fn unsubscribe(&self, room: &RoomName, conn: ConnId) {
        let mut rooms = self.rooms.write();
        if let Some(subs) = rooms.get_mut(room) {
            let list: Vec<_> = subs.iter().filter(|(c, _)| *c != conn).cloned().collect();
            if list.is_empty() {
                rooms.remove(room);
            } else {
                *subs = list.into();
            }
        }
    }

    fn publish(&self, room: &RoomName, frame: &Frame) {
        let subs = self.rooms.read().get(room).cloned();
        for (_, outbox) in subs.iter().flat_map(|s| s.iter()) {
            outbox.deliver(frame.clone());
        }
    }
}
