//! Integration tests: the real server through `tandem_server::run` on port 0, real WebSocket
//! clients (tokio-tungstenite), a real SQLite file in a temporary directory.

mod bad_input;
mod docs;
mod history;
mod interop;
mod lifecycle;
mod rooms;
mod util;
mod yclient;
