//! The browser glue of the shared document: the WebSocket to `/yjs/<room>` (binary
//! y-websocket frames, reconnection on the [`Backoff`] schedule — at once when the browser
//! comes back online or the tab becomes visible — and dead-connection detection), and the
//! few DOM operations on the editor (read and restore its selection, keep the caret overlay
//! on its text).
//!
//! The link keeps no document state: after every [`DocEvent::Open`] the page sends the
//! [`super::Replica`]'s sync step 1 and awareness, answers the server's step 1 with step 2,
//! and so exchanges exactly what each side lacks.

use super::Selection;
use crate::backoff::Backoff;
use futures::channel::mpsc::{unbounded, TryRecvError, UnboundedReceiver, UnboundedSender};
use futures::future::{poll_fn, select, Either};
use futures::{Sink, SinkExt, StreamExt};
use gloo_events::EventListener;
use gloo_net::websocket::{futures::WebSocket, Message, State as WsState};
use std::pin::Pin;
use std::time::Duration;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::platform::{spawn_local, time::sleep};
use yew::Callback;

/// Give up on an attempt that neither opens nor fails within this time.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a frame, ask for awareness (the server answers with every
/// state, ours included): browsers cannot send WebSocket pings.
const IDLE_QUERY: Duration = Duration::from_secs(20);
/// After this long without a frame the connection is taken as dead.
const DEAD_AFTER: Duration = Duration::from_secs(45);

const _: () = assert!(DEAD_AFTER.as_secs() > 2 * IDLE_QUERY.as_secs());

/// What the link reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum DocEvent {
    Connecting,
    /// Connected: send the handshake now. What was sent while disconnected was dropped.
    Open,
    Frame(Vec<u8>),
    /// Closed (or the attempt failed); the next attempt starts after `retry_in`, or sooner.
    Closed {
        retry_in: Duration,
    },
}

enum Command {
    Send(Vec<u8>),
    RetryNow,
}

/// The page's end of a document link. Dropping it closes the socket and stops the link.
#[derive(Debug)]
pub struct DocLink {
    commands: UnboundedSender<Command>,
}

impl DocLink {
    /// Send a frame if connected; dropped while disconnected (the next handshake sends what
    /// the server lacks).
    pub fn send(&self, frame: Vec<u8>) {
        let _ = self.commands.unbounded_send(Command::Send(frame));
    }

    /// Skip the rest of the wait before the next connection attempt.
    pub fn retry_now(&self) {
        let _ = self.commands.unbounded_send(Command::RetryNow);
    }
}

/// `ws(s)://<host>/yjs/<room>` for the page's own origin.
pub fn doc_url(room: &str) -> String {
    let base = crate::net::default_ws_url();
    let base = base.strip_suffix("/ws").unwrap_or(&base);
    format!("{base}/yjs/{room}")
}

/// Start a link to `url` that reports to `on_event`.
pub fn connect(url: &str, on_event: Callback<DocEvent>) -> DocLink {
    let (commands, rx) = unbounded();
    spawn_local(run(url.to_owned(), Backoff::default(), on_event, rx));
    DocLink { commands }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn since(start_ms: f64) -> Duration {
    Duration::from_millis((now_ms() - start_ms).max(0.0) as u64)
}

/// Wake a waiting link when the browser comes back online or the tab becomes visible.
fn listen(wake: UnboundedSender<()>) -> Vec<EventListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let w = wake.clone();
    let mut listeners = vec![EventListener::new(&window, "online", move |_| {
        let _ = w.unbounded_send(());
    })];
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

async fn run(
    url: String,
    mut backoff: Backoff,
    on_event: Callback<DocEvent>,
    mut commands: UnboundedReceiver<Command>,
) {
    let (wake_tx, mut wake) = unbounded();
    let _listeners = listen(wake_tx);
    loop {
        while wake.try_recv().is_ok() {}
        on_event.emit(DocEvent::Connecting);
        let mut live_for = None;
        if let Some(ws) = open(&url).await {
            // Stale: the handshake after `Open` sends what matters.
            loop {
                match commands.try_recv() {
                    Ok(_) => continue,
                    Err(TryRecvError::Closed) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
            on_event.emit(DocEvent::Open);
            let opened = now_ms();
            if !session(ws, &on_event, &mut commands).await {
                return;
            }
            live_for = Some(since(opened));
        }
        let retry_in = backoff.next_delay(live_for, js_sys::Math::random());
        on_event.emit(DocEvent::Closed { retry_in });
        // Wait, or less if woken; frames sent meanwhile are dropped.
        let timer = sleep(retry_in);
        futures::pin_mut!(timer);
        loop {
            match select(timer.as_mut(), select(commands.next(), wake.next())).await {
                Either::Left(_)
                | Either::Right((Either::Right(_), _))
                | Either::Right((Either::Left((Some(Command::RetryNow), _)), _)) => break,
                Either::Right((Either::Left((Some(Command::Send(_)), _)), _)) => continue,
                Either::Right((Either::Left((None, _)), _)) => return,
            }
        }
    }
}

/// Open the socket and wait until it is open; `None` if that fails or takes too long.
async fn open(url: &str) -> Option<WebSocket> {
    let mut ws = WebSocket::open(url).ok()?;
    let opened = {
        let ready = poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx));
        let timeout = sleep(OPEN_TIMEOUT);
        futures::pin_mut!(ready, timeout);
        matches!(select(ready, timeout).await, Either::Left((Ok(()), _)))
    };
    (opened && matches!(ws.state(), WsState::Open)).then_some(ws)
}

/// Run one connection; false once the link was dropped.
async fn session(
    mut ws: WebSocket,
    on_event: &Callback<DocEvent>,
    commands: &mut UnboundedReceiver<Command>,
) -> bool {
    let mut last_frame = now_ms();
    let mut queried = false;
    loop {
        let quiet = since(last_frame);
        if quiet >= DEAD_AFTER {
            web_sys::console::warn_1(&"tandem: document connection silent; reconnecting".into());
            return true;
        }
        let next_check = if queried {
            DEAD_AFTER - quiet
        } else {
            IDLE_QUERY.saturating_sub(quiet)
        };
        let timer = sleep(next_check);
        futures::pin_mut!(timer);
        match select(select(ws.next(), commands.next()), timer).await {
            Either::Left((Either::Left((Some(frame), _)), _)) => {
                last_frame = now_ms();
                queried = false;
                match frame {
                    Ok(Message::Bytes(bytes)) => on_event.emit(DocEvent::Frame(bytes)),
                    Ok(Message::Text(_)) => {}
                    Err(_) => return true,
                }
            }
            Either::Left((Either::Left((None, _)), _)) => return true,
            Either::Left((Either::Right((Some(Command::Send(frame)), _)), _)) => {
                if ws.send(Message::Bytes(frame)).await.is_err() {
                    return true;
                }
            }
            Either::Left((Either::Right((Some(Command::RetryNow), _)), _)) => {}
            Either::Left((Either::Right((None, _)), _)) => {
                let _ = ws.close(Some(1000), None);
                return false;
            }
            Either::Right(_) => {
                if !queried && since(last_frame) >= IDLE_QUERY {
                    if ws
                        .send(Message::Bytes(super::protocol::query_awareness()))
                        .await
                        .is_err()
                    {
                        return true;
                    }
                    queried = true;
                }
            }
        }
    }
}

/// The editor's selection (UTF-16 units, `head` where the caret is).
pub fn selection(el: &HtmlTextAreaElement) -> Option<Selection> {
    let start = el.selection_start().ok()??;
    let end = el.selection_end().ok()??;
    let backward = el.selection_direction().ok().flatten().as_deref() == Some("backward");
    Some(if backward {
        Selection {
            anchor: end,
            head: start,
        }
    } else {
        Selection {
            anchor: start,
            head: end,
        }
    })
}

/// Show `text` in the editor, keeping its scroll position, with `selection` restored when it
/// has the focus.
pub fn show(el: &HtmlTextAreaElement, text: &str, selection: Option<Selection>) {
    let top = el.scroll_top();
    el.set_value(text);
    if let Some(s) = selection {
        let (start, end) = (s.anchor.min(s.head), s.anchor.max(s.head));
        let direction = if s.head < s.anchor {
            "backward"
        } else {
            "forward"
        };
        let _ = el.set_selection_range_with_direction(start, end, direction);
    }
    el.set_scroll_top(top);
}

/// Keep the caret overlay exactly over the editor's text area (its width excludes the
/// editor's scrollbar, so both wrap lines alike) and scrolled with it.
pub fn fit_overlay(el: &HtmlTextAreaElement, overlay: &HtmlElement) {
    let style = overlay.style();
    let _ = style.set_property("width", &format!("{}px", el.client_width()));
    let _ = style.set_property("height", &format!("{}px", el.client_height()));
    overlay.set_scroll_top(el.scroll_top());
}
