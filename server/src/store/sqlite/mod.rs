//! The embedded default [`Store`]: one SQLite file in WAL mode under the data directory.

mod access;

use super::{HistoryPage, RoomSnapshot, Store, StoreError, StoredDoc};
use crate::access::RoomAccess;
use parking_lot::Mutex;
use rusqlite::{params, Connection};
use std::{path::Path, sync::Arc};
use tandem_shared::{ids::RoomName, ChatMessage, Member};

pub struct SqliteStore {
    /// One connection; SQLite serialises writers anyway. A plain lock because every call runs
    /// on the blocking pool and never awaits while holding it.
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    room      TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    user_name TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    ts        INTEGER NOT NULL,
    client_id TEXT,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS doc_snapshots (
    room     TEXT    NOT NULL PRIMARY KEY,
    snapshot BLOB    NOT NULL,
    upto     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS doc_updates (
    room   TEXT    NOT NULL,
    id     INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (room, id)
);
";

impl SqliteStore {
    /// Open (or create) `tandem.sqlite3` in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        let conn = Connection::open(dir.join("tandem.sqlite3"))?;
        // WAL + NORMAL: a committed transaction survives a process crash (not a power cut),
        // and readers never block the writer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(access::SCHEMA)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }
}

fn seq_to_sql(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("seq {seq} out of range")))
}

fn id_from_sql(id: i64) -> Result<u64, StoreError> {
    u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("document update id {id}")))
}

/// A history page newest first, read backwards along the primary key (room, seq).
const HISTORY: &str = "SELECT seq, user_id, user_name, text, ts, client_id FROM messages
     WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

/// A `messages` row of `room`, selected as `seq, user_id, user_name, text, ts, client_id`.
fn message(room: &RoomName, row: &rusqlite::Row<'_>) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        room: room.as_str().to_owned(),
        seq: row.get::<_, i64>(0)? as u64,
        sender: Member {
            id: row.get(1)?,
            name: row.get(2)?,
            role: None,
        },
        text: row.get(3)?,
        ts: row.get::<_, i64>(4)? as u64,
        client_id: row.get(5)?,
    })
}

impl Store for SqliteStore {
    fn ping(&self) -> Result<(), StoreError> {
        self.conn.lock().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, user_id, user_name, text, ts, client_id FROM messages
             WHERE room = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(tail).unwrap_or(i64::MAX);
        let mut recent = stmt
            .query_map(params![room.as_str(), limit], |row| message(room, row))?
            .map(|m| m.map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        recent.reverse();
        let last_seq = match recent.last() {
            Some(m) => m.seq,
            None => 0,
        };
        Ok(RoomSnapshot { last_seq, recent })
    }

    fn history(
        &self,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(HISTORY)?;
        let (before, fetch) = super::page_bounds(before, limit);
        let messages = stmt
            .query_map(params![room.as_str(), before, fetch], |row| {
                message(room, row)
            })?
            .map(|m| m.map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HistoryPage::from_newest(messages, limit))
    }

    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<Vec<Arc<ChatMessage>>, StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (room, seq, user_id, user_name, text, ts, client_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for m in msgs {
                stmt.execute(params![
                    m.room,
                    seq_to_sql(m.seq)?,
                    m.sender.id,
                    m.sender.name,
                    m.text,
                    i64::try_from(m.ts).unwrap_or(i64::MAX),
                    m.client_id,
                ])?;
            }
        }
        tx.commit()?;
        Ok(msgs.to_vec())
    }

    fn load_doc(&self, room: &RoomName) -> Result<StoredDoc, StoreError> {
        let mut conn = self.conn.lock();
        // One read transaction: a snapshot and a log that agree with each other.
        let tx = conn.transaction()?;
        let (snapshot, upto) = {
            let mut stmt =
                tx.prepare_cached("SELECT snapshot, upto FROM doc_snapshots WHERE room = ?1")?;
            let mut rows = stmt.query(params![room.as_str()])?;
            match rows.next()? {
                Some(row) => (row.get::<_, Vec<u8>>(0)?, id_from_sql(row.get(1)?)?),
                None => (Vec::new(), 0),
            }
        };
        let updates = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, data FROM doc_updates WHERE room = ?1 AND id > ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![room.as_str(), seq_to_sql(upto)?], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut updates = Vec::new();
            for row in rows {
                let (id, data) = row?;
                updates.push((id_from_sql(id)?, data));
            }
            updates
        };
        tx.finish()?;
        Ok(StoredDoc {
            snapshot,
            upto,
            updates,
        })
    }

    fn append_doc_updates(
        &self,
        room: &RoomName,
        first_id: u64,
        updates: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO doc_updates (room, id, data) VALUES (?1, ?2, ?3)")?;
            for (id, data) in (first_id..).zip(updates) {
                stmt.execute(params![room.as_str(), seq_to_sql(id)?, data])?;
            }
        }
        tx.commit()?;
        Ok(first_id)
    }

    fn load_access(&self, room: &RoomName) -> Result<Option<RoomAccess>, StoreError> {
        access::load(&self.conn.lock(), room)
    }

    fn save_access(&self, room: &RoomName, rules: &RoomAccess) -> Result<(), StoreError> {
        access::save(&mut self.conn.lock(), room, rules)
    }

    fn compact_doc(&self, room: &RoomName, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO doc_snapshots (room, snapshot, upto) VALUES (?1, ?2, ?3)
             ON CONFLICT (room) DO UPDATE SET snapshot = excluded.snapshot, upto = excluded.upto",
        )?
        .execute(params![room.as_str(), snapshot, seq_to_sql(upto)?])?;
        tx.prepare_cached("DELETE FROM doc_updates WHERE room = ?1 AND id <= ?2")?
            .execute(params![room.as_str(), seq_to_sql(upto)?])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_reads_the_primary_key_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let conn = store.conn.lock();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {HISTORY}"))
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map(params!["lobby", 10, 5], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(plan.contains("USING PRIMARY KEY"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
    }

    #[test]
    fn documents_append_compact_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let room = RoomName::new("doc").unwrap();
        let other = RoomName::new("other").unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            assert_eq!(store.load_doc(&room).unwrap(), StoredDoc::default());
            store
                .append_doc_updates(&room, 1, &[b"a".to_vec(), b"b".to_vec()])
                .unwrap();
            store
                .append_doc_updates(&other, 1, &[b"x".to_vec()])
                .unwrap();
            store.compact_doc(&room, b"ab", 2).unwrap();
            store
                .append_doc_updates(&room, 3, &[b"c".to_vec(), b"d".to_vec()])
                .unwrap();
            // An id already taken fails the whole batch: "f" (id 5) is not stored either.
            let clash = store.append_doc_updates(&room, 4, &[b"e".to_vec(), b"f".to_vec()]);
            assert!(clash.is_err(), "id 4 is taken");
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let doc = store.load_doc(&room).unwrap();
        assert_eq!(doc.snapshot, b"ab");
        assert_eq!(doc.upto, 2);
        let ids: Vec<u64> = doc.updates.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [3, 4], "the failed batch left nothing behind");
        assert_eq!(doc.updates[0], (3, b"c".to_vec()));
        assert_eq!(doc.last_id(), 4);
        assert_eq!(
            store.load_doc(&other).unwrap().updates,
            [(1, b"x".to_vec())]
        );
    }
}
