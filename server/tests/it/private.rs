//! Private rooms and roles on `/ws`: an unguessable id and an invite; without them nothing
//! of the room is reachable and its existence is not revealed; the owner kicks, bans, makes
//! people viewers or the room read-only, and rotates the invite; all of it survives a
//! restart.

use crate::util::*;
use serde_json::json;
use tandem_shared::{ErrorCode, Role, ServerMsg};

/// A user who said `hello` (a stable identity) and is ready.
/// Create a private room titled `title`; returns (room id, invite).
async fn create(owner: &mut Client, title: &str) -> (String, String) {
    owner
        .send_json(json!({"type": "create_room", "private": true, "name": title}))
        .await;
    match owner.recv().await {
        ServerMsg::RoomCreated { room, name, invite } => {
            assert_eq!(name, title);
            assert!(
                room.starts_with("p-") && room.len() > 20,
                "unguessable id {room}"
            );
            assert!(invite.len() >= 32, "unguessable invite");
            (room, invite)
        }
        other => panic!("{other:?}"),
    }
}

async fn join_with(c: &mut Client, room: &str, name: &str, invite: Option<&str>) -> ServerMsg {
    c.send_json(json!({"type": "join", "room": room, "name": name, "invite": invite}))
        .await;
    c.recv_until(|m| matches!(m, ServerMsg::Joined { .. } | ServerMsg::Error { .. }))
        .await
}

fn is_forbidden(m: &ServerMsg) -> bool {
    matches!(
        m,
        ServerMsg::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    )
}

async fn say(c: &mut Client, room: &str, text: &str, cid: &str) -> ServerMsg {
    c.send_json(json!({"type": "chat", "room": room, "text": text, "client_id": cid}))
        .await;
    c.recv_until(|m| matches!(m, ServerMsg::Chat(_) | ServerMsg::Error { .. }))
        .await
}

#[tokio::test]
async fn a_private_room_is_reachable_only_with_its_invite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut alice = server.user().await;
    let (room, invite) = create(&mut alice, "Team").await;
    match join_with(&mut alice, &room, "Alice", None).await {
        ServerMsg::Joined {
            title,
            role,
            invite: shown,
            read_only,
            ..
        } => {
            assert_eq!(title.as_deref(), Some("Team"));
            assert_eq!(role, Some(Role::Owner));
            assert_eq!(
                shown.as_deref(),
                Some(invite.as_str()),
                "the owner sees the invite"
            );
            assert!(!read_only);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        say(&mut alice, &room, "secret plans", "a1").await,
        ServerMsg::Chat(_)
    ));

    // Carol has neither the invite nor membership: no chat, no history, no presence; a
    // wrong invite and a made-up id get the very same answer.
    let mut carol = server.user().await;
    let refused = join_with(&mut carol, &room, "Carol", None).await;
    let wrong = join_with(&mut carol, &room, "Carol", Some("0123456789abcdef")).await;
    let ghost = join_with(
        &mut carol,
        "p-aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Carol",
        Some(&invite),
    )
    .await;
    for m in [&refused, &wrong, &ghost] {
        assert!(is_forbidden(m), "{m:?}");
    }
    let text = |m: &ServerMsg| match m {
        ServerMsg::Error { message, .. } => message.clone(),
        _ => String::new(),
    };
    assert_eq!(text(&refused), text(&ghost), "existence is not revealed");
    carol
        .send_json(json!({"type": "history", "room": room}))
        .await;
    assert_eq!(error_code(&carol.recv().await), Some(ErrorCode::NotJoined));
    assert_eq!(
        error_code(&say(&mut carol, &room, "hi", "c1").await),
        Some(ErrorCode::NotJoined)
    );
    // Alice saw no one come in.
    assert!(alice.sync().await.is_empty());

    // Bob brings the invite: a member, also after a restart and without it.
    let mut bob = server.user().await;
    match join_with(&mut bob, &room, "Bob", Some(&invite)).await {
        ServerMsg::Joined {
            role,
            invite: shown,
            history,
            ..
        } => {
            assert_eq!(role, Some(Role::Member));
            assert_eq!(shown, None, "only the owner sees the invite");
            assert_eq!(history.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    let bob_token = bob.token.clone();
    let config = server.config.clone();
    drop((alice, bob, carol));
    server.stop().await.unwrap();
    let server = TestServer::start(config).await;
    let mut bob = server.connect().await;
    bob.hello(Some(&bob_token)).await;
    assert!(matches!(
        join_with(&mut bob, &room, "Bob", None).await,
        ServerMsg::Joined {
            role: Some(Role::Member),
            ..
        }
    ));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_owner_moderates_and_nobody_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut alice = server.user().await;
    let (room, invite) = create(&mut alice, "Team").await;
    join_with(&mut alice, &room, "Alice", None).await;
    let mut bob = server.user().await;
    join_with(&mut bob, &room, "Bob", Some(&invite)).await;
    let mut carol = server.user().await;
    join_with(&mut carol, &room, "Carol", Some(&invite)).await;
    alice.sync().await;
    bob.sync().await;

    // A member may not moderate.
    bob.send_json(json!({"type": "kick", "room": room, "user": carol.user_id}))
        .await;
    assert!(is_forbidden(&bob.recv().await));

    // Viewer: sees everything, writes nothing.
    alice
        .send_json(
            json!({"type": "set_role", "room": room, "user": carol.user_id, "role": "viewer"}),
        )
        .await;
    let changed = carol
        .recv_until(|m| matches!(m, ServerMsg::RoleChanged { .. }))
        .await;
    assert!(matches!(
        changed,
        ServerMsg::RoleChanged {
            role: Role::Viewer,
            ..
        }
    ));
    match say(&mut carol, &room, "let me", "c1").await {
        ServerMsg::Error {
            code, client_id, ..
        } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert_eq!(
                client_id.as_deref(),
                Some("c1"),
                "the page can mark it failed"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        say(&mut bob, &room, "a member writes", "b1").await,
        ServerMsg::Chat(_)
    ));

    // Read-only: only the owner writes.
    alice
        .send_json(json!({"type": "set_read_only", "room": room, "read_only": true}))
        .await;
    let updated = bob
        .recv_until(|m| matches!(m, ServerMsg::RoomUpdated { .. }))
        .await;
    assert!(matches!(
        updated,
        ServerMsg::RoomUpdated {
            read_only: true,
            ..
        }
    ));
    assert!(is_forbidden(&say(&mut bob, &room, "now?", "b2").await));
    assert!(matches!(
        say(&mut alice, &room, "owner speaks", "a1").await,
        ServerMsg::Chat(_)
    ));

    // Kick: Bob is out at once, told so, and cannot come back (not even with the invite).
    alice
        .send_json(json!({"type": "kick", "room": room, "user": bob.user_id, "ban": false}))
        .await;
    let kicked = bob
        .recv_until(|m| matches!(m, ServerMsg::Kicked { .. }))
        .await;
    assert!(matches!(kicked, ServerMsg::Kicked { banned: false, .. }));
    alice.recv_until(|m| left(m, &bob.user_id)).await;
    assert!(is_forbidden(
        &join_with(&mut bob, &room, "Bob", Some(&invite)).await
    ));
    bob.send_json(json!({"type": "history", "room": room}))
        .await;
    assert_eq!(error_code(&bob.recv().await), Some(ErrorCode::NotJoined));

    // A new invite: the old link stops working, members stay.
    alice
        .send_json(json!({"type": "rotate_invite", "room": room}))
        .await;
    let fresh = match alice
        .recv_until(|m| matches!(m, ServerMsg::Invite { .. }))
        .await
    {
        ServerMsg::Invite { invite, .. } => invite,
        _ => unreachable!(),
    };
    assert_ne!(fresh, invite);
    let mut dave = server.user().await;
    assert!(is_forbidden(
        &join_with(&mut dave, &room, "Dave", Some(&invite)).await
    ));
    assert!(matches!(
        join_with(&mut dave, &room, "Dave", Some(&fresh)).await,
        ServerMsg::Joined { .. }
    ));
    // Nobody kicks the owner.
    alice
        .send_json(json!({"type": "kick", "room": room, "user": alice.user_id, "ban": true}))
        .await;
    assert!(is_forbidden(
        &alice
            .recv_until(|m| matches!(m, ServerMsg::Error { .. }))
            .await
    ));

    // Ban: for good, across a restart.
    alice
        .send_json(json!({"type": "kick", "room": room, "user": carol.user_id, "ban": true}))
        .await;
    assert!(matches!(
        carol
            .recv_until(|m| matches!(m, ServerMsg::Kicked { .. }))
            .await,
        ServerMsg::Kicked { banned: true, .. }
    ));
    let carol_token = carol.token.clone();
    let config = server.config.clone();
    drop((alice, bob, carol, dave));
    server.stop().await.unwrap();
    let server = TestServer::start(config).await;
    let mut carol = server.connect().await;
    carol.hello(Some(&carol_token)).await;
    assert!(is_forbidden(
        &join_with(&mut carol, &room, "Carol", Some(&fresh)).await
    ));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn public_rooms_stay_as_they_were_and_private_ones_are_not_made_by_joining() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut a = server.user().await;
    match join_with(&mut a, "lobby", "Ada", None).await {
        ServerMsg::Joined {
            title,
            role,
            invite,
            ..
        } => assert_eq!((title, role, invite), (None, None, None)),
        other => panic!("{other:?}"),
    }
    // Creating a public room is not a thing; nor is naming a private one.
    a.send_json(json!({"type": "create_room", "private": false, "name": "x"}))
        .await;
    assert_eq!(error_code(&a.recv().await), Some(ErrorCode::InvalidMessage));
    assert!(is_forbidden(
        &join_with(&mut a, "p-mine", "Ada", None).await
    ));
    // Moderating a public room needs a moderator (an app's; see the JWT tests).
    a.send_json(json!({"type": "set_read_only", "room": "lobby", "read_only": true}))
        .await;
    assert!(is_forbidden(&a.recv().await));
    server.stop().await.unwrap();
}
