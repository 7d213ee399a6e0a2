//! The rooms' rules in SQLite: one `room_access` row per room that has any (private rooms,
//! and public rooms with bans), its members' roles and its bans. Written whole, in one
//! transaction, by the room's one owner.

use crate::access::RoomAccess;
use crate::store::{role_from, role_name, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use tandem_shared::ids::RoomName;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS room_access (
    room      TEXT    NOT NULL PRIMARY KEY,
    private   INTEGER NOT NULL,
    title     TEXT,
    owner     TEXT,
    invite    TEXT,
    read_only INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_roles (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role    TEXT NOT NULL,
    PRIMARY KEY (room, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_bans (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    until   INTEGER,
    PRIMARY KEY (room, user_id)
) WITHOUT ROWID;
";

pub(super) fn load(conn: &Connection, room: &RoomName) -> Result<Option<RoomAccess>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT private, title, owner, invite, read_only FROM room_access WHERE room = ?1",
        )?
        .query_row(params![room.as_str()], |r| {
            Ok(RoomAccess {
                private: r.get::<_, i64>(0)? != 0,
                title: r.get(1)?,
                owner: r.get(2)?,
                invite: r.get(3)?,
                read_only: r.get::<_, i64>(4)? != 0,
                ..RoomAccess::default()
            })
        })
        .optional()?;
    let Some(mut rules) = row else {
        return Ok(None);
    };
    let mut roles = conn.prepare_cached("SELECT user_id, role FROM room_roles WHERE room = ?1")?;
    let rows = roles.query_map(params![room.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (user, role) = row?;
        rules.roles.insert(user, role_from(&role)?);
    }
    let mut bans = conn.prepare_cached("SELECT user_id, until FROM room_bans WHERE room = ?1")?;
    let rows = bans.query_map(params![room.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    for row in rows {
        let (user, until) = row?;
        rules.banned.insert(user, until.map(|t| t.max(0) as u64));
    }
    Ok(Some(rules))
}

pub(super) fn save(
    conn: &mut Connection,
    room: &RoomName,
    rules: &RoomAccess,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO room_access (room, private, title, owner, invite, read_only)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (room) DO UPDATE SET private = ?2, title = ?3, owner = ?4, invite = ?5,
             read_only = ?6",
        params![
            room.as_str(),
            i64::from(rules.private),
            rules.title,
            rules.owner,
            rules.invite,
            i64::from(rules.read_only)
        ],
    )?;
    tx.execute(
        "DELETE FROM room_roles WHERE room = ?1",
        params![room.as_str()],
    )?;
    tx.execute(
        "DELETE FROM room_bans WHERE room = ?1",
        params![room.as_str()],
    )?;
    {
        let mut role =
            tx.prepare_cached("INSERT INTO room_roles (room, user_id, role) VALUES (?1, ?2, ?3)")?;
        for (user, r) in &rules.roles {
            role.execute(params![room.as_str(), user, role_name(*r)])?;
        }
        let mut ban =
            tx.prepare_cached("INSERT INTO room_bans (room, user_id, until) VALUES (?1, ?2, ?3)")?;
        for (user, until) in &rules.banned {
            let until = until.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
            ban.execute(params![room.as_str(), user, until])?;
        }
    }
    tx.commit()?;
    Ok(())
}
