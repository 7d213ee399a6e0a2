//! Unit tests of the room core: joins, presence, seq, history tail, idempotency.

use super::*;

fn room() -> Room {
    Room::new(RoomName::new("r").unwrap(), 0, Vec::new(), Arc::default())
}

fn join(r: &mut Room, conn: ConnId, user: &str) -> Vec<Output> {
    let mut out = Vec::new();
    r.join(conn, user.into(), user.to_uppercase(), None, &mut out);
    out
}

fn chat(r: &mut Room, conn: ConnId, text: &str, cid: Option<&str>) -> Vec<Output> {
    let mut out = Vec::new();
    r.chat(conn, text.into(), cid.map(Into::into), 1, &mut out);
    out
}

fn posted_seq(out: &[Output]) -> u64 {
    match out {
        [Output::Posted { msg, .. }] => msg.seq,
        other => panic!("expected one Posted, got {other:?}"),
    }
}

#[test]
fn two_tabs_of_one_user_are_one_member() {
    let mut r = room();
    let first = join(&mut r, 1, "ada");
    assert!(matches!(
        &first[..],
        [
            Output::To(1, ServerMsg::Joined { .. }),
            Output::All(ServerMsg::MemberJoined { .. }),
            Output::Subscribe(1)
        ]
    ));
    let second = join(&mut r, 2, "ada");
    assert!(
        !second.iter().any(|o| matches!(o, Output::All(_))),
        "{second:?}"
    );
    match &second[0] {
        Output::To(2, ServerMsg::Joined { members, .. }) => assert_eq!(members.len(), 1),
        other => panic!("{other:?}"),
    }
    let mut out = Vec::new();
    assert!(r.disconnect(1, &mut out));
    assert!(
        !out.iter().any(|o| matches!(o, Output::All(_))),
        "still one tab open"
    );
    out.clear();
    assert!(r.disconnect(2, &mut out));
    assert!(matches!(
        out.last(),
        Some(Output::All(ServerMsg::MemberLeft { .. }))
    ));
    assert!(r.is_empty());
}

#[test]
fn seq_increases_and_client_id_dedups() {
    let mut r = room();
    join(&mut r, 1, "ada");
    assert_eq!(posted_seq(&chat(&mut r, 1, "a", Some("k1"))), 1);
    assert_eq!(posted_seq(&chat(&mut r, 1, "b", None)), 2);
    let retry = chat(&mut r, 1, "a", Some("k1"));
    match &retry[..] {
        [Output::To(1, ServerMsg::Chat(m))] => assert_eq!(m.seq, 1),
        other => panic!("{other:?}"),
    }
    // The same key from another user is a different message.
    join(&mut r, 2, "bob");
    assert_eq!(posted_seq(&chat(&mut r, 2, "a", Some("k1"))), 3);
    // The same key with another text is refused, never acknowledged as the original.
    match &chat(&mut r, 1, "not a", Some("k1"))[..] {
        [Output::To(
            1,
            ServerMsg::Error {
                code, client_id, ..
            },
        )] => {
            assert_eq!(*code, ErrorCode::ClientIdReused);
            assert_eq!(client_id.as_deref(), Some("k1"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        posted_seq(&chat(&mut r, 1, "c", None)),
        4,
        "nothing was stored"
    );
}

#[test]
fn chat_without_join_is_refused() {
    let mut r = room();
    let out = chat(&mut r, 9, "x", None);
    assert!(matches!(
        &out[..],
        [Output::To(
            9,
            ServerMsg::Error {
                code: ErrorCode::NotJoined,
                ..
            }
        )]
    ));
}

#[test]
fn since_replays_exactly_the_missing_messages() {
    let mut r = room();
    join(&mut r, 1, "ada");
    for i in 0..5 {
        chat(&mut r, 1, &format!("m{i}"), None);
    }
    let mut out = Vec::new();
    r.join(2, "bob".into(), "Bob".into(), Some(3), &mut out);
    match &out[0] {
        Output::To(
            2,
            ServerMsg::Joined {
                history,
                gap,
                last_seq,
                ..
            },
        ) => {
            assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), [4, 5]);
            assert!(!gap);
            assert_eq!(*last_seq, 5);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn since_beyond_the_tail_reports_a_gap() {
    let recent: Vec<_> = (500..=600)
        .map(|seq| {
            Arc::new(ChatMessage {
                room: "r".into(),
                seq,
                sender: Member {
                    role: None,
                    id: "u".into(),
                    name: "U".into(),
                },
                text: "t".into(),
                ts: 0,
                client_id: None,
            })
        })
        .collect();
    let mut r = Room::new(RoomName::new("r").unwrap(), 600, recent, Arc::default());
    let mut out = Vec::new();
    r.join(1, "ada".into(), "Ada".into(), Some(10), &mut out);
    match &out[0] {
        Output::To(1, ServerMsg::Joined { history, gap, .. }) => {
            assert!(gap);
            assert_eq!(history.len(), HISTORY_LEN);
            assert_eq!(history.last().unwrap().seq, 600);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rollback_restores_the_counter_and_dedup() {
    let mut r = room();
    join(&mut r, 1, "ada");
    chat(&mut r, 1, "kept", None);
    let out = chat(&mut r, 1, "lost", Some("k"));
    let Output::Posted { msg, .. } = &out[0] else {
        panic!()
    };
    r.rollback(std::slice::from_ref(msg));
    assert_eq!(posted_seq(&chat(&mut r, 1, "again", Some("k"))), 2);
}
