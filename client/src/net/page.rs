//! The page events a [`super::Socket`] follows: the network (`online` / `offline`), the tab
//! becoming visible, the page being hidden (`pagehide`: closed, or put in the back/forward
//! cache) and shown again (`pageshow`), and "retry now" (a `tandem:retry` event on the
//! window, so one button reaches every socket on the page). Listeners are removed on drop.

use super::socket::SocketEvent;
use futures::channel::mpsc::UnboundedSender;
use gloo_events::EventListener;
use yew::Callback;

/// The custom window event [`retry_all`] dispatches.
const RETRY: &str = "tandem:retry";

/// What the page tells a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PageEvent {
    /// Try to connect now if waiting (online again, tab visible, page shown, retry now).
    Wake,
    /// The page is being hidden: close now, and stay closed until woken.
    Hide,
}

/// `navigator.onLine` (true where unknown).
pub(super) fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Every socket waiting to reconnect tries now.
pub(super) fn retry_all() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(event) = web_sys::Event::new(RETRY) {
        let _ = window.dispatch_event(&event);
    }
}

/// Listen for the page events; `online`/`offline` are also reported to `on_event`.
pub(super) fn listen<In: 'static>(
    tx: UnboundedSender<PageEvent>,
    on_event: &Callback<SocketEvent<In>>,
) -> Vec<EventListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let on = |kind: &'static str, event: PageEvent| {
        let tx = tx.clone();
        EventListener::new(&window, kind, move |_| {
            let _ = tx.unbounded_send(event);
        })
    };
    let mut listeners = vec![
        on("pagehide", PageEvent::Hide),
        on("pageshow", PageEvent::Wake),
        on(RETRY, PageEvent::Wake),
    ];
    for online in [true, false] {
        let tx = tx.clone();
        let on_event = on_event.clone();
        let kind = if online { "online" } else { "offline" };
        listeners.push(EventListener::new(&window, kind, move |_| {
            on_event.emit(SocketEvent::Network { online });
            if online {
                let _ = tx.unbounded_send(PageEvent::Wake);
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
                    let _ = tx.unbounded_send(PageEvent::Wake);
                }
            },
        ));
    }
    listeners
}
