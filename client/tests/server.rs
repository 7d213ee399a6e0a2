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
//! `tandem_shared`; one test drives the client's own link (`tandem_client::net`), whose
//! reconnection the multi-browser suite in `e2e/` also exercises through the page.
//! The file is empty on the host.
#![cfg(target_arch = "wasm32")]

mod support;

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use support::{sleep_ms, within, WAIT_MS};
use tandem_client::net::{self, NetEvent};
use tandem_shared::{ChatMessage, ClientMsg, Member, ServerMsg, PROTOCOL_VERSION};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The server's WebSocket URL, as `cargo xtask test` compiled it in.
fn ws_url() -> &'static str {
    option_env!("TANDEM_TEST_WS").unwrap_or_else(|| missing("TANDEM_TEST_WS"))
}

/// The xtask control server's base URL (`POST /restart`).
fn control_url() -> &'static str {
    option_env!("TANDEM_TEST_CONTROL").unwrap_or_else(|| missing("TANDEM_TEST_CONTROL"))
}

fn missing(var: &str) -> ! {
    panic!(
        "{var} was not set when these tests were compiled, so there is no server to test \
         against: run them through `cargo xtask test`, which starts one and sets \
         TANDEM_TEST_WS=ws://HOST:PORT/ws and TANDEM_TEST_CONTROL=http://HOST:PORT"
    )
}

/// A name no other test (or earlier run against the same data directory) uses.
fn unique(prefix: &str) -> String {
    let n = (js_sys::Math::random() * 1e12) as u64;
    format!("{prefix}-{n:x}")
}

/// What a socket yields: a protocol message, or its end (with the close code, if any).
enum Event {
    Msg(ServerMsg),
    Closed(Option<u16>),
}

/// One protocol client on a browser WebSocket.
struct Peer {
    ws: WebSocket,
    user_id: String,
}

impl Peer {
    /// Open a socket, read `welcome`, and say `hello` with `user_id`.
    async fn open(user_id: &str) -> Result<Peer, String> {
        let ws = WebSocket::open(ws_url()).map_err(|e| format!("open {}: {e}", ws_url()))?;
        let mut peer = Peer {
            ws,
            user_id: user_id.to_owned(),
        };
        match peer.next().await {
            Event::Msg(ServerMsg::Welcome {
                protocol_version, ..
            }) => assert_eq!(protocol_version, PROTOCOL_VERSION),
            Event::Msg(other) => return Err(format!("expected welcome, got {other:?}")),
            Event::Closed(code) => return Err(format!("closed before welcome ({code:?})")),
        }
        peer.send(&ClientMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            user_id: Some(user_id.to_owned()),
        })
        .await;
        match peer
            .recv_until("hello", |m| matches!(m, ServerMsg::Hello { .. }))
            .await
        {
            ServerMsg::Hello { user_id, .. } => assert_eq!(user_id, peer.user_id),
            _ => unreachable!(),
        }
        Ok(peer)
    }

    async fn connect(user_id: &str) -> Peer {
        within("welcome and hello", WAIT_MS, Peer::open(user_id))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Connect, retrying while the server is not (yet) there.
    async fn reconnect(user_id: &str) -> Peer {
        within("the server to accept a connection again", 30_000, async {
            loop {
                let attempt = within("welcome and hello", WAIT_MS, Peer::open(user_id)).await;
                match attempt {
                    Ok(peer) => return peer,
                    Err(_) => sleep_ms(250).await,
                }
            }
        })
        .await
    }

    async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("client messages serialize");
        self.ws.send(Message::Text(text)).await.expect("send");
    }

    async fn next(&mut self) -> Event {
        loop {
            match within("a frame", WAIT_MS, self.ws.next()).await {
                Some(Ok(Message::Text(text))) => {
                    let msg = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("unreadable frame {text:?}: {e}"));
                    return Event::Msg(msg);
                }
                Some(Ok(Message::Bytes(b))) => panic!("binary frame ({} bytes)", b.len()),
                // An `error` event precedes the `close` event that ends the stream.
                Some(Err(WebSocketError::ConnectionError)) => continue,
                Some(Err(WebSocketError::ConnectionClose(ev))) => {
                    return Event::Closed(Some(ev.code))
                }
                Some(Err(e)) => panic!("socket error: {e}"),
                None => return Event::Closed(None),
            }
        }
    }

    /// The next message matching `pred`, skipping others (presence, typing, pongs…).
    async fn recv_until(&mut self, what: &str, pred: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
        loop {
            match self.next().await {
                Event::Msg(m) if pred(&m) => return m,
                Event::Msg(_) => {}
                Event::Closed(code) => panic!("closed ({code:?}) while waiting for {what}"),
            }
        }
    }

    async fn join(&mut self, room: &str, name: &str, since: Option<u64>) -> ServerMsg {
        self.send(&ClientMsg::Join {
            room: room.into(),
            name: name.into(),
            since,
        })
        .await;
        self.recv_until("joined", |m| matches!(m, ServerMsg::Joined { .. }))
            .await
    }

    async fn chat(&mut self, room: &str, text: &str, client_id: &str) {
        self.send(&ClientMsg::Chat {
            room: room.into(),
            text: text.into(),
            client_id: Some(client_id.into()),
        })
        .await;
    }

    async fn recv_chat(&mut self) -> ChatMessage {
        match self
            .recv_until("chat", |m| matches!(m, ServerMsg::Chat(_)))
            .await
        {
            ServerMsg::Chat(m) => m,
            _ => unreachable!(),
        }
    }

    /// Wait for the server to close this socket and return the close code.
    async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Event::Closed(code) = self.next().await {
                return code;
            }
        }
    }
}

fn names(members: &[Member]) -> Vec<&str> {
    let mut v: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    v.sort_unstable();
    v
}

/// `POST {control}/restart`: resolves once the server is back on the same port.
async fn restart_server() {
    let url = format!("{}/restart", control_url());
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let window = web_sys::window().expect("window");
    let resp = within(
        "the control server to restart the server",
        30_000,
        JsFuture::from(window.fetch_with_str_and_init(&url, &init)),
    )
    .await
    .unwrap_or_else(|e| panic!("POST {url}: {e:?}"));
    let resp: web_sys::Response = resp.dyn_into().expect("a Response");
    let body = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()),
        Err(_) => None,
    };
    assert!(
        resp.ok(),
        "POST {url}: {} {}",
        resp.status(),
        body.unwrap_or_default()
    );
}

/// Two browser sockets join one room, see each other arrive and leave, and exchange messages;
/// the sender's copy is its acknowledgement, and a repeated `client_id` is not delivered twice.
#[wasm_bindgen_test]
async fn join_send_and_receive() {
    let room = unique("wbt-chat");
    let mut ada = Peer::connect(&unique("ada")).await;
    let mut bob = Peer::connect(&unique("bob")).await;

    match ada.join(&room, "Ada", None).await {
        ServerMsg::Joined {
            members,
            history,
            last_seq,
            ..
        } => {
            assert_eq!(names(&members), ["Ada"]);
            assert!(history.is_empty());
            assert_eq!(last_seq, 0);
        }
        _ => unreachable!(),
    }
    match bob.join(&room, "Bob", None).await {
        ServerMsg::Joined { members, .. } => assert_eq!(names(&members), ["Ada", "Bob"]),
        _ => unreachable!(),
    }
    match ada
        .recv_until("member_joined", |m| {
            matches!(m, ServerMsg::MemberJoined { .. })
        })
        .await
    {
        ServerMsg::MemberJoined { member, room: r } => {
            assert_eq!((r.as_str(), member.name.as_str()), (room.as_str(), "Bob"));
            assert_eq!(member.id, bob.user_id);
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
        .recv_until("member_left", |m| matches!(m, ServerMsg::MemberLeft { .. }))
        .await
    {
        ServerMsg::MemberLeft { member, .. } => assert_eq!(member.name, "Bob"),
        _ => unreachable!(),
    }
}

/// The server restarts (SIGTERM, then again on the same port and data directory): the
/// browser's socket is closed with 1001 "going away", a new one connects, catches up from
/// its last `seq` with nothing lost, and `seq` continues.
#[wasm_bindgen_test]
async fn reconnect_after_the_server_restarts() {
    let room = unique("wbt-restart");
    let user = unique("ada");
    let mut ada = Peer::connect(&user).await;
    ada.join(&room, "Ada", None).await;
    for (i, text) in ["one", "two"].into_iter().enumerate() {
        ada.chat(&room, text, &format!("r-{i}")).await;
        assert_eq!(ada.recv_chat().await.seq, i as u64 + 1);
    }
    // A second user has seen both before the restart.
    let mut bob = Peer::connect(&unique("bob")).await;
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
    ada.join(&room, "Ada", Some(2)).await;
    for (i, text) in ["three", "four"].into_iter().enumerate() {
        ada.chat(&room, text, &format!("r-{}", i + 2)).await;
        assert_eq!(
            ada.recv_chat().await.seq,
            i as u64 + 3,
            "seq continues after a restart"
        );
    }

    let mut bob = Peer::reconnect(&bob.user_id).await;
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

/// The client's own link (`tandem_client::net`), not a bare socket: after the server
/// restarts it reports the close and reconnects by itself, and the room catches up from the
/// last `seq` it saw.
#[wasm_bindgen_test]
async fn the_client_link_reconnects_by_itself_after_a_restart() {
    let (tx, mut events) = unbounded();
    let link = net::connect(
        ws_url(),
        unique("link"),
        yew::Callback::from(move |e: NetEvent| {
            let _ = tx.unbounded_send(e);
        }),
    );
    let room = unique("wbt-link");
    let join = |since| ClientMsg::Join {
        room: room.clone(),
        name: "Ada".into(),
        since,
    };
    let chat = |text: &str| ClientMsg::Chat {
        room: room.clone(),
        text: text.into(),
        client_id: Some(format!("link-{text}")),
    };
    let is_open = |e: &NetEvent| matches!(e, NetEvent::Open);
    let is_joined = |e: &NetEvent| matches!(e, NetEvent::Message(ServerMsg::Joined { .. }));
    let is_chat = |e: &NetEvent| matches!(e, NetEvent::Message(ServerMsg::Chat(_)));

    next_event(&mut events, "open", is_open).await;
    assert!(link.send(join(None)));
    next_event(&mut events, "joined", is_joined).await;
    assert!(link.send(chat("first")));
    match next_event(&mut events, "the ack of the first message", is_chat).await {
        NetEvent::Message(ServerMsg::Chat(m)) => {
            assert_eq!((m.seq, m.text.as_str()), (1, "first"))
        }
        _ => unreachable!(),
    }

    restart_server().await;
    next_event(&mut events, "closed", |e| {
        matches!(e, NetEvent::Closed { .. })
    })
    .await;
    next_event(&mut events, "open again, by itself", is_open).await;
    assert!(link.send(join(Some(1))));
    match next_event(&mut events, "joined again", is_joined).await {
        NetEvent::Message(ServerMsg::Joined {
            history, last_seq, ..
        }) => {
            assert!(history.is_empty(), "nothing new since seq 1: {history:?}");
            assert_eq!(last_seq, 1);
        }
        _ => unreachable!(),
    }
    assert!(link.send(chat("second")));
    match next_event(&mut events, "the ack of the second message", is_chat).await {
        NetEvent::Message(ServerMsg::Chat(m)) => {
            assert_eq!((m.seq, m.text.as_str()), (2, "second"))
        }
        _ => unreachable!(),
    }
    drop(link);
}
