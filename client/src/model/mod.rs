//! The page's pure model: no yew, no web-sys and no clock (times and random numbers come in
//! as arguments), so all of it is tested on the host.
//!
//! [`state`] (every joined room and the connection as shown) changed by [`reduce`]'s
//! [`apply`]; [`timeline`] (a room's messages by `seq`); [`backoff`] (the reconnection
//! schedule); [`roster`] (who is in a room, when a big room lists only some); [`stored`]
//! (what is kept in the browser's storage, and its format); [`doc`] (the room's shared
//! document: replica, undo, diff, y-websocket framing); [`admin`] (what the admin view
//! reads from the admin API, and how it words it).

pub mod admin;
pub mod backoff;
pub mod doc;
pub mod reduce;
pub mod roster;
mod server;
pub mod state;
pub mod stored;
pub mod timeline;

pub use reduce::{apply, Action, Moderation};
pub use state::{Conn, Messages, Pending, Room, State, Typist, RELOAD_NOTICE};

#[cfg(test)]
mod tests;
