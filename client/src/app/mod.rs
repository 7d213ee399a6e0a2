//! The root component: it coordinates. It owns the chat socket and the [`State`], feeds the
//! reducer actions from the socket, the parts below and the browser (the address bar,
//! back/forward), hands the messages the reducer returns to the socket, keeps the title and
//! the storage of unsent messages and open tabs in step, and hands each part its props.
//! What each part looks like and does is its own business ([`crate::components`]).

mod store;
mod view;

use crate::browser::{self, now_ms};
use crate::model::{apply, stored, Action, Moderation, State};
use crate::net::{self, Chat, Socket, SocketEvent};
use gloo_events::EventListener;
use gloo_timers::callback::Interval;
use std::collections::BTreeMap;
use tandem_shared::ids::{display_name, user_id};
use tandem_shared::ServerMsg;
use yew::prelude::*;

/// How often the page re-checks time-based things (retry countdown, typing expiry).
const TICK_MS: u32 = 250;

pub enum Msg {
    Socket(SocketEvent<ServerMsg>),
    Tick,
    /// The browser's back/forward buttons changed the address.
    PopState,
    /// The join form asks for (room, name).
    Join(String, String),
    /// The join form asks for a private room: (title, name).
    Create(String, String),
    /// The owner asks something of a room.
    Moderate(String, Moderation),
    ShowJoinForm,
    Switch(String),
    Leave(String),
    /// (room, text) in the message box.
    Draft(String, String),
    /// (room, text) sent.
    Send(String, String),
    LoadOlder(String),
    /// List more of a big room's members.
    MoreMembers(String),
    Retry,
    DismissNotice,
    Reload,
    Pane(Pane),
}

/// What a phone shows of a room (a desktop shows both side by side).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pane {
    Chat,
    Doc,
}

/// Made once, so that the parts' props compare equal from one render to the next.
struct Callbacks {
    join: Callback<(String, String)>,
    create: Callback<(String, String)>,
    moderate: Callback<(String, Moderation)>,
    show_form: Callback<()>,
    switch: Callback<String>,
    leave: Callback<String>,
    draft: Callback<(String, String)>,
    send: Callback<(String, String)>,
    load_older: Callback<String>,
    more_members: Callback<String>,
    retry: Callback<()>,
    dismiss: Callback<()>,
    reload: Callback<()>,
    pane: Callback<Pane>,
}

pub struct App {
    state: State,
    /// To the server; dropped (stopping it) once the page must be reloaded.
    socket: Option<Socket<Chat>>,
    /// Page time of the last update, for countdowns and typing.
    now: u64,
    /// What the last tick showed; a tick re-renders only when it changes.
    tick_shown: (Option<u64>, Vec<String>),
    /// A room for the join form to fill in (a `/r/<room>` link opened before a name).
    prefill: String,
    /// (room, invite) of the invite link in the address bar: joined with it, and taken out
    /// of the address once the join is answered.
    link_invite: Option<(String, String)>,
    pane: Pane,
    /// The unsent messages this tab keeps in storage (key → value): only changes are
    /// written, and only its own are removed.
    stored_pending: BTreeMap<String, String>,
    stored_rooms: String,
    cb: Callbacks,
    _tick: Interval,
    _popstate: Option<EventListener>,
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link();
        // Who this browser was last time (the server confirms it, or not, in `hello`).
        let me = browser::storage_get(stored::USER_ID_KEY).filter(|id| user_id(id).is_ok());
        let socket = Socket::open(&net::ws_url(), Chat::new(), link.callback(Msg::Socket));
        let tick = {
            let send = link.callback(|()| Msg::Tick);
            Interval::new(TICK_MS, move || send.emit(()))
        };
        let on_pop = link.callback(|()| Msg::PopState);
        let popstate =
            web_sys::window().map(|w| EventListener::new(&w, "popstate", move |_| on_pop.emit(())));
        let cb = Callbacks {
            join: link.callback(|(room, name)| Msg::Join(room, name)),
            create: link.callback(|(title, name)| Msg::Create(title, name)),
            moderate: link.callback(|(room, what)| Msg::Moderate(room, what)),
            show_form: link.callback(|()| Msg::ShowJoinForm),
            switch: link.callback(Msg::Switch),
            leave: link.callback(Msg::Leave),
            draft: link.callback(|(room, text)| Msg::Draft(room, text)),
            send: link.callback(|(room, text)| Msg::Send(room, text)),
            load_older: link.callback(Msg::LoadOlder),
            more_members: link.callback(Msg::MoreMembers),
            retry: link.callback(|()| Msg::Retry),
            dismiss: link.callback(|()| Msg::DismissNotice),
            reload: link.callback(|()| Msg::Reload),
            pane: link.callback(Msg::Pane),
        };
        let mut app = App {
            state: State::new(me),
            socket: Some(socket),
            now: now_ms(),
            tick_shown: (None, Vec::new()),
            prefill: String::new(),
            link_invite: None,
            pane: Pane::Chat,
            stored_pending: BTreeMap::new(),
            stored_rooms: String::new(),
            cb,
            _tick: tick,
            _popstate: popstate,
        };
        app.state.name = browser::storage_get(stored::NAME_KEY)
            .and_then(|n| display_name(&n).ok())
            .unwrap_or_default();
        // The tabs open before the reload come back (with their unsent messages).
        if !app.state.name.is_empty() {
            let rooms = browser::storage_get(stored::ROOMS_KEY).unwrap_or_default();
            for (room, title) in stored::rooms_from(&rooms) {
                app.join(room, None, title);
            }
        }
        // A `/r/<room>` link joins at once when the name is known; else the form asks.
        app.open_path(false);
        app
    }

    fn update(&mut self, _ctx: &Context<Self>, msg: Msg) -> bool {
        self.now = now_ms();
        let render = self.handle(msg);
        self.settle_link();
        self.persist();
        browser::set_title(&self.state.title());
        render
    }

    fn view(&self, _ctx: &Context<Self>) -> Html {
        self.page()
    }
}

impl App {
    /// Handle one message; true to re-render.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Socket(event) => self.socket_event(event),
            Msg::Tick => {
                self.dispatch(Action::Tick { now: self.now });
                let shown = self.tick_view();
                if shown == self.tick_shown {
                    return false;
                }
                self.tick_shown = shown;
            }
            Msg::PopState => self.open_path(true),
            Msg::Join(room, name) => {
                browser::storage_set(stored::NAME_KEY, &name);
                self.state.name = name;
                self.prefill.clear();
                let invite = self.invite_for(&room);
                self.join(room.clone(), invite, None);
                browser::set_path(Some(&room), true);
            }
            Msg::Create(title, name) => {
                browser::storage_set(stored::NAME_KEY, &name);
                self.dispatch(Action::Create { title, name });
            }
            Msg::Moderate(room, what) => self.dispatch(Action::Moderate { room, what }),
            Msg::ShowJoinForm => {
                self.dispatch(Action::Switch { room: None });
                browser::set_path(None, true);
            }
            Msg::Switch(room) => {
                if self.state.current.as_deref() == Some(room.as_str()) {
                    return false;
                }
                self.dispatch(Action::Switch {
                    room: Some(room.clone()),
                });
                browser::set_path(Some(&room), true);
            }
            Msg::Leave(room) => {
                let was_current = self.state.current.as_deref() == Some(room.as_str());
                self.dispatch(Action::Leave { room });
                if was_current {
                    browser::set_path(self.state.current.as_deref(), false);
                }
            }
            Msg::Draft(room, text) => {
                if self.state.current.as_deref() != Some(room.as_str()) {
                    return false;
                }
                self.dispatch(Action::Draft {
                    text,
                    now: self.now,
                });
            }
            Msg::Send(room, text) => {
                if self.state.current.as_deref() != Some(room.as_str()) {
                    return false;
                }
                // 128 random bits: nobody can guess (and so hijack) the next one.
                let client_id = browser::random_id();
                let at = self.now;
                self.dispatch(Action::Send {
                    text,
                    client_id,
                    at,
                });
            }
            Msg::LoadOlder(room) => self.dispatch(Action::LoadOlder { room }),
            Msg::MoreMembers(room) => self.dispatch(Action::MoreMembers { room }),
            Msg::Retry => {
                net::retry_all();
                return false;
            }
            Msg::DismissNotice => self.dispatch(Action::DismissNotice),
            Msg::Reload => {
                browser::reload();
                return false;
            }
            Msg::Pane(pane) => {
                if self.pane == pane {
                    return false;
                }
                self.pane = pane;
            }
        }
        true
    }

    fn dispatch(&mut self, action: Action) {
        let out = apply(&mut self.state, action);
        if let Some(socket) = &self.socket {
            for msg in out {
                socket.send(msg);
            }
        }
        if self.state.must_reload {
            self.socket = None;
        }
    }

    fn socket_event(&mut self, event: SocketEvent<ServerMsg>) {
        if let SocketEvent::Message(ServerMsg::Welcome { nodes, .. }) = &event {
            // A cluster: where the sockets go if this node stops answering.
            crate::net::nodes::set(nodes.clone());
        }
        if let SocketEvent::Message(ServerMsg::Hello { user_id, token, .. }) = &event {
            // The identity in force: its token is the browser's from now on (every tab's).
            if let Some(token) = token {
                browser::storage_set(stored::TOKEN_KEY, token);
            }
            browser::storage_set(stored::USER_ID_KEY, user_id);
        }
        let action = match event {
            SocketEvent::Connecting => Action::Connecting,
            SocketEvent::Open => Action::Open,
            SocketEvent::Closed {
                online, retry_in, ..
            } => Action::Closed {
                online,
                retry_at: self.now + retry_in.as_millis() as u64,
            },
            SocketEvent::Network { online } => Action::Network { online },
            SocketEvent::Message(msg) => Action::Server { msg, now: self.now },
        };
        let was_current = self.state.current.clone();
        self.dispatch(action);
        if self.state.current != was_current {
            // A refused join (or a removal) closed the shown tab; or a room we created opened
            // (a new entry, so Back returns to the form).
            browser::set_path(self.state.current.as_deref(), was_current.is_none());
        }
    }

    /// The invite of the link in the address bar, if it is for `room`.
    fn invite_for(&self, room: &str) -> Option<String> {
        self.link_invite
            .as_ref()
            .filter(|(r, _)| r == room)
            .map(|(_, invite)| invite.clone())
    }

    /// Once the join an invite link asked for is answered (or the room was left, or refused),
    /// the secret leaves the address bar: `/r/<room>` stays.
    fn settle_link(&mut self) {
        let Some((room, _)) = &self.link_invite else {
            return;
        };
        let answered = match self.state.room(room) {
            Some(r) => r.ever_joined,
            // Refused, or left; unless the join form still waits for a name.
            None => self.prefill != *room,
        };
        if answered {
            browser::drop_query();
            self.link_invite = None;
        }
    }

    /// Show what the address bar names: its room (joining it when the name is known), or
    /// the join form.
    fn open_path(&mut self, from_history: bool) {
        let room = browser::room_from_path();
        // An invite link (`/r/<room>?invite=<secret>`): its join brings the invite.
        if let (Some(room), Some(invite)) = (&room, browser::invite_from_query()) {
            self.link_invite = Some((room.clone(), invite));
        }
        match room {
            Some(room) if self.state.room(&room).is_some() && self.invite_for(&room).is_none() => {
                self.dispatch(Action::Switch { room: Some(room) })
            }
            Some(room) if !self.state.name.is_empty() => {
                let invite = self.invite_for(&room);
                self.join(room, invite, None)
            }
            Some(room) => {
                self.dispatch(Action::Switch { room: None });
                self.prefill = room;
            }
            None => self.dispatch(Action::Switch { room: None }),
        }
        if !from_history {
            // Normalise `/r/<room>/` and unknown paths.
            browser::set_path(self.state.current.as_deref(), false);
        }
    }

    /// What a tick can change on screen: the countdown and who is typing.
    fn tick_view(&self) -> (Option<u64>, Vec<String>) {
        let typing = self
            .state
            .current_room()
            .map(|r| r.typing_now(self.now).map(|m| m.id.clone()).collect())
            .unwrap_or_default();
        (self.state.retry_in_secs(self.now), typing)
    }
}
