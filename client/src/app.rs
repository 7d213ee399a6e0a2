//! The page component: owns the [`State`], feeds it actions from the socket ([`net`]), the
//! person and the browser, hands the messages it returns to the socket, and keeps the
//! address bar, title, scroll position and focus in step. Each joined room's shared
//! document is a session in [`docs`]. What it looks like is in [`crate::view`].

mod docs;

pub use docs::{DocSession, DocStatus};

use crate::browser::{self, now_ms};
use crate::doc::link::DocEvent;
use crate::net::{self, NetEvent};
use crate::state::{apply, Action, State};
use crate::view;
use gloo_events::EventListener;
use std::collections::BTreeMap;
use tandem_shared::ids::{chat_text, display_name, RoomName};
use web_sys::HtmlElement;
use yew::html::Scope;
use yew::platform::{spawn_local, time::sleep};
use yew::prelude::*;

const NAME_KEY: &str = "tandem.name";
const USER_ID_KEY: &str = "tandem.user_id";
/// How often the page re-checks time-based things (retry countdown, typing expiry).
const TICK: std::time::Duration = std::time::Duration::from_millis(250);
/// Closer than this to the end of the message list (px) counts as "at the bottom".
const NEAR_BOTTOM_PX: i32 = 80;

pub enum Msg {
    Net(NetEvent),
    Tick,
    /// The browser's back/forward buttons changed the address.
    PopState,
    NameInput(String),
    RoomInput(String),
    /// The join form was submitted.
    Join,
    /// Show the join form (to join another room).
    ShowJoinForm,
    Switch(String),
    Leave(String),
    Draft(String),
    Send,
    Scrolled,
    JumpToBottom,
    RetryNow,
    DismissNotice,
    Reload,
    /// An event from a room's document link.
    Doc(String, DocEvent),
    /// The document editor's value changed.
    DocInput,
    /// The selection may have moved (`selectionchange`).
    DocSelect,
    /// Time to publish our caret (awareness throttle) in this room's document.
    DocFlush(String),
    /// An IME composition started (true) or ended (false) in the editor.
    DocComposing(bool),
    /// The editor scrolled, or the window was resized.
    DocScrolled,
    /// On phones: show the chat or the document.
    Pane(Pane),
}

/// What a phone shows of a room (a desktop shows both side by side).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pane {
    Chat,
    Doc,
}

/// Which element gets the keyboard focus after the next render.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Name,
    Room,
    Composer,
}

pub struct App {
    pub(crate) state: State,
    /// To the socket; dropped (stopping it) once the page must be reloaded.
    link: Option<net::Link>,
    /// Page time of the last tick, for countdowns and typing expiry.
    pub(crate) now: u64,
    pub(crate) name_input: String,
    pub(crate) room_input: String,
    pub(crate) form_error: Option<String>,
    pub(crate) composer_error: Option<String>,
    /// Messages from others that arrived below the visible part of the list.
    pub(crate) unseen: u32,
    /// Prefix of this tab's `client_id`s, and the counter after it.
    id_prefix: String,
    next_id: u64,
    pub(crate) list_ref: NodeRef,
    pub(crate) composer_ref: NodeRef,
    pub(crate) name_ref: NodeRef,
    pub(crate) room_ref: NodeRef,
    /// Scroll the message list to the end after the next render.
    stick_to_bottom: bool,
    focus: Option<Focus>,
    /// What the last tick showed; a tick re-renders only when it changes.
    tick_shown: (Option<u64>, Vec<String>),
    /// Each joined room's shared document.
    pub(crate) docs: BTreeMap<String, DocSession>,
    pub(crate) doc_ref: NodeRef,
    pub(crate) overlay_ref: NodeRef,
    pub(crate) pane: Pane,
    scope: Scope<App>,
    _popstate: Option<EventListener>,
    /// `selectionchange` (the editor's caret), `composition*` (IME input in the editor) and
    /// `resize` (the overlay's size).
    _doc_listeners: Vec<EventListener>,
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        // One user id per browser, so its tabs count once in presence.
        let stored =
            browser::storage_get(USER_ID_KEY).filter(|id| tandem_shared::ids::user_id(id).is_ok());
        let user_id = stored.unwrap_or_else(|| {
            let id = format!("u{}", browser::random_token());
            browser::storage_set(USER_ID_KEY, &id);
            id
        });
        let link = net::connect(
            &net::default_ws_url(),
            user_id.clone(),
            ctx.link().callback(Msg::Net),
        );
        let scope = ctx.link().clone();
        spawn_local(async move {
            loop {
                sleep(TICK).await;
                scope.send_message(Msg::Tick);
            }
        });
        let on_pop = ctx.link().callback(|_| Msg::PopState);
        let popstate =
            web_sys::window().map(|w| EventListener::new(&w, "popstate", move |_| on_pop.emit(())));
        let mut doc_listeners = Vec::new();
        if let Some(window) = web_sys::window() {
            let on_resize = ctx.link().callback(|_| Msg::DocScrolled);
            doc_listeners.push(EventListener::new(&window, "resize", move |_| {
                on_resize.emit(())
            }));
            if let Some(document) = window.document() {
                let on_select = ctx.link().callback(|_| Msg::DocSelect);
                doc_listeners.push(EventListener::new(
                    &document,
                    "selectionchange",
                    move |_| on_select.emit(()),
                ));
                for (kind, composing) in [("compositionstart", true), ("compositionend", false)] {
                    let on_compose = ctx.link().callback(move |_| Msg::DocComposing(composing));
                    doc_listeners.push(EventListener::new(&document, kind, move |_| {
                        on_compose.emit(())
                    }));
                }
            }
        }

        let name = browser::storage_get(NAME_KEY)
            .and_then(|n| display_name(&n).ok())
            .unwrap_or_default();
        let mut app = App {
            state: State::new(Some(user_id)),
            link: Some(link),
            now: now_ms(),
            name_input: name.clone(),
            room_input: String::new(),
            form_error: None,
            composer_error: None,
            unseen: 0,
            id_prefix: browser::random_token(),
            next_id: 0,
            list_ref: NodeRef::default(),
            composer_ref: NodeRef::default(),
            name_ref: NodeRef::default(),
            room_ref: NodeRef::default(),
            stick_to_bottom: true,
            focus: None,
            tick_shown: (None, Vec::new()),
            docs: BTreeMap::new(),
            doc_ref: NodeRef::default(),
            overlay_ref: NodeRef::default(),
            pane: Pane::Chat,
            scope: ctx.link().clone(),
            _popstate: popstate,
            _doc_listeners: doc_listeners,
        };
        app.state.name = name;
        // A `/r/<room>` link joins at once when the name is known; else the form asks.
        app.open_path(false);
        app.sync_docs(ctx.link());
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        self.now = now_ms();
        let render = self.handle(msg);
        self.sync_docs(ctx.link());
        render
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if std::mem::take(&mut self.stick_to_bottom) {
            if let Some(list) = self.list_ref.cast::<HtmlElement>() {
                list.set_scroll_top(list.scroll_height());
            }
        }
        if let Some(focus) = self.focus.take() {
            let target = match focus {
                Focus::Name => &self.name_ref,
                Focus::Room => &self.room_ref,
                Focus::Composer => &self.composer_ref,
            };
            if let Some(el) = target.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        }
        self.doc_rendered();
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        view::page(self, ctx.link())
    }
}

impl App {
    /// Handle one message; true to re-render.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Net(event) => self.net(event),
            Msg::Tick => {
                self.dispatch(Action::Tick { now: self.now });
                let docs_changed = self.doc_tick();
                let shown = self.tick_view();
                if shown == self.tick_shown && !docs_changed {
                    return false;
                }
                self.tick_shown = shown;
            }
            Msg::PopState => self.open_path(true),
            Msg::NameInput(v) => {
                self.name_input = v;
                self.form_error = None;
            }
            Msg::RoomInput(v) => {
                self.room_input = v;
                self.form_error = None;
            }
            Msg::Join => {
                let room = match RoomName::new(self.room_input.trim()) {
                    Ok(room) => room,
                    Err(err) => {
                        self.form_error = Some(err.message);
                        self.focus = Some(Focus::Room);
                        return true;
                    }
                };
                let name = match display_name(&self.name_input) {
                    Ok(name) => name,
                    Err(err) => {
                        self.form_error = Some(err.message);
                        self.focus = Some(Focus::Name);
                        return true;
                    }
                };
                browser::storage_set(NAME_KEY, &name);
                self.name_input = name.clone();
                self.room_input.clear();
                self.join(room.as_str().to_owned(), name);
                browser::set_path(Some(room.as_str()), true);
            }
            Msg::ShowJoinForm => {
                self.dispatch(Action::Switch { room: None });
                self.form_error = None;
                browser::set_path(None, true);
                self.focus = Some(if self.name_input.trim().is_empty() {
                    Focus::Name
                } else {
                    Focus::Room
                });
            }
            Msg::Switch(room) => {
                if self.state.current.as_deref() == Some(room.as_str()) {
                    return false;
                }
                self.dispatch(Action::Switch {
                    room: Some(room.clone()),
                });
                self.entered_room();
                browser::set_path(Some(&room), true);
            }
            Msg::Leave(room) => {
                let was_current = self.state.current.as_deref() == Some(room.as_str());
                self.dispatch(Action::Leave { room });
                if was_current {
                    self.entered_room();
                    browser::set_path(self.state.current.as_deref(), false);
                    if self.state.current.is_none() {
                        self.focus = Some(Focus::Room);
                    }
                }
            }
            Msg::Draft(text) => {
                self.composer_error = None;
                self.dispatch(Action::Draft {
                    text,
                    now: self.now,
                });
            }
            Msg::Send => {
                let Some(room) = self.state.current_room() else {
                    return false;
                };
                let text = room.draft.clone();
                if text.trim().is_empty() {
                    return false;
                }
                if let Err(err) = chat_text(&text) {
                    self.composer_error = Some(err.message);
                    return true;
                }
                self.next_id += 1;
                let client_id = format!("{}-{}", self.id_prefix, self.next_id);
                self.dispatch(Action::Send { text, client_id });
                self.stick_to_bottom = true;
                self.unseen = 0;
            }
            Msg::Scrolled => {
                if self.unseen > 0 && self.near_bottom() {
                    self.unseen = 0;
                    return true;
                }
                return false;
            }
            Msg::JumpToBottom => {
                self.stick_to_bottom = true;
                self.unseen = 0;
                self.focus = Some(Focus::Composer);
            }
            Msg::RetryNow => {
                if let Some(link) = &self.link {
                    link.retry_now();
                }
                self.doc_retry_now();
                return false;
            }
            Msg::DismissNotice => self.dispatch(Action::DismissNotice),
            Msg::Reload => {
                browser::reload();
                return false;
            }
            Msg::Doc(room, event) => return self.doc_event(room, event),
            Msg::DocInput => return self.doc_input(),
            Msg::DocSelect => return self.doc_selection(),
            Msg::DocFlush(room) => {
                self.doc_flush(&room);
                return false;
            }
            Msg::DocComposing(composing) => return self.doc_composing(composing),
            Msg::DocScrolled => {
                self.doc_fit();
                return false;
            }
            Msg::Pane(pane) => {
                if self.pane == pane {
                    return false;
                }
                self.pane = pane;
                if pane == Pane::Chat {
                    self.stick_to_bottom = true;
                }
            }
        }
        self.sync_title();
        true
    }

    fn dispatch(&mut self, action: Action) {
        let out = apply(&mut self.state, action);
        if let Some(link) = &self.link {
            for msg in out {
                link.send(msg);
            }
        }
        if self.state.must_reload {
            self.link = None;
        }
    }

    fn net(&mut self, event: NetEvent) {
        let action = match event {
            NetEvent::Connecting => Action::Connecting,
            NetEvent::Open => Action::Open,
            NetEvent::Closed { online, retry_in } => Action::Closed {
                online,
                retry_at: self.now + retry_in.as_millis() as u64,
            },
            NetEvent::Network { online } => Action::Network { online },
            NetEvent::Message(msg) => Action::Server { msg, now: self.now },
        };
        // Follow new messages only if the reader is at the end of the list.
        let before = self.state.current_room().map(|r| {
            (
                r.name.clone(),
                r.messages.last().map(|m| m.seq),
                r.ever_joined,
            )
        });
        let near = self.near_bottom();
        let was_current = self.state.current.clone();
        self.dispatch(action);
        if self.state.current != was_current {
            // A refused join closed the shown tab.
            self.entered_room();
            browser::set_path(self.state.current.as_deref(), false);
            return;
        }
        let (Some((name, last, was_joined)), Some(room)) = (before, self.state.current_room())
        else {
            return;
        };
        if room.name != name {
            return;
        }
        let me = self.state.user_id.as_deref();
        let fresh = room
            .messages
            .iter()
            .rev()
            .take_while(|m| Some(m.seq) > last)
            .filter(|m| Some(m.sender.id.as_str()) != me)
            .count() as u32;
        if near || !was_joined {
            self.stick_to_bottom = true;
        } else {
            self.unseen += fresh;
        }
    }

    fn join(&mut self, room: String, name: String) {
        self.dispatch(Action::Join { room, name });
        self.entered_room();
    }

    /// The shown room changed: start at its end, with the focus in its message box.
    fn entered_room(&mut self) {
        self.stick_to_bottom = true;
        self.unseen = 0;
        self.composer_error = None;
        if self.state.current.is_some() {
            self.focus = Some(Focus::Composer);
        }
    }

    /// Show what the address bar names: its room (joining it when the name is known), or
    /// the join form.
    fn open_path(&mut self, from_history: bool) {
        match browser::room_from_path() {
            Some(room) if self.state.room(&room).is_some() => {
                self.dispatch(Action::Switch { room: Some(room) });
                self.entered_room();
            }
            Some(room) => match display_name(&self.name_input) {
                Ok(name) => self.join(room, name),
                Err(_) => {
                    self.dispatch(Action::Switch { room: None });
                    self.room_input = room;
                    self.focus = Some(Focus::Name);
                }
            },
            None => {
                self.dispatch(Action::Switch { room: None });
                self.focus = Some(if self.name_input.is_empty() {
                    Focus::Name
                } else {
                    Focus::Room
                });
            }
        }
        if !from_history {
            // Normalise `/r/<room>/` and unknown paths.
            browser::set_path(self.state.current.as_deref(), false);
        }
        self.sync_title();
    }

    fn sync_title(&self) {
        let unread = self.state.unread_total();
        let room = self
            .state
            .current
            .as_deref()
            .map_or(String::new(), |r| format!("#{r} · "));
        let title = if unread > 0 {
            format!("({unread}) {room}Tandem")
        } else {
            format!("{room}Tandem")
        };
        browser::set_title(&title);
    }

    /// Seconds left before the next reconnection attempt, while waiting for it.
    pub(crate) fn retry_in_secs(&self) -> Option<u64> {
        let at = self.state.retry_at?;
        Some(at.saturating_sub(self.now).div_ceil(1000))
    }

    /// What a tick can change on screen: the countdown and who is typing.
    fn tick_view(&self) -> (Option<u64>, Vec<String>) {
        let typing = self
            .state
            .current_room()
            .map(|r| r.typing_now(self.now).map(|m| m.id.clone()).collect())
            .unwrap_or_default();
        (self.retry_in_secs(), typing)
    }

    fn near_bottom(&self) -> bool {
        self.list_ref
            .cast::<HtmlElement>()
            .is_none_or(|l| l.scroll_height() - l.scroll_top() - l.client_height() < NEAR_BOTTOM_PX)
    }
}
