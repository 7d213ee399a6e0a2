//! Validated names: room names, display names, chat texts and client-chosen keys.
//!
//! The wire carries plain strings; each end turns them into these types at its boundary, so
//! an invalid value is answered with a precise [`crate::ErrorCode`] instead of a parse error.

use crate::limits::{MAX_CLIENT_ID_LEN, MAX_NAME_LEN, MAX_ROOM_LEN, MAX_TEXT_LEN, MAX_USER_ID_LEN};
use crate::ErrorCode;
use std::fmt;

/// Why a value was refused: the code to send and a message safe to show a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: ErrorCode,
    pub message: String,
}

impl Invalid {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}

/// A room name: 1 to [`MAX_ROOM_LEN`] characters from `a-z A-Z 0-9 - _ .`, not starting
/// with `.`. Case-sensitive. Safe in a URL path segment without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

impl RoomName {
    pub fn new(s: &str) -> Result<Self, Invalid> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if s.is_empty() || s.len() > MAX_ROOM_LEN {
            return Err(Invalid::new(
                ErrorCode::InvalidRoom,
                format!("room name must be 1 to {MAX_ROOM_LEN} characters"),
            ));
        }
        if !s.chars().all(ok_char) || s.starts_with('.') {
            return Err(Invalid::new(
                ErrorCode::InvalidRoom,
                "room name may only use letters, digits, '-', '_' and '.', and may not start with '.'",
            ));
        }
        Ok(RoomName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that reorder the text around them (bidirectional overrides, embeddings,
/// isolates and marks): in a name they could make it read as someone else's, or spill into
/// what is shown after it.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A display name: trimmed, 1 to [`MAX_NAME_LEN`] characters, no control characters and no
/// bidirectional controls.
pub fn display_name(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 {
        return Err(Invalid::new(
            ErrorCode::InvalidName,
            "name must not be empty",
        ));
    }
    if n > MAX_NAME_LEN {
        return Err(Invalid::new(
            ErrorCode::NameTooLong,
            format!("name is {n} characters; the limit is {MAX_NAME_LEN}"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(
            ErrorCode::InvalidName,
            "name must not contain control characters",
        ));
    }
    if s.chars().any(is_bidi_control) {
        return Err(Invalid::new(
            ErrorCode::InvalidName,
            "name must not contain characters that change the direction of text",
        ));
    }
    Ok(s.to_owned())
}

/// A chat text: not blank, at most [`MAX_TEXT_LEN`] characters. Newlines are allowed.
pub fn chat_text(s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid::new(ErrorCode::InvalidText, "message is empty"));
    }
    let n = s.chars().count();
    if n > MAX_TEXT_LEN {
        return Err(Invalid::new(
            ErrorCode::TextTooLong,
            format!("message is {n} characters; the limit is {MAX_TEXT_LEN}"),
        ));
    }
    Ok(())
}

/// A client-chosen key (`client_id`, `user_id`): 1 to `max` printable ASCII characters.
fn key(s: &str, max: usize, what: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::new(
            ErrorCode::InvalidMessage,
            format!("{what} must be 1 to {max} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// An idempotency key sent with a chat message.
pub fn client_id(s: &str) -> Result<(), Invalid> {
    key(s, MAX_CLIENT_ID_LEN, "client_id")
}

/// A user id a client proposes in `hello` (its tabs share it, so presence counts it once).
pub fn user_id(s: &str) -> Result<(), Invalid> {
    key(s, MAX_USER_ID_LEN, "user_id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert!(RoomName::new("lobby").is_ok());
        assert!(RoomName::new("a-b_c.d9").is_ok());
        assert!(RoomName::new(&"x".repeat(MAX_ROOM_LEN)).is_ok());
        for bad in [
            "",
            ".hidden",
            "has space",
            "slash/",
            "é",
            &"x".repeat(MAX_ROOM_LEN + 1),
        ] {
            let err = RoomName::new(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRoom, "{bad:?}");
        }
    }

    #[test]
    fn names_and_texts() {
        assert_eq!(display_name("  Ada ").unwrap(), "Ada");
        assert_eq!(
            display_name(&"é".repeat(MAX_NAME_LEN))
                .unwrap()
                .chars()
                .count(),
            MAX_NAME_LEN
        );
        assert_eq!(display_name(" ").unwrap_err().code, ErrorCode::InvalidName);
        // Bidirectional overrides and isolates would let a name read as another's.
        for c in ['\u{202E}', '\u{2066}', '\u{200F}', '\u{061C}'] {
            let name = format!("Ada{c}nimda");
            assert_eq!(
                display_name(&name).unwrap_err().code,
                ErrorCode::InvalidName
            );
        }
        // Emoji sequences with a zero-width joiner are fine.
        assert!(display_name("Ada 👩\u{200D}💻").is_ok());
        assert_eq!(
            display_name("a\u{7}b").unwrap_err().code,
            ErrorCode::InvalidName
        );
        let long = "n".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            display_name(&long).unwrap_err().code,
            ErrorCode::NameTooLong
        );
        assert!(chat_text("hi\nthere").is_ok());
        assert_eq!(chat_text(" \n").unwrap_err().code, ErrorCode::InvalidText);
        let long = "t".repeat(MAX_TEXT_LEN + 1);
        assert_eq!(chat_text(&long).unwrap_err().code, ErrorCode::TextTooLong);
        assert!(client_id("abc-123").is_ok());
        assert!(client_id("has space").is_err());
        assert!(user_id(&"u".repeat(65)).is_err());
    }
}
