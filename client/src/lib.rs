//! Tandem's browser client (yew, wasm32).
//!
//! - [`model`]: the pure model — state and reducer, timeline, backoff, what is kept in
//!   storage, and the shared document's replica, undo and diff. No yew, no web-sys; tested
//!   on the host.
//! - [`net`]: the one reconnecting socket type, used for the chat (`/ws`) and for each
//!   document (`/yjs/<room>`).
//! - [`app`]: the root component; it coordinates the chat socket, routing, the address bar,
//!   the title and page-level events, and hands state down.
//! - [`components`]: the parts of the page, each with its props and callbacks up: the
//!   connection status, tabs, join form, chat pane, presence, and one document pane per
//!   joined room that owns its replica, socket, editor and timers.
//! - [`browser`]: the few other browser APIs the page uses (storage, address bar, title,
//!   clock, randomness).
//!
//! A library so that tests in `tests/` (host and wasm-bindgen-test in the browser) can use
//! its parts.

pub mod app;
pub mod browser;
pub mod components;
pub mod model;
pub mod net;

/// Mount the page on `<body>`: the admin view at `/admin`, the app everywhere else.
pub fn start() {
    let path = web_sys::window().and_then(|w| w.location().pathname().ok());
    if path.as_deref().map(|p| p.trim_end_matches('/')) == Some("/admin") {
        yew::Renderer::<components::admin::Admin>::new().render();
    } else {
        yew::Renderer::<app::App>::new().render();
    }
}
