//! The reducer on private rooms: creating one, invite links, roles, read-only, the owner's
//! moderation, being removed.

use super::*;
use crate::model::stored;
use tandem_shared::Role;

fn joined_private(room: &str, role: Role, read_only: bool, invite: Option<&str>) -> Action {
    srv(ServerMsg::Joined {
        room: room.into(),
        members: vec![
            Member {
                id: "me".into(),
                name: "Ann".into(),
                role: Some(role),
            },
            Member {
                id: "bo".into(),
                name: "Bo".into(),
                role: Some(Role::Member),
            },
        ],
        count: 2,
        history: vec![],
        last_seq: 0,
        gap: false,
        title: Some("Plans".into()),
        role: Some(role),
        read_only,
        invite: invite.map(Into::into),
    })
}

fn forbidden(room: &str, client_id: Option<&str>) -> Action {
    srv(ServerMsg::Error {
        code: ErrorCode::Forbidden,
        message: "you may not enter this room (it needs an invite)".into(),
        room: Some(room.into()),
        client_id: client_id.map(Into::into),
    })
}

fn send(s: &mut State, text: &str, client_id: &str) -> Vec<ClientMsg> {
    apply(
        s,
        Action::Send {
            text: text.into(),
            client_id: client_id.into(),
            at: 1,
        },
    )
}

fn open_via_link(s: &mut State, room: &str, invite: &str) -> Vec<ClientMsg> {
    apply(
        s,
        Action::Join {
            room: room.into(),
            name: "Ann".into(),
            restored: vec![],
            invite: Some(invite.into()),
            title: None,
        },
    )
}

/// Live in `lobby`, and member of private room `p-1` (shown) with `role`.
fn in_private(role: Role) -> State {
    let mut s = in_lobby();
    open_via_link(&mut s, "p-1", "sec");
    apply(&mut s, joined_private("p-1", role, false, None));
    s
}

fn p1(s: &State) -> &Room {
    s.room("p-1").expect("p-1 is open")
}

#[test]
fn creating_a_private_room_joins_it_as_its_owner() {
    let mut s = in_lobby();
    let sent = apply(
        &mut s,
        Action::Create {
            title: "Plans".into(),
            name: "Ann".into(),
        },
    );
    assert_eq!(
        sent,
        [ClientMsg::CreateRoom {
            private: true,
            name: "Plans".into()
        }]
    );
    assert_eq!(s.creating.as_deref(), Some("Plans"));
    let sent = apply(
        &mut s,
        srv(ServerMsg::RoomCreated {
            room: "p-1".into(),
            name: "Plans".into(),
            invite: "sec".into(),
        }),
    );
    assert!(
        matches!(&sent[..], [ClientMsg::Join { room, invite: None, .. }] if room == "p-1"),
        "{sent:?}"
    );
    assert_eq!(s.creating, None);
    assert_eq!(s.current.as_deref(), Some("p-1"));
    let r = p1(&s);
    assert!(r.is_private() && r.is_owner() && r.can_write());
    assert_eq!(r.label(), "Plans");
    assert_eq!(r.invite.as_deref(), Some("sec"), "the invite to show");
    assert_eq!(s.title(), "Plans · Tandem");

    // The join's answer keeps all that.
    apply(
        &mut s,
        joined_private("p-1", Role::Owner, false, Some("sec")),
    );
    assert_eq!(p1(&s).invite.as_deref(), Some("sec"));
    // A new invite replaces it.
    apply(
        &mut s,
        srv(ServerMsg::Invite {
            room: "p-1".into(),
            invite: "sec2".into(),
        }),
    );
    assert_eq!(p1(&s).invite.as_deref(), Some("sec2"));
}

#[test]
fn a_room_asked_for_offline_is_created_once_connected() {
    let mut s = State::new(Some("me".into()));
    let create = Action::Create {
        title: "Plans".into(),
        name: "Ann".into(),
    };
    assert_eq!(apply(&mut s, create), []);
    assert!(matches!(
        &apply(&mut s, Action::Open)[..],
        [ClientMsg::CreateRoom { private: true, name }] if name == "Plans"
    ));
    // A refused title: the notice says why, and nothing is asked again.
    apply(
        &mut s,
        srv(ServerMsg::Error {
            code: ErrorCode::InvalidName,
            message: "name has control characters".into(),
            room: None,
            client_id: None,
        }),
    );
    assert_eq!(s.creating, None);
    assert!(s.notice.is_some());
    assert_eq!(apply(&mut s, Action::Open), []);
}

#[test]
fn an_invite_link_brings_its_invite_until_the_join_is_answered() {
    let mut s = in_lobby();
    let sent = open_via_link(&mut s, "p-1", "sec");
    assert_eq!(
        sent,
        [ClientMsg::Join {
            room: "p-1".into(),
            name: "Ann".into(),
            since: None,
            invite: Some("sec".into()),
        }]
    );
    assert!(p1(&s).is_private());
    assert_eq!(p1(&s).label(), "Private room", "no title before the answer");
    // Lost before the answer: the re-join brings it again.
    apply(
        &mut s,
        Action::Closed {
            online: true,
            retry_at: 0,
        },
    );
    let sent = apply(&mut s, Action::Open);
    assert!(sent
        .iter()
        .any(|m| matches!(m, ClientMsg::Join { room, invite: Some(i), .. } if room == "p-1" && i == "sec")));
    // Answered: a member now, the invite is forgotten.
    apply(&mut s, joined_private("p-1", Role::Member, false, None));
    let r = p1(&s);
    assert_eq!(
        (r.join_invite.as_deref(), r.role),
        (None, Some(Role::Member))
    );
    assert_eq!(r.label(), "Plans");
    assert_eq!(r.invite, None, "only the owner sees the invite");
    apply(
        &mut s,
        Action::Closed {
            online: true,
            retry_at: 0,
        },
    );
    let sent = apply(&mut s, Action::Open);
    assert!(sent
        .iter()
        .any(|m| matches!(m, ClientMsg::Join { room, invite: None, .. } if room == "p-1")));
}

#[test]
fn a_refused_join_closes_the_tab_with_the_reason() {
    let mut s = in_lobby();
    open_via_link(&mut s, "p-1", "wrong");
    apply(&mut s, forbidden("p-1", None));
    assert!(s.room("p-1").is_none());
    assert_eq!(s.current.as_deref(), Some("lobby"));
    assert!(s.notice.as_deref().unwrap().contains("may not enter"));

    // Also a re-join refused (banned while away), though the room was joined before.
    let mut s = in_private(Role::Member);
    apply(
        &mut s,
        Action::Closed {
            online: true,
            retry_at: 0,
        },
    );
    apply(&mut s, Action::Open);
    apply(&mut s, forbidden("p-1", None));
    assert!(s.room("p-1").is_none());
}

#[test]
fn read_only_rooms_and_viewers_cannot_write() {
    let mut s = in_private(Role::Member);
    assert!(p1(&s).can_write() && p1(&s).can_edit());
    apply(
        &mut s,
        srv(ServerMsg::RoomUpdated {
            room: "p-1".into(),
            read_only: true,
        }),
    );
    let r = p1(&s);
    assert!(!r.can_write() && !r.can_edit());
    assert!(r.locked().unwrap().contains("read-only"));
    // Nothing is sent, nor kept to send later.
    assert_eq!(send(&mut s, "hello", "c1"), []);
    assert!(p1(&s).pending.is_empty());
    apply(
        &mut s,
        srv(ServerMsg::RoomUpdated {
            room: "p-1".into(),
            read_only: false,
        }),
    );
    assert!(p1(&s).can_write());

    // Made a viewer: the same; others' roles show in presence.
    for (user, role) in [("me", Role::Viewer), ("bo", Role::Viewer)] {
        apply(
            &mut s,
            srv(ServerMsg::RoleChanged {
                room: "p-1".into(),
                user: user.into(),
                role,
            }),
        );
    }
    let r = p1(&s);
    assert_eq!(r.role, Some(Role::Viewer));
    assert!(!r.can_write() && r.locked().unwrap().contains("viewer"));
    assert!(r.members.iter().all(|m| m.role == Some(Role::Viewer)));

    // The owner writes in a read-only room.
    let mut s = in_private(Role::Owner);
    apply(
        &mut s,
        srv(ServerMsg::RoomUpdated {
            room: "p-1".into(),
            read_only: true,
        }),
    );
    assert!(p1(&s).can_write() && p1(&s).locked().is_none());
    assert_eq!(send(&mut s, "still me", "c1").len(), 1);

    // A message the server refuses (the room became read-only meanwhile) says so.
    let mut s = in_private(Role::Member);
    send(&mut s, "late", "c2");
    apply(&mut s, forbidden("p-1", Some("c2")));
    assert!(p1(&s).pending[0].failed.is_some());
    assert!(s.room("p-1").is_some(), "a refused message keeps the tab");
}

#[test]
fn only_the_owner_moderates() {
    let moderate = |what| Action::Moderate {
        room: "p-1".into(),
        what,
    };
    let mut s = in_private(Role::Owner);
    let asks = [
        (
            Moderation::Kick {
                user: "bo".into(),
                ban: true,
            },
            ClientMsg::Kick {
                room: "p-1".into(),
                user: "bo".into(),
                ban: true,
            },
        ),
        (
            Moderation::SetRole {
                user: "bo".into(),
                role: Role::Viewer,
            },
            ClientMsg::SetRole {
                room: "p-1".into(),
                user: "bo".into(),
                role: Role::Viewer,
            },
        ),
        (
            Moderation::SetReadOnly(true),
            ClientMsg::SetReadOnly {
                room: "p-1".into(),
                read_only: true,
            },
        ),
        (
            Moderation::RotateInvite,
            ClientMsg::RotateInvite { room: "p-1".into() },
        ),
    ];
    for (what, msg) in asks.clone() {
        assert_eq!(apply(&mut s, moderate(what)), [msg]);
    }
    let mut s = in_private(Role::Member);
    for (what, _) in asks {
        assert_eq!(apply(&mut s, moderate(what)), []);
    }
}

#[test]
fn being_removed_closes_the_tab_and_drops_its_unsent_messages() {
    for (banned, says) in [(false, "removed"), (true, "banned")] {
        let mut s = in_private(Role::Member);
        apply(
            &mut s,
            Action::Closed {
                online: true,
                retry_at: 0,
            },
        );
        send(&mut s, "never delivered", "c1");
        assert_eq!(stored::pending_entries(&s).len(), 1);
        apply(
            &mut s,
            srv(ServerMsg::Kicked {
                room: "p-1".into(),
                banned,
            }),
        );
        assert!(s.room("p-1").is_none());
        assert_eq!(s.current.as_deref(), Some("lobby"));
        assert_eq!(
            s.notice,
            Some(format!("You were {says} from Plans by its owner."))
        );
        assert!(stored::pending_entries(&s).is_empty());
        assert!(!stored::rooms_value(&s).contains("p-1"));
    }
}
