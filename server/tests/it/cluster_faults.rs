//! Cluster mode under faults and rules: Redis killed and restarted under the nodes, Postgres
//! stopped and started again, and a private room moderated from another node than its
//! members'.

use super::cluster::{count, until_count, until_status, Cluster};
use super::util::WAIT;
use super::util::{chat_text, error_code};
use super::yclient::YClient;
use serde_json::json;
use std::time::Duration;
use tandem_shared::{ErrorCode, ServerMsg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_under_the_nodes_fan_out_and_presence_come_back() {
    let mut cluster = Cluster::start(2).await;
    let mut a = cluster.nodes[0].user().await;
    a.join("r", "a").await;
    let mut b = cluster.nodes[1].user().await;
    b.join("r", "b").await;
    until_count(&mut a, 2).await;
    until_status(&cluster.nodes[0], "/readyz", 200).await;
    cluster.redis.kill();
    let why = until_status(&cluster.nodes[1], "/readyz", 503).await;
    assert!(why.contains("redis"), "{why}");
    // While Redis is down: stored and acknowledged, delivered on the sender's node.
    a.chat("r", "during").await;
    let ack = a.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&ack).unwrap().2, "during");
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| cluster.redis.restart().expect("redis restarts"));
    until_status(&cluster.nodes[1], "/readyz", 200).await;
    // The node on the other side reads what it missed when its link is back.
    let got = b.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&got).unwrap().2, "during");
    a.chat("r", "after").await;
    let got = b.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&got).unwrap().2, "after");
    // Presence is whole again (the outage was long enough for each to drop the other).
    let mut c = cluster.nodes[1].user().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let joined = c.join("r", "c").await;
    assert_eq!(count(&joined), Some(3));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_chat_is_refused_documents_close_1011_then_all_recovers() {
    let mut cluster = Cluster::start(2).await;
    let mut a = cluster.nodes[0].user().await;
    a.join("pg", "a").await;
    let mut doc = YClient::join(&cluster.nodes[1], "pg").await;
    doc.push("before").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    until_status(&cluster.nodes[0], "/readyz", 200).await;
    tokio::task::block_in_place(|| cluster.pg.stop());
    let why = until_status(&cluster.nodes[0], "/readyz", 503).await;
    assert!(why.contains("store"), "{why}");
    let (_, metrics) = super::http::get(cluster.nodes[0].addr, "/metrics")
        .await
        .unwrap();
    assert!(metrics.contains("tandem_store_up 0"), "{metrics}");
    assert_eq!(
        super::cluster::http_get(cluster.nodes[0].addr, "/healthz")
            .await
            .map(|r| r.0),
        Some(200),
        "alive all the same"
    );

    a.send_json(json!({"type": "chat", "room": "pg", "text": "lost?", "client_id": "k1"}))
        .await;
    let refused = a
        .recv_until(|m| error_code(m).is_some() || chat_text(m).is_some())
        .await;
    assert_eq!(
        error_code(&refused),
        Some(ErrorCode::Unavailable),
        "{refused:?}"
    );
    // The API says so too: 503, for a message and for history.
    let addr = cluster.nodes[0].addr;
    let body = json!({"text": "from a backend"}).to_string();
    let r = super::http::api(addr, "POST", "/api/rooms/pg/messages", Some(&body)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "unavailable"),
        "{}",
        r.body
    );
    let r = super::http::api(addr, "GET", "/api/rooms/pg/messages", None).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "unavailable"),
        "{}",
        r.body
    );
    doc.push(" during").await;
    let closed = doc.closed().await;
    assert_eq!(
        closed.as_ref().map(|(code, _)| *code),
        Some(1011),
        "{closed:?}"
    );

    tokio::task::block_in_place(|| cluster.pg.start_again().expect("postgres back"));
    until_status(&cluster.nodes[0], "/readyz", 200).await;
    // The same nodes, not restarted: the retry is stored and acknowledged once.
    let deadline = tokio::time::Instant::now() + WAIT;
    let seq = loop {
        a.send_json(json!({"type": "chat", "room": "pg", "text": "lost?", "client_id": "k1"}))
            .await;
        let m = a
            .recv_until(|m| error_code(m).is_some() || chat_text(m).is_some())
            .await;
        if let Some((_, seq, _)) = chat_text(&m) {
            break seq;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chat recovers: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(seq, 1);
    let again = YClient::join(&cluster.nodes[1], "pg").await;
    assert!(again.text().starts_with("before"), "{}", again.text());
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_and_its_moderation_hold_on_every_node() {
    let cluster = Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut owner = a.user().await;
    owner
        .send_json(json!({"type": "create_room", "private": true, "name": "Team"}))
        .await;
    let ServerMsg::RoomCreated { room, invite, .. } = owner
        .recv_until(|m| matches!(m, ServerMsg::RoomCreated { .. }))
        .await
    else {
        unreachable!()
    };
    owner.join(&room, "Owner").await;
    // Bob comes in with the invite through the other node; a stranger does not.
    let mut bob = b.user().await;
    bob.send_json(json!({"type": "join", "room": room, "name": "Bob", "invite": invite}))
        .await;
    let joined = bob
        .recv_until(|m| matches!(m, ServerMsg::Joined { .. } | ServerMsg::Error { .. }))
        .await;
    assert!(matches!(joined, ServerMsg::Joined { .. }), "{joined:?}");
    let mut stranger = b.user().await;
    stranger
        .send_json(json!({"type": "join", "room": room, "name": "S"}))
        .await;
    let refused = stranger.recv_until(|m| error_code(m).is_some()).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::Forbidden));
    until_count(&mut owner, 2).await;
    // Read-only set on a: Bob, on b, is told and refused.
    owner
        .send_json(json!({"type": "set_read_only", "room": room, "read_only": true}))
        .await;
    bob.recv_until(|m| {
        matches!(
            m,
            ServerMsg::RoomUpdated {
                read_only: true,
                ..
            }
        )
    })
    .await;
    bob.chat(&room, "may I?").await;
    let refused = bob.recv_until(|m| error_code(m).is_some()).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::Forbidden));
    // Kicked and banned on a: out of the room on b at once, and stays out.
    owner
        .send_json(json!({"type": "kick", "room": room, "user": bob.user_id, "ban": true}))
        .await;
    let kicked = bob
        .recv_until(|m| matches!(m, ServerMsg::Kicked { .. }))
        .await;
    assert!(matches!(kicked, ServerMsg::Kicked { banned: true, .. }));
    bob.send_json(json!({"type": "join", "room": room, "name": "Bob", "invite": invite}))
        .await;
    let refused = bob.recv_until(|m| error_code(m).is_some()).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::Forbidden));
    cluster.stop().await;
}
