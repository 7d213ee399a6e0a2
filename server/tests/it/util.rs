//! Test harness: start/stop a real server, and a small WebSocket client speaking the room
//! protocol. (The document client is in `yclient.rs`.)

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{net::SocketAddr, path::Path, time::Duration};
use tandem_server::{run, Config, Error};
use tandem_shared::{ChatMessage, ClientMsg, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{
        client::IntoClientRequest,
        protocol::{frame::coding::CloseCode, CloseFrame},
        Message,
    },
    MaybeTlsStream, WebSocketStream,
};
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    /// What it was started with (to start it again on the same data directory).
    pub config: Config,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(listener, config.clone(), shutdown.clone()));
        TestServer {
            addr,
            config,
            shutdown,
            task,
        }
    }

    /// A server with test defaults on `dir`.
    pub async fn on(dir: &Path) -> TestServer {
        TestServer::start(Config::for_tests(dir)).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub async fn connect(&self) -> Client {
        Client::connect(&self.url("/ws")).await
    }

    /// A connected user who said `hello` (their identity and token are settled).
    pub async fn user(&self) -> Client {
        let mut c = self.connect().await;
        c.hello(None).await;
        c
    }

    /// Cancel and wait for `run` to return.
    pub async fn stop(self) -> Result<(), Error> {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("run returns promptly")
            .expect("run did not panic")
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    pub async fn finished(self) -> Result<(), Error> {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("run returns promptly")
            .expect("run did not panic")
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The identity in force: the `welcome`'s, or the one a `hello` proved.
    pub user_id: String,
    /// The secret that proves `user_id` (send it in `hello` to be this user again).
    pub token: String,
}

impl Client {
    /// Connect and read the `welcome`.
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let mut c = Client {
            ws,
            user_id: String::new(),
            token: String::new(),
        };
        match c.recv().await {
            ServerMsg::Welcome { user_id, token, .. } => {
                c.user_id = user_id;
                c.token = token;
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        c
    }

    /// Say `hello` with `token`; returns the `bad_token` error if there was one. Afterwards
    /// `user_id` and `token` are the identity the reply named.
    pub async fn hello(&mut self, token: Option<&str>) -> Option<ServerMsg> {
        self.send_json(json!({"type": "hello", "protocol_version": 1, "token": token}))
            .await;
        let mut refused = None;
        loop {
            match self.recv().await {
                ServerMsg::Hello { user_id, token, .. } => {
                    self.user_id = user_id;
                    self.token = token.unwrap_or_default();
                    return refused;
                }
                err @ ServerMsg::Error { .. } if refused.is_none() => refused = Some(err),
                other => panic!("expected hello, got {other:?}"),
            }
        }
    }

    /// Connect with an `Origin` header; returns the HTTP status on refusal.
    pub async fn connect_with_origin(url: &str, origin: &str) -> Result<(), u16> {
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        match tokio_tungstenite::connect_async(req).await {
            Ok(_) => Ok(()),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).unwrap();
        self.send_text(&text).await;
    }

    pub async fn send_json(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    pub async fn send_raw(&mut self, msg: Message) {
        self.ws.send(msg).await.expect("send");
    }

    /// The next protocol message (skipping pings), within [`WAIT`].
    pub async fn recv(&mut self) -> ServerMsg {
        // One deadline for the whole wait: the server's pings must not extend it.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a message in time");
            match msg.expect("stream open").expect("no error") {
                Message::Text(t) => {
                    return serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}: {t}"))
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected text, got {other:?}"),
            }
        }
    }

    /// Skip messages until one matches.
    pub async fn recv_until(&mut self, mut pred: impl FnMut(&ServerMsg) -> bool) -> ServerMsg {
        loop {
            let m = self.recv().await;
            if pred(&m) {
                return m;
            }
        }
    }

    /// Read until the server closes; returns the close code (None: closed without a frame).
    pub async fn closed(&mut self) -> Option<CloseCode> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("close in time");
            match msg {
                None | Some(Err(_)) => return None,
                Some(Ok(Message::Close(frame))) => return frame.map(|f: CloseFrame| f.code),
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn join(&mut self, room: &str, name: &str) -> ServerMsg {
        self.send_json(json!({"type": "join", "room": room, "name": name}))
            .await;
        self.recv_until(|m| matches!(m, ServerMsg::Joined { .. }))
            .await
    }

    pub async fn chat(&mut self, room: &str, text: &str) {
        self.send_json(json!({"type": "chat", "room": room, "text": text}))
            .await;
    }

    /// The next `n` chat messages, skipping anything else.
    pub async fn recv_chats(&mut self, n: usize) -> Vec<ChatMessage> {
        let mut chats = Vec::with_capacity(n);
        while chats.len() < n {
            if let ServerMsg::Chat(m) = self.recv().await {
                chats.push(m);
            }
        }
        chats
    }

    /// Round trip a ping: everything already queued for this connection has arrived after
    /// this. Not a barrier for what rooms are still processing (a room answers on its own
    /// schedule), so use it after an ack or reply that proves the room got that far.
    pub async fn sync(&mut self) -> Vec<ServerMsg> {
        self.send(&ClientMsg::Ping { nonce: Some(4242) }).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                ServerMsg::Pong { nonce: Some(4242) } => return before,
                other => before.push(other),
            }
        }
    }
}

/// A `presence` frame in which `user` left.
pub fn left(m: &ServerMsg, user: &str) -> bool {
    matches!(m, ServerMsg::Presence { leaves, .. } if leaves.iter().any(|u| u == user))
}

/// A `presence` frame in which `user` joined (or was renamed); their entry.
pub fn joined_member<'a>(m: &'a ServerMsg, user: &str) -> Option<&'a tandem_shared::Member> {
    match m {
        ServerMsg::Presence { joins, .. } => joins.iter().find(|j| j.id == user),
        _ => None,
    }
}

pub fn chat_text(m: &ServerMsg) -> Option<(&str, u64, &str)> {
    match m {
        ServerMsg::Chat(c) => Some((c.room.as_str(), c.seq, c.text.as_str())),
        _ => None,
    }
}

pub fn error_code(m: &ServerMsg) -> Option<tandem_shared::ErrorCode> {
    match m {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    }
}
pub use crate::yclient::*;
