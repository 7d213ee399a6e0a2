//! The page's state and the pure reducer that changes it: no browser APIs and no clock of
//! its own (times come in the actions), so it is tested on the host. [`apply`] returns the
//! messages the change requires sending; the caller hands them to the socket.
//!
//! The state holds every joined room (one tab each). On every (re)connection each room is
//! joined again with `since` = the last `seq` it holds; the reply is merged by `seq`
//! ([`crate::timeline`]), and whatever this tab sent that the server has not echoed yet is
//! sent again under the same `client_id` (the server drops repeats).

use crate::timeline;
use tandem_shared::{ChatMessage, ClientMsg, ErrorCode, Member, ServerMsg, PROTOCOL_VERSION};

/// Send `typing` at most this often while the person types.
pub const TYPING_EVERY_MS: u64 = 2_000;
/// Show "… is typing" this long after the last `typing` from that member.
pub const TYPING_SHOWN_MS: u64 = 4_000;

/// The connection indicator; [`Conn::as_str`] is the `data-state` the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// Not connected yet since the page loaded.
    Connecting,
    Live,
    /// Lost; retrying (see [`State::retry_at`]).
    Reconnecting,
    /// The browser is offline, or the client must be reloaded.
    Offline,
}

impl Conn {
    pub fn as_str(self) -> &'static str {
        match self {
            Conn::Connecting => "connecting",
            Conn::Live => "live",
            Conn::Reconnecting => "reconnecting",
            Conn::Offline => "offline",
        }
    }
}

/// A message this client sent that the server has not echoed back yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub client_id: String,
    pub text: String,
    /// Why the server refused it, once it has.
    pub failed: Option<String>,
}

/// Someone (else) typing in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typist {
    pub member: Member,
    /// Page time (ms) after which the indicator goes away.
    pub until: u64,
}

/// One joined room: a tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Room {
    pub name: String,
    /// The server answered our `join` on the current connection.
    pub joined: bool,
    /// The server answered a `join` at least once (later replies are catch-ups).
    pub ever_joined: bool,
    /// Confirmed messages, ordered by `seq`, without duplicates.
    pub messages: Vec<ChatMessage>,
    /// Sent (or queued) by this tab, not yet confirmed; shown after `messages`.
    pub pending: Vec<Pending>,
    pub members: Vec<Member>,
    pub typing: Vec<Typist>,
    /// Messages from others that arrived while another room was shown.
    pub unread: u32,
    /// The last catch-up could not reach back: older messages are not shown.
    pub gap: bool,
    /// The unsent text in this room's message box.
    pub draft: String,
    /// When this tab last told the room it is typing (page time, ms).
    pub typing_sent_at: Option<u64>,
}

impl Room {
    fn new(name: String) -> Self {
        Room {
            name,
            ..Room::default()
        }
    }

    fn join_msg(&self, name: &str) -> ClientMsg {
        ClientMsg::Join {
            room: self.name.clone(),
            name: name.to_owned(),
            since: timeline::last_seq(&self.messages),
        }
    }

    /// Take a confirmed message in; returns whether it was new. Settles its pending entry
    /// (matched by `client_id`) when it is ours, and clears its sender's typing indicator.
    fn add(&mut self, msg: ChatMessage, me: Option<&str>) -> bool {
        if me == Some(msg.sender.id.as_str()) {
            if let Some(id) = &msg.client_id {
                self.pending.retain(|p| &p.client_id != id);
            }
        }
        self.typing.retain(|t| t.member.id != msg.sender.id);
        timeline::insert(&mut self.messages, msg)
    }

    /// The members typing at page time `now`, in the order they started.
    pub fn typing_now(&self, now: u64) -> impl Iterator<Item = &Member> {
        self.typing
            .iter()
            .filter(move |t| t.until > now)
            .map(|t| &t.member)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The socket's state; see [`State::status`] for what the page shows.
    pub conn: Conn,
    /// The browser's idea of the network (`navigator.onLine`).
    pub online: bool,
    /// Page time (ms) of the next reconnection attempt, while waiting for it.
    pub retry_at: Option<u64>,
    /// The display name used in every room.
    pub name: String,
    /// This browser's user id (proposed in `hello`, confirmed by the server).
    pub user_id: Option<String>,
    /// Joined rooms, in tab order.
    pub rooms: Vec<Room>,
    /// The room shown; `None` shows the join form.
    pub current: Option<String>,
    /// A problem to show the person (dismissable).
    pub notice: Option<String>,
    /// The client must be reloaded (it speaks another protocol version than the server).
    pub must_reload: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            conn: Conn::Connecting,
            online: true,
            retry_at: None,
            name: String::new(),
            user_id: None,
            rooms: Vec::new(),
            current: None,
            notice: None,
            must_reload: false,
        }
    }
}

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
    /// The person asked to join `room` as `name` (both already validated). Switches to it
    /// if it is already open.
    Join {
        room: String,
        name: String,
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
    /// key `client_id`.
    Send {
        text: String,
        client_id: String,
    },
    /// Time passed: expire typing indicators.
    Tick {
        now: u64,
    },
    DismissNotice,
}

/// Shown when the server speaks another protocol version.
pub const RELOAD_NOTICE: &str = "Tandem has been updated. Reload the page to continue.";

impl State {
    /// A fresh state for the browser's user id (the one `hello` proposes).
    pub fn new(user_id: Option<String>) -> Self {
        State {
            user_id,
            ..State::default()
        }
    }

    /// What the connection indicator shows.
    pub fn status(&self) -> Conn {
        if self.must_reload || !self.online {
            Conn::Offline
        } else {
            self.conn
        }
    }

    pub fn room(&self, name: &str) -> Option<&Room> {
        self.rooms.iter().find(|r| r.name == name)
    }

    fn room_mut(&mut self, name: &str) -> Option<&mut Room> {
        self.rooms.iter_mut().find(|r| r.name == name)
    }

    /// The room shown, if any.
    pub fn current_room(&self) -> Option<&Room> {
        self.room(self.current.as_deref()?)
    }

    fn current_mut(&mut self) -> Option<&mut Room> {
        let name = self.current.clone()?;
        self.room_mut(&name)
    }

    fn is_current(&self, room: &str) -> bool {
        self.current.as_deref() == Some(room)
    }

    /// Total unread messages in the rooms not shown (for the page title).
    pub fn unread_total(&self) -> u32 {
        self.rooms.iter().map(|r| r.unread).sum()
    }

    fn remove_room(&mut self, name: &str) {
        let Some(at) = self.rooms.iter().position(|r| r.name == name) else {
            return;
        };
        self.rooms.remove(at);
        if self.is_current(name) {
            // Show the neighbour: the tab that took its place, else the one before.
            let next = self.rooms.get(at).or_else(|| self.rooms.last());
            self.current = next.map(|r| r.name.clone());
            if let Some(r) = self.current_mut() {
                r.unread = 0;
            }
        }
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
                room.typing.clear();
                room.typing_sent_at = None;
            }
        }
        Action::Network { online } => state.online = online,
        Action::Join { room, name } => {
            state.notice = None;
            state.name = name;
            if state.room(&room).is_none() {
                let r = Room::new(room.clone());
                if state.conn == Conn::Live {
                    out.push(r.join_msg(&state.name));
                }
                state.rooms.push(r);
            }
            switch(state, Some(room));
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
        Action::Send { text, client_id } => {
            let Some(room) = state.current_mut() else {
                return out;
            };
            if room.joined {
                out.push(ClientMsg::Chat {
                    room: room.name.clone(),
                    text: text.clone(),
                    client_id: Some(client_id.clone()),
                });
            }
            room.pending.push(Pending {
                client_id,
                text,
                failed: None,
            });
            room.draft.clear();
            room.typing_sent_at = None;
        }
        Action::Tick { now } => {
            for room in &mut state.rooms {
                room.typing.retain(|t| t.until > now);
            }
        }
        Action::DismissNotice => state.notice = None,
        Action::Server { msg, now } => server(state, msg, now, &mut out),
    }
    out
}

fn switch(state: &mut State, room: Option<String>) {
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

fn server(state: &mut State, msg: ServerMsg, now: u64, out: &mut Vec<ClientMsg>) {
    let me = state.user_id.clone();
    let me = me.as_deref();
    match msg {
        ServerMsg::Welcome {
            protocol_version, ..
        } => {
            if protocol_version != PROTOCOL_VERSION {
                must_reload(state);
            }
        }
        ServerMsg::Hello {
            protocol_version,
            user_id,
        } => {
            if protocol_version != PROTOCOL_VERSION {
                must_reload(state);
            } else {
                state.user_id = Some(user_id);
            }
        }
        ServerMsg::Joined {
            room,
            members,
            history,
            gap,
            last_seq,
        } => {
            let current = state.is_current(&room);
            let name = state.name.clone();
            let Some(r) = state.room_mut(&room) else {
                return;
            };
            let catch_up = r.ever_joined;
            r.joined = true;
            r.ever_joined = true;
            r.members = members;
            r.gap = gap;
            // The server's numbering went backwards (its store was reset): what we hold
            // no longer matches its `seq`s.
            if timeline::last_seq(&r.messages).is_some_and(|ours| ours > last_seq) {
                // Ask again for its recent history; the answer settles what is pending.
                r.messages.clear();
                out.push(r.join_msg(&name));
                return;
            }
            if gap {
                // The history does not continue ours: show only what the server sent.
                r.messages.clear();
            }
            let mut fresh = 0;
            for m in history {
                let theirs = me != Some(m.sender.id.as_str());
                if r.add(m, me) && theirs {
                    fresh += 1;
                }
            }
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
        ServerMsg::Chat(m) => {
            let current = state.is_current(&m.room);
            let Some(r) = state.room_mut(&m.room) else {
                return;
            };
            let theirs = me != Some(m.sender.id.as_str());
            if r.add(m, me) && theirs && !current {
                r.unread += 1;
            }
        }
        ServerMsg::MemberJoined { room, member } => {
            if let Some(r) = state.room_mut(&room) {
                match r.members.iter_mut().find(|m| m.id == member.id) {
                    // A rename.
                    Some(m) => m.name = member.name,
                    None => r.members.push(member),
                }
            }
        }
        ServerMsg::MemberLeft { room, member } => {
            if let Some(r) = state.room_mut(&room) {
                r.members.retain(|m| m.id != member.id);
                r.typing.retain(|t| t.member.id != member.id);
            }
        }
        ServerMsg::Typing { room, member } => {
            if me == Some(member.id.as_str()) {
                return;
            }
            if let Some(r) = state.room_mut(&room) {
                let until = now + TYPING_SHOWN_MS;
                match r.typing.iter_mut().find(|t| t.member.id == member.id) {
                    Some(t) => {
                        t.until = until;
                        t.member.name = member.name;
                    }
                    None => r.typing.push(Typist { member, until }),
                }
            }
        }
        ServerMsg::Left { .. } | ServerMsg::Pong { .. } => {}
        // Scrollback pages: not requested by this client yet.
        ServerMsg::History { .. } => {}
        ServerMsg::Error {
            code,
            message,
            room,
            client_id,
        } => {
            if code == ErrorCode::ProtocolMismatch {
                must_reload(state);
                return;
            }
            if let (Some(id), Some(name)) = (&client_id, &room) {
                if let Some(r) = state.room_mut(name) {
                    if let Some(p) = r.pending.iter_mut().find(|p| &p.client_id == id) {
                        p.failed = Some(message);
                        return;
                    }
                }
            }
            // A refused join closes that room's tab, with the reason.
            if let Some(name) = room {
                if state.room(&name).is_some_and(|r| !r.ever_joined) {
                    state.remove_room(&name);
                }
            }
            state.notice = Some(message);
        }
    }
}

fn must_reload(state: &mut State) {
    state.must_reload = true;
    state.conn = Conn::Offline;
    state.retry_at = None;
    state.notice = Some(RELOAD_NOTICE.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> Member {
        Member {
            id: id.into(),
            name: format!("name-{id}"),
        }
    }

    fn chat_in(room: &str, seq: u64, sender: &str, client_id: Option<&str>) -> ChatMessage {
        ChatMessage {
            room: room.into(),
            seq,
            sender: member(sender),
            text: format!("message {seq}"),
            ts: 1_700_000_000_000 + seq,
            client_id: client_id.map(Into::into),
        }
    }

    fn chat(seq: u64, sender: &str, client_id: Option<&str>) -> ChatMessage {
        chat_in("lobby", seq, sender, client_id)
    }

    fn srv(msg: ServerMsg) -> Action {
        Action::Server { msg, now: 0 }
    }

    fn joined_in(room: &str, history: Vec<ChatMessage>, gap: bool) -> Action {
        srv(ServerMsg::Joined {
            room: room.into(),
            members: vec![member("me"), member("bo")],
            last_seq: history.last().map_or(0, |m| m.seq),
            history,
            gap,
        })
    }

    fn joined(history: Vec<ChatMessage>) -> Action {
        joined_in("lobby", history, false)
    }

    /// The reply to a re-join of `lobby` that missed nothing: no history, `last_seq` as held.
    fn caught_up(last_seq: u64) -> Action {
        srv(ServerMsg::Joined {
            room: "lobby".into(),
            members: vec![member("me"), member("bo")],
            history: vec![],
            last_seq,
            gap: false,
        })
    }

    fn join(room: &str) -> Action {
        Action::Join {
            room: room.into(),
            name: "Ann".into(),
        }
    }

    fn seqs(r: &Room) -> Vec<u64> {
        r.messages.iter().map(|m| m.seq).collect()
    }

    fn lobby(s: &State) -> &Room {
        s.room("lobby").expect("lobby is open")
    }

    /// A live state that has joined `lobby` as user `me`, with messages 1 and 2.
    fn in_lobby() -> State {
        let mut s = State::new(Some("me".into()));
        assert_eq!(apply(&mut s, Action::Connecting), []);
        apply(&mut s, Action::Open);
        apply(
            &mut s,
            srv(ServerMsg::Hello {
                protocol_version: PROTOCOL_VERSION,
                user_id: "me".into(),
            }),
        );
        let sent = apply(&mut s, join("lobby"));
        assert_eq!(
            sent,
            vec![ClientMsg::Join {
                room: "lobby".into(),
                name: "Ann".into(),
                since: None
            }]
        );
        apply(
            &mut s,
            joined(vec![chat(1, "bo", None), chat(2, "bo", None)]),
        );
        s
    }

    /// `in_lobby`, plus room `side` joined (empty) and `lobby` shown again.
    fn in_two_rooms() -> State {
        let mut s = in_lobby();
        apply(&mut s, join("side"));
        apply(&mut s, joined_in("side", vec![], false));
        apply(
            &mut s,
            Action::Switch {
                room: Some("lobby".into()),
            },
        );
        s
    }

    #[test]
    fn join_then_live_messages_and_presence() {
        let mut s = in_lobby();
        assert_eq!(s.current.as_deref(), Some("lobby"));
        assert!(lobby(&s).joined);
        assert_eq!(s.status(), Conn::Live);
        assert_eq!(lobby(&s).members.len(), 2);

        // Live messages are kept in seq order; a repeat is ignored.
        apply(&mut s, srv(ServerMsg::Chat(chat(4, "bo", None))));
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", None))));
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", None))));
        assert_eq!(seqs(lobby(&s)), [1, 2, 3, 4]);

        // Presence follows joins and leaves, one entry per user; a re-announce renames.
        let cy = member("cy");
        for _ in 0..2 {
            apply(
                &mut s,
                srv(ServerMsg::MemberJoined {
                    room: "lobby".into(),
                    member: cy.clone(),
                }),
            );
        }
        assert_eq!(lobby(&s).members.len(), 3);
        apply(
            &mut s,
            srv(ServerMsg::MemberJoined {
                room: "lobby".into(),
                member: Member {
                    id: "cy".into(),
                    name: "Cy".into(),
                },
            }),
        );
        assert_eq!(lobby(&s).members[2].name, "Cy");
        apply(
            &mut s,
            srv(ServerMsg::MemberLeft {
                room: "lobby".into(),
                member: member("bo"),
            }),
        );
        let ids: Vec<&str> = lobby(&s).members.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["me", "cy"]);

        // Traffic for a room this page has not joined is ignored.
        apply(
            &mut s,
            srv(ServerMsg::Chat(chat_in("elsewhere", 9, "bo", None))),
        );
        assert_eq!(s.rooms.len(), 1);
        assert_eq!(lobby(&s).messages.len(), 4);
    }

    #[test]
    fn joining_before_the_socket_is_open_joins_on_open() {
        let mut s = State::new(Some("me".into()));
        assert_eq!(s.status(), Conn::Connecting);
        assert_eq!(apply(&mut s, join("lobby")), []);
        assert_eq!(s.current.as_deref(), Some("lobby"));
        let sent = apply(&mut s, Action::Open);
        assert!(
            matches!(&sent[..], [ClientMsg::Join { room, since: None, .. }] if room == "lobby")
        );
    }

    #[test]
    fn pending_message_is_confirmed_by_its_echo() {
        let mut s = in_lobby();
        let sent = apply(
            &mut s,
            Action::Send {
                text: "hi".into(),
                client_id: "c1".into(),
            },
        );
        assert_eq!(
            sent,
            vec![ClientMsg::Chat {
                room: "lobby".into(),
                text: "hi".into(),
                client_id: Some("c1".into())
            }]
        );
        assert_eq!(lobby(&s).pending.len(), 1);
        // Someone else's message with the same client_id does not settle ours.
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", Some("c1")))));
        assert_eq!(lobby(&s).pending.len(), 1);
        apply(&mut s, srv(ServerMsg::Chat(chat(4, "me", Some("c1")))));
        assert!(lobby(&s).pending.is_empty());
        assert_eq!(seqs(lobby(&s)), [1, 2, 3, 4]);
        // A late duplicate echo (a retry's ack) changes nothing.
        apply(&mut s, srv(ServerMsg::Chat(chat(4, "me", Some("c1")))));
        assert_eq!(seqs(lobby(&s)), [1, 2, 3, 4]);
        // Own messages never count as unread.
        assert_eq!(s.unread_total(), 0);
    }

    #[test]
    fn pending_messages_survive_a_reconnect_and_are_sent_once() {
        let mut s = in_lobby();
        apply(
            &mut s,
            Action::Send {
                text: "hi".into(),
                client_id: "c1".into(),
            },
        );

        // The connection drops before the echo arrives.
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 5_000,
            },
        );
        assert_eq!(s.status(), Conn::Reconnecting);
        assert_eq!(s.retry_at, Some(5_000));
        assert!(!lobby(&s).joined);
        // Sending while down only queues (shown pending).
        let sent = apply(
            &mut s,
            Action::Send {
                text: "again".into(),
                client_id: "c2".into(),
            },
        );
        assert!(sent.is_empty());
        assert_eq!(lobby(&s).pending.len(), 2);
        apply(&mut s, Action::Connecting);
        assert_eq!(s.retry_at, None);
        assert_eq!(s.status(), Conn::Reconnecting);

        // On reconnect the client re-joins asking only for what it missed ...
        let sent = apply(&mut s, Action::Open);
        assert_eq!(
            sent,
            vec![ClientMsg::Join {
                room: "lobby".into(),
                name: "Ann".into(),
                since: Some(2)
            }]
        );
        // ... and the history shows "hi" was stored, so only "again" is sent once more.
        let sent = apply(&mut s, joined(vec![chat(3, "me", Some("c1"))]));
        assert_eq!(
            sent,
            vec![ClientMsg::Chat {
                room: "lobby".into(),
                text: "again".into(),
                client_id: Some("c2".into())
            }]
        );
        assert_eq!(lobby(&s).pending.len(), 1);
        apply(&mut s, srv(ServerMsg::Chat(chat(4, "me", Some("c2")))));
        assert!(lobby(&s).pending.is_empty());
        assert_eq!(seqs(lobby(&s)), [1, 2, 3, 4]);
    }

    #[test]
    fn catch_up_merges_without_gaps_or_duplicates() {
        let mut s = in_lobby();
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", None))));
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        apply(&mut s, Action::Open);
        // An overlapping, unordered catch-up.
        apply(
            &mut s,
            joined(vec![
                chat(5, "bo", None),
                chat(3, "bo", None),
                chat(4, "bo", None),
            ]),
        );
        assert_eq!(seqs(lobby(&s)), [1, 2, 3, 4, 5]);
        assert!(!lobby(&s).gap);
    }

    #[test]
    fn a_gap_replaces_the_history_and_is_noted() {
        let mut s = in_lobby();
        apply(
            &mut s,
            Action::Send {
                text: "mine".into(),
                client_id: "c9".into(),
            },
        );
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        apply(&mut s, Action::Open);
        let sent = apply(
            &mut s,
            joined_in(
                "lobby",
                vec![chat(500, "bo", None), chat(501, "me", Some("c9"))],
                true,
            ),
        );
        assert_eq!(seqs(lobby(&s)), [500, 501]);
        assert!(lobby(&s).gap);
        // The pending message was in the new tail: settled, not re-sent.
        assert!(sent.is_empty());
        assert!(lobby(&s).pending.is_empty());
        // A later clean catch-up clears the note.
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        let sent = apply(&mut s, Action::Open);
        assert!(matches!(
            &sent[..],
            [ClientMsg::Join {
                since: Some(501),
                ..
            }]
        ));
        apply(&mut s, caught_up(501));
        assert!(!lobby(&s).gap);
    }

    #[test]
    fn a_server_whose_numbering_went_back_replaces_the_history() {
        let mut s = in_lobby();
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        apply(&mut s, Action::Open);
        // We hold 1..=2; the server now says its last seq is 1 ...
        let sent = apply(
            &mut s,
            srv(ServerMsg::Joined {
                room: "lobby".into(),
                members: vec![],
                history: vec![],
                last_seq: 1,
                gap: false,
            }),
        );
        assert!(lobby(&s).messages.is_empty());
        // ... so it asks for the recent history afresh.
        assert!(matches!(&sent[..], [ClientMsg::Join { since: None, .. }]));
        apply(&mut s, joined(vec![chat(1, "bo", None)]));
        assert_eq!(seqs(lobby(&s)), [1]);
    }

    #[test]
    fn unread_counts_and_switching_rooms() {
        let mut s = in_two_rooms();
        assert_eq!(s.current.as_deref(), Some("lobby"));
        // Messages from others in the room not shown count; in the shown room they do not.
        apply(&mut s, srv(ServerMsg::Chat(chat_in("side", 1, "bo", None))));
        apply(&mut s, srv(ServerMsg::Chat(chat_in("side", 2, "bo", None))));
        apply(&mut s, srv(ServerMsg::Chat(chat_in("side", 3, "me", None))));
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", None))));
        assert_eq!(s.room("side").unwrap().unread, 2);
        assert_eq!(lobby(&s).unread, 0);
        assert_eq!(s.unread_total(), 2);

        // Switching shows the room and clears its count.
        apply(
            &mut s,
            Action::Switch {
                room: Some("side".into()),
            },
        );
        assert_eq!(s.current.as_deref(), Some("side"));
        assert_eq!(s.unread_total(), 0);
        // Switching to an unknown room is ignored; `None` shows the join form.
        apply(
            &mut s,
            Action::Switch {
                room: Some("nowhere".into()),
            },
        );
        assert_eq!(s.current.as_deref(), Some("side"));
        apply(&mut s, Action::Switch { room: None });
        assert_eq!(s.current, None);
        // Joining an open room switches to it without a second `join`.
        assert_eq!(apply(&mut s, join("lobby")), []);
        assert_eq!(s.current.as_deref(), Some("lobby"));
        assert_eq!(s.rooms.len(), 2);

        // Messages missed while disconnected count as unread in rooms not shown.
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        let sent = apply(&mut s, Action::Open);
        assert_eq!(sent.len(), 2, "every room is re-joined: {sent:?}");
        apply(
            &mut s,
            joined_in(
                "side",
                vec![
                    chat_in("side", 4, "bo", None),
                    chat_in("side", 5, "bo", None),
                ],
                false,
            ),
        );
        assert_eq!(s.room("side").unwrap().unread, 2);
    }

    #[test]
    fn leaving_rooms() {
        let mut s = in_two_rooms();
        apply(
            &mut s,
            Action::Send {
                text: "queued".into(),
                client_id: "c1".into(),
            },
        );
        // Leaving the shown room shows its neighbour and tells the server.
        let sent = apply(
            &mut s,
            Action::Leave {
                room: "lobby".into(),
            },
        );
        assert_eq!(
            sent,
            vec![ClientMsg::Leave {
                room: "lobby".into()
            }]
        );
        assert_eq!(s.current.as_deref(), Some("side"));
        assert_eq!(s.rooms.len(), 1);
        // After a reconnect the left room is not re-joined.
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        let sent = apply(&mut s, Action::Open);
        assert!(matches!(&sent[..], [ClientMsg::Join { room, .. }] if room == "side"));
        // Leaving the last room shows the join form; a room not joined is not told.
        let sent = apply(
            &mut s,
            Action::Leave {
                room: "side".into(),
            },
        );
        assert!(sent.is_empty());
        assert_eq!(s.current, None);
        assert!(s.rooms.is_empty());
    }

    #[test]
    fn typing_is_throttled_and_shown_for_others_only() {
        let mut s = in_two_rooms();
        let draft = |s: &mut State, text: &str, now: u64| {
            apply(
                s,
                Action::Draft {
                    text: text.into(),
                    now,
                },
            )
        };
        let typing = vec![ClientMsg::Typing {
            room: "lobby".into(),
        }];
        // At most one `typing` per TYPING_EVERY_MS, and none for a blank draft.
        assert_eq!(draft(&mut s, " ", 1_000), []);
        assert_eq!(draft(&mut s, "h", 1_000), typing);
        assert_eq!(draft(&mut s, "he", 1_500), []);
        assert_eq!(draft(&mut s, "hel", 2_999), []);
        assert_eq!(draft(&mut s, "hell", 3_000), typing);
        assert_eq!(lobby(&s).draft, "hell");
        // Sending clears the draft and the throttle.
        apply(
            &mut s,
            Action::Send {
                text: "hell".into(),
                client_id: "c1".into(),
            },
        );
        assert_eq!(lobby(&s).draft, "");
        assert_eq!(draft(&mut s, "n", 3_100), typing);

        // Another member typing shows for TYPING_SHOWN_MS; our own echo does not show.
        let typing_from = |id: &str, now: u64| Action::Server {
            msg: ServerMsg::Typing {
                room: "lobby".into(),
                member: member(id),
            },
            now,
        };
        apply(&mut s, typing_from("me", 10_000));
        apply(&mut s, typing_from("bo", 10_000));
        apply(&mut s, typing_from("cy", 10_000));
        apply(&mut s, typing_from("bo", 11_000));
        let shown = |s: &State, now| -> Vec<String> {
            lobby(s).typing_now(now).map(|m| m.id.clone()).collect()
        };
        assert_eq!(shown(&s, 12_000), ["bo", "cy"]);
        assert_eq!(shown(&s, 14_500), ["bo"]);
        apply(&mut s, Action::Tick { now: 14_500 });
        assert_eq!(lobby(&s).typing.len(), 1);
        // Their message clears it at once.
        apply(&mut s, srv(ServerMsg::Chat(chat(3, "bo", None))));
        assert!(lobby(&s).typing.is_empty());
        // So does leaving.
        apply(&mut s, typing_from("cy", 20_000));
        apply(
            &mut s,
            srv(ServerMsg::MemberLeft {
                room: "lobby".into(),
                member: member("cy"),
            }),
        );
        assert!(lobby(&s).typing.is_empty());
        // And a lost connection.
        apply(&mut s, typing_from("bo", 30_000));
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        assert!(lobby(&s).typing.is_empty());
        // No `typing` is sent while not joined.
        assert_eq!(draft(&mut s, "offline", 40_000), []);
    }

    #[test]
    fn connection_status() {
        let mut s = State::default();
        assert_eq!(s.status(), Conn::Connecting);
        // A first attempt that fails stays "connecting" (never live yet).
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 100,
            },
        );
        assert_eq!(s.status(), Conn::Connecting);
        apply(&mut s, Action::Open);
        assert_eq!(s.status(), Conn::Live);
        apply(
            &mut s,
            Action::Closed {
                online: false,
                retry_at: 100,
            },
        );
        assert_eq!(s.status(), Conn::Offline);
        apply(&mut s, Action::Network { online: true });
        assert_eq!(s.status(), Conn::Reconnecting);
        assert_eq!(Conn::Reconnecting.as_str(), "reconnecting");
        // The browser says offline: shown as such even if the socket has not noticed yet.
        apply(&mut s, Action::Open);
        assert_eq!(s.status(), Conn::Live);
        apply(&mut s, Action::Network { online: false });
        assert_eq!(s.status(), Conn::Offline);
    }

    #[test]
    fn refusals() {
        // A refused chat marks that message failed; it is not re-sent after a reconnect.
        let mut s = in_lobby();
        apply(
            &mut s,
            Action::Send {
                text: "x".repeat(10),
                client_id: "c1".into(),
            },
        );
        apply(
            &mut s,
            srv(ServerMsg::Error {
                code: ErrorCode::RateLimited,
                message: "slow down".into(),
                room: Some("lobby".into()),
                client_id: Some("c1".into()),
            }),
        );
        assert_eq!(lobby(&s).pending[0].failed.as_deref(), Some("slow down"));
        assert_eq!(s.current.as_deref(), Some("lobby"));
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        apply(&mut s, Action::Open);
        assert_eq!(apply(&mut s, caught_up(2)), []);

        // A refused join closes the tab and says why.
        let mut s = State::default();
        apply(&mut s, Action::Open);
        apply(&mut s, join("lobby"));
        apply(
            &mut s,
            srv(ServerMsg::Error {
                code: ErrorCode::InvalidName,
                message: "bad name".into(),
                room: Some("lobby".into()),
                client_id: None,
            }),
        );
        assert_eq!(s.current, None);
        assert!(s.rooms.is_empty());
        assert_eq!(s.notice.as_deref(), Some("bad name"));
        apply(&mut s, Action::DismissNotice);
        assert_eq!(s.notice, None);
    }

    #[test]
    fn protocol_mismatch_asks_for_a_reload() {
        let mut s = in_lobby();
        apply(
            &mut s,
            srv(ServerMsg::Error {
                code: ErrorCode::ProtocolMismatch,
                message: "protocol 1 not supported".into(),
                room: None,
                client_id: None,
            }),
        );
        assert!(s.must_reload);
        assert_eq!(s.status(), Conn::Offline);
        assert_eq!(s.notice.as_deref(), Some(RELOAD_NOTICE));
        // It stays offline and sends nothing more.
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        assert_eq!(s.status(), Conn::Offline);
        assert_eq!(apply(&mut s, Action::Open), []);
        assert_eq!(s.status(), Conn::Offline);

        // A welcome from a newer server says the same.
        let mut s = State::default();
        apply(
            &mut s,
            srv(ServerMsg::Welcome {
                protocol_version: PROTOCOL_VERSION + 1,
                user_id: "x".into(),
                heartbeat_ms: 5_000,
            }),
        );
        assert!(s.must_reload);
    }
}
