//! The network: [`Socket`], the page's one reconnecting WebSocket type ([`socket`]; the page
//! events it follows in [`page`]), and the two protocols it carries: the chat's JSON
//! messages on `/ws` ([`Chat`]) and a room document's y-websocket frames on
//! `/yjs/<room>` ([`Doc`]). In a cluster a socket whose node stops answering moves to
//! another ([`nodes`]).
//!
//! ```no_run
//! use tandem_client::net::{self, Chat, Socket, SocketEvent};
//! let socket = Socket::open(&net::ws_url(), Chat::new(), yew::Callback::from(
//!     |event: SocketEvent<tandem_shared::ServerMsg>| {
//!         web_sys::console::log_1(&format!("{event:?}").into())
//!     },
//! ));
//! socket.send(tandem_shared::ClientMsg::Join {
//!     room: "lobby".into(), name: "Ada".into(), since: None, invite: None,
//! });
//! drop(socket); // closes the connection and stops reconnecting
//! ```

pub mod nodes;
mod page;
pub mod socket;

pub use socket::{retry_all, CloseFrame, Protocol, Socket, SocketEvent};

use gloo_net::websocket::Message;
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};

/// The chat protocol: `hello` first with this browser's identity token (read from storage
/// at each connection, so it is always the newest the server gave), JSON text frames,
/// `ping` as keep-alive (its `pong` is not reported).
#[derive(Default)]
pub struct Chat {
    nonce: u64,
}

impl Chat {
    pub fn new() -> Chat {
        Chat::default()
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
            token: crate::browser::storage_get(crate::model::stored::TOKEN_KEY),
            jwt: None,
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
/// is the keep-alive (the server answers with every state). Each attempt's URL carries
/// this browser's identity token (read from storage then, so the newest) and, while the
/// room is being joined through an invite link, the invite ([`Doc::set_invite`]).
#[derive(Default)]
pub struct Doc {
    invite: std::rc::Rc<std::cell::RefCell<Option<String>>>,
}

impl Doc {
    /// A handle to set the invite the next attempts bring (the socket owns the protocol).
    pub fn invite_handle(&self) -> DocInvite {
        DocInvite(self.invite.clone())
    }
}

/// Sets the invite a [`Doc`]'s next connection attempts bring.
pub struct DocInvite(std::rc::Rc<std::cell::RefCell<Option<String>>>);

impl DocInvite {
    pub fn set(&self, invite: Option<String>) {
        *self.0.borrow_mut() = invite;
    }
}

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

    fn url(&self, base: &str) -> String {
        let token = crate::browser::storage_get(crate::model::stored::TOKEN_KEY);
        doc_query(base, token.as_deref(), self.invite.borrow().as_deref())
    }
}

/// `base` with `?token=…&invite=…` for those given (URI-encoded).
pub fn doc_query(base: &str, token: Option<&str>, invite: Option<&str>) -> String {
    let params: Vec<String> = [("token", token), ("invite", invite)]
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode(v?))))
        .collect();
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    #[test]
    fn document_urls_carry_the_token_and_invite() {
        let base = "ws://h/yjs/p-1";
        assert_eq!(super::doc_query(base, None, None), base);
        assert_eq!(
            super::doc_query(base, Some("a.b+c/="), None),
            "ws://h/yjs/p-1?token=a.b%2Bc%2F%3D"
        );
        assert_eq!(
            super::doc_query(base, Some("t"), Some("s3")),
            "ws://h/yjs/p-1?token=t&invite=s3"
        );
    }
}
