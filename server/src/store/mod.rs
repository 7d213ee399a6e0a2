//! Durable storage: the [`Store`] trait the rooms and documents use, and its implementations.
//!
//! Only this module knows SQL. Calls are synchronous; room and document tasks run them on the
//! blocking pool. A room's chat history and its shared document are stored independently.

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;
use tandem_shared::{ids::RoomName, ChatMessage};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What a room needs when it is loaded: where its `seq` counter stands and its recent tail.
#[derive(Debug, Default, Clone)]
pub struct RoomSnapshot {
    pub last_seq: u64,
    /// The most recent messages, oldest first.
    pub recent: Vec<Arc<ChatMessage>>,
}

/// What a room's shared document is made of on disk: the last compacted state and the
/// updates stored since, each a Yjs v1 update.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// The whole document as one update, as of update id `upto` (empty: no snapshot yet).
    pub snapshot: Vec<u8>,
    /// The id of the last update folded into `snapshot` (0: none).
    pub upto: u64,
    /// The updates after `upto`, oldest first, with their ids (consecutive from `upto + 1`).
    pub updates: Vec<(u64, Vec<u8>)>,
}

impl StoredDoc {
    /// The id of the last stored update (0 for a new document).
    pub fn last_id(&self) -> u64 {
        self.updates.last().map_or(self.upto, |(id, _)| *id)
    }
}

/// Durable chat history and documents. A call that returned `Ok` survives a process crash.
pub trait Store: Send + Sync + 'static {
    /// The room's counter and up to `tail` most recent messages.
    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError>;

    /// Store messages (of any rooms) in one transaction, all or none.
    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<(), StoreError>;

    /// The room's document: its snapshot and the update log after it.
    fn load_doc(&self, room: &RoomName) -> Result<StoredDoc, StoreError>;

    /// Append updates to the room's document log in one transaction, all or none; they get
    /// the ids `first_id`, `first_id + 1`, … (the caller, the document's one owner, counts).
    fn append_doc_updates(
        &self,
        room: &RoomName,
        first_id: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError>;

    /// Replace the room's snapshot with `snapshot`, which includes every update up to and
    /// including id `upto`, and drop those updates from the log, in one transaction.
    fn compact_doc(&self, room: &RoomName, snapshot: &[u8], upto: u64) -> Result<(), StoreError>;
}
