//! The server side of the browser tests in `server.rs`: the URLs xtask compiled in, a
//! protocol client on a plain browser WebSocket ([`Peer`]), and the control server's
//! restart.

use super::support::{sleep_ms, within, WAIT_MS};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use tandem_shared::{ChatMessage, ClientMsg, Member, ServerMsg, PROTOCOL_VERSION};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The server's WebSocket URL, as `cargo xtask test` compiled it in.
pub fn ws_url() -> &'static str {
    option_env!("TANDEM_TEST_WS").unwrap_or_else(|| missing("TANDEM_TEST_WS"))
}

/// The xtask control server's base URL (`POST /restart`).
pub fn control_url() -> &'static str {
    option_env!("TANDEM_TEST_CONTROL").unwrap_or_else(|| missing("TANDEM_TEST_CONTROL"))
}

pub fn missing(var: &str) -> ! {
    panic!(
        "{var} was not set when these tests were compiled, so there is no server to test \
         against: run them through `cargo xtask test`, which starts one and sets \
         TANDEM_TEST_WS=ws://HOST:PORT/ws and TANDEM_TEST_CONTROL=http://HOST:PORT"
    )
}

/// A name no other test (or earlier run against the same data directory) uses.
pub fn unique(prefix: &str) -> String {
    let n = (js_sys::Math::random() * 1e12) as u64;
    format!("{prefix}-{n:x}")
}

/// What a socket yields: a protocol message, or its end (with the close code, if any).
pub enum Event {
    Msg(ServerMsg),
    Closed(Option<u16>),
}

/// One protocol client on a browser WebSocket.
pub struct Peer {
    ws: WebSocket,
    /// The identity in force, and the token that proves it.
    pub user_id: String,
    pub token: String,
}

impl Peer {
    /// Open a socket, read `welcome`, and say `hello` with `token` (none: be the fresh user
    /// the welcome named).
    pub async fn open(token: Option<&str>) -> Result<Peer, String> {
        let ws = WebSocket::open(ws_url()).map_err(|e| format!("open {}: {e}", ws_url()))?;
        let mut peer = Peer {
            ws,
            user_id: String::new(),
            token: String::new(),
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
            token: token.map(str::to_owned),
            jwt: None,
        })
        .await;
        match peer
            .recv_until("hello", |m| matches!(m, ServerMsg::Hello { .. }))
            .await
        {
            ServerMsg::Hello { user_id, token, .. } => {
                peer.user_id = user_id;
                peer.token = token.unwrap_or_default();
            }
            _ => unreachable!(),
        }
        Ok(peer)
    }

    /// A new user.
    pub async fn connect() -> Peer {
        within("welcome and hello", WAIT_MS, Peer::open(None))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Connect as the user `token` proves, retrying while the server is not (yet) there.
    pub async fn reconnect(token: &str) -> Peer {
        within("the server to accept a connection again", 30_000, async {
            loop {
                let attempt = within("welcome and hello", WAIT_MS, Peer::open(Some(token))).await;
                match attempt {
                    Ok(peer) => return peer,
                    Err(_) => sleep_ms(250).await,
                }
            }
        })
        .await
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("client messages serialize");
        self.ws.send(Message::Text(text)).await.expect("send");
    }

    pub async fn next(&mut self) -> Event {
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
    pub async fn recv_until(&mut self, what: &str, pred: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
        loop {
            match self.next().await {
                Event::Msg(m) if pred(&m) => return m,
                Event::Msg(_) => {}
                Event::Closed(code) => panic!("closed ({code:?}) while waiting for {what}"),
            }
        }
    }

    pub async fn join(&mut self, room: &str, name: &str, since: Option<u64>) -> ServerMsg {
        self.send(&ClientMsg::Join {
            room: room.into(),
            name: name.into(),
            since,
            invite: None,
        })
        .await;
        self.recv_until("joined", |m| matches!(m, ServerMsg::Joined { .. }))
            .await
    }

    pub async fn chat(&mut self, room: &str, text: &str, client_id: &str) {
        self.send(&ClientMsg::Chat {
            room: room.into(),
            text: text.into(),
            client_id: Some(client_id.into()),
        })
        .await;
    }

    pub async fn recv_chat(&mut self) -> ChatMessage {
        match self
            .recv_until("chat", |m| matches!(m, ServerMsg::Chat(_)))
            .await
        {
            ServerMsg::Chat(m) => m,
            _ => unreachable!(),
        }
    }

    /// Wait for the server to close this socket and return the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Event::Closed(code) = self.next().await {
                return code;
            }
        }
    }
}

pub fn names(members: &[Member]) -> Vec<&str> {
    let mut v: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    v.sort_unstable();
    v
}

/// `POST {control}/restart`: resolves once the server is back on the same port.
pub async fn restart_server() {
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
