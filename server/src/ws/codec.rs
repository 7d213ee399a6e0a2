//! The room protocol's codec: JSON text ⇄ [`ClientMsg`]/[`ServerMsg`] (outgoing ones framed
//! for the wire). Pure; never awaits.

use crate::broker::Frame;
use tandem_shared::{ClientMsg, ErrorCode, ServerMsg};

/// Why a frame could not be decoded, with the code and a message safe to send back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    pub code: ErrorCode,
    pub message: String,
}

/// The `type`s a client may send, for telling "unknown type" from "bad fields".
const CLIENT_TYPES: &[&str] = &[
    "hello",
    "join",
    "chat",
    "leave",
    "typing",
    "history",
    "members",
    "create_room",
    "kick",
    "set_role",
    "set_read_only",
    "rotate_invite",
    "refresh",
    "ping",
];

pub fn decode(text: &str) -> Result<ClientMsg, DecodeError> {
    match serde_json::from_str::<ClientMsg>(text) {
        Ok(msg) => Ok(msg),
        Err(err) => Err(classify(text, &err)),
    }
}

/// The slow path: work out which kind of mistake the client made.
fn classify(text: &str, err: &serde_json::Error) -> DecodeError {
    let fail = |code, message: String| DecodeError { code, message };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return fail(ErrorCode::BadJson, format!("not valid JSON: {err}")),
    };
    let Some(obj) = value.as_object() else {
        return fail(
            ErrorCode::InvalidMessage,
            "a message must be a JSON object".into(),
        );
    };
    match obj.get("type") {
        None => fail(ErrorCode::InvalidMessage, "missing field `type`".into()),
        Some(serde_json::Value::String(t)) if !CLIENT_TYPES.contains(&t.as_str()) => fail(
            ErrorCode::UnknownType,
            format!(
                "unknown message type {t:?}; expected one of {}",
                CLIENT_TYPES.join(", ")
            ),
        ),
        Some(serde_json::Value::String(_)) => fail(ErrorCode::InvalidMessage, err.to_string()),
        Some(_) => fail(ErrorCode::InvalidMessage, "`type` must be a string".into()),
    }
}

/// `msg` as a WebSocket text frame, ready for the wire (and for every recipient).
pub fn encode(msg: &ServerMsg) -> Frame {
    // unwrap: ServerMsg holds only strings, integers and derived structs; serialising it
    // to a String cannot fail.
    crate::wire::text(&serde_json::to_string(msg).expect("ServerMsg serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ErrorCode {
        decode(text).unwrap_err().code
    }

    #[test]
    fn classifies_mistakes() {
        assert_eq!(code("{not json"), ErrorCode::BadJson);
        assert_eq!(code(""), ErrorCode::BadJson);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"room":"x"}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"dance"}"#), ErrorCode::UnknownType);
        assert_eq!(
            code(r#"{"type":"join","room":"x"}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(
            code(r#"{"type":"chat","room":"x","text":5}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(code(r#"{"type":7}"#), ErrorCode::InvalidMessage);
        for bad in [
            r#"{"type":"history"}"#,
            r#"{"type":"history","room":"x","before":"5"}"#,
            r#"{"type":"history","room":"x","before":-1}"#,
            r#"{"type":"history","room":"x","before":1.5}"#,
            r#"{"type":"history","room":"x","limit":-1}"#,
            r#"{"type":"history","room":"x","limit":4294967296}"#,
        ] {
            assert_eq!(code(bad), ErrorCode::InvalidMessage, "{bad}");
        }
    }

    #[test]
    fn missing_field_names_the_field() {
        let err = decode(r#"{"type":"join","room":"x"}"#).unwrap_err();
        assert!(err.message.contains("name"), "{}", err.message);
    }

    #[test]
    fn decodes_valid() {
        assert_eq!(
            decode(r#"{"type":"leave","room":"x"}"#).unwrap(),
            ClientMsg::Leave { room: "x".into() }
        );
        assert_eq!(
            decode(r#"{"type":"history","room":"x","before":null,"limit":20}"#).unwrap(),
            ClientMsg::History {
                room: "x".into(),
                before: None,
                limit: Some(20),
            }
        );
    }
}
