//! [`Replica`]: this page's copy of a room's document — a `yrs::Doc` whose `Y.Text`
//! [`TEXT`] the editor shows — with the local awareness state and the other clients'. It
//! turns the editor's new value into a Yjs update, frames from the server into changes and
//! replies, and remote relative positions into carets. No browser API and no clock (times
//! come in as arguments), so it is tested on the host, two replicas talking to each other.
//!
//! The doc counts offsets in UTF-16 code units (`OffsetKind::Utf16`), like the textarea.
//! Local edits are applied at once, connected or not; what the server lacks is sent on the
//! next connection by the y-websocket handshake (each side sends sync step 1, the other
//! answers with step 2: the difference), so offline edits merge without duplicates.

use super::diff::{clamp_to_boundary, diff, utf16_len};
use super::protocol::{self, Cursor, Incoming, Peers, State, User, TEXT};
use yrs::updates::decoder::Decode;
use yrs::{
    Assoc, ClientID, Doc, GetString, IndexedSequence, OffsetKind, Options, ReadTxn, StickyIndex,
    Text, TextRef, Transact, Update,
};

/// A selection in the editor, in UTF-16 units: `anchor` stays, `head` is the caret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub anchor: u32,
    pub head: u32,
}

impl Selection {
    pub fn caret(at: u32) -> Self {
        Selection {
            anchor: at,
            head: at,
        }
    }
}

/// Another person's caret, resolved against the current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caret {
    pub client: u64,
    pub name: String,
    pub color: String,
    pub selection: Selection,
}

/// What a frame from the server did.
#[derive(Debug, Default)]
pub struct Received {
    /// Frames to send back.
    pub replies: Vec<Vec<u8>>,
    /// The text changed: show it (with the selection mapped as [`Received::selection`]).
    pub text_changed: bool,
    /// Someone's name or caret changed.
    pub peers_changed: bool,
    /// The selection passed in, mapped through the change.
    pub selection: Option<Selection>,
    /// This was the server's answer to our sync step 1: we are up to date.
    pub synced: bool,
}

pub struct Replica {
    doc: Doc,
    text: TextRef,
    /// The text as of the last change (what the editor shows).
    shown: String,
    local: State,
    /// Our awareness clock; bumped on every state we send.
    clock: u32,
    peers: Peers,
}

/// A relative position for `index`; the end of the text is the text itself ("after
/// everything"), as Yjs encodes it.
fn sticky(txn: &impl ReadTxn, text: &TextRef, index: u32) -> StickyIndex {
    text.sticky_index(txn, index, Assoc::After)
        .unwrap_or_else(|| StickyIndex::from_type(txn, text, Assoc::After))
}

/// Relative positions for the local selection while a remote change applies: a caret
/// sticks to the character before it (text others insert right there goes after it, so
/// typing continues where it was); a selection's start sticks to what follows it and its end
/// to what precedes it, so it never swallows text inserted at its edges.
fn local_sticky(txn: &impl ReadTxn, text: &TextRef, s: Selection) -> (StickyIndex, StickyIndex) {
    let before = |i| {
        text.sticky_index(txn, i, Assoc::Before)
            .unwrap_or_else(|| StickyIndex::from_type(txn, text, Assoc::After))
    };
    if s.anchor == s.head {
        let p = before(s.anchor);
        return (p.clone(), p);
    }
    let start = sticky(txn, text, s.anchor.min(s.head));
    let end = before(s.anchor.max(s.head));
    if s.anchor < s.head {
        (start, end)
    } else {
        (end, start)
    }
}

fn resolve(txn: &impl ReadTxn, pos: &StickyIndex) -> Option<u32> {
    pos.get_offset(txn).map(|o| o.index)
}

impl Replica {
    /// A replica with a fresh random client id, for a person shown as `name` in `color`.
    pub fn new(name: &str, color: &str) -> Replica {
        Self::with_options(name, color, Options::default())
    }

    /// With a given client id (tests).
    pub fn with_client_id(id: u64, name: &str, color: &str) -> Replica {
        Self::with_options(
            name,
            color,
            Options {
                client_id: ClientID::new(id),
                ..Options::default()
            },
        )
    }

    fn with_options(name: &str, color: &str, options: Options) -> Replica {
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..options
        });
        let text = doc.get_or_insert_text(TEXT);
        Replica {
            doc,
            text,
            shown: String::new(),
            local: State {
                user: Some(User {
                    name: name.to_owned(),
                    color: color.to_owned(),
                    color_light: Some(format!("{color}33")),
                }),
                cursor: None,
            },
            clock: 0,
            peers: Peers::default(),
        }
    }

    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    /// The text, as the editor should show it.
    pub fn text(&self) -> &str {
        &self.shown
    }

    pub fn name(&self) -> &str {
        self.local.user.as_ref().map_or("", |u| u.name.as_str())
    }

    /// A connection opened: our sync step 1 and our awareness state. (The server sends its
    /// step 1 by itself; [`Replica::receive`] answers it.)
    pub fn on_open(&mut self) -> Vec<Vec<u8>> {
        let sv = self.doc.transact().state_vector();
        vec![protocol::sync_step1(sv), self.awareness()]
    }

    /// Our awareness state as a frame, with a new clock (sent on open, on changes and every
    /// [`protocol::RENEW_MS`]).
    pub fn awareness(&mut self) -> Vec<u8> {
        self.clock += 1;
        let id = self.doc.client_id();
        protocol::awareness(id, self.clock, &self.local.to_json())
    }

    /// Our state removed (when leaving the document).
    pub fn leave(&mut self) -> Vec<u8> {
        self.clock += 1;
        protocol::awareness(self.doc.client_id(), self.clock, "null")
    }

    /// The editor now holds `value` with the caret at `caret` (UTF-16): apply the difference
    /// to the document. Returns the update frame to send, if anything changed.
    pub fn edit(&mut self, value: &str, caret: Option<u32>) -> Option<Vec<u8>> {
        let splice = diff(&self.shown, value, caret)?;
        let update = {
            let mut txn = self.doc.transact_mut();
            if splice.delete > 0 {
                self.text.remove_range(&mut txn, splice.at, splice.delete);
            }
            if !splice.insert.is_empty() {
                self.text.insert(&mut txn, splice.at, &splice.insert);
            }
            let update = txn.encode_update_v1();
            self.shown = self.text.get_string(&txn);
            update
        };
        debug_assert_eq!(self.shown, value);
        Some(protocol::update(update))
    }

    /// Remember our selection for awareness; true if it moved (then send
    /// [`Replica::awareness`], throttled).
    pub fn select(&mut self, selection: Selection) -> bool {
        let len = utf16_len(&self.shown);
        let (anchor, head) = (
            clamp_to_boundary(&self.shown, selection.anchor.min(len)),
            clamp_to_boundary(&self.shown, selection.head.min(len)),
        );
        let txn = self.doc.transact();
        let current = self.local.cursor.as_ref().map(|c| {
            (
                resolve(&txn, &c.anchor).unwrap_or(u32::MAX),
                resolve(&txn, &c.head).unwrap_or(u32::MAX),
            )
        });
        if current == Some((anchor, head)) {
            return false;
        }
        self.local.cursor = Some(Cursor {
            anchor: sticky(&txn, &self.text, anchor),
            head: sticky(&txn, &self.text, head),
        });
        true
    }

    /// A frame from the server. `selection` is the editor's current selection, returned
    /// mapped through any change to the text; `now` is the page time (ms).
    pub fn receive(&mut self, frame: &[u8], selection: Option<Selection>, now: u64) -> Received {
        let mut out = Received {
            selection,
            ..Received::default()
        };
        let Some(msg) = protocol::decode(frame) else {
            return out;
        };
        match msg {
            Incoming::SyncStep1(sv) => {
                let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                out.replies.push(protocol::sync_step2(diff));
            }
            Incoming::SyncStep2(update) => {
                out.synced = true;
                self.apply(&update, &mut out);
            }
            Incoming::Update(update) => self.apply(&update, &mut out),
            Incoming::Awareness(update) => {
                out.peers_changed = self.peers.apply(update, self.doc.client_id(), now);
            }
            Incoming::QueryAwareness => out.replies.push(self.awareness()),
            Incoming::Other => {}
        }
        out
    }

    fn apply(&mut self, bytes: &[u8], out: &mut Received) {
        let Ok(update) = Update::decode_v1(bytes) else {
            return;
        };
        let mut txn = self.doc.transact_mut();
        let before = out.selection.map(|s| local_sticky(&txn, &self.text, s));
        if txn.apply_update(update).is_err() {
            // yrs keeps what it could integrate; the next sync fills in the rest.
            web_log("a document update did not fully apply");
        }
        let text = self.text.get_string(&txn);
        if text != self.shown {
            self.shown = text;
            out.text_changed = true;
            // Carets of others are positions in the text: they moved too.
            out.peers_changed = true;
            if let (Some(old), Some((anchor, head))) = (out.selection, before) {
                out.selection = Some(Selection {
                    anchor: resolve(&txn, &anchor).unwrap_or(old.anchor),
                    head: resolve(&txn, &head).unwrap_or(old.head),
                });
            }
        }
    }

    /// Disconnected: the others' states are unknown until the next connection (the server
    /// sends them all on connect).
    pub fn forget_peers(&mut self) {
        self.peers = Peers::default();
    }

    /// Forget peers not heard from for a while; true if one was shown.
    pub fn expire_peers(&mut self, now: u64) -> bool {
        self.peers.expire(now)
    }

    /// The people in the document other than us: (client id, name, colour).
    pub fn people(&self) -> Vec<(u64, String, String)> {
        self.peers
            .present()
            .into_iter()
            .filter_map(|(id, s)| {
                let user = s.user.as_ref()?;
                Some((id.get(), user.name.clone(), user.color.clone()))
            })
            .collect()
    }

    /// The others' carets and selections that resolve in the current text.
    pub fn carets(&self) -> Vec<Caret> {
        let txn = self.doc.transact();
        let len = utf16_len(&self.shown);
        self.peers
            .present()
            .into_iter()
            .filter_map(|(id, s)| {
                let user = s.user.as_ref()?;
                let cursor = s.cursor.as_ref()?;
                let head = resolve(&txn, &cursor.head)?.min(len);
                let anchor = resolve(&txn, &cursor.anchor).unwrap_or(head).min(len);
                Some(Caret {
                    client: id.get(),
                    name: user.name.clone(),
                    color: user.color.clone(),
                    selection: Selection { anchor, head },
                })
            })
            .collect()
    }
}

fn web_log(what: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::warn_1(&format!("tandem: {what}").into());
    #[cfg(not(target_arch = "wasm32"))]
    let _ = what;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deliver every frame in `frames` to `to`, and `to`'s replies back to `from`, until
    /// nothing is left to say.
    fn deliver(from: &mut Replica, to: &mut Replica, frames: Vec<Vec<u8>>) {
        for frame in frames {
            let got = to.receive(&frame, None, 0);
            deliver(to, from, got.replies);
        }
    }

    /// The y-websocket handshake between two replicas, as on a (re)connection.
    fn handshake(a: &mut Replica, b: &mut Replica) {
        let from_a = a.on_open();
        let from_b = b.on_open();
        deliver(a, b, from_a);
        deliver(b, a, from_b);
    }

    #[test]
    fn local_edits_become_updates_the_other_side_applies() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        let mut b = Replica::with_client_id(2, "Bo", "#222222");
        let u = a.edit("hello", Some(5)).unwrap();
        assert!(a.edit("hello", Some(5)).is_none(), "no change, no update");
        let got = b.receive(&u, Some(Selection::caret(0)), 0);
        assert!(got.text_changed);
        assert_eq!(b.text(), "hello");
        // Text others insert at the caret goes after it.
        assert_eq!(got.selection, Some(Selection::caret(0)));
    }

    #[test]
    fn concurrent_typing_in_the_same_line_converges_and_keeps_both() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        let mut b = Replica::with_client_id(2, "Bo", "#222222");
        let u = a.edit("The line.", Some(9)).unwrap();
        b.receive(&u, None, 0);
        // Both type into the same line before seeing each other's edit.
        let ua = a.edit("The red line.", Some(8)).unwrap();
        let ua2 = a.edit("The red😀 line.", Some(10)).unwrap();
        let ub = b.edit("The line is long.", Some(16)).unwrap();
        b.receive(&ua, None, 0);
        b.receive(&ua2, None, 0);
        a.receive(&ub, None, 0);
        assert_eq!(a.text(), b.text());
        assert_eq!(a.text(), "The red😀 line is long.");
    }

    #[test]
    fn offline_edits_merge_on_reconnect_without_duplicates() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        let mut b = Replica::with_client_id(2, "Bo", "#222222");
        handshake(&mut a, &mut b);
        let u = a.edit("shared\n", None).unwrap();
        b.receive(&u, None, 0);
        // Disconnected: both keep editing; their updates are lost in transit.
        a.edit("shared\nfrom a\n", Some(14));
        a.edit("shared\nfrom a 😀\n", Some(16));
        b.edit("from b\nshared\n", Some(7));
        b.edit("from b\nshared\nend", Some(17));
        // Reconnect: step 1 / step 2 both ways, twice (a second reconnection is harmless).
        handshake(&mut a, &mut b);
        handshake(&mut a, &mut b);
        assert_eq!(a.text(), b.text());
        assert_eq!(a.text(), "from b\nshared\nfrom a 😀\nend");
    }

    #[test]
    fn a_remote_change_keeps_the_local_selection_on_its_text() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        let mut b = Replica::with_client_id(2, "Bo", "#222222");
        b.receive(&a.edit("hello world", None).unwrap(), None, 0);
        // b selects "world" (6..11); a inserts "big " before it and "!" after it.
        let u1 = a.edit("hello big world", Some(10)).unwrap();
        let u2 = a.edit("😀hello big world", Some(2)).unwrap();
        let sel = Selection {
            anchor: 6,
            head: 11,
        };
        let got = b.receive(&u1, Some(sel), 0);
        assert_eq!(
            got.selection,
            Some(Selection {
                anchor: 10,
                head: 15
            })
        );
        let got = b.receive(&u2, got.selection, 0);
        assert_eq!(
            got.selection,
            Some(Selection {
                anchor: 12,
                head: 17
            })
        );
        assert_eq!(b.text(), "😀hello big world");
        // A caret stays after what it followed when others type right there.
        let u3 = a.edit("😀hello big world!", Some(18)).unwrap();
        let got = b.receive(&u3, Some(Selection::caret(17)), 0);
        assert_eq!(got.selection, Some(Selection::caret(17)));
        // A backwards selection keeps its direction.
        let u4 = a.edit("😀hello big world!?", Some(19)).unwrap();
        let got = b.receive(&u4, Some(Selection { anchor: 5, head: 2 }), 0);
        assert_eq!(got.selection, Some(Selection { anchor: 5, head: 2 }));
    }

    #[test]
    fn carets_travel_through_awareness() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        let mut b = Replica::with_client_id(2, "Bo", "#222222");
        b.receive(&a.edit("ab😀cd", None).unwrap(), None, 0);
        assert!(a.select(Selection { anchor: 2, head: 4 }));
        assert!(!a.select(Selection { anchor: 2, head: 4 }), "unchanged");
        let got = b.receive(&a.awareness(), None, 0);
        assert!(got.peers_changed);
        assert_eq!(
            b.people(),
            vec![(1, "Ada".to_owned(), "#111111".to_owned())]
        );
        let carets = b.carets();
        assert_eq!(carets.len(), 1);
        assert_eq!(carets[0].selection, Selection { anchor: 2, head: 4 });
        // b types before Ada's selection: her caret moves with the text.
        let u = b.edit("xab😀cd", Some(1)).unwrap();
        a.receive(&u, None, 0);
        assert_eq!(b.carets()[0].selection, Selection { anchor: 3, head: 5 });
        // A caret at the end of the text is sent as "the end", and stays there.
        a.select(Selection::caret(a.text().encode_utf16().count() as u32));
        b.receive(&a.awareness(), None, 0);
        let u = b.edit("xab😀cd!!", Some(8)).unwrap();
        a.receive(&u, None, 0);
        assert_eq!(b.carets()[0].selection, Selection::caret(9));
        // Leaving removes her.
        b.receive(&a.leave(), None, 0);
        assert!(b.people().is_empty() && b.carets().is_empty());
    }

    #[test]
    fn the_state_json_is_what_stock_clients_read() {
        let mut a = Replica::with_client_id(1, "Ada", "#4f46e5");
        a.edit("hi", None);
        a.select(Selection { anchor: 0, head: 2 });
        let json = a.local.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["user"]["name"], "Ada");
        assert_eq!(v["user"]["colorLight"], "#4f46e533");
        // `JSON.stringify` of the `Y.RelativePosition`s a stock editor would publish: every
        // key, with explicit nulls (y-codemirror.next reads a missing `item` as an item and
        // throws); the end of the text is the text itself.
        assert_eq!(
            v["cursor"],
            serde_json::json!({
                "anchor": {"type": null, "tname": "content", "item": {"client": 1, "clock": 0}, "assoc": 0},
                "head": {"type": null, "tname": "content", "item": null, "assoc": 0},
            })
        );
        // An empty document: both ends are the text itself.
        let mut b = Replica::with_client_id(2, "Bo", "#4f46e5");
        b.select(Selection::caret(0));
        let v: serde_json::Value = serde_json::from_str(&b.local.to_json()).unwrap();
        let end = serde_json::json!({"type": null, "tname": "content", "item": null, "assoc": 0});
        assert_eq!(v["cursor"], serde_json::json!({"anchor": end, "head": end}));
    }

    #[test]
    fn a_server_step_1_is_answered_with_what_it_lacks() {
        let mut a = Replica::with_client_id(1, "Ada", "#111111");
        a.edit("offline work", None);
        let server = Doc::new();
        let sv = server.transact().state_vector();
        let got = a.receive(&protocol::sync_step1(sv), None, 0);
        let [reply] = &got.replies[..] else {
            panic!("one reply")
        };
        let Some(Incoming::SyncStep2(diff)) = protocol::decode(reply) else {
            panic!("step 2")
        };
        server
            .transact_mut()
            .apply_update(Update::decode_v1(&diff).unwrap())
            .unwrap();
        let text = server.get_or_insert_text(TEXT);
        assert_eq!(text.get_string(&server.transact()), "offline work");
    }
}
