//! The admin API: rooms and connections listed with their figures; a room made read-only,
//! a user kicked, a connection or all of a user's closed (1008), a room closed (everyone
//! out of its chat and document).

use super::api::config;
use super::http::api;
use super::util::{chat_text, TestServer};
use serde_json::json;
use tandem_shared::ServerMsg;

/// Read until `c` is told it is out of `room` (a kick, not a ban).
async fn kicked_from(c: &mut super::util::Client, room: &str) {
    let out = c
        .recv_until(|m| matches!(m, ServerMsg::Kicked { .. }))
        .await;
    let want = ServerMsg::Kicked {
        room: room.into(),
        banned: false,
    };
    assert_eq!(out, want);
}

#[tokio::test]
async fn the_admin_api_lists_rooms_and_connections_and_acts_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let addr = server.addr;
    let mut a = server.user().await;
    a.join("ops", "Ann").await;
    let mut b = server.user().await;
    b.join("ops", "Bob").await;
    let mut b2 = server.user().await;
    b2.hello(Some(&b.token.clone())).await;
    b2.join("ops", "Bob").await;
    a.chat("ops", "hi").await;
    a.recv_until(|m| chat_text(m).is_some()).await;

    let rooms = api(addr, "GET", "/api/rooms", None).await.json();
    let ops = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"] == "ops")
        .cloned()
        .expect("ops is live");
    assert_eq!(
        (ops["members"].as_u64(), ops["connections"].as_u64()),
        (Some(2), Some(3)),
        "{ops}"
    );
    assert_eq!(
        (
            ops["last_seq"].as_u64(),
            ops["messages_last_minute"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let conns = api(addr, "GET", "/api/connections", None).await.json();
    let conns = conns["connections"].as_array().unwrap().clone();
    let of = |user: &str| conns.iter().filter(|c| c["user"] == user).count();
    assert_eq!((of(&a.user_id), of(&b.user_id)), (1, 2), "{conns:?}");
    assert!(conns.iter().all(|c| c["rooms"] == json!(["ops"])
        && c["endpoint"] == "ws"
        && c["peer"].as_str().unwrap().starts_with("127.0.0.1:")));

    // Read-only: everyone is told.
    let r = api(
        addr,
        "PUT",
        "/api/rooms/ops/read-only",
        Some(r#"{"read_only": true}"#),
    )
    .await;
    assert_eq!(r.status, 204);
    let told = a
        .recv_until(|m| matches!(m, ServerMsg::RoomUpdated { .. }))
        .await;
    assert_eq!(
        told,
        ServerMsg::RoomUpdated {
            room: "ops".into(),
            read_only: true
        }
    );

    // Kick a user from the room: each of their connections is out of it.
    let kick = json!({"user": b.user_id}).to_string();
    let r = api(addr, "POST", "/api/rooms/ops/kick", Some(&kick)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for c in [&mut b, &mut b2] {
        kicked_from(c, "ops").await;
    }

    // Close one connection: 1008.
    let id = conns
        .iter()
        .find(|c| c["user"] == a.user_id.as_str())
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let r = api(addr, "DELETE", &format!("/api/connections/{id}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(a.closed().await.map(u16::from), Some(1008));
    // Close all of a user's.
    let r = api(
        addr,
        "DELETE",
        &format!("/api/users/{}/connections", b.user_id),
        None,
    )
    .await;
    assert_eq!((r.status, r.json()["closed"].as_u64()), (200, Some(2)));
    assert_eq!(b.closed().await.map(u16::from), Some(1008));
    assert_eq!(b2.closed().await.map(u16::from), Some(1008));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn closing_a_room_removes_everyone_from_chat_and_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(dir.path())).await;
    let mut a = server.user().await;
    a.join("shut", "Ann").await;
    let mut b = server.user().await;
    b.join("shut", "Bob").await;
    let mut doc = super::yclient::YClient::join(&server, "shut").await;
    let r = api(server.addr, "POST", "/api/rooms/shut/close", None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for c in [&mut a, &mut b] {
        kicked_from(c, "shut").await;
    }
    assert!(
        doc.closed().await.is_some(),
        "the document connection is closed"
    );
    let rooms = api(server.addr, "GET", "/api/rooms", None).await.json();
    let shut = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"] == "shut")
        .cloned();
    assert!(shut.as_ref().is_none_or(|r| r["members"] == 0), "{shut:?}");
    server.stop().await.unwrap();
}
