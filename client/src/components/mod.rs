//! The parts of the page. Each is a component with `PartialEq` props and callbacks up; none
//! knows the root ([`crate::app`]) or the chat socket. `data-testid` attributes are the
//! contract with the browser tests and other tools: keep them stable. Every text from the
//! network is rendered as a text node, never as markup.
//!
//! [`status`] (the connection pill), [`tabs`], [`notice`], [`home`] (the join form),
//! [`chat`] (the message list with its scroll, unseen count and scrollback; the composer),
//! [`presence`], and [`doc`] (one document pane per joined room: its replica, its socket to
//! `/yjs/<room>`, the editor and the others' carets).

pub mod chat;
pub mod doc;
pub mod home;
pub mod notice;
pub mod presence;
pub mod status;
pub mod tabs;

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
