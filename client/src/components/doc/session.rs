//! The document pane's behaviour: its socket's events, the editor's input, selection, IME
//! composition and history keys, the awareness throttle and renewal, and keeping
//! unconfirmed edits in storage.

use super::editor::{self, HistoryKey};
use super::{DocPane, DocStatus, Msg, Props};
use crate::browser::{self, now_ms};
use crate::model::doc::protocol::RENEW_MS;
use crate::model::doc::Replica;
use crate::model::stored;
use crate::net::{self, Doc, Socket, SocketEvent};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::{Interval, Timeout};
use std::time::Duration;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// At most one awareness update per this long while the caret moves.
const AWARENESS_THROTTLE: Duration = Duration::from_millis(80);
/// While connected, unconfirmed edits are written to storage (and confirmed with the server)
/// this long after the last one.
const SAVE_AFTER: Duration = Duration::from_millis(400);
/// How often the pane renews its awareness and forgets silent peers.
const TICK: Duration = Duration::from_secs(1);

/// A new pane: the replica (with what storage kept of it), its socket, listeners and tick.
pub(super) fn create(ctx: &Context<DocPane>) -> DocPane {
    let p: &Props = ctx.props();
    let mut replica = Replica::new(&p.name, &p.color);
    if let Some(kept) = browser::storage_get_bytes(&stored::doc_key(&p.room)) {
        replica.restore(&kept);
    }
    let link = ctx.link();
    let doc = Doc::default();
    let invite = doc.invite_handle();
    invite.set(p.invite.as_ref().map(AttrValue::to_string));
    let socket = Socket::open(&net::doc_url(&p.room), doc, link.callback(Msg::Socket));
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let on = |kind: &'static str, msg: fn() -> Msg| {
            let send = link.callback(move |()| msg());
            EventListener::new(&window, kind, move |_| send.emit(()))
        };
        listeners.push(on("resize", || Msg::Fit));
        // The tab closes or goes into the back/forward cache: store what is unconfirmed now.
        listeners.push(on("pagehide", || Msg::Save));
        if let Some(document) = window.document() {
            for (kind, msg) in [
                ("selectionchange", (|| Msg::Select) as fn() -> Msg),
                ("compositionstart", || Msg::Composing(true)),
                ("compositionend", || Msg::Composing(false)),
            ] {
                let send = link.callback(move |()| msg());
                listeners.push(EventListener::new(&document, kind, move |_| send.emit(())));
            }
            listeners.push(browser_history(&document, ctx));
        }
    }
    let tick = {
        let send = link.callback(|()| Msg::Tick);
        Interval::new(TICK.as_millis() as u32, move || send.emit(()))
    };
    DocPane {
        room: p.room.clone(),
        shown: p.shown,
        on_save: link.callback(|()| Msg::Save),
        on_publish: link.callback(|()| Msg::Publish),
        replica,
        socket: Some(socket),
        invite,
        status: DocStatus::Connecting,
        can_edit: p.can_edit,
        composing: false,
        deferred: Vec::new(),
        editor: NodeRef::default(),
        overlay: NodeRef::default(),
        publish: None,
        save: None,
        last_renew: 0,
        _tick: tick,
        _listeners: listeners,
    }
}

/// The browser's own undo and redo (Edit menu, context menu) on our editor: `beforeinput`
/// with a history `inputType`, taken over so that it undoes our edits only.
fn browser_history(document: &web_sys::Document, ctx: &Context<DocPane>) -> EventListener {
    let send = ctx.link().callback(Msg::History);
    let editor = ctx.props().room.clone();
    let options = EventListenerOptions::enable_prevent_default();
    EventListener::new_with_options(document, "beforeinput", options, move |e| {
        let Some(input) = e.dyn_ref::<web_sys::InputEvent>() else {
            return;
        };
        let ours = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .is_some_and(|t| t.get_attribute("data-room").as_deref() == Some(&*editor));
        if let (true, Some(key)) = (ours, editor::history_input(&input.input_type())) {
            e.prevent_default();
            send.emit(key);
        }
    })
}

impl DocPane {
    fn connected(&self) -> bool {
        matches!(self.status, DocStatus::Syncing | DocStatus::Synced)
    }

    fn send(&self, frame: Vec<u8>) {
        if let (true, Some(socket)) = (self.connected(), &self.socket) {
            socket.send(frame);
        }
    }

    pub(super) fn send_awareness(&mut self) {
        if self.connected() {
            let frame = self.replica.awareness();
            self.send(frame);
            self.last_renew = now_ms();
        }
    }

    /// Drop what we hold that the server lacks: it refuses our changes, so it can never be
    /// delivered (and offering it again on every connection would be refused again).
    fn drop_unsent(&mut self) {
        if self.replica.unsynced().is_some() {
            self.replica = self.replica.emptied();
            browser::storage_remove(&stored::doc_key(&self.room));
            browser::warn("the document's unsent edits were refused (read-only) and dropped");
        }
    }

    /// The editor, if the room is shown.
    fn shown_editor(&self) -> Option<web_sys::HtmlTextAreaElement> {
        self.shown.then(|| self.editor()).flatten()
    }

    pub(super) fn socket_event(&mut self, event: SocketEvent<Vec<u8>>) -> bool {
        match event {
            SocketEvent::Connecting
                if matches!(self.status, DocStatus::Offline | DocStatus::ReadOnly) =>
            {
                return false
            }
            SocketEvent::Connecting => self.status = DocStatus::Connecting,
            SocketEvent::Open => {
                if !self.can_edit {
                    // Not ours to deliver any more: a viewer's sync would be refused.
                    self.drop_unsent();
                }
                self.status = DocStatus::Syncing;
                for frame in self.replica.on_open() {
                    self.send(frame);
                }
                self.last_renew = now_ms();
            }
            SocketEvent::Closed { frame, .. } => {
                self.replica.forget_peers();
                self.status = match frame {
                    Some(f) if f.code == super::FORBIDDEN => {
                        if f.reason.to_ascii_lowercase().contains("read") {
                            self.drop_unsent();
                            DocStatus::ReadOnly
                        } else {
                            // Out of the room: nothing to reconnect to.
                            self.socket = None;
                            DocStatus::Removed
                        }
                    }
                    _ => DocStatus::Offline,
                };
            }
            SocketEvent::Network { .. } => return false,
            SocketEvent::Message(frame) => {
                if self.composing {
                    self.deferred.push(frame);
                    return false;
                }
                return self.frames(None, vec![frame]);
            }
        }
        true
    }

    /// Apply frames from the server, keeping the editor's selection on its text.
    fn frames(&mut self, el: Option<web_sys::HtmlTextAreaElement>, frames: Vec<Vec<u8>>) -> bool {
        let el = el.or_else(|| self.shown_editor());
        let now = now_ms();
        let mut render = false;
        let mut selection = el.as_ref().and_then(editor::selection);
        let mut text_changed = false;
        for frame in frames {
            let got = self.replica.receive(&frame, selection, now);
            for reply in got.replies {
                self.send(reply);
            }
            if got.incomplete {
                browser::warn("a document update did not fully apply; the next sync completes it");
            }
            if got.synced {
                if self.status == DocStatus::Syncing {
                    self.status = DocStatus::Synced;
                    render = true;
                }
                // Edits may be confirmed now: drop them from storage.
                self.schedule_save();
            }
            text_changed |= got.text_changed;
            render |= got.text_changed || got.peers_changed;
            selection = got.selection;
        }
        if let (true, Some(el)) = (text_changed, &el) {
            editor::show(el, self.replica.text(), selection);
        }
        render
    }

    /// The editor's value changed (typing, paste, cut, drop…).
    pub(super) fn input(&mut self) -> bool {
        let Some(el) = self.shown_editor() else {
            return false;
        };
        let selection = editor::selection(&el);
        if !self.can_edit {
            // A `readonly` editor changed anyway (by a script): no edit; show the document.
            editor::show(&el, self.replica.text(), selection);
            return false;
        }
        let Some(update) = self
            .replica
            .edit(&el.value(), selection.map(|s| s.head), now_ms())
        else {
            return false;
        };
        self.send(update);
        if let Some(sel) = selection {
            self.replica.select(sel);
        }
        self.schedule_publish();
        self.schedule_save();
        true
    }

    /// The selection may have moved.
    pub(super) fn select(&mut self) -> bool {
        let Some(el) = self.shown_editor() else {
            return false;
        };
        // Not while the text differs from the document (an input event is on its way).
        if !editor::is_focused(&el) || el.value() != self.replica.text() {
            return false;
        }
        if let Some(sel) = editor::selection(&el) {
            if self.replica.select(sel) {
                self.schedule_publish();
            }
        }
        false
    }

    /// Undo or redo our own last edit.
    pub(super) fn history(&mut self, key: HistoryKey) -> bool {
        let Some(el) = self.shown_editor() else {
            return false;
        };
        if !self.can_edit {
            return false;
        }
        let now = now_ms();
        let done = match key {
            HistoryKey::Undo => self.replica.undo(now),
            HistoryKey::Redo => self.replica.redo(now),
        };
        let Some(done) = done else {
            return false;
        };
        self.send(done.frame);
        let caret = crate::model::doc::Selection::caret(done.caret);
        editor::show(&el, self.replica.text(), Some(caret));
        self.replica.select(caret);
        self.schedule_publish();
        self.schedule_save();
        true
    }

    pub(super) fn composing(&mut self, composing: bool) -> bool {
        let Some(el) = self.shown_editor() else {
            return false;
        };
        // Composition events bubble from any field; only the editor's matter (but an end
        // always ends ours).
        if composing && !editor::is_focused(&el) {
            return false;
        }
        self.composing = composing;
        if composing {
            return false;
        }
        // The composition's last input event came before `compositionend`, or comes now.
        let mut render = self.input();
        let deferred = std::mem::take(&mut self.deferred);
        if !deferred.is_empty() {
            render |= self.frames(Some(el), deferred);
        }
        render
    }

    /// Renew our awareness and forget peers gone silent; true to re-render.
    pub(super) fn tick(&mut self) -> bool {
        if now_ms().saturating_sub(self.last_renew) >= RENEW_MS {
            self.send_awareness();
        }
        self.replica.expire_peers(now_ms())
    }

    fn schedule_publish(&mut self) {
        if self.publish.is_none() {
            let send = self.on_publish.clone();
            let ms = AWARENESS_THROTTLE.as_millis() as u32;
            self.publish = Some(Timeout::new(ms, move || send.emit(())));
        }
    }

    /// Write to storage: at once while disconnected (nothing else holds those edits, and a
    /// browser that quits may not say `pagehide`), else soon (restarting the wait, so a burst
    /// of typing writes once; the server gets each edit as it is made meanwhile).
    fn schedule_save(&mut self) {
        if !self.connected() {
            return self.save_now();
        }
        let send = self.on_save.clone();
        let ms = SAVE_AFTER.as_millis() as u32;
        self.save = Some(Timeout::new(ms, move || send.emit(())));
    }

    /// Keep the document in storage while it holds unconfirmed edits, drop it once they are
    /// confirmed; while connected, ask the server to confirm what it has.
    pub(super) fn save_now(&mut self) {
        self.save = None;
        let key = stored::doc_key(&self.room);
        match self.replica.unsynced() {
            Some(doc) => {
                if !browser::storage_set_bytes(&key, &doc) {
                    browser::warn("the browser refused to keep the document's unsent edits");
                }
            }
            None => browser::storage_remove(&key),
        }
        if self.connected() {
            if let Some(probe) = self.replica.checkpoint() {
                self.send(probe);
            }
        }
    }
}
