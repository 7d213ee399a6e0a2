//! Tandem's wire contract, shared by the server and the wasm client.
//!
//! Every message is a JSON text frame holding one object with a snake_case `"type"`:
//! [`ClientMsg`] flows client → server, [`ServerMsg`] server → client. Validation rules for
//! names live in [`ids`], size limits in [`limits`], error codes in [`ErrorCode`].
//!
//! This crate depends on serde only: no IO, no clocks, no randomness, so it builds for
//! `wasm32-unknown-unknown` as well as the host.

pub mod ids;
pub mod limits;
mod protocol;

pub use protocol::{ChatMessage, ClientMsg, ErrorCode, Member, Role, ServerMsg};

/// Version of this contract. A client sends it in [`ClientMsg::Hello`]; the server announces
/// its own in [`ServerMsg::Welcome`] and refuses a mismatching `hello` with
/// [`ErrorCode::ProtocolMismatch`]. Bump it on any change an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 1;
