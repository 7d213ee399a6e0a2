//! The reducer on rooms and the connection: joining, switching, leaving, typing, status,
//! refusals.

use super::*;

#[test]
fn joining_before_the_socket_is_open_joins_on_open() {
    let mut s = State::new(Some("me".into()));
    assert_eq!(s.status(), Conn::Connecting);
    assert_eq!(apply(&mut s, join("lobby")), []);
    assert_eq!(s.current.as_deref(), Some("lobby"));
    let sent = apply(&mut s, Action::Open);
    assert!(matches!(&sent[..], [ClientMsg::Join { room, since: None, .. }] if room == "lobby"));
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
            at: 0,
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
            at: 0,
        },
    );
    assert_eq!(lobby(&s).draft, "");
    assert_eq!(draft(&mut s, "n", 3_100), typing);

    // Another member typing shows for TYPING_SHOWN_MS; our own echo does not show.
    let typing_from = |id: &str, now: u64| Action::Server {
        msg: ServerMsg::Typing {
            room: "lobby".into(),
            members: vec![member(id)],
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
    apply(&mut s, srv(presence(vec![], &["cy"], 2)));
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
            at: 0,
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

    // A refused identity token is not the person's problem: nothing is shown.
    let mut t = in_lobby();
    apply(
        &mut t,
        srv(ServerMsg::Error {
            code: ErrorCode::BadToken,
            message: "bad token".into(),
            room: None,
            client_id: None,
        }),
    );
    assert_eq!(t.notice, None);
    assert!(!t.must_reload);

    // A welcome from a newer server says the same.
    let mut s = State::default();
    apply(
        &mut s,
        srv(ServerMsg::Welcome {
            protocol_version: PROTOCOL_VERSION + 1,
            user_id: "x".into(),
            token: "t".into(),
            heartbeat_ms: 5_000,
            nodes: Vec::new(),
        }),
    );
    assert!(s.must_reload);
}
