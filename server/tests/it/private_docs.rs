//! A private room's document: unreachable without membership (403 at the handshake, the
//! same for a room that does not exist); members co-edit; a viewer (or anyone in a read-only
//! room but the owner) receives changes but a change of theirs is refused (4403); a kicked
//! user's document connection ends at once (4403).

use crate::util::*;
use serde_json::json;
use tandem_shared::ServerMsg;

/// The HTTP status of a `/yjs` handshake to `path`, if refused.
async fn refused(server: &TestServer, path: &str) -> Option<u16> {
    match tokio_tungstenite::connect_async(server.url(path)).await {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Some(resp.status().as_u16()),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// Alice's private room, with Bob as a member: (room, invite, alice, bob).
async fn team(server: &TestServer) -> (String, String, Client, Client) {
    let mut alice = server.user().await;
    alice
        .send_json(json!({"type": "create_room", "private": true, "name": "Team"}))
        .await;
    let (room, invite) = match alice.recv().await {
        ServerMsg::RoomCreated { room, invite, .. } => (room, invite),
        other => panic!("{other:?}"),
    };
    alice
        .send_json(json!({"type": "join", "room": room, "name": "Alice"}))
        .await;
    alice
        .recv_until(|m| matches!(m, ServerMsg::Joined { .. }))
        .await;
    let mut bob = server.user().await;
    bob.send_json(json!({"type": "join", "room": room, "name": "Bob", "invite": invite}))
        .await;
    bob.recv_until(|m| matches!(m, ServerMsg::Joined { .. }))
        .await;
    (room, invite, alice, bob)
}

async fn doc(server: &TestServer, room: &str, token: &str) -> YClient {
    let mut c = YClient::connect(&server.url(&format!("/yjs/{room}?token={token}"))).await;
    c.sync().await;
    c
}

#[tokio::test]
async fn only_members_reach_a_private_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (room, invite, alice, bob) = team(&server).await;
    let carol = server.user().await;
    // No token, a stranger's token, a bad token, a made-up room: the same 403.
    for path in [
        format!("/yjs/{room}"),
        format!("/yjs/{room}?token={}", carol.token),
        format!("/yjs/{room}?token=forged.token.here"),
        format!("/yjs/p-aaaaaaaaaaaaaaaaaaaaaaaaaa?token={}", carol.token),
    ] {
        assert_eq!(refused(&server, &path).await, Some(403), "{path}");
    }
    // Members co-edit.
    let mut a = doc(&server, &room, &alice.token).await;
    let mut b = doc(&server, &room, &bob.token).await;
    a.push("from alice ").await;
    b.until_text("from alice ").await;
    b.push("and bob").await;
    a.until_text("from alice and bob").await;
    // The invite works on the document handshake too (a page may open it first).
    let dave = server.user().await;
    let mut d =
        YClient::connect(&server.url(&format!("/yjs/{room}?token={}&invite={invite}", dave.token)))
            .await;
    d.sync().await;
    assert_eq!(d.text(), "from alice and bob");
    drop(carol);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn readers_cannot_change_the_document_and_the_kicked_are_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (room, _invite, mut alice, bob) = team(&server).await;
    let mut a = doc(&server, &room, &alice.token).await;
    a.push("the owner's text").await;
    let mut b = doc(&server, &room, &bob.token).await;
    b.until_text("the owner's text").await;

    // Bob becomes a viewer: he still sees changes...
    alice
        .send_json(json!({"type": "set_role", "room": room, "user": bob.user_id, "role": "viewer"}))
        .await;
    alice
        .recv_until(|m| matches!(m, ServerMsg::RoleChanged { .. }))
        .await;
    a.push(", more").await;
    b.until_text("the owner's text, more").await;
    // ...but a change of his is refused, and the document stays as it was.
    b.push(" VANDALISM").await;
    let closed = b.closed().await;
    assert_eq!(
        closed.as_ref().map(|(code, _)| *code),
        Some(4403),
        "{closed:?}"
    );
    let mut check = doc(&server, &room, &alice.token).await;
    assert_eq!(check.text(), "the owner's text, more");
    // A viewer's connection that sends nothing new (a stock client's sync) is fine.
    let mut quiet = doc(&server, &room, &bob.token).await;
    a.push("!").await;
    quiet.until_text("the owner's text, more!").await;

    // Kick: his document connection ends at once.
    alice
        .send_json(json!({"type": "kick", "room": room, "user": bob.user_id}))
        .await;
    let closed = quiet.closed().await;
    assert_eq!(
        closed.as_ref().map(|(code, _)| *code),
        Some(4403),
        "{closed:?}"
    );
    // And he cannot come back to it.
    let path = format!("/yjs/{room}?token={}", bob.token);
    assert_eq!(refused(&server, &path).await, Some(403));
    check.until_text("the owner's text, more!").await;

    // Read-only room: members are readers too; the owner still writes.
    alice
        .send_json(json!({"type": "set_read_only", "room": room, "read_only": true}))
        .await;
    alice
        .recv_until(|m| matches!(m, ServerMsg::RoomUpdated { .. }))
        .await;
    a.push(" (owner)").await;
    check.until_text("the owner's text, more! (owner)").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_invite_used_on_the_document_counts_for_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (room, invite, _alice, _bob) = team(&server).await;
    let mut erin = server.user().await;
    let mut d =
        YClient::connect(&server.url(&format!("/yjs/{room}?token={}&invite={invite}", erin.token)))
            .await;
    d.sync().await;
    // A member now: the chat lets her in without the invite.
    erin.send_json(json!({"type": "join", "room": room, "name": "Erin"}))
        .await;
    assert!(matches!(
        erin.recv_until(|m| matches!(m, ServerMsg::Joined { .. } | ServerMsg::Error { .. }))
            .await,
        ServerMsg::Joined { .. }
    ));
    server.stop().await.unwrap();
}
