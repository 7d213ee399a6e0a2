//! The parts of the page. Each is a component with `PartialEq` props and callbacks up; none
//! knows the root ([`crate::app`]) or the chat socket. `data-testid` attributes are the
//! contract with the browser tests and other tools: keep them stable. Every text from the
//! network is rendered as a text node, never as markup.
//!
//! [`status`] (the connection pill), [`tabs`], [`notice`], [`home`] (the join form),
//! [`chat`] (the message list with its scroll, unseen count and scrollback; the composer),
//! [`presence`] (with the owner's member menus), [`room_bar`] (the room's name, read-only
//! badge, and the owner's invite link and read-only switch), and [`doc`] (one document
//! pane per joined room: its replica, its socket to `/yjs/<room>`, the editor and the
//! others' carets). [`admin`] is the `/admin` page's root (with [`admin_tables`]).

pub mod admin;
pub mod admin_tables;
pub mod chat;
pub mod doc;
pub mod home;
pub mod notice;
pub mod presence;
pub mod room_bar;
pub mod status;
pub mod tabs;

use yew::prelude::*;

/// A stable hue (0..360) per user id.
pub fn hue_of(id: &str) -> u32 {
    let h = id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    h % 360
}

/// A stable colour per user id, as a CSS custom property.
fn hue(id: &str) -> String {
    format!("--hue: {}", hue_of(id))
}

/// The first letter of a name, for avatars.
fn initial(name: &str) -> String {
    name.chars()
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect()
}

/// A padlock (inline SVG in the text's colour; an emoji would depend on the fonts there).
fn lock_icon() -> Html {
    html! {
        <svg class="lock-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"
            focusable="false">
            <path fill="currentColor" d="M8 1a3.5 3.5 0 0 0-3.5 3.5V6H4a1.5 1.5 0 0 0-1.5 1.5v6A1.5 1.5 0 0 0 4 15h8a1.5 1.5 0 0 0 1.5-1.5v-6A1.5 1.5 0 0 0 12 6h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 5H6V4.5a2 2 0 1 1 4 0V6Z" />
        </svg>
    }
}

/// `#rrggbb` for a user, the same hue the page gives their name.
pub fn user_color(user_id: &str) -> String {
    crate::model::doc::protocol::hue_to_hex(hue_of(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_hues() {
        assert_eq!(initial("åda"), "Å");
        assert_eq!(initial(""), "");
        assert_eq!(hue("x"), hue("x"));
        assert!(hue_of("some user") < 360);
        assert_eq!(user_color("x").len(), 7);
    }
}
