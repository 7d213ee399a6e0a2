//! The rooms' rules in Postgres, as in SQLite (store/sqlite/access.rs): one `room_access` row
//! per room that has any, its members' roles and its bans, written whole in one transaction.

use super::read_tx;
use crate::access::RoomAccess;
use crate::store::{role_from, role_name, StoreError};
use postgres::Client;
use tandem_shared::ids::RoomName;

/// The room's rules, if any were saved; one consistent read of the three tables.
pub(super) fn load(conn: &mut Client, room: &RoomName) -> Result<Option<RoomAccess>, StoreError> {
    let room = room.as_str();
    let mut tx = read_tx(conn)?;
    let Some(row) = tx.query_opt(
        "SELECT private, title, owner, invite, read_only FROM room_access WHERE room = $1",
        &[&room],
    )?
    else {
        tx.commit()?;
        return Ok(None);
    };
    let mut rules = RoomAccess {
        private: row.try_get(0)?,
        title: row.try_get(1)?,
        owner: row.try_get(2)?,
        invite: row.try_get(3)?,
        read_only: row.try_get(4)?,
        ..RoomAccess::default()
    };
    for row in tx.query(
        "SELECT user_id, role FROM room_roles WHERE room = $1",
        &[&room],
    )? {
        rules
            .roles
            .insert(row.try_get(0)?, role_from(row.try_get(1)?)?);
    }
    for row in tx.query(
        "SELECT user_id, until FROM room_bans WHERE room = $1",
        &[&room],
    )? {
        let until: Option<i64> = row.try_get(1)?;
        rules
            .banned
            .insert(row.try_get(0)?, until.map(|t| t.max(0) as u64));
    }
    tx.commit()?;
    Ok(Some(rules))
}

/// Replace the room's rules, all or none. Concurrent saves of one room (from two nodes) are
/// serialised by the `room_access` row's lock: the last to commit wins whole.
pub(super) fn save(
    conn: &mut Client,
    room: &RoomName,
    rules: &RoomAccess,
) -> Result<(), StoreError> {
    let room = room.as_str();
    let mut tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO room_access (room, private, title, owner, invite, read_only)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (room) DO UPDATE SET private = $2, title = $3, owner = $4, invite = $5,
             read_only = $6",
        &[
            &room,
            &rules.private,
            &rules.title,
            &rules.owner,
            &rules.invite,
            &rules.read_only,
        ],
    )?;
    tx.execute("DELETE FROM room_roles WHERE room = $1", &[&room])?;
    tx.execute("DELETE FROM room_bans WHERE room = $1", &[&room])?;
    let role = tx.prepare("INSERT INTO room_roles (room, user_id, role) VALUES ($1, $2, $3)")?;
    for (user, r) in &rules.roles {
        tx.execute(&role, &[&room, user, &role_name(*r)])?;
    }
    let ban = tx.prepare("INSERT INTO room_bans (room, user_id, until) VALUES ($1, $2, $3)")?;
    for (user, until) in &rules.banned {
        let until = until.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        tx.execute(&ban, &[&room, user, &until])?;
    }
    tx.commit()?;
    Ok(())
}
