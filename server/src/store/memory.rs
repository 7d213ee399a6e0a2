//! An in-memory [`Store`]: for tests and benchmarks; forgets everything on exit.

use super::{RoomSnapshot, Store, StoreError};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};
use tandem_shared::{ids::RoomName, ChatMessage};

#[derive(Default)]
pub struct MemoryStore {
    /// A plain lock: calls are short and never held across an await.
    rooms: Mutex<HashMap<String, Vec<Arc<ChatMessage>>>>,
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

    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<(), StoreError> {
        let mut rooms = self.rooms.lock();
        for m in msgs {
            rooms.entry(m.room.clone()).or_default().push(m.clone());
        }
        Ok(())
    }
}
