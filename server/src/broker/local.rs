//! The in-process [`Broker`]: a map from room to its subscribers' outboxes.

use super::{Broker, ConnId, Frame, Outbox};
use parking_lot::RwLock;
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};
use tandem_shared::ids::RoomName;

/// A room's subscribers, shared immutably between `publish` calls.
type Subscribers = Arc<[(ConnId, Outbox)]>;

#[derive(Default)]
pub struct LocalBroker {
    /// Copy-on-write subscriber lists: `publish` clones the `Arc` under a brief read lock and
    /// delivers without holding it; (un)subscribe rebuild the list — once per batch of joins
    /// (`subscribe_many`), so a join storm costs O(members) per batch, not per join.
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
        let n = subs.as_ref().map_or(0, |s| s.len());
        crate::metrics::METRICS.deliveries.inc_by(n as u64);
        for (_, outbox) in subs.iter().flat_map(|s| s.iter()) {
            outbox.deliver(frame.clone());
        }
    }

    fn publish_droppable(&self, room: &RoomName, frame: &Frame) {
        let subs = self.rooms.read().get(room).cloned();
        for (_, outbox) in subs.iter().flat_map(|s| s.iter()) {
            outbox.offer(frame.clone());
        }
    }

    fn subscribe_many(&self, room: &RoomName, conns: Vec<(ConnId, Outbox)>) {
        if conns.is_empty() {
            return;
        }
        let mut rooms = self.rooms.write();
        let subs = rooms.entry(room.clone()).or_insert_with(|| Arc::new([]));
        let new: HashSet<ConnId> = conns.iter().map(|(c, _)| *c).collect();
        let mut list: Vec<_> = subs
            .iter()
            .filter(|(c, _)| !new.contains(c))
            .cloned()
            .collect();
        list.extend(conns);
        *subs = list.into();
    }

    fn unsubscribe_many(&self, room: &RoomName, conns: &[ConnId]) {
        let gone: HashSet<ConnId> = conns.iter().copied().collect();
        let mut rooms = self.rooms.write();
        if let Some(subs) = rooms.get_mut(room) {
            let list: Vec<_> = subs
                .iter()
                .filter(|(c, _)| !gone.contains(c))
                .cloned()
                .collect();
            if list.is_empty() {
                rooms.remove(room);
            } else {
                *subs = list.into();
            }
        }
    }
}
