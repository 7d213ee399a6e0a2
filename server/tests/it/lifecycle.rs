//! Restarts, heartbeats and shutdown.

use crate::util::*;
use serde_json::json;
use std::time::Duration;
use tandem_server::Config;
use tandem_shared::ServerMsg;
use tokio_tungstenite::tungstenite::{protocol::frame::coding::CloseCode, Message};

#[tokio::test]
async fn history_and_seq_continue_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    for t in ["one", "two", "three"] {
        a.chat("lobby", t).await;
    }
    let acks: Vec<_> = a.recv_chats(3).await.iter().map(|m| m.seq).collect();
    assert_eq!(acks, [1, 2, 3]);
    a.join("side", "Ada").await;
    a.chat("side", "elsewhere").await;
    assert_eq!(a.recv_chats(1).await[0].seq, 1, "seq is per room");
    server.stop().await.unwrap();

    let server = TestServer::on(dir.path()).await;
    let mut b = server.connect().await;
    match b.join("lobby", "Bob").await {
        ServerMsg::Joined {
            history,
            last_seq,
            members,
            ..
        } => {
            let got: Vec<_> = history
                .iter()
                .map(|m| (m.seq, m.text.as_str(), m.sender.name.as_str()))
                .collect();
            assert_eq!(
                got,
                [(1, "one", "Ada"), (2, "two", "Ada"), (3, "three", "Ada")]
            );
            assert_eq!(last_seq, 3);
            assert_eq!(members.len(), 1, "presence is not persisted: only Bob");
        }
        _ => unreachable!(),
    }
    b.chat("lobby", "four").await;
    let m = b.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&m), Some(("lobby", 4, "four")));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn rooms_unload_when_idle_and_reload_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.room_idle_ms = 50;
    let server = TestServer::start(config).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    a.chat("lobby", "before").await;
    a.sync().await;
    a.send_json(json!({"type":"leave","room":"lobby"})).await;
    a.recv().await;
    tokio::time::sleep(Duration::from_millis(300)).await; // unloaded by now
    match a.join("lobby", "Ada").await {
        ServerMsg::Joined {
            history, last_seq, ..
        } => {
            assert_eq!(last_seq, 1);
            assert_eq!(history[0].text, "before");
        }
        _ => unreachable!(),
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_silent_client_is_dropped_and_leaves_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.heartbeat_ms = 100;
    config.client_timeout_ms = 400;
    let server = TestServer::start(config).await;
    let mut watcher = server.connect().await;
    watcher.join("lobby", "Watcher").await;
    let mut silent = server.connect().await;
    silent.join("lobby", "Silent").await;
    let silent_id = silent.user_id.clone();
    // `silent` stops reading, so it never answers the server's pings. `watcher` keeps reading
    // (tungstenite answers pings as it reads) and must stay.
    watcher.recv_until(|m| left(m, &silent_id)).await;
    watcher.sync().await;
    // The dropped connection ends with a policy close (or a reset) when read at last.
    assert!(matches!(
        silent.closed().await,
        Some(CloseCode::Policy) | None
    ));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn server_answers_client_pings() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    c.send_raw(Message::Ping(b"are you there".to_vec())).await;
    let pong = loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut c.ws))
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Pong(p) => break p,
            _ => continue,
        }
    };
    assert_eq!(&pong[..], b"are you there");
    // And the application-level ping for browsers.
    c.send_json(json!({"type":"ping","nonce":7})).await;
    assert_eq!(c.recv().await, ServerMsg::Pong { nonce: Some(7) });
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_with_1001_returns_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (mut a, mut b) = (server.connect().await, server.connect().await);
    a.join("lobby", "Ada").await;
    b.join("lobby", "Bob").await;
    // A burst, then shut down while acks are in flight.
    for i in 0..50 {
        a.send_json(json!({"type":"chat","room":"lobby","text":format!("m{i}"),"client_id":format!("c{i}")})).await;
    }
    server.begin_shutdown();
    let mut acked = Vec::new();
    let code = loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut a.ws))
            .await
            .expect("in time")
        {
            Some(Ok(Message::Text(t))) => {
                if let ServerMsg::Chat(m) = serde_json::from_str(&t).unwrap() {
                    acked.push(m.seq);
                }
            }
            Some(Ok(Message::Close(f))) => break f.map(|f| f.code),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break None,
        }
    };
    assert_eq!(code, Some(CloseCode::Away));
    assert_eq!(b.closed().await, Some(CloseCode::Away));
    server.finished().await.expect("run returns Ok");

    // Everything acknowledged before the close is in the history after a restart.
    let server = TestServer::on(dir.path()).await;
    let mut c = server.connect().await;
    let ServerMsg::Joined { history, .. } = c.join("lobby", "Cy").await else {
        unreachable!()
    };
    let stored: Vec<u64> = history.iter().map(|m| m.seq).collect();
    for seq in &acked {
        assert!(
            stored.contains(seq),
            "acked seq {seq} lost; stored {stored:?}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_says_the_store_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (status, body) = crate::cluster::http_get(server.addr, "/readyz")
        .await
        .expect("an answer");
    assert_eq!((status, body.as_str()), (200, r#"{"ready":true}"#));
    server.stop().await.unwrap();
}
