//! Durable storage: the [`Store`] trait the rooms and documents use, and its implementations.
//!
//! Only this module knows SQL. Calls are synchronous; room and document tasks run them on the
//! blocking pool. A room's chat history and its shared document are stored independently.

mod memory;
mod postgres;
mod sqlite;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::access::RoomAccess;
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
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// No connection to Postgres within the pool's timeout (the message is the last
    /// connection error).
    #[error("postgres unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("schema migration: {0}")]
    Migration(String),
}

/// What a room needs when it is loaded: where its `seq` counter stands and its recent tail.
#[derive(Debug, Default, Clone)]
pub struct RoomSnapshot {
    pub last_seq: u64,
    /// The most recent messages, oldest first.
    pub recent: Vec<Arc<ChatMessage>>,
}

/// One page of a room's history, as [`Store::history`] returns it.
#[derive(Debug, Default, Clone)]
pub struct HistoryPage {
    /// Consecutive stored messages, oldest first.
    pub messages: Vec<Arc<ChatMessage>>,
    /// Whether the room has stored messages older than the first of `messages` (with no
    /// `messages`: older than `before`).
    pub has_more: bool,
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

/// A page's SQL bounds: `before` as a column value (no stored seq reaches `i64::MAX`, so a
/// larger one means "from the end"), and the rows to fetch: one beyond the page says whether
/// older ones remain.
pub(crate) fn page_bounds(before: Option<u64>, limit: usize) -> (i64, i64) {
    let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    (before, fetch)
}

impl HistoryPage {
    /// The page from rows read newest first, [`page_bounds`]' one extra included.
    pub(crate) fn from_newest(mut messages: Vec<Arc<ChatMessage>>, limit: usize) -> HistoryPage {
        let has_more = messages.len() > limit;
        messages.truncate(limit);
        messages.reverse();
        HistoryPage { messages, has_more }
    }
}

/// A role as the stores write it.
pub(crate) fn role_name(role: tandem_shared::Role) -> &'static str {
    use tandem_shared::Role;
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
        Role::Viewer => "viewer",
    }
}

/// A role as the stores wrote it.
pub(crate) fn role_from(name: &str) -> Result<tandem_shared::Role, StoreError> {
    use tandem_shared::Role;
    Ok(match name {
        "owner" => Role::Owner,
        "member" => Role::Member,
        "viewer" => Role::Viewer,
        other => return Err(StoreError::Corrupt(format!("unknown role {other:?}"))),
    })
}

/// Durable chat history and documents. A call that returned `Ok` survives a process crash.
pub trait Store: Send + Sync + 'static {
    /// The room's counter and up to `tail` most recent messages.
    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError>;

    /// The newest `limit` of the room's messages with `seq < before` (any `seq` without
    /// `before`), oldest first, and whether older ones remain.
    fn history(
        &self,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError>;

    /// Store one room's new messages in one transaction, all or none, and return them as
    /// stored, in the same order. The embedded stores keep the room's numbering (they return
    /// the input). A shared store (Postgres) numbers them itself from the room's counter
    /// (consecutive, gapless whichever node calls), and for a message whose
    /// `(sender.id, client_id)` it already holds returns that stored message instead,
    /// storing nothing for it.
    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<Vec<Arc<ChatMessage>>, StoreError>;

    /// The room's document: its snapshot and the update log after it.
    fn load_doc(&self, room: &RoomName) -> Result<StoredDoc, StoreError>;

    /// What a replica that has every update up to `after` is missing: the updates after it
    /// and, if compaction dropped some of those, the snapshot too (`snapshot` empty and `upto`
    /// = 0 otherwise). `after = 0` is the whole document (load_doc).
    fn load_doc_since(&self, room: &RoomName, after: u64) -> Result<StoredDoc, StoreError> {
        let mut doc = self.load_doc(room)?;
        if doc.upto <= after {
            doc.snapshot = Vec::new();
            doc.upto = 0;
        }
        doc.updates.retain(|(id, _)| *id > after);
        Ok(doc)
    }

    /// Append updates to the room's document log in one transaction, all or none; returns the
    /// id of the first (the rest follow consecutively). Embedded stores use `first_id` (the
    /// document's one owner counts); a shared store allocates from the document's counter.
    fn append_doc_updates(
        &self,
        room: &RoomName,
        first_id: u64,
        updates: &[Vec<u8>],
    ) -> Result<u64, StoreError>;

    /// Replace the room's snapshot with `snapshot`, which includes every update up to and
    /// including id `upto`, and drop those updates from the log, in one transaction. A shared
    /// store does it under a Postgres advisory lock on the room: if another node holds it, it
    /// skips (`Ok`); and it never replaces a snapshot with one of a smaller `upto`.
    fn compact_doc(&self, room: &RoomName, snapshot: &[u8], upto: u64) -> Result<(), StoreError>;

    /// The room's rules (private or public, owner, invite, roles, bans), if any were stored.
    fn load_access(&self, room: &RoomName) -> Result<Option<RoomAccess>, StoreError>;

    /// Replace the room's rules, all or none.
    fn save_access(&self, room: &RoomName, rules: &RoomAccess) -> Result<(), StoreError>;

    /// Whether the store answers now (`/readyz`).
    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_shared::Member;

    fn message(room: &str, seq: u64) -> Arc<ChatMessage> {
        Arc::new(ChatMessage {
            room: room.into(),
            seq,
            sender: Member {
                id: "u1".into(),
                name: "Ada".into(),
                role: None,
            },
            text: format!("m{seq}"),
            ts: 1_700_000_000_000 + seq,
            client_id: (seq % 2 == 0).then(|| format!("c{seq}")),
        })
    }

    /// The seqs of a page and its `has_more`.
    fn page(
        store: &dyn Store,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> (Vec<u64>, bool) {
        let page = store.history(room, before, limit).unwrap();
        (page.messages.iter().map(|m| m.seq).collect(), page.has_more)
    }

    /// Paging through a room's history, on a store whose rooms are new. Shared with the
    /// Postgres tests.
    pub(super) fn pages_history(store: &dyn Store) {
        let (room, other) = (
            RoomName::new("lobby").unwrap(),
            RoomName::new("side").unwrap(),
        );
        assert_eq!(page(store, &room, None, 10), (vec![], false), "empty room");
        let batch: Vec<_> = (1..=25)
            .map(|seq| message("lobby", seq))
            .chain((1..=3).map(|seq| message("side", seq)))
            .collect();
        // One room per call; every store numbers a new room's messages as they come.
        for part in [&batch[..20], &batch[20..25], &batch[25..]] {
            assert_eq!(store.append(part).unwrap(), part, "stored as given");
        }

        assert_eq!(page(store, &room, None, 10), ((16..=25).collect(), true));
        assert_eq!(page(store, &room, Some(16), 10), ((6..=15).collect(), true));
        assert_eq!(page(store, &room, Some(6), 10), ((1..=5).collect(), false));
        assert_eq!(
            page(store, &room, Some(11), 10),
            ((1..=10).collect(), false)
        );
        assert_eq!(page(store, &room, Some(1), 10), (vec![], false));
        assert_eq!(
            page(store, &room, Some(u64::MAX), 3),
            (vec![23, 24, 25], true)
        );
        assert_eq!(page(store, &room, None, 100), ((1..=25).collect(), false));
        assert_eq!(page(store, &room, Some(5), 0), (vec![], true));
        assert_eq!(page(store, &other, None, 10), ((1..=3).collect(), false));
        // Messages come back as stored.
        let got = store.history(&room, Some(3), 2).unwrap().messages;
        assert_eq!(got, [message("lobby", 1), message("lobby", 2)]);
    }

    /// A room's rules come back as they were saved, and a save replaces them whole. Shared
    /// with the Postgres tests.
    pub(super) fn keeps_access(store: &dyn Store) {
        use tandem_shared::Role;
        let room = RoomName::new("p-x").unwrap();
        assert_eq!(store.load_access(&room).unwrap(), None);
        let mut rules = RoomAccess::new_private("own", "Team".into());
        rules.add_member("m");
        rules.roles.insert("v".into(), Role::Viewer);
        rules.banned.insert("b".into(), None);
        rules.banned.insert("k".into(), Some(1_234));
        rules.read_only = true;
        store.save_access(&room, &rules).unwrap();
        assert_eq!(store.load_access(&room).unwrap(), Some(rules.clone()));
        rules.roles.remove("m");
        rules.banned.clear();
        rules.invite = Some("new".into());
        store.save_access(&room, &rules).unwrap();
        assert_eq!(store.load_access(&room).unwrap(), Some(rules));
    }

    #[test]
    fn load_doc_since_keeps_the_snapshot_only_when_it_is_needed() {
        let store = MemoryStore::default();
        let room = RoomName::new("doc").unwrap();
        let ups = |names: &[&str]| {
            names
                .iter()
                .map(|n| n.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            store
                .append_doc_updates(&room, 1, &ups(&["a", "b", "c"]))
                .unwrap(),
            1
        );
        store.compact_doc(&room, b"ab", 2).unwrap();
        assert_eq!(store.append_doc_updates(&room, 4, &ups(&["d"])).unwrap(), 4);
        let ids = |doc: &StoredDoc| doc.updates.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        for after in [0, 1] {
            let doc = store.load_doc_since(&room, after).unwrap();
            assert_eq!(
                (doc.snapshot.as_slice(), doc.upto),
                (&b"ab"[..], 2),
                "after {after}"
            );
            assert_eq!(ids(&doc), [3, 4]);
        }
        for (after, want) in [(2, vec![3, 4]), (3, vec![4]), (4, vec![])] {
            let doc = store.load_doc_since(&room, after).unwrap();
            assert_eq!((doc.snapshot.len(), doc.upto), (0, 0), "after {after}");
            assert_eq!(ids(&doc), want);
        }
        assert_eq!(
            store.load_doc_since(&room, 0).unwrap(),
            store.load_doc(&room).unwrap()
        );
    }

    #[test]
    fn memory_store_pages_history() {
        pages_history(&MemoryStore::default());
        keeps_access(&MemoryStore::default());
    }

    #[test]
    fn sqlite_store_pages_history() {
        let dir = tempfile::tempdir().unwrap();
        pages_history(&SqliteStore::open(dir.path()).unwrap());
        keeps_access(&SqliteStore::open(dir.path()).unwrap());
    }
}
