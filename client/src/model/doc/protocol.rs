//! The y-websocket protocol over yrs: one y-protocols message per binary WebSocket frame
//! (sync step 1, sync step 2, update, awareness, query awareness), and the awareness state
//! this client publishes and reads. Pure; tested on the host.
//!
//! Awareness state, in the format stock Yjs editors (y-codemirror, y-prosemirror,
//! y-quill) use, so their carets and ours show in each other:
//!
//! ```json
//! {"user": {"name": "Ada", "color": "#4f46e5", "colorLight": "#4f46e533"},
//!  "cursor": {"anchor": <relative position>, "head": <relative position>}}
//! ```
//!
//! where a relative position is what stock editors put there: the `Y.RelativePosition`
//! object itself, so its JSON is `JSON.stringify(relPos)`, every key present:
//! `{"type": null, "tname": "content", "item": {"client": …, "clock": …}, "assoc": 0}`, and
//! `"item": null` at the end of the text (see [`relative_position`], which reads and writes
//! it for [`Cursor`]). `cursor` is `null` until the person has placed a caret.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, StateVector, StickyIndex};

/// The name of the document's shared text (what the server and stock clients edit).
pub const TEXT: &str = "content";
/// How often the local awareness state is renewed: y-protocols drops a state not renewed
/// within [`PEER_TIMEOUT_MS`].
pub const RENEW_MS: u64 = 15_000;
/// A peer whose state was not renewed within this long is taken as gone (y-protocols'
/// `outdatedTimeout`).
pub const PEER_TIMEOUT_MS: u64 = 30_000;

/// A frame from the server, decoded.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// The server's state vector: answer with [`sync_step2`].
    SyncStep1(StateVector),
    /// What the server has that we lacked (the answer to our step 1).
    SyncStep2(Vec<u8>),
    /// A live update from another editor.
    Update(Vec<u8>),
    Awareness(AwarenessUpdate),
    /// The server asks for our awareness state.
    QueryAwareness,
    /// Auth or custom messages: nothing to do.
    Other,
}

/// Decode one frame; `None` if it is not a y-protocols message.
pub fn decode(frame: &[u8]) -> Option<Incoming> {
    Some(match Message::decode_v1(frame).ok()? {
        Message::Sync(SyncMessage::SyncStep1(sv)) => Incoming::SyncStep1(sv),
        Message::Sync(SyncMessage::SyncStep2(u)) => Incoming::SyncStep2(u),
        Message::Sync(SyncMessage::Update(u)) => Incoming::Update(u),
        Message::Awareness(update) => Incoming::Awareness(update),
        Message::AwarenessQuery => Incoming::QueryAwareness,
        Message::Auth(_) | Message::Custom(..) => Incoming::Other,
    })
}

pub fn sync_step1(sv: StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
}

pub fn sync_step2(diff: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1()
}

pub fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

pub fn query_awareness() -> Vec<u8> {
    Message::AwarenessQuery.encode_v1()
}

/// One client's awareness entry (`json` is `"null"` for a removal).
pub fn awareness(client: ClientID, clock: u32, json: &str) -> Vec<u8> {
    let mut clients = HashMap::new();
    clients.insert(
        client,
        AwarenessUpdateEntry {
            clock,
            json: json.into(),
        },
    );
    Message::Awareness(AwarenessUpdate { clients }).encode_v1()
}

/// Who a person is, in awareness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// A CSS colour (stock clients use `#rrggbb`).
    #[serde(default)]
    pub color: String,
    #[serde(
        rename = "colorLight",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub color_light: Option<String>,
}

/// A selection as relative positions: `head` is where the caret is. Both are positions in
/// the root text [`TEXT`], in awareness as [`relative_position`] writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(with = "relative_position")]
    pub anchor: StickyIndex,
    #[serde(with = "relative_position")]
    pub head: StickyIndex,
}

/// Relative positions in awareness as stock Yjs editors write and read them.
pub mod relative_position;

/// An awareness state. Unknown fields of other clients are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub user: Option<User>,
    #[serde(default)]
    pub cursor: Option<Cursor>,
}

impl State {
    /// Read another client's state; `None` for one without a name (or not ours to read).
    pub fn parse(json: &str) -> Option<State> {
        let state: State = serde_json::from_str(json).ok()?;
        state.user.as_ref().filter(|u| !u.name.trim().is_empty())?;
        Some(state)
    }

    pub fn to_json(&self) -> String {
        // unwrap: strings and sticky indexes only; serializing them cannot fail.
        serde_json::to_string(self).expect("awareness state serializes")
    }
}

/// What is known of another client in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub clock: u32,
    /// `None`: removed (kept so that a late echo with an older clock cannot revive it).
    pub state: Option<State>,
    /// When the state was last renewed (page time, ms).
    pub seen_at: u64,
}

/// The other clients' awareness, by y-protocols' rules: a newer clock replaces a state,
/// `null` at the same or a newer clock removes it.
#[derive(Debug, Default, Clone)]
pub struct Peers {
    peers: HashMap<ClientID, Peer>,
}

impl Peers {
    /// Apply an update (ignoring `me`, our own entry echoed back); true if what is shown
    /// changed.
    pub fn apply(&mut self, update: AwarenessUpdate, me: ClientID, now: u64) -> bool {
        let mut changed = false;
        for (client, entry) in update.clients {
            if client == me {
                continue;
            }
            let removal = &*entry.json == "null";
            let known = self.peers.get(&client);
            let newer = known.is_none_or(|p| {
                entry.clock > p.clock || (removal && entry.clock == p.clock && p.state.is_some())
            });
            if !newer {
                continue;
            }
            let state = if removal {
                None
            } else {
                State::parse(&entry.json)
            };
            changed |= known.map(|p| &p.state) != Some(&state);
            self.peers.insert(
                client,
                Peer {
                    clock: entry.clock,
                    state,
                    seen_at: now,
                },
            );
        }
        changed
    }

    /// Forget states not renewed for [`PEER_TIMEOUT_MS`]; true if one was shown.
    pub fn expire(&mut self, now: u64) -> bool {
        let mut changed = false;
        for peer in self.peers.values_mut() {
            if peer.state.is_some() && now.saturating_sub(peer.seen_at) > PEER_TIMEOUT_MS {
                peer.state = None;
                changed = true;
            }
        }
        changed
    }

    /// Everyone with a state, in a stable order.
    pub fn present(&self) -> Vec<(ClientID, &State)> {
        let mut out: Vec<_> = self
            .peers
            .iter()
            .filter_map(|(id, p)| p.state.as_ref().map(|s| (*id, s)))
            .collect();
        out.sort_by_key(|(id, _)| id.get());
        out
    }
}

/// `#rrggbb` for a hue (0..360) at the saturation and lightness the page uses for names.
pub fn hue_to_hex(hue: u32) -> String {
    let (s, l) = (0.62_f64, 0.48_f64);
    let h = f64::from(hue % 360) / 60.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

/// A colour from another client, if it is a plain `#rgb`/`#rrggbb`(`aa`) (it goes into a
/// style attribute).
pub fn safe_color(color: &str) -> Option<&str> {
    let hex = color.strip_prefix('#')?;
    (matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(color)
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
