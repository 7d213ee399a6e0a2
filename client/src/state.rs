//! The page's state and the pure reducer that changes it: no browser APIs, so it is tested
//! on the host. [`apply`] returns the messages the change requires sending; the caller
//! hands them to the socket.

use tandem_shared::{ChatMessage, ClientMsg, ErrorCode, Member, ServerMsg, PROTOCOL_VERSION};

/// The connection indicator; [`Conn::as_str`] is the `data-state` the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// Not connected yet since the page loaded.
    Connecting,
    Live,
    /// Lost; retrying.
    Reconnecting,
    /// The browser is offline, or the client gave up (it must be reloaded).
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

    pub fn label(self) -> &'static str {
        match self {
            Conn::Connecting => "Connecting…",
            Conn::Live => "Live",
            Conn::Reconnecting => "Reconnecting…",
            Conn::Offline => "Offline",
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub conn: Conn,
    /// The room this page is in (joined, or joining), and the name used there.
    pub room: Option<String>,
    pub name: String,
    /// The server answered our `join` on the current connection.
    pub joined: bool,
    /// This connection's user id, as the server confirmed it.
    pub user_id: Option<String>,
    /// The room's messages, ordered by `seq`, without duplicates.
    pub messages: Vec<ChatMessage>,
    pub pending: Vec<Pending>,
    pub members: Vec<Member>,
    /// A problem to show the person (dismissable).
    pub notice: Option<String>,
    /// The client must be reloaded (it speaks another protocol version than the server).
    pub must_reload: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            conn: Conn::Connecting,
            room: None,
            name: String::new(),
            joined: false,
            user_id: None,
            messages: Vec::new(),
            pending: Vec::new(),
            members: Vec::new(),
            notice: None,
            must_reload: false,
        }
    }
}

/// Everything that can happen to the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The socket is open (and `hello` has been sent on it).
    Open,
    /// The socket closed; `online` is the browser's idea of the network.
    Closed {
        online: bool,
    },
    Server(ServerMsg),
    /// The person asked to join `room` as `name` (both already validated).
    Join {
        room: String,
        name: String,
    },
    /// The person sent `text` (validated) under the fresh idempotency key `client_id`.
    Send {
        text: String,
        client_id: String,
    },
    Leave,
    DismissNotice,
}

/// Shown when the server speaks another protocol version.
pub const RELOAD_NOTICE: &str = "Tandem has been updated. Reload the page to continue.";

impl State {
    fn is_current(&self, room: &str) -> bool {
        self.room.as_deref() == Some(room)
    }

    fn last_seq(&self) -> Option<u64> {
        self.messages.last().map(|m| m.seq)
    }

    fn join_msg(&self) -> Option<ClientMsg> {
        let room = self.room.clone()?;
        Some(ClientMsg::Join {
            room,
            name: self.name.clone(),
            since: self.last_seq(),
        })
    }

    /// Insert `msg` in `seq` order unless it is already there; settle its pending entry.
    fn add_message(&mut self, msg: ChatMessage) {
        if let Some(id) = &msg.client_id {
            if self.user_id.as_ref() == Some(&msg.sender.id) {
                self.pending.retain(|p| &p.client_id != id);
            }
        }
        if let Err(at) = self.messages.binary_search_by_key(&msg.seq, |m| m.seq) {
            self.messages.insert(at, msg);
        }
    }

    fn reset_room(&mut self) {
        self.room = None;
        self.joined = false;
        self.messages.clear();
        self.pending.clear();
        self.members.clear();
    }
}

/// Apply `action` to `state`; returns the messages to send, in order.
pub fn apply(state: &mut State, action: Action) -> Vec<ClientMsg> {
    let mut out = Vec::new();
    match action {
        Action::Open => {
            if state.must_reload {
                return out;
            }
            state.conn = Conn::Live;
            state.joined = false;
            out.extend(state.join_msg());
        }
        Action::Closed { online } => {
            state.joined = false;
            state.conn = if online && !state.must_reload {
                Conn::Reconnecting
            } else {
                Conn::Offline
            };
        }
        Action::Join { room, name } => {
            state.reset_room();
            state.room = Some(room);
            state.name = name;
            state.notice = None;
            if state.conn == Conn::Live {
                out.extend(state.join_msg());
            }
        }
        Action::Send { text, client_id } => {
            let Some(room) = state.room.clone() else {
                return out;
            };
            if state.joined {
                out.push(ClientMsg::Chat {
                    room,
                    text: text.clone(),
                    client_id: Some(client_id.clone()),
                });
            }
            state.pending.push(Pending {
                client_id,
                text,
                failed: None,
            });
        }
        Action::Leave => {
            if let Some(room) = state.room.clone() {
                if state.joined {
                    out.push(ClientMsg::Leave { room });
                }
            }
            state.reset_room();
        }
        Action::DismissNotice => state.notice = None,
        Action::Server(msg) => server(state, msg, &mut out),
    }
    out
}

fn server(state: &mut State, msg: ServerMsg, out: &mut Vec<ClientMsg>) {
    match msg {
        ServerMsg::Welcome {
            protocol_version,
            user_id,
            ..
        }
        | ServerMsg::Hello {
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
            ..
        } => {
            if !state.is_current(&room) {
                return;
            }
            state.joined = true;
            state.members = members;
            if gap {
                state.messages.clear();
            }
            for m in history {
                state.add_message(m);
            }
            // Whatever is still pending was lost with the old connection: send it again
            // (the server drops repeats of a `client_id` it already stored).
            for p in state.pending.iter().filter(|p| p.failed.is_none()) {
                out.push(ClientMsg::Chat {
                    room: room.clone(),
                    text: p.text.clone(),
                    client_id: Some(p.client_id.clone()),
                });
            }
        }
        ServerMsg::Chat(m) => {
            if state.is_current(&m.room) {
                state.add_message(m);
            }
        }
        ServerMsg::MemberJoined { room, member } => {
            if state.is_current(&room) && !state.members.iter().any(|m| m.id == member.id) {
                state.members.push(member);
            }
        }
        ServerMsg::MemberLeft { room, member } => {
            if state.is_current(&room) {
                state.members.retain(|m| m.id != member.id);
            }
        }
        // The typing indicator is not shown yet.
        ServerMsg::Left { .. } | ServerMsg::Pong { .. } | ServerMsg::Typing { .. } => {}
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
            if let Some(id) = client_id {
                if let Some(p) = state.pending.iter_mut().find(|p| p.client_id == id) {
                    p.failed = Some(message);
                    return;
                }
            }
            // A refused join sends the person back to the form, with the reason.
            if let Some(room) = room {
                if state.is_current(&room) && !state.joined {
                    state.reset_room();
                }
            }
            state.notice = Some(message);
        }
    }
}

fn must_reload(state: &mut State) {
    state.must_reload = true;
    state.conn = Conn::Offline;
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

    fn chat(seq: u64, sender: &str, client_id: Option<&str>) -> ChatMessage {
        ChatMessage {
            room: "lobby".into(),
            seq,
            sender: member(sender),
            text: format!("message {seq}"),
            ts: 1_700_000_000_000 + seq,
            client_id: client_id.map(Into::into),
        }
    }

    fn joined(history: Vec<ChatMessage>) -> Action {
        Action::Server(ServerMsg::Joined {
            room: "lobby".into(),
            members: vec![member("me"), member("bo")],
            last_seq: history.last().map_or(0, |m| m.seq),
            history,
            gap: false,
        })
    }

    /// A live state that has joined `lobby` as user `me`, with messages 1 and 2.
    fn in_lobby() -> State {
        let mut s = State::default();
        apply(&mut s, Action::Open);
        apply(
            &mut s,
            Action::Server(ServerMsg::Hello {
                protocol_version: PROTOCOL_VERSION,
                user_id: "me".into(),
            }),
        );
        let sent = apply(
            &mut s,
            Action::Join {
                room: "lobby".into(),
                name: "Ann".into(),
            },
        );
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

    #[test]
    fn join_then_live_messages_and_presence() {
        let mut s = in_lobby();
        assert!(s.joined);
        assert_eq!(s.conn, Conn::Live);
        assert_eq!(s.members.len(), 2);

        // Live messages are appended in seq order; a repeat is ignored.
        apply(&mut s, Action::Server(ServerMsg::Chat(chat(4, "bo", None))));
        apply(&mut s, Action::Server(ServerMsg::Chat(chat(3, "bo", None))));
        apply(&mut s, Action::Server(ServerMsg::Chat(chat(3, "bo", None))));
        let seqs: Vec<u64> = s.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);

        // Presence follows joins and leaves, one entry per user.
        let cy = member("cy");
        for _ in 0..2 {
            apply(
                &mut s,
                Action::Server(ServerMsg::MemberJoined {
                    room: "lobby".into(),
                    member: cy.clone(),
                }),
            );
        }
        assert_eq!(s.members.len(), 3);
        apply(
            &mut s,
            Action::Server(ServerMsg::MemberLeft {
                room: "lobby".into(),
                member: member("bo"),
            }),
        );
        let ids: Vec<&str> = s.members.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["me", "cy"]);

        // Another room's traffic is not ours.
        let mut other = chat(9, "bo", None);
        other.room = "elsewhere".into();
        apply(&mut s, Action::Server(ServerMsg::Chat(other)));
        assert_eq!(s.messages.len(), 4);
    }

    #[test]
    fn pending_messages_survive_a_reconnect() {
        let mut s = in_lobby();
        let sent = apply(
            &mut s,
            Action::Send {
                text: "hi".into(),
                client_id: "c1".into(),
            },
        );
        assert!(matches!(&sent[..], [ClientMsg::Chat { client_id: Some(id), .. }] if id == "c1"));
        assert_eq!(s.pending.len(), 1);

        // The connection drops before the echo arrives.
        apply(&mut s, Action::Closed { online: true });
        assert_eq!(s.conn, Conn::Reconnecting);
        assert!(!s.joined);
        // Sending while down only queues.
        let sent = apply(
            &mut s,
            Action::Send {
                text: "again".into(),
                client_id: "c2".into(),
            },
        );
        assert!(sent.is_empty());

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
        assert_eq!(s.pending.len(), 1);
        apply(
            &mut s,
            Action::Server(ServerMsg::Chat(chat(4, "me", Some("c2")))),
        );
        assert!(s.pending.is_empty());
        assert_eq!(s.messages.len(), 4);
    }

    #[test]
    fn refusals() {
        // A refused chat marks that message failed; a refused join returns to the form.
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
            Action::Server(ServerMsg::Error {
                code: ErrorCode::RateLimited,
                message: "slow down".into(),
                room: Some("lobby".into()),
                client_id: Some("c1".into()),
            }),
        );
        assert_eq!(s.pending[0].failed.as_deref(), Some("slow down"));
        assert_eq!(s.room.as_deref(), Some("lobby"));

        let mut s = State::default();
        apply(&mut s, Action::Open);
        apply(
            &mut s,
            Action::Join {
                room: "lobby".into(),
                name: "Ann".into(),
            },
        );
        apply(
            &mut s,
            Action::Server(ServerMsg::Error {
                code: ErrorCode::InvalidName,
                message: "bad name".into(),
                room: Some("lobby".into()),
                client_id: None,
            }),
        );
        assert_eq!(s.room, None);
        assert_eq!(s.notice.as_deref(), Some("bad name"));
    }

    #[test]
    fn protocol_mismatch_asks_for_a_reload() {
        let mut s = State::default();
        apply(&mut s, Action::Open);
        apply(
            &mut s,
            Action::Server(ServerMsg::Error {
                code: ErrorCode::ProtocolMismatch,
                message: "protocol 1 not supported".into(),
                room: None,
                client_id: None,
            }),
        );
        assert!(s.must_reload);
        assert_eq!(s.conn, Conn::Offline);
        assert_eq!(s.notice.as_deref(), Some(RELOAD_NOTICE));
        // It stays offline: the socket is not retried.
        apply(&mut s, Action::Closed { online: true });
        assert_eq!(s.conn, Conn::Offline);
    }
}
