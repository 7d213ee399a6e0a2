//! The reducer's half for what the server says: each [`ServerMsg`] applied to the
//! [`State`], with the messages it requires sending (re-joins, re-sends).

use super::state::{Conn, Room, State, RELOAD_NOTICE};
use super::{roster, timeline};
use std::rc::Rc;
use tandem_shared::{ChatMessage, ClientMsg, ErrorCode, Member, Role, ServerMsg, PROTOCOL_VERSION};

pub(super) fn server(state: &mut State, msg: ServerMsg, now: u64, out: &mut Vec<ClientMsg>) {
    let me = state.user_id.clone();
    let me = me.as_deref();
    match msg {
        ServerMsg::Welcome {
            protocol_version, ..
        }
        | ServerMsg::Hello {
            protocol_version, ..
        } if protocol_version != PROTOCOL_VERSION => must_reload(state),
        ServerMsg::Welcome { .. } => {}
        ServerMsg::Hello { user_id, .. } => state.user_id = Some(user_id),
        ServerMsg::Joined {
            room,
            members,
            count,
            history,
            gap,
            last_seq,
            title,
            role,
            read_only,
            invite,
        } => {
            let current = state.is_current(&room);
            let name = state.name.clone();
            // We are here, whether or not a big room's list names us.
            let myself = me.map(|id| Member {
                id: id.to_owned(),
                name: name.clone(),
                role,
            });
            let Some(r) = state.room_mut(&room) else {
                return;
            };
            let catch_up = r.ever_joined;
            r.joined = true;
            r.ever_joined = true;
            roster::joined(r, members, count, myself);
            r.gap = gap;
            // In (a member now, if an invite brought us): the invite has done its work.
            r.join_invite = None;
            if title.is_some() {
                r.title = title;
            }
            r.role = role;
            r.read_only = read_only;
            r.invite = invite.or_else(|| r.invite.take().filter(|_| role == Some(Role::Owner)));
            // The server's numbering went backwards (its store was reset): what we hold
            // no longer matches its `seq`s.
            if timeline::last_seq(&r.messages).is_some_and(|ours| ours > last_seq) {
                // Ask again for its recent history; the answer settles what is pending.
                r.messages = Rc::default();
                r.reached_start = false;
                out.push(r.join_msg(&name));
                return;
            }
            if gap {
                // The history does not continue ours: show only what the server sent.
                r.messages = Rc::default();
                r.reached_start = false;
            }
            let fresh = take_in(r, history, me);
            trim(r);
            if catch_up && !current && !gap {
                r.unread += fresh;
            }
            // Whatever is still pending was queued while down or lost with the old
            // connection: send it again (the server drops repeats of a stored `client_id`).
            for p in r.pending.iter().filter(|p| p.failed.is_none()) {
                out.push(ClientMsg::Chat {
                    room: room.clone(),
                    text: p.text.clone(),
                    client_id: Some(p.client_id.clone()),
                });
            }
        }
        ServerMsg::History {
            room,
            messages,
            has_more,
        } => {
            let Some(r) = state.room_mut(&room) else {
                return;
            };
            r.loading_older = false;
            let oldest = messages.first().map(|m| m.seq);
            take_in(r, messages, me);
            // The answer reached the start if the server says so (or had nothing older).
            if !has_more && oldest.is_none_or(|o| Some(o) <= r.first_seq()) {
                r.reached_start = true;
            }
        }
        ServerMsg::Chat(m) => {
            let current = state.is_current(&m.room);
            let Some(r) = state.room_mut(&m.room) else {
                return;
            };
            if take_in(r, [m], me) > 0 && !current {
                r.unread += 1;
            }
            trim(r);
        }
        ServerMsg::Presence {
            room,
            joins,
            leaves,
            count,
            full,
        } => {
            if let Some(r) = state.room_mut(&room) {
                roster::presence(r, joins, leaves, count, full);
            }
        }
        ServerMsg::Members {
            room,
            members,
            next,
        } => {
            if let Some(r) = state.room_mut(&room) {
                roster::page(r, members, next);
            }
        }
        ServerMsg::Typing { room, members } => {
            if let Some(r) = state.room_mut(&room) {
                roster::typing(r, members, me, now);
            }
        }
        ServerMsg::RoomCreated { room, name, invite } => {
            state.creating = None;
            state.notice = None;
            if state.room(&room).is_none() {
                let mut r = Room::new(room.clone());
                r.title = Some(name);
                r.role = Some(Role::Owner);
                r.invite = Some(invite);
                out.push(r.join_msg(&state.name));
                state.rooms.push(r);
            }
            super::reduce::switch(state, Some(room));
        }
        ServerMsg::Invite { room, invite } => {
            if let Some(r) = state.room_mut(&room) {
                r.invite = Some(invite);
            }
        }
        ServerMsg::RoomUpdated { room, read_only } => {
            if let Some(r) = state.room_mut(&room) {
                r.read_only = read_only;
            }
        }
        ServerMsg::RoleChanged { room, user, role } => {
            if let Some(r) = state.room_mut(&room) {
                if me == Some(user.as_str()) {
                    r.role = Some(role);
                }
                if let Some(m) = Rc::make_mut(&mut r.members)
                    .iter_mut()
                    .find(|m| m.id == user)
                {
                    m.role = Some(role);
                }
            }
        }
        ServerMsg::Kicked { room, banned } => {
            let Some(label) = state.room(&room).map(Room::label) else {
                return;
            };
            // Out of the room: its tab closes, and what it had unsent goes with it (it
            // could not be delivered).
            state.remove_room(&room);
            state.notice = Some(if banned {
                format!("You were banned from {label} by its owner.")
            } else {
                format!("You were removed from {label} by its owner.")
            });
        }
        ServerMsg::Left { .. } | ServerMsg::Pong { .. } => {}
        ServerMsg::Error {
            code,
            message,
            room,
            client_id,
        } => error(state, code, message, room, client_id),
    }
}

fn error(
    state: &mut State,
    code: ErrorCode,
    message: String,
    room: Option<String>,
    client_id: Option<String>,
) {
    if code == ErrorCode::ProtocolMismatch {
        must_reload(state);
        return;
    }
    if code == ErrorCode::BadToken {
        // The server no longer knows this browser's token (its key changed): the `hello`
        // reply that follows names the new identity. Nothing the person can do about it.
        return;
    }
    if let (Some(id), Some(name)) = (&client_id, &room) {
        if let Some(r) = state.room_mut(name) {
            if let Some(at) = r.pending.iter().position(|p| &p.client_id == id) {
                Rc::make_mut(&mut r.pending)[at].failed = Some(message);
                return;
            }
        }
    }
    if let Some(r) = room.as_deref().and_then(|name| state.room_mut(name)) {
        // A refused `history` or `members` request: stop asking until the next one is due.
        r.loading_older = false;
        r.loading_members = false;
    }
    match &room {
        // A refused join closes that room's tab, with the reason: a first join, or any
        // join the room does not let us into (a private room without its invite, a ban).
        Some(name)
            if state
                .room(name)
                .is_some_and(|r| !r.ever_joined || (code == ErrorCode::Forbidden && !r.joined)) =>
        {
            state.remove_room(name);
            if code == ErrorCode::Forbidden {
                // The server's words do not say whether the room exists; nor do ours.
                state.notice = Some(NO_ENTRY.to_owned());
                return;
            }
        }
        Some(_) => {}
        // A request without a room refused: a `create_room` waiting is settled (it is the
        // one such request the server answers with a refusal of its own).
        None => state.creating = None,
    }
    state.notice = Some(message);
}

/// Shown when a room will not let us in (private without a valid invite, or removed).
pub const NO_ENTRY: &str =
    "You may not enter this room. It is private: ask its owner for an invite link.";

fn must_reload(state: &mut State) {
    state.must_reload = true;
    state.conn = Conn::Offline;
    state.retry_at = None;
    state.notice = Some(RELOAD_NOTICE.to_owned());
}

/// Take confirmed messages in; returns how many were new and from someone else. Settles
/// our pending entries they echo (matched by `client_id`) and clears their senders' typing
/// indicators.
fn take_in(r: &mut Room, incoming: impl IntoIterator<Item = ChatMessage>, me: Option<&str>) -> u32 {
    let mut fresh = 0;
    let list = Rc::make_mut(&mut r.messages);
    for msg in incoming {
        let mine = me == Some(msg.sender.id.as_str());
        if mine {
            if let Some(id) = &msg.client_id {
                if r.pending.iter().any(|p| &p.client_id == id) {
                    Rc::make_mut(&mut r.pending).retain(|p| &p.client_id != id);
                }
            }
        }
        r.typing.retain(|t| t.member.id != msg.sender.id);
        if timeline::insert(list, Rc::new(msg)) && !mine {
            fresh += 1;
        }
    }
    fresh
}

/// After new messages at the end: drop the oldest beyond [`timeline::MAX_KEPT`] (scrolling
/// back fetches them again).
fn trim(r: &mut Room) {
    if r.messages.len() > timeline::MAX_KEPT {
        let list = Rc::make_mut(&mut r.messages);
        list.drain(..list.len() - timeline::MAX_KEPT);
        r.reached_start = false;
    }
}
