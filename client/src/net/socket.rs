//! [`Socket`]: the page's one WebSocket type. It opens a URL, speaks a [`Protocol`] (JSON
//! messages for the chat, y-websocket binary frames for a document), notices a dead
//! connection, and reconnects on the [`Backoff`] schedule — at once when the browser comes
//! back online, the tab becomes visible, or the page asks ([`retry_all`]).
//!
//! It follows the page's lifecycle: on `pagehide` (the tab closes, or the page goes into the
//! back/forward cache) it closes the connection at once, so the others see this person leave
//! now rather than after a timeout, and it stays closed until `pageshow` brings the page back.
//!
//! It keeps no application state: after every [`SocketEvent::Open`] its owner sends what the
//! server needs (re-joins, sync step 1…). What is sent while disconnected is dropped.

use super::page::{self, PageEvent};
use crate::model::backoff::Backoff;
use futures::channel::mpsc::{unbounded, TryRecvError, UnboundedReceiver, UnboundedSender};
use futures::future::{poll_fn, select, Either};
use futures::{Sink, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, State as WsState, WebSocketError};
use std::pin::Pin;
use std::time::Duration;
use yew::platform::{spawn_local, time::sleep};
use yew::Callback;

/// Give up on an attempt that neither opens nor fails within this time.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a frame from the server, send the protocol's keep-alive
/// (browsers cannot send WebSocket pings, and cannot see the server's).
const IDLE: Duration = Duration::from_secs(20);
/// After this long without a frame the connection is taken as dead (a half-open TCP
/// connection, e.g. after a network change, can stay "open" for minutes). Twice the idle
/// time plus slack, so one lost answer is tolerated.
const DEAD_AFTER: Duration = Duration::from_secs(45);

const _: () = assert!(DEAD_AFTER.as_secs() > 2 * IDLE.as_secs());

/// What a socket speaks: how its frames map to messages.
pub trait Protocol: 'static {
    type In: 'static;
    type Out: 'static;
    /// The first frame of every connection, if the protocol has one.
    fn hello(&self) -> Option<Message>;
    fn encode(&self, msg: Self::Out) -> Message;
    /// A frame from the server; `None` for frames the owner need not see (keep-alive
    /// answers, frames this client cannot read).
    fn decode(&self, frame: Message) -> Option<Self::In>;
    /// What to send after [`IDLE`] without a frame; it must make the server answer.
    fn keepalive(&mut self) -> Message;
    /// The URL of the next connection attempt, from the socket's `base` (asked before every
    /// attempt, so it may carry what changed since: a token, an invite).
    fn url(&self, base: &str) -> String {
        base.to_owned()
    }
}

/// How the server closed a connection (its close frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    pub code: u16,
    pub reason: String,
}

/// What a socket reports to its owner, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent<In> {
    /// A connection attempt started.
    Connecting,
    /// Connected (and the protocol's hello sent): send what the server needs now.
    Open,
    Message(In),
    /// The connection closed, or the attempt failed. The next attempt starts after
    /// `retry_in`, or sooner (see the module docs); `online` is `navigator.onLine`. `frame`
    /// is the server's close frame when a connection it had accepted ended with one.
    Closed {
        online: bool,
        retry_in: Duration,
        frame: Option<CloseFrame>,
    },
    /// The browser's `online` / `offline` event fired.
    Network {
        online: bool,
    },
}

enum Command<Out> {
    Send(Out),
}

/// The owner's end of a socket. Dropping it closes the connection and stops the socket (no
/// more events are reported).
pub struct Socket<P: Protocol> {
    commands: UnboundedSender<Command<P::Out>>,
}

impl<P: Protocol> Socket<P> {
    /// Start a socket to `url` that reports to `on_event`, on the default schedule (500 ms
    /// base, 30 s cap, reset after 10 s live).
    pub fn open(url: &str, protocol: P, on_event: Callback<SocketEvent<P::In>>) -> Socket<P> {
        Self::open_with(url, protocol, Backoff::default(), on_event)
    }

    /// [`Socket::open`] with another reconnection schedule (a test may want a short one).
    pub fn open_with(
        url: &str,
        protocol: P,
        backoff: Backoff,
        on_event: Callback<SocketEvent<P::In>>,
    ) -> Socket<P> {
        let (commands, rx) = unbounded();
        let link = Link {
            url: url.to_owned(),
            protocol,
            backoff,
            on_event,
            commands: rx,
            closed_by: None,
            at: 0,
        };
        spawn_local(link.run());
        Socket { commands }
    }

    /// Send `msg` if connected; dropped while disconnected. Returns `false` once the socket
    /// stopped.
    pub fn send(&self, msg: P::Out) -> bool {
        self.commands.unbounded_send(Command::Send(msg)).is_ok()
    }
}

/// Skip the wait before the next connection attempt of every socket on the page (the
/// "Retry now" button).
pub fn retry_all() {
    page::retry_all();
}

/// Why a connection ended.
#[derive(Debug, PartialEq)]
enum Flow {
    Reconnect,
    /// The page was hidden: stay closed until it is shown again.
    Suspend,
    /// The owner dropped the socket.
    Stop,
}

/// The socket's task: owns the connection, the schedule and the page listeners.
struct Link<P: Protocol> {
    url: String,
    protocol: P,
    backoff: Backoff,
    on_event: Callback<SocketEvent<P::In>>,
    commands: UnboundedReceiver<Command<P::Out>>,
    /// How the last connection was closed, if the server said.
    closed_by: Option<CloseFrame>,
    /// Which of the candidate nodes served last (0: the socket's own URL).
    at: usize,
}

impl<P: Protocol> Link<P> {
    async fn run(mut self) {
        let (page_tx, mut page) = unbounded();
        let _listeners = page::listen(page_tx, &self.on_event);
        let mut suspended = false;
        loop {
            if suspended {
                if !self.wait_shown(&mut page).await {
                    return;
                }
                suspended = false;
            }
            // A wake-up before this attempt is answered by it.
            while matches!(page.try_recv(), Ok(PageEvent::Wake)) {}
            self.on_event.emit(SocketEvent::Connecting);
            let mut live_for = None;
            if let Some(ws) = self.connect().await {
                // Whatever was queued while disconnected is stale: the owner re-sends on Open.
                loop {
                    match self.commands.try_recv() {
                        Ok(_) => continue,
                        Err(TryRecvError::Closed) => return,
                        Err(TryRecvError::Empty) => break,
                    }
                }
                self.on_event.emit(SocketEvent::Open);
                let opened = now_ms();
                match self.session(ws, &mut page).await {
                    Flow::Stop => return,
                    Flow::Suspend => suspended = true,
                    Flow::Reconnect => {}
                }
                live_for = Some(since(opened));
            }
            let retry_in = if suspended {
                Duration::ZERO
            } else {
                self.backoff.next_delay(live_for, js_sys::Math::random())
            };
            self.on_event.emit(SocketEvent::Closed {
                online: page::online(),
                retry_in,
                frame: self.closed_by.take(),
            });
            if !suspended {
                match self.wait(retry_in, &mut page).await {
                    Flow::Stop => return,
                    Flow::Suspend => suspended = true,
                    Flow::Reconnect => {}
                }
            }
        }
    }

    /// Open the socket and send the hello: on the node that served last, else on each of
    /// the cluster's other nodes in turn ([`super::nodes`]); `None` if none answers.
    async fn connect(&mut self) -> Option<WebSocket> {
        let candidates = super::nodes::candidates(&self.url);
        for k in 0..candidates.len() {
            let i = (self.at + k) % candidates.len();
            if let Some(ws) = self.open_on(&candidates[i]).await {
                if i != self.at {
                    web_sys::console::info_1(&format!("tandem: moved to {}", candidates[i]).into());
                }
                self.at = i;
                return Some(ws);
            }
        }
        None
    }

    /// One attempt on `base`.
    async fn open_on(&self, base: &str) -> Option<WebSocket> {
        let mut ws = WebSocket::open(&self.protocol.url(base)).ok()?;
        let opened = {
            // The sink is ready once the socket is open (or has failed).
            let ready = poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx));
            let timeout = sleep(OPEN_TIMEOUT);
            futures::pin_mut!(ready, timeout);
            matches!(select(ready, timeout).await, Either::Left((Ok(()), _)))
        };
        if !opened || !matches!(ws.state(), WsState::Open) {
            return None;
        }
        if let Some(hello) = self.protocol.hello() {
            ws.send(hello).await.ok()?;
        }
        Some(ws)
    }

    /// Wait `delay` before the next attempt, or less if woken. Messages sent meanwhile are
    /// dropped.
    async fn wait(&mut self, delay: Duration, page: &mut UnboundedReceiver<PageEvent>) -> Flow {
        let timer = sleep(delay);
        futures::pin_mut!(timer);
        loop {
            let woken = select(self.commands.next(), page.next());
            match select(timer.as_mut(), woken).await {
                Either::Left(_) => return Flow::Reconnect,
                Either::Right((Either::Left((Some(Command::Send(_)), _)), _)) => continue,
                Either::Right((Either::Left((None, _)), _)) => return Flow::Stop,
                Either::Right((Either::Right((Some(PageEvent::Hide), _)), _)) => {
                    return Flow::Suspend
                }
                Either::Right((Either::Right((Some(PageEvent::Wake), _)), _)) => {
                    return Flow::Reconnect
                }
                Either::Right((Either::Right((None, _)), _)) => return Flow::Stop,
            }
        }
    }

    /// The page is hidden (or in the back/forward cache): wait until it is shown again;
    /// false if the owner dropped the socket meanwhile.
    async fn wait_shown(&mut self, page: &mut UnboundedReceiver<PageEvent>) -> bool {
        loop {
            match select(self.commands.next(), page.next()).await {
                Either::Left((Some(Command::Send(_)), _)) => continue,
                Either::Left((None, _)) => return false,
                Either::Right((Some(PageEvent::Wake), _)) => return true,
                Either::Right((Some(PageEvent::Hide), _)) => continue,
                Either::Right((None, _)) => return false,
            }
        }
    }

    /// Run one connection until it ends.
    async fn session(
        &mut self,
        mut ws: WebSocket,
        page: &mut UnboundedReceiver<PageEvent>,
    ) -> Flow {
        let mut last_frame = now_ms();
        let mut asked = false;
        loop {
            let quiet = since(last_frame);
            if quiet >= DEAD_AFTER {
                web_sys::console::warn_1(
                    &format!("tandem: no answer on {}; reconnecting", self.url).into(),
                );
                return Flow::Reconnect;
            }
            let next_check = if asked {
                DEAD_AFTER - quiet
            } else {
                IDLE.saturating_sub(quiet)
            };
            let timer = sleep(next_check);
            futures::pin_mut!(timer);
            let io = select(ws.next(), select(self.commands.next(), page.next()));
            match select(io, timer).await {
                Either::Left((Either::Left((Some(Ok(frame)), _)), _)) => {
                    last_frame = now_ms();
                    asked = false;
                    if let Some(msg) = self.protocol.decode(frame) {
                        self.on_event.emit(SocketEvent::Message(msg));
                    }
                }
                // The close event (with the server's code) follows an error event.
                Either::Left((
                    Either::Left((Some(Err(WebSocketError::ConnectionError)), _)),
                    _,
                )) => {}
                Either::Left((
                    Either::Left((Some(Err(WebSocketError::ConnectionClose(e))), _)),
                    _,
                )) => {
                    self.closed_by = Some(CloseFrame {
                        code: e.code,
                        reason: e.reason,
                    });
                    return Flow::Reconnect;
                }
                Either::Left((Either::Left((Some(Err(_)) | None, _)), _)) => {
                    return Flow::Reconnect
                }
                Either::Left((Either::Right((Either::Left((cmd, _)), _)), _)) => match cmd {
                    Some(Command::Send(msg)) => {
                        if ws.send(self.protocol.encode(msg)).await.is_err() {
                            return Flow::Reconnect;
                        }
                    }
                    None => {
                        let _ = ws.close(Some(1000), None);
                        return Flow::Stop;
                    }
                },
                Either::Left((Either::Right((Either::Right((event, _)), _)), _)) => match event {
                    Some(PageEvent::Hide) | None => {
                        // 1001: "going away", as when a tab closes.
                        let _ = ws.close(Some(1001), Some("page hidden"));
                        return Flow::Suspend;
                    }
                    Some(PageEvent::Wake) => {}
                },
                Either::Right(_) => {
                    if !asked && since(last_frame) >= IDLE {
                        if ws.send(self.protocol.keepalive()).await.is_err() {
                            return Flow::Reconnect;
                        }
                        asked = true;
                    }
                }
            }
        }
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn since(start_ms: f64) -> Duration {
    Duration::from_millis((now_ms() - start_ms).max(0.0) as u64)
}
