//! One room's shared document: [`DocPane`]. There is one per joined room, mounted when the
//! room is joined and dropped when it is left, and that is its whole lifecycle: it owns the
//! room's [`Replica`], its socket to `/yjs/<room>`, the editor's DOM and listeners, and its
//! timers. Rooms not shown keep syncing (edits made there or offline are not lost); only the
//! shown one draws its editor (`doc-editor`), its sync state (`doc-status`) and the people
//! in it. Unconfirmed edits are kept in the browser's storage across reloads
//! ([`crate::model::stored`]), and Ctrl/Cmd+Z undoes only one's own edits.
//!
//! Where we may not edit (a viewer, a read-only room) the editor is `readonly` and the pane
//! makes no local edits; it still follows the others'. A connection the server closes with
//! 4403 says so in `doc-status`: `read-only` (our change was refused: what we had unsent is
//! dropped, since it can never be delivered, and the pane reconnects on the socket's
//! backoff) or `removed` (we are out of the room: the pane stops connecting).

pub mod editor;
mod overlay;
mod session;

use crate::model::doc::Replica;
use crate::net::{Doc, DocInvite, Socket, SocketEvent};
use editor::HistoryKey;
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// This is the room on screen: draw the editor.
    pub shown: bool,
    /// How we appear to the others.
    pub name: AttrValue,
    pub color: AttrValue,
    /// Our user id (for our own swatch).
    pub me: AttrValue,
    /// How the room is named (`#lobby`, or a private room's title).
    pub label: AttrValue,
    /// We may change the document.
    pub can_edit: bool,
    /// The invite an invite link brought, while the room is being joined with it.
    pub invite: Option<AttrValue>,
}

/// The close code of a document connection the server refuses what it did (or that is no
/// longer allowed in the room).
pub const FORBIDDEN: u16 = 4403;

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
    /// The server refused a change of ours (4403, read-only); reconnecting to follow.
    ReadOnly,
    /// The server closed the document to us (4403): we are out of the room.
    Removed,
}

impl DocStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Connecting => "connecting",
            DocStatus::Syncing => "syncing",
            DocStatus::Synced => "synced",
            DocStatus::Offline => "offline",
            DocStatus::ReadOnly => "read-only",
            DocStatus::Removed => "removed",
        }
    }
}

pub enum Msg {
    Socket(SocketEvent<Vec<u8>>),
    /// The editor's value changed (typing, paste, cut, drop…).
    Input,
    /// The selection may have moved (`selectionchange`).
    Select,
    History(HistoryKey),
    /// An IME composition started (true) or ended (false) in the editor.
    Composing(bool),
    /// The editor scrolled, or the window was resized.
    Fit,
    /// The awareness throttle elapsed: publish our caret.
    Publish,
    /// Renew our awareness, forget silent peers.
    Tick,
    /// The storage debounce elapsed (or the page is being hidden): keep or drop the stored
    /// document, and confirm edits with the server.
    Save,
}

pub struct DocPane {
    room: AttrValue,
    /// The room is on screen (the props' `shown`, for the handlers).
    shown: bool,
    on_save: Callback<()>,
    on_publish: Callback<()>,
    replica: Replica,
    /// `None` once the server closed the document to us for good.
    socket: Option<Socket<Doc>>,
    /// Sets the invite of the socket's next attempts.
    invite: DocInvite,
    status: DocStatus,
    /// The props' `can_edit`, for the handlers.
    can_edit: bool,
    /// An IME composition is in progress in the editor: remote frames wait (changing the
    /// text under a composition would break it).
    composing: bool,
    deferred: Vec<Vec<u8>>,
    editor: NodeRef,
    overlay: NodeRef,
    /// Pending awareness publication (throttle); dropping it cancels it.
    publish: Option<Timeout>,
    /// Pending storage write (debounce).
    save: Option<Timeout>,
    /// Page time our awareness was last sent.
    last_renew: u64,
    _tick: Interval,
    _listeners: Vec<EventListener>,
}

impl Component for DocPane {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        session::create(ctx)
    }

    fn update(&mut self, _ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Socket(event) => self.socket_event(event),
            Msg::Input => self.input(),
            Msg::Select => self.select(),
            Msg::History(key) => self.history(key),
            Msg::Composing(composing) => self.composing(composing),
            Msg::Fit => {
                self.fit();
                false
            }
            Msg::Publish => {
                self.publish = None;
                self.send_awareness();
                false
            }
            Msg::Tick => self.tick(),
            Msg::Save => {
                self.save_now();
                false
            }
        }
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &Props) -> bool {
        let p = ctx.props();
        self.shown = p.shown;
        self.can_edit = p.can_edit;
        if p.invite != old.invite {
            self.invite.set(p.invite.as_ref().map(AttrValue::to_string));
        }
        if (&p.name, &p.color) != (&old.name, &old.color)
            && self.replica.set_user(&p.name, &p.color)
        {
            self.send_awareness();
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first: bool) {
        if !ctx.props().shown {
            return;
        }
        // A new editor (the room was just shown) gets the document's text.
        if let Some(el) = self.editor() {
            if !self.composing && el.value() != self.replica.text() {
                editor::show(&el, self.replica.text(), None);
            }
        }
        self.fit();
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        // Leaving the room: whatever is unconfirmed stays stored for the next visit.
        self.save_now();
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let p = ctx.props();
        if !p.shown {
            return html! {};
        }
        let room = &p.label;
        let (label, title) = match self.status {
            DocStatus::Connecting => ("Connecting…", "Connecting to the document"),
            DocStatus::Syncing => ("Syncing…", "Bringing the document up to date"),
            DocStatus::Synced if !p.can_edit => (
                "Live · view only",
                "You see the changes as they are made; you cannot edit here",
            ),
            DocStatus::Synced => ("Live", "Changes are shared as you type"),
            DocStatus::Offline if !p.can_edit => ("Offline", "Not connected"),
            DocStatus::Offline => (
                "Offline · edits kept",
                "Not connected: your edits are kept and merged when the connection is back",
            ),
            DocStatus::ReadOnly => (
                "Read-only · change refused",
                "The server did not accept a change from you: you cannot edit this document now",
            ),
            DocStatus::Removed => (
                "Removed from the room",
                "The document is closed to you: you are no longer in this room",
            ),
        };
        let link = ctx.link();
        let oninput = link.callback(|_: InputEvent| Msg::Input);
        let onscroll = link.callback(|_: Event| Msg::Fit);
        let onkeydown = link.batch_callback(|e: KeyboardEvent| {
            let key = editor::history_key(&e)?;
            e.prevent_default();
            Some(Msg::History(key))
        });
        let carets = self.replica.carets();
        let people = self.replica.people();
        let name = self.replica.name().to_owned();
        html! {
            <section class="doc" aria-label={format!("Shared document of {room}")}>
                <header class="doc-head">
                    <h2>{ "Document" }</h2>
                    <span class="doc-status" data-testid="doc-status"
                        data-state={self.status.as_str()} title={title}>
                        <span class="dot" aria-hidden="true" />{ label }
                    </span>
                    <span class="spacer" />
                    <ul class="doc-people" aria-label="Editing now">
                        <li class="doc-person me" data-testid="doc-person" data-name={name.clone()}
                            style={super::hue(&p.me)} title={format!("{name} (you)")}>
                            <span class="swatch" aria-hidden="true" />{ "You" }
                        </li>
                        { for people.iter().map(|(id, name, color)| overlay::person(*id, name, color)) }
                    </ul>
                </header>
                <div class="doc-body">
                    <textarea key={p.room.to_string()} class="doc-editor" data-testid="doc-editor"
                        data-room={p.room.clone()} readonly={!p.can_edit}
                        aria-readonly={(!p.can_edit).then_some("true")}
                        ref={self.editor.clone()} aria-label={format!("Shared document of {room}")}
                        placeholder={if p.can_edit {
                            "Write together. Everyone in the room sees this text as you type."
                        } else {
                            "Nothing written yet. You can follow this document, not edit it."
                        }}
                        spellcheck="true" {oninput} {onscroll} {onkeydown} />
                    <div class="doc-overlay" ref={self.overlay.clone()} aria-hidden="true">
                        { overlay::overlay(self.replica.text(), &carets) }
                    </div>
                </div>
            </section>
        }
    }
}

impl DocPane {
    fn editor(&self) -> Option<HtmlTextAreaElement> {
        self.editor.cast::<HtmlTextAreaElement>()
    }

    /// Keep the caret overlay over the editor's text (on render, scroll and resize).
    fn fit(&self) {
        if let (Some(el), Some(overlay)) = (self.editor(), self.overlay.cast::<HtmlElement>()) {
            editor::fit_overlay(&el, &overlay);
        }
    }
}
