//! [`YClient`], a y-websocket client with a real `yrs::Doc`, as a stock `WebsocketProvider`
//! connects to `/yjs/<room>`.

use super::util::{TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use std::{collections::HashMap, time::Duration};
use tandem_server::docs::TEXT;
use tokio::net::TcpStream;
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::{decoder::Decode, encoder::Encode};
use yrs::{ClientID, Doc, GetString, ReadTxn, Text, Transact, Update};

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
        assert!(self.try_send_bytes(bytes).await, "send");
    }

    /// Send; false if the connection is gone (its close is what the next read returns).
    pub async fn try_send_bytes(&mut self, bytes: Vec<u8>) -> bool {
        self.ws.send(Message::Binary(bytes)).await.is_ok()
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
                    let answer = YMessage::Sync(SyncMessage::SyncStep2(diff));
                    self.try_send_bytes(answer.encode_v1()).await;
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
    /// Read (and answer, as a stock client does) until the server closes.
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
