//! The admin view (`/admin`, the page's other root): unlocked with an API key (kept for the
//! tab only, in `sessionStorage`), it lists the live rooms and connections, refreshed every
//! second, and acts on them through the admin API: a room read-only or closed, a user
//! kicked from a room, a connection or all of a user's closed.

use crate::model::admin::{refusal_text, short_user, ConnRow, Connections, RoomRow, Rooms};
use gloo_net::http::{Request, RequestBuilder};
use gloo_timers::callback::Interval;
use yew::prelude::*;

const KEY_ITEM: &str = "tandem.admin_key";
const REFRESH_MS: u32 = 1_000;

/// What an operator asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    ReadOnly(String, bool),
    CloseRoom(String),
    Kick { room: String, user: String },
    CloseConn(u64),
    CloseUser(String),
}

impl Act {
    /// Method, path, body, and what to say once done.
    fn request(&self) -> (&'static str, String, Option<serde_json::Value>, String) {
        let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
        match self {
            Act::ReadOnly(room, on) => (
                "PUT",
                format!("/api/rooms/{}/read-only", enc(room)),
                Some(serde_json::json!({ "read_only": on })),
                format!("{room} is {}", if *on { "read-only" } else { "writable" }),
            ),
            Act::CloseRoom(room) => (
                "POST",
                format!("/api/rooms/{}/close", enc(room)),
                None,
                format!("{room} closed: everyone is out"),
            ),
            Act::Kick { room, user } => (
                "POST",
                format!("/api/rooms/{}/kick", enc(room)),
                Some(serde_json::json!({ "user": user })),
                format!("{} kicked from {room}", short_user(user)),
            ),
            Act::CloseConn(id) => (
                "DELETE",
                format!("/api/connections/{id}"),
                None,
                format!("connection {id} closed"),
            ),
            Act::CloseUser(user) => (
                "DELETE",
                format!("/api/users/{}/connections", enc(user)),
                None,
                format!("every connection of {} closed", short_user(user)),
            ),
        }
    }
}

pub enum Msg {
    KeyInput(String),
    Unlock,
    Lock,
    Tick,
    Loaded(Result<(Vec<RoomRow>, Vec<ConnRow>), String>),
    Act(Act),
    Acted(Result<String, String>),
}

pub struct Admin {
    typed: String,
    key: Option<String>,
    rooms: Vec<RoomRow>,
    conns: Vec<ConnRow>,
    /// The last refresh failed: why (the lists are kept as they were).
    error: Option<String>,
    /// The last action's result.
    status: Option<Result<String, String>>,
    loading: bool,
    loaded: bool,
    _timer: Interval,
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// `path` with the key, `method` and (JSON) `body`: the answer's body, or the refusal's
/// wording.
async fn call(
    key: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<String, String> {
    let builder: RequestBuilder = match method {
        "POST" => Request::post(path),
        "PUT" => Request::put(path),
        "DELETE" => Request::delete(path),
        _ => Request::get(path),
    }
    .header("Authorization", &format!("Bearer {key}"));
    let sent = match body {
        Some(body) => builder.json(&body).map_err(|e| e.to_string())?.send().await,
        None => builder.send().await,
    };
    let res = sent.map_err(|e| format!("The server cannot be reached: {e}"))?;
    let text = res.text().await.unwrap_or_default();
    match res.ok() {
        true => Ok(text),
        false => Err(refusal_text(res.status(), &text)),
    }
}

async fn overview(key: String) -> Result<(Vec<RoomRow>, Vec<ConnRow>), String> {
    let parse = |what: &str, e: serde_json::Error| format!("unexpected {what} answer: {e}");
    let rooms = call(&key, "GET", "/api/rooms", None).await?;
    let rooms: Rooms = serde_json::from_str(&rooms).map_err(|e| parse("rooms", e))?;
    let conns = call(&key, "GET", "/api/connections", None).await?;
    let conns: Connections = serde_json::from_str(&conns).map_err(|e| parse("connections", e))?;
    Ok((rooms.rooms, conns.connections))
}

impl Component for Admin {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let tick = ctx.link().callback(|()| Msg::Tick);
        let key = session().and_then(|s| s.get_item(KEY_ITEM).ok().flatten());
        if key.is_some() {
            ctx.link().send_message(Msg::Tick);
        }
        crate::browser::set_title("Admin · Tandem");
        Admin {
            typed: String::new(),
            key,
            rooms: Vec::new(),
            conns: Vec::new(),
            error: None,
            status: None,
            loading: false,
            loaded: false,
            _timer: Interval::new(REFRESH_MS, move || tick.emit(())),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::KeyInput(k) => self.typed = k,
            Msg::Unlock => {
                self.key = Some(self.typed.trim().to_owned());
                self.loaded = false;
                ctx.link().send_message(Msg::Tick);
            }
            Msg::Lock => {
                if let Some(s) = session() {
                    let _ = s.remove_item(KEY_ITEM);
                }
                (self.key, self.loaded, self.status, self.error) = (None, false, None, None);
                (self.rooms, self.conns) = (Vec::new(), Vec::new());
                self.typed.clear();
            }
            Msg::Tick => {
                let Some(key) = self.key.clone().filter(|_| !self.loading) else {
                    return false;
                };
                self.loading = true;
                ctx.link()
                    .send_future(async move { Msg::Loaded(overview(key).await) });
                return false;
            }
            Msg::Loaded(result) => {
                self.loading = false;
                if self.key.is_none() {
                    // Locked meanwhile.
                    return false;
                }
                match result {
                    Ok((rooms, conns)) => {
                        if let (Some(s), Some(key), false) = (session(), &self.key, self.loaded) {
                            let _ = s.set_item(KEY_ITEM, key);
                        }
                        (self.rooms, self.conns, self.error, self.loaded) =
                            (rooms, conns, None, true);
                    }
                    // A key that never worked locks the view again.
                    Err(why) if !self.loaded => {
                        self.key = None;
                        self.error = Some(why);
                    }
                    Err(why) => self.error = Some(why),
                }
            }
            Msg::Act(act) => {
                let Some(key) = self.key.clone() else {
                    return false;
                };
                ctx.link().send_future(async move {
                    let (method, path, body, done) = act.request();
                    Msg::Acted(call(&key, method, &path, body).await.map(|_| done))
                });
                return false;
            }
            Msg::Acted(result) => {
                self.status = Some(result);
                ctx.link().send_message(Msg::Tick);
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let body = if self.key.is_some() && self.loaded {
            let act = link.callback(Msg::Act);
            html! {
                <>
                    <super::admin_tables::RoomsTable rooms={self.rooms.clone()} on_act={act.clone()} />
                    <super::admin_tables::ConnsTable conns={self.conns.clone()}
                        now={crate::browser::now_ms()} on_act={act} />
                </>
            }
        } else {
            let oninput = link.callback(|e: InputEvent| {
                let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                Msg::KeyInput(input.value())
            });
            let onsubmit = link.callback(|e: SubmitEvent| {
                e.prevent_default();
                Msg::Unlock
            });
            html! {
                <form class="admin-unlock card" {onsubmit}>
                    <label for="admin-key">{ "API key" }</label>
                    <input id="admin-key" type="password" data-testid="admin-key" autocomplete="off"
                        value={self.typed.clone()} {oninput} placeholder="--api-key of this server" />
                    <button type="submit" data-testid="admin-unlock" disabled={self.key.is_some()}>
                        { if self.key.is_some() { "Checking…" } else { "Unlock" } }
                    </button>
                </form>
            }
        };
        let onlock = link.callback(|_: MouseEvent| Msg::Lock);
        html! {
            <main class="admin" data-testid="admin">
                <header class="admin-head">
                    <h1>{ "Tandem admin" }</h1>
                    if self.loaded {
                        <span class="live-note" data-testid="admin-live">{ "live · every second" }</span>
                        <button type="button" class="ghost small" data-testid="admin-lock" onclick={onlock}>
                            { "Lock" }
                        </button>
                    }
                </header>
                if let Some(why) = &self.error {
                    <p class="admin-error" role="alert" data-testid="admin-error">{ why }</p>
                }
                if let Some(status) = &self.status {
                    <p class={classes!("admin-status", status.is_err().then_some("bad"))}
                        role="status" data-testid="admin-status">
                        { match status { Ok(s) | Err(s) => s.clone() } }
                    </p>
                }
                { body }
            </main>
        }
    }
}
