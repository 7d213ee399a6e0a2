//! An in-memory [`Store`]: for tests and benchmarks; forgets everything on exit.

use super::{HistoryPage, RoomSnapshot, Store, StoreError, StoredDoc};
use crate::access::RoomAccess;
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};
use tandem_shared::{ids::RoomName, ChatMessage};

#[derive(Default)]
pub struct MemoryStore {
    /// A plain lock: calls are short and never held across an await.
    rooms: Mutex<HashMap<String, Vec<Arc<ChatMessage>>>>,
    /// Documents by room, kept as they would be on disk. Same kind of lock, same reason.
    docs: Mutex<HashMap<RoomName, StoredDoc>>,
    /// Rooms' rules. Same kind of lock, same reason.
    access: Mutex<HashMap<RoomName, RoomAccess>>,
}

impl Store for MemoryStore {
    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError> {
        let rooms = self.rooms.lock();
        let all = rooms
            .get(room.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(RoomSnapshot {
            last_seq: all.last().map_or(0, |m| m.seq),
            recent: all[all.len().saturating_sub(tail)..].to_vec(),
        })
    }

    fn history(
        &self,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let rooms = self.rooms.lock();
        let all = rooms
            .get(room.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        // A room's messages are appended in `seq` order.
        let end = before.map_or(all.len(), |before| all.partition_point(|m| m.seq < before));
        let start = end.saturating_sub(limit);
        Ok(HistoryPage {
            messages: all[start..end].to_vec(),
            has_more: start > 0,
        })
    }

    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<Vec<Arc<ChatMessage>>, StoreError> {
        let mut rooms = self.rooms.lock();
        for m in msgs {
            rooms.entry(m.room.clone()).or_default().push(m.clone());
        }
        Ok(msgs.to_vec())
    }

    fn load_doc(&self, room: &RoomName) -> Result<StoredDoc, StoreError> {
        Ok(self.docs.lock().get(room).cloned().unwrap_or_default())
    }

    fn append_doc_updates(
        &self,
        room: &RoomName,
        first_id: u64,
        updates: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        let mut docs = self.docs.lock();
        let doc = docs.entry(room.clone()).or_default();
        if first_id <= doc.last_id() {
            return Err(StoreError::Corrupt(format!(
                "document update id {first_id} is taken"
            )));
        }
        doc.updates
            .extend((first_id..).zip(updates.iter().cloned()));
        Ok(first_id)
    }

    fn compact_doc(&self, room: &RoomName, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        let mut docs = self.docs.lock();
        let doc = docs.entry(room.clone()).or_default();
        doc.snapshot = snapshot.to_vec();
        doc.upto = upto;
        doc.updates.retain(|(id, _)| *id > upto);
        Ok(())
    }

    fn load_access(&self, room: &RoomName) -> Result<Option<RoomAccess>, StoreError> {
        Ok(self.access.lock().get(room).cloned())
    }

    fn save_access(&self, room: &RoomName, rules: &RoomAccess) -> Result<(), StoreError> {
        self.access.lock().insert(room.clone(), rules.clone());
        Ok(())
    }
}
