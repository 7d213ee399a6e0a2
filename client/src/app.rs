//! The page itself (join form, room view): wires the pure state in [`crate::state`] to the
//! socket in [`crate::net`] and to the few browser APIs it needs.

use crate::{net, state};
use futures::channel::mpsc::UnboundedSender;
use net::NetEvent;
use state::{apply, Action, Conn, State};
use tandem_shared::ids::{chat_text, display_name, RoomName};
use tandem_shared::limits::{MAX_NAME_LEN, MAX_ROOM_LEN, MAX_TEXT_LEN};
use tandem_shared::{ChatMessage, ClientMsg, Member};
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

const NAME_KEY: &str = "tandem.name";
const USER_ID_KEY: &str = "tandem.user_id";

pub enum Msg {
    Net(NetEvent),
    NameInput(String),
    RoomInput(String),
    DraftInput(String),
    Join,
    Send,
    Leave,
    DismissNotice,
    Reload,
}

pub struct App {
    state: State,
    /// To the socket; dropped (stopping it) once the page must be reloaded.
    outbox: Option<UnboundedSender<ClientMsg>>,
    name_input: String,
    room_input: String,
    draft: String,
    form_error: Option<String>,
    composer_error: Option<String>,
    /// Prefix of this tab's `client_id`s, and the counter after it.
    id_prefix: String,
    next_id: u64,
    list_ref: NodeRef,
    composer_ref: NodeRef,
    /// Scroll the message list to the end after the next render.
    stick_to_bottom: bool,
    focus_composer: bool,
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        // One user id per browser, so its tabs count once in presence.
        let stored = storage_get(USER_ID_KEY).filter(|id| tandem_shared::ids::user_id(id).is_ok());
        let user_id = stored.unwrap_or_else(|| {
            let id = format!("u{}", random_token());
            storage_set(USER_ID_KEY, &id);
            id
        });
        let outbox = net::connect(user_id, ctx.link().callback(Msg::Net));
        App {
            state: State::default(),
            outbox: Some(outbox),
            name_input: storage_get(NAME_KEY).unwrap_or_default(),
            room_input: room_from_path().unwrap_or_default(),
            draft: String::new(),
            form_error: None,
            composer_error: None,
            id_prefix: random_token(),
            next_id: 0,
            list_ref: NodeRef::default(),
            composer_ref: NodeRef::default(),
            stick_to_bottom: false,
            focus_composer: false,
        }
    }

    fn update(&mut self, _ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Net(event) => {
                let action = match event {
                    NetEvent::Open => Action::Open,
                    NetEvent::Closed { online } => Action::Closed { online },
                    NetEvent::Message(m) => Action::Server(m),
                };
                self.stick_to_bottom |= self.near_bottom();
                let was_in_room = self.state.room.is_some();
                self.dispatch(action);
                if was_in_room && self.state.room.is_none() {
                    set_location(None);
                }
            }
            Msg::NameInput(v) => {
                self.name_input = v;
                self.form_error = None;
            }
            Msg::RoomInput(v) => {
                self.room_input = v;
                self.form_error = None;
            }
            Msg::DraftInput(v) => {
                self.draft = v;
                self.composer_error = None;
            }
            Msg::Join => {
                let room = match RoomName::new(self.room_input.trim()) {
                    Ok(room) => room,
                    Err(err) => return self.set_form_error(err.message),
                };
                let name = match display_name(&self.name_input) {
                    Ok(name) => name,
                    Err(err) => return self.set_form_error(err.message),
                };
                storage_set(NAME_KEY, &name);
                set_location(Some(room.as_str()));
                self.dispatch(Action::Join {
                    room: room.as_str().to_owned(),
                    name,
                });
                self.stick_to_bottom = true;
                self.focus_composer = true;
            }
            Msg::Send => {
                if self.draft.trim().is_empty() {
                    return false;
                }
                if let Err(err) = chat_text(&self.draft) {
                    self.composer_error = Some(err.message);
                    return true;
                }
                self.next_id += 1;
                let client_id = format!("{}-{}", self.id_prefix, self.next_id);
                let text = std::mem::take(&mut self.draft);
                self.dispatch(Action::Send { text, client_id });
                self.stick_to_bottom = true;
            }
            Msg::Leave => {
                self.dispatch(Action::Leave);
                set_location(None);
                self.draft.clear();
                self.composer_error = None;
            }
            Msg::DismissNotice => self.dispatch(Action::DismissNotice),
            Msg::Reload => {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
                return false;
            }
        }
        true
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if std::mem::take(&mut self.stick_to_bottom) {
            if let Some(list) = self.list_ref.cast::<HtmlElement>() {
                list.set_scroll_top(list.scroll_height());
            }
        }
        if std::mem::take(&mut self.focus_composer) {
            if let Some(c) = self.composer_ref.cast::<HtmlElement>() {
                let _ = c.focus();
            }
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let s = &self.state;
        let leave = ctx.link().callback(|_| Msg::Leave);
        html! {
            <div class="app">
                <header class="topbar">
                    <span class="brand">{ "Tandem" }</span>
                    if let Some(room) = &s.room {
                        <span class="room-name" title={room.clone()}>{ format!("#{room}") }</span>
                    }
                    <span class="spacer" />
                    { status(s.conn) }
                    if s.room.is_some() {
                        <button type="button" class="ghost" onclick={leave}>{ "Leave" }</button>
                    }
                </header>
                { self.notice(ctx) }
                if s.room.is_some() {
                    { self.room_view(ctx) }
                } else {
                    { self.home_view(ctx) }
                }
            </div>
        }
    }
}

impl App {
    fn dispatch(&mut self, action: Action) {
        let out = apply(&mut self.state, action);
        if let Some(tx) = &self.outbox {
            for msg in out {
                let _ = tx.unbounded_send(msg);
            }
        }
        if self.state.must_reload {
            self.outbox = None;
        }
    }

    fn set_form_error(&mut self, message: String) -> bool {
        self.form_error = Some(message);
        true
    }

    fn near_bottom(&self) -> bool {
        self.list_ref
            .cast::<HtmlElement>()
            .is_none_or(|l| l.scroll_height() - l.scroll_top() - l.client_height() < 80)
    }

    fn notice(&self, ctx: &Context<Self>) -> Html {
        let Some(text) = &self.state.notice else {
            return html! {};
        };
        let (class, button) = if self.state.must_reload {
            let reload = ctx.link().callback(|_| Msg::Reload);
            (
                "notice notice-update",
                html! { <button type="button" class="primary" onclick={reload}>{ "Reload" }</button> },
            )
        } else {
            let dismiss = ctx.link().callback(|_| Msg::DismissNotice);
            (
                "notice",
                html! {
                    <button type="button" class="ghost" aria-label="Dismiss" onclick={dismiss}>{ "✕" }</button>
                },
            )
        };
        html! {
            <div class={class} role="alert" data-testid="notice">
                <span>{ text.clone() }</span>
                { button }
            </div>
        }
    }

    fn home_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let onsubmit = link.callback(|e: SubmitEvent| {
            e.prevent_default();
            Msg::Join
        });
        let on_name = link.callback(|e: InputEvent| {
            Msg::NameInput(e.target_unchecked_into::<HtmlInputElement>().value())
        });
        let on_room = link.callback(|e: InputEvent| {
            Msg::RoomInput(e.target_unchecked_into::<HtmlInputElement>().value())
        });
        html! {
            <main class="home">
                <form class="card join" {onsubmit} novalidate=true>
                    <h1>{ "Join a room" }</h1>
                    <p class="lead">{ "Chat in real time with everyone in the same room." }</p>
                    <label for="name-input">{ "Your name" }</label>
                    <input id="name-input" data-testid="name-input" type="text"
                        autocomplete="nickname" maxlength={MAX_NAME_LEN.to_string()}
                        placeholder="Ada" value={self.name_input.clone()} oninput={on_name} />
                    <label for="room-input">{ "Room" }</label>
                    <input id="room-input" data-testid="room-input" type="text"
                        autocomplete="off" autocapitalize="off" spellcheck="false"
                        maxlength={MAX_ROOM_LEN.to_string()} placeholder="lobby"
                        value={self.room_input.clone()} oninput={on_room} />
                    <p class="hint">{ "Letters, digits, “-”, “_” and “.”" }</p>
                    if let Some(err) = &self.form_error {
                        <p class="form-error" role="alert">{ err.clone() }</p>
                    }
                    <button type="submit" class="primary" data-testid="join-button">{ "Join" }</button>
                </form>
            </main>
        }
    }

    fn room_view(&self, ctx: &Context<Self>) -> Html {
        let s = &self.state;
        let link = ctx.link();
        let me = s.user_id.as_deref();
        let onsubmit = link.callback(|e: SubmitEvent| {
            e.prevent_default();
            Msg::Send
        });
        let oninput = link.callback(|e: InputEvent| {
            Msg::DraftInput(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        });
        let onkeydown = link.batch_callback(|e: KeyboardEvent| {
            (e.key() == "Enter" && !e.shift_key() && !e.is_composing()).then(|| {
                e.prevent_default();
                Msg::Send
            })
        });
        let placeholder = format!("Message #{}", s.room.as_deref().unwrap_or_default());
        let loading = !s.joined && s.messages.is_empty();
        html! {
            <main class={classes!("room", (!s.joined).then_some("stale"))}>
                <section class="chat" aria-label="Messages">
                    <ol class="messages" ref={self.list_ref.clone()} aria-live="polite">
                        if loading {
                            <li class="empty">{ "Loading…" }</li>
                        } else if s.messages.is_empty() && s.pending.is_empty() {
                            <li class="empty">{ "No messages yet. Say hello!" }</li>
                        }
                        { for s.messages.iter().map(|m| message(m, me)) }
                        { for s.pending.iter().map(|p| html! {
                            <li class="message mine pending" data-testid="message"
                                data-status={if p.failed.is_some() { "failed" } else { "pending" }}>
                                <div class="meta">
                                    <span class="sender">{ s.name.clone() }</span>
                                    <span class="time">{
                                        p.failed.as_ref().map_or("sending…".to_owned(), |why| format!("not sent: {why}"))
                                    }</span>
                                </div>
                                <div class="text">{ p.text.clone() }</div>
                            </li>
                        }) }
                    </ol>
                    <form class="composer" {onsubmit}>
                        <textarea data-testid="composer" ref={self.composer_ref.clone()} rows="1"
                            aria-label="Message" placeholder={placeholder}
                            maxlength={MAX_TEXT_LEN.to_string()}
                            value={self.draft.clone()} {oninput} {onkeydown} />
                        <button type="submit" class="primary" data-testid="send-button">{ "Send" }</button>
                    </form>
                    if let Some(err) = &self.composer_error {
                        <p class="form-error composer-error" role="alert">{ err.clone() }</p>
                    }
                </section>
                <aside class="presence" aria-label="People in this room">
                    <h2>{ "Here now " }<span class="count">{ s.members.len() }</span></h2>
                    <ul>
                        { for s.members.iter().map(|m| member(m, me)) }
                    </ul>
                </aside>
            </main>
        }
    }
}

fn status(conn: Conn) -> Html {
    html! {
        <span class="status" data-testid="connection-status" data-state={conn.as_str()}
            role="status" aria-live="polite">
            <span class="dot" aria-hidden="true" />
            <span class="label">{ conn.label() }</span>
        </span>
    }
}

fn message(m: &ChatMessage, me: Option<&str>) -> Html {
    let mine = me == Some(m.sender.id.as_str());
    let (short, full) = format_time(m.ts);
    html! {
        <li class={classes!("message", mine.then_some("mine"))} data-testid="message"
            data-seq={m.seq.to_string()}>
            <div class="meta">
                <span class="sender" style={hue(&m.sender.id)}>{ m.sender.name.clone() }</span>
                <time class="time" title={full}>{ short }</time>
            </div>
            <div class="text">{ m.text.clone() }</div>
        </li>
    }
}

fn member(m: &Member, me: Option<&str>) -> Html {
    let initial: String = m
        .name
        .chars()
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect();
    html! {
        <li class="member" data-testid="presence-member">
            <span class="avatar" style={hue(&m.id)} aria-hidden="true">{ initial }</span>
            <span class="name">{ m.name.clone() }</span>
            if me == Some(m.id.as_str()) {
                <span class="you">{ "(you)" }</span>
            }
        </li>
    }
}

/// A stable colour per user id.
fn hue(id: &str) -> String {
    let h = id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    format!("--hue: {}", h % 360)
}

/// `HH:MM` (prefixed by the date when not today) and the full local date-time.
fn format_time(ts: u64) -> (String, String) {
    let d = js_sys::Date::new_0();
    let today = d.to_date_string();
    d.set_time(ts as f64);
    let hm = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    let short = if d.to_date_string() == today {
        hm
    } else {
        format!(
            "{}-{:02}-{:02} {hm}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date()
        )
    };
    (short, String::from(d.to_string()))
}

fn random_token() -> String {
    format!(
        "{:012x}",
        (js_sys::Math::random() * (1u64 << 48) as f64) as u64
    )
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?.filter(|v| !v.is_empty())
}

fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// The room named by a `/r/<room>` link, if the page was opened through one.
fn room_from_path() -> Option<String> {
    let path = web_sys::window()?.location().pathname().ok()?;
    let room = path.strip_prefix("/r/")?.trim_end_matches('/');
    RoomName::new(room).ok().map(|r| r.as_str().to_owned())
}

/// Show `/r/<room>` (or `/`) in the address bar and the room in the title.
fn set_location(room: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let (url, title) = match room {
        Some(r) => (format!("/r/{r}"), format!("#{r} · Tandem")),
        None => ("/".to_owned(), "Tandem".to_owned()),
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
    if let Some(doc) = window.document() {
        doc.set_title(&title);
    }
}
