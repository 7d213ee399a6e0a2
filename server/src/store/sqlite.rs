//! The embedded default [`Store`]: one SQLite file in WAL mode under the data directory.

use super::{RoomSnapshot, Store, StoreError};
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
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }
}

fn seq_to_sql(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("seq {seq} out of range")))
}

impl Store for SqliteStore {
    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, user_id, user_name, text, ts, client_id FROM messages
             WHERE room = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(tail).unwrap_or(i64::MAX);
        let mut recent = stmt
            .query_map(params![room.as_str(), limit], |row| {
                Ok(ChatMessage {
                    room: room.as_str().to_owned(),
                    seq: row.get::<_, i64>(0)? as u64,
                    sender: Member {
                        id: row.get(1)?,
                        name: row.get(2)?,
                    },
                    text: row.get(3)?,
                    ts: row.get::<_, i64>(4)? as u64,
                    client_id: row.get(5)?,
                })
            })?
            .map(|m| m.map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        recent.reverse();
        let last_seq = match recent.last() {
            Some(m) => m.seq,
            None => 0,
        };
        Ok(RoomSnapshot { last_seq, recent })
    }

    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<(), StoreError> {
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
        Ok(())
    }
}
