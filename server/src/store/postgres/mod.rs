//! The shared [`Store`]: Postgres, reached by every node through a pool of blocking
//! connections. Unlike the embedded stores it numbers what it stores itself (a room's
//! messages from `room_seqs`, a document's updates from `doc_heads`), so that several nodes
//! serving one room agree on one gapless sequence.

mod access;
mod docs;
mod migrate;
#[cfg(test)]
mod tests;

use super::{HistoryPage, RoomSnapshot, Store, StoreError, StoredDoc};
use crate::access::RoomAccess;
use postgres::{Client, IsolationLevel, NoTls, Row, Transaction};
use r2d2::{HandleError, Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use std::{sync::Arc, time::Duration};
use tandem_shared::{ids::RoomName, ChatMessage, Member};

/// How long a call waits for a connection (to connect, or for a free one) before it fails:
/// short, so that with Postgres down a room refuses ("unavailable") at once rather than
/// holding its batch.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The server-side limit on one statement (waiting for a row lock included), in ms.
const STATEMENT_TIMEOUT_MS: u32 = 5_000;

type Manager = PostgresConnectionManager<NoTls>;

pub struct PostgresStore {
    /// Each call checks a connection out for its one transaction; calls run on the blocking
    /// pool, so a blocking client is right. Connections are tested on check-out, so one
    /// broken by a Postgres restart is replaced rather than handed out.
    pool: Option<Pool<Manager>>,
}

impl Drop for PostgresStore {
    /// The blocking client drives its connection on a runtime of its own, which cannot be
    /// done (nor its connections closed) on a thread that drives async tasks: the last
    /// handle to the store is often dropped on one. Close them on a thread of their own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new()
                .name("postgres-close".into())
                .spawn(move || drop(pool));
        }
    }
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host:port/db`) with up to `pool_size` connections,
    /// and bring the schema up to date (server/migrations/). Blocking, like every call here:
    /// not on a thread that drives async tasks (the blocking client runs a runtime of its
    /// own); use `spawn_blocking`.
    pub fn connect(url: &str, pool_size: u32) -> Result<PostgresStore, StoreError> {
        let mut config: postgres::Config = url.parse()?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            // A peer that vanished without closing (a cut, not a stop) fails a call too.
            .tcp_user_timeout(Duration::from_millis(u64::from(STATEMENT_TIMEOUT_MS)))
            .keepalives_idle(Duration::from_secs(10))
            .options(&format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
        if config.get_application_name().is_none() {
            config.application_name("tandem-server");
        }
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .test_on_check_out(true)
            .error_handler(Box::new(LogErrors))
            .build(PostgresConnectionManager::new(config, NoTls))?;
        migrate::run(&mut *pool.get()?)?;
        Ok(PostgresStore { pool: Some(pool) })
    }

    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        // Always there: only `drop` takes it.
        let pool = self
            .pool
            .as_ref()
            .expect("the pool lives as long as the store");
        Ok(pool.get()?)
    }
}

/// The pool's connection errors, in our logs. At debug: while Postgres is down the pool
/// retries about once a second, and every call that fails says so to its caller anyway.
#[derive(Debug)]
struct LogErrors;

impl HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::debug!(%error, "postgres connection failed");
    }
}

/// A read-only transaction that sees one snapshot of the database throughout, so that what it
/// reads in several statements agrees (a counter and its rows, a snapshot and its log).
fn read_tx(conn: &mut Client) -> Result<Transaction<'_>, StoreError> {
    Ok(conn
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

fn to_sql(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} out of range")))
}

fn from_sql(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative {n}")))
}

/// The columns [`message`] reads, in its order.
const COLUMNS: &str = "seq, user_id, user_name, text, ts, client_id";

/// A `messages` row of `room`, selected as [`COLUMNS`].
fn message(room: &str, row: &Row) -> Result<Arc<ChatMessage>, StoreError> {
    Ok(Arc::new(ChatMessage {
        room: room.to_owned(),
        seq: from_sql(row.try_get(0)?)?,
        sender: Member {
            id: row.try_get(1)?,
            name: row.try_get(2)?,
            role: None,
        },
        text: row.try_get(3)?,
        ts: from_sql(row.try_get(4)?)?,
        client_id: row.try_get(5)?,
    }))
}

impl Store for PostgresStore {
    fn ping(&self) -> Result<(), StoreError> {
        self.conn()?.simple_query("SELECT 1")?;
        Ok(())
    }

    fn load_room(&self, room: &RoomName, tail: usize) -> Result<RoomSnapshot, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = read_tx(&mut conn)?;
        // The counter, not the newest row: it is where the next append continues.
        let last_seq = match tx.query_opt(
            "SELECT last_seq FROM room_seqs WHERE room = $1",
            &[&room.as_str()],
        )? {
            Some(row) => from_sql(row.try_get(0)?)?,
            None => 0,
        };
        let limit = i64::try_from(tail).unwrap_or(i64::MAX);
        let rows = tx.query(
            &format!("SELECT {COLUMNS} FROM messages WHERE room = $1 ORDER BY seq DESC LIMIT $2"),
            &[&room.as_str(), &limit],
        )?;
        tx.commit()?;
        let mut recent = rows
            .iter()
            .map(|row| message(room.as_str(), row))
            .collect::<Result<Vec<_>, _>>()?;
        recent.reverse();
        Ok(RoomSnapshot { last_seq, recent })
    }

    fn history(
        &self,
        room: &RoomName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let (before, fetch) = super::page_bounds(before, limit);
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq < $2
                 ORDER BY seq DESC LIMIT $3"
            ),
            &[&room.as_str(), &before, &fetch],
        )?;
        let messages = rows
            .iter()
            .map(|row| message(room.as_str(), row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HistoryPage::from_newest(messages, limit))
    }

    fn append(&self, msgs: &[Arc<ChatMessage>]) -> Result<Vec<Arc<ChatMessage>>, StoreError> {
        let Some(first) = msgs.first() else {
            return Ok(Vec::new());
        };
        let room = first.room.as_str();
        if let Some(other) = msgs.iter().find(|m| m.room != room) {
            return Err(StoreError::Corrupt(format!(
                "one append holds messages of {room:?} and {:?}",
                other.room
            )));
        }
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO room_seqs (room, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING",
            &[&room],
        )?;
        // The row lock serialises the room's appends across nodes until commit: the next
        // appender reads the counter (and sees the rows) this one committed.
        let last: i64 = tx
            .query_one(
                "SELECT last_seq FROM room_seqs WHERE room = $1 FOR UPDATE",
                &[&room],
            )?
            .try_get(0)?;
        let find = tx.prepare(&format!(
            "SELECT {COLUMNS} FROM messages WHERE room = $1 AND user_id = $2 AND client_id = $3"
        ))?;
        let insert = tx.prepare(
            "INSERT INTO messages (room, seq, user_id, user_name, text, ts, client_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )?;
        let mut seq = last;
        let mut stored = Vec::with_capacity(msgs.len());
        for m in msgs {
            if let Some(client_id) = &m.client_id {
                // A retry (also one earlier in this batch): what was stored the first time.
                if let Some(row) = tx.query_opt(&find, &[&room, &m.sender.id, client_id])? {
                    stored.push(message(room, &row)?);
                    continue;
                }
            }
            seq += 1;
            let ts = i64::try_from(m.ts).unwrap_or(i64::MAX);
            tx.execute(
                &insert,
                &[
                    &room,
                    &seq,
                    &m.sender.id,
                    &m.sender.name,
                    &m.text,
                    &ts,
                    &m.client_id,
                ],
            )?;
            let seq = from_sql(seq)?;
            stored.push(if m.seq == seq {
                m.clone()
            } else {
                Arc::new(ChatMessage {
                    seq,
                    ..ChatMessage::clone(m)
                })
            });
        }
        if seq != last {
            tx.execute(
                "UPDATE room_seqs SET last_seq = $2 WHERE room = $1",
                &[&room, &seq],
            )?;
        }
        tx.commit()?;
        Ok(stored)
    }

    fn load_doc(&self, room: &RoomName) -> Result<StoredDoc, StoreError> {
        self.load_doc_since(room, 0)
    }

    fn load_doc_since(&self, room: &RoomName, after: u64) -> Result<StoredDoc, StoreError> {
        docs::load_since(&mut *self.conn()?, room, after)
    }

    fn append_doc_updates(
        &self,
        room: &RoomName,
        _first_id: u64,
        updates: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        docs::append(&mut *self.conn()?, room, updates)
    }

    fn compact_doc(&self, room: &RoomName, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        docs::compact(&mut *self.conn()?, room, snapshot, upto)
    }

    fn load_access(&self, room: &RoomName) -> Result<Option<RoomAccess>, StoreError> {
        access::load(&mut *self.conn()?, room)
    }

    fn save_access(&self, room: &RoomName, rules: &RoomAccess) -> Result<(), StoreError> {
        access::save(&mut *self.conn()?, room, rules)
    }
}
