//! The reducer on presence: coalesced frames (leaves, then joins; resyncs), the exact count,
//! typing frames, and a big room's list paged in with `members`.

use super::*;
use crate::model::roster::{matching, thousands};

fn ids(s: &State) -> Vec<&str> {
    lobby(s).members.iter().map(|m| m.id.as_str()).collect()
}

fn named(id: &str, name: &str) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        role: None,
    }
}

/// `in_lobby`, but the room is big: `joined` lists `listed` (not us) of `count`.
fn in_big_lobby(listed: &[&str], count: u64) -> State {
    let mut s = in_lobby();
    apply(
        &mut s,
        srv(ServerMsg::Joined {
            room: "lobby".into(),
            members: listed.iter().map(|id| member(id)).collect(),
            count,
            history: vec![],
            last_seq: 2,
            gap: false,
            title: None,
            role: None,
            read_only: false,
            invite: None,
        }),
    );
    s
}

fn page(members: &[&str], next: Option<&str>) -> Action {
    srv(ServerMsg::Members {
        room: "lobby".into(),
        members: members.iter().map(|id| member(id)).collect(),
        next: next.map(Into::into),
    })
}

fn more(s: &mut State) -> Vec<ClientMsg> {
    apply(
        s,
        Action::MoreMembers {
            room: "lobby".into(),
        },
    )
}

fn asks_after(after: Option<&str>) -> Vec<ClientMsg> {
    vec![ClientMsg::Members {
        room: "lobby".into(),
        after: after.map(Into::into),
        limit: None,
    }]
}

#[test]
fn a_frame_applies_leaves_then_joins_and_says_the_count() {
    let mut s = in_lobby();
    assert_eq!(lobby(&s).count, 2);
    assert!(!lobby(&s).has_unlisted());
    // Bo left and came back under a new name within one tick, Cy came, Dee came and went.
    apply(
        &mut s,
        srv(presence(
            vec![named("bo", "Bo again"), member("cy")],
            &["bo", "dee"],
            3,
        )),
    );
    assert_eq!(ids(&s), ["me", "bo", "cy"]);
    assert_eq!(lobby(&s).members[1].name, "Bo again");
    assert_eq!(lobby(&s).count, 3);
    // The joiner may see itself in the next frame: once, still.
    apply(&mut s, srv(presence(vec![member("me")], &[], 3)));
    assert_eq!(ids(&s), ["me", "bo", "cy"]);
    // A frame for a room not open here changes nothing.
    let mut elsewhere = presence(vec![member("zed")], &[], 9);
    if let ServerMsg::Presence { room, .. } = &mut elsewhere {
        *room = "elsewhere".into();
    }
    apply(&mut s, srv(elsewhere));
    assert_eq!((lobby(&s).count, s.rooms.len()), (3, 1));
}

#[test]
fn a_full_frame_replaces_the_list() {
    let mut s = in_big_lobby(&["a", "b"], 40);
    more(&mut s);
    apply(&mut s, page(&["c", "d"], Some("d")));
    assert_eq!(ids(&s), ["a", "b", "me", "c", "d"]);
    apply(
        &mut s,
        srv(ServerMsg::Presence {
            room: "lobby".into(),
            joins: vec![member("a"), member("me"), member("x")],
            leaves: vec![],
            count: 38,
            full: true,
        }),
    );
    assert_eq!(ids(&s), ["a", "me", "x"]);
    assert_eq!(lobby(&s).count, 38);
    // The pages fetched went with the old list: the next one is the first.
    assert_eq!(more(&mut s), asks_after(None));
    // A resync while a page is on its way: the page is merged, and drops no one.
    apply(
        &mut s,
        srv(ServerMsg::Presence {
            room: "lobby".into(),
            joins: vec![member("a"), member("me"), member("x")],
            leaves: vec![],
            count: 38,
            full: true,
        }),
    );
    apply(&mut s, page(&["b", "c"], Some("c")));
    assert_eq!(ids(&s), ["a", "me", "x", "b", "c"]);
    assert_eq!(more(&mut s), asks_after(None));
}

#[test]
fn a_big_room_lists_some_and_always_us() {
    let s = in_big_lobby(&["a", "b", "c"], 1_234);
    let r = lobby(&s);
    assert_eq!(r.count, 1_234);
    // We are here though the bounded list does not name us.
    assert_eq!(ids(&s), ["a", "b", "c", "me"]);
    assert_eq!(r.members[3].name, "Ann");
    assert!(r.has_unlisted());
    // A small room's `joined` names everyone: nothing to page.
    let s = in_lobby();
    assert_eq!(ids(&s), ["me", "bo"]);
    assert_eq!(lobby(&s).members_after, None);
}

#[test]
fn show_more_pages_in_the_rest_once_each() {
    let mut s = in_big_lobby(&["a", "b"], 6);
    // The next page starts after the last of the joined list (not after us, at the end).
    assert_eq!(more(&mut s), asks_after(Some("b")));
    // One request at a time.
    assert_eq!(more(&mut s), []);
    // Someone arrived meanwhile (listed at once), and is in the page too: once.
    apply(&mut s, srv(presence(vec![member("d")], &[], 7)));
    apply(&mut s, page(&["c", "d", "e"], Some("e")));
    assert_eq!(ids(&s), ["a", "b", "me", "d", "c", "e"]);
    assert!(!lobby(&s).loading_members);
    assert_eq!(more(&mut s), asks_after(Some("e")));
    // The last page (no `next`) names `me` again, and `f`: everyone is listed.
    apply(&mut s, page(&["f", "me"], None));
    assert_eq!(ids(&s), ["a", "b", "me", "d", "c", "e", "f"]);
    assert!(!lobby(&s).has_unlisted());
    assert_eq!(more(&mut s), [], "nothing left to ask for");
}

#[test]
fn a_page_drops_who_left_unannounced_and_pages_wrap_around() {
    let mut s = in_big_lobby(&["a", "b"], 7);
    apply(
        &mut s,
        srv(presence(vec![member("q"), member("z")], &[], 7)),
    );
    assert_eq!(ids(&s), ["a", "b", "me", "q", "z"]);
    more(&mut s);
    // `(b, q]` holds `c`, `me` and `q` now; `q` is in it; `z` is beyond it and stays.
    apply(&mut s, page(&["c", "me", "q"], Some("q")));
    assert_eq!(ids(&s), ["a", "b", "me", "q", "z", "c"]);
    more(&mut s);
    // Past `q` only `z` is left (and `y`, whom a bounded frame left out)...
    apply(&mut s, srv(presence(vec![], &["b"], 6)));
    apply(&mut s, page(&["y", "z"], None));
    assert_eq!(ids(&s), ["a", "me", "q", "z", "c", "y"]);
    assert_eq!(lobby(&s).count, 6);
    // ...and a member a bounded frame never named is found from the start again.
    apply(&mut s, srv(presence(vec![], &[], 7)));
    assert_eq!(more(&mut s), asks_after(None));
    apply(&mut s, page(&["a", "aa", "c"], Some("c")));
    assert_eq!(ids(&s), ["a", "me", "q", "z", "c", "y", "aa"]);
    assert!(!lobby(&s).has_unlisted());
}

#[test]
fn member_pages_stop_with_the_connection_and_on_refusal() {
    let mut s = in_big_lobby(&["a"], 5);
    more(&mut s);
    apply(
        &mut s,
        Action::Closed {
            online: true,
            retry_at: 0,
        },
    );
    assert!(!lobby(&s).loading_members);
    assert_eq!(more(&mut s), [], "not while the room is not joined");
    apply(&mut s, Action::Open);
    apply(
        &mut s,
        srv(ServerMsg::Joined {
            room: "lobby".into(),
            members: vec![member("a"), member("b")],
            count: 5,
            history: vec![],
            last_seq: 2,
            gap: false,
            title: None,
            role: None,
            read_only: false,
            invite: None,
        }),
    );
    // The rejoin's list is the list now; pages start after it.
    assert_eq!(ids(&s), ["a", "b", "me"]);
    assert_eq!(more(&mut s), asks_after(Some("b")));
    apply(
        &mut s,
        srv(ServerMsg::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            room: Some("lobby".into()),
            client_id: None,
        }),
    );
    assert!(!lobby(&s).loading_members);
    assert_eq!(more(&mut s), asks_after(Some("b")), "asked again");
}

#[test]
fn typing_frames_name_several_and_expire() {
    let mut s = in_lobby();
    let typing = |ids: &[&str], now| Action::Server {
        msg: ServerMsg::Typing {
            room: "lobby".into(),
            members: ids.iter().map(|id| member(id)).collect(),
        },
        now,
    };
    apply(&mut s, typing(&["bo", "me", "cy"], 1_000));
    apply(&mut s, typing(&["cy"], 3_000));
    let shown = |s: &State, now| -> Vec<String> {
        lobby(s).typing_now(now).map(|m| m.id.clone()).collect()
    };
    assert_eq!(shown(&s, 2_000), ["bo", "cy"], "not us");
    assert_eq!(shown(&s, 5_500), ["cy"]);
    apply(&mut s, srv(presence(vec![], &["cy"], 1)));
    assert_eq!(
        shown(&s, 5_500),
        Vec::<String>::new(),
        "gone with the leave"
    );
}

#[test]
fn search_and_counts_as_shown() {
    let list = [
        named("1", "Ada Lovelace"),
        named("2", "Bob"),
        named("3", "ADAM"),
    ];
    let names = |q: &str| -> Vec<&str> {
        matching(&list, q)
            .into_iter()
            .map(|m| m.name.as_str())
            .collect()
    };
    assert_eq!(names("ada"), ["Ada Lovelace", "ADAM"]);
    assert_eq!(names("  "), ["Ada Lovelace", "Bob", "ADAM"]);
    assert_eq!(names("love"), ["Ada Lovelace"]);
    assert!(names("zed").is_empty());
    for (n, shown) in [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (1_234, "1,234"),
        (123_456, "123,456"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(thousands(n), shown);
    }
}
