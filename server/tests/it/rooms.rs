//! Room behaviour: fan-out, presence, multi-room, ordering, idempotency.

use crate::util::*;
use serde_json::json;
use tandem_shared::{limits::HISTORY_LEN, ServerMsg};

#[tokio::test]
async fn two_chat_in_a_room_and_another_room_sees_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (mut a, mut b, mut c) = (
        server.connect().await,
        server.connect().await,
        server.connect().await,
    );
    a.join("lobby", "Ada").await;
    b.join("lobby", "Bob").await;
    c.join("other", "Cy").await;

    a.send_json(json!({"type":"chat","room":"lobby","text":"hello bob","client_id":"m1"}))
        .await;
    let a_user = a.user_id.clone();
    for who in [&mut a, &mut b] {
        let m = who.recv_until(|m| matches!(m, ServerMsg::Chat(_))).await;
        let ServerMsg::Chat(msg) = m else {
            unreachable!()
        };
        assert_eq!(
            (msg.room.as_str(), msg.seq, msg.text.as_str()),
            ("lobby", 1, "hello bob")
        );
        assert_eq!(msg.sender.name, "Ada");
        assert_eq!(msg.sender.id, a_user);
        assert_eq!(msg.client_id.as_deref(), Some("m1"));
        assert!(msg.ts > 1_600_000_000_000, "server timestamp in ms");
    }
    let seen = c.sync().await;
    assert!(
        seen.iter().all(|m| chat_text(m).is_none()),
        "other room saw {seen:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn presence_join_leave_and_two_tabs_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;

    let mut b = server.connect().await;
    assert!(b.hello(None).await.is_none());
    let bob = b.user_id.clone();
    match b.join("lobby", "Bob").await {
        ServerMsg::Joined { members, .. } => {
            let mut names: Vec<_> = members.iter().map(|m| m.name.as_str()).collect();
            names.sort();
            assert_eq!(names, ["Ada", "Bob"]);
        }
        _ => unreachable!(),
    }
    // Announced at the next presence tick, with the count.
    let seen = a.recv_until(|m| joined_member(m, &bob).is_some()).await;
    match &seen {
        ServerMsg::Presence { room, count, .. } => {
            assert_eq!((room.as_str(), *count), ("lobby", 2))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(joined_member(&seen, &bob).unwrap().name, "Bob");

    // Bob's second tab: same token, so the same user and no new member.
    let mut b2 = server.connect().await;
    assert!(b2.hello(Some(&b.token)).await.is_none());
    assert_eq!(b2.user_id, bob);
    match b2.join("lobby", "Bob").await {
        ServerMsg::Joined { members, .. } => assert_eq!(members.len(), 2),
        _ => unreachable!(),
    }
    let seen = a.sync().await;
    assert!(
        seen.is_empty(),
        "a second tab must not announce a member: {seen:?}"
    );

    // Closing one tab keeps Bob present; leaving with the other removes him.
    b2.ws.close(None).await.unwrap();
    b.send_json(json!({"type":"leave","room":"lobby"})).await;
    let bye = b.recv_until(|m| matches!(m, ServerMsg::Left { .. })).await;
    assert!(matches!(bye, ServerMsg::Left { room } if room == "lobby"));
    let gone = a.recv_until(|m| left(m, &bob)).await;
    assert!(
        matches!(gone, ServerMsg::Presence { count: 1, .. }),
        "{gone:?}"
    );
    let seen = a.sync().await;
    assert!(seen.is_empty(), "Bob left once: {seen:?}");

    // After leaving, Bob may not post there.
    b.chat("lobby", "still here?").await;
    assert_eq!(
        error_code(&b.recv().await),
        Some(tandem_shared::ErrorCode::NotJoined)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn one_connection_in_several_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut a = server.connect().await;
    let (mut b, mut c) = (server.connect().await, server.connect().await);
    a.join("r1", "Ada").await;
    a.join("r2", "Ada").await;
    b.join("r1", "Bob").await;
    c.join("r2", "Cy").await;
    b.chat("r1", "to r1").await;
    c.chat("r2", "to r2").await;
    let mut got = Vec::new();
    while got.len() < 2 {
        if let ServerMsg::Chat(m) = a.recv().await {
            got.push((m.room, m.text));
        }
    }
    got.sort();
    assert_eq!(
        got,
        [("r1".into(), "to r1".into()), ("r2".into(), "to r2".into())]
    );
    // b and c each see only their room.
    let b_seen: Vec<_> = b
        .sync()
        .await
        .into_iter()
        .filter_map(|m| chat_text(&m).map(|c| c.0.to_owned()))
        .collect();
    let c_seen: Vec<_> = c
        .sync()
        .await
        .into_iter()
        .filter_map(|m| chat_text(&m).map(|c| c.0.to_owned()))
        .collect();
    assert!(
        b_seen.iter().all(|r| r == "r1") && c_seen.iter().all(|r| r == "r2"),
        "{b_seen:?} {c_seen:?}"
    );
    // a posts to both rooms from one connection.
    a.chat("r2", "from a").await;
    let m = c.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&m).unwrap().2, "from a");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn seq_is_strictly_increasing_for_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (mut a, mut b, mut c) = (
        server.connect().await,
        server.connect().await,
        server.connect().await,
    );
    for (cl, n) in [(&mut a, "A"), (&mut b, "B"), (&mut c, "C")] {
        cl.join("race", n).await;
    }
    // Two senders interleave; every receiver sees one order with seq 1..=N, no gaps.
    const N: u64 = 60;
    for i in 0..N / 2 {
        a.chat("race", &format!("a{i}")).await;
        b.chat("race", &format!("b{i}")).await;
    }
    let mut orders = Vec::new();
    for cl in [&mut a, &mut b, &mut c] {
        let mut seqs = Vec::new();
        let mut texts = Vec::new();
        while (seqs.len() as u64) < N {
            if let ServerMsg::Chat(m) = cl.recv().await {
                seqs.push(m.seq);
                texts.push(m.text);
            }
        }
        assert_eq!(seqs, (1..=N).collect::<Vec<_>>());
        orders.push(texts);
    }
    assert!(
        orders.windows(2).all(|w| w[0] == w[1]),
        "same order for all"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn repeated_client_id_is_stored_and_broadcast_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (mut a, mut b) = (server.connect().await, server.connect().await);
    a.join("lobby", "Ada").await;
    b.join("lobby", "Bob").await;
    let send = json!({"type":"chat","room":"lobby","text":"once","client_id":"k-1"});
    a.send_json(send.clone()).await;
    let first = a.recv_until(|m| chat_text(m).is_some()).await;
    a.send_json(send.clone()).await;
    let again = a.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(first, again, "the retry is acknowledged with the original");
    a.chat("lobby", "next").await;
    let next = a.recv_until(|m| chat_text(m).is_some()).await;
    assert_eq!(chat_text(&next).unwrap().1, 2);

    let b_chats: Vec<_> = b
        .sync()
        .await
        .iter()
        .filter_map(|m| chat_text(m).map(|c| c.1))
        .collect();
    assert_eq!(b_chats, [1, 2], "b saw the message once");
    // A newcomer's history holds it once.
    let mut c = server.connect().await;
    match c.join("lobby", "Cy").await {
        ServerMsg::Joined {
            history, last_seq, ..
        } => {
            assert_eq!(
                history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
                ["once", "next"]
            );
            assert_eq!(last_seq, 2);
        }
        _ => unreachable!(),
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn join_with_since_replays_only_what_was_missed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let mut a = server.connect().await;
    a.join("lobby", "Ada").await;
    for i in 1..=5 {
        a.chat("lobby", &format!("m{i}")).await;
    }
    a.recv_chats(5).await;
    let mut b = server.connect().await;
    b.send_json(json!({"type":"join","room":"lobby","name":"Bob","since":3}))
        .await;
    match b.recv().await {
        ServerMsg::Joined {
            history,
            gap,
            last_seq,
            ..
        } => {
            assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), [4, 5]);
            assert!(!gap);
            assert_eq!(last_seq, 5);
        }
        other => panic!("{other:?}"),
    }
    // Without `since`, history is the recent tail, capped.
    let mut c = server.connect().await;
    match c.join("lobby", "Cy").await {
        ServerMsg::Joined { history, .. } => {
            assert!(history.len() == 5 && history.len() <= HISTORY_LEN)
        }
        _ => unreachable!(),
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn typing_is_relayed_to_the_room_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::on(dir.path()).await;
    let (mut a, mut b) = (server.connect().await, server.connect().await);
    a.join("lobby", "Ada").await;
    b.join("lobby", "Bob").await;
    a.recv_until(|m| matches!(m, ServerMsg::Presence { .. }))
        .await;
    a.send_json(json!({"type":"typing","room":"lobby"})).await;
    match b
        .recv_until(|m| matches!(m, ServerMsg::Typing { .. }))
        .await
    {
        ServerMsg::Typing { room, members } => {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            assert_eq!((room.as_str(), names), ("lobby", vec!["Ada"]))
        }
        other => panic!("{other:?}"),
    }
    a.send_json(json!({"type":"typing","room":"elsewhere"}))
        .await;
    assert_eq!(
        error_code(&a.recv_until(|m| error_code(m).is_some()).await),
        Some(tandem_shared::ErrorCode::NotJoined)
    );
    let mut c = server.connect().await;
    let ServerMsg::Joined {
        history, last_seq, ..
    } = c.join("lobby", "Cy").await
    else {
        unreachable!()
    };
    assert!(history.is_empty() && last_seq == 0, "typing is not history");
    server.stop().await.unwrap();
}
