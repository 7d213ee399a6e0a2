//! Tandem's browser client (yew, wasm32). [`app`] is the page (its parts in [`view`]),
//! [`state`] its pure state and reducer, [`timeline`] the ordered message list and
//! [`backoff`] the reconnection schedule (all three tested on the host), [`net`] the
//! WebSocket link, [`doc`] each room's shared document (a `yrs::Doc` synced over
//! y-websocket; its pure parts tested on the host) and [`browser`] the few other browser
//! APIs the page uses. A library so that tests in `tests/` (host and wasm-bindgen-test in
//! the browser) can use its parts.

pub mod app;
pub mod backoff;
pub mod browser;
pub mod doc;
pub mod net;
pub mod state;
pub mod timeline;
pub mod view;

/// Mount the page on `<body>`.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
