//! Tandem's browser client (yew, wasm32). [`app`] is the page, [`state`] its pure state and
//! reducer (tested on the host), [`net`] the WebSocket link. A library so that tests in
//! `tests/` (host and wasm-bindgen-test in the browser) can use its parts.

pub mod app;
pub mod net;
pub mod state;

/// Mount the page on `<body>`.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
