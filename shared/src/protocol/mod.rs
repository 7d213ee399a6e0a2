//! The message enums: what a client may send ([`client`]) and what the server answers or
//! pushes ([`server`]), and the values they carry ([`types`]).

mod client;
mod server;
mod types;

pub use client::ClientMsg;
pub use server::ServerMsg;
pub use types::{ChatMessage, ErrorCode, Member, Role};
