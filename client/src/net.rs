//! The WebSocket link to the server: opens the given URL, says `hello`, turns frames into
//! [`ServerMsg`]s and [`ClientMsg`]s into frames, notices a dead connection, and reconnects
//! on the [`Backoff`] schedule — at once when the browser comes back online, the tab becomes
//! visible again, or the page asks ([`Link::retry_now`]).
//!
//! The link keeps no application state: after every [`NetEvent::Open`] the page re-joins
//! its rooms and re-sends what is unconfirmed (see [`crate::state`]). Usable on its own from
//! a browser test:
//!
//! ```no_run
//! use tandem_client::net::{self, NetEvent};
//! let link = net::connect(&net::default_ws_url(), "u-test".into(), yew::Callback::from(
//!     |event: NetEvent| web_sys::console::log_1(&format!("{event:?}").into()),
//! ));
//! link.send(tandem_shared::ClientMsg::Join { room: "lobby".into(), name: "Ada".into(), since: None });
//! drop(link); // closes the socket and stops reconnecting
//! ```

use crate::backoff::Backoff;
use futures::channel::mpsc::{unbounded, TryRecvError, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_events::EventListener;
use gloo_net::websocket::{futures::WebSocket, Message, State as WsState};
use std::time::Duration;
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
use yew::platform::{spawn_local, time::sleep};
use yew::Callback;

/// Give up on an attempt that neither opens nor fails within this time.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a frame from the server, send a `ping` (browsers cannot send
/// WebSocket pings, and cannot see the server's).
const IDLE_PING: Duration = Duration::from_secs(20);
/// After this long without a frame the connection is taken as dead (a half-open TCP
/// connection, e.g. after a network change, can stay "open" for minutes). Twice the idle
/// ping plus slack, so one lost pong is tolerated.
const DEAD_AFTER: Duration = Duration::from_secs(45);

const _: () = assert!(DEAD_AFTER.as_secs() > 2 * IDLE_PING.as_secs());

/// What the link reports to the page, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// A connection attempt started (the first one right after [`connect`]).
    Connecting,
    /// Connected, and `hello` sent: join rooms and send what is waiting now. Anything sent
    /// through the [`Link`] before this (while disconnected) was dropped.
    Open,
    /// A message from the server. (`pong` replies to the link's keep-alive are not
    /// reported.)
    Message(ServerMsg),
    /// The connection closed, or the attempt failed. The next attempt starts after
    /// `retry_in` — sooner on [`Link::retry_now`], the browser's `online` event, or the tab
    /// becoming visible. `online` is `navigator.onLine` at that moment.
    Closed { online: bool, retry_in: Duration },
    /// The browser's `online` / `offline` event fired.
    Network { online: bool },
}

enum Command {
    Send(ClientMsg),
    RetryNow,
}

/// The page's end of a link started by [`connect`]. Dropping it closes the socket and stops
/// the link (no more events are reported).
#[derive(Debug)]
pub struct Link {
    commands: UnboundedSender<Command>,
}

impl Link {
    /// Send `msg` if connected. While disconnected it is dropped: the page re-sends what
    /// matters after the next [`NetEvent::Open`]. Returns `false` once the link stopped.
    pub fn send(&self, msg: ClientMsg) -> bool {
        self.commands.unbounded_send(Command::Send(msg)).is_ok()
    }

    /// Skip the rest of the wait before the next connection attempt (no effect while
    /// connected or connecting).
    pub fn retry_now(&self) {
        let _ = self.commands.unbounded_send(Command::RetryNow);
    }
}

/// Start a link to the WebSocket at `url` (see [`default_ws_url`]) that says `hello` with
/// `user_id` on every connection and reports to `on_event`. Reconnects on the default
/// [`Backoff`] schedule (500 ms base, 30 s cap, reset after 10 s live).
pub fn connect(url: &str, user_id: String, on_event: Callback<NetEvent>) -> Link {
    connect_with(url, user_id, Backoff::default(), on_event)
}

/// [`connect`] with another reconnection schedule (a test may want a short one).
pub fn connect_with(
    url: &str,
    user_id: String,
    backoff: Backoff,
    on_event: Callback<NetEvent>,
) -> Link {
    let (commands, rx) = unbounded();
    spawn_local(run(url.to_owned(), user_id, backoff, on_event, rx));
    Link { commands }
}

/// `ws(s)://<host>/ws` for the page's own origin.
pub fn default_ws_url() -> String {
    let Some(window) = web_sys::window() else {
        return "ws://127.0.0.1:8080/ws".to_owned();
    };
    let location = window.location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}//{host}/ws")
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn since(start_ms: f64) -> Duration {
    Duration::from_millis((now_ms() - start_ms).max(0.0) as u64)
}

/// Browser events that matter to the link: `online`/`offline` (reported, and `online`
/// wakes a waiting link) and the tab becoming visible (wakes it). Removed on drop.
fn listen(wake: UnboundedSender<()>, on_event: Callback<NetEvent>) -> Vec<EventListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let mut listeners = Vec::new();
    for online in [true, false] {
        let wake = wake.clone();
        let on_event = on_event.clone();
        let kind = if online { "online" } else { "offline" };
        listeners.push(EventListener::new(&window, kind, move |_| {
            on_event.emit(NetEvent::Network { online });
            if online {
                let _ = wake.unbounded_send(());
            }
        }));
    }
    if let Some(document) = window.document() {
        let doc = document.clone();
        listeners.push(EventListener::new(
            &document,
            "visibilitychange",
            move |_| {
                if doc.visibility_state() == web_sys::VisibilityState::Visible {
                    let _ = wake.unbounded_send(());
                }
            },
        ));
    }
    listeners
}

#[derive(Debug, PartialEq)]
enum Flow {
    Reconnect,
    Stop,
}

async fn run(
    url: String,
    user_id: String,
    mut backoff: Backoff,
    on_event: Callback<NetEvent>,
    mut commands: UnboundedReceiver<Command>,
) {
    let (wake_tx, mut wake) = unbounded();
    let _listeners = listen(wake_tx, on_event.clone());
    loop {
        // A wake-up before this attempt is answered by it.
        while wake.try_recv().is_ok() {}
        on_event.emit(NetEvent::Connecting);
        let mut live_for = None;
        if let Some(ws) = open(&url, &user_id).await {
            // Whatever was queued while disconnected is stale: the page re-sends on `Open`.
            loop {
                match commands.try_recv() {
                    Ok(_) => continue,
                    Err(TryRecvError::Closed) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
            on_event.emit(NetEvent::Open);
            let opened = now_ms();
            if session(ws, &on_event, &mut commands).await == Flow::Stop {
                return;
            }
            live_for = Some(since(opened));
        }
        let retry_in = backoff.next_delay(live_for, js_sys::Math::random());
        on_event.emit(NetEvent::Closed {
            online: online(),
            retry_in,
        });
        if wait(retry_in, &mut commands, &mut wake).await == Flow::Stop {
            return;
        }
    }
}

/// Open the socket and send `hello`; `None` if that fails or takes too long.
async fn open(url: &str, user_id: &str) -> Option<WebSocket> {
    let mut ws = WebSocket::open(url).ok()?;
    let hello = ClientMsg::Hello {
        protocol_version: PROTOCOL_VERSION,
        user_id: Some(user_id.to_owned()),
    };
    // The sink waits until the socket is open (or has failed).
    let opened = {
        let send = ws.send(frame(&hello));
        let timeout = sleep(OPEN_TIMEOUT);
        futures::pin_mut!(send, timeout);
        matches!(select(send, timeout).await, Either::Left((Ok(()), _)))
    };
    (opened && matches!(ws.state(), WsState::Open)).then_some(ws)
}

/// Wait `delay`, or less if woken. Messages sent meanwhile are dropped.
async fn wait(
    delay: Duration,
    commands: &mut UnboundedReceiver<Command>,
    wake: &mut UnboundedReceiver<()>,
) -> Flow {
    let timer = sleep(delay);
    futures::pin_mut!(timer);
    loop {
        let woken = select(commands.next(), wake.next());
        match select(timer.as_mut(), woken).await {
            Either::Left(_) => return Flow::Reconnect,
            Either::Right((Either::Left((Some(Command::Send(_)), _)), _)) => continue,
            Either::Right((Either::Left((Some(Command::RetryNow), _)), _)) => {
                return Flow::Reconnect
            }
            Either::Right((Either::Left((None, _)), _)) => return Flow::Stop,
            Either::Right((Either::Right(_), _)) => return Flow::Reconnect,
        }
    }
}

enum Input {
    Frame(Option<Result<Message, gloo_net::websocket::WebSocketError>>),
    Command(Option<Command>),
    Idle,
}

async fn session(
    mut ws: WebSocket,
    on_event: &Callback<NetEvent>,
    commands: &mut UnboundedReceiver<Command>,
) -> Flow {
    let mut last_frame = now_ms();
    let mut pinged = false;
    let mut nonce = 0u64;
    loop {
        let quiet = since(last_frame);
        if quiet >= DEAD_AFTER {
            web_sys::console::warn_1(&"tandem: no answer from the server; reconnecting".into());
            return Flow::Reconnect;
        }
        let next_check = if pinged {
            DEAD_AFTER - quiet
        } else {
            IDLE_PING.saturating_sub(quiet)
        };
        let input = {
            let io = select(ws.next(), commands.next());
            let timer = sleep(next_check);
            futures::pin_mut!(timer);
            match select(io, timer).await {
                Either::Left((Either::Left((frame, _)), _)) => Input::Frame(frame),
                Either::Left((Either::Right((cmd, _)), _)) => Input::Command(cmd),
                Either::Right(_) => Input::Idle,
            }
        };
        match input {
            Input::Frame(Some(frame)) => {
                last_frame = now_ms();
                pinged = false;
                if let Ok(Message::Text(text)) = frame {
                    match serde_json::from_str::<ServerMsg>(&text) {
                        Ok(ServerMsg::Pong { .. }) => {}
                        Ok(msg) => on_event.emit(NetEvent::Message(msg)),
                        Err(err) => web_sys::console::warn_1(
                            &format!("tandem: ignoring a frame this client cannot read: {err}")
                                .into(),
                        ),
                    }
                }
                // Binary frames are not part of the protocol; errors precede the end.
            }
            Input::Frame(None) => return Flow::Reconnect,
            Input::Command(Some(Command::Send(msg))) => {
                if ws.send(frame(&msg)).await.is_err() {
                    return Flow::Reconnect;
                }
            }
            Input::Command(Some(Command::RetryNow)) => {}
            Input::Command(None) => return Flow::Stop,
            Input::Idle => {
                if !pinged && since(last_frame) >= IDLE_PING {
                    nonce += 1;
                    let ping = ClientMsg::Ping { nonce: Some(nonce) };
                    if ws.send(frame(&ping)).await.is_err() {
                        return Flow::Reconnect;
                    }
                    pinged = true;
                }
            }
        }
    }
}

fn frame(msg: &ClientMsg) -> Message {
    // unwrap: ClientMsg holds only strings and integers; serializing it cannot fail.
    Message::Text(serde_json::to_string(msg).expect("client messages serialize"))
}
