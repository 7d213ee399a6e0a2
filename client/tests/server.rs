//! Browser tests against a real running server, in headless Chromium (wasm-bindgen-test
//! through chromedriver).
//!
//! Run them with `cargo xtask test` (or `cargo xtask browser`): it starts a release
//! `tandem-server` on 127.0.0.1 with a temporary data directory, and a small control server,
//! and compiles these tests with `TANDEM_TEST_WS` (the server's `ws://…/ws`) and
//! `TANDEM_TEST_CONTROL` (whose `POST /restart` stops the server with SIGTERM and starts it
//! again on the same port and data directory). Compiled without them, these tests fail,
//! loudly. (A panic aborts the wasm instance, so the tests after a failing one in this
//! binary fail too: read the first failure.)
//!
//! Most sockets here are plain gloo-net WebSockets speaking the wire protocol through
//! `tandem_shared`; one test drives the client's own link (`tandem_client::net::Socket`), whose
//! reconnection the multi-browser suite in `e2e/` also exercises through the page.
//! The file is empty on the host.
#![cfg(target_arch = "wasm32")]

#[path = "support/server.rs"]
mod peer;
mod support;

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::StreamExt;
use peer::{names, restart_server, unique, ws_url, Peer};
use support::within;
use tandem_client::net::{Chat, Socket, SocketEvent};

type NetEvent = SocketEvent<ServerMsg>;
use tandem_shared::{ClientMsg, ServerMsg};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Two browser sockets join one room, see each other arrive and leave, and exchange messages;
/// the sender's copy is its acknowledgement, and a repeated `client_id` is not delivered twice.
#[wasm_bindgen_test]
async fn join_send_and_receive() {
    let room = unique("wbt-chat");
    let mut ada = Peer::connect().await;
    let mut bob = Peer::connect().await;

    match ada.join(&room, "Ada", None).await {
        ServerMsg::Joined {
            members,
            count,
            history,
            last_seq,
            ..
        } => {
            assert_eq!(names(&members), ["Ada"]);
            assert_eq!(count, 1);
            assert!(history.is_empty());
            assert_eq!(last_seq, 0);
        }
        _ => unreachable!(),
    }
    match bob.join(&room, "Bob", None).await {
        ServerMsg::Joined { members, count, .. } => {
            assert_eq!(names(&members), ["Ada", "Bob"]);
            assert_eq!(count, 2);
        }
        _ => unreachable!(),
    }
    // Presence comes coalesced, once per tick; Ada may first see herself arrive.
    let bob_id = bob.user_id.clone();
    match ada
        .recv_until("presence naming Bob", |m| {
            matches!(m, ServerMsg::Presence { joins, .. } if joins.iter().any(|j| j.id == bob_id))
        })
        .await
    {
        ServerMsg::Presence {
            room: r,
            joins,
            count,
            ..
        } => {
            assert_eq!(r, room);
            assert!(joins.iter().any(|j| j.name == "Bob"));
            assert_eq!(count, 2);
        }
        _ => unreachable!(),
    }

    ada.chat(&room, "hello from Ada", "a-1").await;
    let ack = ada.recv_chat().await;
    assert_eq!(
        (ack.seq, ack.text.as_str(), ack.client_id.as_deref()),
        (1, "hello from Ada", Some("a-1"))
    );
    assert_eq!(ack.sender.id, ada.user_id);
    let got = bob.recv_chat().await;
    assert_eq!(got, ack, "everyone gets the same message");

    bob.chat(&room, "hi Ada", "b-1").await;
    let got = ada.recv_chat().await;
    assert_eq!(
        (got.seq, got.text.as_str(), got.sender.name.as_str()),
        (2, "hi Ada", "Bob")
    );
    assert_eq!(bob.recv_chat().await, got);

    // A retry with the same client_id is acknowledged with the original, and not broadcast.
    ada.chat(&room, "hello from Ada", "a-1").await;
    assert_eq!(ada.recv_chat().await.seq, 1);
    ada.chat(&room, "and again", "a-2").await;
    assert_eq!(ada.recv_chat().await.seq, 3);
    let next = bob.recv_chat().await;
    assert_eq!(
        (next.seq, next.text.as_str()),
        (3, "and again"),
        "the retried message must not reach Bob a second time"
    );

    bob.send(&ClientMsg::Leave { room: room.clone() }).await;
    bob.recv_until("left", |m| matches!(m, ServerMsg::Left { .. }))
        .await;
    match ada
        .recv_until(
            "presence: Bob left",
            |m| matches!(m, ServerMsg::Presence { leaves, .. } if leaves.contains(&bob_id)),
        )
        .await
    {
        ServerMsg::Presence { count, .. } => assert_eq!(count, 1),
        _ => unreachable!(),
    }
}

/// The server restarts (SIGTERM, then again on the same port and data directory): the
/// browser's socket is closed with 1001 "going away", a new one connects, catches up from
/// its last `seq` with nothing lost, and `seq` continues.
#[wasm_bindgen_test]
async fn reconnect_after_the_server_restarts() {
    let room = unique("wbt-restart");
    let mut ada = Peer::connect().await;
    let (user, ada_id) = (ada.token.clone(), ada.user_id.clone());
    ada.join(&room, "Ada", None).await;
    for (i, text) in ["one", "two"].into_iter().enumerate() {
        ada.chat(&room, text, &format!("r-{i}")).await;
        assert_eq!(ada.recv_chat().await.seq, i as u64 + 1);
    }
    // A second user has seen both before the restart.
    let mut bob = Peer::connect().await;
    let last_seen = match bob.join(&room, "Bob", None).await {
        ServerMsg::Joined { last_seq, .. } => last_seq,
        _ => unreachable!(),
    };
    assert_eq!(last_seen, 2);

    restart_server().await;
    assert_eq!(ada.closed().await, Some(1001), "shutdown closes with 1001");
    assert_eq!(bob.closed().await, Some(1001), "shutdown closes with 1001");

    // Reconnect; Ada posts again, Bob catches up from where he was.
    let mut ada = Peer::reconnect(&user).await;
    assert_eq!(ada.user_id, ada_id, "the same user after a restart");
    ada.join(&room, "Ada", Some(2)).await;
    for (i, text) in ["three", "four"].into_iter().enumerate() {
        ada.chat(&room, text, &format!("r-{}", i + 2)).await;
        assert_eq!(
            ada.recv_chat().await.seq,
            i as u64 + 3,
            "seq continues after a restart"
        );
    }

    let mut bob = Peer::reconnect(&bob.token).await;
    match bob.join(&room, "Bob", Some(last_seen)).await {
        ServerMsg::Joined {
            history,
            last_seq,
            gap,
            members,
            ..
        } => {
            let got: Vec<(u64, &str)> = history.iter().map(|m| (m.seq, m.text.as_str())).collect();
            assert_eq!(got, [(3, "three"), (4, "four")], "exactly what Bob missed");
            assert_eq!(last_seq, 4);
            assert!(!gap);
            assert_eq!(names(&members), ["Ada", "Bob"]);
        }
        _ => unreachable!(),
    }
}

/// The next event of the client's link that `pred` accepts, skipping the others.
async fn next_event(
    events: &mut UnboundedReceiver<NetEvent>,
    what: &str,
    pred: impl Fn(&NetEvent) -> bool,
) -> NetEvent {
    within(what, 30_000, async {
        loop {
            match events.next().await {
                Some(e) if pred(&e) => return e,
                Some(_) => {}
                None => panic!("the link stopped while waiting for {what}"),
            }
        }
    })
    .await
}

/// The client's own socket (`tandem_client::net::Socket`), not a bare one: after the server
/// restarts it reports the close and reconnects by itself, and the room catches up from the
/// last `seq` it saw.
#[wasm_bindgen_test]
async fn the_client_link_reconnects_by_itself_after_a_restart() {
    let (tx, mut events) = unbounded();
    let link = Socket::open(
        ws_url(),
        Chat::new(),
        yew::Callback::from(move |e: NetEvent| {
            let _ = tx.unbounded_send(e);
        }),
    );
    let room = unique("wbt-link");
    let join = |since| ClientMsg::Join {
        room: room.clone(),
        name: "Ada".into(),
        since,
        invite: None,
    };
    let chat = |text: &str| ClientMsg::Chat {
        room: room.clone(),
        text: text.into(),
        client_id: Some(format!("link-{text}")),
    };
    let is_open = |e: &NetEvent| matches!(e, SocketEvent::Open);
    let is_joined = |e: &NetEvent| matches!(e, SocketEvent::Message(ServerMsg::Joined { .. }));
    let is_chat = |e: &NetEvent| matches!(e, SocketEvent::Message(ServerMsg::Chat(_)));

    next_event(&mut events, "open", is_open).await;
    assert!(link.send(join(None)));
    next_event(&mut events, "joined", is_joined).await;
    assert!(link.send(chat("first")));
    match next_event(&mut events, "the ack of the first message", is_chat).await {
        SocketEvent::Message(ServerMsg::Chat(m)) => {
            assert_eq!((m.seq, m.text.as_str()), (1, "first"))
        }
        _ => unreachable!(),
    }

    restart_server().await;
    next_event(&mut events, "closed", |e| {
        matches!(e, SocketEvent::Closed { .. })
    })
    .await;
    next_event(&mut events, "open again, by itself", is_open).await;
    assert!(link.send(join(Some(1))));
    match next_event(&mut events, "joined again", is_joined).await {
        SocketEvent::Message(ServerMsg::Joined {
            history, last_seq, ..
        }) => {
            assert!(history.is_empty(), "nothing new since seq 1: {history:?}");
            assert_eq!(last_seq, 1);
        }
        _ => unreachable!(),
    }
    assert!(link.send(chat("second")));
    match next_event(&mut events, "the ack of the second message", is_chat).await {
        SocketEvent::Message(ServerMsg::Chat(m)) => {
            assert_eq!((m.seq, m.text.as_str()), (2, "second"))
        }
        _ => unreachable!(),
    }
    drop(link);
}
