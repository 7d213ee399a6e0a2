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

/// A [`StickyIndex`] in awareness as stock Yjs editors write and read it, for
/// `#[serde(with = "relative_position")]`.
///
/// Stock editors (y-codemirror.next, y-prosemirror, y-quill) put the `Y.RelativePosition`
/// object itself into awareness, so what goes over the wire is `JSON.stringify` of it, with
/// all four keys and explicit nulls, and they read it back *without*
/// `Y.createRelativePositionFromJSON`: y-codemirror.next hands the parsed object straight to
/// `Y.createAbsolutePositionFromRelativePosition`, which tests `item !== null`, so a missing
/// `item` (`undefined`) is taken for an item and throws. So this writes
///
/// ```json
/// {"type": null, "tname": "content", "item": {"client": 7, "clock": 3}, "assoc": 0}
/// {"type": null, "tname": "content", "item": null, "assoc": 0}
/// ```
///
/// (a character; the end of the text, or an empty text), as Yjs 13.6 does: `tname` is the
/// root type's name even beside an item, `type` (the id of a nested type) is null for a root
/// type. yrs's own `Serialize` writes only the keys it has (`{"tname":"content","assoc":0}`),
/// as does `Y.relativePositionToJSON`, which omits every null key; this reads that form too
/// (missing keys are nulls, unknown keys are ignored), picking the scope as
/// `Y.createAbsolutePositionFromRelativePosition` does: `item`, else `tname`, else `type`.
///
/// `assoc` is Yjs's number: ≥ 0 sticks to the character after the position
/// ([`Assoc::After`], written `0`, what stock editors use), < 0 to the one before
/// ([`Assoc::Before`], written `-1`); missing or null is 0, as in
/// `Y.createRelativePositionFromJSON`.
///
/// The page positions only in its root text, so a position relative to a character is
/// written with `tname` [`TEXT`] (a [`StickyIndex`] does not say which type holds it).
pub mod relative_position {
    use super::TEXT;
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
    use yrs::{Assoc, ClientID, IndexScope, StickyIndex, ID};

    /// Client ids are 53-bit (JavaScript's safe integers); yrs asserts it.
    const MAX_CLIENT: u64 = (1 << 53) - 1;

    /// An id as Yjs writes it (`Y.ID`: `{client, clock}`).
    #[derive(Serialize, Deserialize)]
    struct Id {
        client: u64,
        clock: u32,
    }

    impl From<&ID> for Id {
        fn from(id: &ID) -> Self {
            Id {
                client: id.client.get(),
                clock: id.clock,
            }
        }
    }

    impl Id {
        fn to_id<E: de::Error>(&self) -> Result<ID, E> {
            if self.client > MAX_CLIENT {
                return Err(E::custom("a client id beyond 53 bits"));
            }
            Ok(ID::new(ClientID::new(self.client), self.clock))
        }
    }

    /// `Y.RelativePosition`'s fields, in its order.
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "type")]
        ty: Option<Id>,
        tname: Option<&'a str>,
        item: Option<Id>,
        assoc: i8,
    }

    /// What is read: both forms (every key, or only the non-null ones).
    #[derive(Deserialize)]
    struct In {
        #[serde(rename = "type", default)]
        ty: Option<Id>,
        #[serde(default)]
        tname: Option<String>,
        #[serde(default)]
        item: Option<Id>,
        #[serde(default)]
        assoc: Option<f64>,
    }

    pub fn serialize<S: Serializer>(pos: &StickyIndex, serializer: S) -> Result<S::Ok, S::Error> {
        let (ty, tname, item) = match pos.scope() {
            IndexScope::Relative(id) => (None, Some(TEXT), Some(id.into())),
            IndexScope::Root(name) => (None, Some(&**name), None),
            IndexScope::Nested(id) => (Some(id.into()), None, None),
        };
        let assoc = match pos.assoc {
            Assoc::After => 0,
            Assoc::Before => -1,
        };
        Out {
            ty,
            tname,
            item,
            assoc,
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<StickyIndex, D::Error> {
        let pos = In::deserialize(deserializer)?;
        let scope = match (pos.item, pos.tname, pos.ty) {
            (Some(item), _, _) => IndexScope::Relative(item.to_id()?),
            (None, Some(name), _) => IndexScope::Root(name.into()),
            (None, None, Some(ty)) => IndexScope::Nested(ty.to_id()?),
            (None, None, None) => {
                return Err(de::Error::custom(
                    "a relative position with no item, tname or type",
                ))
            }
        };
        let assoc = if pos.assoc.is_some_and(|a| a < 0.0) {
            Assoc::Before
        } else {
            Assoc::After
        };
        Ok(StickyIndex::new(scope, assoc))
    }
}

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
mod tests {
    use super::*;

    fn entry(client: u64, clock: u32, json: &str) -> AwarenessUpdate {
        let mut clients = HashMap::new();
        clients.insert(
            ClientID::new(client),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        AwarenessUpdate { clients }
    }

    const ADA: &str =
        r##"{"user":{"name":"Ada","color":"#30bced","colorLight":"#30bced33"},"cursor":null}"##;

    #[test]
    fn frames_round_trip() {
        let sv = StateVector::default();
        assert_eq!(
            decode(&sync_step1(sv.clone())),
            Some(Incoming::SyncStep1(sv))
        );
        assert_eq!(
            decode(&sync_step2(vec![0, 0])),
            Some(Incoming::SyncStep2(vec![0, 0]))
        );
        assert_eq!(
            decode(&update(vec![0, 0])),
            Some(Incoming::Update(vec![0, 0]))
        );
        assert_eq!(decode(&query_awareness()), Some(Incoming::QueryAwareness));
        // The bytes y-websocket sends: [messageSync=0, syncStep1=0, len, sv…].
        assert_eq!(sync_step1(StateVector::default()), vec![0, 0, 1, 0]);
        let Some(Incoming::Awareness(a)) = decode(&awareness(ClientID::new(7), 3, ADA)) else {
            panic!("not awareness")
        };
        assert_eq!(a, entry(7, 3, ADA));
        assert_eq!(decode(&[9, 9, 9]), None);
        assert_eq!(decode(&[]), None);
    }

    #[test]
    fn reads_stock_client_states() {
        // What y-codemirror publishes (relative positions as Yjs serializes them).
        let json = r##"{"user":{"name":"Bo","color":"#ee6352","colorLight":"#ee635233"},
            "cursor":{"anchor":{"type":null,"tname":"content","item":null,"assoc":0},
                      "head":{"type":null,"tname":null,"item":{"client":12,"clock":3},"assoc":0}}}"##;
        let s = State::parse(json).unwrap();
        assert_eq!(s.user.as_ref().unwrap().name, "Bo");
        assert!(s.cursor.is_some());
        assert!(State::parse(ADA).unwrap().cursor.is_none());
        assert!(State::parse(r#"{"user":{"name":" "}}"#).is_none());
        assert!(State::parse(r#"{"other":1}"#).is_none());
        assert!(State::parse("null").is_none());
    }

    /// A cursor's JSON, `anchor` and `head` both `pos`.
    fn cursor_of(pos: &str) -> String {
        format!(r#"{{"anchor":{pos},"head":{pos}}}"#)
    }

    fn read(pos: &str) -> StickyIndex {
        let cursor: Cursor = serde_json::from_str(&cursor_of(pos))
            .unwrap_or_else(|e| panic!("{pos} does not parse: {e}"));
        assert_eq!(cursor.anchor, cursor.head);
        cursor.head
    }

    fn written(pos: &StickyIndex) -> serde_json::Value {
        let cursor = Cursor {
            anchor: pos.clone(),
            head: pos.clone(),
        };
        let v = serde_json::to_value(&cursor).unwrap();
        assert_eq!(v["anchor"], v["head"]);
        v["head"].clone()
    }

    #[test]
    fn relative_positions_are_written_as_stock_editors_write_them() {
        use serde_json::json;
        use yrs::{Assoc, IndexScope, ID};
        let id = ID::new(ClientID::new(7), 3);
        let item = StickyIndex::new(IndexScope::Relative(id), Assoc::After);
        let end = StickyIndex::new(IndexScope::Root(TEXT.into()), Assoc::After);
        let before = StickyIndex::new(IndexScope::Relative(id), Assoc::Before);
        let nested = StickyIndex::new(IndexScope::Nested(id), Assoc::After);
        // `JSON.stringify` of a `Y.RelativePosition` (yjs 13.6.33): every key, nulls too.
        assert_eq!(
            written(&item),
            json!({"type": null, "tname": "content", "item": {"client": 7, "clock": 3}, "assoc": 0})
        );
        assert_eq!(
            written(&end),
            json!({"type": null, "tname": "content", "item": null, "assoc": 0})
        );
        assert_eq!(written(&before)["assoc"], -1);
        assert_eq!(
            written(&nested),
            json!({"type": {"client": 7, "clock": 3}, "tname": null, "item": null, "assoc": 0})
        );
        // In that key order, as `JSON.stringify` writes them.
        let cursor = Cursor {
            anchor: end.clone(),
            head: end.clone(),
        };
        assert_eq!(
            serde_json::to_string(&cursor).unwrap(),
            cursor_of(r#"{"type":null,"tname":"content","item":null,"assoc":0}"#)
        );
        for pos in [item, end, before, nested] {
            assert_eq!(read(&written(&pos).to_string()), pos, "round trip");
        }
    }

    #[test]
    fn relative_positions_are_read_in_both_forms() {
        use yrs::{Assoc, IndexScope, ID};
        let id = ID::new(ClientID::new(7), 3);
        let item = StickyIndex::new(IndexScope::Relative(id), Assoc::After);
        let end = StickyIndex::new(IndexScope::Root(TEXT.into()), Assoc::After);
        // `JSON.stringify(relPos)`, `Y.relativePositionToJSON(relPos)` (no null keys), and
        // what this page wrote before (yrs's serde).
        for json in [
            r#"{"type":null,"tname":"content","item":{"client":7,"clock":3},"assoc":0}"#,
            r#"{"tname":"content","item":{"client":7,"clock":3},"assoc":0}"#,
            r#"{"item":{"client":7,"clock":3},"assoc":0}"#,
            r#"{"type":null,"tname":null,"item":{"client":7,"clock":3},"assoc":0}"#,
            // Older editors: no `assoc` (0); unknown keys are ignored.
            r#"{"item":{"client":7,"clock":3}}"#,
            r#"{"item":{"client":7,"clock":3},"assoc":null,"extra":[1]}"#,
            r#"{"item":{"client":7,"clock":3},"assoc":2}"#,
        ] {
            assert_eq!(read(json), item, "{json}");
        }
        for json in [
            r#"{"type":null,"tname":"content","item":null,"assoc":0}"#,
            r#"{"tname":"content","assoc":0}"#,
        ] {
            assert_eq!(read(json), end, "{json}");
        }
        let before = read(r#"{"type":null,"tname":"content","item":null,"assoc":-1}"#);
        assert_eq!(before.assoc, Assoc::Before);
        assert_eq!(before.scope(), &IndexScope::Root(TEXT.into()));
        let nested = read(r#"{"type":{"client":7,"clock":3},"tname":null,"item":null}"#);
        assert_eq!(nested.scope(), &IndexScope::Nested(id));
        // What Yjs cannot resolve either, and ids yrs cannot hold, are refused.
        for bad in [
            r#"{"type":null,"tname":null,"item":null,"assoc":0}"#,
            r#"{}"#,
            r#"{"item":{"client":9007199254740992,"clock":0}}"#,
            r#"{"item":{"client":-1,"clock":0}}"#,
            r#"{"item":{"clock":0}}"#,
            r#""content""#,
        ] {
            assert!(
                serde_json::from_str::<Cursor>(&cursor_of(bad)).is_err(),
                "{bad} refused"
            );
        }
    }

    #[test]
    fn peers_follow_clocks_and_removals() {
        let me = ClientID::new(1);
        let mut p = Peers::default();
        assert!(p.apply(entry(2, 1, ADA), me, 0));
        assert_eq!(p.present().len(), 1);
        // Our own echo and an older clock change nothing.
        assert!(!p.apply(entry(1, 9, ADA), me, 0));
        assert!(!p.apply(entry(2, 0, "null"), me, 0));
        assert_eq!(p.present().len(), 1);
        // Removal at the same clock; a late echo cannot bring it back.
        assert!(p.apply(entry(2, 1, "null"), me, 0));
        assert!(p.present().is_empty());
        assert!(!p.apply(entry(2, 1, ADA), me, 0));
        assert!(p.apply(entry(2, 2, ADA), me, 10));
        // Not renewed: gone.
        assert!(!p.expire(10 + PEER_TIMEOUT_MS));
        assert!(p.expire(11 + PEER_TIMEOUT_MS));
        assert!(p.present().is_empty());
    }

    #[test]
    fn colours() {
        assert_eq!(hue_to_hex(0).len(), 7);
        assert_ne!(hue_to_hex(0), hue_to_hex(120));
        assert_eq!(safe_color("#30bced"), Some("#30bced"));
        assert_eq!(safe_color("red;background:url(x)"), None);
        assert_eq!(safe_color("#12345"), None);
    }
}
