//! Chat history storage: the [`Store`] trait the rooms use, and its implementations.
//!
//! Only this module knows SQL. Calls are synchronous; room tasks run them on the blocking pool.

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

/// Durable chat history. An `append` that returned `Ok` survives a process crash.
pub trait Store: Send + Sync + 'static {
    /// The room's counter and up to `tail` most recent messages.
    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError>;

    /// Store messages (of any rooms) in one transaction, all or none.
    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<(), StoreError>;
}
