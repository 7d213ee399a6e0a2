//! Host tests of the reducer: fixtures here, cases by topic in the files beside.

use super::*;
use tandem_shared::{ChatMessage, ClientMsg, ErrorCode, Member, ServerMsg, PROTOCOL_VERSION};

mod messages;
mod presence;
mod private;
mod rooms;
mod scrollback;

fn member(id: &str) -> Member {
    Member {
        id: id.into(),
        name: format!("name-{id}"),
        role: None,
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
        count: 2,
        last_seq: history.last().map_or(0, |m| m.seq),
        history,
        gap,
        title: None,
        role: None,
        read_only: false,
        invite: None,
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
        count: 2,
        history: vec![],
        last_seq,
        gap: false,
        title: None,
        role: None,
        read_only: false,
        invite: None,
    })
}

fn join(room: &str) -> Action {
    Action::Join {
        room: room.into(),
        name: "Ann".into(),
        restored: vec![],
        invite: None,
        title: None,
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
            token: Some("t".into()),
        }),
    );
    let sent = apply(&mut s, join("lobby"));
    assert_eq!(
        sent,
        vec![ClientMsg::Join {
            room: "lobby".into(),
            name: "Ann".into(),
            since: None,
            invite: None,
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

/// A `presence` frame for `lobby` (not a resync).
fn presence(joins: Vec<Member>, leaves: &[&str], count: u64) -> ServerMsg {
    ServerMsg::Presence {
        room: "lobby".into(),
        joins,
        leaves: leaves.iter().map(|l| l.to_string()).collect(),
        count,
        full: false,
    }
}
