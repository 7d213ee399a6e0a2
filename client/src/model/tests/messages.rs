//! The reducer on messages: live, pending, catch-up after reconnects, gaps.

use super::*;

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
        apply(&mut s, srv(presence(vec![cy.clone()], &[], 3)));
    }
    assert_eq!(lobby(&s).members.len(), 3);
    let renamed = Member {
        id: "cy".into(),
        name: "Cy".into(),
        role: None,
    };
    apply(&mut s, srv(presence(vec![renamed], &[], 3)));
    assert_eq!(lobby(&s).members[2].name, "Cy");
    apply(&mut s, srv(presence(vec![], &["bo"], 2)));
    let ids: Vec<&str> = lobby(&s).members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["me", "cy"]);
    assert_eq!(lobby(&s).count, 2);

    // Traffic for a room this page has not joined is ignored.
    apply(
        &mut s,
        srv(ServerMsg::Chat(chat_in("elsewhere", 9, "bo", None))),
    );
    assert_eq!(s.rooms.len(), 1);
    assert_eq!(lobby(&s).messages.len(), 4);
}

#[test]
fn pending_message_is_confirmed_by_its_echo() {
    let mut s = in_lobby();
    let sent = apply(
        &mut s,
        Action::Send {
            text: "hi".into(),
            client_id: "c1".into(),
            at: 0,
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
            at: 0,
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
            at: 0,
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
            since: Some(2),
            invite: None,
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
            at: 0,
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
            count: 0,
            history: vec![],
            last_seq: 1,
            gap: false,
            title: None,
            role: None,
            read_only: false,
            invite: None,
        }),
    );
    assert!(lobby(&s).messages.is_empty());
    // ... so it asks for the recent history afresh.
    assert!(matches!(&sent[..], [ClientMsg::Join { since: None, .. }]));
    apply(&mut s, joined(vec![chat(1, "bo", None)]));
    assert_eq!(seqs(lobby(&s)), [1]);
}
