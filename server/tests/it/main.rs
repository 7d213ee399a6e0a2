//! Integration tests: the real server through `tandem_server::run` on port 0, real WebSocket
//! clients (tokio-tungstenite), a real SQLite file in a temporary directory.

mod api;
mod api_admin;
mod app_jwt;
mod assets;
mod bad_input;
mod cluster;
mod cluster_clients;
mod cluster_faults;
mod cluster_kill;
mod docs;
mod history;
mod hostile_ws;
mod hostile_yjs;
mod http;
mod identity;
mod interop;
mod lifecycle;
mod logs;
mod metrics;
mod presence;
mod private;
mod private_docs;
mod raw;
mod rebinding;
mod rooms;
mod static_files;
mod util;
mod yclient;
