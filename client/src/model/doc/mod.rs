//! The room's shared document in the browser, without the browser: [`replica`] (the
//! `yrs::Doc`, edits, remote updates, awareness), [`undo`] (undo/redo of one's own edits),
//! [`sync`] (what the server is known to have, for keeping edits across reloads), [`diff`]
//! (the editor's change in UTF-16 units) and [`protocol`] (y-websocket framing and the
//! awareness state format). The socket and the editor's DOM are the document pane's.

pub mod diff;
pub mod protocol;
pub mod replica;
pub mod sync;
pub mod undo;

pub use replica::{Caret, Received, Replica, Selection};
pub use undo::Undone;
