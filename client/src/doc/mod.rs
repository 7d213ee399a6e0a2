//! The room's shared document in the browser: [`replica`] (the `yrs::Doc`, edits, remote
//! updates, awareness; pure), [`diff`] (the editor's change in UTF-16 units; pure),
//! [`protocol`] (y-websocket framing and the awareness state format; pure) and [`link`]
//! (the WebSocket to `/yjs/<room>`, with reconnection).

pub mod diff;
pub mod link;
pub mod protocol;
pub mod replica;

pub use replica::{Caret, Received, Replica, Selection};
