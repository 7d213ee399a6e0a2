//! The page's side of the shared documents: one [`DocSession`] per joined room (so edits made
//! in a room not shown, or while offline, are kept and synced), fed by its [`DocLink`] and
//! by the editor. Keeps the editor's text, selection and caret overlay in step with the
//! [`Replica`]; what the editor looks like is in [`crate::view`].

use super::{App, Msg};
use crate::browser::now_ms;
use crate::doc::link::{self, DocEvent, DocLink};
use crate::doc::protocol::{hue_to_hex, RENEW_MS};
use crate::doc::Replica;
use std::time::Duration;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::html::Scope;
use yew::platform::{spawn_local, time::sleep};

/// At most one awareness update per this long while the caret moves.
const AWARENESS_THROTTLE: Duration = Duration::from_millis(80);

/// The connection of a document, as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStatus {
    Connecting,
    /// Connected, waiting for the server's answer to our sync step 1.
    Syncing,
    /// Connected and up to date: edits reach the others as they are made.
    Synced,
    /// Not connected: edits are kept and merged on reconnection.
    Offline,
}

impl DocStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Connecting => "connecting",
            DocStatus::Syncing => "syncing",
            DocStatus::Synced => "synced",
            DocStatus::Offline => "offline",
        }
    }
}

pub struct DocSession {
    pub replica: Replica,
    link: DocLink,
    pub status: DocStatus,
    /// An IME composition is in progress in the editor: remote frames wait (changing the
    /// text under a composition would break it).
    composing: bool,
    deferred: Vec<Vec<u8>>,
    /// An awareness update is scheduled (throttle).
    flush_pending: bool,
    /// Page time our awareness was last sent.
    last_renew: u64,
}

impl DocSession {
    fn connected(&self) -> bool {
        matches!(self.status, DocStatus::Syncing | DocStatus::Synced)
    }

    fn send(&self, frame: Vec<u8>) {
        if self.connected() {
            self.link.send(frame);
        }
    }
}

/// `#rrggbb` for a user, the same hue the page gives their name.
pub fn user_color(user_id: &str) -> String {
    hue_to_hex(crate::view::hue_of(user_id))
}

impl App {
    /// One session per joined room: open the new ones, drop (closing) the left ones.
    pub(super) fn sync_docs(&mut self, scope: &Scope<App>) {
        self.docs
            .retain(|room, _| self.state.rooms.iter().any(|r| &r.name == room));
        for room in &self.state.rooms {
            if self.docs.contains_key(&room.name) {
                continue;
            }
            let name = room.name.clone();
            let on_event = scope.callback(move |e| Msg::Doc(name.clone(), e));
            let color = user_color(self.state.user_id.as_deref().unwrap_or(""));
            let session = DocSession {
                replica: Replica::new(&self.state.name, &color),
                link: link::connect(&link::doc_url(&room.name), on_event),
                status: DocStatus::Connecting,
                composing: false,
                deferred: Vec::new(),
                flush_pending: false,
                last_renew: 0,
            };
            self.docs.insert(room.name.clone(), session);
        }
    }

    /// The editor of the room shown, if it is on the page.
    fn editor(&self) -> Option<HtmlTextAreaElement> {
        self.doc_ref.cast::<HtmlTextAreaElement>()
    }

    fn shown_room(&self, room: &str) -> bool {
        self.state.current.as_deref() == Some(room)
    }

    /// An event from a document's link; true to re-render.
    pub(super) fn doc_event(&mut self, room: String, event: DocEvent) -> bool {
        let now = now_ms();
        let Some(s) = self.docs.get_mut(&room) else {
            return false;
        };
        match event {
            DocEvent::Connecting => {
                if s.status == DocStatus::Offline {
                    return false; // still offline until it opens
                }
                s.status = DocStatus::Connecting;
            }
            DocEvent::Open => {
                s.status = DocStatus::Syncing;
                for frame in s.replica.on_open() {
                    s.link.send(frame);
                }
                s.last_renew = now;
            }
            DocEvent::Closed { .. } => {
                s.status = DocStatus::Offline;
                s.replica.forget_peers();
            }
            DocEvent::Frame(frame) => {
                if s.composing {
                    s.deferred.push(frame);
                    return false;
                }
                return self.doc_frames(&room, vec![frame]);
            }
        }
        true
    }

    /// Apply frames from the server, keeping the editor's selection on its text.
    fn doc_frames(&mut self, room: &str, frames: Vec<Vec<u8>>) -> bool {
        let editor = self.shown_room(room).then(|| self.editor()).flatten();
        let Some(s) = self.docs.get_mut(room) else {
            return false;
        };
        let now = now_ms();
        let mut render = false;
        let mut selection = editor.as_ref().and_then(link::selection);
        let mut text_changed = false;
        for frame in frames {
            let got = s.replica.receive(&frame, selection, now);
            for reply in got.replies {
                s.send(reply);
            }
            if got.synced && s.status == DocStatus::Syncing {
                s.status = DocStatus::Synced;
                render = true;
            }
            text_changed |= got.text_changed;
            render |= got.text_changed || got.peers_changed;
            selection = got.selection;
        }
        if text_changed {
            if let Some(el) = &editor {
                link::show(el, s.replica.text(), selection);
            }
        }
        render
    }

    /// The editor's value changed (typing, paste, cut, undo, drop…).
    pub(super) fn doc_input(&mut self) -> bool {
        let Some(room) = self.state.current.clone() else {
            return false;
        };
        let Some(el) = self.editor() else {
            return false;
        };
        let Some(s) = self.docs.get_mut(&room) else {
            return false;
        };
        let value = el.value();
        let selection = link::selection(&el);
        let Some(update) = s.replica.edit(&value, selection.map(|s| s.head)) else {
            return false;
        };
        s.send(update);
        if let Some(sel) = selection {
            s.replica.select(sel);
        }
        self.schedule_awareness(&room);
        true
    }

    /// The selection may have moved (the document's `selectionchange`).
    pub(super) fn doc_selection(&mut self) -> bool {
        let (Some(room), Some(el)) = (self.state.current.clone(), self.editor()) else {
            return false;
        };
        if !is_focused(&el) {
            return false;
        }
        let Some(sel) = link::selection(&el) else {
            return false;
        };
        let Some(s) = self.docs.get_mut(&room) else {
            return false;
        };
        // Not while the text differs from the document (an input event is on its way).
        if el.value() != s.replica.text() {
            return false;
        }
        if s.replica.select(sel) {
            self.schedule_awareness(&room);
        }
        false
    }

    fn schedule_awareness(&mut self, room: &str) {
        let Some(s) = self.docs.get_mut(room) else {
            return;
        };
        if s.flush_pending {
            return;
        }
        s.flush_pending = true;
        let scope = self.scope.clone();
        let room = room.to_owned();
        spawn_local(async move {
            sleep(AWARENESS_THROTTLE).await;
            scope.send_message(Msg::DocFlush(room));
        });
    }

    /// The person asked to reconnect now ("Retry now").
    pub(super) fn doc_retry_now(&self) {
        for s in self.docs.values() {
            s.link.retry_now();
        }
    }

    /// The throttle elapsed: publish our selection.
    pub(super) fn doc_flush(&mut self, room: &str) {
        let now = now_ms();
        if let Some(s) = self.docs.get_mut(room) {
            s.flush_pending = false;
            if s.connected() {
                let frame = s.replica.awareness();
                s.link.send(frame);
                s.last_renew = now;
            }
        }
    }

    pub(super) fn doc_composing(&mut self, composing: bool) -> bool {
        let Some(room) = self.state.current.clone() else {
            return false;
        };
        // Composition events bubble from any field; only the editor's matter (but an end
        // always ends ours).
        if composing && !self.editor().is_some_and(|el| is_focused(&el)) {
            return false;
        }
        let Some(s) = self.docs.get_mut(&room) else {
            return false;
        };
        s.composing = composing;
        if composing {
            return false;
        }
        // The composition's last input event came before `compositionend`, or comes now.
        let mut render = self.doc_input();
        let deferred = self
            .docs
            .get_mut(&room)
            .map(|s| std::mem::take(&mut s.deferred))
            .unwrap_or_default();
        if !deferred.is_empty() {
            render |= self.doc_frames(&room, deferred);
        }
        render
    }

    /// Every tick: renew our awareness and forget peers gone silent; true to re-render.
    pub(super) fn doc_tick(&mut self) -> bool {
        let now = now_ms();
        let mut render = false;
        for s in self.docs.values_mut() {
            if s.connected() && now.saturating_sub(s.last_renew) >= RENEW_MS {
                let frame = s.replica.awareness();
                s.link.send(frame);
                s.last_renew = now;
            }
            render |= s.replica.expire_peers(now);
        }
        render
    }

    /// After a render: a new editor gets the document's text; the overlay follows it.
    pub(super) fn doc_rendered(&self) {
        let (Some(room), Some(el)) = (self.state.current.as_deref(), self.editor()) else {
            return;
        };
        if let Some(s) = self.docs.get(room) {
            if !s.composing && el.value() != s.replica.text() {
                link::show(&el, s.replica.text(), None);
            }
        }
        self.doc_fit();
    }

    /// Keep the caret overlay over the editor's text (on render, scroll and resize).
    pub(super) fn doc_fit(&self) {
        if let (Some(el), Some(overlay)) = (self.editor(), self.overlay_ref.cast::<HtmlElement>()) {
            link::fit_overlay(&el, &overlay);
        }
    }
}

fn is_focused(el: &HtmlTextAreaElement) -> bool {
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    active.is_some_and(|a| a == ***el)
}
