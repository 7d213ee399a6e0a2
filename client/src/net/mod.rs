//! The network: [`Socket`], the page's one reconnecting WebSocket type ([`socket`]; the page
//! events it follows in [`page`]), and the two protocols it carries: the chat's JSON
//! messages on `/ws` ([`Chat`]) and a room document's y-websocket frames on
//! `/yjs/<room>` ([`Doc`]).
//!
//! ```no_run
//! use tandem_client::net::{self, Chat, Socket, SocketEvent};
//! let socket = Socket::open(&net::ws_url(), Chat::new("u-test".into()), yew::Callback::from(
//!     |event: SocketEvent<tandem_shared::ServerMsg>| {
//!         web_sys::console::log_1(&format!("{event:?}").into())
//!     },
//! ));
//! socket.send(tandem_shared::ClientMsg::Join { room: "lobby".into(), name: "Ada".into(), since: None });
//! drop(socket); // closes the connection and stops reconnecting
//! ```

mod page;
pub mod socket;

pub use socket::{retry_all, Protocol, Socket, SocketEvent};

use gloo_net::websocket::Message;
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};

/// The chat protocol: `hello` first with this browser's user id, JSON text frames, `ping`
/// as keep-alive (its `pong` is not reported).
pub struct Chat {
    user_id: String,
    nonce: u64,
}

impl Chat {
    pub fn new(user_id: String) -> Chat {
        Chat { user_id, nonce: 0 }
    }
}

fn json(msg: &ClientMsg) -> Message {
    // unwrap: ClientMsg holds only strings and integers; serializing it cannot fail.
    Message::Text(serde_json::to_string(msg).expect("client messages serialize"))
}

impl Protocol for Chat {
    type In = ServerMsg;
    type Out = ClientMsg;

    fn hello(&self) -> Option<Message> {
        Some(json(&ClientMsg::Hello {
            protocol_version: PROTOCOL_VERSION,
            user_id: Some(self.user_id.clone()),
        }))
    }

    fn encode(&self, msg: ClientMsg) -> Message {
        json(&msg)
    }

    fn decode(&self, frame: Message) -> Option<ServerMsg> {
        // Binary frames are not part of the protocol.
        let Message::Text(text) = frame else {
            return None;
        };
        match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Pong { .. }) => None,
            Ok(msg) => Some(msg),
            Err(err) => {
                let why = format!("tandem: ignoring a frame this client cannot read: {err}");
                web_sys::console::warn_1(&why.into());
                None
            }
        }
    }

    fn keepalive(&mut self) -> Message {
        self.nonce += 1;
        json(&ClientMsg::Ping {
            nonce: Some(self.nonce),
        })
    }
}

/// A room document's protocol: y-websocket binary frames both ways; asking for awareness
/// is the keep-alive (the server answers with every state).
pub struct Doc;

impl Protocol for Doc {
    type In = Vec<u8>;
    type Out = Vec<u8>;

    fn hello(&self) -> Option<Message> {
        None
    }

    fn encode(&self, frame: Vec<u8>) -> Message {
        Message::Bytes(frame)
    }

    fn decode(&self, frame: Message) -> Option<Vec<u8>> {
        match frame {
            Message::Bytes(bytes) => Some(bytes),
            Message::Text(_) => None,
        }
    }

    fn keepalive(&mut self) -> Message {
        Message::Bytes(crate::model::doc::protocol::query_awareness())
    }
}

/// `ws(s)://<host>/ws` for the page's own origin.
pub fn ws_url() -> String {
    let Some(window) = web_sys::window() else {
        return "ws://127.0.0.1:8080/ws".to_owned();
    };
    let location = window.location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}//{host}/ws")
}

/// `ws(s)://<host>/yjs/<room>` for the page's own origin.
pub fn doc_url(room: &str) -> String {
    let base = ws_url();
    let base = base.strip_suffix("/ws").unwrap_or(&base);
    format!("{base}/yjs/{room}")
}
