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

/// The tick's presence frame: joins by id, leaves, count, full.
fn presence(r: &mut Room) -> (Vec<String>, Vec<String>, u64, bool) {
    let mut out = Vec::new();
    r.flush_presence(&mut out);
    match out.pop() {
        Some(Output::Coalesced(ServerMsg::Presence {
            joins,
            leaves,
            count,
            full,
            ..
        })) => (
            joins.into_iter().map(|m| m.id).collect(),
            leaves,
            count,
            full,
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_tabs_of_one_user_are_one_member() {
    let mut r = room();
    let first = join(&mut r, 1, "ada");
    assert!(matches!(
        &first[..],
        [
            Output::To(1, ServerMsg::Joined { count: 1, .. }),
            Output::Subscribe(1)
        ]
    ));
    assert!(r.presence_pending(), "announced at the next tick");
    let second = join(&mut r, 2, "ada");
    match &second[0] {
        Output::To(2, ServerMsg::Joined { members, .. }) => assert_eq!(members.len(), 1),
        other => panic!("{other:?}"),
    }
    let (joins, leaves, count, _) = presence(&mut r);
    assert_eq!(
        (joins.len(), leaves.len(), count),
        (1, 0, 1),
        "one member, once"
    );
    let mut out = Vec::new();
    assert!(r.disconnect(1, &mut out));
    assert!(!r.presence_pending(), "still one tab open");
    assert!(r.disconnect(2, &mut out));
    assert_eq!(presence(&mut r), (vec![], vec!["ada".into()], 0, false));
    assert!(r.is_empty());
}

#[test]
fn a_join_storm_is_one_presence_frame_per_tick_bounded_and_paged() {
    let mut r = room().with_list_max(10);
    for n in 0..500u64 {
        join(&mut r, n, &format!("u{n:03}"));
    }
    // One left and came back, one left for good, within the tick.
    let mut out = Vec::new();
    r.disconnect(7, &mut out);
    join(&mut r, 7, "u007");
    r.disconnect(8, &mut out);
    let (joins, leaves, count, _) = presence(&mut r);
    assert_eq!(count, 499);
    assert_eq!(joins.len(), 10, "bounded");
    assert!(leaves.contains(&"u008".to_owned()));
    // Nothing new: nothing to send.
    out.clear();
    r.flush_presence(&mut out);
    assert!(out.is_empty());
    // A joiner's list is bounded; the count is exact.
    match &join(&mut r, 900, "zz")[0] {
        Output::To(900, ServerMsg::Joined { members, count, .. }) => {
            assert_eq!((members.len(), *count), (10, 500));
        }
        other => panic!("{other:?}"),
    }
    // Paging walks every member once, in order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let ServerMsg::Members { members, next, .. } = r.page(after.as_deref(), 1_000) else {
            unreachable!()
        };
        assert!(members.len() <= 10);
        seen.extend(members.into_iter().map(|m| m.id));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 500);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn past_the_window_joins_only_count_and_whoever_moves_up_is_named() {
    let mut r = room().with_list_max(10);
    for n in 0..50u64 {
        join(&mut r, n, &format!("u{n:03}"));
    }
    let (joins, _, count, _) = presence(&mut r);
    assert_eq!((joins.len(), count), (10, 50));
    // A joiner below the window: only the count says so.
    join(&mut r, 100, "zz");
    assert_eq!(presence(&mut r), (vec![], vec![], 51, false));
    // A listed member leaves: the next one moves up and is named.
    r.disconnect(0, &mut Vec::new());
    assert_eq!(
        presence(&mut r),
        (vec!["u010".into()], vec!["u000".into()], 50, false)
    );
    // More leaves in one tick than a list holds: a full snapshot instead.
    for n in 1..20 {
        r.disconnect(n, &mut Vec::new());
    }
    let (joins, leaves, count, full) = presence(&mut r);
    assert!(full && leaves.is_empty());
    assert_eq!(
        (joins.first().map(String::as_str), joins.len(), count),
        (Some("u020"), 10, 31)
    );
}

#[test]
fn typing_is_coalesced_and_capped() {
    let mut r = room();
    for n in 0..30u64 {
        join(&mut r, n, &format!("t{n:02}"));
    }
    let mut out = Vec::new();
    r.flush_presence(&mut out);
    for _ in 0..3 {
        for n in 0..30 {
            r.typing(n);
        }
    }
    out.clear();
    r.flush_presence(&mut out);
    match &out[..] {
        [Output::Coalesced(ServerMsg::Typing { members, .. })] => {
            assert_eq!(members.len(), super::presence::TYPING_MAX)
        }
        other => panic!("{other:?}"),
    }
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
