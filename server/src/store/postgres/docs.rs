//! Documents in Postgres: the update log numbered from the room's `doc_heads` counter (so
//! nodes never hand out one id twice), the snapshot, and compaction under an advisory lock.

use super::{from_sql, read_tx, to_sql};
use crate::store::{StoreError, StoredDoc};
use postgres::Client;
use tandem_shared::ids::RoomName;

/// The first key of the advisory locks that guard compaction (the second is a hash of the
/// room): a class of its own, apart from the migrations' lock.
pub(super) const COMPACT_LOCK_CLASS: i32 = 0x5444_4301;

/// The updates after `after` and, if compaction dropped some of them, the snapshot too, as
/// [`crate::store::Store::load_doc_since`] says; one consistent read.
pub(super) fn load_since(
    conn: &mut Client,
    room: &RoomName,
    after: u64,
) -> Result<StoredDoc, StoreError> {
    let mut tx = read_tx(conn)?;
    let (mut snapshot, mut upto) = match tx.query_opt(
        "SELECT snapshot, upto FROM doc_snapshots WHERE room = $1",
        &[&room.as_str()],
    )? {
        Some(row) => (row.try_get::<_, Vec<u8>>(0)?, from_sql(row.try_get(1)?)?),
        None => (Vec::new(), 0),
    };
    if upto <= after {
        // The replica has everything the snapshot holds.
        snapshot = Vec::new();
        upto = 0;
    }
    // The log holds nothing at or below the snapshot's `upto` (compaction dropped it).
    let rows = tx.query(
        "SELECT id, data FROM doc_updates WHERE room = $1 AND id > $2 ORDER BY id",
        &[&room.as_str(), &to_sql(after.max(upto))?],
    )?;
    tx.commit()?;
    let updates = rows
        .iter()
        .map(|row| Ok((from_sql(row.try_get(0)?)?, row.try_get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(StoredDoc {
        snapshot,
        upto,
        updates,
    })
}

/// Append `updates` with ids allocated from the room's counter, all or none; the id of the
/// first.
pub(super) fn append(
    conn: &mut Client,
    room: &RoomName,
    updates: &[Vec<u8>],
) -> Result<u64, StoreError> {
    let room = room.as_str();
    let mut tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO doc_heads (room, last_id) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        &[&room],
    )?;
    // As for messages: the counter's row lock serialises the document's appends across nodes.
    let last: i64 = tx
        .query_one(
            "SELECT last_id FROM doc_heads WHERE room = $1 FOR UPDATE",
            &[&room],
        )?
        .try_get(0)?;
    if updates.is_empty() {
        tx.commit()?;
        return from_sql(last + 1);
    }
    let insert = tx.prepare("INSERT INTO doc_updates (room, id, data) VALUES ($1, $2, $3)")?;
    let mut id = last;
    for data in updates {
        id += 1;
        tx.execute(&insert, &[&room, &id, data])?;
    }
    tx.execute(
        "UPDATE doc_heads SET last_id = $2 WHERE room = $1",
        &[&room, &id],
    )?;
    tx.commit()?;
    from_sql(last + 1)
}

/// Replace the room's snapshot with `snapshot` (every update up to `upto`) and drop those
/// updates, unless another node is compacting the room right now (then nothing: it is doing
/// the same work) or the stored snapshot is already as far along (then nothing is replaced:
/// a snapshot never goes back).
pub(super) fn compact(
    conn: &mut Client,
    room: &RoomName,
    snapshot: &[u8],
    upto: u64,
) -> Result<(), StoreError> {
    let room = room.as_str();
    let upto = to_sql(upto)?;
    let mut tx = conn.transaction()?;
    // Two rooms whose names hash alike share a lock: at worst one skips a compaction.
    let locked: bool = tx
        .query_one(
            "SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
            &[&COMPACT_LOCK_CLASS, &room],
        )?
        .try_get(0)?;
    if !locked {
        tracing::debug!(room, "document compaction skipped: another node is at it");
        return Ok(());
    }
    tx.execute(
        "INSERT INTO doc_snapshots (room, snapshot, upto) VALUES ($1, $2, $3)
         ON CONFLICT (room) DO UPDATE SET snapshot = excluded.snapshot, upto = excluded.upto
         WHERE doc_snapshots.upto < excluded.upto",
        &[&room, &snapshot, &upto],
    )?;
    // Whichever snapshot is stored now covers every update up to `upto`.
    tx.execute(
        "DELETE FROM doc_updates WHERE room = $1 AND id <= $2",
        &[&room, &upto],
    )?;
    tx.commit()?;
    Ok(())
}
