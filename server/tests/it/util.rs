//! Test harness: start/stop a real server, a small WebSocket client speaking the room
//! protocol, and [`YClient`], a y-websocket client with a real `yrs::Doc`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{collections::HashMap, net::SocketAddr, path::Path, time::Duration};
use tandem_server::{docs::TEXT, run, Config, Error};
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
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::{decoder::Decode, encoder::Encode};
use yrs::{ClientID, Doc, GetString, ReadTxn, Text, Transact, Update};

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
    pub user_id: String,
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
        };
        match c.recv().await {
            ServerMsg::Welcome { user_id, .. } => c.user_id = user_id,
            other => panic!("expected welcome, got {other:?}"),
        }
        c
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
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
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
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
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

/// A document client speaking the y-websocket protocol with a real `yrs::Doc`, as a stock
/// `WebsocketProvider` does: binary y-protocols messages on `/yjs/<room>`.
pub struct YClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub doc: Doc,
    /// Awareness states seen, by client id: (clock, JSON; "null" once removed).
    pub awareness: HashMap<u64, (u32, String)>,
    /// Whether a sync step 2 has arrived since connecting.
    pub synced: bool,
}

/// How the server ended a connection: the close code and reason (None: no close frame).
pub type Closed = Option<(u16, String)>;

impl YClient {
    /// Connect to `room`'s document and sync (send step 1, wait for step 2).
    pub async fn join(server: &TestServer, room: &str) -> YClient {
        let mut c = YClient::connect(&server.url(&format!("/yjs/{room}"))).await;
        c.sync().await;
        c
    }

    /// Connect without syncing.
    pub async fn connect(url: &str) -> YClient {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        YClient {
            ws,
            doc: Doc::new(),
            awareness: HashMap::new(),
            synced: false,
        }
    }

    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    pub fn text(&self) -> String {
        let text = self.doc.get_or_insert_text(TEXT);
        let txn = self.doc.transact();
        text.get_string(&txn)
    }

    pub async fn send(&mut self, msg: &YMessage) {
        self.send_bytes(msg.encode_v1()).await;
    }

    pub async fn send_bytes(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::Binary(bytes)).await.expect("send");
    }

    /// Send an update as a y-websocket client sends a local change.
    pub async fn send_update(&mut self, update: Vec<u8>) {
        self.send(&YMessage::Sync(SyncMessage::Update(update)))
            .await;
    }

    /// Insert `s` at `index` of the text locally and send the change.
    pub async fn insert(&mut self, index: u32, s: &str) {
        let update = {
            let text = self.doc.get_or_insert_text(TEXT);
            let mut txn = self.doc.transact_mut();
            text.insert(&mut txn, index, s);
            txn.encode_update_v1()
        };
        self.send_update(update).await;
    }

    /// Append `s` to the text locally and send the change.
    pub async fn push(&mut self, s: &str) {
        let len = self.text().chars().count() as u32;
        self.insert(len, s).await;
    }

    /// Set this client's awareness state (as `awareness.setLocalState`) with `clock`, for
    /// `client` (normally our own id).
    pub async fn set_awareness(&mut self, client: u64, clock: u32, json: &str) {
        let mut clients = HashMap::new();
        clients.insert(
            ClientID::new(client),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        self.send(&YMessage::Awareness(AwarenessUpdate { clients }))
            .await;
    }

    /// Send sync step 1 and read until the step 2 that answers it: afterwards everything this
    /// connection sent before has been processed (and stored) by the document.
    pub async fn sync(&mut self) {
        let sv = self.doc.transact().state_vector();
        self.send(&YMessage::Sync(SyncMessage::SyncStep1(sv))).await;
        self.synced = false;
        while !self.synced {
            self.next().await.expect("open while syncing");
        }
    }

    /// Read and handle the next y-protocols message (answering step 1, applying updates,
    /// recording awareness); returns it, or how the connection closed.
    pub async fn next(&mut self) -> Result<YMessage, Closed> {
        self.next_within(WAIT)
            .await
            .expect("a message or a close in time")
    }

    /// Like [`YClient::next`], giving up (None) after `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Result<YMessage, Closed>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            let bytes = match msg {
                None | Some(Err(_)) => return Some(Err(None)),
                Some(Ok(Message::Close(f))) => {
                    return Some(Err(f.map(|f| (u16::from(f.code), f.reason.to_string()))))
                }
                Some(Ok(Message::Binary(b))) => b,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("expected binary, got {other:?}"),
            };
            let msg = YMessage::decode_v1(&bytes).expect("a y-protocols message");
            match &msg {
                YMessage::Sync(SyncMessage::SyncStep1(sv)) => {
                    let diff = self.doc.transact().encode_state_as_update_v1(sv);
                    self.send(&YMessage::Sync(SyncMessage::SyncStep2(diff)))
                        .await;
                }
                YMessage::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) => {
                    let update = Update::decode_v1(u).expect("a valid update from the server");
                    self.doc
                        .transact_mut()
                        .apply_update(update)
                        .expect("the server's update applies");
                    if matches!(msg, YMessage::Sync(SyncMessage::SyncStep2(_))) {
                        self.synced = true;
                    }
                }
                YMessage::Awareness(a) => {
                    for (id, e) in &a.clients {
                        self.awareness
                            .insert(id.get(), (e.clock, e.json.to_string()));
                    }
                }
                _ => {}
            }
            return Some(Ok(msg));
        }
    }

    /// Read until `pred` holds (checked before each read).
    pub async fn until(&mut self, mut pred: impl FnMut(&YClient) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !pred(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(Ok(_)) => {}
                Some(Err(closed)) => panic!("closed while waiting: {closed:?}"),
                None => panic!("timed out waiting; text is {:?}", self.text()),
            }
        }
    }

    /// Read until the text is `expected`.
    pub async fn until_text(&mut self, expected: &str) {
        self.until(|c| c.text() == expected).await;
    }

    /// Read until the server closes; returns its close code and reason.
    pub async fn closed(&mut self) -> Closed {
        loop {
            match self.next().await {
                Ok(_) => continue,
                Err(closed) => return closed,
            }
        }
    }

    /// Read everything that arrives within `quiet`, then report whether the connection is
    /// still open.
    pub async fn drain(&mut self, quiet: Duration) -> bool {
        loop {
            match self.next_within(quiet).await {
                None => return true,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return false,
            }
        }
    }
}
