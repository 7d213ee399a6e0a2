//! The reducer on scrollback (`history` pages) and on messages restored from storage.

use super::*;
use crate::model::reduce::PAGE;

fn history(room: &str, seqs: impl IntoIterator<Item = u64>, has_more: bool) -> Action {
    srv(ServerMsg::History {
        room: room.into(),
        messages: seqs
            .into_iter()
            .map(|s| chat_in(room, s, "bo", None))
            .collect(),
        has_more,
    })
}

#[test]
fn scrolling_back_pages_older_messages_in_once_down_to_the_first() {
    let mut s = in_lobby();
    apply(
        &mut s,
        Action::Leave {
            room: "lobby".into(),
        },
    );
    apply(&mut s, join("lobby"));
    // The join answers with the recent tail only.
    apply(
        &mut s,
        joined((301..=400).map(|n| chat(n, "bo", None)).collect()),
    );
    assert!(lobby(&s).has_older());
    let ask = |s: &mut State| {
        apply(
            s,
            Action::LoadOlder {
                room: "lobby".into(),
            },
        )
    };
    assert_eq!(
        ask(&mut s),
        vec![ClientMsg::History {
            room: "lobby".into(),
            before: Some(301),
            limit: Some(PAGE)
        }]
    );
    // Asking again while a page is on its way sends nothing.
    assert_eq!(ask(&mut s), []);
    // Pages overlap by one message: nothing may show twice.
    apply(&mut s, history("lobby", 200..=301, true));
    let mut pages = 1;
    while let [ClientMsg::History { before, .. }] = &ask(&mut s)[..] {
        let before = before.expect("before the first held");
        let from = before.saturating_sub(PAGE as u64).max(1);
        apply(&mut s, history("lobby", from..=before, from > 1));
        pages += 1;
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(seqs(lobby(&s)), (1..=400).collect::<Vec<_>>());
    assert!(!lobby(&s).has_older());
    assert!(!lobby(&s).loading_older);
    // Older messages never count as unread.
    assert_eq!(s.unread_total(), 0);
    // A server that says "nothing older" though seq 1 is not held stops the paging too.
    let mut s = in_lobby();
    apply(
        &mut s,
        Action::Leave {
            room: "lobby".into(),
        },
    );
    apply(&mut s, join("lobby"));
    apply(&mut s, joined(vec![chat(9, "bo", None)]));
    assert_eq!(ask(&mut s).len(), 1);
    apply(&mut s, history("lobby", [], false));
    assert!(!lobby(&s).has_older());
    assert_eq!(ask(&mut s), []);
}

#[test]
fn no_history_request_while_disconnected_and_a_lost_one_is_asked_again() {
    let mut s = in_lobby();
    apply(
        &mut s,
        Action::Leave {
            room: "lobby".into(),
        },
    );
    apply(&mut s, join("lobby"));
    apply(&mut s, joined(vec![chat(50, "bo", None)]));
    let load = Action::LoadOlder {
        room: "lobby".into(),
    };
    assert_eq!(apply(&mut s, load.clone()).len(), 1);
    // The connection drops before the answer: after the re-join it may ask again.
    apply(
        &mut s,
        Action::Closed {
            online: true,
            retry_at: 0,
        },
    );
    assert_eq!(apply(&mut s, load.clone()), [], "not joined");
    apply(&mut s, Action::Open);
    apply(&mut s, caught_up(50));
    assert_eq!(apply(&mut s, load.clone()).len(), 1);
    // A refused request (an error naming the room) lets it ask again later.
    apply(
        &mut s,
        srv(ServerMsg::Error {
            code: ErrorCode::Unavailable,
            message: "try again".into(),
            room: Some("lobby".into()),
            client_id: None,
        }),
    );
    assert!(!lobby(&s).loading_older);
    assert_eq!(
        s.current.as_deref(),
        Some("lobby"),
        "a joined room stays open"
    );
}

#[test]
fn messages_restored_from_storage_are_sent_once_joined_and_settled_by_their_echo() {
    let mut s = State::new(Some("me".into()));
    apply(&mut s, Action::Open);
    let restored = vec![
        Pending {
            client_id: "c2".into(),
            text: "second".into(),
            at: 20,
            failed: None,
        },
        Pending {
            client_id: "c1".into(),
            text: "first".into(),
            at: 10,
            failed: None,
        },
    ];
    let sent = apply(
        &mut s,
        Action::Join {
            room: "lobby".into(),
            name: "Ann".into(),
            restored,
            invite: None,
            title: None,
        },
    );
    assert!(matches!(&sent[..], [ClientMsg::Join { .. }]), "{sent:?}");
    let texts: Vec<&str> = lobby(&s).pending.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["first", "second"], "shown in the order written");
    // The join's history shows c1 was stored before the reload: only c2 goes out again.
    let sent = apply(&mut s, joined(vec![chat(7, "me", Some("c1"))]));
    assert_eq!(
        sent,
        vec![ClientMsg::Chat {
            room: "lobby".into(),
            text: "second".into(),
            client_id: Some("c2".into())
        }]
    );
    apply(&mut s, srv(ServerMsg::Chat(chat(8, "me", Some("c2")))));
    assert!(lobby(&s).pending.is_empty());
    assert_eq!(seqs(lobby(&s)), [7, 8]);
}
