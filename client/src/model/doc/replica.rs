//! [`Replica`]: this page's copy of a room's document — a `yrs::Doc` whose `Y.Text`
//! [`TEXT`] the editor shows — with the local awareness state and the other clients'. It
//! turns the editor's new value into a Yjs update, frames from the server into changes and
//! replies, and remote relative positions into carets. No browser API and no clock (times
//! come in as arguments), so it is tested on the host, two replicas talking to each other.
//!
//! The doc counts offsets in UTF-16 code units (`OffsetKind::Utf16`), like the textarea.
//! Local edits are applied at once, connected or not; what the server lacks is sent on the
//! next connection by the y-websocket handshake (each side sends sync step 1, the other
//! answers with step 2: the difference), so offline edits merge without duplicates. Undo and
//! redo ([`super::undo`]) and what must be kept across a reload ([`super::sync`]) are the
//! replica's too.

use super::diff::{clamp_to_boundary, diff, utf16_len};
use super::protocol::{self, Cursor, Incoming, Peers, State, User, TEXT};
use super::sync::Confirmed;
use super::undo::Undo;
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
    /// An update did not fully apply (yrs keeps what it could; the next sync fills in the
    /// rest): worth a warning in the console.
    pub incomplete: bool,
}

pub struct Replica {
    pub(super) doc: Doc,
    pub(super) text: TextRef,
    /// The text as of the last change (what the editor shows).
    pub(super) shown: String,
    local: State,
    /// Our awareness clock; bumped on every state we send.
    clock: u32,
    peers: Peers,
    pub(super) undo: Undo,
    pub(super) confirmed: Confirmed,
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

/// How we appear in awareness: the name, and the colour with its light variant (y-codemirror
/// reads `colorLight` for selections).
fn user(name: &str, color: &str) -> User {
    User {
        name: name.to_owned(),
        color: color.to_owned(),
        color_light: Some(format!("{color}33")),
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
        let undo = Undo::new(&doc, &text);
        Replica {
            doc,
            text,
            shown: String::new(),
            local: State {
                user: Some(user(name, color)),
                cursor: None,
            },
            clock: 0,
            peers: Peers::default(),
            undo,
            confirmed: Confirmed::default(),
        }
    }

    /// A new, empty replica for the same person (with a fresh client id): what is left to
    /// start from when the server refused our edits (they cannot be delivered).
    pub fn emptied(&self) -> Replica {
        let mut fresh = Replica::new("", "");
        fresh.local.user = self.local.user.clone();
        fresh
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

    /// Show us as `name` in `color` from now on; true if that changed (then send
    /// [`Replica::awareness`]).
    pub fn set_user(&mut self, name: &str, color: &str) -> bool {
        let user = user(name, color);
        if self.local.user.as_ref() == Some(&user) {
            return false;
        }
        self.local.user = Some(user);
        true
    }

    /// A connection opened: our sync step 1 and our awareness state. (The server sends its
    /// step 1 by itself; [`Replica::receive`] answers it.)
    pub fn on_open(&mut self) -> Vec<Vec<u8>> {
        let sv = self.doc.transact().state_vector();
        self.confirmed.probe(sv.clone());
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

    /// The editor now holds `value` with the caret at `caret` (UTF-16), at page time `now`
    /// (ms; edits close together undo together): apply the difference to the document.
    /// Returns the update frame to send, if anything changed.
    pub fn edit(&mut self, value: &str, caret: Option<u32>, now: u64) -> Option<Vec<u8>> {
        let splice = diff(&self.shown, value, caret)?;
        self.undo.at(now);
        let update = {
            let mut txn = self.doc.transact_mut_with(super::undo::LOCAL);
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
                self.confirmed.server_has(sv);
                out.replies.push(protocol::sync_step2(diff));
            }
            Incoming::SyncStep2(update) => {
                out.synced = true;
                self.apply(&update, &mut out);
                // Answered after everything we sent before our step 1 was stored.
                self.confirmed.answered();
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

    /// Apply an update from the server (which has it, so it counts as confirmed).
    fn apply(&mut self, bytes: &[u8], out: &mut Received) {
        let Ok(update) = Update::decode_v1(bytes) else {
            out.incomplete = true;
            return;
        };
        let mut txn = self.doc.transact_mut();
        let before_sv = txn.state_vector();
        let before = out.selection.map(|s| local_sticky(&txn, &self.text, s));
        out.incomplete = txn.apply_update(update).is_err();
        self.confirmed.received(&before_sv, txn.state_vector());
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
    /// sends them all on connect), and a pending step 1 will not be answered.
    pub fn forget_peers(&mut self) {
        self.peers = Peers::default();
        self.confirmed.lost();
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

    /// The awareness state this replica publishes, as JSON (what stock clients read).
    pub fn state_json(&self) -> String {
        self.local.to_json()
    }
}

#[cfg(test)]
#[path = "replica_tests.rs"]
mod tests;
