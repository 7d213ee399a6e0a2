//! Access to rooms: the rules ([`rules`]: pure decisions on a room's [`RoomAccess`]) and
//! [`AccessBook`] ([`book`]), the one owner of every live room's rules, which loads them from
//! the store, writes changes through to it, and publishes them to the room and document
//! tasks that watch them.

pub mod book;
pub mod rules;

pub use book::AccessBook;
pub use rules::{Denied, Rights, RoomAccess, Who, PRIVATE_PREFIX};
