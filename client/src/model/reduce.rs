//! The reducer: [`apply`] changes the [`State`] for one [`Action`] and returns the messages
//! the change requires sending; the caller hands them to the socket. No browser API and no
//! clock of its own (times come in the actions), so it is tested on the host.
//!
//! On every (re)connection each room is joined again with `since` = the last `seq` it holds;
//! the reply is merged by `seq` ([`super::timeline`]), and whatever this tab has not seen
//! echoed yet is sent again under the same `client_id` (the server drops repeats).

use super::state::{Conn, Pending, Room, State};
use std::rc::Rc;
use tandem_shared::{ClientMsg, Role, ServerMsg};

/// Send `typing` at most this often while the person types.
pub const TYPING_EVERY_MS: u64 = 2_000;
/// Show "… is typing" this long after the last `typing` from that member.
pub const TYPING_SHOWN_MS: u64 = 4_000;
/// Older messages asked for per `history` request while scrolling back.
pub const PAGE: u32 = 100;

/// Everything that can happen to the page. Times are page time in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A connection attempt started.
    Connecting,
    /// The socket is open (and `hello` has been sent on it).
    Open,
    /// The socket closed; the next attempt is due at `retry_at`.
    Closed {
        online: bool,
        retry_at: u64,
    },
    /// The browser went online or offline.
    Network {
        online: bool,
    },
    Server {
        msg: ServerMsg,
        now: u64,
    },
    /// The person asked to join `room` as `name` (both already validated); `restored` are
    /// messages written earlier in this browser and never confirmed (kept across reloads),
    /// to send again. Switches to the room if it is already open. `invite` came with an
    /// invite link (sent with the join); `title` is what this browser kept of a private
    /// room's title (shown until the server says).
    Join {
        room: String,
        name: String,
        restored: Vec<Pending>,
        invite: Option<String>,
        title: Option<String>,
    },
    /// The person asked to create a private room titled `title`, as `name` (both valid).
    Create {
        title: String,
        name: String,
    },
    /// The owner of `room` asks something of it.
    Moderate {
        room: String,
        what: Moderation,
    },
    /// Show `room` (one of the tabs), or the join form with `None`.
    Switch {
        room: Option<String>,
    },
    Leave {
        room: String,
    },
    /// The message box of the current room now holds `text`.
    Draft {
        text: String,
        now: u64,
    },
    /// The person sent `text` (validated) in the current room under the fresh idempotency
    /// key `client_id`, at `at` (ms since the epoch).
    Send {
        text: String,
        client_id: String,
        at: u64,
    },
    /// The person scrolled to the top of `room`'s messages: fetch older ones.
    LoadOlder {
        room: String,
    },
    /// The person asked to list more of `room`'s members (a big room lists only some):
    /// fetch the next `members` page.
    MoreMembers {
        room: String,
    },
    /// Time passed: expire typing indicators.
    Tick {
        now: u64,
    },
    DismissNotice,
}

/// What the owner of a private room may ask of it (the room answers everyone concerned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderation {
    /// Remove `user` now: for 15 minutes, or for good with `ban`.
    Kick {
        user: String,
        ban: bool,
    },
    /// Make `user` a member or a viewer.
    SetRole {
        user: String,
        role: Role,
    },
    SetReadOnly(bool),
    /// A new invite; the old link stops working.
    RotateInvite,
}

impl Moderation {
    fn into_msg(self, room: String) -> ClientMsg {
        match self {
            Moderation::Kick { user, ban } => ClientMsg::Kick { room, user, ban },
            Moderation::SetRole { user, role } => ClientMsg::SetRole { room, user, role },
            Moderation::SetReadOnly(read_only) => ClientMsg::SetReadOnly { room, read_only },
            Moderation::RotateInvite => ClientMsg::RotateInvite { room },
        }
    }
}

fn create_msg(title: &str) -> ClientMsg {
    ClientMsg::CreateRoom {
        private: true,
        name: title.to_owned(),
    }
}

/// Apply `action` to `state`; returns the messages to send, in order.
pub fn apply(state: &mut State, action: Action) -> Vec<ClientMsg> {
    let mut out = Vec::new();
    if state.must_reload {
        // Nothing more goes to a server this client cannot talk to.
        if action == Action::DismissNotice {
            state.notice = None;
        }
        return out;
    }
    match action {
        Action::Connecting => {
            state.retry_at = None;
            if state.conn == Conn::Live {
                state.conn = Conn::Reconnecting;
            }
        }
        Action::Open => {
            state.conn = Conn::Live;
            state.online = true;
            state.retry_at = None;
            let name = state.name.clone();
            for room in &mut state.rooms {
                room.joined = false;
                out.push(room.join_msg(&name));
            }
            if let Some(title) = &state.creating {
                out.push(create_msg(title));
            }
        }
        Action::Closed { online, retry_at } => {
            state.conn = match state.conn {
                Conn::Connecting => Conn::Connecting,
                _ => Conn::Reconnecting,
            };
            state.online = online;
            state.retry_at = Some(retry_at);
            for room in &mut state.rooms {
                room.joined = false;
                room.loading_older = false;
                room.loading_members = false;
                room.typing.clear();
                room.typing_sent_at = None;
            }
        }
        Action::Network { online } => state.online = online,
        Action::Join {
            room,
            name,
            restored,
            invite,
            title,
        } => {
            state.notice = None;
            state.name = name;
            match state.room_mut(&room) {
                // An invite link for a room still waiting for its first answer: the next
                // join brings it.
                Some(r) if !r.ever_joined && invite.is_some() => r.join_invite = invite,
                Some(_) => {}
                None => {
                    let mut r = Room::new(room.clone());
                    let mut restored = restored;
                    restored.sort_by_key(|p| p.at);
                    r.pending = Rc::new(restored);
                    r.join_invite = invite;
                    r.title = title;
                    if state.conn == Conn::Live {
                        out.push(r.join_msg(&state.name));
                    }
                    state.rooms.push(r);
                }
            }
            switch(state, Some(room));
        }
        Action::Create { title, name } => {
            state.notice = None;
            state.name = name;
            if state.conn == Conn::Live {
                out.push(create_msg(&title));
            }
            state.creating = Some(title);
        }
        Action::Moderate { room, what } => {
            if state.room(&room).is_some_and(|r| r.joined && r.is_owner()) {
                out.push(what.into_msg(room));
            }
        }
        Action::Switch { room } => switch(state, room),
        Action::Leave { room } => {
            if state.room(&room).is_some_and(|r| r.joined) {
                out.push(ClientMsg::Leave { room: room.clone() });
            }
            state.remove_room(&room);
        }
        Action::Draft { text, now } => {
            let Some(room) = state.current_mut() else {
                return out;
            };
            let due = room
                .typing_sent_at
                .is_none_or(|at| now >= at + TYPING_EVERY_MS);
            if room.joined && due && !text.trim().is_empty() {
                room.typing_sent_at = Some(now);
                out.push(ClientMsg::Typing {
                    room: room.name.clone(),
                });
            }
            room.draft = text;
        }
        Action::Send {
            text,
            client_id,
            at,
        } => {
            let Some(room) = state.current_mut() else {
                return out;
            };
            if !room.can_write() {
                return out;
            }
            if room.joined {
                out.push(ClientMsg::Chat {
                    room: room.name.clone(),
                    text: text.clone(),
                    client_id: Some(client_id.clone()),
                });
            }
            Rc::make_mut(&mut room.pending).push(Pending {
                client_id,
                text,
                at,
                failed: None,
            });
            room.draft.clear();
            room.typing_sent_at = None;
        }
        Action::LoadOlder { room } => {
            let Some(r) = state.room_mut(&room) else {
                return out;
            };
            if r.joined && !r.loading_older && r.has_older() {
                r.loading_older = true;
                out.push(ClientMsg::History {
                    room,
                    before: r.first_seq(),
                    limit: Some(PAGE),
                });
            }
        }
        Action::MoreMembers { room } => {
            let Some(r) = state.room_mut(&room) else {
                return out;
            };
            if r.joined && !r.loading_members && r.has_unlisted() {
                r.loading_members = true;
                out.push(ClientMsg::Members {
                    room,
                    after: r.members_after.clone(),
                    limit: None,
                });
            }
        }
        Action::Tick { now } => {
            for room in &mut state.rooms {
                room.typing.retain(|t| t.until > now);
            }
        }
        Action::DismissNotice => state.notice = None,
        Action::Server { msg, now } => super::server::server(state, msg, now, &mut out),
    }
    out
}

pub(super) fn switch(state: &mut State, room: Option<String>) {
    match room {
        Some(name) if state.room(&name).is_some() => {
            state.current = Some(name);
            if let Some(r) = state.current_mut() {
                r.unread = 0;
            }
        }
        Some(_) => {}
        None => state.current = None,
    }
}
